#!/usr/bin/env bash
# Install the Debian 12 packages mailtrust needs to build, test and fuzz.
# Skips apt entirely when everything is already installed.
#
#   deps.sh [--suites DIR]
#
# The official SPF test suites come from python3-spf, which installs them as
# /usr/share/doc/python3-spf/rfc7208-tests.yml.gz and rfc4408-tests.yml.gz.
# Minimal images often tell dpkg to leave out /usr/share/doc (a path-exclude
# line in /etc/dpkg/dpkg.cfg.d/); the package then installs without them.
# With --suites DIR (scripts/test.sh passes BUILD/python3-spf) this script
# then unpacks the package into DIR with dpkg-deb, where the tests look last.
set -euo pipefail
cd "$(dirname "$0")/.."
suites=""
if [ $# -eq 2 ] && [ "$1" = --suites ]; then
  suites=$2
elif [ $# -ne 0 ]; then
  echo "usage: $0 [--suites DIR]" >&2
  exit 2
fi

pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libyaml-dev libunbound-dev libevent-dev nettle-dev libssl-dev zlib1g-dev
      nsd dns-root-data dnsutils ldnsutils python3 python3-spf man-db
      libspf2-dev valgrind openssl)
# DMARC: internationalized From domains to A-labels (RFC 8616); the Public
# Suffix List for RFC 7489's organizational domains (compatibility mode)
pkgs+=(libidn2-dev libpsl-dev publicsuffix)
# DMARC differential (tests/conformance/dmarc/differential.py): a second
# implementation, python3-authheaders (Debian python3, not a virtualenv)
pkgs+=(python3-authheaders)
# The tests with a real Postfix (tests/postfix/): postfix (also smtp-sink,
# smtp-source), swaks as the client, unshare (util-linux) and ip (iproute2)
# for the private network namespace.  Installing postfix must start nothing.
pkgs+=(postfix swaks util-linux iproute2)
# mailtrust-milter: libmilter; its Postfix test (with the packages above):
# dkimpy (with PyNaCl for ed25519) and authres; bench/milter_load.sh
# compares with OpenDKIM + OpenDMARC (run privately, never as services)
pkgs+=(libmilter-dev python3-dkim python3-authres python3-nacl opendkim opendmarc)
# mailtrust verify: its Authentication-Results field is parsed in the tests
# by a second implementation, Debian's python3-authres
pkgs+=(python3-authres)
# cli.verdict measures the peak memory of a large message with GNU time
pkgs+=(time)
# DKIM interoperability peers (tests/interop/): dkimpy with ed25519, and
# libopendkim for the OpenDKIM peer program (a library: no daemon); make
# bench-dkim uses the same three (OpenDKIM beside mailtrust, and the corpus
# generator shared/bench/dkim-corpus/gen-corpus)
pkgs+=(python3-dkim python3-nacl libopendkim-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # postfix: no configuration of the system instance, and no service
  # started while installing (a policy-rc.d that says "101: not allowed"
  # for as long as apt-get runs; one already in place is left alone)
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  rcd=/usr/sbin/policy-rc.d
  own_rcd=0
  if [ ! -e "$rcd" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$rcd" >/dev/null
    $SUDO chmod 755 "$rcd"
    own_rcd=1
  fi
  status=0
  $SUDO apt-get update -qq && \
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  [ $own_rcd -eq 1 ] && $SUDO rm -f "$rcd"
  [ $status -eq 0 ] || exit $status
fi

# The SPF suites: nothing to do when python3-spf's copies are in place, or
# when the tests will take them from elsewhere (see tests/conformance/).
names=(rfc7208-tests.yml rfc4408-tests.yml)
have_all() {  # have_all DIR SUFFIX: DIR holds every suite
  local n
  for n in "${names[@]}"; do [ -f "$1/$n$2" ] || return 1; done
}
doc=/usr/share/doc/python3-spf
if have_all "$doc" .gz || [ -n "${MT_CONFORMANCE_DIR:-}" ] || have_all ../shared/conformance ""; then
  exit 0
fi
why="dpkg did not install them"
excl=$(grep -sh '^[[:space:]]*path-exclude' /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/* \
       | grep -m1 '/usr/share/doc' || true)
[ -n "$excl" ] && why="dpkg is configured with '$excl' (/etc/dpkg/dpkg.cfg.d/)"
echo "deps: python3-spf is installed but $doc/${names[0]}.gz is missing: $why" >&2
if [ -z "$suites" ]; then
  echo "deps: bash scripts/test.sh unpacks the package into its build directory;" \
       "or set MT_CONFORMANCE_DIR to a directory holding ${names[*]}" >&2
  exit 0
fi
if have_all "$suites$doc" .gz; then
  echo "deps: using the SPF suites unpacked earlier into $suites$doc" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt-get download runs as the calling user; the package lists are already
# up to date from the install above or an earlier run.
if (cd "$tmp" && apt-get download -qq python3-spf >/dev/null 2>"$tmp/err") &&
   mkdir -p "$suites" && dpkg-deb -x "$tmp"/python3-spf_*.deb "$suites" &&
   have_all "$suites$doc" .gz; then
  echo "deps: unpacked python3-spf (dpkg-deb -x) into $suites; the tests read $suites$doc" >&2
else
  echo "deps: could not unpack python3-spf into $suites:" "$(cat "$tmp/err" 2>/dev/null)" >&2
  echo "deps: the SPF conformance tests will fail; set MT_CONFORMANCE_DIR to a directory" \
       "holding ${names[*]}" >&2
fi
