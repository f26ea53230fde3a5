#!/usr/bin/env bash
# Line coverage of the runtime (driver, cache, test backend, resolver
# layer, libunbound and zone backends) under the whole test suite: a build with
# --coverage in its own directory, ctest, then gcov.  Prints one line per
# file; FILES (space-separated paths under src/) chooses others.
#
#   bash scripts/coverage.sh            # build-cov/
#   BUILD_DIR=/tmp/cov bash scripts/coverage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
build=${BUILD_DIR:-build-cov}
files=${FILES:-"src/lib/run/run.c src/lib/dns/cache.c src/lib/dns/testres.c src/lib/dns/dns.c src/lib/dns/unbound.c src/lib/dns/zone.c src/lib/spf/driver.c"}
bash scripts/deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=--coverage \
	-DCMAKE_EXE_LINKER_FLAGS=--coverage -DCMAKE_SHARED_LINKER_FLAGS=--coverage \
	${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
build=$(cd "$build" && pwd)
find "$build" -name '*.gcda' -delete
rc=0
(cd "$build" && ctest -j"$(nproc)" --output-on-failure) > "$build/ctest.log" 2>&1 || rc=$?
tail -n 3 "$build/ctest.log"
[ "$rc" -eq 0 ] || echo "some tests failed (see $build/ctest.log): coverage below is partial"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for f in $files; do
	# the library's objects (shared and static are built from them)
	obj="$build/src/lib/CMakeFiles/mt_objects.dir/${f#src/lib/}.gcda"
	if [ ! -f "$obj" ]; then
		printf '%-28s no coverage data\n' "$f"
		continue
	fi
	(cd "$out" && gcov -n "$obj" 2>/dev/null) |
		awk -v f="$f" '/^File/ { want = index($0, f) > 0 } want && /^Lines executed/ {
			sub(/^Lines executed:/, ""); printf "%-28s %s\n", f, $0; want = 0 }'
done
exit "$rc"
