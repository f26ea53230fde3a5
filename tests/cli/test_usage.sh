# CLI tests: help at every level, version, usage errors and their exit
# status (64), unreadable and malformed zone files (66, 65).
. "$(dirname "$0")/lib.sh"

# --help and -h at every level: exit 0, usage on stdout, nothing on stderr.
for args in "--help" "-h" "spf --help" "spf -h" "spf check --help" "spf check -h" \
            "spf parse --help" "spf parse -h"; do
	# shellcheck disable=SC2086
	run $args
	expect_rc 0
	expect_first_line "Usage: mailtrust"
	expect_no_err
done
run spf check --help
expect_out "--ip IP"
expect_out "--zone FILE"
expect_out "--max-void N"
expect_out "0 pass, 1 fail, 2 softfail, 3 neutral, 4 none, 5 temperror, 6 permerror"
expect_out "64 usage error"
expect_out "65 malformed zone file, 66 unreadable zone file"
expect_out "69 the DNS resolver cannot be set up, 70 internal error"
# --help wins over missing required options.
run spf check --help --ip 1.2.3
expect_rc 0

run --version
expect_rc 0
expect_first_line "mailtrust 0.1.0"

# Usage errors: exit 64 and exactly one line on stderr.
run
expect_rc 64; expect_err_one_line
run frobnicate
expect_rc 64; expect_err_one_line; expect_err "unknown area 'frobnicate'"
run --frobnicate
expect_rc 64; expect_err_one_line; expect_err "unknown option '--frobnicate'"
run spf
expect_rc 64; expect_err_one_line
run spf frobnicate
expect_rc 64; expect_err_one_line; expect_err "unknown command 'frobnicate'"
run spf check --ip 192.0.2.1 --sender a@example.com --zone "$ZONE" --frobnicate
expect_rc 64; expect_err_one_line; expect_err "unknown option '--frobnicate'"
run spf check --ip 192.0.2.1 --sender a@example.com --zone "$ZONE" -x
expect_rc 64; expect_err_one_line; expect_err "unknown option '-x'"
run spf check --sender a@example.com --zone "$ZONE" --ip
expect_rc 64; expect_err_one_line; expect_err "needs an argument"
# A long option without its argument is named as written (getopt_long sets
# optopt to the option's code, which once printed as '-\0' or '- ').
for args in "spf check --sender a@example.com --ip:--ip" \
            "spf check --ip 192.0.2.1 --zone:--zone" \
            "spf check --ip 192.0.2.1 --resolver:--resolver" \
            "spf check --ip 192.0.2.1 --timeout:--timeout" \
            "spf verify example.com --zone:--zone" \
            "spf verify example.com --expect:--expect" \
            "spf merge --max-lookups:--max-lookups" \
            "spf build --ip4:--ip4" \
            "spf build --all:--all"; do
	opt=${args##*:}
	# shellcheck disable=SC2086
	run ${args%:*}
	expect_rc 64; expect_err_one_line
	expect_err "option '$opt' needs an argument"
	if tr -d '\000' <"$ERR" | cmp -s - "$ERR"; then ok; else bad "NUL byte on stderr"; fi
done
run spf check --ip 192.0.2.1 --json=yes example.com
expect_rc 64; expect_err_one_line; expect_err "option '--json' takes no argument"
run --version=2
expect_rc 64; expect_err_one_line; expect_err "option '--version' takes no argument"
run --frobnicate=2
expect_rc 64; expect_err_one_line; expect_err "unknown option '--frobnicate'"
run spf parse --frobnicate 'v=spf1 -all'
expect_rc 64; expect_err_one_line
run spf parse
expect_rc 64; expect_err_one_line

# Missing --ip.
run spf check example.com --zone "$ZONE"
expect_rc 64; expect_err_one_line; expect_err "--ip"

# Malformed addresses: the exact message of the brief for the first.
run spf check example.com --ip 1.2.3 --zone "$ZONE"
expect_rc 64; expect_err_one_line
if [ "$(cat "$ERR")" = "mailtrust: --ip: '1.2.3' is not an IPv4 or IPv6 address" ]; then ok
else bad "wrong message: $(cat "$ERR")"; fi
for ip in 192.0.2.256 192.0.2.1/24 2001:db8::1::2 2001:db8:g::1 "" example.com " 192.0.2.1"; do
	run spf check example.com --ip "$ip" --zone "$ZONE"
	expect_rc 64; expect_err_one_line; expect_err "is not an IPv4 or IPv6 address"
done

# The sender is what the client sent, not a usage error: RFC 7208 judges
# only its domain (4.3).  A 322-octet sender whose domain is example.com
# is checked (the MX 192.0.2.10 passes); a sender without '@' is all
# domain with the local-part "postmaster".
long=$(printf '%0310d' 0)@example.com   # 310 + 12 = 322 octets
run spf check --ip 192.0.2.10 --sender "$long" --zone "$ZONE"
expect_rc 0; expect_no_err
run spf check --ip 192.0.2.10 --sender example.com --zone "$ZONE"
expect_rc 0; expect_no_err
expect_first_line "pass: 192.0.2.10 is authorized by example.com"
expect_out 'envelope-from="postmaster@example.com"'

# Bad option values.
for args in "--timeout 0" "--timeout x" "--timeout -5" "--max-lookups 0" "--max-void 12a" \
            "--identity envelope"; do
	# shellcheck disable=SC2086
	run spf check example.com --ip 192.0.2.10 --zone "$ZONE" $args
	expect_rc 64; expect_err_one_line
done
run spf check --ip 192.0.2.10 --zone "$ZONE"
expect_rc 64; expect_err_one_line; expect_err "nothing to check"
run spf check --ip 192.0.2.10 --zone "$ZONE" --identity helo --sender a@example.com
expect_rc 64; expect_err_one_line; expect_err "--helo"
run spf check a.example b.example --ip 192.0.2.10 --zone "$ZONE"
expect_rc 64; expect_err_one_line; expect_err "unexpected argument 'b.example'"
run spf check example.com --ip 192.0.2.10 --zone "$ZONE" --default-explanation 'bad %{q}'
expect_rc 64; expect_err_one_line; expect_err "default explanation"
# The library says which option is wrong (a long --receiver was once
# reported as a bad --default-explanation).
longname=$(printf '%0300d' 0)
run spf check example.com --ip 192.0.2.10 --zone "$ZONE" --receiver "$longname"
expect_rc 64; expect_err_one_line; expect_err "receiver name is 300 octets long, more than 255"
if grep -q explanation "$ERR"; then bad "blames the explanation"; else ok; fi

# Resolver options: rejected before any question is asked (no network).
run spf check example.com --ip 192.0.2.10 --zone "$ZONE" --resolver 127.0.0.1
expect_rc 64; expect_err_one_line; expect_err "--zone"
run spf check example.com --ip 192.0.2.10 --resolver not-an-address
expect_rc 64; expect_err_one_line; expect_err "--resolver"
# A bad port is a usage error too (libunbound took it, then every
# question failed with SERVFAIL).
for r in 127.0.0.1@99999 127.0.0.1@65536 127.0.0.1@0 127.0.0.1@ 127.0.0.1@x ::1@53x \
         127.0.0.1@-53 @53; do
	run spf check example.com --ip 192.0.2.10 --resolver "$r"
	expect_rc 64; expect_err_one_line; expect_err "--resolver: '$r'"; expect_err "65535"
	run spf verify example.com --resolver "$r"
	expect_rc 64; expect_err_one_line; expect_err "--resolver: '$r'"
done

# Echoed arguments are quoted short and escaped: a 100 KB --ip gives one
# short line, a control character is shown as \xHH.
big=$(head -c 100000 /dev/zero | tr '\000' 'a')
run spf check example.com --ip "$big" --zone "$ZONE"
expect_rc 64; expect_err_one_line
n=$(wc -c <"$ERR" | tr -d ' ')
if [ "$n" -lt 200 ]; then ok; else bad "stderr has $n octets"; fi
expect_err "--ip: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not"
esc=$(printf 'x\033[31my')
for args in "spf check example.com --zone $ZONE --ip" "spf check example.com --zone $ZONE --ip 192.0.2.1 --timeout" \
            "spf check example.com --zone $ZONE --ip 192.0.2.1 --identity" "spf" "spf check --zone $ZONE --ip 192.0.2.1 a.example" \
            "spf check example.com --ip 192.0.2.1 --resolver" "spf verify example.com --zone $ZONE" \
            "spf build --ip4 192.0.2.0/24" "spf build --all"; do
	# shellcheck disable=SC2086
	run $args "$esc"
	expect_rc 64; expect_err_one_line; expect_err "'x\x1B[31my'"
	if grep -q "$(printf '\033')" "$ERR"; then bad "ESC on stderr"; else ok; fi
	# shellcheck disable=SC2086
	run $args "$big"
	expect_rc 64; expect_err_one_line
	n=$(wc -c <"$ERR" | tr -d ' ')
	if [ "$n" -lt 250 ]; then ok; else bad "stderr has $n octets"; fi
done
# a library message that quotes a file name is escaped and bounded too
run spf check example.com --ip 192.0.2.1 --zone "$TMP/$esc"
expect_rc 66; expect_err_one_line; expect_err 'x\x1B[31my'
if grep -q "$(printf '\033')" "$ERR"; then bad "ESC on stderr"; else ok; fi
run spf check example.com --ip 192.0.2.1 --zone "$TMP/$(head -c 3000 /dev/zero | tr '\000' z)"
expect_rc 66; expect_err_one_line
n=$(wc -c <"$ERR" | tr -d ' ')
if [ "$n" -lt 400 ]; then ok; else bad "stderr has $n octets"; fi
run "$big"
expect_rc 64; expect_err_one_line
n=$(wc -c <"$ERR" | tr -d ' ')
if [ "$n" -lt 200 ]; then ok; else bad "stderr has $n octets"; fi
run "--$big"
expect_rc 64; expect_err_one_line
n=$(wc -c <"$ERR" | tr -d ' ')
if [ "$n" -lt 200 ]; then ok; else bad "stderr has $n octets"; fi

# Zone files: unreadable -> 66, malformed -> 65 naming file:line.
run spf check example.com --ip 192.0.2.10 --zone "$TMP/does-not-exist.zone"
expect_rc 66; expect_err_one_line; expect_err "does-not-exist.zone"
run spf check example.com --ip 192.0.2.10 --zone "$TMP"
expect_rc 66; expect_err_one_line
cat >"$TMP/bad.zone" <<'ZONE'
$ORIGIN example.com.
@        IN TXT "v=spf1 -all"
broken   IN A   192.0.2.300
ZONE
run spf check example.com --ip 192.0.2.10 --zone "$TMP/bad.zone"
expect_rc 65; expect_err_one_line; expect_err "bad.zone:3"
printf '$ORIGIN example.com.\nwww IN AAAA 2001:db8::zz\n@ IN TXT "v=spf1 -all"\n' >"$TMP/bad2.zone"
run spf check example.com --ip 192.0.2.10 --zone "$TMP/bad2.zone"
expect_rc 65; expect_err_one_line; expect_err "bad2.zone:2"

finish
