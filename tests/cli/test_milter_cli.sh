#!/bin/bash
# mailtrust-milter's command line and documentation: --help options and
# exit codes in mailtrust-milter(8), every setting of the parser in
# mailtrust-milter.conf(5), -n on good and bad files, the pages render
# without groff warnings, and the sample configuration parses.
#   test_milter_cli.sh MILTER SOURCE_DIR
M=$1
SRC=$2
MAN=$SRC/doc/man
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $LAST: $*"; }

"$M" --help >"$T/help" 2>&1
LAST="--help exit"; [ $? -eq 0 ] && ok || bad "not 0"
for opt in $(grep -o -- '--[a-z][a-z-]*' "$T/help" | sort -u); do
	LAST="mailtrust-milter.8: $opt"
	pat=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
	grep -q -- "$pat" "$MAN/mailtrust-milter.8" && ok || bad "not documented"
done
for code in 0 64 71 78; do
	LAST="exit status $code"
	grep -q "\b$code\b" "$T/help" && ok || bad "not in --help"
	sed -n '/^\.SH EXIT STATUS/,/^\.SH FILES/p' "$MAN/mailtrust-milter.8" | grep -q "^\.B $code\$" && ok ||
		bad "not in the man page"
done
# every setting name the parser knows is documented
for name in $(grep -o 'weq(k, "[a-z-]*")' "$SRC/src/tools/mailtrust-milter/conf.c" | sed 's/.*"\(.*\)")/\1/'); do
	LAST="mailtrust-milter.conf.5: $name"
	pat=$(printf '%s' "$name" | sed 's/-/\\\\-/g')
	grep -q -E "^\.B[IR] $pat( |\$)" "$MAN/mailtrust-milter.conf.5" && ok || bad "not documented"
done

# -n
cat >"$T/good.conf" <<C
authserv-id mx.example.org
socket inet:8891@127.0.0.1
trusted-networks 10.0.0.0/8
C
LAST="-n good file"
out=$("$M" -n -c "$T/good.conf" 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "ok (authserv-id mx.example.org" && ok || bad "rc=$rc: $out"
printf 'authserv-id a\nsocket inet:1@h\ndmarc-action bounce\n' >"$T/bad.conf"
LAST="-n bad file"
out=$("$M" -n -c "$T/bad.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && echo "$out" | grep -q "bad.conf: line 3: dmarc-action" && ok || bad "rc=$rc: $out"
printf 'authserv-id a\nsocket inet:1@h\nsign example.com s %s/missing.pem\n' "$T" >"$T/nokey.conf"
LAST="-n missing key"
out=$("$M" -n -c "$T/nokey.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && echo "$out" | grep -q "missing.pem" && ok || bad "rc=$rc: $out"
printf 'authserv-id a\nsocket inet:1@h\nsign example.com s %s/junk.pem\n' "$T" >"$T/junk.conf"
echo "not a key" >"$T/junk.pem"
LAST="-n unusable key"
out=$("$M" -n -c "$T/junk.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && echo "$out" | grep -q "junk.pem" && ok || bad "rc=$rc: $out"
LAST="-n missing file"
"$M" -n -c "$T/none.conf" >/dev/null 2>&1; rc=$?
[ $rc -eq 78 ] && ok || bad "rc=$rc"
LAST="unknown option"
"$M" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] && ok || bad "rc=$rc"
# the sample parses (its user may not exist here: drop that line)
LAST="sample configuration"
grep -v '^user ' "$SRC/doc/milter/milter.conf.sample" >"$T/sample.conf"
out=$("$M" -n -c "$T/sample.conf" 2>&1); rc=$?
[ $rc -eq 0 ] && ok || bad "rc=$rc: $out"

if command -v groff >/dev/null 2>&1; then
	for page in "$MAN/mailtrust-milter.8" "$MAN/mailtrust-milter.conf.5"; do
		LAST="groff $page"
		if groff -man -ww -z "$page" 2>"$T/err" && [ ! -s "$T/err" ]; then ok; else bad "$(cat "$T/err")"; fi
	done
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
