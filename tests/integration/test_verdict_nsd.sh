#!/bin/bash
# "mailtrust verify" against a real authoritative server: NSD on loopback
# (run_nsd.sh, rrl-ratelimit: 0, stopped by its PID) serving
# football.example.com with RFC 8463's keys (one behind a CNAME), SPF
# records for MAIL FROM and HELO and a DMARC record; the recursive side is
# libunbound forwarding to it.  The message is RFC 8463 A.3.  Then a
# server that never answers: temperror (5) in bounded time.
#
#   test_verdict_nsd.sh MAILTRUST DATA_DIR
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ED='v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='
RSA='v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB'

if [ "${1:-}" = "--run" ]; then
	. "$HERE/lib_silent.sh"
	MT=$2 MSG=$3
	SRV="$MT_NSD_ADDR@$MT_NSD_PORT"
	passed=0 failed=0
	OUT=$(mktemp) || exit 1
	WORK=$(mktemp -d) || exit 1
	trap 'silent_stop; rm -rf "$OUT" "$WORK"' EXIT
	case "$MT_NSD_ADDR" in 127.*) ;; *) echo "refusing: not loopback" >&2; exit 1 ;; esac
	ok() { passed=$((passed + 1)); }
	bad() {
		failed=$((failed + 1))
		echo "FAIL: $LAST: $*"
		sed 's/^/  | /' "$OUT" | head -20
	}
	want_rc() { if [ "$RC" -eq "$1" ]; then ok; else bad "exit $RC, want $1"; fi; }
	has() { if grep -qF -- "$1" "$OUT"; then ok; else bad "output lacks '$1'"; fi; }
	verify() {
		LAST="mailtrust verify $*"
		"$MT" verify --resolver "$SRV" --authserv-id mx.example.org --now 1528638000 "$@" \
			> "$OUT" 2>&1
		RC=$?
	}

	# everything passes: SPF for MAIL FROM and HELO, both signatures, DMARC
	verify --ip 192.0.2.1 --helo mail.football.example.com --mail-from joe@football.example.com "$MSG"
	want_rc 0
	has "spf=pass smtp.mailfrom=football.example.com"
	has "spf=pass smtp.helo=mail.football.example.com"
	has 'dkim=pass header.d=football.example.com header.s=brisbane'
	has 'dkim=pass header.d=football.example.com header.s=test'
	has "dmarc=pass header.from=football.example.com policy.dmarc=quarantine"
	# the body changed and SPF from elsewhere: fail, p=quarantine
	sed 's/We lost the game/We won! the game/' "$MSG" > "$WORK/tampered.eml"
	verify --ip 198.51.100.7 --mail-from joe@football.example.com --json "$WORK/tampered.eml"
	want_rc 1
	if python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["dmarc"]["result"] == "fail" and j["dmarc"]["disposition"] == "quarantine", j["dmarc"]
assert [d["result"] for d in j["dkim"]] == ["fail", "fail"], j["dkim"]
assert j["spf"]["mailfrom"]["result"] == "fail"' "$OUT"; then ok; else bad "JSON"; fi
	# null MAIL FROM: the HELO identity aligns
	verify --ip 192.0.2.1 --helo mail.football.example.com "$WORK/tampered.eml"
	want_rc 0
	has "dmarc=pass"

	# a server that never answers: temperror, in bounded time
	silent_start "$WORK"
	start=$(date +%s)
	LAST="mailtrust verify --resolver 127.0.0.1@$SPORT --timeout 1500"
	"$MT" verify --resolver "127.0.0.1@$SPORT" --timeout 1500 --ip 192.0.2.1 \
		--mail-from joe@football.example.com --authserv-id mx "$MSG" > "$OUT" 2>&1
	RC=$?
	elapsed=$(( $(date +%s) - start ))
	silent_stop
	want_rc 5
	has "spf=temperror"
	has "dkim=temperror"
	has "dmarc=temperror"
	if [ "$elapsed" -le 10 ]; then ok; else bad "took $elapsed s"; fi

	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

MT=${1:?usage: $0 MAILTRUST DATA_DIR}
DATA=${2:?usage: $0 MAILTRUST DATA_DIR}
MSG="$DATA/dkim/rfc8463-signed.eml"
[ -r "$MSG" ] || { echo "no $MSG"; exit 1; }
DIR_PREFIX=mt-verdict
. "$HERE/lib_zones.sh"
zone football.zone football.example.com ns-a.example <<EOF
@                   TXT "v=spf1 ip4:192.0.2.1 -all"
mail                TXT "v=spf1 a -all"
mail                A   192.0.2.1
_dmarc              TXT "v=DMARC1; p=quarantine; rua=mailto:d@football.example.com"
brisbane._domainkey CNAME keys.football.example.com.
keys                TXT "$ED"
test._domainkey     TXT "$RSA"
EOF
# the tree walk of relaxed alignment asks _dmarc.example.com and
# _dmarc.com: served (empty), so that they are NXDOMAIN and not REFUSED
# (a DNS failure, temperror)
zone example.zone example.com ns-a.example </dev/null
zone com.zone com ns-a.example </dev/null
bash "$HERE/run_nsd.sh" --zone football.example.com "$DIR/football.zone" \
	--zone example.com "$DIR/example.zone" --zone com "$DIR/com.zone" \
	bash "$0" --run "$MT" "$MSG"
