#!/bin/bash
# DNSSEC states through the CLI: a root zone "." signed here with
# ldns-keygen/ldns-signzone and served by NSD on loopback (run_nsd.sh), an
# unsigned child zone child.example delegated from it without a DS, and one
# TXT record altered after signing.  libunbound validates from the DS of the
# root key written here (--trust-anchor).  Expected states follow from how
# the zones are built: signed data is secure, data below a delegation
# without DS is insecure (RFC 4035 section 5.2), data whose signature does
# not verify is bogus and must not be used (SPF temperror, RFC 7208 2.6.6).
#
#   test_dnssec.sh MAILTRUST_BINARY RUN_NSD_SH
#
# Exit 77 (skipped) when nsd, ldnsutils or python3 are missing.  Refuses to
# run unless the server is on a loopback address.
set -u
MT=${1:?usage: $0 MAILTRUST_BINARY RUN_NSD_SH}
RUN_NSD=${2:?usage: $0 MAILTRUST_BINARY RUN_NSD_SH}
PYTHON=${PYTHON:-python3}
export NO_COLOR=1

# ---- outer part: keys, zones, signatures; then NSD and the inner part -------
if [ -z "${MT_DNSSEC_INNER:-}" ]; then
	for tool in ldns-keygen ldns-signzone ldns-key2ds; do
		if ! command -v "$tool" >/dev/null; then
			echo "SKIP: $tool not installed (Debian package ldnsutils)"
			exit 77
		fi
	done
	if ! command -v nsd >/dev/null && [ ! -x /usr/sbin/nsd ]; then
		echo "SKIP: nsd not installed (Debian package nsd)"
		exit 77
	fi
	if ! command -v "$PYTHON" >/dev/null; then
		echo "SKIP: $PYTHON not found (reads the --json output)"
		exit 77
	fi
	abs() { (cd "$(dirname "$1")" && printf '%s/%s' "$(pwd)" "$(basename "$1")"); }
	MT=$(abs "$MT") RUN_NSD=$(abs "$RUN_NSD") SELF=$(abs "$0") || exit 1
	ZDIR=$(mktemp -d "${TMPDIR:-/tmp}/mt-dnssec.XXXXXX") || exit 1
	trap 'rm -rf "$ZDIR"' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cd "$ZDIR" || exit 1
	cat > root.zone <<'EOF'
$ORIGIN .
$TTL 300
@ SOA ns. hostmaster.ns. 1 3600 600 86400 300
@ NS ns.
ns. A 127.0.0.1
; wholly in the signed zone: include, a, and a void a: (signed NXDOMAIN)
sec.example. TXT "v=spf1 include:inc.sec.example -all"
inc.sec.example. TXT "v=spf1 a:host.sec.example -all"
host.sec.example. A 192.0.2.1
void.example. TXT "v=spf1 a:nothere.void.example ip4:192.0.2.1 -all"
; delegation without DS: everything below is insecure
child.example. NS ns.
mix.example. TXT "v=spf1 include:child.example -all"
; altered after signing (below): its RRSIG no longer verifies
tampered.example. TXT "v=spf1 ip4:192.0.2.0/24 -all"
incl.example. TXT "v=spf1 include:tampered.example -all"
EOF
	cat > child.zone <<'EOF'
$ORIGIN child.example.
$TTL 300
@ SOA ns. hostmaster.ns. 1 3600 600 86400 300
@ NS ns.
@ TXT "v=spf1 a:mail.child.example -all"
mail A 192.0.2.1
EOF
	ksk=$(ldns-keygen -a ECDSAP256SHA256 -k .) &&
	zsk=$(ldns-keygen -a ECDSAP256SHA256 .) &&
	other=$(ldns-keygen -a ECDSAP256SHA256 -k .) || { echo "ldns-keygen failed" >&2; exit 1; }
	# valid from an hour ago (clock skew) for the default four weeks
	ldns-signzone -i "$(date -u -d '-1 hour' +%Y%m%d%H%M%S)" -f root.signed \
		root.zone "$ksk" "$zsk" || { echo "ldns-signzone failed" >&2; exit 1; }
	sed -i 's|^\(tampered\.example\.\t.*\tTXT\t"v=spf1 ip4:\)192\.0\.2\.0/24 |\10.0.0.0/0 |' root.signed
	if ! grep -q -P '^tampered\.example\.\t.*\tTXT\t"v=spf1 ip4:0\.0\.0\.0/0 -all"$' root.signed ||
	   ! grep -q -P '^tampered\.example\.\t.*\tRRSIG\tTXT ' root.signed; then
		echo "could not alter tampered.example TXT in the signed zone:" >&2
		grep '^tampered' root.signed >&2
		exit 1
	fi
	if grep -q -P '^child\.example\.\t.*\tDS\t' root.signed; then
		echo "the signed root has a DS for child.example: it would not be insecure" >&2
		exit 1
	fi
	{ ldns-key2ds -n -2 "$ksk.key"; echo; } > anchor.ds &&
	{ ldns-key2ds -n -2 "$other.key"; echo; } > wrong.ds || exit 1
	MT_DNSSEC_INNER=1 ZDIR=$ZDIR bash "$RUN_NSD" --zone . "$ZDIR/root.signed" \
		--zone child.example "$ZDIR/child.zone" bash "$SELF" "$MT" "$RUN_NSD"
	exit $?
fi

# ---- inner part: NSD is running ----------------------------------------------
case "${MT_NSD_ADDR:-}" in
127.*|::1) ;;
*) echo "refusing to run: resolver '${MT_NSD_ADDR:-}' is not on loopback" >&2; exit 1 ;;
esac
SERVER="$MT_NSD_ADDR@$MT_NSD_PORT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mt-dnssec-run.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0

# check LABEL EXIT RESULT OVERALL TRACE PROBLEM -- ARGS...
#   TRACE: the lookups in order, "name/TYPE/RCODE/state" separated by
#   spaces; PROBLEM: a name the problem message must contain, or "".
check() {
	local label=$1 want_rc=$2 result=$3 overall=$4 trace=$5 problem=$6
	shift 7
	"$MT" spf check "$@" --json > "$TMP/out" 2> "$TMP/err"
	local rc=$?
	local why
	why=$("$PYTHON" - "$TMP/out" "$result" "$overall" "$trace" "$problem" <<'EOF'
import json, re, sys
path, result, overall, trace, problem = sys.argv[1:]
try:
    j = json.load(open(path))
except ValueError as e:
    print("output is not JSON: %s" % e); sys.exit()
bad = []
if j.get("result") != result:
    bad.append("result %r, expected %r" % (j.get("result"), result))
if j.get("dnssec") != overall:
    bad.append("overall dnssec %r, expected %r" % (j.get("dnssec"), overall))
got = ["%s/%s/%s/%s" % (t.get("name"), t.get("type"), t.get("rcode"), t.get("dnssec"))
       for t in j.get("trace", [])]
if got != trace.split():
    bad.append("trace %s, expected %s" % (got, trace.split()))
msg = (j.get("problem") or {}).get("message") or ""
if problem and not re.search(r"(^|[^-a-z0-9.])" + re.escape(problem) + r"\b", msg):
    bad.append("problem %r does not name %s" % (msg, problem))
if not problem and j.get("problem") is not None:
    bad.append("unexpected problem %r" % msg)
print("; ".join(bad))
EOF
)
	if [ "$rc" -ne "$want_rc" ]; then
		why="exit $rc, expected $want_rc${why:+; $why}"
	fi
	if [ -z "$why" ]; then
		echo "ok   $label"
		pass=$((pass + 1))
	else
		echo "FAIL $label: $why"
		cat "$TMP/out" "$TMP/err"
		fail=$((fail + 1))
	fi
}

V=(--resolver "$SERVER" --dnssec --trust-anchor "$ZDIR/anchor.ds")

# secure: every answer comes from the signed root, signatures verify
check "secure include/a chain passes" 0 pass secure \
	"sec.example/TXT/NOERROR/secure inc.sec.example/TXT/NOERROR/secure host.sec.example/A/NOERROR/secure" \
	"" -- sec.example --ip 192.0.2.1 "${V[@]}"
check "secure chain, other client fails" 1 fail secure \
	"sec.example/TXT/NOERROR/secure inc.sec.example/TXT/NOERROR/secure host.sec.example/A/NOERROR/secure" \
	"" -- sec.example --ip 192.0.2.2 "${V[@]}"
check "signed NXDOMAIN (NSEC proof) is secure" 0 pass secure \
	"void.example/TXT/NOERROR/secure nothere.void.example/A/NXDOMAIN/secure" \
	"" -- void.example --ip 192.0.2.1 "${V[@]}"

# insecure: below a delegation that has no DS
check "unsigned child zone is insecure" 0 pass insecure \
	"child.example/TXT/NOERROR/insecure mail.child.example/A/NOERROR/insecure" \
	"" -- child.example --ip 192.0.2.1 "${V[@]}"
check "secure record including an insecure one: insecure overall" 0 pass insecure \
	"mix.example/TXT/NOERROR/secure child.example/TXT/NOERROR/insecure mail.child.example/A/NOERROR/insecure" \
	"" -- mix.example --ip 192.0.2.1 "${V[@]}"

# bogus: the altered record would pass anyone; it must not be used
check "altered record is bogus: temperror" 5 temperror bogus \
	"tampered.example/TXT/FAILURE/bogus" \
	tampered.example -- tampered.example --ip 198.51.100.7 "${V[@]}"
check "include of the altered record: temperror, bogus overall" 5 temperror bogus \
	"incl.example/TXT/NOERROR/secure tampered.example/TXT/FAILURE/bogus" \
	tampered.example -- incl.example --ip 198.51.100.7 "${V[@]}"
check "trust anchor of another key: everything bogus" 5 temperror bogus \
	"sec.example/TXT/FAILURE/bogus" \
	sec.example -- sec.example --ip 192.0.2.1 --resolver "$SERVER" --dnssec \
	--trust-anchor "$ZDIR/wrong.ds"

# without --dnssec nothing is checked, and the altered record is believed
check "no --dnssec: unchecked" 0 pass unchecked \
	"sec.example/TXT/NOERROR/unchecked inc.sec.example/TXT/NOERROR/unchecked host.sec.example/A/NOERROR/unchecked" \
	"" -- sec.example --ip 192.0.2.1 --resolver "$SERVER"
check "no --dnssec: altered record used as is" 0 pass unchecked \
	"tampered.example/TXT/NOERROR/unchecked" \
	"" -- tampered.example --ip 198.51.100.7 --resolver "$SERVER"

# option errors: --trust-anchor without --dnssec (64), a file that cannot
# be read (66, as for an unreadable zone file)
for args in "64 --trust-anchor $ZDIR/anchor.ds" "66 --dnssec --trust-anchor $ZDIR/missing.ds"; do
	want=${args%% *}
	args=${args#* }
	# shellcheck disable=SC2086
	"$MT" spf check sec.example --ip 192.0.2.1 --resolver "$SERVER" $args > /dev/null 2> "$TMP/err"
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -q -- '--trust-anchor' "$TMP/err"; then
		echo "ok   usage error: $args"
		pass=$((pass + 1))
	else
		echo "FAIL usage error: $args: exit $rc (want $want), stderr: $(cat "$TMP/err")"
		fail=$((fail + 1))
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
