# CLI tests: "spf check" results on tests/cli/data/spf.zone.  Every
# expectation is derived from RFC 7208 (section noted), not from the
# program's output.  No network: every check uses --zone.
. "$(dirname "$0")/lib.sh"

check() { run spf check --zone "$ZONE" "$@"; }

# 5.4 mx: example.com's MX is mail.example.com (192.0.2.10) -> pass.
check --ip 192.0.2.10 --sender alice@example.com
expect_rc 0
expect_line 1 'pass: 192.0.2.10 is authorized by example.com (mechanism "mx")'
expect_out "lookups: 1 of 10 DNS-querying terms, 0 of 2 void lookups"
expect_out "Received-SPF: pass"
expect_out "Authentication-Results: "
expect_out "spf=pass"
expect_out "smtp.mailfrom="
expect_no_err
# the same address written as IPv4-mapped IPv6 is IPv4 (RFC 7208 5, 4291)
check --ip ::ffff:192.0.2.10 --sender alice@example.com
expect_rc 0
# AAAA of the MX host matches an IPv6 client (5.4: AAAA for IPv6)
check --ip 2001:db8::10 --sender alice@example.com
expect_rc 0
# DOMAIN given instead of a sender (sender becomes postmaster@DOMAIN, 4.3)
check example.com --ip 192.0.2.10
expect_rc 0
expect_first_line "pass: 192.0.2.10 is authorized by example.com"

# An IPv6 zone id names a link of the receiving host and means nothing to
# SPF: dropped, the address is checked (fe80::1 is not example.com's MX ->
# -all, 4.6.2); an IPv4 address has no zone id.
check --ip 'fe80::1%eth0' --sender alice@example.com
expect_rc 1; expect_no_err
expect_line 1 'fail: fe80::1 is not authorized by example.com (mechanism "-all")'
expect_out 'client-ip="fe80::1";'
check --ip '2001:db8::10%3' --sender alice@example.com
expect_rc 0; expect_no_err
check --ip '192.0.2.10%eth0' --sender alice@example.com
expect_rc 64; expect_err_one_line; expect_err "is not an IPv4 or IPv6 address"
check --ip 'fe80::1%' --sender alice@example.com
expect_rc 64; expect_err_one_line

# 4.3: a malformed or absent domain is "none" (exit 4) with the reason,
# never a usage error and never an empty domain in the output.
check --ip 192.0.2.10 --sender 'a@'
expect_rc 4; expect_no_err
expect_line 1 'none: no valid domain to check'
expect_out "problem: the domain of the sender 'a@' is empty"
expect_out 'envelope-from="a@"'
expect_out '; problem="'
expect_no_out 'smtp.mailfrom'
expect_no_out 'no SPF policy for'
expect_out 'Authentication-Results: unknown; spf=none (the domain of the sender'
# no '@': all of it is the domain, postmaster the local-part (4.3); one
# label is not a multi-label domain name
check --ip 192.0.2.10 --sender noatsign
expect_rc 4; expect_no_err
expect_line 1 'none: no valid domain to check ("noatsign")'
expect_out "not a multi-label domain name"
expect_out 'envelope-from="postmaster@noatsign"'
expect_no_out 'smtp.mailfrom'
for snd in 'a@' noatsign '@' 'x@[192.0.2.1]' 'x@a..example.com'; do
	check --ip 192.0.2.10 --sender "$snd" --json
	expect_rc 4; expect_no_err
	expect_json 'j["result"] == "none"' 'j["domain"] != ""' 'j["problem"]["message"]' \
	            'j["lookups"] == 0' 'j["trace"] == []' \
	            '"smtp.mailfrom" not in j["authentication_results"]'
done
check --ip 192.0.2.10 --sender 'a@' --json
expect_json 'j["domain"] is None' 'j["sender"] == "a@"'
# the null reverse-path without a HELO name, a HELO that is an address
# literal (2.3) or holds a control character: none, not exit 64
check --ip 192.0.2.10 --identity helo --helo '[192.0.2.10]'
expect_rc 4; expect_no_err; expect_line 1 'none: no valid domain to check ("[192.0.2.10]")'
check --ip 192.0.2.10 --identity helo --helo "$(printf 'mail\033.example.com')"
expect_rc 4; expect_no_err
expect_line 1 'none: no valid domain to check ("mail\x1B.example.com")'
if grep -q "$(printf '\033')" "$OUT"; then bad "ESC in the output"; else ok; fi
check --ip 192.0.2.10 --helo "$(head -c 5000 /dev/zero | tr '\000' h)" --sender ''
expect_rc 4; expect_no_err
n=$(wc -c <"$OUT" | tr -d ' ')
if [ "$n" -lt 3000 ]; then ok; else bad "output has $n octets"; fi

# 4.6.2 "-all" matches any other address -> fail, with the default
# explanation (6.2: used when there is no exp=).
check --ip 192.0.2.99 --sender alice@example.com
expect_rc 1
expect_line 1 'fail: 192.0.2.99 is not authorized by example.com (mechanism "-all")'
expect_out "explanation: "
expect_out "Received-SPF: fail"
expect_out "spf=fail"
# --default-explanation replaces it; %{i} is the client IP (7.3)
check --ip 192.0.2.99 --sender alice@example.com --default-explanation 'Go away, %{i}.'
expect_rc 1
expect_out "explanation: Go away, 192.0.2.99."
# exp= (6.2) with %{i} and %{d} (7.3)
check --ip 192.0.2.200 --sender bob@fail.example.com
expect_rc 1
expect_out "explanation: 192.0.2.200 is not allowed to send for fail.example.com"
# inside ip4:192.0.2.0/25 -> pass (5.6)
check --ip 192.0.2.100 --sender bob@fail.example.com
expect_rc 0

# 4.6.2 "~all" -> softfail
check --ip 192.0.2.2 --sender x@soft.example.com
expect_rc 2
expect_line 1 'softfail: 192.0.2.2 is probably not authorized by soft.example.com (mechanism "~all")'
check --ip 192.0.2.1 --sender x@soft.example.com
expect_rc 0
# 4.6.2 "?all" -> neutral; 4.7 no mechanism matched and no redirect -> neutral
check --ip 192.0.2.2 --sender x@neutral.example.com
expect_rc 3
expect_first_line "neutral: "
check --ip 192.0.2.2 --sender x@nomatch.example.com
expect_rc 3
expect_out "(no mechanism matched)"

# 4.5 no SPF record among the TXT records -> none; 4.3 NXDOMAIN -> none;
# 4.3 a domain that is not multi-label -> none.
check --ip 192.0.2.2 --sender x@nospf.example.com
expect_rc 4
expect_first_line "none: no SPF policy for nospf.example.com"
check --ip 192.0.2.2 --sender x@nowhere.example.com
expect_rc 4
check --ip 192.0.2.2 --sender x@localhost
expect_rc 4

# 4.4 SERVFAIL on the TXT lookup -> temperror; 5.2 include -> temperror.
check --ip 192.0.2.2 --sender x@tempfail.example.com
expect_rc 5
expect_first_line "temperror: "
expect_out "Received-SPF: temperror"
check --ip 192.0.2.2 --sender x@inctemp.example.com
expect_rc 5

# 4.5 two SPF records -> permerror
check --ip 192.0.2.2 --sender x@twospf.example.com
expect_rc 6
expect_first_line "permerror: "
expect_out "problem: "
# ... and three (or many) are all named, not just the first two
cat >"$TMP/multi.zone" <<'ZONE'
$ORIGIN example.net.
three   IN TXT "v=spf1 ip4:192.0.2.1 -all"
three   IN TXT "v=spf1 ip4:192.0.2.2 ~all"
three   IN TXT "v=spf1 ip4:192.0.2.3 ?all"
three   IN TXT "not an SPF record"
ZONE
i=1
while [ $i -le 9 ]; do
	echo "nine IN TXT \"v=spf1 ip4:198.51.100.$i -all\"" >>"$TMP/multi.zone"
	i=$((i + 1))
done
run spf check --zone "$TMP/multi.zone" --ip 192.0.2.1 --sender x@three.example.net
expect_rc 6
expect_out 'problem: three.example.net has 3 SPF records'
expect_out '"v=spf1 ip4:192.0.2.1 -all"'
expect_out '"v=spf1 ip4:192.0.2.2 ~all"'
expect_out '"v=spf1 ip4:192.0.2.3 ?all"'
expect_no_out 'not an SPF record'
run spf check --zone "$TMP/multi.zone" --ip 192.0.2.1 --sender x@nine.example.net
expect_rc 6
expect_out 'problem: nine.example.net has 9 SPF records'
expect_out ' and 4 more)'
n=$(grep '^problem:' "$OUT" | grep -o 'v=spf1 ip4:198.51.100' | wc -l | tr -d ' ')
if [ "$n" -eq 5 ]; then ok; else bad "$n records quoted on the problem line, want 5"; fi
# 4.6 syntax error -> permerror (also when the address would match later)
check --ip 192.0.2.2 --sender x@badsyntax.example.com
expect_rc 6
expect_out "problem: "
expect_out "192.0.2.300"
# 5.2 include of a domain without an SPF record -> permerror
check --ip 192.0.2.2 --sender x@incnone.example.com
expect_rc 6
# 4.6.4 the 11th DNS-querying term -> permerror; with a limit of 11 every
# a: is evaluated, none matches and "-all" gives fail.
check --ip 192.0.2.50 --sender x@lookups.example.com
expect_rc 6
check --ip 192.0.2.50 --sender x@lookups.example.com --max-lookups 11
expect_rc 1
expect_out "lookups: 11 of 11 DNS-querying terms"
# ... and a1..a11 are in 198.51.100.0/24: the 11th address matches when allowed
check --ip 198.51.100.11 --sender x@lookups.example.com --max-lookups 11
expect_rc 0
# 4.6.4 the third void lookup -> permerror; allowed with --max-void 3.
check --ip 192.0.2.50 --sender x@void.example.com
expect_rc 6
check --ip 192.0.2.50 --sender x@void.example.com --max-void 3
expect_rc 1
expect_out "3 of 3 void lookups"

# 5.2 include: pass inside -> pass; fail inside -> no match -> "-all".
check --ip 198.51.100.7 --sender x@inc.example.com
expect_rc 0
check --ip 2001:db8:1::25 --sender x@inc.example.com
expect_rc 0
check --ip 2001:db8:2::1 --sender x@inc.example.com
expect_rc 1
# 6.1 redirect= to example.com's policy
check --ip 192.0.2.10 --sender x@redir.example.com
expect_rc 0
check --ip 192.0.2.11 --sender x@redir.example.com
expect_rc 1
# 5.3/5.6 a:mail.example.com/24 covers 192.0.2.0/24
check --ip 192.0.2.77 --sender x@cidr.example.com
expect_rc 0
check --ip 198.51.100.77 --sender x@cidr.example.com
expect_rc 1
# 5.7/7.3 exists:%{ir}.%{l}._spf.example.com
check --ip 192.0.2.10 --sender alice@macro.example.com
expect_rc 0
check --ip 192.0.2.10 --sender bob@macro.example.com
expect_rc 1
check --ip 192.0.2.11 --sender alice@macro.example.com
expect_rc 1

# 2.3 HELO identity: mail.example.com's own policy "a -all".
check --ip 192.0.2.10 --helo mail.example.com --identity helo
expect_rc 0
expect_first_line "pass: 192.0.2.10 is authorized by mail.example.com"
check --ip 192.0.2.11 --helo mail.example.com --identity helo --sender alice@example.com
expect_rc 1
# 2.4 null reverse-path: postmaster@HELO is checked.
check --ip 192.0.2.10 --sender '' --helo mail.example.com
expect_rc 0
expect_first_line "pass: 192.0.2.10 is authorized by mail.example.com"

# --receiver names the authserv-id of Authentication-Results (RFC 8601 2.2)
check --ip 192.0.2.10 --sender alice@example.com --receiver mx.example.org
expect_rc 0
expect_out "Authentication-Results: mx.example.org"

# --trace shows the questions: example.com TXT, example.com MX, then the
# address of the MX host (5.4).
check --ip 192.0.2.10 --sender alice@example.com --trace
expect_rc 0
expect_out "trace: "
expect_out "example.com TXT NOERROR"
expect_out '"v=spf1 mx -all"'
expect_out "example.com MX NOERROR"
expect_out "mail.example.com A NOERROR"
expect_out "192.0.2.10"
check --ip 192.0.2.50 --sender x@void.example.com --max-void 3 --trace
expect_out "v1.example.com A NXDOMAIN (void lookup)"
check --ip 192.0.2.2 --sender x@tempfail.example.com --trace
expect_out "tempfail.example.com TXT SERVFAIL"
# without --trace no trace
check --ip 192.0.2.10 --sender alice@example.com
expect_no_out "trace:"

# Hostile TXT data (ESC, BEL, a non-UTF-8 octet) never reaches the
# terminal raw; the policy beside it still gives "-all" -> fail.
check --ip 192.0.2.1 --sender a@hostile.example.com --trace
expect_rc 1
if LC_ALL=C grep -q "$(printf '[\033\007\255]')" "$OUT"; then bad "raw control octets in the output"; else ok; fi

# The README demo zone (tests/data/example.zone), when it is there.
DEMO="$DATA/../../data/example.zone"
if [ -f "$DEMO" ]; then
	demo() { run spf check --zone "$DEMO" "$@"; }
	# ip4:192.0.2.0/24 is the first term and matches (5.6)
	demo --ip 192.0.2.10 --sender alice@example.com
	expect_rc 0
	expect_first_line 'pass: 192.0.2.10 is authorized by example.com (mechanism "ip4:192.0.2.0/24")'
	# include:_spf.example.net, whose ip4:198.51.100.0/24 passes (5.2)
	demo --ip 198.51.100.5 --sender alice@example.com
	expect_rc 0
	# the include ends in ~all: not a match (5.2), so "-all" -> fail
	demo --ip 203.0.113.5 --sender alice@example.com
	expect_rc 1
	# two strings joined without a space (3.3)
	demo --ip 203.0.113.9 --sender bob@split.example.com
	expect_rc 0
	# exp= with %{i} and %{d} (6.2, 7.3)
	demo --ip 198.51.100.1 --sender bob@explained.example.com
	expect_rc 1
	expect_out "explanation: 198.51.100.1 is not one of explained.example.com's designated mail servers."
	# two records (4.5), an include that times out (5.2)
	demo --ip 192.0.2.10 --sender bob@twice.example.com
	expect_rc 6
	demo --ip 192.0.2.10 --sender bob@timeout.example.com
	expect_rc 5
fi

finish
