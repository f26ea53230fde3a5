#!/bin/bash
# The private Postfix harness itself: NSD answers inside the namespace, a
# message sent through smtpd reaches the sink with its header intact, a
# restriction set with pf_set gives its SMTP reply, XCLIENT presents another
# client address, and the sink is still alive at the end.
. "$(dirname "$0")/lib.sh"
pf_enter "$@"

cat >"$PF_DIR/test.example.zone" <<'Z'
$ORIGIN test.example.
$TTL 300
@    SOA ns.test.example. hostmaster.test.example. 1 3600 600 86400 300
@    NS  ns.test.example.
ns   A   127.0.0.1
@    TXT "v=spf1 ip4:192.0.2.0/24 -all"
Z
pf_nsd_start test.example "$PF_DIR/test.example.zone"
pf_check "nsd answers in the namespace" \
	sh -c "dig +short -p $PF_DNS_PORT @127.0.0.1 test.example TXT | grep -q 'v=spf1 ip4:192.0.2.0/24'"

pf_start
pf_send --header "Subject: harness one"
pf_check "message accepted (250 after DATA)" pf_reply_has "250 2.0.0"
pf_check "message stored by the sink" pf_wait_delivered 30
pf_check "stored message keeps its header" grep -q '^Subject: harness one' "$PF_MSG"
pf_check "stored message went through Postfix" grep -q "by mx.test.example (Postfix)" "$PF_MSG"

pf_set "smtpd_recipient_restrictions = check_client_access inline:{192.0.2.66=REJECT}"
pf_send --xclient-addr 192.0.2.66 --header "Subject: harness two"
pf_check "XCLIENT client rejected by the restriction" pf_reply_has 554
pf_check "rejected message not delivered" sh -c "! grep -l -F 'X-PF-Id: $PF_ID' $PF_SINK/* >/dev/null 2>&1"
pf_send --xclient-addr 192.0.2.67 --header "Subject: harness three"
pf_check "other XCLIENT client accepted" pf_reply_has "250 2.0.0"
pf_check "its message delivered" pf_wait_delivered 30
pf_check "Received shows the XCLIENT address" grep -q '192\.0\.2\.67' "$PF_MSG"
pf_check "smtp-sink still alive" kill -0 "$PF_SINK_PID"
pf_done
