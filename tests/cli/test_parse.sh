# CLI tests: "spf parse".  Offsets are counted by hand in the record text
# (each term starts after "v=spf1 " and the single spaces between terms).
. "$(dirname "$0")/lib.sh"

REC='v=spf1 ip4:192.0.2.0/24 mx:example.org/28//64 include:_spf.example.net ~all'
run spf parse "$REC"
expect_rc 0
expect_no_err
expect_out "record: $REC"
expect_out "valid: 4 terms"
# one header and one row per term, after the two summary lines and a blank
rows=$(sed -n '4,$p' "$OUT" | grep -c .)
if [ "$rows" = 5 ]; then ok; else bad "table has $rows lines, want 5"; fi
# each row: number, offset, the term as written, qualifier, kind ...
row=$(sed -n 5p "$OUT" | tr -s ' ')
if [ "$row" = "1 7 ip4:192.0.2.0/24 + ip4 /24 192.0.2.0" ]; then ok; else bad "row 1: '$row'"; fi
row=$(sed -n 6p "$OUT" | tr -s ' ')
if [ "$row" = "2 24 mx:example.org/28//64 + mx example.org /28 //64" ]; then ok; else bad "row 2: '$row'"; fi
row=$(sed -n 7p "$OUT" | tr -s ' ')
if [ "$row" = "3 46 include:_spf.example.net + include _spf.example.net" ]; then ok; else bad "row 3: '$row'"; fi
row=$(sed -n 8p "$OUT" | tr -s ' ')
if [ "$row" = "4 71 ~all ~ all" ]; then ok; else bad "row 4: '$row'"; fi
# the columns are aligned: "kind" starts at the same column in every row
# the columns are aligned: under "qualifier" every row has its qualifier
quals=$(sed -n '4,8p' "$OUT" | awk 'NR == 1 { c = index($0, "qualifier") } NR > 1 { printf "%s", substr($0, c, 1) }')
if [ "$quals" = "+++~" ]; then ok; else bad "qualifier column: '$quals'"; fi
# no trailing blanks
if grep -q ' $' "$OUT"; then bad "trailing blanks"; else ok; fi

run spf parse "$REC" --json
expect_rc 0
expect_json 'j["valid"] is True and j["record"] == "'"$REC"'" and len(j["terms"]) == 4'
expect_json '[t["offset"] for t in j["terms"]] == [7, 24, 46, 71]'
expect_json '[t["length"] for t in j["terms"]] == [16, 21, 24, 4]'
expect_json '[t["kind"] for t in j["terms"]] == ["ip4", "mx", "include", "all"]'
expect_json '[t["qualifier"] for t in j["terms"]] == ["+", "+", "+", "~"]'
expect_json 'j["terms"][0]["address"] == "192.0.2.0" and j["terms"][0]["cidr4"] == 24 and j["terms"][0]["cidr6"] is None'
expect_json 'j["terms"][1]["domain_spec"] == "example.org" and j["terms"][1]["cidr4"] == 28 and j["terms"][1]["cidr6"] == 64'
expect_json 'j["terms"][3]["domain_spec"] is None and j["terms"][3]["address"] is None'

# Modifiers: no qualifier; an unknown modifier keeps name and value (RFC 7208 6).
run spf parse 'v=spf1 ip6:2001:DB8::1 redirect=_spf.example.com foo=bar%{d}' --json
expect_rc 0
expect_json '[t["kind"] for t in j["terms"]] == ["ip6", "redirect", "modifier"]'
expect_json 'j["terms"][0]["address"] == "2001:db8::1" and j["terms"][0]["cidr6"] is None'
expect_json 'j["terms"][1]["qualifier"] is None and j["terms"][1]["domain_spec"] == "_spf.example.com"'
expect_json 'j["terms"][2]["name"] == "foo" and j["terms"][2]["value"] == "bar%{d}"'
run spf parse 'v=spf1'
expect_rc 0
expect_out "valid: 0 terms"

# Invalid records: the record, a caret under the offending term, the message.
# check_caret RECORD START LEN: line 1 is the record; line 2 is a caret
# line whose marks lie inside the offending term (octets START..START+LEN-1:
# the library may point at the term or at the bad part of it); line 3 the
# message.
check_caret() {
	expect_rc 1
	expect_line 1 "$1"
	caretline=$(sed -n 2p "$OUT")
	lead=${caretline%%^*}
	marks=${caretline#"$lead"}
	col=${#lead}
	case "$marks" in
	"^"*) if [ "$col" -ge "$2" ] && [ $((col + ${#marks})) -le $(($2 + $3)) ]; then ok
	      else bad "caret at $col+${#marks}, want inside $2..$(($2 + $3 - 1))"; fi ;;
	*) bad "no caret line: '$caretline'" ;;
	esac
	case "$(sed -n 3p "$OUT")" in
	"invalid: "?*) ok ;;
	*) bad "no message on line 3" ;;
	esac
}
R='v=spf1 ip4:192.0.2.300 -all'          # 4.6: bad ip4-network
run spf parse "$R"; check_caret "$R" 7 15
R='v=spf1 -all foo'                       # 4.6: "foo" is no mechanism
run spf parse "$R"; check_caret "$R" 12 3
R='v=spf1 a:example.com/33 -all'          # 5.6: ip4-cidr-length is 0..32
run spf parse "$R"; check_caret "$R" 7 16
R='v=spf1 redirect=a.example redirect=b.example'  # 6: redirect at most once
run spf parse "$R"; check_caret "$R" 26 18
R='v=spf1 ip6:2001:db8::/129'             # 5.6: ip6-cidr-length is 0..128
run spf parse "$R"; check_caret "$R" 7 18
run spf parse 'v=spf2 -all'               # not an SPF version 1 record
expect_rc 1
run spf parse 'v=spf1 ip4:192.0.2.300 -all' --json
expect_rc 1
expect_json 'j["valid"] is False and j["error"]["message"] != ""' \
            '7 <= j["error"]["offset"] and j["error"]["offset"] + j["error"]["length"] <= 7 + 15'
# control characters are not sent to the terminal raw
run spf parse "$(printf 'v=spf1 \033[31m -all')"
expect_rc 1
if grep -q "$(printf '\033')" "$OUT"; then bad "raw ESC in output"; else ok; fi
expect_out '\x1B'
# an octet that is not UTF-8 is shown as \xHH, and the caret still lines
# up: "v=spf1 " (7 columns) then "\xAD" (4 columns) then " bad"
run spf parse "$(printf 'v=spf1 \255 bad')"
expect_rc 1
expect_line 1 'v=spf1 \xAD bad'
if LC_ALL=C grep -q "$(printf '\255')" "$OUT"; then bad "raw octet in output"; else ok; fi
run spf parse "$(printf 'v=spf1 \255 bad')" --json
expect_json 'j["record"] == "v=spf1 \ufffd bad"'

finish
