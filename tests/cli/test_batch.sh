# CLI tests: "spf check --batch" on tests/cli/data/spf.zone (offline).
# Expected results come from RFC 7208 applied to the zone's records (the
# rule is noted next to each case) and from the documented output format
# (mailtrust-spf(1), BATCH CHECKS), not from the program's output.
. "$(dirname "$0")/lib.sh"

batch() { run spf check --zone "$ZONE" "$@"; }
# expect_lines N: stdout has exactly N lines.
expect_lines() {
	n=$(wc -l <"$OUT" | tr -d ' ')
	if [ "$n" = "$1" ]; then ok; else bad "$n output lines, want $1"; fi
}
# expect_err_lines N: stderr has exactly N lines.
expect_err_lines() {
	n=$(wc -l <"$ERR" | tr -d ' ')
	if [ "$n" = "$1" ]; then ok; else bad "$n stderr lines, want $1"; fi
}

# ---- order and results ------------------------------------------------------
# Seven kinds of line, each with the result RFC 7208 gives on spf.zone:
#  pass      mx of example.com is mail (192.0.2.10)          (5.4)
#  fail      192.0.2.99 reaches "-all" of example.com          (4.6.2)
#  softfail  soft: "ip4:192.0.2.1 ~all", client 192.0.2.2      (4.6.2)
#  neutral   neutral: "?all"                                   (4.6.2)
#  none      nospf holds a TXT record that is not SPF          (4.5)
#  temperror the TXT lookup of tempfail answers SERVFAIL       (4.4)
#  permerror twospf has two SPF records                        (4.5)
cat >"$TMP/kinds" <<'EOF'
pass 192.0.2.10 alice@example.com mail.example.com
fail 192.0.2.99 alice@example.com mail.example.com
softfail 192.0.2.2 x@soft.example.com h.example.org
neutral 192.0.2.2 x@neutral.example.com h.example.org
none 192.0.2.2 x@nospf.example.com h.example.org
temperror 192.0.2.2 x@tempfail.example.com h.example.org
permerror 192.0.2.2 x@twospf.example.com h.example.org
EOF
# 301 lines cycling through the kinds in a scrambled order, plus
# comments and blank lines that are skipped but counted.
: >"$TMP/in"
: >"$TMP/want"
i=0
n=0
while [ $i -lt 301 ]; do
	k=$(( (i * 5 + i / 7) % 7 + 1 ))
	set -- $(sed -n "${k}p" "$TMP/kinds")
	n=$((n + 1))
	echo "$2 $3 $4" >>"$TMP/in"
	echo "$n $1 $2 $3 $4" >>"$TMP/want"
	if [ $((i % 50)) -eq 0 ]; then
		printf '# a comment\n\n   \t\n  # indented comment\n' >>"$TMP/in"
		n=$((n + 4))
	fi
	i=$((i + 1))
done
batch --batch "$TMP/in"
LAST="spf check --batch (301 lines)"
expect_rc 0
expect_no_err
expect_lines 301
# Field by field: LINE: RESULT IP SENDER HELO DOMAIN ...
awk '{ sub(/:$/, "", $1); print $1, $2, $3, $4, $5 }' "$OUT" >"$TMP/got"
if cmp -s "$TMP/got" "$TMP/want"; then ok
else bad "results differ from RFC 7208's: $(diff "$TMP/want" "$TMP/got" | head -5)"; fi
# DOMAIN is the sender's domain (4.3 check_host(<domain of sender>))
awk '{ split($4, a, "@"); if ($6 != a[2]) { print; exit 1 } }' "$OUT" >"$TMP/bad" && ok ||
	bad "DOMAIN field is not the sender's domain: $(cat "$TMP/bad")"

# The same input on standard input ("-") gives the same output.
cp "$OUT" "$TMP/out_file"
"$MT" spf check --zone "$ZONE" --batch - <"$TMP/in" >"$OUT" 2>"$ERR"
RC=$?
LAST="spf check --batch - <in"
expect_rc 0
if cmp -s "$OUT" "$TMP/out_file"; then ok; else bad "stdin output differs from file output"; fi

# ---- the text format, exactly -------------------------------------------------
printf '192.0.2.10 alice@example.com mail.example.com\n' >"$TMP/one"
batch --batch "$TMP/one"
expect_rc 0
# 5.4: mx matches; the term as written is "mx" in example.com's own record
expect_line 1 '1: pass 192.0.2.10 alice@example.com mail.example.com example.com mechanism mx'
# include (5.2): the matching term of the top record is the include
printf '198.51.100.7 bob@inc.example.com h.example.org\n' >"$TMP/one"
batch --batch "$TMP/one"
expect_line 1 '1: pass 198.51.100.7 bob@inc.example.com h.example.org inc.example.com mechanism include:_spf.example.net'
# redirect (6.1): the mx of example.com decides, it is in example.com's record
printf '192.0.2.10 bob@redir.example.com h.example.org\n' >"$TMP/one"
batch --batch "$TMP/one"
expect_line 1 '1: pass 192.0.2.10 bob@redir.example.com h.example.org redir.example.com mechanism mx of example.com'
# nomatch: "v=spf1 ip4:192.0.2.1" with no match is neutral (4.7), nothing after DOMAIN
printf '192.0.2.2 x@nomatch.example.com h.example.org\n' >"$TMP/one"
batch --batch "$TMP/one"
expect_line 1 '1: neutral 192.0.2.2 x@nomatch.example.com h.example.org nomatch.example.com'
# temperror: "problem" and the reason, naming the name that failed
printf '192.0.2.2 x@tempfail.example.com h.example.org\n' >"$TMP/one"
batch --batch "$TMP/one"
expect_first_line '1: temperror 192.0.2.2 x@tempfail.example.com h.example.org tempfail.example.com problem '
expect_out 'tempfail.example.com'

# ---- the null reverse-path: "<>" and "-" (RFC 7208 2.4) ------------------------
# postmaster@mail.example.com is checked against mail's "v=spf1 a -all"
cat >"$TMP/null" <<'EOF'
192.0.2.10 <> mail.example.com
192.0.2.99 - mail.example.com
192.0.2.10 - -
EOF
batch --batch "$TMP/null"
expect_rc 0
expect_line 1 '1: pass 192.0.2.10 <> mail.example.com mail.example.com mechanism a'
expect_line 2 '2: fail 192.0.2.99 <> mail.example.com mail.example.com mechanism -all'
# no sender and no HELO: no domain to check, "none" (4.3), the domain
# column "-", not empty
expect_first_line '1: pass'
if sed -n 3p "$OUT" | grep -q '^3: none 192.0.2.10 <> - - problem the sender is empty'; then ok
else bad "line 3 (no sender, no HELO) is not none"; fi
expect_no_err

# ---- IPv6 and --identity helo -------------------------------------------------
# 5.4: mail.example.com has AAAA 2001:db8::10; "a" of mail's policy (HELO
# identity, 2.3) matches it; 192.0.2.99 does not
cat >"$TMP/helo" <<'EOF'
2001:db8::10 x@elsewhere.example mail.example.com
192.0.2.99 x@elsewhere.example mail.example.com
EOF
batch --identity helo --batch "$TMP/helo"
expect_rc 0
expect_line 1 '1: pass 2001:db8::10 x@elsewhere.example mail.example.com mail.example.com mechanism a'
expect_line 2 '2: fail 192.0.2.99 x@elsewhere.example mail.example.com mail.example.com mechanism -all'

# ---- malformed lines: reported by number, the batch goes on ----------------------
long=$(printf '%01000d' 0)
{
	echo '192.0.2.10 alice@example.com mail.example.com'          # 1 pass
	echo '1.2.3 alice@example.com mail.example.com'               # 2 bad IP
	echo '192.0.2.10 alice@example.com'                           # 3 two fields
	echo '192.0.2.10 a@example.com mail.example.com extra'        # 4 four fields
	echo '192.0.2.99 alice@example.com mail.example.com'          # 5 fail
	printf '192.0.2.10 alice@example.com mail.example.com %s\n' "$(printf '%0979d' 0)" | cut -c1-1025 # 6: 1025 octets
	echo '192.0.2.10 noatsign mail.example.com'                   # 7 no '@': none (4.3)
	printf '192.0.2.10 a@example.com mail\000.example.com\n'      # 8 NUL octet
	echo '192.0.2.10 alice@example.com mail.example.com'          # 9 pass
	echo "192.0.2.10 alice@example.com mail.example.com #$long" | cut -c1-1024 # 10: 1024 octets, 4 fields
	printf '%-1024s\n' '192.0.2.10 alice@example.com mail.example.com' # 11: 1024 octets, pass
	printf '192.0.2.99 alice@example.com mail.example.com\r\n'    # 12 CRLF: fail
	printf '192.0.2.10\talice@example.com \t mail.example.com\n'  # 13 tabs: pass
	printf '192.0.2.10 alice@example.com mail.example.com'        # 14 no final newline: pass
} >"$TMP/mal"
LAST="length of line 6"
[ "$(sed -n 6p "$TMP/mal" | wc -c)" -eq 1026 ] && ok || bad "test input line 6 is not 1025 octets"
LAST="length of line 11"
[ "$(sed -n 11p "$TMP/mal" | wc -c)" -eq 1025 ] && ok || bad "test input line 11 is not 1024 octets"
batch --batch "$TMP/mal"
expect_rc 65
expect_lines 14
awk '{ print $1, $2 }' "$OUT" >"$TMP/got"
cat >"$TMP/want" <<'EOF'
1: pass
2: malformed
3: malformed
4: malformed
5: fail
6: malformed
7: none
8: malformed
9: pass
10: malformed
11: pass
12: fail
13: pass
14: pass
EOF
LAST="spf check --batch (malformed lines)"
if cmp -s "$TMP/got" "$TMP/want"; then ok
else bad "results differ: $(diff "$TMP/want" "$TMP/got" | head -8)"; fi
expect_line 2 "2: malformed - - - - problem '1.2.3' is not an IPv4 or IPv6 address"
expect_err "mailtrust: batch line 2: '1.2.3' is not an IPv4 or IPv6 address"
expect_err "mailtrust: batch line 3: "
expect_err "mailtrust: batch line 4: "
expect_err "mailtrust: batch line 6: "
expect_err "1024 octets"
expect_line 7 "7: none 192.0.2.10 noatsign mail.example.com noatsign problem the sender 'noatsign' has no '@'; taken as a domain, it is not a multi-label domain name: nothing to check under RFC 7208 section 4.3"
expect_err "mailtrust: batch line 8: "
expect_err "mailtrust: batch line 10: "
expect_err_lines 6
# the tab-separated line echoes its fields with single spaces
expect_line 13 '13: pass 192.0.2.10 alice@example.com mail.example.com example.com mechanism mx'
# hostile bytes in a malformed field never reach the terminal raw
printf '1.2.3\033[31m a@example.com h\n' >"$TMP/esc"
batch --batch "$TMP/esc"
expect_rc 65
LAST="escape in a malformed line"
if grep -q "$(printf '\033')" "$OUT" "$ERR"; then bad "raw ESC written"; else ok; fi
expect_out '\x1B[31m'
# the address is judged by the library (mt_spf_check_start): a bad IPv6
# address and a 100-octet one are malformed lines, echoed as read (tabs too)
long=$(printf '%0100d' 1)
printf '2001:db8::1::2\ta@example.com\th\n%s a@example.com h\n' "$long" >"$TMP/badip"
batch --batch "$TMP/badip" --json
expect_rc 65
expect_lines 2
LAST="spf check --batch (bad addresses)"
"$PYTHON" -c '
import json, sys
raw = open(sys.argv[1]).read().split("\n")
for n, text in enumerate(open(sys.argv[2])):
    j = json.loads(text)
    assert j["result"] == "malformed", j
    assert j["input"] == raw[n], (j["input"], raw[n])
    assert j["error"].endswith("is not an IPv4 or IPv6 address"), j["error"]
' "$TMP/badip" "$OUT" >"$TMP/pyout" 2>&1
if [ $? -eq 0 ]; then ok; else bad "bad addresses: $(tail -3 "$TMP/pyout")"; fi

# ---- JSON lines ------------------------------------------------------------------
batch --batch "$TMP/mal" --json
LAST="spf check --batch --json"
expect_rc 65
expect_lines 14
# the members of a single check's --json object, for comparison
"$MT" spf check --zone "$ZONE" --ip 192.0.2.10 --sender alice@example.com --json >"$TMP/single"
cat >"$TMP/check.py" <<'EOF'
import json, sys
single = json.load(open(sys.argv[1]))
want = [l.split() for l in open(sys.argv[2])]
raw = open(sys.argv[3], "rb").read().split(b"\n")
n = 0
for text in sys.stdin:
    j = json.loads(text)
    assert isinstance(j, dict)
    lineno, result = int(want[n][0].rstrip(":")), want[n][1]
    assert j["line"] == lineno, (n, j["line"], lineno)
    assert j["result"] == result, (lineno, j["result"], result)
    if result == "malformed":
        assert set(j) == {"line", "result", "error", "input"}, sorted(j)
        assert isinstance(j["error"], str) and j["error"], j
        if lineno in (2, 3, 10):   # the line as read
            assert j["input"] == raw[lineno - 1].decode(), (lineno, j["input"])
        if lineno == 2:
            assert j["error"] == "'1.2.3' is not an IPv4 or IPv6 address", j["error"]
    else:
        # the single check's members, plus "line"
        assert set(j) == set(single) | {"line"}, sorted(set(j) ^ set(single))
        assert j["ip"] in ("192.0.2.10", "192.0.2.99"), j["ip"]
        assert j["exit_code"] == {"pass": 0, "fail": 1, "none": 4}[result]
        # example.com is "v=spf1 mx -all": the mx term is the one
        # DNS-querying term evaluated, on every line (4.6.4); "noatsign"
        # is no domain to look up (4.3)
        assert j["lookups"] == (0 if result == "none" else 1), (lineno, j["lookups"])
    n += 1
assert n == len(want), (n, len(want))
print("ok")
EOF
"$PYTHON" "$TMP/check.py" "$TMP/single" "$TMP/want" "$TMP/mal" <"$OUT" >"$TMP/pyout" 2>&1
if [ $? -eq 0 ]; then ok; else bad "JSON lines: $(tail -3 "$TMP/pyout")"; fi
# a line's object equals the single check's object (but for "line")
printf '192.0.2.10 alice@example.com mail.example.com\n' >"$TMP/one"
batch --batch "$TMP/one" --json
"$PYTHON" -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert b.pop("line") == 1
for k in a:
    if k not in ("received_spf", "authentication_results"):   # no --helo in the single check
        assert a[k] == b[k] or k in ("helo",), (k, a[k], b[k])
' "$TMP/single" "$OUT" >"$TMP/pyout" 2>&1 && ok || bad "batch object differs: $(tail -2 "$TMP/pyout")"

# ---- exit status and usage ------------------------------------------------------
batch --batch "$TMP/does-not-exist"
expect_rc 66
expect_err_one_line
expect_err "does-not-exist"
batch --batch "$TMP"
LAST="spf check --batch DIRECTORY"
expect_rc 66
batch --batch "$TMP/one" --ip 192.0.2.1
expect_rc 64
batch --batch "$TMP/one" example.com
expect_rc 64
batch --batch "$TMP/one" --trace
expect_rc 64
run spf check --batch
expect_rc 64
# an empty input, or comments only: nothing to do, success
printf '# nothing\n\n' >"$TMP/empty"
batch --batch "$TMP/empty"
expect_rc 0
expect_lines 0
expect_no_err
# a malformed zone file still stops before the batch (65, file:line)
printf 'example.com. IN TXT "unterminated\n' >"$TMP/bad.zone"
run spf check --zone "$TMP/bad.zone" --batch "$TMP/one"
expect_rc 65
expect_lines 0
# all lines fine but every result fail: still 0 (every line was checked)
printf '192.0.2.99 a@example.com h\n192.0.2.98 b@example.com h\n' >"$TMP/fails"
batch --batch "$TMP/fails"
expect_rc 0
expect_lines 2
# progress is for terminals only: stderr is a file here
expect_no_err
# --help documents --batch
run spf check --help
expect_out '--batch FILE|-'
finish
