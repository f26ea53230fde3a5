# CLI tests: "spf check --json" is one valid JSON object with the fields
# of the documented schema (mailtrust-spf(1)); values derived from RFC 7208.
. "$(dirname "$0")/lib.sh"

check() { run spf check --zone "$ZONE" --json "$@"; }

check --ip 192.0.2.10 --sender alice@example.com --helo mail.example.com --receiver mx.example.org
expect_rc 0
expect_no_err
expect_json 'set(["result", "domain", "ip", "sender", "helo", "identity", "explanation", "mechanism", "mechanism_domain", "problem", "lookups", "void_lookups", "received_spf", "authentication_results", "trace"]) <= set(j)'
expect_json 'j["result"] == "pass" and j["exit_code"] == 0'
expect_json 'j["domain"] == "example.com" and j["ip"] == "192.0.2.10"'
expect_json 'j["sender"] == "alice@example.com" and j["helo"] == "mail.example.com"'
expect_json 'j["identity"] == "mailfrom" and j["record"] == "v=spf1 mx -all"'
expect_json 'j["mechanism"] == "mx" and j["mechanism_domain"] == "example.com"'
expect_json 'j["explanation"] is None and j["problem"] is None'
expect_json 'j["lookups"] == 1 and j["void_lookups"] == 0'
expect_json 'j["limits"]["lookups"] == 10 and j["limits"]["void_lookups"] == 2'
expect_json 'j["received_spf"].startswith("Received-SPF: pass")'
expect_json 'j["authentication_results"].startswith("Authentication-Results: mx.example.org")'
expect_json '"spf=pass" in j["authentication_results"]'
# trace: TXT for example.com first (4.4), then MX (5.4), then A of the MX host
expect_json 'j["trace"][0]["name"] == "example.com" and j["trace"][0]["type"] == "TXT" and j["trace"][0]["rcode"] == "NOERROR"'
expect_json '"v=spf1 mx -all" in j["trace"][0]["answers"][0]'
expect_json 'any(t["name"] == "example.com" and t["type"] == "MX" for t in j["trace"])'
expect_json 'any(t["name"] == "mail.example.com" and t["type"] == "A" and "192.0.2.10" in t["answers"] for t in j["trace"])'
expect_json 'all(set(t) >= {"name", "type", "rcode", "dnssec", "void", "answers"} for t in j["trace"])'
expect_json 'all(t["void"] is False for t in j["trace"])'

# IPv4-mapped IPv6 is evaluated as IPv4 (spf.h: outcome ip)
check --ip ::ffff:192.0.2.10 --sender alice@example.com
expect_json 'j["result"] == "pass" and j["ip"] == "192.0.2.10"'

# fail with exp= (6.2)
check --ip 192.0.2.200 --sender bob@fail.example.com
expect_rc 1
expect_json 'j["result"] == "fail" and j["exit_code"] == 1 and j["mechanism"] == "-all"'
expect_json 'j["explanation"] == "192.0.2.200 is not allowed to send for fail.example.com"'

# null reverse-path: the sender is postmaster@HELO (RFC 7208 2.4)
check --ip 192.0.2.10 --sender '' --helo mail.example.com
expect_rc 0
expect_json 'j["sender"] == "postmaster@mail.example.com" and j["domain"] == "mail.example.com"'
# HELO identity
check --ip 192.0.2.10 --helo mail.example.com --identity helo
expect_json 'j["identity"] == "helo" and j["domain"] == "mail.example.com" and j["result"] == "pass"'

# permerror carries the problem with its term and offset
check --ip 192.0.2.2 --sender x@badsyntax.example.com
expect_rc 6
expect_json 'j["result"] == "permerror" and j["exit_code"] == 6'
expect_json 'isinstance(j["problem"], dict) and j["problem"]["message"]'
expect_json 'set(j["problem"]) >= {"message", "domain", "term", "offset"}'
expect_json 'j["problem"]["domain"] == "badsyntax.example.com"'
# the problem points into the term "ip4:192.0.2.300" (octets 7..21 of the record)
expect_json 'j["problem"]["term"] in "ip4:192.0.2.300" and len(j["problem"]["term"]) > 0' \
            '7 <= j["problem"]["offset"] <= 21'
# too many lookups: the problem names the domain
check --ip 192.0.2.50 --sender x@lookups.example.com
expect_json 'j["result"] == "permerror" and j["problem"]["domain"] == "lookups.example.com"'
expect_json 'j["lookups"] <= 11'

# void lookups are flagged in the trace (4.6.4)
check --ip 192.0.2.50 --sender x@void.example.com --max-void 3
expect_rc 1
expect_json 'j["void_lookups"] == 3 and j["limits"]["void_lookups"] == 3'
expect_json '[t["name"] for t in j["trace"] if t["void"]] == ["v1.example.com", "v2.example.com", "v3.example.com"]'
expect_json 'all(t["rcode"] == "NXDOMAIN" for t in j["trace"] if t["void"])'

# temperror: SERVFAIL in the trace
check --ip 192.0.2.2 --sender x@tempfail.example.com
expect_rc 5
expect_json 'j["result"] == "temperror" and j["problem"] is not None'
expect_json 'j["trace"][0]["rcode"] == "SERVFAIL"'
# none
check --ip 192.0.2.2 --sender x@nospf.example.com
expect_rc 4
expect_json 'j["result"] == "none" and j["mechanism"] is None and j["record"] is None'

# Escaping: a sender local-part with characters JSON must escape, and an
# explanation that repeats it (%{l}) survive the round trip.
check --ip 192.0.2.99 --sender 'a"b\c@example.com' --default-explanation '%{l} denied'
expect_rc 1
expect_json 'j["sender"] == "a\"b\\c@example.com"'
expect_json 'j["explanation"] == "a\"b\\c denied"'

# --json on a terminal: still no colour (needs script(1) for a pty).
if command -v script >/dev/null 2>&1 &&
   script -qec "true" /dev/null >/dev/null 2>&1; then
	unset NO_COLOR
	script -qec "'$MT' spf check --zone '$ZONE' --json --ip 192.0.2.10 --sender alice@example.com" \
	       /dev/null >"$OUT" 2>"$ERR"
	LAST="json on a pty"
	if grep -q "$(printf '\033')" "$OUT"; then bad "colour in --json"; else ok; fi
	# text on a terminal is coloured unless NO_COLOR is set
	script -qec "'$MT' spf check --zone '$ZONE' --ip 192.0.2.10 --sender alice@example.com" \
	       /dev/null >"$OUT" 2>"$ERR"
	LAST="text on a pty"
	if grep -q "$(printf '\033\\[')" "$OUT"; then ok; else bad "no colour on a terminal"; fi
	NO_COLOR=1 script -qec "'$MT' spf check --zone '$ZONE' --ip 192.0.2.10 --sender alice@example.com" \
	       /dev/null >"$OUT" 2>"$ERR"
	LAST="text on a pty with NO_COLOR"
	if grep -q "$(printf '\033')" "$OUT"; then bad "colour despite NO_COLOR"; else ok; fi
	export NO_COLOR=1
fi


# the chain of deciding terms, through an include (RFC 7208 5.2), and the
# overall DNSSEC state (an offline zone validates nothing: unchecked)
check --ip 198.51.100.20 --sender x@inc.example.com
expect_rc 0
expect_json 'j["dnssec"] == "unchecked"'
expect_json '[(c["domain"], c["term"]) for c in j["chain"]] == [("inc.example.com", "include:_spf.example.net"), ("_spf.example.net", "ip4:198.51.100.0/24")]'
# no mechanism matched through the include: the chain is the top-level -all alone
check --ip 203.0.113.99 --sender x@inc.example.com
expect_rc 1
expect_json '[c["term"] for c in j["chain"]] == ["-all"]'

finish
