# Sourced by the NSD tests' --run part: a DNS server on 127.0.0.1 that
# never answers (a UDP socket nobody reads), for the temperror-in-bounded-
# time cases.  silent_start DIR sets SPORT and SILENT_PID (exits 1 when it
# does not start); silent_stop ends it (by its PID), also from the
# script's EXIT trap when the script is stopped in between.
silent_start() {
	python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(120)
' > "$1/silent.port" &
	SILENT_PID=$!
	# python3 may take more than a second to start on a loaded machine
	for _ in $(seq 200); do [ -s "$1/silent.port" ] && break; sleep 0.1; done
	[ -s "$1/silent.port" ] || { echo "FAIL: the silent server did not start"; kill "$SILENT_PID" 2>/dev/null; exit 1; }
	SPORT=$(cat "$1/silent.port")
}
silent_stop() {
	[ -n "$SILENT_PID" ] || return 0
	kill "$SILENT_PID" 2>/dev/null
	wait "$SILENT_PID" 2>/dev/null
	SILENT_PID=
}
SILENT_PID=
