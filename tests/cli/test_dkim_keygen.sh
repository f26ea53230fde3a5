# CLI tests: "dkim keygen".  The record's p= is checked against the
# private key with openssl itself (RFC 6376 3.6.1: base64 of the DER
# SubjectPublicKeyInfo; RFC 8463 4: base64 of the 32 raw octets).
. "$(dirname "$0")/lib.sh"

if ! command -v openssl >/dev/null 2>&1; then
	echo "SKIP: openssl not installed (Debian: openssl)"
	exit 0
fi

W="$TMP/w"
mkdir "$W" || exit 99
cd "$W" || exit 99

# file_mode FILE: its permission bits in octal
file_mode() { stat -c %a "$1"; }
# check_key FILE TYPE: openssl reads the PEM; its public key is the record's p=
check_key() {
	LAST="openssl pkey -in $1"
	if openssl pkey -in "$1" -noout 2>"$TMP/ossl"; then ok; else bad "openssl: $(cat "$TMP/ossl")"; fi
	if head -n 1 "$1" | grep -qx -- '-----BEGIN PRIVATE KEY-----'; then ok; else bad "not PKCS#8 PEM"; fi
	if [ "$2" = rsa ]; then
		want=$(openssl pkey -in "$1" -pubout -outform DER | base64 -w0)
	else
		want=$(openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0)
	fi
	LAST="$1: record p= is the public key"
	if [ -n "$want" ] && [ "$record" = "v=DKIM1; k=$2; p=$want" ]; then ok
	else bad "record '$record', want p=$want"; fi
}
# text_record: the quoted strings of the text output, each <= 255 octets,
# joined into $record
text_record() {
	record=""
	LAST="string lengths"
	for s in $(grep '^"' "$OUT" | tr -d '"' | tr ' ' '_'); do
		n=$(printf '%s' "$s" | wc -c)
		if [ "$n" -le 255 ]; then ok; else bad "a string of $n octets"; fi
		record="$record$s"
	done
	record=$(printf '%s' "$record" | tr '_' ' ')
}

# ---- rsa, the defaults ----
umask 000
run dkim keygen --domain example.com --selector s2026
umask 022
expect_rc 0
expect_no_err
F=s2026.example.com.private.pem
LAST="default key file"
if [ -f "$F" ]; then ok; else bad "no $F"; fi
LAST="$F mode"
m=$(file_mode "$F")
if [ "$m" = 600 ]; then ok; else bad "mode $m, want 600 (even with umask 000)"; fi
expect_first_line "Private key: $F (rsa, 2048 bits"
text_record
check_key "$F" rsa
# a 2048-bit key's SPKI is 294 octets, 392 in base64: 410 octets, 2 strings
LAST="rsa 2048 record length"
if [ ${#record} = 410 ]; then ok; else bad "${#record} octets, want 410"; fi
n=$(grep -c '^"' "$OUT")
LAST="rsa 2048 strings"
if [ "$n" = 2 ]; then ok; else bad "$n strings, want 2"; fi
first=$(grep '^"' "$OUT" | head -n 1 | tr -d '"')
LAST="first string is 255 octets"
if [ ${#first} = 255 ]; then ok; else bad "${#first}"; fi
# the zone-file line is the last line
last=$(tail -n 1 "$OUT")
s1=$(grep '^"' "$OUT" | sed -n 1p)
s2=$(grep '^"' "$OUT" | sed -n 2p)
LAST="zone line"
if [ "$last" = "s2026._domainkey.example.com. IN TXT ( $s1 $s2 )" ]; then ok; else bad "last line '$last'"; fi
# no temporary file left behind
LAST="directory after keygen"
if [ "$(ls -A "$W")" = "$F" ]; then ok; else bad "holds $(ls -A "$W" | tr '\n' ' ')"; fi

# ---- never overwrite: exit 73, the file unchanged, nothing else created ----
printf 'keep me\n' >existing.pem
chmod 644 existing.pem
run dkim keygen --domain example.com --selector s2 --out existing.pem
expect_rc 73
expect_err_one_line
expect_err "existing.pem' exists"
if [ -s "$OUT" ]; then bad "stdout not empty"; else ok; fi
LAST="existing file unchanged"
if [ "$(cat existing.pem)" = "keep me" ] && [ "$(file_mode existing.pem)" = 644 ]; then ok; else bad "changed"; fi
run dkim keygen --domain example.com --selector s2026
expect_rc 73
LAST="$F unchanged"
if openssl pkey -in "$F" -noout 2>/dev/null && [ "$(file_mode "$F")" = 600 ]; then ok; else bad "changed"; fi
# a dangling symbolic link is not followed either
ln -s "$TMP/elsewhere" link.pem
run dkim keygen --domain example.com --selector s3 --out link.pem
expect_rc 73
LAST="symlink not followed"
if [ -e "$TMP/elsewhere" ]; then bad "created the link's target"; else ok; fi
rm -f link.pem existing.pem
run dkim keygen --domain example.com --selector s3 --out "$TMP/no/such/dir/k.pem"
expect_rc 73
expect_err_one_line

# ---- a failed write (file size limit; SIGXFSZ ignored, so write() fails
# with EFBIG): exit 74, neither the key file nor a temporary file left ----
(trap '' XFSZ; ulimit -f 1; exec "$MT" dkim keygen --domain example.com --selector full \
	--out full.pem) >"$OUT" 2>"$ERR"
RC=$?
LAST="dkim keygen with ulimit -f 1"
expect_rc 74
expect_err_one_line
expect_err "full.pem"
LAST="directory after a failed write"
if [ "$(ls -A "$W")" = "$F" ]; then ok; else bad "holds $(ls -A "$W" | tr '\n' ' ')"; fi

# ---- ed25519, --out, --json ----
run dkim keygen --domain Example.ORG. --selector ed.2026 --type ed25519 --out "$W/ed.pem" --json
expect_rc 0
expect_json 'j["domain"] == "Example.ORG"' 'j["selector"] == "ed.2026"' \
            'j["name"] == "ed.2026._domainkey.Example.ORG"' 'j["type"] == "ed25519"' \
            'j["bits"] == 256' 'j["record"].startswith("v=DKIM1; k=ed25519; p=")' \
            'len(j["record"]) == 22 + 44' 'j["strings"] == [j["record"]]' \
            'j["zone_line"] == "ed.2026._domainkey.Example.ORG. IN TXT ( \"" + j["record"] + "\" )"' \
            'j["key_file"] == "'"$W/ed.pem"'"' 'j["warning"] is None'
record=$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["record"])' <"$OUT")
check_key "$W/ed.pem" ed25519
LAST="ed.pem mode"
if [ "$(file_mode "$W/ed.pem")" = 600 ]; then ok; else bad "mode $(file_mode "$W/ed.pem")"; fi

# rsa 1024 with --json: strings of at most 255 octets that join to the record
run dkim keygen --domain example.com --selector small --bits 1024 --out r1024.pem --json
expect_rc 0
expect_json 'j["type"] == "rsa"' 'j["bits"] == 1024' '"".join(j["strings"]) == j["record"]' \
            'all(len(s) <= 255 for s in j["strings"])' 'len(j["strings"]) == 1' \
            'j["zone_line"].startswith("small._domainkey.example.com. IN TXT ( \"v=DKIM1; k=rsa; p=MIGfMA0G")'
record=$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["record"])' <"$OUT")
check_key r1024.pem rsa

# ---- refusals: exit 64, one line, no file ----
rm -f "$W"/*.pem
run dkim keygen --domain example.com --selector s --bits 512
expect_rc 64
expect_err_one_line
expect_err "512"
expect_err "RFC 8301"
run dkim keygen --domain example.com --selector s --bits 8193
expect_rc 64
run dkim keygen --domain example.com --selector s --bits 2k
expect_rc 64
run dkim keygen --domain example.com --selector s --type ed25519 --bits 2048
expect_rc 64
expect_err "ed25519"
run dkim keygen --domain example.com --selector s --type dsa
expect_rc 64
expect_err "'dsa'"
run dkim keygen --domain example.com --selector s_1
expect_rc 64
expect_err_one_line
expect_err "selector 's_1' has '_' at offset 1"
run dkim keygen --domain example.com --selector 'a..b'
expect_rc 64
expect_err "empty label"
run dkim keygen --domain com --selector s
expect_rc 64
expect_err "one label"
run dkim keygen --domain 'exa mple.com' --selector s
expect_rc 64
expect_err "domain"
run dkim keygen --domain '-x.example.com' --selector s
expect_rc 64
expect_err "starts with '-'"
run dkim keygen --domain "$(printf 'ex\033[31m.com')" --selector s
expect_rc 64
expect_err_one_line
LAST="escape in a domain"
if grep -q "$(printf '\033')" "$ERR"; then bad "raw ESC on stderr"; else ok; fi
run dkim keygen --selector s
expect_rc 64
expect_err "--domain is required"
run dkim keygen --domain example.com
expect_rc 64
expect_err "--selector is required"
run dkim keygen --domain example.com --selector s --out -
expect_rc 64
run dkim keygen --domain example.com --selector s extra
expect_rc 64
run dkim keygen --domain example.com --selector s --bogus
expect_rc 64
expect_err "'--bogus'"
LAST="no file after refusals"
if [ -z "$(ls -A "$W")" ]; then ok; else bad "left $(ls -A "$W" | tr '\n' ' ')"; fi

# ---- the area ----
run dkim --help
expect_rc 0
for cmd in keygen sign verify check-key; do expect_out "  $cmd "; done
expect_no_out "Not yet available"
run dkim keygen --help
expect_rc 0
expect_out "--out FILE"
run dkim
expect_rc 64
expect_err_one_line
# every command is available now: dkim sign without options is a usage error
run dkim sign
expect_rc 64
expect_err "--domain is required"
run dkim frobnicate
expect_rc 64
expect_err "unknown command 'frobnicate'"
run --help
expect_out "dkim"

finish
