#!/bin/bash
# "dkim verify", "dkim check-key" and "dkim sign --check-published" against
# real authoritative servers:
# two NSD instances on loopback, A on 127.0.0.2 and B on 127.0.0.3, on the
# same port (as test_verify_nsd.sh does for spf verify), started through
# run_nsd.sh (rrl-ratelimit: 0) and stopped by their PIDs.  The recursive
# side is libunbound forwarding to A.  The message is RFC 8463 A.3
# (tests/data/dkim), signed by football.example.com with selectors
# brisbane (ed25519) and test (rsa).
#
#   test_dkim_nsd.sh MAILTRUST DATA_DIR
#
# Cases (expectations from RFC 6376 6.1.2 and issue 9):
#   brisbane._domainkey  CNAME to the provider zone (served by A only)  -> pass, cname shown
#   test._domainkey      two TXT records, one not a key                 -> pass; check-key error
#   revoked._domainkey   empty p=                                       -> permerror; [revoked]
#   rotated._domainkey   A and B serve different keys                   -> ns-disagree, expect-partial
#   moved.example        NS -> A only; the expected key only on B       -> expect-not-published naming ns-a
#   a server that never answers                                         -> temperror (5) / exit 3, in bounded time
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
A=127.0.0.2 B=127.0.0.3
ED='v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='
RSA='v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB'

if [ "${1:-}" = "--run" ]; then
	. "$HERE/lib_silent.sh"
	MT=$2 PORT=$3 MSG=$4
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
	verify() {
		LAST="mailtrust dkim verify $*"
		"$MT" dkim verify --resolver "$A@$PORT" --authserv-id mx.example.org "$@" > "$OUT" 2>&1
		RC=$?
	}
	check() {
		LAST="mailtrust dkim check-key $*"
		"$MT" dkim check-key --resolver "$A@$PORT" --ns-port "$PORT" "$@" > "$OUT" 2>&1
		RC=$?
	}

	# 1. CNAME delegation (brisbane) and two TXT records (test): both pass
	verify --json "$MSG"
	want_rc 0
	json 'j["result"] == "pass"' '[s["result"] for s in j["signatures"]] == ["pass", "pass"]' \
		'[s["key"]["bits"] for s in j["signatures"]] == [256, 1024]'
	check brisbane football.example.com
	want_rc 0
	has "cname: brisbane._domainkey.football.example.com -> brisbane.keys.provider.example"
	has "ns-a.example ($A) brisbane._domainkey.football.example.com  NOERROR  agrees  CNAME brisbane.keys.provider.example"
	has "ns-b.example ($B) brisbane._domainkey.football.example.com  NOERROR  agrees  CNAME brisbane.keys.provider.example"
	has "ns-a.example ($A) brisbane.keys.provider.example  NOERROR  agrees  $ED"
	hasnt "ns-b.example ($B) brisbane.keys.provider.example"
	hasnt "[publication-not-checked]"
	check brisbane football.example.com --json
	json 'j["cname"] == "brisbane.keys.provider.example"' 'len(j["nameservers"]) == 3' \
		'all(n["agrees"] for n in j["nameservers"])' \
		'[n["cname"] for n in j["nameservers"]].count("brisbane.keys.provider.example") == 2'
	# the selector with a key and another text: verifiers may take either
	check test football.example.com
	want_rc 2
	has "[multiple-records]"
	has "2 TXT records (1 of them usable keys)"

	# 2. a revoked key: the signature naming it is permerror, the other passes
	sed 's/s=brisbane;/s=revoked;/' "$MSG" > "$WORK/revoked.eml"
	verify --json "$WORK/revoked.eml"
	want_rc 0
	json '[s["result"] for s in j["signatures"]] == ["permerror", "pass"]' \
		'"revoked" in j["signatures"][0]["reason"]'
	sed 's/s=brisbane;/s=revoked;/; s/s=test;/s=revoked;/' "$MSG" > "$WORK/revoked2.eml"
	verify "$WORK/revoked2.eml"
	want_rc 6
	has "dkim=permerror"
	check revoked football.example.com
	want_rc 2
	has "[revoked]"

	# 3. the two servers serve different keys at one selector
	check rotated football.example.com --expect "$RSA"
	want_rc 2
	has "[ns-disagree]"
	has "[expect-partial] the expected key is served by 1 of 2 authoritative servers"
	has "[expect-differs]"
	has "ns-a.example ($A) rotated._domainkey.football.example.com  NOERROR  agrees"
	has "ns-b.example ($B) rotated._domainkey.football.example.com  NOERROR  differs"

	# 4. registrar vs DNS host: NS point to A, the key was added at B only
	check s1 moved.example --expect "$ED"
	want_rc 2
	has "[no-key]"
	has "[expect-not-published]"
	has "not the DNS host"
	has "ns-a.example"
	hasnt "ns-b.example ("

	# 5. dkim sign --check-published through the resolver: the RFC 8463 keys
	# match behind the CNAME (brisbane) and among two TXT records (test);
	# the revoked and the absent key are refused (3) and nothing is written
	KEYS=$(dirname "$MSG")
	# the RFC 8463 A.1 ed25519 key (RFC 8032 7.1 test 1 seed) as PKCS#8 PEM
	{ echo "-----BEGIN PRIVATE KEY-----"
	  python3 -c 'import base64; print(base64.b64encode(bytes.fromhex("302e020100300506032b657004220420"
"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")).decode())'
	  echo "-----END PRIVATE KEY-----"; } > "$WORK/ed.pem"
	sign() {
		LAST="mailtrust dkim sign $*"
		"$MT" dkim sign --domain football.example.com --check-published --resolver "$A@$PORT" \
			"$@" "$MSG" > "$OUT" 2>&1
		RC=$?
	}
	sign --selector brisbane --key "$WORK/ed.pem" --selector test --key "$KEYS/rfc8463-rsa.private.pem"
	want_rc 0
	has "DKIM-Signature: v=1; a=ed25519-sha256;"
	has "DKIM-Signature: v=1; a=rsa-sha256;"
	sign --selector revoked --key "$KEYS/rfc8463-rsa.private.pem"
	want_rc 3
	has "revoked"
	hasnt "DKIM-Signature"
	sign --selector nokey --key "$KEYS/rfc8463-rsa.private.pem"
	want_rc 3
	has "no key is published at nokey._domainkey.football.example.com"
	sign --selector brisbane --key "$KEYS/rfc8463-rsa.private.pem"
	want_rc 3
	has "not the one published"

	# 6. a server that never answers: temperror / could not check, in bounded time
	silent_start "$WORK"
	start=$(date +%s)
	LAST="mailtrust dkim verify --resolver 127.0.0.1@$SPORT --timeout 1500"
	"$MT" dkim verify --resolver "127.0.0.1@$SPORT" --timeout 1500 --json "$MSG" > "$OUT" 2>&1
	RC=$?
	elapsed=$(( $(date +%s) - start ))
	want_rc 5
	json 'j["result"] == "temperror"' 'all(s["result"] == "temperror" for s in j["signatures"])'
	if [ "$elapsed" -le 10 ]; then ok; else bad "took $elapsed s"; fi
	start=$(date +%s)
	LAST="mailtrust dkim check-key --resolver 127.0.0.1@$SPORT --timeout 1000"
	"$MT" dkim check-key --resolver "127.0.0.1@$SPORT" --timeout 1000 brisbane football.example.com > "$OUT" 2>&1
	RC=$?
	elapsed=$(( $(date +%s) - start ))
	want_rc 3
	has "could not be checked"
	has "[lookup-failed]"
	if [ "$elapsed" -le 10 ]; then ok; else bad "took $elapsed s"; fi
	start=$(date +%s)
	LAST="mailtrust dkim sign --check-published --resolver 127.0.0.1@$SPORT --timeout 1000"
	"$MT" dkim sign --domain football.example.com --selector test \
		--key "$KEYS/rfc8463-rsa.private.pem" --check-published \
		--resolver "127.0.0.1@$SPORT" --timeout 1000 "$MSG" > "$OUT" 2>&1
	RC=$?
	elapsed=$(( $(date +%s) - start ))
	silent_stop
	want_rc 5
	has "looking up the key at test._domainkey.football.example.com failed"
	hasnt "DKIM-Signature"
	if [ "$elapsed" -le 10 ]; then ok; else bad "took $elapsed s"; fi

	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

if [ "${1:-}" = "--server-b" ]; then
	# running under server A (MT_NSD_PORT is its port): start B on the same port
	MT=$2 DIR=$3 MSG=$4
	PORT_A=$MT_NSD_PORT
	MT_NSD_LISTEN=$B MT_NSD_FIXED_PORT=$PORT_A bash "$HERE/run_nsd.sh" \
		--zone football.example.com "$DIR/b-football.zone" \
		--zone moved.example "$DIR/b-moved.zone" \
		bash "$0" --run "$MT" "$PORT_A" "$MSG"
	exit
fi

MT=${1:?usage: $0 MAILTRUST DATA_DIR}
DATA=${2:?usage: $0 MAILTRUST DATA_DIR}
MSG="$DATA/dkim/rfc8463-signed.eml"
[ -r "$MSG" ] || { echo "no $MSG"; exit 1; }
DIR_PREFIX=mt-dkim
. "$HERE/lib_zones.sh"
zone a-root.zone example ns-a.example <<EOF
ns-a      A  $A
ns-b      A  $B
moved     NS ns-a.example.
provider  NS ns-a.example.
EOF
zone a-provider.zone provider.example ns-a.example <<EOF
brisbane.keys TXT "$ED"
EOF
zone a-football.zone football.example.com ns-a.example ns-b.example <<EOF
brisbane._domainkey CNAME brisbane.keys.provider.example.
test._domainkey     TXT "google-site-verification=0123456789"
test._domainkey     TXT "$RSA"
revoked._domainkey  TXT "v=DKIM1; k=rsa; p="
rotated._domainkey  TXT "$ED"
EOF
sed "s|^rotated._domainkey .*|rotated._domainkey  TXT \"$RSA\"|" "$DIR/a-football.zone" > "$DIR/b-football.zone"
zone a-moved.zone moved.example ns-a.example <<'EOF'
www A 192.0.2.1
EOF
zone b-moved.zone moved.example ns-b.example <<EOF
s1._domainkey TXT "$ED"
EOF

MT_NSD_LISTEN=$A bash "$HERE/run_nsd.sh" \
	--zone example "$DIR/a-root.zone" \
	--zone provider.example "$DIR/a-provider.zone" \
	--zone football.example.com "$DIR/a-football.zone" \
	--zone moved.example "$DIR/a-moved.zone" \
	bash "$0" --server-b "$MT" "$DIR" "$MSG"
