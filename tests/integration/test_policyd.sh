#!/bin/bash
# mailtrust-policyd over its socket, against NSD (test.example, started by
# run_nsd.sh) and slow_dns.py (slow.example, every answer after 1.5 s), joined
# by an unbound.conf forward-zone.  The client side is policyd_client.py:
# answers per result, many connections at once, a slow domain holding up
# only its own connection, broken and lost connections affecting no other.
#
#   test_policyd.sh POLICYD RUN_NSD SLOW_DNS CLIENT
set -u
PD=${1:?policyd} RUN_NSD=${2:?run_nsd.sh} SLOW_DNS=${3:?slow_dns.py} CLIENT=${4:?client}
PYTHON=${PYTHON:-python3}

if [ -z "${MT_NSD_PORT:-}" ]; then
	TMPZ=$(mktemp -d "${TMPDIR:-/tmp}/mt-pdzone.XXXXXX") || exit 1
	trap 'rm -rf "$TMPZ"' EXIT
	cat >"$TMPZ/test.example.zone" <<'ZONE'
$ORIGIN test.example.
$TTL 300
@        SOA ns.test.example. hostmaster.test.example. 1 3600 600 86400 300
@        NS  ns.test.example.
ns       A   127.0.0.1
pass     TXT "v=spf1 ip4:192.0.2.0/24 -all"
fail     TXT "v=spf1 ip4:198.51.100.1 -all"
soft     TXT "v=spf1 ip4:198.51.100.1 ~all"
neutral  TXT "v=spf1 ?all"
perm     TXT "v=spf1 ip4:192.0.2.0/24 bogus -all"
mx.helo  TXT "v=spf1 ip4:192.0.2.7 -all"
ZONE
	bash "$RUN_NSD" --zone test.example "$TMPZ/test.example.zone" bash "$0" "$@"
	exit $?
fi
case "$MT_NSD_ADDR" in
127.*) ;;
*) echo "refusing: resolver not on loopback" >&2; exit 1 ;;
esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mt-policyd.XXXXXX") || exit 1
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

"$PYTHON" "$SLOW_DNS" "$TMP/slow.port" 1500 &
PIDS+=($!)
for i in $(seq 100); do [ -s "$TMP/slow.port" ] && break; sleep 0.1; done
SPORT=$(head -n 1 "$TMP/slow.port")
[ -n "$SPORT" ] || { echo "slow_dns.py did not start" >&2; exit 1; }
printf 'server:\n\tdo-not-query-localhost: no\nforward-zone:\n\tname: "slow.example"\n\tforward-addr: 127.0.0.1@%s\n' \
	"$SPORT" >"$TMP/unbound.conf"

failed=0
# ---- the command line ----------------------------------------------------------
expect_rc() { # WANT ARGS...: mailtrust-policyd ARGS exits WANT
	local want=$1 rc
	shift
	timeout 20 "$PD" "$@" >"$TMP/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: mailtrust-policyd $* exited $rc, want $want"; sed 's/^/  | /' "$TMP/out"
		failed=$((failed + 1))
	else
		echo "ok: mailtrust-policyd $* -> $rc"
	fi
}
expect_rc 0 --help
grep -q -- '--reject-fail' "$TMP/out" || { echo "FAIL: --help lacks --reject-fail"; failed=$((failed + 1)); }
expect_rc 64 --no-such-option
expect_rc 64 --temperror maybe
expect_rc 64 --trusted 192.0.2.0/33
expect_rc 64 -n -s inet:127.0.0.1
expect_rc 0 -n -s "unix:$TMP/x.sock" --resolver "$MT_NSD_ADDR@$MT_NSD_PORT"
grep -q 'configuration ok' "$TMP/out" || { echo "FAIL: -n did not say ok"; failed=$((failed + 1)); }
[ ! -e "$TMP/x.sock" ] || { echo "FAIL: -n created the socket"; failed=$((failed + 1)); }
echo 'bad zone line' >"$TMP/bad.zone"
expect_rc 78 -n --zone "$TMP/bad.zone"
expect_rc 78 -n -u no-such-user-mt

# ---- the service -------------------------------------------------------------------
start_pd() { # LOG ARGS...
	local log=$1
	shift
	"$PD" -l --resolver "$MT_NSD_ADDR@$MT_NSD_PORT" --unbound-config "$TMP/unbound.conf" \
		--receiver mx.test --check-localhost "$@" >"$TMP/$log" 2>&1 &
	PD_PID=$!
	PIDS+=("$PD_PID")
}
start_pd pd.log -s "unix:$TMP/pd.sock" -r -t 10
UNIX_PID=$PD_PID
# the same over TCP, on a free port
TCP_PORT=
for try in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	start_pd pd_tcp.log -s "inet:127.0.0.1:$port" -r -t 10
	sleep 0.3
	if kill -0 "$PD_PID" 2>/dev/null; then TCP_PORT=$port; break; fi
done
for i in $(seq 50); do [ -S "$TMP/pd.sock" ] && break; sleep 0.1; done

"$PYTHON" "$CLIENT" "$TMP/pd.sock" "$TCP_PORT"
[ $? -eq 0 ] || failed=$((failed + 1))
if ! kill -0 "$UNIX_PID" 2>/dev/null; then
	echo "FAIL: mailtrust-policyd exited during the test"; failed=$((failed + 1))
fi
# one log line per answered request, with the result and the action
grep -q 'result=fail action=550 5.7.23' "$TMP/pd.log" || { echo "FAIL: no log line for a fail"; failed=$((failed + 1)); }
grep -q "closed: a line without '='" "$TMP/pd.log" || { echo "FAIL: the broken line was not logged"; failed=$((failed + 1)); }
# SIGTERM: a clean exit, status 0
kill -TERM "$UNIX_PID"
wait "$UNIX_PID"
rc=$?
if [ $rc -ne 0 ]; then echo "FAIL: exit status $rc after SIGTERM"; failed=$((failed + 1)); fi
if [ $failed -ne 0 ]; then
	echo "--- policyd log (last 40) ---"; tail -n 40 "$TMP/pd.log"
	echo "$failed failure(s)"
	exit 1
fi
echo "all passed"
