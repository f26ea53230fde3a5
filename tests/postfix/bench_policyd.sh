#!/bin/bash
# Throughput of a private Postfix (lib.sh) with and without mailtrust-policyd
# in smtpd_recipient_restrictions: smtp-source sends N messages over S
# sessions from 127.0.0.1 (checked: --check-localhost) to the sink; prints
# messages per second and the daemon's RSS.  Not run by ctest.
#
#   bench_policyd.sh MAILTRUST_POLICYD [MESSAGES [SESSIONS]]
. "$(dirname "$0")/lib.sh"
pf_enter "$@"
PD=${1:?usage: bench_policyd.sh MAILTRUST_POLICYD [MESSAGES [SESSIONS]]}
N=${2:-2000} S=${3:-20}
cat >"$PF_DIR/z.zone" <<'ZONE'
$ORIGIN test.example.
$TTL 300
@    SOA ns.test.example. hostmaster.test.example. 1 3600 600 86400 300
@    NS  ns.test.example.
ns   A   127.0.0.1
pass TXT "v=spf1 ip4:127.0.0.0/8 -all"
ZONE
pf_nsd_start test.example "$PF_DIR/z.zone"
pf_spawn policyd "$PD" -l -s "unix:$PF_DIR/pd.sock" --resolver "$PF_RESOLVER" --check-localhost -r
PD_PID=$PF_PID
pf_start
run() { # LABEL
	local before after t0 t1
	before=$(ls "$PF_SINK" | wc -l)
	t0=$(date +%s.%N)
	smtp-source -s "$S" -m "$N" -l 1024 -f a@pass.test.example -t rcpt@sink.example \
		"127.0.0.1:$PF_SMTP_PORT" || echo "smtp-source failed"
	for i in $(seq 600); do
		after=$(ls "$PF_SINK" | wc -l)
		[ $((after - before)) -ge "$N" ] && break
		sleep 0.1
	done
	t1=$(date +%s.%N)
	awk -v l="$1" -v n=$((after - before)) -v N="$N" -v t0="$t0" -v t1="$t1" \
		'BEGIN { printf "%s: %d of %d delivered in %.1f s: %.0f msg/s\n", l, n, N, t1 - t0, n / (t1 - t0) }'
}
run "no policy service"
pf_set "smtpd_recipient_restrictions = check_policy_service unix:$PF_DIR/pd.sock"
run "with mailtrust-policyd"
echo "policyd RSS: $(awk '/^VmRSS/ { print $2, $3 }' /proc/$PD_PID/status);" \
	"Received-SPF in $(grep -l '^Received-SPF: pass' "$PF_SINK"/* | wc -l) stored messages"
