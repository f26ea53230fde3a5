# CLI tests: "spf merge" and "spf build".  Expected records follow issue 4
# and the rules of spf_verify.h (order ip4 ip6 a mx ptr include exists,
# modifiers, all; the least strict all wins; refusals exit 1).
. "$(dirname "$0")/lib.sh"
MAN="$DATA/../../../doc/man/mailtrust-spf.1"

R1='v=spf1 ip4:192.168.20.25 ~all'
R2='v=spf1 ip6:1080::8:800:68.0.3.1/96 ~all'
R3='v=spf1 include:zoho.com ~all'
WANT='v=spf1 ip4:192.168.20.25 ip6:1080::8:800:68.0.3.1/96 include:zoho.com ~all'

# ---- merge ----
run spf merge "$R1" "$R2" "$R3"
expect_rc 0
# issue 7 item 13: the only note is that R2's address bits below /96 are
# ignored (RFC 7208 5.6): 68.0.3.1 is the low 32 bits of 1080::8:800:0:0/96
expect_err "mailtrust: spf merge: note: 'ip6:1080::8:800:68.0.3.1/96' (record 2) has host bits set below the /96 prefix"
n=$(wc -l <"$ERR" | tr -d ' ')
if [ "$n" = 1 ]; then ok; else bad "$n lines on stderr, want 1"; fi
expect_line 1 "$WANT"
n=$(wc -l <"$OUT" | tr -d ' ')
if [ "$n" = 1 ]; then ok; else bad "$n lines, want 1"; fi
# the merged record is valid for the parser
run spf parse "$WANT"
expect_rc 0

run spf merge "$R3" "$R1" "$R2" --json
expect_rc 0
expect_json 'j["record"] == "'"$WANT"'"' 'j["lookups"] == 1' \
            'j["inputs"] == ["'"$R3"'", "'"$R1"'", "'"$R2"'"]'

# duplicates once; -all with ~all gives ~all; ?all wins over both
run spf merge 'v=spf1 ip4:192.0.2.1 mx -all' 'v=spf1 ip4:192.0.2.1/32 MX ~all'
expect_rc 0
expect_line 1 'v=spf1 ip4:192.0.2.1 mx ~all'
run spf merge 'v=spf1 a -all' 'v=spf1 mx ?all' 'v=spf1 ptr ~all'
expect_rc 0
expect_line 1 'v=spf1 a mx ptr ?all'

# refusals: exit 1, one line on stderr with the reason, nothing on stdout
run spf merge 'v=spf1 mx -all' 'v=spf1 +all'
expect_rc 1
expect_err_one_line
expect_err '+all'
if [ -s "$OUT" ]; then bad "stdout not empty"; else ok; fi
run spf merge 'v=spf1 redirect=a.example' 'v=spf1 redirect=b.example'
expect_rc 1
expect_err_one_line
expect_err 'redirect=b.example'
run spf merge 'v=spf1 redirect=a.example' 'v=spf1 ip4:192.0.2.1 -all'
expect_rc 1
expect_err 'redirect=a.example'
run spf merge 'v=spf1 mx -all' 'v=spf1 ip4:192.0.2.300 -all'
expect_rc 1
expect_err_one_line
expect_err 'record 2'
run spf merge 'v=spf1 include:a1.example include:a2.example include:a3.example include:a4.example include:a5.example include:a6.example' \
              'v=spf1 include:a7.example include:a8.example include:a9.example include:a10.example include:a11.example -all'
expect_rc 1
expect_err '11'
run spf merge 'v=spf1 include:a1.example include:a2.example -all' 'v=spf1 mx -all' --max-lookups 2
expect_rc 1
run spf merge 'v=spf1 include:a1.example include:a2.example -all' 'v=spf1 mx -all' --max-lookups 3
expect_rc 0
expect_line 1 'v=spf1 mx include:a1.example include:a2.example -all'
run spf merge 'v=spf1 mx -all' 'v=spf1 +all' --json
expect_rc 1
expect_json 'j["record"] is None' 'j["lookups"] is None' '"+all" in j["error"]' 'len(j["inputs"]) == 2'

# usage
run spf merge
expect_rc 64
expect_err_one_line
run spf merge --bogus 'v=spf1 -all'
expect_rc 64
run spf merge --max-lookups 0 'v=spf1 -all'
expect_rc 64
run spf merge --max-lookups x 'v=spf1 -all'
expect_rc 64
run spf merge --help
expect_rc 0
expect_out 'Exit status: 0 merged, 1 refused'

# ---- build ----
run spf build --include zoho.com
expect_rc 0
expect_no_err
expect_line 1 'v=spf1 include:zoho.com -all'
run spf build --mx --include _spf.example.com --ip6 2001:db8::/32 --ip4 192.0.2.0/24 --a \
              --ip4 198.51.100.7 --all softfail
expect_rc 0
expect_line 1 'v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 ip6:2001:db8::/32 a mx include:_spf.example.com ~all'
built=$(head -n 1 "$OUT")
run spf parse "$built"
expect_rc 0
run spf build --ip4 192.0.2.0/24 --all neutral --json
expect_rc 0
expect_json 'j["record"] == "v=spf1 ip4:192.0.2.0/24 ?all"' 'j["lookups"] == 0'
run spf build --include a.example --mx --a --json
expect_json 'j["lookups"] == 3'
run spf build
expect_rc 0
expect_line 1 'v=spf1 -all'

# refused: named in one line, exit 1
for bad_arg in '--ip4 1.2.3.4/33' '--ip4 mail.example.com' '--ip4 192.168.01.1' \
               '--ip6 2001:db8::/129' '--include zoho' '--include zoho..com'; do
	# shellcheck disable=SC2086
	run spf build $bad_arg
	expect_rc 1
	expect_err_one_line
	expect_err "'${bad_arg#* }'"
done
run spf build --include 'zoho.com -all'
expect_rc 1
set --
for i in 1 2 3 4 5 6 7 8 9 10 11; do set -- "$@" --include "i$i.example"; done
run spf build "$@"
expect_rc 1
expect_err '11'
run spf build --include a.example --include b.example --mx --max-lookups 2
expect_rc 1
expect_err '3'
run spf build --ip4 1.2.3.4/33 --json
expect_rc 1
expect_json 'j["record"] is None' '"1.2.3.4/33" in j["error"]'

# usage
run spf build --all pass
expect_rc 64
expect_err_one_line
run spf build extra
expect_rc 64
run spf build --ip4
expect_rc 64
run spf build --help
expect_rc 0
expect_out 'Exit status: 0 built, 1 refused'

# the spf usage lists both; the man page documents every option of both
run spf --help
expect_out '  merge '
expect_out '  build '
for cmd in merge build; do
	run spf $cmd --help
	for opt in $(grep -o -- '--[a-z][a-z0-9-]*' "$OUT" | sort -u); do
		LAST="mailtrust-spf.1: spf $cmd $opt"
		pat=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
		if grep -q -- "$pat" "$MAN"; then ok; else bad "not documented"; fi
	done
	LAST="mailtrust-spf.1: spf $cmd section"
	if grep -q "^\.SS spf $cmd\$" "$MAN" && grep -q "^\.SH OPTIONS OF spf $cmd\$" "$MAN"; then ok
	else bad "no section"; fi
done
finish
