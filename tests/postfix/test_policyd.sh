#!/bin/bash
# mailtrust-policyd in front of a real Postfix (lib.sh): check_policy_service
# in smtpd_recipient_restrictions, swaks presenting other client addresses
# with XCLIENT, NSD serving test.example, and a domain whose nameserver
# never answers.  Asserts on the SMTP replies and on the messages the sink
# stored: Received-SPF prepended for pass and softfail, 550 5.7.23 for fail,
# 451 4.7.24 for temperror, HELO checked for the null sender, authenticated
# clients not checked; the daemon runs as nobody after opening its socket.
#
#   test_policyd.sh MAILTRUST_POLICYD
. "$(dirname "$0")/lib.sh"
pf_enter "$@"
PD=${1:?usage: test_policyd.sh MAILTRUST_POLICYD}
PYTHON=${PYTHON:-python3}

cat >"$PF_DIR/test.example.zone" <<'ZONE'
$ORIGIN test.example.
$TTL 300
@        SOA ns.test.example. hostmaster.test.example. 1 3600 600 86400 300
@        NS  ns.test.example.
ns       A   127.0.0.1
pass     TXT "v=spf1 ip4:192.0.2.0/24 -all"
fail     TXT "v=spf1 ip4:198.51.100.1 -all"
soft     TXT "v=spf1 ip4:198.51.100.1 ~all"
mx.helo  TXT "v=spf1 ip4:192.0.2.7 -all"
ZONE
pf_nsd_start test.example "$PF_DIR/test.example.zone"

# silent.example: its server takes every question and answers none
SILENT_PORT=5354
pf_spawn silent "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("listening", flush=True)
while True:
    s.recvfrom(4096)
' "$SILENT_PORT"
printf 'server:\n\tdo-not-query-localhost: no\nforward-zone:\n\tname: "silent.example"\n\tforward-addr: 127.0.0.1@%s\n' \
	"$SILENT_PORT" >"$PF_DIR/unbound.conf"
chmod 644 "$PF_DIR/unbound.conf"

SOCK=$PF_DIR/policyd.sock
pf_spawn policyd "$PD" -l -s "unix:$SOCK" -u nobody --resolver "$PF_RESOLVER" \
	--unbound-config "$PF_DIR/unbound.conf" --receiver mx.test.example -r -t 3
PD_PID=$PF_PID
for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
pf_check "policyd socket created" test -S "$SOCK"
# the socket is opened before the switch to nobody: wait for the switch
runs_as_nobody() {
	local i
	for i in $(seq 50); do
		awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$PD_PID/status" 2>/dev/null |
			grep -qx "$(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)" && return 0
		sleep 0.1
	done
	return 1
}
pf_check "policyd runs as nobody (real, effective, saved, fs uid)" runs_as_nobody

pf_start
pf_set "smtpd_recipient_restrictions = check_policy_service unix:$SOCK"

has_header() { grep -q -E "$1" "$PF_MSG"; }
not_delivered() { ! grep -l -F "X-PF-Id: $PF_ID" "$PF_SINK"/* >/dev/null 2>&1; }

pf_send --xclient-addr 192.0.2.1 --from a@pass.test.example --header "Subject: spf pass"
pf_check "pass: accepted" pf_reply_has "250 2.0.0"
pf_check "pass: delivered" pf_wait_delivered 30
pf_check "pass: Received-SPF: pass prepended" \
	has_header '^Received-SPF: pass \(mx.test.example: domain of a@pass.test.example designates 192.0.2.1 as permitted sender\)'
# RFC 7208 9.1: above the Received field of the receiving MTA
spf_above_received() {
	awk '/^Received-SPF:/ && !s { s = NR } /by mx.test.example \(Postfix\)/ && !r { r = NR }
	     END { exit !(s && r && s < r) }' "$PF_MSG"
}
pf_check "pass: Received-SPF above Postfix's Received" spf_above_received

pf_send --xclient-addr 192.0.2.1 --from a@soft.test.example --header "Subject: spf softfail"
pf_check "softfail: accepted" pf_reply_has "250 2.0.0"
pf_check "softfail: delivered" pf_wait_delivered 30
pf_check "softfail: Received-SPF: softfail prepended" \
	has_header '^Received-SPF: softfail .*identity=mailfrom'

pf_send --xclient-addr 192.0.2.1 --from a@fail.test.example --header "Subject: spf fail"
pf_check "fail: RCPT refused with 550 5.7.23" pf_reply_has "550 5.7.23"
pf_check "fail: the reply names the rule" grep -q "SPF fail: 192.0.2.1 is not one of fail.test.example's designated mail servers" "$PF_OUT"
pf_check "fail: nothing delivered" not_delivered

pf_send --xclient-addr 192.0.2.1 --from a@x.silent.example --header "Subject: spf temperror"
pf_check "temperror (silent nameserver): 451 4.7.24" pf_reply_has "451 4.7.24"
pf_check "temperror: nothing delivered" not_delivered

pf_send --xclient-addr 192.0.2.7 --from '<>' --helo mx.helo.test.example --header "Subject: null sender"
pf_check "null sender: accepted" pf_reply_has "250 2.0.0"
pf_check "null sender: delivered" pf_wait_delivered 30
pf_check "null sender: HELO checked (identity=helo, pass)" \
	has_header '^Received-SPF: pass .*identity=helo'
pf_send --xclient-addr 192.0.2.8 --from '<>' --helo mx.helo.test.example --header "Subject: null sender fail"
pf_check "null sender, HELO fails: 550 5.7.23" pf_reply_has "550 5.7.23"

pf_send --xclient-addr 192.0.2.1 --xclient-login bob --from a@fail.test.example --header "Subject: authenticated"
pf_check "authenticated client (XCLIENT LOGIN): accepted although SPF fails" pf_reply_has "250 2.0.0"
pf_check "authenticated: delivered" pf_wait_delivered 30
pf_check "authenticated: no Received-SPF" sh -c "! grep -q '^Received-SPF:' '$PF_MSG'"
pf_check "policyd logged the skip" grep -q 'sender=a@fail.test.example not checked: authenticated' "$PF_DIR/policyd.log"

# two recipients of one message: one Received-SPF
pf_send --xclient-addr 192.0.2.1 --from a@pass.test.example --to one@sink.example,two@sink.example \
	--header "Subject: two recipients"
pf_check "two recipients: accepted" pf_reply_has "250 2.0.0"
pf_check "two recipients: delivered" pf_wait_delivered 30
pf_check "two recipients: Received-SPF once" \
	sh -c "[ \$(grep -c '^Received-SPF:' '$PF_MSG') -eq 1 ]"

pf_check "policyd still running" kill -0 "$PD_PID"
pf_check "smtp-sink still running" kill -0 "$PF_SINK_PID"
if [ "$PF_FAILED" -ne 0 ]; then
	echo "--- policyd log ---"
	tail -n 20 "$PF_DIR/policyd.log"
fi
pf_done
