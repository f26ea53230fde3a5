#!/bin/sh
# mailtrust-policyd(8) documents every long option of --help and every exit
# status, and (when groff is installed) renders without warnings.
#   test_man_policyd.sh MAILTRUST_POLICYD MAN_PAGE
PD=$1 PAGE=$2
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
out=$("$PD" --help) || bad "--help failed"
for opt in $(printf '%s\n' "$out" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	pat=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
	if grep -q -- "$pat" "$PAGE"; then ok; else bad "$opt is not in $PAGE"; fi
done
for code in 0 64 69 70 78; do
	printf '%s\n' "$out" | grep -q "$code" && ok || bad "--help does not name exit status $code"
	if sed -n '/^\.SH EXIT STATUS/,/^\.SH [^E]/p' "$PAGE" | grep -q "^\.B $code\$"; then ok
	else bad "exit status $code is not in $PAGE"; fi
done
if command -v groff >/dev/null 2>&1; then
	if err=$(groff -man -ww -z "$PAGE" 2>&1) && [ -z "$err" ]; then ok
	else bad "groff warnings: $err"; fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
