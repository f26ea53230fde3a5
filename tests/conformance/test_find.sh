#!/bin/bash
# spf_suite --find, the lookup the conformance tests use:
#   test_find.sh SPF_SUITE SELFTEST.yml
# $MT_CONFORMANCE_DIR comes first, a gzipped suite (as Debian's python3-spf
# ships them) is read through zlib, an uncompressed copy in the same
# directory wins, and a directory or file that does not do is named in a
# clear error (exit 2), never silently skipped.
set -u
SPF_SUITE=$1 SELFTEST=$2
DIR=$(mktemp -d "${TMPDIR:-/tmp}/mt-find.XXXXXX") || exit 1
trap 'rm -rf "$DIR"' EXIT
failed=0
# check WHAT WANT_RC WANT_REGEX: the last run exited WANT_RC and its
# output (stdout and stderr) matches WANT_REGEX (grep -E).
check() {
	if [ "$rc" -ne "$2" ] || ! grep -q -E -- "$3" "$DIR/out"; then
		echo "FAIL $1: want exit $2 and /$3/, got exit $rc:"
		sed 's/^/    /' "$DIR/out"
		failed=$((failed + 1))
	else
		echo "ok   $1"
	fi
}
run() { "$SPF_SUITE" "$@" > "$DIR/out" 2>&1; rc=$?; }

mkdir "$DIR/gz" "$DIR/empty" "$DIR/both" "$DIR/bad"
gzip -c "$SELFTEST" > "$DIR/gz/selftest.yml.gz"
MT_CONFORMANCE_DIR=$DIR/gz run --find selftest.yml
check "gzipped suite from MT_CONFORMANCE_DIR" 1 "^suite $DIR/gz/selftest.yml.gz\$"
check "gzipped suite runs like the plain file" 1 "^5 passed, 1 failed\$"

cp "$DIR/gz/selftest.yml.gz" "$DIR/both/"
cp "$SELFTEST" "$DIR/both/selftest.yml"
MT_CONFORMANCE_DIR=$DIR/both run --find selftest.yml
check "the plain file before the .gz" 1 "^suite $DIR/both/selftest.yml\$"

MT_CONFORMANCE_DIR=$DIR/empty run --find selftest.yml
check "MT_CONFORMANCE_DIR without the suite is an error" 2 \
	"MT_CONFORMANCE_DIR=$DIR/empty names a directory without selftest.yml or selftest.yml.gz"

head -c 300 "$DIR/gz/selftest.yml.gz" > "$DIR/bad/selftest.yml.gz"
MT_CONFORMANCE_DIR=$DIR/bad run --find selftest.yml
check "a truncated .gz is a read error" 2 "cannot read suite $DIR/bad/selftest.yml.gz"

run "$DIR/gz/selftest.yml.gz"
check "a gzipped FILE argument" 1 "^5 passed, 1 failed\$"
run --find "$DIR/gz/selftest.yml"
check "--find takes a file name, not a path" 2 "^usage: "
run --find selftest.yml "$SELFTEST"
check "--find and FILE together" 2 "^usage: "

[ "$failed" -eq 0 ]
