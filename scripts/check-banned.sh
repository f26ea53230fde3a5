#!/usr/bin/env bash
# Fails when library or tool sources call a banned function (unbounded
# copies and formats).  Run by ctest as style.banned.
set -u
cd "$(dirname "$0")/.."
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|stpcpy|wcscpy|alloca)[[:space:]]*\('
hits=$(grep -rnE "$banned" src fuzz bench --include='*.c' --include='*.h' || true)
if [ -n "$hits" ]; then
  echo "banned functions used:"; echo "$hits"
  echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
