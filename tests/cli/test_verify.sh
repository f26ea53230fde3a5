# CLI tests: "spf verify" on tests/cli/data/verify.zone (offline).  The
# expected findings follow from RFC 7208 (section noted) or from the shapes
# in issue 4; exit statuses are the documented ones (0 clean, 1 warnings
# only, 2 errors, 3 could not check, 64 usage, 65/66 zone file).
. "$(dirname "$0")/lib.sh"

VZONE="$DATA/verify.zone"
verify() { run spf verify --zone "$VZONE" "$@"; }

# clean apart from info: include of a provider that has a record, -all
verify clean.example.org
expect_rc 0
expect_first_line "clean.example.org: 0 errors, 0 warnings, "
expect_out "record: v=spf1 include:zoho.example.org -all"
expect_out "include:zoho.example.org"
# 4.6.4: one include is one DNS-querying term
expect_out "1 of 10 DNS lookups"
expect_out "[publication-not-checked]"
expect_no_err
# --ip: 198.51.100.7 is in zoho's ip4:198.51.100.0/24 (5.2: include matches on pass)
verify clean.example.org --ip 198.51.100.7 --ip 192.0.2.200
expect_rc 0
expect_out "198.51.100.7: pass via include:zoho.example.org > ip4:198.51.100.0/24"
expect_out "192.0.2.200: fail via -all"

# warnings only: ptr is deprecated (5.5); ~all is info
verify warn.example.org
expect_rc 1
expect_first_line "warn.example.org: 0 errors, 1 warning, "
expect_out "[ptr-deprecated]"
expect_out "[softfail-all]"
expect_out "fix: "

# errors: misspelled include, ip4 with a host name, glued -all; caret under the term
verify bad.example.org
expect_rc 2
expect_first_line "bad.example.org: 3 errors, "
expect_out "[misspelled-mechanism]"
expect_out "[ip4-hostname]"
expect_out "[glued-terms]"
expect_out 'fix: write "include:zoho.example.org -all"'
# "v=spf1 " is 7 octets: the caret of inlcude: sits under column 7 of the record
expect_out "             ^~~~~~~"

# policy and limits together: errors, the tree with per-node lookups
verify problems.example.org
expect_rc 2
expect_out "[include-no-record]"
expect_out "[void-lookup]"
expect_out "[broad-range]"
expect_out "[ptr-deprecated]"
expect_out "[neutral-all]"
# 4.6.4: ptr, two includes and a: are four DNS-querying terms
expect_out "4 of 10 DNS lookups, 1 void lookup"
# the include term itself is a lookup (4.6.4), even when the name has no record
expect_out "    include:missing.example.org  1 lookup  [no SPF record]"

# three records (4.5: permerror) and the merged record proposed
verify multi.example.org
expect_rc 2
expect_out "[multiple-records]"
expect_out "v=spf1 ip4:192.168.20.25 ip6:1080::8:800:68.0.3.1/96 include:zoho.example.org ~all"

# "=spf1 ..." is not a record (4.5: only "v=spf1" followed by a space)
verify broken.example.org
expect_rc 2
expect_out "[broken-record]"
# issue 7: the broken record explains the absence; no second error
expect_no_out "[no-record]"
expect_out "broken.example.org has no SPF record"

# the TXT lookup fails: could not check (exit 3)
verify dead.example.org
expect_rc 3
expect_first_line "dead.example.org: could not be checked"
expect_out "[dns-failure]"
verify slow.example.org --json
expect_rc 3
expect_json 'j["checked"] is False' 'j["findings"][0]["code"] == "dns-failure"' \
	'j["summary"]["errors"] == 1'

# JSON: the same findings as data
verify bad.example.org --json
expect_rc 2
expect_json 'j["domain"] == "bad.example.org"' 'j["checked"] is True' \
	'j["summary"] == {"errors": 3, "warnings": 0, "infos": 2}' \
	'[f["code"] for f in j["findings"] if f["severity"] == "error"] == ["misspelled-mechanism", "ip4-hostname", "glued-terms"]' \
	'j["findings"][0]["location"]["offset"] == 7' \
	'j["findings"][0]["location"]["length"] == 7' \
	'j["findings"][0]["location"]["term"] == "inlcude"' \
	'j["findings"][0]["location"]["domain"] == "bad.example.org"' \
	'j["findings"][0]["location"]["record"] == j["record"]' \
	'all(set(f) == {"code", "severity", "message", "fix", "location"} for f in j["findings"])' \
	'j["lookups"]["limit"] == 10' 'isinstance(j["void_lookups"], int)' \
	'j["nameservers"] == []' 'j["authorization"] == []'
verify clean.example.org --json --ip 198.51.100.7
expect_rc 0
expect_json 'j["summary"]["errors"] == 0 and j["summary"]["warnings"] == 0' \
	'j["lookups"] == {"total": 1, "limit": 10}' \
	'[t["domain"] for t in j["tree"]] == ["clean.example.org", "zoho.example.org"]' \
	'j["tree"][1]["via"] == "include" and j["tree"][1]["depth"] == 1' \
	'j["authorization"][0]["result"] == "pass"' \
	'[c["term"] for c in j["authorization"][0]["chain"]] == ["include:zoho.example.org", "ip4:198.51.100.0/24"]'
verify multi.example.org --json
expect_json 'j["record"] is None' \
	'"v=spf1 ip4:192.168.20.25 ip6:1080::8:800:68.0.3.1/96 include:zoho.example.org ~all" in [f for f in j["findings"] if f["code"] == "multiple-records"][0]["fix"]'

# --expect: not served (the recursive answer is all there is offline)
verify clean.example.org --expect 'v=spf1 include:other.example.org -all'
expect_rc 2
expect_out "[expect-not-published]"
expect_out "not the domain's DNS host"

# usage errors (64)
run spf verify
expect_rc 64
expect_err_one_line
verify clean.example.org --ip 999.1.1.1
expect_rc 64
expect_err_one_line
expect_err "--ip: '999.1.1.1' is not an IPv4 or IPv6 address"
# the address is refused before the zone file is read (64, not 66)
run spf verify --zone "$TMP/missing.zone" clean.example.org --ip 2001:db8::1::2
expect_rc 64
expect_err_one_line
verify clean.example.org --bogus
expect_rc 64
verify clean.example.org extra
expect_rc 64
verify 'bad domain!'
expect_rc 64
expect_err_one_line
run spf verify --zone "$VZONE" --resolver 127.0.0.1 clean.example.org
expect_rc 64
run spf verify --ns-port 0 clean.example.org
expect_rc 64
# zone file problems (65, 66)
printf 'example.org. IN TXT "unterminated\n' > "$TMP/broken.zone"
run spf verify --zone "$TMP/broken.zone" example.org
expect_rc 65
run spf verify --zone "$TMP/missing.zone" example.org
expect_rc 66
# --help lists the exit statuses
run spf verify --help
expect_rc 0
expect_out "Usage: mailtrust spf verify DOMAIN"
expect_out "3 could not check"
run spf --help
expect_out "verify"

finish
