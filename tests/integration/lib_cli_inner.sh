# Shared by the CLI tests that run inside run_nsd.sh (source it in the inner
# part): the server must be on loopback; a scratch directory TMP with OUT
# and ERR; one background helper BG_PID (a silent or slow server) stopped
# by its PID at exit; and the helpers
#   run ARGS...            mailtrust ARGS (60 s at most): RC, OUT, ERR, LAST
#   ok / bad MESSAGE       count a check (bad prints what the run printed)
#   spf IP SENDER WANT [options]
#                          one spf check through the server: the exit status
#                          and the first word (or --json's "result") are WANT
#   json EXPR...           --json output of the last run: each Python
#                          expression over j holds
# Needs MT (the mailtrust program) and PYTHON set; sets RES (ADDR@PORT).
ADDR=${MT_NSD_ADDR:?}
PORT=${MT_NSD_PORT:?}
case "$ADDR" in
127.*|::1) ;;
*) echo "refusing to run: resolver $ADDR is not on loopback" >&2; exit 1 ;;
esac
RES="$ADDR@$PORT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mt-cli-run.XXXXXX") || exit 1
BG_PID=
cleanup() {
	if [ -n "$BG_PID" ]; then
		kill "$BG_PID" 2>/dev/null
		wait "$BG_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
OUT=$TMP/out
ERR=$TMP/err
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
	failed=$((failed + 1))
	echo "FAIL: $LAST: $*"
	sed 's/^/  | /' "$OUT" | head -8
	sed 's/^/  ! /' "$ERR" | head -4
}
run() {
	timeout 60 "$MT" "$@" >"$OUT" 2>"$ERR"
	RC=$?
	LAST="mailtrust $*"
}
code_of() {
	case $1 in
	pass) echo 0 ;; fail) echo 1 ;; softfail) echo 2 ;; neutral) echo 3 ;;
	none) echo 4 ;; temperror) echo 5 ;; permerror) echo 6 ;;
	esac
}
spf() {
	local ip=$1 sender=$2 want=$3
	shift 3
	run spf check --resolver "$RES" --ip "$ip" --sender "$sender" "$@"
	# text: "RESULT: ..."; --json: {"result":"RESULT",...
	if [ "$RC" -eq "$(code_of "$want")" ] &&
	   head -n 1 "$OUT" | grep -q -e "^$want: " -e "^{\"result\":\"$want\","; then ok
	else bad "exit $RC, want $want ($(code_of "$want"))"; fi
}
json() {
	if "$PYTHON" -c '
import json, sys
j = json.load(open(sys.argv[1]))
bad = [e for e in sys.argv[2:] if not eval(e, {"j": j})]
for e in bad: print("false:", e)
sys.exit(1 if bad else 0)' "$OUT" "$@" >"$TMP/py" 2>&1; then ok
	else bad "$(cat "$TMP/py")"; fi
}
