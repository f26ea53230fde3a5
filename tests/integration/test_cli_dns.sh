#!/bin/bash
# The mailtrust CLI against a real authoritative server: NSD on loopback
# (run_nsd.sh) serving the zone clidns.example generated below, asked through
# libunbound with --resolver 127.0.0.1@PORT.  Every expectation comes from
# RFC 7208 applied to the records written here (section noted next to
# each case), never from the program's output.
#
#   test_cli_dns.sh MAILTRUST_BINARY RUN_NSD_SH
#
# Exit 77 (skipped) when nsd is not installed.  Refuses to run unless the
# server is on a loopback address.
set -u
MT=${1:?usage: $0 MAILTRUST_BINARY RUN_NSD_SH}
RUN_NSD=${2:?usage: $0 MAILTRUST_BINARY RUN_NSD_SH}
PYTHON=${PYTHON:-python3}
export NO_COLOR=1
NBATCH=10000    # lines of the big batch
NDOM=2500       # distinct domains b0.. in the zone for it

# ---- outer part: write the zone, start NSD, run the inner part --------------
if [ -z "${MT_CLI_DNS_INNER:-}" ]; then
	ZDIR=$(mktemp -d "${TMPDIR:-/tmp}/mt-clidns.XXXXXX") || exit 1
	trap 'rm -rf "$ZDIR"' EXIT
	Z=$ZDIR/clidns.example.zone
	{
		cat <<'EOF'
$ORIGIN clidns.example.
$TTL 3600
@ SOA ns.clidns.example. hostmaster.clidns.example. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
; include (5.2): pass when the included record passes, else on to -all
inc-pass TXT "v=spf1 include:_a.clidns.example -all"
_a TXT "v=spf1 ip4:192.0.2.0/28 -all"
; redirect (6.1) to a record ending in ~all
redir-soft TXT "v=spf1 redirect=_soft.clidns.example"
_soft TXT "v=spf1 ip4:198.51.100.1 ~all"
; include of a record that redirects; ?all at the top
chain TXT "v=spf1 include:_c1.clidns.example ?all"
_c1 TXT "v=spf1 redirect=_c2.clidns.example"
_c2 TXT "v=spf1 ip4:203.0.113.9 -all"
; one record in two character-strings, joined without a space (3.3):
; "v=spf1 ip4:192.0.2.128 -all"
split TXT "v=spf1 ip4:192.0.2.1" "28 -all"
; void lookups (4.6.4): NXDOMAIN and NODATA both count
void TXT "v=spf1 a:nx.clidns.example a:nodata.clidns.example -all"
nodata TXT "not an spf record"
void3 TXT "v=spf1 a:nx1.clidns.example a:nx2.clidns.example a:nx3.clidns.example -all"
; CNAME to the record (the TXT of alias is target's) and to an A record
alias CNAME target
target TXT "v=spf1 ip4:192.0.2.33 -all"
cnamea TXT "v=spf1 a:webalias.clidns.example -all"
webalias CNAME web
web A 198.51.100.20
; IPv6 (5.3, 5.4: AAAA for an IPv6 client), ip6 (5.6)
v6 TXT "v=spf1 ip6:2001:db8:1::/48 a mx -all"
v6 A 192.0.2.60
v6 AAAA 2001:db8:2::1
v6 MX 10 mx6.clidns.example.
mx6 AAAA 2001:db8:3::25
mx6 A 192.0.2.61
EOF
		# A TXT record set too large for a UDP answer of 1232 octets:
		# 150 ip4 terms (none DNS-querying) and, last, the one that
		# matters.  Only the whole record, fetched over TCP, passes
		# 192.0.2.200.
		printf 'big TXT "v=spf1"'
		for ((i = 0; i < 150; i++)); do
			printf ' " ip4:10.%d.%d.1"' $((i / 100)) $((i % 100))
		done
		printf ' " ip4:192.0.2.200 -all"\n'
		# the batch domains: bD "v=spf1 a -all", bD A 10.100.X.Y
		for ((d = 0; d < NDOM; d++)); do
			echo "b$d TXT \"v=spf1 a -all\""
			echo "b$d A 10.100.$((d / 250)).$((d % 250 + 1))"
		done
	} >"$Z" || exit 1
	# not exec: the EXIT trap above must still remove the zone directory
	MT_CLI_DNS_INNER=1 bash "$RUN_NSD" --zone clidns.example "$Z" bash "$0" "$@"
	exit $?
fi

# ---- inner part: NSD is running ---------------------------------------------
. "$(dirname "$0")/lib_cli_inner.sh"

echo "resolver: $RES (NSD, zone clidns.example)"

# ---- pass / fail / softfail / neutral through include and redirect ----------
spf 192.0.2.5 a@inc-pass.clidns.example pass        # 5.2: include passes -> match
spf 192.0.2.50 a@inc-pass.clidns.example fail       # 5.2: include fails -> no match; -all
spf 198.51.100.1 a@redir-soft.clidns.example pass   # 6.1: the redirect target decides
spf 192.0.2.77 a@redir-soft.clidns.example softfail # 6.1 + 4.6.2 ~all
spf 203.0.113.9 a@chain.clidns.example pass         # include -> redirect -> ip4 match
spf 203.0.113.10 a@chain.clidns.example neutral     # include's record fails: no match; ?all
spf 203.0.113.10 a@chain.clidns.example neutral --json
json 'j["result"] == "neutral"' 'j["mechanism"] == "?all"' \
     '[t["name"] for t in j["trace"] if t["type"] == "TXT"] == ["chain.clidns.example", "_c1.clidns.example", "_c2.clidns.example"]'

# ---- a record in several character-strings (3.3: joined without spaces) ----
spf 192.0.2.128 a@split.clidns.example pass
spf 192.0.2.1 a@split.clidns.example fail
spf 192.0.2.128 a@split.clidns.example pass --json
json 'j["record"] == "v=spf1 ip4:192.0.2.128 -all"'

# ---- a TXT answer too large for UDP: truncated, then fetched over TCP --------
LAST="dig big.clidns.example over UDP"
if command -v dig >/dev/null; then
	if dig +ignore +bufsize=1232 +time=2 +tries=1 -p "$PORT" "@$ADDR" big.clidns.example TXT |
	   grep -q 'flags:.* tc'; then ok
	else bad "NSD does not truncate big.clidns.example over UDP: the case proves nothing"; fi
fi
spf 192.0.2.200 a@big.clidns.example pass           # the last term of the record
spf 192.0.2.201 a@big.clidns.example fail
spf 192.0.2.200 a@big.clidns.example pass --json
json 'len(j["record"]) > 1500' 'j["record"].endswith(" ip4:192.0.2.200 -all")' \
     'j["record"].count("ip4:") == 151' 'j["mechanism"] == "ip4:192.0.2.200"'

# ---- NXDOMAIN and NODATA: both void lookups (4.6.4), apart in the trace ---------
spf 192.0.2.1 a@void.clidns.example fail --json     # 2 void lookups: the limit, not over
json 'j["void_lookups"] == 2' \
     '[(t["name"], t["rcode"], t["void"], len(t["answers"])) for t in j["trace"] if t["type"] == "A"] == [("nx.clidns.example", "NXDOMAIN", True, 0), ("nodata.clidns.example", "NOERROR", True, 0)]'
spf 192.0.2.1 a@void3.clidns.example permerror --json  # a third void lookup: over the limit
json 'j["void_lookups"] == 3' 'j["problem"] is not None'
spf 192.0.2.1 a@nx.clidns.example none --json       # 4.3/4.5: no such domain, no record
json 'j["trace"][0]["rcode"] == "NXDOMAIN"'
spf 192.0.2.1 a@nodata.clidns.example none          # 4.5: a TXT that is not SPF

# ---- CNAME ---------------------------------------------------------------------
spf 192.0.2.33 a@alias.clidns.example pass          # the TXT of alias is target's
spf 192.0.2.34 a@alias.clidns.example fail
spf 198.51.100.20 a@cnamea.clidns.example pass      # a: through a CNAME to an A record
spf 198.51.100.21 a@cnamea.clidns.example fail

# ---- IPv6 clients: ip6, a and mx with AAAA (5.3, 5.4, 5.6) ------------------------
spf 2001:db8:1::99 a@v6.clidns.example pass         # ip6:2001:db8:1::/48
spf 2001:db8:2::1 a@v6.clidns.example pass --json   # a: AAAA of v6
json 'j["mechanism"] == "a"' \
     '[t["type"] for t in j["trace"] if t["name"] == "v6.clidns.example" and t["type"] != "TXT"] == ["AAAA"]'
spf 2001:db8:3::25 a@v6.clidns.example pass --json  # mx: AAAA of mx6
json 'j["mechanism"] == "mx"' \
     '[t["type"] for t in j["trace"] if t["name"] == "mx6.clidns.example"] == ["AAAA"]'
spf 2001:db8:4::1 a@v6.clidns.example fail
spf 192.0.2.60 a@v6.clidns.example pass             # a: the A record for an IPv4 client
spf ::ffff:192.0.2.61 a@v6.clidns.example pass      # IPv4-mapped is IPv4 (5): mx6's A
spf 2001:db8::c000:23c a@v6.clidns.example fail     # not the IPv4 address 192.0.2.60

# ---- a server that never answers: temperror within the budget ----------------------
# A UDP socket on loopback that reads and never replies (and no TCP).
"$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    s.recvfrom(4096)
' >"$TMP/silent.port" &
BG_PID=$!
for i in $(seq 50); do [ -s "$TMP/silent.port" ] && break; sleep 0.1; done
SPORT=$(head -n 1 "$TMP/silent.port")
BUDGET=2000
t0=$(date +%s%N)
run spf check --resolver "127.0.0.1@$SPORT" --timeout $BUDGET --ip 192.0.2.1 \
    --sender a@inc-pass.clidns.example --json
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "silent server: temperror after $ms ms (budget $BUDGET ms)"
LAST="silent server (--timeout $BUDGET)"
if [ "$RC" -eq 5 ]; then ok; else bad "exit $RC, want 5 (temperror)"; fi
json 'j["result"] == "temperror"' 'j["trace"][0]["rcode"] == "TIMEOUT"' \
     'j["trace"][0]["name"] == "inc-pass.clidns.example"'
# within the budget (plus process start and exit), and not absurdly early
if [ "$ms" -le $((BUDGET + 1500)) ] && [ "$ms" -ge $((BUDGET / 2)) ]; then ok
else bad "took $ms ms for a $BUDGET ms budget"; fi
# a batch against the silent server: every line temperror, each within
# its own budget, all at once (not one after the other)
for i in 1 2 3 4 5 6 7 8; do echo "192.0.2.$i a$i@x$i.clidns.example h.clidns.example"; done >"$TMP/silent.in"
t0=$(date +%s%N)
run spf check --resolver "127.0.0.1@$SPORT" --timeout 1000 --batch "$TMP/silent.in"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "silent server: batch of 8 all temperror after $ms ms (1000 ms budget each)"
LAST="silent server batch"
if [ "$RC" -eq 0 ] && [ "$(grep -c '^[0-9]*: temperror ' "$OUT")" -eq 8 ]; then ok
else bad "exit $RC, want 0 and 8 temperror lines"; fi
if [ "$ms" -le 4000 ]; then ok; else bad "8 checks of 1000 ms took $ms ms: not concurrent"; fi
kill "$BG_PID" 2>/dev/null
wait "$BG_PID" 2>/dev/null
BG_PID=

# ---- a batch of 10,000 lines, results checked line by line ---------------------
# Line k (1-based), d = k % NDOM, kind = k % 20:
#   0-7    IP 10.100.d/250.(d%250+1), the A of bd: "a" matches -> pass
#   8-11   IP 192.0.2.(d%250) -> "-all": fail
#   12-13  redir-soft, 192.0.2.(k%250) -> softfail (6.1, ~all)
#   14-15  chain, 203.0.113.10 -> neutral (?all)
#   16-17  a name that does not exist, nxd.clidns.example -> none (4.3)
#   18     void3 -> permerror (4.6.4)
#   19     v6, IPv6 2001:db8:1::(k hex) -> pass (ip6)
# plus a comment every 1000 lines (skipped, counted in line numbers).
"$PYTHON" - "$NBATCH" "$NDOM" "$TMP/batch.in" "$TMP/batch.want" <<'EOF'
import sys
n, ndom = int(sys.argv[1]), int(sys.argv[2])
fin, fwant = open(sys.argv[3], "w"), open(sys.argv[4], "w")
line = 0
for k in range(1, n + 1):
    if k % 1000 == 1:
        line += 1
        fin.write("# next thousand\n")
    line += 1
    d, kind = k % ndom, k % 20
    if kind < 8:
        ip, s, want = "10.100.%d.%d" % (d // 250, d % 250 + 1), "u%d@b%d.clidns.example" % (k, d), "pass"
    elif kind < 12:
        ip, s, want = "192.0.2.%d" % (d % 250), "u%d@b%d.clidns.example" % (k, d), "fail"
    elif kind < 14:
        ip, s, want = "192.0.2.%d" % (k % 250), "u%d@redir-soft.clidns.example" % k, "softfail"
    elif kind < 16:
        ip, s, want = "203.0.113.10", "u%d@chain.clidns.example" % k, "neutral"
    elif kind < 18:
        ip, s, want = "192.0.2.1", "u%d@nx%d.nxd.clidns.example" % (k, k), "none"
    elif kind == 18:
        ip, s, want = "192.0.2.1", "u%d@void3.clidns.example" % k, "permerror"
    else:
        ip, s, want = "2001:db8:1::%x" % k, "u%d@v6.clidns.example" % k, "pass"
    fin.write("%s %s h%d.clidns.example\n" % (ip, s, k))
    fwant.write("%d: %s %s %s\n" % (line, want, ip, s))
EOF
t0=$(date +%s%N)
run spf check --resolver "$RES" --batch "$TMP/batch.in"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -gt 0 ] || ms=1
echo "batch: $NBATCH checks in $ms ms (cold cache): $((NBATCH * 1000 / ms)) checks/s"
LAST="batch of $NBATCH"
if [ "$RC" -eq 0 ]; then ok; else bad "exit $RC, want 0"; fi
if [ ! -s "$ERR" ]; then ok; else bad "stderr not empty"; fi
awk '{ print $1, $2, $3, $4 }' "$OUT" >"$TMP/batch.got"
if cmp -s "$TMP/batch.got" "$TMP/batch.want"; then ok
else bad "results differ from RFC 7208's: $(diff "$TMP/batch.want" "$TMP/batch.got" | head -6)"; fi
echo "batch: results per kind:"
awk '{ print $2 }' "$OUT" | sort | uniq -c | sed 's/^/  /'
# counts per result, as the generator implies
for rc_want in "pass $((NBATCH * 9 / 20))" "fail $((NBATCH * 4 / 20))" \
               "softfail $((NBATCH * 2 / 20))" "neutral $((NBATCH * 2 / 20))" \
               "none $((NBATCH * 2 / 20))" "permerror $((NBATCH / 20))"; do
	set -- $rc_want
	LAST="batch: count of $1"
	got=$(awk -v r="$1" '$2 == r' "$OUT" | wc -l | tr -d ' ')
	if [ "$got" -eq "$2" ]; then ok; else bad "$got, want $2"; fi
done
# the same batch as JSON lines, warm cache in this process is not
# shared: a new process is cold again; check the JSON shape only on it
run spf check --resolver "$RES" --batch "$TMP/batch.in" --json
LAST="batch --json"
if "$PYTHON" -c '
import json, sys
want = [l.split() for l in open(sys.argv[1])]
rows = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == len(want), (len(rows), len(want))
for w, j in zip(want, rows):
    assert j["line"] == int(w[0].rstrip(":")) and j["result"] == w[1], (w, j["line"], j["result"])
    assert j["ip"] == w[2], (w, j["ip"])
' "$TMP/batch.want" "$OUT" >"$TMP/py" 2>&1; then ok
else bad "$(tail -3 "$TMP/py")"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
