#!/bin/bash
# The DKIM benchmark (issue 9): generate the dkim-corpus with
# shared/bench/dkim-corpus/gen-corpus (once, kept in the work directory),
# then run bench_dkim on it: verify and sign, rsa-sha256 and ed25519-sha256,
# mailtrust beside OpenDKIM and the OpenSSL floor, one table.
#
#   run_bench_dkim.sh [options]        (or: make -C build bench-dkim,
#                                        options in BENCH_DKIM_ARGS)
# Options:
#   --rounds N          best of N rounds over the corpus (default 3)
#   --chunk BYTES       messages are fed in pieces of this size (default 65536)
#   --limit M           only the first M messages
#   --shared DIR        the shared/ directory (default: $MT_SHARED_DIR, else the
#                       build's MT_SHARED_DIR (--shared-default, which make
#                       bench-dkim passes), else ../shared beside the checkout)
#   --work DIR          where the corpus is generated (default: build/bench)
#   --bench PATH        the bench_dkim program (default: build/bench/bench_dkim)
#
# Without the shared directory (a clone has no ../shared), or without
# dkimpy (Debian python3-dkim, python3-nacl) to generate the corpus, the
# benchmark is skipped: a message, exit status 0.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
args=("$@")
if [ -n "${BENCH_DKIM_ARGS:-}" ]; then
	read -ra extra <<< "$BENCH_DKIM_ARGS"
	args+=("${extra[@]}")
fi
build=${BUILD_DIR:-$REPO/build}
SHARED= SHARED_DEFAULT=$REPO/../shared WORK=$build/bench BENCH=$build/bench/bench_dkim
PASS=()
usage() {
	if [ "${1:-2}" = 0 ]; then
		sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p' | sed '$d'
		exit 0
	fi
	echo "usage: run_bench_dkim.sh [--rounds N] [--chunk BYTES] [--limit M] [--shared DIR]" \
	     "[--work DIR] [--bench PATH]" >&2
	exit 2
}
set -- "${args[@]}"
while [ $# -gt 0 ]; do
	case $1 in
	--rounds|--chunk|--limit) [ $# -ge 2 ] || usage; PASS+=("$1" "$2"); shift 2 ;;
	--shared) [ $# -ge 2 ] || usage; SHARED=$2; shift 2 ;;
	--shared-default) [ $# -ge 2 ] || usage; SHARED_DEFAULT=$2; shift 2 ;;
	--work) [ $# -ge 2 ] || usage; WORK=$2; shift 2 ;;
	--bench) [ $# -ge 2 ] || usage; BENCH=$2; shift 2 ;;
	-h|--help) usage 0 ;;
	*) usage ;;
	esac
done
[ -z "$SHARED" ] && SHARED=${MT_SHARED_DIR:-$SHARED_DEFAULT}
GEN=$SHARED/bench/dkim-corpus/gen-corpus
if [ ! -f "$GEN" ]; then
	echo "bench-dkim: skipped: no $GEN (the shared directory is not beside this checkout;" \
	     "set MT_SHARED_DIR or pass --shared DIR)"
	exit 0
fi
if ! /usr/bin/python3 -c 'import dkim, nacl' 2>/dev/null; then
	echo "bench-dkim: skipped: generating the corpus needs dkimpy and PyNaCl" \
	     "(Debian python3-dkim python3-nacl)"
	exit 0
fi
[ -x "$BENCH" ] || { echo "bench-dkim: no $BENCH (build it first)" >&2; exit 1; }
CORPUS=$WORK/dkim-corpus
# Regenerate when the generator or its keys changed (the same seed gives
# the same bytes, so a kept corpus is the corpus).
stamp=$(cat "$GEN" "$SHARED"/bench/dkim-corpus/keys/* | sha256sum | cut -c1-16)
if [ ! -f "$CORPUS/summary.txt" ] || [ "$(cat "$CORPUS/.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "bench-dkim: generating the corpus into $CORPUS ..." >&2
	rm -rf "$CORPUS"
	mkdir -p "$WORK" || exit 1
	/usr/bin/python3 "$GEN" --out "$CORPUS" >&2 || { echo "bench-dkim: gen-corpus failed" >&2; exit 1; }
	echo "$stamp" > "$CORPUS/.stamp"
fi
exec "$BENCH" "$CORPUS" "$SHARED/bench/dkim-corpus/keys" "${PASS[@]}"
