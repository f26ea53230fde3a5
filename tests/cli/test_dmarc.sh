# CLI tests: "dmarc parse", "dmarc build", "dmarc check" and the audit
# "check" against zones written here.  Expected results come from
# draft-ietf-dmarc-dmarcbis-41 (the text of RFC 9989): 4.7 (v=DMARC1
# first, case-sensitive), 4.7/4.8 (tags, defaults, unknown tags ignored,
# pct/rf/ri gone), 4.10 (the tree walk: a name without a record takes the
# Organizational Domain's), 4.10.1 (several records: no policy; a bad p=
# with a valid rua acts as p=none, without one the record is not
# applied), Appendix B.2.3/B.2.4 (a report destination in another domain
# publishes DOMAIN._report._dmarc.DEST "v=DMARC1;"); exit statuses from
# --help.
. "$(dirname "$0")/lib.sh"

# expect_out_line EXACT: some line of stdout is exactly EXACT.
expect_out_line() {
	if grep -qxF -- "$1" "$OUT"; then ok; else bad "no stdout line is exactly '$1'"; fi
}

# zone FILE LINES: a zone for example.com
zone() {
	f="$TMP/$1"
	shift
	{ echo '$ORIGIN example.com.'; echo '$TTL 300'; printf '%s\n' "$@"; } >"$f"
}

# ---- parse ---------------------------------------------------------------
# B.2.1's record: monitoring with aggregate reports; every other tag at its
# default (4.7: sp defaults to p, np to sp, adkim/aspf r, t n, psd u, fo 0)
run dmarc parse 'v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com'
expect_rc 0
expect_no_err
expect_out "receivers apply this record"
expect_out "  p      none"
expect_out "  sp     none  (default: p)"
expect_out "  np     none  (default: sp, then p)"
expect_out "  adkim  r  (default)"
expect_out "  aspf   r  (default)"
expect_out "  t      n  (default)"
expect_out "  psd    u  (default)"
expect_out "  rua    mailto:dmarc-feedback@example.com"
run dmarc parse --json 'v=DMARC1; p=reject; sp=quarantine; adkim=s'
expect_rc 0
expect_json 'j["dmarc"] and j["applies"]' 'j["tags"]["p"]["value"] == "reject"' \
	'j["tags"]["sp"]["value"] == "quarantine"' 'j["tags"]["np"]["value"] == "quarantine"' \
	'j["tags"]["np"]["given"] is False' 'j["tags"]["adkim"]["value"] == "s"' \
	'j["rua"] == [] and j["findings"] == []'
# 4.7: the value DMARC1 is case-sensitive and v= must come first
run dmarc parse 'v=dmarc1; p=none'
expect_rc 1
expect_out "not a DMARC record"
run dmarc parse 'p=none; v=DMARC1'
expect_rc 1
run dmarc parse --json 'v=dmarc1; p=none'
expect_rc 1
expect_json 'j["dmarc"] is False' 'j["error"]'
# a bad value: the error with a caret under it (fo=x starts at offset 27)
run dmarc parse 'v=DMARC1; p=quarantine; fo=x'
expect_rc 2
expect_out "errors:"
expect_out_line "      v=DMARC1; p=quarantine; fo=x"
expect_out_line "$(printf '      %27s^' '')"
# pct is obsolete (RFC 7489): a note, the record still applies
run dmarc parse 'v=DMARC1; p=reject; pct=20'
expect_rc 0
expect_out "obsolete"
# 4.10.1: no valid p=, no valid rua: not applied; with a valid rua: p=none
run dmarc parse 'v=DMARC1; p=bogus'
expect_rc 1
expect_out "receivers do not apply this record"
run dmarc parse 'v=DMARC1; p=bogus; rua=mailto:r@example.com'
expect_rc 2
expect_out "receivers apply it as p=none"
# an unknown tag is ignored (a note), not an error
run dmarc parse 'v=DMARC1; p=none; foo=bar'
expect_rc 0
expect_out 'unknown tag "foo"'
run dmarc parse
expect_rc 64
expect_err_one_line
run dmarc parse a b
expect_rc 64
run dmarc parse --bogus x
expect_rc 64
run dmarc parse --help
expect_rc 0
expect_out "Usage: mailtrust dmarc parse"

# ---- build ---------------------------------------------------------------
run dmarc build --policy reject --rua dmarc@example.com --np reject
expect_rc 0
expect_line 1 "v=DMARC1; p=reject; np=reject; rua=mailto:dmarc@example.com"
expect_line 2 '_dmarc.example.com. IN TXT "v=DMARC1; p=reject; np=reject; rua=mailto:dmarc@example.com"'
# what build prints parses back as applied, with the same values
rec=$(sed -n 1p "$OUT")
run dmarc parse "$rec"
expect_rc 0
expect_out "  np     reject"
run dmarc build --policy quarantine --sp none --adkim s --aspf s --testing --psd n \
	--fo 1:d --rua mailto:a@example.com --ruf mailto:f@example.com --domain Mail.Example.ORG.
expect_rc 0
expect_line 1 "v=DMARC1; p=quarantine; sp=none; adkim=s; aspf=s; t=y; psd=n; fo=1:d; rua=mailto:a@example.com; ruf=mailto:f@example.com"
expect_out "_dmarc.mail.example.org. IN TXT \""
rec=$(sed -n 1p "$OUT")
run dmarc parse "$rec"
expect_rc 0
# a record over 255 octets: the zone line holds several strings of at most
# 255 octets whose concatenation is the record
set -- --policy reject
for i in 1 2 3 4 5 6 7 8; do set -- "$@" --rua "mailto:dmarc-aggregate-reports-$i@reports.example.com"; done
run dmarc build --json "$@"
expect_rc 0
expect_json 'len(j["record"]) > 255' 'j["name"] == "_dmarc.example.com"' \
	'all(len(s) <= 255 for s in j["strings"][1:-1].split("\" \""))' \
	'"".join(j["strings"][1:-1].split("\" \"")) == j["record"]' \
	'j["zone_line"] == "_dmarc.example.com. IN TXT " + j["strings"]'
# refused: no policy, a bad policy, a URI with ',' or ';', a bad fo
run dmarc build
expect_rc 64
expect_err "--policy is required"
run dmarc build --policy block
expect_rc 64
expect_err_one_line
run dmarc build --policy none --rua 'mailto:a@example.com,b@example.com'
expect_rc 64
run dmarc build --policy none --rua 'mailto:a@example.com;p=reject'
expect_rc 64
run dmarc build --policy none --fo x
expect_rc 64
run dmarc build --policy none --rua 'no-scheme-no-at'
expect_rc 64
run dmarc build --policy none --adkim x
expect_rc 64
run dmarc build --policy none --domain 'a..b'
expect_rc 64

# ---- check ---------------------------------------------------------------
zone clean.zone '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"' 'www A 192.0.2.1'
run dmarc check example.com --zone "$TMP/clean.zone"
expect_rc 0
expect_first_line "_dmarc.example.com: 0 errors, 0 warnings"
expect_out "policy record: at the domain (_dmarc.example.com)"
expect_out "[policy]"
expect_out "[ttl] the record's TTL is 300 seconds"
# 4.10: a subdomain without a record of its own takes the Organizational
# Domain's, said which
run dmarc check www.example.com --zone "$TMP/clean.zone"
expect_rc 0
expect_out "policy record: inherited from example.com"
expect_out "[inherited]"
run dmarc check a.b.c.d.www.example.com --zone "$TMP/clean.zone" --json
expect_rc 0
expect_json 'j["source"] == "inherited"' 'j["policy_domain"] == "example.com"' \
	'j["policy"] == "reject"' 'j["records_at_name"] == 0' 'j["checked"]'
# 4.7: sp= for a subdomain that exists, np= for a name that does not
zone spnp.zone '_dmarc TXT "v=DMARC1; p=reject; sp=quarantine; np=none; rua=mailto:d@example.com"' \
	'www A 192.0.2.1'
run dmarc check www.example.com --zone "$TMP/spnp.zone" --json
expect_rc 0
expect_json 'j["policy_tag"] == "sp"' 'j["policy"] == "quarantine"'
run dmarc check nosuch.example.com --zone "$TMP/spnp.zone"
expect_rc 1
expect_out "policy record: inherited from example.com (through np=)"
expect_out "[np-none]"
expect_out "add np=reject to the record at _dmarc.example.com"
# p=none without rua: monitoring that nobody reads (warnings, exit 1)
zone none.zone '_dmarc TXT "v=DMARC1; p=none"'
run dmarc check example.com --zone "$TMP/none.zone"
expect_rc 1
expect_out "[monitoring-only]"
expect_out "move to p=quarantine, then p=reject"
expect_out "aligned"
expect_out "[no-rua]"
# no record at all, and one at dmarc. (without the underscore)
zone absent.zone 'dmarc TXT "v=DMARC1; p=reject"'
run dmarc check example.com --zone "$TMP/absent.zone"
expect_rc 2
expect_out "policy record: none"
expect_out "[no-record]"
expect_out "[wrong-name]"
expect_out 'v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com'
# 4.10.1 / 11.? several records: no policy
zone two.zone '_dmarc TXT "v=DMARC1; p=reject"' '_dmarc TXT "v=DMARC1; p=none"'
run dmarc check example.com --zone "$TMP/two.zone" --json
expect_rc 2
expect_json 'j["records_at_name"] == 2' 'j["source"] == "none"' \
	'any(f["code"] == "multiple-records" and f["severity"] == "error" for f in j["findings"])'
# a look-alike record (lower-case dmarc1) is no DMARC record
zone lower.zone '_dmarc TXT "v=dmarc1; p=reject"'
run dmarc check example.com --zone "$TMP/lower.zone"
expect_rc 2
expect_out "[not-dmarc-record]"
# a bad tag: the error and a caret under its value (adkim=x at offset 26)
zone syntax.zone '_dmarc TXT "v=DMARC1; p=reject; adkim=x; rua=mailto:d@example.com"'
run dmarc check example.com --zone "$TMP/syntax.zone"
expect_rc 2
expect_out "[syntax-error]"
expect_out_line "$(printf '      %26s^' '')"
run dmarc check example.com --zone "$TMP/syntax.zone" --json
expect_json '[f for f in j["findings"] if f["code"] == "syntax-error"][0]["offset"] == 26'
# obsolete pct, t=y, sp weaker than p
zone obsolete.zone '_dmarc TXT "v=DMARC1; p=reject; sp=none; t=y; pct=50; rua=mailto:d@example.com"'
run dmarc check example.com --zone "$TMP/obsolete.zone"
expect_rc 1
expect_out "[obsolete-tag]"
expect_out "[testing]"
expect_out "[sp-weaker]"
# reports to another domain: its authorization record (B.2.3)
zone ext.zone '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:agg@thirdparty.example.net"'
run dmarc check example.com --zone "$TMP/ext.zone"
expect_rc 1
expect_out "[report-not-authorized]"
expect_out "example.com._report._dmarc.thirdparty.example.net"
cp "$TMP/ext.zone" "$TMP/ext-ok.zone"
printf '%s\n' '$ORIGIN thirdparty.example.net.' 'example.com._report._dmarc TXT "v=DMARC1;"' >>"$TMP/ext-ok.zone"
run dmarc check example.com --zone "$TMP/ext-ok.zone" --json
expect_rc 0
expect_json 'j["report_destinations"][0]["authorization"] == "authorized"' \
	'j["report_destinations"][0]["authorization_name"] == "example.com._report._dmarc.thirdparty.example.net"'
# a destination in the domain itself needs no authorization
run dmarc check example.com --zone "$TMP/clean.zone" --json
expect_json 'j["report_destinations"] == []'
# --expect: the published record is another one
run dmarc check example.com --zone "$TMP/clean.zone" --expect 'v=DMARC1; p=quarantine'
expect_rc 2
expect_out "[expect-differs]"
run dmarc check example.com --zone "$TMP/clean.zone" --expect 'v=DMARC1;  p=reject; rua=mailto:dmarc@example.com;'
expect_rc 0
# a DNS failure: could not check (3)
zone timeout.zone '$FAULT _dmarc TIMEOUT'
run dmarc check example.com --zone "$TMP/timeout.zone" --timeout 200
expect_rc 3
expect_out "could not be checked"
# usage
run dmarc check
expect_rc 64
expect_err_one_line
run dmarc check 'a..b' --zone "$TMP/clean.zone"
expect_rc 64
expect_err_one_line
run dmarc check example.com --zone "$TMP/clean.zone" --resolver 127.0.0.1
expect_rc 64
run dmarc check example.com --zone "$TMP/no-such.zone"
expect_rc 66
run dmarc check --help
expect_rc 0
expect_out "Exit status"
run dmarc
expect_rc 64
run dmarc --help
expect_rc 0
expect_out "check"
run dmarc frobnicate
expect_rc 64

# ---- the audit: mailtrust check ------------------------------------------
# the seeds' problem domain: three SPF records, a DMARC record at the wrong
# name, a DKIM key split over two strings under a common selector
"$MT" dkim keygen --domain example.com --selector s1 --out "$TMP/s1.pem" --json >"$TMP/key.json" || exit 99
keyrec=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["record"])' "$TMP/key.json")
keystrings=$("$PYTHON" -c 'import json,sys; print(" ".join(chr(34)+s+chr(34) for s in json.load(open(sys.argv[1]))["strings"]))' "$TMP/key.json")
zone bad.zone '@ MX 10 mx1' 'mx1 A 192.0.2.10' \
	'@ TXT "v=spf1 ip4:192.0.2.0/24 -all"' '@ TXT "v=spf1 include:_spf.example.net ~all"' \
	'@ TXT "v=spf1 mx -all"' 'dmarc TXT "v=DMARC1; p=none"' "s1._domainkey TXT $keystrings" \
	'$ORIGIN example.net.' '_spf TXT "v=spf1 ip4:198.51.100.0/24 -all"'
run check example.com --zone "$TMP/bad.zone"
expect_rc 2
expect_first_line "example.com: 3 errors"
expect_out "DKIM selectors found: s1"
expect_out "spf/multiple-records"
expect_out "dmarc/no-record"
expect_out "dmarc/wrong-name"
expect_out "dkim/split-record"
# worst first: no error after a warning or an info, no warning after an info
LAST="check: findings worst first"
if sed -n '/^findings, worst first:/,/^$/p' "$OUT" | awk '
	/^  error/ { if (seen > 2) bad = 1; seen = 2 ; next }
	/^  warning/ { if (seen == 1) bad = 1; if (!seen || seen == 2) seen = 3; next }
	/^  info/ { seen = 1 }
	END { exit bad }'; then ok; else bad "out of order"; fi
# the records to publish: one SPF record, merged (spf_verify.h's order: ip4,
# mx, include; the least strict all); the suggested DMARC record; the key
expect_out 'example.com. IN TXT "v=spf1 ip4:192.0.2.0/24 mx include:_spf.example.net ~all"'
expect_out '_dmarc.example.com. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"'
expect_out "  name: _dmarc  (_dmarc.example.com)"
expect_out "  name: s1._domainkey  (s1._domainkey.example.com)"
expect_out "  value: $keyrec"
run check example.com --zone "$TMP/bad.zone" --json
expect_rc 2
expect_json 'j["summary"]["errors"] == 3' 'j["dkim_selectors_found"] == ["s1"]' \
	'"google" in j["dkim_selectors_tried"] and "selector1" in j["dkim_selectors_tried"]' \
	'[f["severity"] for f in j["findings"]] == sorted([f["severity"] for f in j["findings"]], key=["error","warning","info"].index)' \
	'all(f["fix"] for f in j["findings"] if f["severity"] == "error")' \
	'[(r["host"], r["type"]) for r in j["publish"]] == [("@","TXT"),("_dmarc","TXT"),("s1._domainkey","TXT")]' \
	"[r for r in j['publish'] if r['host'] == 's1._domainkey'][0]['value'] == '$keyrec'" \
	'j["mx"] == [{"preference": 10, "exchange": "mx1.example.com"}]'
# a clean domain: one SPF record, p=reject with reports at home, a key
zone good.zone '@ MX 10 mx1' 'mx1 A 192.0.2.10' '@ TXT "v=spf1 mx -all"' \
	'_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"' "s1._domainkey TXT $keystrings"
run check example.com --zone "$TMP/good.zone" --dkim-selector s1
expect_rc 0
expect_first_line "example.com: 0 errors, 0 warnings"
expect_out "DKIM selectors checked: s1"
expect_out 'example.com. IN TXT "v=spf1 mx -all"'
expect_out '_dmarc.example.com. IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"'
# a selector given that has no key: an error; none found among the common
# names: a warning
run check example.com --zone "$TMP/good.zone" --dkim-selector nosuch
expect_rc 2
expect_out "dkim/no-key"
zone nokey.zone '@ MX 10 mx1' 'mx1 A 192.0.2.10' '@ TXT "v=spf1 mx -all"' \
	'_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"'
run check example.com --zone "$TMP/nokey.zone"
expect_rc 1
expect_out "dkim/dkim-not-found"
expect_out "DKIM selectors found: none"
# no MX: a warning
zone nomx.zone '@ TXT "v=spf1 -all"' '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"' \
	"s1._domainkey TXT $keystrings"
run check example.com --zone "$TMP/nomx.zone" --dkim-selector s1 --json
expect_rc 1
expect_json 'j["mx"] == []' 'any(f["code"] == "no-mx" for f in j["findings"])'
# the SPF lookup times out: exit 3
zone spftimeout.zone '$FAULT @ TIMEOUT' '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"'
run check example.com --zone "$TMP/spftimeout.zone" --dkim-selector s1 --timeout 200
expect_rc 3
run check
expect_rc 64
expect_err_one_line
run check example.com --bogus
expect_rc 64
run check --help
expect_rc 0
expect_out "Usage: mailtrust check DOMAIN"

finish
