#!/bin/bash
# mailtrust-milter in front of a real Postfix (tests/postfix/lib.sh): SPF,
# DKIM (signed by dkimpy and by mailtrust; tampered), DMARC (p=reject
# rejected with 550 5.7.1, p=none reported, t=y held instead of rejected),
# a forged Authentication-Results field with our authserv-id removed,
# outbound signing for an authenticated sender (XCLIENT LOGIN) checked by
# dkimpy, and the milter killed: mail tempfailed, resent after a restart,
# delivered exactly once.  Then dmarc-action quarantine (p=quarantine and
# p=reject held in Postfix's hold queue), dmarc-action report (delivered
# with dmarc=fail) and the milter on a Unix socket owned by its user.
#
#   test_milter.sh MILTER MAILTRUST
if [ ! -f "$(dirname "$0")/lib.sh" ]; then
	# the harness comes with the policyd branch
	echo "SKIP: tests/postfix/lib.sh (the private Postfix harness) is not in this tree"
	exit 77
fi
. "$(dirname "$0")/lib.sh"
pf_enter "$@"
MILTER=$1
MT=$2
PY=/usr/bin/python3
$PY -c 'import dkim, authres, nacl' 2>/dev/null ||
	pf_skip "python3-dkim, python3-authres and python3-nacl are needed (scripts/deps.sh)"
MPORT=8891
AUTHSERV=mx.test.example
K=$PF_DIR/keys
mkdir -p "$K"

# ---- keys and the zone ------------------------------------------------
# dkimpy's key: openssl, traditional RSA PEM; its record from the public key
openssl genrsa -traditional -out "$K/py.pem" 2048 2>/dev/null || openssl genrsa -out "$K/py.pem" 2048 2>/dev/null
pypub=$(openssl rsa -in "$K/py.pem" -pubout 2>/dev/null | grep -v -- ----- | tr -d '\n')
# mailtrust's keys (the milter signs with rsa and ed25519; the CLI with mt)
"$MT" dkim keygen --domain dk.example --selector mt --out "$K/mt.pem" >"$K/mt.rec" || exit 1
"$MT" dkim keygen --domain out.example --selector rsa --out "$K/out-rsa.pem" >"$K/out-rsa.rec" || exit 1
"$MT" dkim keygen --domain out.example --selector ed --type ed25519 --out "$K/out-ed.pem" >"$K/out-ed.rec" || exit 1
chmod 644 "$K"/*.pem
{
	cat <<'Z'
$ORIGIN example.
$TTL 300
@        SOA ns.example. hostmaster.example. 1 3600 600 86400 300
@        NS  ns.example.
ns       A   127.0.0.1
pass     TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc.pass TXT "v=DMARC1; p=reject"
none     TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc.none TXT "v=DMARC1; p=none"
soft     TXT "v=spf1 ~all"
testy    TXT "v=spf1 -all"
_dmarc.testy TXT "v=DMARC1; p=reject; t=y"
dk       TXT "v=spf1 -all"
_dmarc.dk TXT "v=DMARC1; p=none"
out      TXT "v=spf1 -all"
_dmarc.out TXT "v=DMARC1; p=reject"
mail.client TXT "v=spf1 ip4:192.0.2.10 -all"
quar     TXT "v=spf1 -all"
_dmarc.quar TXT "v=DMARC1; p=quarantine"
Z
	# a TXT string holds 255 octets at most
	printf 'py._domainkey.dk TXT ('
	rec="v=DKIM1; k=rsa; p=$pypub"
	while [ -n "$rec" ]; do printf ' "%s"' "${rec:0:250}"; rec=${rec:250}; done
	printf ' )\n'
	tail -n 1 "$K/mt.rec"
	tail -n 1 "$K/out-rsa.rec"
	tail -n 1 "$K/out-ed.rec"
} >"$PF_DIR/example.zone"
pf_nsd_start example "$PF_DIR/example.zone"

# ---- the milter -----------------------------------------------------------
cat >"$PF_DIR/milter.conf" <<C
authserv-id $AUTHSERV
socket inet:$MPORT@127.0.0.1
user nobody
resolver $PF_RESOLVER
dns-contexts 2
dmarc-action reject
trusted-networks 127.0.0.0/8
sign out.example rsa $K/out-rsa.pem
sign out.example ed $K/out-ed.pem
C
pf_check "milter -n accepts the configuration" "$MILTER" -n -c "$PF_DIR/milter.conf"
start_milter() {
	pf_spawn milter "$MILTER" -l -c "$PF_DIR/milter.conf"
	MILTER_PID=$PF_PID
	local i
	for i in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "milter did not start" >&2
	cat "$PF_DIR/milter.log" >&2
	exit 1
}
start_milter
# the socket listens before the switch to nobody: wait for it (up to 5 s)
runs_as_nobody() {
	local i
	for i in $(seq 1 50); do
		[ "$(ps -o user= -p "$MILTER_PID" 2>/dev/null | tr -d ' ')" = nobody ] && return 0
		sleep 0.1
	done
	return 1
}
pf_check "milter runs as nobody" runs_as_nobody

pf_start
pf_set "smtpd_milters = inet:127.0.0.1:$MPORT" "milter_default_action = tempfail" \
	"smtpd_sasl_auth_enable = no"

# A-R fields of the stored message, unfolded, one per line
ar_fields() {
	$PY - "$PF_MSG" <<'P'
import sys, email
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
for v in m.get_all('Authentication-Results') or []:
    print(' '.join(str(v).split()))
P
}
# ours (claims AUTHSERV): exactly one, parsed by python3-authres; prints it
our_ar() {
	$PY - "$PF_MSG" "$AUTHSERV" <<'P'
import sys, email, authres
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
ours = []
for v in m.get_all('Authentication-Results') or []:
    v = ' '.join(str(v).split())
    p = authres.AuthenticationResultsHeader.parse_value(v)
    if p.authserv_id.lower() == sys.argv[2]:
        ours.append(p)
if len(ours) != 1:
    print('found %d fields with our authserv-id' % len(ours), file=sys.stderr)
    sys.exit(1)
for r in ours[0].results:
    props = ' '.join('%s.%s=%s' % (x.type, x.name, x.value) for x in r.properties)
    print(('%s=%s %s' % (r.method, r.result, props)).strip())
P
}
ar_has() {  # ar_has REGEX: a result line of our parsed field matches
	our_ar >"$PF_DIR/ar.txt" || return 1
	grep -q -E "$1" "$PF_DIR/ar.txt" || { echo "  our A-R:"; sed 's/^/    /' "$PF_DIR/ar.txt"; return 1; }
}

verify_py() {  # dkimpy checks each signature of PF_MSG with keys from the zone: "ALG ok|fail" lines
	$PY - "$PF_MSG" "$PF_DIR/example.zone" <<'P'
import sys, re, dkim
zone = open(sys.argv[2]).read()
recs = {}
for m in re.finditer(r'^(\S+)\s+IN\s+TXT\s+\((.*?)\)', zone, re.M | re.S):
    recs[m.group(1).rstrip('.').lower()] = ''.join(re.findall(r'"([^"]*)"', m.group(2)))
def dns(name, timeout=5):
    return recs.get(name.decode().rstrip('.').lower(), '').encode()
data = open(sys.argv[1], 'rb').read()
d = dkim.DKIM(data)
sigs = [v for k, v in d.headers if k.lower() == b'dkim-signature']
for i in range(len(sigs)):
    alg = re.search(rb'a=([a-z0-9-]+)', sigs[i]).group(1).decode()
    try:
        ok = d.verify(idx=i, dnsfunc=dns)
    except Exception as e:
        ok = False
    print(alg, 'ok' if ok else 'fail')
P
}
verified() {  # verified LINE...: verify_py prints exactly these lines (sorted)
	local want got
	want=$(printf '%s\n' "$@" | sort)
	got=$(verify_py | sort)
	[ "$got" = "$want" ] || { echo "  dkimpy: $got"; return 1; }
}
not_delivered() { ! grep -l -F "X-PF-Id: $PF_ID" "$PF_SINK"/* >/dev/null 2>&1; }
ar_count() { local n; n=$(ar_fields | wc -l); [ "$n" -eq "$1" ] || { echo "  $n A-R fields:"; ar_fields | sed "s/^/    /"; return 1; }; }
sig_count() { [ "$(grep -c '^DKIM-Signature:' "$PF_MSG")" -eq "$1" ]; }

# ---- SPF ------------------------------------------------------------------
pf_send --xclient-addr 192.0.2.10 --helo mail.client.example --from a@pass.example \
	--header "From: a@pass.example" --header "Subject: spf pass"
pf_check "spf pass: accepted" pf_reply_has 250
pf_check "spf pass: delivered" pf_wait_delivered 30
pf_check "spf pass: A-R spf=pass smtp.mailfrom" ar_has '^spf=pass smtp\.mailfrom=pass\.example$'
pf_check "spf pass: A-R spf=pass smtp.helo" ar_has '^spf=pass smtp\.helo=mail\.client\.example$'
pf_check "spf pass: dmarc=pass (SPF aligned)" ar_has '^dmarc=pass .*header\.from=pass\.example'
pf_check "spf pass: dkim=none" ar_has '^dkim=none'

pf_send --xclient-addr 198.51.100.9 --helo mail.client.example --from a@none.example \
	--header "From: a@none.example" --header "Subject: spf fail"
pf_check "spf fail, p=none: accepted" pf_reply_has 250
pf_check "spf fail, p=none: delivered" pf_wait_delivered 30
pf_check "spf fail: A-R spf=fail" ar_has '^spf=fail smtp\.mailfrom=none\.example$'
pf_check "spf fail: helo fail too" ar_has '^spf=fail smtp\.helo=mail\.client\.example$'
pf_check "p=none: dmarc=fail only reported" ar_has '^dmarc=fail .*policy\.dmarc=none'

pf_send --xclient-addr 198.51.100.9 --from a@soft.example --header "From: a@soft.example"
pf_check "spf softfail: delivered" pf_wait_delivered 30
pf_check "spf softfail: A-R spf=softfail" ar_has '^spf=softfail smtp\.mailfrom=soft\.example$'
pf_check "no DMARC record: dmarc=none" ar_has '^dmarc=none'

pf_send --xclient-addr 198.51.100.9 --from a@unserved.org --header "From: a@none.example"
pf_check "DNS failure: accepted (on-dns-failure accept)" pf_wait_delivered 30
pf_check "DNS failure: spf=temperror" ar_has '^spf=temperror'

# ---- DMARC reject, t=y ------------------------------------------------------
pf_send --xclient-addr 198.51.100.9 --from bounce@soft.example \
	--header "From: ceo@pass.example" --header "Subject: forged"
pf_check "DMARC p=reject, forged From: 550 5.7.1" pf_reply_has "550 5.7.1"
pf_check "forged From not delivered" not_delivered

pf_send --xclient-addr 198.51.100.9 --from bounce@soft.example --header "From: ceo@testy.example"
pf_check "p=reject with t=y: not rejected" pf_reply_has 250
held() { postqueue -c "$PF_CONF" -j 2>/dev/null | grep -q '"queue_name": "hold"'; }
pf_check "p=reject with t=y: held (quarantine)" held
sleep 2
pf_check "the held message is not delivered" not_delivered

# ---- DKIM -------------------------------------------------------------------
mkmsg() {  # mkmsg FILE FROM SUBJECT: a message with CRLF line ends
	printf 'From: %s\r\nTo: rcpt@sink.example\r\nSubject: %s\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s@dk.example>\r\nX-PF-Id: %%PFID%%\r\n\r\nHello,\r\nthis body is signed.\r\n\r\n' \
		"$2" "$3" "$RANDOM$RANDOM" >"$1"
}
send_file() {  # send_file FILE [SWAKS ARGS]: PF_ID is put in the X-PF-Id field
	local f=$1
	shift
	PF_N=$((PF_N + 1))
	PF_ID="pf-$$-$PF_N-$RANDOM"
	sed "s/%PFID%/$PF_ID/" "$f" >"$f.send"
	timeout 90 swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --timeout 60 --hide-informational \
		--to rcpt@sink.example --data "@$f.send" "$@" >"$PF_OUT" 2>&1
	PF_RC=$?
}
mkmsg "$PF_DIR/py.eml" "a@dk.example" "dkimpy"
$PY - "$PF_DIR/py.eml" "$K/py.pem" <<'P' || exit 1
import sys, dkim
msg = open(sys.argv[1], 'rb').read()
# the X-PF-Id value changes after signing: it is not signed
sig = dkim.sign(msg, b'py', b'dk.example', open(sys.argv[2], 'rb').read(),
                include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
open(sys.argv[1], 'wb').write(sig + msg)
P
send_file "$PF_DIR/py.eml" --xclient-addr 198.51.100.9 --from a@dk.example
pf_check "dkimpy-signed: delivered" pf_wait_delivered 30
pf_check "dkimpy-signed: dkim=pass header.d=dk.example header.s=py" \
	ar_has '^dkim=pass .*header\.d=dk\.example.*header\.s=py'
pf_check "dkimpy-signed: dmarc=pass (DKIM aligned, SPF fails)" ar_has '^dmarc=pass'
pf_check "dkimpy-signed: spf=fail" ar_has '^spf=fail'

sed 's/this body is signed/this body was changed/' "$PF_DIR/py.eml" >"$PF_DIR/tampered.eml"
send_file "$PF_DIR/tampered.eml" --xclient-addr 198.51.100.9 --from a@dk.example
pf_check "tampered: delivered (p=none)" pf_wait_delivered 30
pf_check "tampered: dkim=fail" ar_has '^dkim=fail .*header\.d=dk\.example'
pf_check "tampered: dmarc=fail" ar_has '^dmarc=fail'

mkmsg "$PF_DIR/mt.eml" "a@dk.example" "mailtrust-signed"
"$MT" dkim sign --domain dk.example --selector mt --key "$K/mt.pem" --headers from:to:subject:date:message-id \
	"$PF_DIR/mt.eml" >"$PF_DIR/mt.signed" || exit 1
send_file "$PF_DIR/mt.signed" --xclient-addr 198.51.100.9 --from a@dk.example
pf_check "mailtrust-signed: delivered" pf_wait_delivered 30
pf_check "mailtrust-signed: dkim=pass header.s=mt" ar_has '^dkim=pass .*header\.d=dk\.example.*header\.s=mt'

# ---- forged Authentication-Results ------------------------------------------
pf_send --xclient-addr 192.0.2.10 --from a@pass.example --header "From: a@pass.example" \
	--header "Authentication-Results: $AUTHSERV; dkim=pass header.d=pass.example; dmarc=pass" \
	--header "Authentication-Results: other.example; spf=pass smtp.mailfrom=x@other.example"
pf_check "forged A-R: delivered" pf_wait_delivered 30
pf_check "forged A-R: exactly one field claims our authserv-id (ours)" ar_has '^spf=pass'
pf_check "forged A-R: its dkim=pass is gone" sh -c "! grep -q 'dkim=pass header.d=pass.example; dmarc=pass' '$PF_MSG'"
other_kept() { ar_fields | grep -q '^other.example; spf=pass smtp.mailfrom=x@other.example$'; }
pf_check "forged A-R: another receiver's field is kept" other_kept
pf_check "forged A-R: two A-R fields in all" ar_count 2
# more forged fields than the milter removes (64): refused, none delivered
many=()
for i in $(seq 65); do
	many+=(--header "Authentication-Results: $AUTHSERV; dmarc=pass header.from=pass.example")
done
pf_send --xclient-addr 192.0.2.10 --from a@pass.example --header "From: a@pass.example" "${many[@]}"
pf_check "65 forged A-R fields: 550 5.7.1" pf_reply_has "550 5.7.1"
pf_check "65 forged A-R fields: not delivered" not_delivered

# ---- outbound signing ----------------------------------------------------
pf_send --xclient-addr 198.51.100.9 --xclient-login alice --from boss@out.example \
	--header "From: Boss <boss@out.example>" --header "Subject: outbound"
pf_check "authenticated sender: delivered" pf_wait_delivered 30
pf_check "authenticated sender: two DKIM-Signature fields" sig_count 2
pf_check "authenticated sender: dkimpy verifies rsa-sha256 and ed25519-sha256" \
	verified "rsa-sha256 ok" "ed25519-sha256 ok"
pf_check "authenticated sender: not verified (no A-R)" ar_count 0
# the same From without authentication is inbound mail: out.example has
# p=reject and SPF -all, so it is rejected
pf_send --xclient-addr 198.51.100.9 --from boss@out.example --header "From: boss@out.example"
pf_check "same From, not authenticated: verified and rejected (p=reject)" pf_reply_has "550 5.7.1"
pf_check "not authenticated: not delivered" not_delivered
pf_send --from boss@out.example --header "From: boss@out.example"
pf_check "trusted network (127.0.0.1): delivered" pf_wait_delivered 30
pf_check "trusted network: signed, dkimpy verifies both" verified "rsa-sha256 ok" "ed25519-sha256 ok"

# ---- SIGHUP reloads keys ----------------------------------------------------
rm -f "$K/out-ed.pem.new"
"$MT" dkim keygen --domain out.example --selector ed --type ed25519 --out "$K/out-ed.pem.new" >/dev/null
chmod 644 "$K/out-ed.pem.new"
mv "$K/out-ed.pem.new" "$K/out-ed.pem"
kill -HUP "$MILTER_PID"
sleep 1
pf_check "SIGHUP: milter still running" kill -0 "$MILTER_PID"
pf_check "SIGHUP: reload logged" grep -q "reload: 2 signing keys loaded" "$PF_DIR/milter.log"
pf_send --from boss@out.example --header "From: boss@out.example"
pf_check "after SIGHUP: delivered" pf_wait_delivered 30
pf_check "after SIGHUP: the new ed25519 key signs (the published record no longer matches it)" \
	verified "rsa-sha256 ok" "ed25519-sha256 fail"

# ---- one syslog line per message with every result ---------------------------
pf_check "log: one line per message with spf, spf-helo, dkim, dmarc and action" \
	grep -q -E 'inbound client=192\.0\.2\.10 .* spf=pass\(pass\.example\) spf-helo=pass\(mail\.client\.example\) dkim=none dmarc=pass\(from=pass\.example .*action=accept' "$PF_DIR/milter.log"

# ---- the milter killed mid-run -----------------------------------------------
# 12 messages sent one after the other in the background; the milter is
# killed after the 4th is answered and restarted when all have been tried.
# Every message answered 4xx is sent again (same X-PF-Id); in the end each
# of the 12 is stored exactly once.
: >"$PF_DIR/run.txt"
(
	for n in $(seq 1 12); do
		id="kill-$$-$n"
		timeout 90 swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --hide-informational \
			--xclient-addr 192.0.2.10 --from a@pass.example --to rcpt@sink.example \
			--header "From: a@pass.example" --add-header "X-PF-Id: $id" >"$PF_DIR/run-$n.out" 2>&1
		code=$(grep -E '^<[*~-]* +[0-9]{3} ' "$PF_DIR/run-$n.out" | tail -n 2 | head -n 1 | awk '{print $2}')
		echo "$id $code" >>"$PF_DIR/run.txt"
		sleep 0.2
	done
) &
SENDER=$!
for i in $(seq 1 300); do
	[ "$(wc -l <"$PF_DIR/run.txt")" -ge 4 ] && break
	sleep 0.1
done
kill -9 "$MILTER_PID"
wait "$MILTER_PID" 2>/dev/null
wait "$SENDER"
tempfailed=$(awk '$2 ~ /^4/' "$PF_DIR/run.txt" | wc -l)
accepted=$(awk '$2 == 221 || $2 == 250' "$PF_DIR/run.txt" | wc -l)
echo "  mid-run: $accepted accepted, $tempfailed tempfailed while the milter was down"
pf_check "before the kill: messages accepted" [ "$accepted" -ge 3 ]
pf_check "milter down: messages tempfailed (451 4.7.1 at MAIL FROM or after DATA)" [ "$tempfailed" -ge 5 ] && [ $((accepted + tempfailed)) -eq 12 ]
pf_check "milter down: no message answered 5xx" sh -c "! awk '\$2 ~ /^5/' '$PF_DIR/run.txt' | grep -q ."
start_milter
while read -r id code; do
	case $code in 4*) ;; *) continue ;; esac
	timeout 90 swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --hide-informational --xclient-addr 192.0.2.10 \
		--from a@pass.example --to rcpt@sink.example --header "From: a@pass.example" \
		--add-header "X-PF-Id: $id" >"$PF_OUT" 2>&1
done <"$PF_DIR/run.txt"
count_ok() {
	local n id c bad=0 i
	for i in $(seq 1 100); do  # the queue manager may still be at it
		[ "$(grep -l -F -- "X-PF-Id: kill-$$-" "$PF_SINK"/* 2>/dev/null | wc -l)" -ge 12 ] && break
		sleep 0.1
	done
	sleep 1
	for n in $(seq 1 12); do
		id="kill-$$-$n"
		c=$(grep -l -E -- "^X-PF-Id: $id\r?$" "$PF_SINK"/* 2>/dev/null | wc -l)
		[ "$c" -eq 1 ] || { echo "  $id stored $c times"; bad=1; }
	done
	[ $bad -eq 0 ]
}
pf_check "milter killed mid-run: each of the 12 messages stored exactly once" count_ok
# ---- on-dns-failure tempfail ------------------------------------------------
pf_stop_pid "$MILTER_PID"
echo "on-dns-failure tempfail" >>"$PF_DIR/milter.conf"
start_milter
pf_send --xclient-addr 198.51.100.9 --from a@unserved.org --header "From: a@none.example"
pf_check "on-dns-failure tempfail: DNS failure answered 451 4.4.3" pf_reply_has "451 4.4.3"
pf_check "on-dns-failure tempfail: not delivered" not_delivered
pf_send --xclient-addr 192.0.2.10 --from a@pass.example --header "From: a@pass.example"
pf_check "on-dns-failure tempfail: a message DNS can decide is delivered" pf_wait_delivered 30

# ---- dmarc-action quarantine ------------------------------------------------
# the same configuration with another dmarc-action (and socket, user)
milter_conf() {  # milter_conf ACTION SOCKET USER >FILE
	sed -e "s|^dmarc-action .*|dmarc-action $1|" -e "s|^socket .*|socket $2|" \
		-e "s|^user .*|user $3|" "$PF_DIR/milter.conf"
}
# SIGKILL: a SIGTERM'd milter takes ~4.5 s to exit (libmilter's listener
# notices smfi_stop only at its next poll timeout), graceful stops are
# covered above; the milter keeps nothing to flush
kill_milter() { kill -9 "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null; }
restart_milter() {  # restart_milter ACTION: the milter on inet:$MPORT again
	kill_milter
	milter_conf "$1" "inet:$MPORT@127.0.0.1" nobody >"$PF_DIR/milter-$1.conf"
	pf_spawn "milter-$1" "$MILTER" -l -c "$PF_DIR/milter-$1.conf"
	MILTER_PID=$PF_PID
	local i
	for i in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "milter ($1) did not start" >&2
	cat "$PF_DIR/milter-$1.log" >&2
	exit 1
}
# the queue ID of the last pf_send ("250 2.0.0 Ok: queued as ID")
queue_id() { sed -n 's/.* queued as \([0-9A-Za-z]*\).*/\1/p' "$PF_OUT" | tail -n 1; }
in_hold() {  # in_hold QID: in the hold directory and listed by postqueue as held
	[ -n "$1" ] && [ -f "$PF_DIR/queue/hold/$1" ] || { echo "  $1 not in $PF_DIR/queue/hold"; return 1; }
	postqueue -c "$PF_CONF" -j | $PY -c '
import sys, json
q = [json.loads(l) for l in sys.stdin if l.strip()]
sys.exit(0 if any(m["queue_id"] == sys.argv[1] and m["queue_name"] == "hold" for m in q) else 1)' "$1"
}
held_has() {  # held_has QID REGEX: a header field (unfolded) of the held message matches
	postcat -c "$PF_CONF" -h -q "$1" 2>/dev/null | tr -d '\r' |
		awk '/^[ \t]/ { sub(/^[ \t]+/, " "); f = f $0; next } { if (f != "") print f; f = $0 } END { if (f != "") print f }' |
		grep -q -E "$2"
}
# queued: the end-of-data reply is 250 2.0.0 (MAIL and RCPT get 250 2.1.x
# before a milter's verdict), and no 5xx anywhere
queued() { pf_reply_has "250 2.0.0" && ! grep -q -E '^<[*~-]* +5[0-9][0-9]' "$PF_OUT"; }
id_not_delivered() { ! grep -l -F "X-PF-Id: $1" "$PF_SINK"/* >/dev/null 2>&1; }
restart_milter quarantine
pf_send --xclient-addr 198.51.100.9 --from bounce@soft.example \
	--header "From: ceo@quar.example" --header "Subject: forged, p=quarantine"
pf_check "quarantine, p=quarantine forged From: accepted (250)" queued
q1=$(queue_id) id1=$PF_ID
pf_check "quarantine, p=quarantine: $q1 in the hold queue" in_hold "$q1"
pf_check "quarantine, p=quarantine: held with our A-R dmarc=fail" \
	held_has "$q1" "^Authentication-Results: $AUTHSERV;.* dmarc=fail .*policy\.dmarc=quarantine"
pf_check "quarantine, p=quarantine: the held copy carries its X-PF-Id" held_has "$q1" "^X-PF-Id: $id1\$"
pf_send --xclient-addr 198.51.100.9 --from bounce@soft.example \
	--header "From: ceo@pass.example" --header "Subject: forged, p=reject"
pf_check "quarantine, p=reject forged From: accepted, not 550" queued
q2=$(queue_id) id2=$PF_ID
pf_check "quarantine, p=reject: $q2 in the hold queue" in_hold "$q2"
pf_send --xclient-addr 192.0.2.10 --from a@pass.example --header "From: a@pass.example"
pf_check "quarantine: a passing message is delivered" pf_wait_delivered 30
pf_check "quarantine: the passing message has dmarc=pass" ar_has '^dmarc=pass'
pf_check "quarantine: not held, so not in the hold queue" sh -c "! ls '$PF_DIR/queue/hold' | grep -q -x '$(queue_id)'"
# sent before the passing message, which is already delivered
pf_check "quarantine: neither held message reached the sink" id_not_delivered "$id1"
pf_check "quarantine: (p=reject) not in the sink" id_not_delivered "$id2"
pf_check "quarantine: Postfix logged milter-hold for both" \
	sh -c "grep -q '$q1: milter-hold: END-OF-MESSAGE' '$PF_DIR/maillog' && grep -q '$q2: milter-hold: END-OF-MESSAGE' '$PF_DIR/maillog'"
pf_check "quarantine: milter logged action=quarantine twice" \
	[ "$(grep -c 'action=quarantine' "$PF_DIR/milter-quarantine.log")" -eq 2 ]
# the reason is readable free text between quotes (spaces kept)
pf_check "quarantine: the log's dmarc-reason is quoted text with its spaces" \
	grep -q -E 'dmarc-reason="[^"?]+ [^"?]+"' "$PF_DIR/milter-quarantine.log"

# ---- dmarc-action report -------------------------------------------------------
restart_milter report
pf_send --xclient-addr 198.51.100.9 --from bounce@soft.example \
	--header "From: ceo@pass.example" --header "Subject: forged, report only"
pf_check "report, p=reject forged From: accepted (250, no 550)" queued
q3=$(queue_id)
pf_check "report, p=reject: delivered to the sink" pf_wait_delivered 30
pf_check "report, p=reject: A-R dmarc=fail policy.dmarc=reject" ar_has '^dmarc=fail .*policy\.dmarc=reject'
pf_check "report, p=reject: not held" [ ! -e "$PF_DIR/queue/hold/$q3" ]
pf_send --xclient-addr 198.51.100.9 --from bounce@soft.example --header "From: ceo@quar.example"
pf_check "report, p=quarantine: delivered to the sink" pf_wait_delivered 30
pf_check "report, p=quarantine: A-R dmarc=fail policy.dmarc=quarantine" ar_has '^dmarc=fail .*policy\.dmarc=quarantine'
pf_check "report: milter logged action=accept for both" \
	[ "$(grep -c 'dmarc=fail.*action=accept' "$PF_DIR/milter-report.log")" -eq 2 ]

# ---- a Unix socket ------------------------------------------------------------
# The milter opens the socket as root, gives it to its user and drops to
# that user.  Postfix's smtpd runs as postfix, so the milter runs as postfix
# too (a socket of another user is reachable only by that user's group).
kill_milter
mkdir -p "$PF_DIR/msock"
chmod 755 "$PF_DIR/msock"
SOCK=$PF_DIR/msock/milter.sock
milter_conf reject "unix:$SOCK" postfix >"$PF_DIR/milter-unix.conf"
pf_spawn milter-unix "$MILTER" -l -c "$PF_DIR/milter-unix.conf"
MILTER_PID=$PF_PID
runs_as() {  # runs_as USER: the milter process has become USER (up to 5 s)
	local i
	for i in $(seq 1 50); do
		[ "$(ps -o user= -p "$MILTER_PID" 2>/dev/null | tr -d ' ')" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
pf_check "unix socket: milter runs as postfix" runs_as postfix
# umask 007 (mailtrust-milter.conf(5)): owner and group only
pf_check "unix socket: $SOCK is a socket owned by postfix:postfix, mode 770" \
	[ "$(stat -c '%F %U:%G %a' "$SOCK" 2>/dev/null)" = "socket postfix:postfix 770" ]
sock_connect() {  # sock_connect USER: USER can connect to $SOCK
	setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups $PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$SOCK" 2>/dev/null
}
pf_check "unix socket: postfix can connect" sock_connect postfix
sock_refused() { ! sock_connect "$1"; }
pf_check "unix socket: nobody cannot (permissions enforced)" sock_refused nobody
pf_set "smtpd_milters = unix:$SOCK"
pf_send --xclient-addr 192.0.2.10 --from a@pass.example --header "From: a@pass.example"
pf_check "unix socket: passing message delivered" pf_wait_delivered 30
pf_check "unix socket: A-R spf=pass" ar_has '^spf=pass smtp\.mailfrom=pass\.example$'
pf_check "unix socket: A-R dmarc=pass" ar_has '^dmarc=pass'
pf_send --xclient-addr 198.51.100.9 --from bounce@soft.example --header "From: ceo@pass.example"
pf_check "unix socket: p=reject forged From: 550 5.7.1" pf_reply_has "550 5.7.1"
pf_check "unix socket: forged not delivered" not_delivered
pf_check "unix socket: milter logged both messages" \
	[ "$(grep -c 'inbound client=' "$PF_DIR/milter-unix.log")" -eq 2 ]

# ---- many messages at once on the one driver --------------------------------
# 8 sessions in parallel: every message is checked (its own A-R spf=pass)
# and delivered once.
par_pids=()
for n in $(seq 1 8); do
	timeout 90 swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --hide-informational \
		--xclient-addr 192.0.2.10 --from a@pass.example --to rcpt@sink.example \
		--header "From: a@pass.example" --add-header "X-PF-Id: par-$$-$n" \
		>"$PF_DIR/par-$n.out" 2>&1 &
	par_pids+=($!)
done
wait "${par_pids[@]}"
par_ok() {
	local n f i bad=0
	for i in $(seq 1 100); do
		[ "$(grep -l -F -- "X-PF-Id: par-$$-" "$PF_SINK"/* 2>/dev/null | wc -l)" -ge 8 ] && break
		sleep 0.1
	done
	for n in $(seq 1 8); do
		f=$(grep -l -F -- "X-PF-Id: par-$$-$n" "$PF_SINK"/* 2>/dev/null)
		[ "$(printf '%s' "$f" | grep -c .)" -eq 1 ] || { echo "  par-$n stored: ${f:-never}"; bad=1; continue; }
		grep -q -E "^Authentication-Results: $AUTHSERV;" "$f" && grep -q 'spf=pass smtp.mailfrom=pass.example' "$f" ||
			{ echo "  par-$n: no A-R with spf=pass"; bad=1; }
	done
	[ $bad -eq 0 ]
}
pf_check "8 messages in parallel: each checked (A-R spf=pass) and delivered once" par_ok

# ---- stopped with a message in flight ----------------------------------------
# The resolver never answers (a UDP socket on loopback that only reads);
# the milter gets SIGTERM once the message's first question has arrived.
# The message in flight is answered 451 4.3.0 by the milter itself (its
# verdict aborted), and the milter exits well before the verdict's own
# 30 s budget (libmilter's listener takes up to ~5 s to notice the stop).
pf_spawn silentdns $PY -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    s.recvfrom(4096)
    with open(sys.argv[2], "a") as f:
        f.write("q\n")' "$PF_DIR/silent.port" "$PF_DIR/silent.q"
for i in $(seq 1 50); do [ -s "$PF_DIR/silent.port" ] && break; sleep 0.1; done
kill_milter
milter_conf reject "inet:$MPORT@127.0.0.1" nobody |
	sed -e "s|^resolver .*|resolver 127.0.0.1@$(cat "$PF_DIR/silent.port")|" >"$PF_DIR/milter-stop.conf"
echo "dns-timeout 60000" >>"$PF_DIR/milter-stop.conf"
pf_spawn milter-stop "$MILTER" -l -c "$PF_DIR/milter-stop.conf"
MILTER_PID=$PF_PID
for i in $(seq 1 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null && break
	sleep 0.1
done
pf_set "smtpd_milters = inet:127.0.0.1:$MPORT"
PF_ID="stop-$$"
PF_OUT=$PF_DIR/stop.out
timeout 90 swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --timeout 60 --hide-informational \
	--xclient-addr 192.0.2.10 --from a@pass.example --to rcpt@sink.example \
	--header "From: a@pass.example" --add-header "X-PF-Id: $PF_ID" >"$PF_OUT" 2>&1 &
STOP_SENDER=$!
for i in $(seq 1 200); do [ -s "$PF_DIR/silent.q" ] && break; sleep 0.1; done
pf_check "stop: the message's DNS question reached the silent resolver" [ -s "$PF_DIR/silent.q" ]
t0=$(date +%s)
kill -TERM "$MILTER_PID"
stopped_in() {  # stopped_in SECONDS: the milter has exited within that time
	local i
	for i in $(seq 1 $(($1 * 10))); do
		kill -0 "$MILTER_PID" 2>/dev/null || { wait "$MILTER_PID" 2>/dev/null; return 0; }
		sleep 0.1
	done
	echo "  still running after $1 s"
	return 1
}
pf_check "stop: the milter exits within 15 s with a verdict in flight" stopped_in 15
echo "  (stopped after $(($(date +%s) - t0)) s)"
wait "$STOP_SENDER"
pf_check "stop: the message in flight is answered 451 4.3.0 by the milter" pf_reply_has "451 4.3.0"
pf_check "stop: not delivered" not_delivered
pf_check "stop: logged as tempfail" \
	grep -q 'error=the verdict did not finish action=tempfail' "$PF_DIR/milter-stop.log"

pf_check "smtp-sink still alive" kill -0 "$PF_SINK_PID"
pf_done
