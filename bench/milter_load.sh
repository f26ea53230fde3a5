#!/bin/bash
# Load through a private Postfix (tests/postfix/lib.sh): smtp-source sends
# N messages (default 10,000) over S sessions (default 50) to smtpd, which
# relays them to smtp-sink, three times:
#   1. no milter;
#   2. mailtrust-milter: SPF (MAIL FROM and HELO), DKIM verify, DMARC, one
#      Authentication-Results field;
#   3. OpenDKIM (verify) + OpenDMARC (SPF self-validation, DMARC): the
#      same checks by the Debian packages, run privately.
# Every message is the same one, DKIM-signed by dkimpy for load.example
# (SPF pass from 127.0.0.1, DMARC p=reject, so every check passes and
# everything is delivered).  The client is 127.0.0.1: both milters are
# told it is external (not a trusted/internal host).  DNS: NSD on
# 127.0.0.1:53 in the namespace; /etc/resolv.conf is bind-mounted (in a
# private mount namespace) to name it, for OpenDKIM/OpenDMARC.
#
# Prints, per run: delivered count, seconds, msg/s, and the milters' RSS
# sampled once a second (first, min, max, last).
#
#   bench/milter_load.sh MILTER [MESSAGES] [SESSIONS]
set -u
if [ -z "${MT_BENCH_MNT:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "bench/milter_load.sh: needs root (namespaces, the postfix user)" >&2; exit 77; }
	MT_BENCH_MNT=1 exec unshare -m -- bash "$0" "$@"
fi
export PF_DNS_PORT=53
. "$(dirname "$0")/../tests/postfix/lib.sh"
pf_enter "$@"
MILTER=$(readlink -f "$1")
N=${2:-10000}
S=${3:-50}
PY=/usr/bin/python3
AUTHSERV=mx.test.example
for p in opendkim opendmarc smtp-source; do
	command -v $p >/dev/null 2>&1 || [ -x /usr/sbin/$p ] || { echo "$p missing (scripts/deps.sh)" >&2; exit 1; }
done

printf 'nameserver 127.0.0.1\n' >"$PF_DIR/resolv.conf"
mount --bind "$PF_DIR/resolv.conf" /etc/resolv.conf || { echo "cannot bind-mount resolv.conf" >&2; exit 1; }

# the key, the zone, the signed message
openssl genrsa -traditional -out "$PF_DIR/py.pem" 2048 2>/dev/null
pypub=$(openssl rsa -in "$PF_DIR/py.pem" -pubout 2>/dev/null | grep -v -- ----- | tr -d '\n')
{
	cat <<'Z'
$ORIGIN example.
$TTL 3600
@        SOA ns.example. hostmaster.example. 1 3600 600 86400 300
@        NS  ns.example.
ns       A   127.0.0.1
load     TXT "v=spf1 ip4:127.0.0.1 -all"
load     A   127.0.0.1
_dmarc.load TXT "v=DMARC1; p=reject"
helo     TXT "v=spf1 ip4:127.0.0.1 -all"
helo     A   127.0.0.1
Z
	printf 'py._domainkey.load TXT ('
	rec="v=DKIM1; k=rsa; p=$pypub"
	while [ -n "$rec" ]; do printf ' "%s"' "${rec:0:250}"; rec=${rec:250}; done
	printf ' )\n'
} >"$PF_DIR/example.zone"
pf_nsd_start example "$PF_DIR/example.zone"
$PY - "$PF_DIR/msg.eml" "$PF_DIR/py.pem" <<'P' || exit 1
import sys, dkim
body = b''.join(b'line %04d of the load message: the quick brown fox jumps over it\r\n' % i for i in range(16))
msg = (b'From: Load <load@load.example>\r\nTo: rcpt@sink.example\r\nSubject: load\r\n'
       b'Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <load@load.example>\r\n\r\n' + body)
sig = dkim.sign(msg, b'py', b'load.example', open(sys.argv[2], 'rb').read(),
                include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
# smtp-source -F appends CRLF to each line: write LF lines
open(sys.argv[1], 'wb').write((sig + msg).replace(b'\r\n', b'\n'))
P

pf_start
pf_set "default_process_limit = 150" "smtpd_client_connection_count_limit = 0" \
	"smtpd_client_connection_rate_limit = 0" "milter_default_action = tempfail" \
	"in_flow_delay = 0"

RESULTS=$PF_DIR/results.txt
: >"$RESULTS"
sample_rss() {  # sample_rss OUT PID...: VmRSS (kB) of each PID every second
	local out=$1
	shift
	while :; do
		local line="" p r
		for p in "$@"; do
			r=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null)
			line="$line ${r:-0}"
		done
		echo "$line" >>"$out"
		sleep 1
	done
}
rss_summary() {  # rss_summary FILE COLUMN NAME: first, max, last, and every 5th sample
	awk -v c="$2" -v n="$3" 'NF >= c { v = $c / 1024; if (NR == 1) f = v; if (v > max) max = v; l = v;
		if (NR % 5 == 1) s = s sprintf(" %.0f", v) }
		END { printf "  %s RSS MB: first %.1f max %.1f last %.1f (%d samples, 1/s); every 5 s:%s\n", n, f, max, l, NR, s }' "$1"
}
run_load() {  # run_load NAME: smtp-source N messages, wait for the sink
	local name=$1 t0 t1 n i
	rm -rf "$PF_SINK" && mkdir -p "$PF_SINK" && chown postfix "$PF_SINK"
	t0=$(date +%s.%N)
	smtp-source -s "$S" -m "$N" -d -M helo.example -f load@load.example -t rcpt@sink.example \
		-F "$PF_DIR/msg.eml" "127.0.0.1:$PF_SMTP_PORT" >"$PF_DIR/source-$name.log" 2>&1
	t1=$(date +%s.%N)
	for i in $(seq 1 1200); do
		n=$(find "$PF_SINK" -type f | wc -l)
		[ "$n" -ge "$N" ] && break
		sleep 0.25
	done
	local t2
	t2=$(date +%s.%N)
	n=$(find "$PF_SINK" -type f | wc -l)
	local ar
	ar=$($PY -c 'import sys, email
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(" | ".join(" ".join(str(v).split()) for v in m.get_all("Authentication-Results") or []))' "$(find "$PF_SINK" -type f | head -n 1)")
	awk -v name="$name" -v n="$n" -v N="$N" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
		printf "%-22s delivered %d/%d  smtp-source %.1f s  to the sink %.1f s  %.0f msg/s\n",
		       name, n, N, b - a, c - a, n / (c - a) }' | tee -a "$RESULTS"
	echo "  A-R of one message: ${ar:-none}" | tee -a "$RESULTS"
	grep -v -E '^$' "$PF_DIR/source-$name.log" | tail -n 3 | sed 's/^/  smtp-source: /'
}

echo "== $N messages over $S sessions ($(nproc) cores)" | tee -a "$RESULTS"
# 1. no milter
pf_set "smtpd_milters ="
run_load "no milter"

# 2. mailtrust-milter
cat >"$PF_DIR/mt.conf" <<C
authserv-id $AUTHSERV
socket inet:8891@127.0.0.1
user nobody
resolver 127.0.0.1@53
trusted-networks 10.255.255.0/24
dmarc-action reject
C
pf_spawn mailtrust-milter "$MILTER" -l -c "$PF_DIR/mt.conf"
MT_PID=$PF_PID
sleep 1
pf_set "smtpd_milters = inet:127.0.0.1:8891"
sample_rss "$PF_DIR/rss-mt.txt" "$MT_PID" &
SAMPLER=$!
PF_PIDS+=("$SAMPLER")
run_load "mailtrust-milter"
pf_stop_pid "$SAMPLER"
rss_summary "$PF_DIR/rss-mt.txt" 1 "mailtrust-milter" | tee -a "$RESULTS"
pf_stop_pid "$MT_PID"

# 3. OpenDKIM + OpenDMARC
cat >"$PF_DIR/opendkim.conf" <<C
Mode v
Socket inet:8892@127.0.0.1
PidFile $PF_DIR/opendkim.pid
Background no
Syslog yes
UserID nobody
InternalHosts csl:10.255.255.1
Nameservers 127.0.0.1
AuthservID $AUTHSERV
On-DNSError accept
SoftwareHeader no
C
echo 10.255.255.1 >"$PF_DIR/ignore.hosts"
cat >"$PF_DIR/opendmarc.conf" <<C
Socket inet:8893@127.0.0.1
PidFile $PF_DIR/opendmarc.pid
Background false
Syslog true
UserID nobody
AuthservID $AUTHSERV
TrustedAuthservIDs $AUTHSERV
IgnoreHosts $PF_DIR/ignore.hosts
SPFSelfValidate true
RejectFailures true
SoftwareHeader false
C
pf_spawn opendkim /usr/sbin/opendkim -f -x "$PF_DIR/opendkim.conf"
OD_PID=$PF_PID
pf_spawn opendmarc /usr/sbin/opendmarc -f -c "$PF_DIR/opendmarc.conf"
OM_PID=$PF_PID
sleep 1
if ! kill -0 "$OD_PID" || ! kill -0 "$OM_PID"; then
	cat "$PF_DIR"/opendkim.log "$PF_DIR"/opendmarc.log >&2
	exit 1
fi
pf_set "smtpd_milters = inet:127.0.0.1:8892, inet:127.0.0.1:8893"
sample_rss "$PF_DIR/rss-od.txt" "$OD_PID" "$OM_PID" &
SAMPLER=$!
PF_PIDS+=("$SAMPLER")
run_load "opendkim+opendmarc"
pf_stop_pid "$SAMPLER"
rss_summary "$PF_DIR/rss-od.txt" 1 "opendkim" | tee -a "$RESULTS"
rss_summary "$PF_DIR/rss-od.txt" 2 "opendmarc" | tee -a "$RESULTS"
echo "== results"
cat "$RESULTS"
