# CLI tests of the domain owner's tools (issue 7): spf verify, parse, merge
# and build, offline on tests/cli/data/owner.zone.  Expectations come from
# RFC 7208 (section noted) and from the issue, not from the program's output.
. "$(dirname "$0")/lib.sh"

OZONE="$DATA/owner.zone"
verify() { run spf verify --zone "$OZONE" "$@"; }

# ---- item 5: offline --expect names no placeholder server
verify nothing.example.com --expect "v=spf1 ip4:192.0.2.1 -all"
expect_rc 2
expect_out "[expect-not-published]"
expect_out "no name servers were found for the domain, so none was asked"
expect_no_out "(none found)"
verify delegated.example.com --expect "v=spf1 ip4:192.0.2.1 -all"
expect_rc 2
expect_out "its name servers (ns1.example.net, ns2.example.net) were not asked directly"
expect_out "fix: add the record at the DNS provider that operates ns1.example.net, ns2.example.net"
expect_no_out "(none found)"

# ---- item 6: one definition of what an include costs (RFC 7208 4.6.4): the
# include term itself plus every lookup of the record it names and below
verify one.example.com
expect_rc 0
expect_out "    include:zoho.example.com  1 lookup"
expect_no_out "0 lookups"
expect_out "include:zoho.example.com: 1 DNS lookup (itself and what it includes)"
expect_out "1 of 10 DNS lookups"
# nested: include:nested (1) + include:zoho (1) + a:mail (1) = 3 for the
# include; the top record costs the same 3 in all
verify three.example.com
expect_out "  three.example.com  3 lookups"
expect_out "    include:nested.example.com  3 lookups"
expect_out "      include:zoho.example.com  1 lookup"
expect_out "include:nested.example.com: 3 DNS lookups (itself and what it includes)"
expect_out "3 of 10 DNS lookups"
run spf verify --zone "$OZONE" --json three.example.com
expect_json '[n["cost"] for n in j["tree"]] == [3, 3, 1]' 'j["lookups"]["total"] == 3'
# near the limit: the fix names the include with a singular count
verify near.example.com
expect_rc 1
expect_out "[lookup-limit-near]"
expect_out "the most expensive is include:zoho.example.com (1 lookup)"
expect_no_out "(1 lookups)"

# ---- item 3: typographic quotes and a no-break space around a record make
# it no SPF record (RFC 7208 4.5: it must begin "v=spf1" and a space); they
# are caught as a broken record with the plain record as the fix
for d in curly nbsp; do
	verify $d.example.com
	expect_rc 2
	expect_out "[broken-record]"
	expect_out 'fix: replace it with "v=spf1 include:zoho.example.com -all"'
done
verify curly.example.com
expect_out "U+201C"
verify nbsp.example.com
expect_out "U+00A0"

# ---- item 7: a broken record explains the absence: one error, not two
verify typo.example.com
expect_rc 2
expect_first_line "typo.example.com: 1 error, "
expect_out "[broken-record]"
expect_out 'fix: replace it with "v=spf1 include:zoho.example.com -all"'
expect_out "typo.example.com has no SPF record"
expect_no_out "[no-record]"
expect_no_out "v=spf1 mx -all"

# ---- item 7 (parse): the seed's typo is invalid and the corrected record
# is proposed, as verify does
run spf parse '=spf1 include:one.zoho.com -all'
expect_rc 1
expect_line 1 '=spf1 include:one.zoho.com -all'
expect_out "invalid: "
expect_out "[broken-record]"
expect_out 'fix: replace it with "v=spf1 include:one.zoho.com -all"'
run spf parse --json '=spf1 include:one.zoho.com -all'
expect_rc 1
expect_json 'j["valid"] is False' \
  '[f["fix"] for f in j["findings"] if f["code"] == "broken-record"] == ["replace it with \"v=spf1 include:one.zoho.com -all\""]'
# typographic quotes around the record (item 3) in parse too
run spf parse "$(printf '\342\200\234v=spf1 -all\342\200\235')"
expect_rc 1
expect_out 'fix: replace it with "v=spf1 -all"'

# ---- item 8: parse shows the offline checks of verify.  The space before
# -all is missing: one include term of domain "zoho.com-all" and no "all"
run spf parse 'v=spf1 include:zoho.com-all'
expect_rc 2
expect_out "valid: 1 term"
expect_out "[glued-terms]"
expect_out 'fix: write "include:zoho.com -all"'
run spf parse --json 'v=spf1 include:zoho.com-all'
expect_rc 2
expect_json 'j["valid"] is True' \
  '"glued-terms" in [f["code"] for f in j["findings"]]' \
  '[f["location"]["offset"] for f in j["findings"] if f["code"] == "glued-terms"] == [7]'
# RFC 7208 5.1: mechanisms after "all" are never tested
run spf parse 'v=spf1 -all ip4:192.0.2.1'
expect_rc 0
expect_out "[terms-after-all]"
expect_out '"ip4:192.0.2.1" and any mechanism after it are never evaluated'
# RFC 7208 6.1: redirect is ignored when the record has "all"
run spf parse 'v=spf1 redirect=a.example -all'
expect_rc 0
expect_out "[redirect-ignored]"
run spf parse --json 'v=spf1 redirect=a.example -all'
expect_json '"redirect-ignored" in [f["code"] for f in j["findings"]]'
# a clean record shows no finding in text (what -all means is in JSON only)
run spf parse 'v=spf1 ip4:192.0.2.0/24 -all'
expect_rc 0
expect_no_out "["
run spf parse --json 'v=spf1 ip4:192.0.2.0/24 -all'
expect_json '[f["code"] for f in j["findings"]] == ["fail-all"]'

# ---- item 13 (parse, verify): host bits below the prefix are ignored
# (RFC 7208 5.6: ip4:192.0.2.5/24 is the network 192.0.2.0/24)
run spf parse 'v=spf1 ip4:192.0.2.5/24 -all'
expect_rc 0
expect_out "[host-bits]"
expect_out "192.0.2.0/24"
run spf parse 'v=spf1 ip6:2001:db8::1/64 -all'
expect_out "[host-bits]"
expect_out "2001:db8::/64"
run spf parse 'v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.7 ip6:2001:db8::/64 -all'
expect_no_out "[host-bits]"

# ---- item 9: build writes each input once and drops what a listed network
# already holds (all build terms pass, so the wider network decides alike)
run spf build --ip4 192.0.2.0/24 --ip4 192.0.2.0/24 --include a.example --include A.example.
expect_rc 0
expect_line 1 "v=spf1 ip4:192.0.2.0/24 include:a.example -all"
expect_err "note: 'ip4:192.0.2.0/24' repeats 'ip4:192.0.2.0/24': written once"
expect_err "note: 'include:A.example.' repeats 'include:a.example': written once"
run spf build --ip4 192.0.2.5 --ip4 192.0.2.0/24 --ip6 2001:db8:1::/48 --ip6 2001:db8::/32
expect_rc 0
expect_line 1 "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"
expect_err "note: 'ip4:192.0.2.5' lies inside 'ip4:192.0.2.0/24': dropped"
expect_err "note: 'ip6:2001:db8:1::/48' lies inside 'ip6:2001:db8::/32': dropped"
# merge: a host of one record inside a network of another
run spf merge 'v=spf1 ip4:192.0.2.5 -all' 'v=spf1 ip4:192.0.2.0/24 -all'
expect_rc 0
expect_line 1 "v=spf1 ip4:192.0.2.0/24 -all"
expect_err "note: 'ip4:192.0.2.5' (record 1) lies inside 'ip4:192.0.2.0/24' (record 2): dropped"
run spf merge --json 'v=spf1 ip4:192.0.2.5 -all' 'v=spf1 ip4:192.0.2.0/24 -all'
expect_json 'j["record"] == "v=spf1 ip4:192.0.2.0/24 -all"' \
  '[n["code"] for n in j["notes"]] == ["covered-dropped"]'

# ---- item 13: merge of -all and ~all gives ~all (the least strict wins):
# say that the policy got weaker and which record had the stricter one
run spf merge 'v=spf1 ip4:192.0.2.1 -all' 'v=spf1 mx ~all'
expect_rc 0
expect_line 1 "v=spf1 ip4:192.0.2.1 mx ~all"
expect_err "warning: the policy got weaker: record 1 ends in '-all'"
expect_err "'~all' from record 2"
run spf merge 'v=spf1 ip4:192.0.2.1 ~all' 'v=spf1 mx ~all'
expect_no_err
# host bits in merge and build (RFC 7208 5.6)
run spf build --ip4 192.0.2.5/24
expect_rc 0
expect_err "note: 'ip4:192.0.2.5/24' has host bits set below the /24 prefix"
expect_err "192.0.2.0/24"
run spf merge 'v=spf1 ip4:192.0.2.5/24 -all'
expect_err "note: 'ip4:192.0.2.5/24' (record 1) has host bits set below the /24 prefix"

# ---- item 4: 40 --ip4 make a record over 450 octets (RFC 7208 3.4): it is
# printed (exit 0) with a warning, the <=255-octet strings and an include split
set --
i=100
while [ $i -lt 140 ]; do set -- "$@" --ip4 "198.51.$i.0/24"; i=$((i + 1)); done
run spf build "$@"
expect_rc 0
n=$(wc -l <"$OUT" | tr -d ' ')
if [ "$n" = 1 ]; then ok; else bad "$n lines on stdout, want the record alone"; fi
expect_err "warning: the record is 811 octets long, more than the 450 that receivers are guaranteed to fetch over UDP (RFC 7208 section 3.4)"
expect_err "include it"
expect_err '"v=spf1 ip4:198.51.100.0/24 '
# every zone-file string is at most 255 octets and they join to the record
run spf build --json "$@"
expect_json 'j["octets"] == 811' '"record-too-long" in [n["code"] for n in j["notes"]]' \
  'all(len(x) <= 255 for x in j["zone_strings"][1:-1].split("\" \""))' \
  '"".join(j["zone_strings"][1:-1].split("\" \"")) == j["record"]'
# merge and parse say the same of the same record
rec=$(sed -n 1p "$OUT" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["record"])')
run spf merge "$rec"
expect_rc 0
expect_err "warning: the record is 811 octets long"
run spf parse "$rec"
expect_rc 0
expect_out "[record-too-long]"
expect_out "more than the 450 that receivers are guaranteed to fetch over UDP"

# ---- issue 8: spf verify --timeout, parsed as spf check parses it
run spf verify --timeout 0 example.com
expect_rc 64
expect_err "--timeout: '0' is not a number from 1 to 3600000"
run spf verify --timeout soon example.com
expect_rc 64
run spf verify --help
expect_out "--timeout MS"
# a resolver on loopback that never answers: with --timeout 300 the
# domain's TXT question gives up after 0.3 s (exit 3, could not check)
# instead of the default 5 s
"$PYTHON" - "$TMP/silent.port" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
end = time.time() + 60
s.settimeout(1)
while time.time() < end:
    try:
        s.recvfrom(4096)        # read and never answer
    except socket.timeout:
        pass
PYEOF
SILENT=$!
i=0
while [ ! -s "$TMP/silent.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
PORT=$(cat "$TMP/silent.port" 2>/dev/null)
start=$("$PYTHON" -c 'import time; print(time.time())')
run spf verify --resolver "127.0.0.1@$PORT" --timeout 300 example.com
took=$("$PYTHON" -c "import time; print(int((time.time() - $start) * 1000))")
kill "$SILENT" 2>/dev/null
wait "$SILENT" 2>/dev/null
expect_rc 3
expect_out "[dns-failure]"
if [ "$took" -lt 3000 ]; then ok; else bad "took $took ms with --timeout 300"; fi

# ---- item 11: control characters.  A NUL inside a TXT string is part of
# the record (receivers see it whole and get permerror); it is shown as
# \x00 with what follows it, never cut; ESC is \x1B everywhere (no '?');
# a caret lies under the escaped text it marks and is as wide as it.
# caret_under PREFIX MARKED: the line after the record line "      PREFIX..."
# has its caret at the column where MARKED starts, as wide as MARKED.
caret_under() {
	want="      $1"
	line=$(grep -n -F -x -- "      $2" "$OUT" | head -n 1 | cut -d: -f1)
	if [ -z "$line" ]; then bad "no record line '$2'"; return; fi
	caret=$(sed -n "$((line + 1))p" "$OUT")
	lead=${caret%%^*}
	marks=${caret#"$lead"}
	marks=${marks%% *}
	if [ "${#lead}" = "${#want}" ] && [ "${#marks}" = "${#3}" ]; then ok
	else bad "caret at ${#lead}+${#marks}, want ${#want}+${#3} under '$3'"; fi
}
verify nul.example.com
expect_rc 2
expect_out 'record: v=spf1 ip4:192.0.2.1\x00junk -all'
expect_out "[syntax-error]"
expect_out "control character in term 'ip4:192.0.2.1\x00junk'"
caret_under 'v=spf1 ip4:192.0.2.1' 'v=spf1 ip4:192.0.2.1\x00junk -all' '\x00'
run spf verify --zone "$OZONE" --json nul.example.com
expect_json 'j["record"] == "v=spf1 ip4:192.0.2.1\x00junk -all"' \
  'j["tree"][0]["record"] == j["record"]' \
  'all(f["location"]["record"] in (None, j["record"]) for f in j["findings"])'
run spf check --zone "$OZONE" --ip 192.0.2.1 nul.example.com
expect_rc 6
expect_out 'record: v=spf1 ip4:192.0.2.1\x00junk -all'
run spf check --zone "$OZONE" --ip 192.0.2.1 --json nul.example.com
expect_json 'j["record"] == "v=spf1 ip4:192.0.2.1\x00junk -all"'
# ESC: the same \x1B in the record, the message and the problem line
verify esc.example.com
expect_rc 2
expect_out 'record: v=spf1 ip4:192.0.2.1 \x1B[31m -all'
expect_out "control character in term '\x1B[31m'"
expect_no_out "?[31m"
caret_under 'v=spf1 ip4:192.0.2.1 ' 'v=spf1 ip4:192.0.2.1 \x1B[31m -all' '\x1B'
run spf check --zone "$OZONE" --ip 192.0.2.1 esc.example.com
expect_out "control character in term '\x1B[31m'"
expect_out 'record: v=spf1 ip4:192.0.2.1 \x1B[31m -all'
expect_no_out "?[31m"
run spf parse "$(printf 'v=spf1 ip4:192.0.2.1 \033[31m -all')"
expect_rc 1
expect_out "control character in term '\x1B[31m'"
expect_no_out "?[31m"
run spf merge "$(printf 'v=spf1 \033[31m -all')"
expect_rc 1
expect_err "'v=spf1 \x1B[31m -all'"
if grep -q '?\[31m' "$ERR"; then bad "'?' for ESC in the merge message"; else ok; fi

# error messages quote arguments escaped the same way (no raw ESC on stderr)
run spf verify "$(printf 'a\033[31mb.example')"
expect_rc 64
expect_err "'a\x1B[31mb.example' is not a domain name"
if grep -q "$(printf '\033')" "$ERR"; then bad "raw ESC on stderr"; else ok; fi

finish
