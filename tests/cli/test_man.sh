# CLI tests: the man pages document every option that --help lists, and
# (when groff is installed) render without warnings.
. "$(dirname "$0")/lib.sh"
MAN="$DATA/../../../doc/man"

# every long option of a --help appears in the page as \-\-option
for cmd in "spf check:mailtrust-spf.1" "spf parse:mailtrust-spf.1" "spf verify:mailtrust-spf.1" \
           "spf merge:mailtrust-spf.1" "spf build:mailtrust-spf.1" "spf:mailtrust-spf.1" ":mailtrust.1"; do
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

if command -v groff >/dev/null 2>&1; then
	for page in "$MAN"/*.[13]; do
		LAST="groff $page"
		if groff -man -ww -z "$page" 2>"$ERR" && [ ! -s "$ERR" ]; then ok
		else bad "groff warnings: $(head -3 "$ERR")"; fi
	done
fi
finish
