#!/bin/bash
# The libunbound resolver as a forwarder, through the CLI:
#  - special-use names (RFC 6761, RFC 8375) are asked of the configured
#    server: zones under test., home.arpa. and invalid. served by NSD on
#    loopback answer through --resolver; onion. and localhost. stay local
#    (RFC 7686 section 2, RFC 6761 section 6.3), whatever the server has;
#  - a PTR RRset with one name that cannot be used (a dot inside a label)
#    still validates its other name (RFC 7208 section 5.5);
#  - concurrency against a slow server (slow_dns.py answers after 2 s):
#    100 checks of a batch all finish, correct, in a few seconds;
#  - trust anchor files that are directories, missing, or not DS/DNSKEY
#    records give a clear message and exit 66 or 65, never a hang or
#    libunbound's own log lines; --unbound-option.
#
#   test_forwarding.sh MAILTRUST_BINARY RUN_NSD_SH SLOW_DNS_PY
#
# Exit 77 (skipped) when nsd is not installed.  Every server is on loopback.
set -u
MT=${1:?usage: $0 MAILTRUST_BINARY RUN_NSD_SH SLOW_DNS_PY}
RUN_NSD=${2:?usage: $0 MAILTRUST_BINARY RUN_NSD_SH SLOW_DNS_PY}
SLOW_DNS=${3:?usage: $0 MAILTRUST_BINARY RUN_NSD_SH SLOW_DNS_PY}
PYTHON=${PYTHON:-python3}
export NO_COLOR=1

# ---- outer part: write the zones, start NSD, run the inner part -------------
if [ -z "${MT_FWD_INNER:-}" ]; then
	ZDIR=$(mktemp -d "${TMPDIR:-/tmp}/mt-fwd.XXXXXX") || exit 1
	trap 'rm -rf "$ZDIR"' EXIT
	z() { # NAME RECORDS...
		name=$1
		shift
		{
			printf '$ORIGIN %s.\n$TTL 300\n' "$name"
			printf '@ SOA ns.mt.test. hostmaster.mt.test. 1 3600 600 86400 300\n'
			printf '@ NS ns.mt.test.\n'
			printf '%s\n' "$@"
		} >"$ZDIR/$name.zone"
	}
	z mt.test 'ns A 127.0.0.1' \
		'@ TXT "v=spf1 ip4:192.0.2.1 -all"' \
		'inc TXT "v=spf1 include:_i.mt.test -all"' \
		'_i TXT "v=spf1 ip4:192.0.2.2 -all"' \
		'ptr TXT "v=spf1 ptr -all"' \
		'host.ptr A 203.0.113.7'
	z mt.home.arpa '@ TXT "v=spf1 ip4:192.0.2.3 -all"'
	z mt.invalid '@ TXT "v=spf1 ip4:192.0.2.4 -all"'
	z mt.onion '@ TXT "v=spf1 +all"'
	z localhost '@ TXT "v=spf1 +all"' '@ A 192.0.2.99'
	# 203.0.113.7: one PTR name with a dot inside its first label (legal
	# on the wire, unusable as a host name), one that validates
	z 113.0.203.in-addr.arpa '7 PTR a\.b.ptr.mt.test.' '7 PTR host.ptr.mt.test.'
	MT_FWD_INNER=1 bash "$RUN_NSD" --zone mt.test "$ZDIR/mt.test.zone" \
		--zone mt.home.arpa "$ZDIR/mt.home.arpa.zone" \
		--zone mt.invalid "$ZDIR/mt.invalid.zone" \
		--zone mt.onion "$ZDIR/mt.onion.zone" \
		--zone localhost "$ZDIR/localhost.zone" \
		--zone 113.0.203.in-addr.arpa "$ZDIR/113.0.203.in-addr.arpa.zone" \
		bash "$0" "$@"
	exit $?
fi

# ---- inner part: NSD is running ---------------------------------------------
. "$(dirname "$0")/lib_cli_inner.sh"
# spf_quiet IP SENDER WANT [options]: spf, and nothing is on stderr.
spf_quiet() {
	spf "$@"
	if [ ! -s "$ERR" ]; then ok; else bad "stderr not empty"; fi
}

echo "resolver: $RES (NSD: mt.test, mt.home.arpa, mt.invalid, mt.onion, localhost, 113.0.203.in-addr.arpa)"

# ---- special-use names ---------------------------------------------------------
# RFC 6761 6.2: test. goes to the configured server
spf_quiet 192.0.2.1 a@mt.test pass
spf_quiet 192.0.2.9 a@mt.test fail
spf_quiet 192.0.2.2 a@inc.mt.test pass                    # include of a name under test.
spf_quiet 192.0.2.1 a@nothere.mt.test none --json         # the server's NXDOMAIN
json 'j["trace"][0]["rcode"] == "NXDOMAIN"'
# RFC 8375: home.arpa. is not special to a library; invalid.: the server decides
spf_quiet 192.0.2.3 a@mt.home.arpa pass
spf_quiet 192.0.2.4 a@mt.invalid pass
# RFC 7686 2: a library answers NXDOMAIN for onion. (the server has +all)
spf_quiet 192.0.2.5 a@mt.onion none --json
json 'j["trace"][0]["rcode"] == "NXDOMAIN"'
# RFC 6761 6.3: localhost. is answered locally (no TXT: none; the server has +all)
spf_quiet 192.0.2.5 a@localhost none

# ---- PTR: one unusable name in the RRset, the other one validates ----------------
spf_quiet 203.0.113.7 a@ptr.mt.test pass --json
json 'j["mechanism"] == "ptr"'
spf_quiet 203.0.113.8 a@ptr.mt.test fail                  # no PTR for .8

# ---- trust anchors -----------------------------------------------------------------
# (no question is asked: the resolver is refused before)
mkdir "$TMP/anchors"
printf 'garbage line\n' >"$TMP/garbage.key"
printf '\001\002\003binary\n' >"$TMP/binary.key"
printf '. IN DS 20326 8 2 ZZZZNOTHEX\n' >"$TMP/badhex.key"
: >"$TMP/empty.key"
ta() { # FILE WANT-EXIT MESSAGE-PART
	t0=$(date +%s%N)
	run spf check --resolver "$RES" --dnssec --trust-anchor "$1" --ip 192.0.2.1 \
	    --sender a@mt.test --timeout 2000
	t1=$(date +%s%N)
	LAST="--trust-anchor $1"
	if [ "$RC" -eq "$2" ]; then ok; else bad "exit $RC, want $2"; fi
	if grep -qF -- "$3" "$ERR"; then ok; else bad "stderr lacks '$3'"; fi
	# one line, ours: none of libunbound's "[time] libunbound[pid:0] error:" lines
	if [ "$(wc -l <"$ERR")" -eq 1 ] && ! grep -q 'libunbound\[' "$ERR"; then ok
	else bad "stderr is not one message of ours"; fi
	if [ $(( (t1 - t0) / 1000000 )) -lt 5000 ]; then ok; else bad "took over 5 s"; fi
}
ta "$TMP/anchors" 66 "trust anchor $TMP/anchors: is a directory, not a file"
ta "$TMP/missing.key" 66 "$TMP/missing.key"
ta "$TMP/garbage.key" 65 "trust anchor $TMP/garbage.key:1: not a DS or DNSKEY record"
ta "$TMP/binary.key" 65 "trust anchor $TMP/binary.key:1: not text"
ta "$TMP/empty.key" 65 "trust anchor $TMP/empty.key: no DS or DNSKEY record"
# the form is right, the digest is not hex: libunbound's complaint, as our message
ta "$TMP/badhex.key" 65 "trust anchor $TMP/badhex.key: libunbound cannot use it: "

# ---- --unbound-option ------------------------------------------------------------
spf_quiet 192.0.2.1 a@mt.test pass --unbound-option 'msg-cache-size: 4m' \
    --unbound-option 'edns-buffer-size:1232'
run spf check --resolver "$RES" --ip 192.0.2.1 --sender a@mt.test --unbound-option 'no-such-option: 1'
LAST="--unbound-option no-such-option"
if [ "$RC" -eq 64 ] && grep -qF "option 'no-such-option: 1'" "$ERR"; then ok
else bad "exit $RC, want 64 and the option named"; fi
run spf check --resolver "$RES" --ip 192.0.2.1 --sender a@mt.test --unbound-option 'outgoing-range'
LAST="--unbound-option without a value"
if [ "$RC" -eq 64 ] && grep -qF "not 'key: value'" "$ERR"; then ok
else bad "exit $RC, want 64"; fi

# ---- a slow server: every answer after 2 s ----------------------------------------
# 100 checks: d0..d49 ("v=spf1 ip4:192.0.2.N -all", one question each) and
# a0..a49 ("v=spf1 a -all", a second question for the A record).  With
# libunbound's library defaults (16 ports, a 376 ms wait for an unknown
# server) the server is asked again before it can answer and the batch ends
# in temperror at its 20 s budget; here each question is asked once and the
# batch takes about two answer times.
"$PYTHON" "$SLOW_DNS" "$TMP/slow.port" 2000 &
BG_PID=$!
for i in $(seq 100); do [ -s "$TMP/slow.port" ] && break; sleep 0.1; done
SPORT=$(head -n 1 "$TMP/slow.port")
for i in $(seq 0 49); do
	echo "192.0.2.$i u@d$i.slow.example h.example"
	echo "192.0.2.$i u@a$i.slow.example h.example"
done >"$TMP/slow.in"
t0=$(date +%s%N)
run spf check --resolver "127.0.0.1@$SPORT" --batch "$TMP/slow.in"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
kill "$BG_PID" 2>/dev/null
wait "$BG_PID" 2>/dev/null
BG_PID=
queries=$(awk '{ print $2 }' "$TMP/slow.port.stats" 2>/dev/null)
echo "slow server (2000 ms): 100 checks in $ms ms, $queries queries"
LAST="batch of 100 against a 2 s server"
if [ "$RC" -eq 0 ] && [ "$(grep -c '^[0-9]*: pass ' "$OUT")" -eq 100 ]; then ok
else bad "exit $RC, $(grep -c '^[0-9]*: pass ' "$OUT") of 100 pass"; fi
# two answer times (4 s) and start-up; far below the 20 s budget
if [ "$ms" -lt 10000 ]; then ok; else bad "took $ms ms"; fi
# 150 questions (100 TXT, 50 A): each asked about once, not again and again
if [ -n "$queries" ] && [ "$queries" -le 200 ]; then ok; else bad "$queries queries for 150 questions"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
