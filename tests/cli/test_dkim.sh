# CLI tests: "dkim verify" and "dkim check-key" against zones written here.
# The message and keys are RFC 8463 Appendix A (tests/data/dkim/): A.3's
# message carries an ed25519-sha256 signature (s=brisbane) and an
# rsa-sha256 one (s=test), both verifying with A.2's records.  Expected
# results come from RFC 6376 (6.1.2: no key = permerror, 6.1.3: body hash
# and signature), RFC 8301 and RFC 8601; exit statuses from --help.
. "$(dirname "$0")/lib.sh"

D="$DATA/../../data/dkim"
MSG="$D/rfc8463-signed.eml"
ED='v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='
RSA='v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB'

# zone FILE LINES: a zone for football.example.com
zone() {
	f="$TMP/$1"
	shift
	{ echo '$ORIGIN football.example.com.'; echo '$TTL 300'; printf '%s\n' "$@"; } >"$f"
}
zone good.zone "brisbane._domainkey TXT \"$ED\"" "test._domainkey TXT \"$RSA\""
zone revoked.zone 'brisbane._domainkey TXT "v=DKIM1; k=ed25519; p="' \
	'test._domainkey TXT "v=DKIM1; k=rsa; p="'
zone halfrevoked.zone 'brisbane._domainkey TXT "v=DKIM1; k=ed25519; p="' \
	"test._domainkey TXT \"$RSA\""
zone none.zone 'other._domainkey TXT "v=DKIM1; p="'
zone timeout.zone "test._domainkey TXT \"$RSA\"" '$FAULT brisbane._domainkey TIMEOUT'
zone alltimeout.zone '$FAULT brisbane._domainkey TIMEOUT' '$FAULT test._domainkey TIMEOUT'
zone testing.zone "brisbane._domainkey TXT \"v=DKIM1; k=ed25519; t=y; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"" \
	"test._domainkey TXT \"$RSA\""

V() { run dkim verify --authserv-id mx.example.org "$@"; }

# ---- verify: RFC 8463 A.3 as published: both signatures pass -----------
V --zone "$TMP/good.zone" "$MSG"
expect_rc 0
expect_no_err
expect_first_line "dkim: pass (2 of 2 signatures pass)"
expect_out "signature 1: pass"
expect_out "signature 2: pass"
expect_out "d=football.example.com s=brisbane a=ed25519-sha256 i=@football.example.com"
expect_out "d=football.example.com s=test a=rsa-sha256 i=@football.example.com"
expect_out "key: ed25519, 256 bits"
expect_out "key: rsa, 1024 bits"
expect_out "Authentication-Results: mx.example.org;"
# header.b: the first 8 characters of b= (RFC 6008); '/' is a tspecial,
# so "/gCrinpc" is quoted (RFC 8601 2.2, RFC 2045)
expect_out 'header.b="/gCrinpc"'
expect_out 'header.b=F45dVWDf'

# the same from standard input, with bare LF line ends (the file has CRLF;
# LF is taken as CRLF), and with '-'
tr -d '\r' <"$MSG" >"$TMP/lf.eml"
LAST="mailtrust dkim verify < lf.eml"
"$MT" dkim verify --zone "$TMP/good.zone" --authserv-id mx <"$TMP/lf.eml" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0
expect_first_line "dkim: pass (2 of 2"
LAST="mailtrust dkim verify - < msg"
"$MT" dkim verify --zone "$TMP/good.zone" --authserv-id mx - <"$MSG" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0

# ---- JSON shape ------------------------------------------------------------
V --zone "$TMP/good.zone" --json "$MSG"
expect_rc 0
expect_json 'j["result"] == "pass"' 'len(j["signatures"]) == 2' \
	'[s["result"] for s in j["signatures"]] == ["pass", "pass"]' \
	'[s["s"] for s in j["signatures"]] == ["brisbane", "test"]' \
	'[s["a"] for s in j["signatures"]] == ["ed25519-sha256", "rsa-sha256"]' \
	'all(s["d"] == "football.example.com" and s["i"] == "@football.example.com" for s in j["signatures"])' \
	'[s["key"]["bits"] for s in j["signatures"]] == [256, 1024]' \
	'[s["key"]["type"] for s in j["signatures"]] == ["ed25519", "rsa"]' \
	'all(s["fail"] is None and s["reason"] == "" and s["l"] is None and not s["l_risk"] for s in j["signatures"])' \
	'[s["field"] for s in j["signatures"]] == [0, 1]' \
	'j["authentication_results"].startswith("Authentication-Results: mx.example.org; dkim=pass ")' \
	'"\r" not in j["authentication_results"]'

# ---- tampered body: both body hashes differ (RFC 6376 6.1.3 step 4) ----
sed 's/We lost the game/We won the game/' "$MSG" >"$TMP/body.eml"
V --zone "$TMP/good.zone" --json "$TMP/body.eml"
expect_rc 1
expect_json 'j["result"] == "fail"' \
	'[s["fail"] for s in j["signatures"]] == ["body-hash", "body-hash"]' \
	'"dkim=fail" in j["authentication_results"]'
V --zone "$TMP/good.zone" "$TMP/body.eml"
expect_rc 1
expect_out "signature 1: fail (body-hash)"

# ---- tampered signed header: the body hash holds, the signature does not
sed 's/^Subject: Is dinner ready?/Subject: Is lunch ready?/' "$MSG" >"$TMP/hdr.eml"
V --zone "$TMP/good.zone" --json "$TMP/hdr.eml"
expect_rc 1
expect_json '[s["fail"] for s in j["signatures"]] == ["signature", "signature"]'
# an unsigned header may change (X-Note is not in h=)
sed 's/^To: /X-Note: added\nTo: /' "$MSG" >"$TMP/added.eml"
V --zone "$TMP/good.zone" "$TMP/added.eml"
expect_rc 0

# ---- no signature: none, exit 4, "dkim=none" ---------------------------
grep -v '^DKIM-Signature:' "$MSG" | grep -v '^ ' >"$TMP/unsigned.eml"
V --zone "$TMP/good.zone" "$TMP/unsigned.eml"
expect_rc 4
expect_first_line "dkim: none"
expect_out "dkim=none"
V --zone "$TMP/good.zone" --json "$TMP/unsigned.eml"
expect_json 'j["result"] == "none"' 'j["signatures"] == []' \
	'j["authentication_results"] == "Authentication-Results: mx.example.org; dkim=none"'

# ---- revoked keys (empty p=): permerror, exit 6 ----------------------------
V --zone "$TMP/revoked.zone" --json "$MSG"
expect_rc 6
expect_json 'j["result"] == "permerror"' \
	'all(s["result"] == "permerror" and "revoked" in s["reason"] for s in j["signatures"])' \
	'all(s["key"] is None for s in j["signatures"])'
# one revoked, the other key fine: the best result counts
V --zone "$TMP/halfrevoked.zone" --json "$MSG"
expect_rc 0
expect_json '[s["result"] for s in j["signatures"]] == ["permerror", "pass"]'

# ---- unknown selector: NXDOMAIN is permerror (RFC 6376 6.1.2) --------------
V --zone "$TMP/none.zone" --json "$MSG"
expect_rc 6
expect_json 'all(s["result"] == "permerror" and "NXDOMAIN" in s["reason"] for s in j["signatures"])'

# ---- a key lookup that times out: temperror, exit 5 ------------------------
V --zone "$TMP/alltimeout.zone" --json "$MSG"
expect_rc 5
expect_json 'j["result"] == "temperror"' \
	'all(s["result"] == "temperror" for s in j["signatures"])'
# temperror and a failing signature: a later retry may pass, 5 before 1
V --zone "$TMP/timeout.zone" --json "$TMP/body.eml"
expect_rc 5
expect_json '[s["result"] for s in j["signatures"]] == ["temperror", "fail"]'

# ---- t=y: reported with the key, the result stays -------------------------
V --zone "$TMP/testing.zone" "$MSG"
expect_rc 0
expect_out "key: ed25519, 256 bits, testing (t=y"
V --zone "$TMP/testing.zone" --json "$MSG"
expect_json '[s["key"]["testing"] for s in j["signatures"]] == [True, False]'

# ---- --now: t=1528637909 may be at most 300 s ahead ------------------------
V --zone "$TMP/good.zone" --now 1528637809 "$MSG"
expect_rc 0
V --zone "$TMP/good.zone" --now 1528637000 --json "$MSG"
expect_rc 6
expect_json 'all("future" in s["reason"] for s in j["signatures"])'

# ---- l=: signed by dkimpy (Debian python3-dkim) when it is installed -------
# The unsigned body (simple) is "Hi.\r\n\r\nWe lost the game.  Are you hungry
# yet?\r\n\r\nJoe.\r\n": 5 + 2 + 40 + 2 + 6 = 55 octets (the last empty line
# is dropped by simple canonicalization).  Appending "Appended.\r\n" makes
# that empty line part of the body: 55 + 2 + 11 = 68, 13 not covered.
grep -v '^DKIM-Signature:' "$MSG" | grep -v '^ ' >"$TMP/unsigned.eml"
if /usr/bin/python3 -c 'import dkim' 2>/dev/null; then
	/usr/bin/python3 - "$TMP/unsigned.eml" "$D/rfc8463-rsa.private.pem" "$TMP/l.eml" <<'PYEOF'
import sys, dkim
msg = open(sys.argv[1], 'rb').read()
sig = dkim.sign(msg, b'test', b'football.example.com', open(sys.argv[2], 'rb').read(),
                canonicalize=(b'relaxed', b'simple'), length=True,
                include_headers=[b'from', b'to', b'subject'])
open(sys.argv[3], 'wb').write(sig + msg + b'Appended.\r\n')
PYEOF
	V --zone "$TMP/good.zone" --json "$TMP/l.eml"
	expect_rc 0
	expect_json 'j["signatures"][0]["result"] == "pass"' 'j["signatures"][0]["l"] == 55' \
		'j["signatures"][0]["l_risk"] is True' 'j["signatures"][0]["body_length"] == 68'
	V --zone "$TMP/good.zone" "$TMP/l.eml"
	expect_out "l=55: the body has 68 octets, 13 of them after the signed part"
else
	echo "SKIP l= case: dkimpy (python3-dkim) not installed"
fi

# ---- a header block over the reader's cap (1000 fields): malformed, 65 ------
{ i=0; while [ $i -lt 1001 ]; do echo "X-F$i: v"; i=$((i + 1)); done; echo; echo body; } >"$TMP/many.eml"
V --zone "$TMP/good.zone" "$TMP/many.eml"
expect_rc 65
expect_err_one_line

# ---- input and usage errors -----------------------------------------------
V --zone "$TMP/good.zone" "$TMP/does-not-exist.eml"
expect_rc 66
expect_err_one_line
V --zone "$TMP/good.zone" --now abc "$MSG"
expect_rc 64
V --zone "$TMP/good.zone" "$MSG" extra
expect_rc 64
V --zone "$TMP/good.zone" --authserv-id '' "$MSG"
expect_rc 64
V --zone "$TMP/good.zone" --resolver 127.0.0.1 "$MSG"
expect_rc 64
V --zone "$TMP/does-not-exist.zone" "$MSG"
expect_rc 66
run dkim verify --help
expect_rc 0
expect_out "Exit status"

# ---- check-key ---------------------------------------------------------------
BIGKEY="$D/keygen-rsa4104.pem"
C() { run dkim check-key --zone "$TMP/keys.zone" "$@"; }
keys="brisbane._domainkey TXT \"$ED\"
test._domainkey TXT \"$RSA\"
revoked._domainkey TXT \"v=DKIM1; k=rsa; p=\"
badk._domainkey TXT \"v=DKIM1; k=rsb; p=MIGf\"
testing._domainkey TXT \"v=DKIM1; k=ed25519; t=y; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"
sha1only._domainkey TXT \"v=DKIM1; k=ed25519; h=sha1; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"
multi._domainkey TXT \"$ED\"
multi._domainkey TXT \"$RSA\"
deleg._domainkey CNAME k1.provider.example.
down._domainkey TXT \"$ED\""
zone keys.zone "$keys" '$FAULT slow._domainkey TIMEOUT'
printf '%s\n' '$ORIGIN provider.example.' 'k1 TXT "'"$ED"'"' >>"$TMP/keys.zone"
if command -v openssl >/dev/null 2>&1; then
	# the 4104-bit key: a record of about 700 octets in 3 strings
	big=$(openssl pkey -in "$BIGKEY" -pubout -outform DER | base64 -w0)
	strs=$(printf 'v=DKIM1; k=rsa; p=%s' "$big" | fold -w 255 | sed 's/.*/"&"/' | tr '\n' ' ')
	printf '%s\n' '$ORIGIN football.example.com.' "big._domainkey TXT $strs" >>"$TMP/keys.zone"
	# a 512-bit RSA key: under RFC 8301's 1024
	if openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 -out "$TMP/small.pem" 2>/dev/null; then
		small=$(openssl pkey -in "$TMP/small.pem" -pubout -outform DER | base64 -w0)
		printf '%s\n' "small._domainkey TXT \"v=DKIM1; k=rsa; p=$small\"" >>"$TMP/keys.zone"
	fi
fi

C brisbane football.example.com
expect_rc 0
expect_first_line "brisbane._domainkey.football.example.com: 0 errors, 0 warnings"
expect_out "key: ed25519, 256 bits"
expect_out "[publication-not-checked]"
# RSA-1024 (RFC 8463 A.1): accepted, but under 2048 bits: a warning
C test football.example.com
expect_rc 1
expect_out "[key-weak]"
expect_out "key: rsa, 1024 bits"
# the selector's own private key matches; an ed25519 selector's does not
C test football.example.com --key "$D/rfc8463-rsa.private.pem"
expect_rc 1
expect_out "[private-key-matches]"
C brisbane football.example.com --key "$D/rfc8463-rsa.private.pem"
expect_rc 2
expect_out "[private-key-mismatch]"
C revoked football.example.com
expect_rc 2
expect_out "[revoked]"
# the caret under p= (offset 16 in the record, 6 columns of indent)
expect_out "      v=DKIM1; k=rsa; p="
expect_line "$(grep -n '^      v=DKIM1; k=rsa; p=$' "$OUT" | head -1 | cut -d: -f1 | awk '{print $1+1}')" \
	"                      ^"
C badk football.example.com
expect_rc 2
expect_out "[invalid-record]"
expect_out 'tag "k" at offset 9'
expect_out "               ^"
C testing football.example.com
expect_rc 1
expect_out "[testing]"
C sha1only football.example.com
expect_rc 2
expect_out "[hash-excluded]"
C multi football.example.com
expect_rc 1
expect_out "[multiple-records]"
C deleg football.example.com
expect_rc 0
expect_out "cname: deleg._domainkey.football.example.com -> k1.provider.example"
expect_out "[cname]"
C nosuch football.example.com
expect_rc 2
expect_out "[no-key]"
C slow football.example.com
expect_rc 3
expect_first_line "slow._domainkey.football.example.com: could not be checked"
expect_out "[lookup-failed]"
if [ -n "${big:-}" ]; then
	C big football.example.com
	expect_rc 1
	expect_out "key: rsa, 4104 bits"
	expect_out "[answer-too-large]"
	expect_out "[split-record] the record is published as 3 strings"
	# the same record expected: over 255 octets, so the zone-file line in strings
	C big football.example.com --expect "v=DKIM1; k=rsa; p=$big"
	expect_rc 1
	expect_no_out "[expect-differs]"
	expect_out "[expect-needs-split]"
	expect_out "big._domainkey.football.example.com. IN TXT ( \"v=DKIM1; k=rsa; p="
fi
if [ -n "${small:-}" ]; then
	C small football.example.com
	expect_rc 2
	expect_out "[key-too-small] RSA key of 512 bits"
fi
# --expect: the same key (other spacing) is no finding; another key is
C brisbane football.example.com --expect 'v=DKIM1;k=ed25519;  p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='
expect_rc 0
expect_no_out "[expect-"
C brisbane football.example.com --expect "$RSA"
expect_rc 2
expect_out "[expect-differs]"
C brisbane football.example.com --expect 'v=DKIM1; k=ed25519; p=!!'
expect_rc 2
expect_out "[expect-invalid]"
# JSON shape
C multi football.example.com --json
expect_rc 1
expect_json 'j["name"] == "multi._domainkey.football.example.com"' 'j["checked"] is True' \
	'j["cname"] is None' 'j["key"]["txt_records"] == 2' 'j["key"]["type"] == "ed25519"' \
	'j["key"]["bits"] == 256' 'j["key"]["private_key_matches"] is None' \
	'j["summary"]["warnings"] >= 1' \
	'"multiple-records" in [f["code"] for f in j["findings"]]' \
	'all(set(f) == {"code", "severity", "message", "fix", "record", "offset", "length"} for f in j["findings"])' \
	'j["nameservers"] == []'
C revoked football.example.com --json
expect_json 'j["key"]["revoked"] is True' \
	'[f for f in j["findings"] if f["code"] == "revoked"][0]["offset"] == 16'
# usage
C onlyselector
expect_rc 64
C 'bad selector' football.example.com
expect_rc 64
C brisbane football.example.com --key "$TMP/no-such-key.pem"
expect_rc 66
echo "not a key" >"$TMP/junk.pem"
C brisbane football.example.com --key "$TMP/junk.pem"
expect_rc 65
run dkim check-key --help
expect_rc 0
finish
