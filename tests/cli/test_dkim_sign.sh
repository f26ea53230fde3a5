# CLI tests: "dkim sign".  Keys are made with "dkim keygen" and published
# in a zone file written here; the signed output is checked with
# "dkim verify" and byte by byte against the input it must carry unchanged.
. "$(dirname "$0")/lib.sh"

W="$TMP/w"
mkdir "$W" || exit 99
cd "$W" || exit 99

# verify FILE [NOW]: "dkim verify --json" against the zone, one line per
# signature in $TMP/v ("RESULT d=D s=S a=A l_risk=0|1 REASON"), its exit
# status in VRC
verify() {
	if [ -n "$2" ]; then
		"$MT" dkim verify --zone "$W/zone" --now "$2" --json "$1" >"$TMP/vj" 2>"$TMP/verr"
	else
		"$MT" dkim verify --zone "$W/zone" --json "$1" >"$TMP/vj" 2>"$TMP/verr"
	fi
	VRC=$?
	"$PYTHON" -c '
import json, sys
for s in json.load(sys.stdin)["signatures"]:
    print("%s d=%s s=%s a=%s l_risk=%d %s" % (s["result"], s["d"], s["s"], s["a"], s["l_risk"], s["reason"]))
' <"$TMP/vj" >"$TMP/v" 2>&1 || cat "$TMP/vj" "$TMP/verr" >>"$TMP/v"
}
# expect_verified FILE N [NOW]: N signatures, all pass
expect_verified() {
	verify "$1" "$3"
	n=$(grep -c '^pass ' "$TMP/v")
	total=$(wc -l <"$TMP/v" | tr -d ' ')
	if [ "$VRC" = 0 ] && [ "$n" = "$2" ] && [ "$total" = "$2" ]; then ok
	else bad "verify $1: status $VRC, $n of $total passing, want $2: $(cat "$TMP/v")"; fi
}
# expect_tail FILE ORIGINAL: FILE ends with ORIGINAL's bytes, unchanged, and
# what comes before them is DKIM-Signature fields only
expect_tail() {
	size=$(wc -c <"$2")
	if tail -c "$size" "$1" | cmp -s - "$2"; then ok; else bad "$1 does not end with $2"; fi
	total=$(wc -c <"$1")
	head -c $((total - size)) "$1" >"$TMP/fields"
	if grep -qv '^DKIM-Signature: \|^ ' "$TMP/fields"; then bad "not only fields before the message"
	else ok; fi
}
# a field's tag value (unfolded): tag FILE NAME [N]
tag() {
	"$PYTHON" - "$1" "$2" "${3:-1}" <<'EOF'
import re, sys
data = open(sys.argv[1], 'rb').read().decode('latin-1').replace('\r\n', '\n')
fields = re.findall(r'^DKIM-Signature:(.*(?:\n[ \t].*)*)', data, re.M)
f = re.sub(r'\s', '', fields[int(sys.argv[3]) - 1])
for t in f.split(';'):
    if t.startswith(sys.argv[2] + '='):
        print(t[len(sys.argv[2]) + 1:])
EOF
}

# ---- keys and the zone publishing them ----
"$MT" dkim keygen --domain example.com --selector rsa --bits 1024 --out rsa.pem >"$TMP/k1" &&
"$MT" dkim keygen --domain example.com --selector ed --type ed25519 --out ed.pem >"$TMP/k2" &&
"$MT" dkim keygen --domain example.com --selector other --type ed25519 --out other.pem >"$TMP/k3" ||
	{ echo "keygen failed"; exit 99; }
tail -n 1 "$TMP/k1" >zone
tail -n 1 "$TMP/k2" >>zone
cat >>zone <<'EOF'
revoked._domainkey.example.com. IN TXT "v=DKIM1; p="
multi._domainkey.example.com. IN TXT "v=DKIM1; k=rsa; p=!!"
$FAULT broken._domainkey.example.com. SERVFAIL
EOF
# "other" is published with ed.pem's record: another key than other.pem
sed -n 's/^ed\._domainkey/other._domainkey/p' zone >>zone
# "multi" has a bad record and ed.pem's
sed -n 's/^ed\._domainkey/multi._domainkey/p' zone >>zone

printf 'Received: from x by y; Mon, 1 Dec 2026 08:00:00 +0000\r\nFrom: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>,\r\n\tCarol <carol@example.org>\r\nSubject: Hello\r\nDate: Mon, 1 Dec 2026 08:00:00 +0000\r\n\r\nHi  Bob,\r\n\r\nbye\r\n\r\n' >crlf.eml
tr -d '\r' <crlf.eml >lf.eml

# ---- one key, then both in one run ----
run dkim sign --domain example.com --selector rsa --key rsa.pem crlf.eml
expect_rc 0
expect_no_err
cp "$OUT" s1.eml
expect_tail s1.eml crlf.eml
expect_verified s1.eml 1
LAST="h= of the default list, From oversigned"
if [ "$(tag s1.eml h)" = "from:subject:date:to:from" ]; then ok; else bad "h=$(tag s1.eml h)"; fi
LAST="c= default"
if [ "$(tag s1.eml c)" = "relaxed/relaxed" ]; then ok; else bad "c=$(tag s1.eml c)"; fi
LAST="lines of at most 78 columns"
if awk '{ sub(/\r$/, ""); if (length($0) > 78) exit 1 }' "$TMP/fields"; then ok; else bad "a longer line"; fi

run dkim sign --domain example.com --selector rsa --key rsa.pem --selector ed --key ed.pem crlf.eml
expect_rc 0
cp "$OUT" s2.eml
expect_tail s2.eml crlf.eml
expect_verified s2.eml 2
LAST="a= of the two fields"
if [ "$(tag s2.eml a 1) $(tag s2.eml a 2)" = "rsa-sha256 ed25519-sha256" ]; then ok
else bad "$(tag s2.eml a 1) $(tag s2.eml a 2)"; fi

# ---- LF input: LF fields; standard input, "-" and none ----
run dkim sign --domain example.com --selector ed --key ed.pem lf.eml
expect_rc 0
cp "$OUT" s3.eml
expect_tail s3.eml lf.eml
LAST="LF fields for LF input"
if tr -d '\n' <s3.eml | grep -q "$(printf '\r')"; then bad "a CR in the output"; else ok; fi
expect_verified s3.eml 1
"$MT" dkim sign --domain example.com --selector ed --key ed.pem --timestamp 1764576000 - <crlf.eml >s4.eml 2>"$ERR"
RC=$?
LAST="dkim sign -"
expect_rc 0
expect_tail s4.eml crlf.eml
expect_verified s4.eml 1
cat crlf.eml | "$MT" dkim sign --domain example.com --selector ed --key ed.pem --timestamp 1764576000 >s5.eml 2>"$ERR"
RC=$?
LAST="dkim sign from a pipe"
expect_rc 0
if cmp -s s4.eml s5.eml; then ok; else bad "a pipe and a redirect give other output"; fi

# standard input already partly read (a regular file): the rest is signed
# and copied, not the whole file
{ printf 'X-Envelope: skipped\n'; cat crlf.eml; } >prefixed.eml
{ read -r _; "$MT" dkim sign --domain example.com --selector ed --key ed.pem --timestamp 1764576000; } \
	<prefixed.eml >s5b.eml 2>"$ERR"
RC=$?
LAST="dkim sign with standard input part read"
expect_rc 0
if cmp -s s4.eml s5b.eml; then ok; else bad "not the fields and the rest of the input"; fi

# ---- options: c=, h=, t= x= l= i= ----
run dkim sign --domain example.com --selector rsa --key rsa.pem --canon simple/simple \
	--headers 'From:To:X-Absent' --oversign 'from:to' --timestamp 1764576000 --expire 3600 \
	--identity 'alice@mail.example.com' crlf.eml
expect_rc 0
cp "$OUT" s6.eml
LAST="tags"
got="$(tag s6.eml c) $(tag s6.eml h) $(tag s6.eml t) $(tag s6.eml x) $(tag s6.eml i) [$(tag s6.eml l)]"
if [ "$got" = "simple/simple From:To:from:to 1764576000 1764579600 alice@mail.example.com []" ]; then ok
else bad "$got"; fi
expect_verified s6.eml 1 1764576100
LAST="expired an hour later"
verify s6.eml 1764579601
if [ "$VRC" = 6 ] && grep -q '^permerror .*expired' "$TMP/v"; then ok; else bad "$VRC $(cat "$TMP/v")"; fi
# simple/simple: a changed space fails
sed 's/Hi  Bob/Hi Bob/' s6.eml >s6b.eml
verify s6b.eml 1764576100
LAST="simple body changed"
if grep -q '^fail .*body hash' "$TMP/v"; then ok; else bad "$(cat "$TMP/v")"; fi
# relaxed: the same change passes
sed 's/Hi  Bob/Hi Bob/' s1.eml >s1b.eml
expect_verified s1b.eml 1
# --body-length warns, writes l=; appended text still verifies (reported)
run dkim sign --domain example.com --selector rsa --key rsa.pem --body-length crlf.eml
expect_rc 0
expect_err "warning: --body-length"
cp "$OUT" s7.eml
LAST="l= is the canonical body length"
# relaxed body: "Hi Bob,\r\n\r\nbye\r\n" is 16 octets
if [ "$(tag s7.eml l)" = 16 ]; then ok; else bad "l=$(tag s7.eml l)"; fi
printf 'appended\r\n' >>s7.eml
expect_verified s7.eml 1
LAST="l= risk reported"
if grep -q 'l_risk=1' "$TMP/v"; then ok; else bad "$(cat "$TMP/v")"; fi
# without l= an appended line fails
cp s1.eml s1c.eml
printf 'appended\r\n' >>s1c.eml
verify s1c.eml
LAST="appended body without l="
if grep -q '^fail .*body hash' "$TMP/v"; then ok; else bad "$(cat "$TMP/v")"; fi
# an added From fails (oversigned)
{ printf 'From: Mallory <m@evil.example>\r\n'; cat s1.eml; } >s1d.eml
verify s1d.eml
LAST="added From"
if grep -q '^fail ' "$TMP/v"; then ok; else bad "$(cat "$TMP/v")"; fi

# ---- --output: through a temporary file; never the input ----
run dkim sign --domain example.com --selector ed --key ed.pem --timestamp 1764576000 -o out.eml crlf.eml
expect_rc 0
LAST="-o out.eml equals the standard output form"
if cmp -s out.eml s4.eml; then ok; else bad "differs"; fi
LAST="-o leaves no temporary file"
if ls -A | grep -q tmp; then bad "$(ls -A | tr '\n' ' ')"; else ok; fi
cp crlf.eml in.eml
run dkim sign --domain example.com --selector ed --key ed.pem -o in.eml in.eml
expect_rc 64
expect_err_one_line
expect_err "is the input file"
LAST="the input is unchanged"
if cmp -s in.eml crlf.eml; then ok; else bad "in.eml changed"; fi
ln -s in.eml link.eml
run dkim sign --domain example.com --selector ed --key ed.pem --output link.eml in.eml
expect_rc 64
# a message that cannot be signed: nothing written, an existing output kept
printf 'keep\n' >keep.eml
printf 'To: b@example.org\r\n\r\nbody\r\n' >nofrom.eml
run dkim sign --domain example.com --selector ed --key ed.pem -o keep.eml nofrom.eml
expect_rc 65
expect_err_one_line
expect_err "nofrom.eml"
expect_err "no From field"
LAST="keep.eml unchanged"
if [ "$(cat keep.eml)" = keep ]; then ok; else bad "changed"; fi
printf ' continued\r\nFrom: a@example.com\r\n\r\n' >cont.eml
run dkim sign --domain example.com --selector ed --key ed.pem cont.eml
expect_rc 65
expect_err "cont.eml:1: cannot be signed"
expect_err "continuation"
# the header cap (1000 fields): FILE:LINE of the field past it
"$PYTHON" -c "import sys; sys.stdout.write('From: a@example.com\r\n' + 'X: y\r\n' * 1200 + '\r\nbody\r\n')" >many.eml
run dkim sign --domain example.com --selector ed --key ed.pem many.eml
expect_rc 65
expect_err_one_line
expect_err "many.eml:1001: cannot be signed"
expect_err "1000 fields"
# a write failure: exit 74, no output file or temporary file left
(trap '' XFSZ; ulimit -f 1; exec "$MT" dkim sign --domain example.com --selector ed --key ed.pem \
	-o big.eml s2.eml) >"$OUT" 2>"$ERR"
RC=$?
LAST="dkim sign -o with ulimit -f 1"
expect_rc 74
expect_err "big.eml"
LAST="nothing left after a failed write"
if ls -A | grep -q 'big'; then bad "$(ls -A | tr '\n' ' ')"; else ok; fi

# ---- --check-published ----
run dkim sign --domain example.com --selector rsa --key rsa.pem --selector ed --key ed.pem \
	--check-published --zone zone crlf.eml
expect_rc 0
expect_no_err
run dkim sign --domain example.com --selector multi --key ed.pem --check-published --zone zone crlf.eml
expect_rc 0
run dkim sign --domain example.com --selector other --key other.pem --check-published --zone zone crlf.eml
expect_rc 3
expect_err_one_line
expect_err "other.pem"
expect_err "other._domainkey.example.com"
LAST="nothing written on a refused key"
if [ -s "$OUT" ]; then bad "output written"; else ok; fi
run dkim sign --domain example.com --selector ed --key rsa.pem --check-published --zone zone crlf.eml
expect_rc 3
expect_err "ed25519"
run dkim sign --domain example.com --selector nokey --key ed.pem --check-published --zone zone crlf.eml
expect_rc 3
expect_err "no key is published"
run dkim sign --domain example.com --selector revoked --key ed.pem --check-published --zone zone crlf.eml
expect_rc 3
expect_err "revoked"
run dkim sign --domain example.com --selector broken --key ed.pem --check-published --zone zone crlf.eml
expect_rc 5
expect_err "SERVFAIL"
printf 'bad zone line (\n' >badzone
run dkim sign --domain example.com --selector ed --key ed.pem --check-published --zone badzone crlf.eml
expect_rc 65
expect_err "badzone:1"

# ---- usage and input errors ----
run dkim sign --help
expect_rc 0
expect_out "--check-published"
run dkim --help
expect_out "sign"
run dkim sign --domain example.com --selector ed crlf.eml
expect_rc 64
expect_err "--key is required"
run dkim sign --domain example.com --selector ed --key ed.pem --key rsa.pem crlf.eml
expect_rc 64
expect_err "one selector per key"
run dkim sign --domain example.com --selector ed --key ed.pem --zone zone crlf.eml
expect_rc 64
run dkim sign --domain example.com --selector ed --key ed.pem --timeout 100 crlf.eml
expect_rc 64
expect_err "--timeout is only used with --check-published"
run dkim sign --domain example --selector ed --key ed.pem crlf.eml
expect_rc 64
expect_err "one label"
run dkim sign --domain example.com --selector ed --key ed.pem --identity a@example.org crlf.eml
expect_rc 64
expect_err "subdomain"
run dkim sign --domain example.com --selector ed --key ed.pem --canon loose crlf.eml
expect_rc 64
expect_err "--canon"
run dkim sign --domain example.com --selector ed --key ed.pem --headers to:subject crlf.eml
expect_rc 64
expect_err "From"
run dkim sign --domain example.com --selector ed --key ed.pem --timestamp 0 --expire 60 crlf.eml
expect_rc 64
run dkim sign --domain example.com --selector ed --key missing.pem crlf.eml
expect_rc 66
expect_err "missing.pem"
printf 'not a key\n' >junk.pem
run dkim sign --domain example.com --selector ed --key junk.pem crlf.eml
expect_rc 65
expect_err_one_line
expect_err "junk.pem"
run dkim sign --domain example.com --selector ed --key ed.pem missing.eml
expect_rc 66
expect_err "missing.eml"
run dkim sign --domain example.com --selector ed --key ed.pem crlf.eml lf.eml
expect_rc 64

# ---- interoperability: dkimpy (Debian python3-dkim) verifies what we sign,
# when it is installed: rsa and ed25519, every c=, LF and CRLF, with l= ----
DKIMPY=""
for py in "$PYTHON" /usr/bin/python3; do
	if [ -x "$py" ] && "$py" -c 'import dkim' 2>/dev/null; then DKIMPY=$py; break; fi
done
if [ -z "$DKIMPY" ]; then
	echo "SKIP dkimpy interoperability: no python3 with the dkim module (Debian: python3-dkim)"
else
	cat >dkimpy_verify.py <<'EOF'
import re, sys, dkim
zone = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\S+)\. IN TXT \( (.*) \)', line)
    if m:
        zone[m.group(1).encode()] = ''.join(re.findall(r'"([^"]*)"', m.group(2))).encode()
def dnsfunc(name, timeout=5):
    return zone.get(name.rstrip(b'.'))
msg = open(sys.argv[2], 'rb').read()
n = len(re.findall(rb'^DKIM-Signature:', msg, re.M))
print(' '.join(str(dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)) for i in range(n)))
EOF
	for c in simple/simple simple/relaxed relaxed/simple relaxed/relaxed; do
		for f in crlf.eml lf.eml; do
			for l in "" --body-length; do
				"$MT" dkim sign --domain example.com --selector rsa --key rsa.pem --selector ed \
					--key ed.pem --canon $c $l $f >interop.eml 2>/dev/null
				LAST="dkimpy verifies $c $f $l"
				got=$("$DKIMPY" dkimpy_verify.py zone interop.eml 2>&1)
				if [ "$got" = "True True" ]; then ok; else bad "dkimpy says: $got"; fi
			done
		done
	done
fi

finish
