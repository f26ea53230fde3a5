#!/bin/bash
# "spf verify" against real authoritative servers: two NSD instances on
# loopback, A on 127.0.0.2 and B on 127.0.0.3, on the same port (so that NS
# names with loopback A records work with --ns-port), started through
# run_nsd.sh and stopped by their PIDs.  The recursive side is libunbound
# forwarding to A, which serves the test's parent zone "example." (with the
# name servers' addresses and delegations) and the child zones.
#
#   test_verify_nsd.sh MAILTRUST
#
# Cases (expectations from issue 4):
#   clean.example  both servers serve the same record          -> exit 0
#   split.example  A and B serve different records              -> ns-disagree
#   moved.example  NS -> A only; --expect record only on B      -> error naming ns-a.example
#   a resolver that never answers                               -> exit 3 within the budget
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
A=127.0.0.2 B=127.0.0.3

if [ "${1:-}" = "--run" ]; then
	MT=$2 PORT=$3
	passed=0 failed=0
	OUT=$(mktemp) || exit 1
	trap 'rm -f "$OUT"' EXIT
	case "$A$B" in 127.*127.*) ;; *) echo "refusing: not loopback" >&2; exit 1 ;; esac
	run() {
		LAST="mailtrust spf verify $*"
		"$MT" spf verify --resolver "$A@$PORT" --ns-port "$PORT" "$@" > "$OUT" 2>&1
		RC=$?
	}
	ok() { passed=$((passed + 1)); }
	bad() {
		failed=$((failed + 1))
		echo "FAIL: $LAST: $*"
		sed 's/^/  | /' "$OUT" | head -40
	}
	want_rc() { if [ "$RC" -eq "$1" ]; then ok; else bad "exit $RC, want $1"; fi; }
	has() { if grep -qF -- "$1" "$OUT"; then ok; else bad "output lacks '$1'"; fi; }
	hasnt() { if grep -qF -- "$1" "$OUT"; then bad "output holds '$1'"; else ok; fi; }

	# 1. clean: both authoritative servers agree with the recursive answer
	t0=$(date +%s%N)
	run clean.example --ip 192.0.2.10
	echo "verify of clean.example (2 authoritative servers, 1 --ip): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	want_rc 0
	has "clean.example: 0 errors, 0 warnings"
	has "ns-a.example ($A)  NOERROR  ttl 300  agrees"
	has "ns-b.example ($B)  NOERROR  ttl 300  agrees"
	has "192.0.2.10: pass via ip4:192.0.2.0/24"
	hasnt "[publication-not-checked]"
	run clean.example --json
	want_rc 0
	if python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
ns = j["nameservers"]
assert len(ns) == 2, ns
assert all(n["agrees"] and n["rcode"] == "NOERROR" for n in ns), ns
assert sorted(n["address"] for n in ns) == [sys.argv[2], sys.argv[3]], ns
assert j["summary"]["errors"] == 0 and j["summary"]["warnings"] == 0
' "$OUT" "$A" "$B"; then ok; else bad "JSON nameservers"; fi

	# 2. the two servers serve different records: a change not yet everywhere
	run split.example
	want_rc 1
	has "[ns-disagree]"
	has "ns-b.example ($B)  NOERROR  ttl 300  differs"
	has "ns-a.example ($A)  NOERROR  ttl 300  agrees"

	# 3. NS point to A; the expected record was added at B only
	run moved.example --expect 'v=spf1 include:_spf.provider.example -all'
	want_rc 2
	has "[expect-not-published]"
	has "not the domain's DNS host"
	has "ns-a.example"
	hasnt "ns-b.example ("

	# 4. a resolver that never answers: could not check, exit 3, in bounded time
	SILENT_PID=
	SPORT=$((20000 + RANDOM % 40000))
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
time.sleep(120)
' "$SPORT" &
	SILENT_PID=$!
	sleep 0.3
	start=$(date +%s)
	LAST="mailtrust spf verify --resolver 127.0.0.1@$SPORT clean.example"
	"$MT" spf verify --resolver "127.0.0.1@$SPORT" clean.example > "$OUT" 2>&1
	RC=$?
	elapsed=$(( $(date +%s) - start ))
	kill "$SILENT_PID" 2>/dev/null
	wait "$SILENT_PID" 2>/dev/null
	want_rc 3
	has "could not be checked"
	has "[dns-failure]"
	if [ "$elapsed" -le 30 ]; then ok; else bad "took $elapsed s"; fi

	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

if [ "${1:-}" = "--server-b" ]; then
	# running under server A (MT_NSD_PORT is its port): start B on the same port
	MT=$2 DIR=$3
	PORT_A=$MT_NSD_PORT
	MT_NSD_LISTEN=$B MT_NSD_FIXED_PORT=$PORT_A bash "$HERE/run_nsd.sh" \
		--zone clean.example "$DIR/b-clean.zone" \
		--zone split.example "$DIR/b-split.zone" \
		--zone moved.example "$DIR/b-moved.zone" \
		bash "$0" --run "$MT" "$PORT_A"
	exit
fi

MT=${1:?usage: $0 MAILTRUST}
DIR_PREFIX=mt-verify
. "$HERE/lib_zones.sh"
zone a-root.zone example ns-a.example <<EOF
ns-a   A  $A
ns-b   A  $B
clean  NS ns-a.example.
clean  NS ns-b.example.
split  NS ns-a.example.
split  NS ns-b.example.
moved  NS ns-a.example.
_spf.provider TXT "v=spf1 ip4:198.51.100.0/24 -all"
EOF
zone a-clean.zone clean.example ns-a.example ns-b.example <<'EOF'
@ TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF
cp "$DIR/a-clean.zone" "$DIR/b-clean.zone"
zone a-split.zone split.example ns-a.example ns-b.example <<'EOF'
@ TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF
zone b-split.zone split.example ns-a.example ns-b.example <<'EOF'
@ TXT "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all"
EOF
zone a-moved.zone moved.example ns-a.example <<'EOF'
@ TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF
zone b-moved.zone moved.example ns-b.example <<'EOF'
@ TXT "v=spf1 include:_spf.provider.example -all"
EOF

MT_NSD_LISTEN=$A bash "$HERE/run_nsd.sh" \
	--zone example "$DIR/a-root.zone" \
	--zone clean.example "$DIR/a-clean.zone" \
	--zone split.example "$DIR/a-split.zone" \
	--zone moved.example "$DIR/a-moved.zone" \
	bash "$0" --server-b "$MT" "$DIR"
