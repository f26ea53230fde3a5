#!/bin/bash
# Start NSD on 127.0.0.1 with zones generated here, run a test program
# against it, stop NSD by the PID started here.
#
#   run_nsd.sh [--zone NAME FILE]... PROGRAM [ARGS...]
#
# With --zone options NSD serves only those zones (FILE: an absolute path)
# instead of the built-in test zones below.
# The program gets MT_NSD_ADDR (127.0.0.1 or MT_NSD_LISTEN), MT_NSD_PORT, MT_NSD_CONF
# (for nsd-control) and MT_NSD_DIR.  Exit 77 (ctest: skipped) when nsd is
# not installed.  No traffic leaves loopback: the program must forward
# every question to MT_NSD_ADDR.
set -u

NSD=$(command -v nsd || echo /usr/sbin/nsd)
NSD_CONTROL=$(command -v nsd-control || echo /usr/sbin/nsd-control)
if [ ! -x "$NSD" ] || [ ! -x "$NSD_CONTROL" ]; then
	echo "SKIP: nsd / nsd-control not installed (Debian package nsd)"
	exit 77
fi
ZONES=()
while [ $# -ge 3 ] && [ "$1" = "--zone" ]; do
	ZONES+=("$2" "$3")
	shift 3
done
if [ $# -lt 1 ] || [ "$1" = "--zone" ]; then
	echo "usage: $0 [--zone NAME FILE]... PROGRAM [ARGS...]" >&2
	exit 2
fi

# MT_NSD_LISTEN: another loopback address (several servers on one port);
# MT_NSD_FIXED_PORT: that port instead of a random one.
ADDR=${MT_NSD_LISTEN:-127.0.0.1}
case "$ADDR" in
127.*|::1) ;;
*) echo "refusing to run: $ADDR is not a loopback address" >&2; exit 1 ;;
esac

DIR=$(mktemp -d "${TMPDIR:-/tmp}/mt-nsd.XXXXXX") || exit 1
NSD_PID=

cleanup() {
	if [ -n "$NSD_PID" ]; then
		kill "$NSD_PID" 2>/dev/null
		wait "$NSD_PID" 2>/dev/null
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- zones ----------------------------------------------------------------
SOA='@ SOA ns.mt.example. hostmaster.mt.example. 1 3600 600 86400 300'

LONG=$(printf 'x%.0s' $(seq 255))   # one character-string of 255 octets
BIG=""
for i in 0 1 2 3 4 5 6 7 8 9; do BIG="$BIG \"$LONG\""; done

cat > "$DIR/mt.example.zone" <<EOF
\$ORIGIN mt.example.
\$TTL 300
$SOA
@        NS    ns.mt.example.
ns       A     127.0.0.1
spf      TXT   "v=spf1 ip4:192.0.2.0/24 " "ip6:2001:db8::/32" " -all"
two      TXT   "first record"
two      TXT   "second" " record"
empty    TXT   ""
a        A     192.0.2.10
a        A     192.0.2.11
a        AAAA  2001:db8::1
mx       MX    10 mail.mt.example.
mx       MX    20 mail2.other.example.
mail     A     192.0.2.25
c1       CNAME c2.mt.example.
c2       CNAME spf.mt.example.
www      CNAME a.mt.example.
big      TXT   $BIG
cache    60 TXT "cached once"
fresh    TXT   "fresh"
sub.deep A     192.0.2.99
EOF

cat > "$DIR/rev4.zone" <<EOF
\$ORIGIN 2.0.192.in-addr.arpa.
\$TTL 300
$SOA
@   NS   ns.mt.example.
10  PTR  a.mt.example.
25  PTR  mail.mt.example.
EOF

cat > "$DIR/rev10.zone" <<EOF
\$ORIGIN 10.in-addr.arpa.
\$TTL 300
$SOA
@        NS   ns.mt.example.
1.0.0    PTR  private.mt.example.
EOF

cat > "$DIR/rev6.zone" <<EOF
\$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
\$TTL 300
$SOA
@   NS   ns.mt.example.
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0  PTR  a.mt.example.
EOF

write_conf() {
	cat > "$DIR/nsd.conf" <<EOF
server:
	ip-address: $ADDR@$1
	port: $1
	zonesdir: "$DIR"
	pidfile: "$DIR/nsd.pid"
	username: ""
	database: ""
	xfrdfile: "$DIR/xfrd.state"
	zonelistfile: "$DIR/zone.list"
	xfrd-reload-timeout: 1
	rrl-ratelimit: 0
	verbosity: 1
	logfile: "$DIR/nsd.log"
	server-count: 1
	tcp-count: 20
remote-control:
	control-enable: yes
	control-interface: "$DIR/nsd.ctl"
EOF
	if [ ${#ZONES[@]} -gt 0 ]; then
		for ((z = 0; z < ${#ZONES[@]}; z += 2)); do
			printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "${ZONES[z]}" "${ZONES[z+1]}"
		done >> "$DIR/nsd.conf"
		return
	fi
	cat >> "$DIR/nsd.conf" <<EOF
zone:
	name: "mt.example"
	zonefile: "mt.example.zone"
zone:
	name: "2.0.192.in-addr.arpa"
	zonefile: "rev4.zone"
zone:
	name: "10.in-addr.arpa"
	zonefile: "rev10.zone"
zone:
	name: "8.b.d.0.1.0.0.2.ip6.arpa"
	zonefile: "rev6.zone"
# configured without a zone file: NSD answers SERVFAIL for it
zone:
	name: "broken.example"
	zonefile: "missing.zone"
EOF
}

# ---- start NSD on a free random port ----------------------------------------
ask() { # port: does the server answer?
	if [ ${#ZONES[@]} -gt 0 ]; then
		dig +short +time=1 +tries=1 -p "$1" "@$ADDR" "${ZONES[0]}" SOA 2>/dev/null | grep -q .
	elif command -v dig >/dev/null; then
		dig +short +time=1 +tries=1 -p "$1" "@$ADDR" ns.mt.example A 2>/dev/null | grep -q '^127\.0\.0\.1$'
	else
		drill -p "$1" ns.mt.example A "@$ADDR" 2>/dev/null | grep -q '127\.0\.0\.1$'
	fi
}

PORT=
for try in $(seq 1 20); do
	port=${MT_NSD_FIXED_PORT:-$((20000 + RANDOM % 40000))}
	[ -n "${MT_NSD_FIXED_PORT:-}" ] && [ "$try" -gt 3 ] && break
	write_conf "$port"
	"$NSD" -d -c "$DIR/nsd.conf" > "$DIR/nsd.out" 2>&1 &
	NSD_PID=$!
	for i in $(seq 1 50); do
		if ! kill -0 "$NSD_PID" 2>/dev/null; then
			break
		fi
		if ask "$port"; then
			PORT=$port
			break
		fi
		sleep 0.1
	done
	[ -n "$PORT" ] && break
	kill "$NSD_PID" 2>/dev/null
	wait "$NSD_PID" 2>/dev/null
	NSD_PID=
done
if [ -z "$PORT" ]; then
	echo "could not start nsd; its output:" >&2
	cat "$DIR/nsd.out" "$DIR/nsd.log" >&2 2>/dev/null
	exit 1
fi
echo "nsd (pid $NSD_PID) answering on $ADDR port $PORT"

# The big answer must not fit in UDP: check that NSD really truncates it.
if [ ${#ZONES[@]} -eq 0 ] && command -v dig >/dev/null; then
	if dig +ignore +bufsize=1232 +time=2 +tries=1 -p "$PORT" "@$ADDR" big.mt.example TXT |
	   grep -q 'flags:.* tc'; then
		echo "big.mt.example TXT is truncated over UDP (as intended)"
	else
		echo "big.mt.example TXT is NOT truncated over UDP: the TCP case proves nothing" >&2
		exit 1
	fi
fi

export MT_NSD_ADDR=$ADDR MT_NSD_PORT=$PORT MT_NSD_CONF="$DIR/nsd.conf" MT_NSD_DIR="$DIR"
export MT_NSD_CONTROL="$NSD_CONTROL"
"$@"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
	echo "--- nsd log ---" >&2
	cat "$DIR/nsd.log" >&2 2>/dev/null
fi
exit $rc
