#!/bin/bash
# "dmarc check" and "check" against real authoritative servers: two NSD
# instances on loopback, A on 127.0.0.2 and B on 127.0.0.3, on the same
# port (as test_dkim_nsd.sh), started through run_nsd.sh (rrl-ratelimit: 0)
# and stopped by their PIDs.  The recursive side is libunbound forwarding
# to A.
#
#   test_dmarc_nsd.sh MAILTRUST
#
# Cases (expectations from draft-ietf-dmarc-dmarcbis-41 4.10 and B.2.3,
# and issue 10):
#   owner.example     one record on A and B, rua to thirdparty.example,
#                     which authorizes it                  -> exit 0, both servers agree
#   www.owner.example no record of its own                 -> inherited from owner.example
#   noauth.example    rua to thirdparty.example, which does not authorize it
#                                                          -> report-not-authorized (exit 1)
#   rotated.example   A serves p=none, B p=reject          -> ns-disagree, expect-partial
#   moved.example     NS -> A only; the record was added at B (the registrar's
#                     DNS, not the DNS host)               -> no-record, expect-not-published naming ns-a
#   a server that never answers                            -> exit 3, in bounded time
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
A=127.0.0.2 B=127.0.0.3
OWNER='v=DMARC1; p=reject; rua=mailto:dmarc@owner.example,mailto:agg@thirdparty.example'
NOAUTH='v=DMARC1; p=reject; rua=mailto:agg@thirdparty.example'
MOVED='v=DMARC1; p=quarantine; rua=mailto:dmarc@moved.example'

if [ "${1:-}" = "--run" ]; then
	. "$HERE/lib_silent.sh"
	MT=$2 PORT=$3
	passed=0 failed=0
	OUT=$(mktemp) || exit 1
	WORK=$(mktemp -d) || exit 1
	trap 'silent_stop; rm -rf "$OUT" "$WORK"' EXIT
	case "$A$B" in 127.*127.*) ;; *) echo "refusing: not loopback" >&2; exit 1 ;; esac
	ok() { passed=$((passed + 1)); }
	bad() {
		failed=$((failed + 1))
		echo "FAIL: $LAST: $*"
		sed 's/^/  | /' "$OUT" | head -40
	}
	want_rc() { if [ "$RC" -eq "$1" ]; then ok; else bad "exit $RC, want $1"; fi; }
	has() { if grep -qF -- "$1" "$OUT"; then ok; else bad "output lacks '$1'"; fi; }
	hasnt() { if grep -qF -- "$1" "$OUT"; then bad "output holds '$1'"; else ok; fi; }
	json() { # python expressions over j
		if python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
bad = [e for e in sys.argv[2:] if not eval(e)]
for e in bad: print("false:", e)
sys.exit(1 if bad else 0)' "$OUT" "$@"; then ok; else bad "JSON check"; fi
	}
	check() {
		LAST="mailtrust dmarc check $*"
		"$MT" dmarc check --resolver "$A@$PORT" --ns-port "$PORT" "$@" > "$OUT" 2>&1
		RC=$?
	}

	# 1. the record on both servers; the external destination authorizes it
	check owner.example
	want_rc 0
	has "policy record: at the domain (_dmarc.owner.example)"
	has "[report-authorized]"
	has "ns-a.example ($A)  NOERROR  agrees  $OWNER"
	has "ns-b.example ($B)  NOERROR  agrees  $OWNER"
	hasnt "[publication-not-checked]"
	check owner.example --json --expect "$OWNER"
	want_rc 0
	json 'j["record"] == "'"$OWNER"'"' 'len(j["nameservers"]) == 2' \
		'all(n["agrees"] and n["serves_expect"] for n in j["nameservers"])' \
		'j["report_destinations"][0]["authorization"] == "authorized"' \
		'j["ttl"] == 300'
	# 4.10: a name without a record takes the Organizational Domain's
	check www.owner.example --json
	want_rc 0
	json 'j["source"] == "inherited"' 'j["policy_domain"] == "owner.example"' \
		'j["policy"] == "reject"'

	# 2. the destination has not published the authorization record
	check noauth.example
	want_rc 1
	has "[report-not-authorized]"
	has "noauth.example._report._dmarc.thirdparty.example"

	# 3. the two servers serve different records
	check rotated.example --expect 'v=DMARC1; p=reject'
	want_rc 2
	has "[ns-disagree]"
	has "[expect-partial] the expected record is served by 1 of 2 authoritative servers"
	has "ns-a.example ($A)  NOERROR  agrees  v=DMARC1; p=none"
	has "ns-b.example ($B)  NOERROR  differs  v=DMARC1; p=reject"

	# 4. registrar vs DNS host: NS point to A, the record was added at B only
	check moved.example --expect "$MOVED"
	want_rc 2
	has "[no-record]"
	has "[expect-not-published]"
	has "not the DNS host"
	has "ns-a.example"
	hasnt "ns-b.example ("

	# 5. the audit over real DNS: the servers are asked for SPF, DMARC and
	# the key, and the records to publish are listed
	LAST="mailtrust check owner.example"
	"$MT" check owner.example --resolver "$A@$PORT" --ns-port "$PORT" --dkim-selector s1 --json > "$OUT" 2>&1
	RC=$?
	want_rc 2 # the selector has no key
	json 'any(f["area"] == "dkim" and f["code"] == "no-key" for f in j["findings"])' \
		'any(f["area"] == "dmarc" and f["code"] == "report-authorized" for f in j["findings"])' \
		'not any(f["code"] == "publication-not-checked" for f in j["findings"])' \
		'[r["host"] for r in j["publish"]] == ["@", "_dmarc"]' \
		'j["mx"] == [{"preference": 10, "exchange": "mx.owner.example"}]'

	# 6. a server that never answers: could not check (3), in bounded time
	silent_start "$WORK"
	start=$(date +%s)
	LAST="mailtrust dmarc check --resolver 127.0.0.1@$SPORT --timeout 1000"
	"$MT" dmarc check --resolver "127.0.0.1@$SPORT" --timeout 1000 owner.example > "$OUT" 2>&1
	RC=$?
	elapsed=$(( $(date +%s) - start ))
	want_rc 3
	has "could not be checked"
	has "[lookup-failed]"
	if [ "$elapsed" -le 10 ]; then ok; else bad "took $elapsed s"; fi
	start=$(date +%s)
	LAST="mailtrust check --resolver 127.0.0.1@$SPORT --timeout 1000"
	"$MT" check --resolver "127.0.0.1@$SPORT" --timeout 1000 --dkim-selector s1 owner.example > "$OUT" 2>&1
	RC=$?
	elapsed=$(( $(date +%s) - start ))
	silent_stop
	want_rc 3
	if [ "$elapsed" -le 30 ]; then ok; else bad "took $elapsed s"; fi

	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

if [ "${1:-}" = "--server-b" ]; then
	# running under server A (MT_NSD_PORT is its port): start B on the same port
	MT=$2 DIR=$3
	PORT_A=$MT_NSD_PORT
	MT_NSD_LISTEN=$B MT_NSD_FIXED_PORT=$PORT_A bash "$HERE/run_nsd.sh" \
		--zone owner.example "$DIR/a-owner.zone" \
		--zone noauth.example "$DIR/a-noauth.zone" \
		--zone rotated.example "$DIR/b-rotated.zone" \
		--zone moved.example "$DIR/b-moved.zone" \
		bash "$0" --run "$MT" "$PORT_A"
	exit
fi

MT=${1:?usage: $0 MAILTRUST}
DIR_PREFIX=mt-dmarc
. "$HERE/lib_zones.sh"
zone a-root.zone example ns-a.example <<EOF
ns-a        A  $A
ns-b        A  $B
moved       NS ns-a.example.
thirdparty  NS ns-a.example.
EOF
zone a-owner.zone owner.example ns-a.example ns-b.example <<EOF
@       MX  10 mx
mx      A   192.0.2.25
@       TXT "v=spf1 mx -all"
_dmarc  TXT "$OWNER"
www     A   192.0.2.1
EOF
zone a-noauth.zone noauth.example ns-a.example ns-b.example <<EOF
_dmarc  TXT "$NOAUTH"
EOF
zone a-thirdparty.zone thirdparty.example ns-a.example <<EOF
owner.example._report._dmarc TXT "v=DMARC1;"
EOF
zone a-rotated.zone rotated.example ns-a.example ns-b.example <<EOF
_dmarc  TXT "v=DMARC1; p=none"
EOF
sed 's|^_dmarc .*|_dmarc  TXT "v=DMARC1; p=reject"|' "$DIR/a-rotated.zone" > "$DIR/b-rotated.zone"
zone a-moved.zone moved.example ns-a.example <<'EOF'
www A 192.0.2.1
EOF
zone b-moved.zone moved.example ns-b.example <<EOF
_dmarc  TXT "$MOVED"
EOF

MT_NSD_LISTEN=$A bash "$HERE/run_nsd.sh" \
	--zone example "$DIR/a-root.zone" \
	--zone owner.example "$DIR/a-owner.zone" \
	--zone noauth.example "$DIR/a-noauth.zone" \
	--zone thirdparty.example "$DIR/a-thirdparty.zone" \
	--zone rotated.example "$DIR/a-rotated.zone" \
	--zone moved.example "$DIR/a-moved.zone" \
	bash "$0" --server-b "$MT" "$DIR"
