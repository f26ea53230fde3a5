#!/bin/bash
# Run PROGRAM against NSD on loopback serving the zone cache.example
# written here (its SOA minimum is 7 s, below the SOA's own TTL, so a
# negative answer may be kept 7 s: RFC 2308 section 5), through
# run_nsd.sh (which exports MT_NSD_* and stops NSD by its PID).
#
#   cache_nsd.sh PROGRAM [ARGS...]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then
	echo "usage: $0 PROGRAM [ARGS...]" >&2
	exit 2
fi
DIR=$(mktemp -d "${TMPDIR:-/tmp}/mt-cachezone.XXXXXX") || exit 1
trap 'rm -rf "$DIR"' EXIT
cat > "$DIR/cache.example.zone" <<'ZONE'
$ORIGIN cache.example.
$TTL 300
@     3600 SOA ns.cache.example. hostmaster.cache.example. 1 3600 600 86400 7
@     NS    ns.cache.example.
ns    A     127.0.0.1
spf   TXT   "v=spf1 mx a:host.cache.example include:inc.cache.example -all"
spf   MX    10 mx1.cache.example.
spf   MX    20 mx2.cache.example.
mx1   A     192.0.2.1
mx2   A     192.0.2.2
host  A     192.0.2.3
inc   TXT   "v=spf1 exists:%{i}.nx.cache.example ip4:198.51.100.0/24 -all"
ZONE
bash "$HERE/run_nsd.sh" --zone cache.example "$DIR/cache.example.zone" "$@"
