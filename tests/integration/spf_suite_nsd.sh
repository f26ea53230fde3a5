#!/bin/bash
# The RFC 7208 SPF suite through real DNS: spf_suite --emit-zone writes one
# master file per scenario (origin ".", absolute names); each is served as
# the root zone by its own NSD on 127.0.0.1 (run_nsd.sh, random port,
# stopped by its PID) and spf_suite --resolver asks it through libunbound.
# Scenarios reuse names (example.com ...), hence one server per scenario.
#
#   spf_suite_nsd.sh SPF_SUITE SUITE SKIPFILE
#
# SUITE is a path to the suite, or a bare file name (rfc7208-tests.yml) that
# spf_suite --find looks up like the conformance tests do ($MT_CONFORMANCE_DIR,
# the CMake option, ../shared/conformance, Debian's python3-spf).
# Cases a real server cannot express are listed by name, with the reason,
# in SKIPFILE.  Prints "N passed, N failed, N skipped"; exit 0 when none
# failed, 1 otherwise, 77 (skipped) when nsd is not installed.
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 SPF_SUITE SUITE SKIPFILE" >&2
	exit 2
fi
SPF_SUITE=$1 SKIPS=$3
case $2 in
*/*) SUITE=("$2") ;;
*) SUITE=(--find "$2") ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v nsd >/dev/null && [ ! -x /usr/sbin/nsd ]; then
	echo "SKIP: nsd not installed (Debian package nsd)"
	exit 77
fi
if ! command -v dig >/dev/null; then
	echo "SKIP: dig not installed (Debian package bind9-dnsutils)"
	exit 77
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/mt-spfnsd.XXXXXX") || exit 1
trap 'rm -rf "$DIR"' EXIT

"$SPF_SUITE" "${SUITE[@]}" --emit-zone "$DIR/zones" > "$DIR/emit.out" 2>&1 || {
	cat "$DIR/emit.out" >&2
	exit 1
}
grep -E '^suite ' "$DIR/emit.out"

passed=0 failed=0 skipped=0 scenarios=0
for z in "$DIR"/zones/scenario-*.zone; do
	n=${z##*/scenario-}
	n=$((10#${n%.zone}))
	# NSD refuses TXT/SPF RDATA of zero character-strings (the cases that
	# need one are in the skip list); every other record is served as is.
	grep -v -E ' IN (TXT|SPF) \\# 0$' "$z" > "$DIR/nsd-$n.zone"
	bash "$HERE/run_nsd.sh" --zone . "$DIR/nsd-$n.zone" \
		bash -c 'exec "$0" "$@" --resolver "$MT_NSD_ADDR@$MT_NSD_PORT"' \
		"$SPF_SUITE" "${SUITE[@]}" --scenario "$n" --skip "$SKIPS" > "$DIR/out" 2>&1
	rc=$?
	if [ $rc -eq 77 ]; then
		cat "$DIR/out"
		exit 77
	fi
	grep -v -E '^(nsd \(pid [0-9]+\) answering|[0-9]+ passed, |suite )' "$DIR/out"
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$DIR/out" | tail -n 1)
	if [ -z "$last" ]; then
		echo "FAIL scenario $n: the runner did not finish (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	read -r p _ f _ s _ <<< "${last//,/}"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL scenario $n: exit $rc"
		failed=$((failed + 1))
	fi
	scenarios=$((scenarios + 1))
done
echo "$scenarios scenarios through NSD and libunbound"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
