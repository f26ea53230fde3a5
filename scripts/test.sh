#!/usr/bin/env bash
# Install dependencies, build, and run every test (ctest).  Tests use only
# offline zones and a nameserver they start on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
bash scripts/deps.sh --suites "$build/python3-spf"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)"
