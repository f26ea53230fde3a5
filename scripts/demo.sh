#!/usr/bin/env bash
# Install dependencies, build, and run mailtrust offline against the
# bundled example zone (no network needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
zone=tests/data/example.zone
run() {
  local shown="" a
  for a in "$@"; do case "$a" in *" "*) shown+=" '$a'" ;; *) shown+=" $a" ;; esac; done
  echo; echo "\$ mailtrust$shown"
  ./build/mailtrust "$@" || true
}
run spf check --zone "$zone" --ip 192.0.2.10 --sender alice@example.com --helo mail.example.com
run spf check --zone "$zone" --ip 203.0.113.9 --sender alice@example.com --helo mail.example.com
run spf check --zone "$zone" --ip 198.51.100.7 --sender bob@example.com --json
run spf parse 'v=spf1 ip4:192.0.2.0/24 inlcude:_spf.example.net -all'
run spf verify example.com --zone "$zone" --ip 192.0.2.10 --ip 203.0.113.9
run spf verify twice.example.com --zone "$zone"
run spf merge 'v=spf1 ip4:192.0.2.25 ~all' 'v=spf1 ip6:2001:db8::/48 ~all' 'v=spf1 include:_spf.example.net ~all'
