# CLI tests: "mailtrust verify", a receiver's verdict on a message.  The
# keys are made here with "dkim keygen", the messages signed here with
# "dkim sign", and the zone written here; expected results come from RFC
# 7208 (SPF), RFC 6376 (DKIM), draft-ietf-dmarc-dmarcbis-41 (DMARC:
# alignment 4.4, policy discovery 4.10, sp=/np= 4.7) and RFC 8601 (the
# field).  The field is parsed by a second implementation, Debian's
# python3-authres, and its values compared with what the test knows.
. "$(dirname "$0")/lib.sh"

cd "$TMP" || exit 99
"$MT" dkim keygen --domain example.com --selector ed --type ed25519 --out ed.pem >k1 &&
"$MT" dkim keygen --domain example.com --selector rsa --bits 1024 --out rsa.pem >k2 ||
	{ echo "keygen failed"; exit 99; }
tail -n 1 k1 >zone
tail -n 1 k2 >>zone
cat >>zone <<'EOF'
example.com. TXT "v=spf1 ip4:192.0.2.1 -all"
mail.example.com. TXT "v=spf1 ip4:192.0.2.1 -all"
_dmarc.example.com. TXT "v=DMARC1; p=reject; sp=quarantine; np=reject"
news.example.com. A 192.0.2.50
other.test. TXT "v=spf1 ip4:192.0.2.9 -all"
mail.other.test. TXT "v=spf1 ip4:192.0.2.9 -all"
nodmarc.test. TXT "v=spf1 ip4:192.0.2.1 -all"
slow.test. TXT "v=spf1 ip4:192.0.2.1 -all"
$FAULT _dmarc.slow.test. TIMEOUT
EOF

msg() { # FROM-ADDRESS > file: a CRLF message
	printf 'From: Alice <%s>\r\nTo: Bob <bob@example.org>\r\nSubject: Hello\r\nDate: Mon, 1 Dec 2026 08:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nHi  Bob,\r\n\r\nthe game was lost.\r\n' "$1"
}
sign() { # IN OUT: signed by ed and rsa for example.com
	"$MT" dkim sign --domain example.com --selector ed --key ed.pem --selector rsa --key rsa.pem \
		"$1" >"$2" || { echo "dkim sign failed"; exit 99; }
}
msg alice@example.com >plain.eml
sign plain.eml signed.eml
sed 's/game was lost/game was won/' signed.eml >tampered.eml
msg x@news.example.com >news.eml
sign news.eml news-signed.eml
msg x@ghost.example.com >ghost.eml
msg bob@nodmarc.test >nodmarc.eml
msg x@slow.test >slow.eml
{ printf 'From: Mallory <m@evil.test>\r\n'; cat signed.eml; } >twofrom.eml
tr -d '\r' <signed.eml >signed-lf.eml

# the first 8 characters of each signature's b= (RFC 6008 header.b), read
# from the signed message here, not from mailtrust's output
bvals=$("$PYTHON" - signed.eml <<'EOF'
import re, sys
data = open(sys.argv[1], 'rb').read().decode()
for m in re.finditer(r'(?ms)^DKIM-Signature:(.*?)\r\n(?=\S)', data):
    v = re.sub(r'\s', '', m.group(1))
    print(re.search(r'(?:^|;)b=([^;]*)', v).group(1)[:8])
EOF
)
B1=$(echo "$bvals" | sed -n 1p)
B2=$(echo "$bvals" | sed -n 2p)
[ -n "$B1" ] && [ -n "$B2" ] || { echo "no b= values in the signed message"; exit 99; }

V() { run verify --zone zone --authserv-id mx.example.org "$@"; }

# ---- everything passes -------------------------------------------------------
V --ip 192.0.2.1 --helo mail.example.com --mail-from alice@example.com signed.eml
expect_rc 0
expect_no_err
expect_first_line "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=example.com; spf=pass smtp.helo=mail.example.com; dkim=pass header.d=example.com header.s=ed "
expect_out "dmarc=pass header.from=example.com policy.dmarc=reject"
cp "$OUT" pass.out
# one line only
if [ "$(wc -l <"$OUT")" -eq 1 ]; then ok; else bad "more than one line"; fi

# from standard input, LF line ends
LAST="mailtrust verify < signed-lf.eml"
"$MT" verify --zone zone --authserv-id mx --ip 192.0.2.1 --mail-from alice@example.com - \
	<signed-lf.eml >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0
expect_out "dkim=pass header.d=example.com header.s=rsa"

# ---- SPF fails, the body was changed: DMARC fails, p=reject ------------------
V --ip 198.51.100.7 --helo mail.example.com --mail-from alice@example.com tampered.eml
expect_rc 1
expect_out "spf=fail smtp.mailfrom=example.com"
expect_out "spf=fail smtp.helo=mail.example.com"
expect_out "dmarc=fail"
expect_out "policy.dmarc=reject"
cp "$OUT" fail.out

# SPF fails but the signatures pass: DMARC passes by DKIM
V --ip 198.51.100.7 --mail-from alice@example.com signed.eml
expect_rc 0
expect_out "spf=fail smtp.mailfrom=example.com"
expect_no_out "smtp.helo"

# SPF passes for another domain: not aligned
V --ip 192.0.2.9 --mail-from bounce@other.test tampered.eml
expect_rc 1
expect_out "spf=pass smtp.mailfrom=other.test"

# ---- null MAIL FROM: the HELO identity is DMARC's SPF identifier -------------
V --ip 192.0.2.1 --helo mail.example.com tampered.eml
expect_rc 0
expect_out "spf=pass smtp.helo=mail.example.com"
# '' is the null reverse-path: HELO's pass aligns (a literal empty address
# would leave DMARC without a passing identifier: fail, exit 1)
V --ip 192.0.2.1 --helo mail.example.com --mail-from '' tampered.eml
expect_rc 0
expect_out "spf=pass smtp.helo=mail.example.com"
# "<>" is the null reverse-path too, "<addr>" is addr
V --ip 198.51.100.7 --helo mail.example.com --mail-from '<>' tampered.eml
expect_rc 1
expect_out "spf=fail smtp.mailfrom=mail.example.com"
V --ip 192.0.2.1 --mail-from '<alice@example.com>' tampered.eml
expect_rc 0
expect_out "spf=pass smtp.mailfrom=example.com"
# ...but not when MAIL FROM is not null (RFC 7208 2.4, draft 4.4.2)
V --ip 192.0.2.1 --helo mail.example.com --mail-from bounce@other.test tampered.eml
expect_rc 1
expect_out "spf=fail smtp.mailfrom=other.test"
expect_out "spf=pass smtp.helo=mail.example.com"

# ---- sp= for an existing subdomain, np= for one that does not exist ----------
V --ip 198.51.100.7 --mail-from x@news.example.com news-signed.eml
expect_rc 0
expect_out "dmarc=pass header.from=news.example.com policy.dmarc=quarantine"
V --ip 198.51.100.7 --mail-from x@ghost.example.com --json ghost.eml
expect_rc 1
expect_json 'j["dmarc"]["result"] == "fail"' 'j["dmarc"]["policy"] == "reject"' \
	'j["dmarc"]["policy_tag"] == "np"' 'j["dmarc"]["disposition"] == "reject"' \
	'j["dkim"] == []' '"dkim=none" in j["authentication_results"]'

# ---- none, temperror, permerror ------------------------------------------------
V --ip 192.0.2.1 --mail-from bob@nodmarc.test nodmarc.eml
expect_rc 4
expect_out "dmarc=none"
expect_no_out "policy.dmarc"
cp "$OUT" none.out
V --ip 192.0.2.1 --mail-from x@slow.test --timeout 2000 slow.eml
expect_rc 5
expect_out "dmarc=temperror"
V --ip 192.0.2.1 --mail-from alice@example.com twofrom.eml
expect_rc 6
expect_out "dmarc=permerror reason="
expect_out "multiple-from-fields"
cp "$OUT" perm.out

# ---- JSON ------------------------------------------------------------------------
V --ip 192.0.2.1 --helo mail.example.com --mail-from alice@example.com --json signed.eml
expect_rc 0
expect_json 'j["dmarc"]["result"] == "pass"' 'j["dmarc"]["policy"] == "reject"' \
	'j["dmarc"]["disposition"] == "none"' 'j["dmarc"]["spf_aligned"] and j["dmarc"]["dkim_aligned"]' \
	'j["from"] == {"status": "ok", "domain": "example.com"}' \
	'j["spf"]["mailfrom"]["result"] == "pass" and j["spf"]["helo"]["result"] == "pass"' \
	'[d["s"] for d in j["dkim"]] == ["ed", "rsa"]' \
	'[d["result"] for d in j["dkim"]] == ["pass", "pass"]' \
	"[d['b'] for d in j['dkim']] == ['$B1', '$B2']" \
	'j["authentication_results"].startswith("Authentication-Results: mx.example.org; spf=pass")'

# ---- --add-header: the message, unchanged, under the field ---------------------
V --ip 192.0.2.1 --helo mail.example.com --mail-from alice@example.com --add-header signed.eml
expect_rc 0
cp "$OUT" added.eml
"$PYTHON" - added.eml signed.eml <<'EOF' >"$TMP/py" 2>&1 && ok || bad "--add-header output: $(cat "$TMP/py")"
import sys
out = open(sys.argv[1], 'rb').read()
msg = open(sys.argv[2], 'rb').read()
assert out.startswith(b'Authentication-Results: mx.example.org;\r\n\t'), out[:60]
assert out.endswith(msg), 'the message is not kept as it was'
field = out[:len(out) - len(msg)]
assert field.endswith(b'\r\n') and b'\n' not in field.replace(b'\r\n', b''), 'bare LF in field'
for line in field.split(b'\r\n')[1:-1]:
    assert line.startswith(b'\t'), line
EOF
# the signatures still verify with the field on top
run dkim verify --zone zone --authserv-id mx added.eml
expect_rc 0
# an LF message gets an LF field
V --ip 192.0.2.1 --add-header signed-lf.eml
if head -c 200 "$OUT" | grep -q "$(printf '\r')"; then bad "CR in the field of an LF message"; else ok; fi
if tail -n +2 "$OUT" | grep -v '^	' | head -n 1 | grep -q '^DKIM-Signature:'; then ok; else bad "message does not follow the field"; fi

# -o: written under a temporary name, then renamed; nothing else left
mkdir outdir
V --ip 192.0.2.1 --mail-from alice@example.com --add-header -o outdir/m.eml signed.eml
expect_rc 0
expect_no_err
if [ "$(ls -A outdir)" = "m.eml" ] && tail -c "$(wc -c <signed.eml)" outdir/m.eml | cmp -s - signed.eml
then ok; else bad "outdir: $(ls -A outdir)"; fi
V --ip 192.0.2.1 --mail-from alice@example.com --json --add-header -o outdir/m2.eml signed.eml
expect_rc 0
expect_json 'j["dmarc"]["result"] == "pass"'
if head -n 1 outdir/m2.eml | grep -q '^Authentication-Results: mx.example.org;'; then ok; else bad "m2.eml"; fi
V --ip 192.0.2.1 -o nodir/m.eml signed.eml
expect_rc 73
expect_err_one_line
if [ -e nodir ]; then bad "nodir created"; else ok; fi

# ---- python3-authres parses every field and finds the values -------------------
AUTHRES_PY=
for py in "$PYTHON" /usr/bin/python3; do
	if [ -x "$py" ] && "$py" -c 'import authres' 2>/dev/null; then AUTHRES_PY=$py; break; fi
done
if [ -z "$AUTHRES_PY" ]; then
	echo "SKIP python3-authres checks: no 'authres' module (Debian: python3-authres)"
else
	LAST="python3-authres parse"
	"$AUTHRES_PY" - pass.out fail.out none.out perm.out added.eml "$B1" "$B2" <<'EOF' >"$TMP/py" 2>&1 && ok || bad "$(cat "$TMP/py")"
import sys, authres
def parse(path):
    data = open(path, 'rb').read().decode()
    field = data.strip()
    if path.endswith('.eml'):
        # the first field, unfolded
        lines = data.split('\r\n')
        f = [lines[0]]
        for l in lines[1:]:
            if l.startswith('\t') or l.startswith(' '):
                f.append(l)
            else:
                break
        field = '\r\n'.join(f)
    h = authres.AuthenticationResultsHeader.parse(field)
    assert h.authserv_id == 'mx.example.org', h.authserv_id
    return h
def props(r):
    return {(p.type, p.name): p.value for p in r.properties}
b1, b2 = sys.argv[6], sys.argv[7]
for path in (sys.argv[1], sys.argv[5]):
    h = parse(path)
    got = [(r.method, r.result) for r in h.results]
    assert got == [('spf', 'pass'), ('spf', 'pass'), ('dkim', 'pass'), ('dkim', 'pass'), ('dmarc', 'pass')], got
    assert props(h.results[0]) == {('smtp', 'mailfrom'): 'example.com'}, props(h.results[0])
    assert props(h.results[1]) == {('smtp', 'helo'): 'mail.example.com'}, props(h.results[1])
    for r, s, a, b in ((h.results[2], 'ed', 'ed25519-sha256', b1), (h.results[3], 'rsa', 'rsa-sha256', b2)):
        p = props(r)
        assert p[('header', 'd')] == 'example.com' and p[('header', 's')] == s, p
        assert p[('header', 'a')] == a and p[('header', 'b')] == b, (p, b)
        assert p[('header', 'i')] == '@example.com', p
    assert props(h.results[4]) == {('header', 'from'): 'example.com', ('policy', 'dmarc'): 'reject'}, props(h.results[4])
h = parse(sys.argv[2])
assert [(r.method, r.result) for r in h.results] == [('spf', 'fail'), ('spf', 'fail'), ('dkim', 'fail'), ('dkim', 'fail'), ('dmarc', 'fail')]
assert h.results[2].reason and 'body hash' in h.results[2].reason, h.results[2].reason
assert props(h.results[4])[('policy', 'dmarc')] == 'reject'
h = parse(sys.argv[3])
assert (h.results[-1].method, h.results[-1].result) == ('dmarc', 'none')
assert props(h.results[-1]) == {('header', 'from'): 'nodmarc.test'}, props(h.results[-1])
assert [(r.method, r.result) for r in h.results][1] == ('dkim', 'none')
h = parse(sys.argv[4])
assert (h.results[-1].method, h.results[-1].result) == ('dmarc', 'permerror')
assert 'From' in h.results[-1].reason, h.results[-1].reason
EOF
fi

# ---- hostile messages: results, never a crash ----------------------------------
"$PYTHON" - <<'EOF' || exit 99
many = b''.join(b'From: u%d@d%d.test\r\n' % (i, i % 7) for i in range(3000))
open('manyfrom.eml', 'wb').write(many + b'Subject: x\r\n\r\nbody\r\n')
open('bighead.eml', 'wb').write(b'X-Big: ' + b'a' * (2 << 20) + b'\r\nFrom: a@example.com\r\n\r\nbody\r\n')
open('nul.eml', 'wb').write(b'From: a@example.com\r\nSubject: x\x00y\r\n\r\nbo\x00dy\r\n')
EOF
V --ip 192.0.2.1 --mail-from a@example.com manyfrom.eml
expect_rc 6
expect_out "dkim=permerror"
expect_out "dmarc=permerror"
V --ip 192.0.2.1 --mail-from a@example.com bighead.eml
expect_rc 6
expect_out "header could not be read"
V --ip 192.0.2.1 --mail-from a@example.com nul.eml
expect_rc 0
expect_out "dmarc=pass header.from=example.com"

# ---- usage ---------------------------------------------------------------------
run verify --help
expect_rc 0
expect_out "Exit status"
run verify --zone zone signed.eml
expect_rc 64
expect_err_one_line
run verify --zone zone --ip 999.1.1.1 signed.eml
expect_rc 64
expect_err_one_line
run verify --zone zone --resolver 127.0.0.1 --ip 192.0.2.1 signed.eml
expect_rc 64
run verify --zone zone --ip 192.0.2.1 --json --add-header signed.eml
expect_rc 64
run verify --zone zone --ip 192.0.2.1 --bogus signed.eml
expect_rc 64
run verify --zone zone --ip 192.0.2.1 --authserv-id "$(printf 'mx\001')" signed.eml
expect_rc 64
expect_err "--authserv-id"
run verify --zone zone --ip 192.0.2.1 no-such-file.eml
expect_rc 66


# A large message is streamed, not held: without --add-header the peak
# memory stays far below the message's size (a signed header, then 200 MB
# of body read from a pipe).  Skipped under AddressSanitizer, whose
# allocator and shadow memory make RSS meaningless here.
if nm "$MT" 2>/dev/null | grep -q __asan_init; then
	echo "SKIP (ASan build): the large-message memory check"
elif [ ! -x /usr/bin/time ]; then
	echo "SKIP: /usr/bin/time (Debian: time) is not installed: the large-message memory check"
else
	LAST="mailtrust verify on a 200 MB message: peak RSS"
	{ sed -n '1,/^\r*$/p' signed.eml; yes 'a line of body text, long enough to count for something' |
		head -c 200000000; } |
		/usr/bin/time -f '%M' -o "$TMP/rss" "$MT" verify --zone zone --ip 192.0.2.1 \
		--mail-from alice@example.com - >"$OUT" 2>"$ERR"
	rss=$(tail -n 1 "$TMP/rss")
	if grep -q 'dkim=fail' "$OUT" && [ "$rss" -lt 60000 ]; then ok; else bad "peak RSS ${rss} KB (want < 60 MB), or no dkim=fail"; fi
	# --add-header too: the message is spooled, not held, and all of it
	# comes out behind the field
	LAST="mailtrust verify --add-header on a 200 MB message: peak RSS, whole output"
	{ sed -n '1,/^\r*$/p' signed.eml; yes 'a line of body text, long enough to count for something' |
		head -c 200000000; } |
		/usr/bin/time -f '%M' -o "$TMP/rss" "$MT" verify --zone zone --ip 192.0.2.1 \
		--mail-from alice@example.com --add-header - 2>"$ERR" | wc -c >"$OUT"
	rss=$(tail -n 1 "$TMP/rss")
	if [ "$(cat "$OUT")" -gt 200000000 ] && [ "$rss" -lt 60000 ]; then ok; else bad "peak RSS ${rss} KB (want < 60 MB), output $(cat "$OUT") octets"; fi
fi

finish
