# CLI tests: the man pages document every option that --help lists, and
# (when groff is installed) render without warnings.
. "$(dirname "$0")/lib.sh"
MAN="$DATA/../../../doc/man"

# every long option of a --help appears in the page as \-\-option
for cmd in "spf check:mailtrust-spf.1" "spf parse:mailtrust-spf.1" "spf verify:mailtrust-spf.1" \
           "spf merge:mailtrust-spf.1" "spf build:mailtrust-spf.1" "spf:mailtrust-spf.1" ":mailtrust.1" \
           "dkim keygen:mailtrust-dkim.1" "dkim verify:mailtrust-dkim.1" \
           "dkim check-key:mailtrust-dkim.1" "dkim sign:mailtrust-dkim.1" "dkim:mailtrust-dkim.1" \
           "dmarc check:mailtrust-dmarc.1" "dmarc build:mailtrust-dmarc.1" \
           "dmarc parse:mailtrust-dmarc.1" "dmarc:mailtrust-dmarc.1" "check:mailtrust.1" \
           "verify:mailtrust-verify.1"; do
	args=${cmd%%:*}
	page=$MAN/${cmd#*:}
	# shellcheck disable=SC2086
	run $args --help
	for opt in $(grep -o -- '--[a-z][a-z-]*' "$OUT" | sort -u); do
		LAST="$page: $opt"
		pat=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
		if grep -q -- "$pat" "$page"; then ok; else bad "not documented"; fi
	done
done
# and every exit status of spf check
run spf check --help
for code in 0 1 2 3 4 5 6 64 65 66 69 70; do
	LAST="mailtrust-spf.1: exit status $code"
	if grep -q "^\.B $code\$" "$MAN/mailtrust-spf.1"; then ok; else bad "not documented"; fi
done

# The spf area does more than "check a host, parse a record": --help,
# mailtrust(1) and the NAME line of mailtrust-spf(1) say so.
run --help
for verb in check parse verify merge build; do
	expect_out "$verb"
done
for verb in check parse verify merge build; do
	LAST="mailtrust.1: spf $verb"
	if grep -q "mailtrust spf $verb" "$MAN/mailtrust.1"; then ok; else bad "not named"; fi
done
# the dkim area: named in --help and mailtrust(1); every exit status of
# dkim keygen documented
LAST="mailtrust --help: dkim"
expect_out "dkim"
LAST="mailtrust.1: dkim keygen"
if grep -q "mailtrust dkim keygen" "$MAN/mailtrust.1"; then ok; else bad "not named"; fi
for code in 0 64 70 73 74; do
	LAST="mailtrust-dkim.1: exit status $code"
	if sed -n '/^\.SS dkim keygen/,$p' "$MAN/mailtrust-dkim.1" | grep -q "^\.B $code\$"; then ok
	else bad "not documented"; fi
done
# every exit status of dkim verify and dkim check-key, in its own section
for code in 0 1 3 4 5 6 64 65 66 69 70 74; do
	LAST="mailtrust-dkim.1: dkim verify exit status $code"
	if sed -n '/^\.SH EXIT STATUS/,$p' "$MAN/mailtrust-dkim.1" | sed -n '/^\.SS dkim verify/,/^\.SS dkim check/p' |
	   grep -q "^\.B $code\$"; then ok; else bad "not documented"; fi
done
for code in 0 1 2 3 64 65 66 69 70; do
	LAST="mailtrust-dkim.1: dkim check-key exit status $code"
	if sed -n '/^\.SH EXIT STATUS/,$p' "$MAN/mailtrust-dkim.1" | sed -n '/^\.SS dkim check/,/^\.SH/p' |
	   grep -q "^\.B $code\$"; then ok; else bad "not documented"; fi
done
for verb in verify check-key; do
	LAST="mailtrust.1: dkim $verb"
	if grep -q "mailtrust dkim $(printf '%s' "$verb" | sed 's/-/\\\\-/')" "$MAN/mailtrust.1"; then ok; else bad "not named"; fi
done
LAST="mailtrust.1: dkim sign"
if grep -q "mailtrust dkim sign" "$MAN/mailtrust.1"; then ok; else bad "not named"; fi
for code in 0 3 5 64 65 66 69 70 73 74; do
	LAST="mailtrust-dkim.1: dkim sign exit status $code"
	if sed -n '/^\.SH EXIT STATUS/,$p' "$MAN/mailtrust-dkim.1" | sed -n '/^\.SS dkim sign/,/^\.SS/p' |
	   grep -q "^\.B $code\$"; then ok; else bad "not documented"; fi
done
# dmarc: every exit status of each command in its own section; the area
# and the audit named in mailtrust(1), whose list of common DKIM selectors
# is the one the audit tries
for sec in "dmarc check:0 1 2 3 64 65 66 69 70" "dmarc build:0 64 70" "dmarc parse:0 1 2 64 70"; do
	for code in ${sec#*:}; do
		LAST="mailtrust-dmarc.1: ${sec%%:*} exit status $code"
		if sed -n '/^\.SH EXIT STATUS/,$p' "$MAN/mailtrust-dmarc.1" |
		   sed -n "/^\.SS ${sec%%:*}\$/,/^\.S[SH]/{/^\.S[SH]/!p;}" | grep -q "^\.B $code\$"; then ok
		else bad "not documented"; fi
	done
done
for verb in check build parse; do
	LAST="mailtrust.1: dmarc $verb"
	if grep -q "mailtrust dmarc $verb" "$MAN/mailtrust.1"; then ok; else bad "not named"; fi
done
# verify: every exit status in its page, named in mailtrust(1) and --help
for code in 0 1 4 5 6 64 65 66 69 70 73 74; do
	LAST="mailtrust-verify.1: exit status $code"
	if sed -n '/^\.SH EXIT STATUS/,/^\.SH EXAMPLES/p' "$MAN/mailtrust-verify.1" | grep -q "^\.B $code\$"; then ok
	else bad "not documented"; fi
	LAST="mailtrust verify --help: exit status $code"
	run verify --help
	if grep -Eq "(^| )$code( |,|$)" "$OUT"; then ok; else bad "not in --help"; fi
done
LAST="mailtrust.1: mailtrust verify"
if grep -q "mailtrust verify" "$MAN/mailtrust.1"; then ok; else bad "not named"; fi
run --help
expect_out "verify "
printf '$ORIGIN example.com.\n@ 300 TXT "v=spf1 -all"\n' >"$TMP/sel.zone"
run check example.com --zone "$TMP/sel.zone" --json
tried=$("$PYTHON" -c 'import json,sys; print(", ".join(json.load(sys.stdin)["dkim_selectors_tried"]) + ".")' <"$OUT")
LAST="mailtrust.1: the audit's selectors ($tried)"
if groff -man -Tascii -P-cbou -rLL=2000n "$MAN/mailtrust.1" 2>/dev/null | tr -s ' ' | grep -qF "$tried"; then ok
else bad "not the list the audit tries"; fi
LAST="mailtrust-spf.1: NAME"
name=$(sed -n '/^\.SH NAME/{n;p;}' "$MAN/mailtrust-spf.1")
case "$name" in *verify*merge*build*) ok ;; *) bad "NAME line is '$name'" ;; esac
# --json: one object, one per line with --batch (mailtrust(1))
LAST="mailtrust.1: --json"
if grep -q "exactly one JSON object" "$MAN/mailtrust.1"; then bad "says exactly one object"; else ok; fi
if grep -q "one such object per input line" "$MAN/mailtrust.1"; then ok; else bad "no word on --batch --json"; fi
# $FAULT takes NXDOMAIN too (the zone loader does)
LAST="mailtrust-spf.1: \$FAULT"
if grep -A2 '^\.B \$FAULT' "$MAN/mailtrust-spf.1" | grep -q 'NXDOMAIN'; then ok; else bad "omits NXDOMAIN"; fi
# the README's library example says to install first
LAST="README: cmake --install before the example"
if sed -n '/^## The library/,/^```c/p' "$MAN/../../README.md" | grep -q 'cmake --install build'; then ok
else bad "no cmake --install before the example"; fi

if command -v groff >/dev/null 2>&1; then
	# each form of the SYNOPSIS starts a line of its own
	groff -man -Tascii -P-cbou -rLL=200n "$MAN/mailtrust-spf.1" 2>/dev/null |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' >"$TMP/synopsis"
	for form in check parse verify merge build '\[--help\]'; do
		LAST="mailtrust-spf.1 SYNOPSIS: spf $form"
		if grep -q "^ *mailtrust spf $form" "$TMP/synopsis"; then ok; else bad "not on a line of its own"; fi
	done
	LAST="mailtrust-spf.1 SYNOPSIS"
	if grep -q 'mailtrust spf.*mailtrust spf' "$TMP/synopsis"; then bad "two forms on one line"; else ok; fi
fi

if command -v groff >/dev/null 2>&1; then
	for page in "$MAN"/*.[13]; do
		LAST="groff $page"
		if groff -man -ww -z "$page" 2>"$ERR" && [ ! -s "$ERR" ]; then ok
		else bad "groff warnings: $(head -3 "$ERR")"; fi
	done
fi
finish
