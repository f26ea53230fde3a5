# A private Postfix instance for tests, on loopback inside a network
# namespace of its own.  Source this file from a bash test script, then:
#
#   pf_enter "$@"          re-run the script as root inside `unshare -n`
#                          (lo brought up); skips (exit 77) when that is not
#                          possible, fails instead when CI=true
#   pf_nsd_start NAME FILE [NAME FILE]...
#                          NSD on 127.0.0.1 port $PF_DNS_PORT serving those
#                          zones (absolute file paths); PF_RESOLVER=127.0.0.1@PORT
#   pf_start               smtp-sink on 127.0.0.1:$PF_SINK_PORT storing each
#                          message as a file in $PF_SINK, and Postfix (config,
#                          queue and data under $PF_DIR) with smtpd on
#                          127.0.0.1:$PF_SMTP_PORT relaying everything there
#   pf_set NAME=VALUE...   set main.cf parameters (reloads a running Postfix)
#   pf_spawn NAME CMD...   run CMD in the background (output in
#                          $PF_DIR/NAME.log); its PID goes in PF_PID, and it is
#                          stopped at exit
#   pf_stop_pid PID        stop one process started here and wait for it
#   pf_send [SWAKS ARGS]   one message through smtpd with swaks (defaults:
#                          --from sender@test.example --to rcpt@sink.example:
#                          only sink.example is relayed, to the sink),
#                          a fresh Message-ID header X-PF-Id: $PF_ID); the
#                          transcript is in $PF_OUT, swaks' status in PF_RC.
#                          Pass --xclient-addr IP to present another client.
#   pf_reply_has CODE      the last transcript has a server reply CODE
#                          (e.g. "250 2.0.0" or "550 5.7.23") after RCPT/MAIL
#   pf_wait_delivered [SECONDS]
#                          wait until the message of the last pf_send
#                          (its X-PF-Id) is stored by the sink; PF_MSG is
#                          that file
#   pf_check NAME COMMAND...   count a check: ok when COMMAND succeeds
#   pf_done                print the counts, exit 1 when a check failed
# Everything started here is stopped by its PID at exit and PF_DIR removed
# (kept when PF_KEEP=1).
set -u

PF_SMTP_PORT=${PF_SMTP_PORT:-2525}
PF_SINK_PORT=${PF_SINK_PORT:-2526}
PF_DNS_PORT=${PF_DNS_PORT:-5353}
PF_PIDS=()
PF_DIR=
PF_MASTER_PID=
PF_PASSED=0
PF_FAILED=0
PF_N=0

pf_skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL (CI=true, so this may not be skipped): $*" >&2
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

pf_enter() {
	local p
	if [ -z "${MT_PF_INNER:-}" ]; then
		for p in postfix smtp-sink swaks nsd unshare ip; do
			command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
				pf_skip "$p is not installed (scripts/deps.sh installs postfix swaks nsd util-linux iproute2)"
		done
		getent passwd postfix >/dev/null || pf_skip "no postfix user (Debian package postfix)"
		if [ "$(id -u)" -ne 0 ]; then
			if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
				exec sudo -n env "PATH=$PATH" "CI=${CI:-}" "PF_KEEP=${PF_KEEP:-}" \
					"PYTHON=${PYTHON:-python3}" bash "$0" "$@"
			fi
			pf_skip "a private Postfix needs root (a network namespace, the postfix user); not root and no password-less sudo"
		fi
		unshare -n true 2>/dev/null || pf_skip "unshare -n does not work here (no network namespaces)"
		MT_PF_INNER=1 exec unshare -n -- bash "$0" "$@"
	fi
	ip link set lo up || { echo "cannot bring lo up in the namespace" >&2; exit 1; }
	PATH=$PATH:/usr/sbin:/sbin
	PF_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mt-postfix.XXXXXX") || exit 1
	# the postfix user reaches the sink folder and sockets placed here
	chmod 755 "$PF_DIR"
	trap pf_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	PF_OUT=$PF_DIR/swaks.out
	PF_SINK=$PF_DIR/sink
	PF_CONF=$PF_DIR/conf
}

pf_stop_pid() {
	local i
	kill "$1" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

pf_cleanup() {
	local rc=$? p i
	if [ -n "$PF_MASTER_PID" ] && kill -0 "$PF_MASTER_PID" 2>/dev/null; then
		postfix -c "$PF_CONF" stop >/dev/null 2>&1
		# postfix stop returns before the master has gone
		for i in $(seq 1 100); do
			kill -0 "$PF_MASTER_PID" 2>/dev/null || break
			sleep 0.1
		done
		pf_stop_pid "$PF_MASTER_PID"
	fi
	for p in "${PF_PIDS[@]}"; do pf_stop_pid "$p"; done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$PF_DIR" ]; then
		echo "--- postfix log (last 30 lines) ---" >&2
		tail -n 30 "$PF_DIR/maillog" >&2 2>/dev/null
	fi
	if [ -n "$PF_DIR" ] && [ "${PF_KEEP:-}" != 1 ]; then
		rm -rf "$PF_DIR"
	elif [ -n "$PF_DIR" ]; then
		echo "kept $PF_DIR" >&2
	fi
	exit "$rc"
}

pf_spawn() {
	local name=$1
	shift
	"$@" >"$PF_DIR/$name.log" 2>&1 &
	PF_PID=$!
	PF_PIDS+=("$PF_PID")
}

pf_nsd_start() {
	local d=$PF_DIR/nsd i
	mkdir -p "$d"
	cat >"$d/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$PF_DNS_PORT
	port: $PF_DNS_PORT
	zonesdir: "$d"
	pidfile: "$d/nsd.pid"
	username: ""
	database: ""
	xfrdfile: "$d/xfrd.state"
	zonelistfile: "$d/zone.list"
	rrl-ratelimit: 0
	verbosity: 1
	logfile: "$d/nsd.log"
	server-count: 1
remote-control:
	control-enable: no
EOF
	local first=$1
	while [ $# -ge 2 ]; do
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$1" "$2" >>"$d/nsd.conf"
		shift 2
	done
	pf_spawn nsd nsd -d -c "$d/nsd.conf"
	PF_NSD_PID=$PF_PID
	for i in $(seq 1 50); do
		if dig +short +time=1 +tries=1 -p "$PF_DNS_PORT" @127.0.0.1 "$first" SOA 2>/dev/null | grep -q .; then
			PF_RESOLVER=127.0.0.1@$PF_DNS_PORT
			return 0
		fi
		kill -0 "$PF_NSD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "nsd did not start:" >&2
	cat "$PF_DIR/nsd.log" "$d/nsd.log" >&2 2>/dev/null
	exit 1
}

pf_write_master() {
	# Debian's master.cf chroots most services; this one chroots none.
	cat >"$PF_CONF/master.cf" <<EOF
127.0.0.1:$PF_SMTP_PORT inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
local      unix  - n n -  - local
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
}

pf_start() {
	local i
	mkdir -p "$PF_CONF" "$PF_DIR/queue" "$PF_SINK"
	chown postfix "$PF_SINK"
	pf_write_master
	cat >"$PF_CONF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
myhostname = mx.test.example
mydomain = test.example
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$PF_SINK_PORT
default_transport = smtp:[127.0.0.1]:$PF_SINK_PORT
relay_transport = smtp:[127.0.0.1]:$PF_SINK_PORT
relay_domains = sink.example
smtpd_relay_restrictions = reject_unauth_destination
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtp_tls_security_level = none
smtpd_tls_security_level = none
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
EOF
	pf_spawn sink smtp-sink -u postfix -d "$PF_SINK/%Y%m%d%H%M%S." "127.0.0.1:$PF_SINK_PORT" 256
	PF_SINK_PID=$PF_PID
	if ! postfix -c "$PF_CONF" check >"$PF_DIR/check.out" 2>&1; then
		echo "postfix check failed:" >&2
		cat "$PF_DIR/check.out" "$PF_DIR/maillog" >&2 2>/dev/null
		exit 1
	fi
	if ! postfix -c "$PF_CONF" start >"$PF_DIR/start.out" 2>&1; then
		echo "postfix start failed:" >&2
		cat "$PF_DIR/start.out" "$PF_DIR/maillog" >&2 2>/dev/null
		exit 1
	fi
	for i in $(seq 1 100); do
		PF_MASTER_PID=$(head -n 1 "$PF_DIR/queue/pid/master.pid" 2>/dev/null | tr -d ' ')
		if [ -n "$PF_MASTER_PID" ] && pf_smtp_up; then
			return 0
		fi
		sleep 0.1
	done
	echo "postfix did not start listening on 127.0.0.1:$PF_SMTP_PORT" >&2
	cat "$PF_DIR/start.out" "$PF_DIR/maillog" >&2 2>/dev/null
	exit 1
}

pf_smtp_up() {
	timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PF_SMTP_PORT && head -c 3 <&3 | grep -q 220" 2>/dev/null
}

pf_set() {
	postconf -c "$PF_CONF" -e "$@" || exit 1
	if [ -n "$PF_MASTER_PID" ]; then
		postfix -c "$PF_CONF" reload >/dev/null 2>&1 || exit 1
		# smtpd processes already waiting keep the old settings until
		# they exit; a reload makes them finish their current session
		sleep 1
	fi
}

pf_send() {
	local have_from=0 have_to=0 a
	for a in "$@"; do
		case $a in
		--from|-f) have_from=1 ;;
		--to|-t) have_to=1 ;;
		esac
	done
	PF_N=$((PF_N + 1))
	PF_ID="pf-$$-$PF_N-$RANDOM"
	local args=(--server 127.0.0.1 --port "$PF_SMTP_PORT" --timeout 60
	            --add-header "X-PF-Id: $PF_ID" --hide-informational)
	[ $have_from -eq 0 ] && args+=(--from sender@test.example)
	[ $have_to -eq 0 ] && args+=(--to rcpt@sink.example)
	timeout 90 swaks "${args[@]}" "$@" >"$PF_OUT" 2>&1
	PF_RC=$?
}

pf_reply_has() {
	grep -q -E "^<[*~-]* +${1//./\\.}( |-|$)" "$PF_OUT"
}

pf_wait_delivered() {
	local t=${1:-30} i f
	PF_MSG=
	for i in $(seq 1 $((t * 10))); do
		f=$(grep -l -F -- "X-PF-Id: $PF_ID" "$PF_SINK"/* 2>/dev/null | head -n 1)
		if [ -n "$f" ]; then
			PF_MSG=$f
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# pf_check NAME COMMAND...: one counted assertion
pf_check() {
	local name=$1
	shift
	if "$@"; then
		PF_PASSED=$((PF_PASSED + 1))
		echo "ok: $name"
	else
		PF_FAILED=$((PF_FAILED + 1))
		echo "FAIL: $name"
		echo "  swaks transcript:"
		sed 's/^/  | /' "$PF_OUT" 2>/dev/null | tail -n 20
	fi
}

pf_done() {
	echo "$PF_PASSED passed, $PF_FAILED failed"
	[ "$PF_FAILED" -eq 0 ] && [ "$PF_PASSED" -gt 0 ]
	exit $?
}
