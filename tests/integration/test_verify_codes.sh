#!/bin/bash
# Every finding code of "mailtrust spf verify" produced by a real name
# server: two NSD instances on loopback (A on 127.0.0.2, B on 127.0.0.3,
# same port) started through run_nsd.sh and stopped by their PIDs.  The
# recursive side is libunbound forwarding to A, which serves the parent
# zone "example.", the zone "codes.example" with one name per finding code
# (<code>.codes.example) and a few delegated child zones for the
# publication cases; B serves its own copies (differing where a case needs
# servers that disagree).  Each domain is built the way RFC 7208 and issue 4
# describe the problem; the expectations (code, severity, location, exit
# status 0 clean / 1 warnings / 2 errors / 3 could not check) come from
# there, not from the program's output.
#
#   test_verify_codes.sh MAILTRUST [VERIFY_C]
#
# VERIFY_C (default: src/lib/spf/verify.c of this tree) is read for the full
# list of codes: a code without a case here and not in EXCLUDED fails.
#
# Codes that no real server can produce (EXCLUDED in the checker below):
#   publication-not-checked  only reported when verify has no way to ask the
#                            authoritative servers (offline --zone runs); with
#                            --resolver they are always asked.
# (A TXT character-string over 255 octets cannot exist on the wire, so the
# only size code about strings, expect-needs-split, is produced from a long
# --expect argument; the 65535-octet branch of syntax-error likewise cannot
# come from DNS, but the code itself is covered by an invalid term.)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
A=127.0.0.2 B=127.0.0.3 DEAD=127.0.0.4   # DEAD: an NS address nothing listens on

loopback() { case "$1" in 127.*) return 0 ;; *) return 1 ;; esac; }
for ip in "$A" "$B" "$DEAD"; do
	loopback "$ip" || { echo "refusing to run: $ip is not a loopback address" >&2; exit 1; }
done

if [ "${1:-}" = "--run" ]; then
	MT=$2 PORT=$3 SRC=$4
	# Nothing may answer on the dead server's address (it would not be dead).
	if dig +short +time=1 +tries=1 -p "$PORT" "@$DEAD" codes.example SOA 2>/dev/null | grep -q '^[^;]'; then
		echo "something answers on $DEAD port $PORT: the ns-unreachable case proves nothing" >&2
		exit 1
	fi
	exec python3 - "$MT" "$A" "$PORT" "$SRC" <<'PYEOF'
import json, re, subprocess, sys, time

MT, RESOLVER, PORT, SRC = sys.argv[1:5]
assert RESOLVER.startswith("127."), "refusing: the resolver is not on loopback"

# Codes that cannot come from a real server (see the comment at the top).
EXCLUDED = {
    "publication-not-checked": "only without server checks (offline --zone)",
}

def source_codes(path):
    """Every code passed to add(v, CODE, ...) in verify.c."""
    text = open(path, encoding="utf-8").read()
    codes, calls = set(), 0
    for m in re.finditer(r"\badd\(v,", text):
        calls += 1
        i, depth, arg = m.end(), 0, []
        while i < len(text):           # the first argument: up to a top-level ','
            c = text[i]
            if c == '"':
                j = text.index('"', i + 1)
                arg.append(text[i:j + 1])
                i = j + 1
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif c == "," and depth == 0:
                break
            arg.append(c)
            i += 1
        arg = re.sub(r"strcmp\([^)]*\)", "", "".join(arg))
        found = re.findall(r'"([^"]*)"', arg)
        assert found, "add() call without a literal code: %r" % arg
        for c in found:
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c), "odd code %r" % c
            codes.add(c)
    assert calls >= 40, "only %d add(v, ...) calls found in %s" % (calls, path)
    return codes

# (domain, extra arguments, code, severity, exit status, checks)
# checks: count (exact number of findings of the code), offset, term, ldomain
# (location domain), msg / fix (substrings), lookups (total DNS lookups).
D = ".codes.example"
EXPECTED_REC = "v=spf1 include:_spf.provider.codes.example -all"
LONG_EXPECT = "v=spf1" + "".join(" ip4:192.0.2.%d" % n for n in range(1, 21)) + " -all"
CASES = [
    # 1. presence
    ("no-record" + D, [], "no-record", "error", 2, {}),
    ("domain-not-found" + D, [], "domain-not-found", "error", 2, {}),
    ("dns-failure" + D, [], "dns-failure", "error", 3, {"msg": ["SERVFAIL"]}),
    ("multiple-records" + D, [], "multiple-records", "error", 2, {
        "count": 1,
        "msg": ["v=spf1 ip4:192.0.2.25 ~all", "v=spf1 ip6:2001:db8::8:800:68.0.3.1/96 ~all",
                "v=spf1 include:_spf.provider.codes.example ~all", "4.5"],
        # issue 4: the three records must become this single one
        "fix": ["v=spf1 ip4:192.0.2.25 ip6:2001:db8::8:800:68.0.3.1/96 "
                "include:_spf.provider.codes.example ~all"]}),
    # issue 7: the broken record explains the absence, no second error
    ("broken-record" + D, [], "broken-record", "error", 2, {
        "offset": 0, "fix": ["v=spf1 include:_spf.provider.codes.example -all"],
        "absent": ["no-record"]}),
    ("sender-id" + D, [], "sender-id", "info", 0, {"absent": ["no-record", "broken-record"]}),
    ("spf-rr-type" + D, [], "spf-rr-type", "warning", 1, {}),
    ("split-record" + D, [], "split-record", "info", 0, {
        "msg": ["v=spf1 ip4:192.0.2.0/24 include:_spf.provider.codes.example -all"],
        "absent": ["split-glued", "syntax-error"]}),
    ("split-glued" + D, [], "split-glued", "warning", 2, {
        "offset": 7, "term": "ip4:192.0.2.1ip4:192.0.2.2"}),
    ("trailing-space" + D, [], "trailing-space", "info", 0, {"offset": 28, "absent": ["syntax-error"]}),
    # 2. syntax
    ("glued-terms" + D, [], "glued-terms", "error", 2, {
        "offset": 7, "term": "include:_spf.provider.codes.example-all"}),
    ("ip4-hostname" + D, [], "ip4-hostname", "error", 2, {
        "offset": 7, "term": "ip4:mail.codes.example", "fix": ["a:mail.codes.example"]}),
    ("ip6-hostname" + D, [], "ip6-hostname", "error", 2, {
        "offset": 7, "term": "ip6:mail.codes.example"}),
    ("ip4-prefix" + D, [], "ip4-prefix", "error", 2, {"offset": 20, "term": "/33"}),
    ("ip6-prefix" + D, [], "ip6-prefix", "error", 2, {"offset": 21, "term": "/129"}),
    ("typographic-quotes" + D, [], "typographic-quotes", "error", 2, {
        "offset": 28, "term": "\u201d"}),
    # a no-break space between two terms (issue 7): U+00A0 is two octets
    ("unicode-space" + D, [], "unicode-space", "error", 2, {
        "offset": 23, "term": "\u00a0", "msg": ["U+00A0"]}),
    ("stray-punctuation" + D, [], "stray-punctuation", "error", 2, {
        "offset": 20, "term": ","}),
    ("misspelled-mechanism" + D, [], "misspelled-mechanism", "error", 2, {
        "offset": 7, "term": "inlcude", "fix": ["include:_spf.provider.codes.example"]}),
    ("duplicate-modifier" + D, [], "duplicate-modifier", "error", 2, {
        "offset": 44, "term": "redirect=nospf.codes.example"}),
    ("syntax-error" + D, [], "syntax-error", "error", 2, {"within": "ip4:192.0.2.300"}),
    ("terms-after-all" + D, [], "terms-after-all", "warning", 1, {
        "offset": 12, "term": "ip4:192.0.2.0/24"}),
    ("redirect-ignored" + D, [], "redirect-ignored", "warning", 1, {
        "offset": 7, "term": "redirect=_spf.provider.codes.example", "lookups": 0}),
    # 3. limits
    ("lookup-limit" + D, [], "lookup-limit", "error", 2, {"lookups": 12}),
    ("lookup-limit-near" + D, [], "lookup-limit-near", "warning", 1, {"lookups": 9}),
    ("most-expensive-include" + D, [], "most-expensive-include", "info", 0, {
        "msg": ["include:p3a.codes.example", "4 DNS lookups"], "lookups": 5}),
    ("void-lookup" + D, [], "void-lookup", "warning", 1, {
        "count": 1, "offset": 7, "term": "a:nx1.codes.example"}),
    ("void-limit" + D, [], "void-limit", "error", 2, {}),
    ("mx-limit" + D, [], "mx-limit", "error", 2, {"offset": 7, "term": "mx", "msg": ["11 MX"]}),
    ("include-loop" + D, [], "include-loop", "error", 2, {
        "ldomain": "loop2.codes.example", "term": "include:include-loop.codes.example"}),
    # 21 nested includes: the top record and tt1..tt20 each cost one lookup
    ("tree-truncated" + D, [], "tree-truncated", "warning", 2, {"lookups": 21}),
    ("include-no-record" + D, [], "include-no-record", "error", 2, {
        "offset": 7, "term": "include:nospf.codes.example"}),
    ("redirect-no-record" + D, [], "redirect-no-record", "error", 2, {
        "offset": 7, "term": "redirect=nospf.codes.example"}),
    ("include-multiple-records" + D, [], "include-multiple-records", "error", 2, {
        "offset": 7}),
    ("include-syntax-error" + D, [], "include-syntax-error", "error", 2, {
        "ldomain": "badsyntax.codes.example", "offset": 20, "term": "/33"}),
    ("include-dns-failure" + D, [], "include-dns-failure", "warning", 1, {
        "offset": 7, "term": "include:dns-failure.codes.example"}),
    # 4. policy
    ("pass-all" + D, ["--ip", "203.0.113.5"], "pass-all", "error", 2, {
        "offset": 7, "term": "+all", "authz": ("203.0.113.5", "pass")}),
    ("neutral-all" + D, [], "neutral-all", "warning", 1, {"offset": 24, "term": "?all"}),
    ("softfail-all" + D, ["--ip", "192.0.2.25"], "softfail-all", "info", 0, {
        "term": "~all", "authz": ("192.0.2.25", "pass")}),
    ("fail-all" + D, ["--ip", "203.0.113.5"], "fail-all", "info", 0, {
        "term": "-all", "authz": ("203.0.113.5", "fail")}),
    ("no-all" + D, [], "no-all", "warning", 1, {}),
    ("ptr-deprecated" + D, [], "ptr-deprecated", "warning", 1, {"offset": 7, "term": "ptr"}),
    ("broad-range" + D, [], "broad-range", "warning", 1, {
        "count": 2, "msg": ["16777216 addresses"]}),
    ("macros" + D, [], "macros", "info", 0, {"offset": 7, "term": "exists:%{i}._spf.codes.example"}),
    # issue 7: the host bits of 192.0.2.5 below /24 are ignored (RFC 7208 5.6)
    ("host-bits" + D, [], "host-bits", "info", 0, {
        "offset": 7, "term": "ip4:192.0.2.5/24", "fix": ["ip4:192.0.2.0/24"]}),
    # 5. size
    ("record-too-long" + D, [], "record-too-long", "warning", 1, {"msg": ["512 octets"]}),
    ("answer-too-large" + D, [], "answer-too-large", "warning", 1, {}),
    ("expect-needs-split" + D, ["--expect", LONG_EXPECT], "expect-needs-split", "info", 0, {
        "msg": ["302 octets"], "absent": ["expect-not-published", "expect-partial"]}),
    # 6. publication
    ("ttl" + D, [], "ttl", "info", 0, {"ttl": 86400}),
    ("ns-disagree" + D, [], "ns-disagree", "warning", 1, {"msg": ["ns-b.example"]}),
    ("ns-unreachable" + D, [], "ns-unreachable", "warning", 1, {
        "count": 1, "msg": ["ns-dead.example", "127.0.0.4"]}),
    ("ns-not-found.example", [], "ns-not-found", "warning", 1, {}),
    ("expect-not-published" + D, ["--expect", EXPECTED_REC], "expect-not-published", "error", 2, {
        "msg": ["ns-a.example", "not the domain's DNS host"], "nomsg": ["ns-b.example"]}),
    ("expect-partial" + D, ["--expect", EXPECTED_REC], "expect-partial", "warning", 1, {
        "msg": ["1 of 2"]}),
    ("expect-not-cached" + D, ["--expect", EXPECTED_REC], "expect-not-cached", "warning", 1, {
        "absent": ["expect-not-published", "expect-partial"]}),
    ("expect-invalid" + D, ["--expect", "v=spf1 ip4:192.0.2.300 -all"], "expect-invalid",
     "error", 2, {"within": "ip4:192.0.2.300", "absent": ["domain-not-found"]}),
]

failed = 0
def fail(case, why, out=""):
    global failed
    failed += 1
    print("FAIL %s: %s" % (case, why))
    for line in out.splitlines()[:60]:
        print("  | " + line)

# Completeness: the cases and the exclusions together are exactly the codes
# in the source.
all_codes = source_codes(SRC)
covered = {c[2] for c in CASES}
if covered & set(EXCLUDED):
    fail("code list", "covered and excluded: %s" % sorted(covered & set(EXCLUDED)))
if covered | set(EXCLUDED) != all_codes:
    fail("code list", "in verify.c without a case: %s; cases for unknown codes: %s" % (
        sorted(all_codes - covered - set(EXCLUDED)), sorted((covered | set(EXCLUDED)) - all_codes)))

t0 = time.time()
for dom, extra, code, sev, want_rc, chk in CASES:
    if not dom.endswith(".example"):
        fail(code, "test domain %s is not an example name" % dom)
        continue
    cmd = [MT, "spf", "verify", dom, "--json", "--resolver", "%s@%s" % (RESOLVER, PORT),
           "--ns-port", PORT] + extra
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        fail(code, "timed out")
        continue
    out = p.stdout + p.stderr
    try:
        j = json.loads(p.stdout)
    except ValueError as e:
        fail(code, "output is not JSON (%s), exit %d" % (e, p.returncode), out)
        continue
    if p.returncode != want_rc:
        fail(code, "exit %d, want %d" % (p.returncode, want_rc), out)
    if j.get("domain") != dom:
        fail(code, "domain %r" % j.get("domain"), out)
    fs = j["findings"]
    # every location points into its record
    for f in fs:
        loc = f["location"]
        if loc["offset"] is not None:
            rec = loc["record"] or ""
            o, n = loc["offset"], loc["length"]
            if not (0 <= o <= len(rec.encode()) and o + n <= len(rec.encode())):
                fail(code, "finding %s points outside its record" % f["code"], out)
            elif n and loc["term"].encode() != rec.encode()[o:o + n]:
                fail(code, "finding %s: term %r is not the record's octets %d+%d" % (
                    f["code"], loc["term"], o, n), out)
    mine = [f for f in fs if f["code"] == code]
    if not mine:
        fail(code, "code not reported (got %s)" % [f["code"] for f in fs], out)
        continue
    if "count" in chk and len(mine) != chk["count"]:
        fail(code, "%d findings, want %d" % (len(mine), chk["count"]), out)
    f = mine[0]
    loc = f["location"]
    if any(g["severity"] != sev for g in mine):
        fail(code, "severity %s, want %s" % ([g["severity"] for g in mine], sev), out)
    if not f["message"]:
        fail(code, "empty message", out)
    if "offset" in chk and loc["offset"] != chk["offset"]:
        fail(code, "offset %r, want %d" % (loc["offset"], chk["offset"]), out)
    if "term" in chk and loc["term"] != chk["term"]:
        fail(code, "term %r, want %r" % (loc["term"], chk["term"]), out)
    if "within" in chk:
        rec, o = loc["record"] or "", loc["offset"]
        s = rec.find(chk["within"])
        if o is None or s < 0 or not (s <= o < s + len(chk["within"])):
            fail(code, "location %r not inside %r" % (o, chk["within"]), out)
    if "ldomain" in chk and loc["domain"] != chk["ldomain"]:
        fail(code, "location domain %r, want %r" % (loc["domain"], chk["ldomain"]), out)
    for c in chk.get("absent", []):
        if any(g["code"] == c for g in fs):
            fail(code, "%s reported too" % c, out)
    for s in chk.get("msg", []):
        if s not in f["message"]:
            fail(code, "message lacks %r" % s, out)
    for s in chk.get("nomsg", []):
        if s in f["message"]:
            fail(code, "message holds %r" % s, out)
    for s in chk.get("fix", []):
        if s not in (f["fix"] or ""):
            fail(code, "fix lacks %r" % s, out)
    if "lookups" in chk and j["lookups"]["total"] != chk["lookups"]:
        fail(code, "%d lookups, want %d" % (j["lookups"]["total"], chk["lookups"]), out)
    if "ttl" in chk:
        # the zone's TTL; a cache may have counted down a second or two
        m = re.search(r"TTL is (\d+) seconds", f["message"])
        if not m or not chk["ttl"] - 5 <= int(m.group(1)) <= chk["ttl"]:
            fail(code, "message does not give the TTL %d" % chk["ttl"], out)
        if not j["nameservers"] or any(not chk["ttl"] - 5 <= n["ttl"] <= chk["ttl"]
                                       for n in j["nameservers"]):
            fail(code, "name servers' TTLs %s" % [n["ttl"] for n in j["nameservers"]], out)
    if "authz" in chk:
        ip, res = chk["authz"]
        got = [a["result"] for a in j["authorization"] if a["ip"] == ip]
        if got != [res]:
            fail(code, "authorization of %s: %s, want %s" % (ip, got, res), out)

print("%d cases (%d codes covered, %d excluded: %s) in %.1f s, %d failures" % (
    len(CASES), len(covered), len(EXCLUDED), ", ".join(sorted(EXCLUDED)),
    time.time() - t0, failed))
sys.exit(1 if failed else 0)
PYEOF
fi

if [ "${1:-}" = "--server-b" ]; then
	# running under server A (MT_NSD_PORT is its port): start B on the same port
	MT=$2 DIR=$3 SRC=$4
	MT_NSD_LISTEN=$B MT_NSD_FIXED_PORT=$MT_NSD_PORT bash "$HERE/run_nsd.sh" \
		--zone codes.example "$DIR/b-codes.zone" \
		--zone expect-not-published.codes.example "$DIR/b-enp.zone" \
		--zone expect-not-cached.codes.example "$DIR/b-enc.zone" \
		bash "$0" --run "$MT" "$MT_NSD_PORT" "$SRC"
	exit
fi

MT=${1:?usage: $0 MAILTRUST [VERIFY_C]}
SRC=${2:-$HERE/../../src/lib/spf/verify.c}
[ -r "$SRC" ] || { echo "cannot read $SRC" >&2; exit 1; }
DIR_PREFIX=mt-codes
. "$HERE/lib_zones.sh"
# A record text as zone-file character-strings of at most 255 octets, split
# after a space (receivers join them without adding one, RFC 7208 3.3).
strings() {
	local s=$1 out="" head
	while [ ${#s} -gt 255 ]; do
		head=${s:0:255}
		head="${head% *} "
		out="$out\"$head\" "
		s=${s:${#head}}
	done
	printf '%s"%s"' "$out" "$s"
}
ip4s() { # v=spf1 ip4:192.0.2.1 ... ip4:192.0.2.N -all
	local r="v=spf1" n
	for n in $(seq 1 "$1"); do r="$r ip4:192.0.2.$n"; done
	printf '%s -all' "$r"
}
LONG_EXPECT=$(ip4s 20)     # 302 octets: needs two strings
TOO_LONG=$(ip4s 34)        # 512 octets: over the 450 of RFC 7208 3.4
[ ${#LONG_EXPECT} -eq 302 ] && [ ${#TOO_LONG} -eq 512 ] || { echo "record sizes wrong" >&2; exit 1; }
TOKEN=$(printf 'k%.0s' $(seq 100))

# The parent zone (A only): name server addresses, delegations, and a
# two-label domain without NS records of its own.
zone a-root.zone example ns-a.example <<EOF
ns-a    A  $A
ns-b    A  $B
ns-dead A  $DEAD
codes   NS ns-a.example.
codes   NS ns-b.example.
ns-not-found TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF
for ns in $(awk '$2 == "A" {print $3}' "$DIR/a-root.zone"); do
	loopback "$ns" || { echo "refusing to run: name server address $ns is not loopback" >&2; exit 1; }
done

# codes.example, the same on A and B except for the lines given as $1.
codes_zone() {
	zone "$1" codes.example ns-a.example ns-b.example
	cat >> "$DIR/$1" <<EOF
; delegated children (served by A and B from their own zone files)
expect-not-published NS ns-a.example.
expect-not-cached    NS ns-b.example.
ns-unreachable       NS ns-a.example.
ns-unreachable       NS ns-dead.example.
dns-failure          NS ns-a.example.

; helpers
_spf.provider TXT "v=spf1 ip4:198.51.100.0/24 -all"
nospf    TXT "example-site-verification=$TOKEN"
mail     A   192.0.2.25
mail     AAAA 2001:db8::25
host     A   192.0.2.30
p1       TXT "v=spf1 ip4:192.0.2.0/24 -all"
p3a      TXT "v=spf1 a:host.codes.example a:host.codes.example a:host.codes.example -all"
p3b      TXT "v=spf1 a:host.codes.example a:host.codes.example a:host.codes.example -all"
p3c      TXT "v=spf1 a:host.codes.example a:host.codes.example a:host.codes.example -all"
badsyntax TXT "v=spf1 ip4:192.0.2.0/33 -all"
loop2    TXT "v=spf1 include:include-loop.codes.example -all"

; 1. presence (domain-not-found: no such name here)
no-record        TXT "example-site-verification=$TOKEN"
multiple-records TXT "v=spf1 ip4:192.0.2.25 ~all"
multiple-records TXT "v=spf1 ip6:2001:db8::8:800:68.0.3.1/96 ~all"
multiple-records TXT "v=spf1 include:_spf.provider.codes.example ~all"
broken-record    TXT "=spf1 include:_spf.provider.codes.example -all"
sender-id        TXT "spf2.0/mfrom,pra ip4:192.0.2.0/24 -all"
sender-id        TXT "v=spf1 ip4:192.0.2.0/24 -all"
spf-rr-type      TXT "v=spf1 ip4:192.0.2.0/24 -all"
spf-rr-type      SPF "v=spf1 ip4:192.0.2.0/24 -all"
split-record     TXT "v=spf1 ip4:192.0.2.0/24 " "include:_spf.provider.codes.example -all"
split-glued      TXT "v=spf1 ip4:192.0.2.1" "ip4:192.0.2.2 -all"
trailing-space   TXT "v=spf1 ip4:192.0.2.0/24 -all "

; 2. syntax
glued-terms          TXT "v=spf1 include:_spf.provider.codes.example-all"
ip4-hostname         TXT "v=spf1 ip4:mail.codes.example -all"
ip6-hostname         TXT "v=spf1 ip6:mail.codes.example -all"
ip4-prefix           TXT "v=spf1 ip4:192.0.2.0/33 -all"
ip6-prefix           TXT "v=spf1 ip6:2001:db8::/129 -all"
typographic-quotes   TXT "v=spf1 ip4:192.0.2.0/24 -all\226\128\157"
unicode-space        TXT "v=spf1 ip4:192.0.2.0/24\194\160-all"
host-bits            TXT "v=spf1 ip4:192.0.2.5/24 -all"
stray-punctuation    TXT "v=spf1 ip4:192.0.2.1, -all"
misspelled-mechanism TXT "v=spf1 inlcude:_spf.provider.codes.example -all"
duplicate-modifier   TXT "v=spf1 redirect=_spf.provider.codes.example redirect=nospf.codes.example"
syntax-error         TXT "v=spf1 ip4:192.0.2.300 -all"
terms-after-all      TXT "v=spf1 -all ip4:192.0.2.0/24"
redirect-ignored     TXT "v=spf1 redirect=_spf.provider.codes.example -all"

; 3. limits
lookup-limit           TXT "v=spf1 include:p3a.codes.example include:p3b.codes.example include:p3c.codes.example -all"
lookup-limit-near      TXT "v=spf1 include:p3a.codes.example include:p3b.codes.example a:host.codes.example -all"
most-expensive-include TXT "v=spf1 include:p1.codes.example include:p3a.codes.example -all"
void-lookup            TXT "v=spf1 a:nx1.codes.example ip4:192.0.2.0/24 -all"
void-limit             TXT "v=spf1 a:nx1.codes.example mx:nx2.codes.example exists:nx3.codes.example -all"
mx-limit               TXT "v=spf1 mx -all"
include-loop           TXT "v=spf1 include:loop2.codes.example -all"
tree-truncated         TXT "v=spf1 include:tt1.codes.example -all"
include-no-record      TXT "v=spf1 include:nospf.codes.example -all"
redirect-no-record     TXT "v=spf1 redirect=nospf.codes.example"
include-multiple-records TXT "v=spf1 include:multiple-records.codes.example -all"
include-syntax-error   TXT "v=spf1 include:badsyntax.codes.example -all"
include-dns-failure    TXT "v=spf1 include:dns-failure.codes.example -all"

; 4. policy
pass-all       TXT "v=spf1 +all"
neutral-all    TXT "v=spf1 ip4:192.0.2.0/24 ?all"
softfail-all   TXT "v=spf1 ip4:192.0.2.25 ip6:2001:db8::8:800:68.0.3.1/96 include:_spf.provider.codes.example ~all"
fail-all       TXT "v=spf1 include:_spf.provider.codes.example -all"
no-all         TXT "v=spf1 ip4:192.0.2.0/24"
ptr-deprecated TXT "v=spf1 ptr -all"
broad-range    TXT "v=spf1 ip4:192.0.2.0/8 ip6:2001:db8::/32 -all"
macros         TXT "v=spf1 exists:%{i}._spf.codes.example -all"

; 5. size
record-too-long    TXT $(strings "$TOO_LONG")
answer-too-large   TXT "v=spf1 ip4:192.0.2.0/24 -all"
answer-too-large   TXT "example-site-verification=1$TOKEN"
answer-too-large   TXT "example-site-verification=2$TOKEN"
answer-too-large   TXT "example-site-verification=3$TOKEN"
answer-too-large   TXT "example-site-verification=4$TOKEN"
expect-needs-split TXT $(strings "$LONG_EXPECT")

; 6. publication
ttl 86400 TXT "v=spf1 ip4:192.0.2.0/24 -all"
expect-invalid TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF
	for n in $(seq 1 11); do
		printf 'mx-limit MX %d mx%d.codes.example.\nmx%d A 192.0.2.%d\n' "$n" "$n" "$n" "$((100 + n))"
	done >> "$DIR/$1"
	# a chain of 21 includes: deeper than verify follows
	for n in $(seq 1 20); do
		printf 'tt%d TXT "v=spf1 include:tt%d.codes.example -all"\n' "$n" "$((n + 1))"
	done >> "$DIR/$1"
	printf 'tt21 TXT "v=spf1 -all"\n' >> "$DIR/$1"
}
codes_zone a-codes.zone
cat >> "$DIR/a-codes.zone" <<'EOF'
ns-disagree    TXT "v=spf1 ip4:192.0.2.0/24 -all"
expect-partial TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF
codes_zone b-codes.zone
cat >> "$DIR/b-codes.zone" <<'EOF'
ns-disagree    TXT "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all"
expect-partial TXT "v=spf1 include:_spf.provider.codes.example -all"
EOF

# Delegated to A only; the expected record was added at B.
zone a-enp.zone expect-not-published.codes.example ns-a.example <<'EOF'
@ TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF
zone b-enp.zone expect-not-published.codes.example ns-a.example <<'EOF'
@ TXT "v=spf1 include:_spf.provider.codes.example -all"
EOF
# Delegated to B only, which serves the new record; the recursive side
# (forwarding to A) still returns the old one, as a cache would.
zone a-enc.zone expect-not-cached.codes.example ns-b.example <<'EOF'
@ TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF
zone b-enc.zone expect-not-cached.codes.example ns-b.example <<'EOF'
@ TXT "v=spf1 include:_spf.provider.codes.example -all"
EOF
# One of the two name servers does not answer.
zone a-unr.zone ns-unreachable.codes.example ns-a.example ns-dead.example <<'EOF'
@ TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF

# dns-failure.codes.example is configured without a zone file: NSD answers
# SERVFAIL for it.
MT_NSD_LISTEN=$A bash "$HERE/run_nsd.sh" \
	--zone example "$DIR/a-root.zone" \
	--zone codes.example "$DIR/a-codes.zone" \
	--zone expect-not-published.codes.example "$DIR/a-enp.zone" \
	--zone expect-not-cached.codes.example "$DIR/a-enc.zone" \
	--zone ns-unreachable.codes.example "$DIR/a-unr.zone" \
	--zone dns-failure.codes.example "$DIR/missing.zone" \
	bash "$0" --server-b "$MT" "$DIR" "$SRC"
