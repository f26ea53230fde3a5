#!/usr/bin/env bash
# Install dependencies, build, and run mailtrust offline against the
# bundled example zone (no network needed): SPF as a receiver and as a
# domain owner, then a DKIM key, the audit of the domain's records, and a
# signed message's verdict against a copy of the zone with the key and a
# DMARC record added (in a temporary folder, removed at the end).
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

# DKIM and DMARC: a key for example.com, published in a copy of the zone
# with a DMARC policy, then the audit, a signature and the receiver's verdict.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mailtrust-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo; echo "\$ mailtrust dkim keygen --domain example.com --selector demo --out $tmp/key.pem"
./build/mailtrust dkim keygen --domain example.com --selector demo --out "$tmp/key.pem" | tee "$tmp/keygen.out"
cp "$zone" "$tmp/mail.zone"
{ tail -n 1 "$tmp/keygen.out"   # the zone-file line keygen printed
  echo '_dmarc.example.com. IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"'; } >>"$tmp/mail.zone"
run check example.com --zone "$tmp/mail.zone" --dkim-selector demo
run check twice.example.com --zone "$tmp/mail.zone"
printf '%s\r\n' 'From: Alice <alice@example.com>' 'To: bob@example.org' \
  'Subject: mailtrust demo' 'Date: Tue, 01 Dec 2026 12:00:00 +0000' \
  'Message-ID: <demo-1@example.com>' '' 'Hello from the mailtrust demo.' >"$tmp/message.eml"
run dkim sign --domain example.com --selector demo --key "$tmp/key.pem" -o "$tmp/signed.eml" "$tmp/message.eml"
run verify --zone "$tmp/mail.zone" --ip 192.0.2.10 --helo mail.example.com \
  --mail-from alice@example.com --authserv-id mx.example.org "$tmp/signed.eml"
sed 's/Hello/Hullo/' "$tmp/signed.eml" >"$tmp/tampered.eml"
run verify --zone "$tmp/mail.zone" --ip 203.0.113.9 --helo mail.example.com \
  --mail-from alice@example.com --authserv-id mx.example.org "$tmp/tampered.eml"
