#!/usr/bin/env bash
# Install the Debian 12 packages mailtrust needs to build, test and fuzz.
# Skips apt entirely when everything is already installed.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libyaml-dev libunbound-dev libevent-dev nettle-dev libssl-dev
      nsd dns-root-data dnsutils ldnsutils python3 man-db
      libspf2-dev valgrind)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
