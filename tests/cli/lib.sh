# Shared helpers for the CLI tests (POSIX sh).  Each test script is run as
#   sh test_<area>.sh /path/to/mailtrust /path/to/tests/cli/data
# and exits non-zero when any check failed.

MT=${1:?usage: $0 MAILTRUST_BINARY DATA_DIR}
DATA=${2:?usage: $0 MAILTRUST_BINARY DATA_DIR}
PYTHON=${PYTHON:-python3}
# The interpreter itself, not a wrapper script (pyenv shims are slow).
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)') || exit 99
ZONE="$DATA/spf.zone"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mt-cli-test.XXXXXX") || exit 99
trap 'rm -rf "$TMP"' EXIT
# Never colour, never a real resolver: tests read zone files only.
export NO_COLOR=1

passed=0
failed=0
OUT="$TMP/out"
ERR="$TMP/err"
RC=0

# run ARGS...: run the tool, keep stdout, stderr and the exit status.
run() {
	"$MT" "$@" >"$OUT" 2>"$ERR"
	RC=$?
	LAST="mailtrust $*"
}

ok() { passed=$((passed + 1)); }
bad() {
	failed=$((failed + 1))
	echo "FAIL: $LAST: $*"
	echo "  --- stdout:"; sed 's/^/  | /' "$OUT" | head -20
	echo "  --- stderr:"; sed 's/^/  | /' "$ERR" | head -5
}

expect_rc() {
	if [ "$RC" -eq "$1" ]; then ok; else bad "exit status $RC, want $1"; fi
}
# expect_out FIXED-STRING: stdout holds the string.
expect_out() {
	if grep -qF -- "$1" "$OUT"; then ok; else bad "stdout lacks '$1'"; fi
}
expect_no_out() {
	if grep -qF -- "$1" "$OUT"; then bad "stdout holds '$1'"; else ok; fi
}
# expect_first_line PREFIX: the first line of stdout begins with PREFIX.
expect_first_line() {
	first=$(head -n 1 "$OUT")
	case "$first" in
	"$1"*) ok ;;
	*) bad "first line '$first' does not begin with '$1'" ;;
	esac
}
# expect_line N EXACT: line N of stdout is exactly EXACT.
expect_line() {
	line=$(sed -n "$1p" "$OUT")
	if [ "$line" = "$2" ]; then ok; else bad "line $1 is '$line', want '$2'"; fi
}
expect_err() {
	if grep -qF -- "$1" "$ERR"; then ok; else bad "stderr lacks '$1'"; fi
}
# expect_err_one_line: exactly one line on stderr, starting "mailtrust: ".
expect_err_one_line() {
	n=$(wc -l <"$ERR" | tr -d ' ')
	if [ "$n" = 1 ] && head -n 1 "$ERR" | grep -q '^mailtrust: '; then ok
	else bad "stderr has $n lines, want one 'mailtrust: ...' line"; fi
}
expect_no_err() {
	if [ -s "$ERR" ]; then bad "unexpected stderr"; else ok; fi
}
# expect_json PYTHON-EXPRESSION: stdout is one JSON object j for which
# the expression is true.
JSON_CHECK='
import json, sys
text = sys.stdin.read()
j = json.loads(text)          # raises on invalid JSON or trailing data
assert isinstance(j, dict), "not an object"
assert "\x1b" not in text, "colour in JSON"
assert text.count("\n") == 1 and text.endswith("\n"), "not one line"
bad = [e for e in sys.argv[1:] if not eval(e, {"j": j})]
for e in bad:
    print(e)
sys.exit(1 if bad else 0)
'
# expect_json EXPR...: stdout is one JSON object j (on one line, without
# colour) for which every Python expression is true.
expect_json() {
	if "$PYTHON" -c "$JSON_CHECK" "$@" <"$OUT" >"$TMP/pyout" 2>"$TMP/pyerr"; then ok
	else bad "JSON check failed: $(cat "$TMP/pyout" "$TMP/pyerr")"; fi
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
