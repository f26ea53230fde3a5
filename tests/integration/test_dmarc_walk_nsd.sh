#!/bin/bash
# The DMARC DNS Tree Walk of a receiver's check (mt_dmarc_check, through
# dmarc_probe) against NSD on loopback, asked through libunbound:
#
#   none:   a.b.c.d.e.f.g.h.i.j.mail.none.example (13 labels), no record
#           anywhere: exactly 8 _dmarc questions in the draft's order
#           (4.10 step 4: the full name, then its last 7 labels, then one
#           label fewer down to "example"), counted by the probe and by
#           NSD's own query counter (nsd-control stats_noreset)
#   skip:   records at c.d.e.f.g.h.i.j.mail.skip.example (11 labels: the
#           walk jumps over it) and i.j.mail.skip.example: the second's
#           policy applies and it is the Organizational Domain; the first
#           is never asked
#   co.uk:  mail.shop.example.co.uk with psd=n at shop.example.co.uk and
#           p=none at example.co.uk: the tree walk and the PSL mode give
#           different Organizational Domains, policies and alignment
#   silent: a server that never answers: temperror within bounded time
#
#   test_dmarc_walk_nsd.sh DMARC_PROBE
set -u
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = "--run" ]; then
	PROBE=$2
	ADDR=$MT_NSD_ADDR PORT=$MT_NSD_PORT
	case "$ADDR" in 127.*) ;; *) echo "refusing: not loopback" >&2; exit 1 ;; esac
	passed=0 failed=0
	OUT=$(mktemp) || exit 1
	SILENT_PID=
	trap 'rm -f "$OUT"; [ -n "$SILENT_PID" ] && kill "$SILENT_PID" 2>/dev/null' EXIT
	ok() { passed=$((passed + 1)); }
	bad() { failed=$((failed + 1)); echo "FAIL: $LAST: $*"; sed 's/^/  | /' "$OUT" | head -20; }
	nsd_queries() {
		nsd-control -c "$MT_NSD_CONF" stats_noreset 2>/dev/null | sed -n 's/^num\.queries=//p'
	}
	# run SERVER MODE AUTHOR [spf D] [dkim D]: one check; $OUT holds its line
	run() {
		local server=$1 mode=$2 author=$3
		shift 3
		LAST="$mode check of $author via $server $*"
		{
			printf 'resolver\t%s\t1000\nmode\t%s\nauthor\t%s\n' "$server" "$mode" "$author"
			while [ $# -ge 2 ]; do printf '%s\tpass\t%s\n' "$1" "$2"; shift 2; done
			printf 'check\tc\n'
		} | "$PROBE" > "$OUT" 2>&1
	}
	# want KEY VALUE: the check's KEY=VALUE
	want() {
		local got
		got=$(tr '\t' '\n' < "$OUT" | sed -n "s/^$1=//p")
		if [ "$got" = "$2" ]; then ok; else bad "$1 is '$got', want '$2'"; fi
	}
	dmarc_asked() { tr '\t' '\n' < "$OUT" | sed -n 's/^asked=//p' | tr ',' '\n' | grep '^TXT:_dmarc\.' | sed 's/^TXT://' | paste -sd, -; }

	# 1. 13 labels, no record: 8 queries in the draft's order
	q0=$(nsd_queries)
	run "$ADDR@$PORT" tree a.b.c.d.e.f.g.h.i.j.mail.none.example
	q1=$(nsd_queries)
	want result none
	want queries 8
	WANT=_dmarc.a.b.c.d.e.f.g.h.i.j.mail.none.example,_dmarc.g.h.i.j.mail.none.example,_dmarc.h.i.j.mail.none.example,_dmarc.i.j.mail.none.example,_dmarc.j.mail.none.example,_dmarc.mail.none.example,_dmarc.none.example,_dmarc.example
	got=$(dmarc_asked)
	if [ "$got" = "$WANT" ]; then ok; else bad "asked $got"; fi
	if [ -n "$q0" ] && [ -n "$q1" ]; then
		if [ $((q1 - q0)) -eq 8 ]; then ok; else bad "NSD counted $((q1 - q0)) queries, want 8"; fi
	else
		bad "nsd-control stats_noreset gave no num.queries"
	fi

	# 2. long-name label skipping: the 11-label record is jumped over
	run "$ADDR@$PORT" tree a.b.c.d.e.f.g.h.i.j.mail.skip.example
	want result fail
	want policy reject
	want tag p   # the Org Domain's record, without sp=: its p= (4.10.1)
	want pdomain i.j.mail.skip.example
	want org i.j.mail.skip.example
	got=$(dmarc_asked)
	case ",$got," in
	*,_dmarc.c.d.e.f.g.h.i.j.mail.skip.example,*) bad "asked the skipped name: $got" ;;
	*) ok ;;
	esac
	# the walk goes on for the Organizational Domain (no psd= stops it)
	want queries 8

	# 3. tree walk vs PSL: psd=n at shop.example.co.uk
	run "$ADDR@$PORT" tree mail.shop.example.co.uk dkim other.example.co.uk
	want result fail
	want policy reject
	want pdomain shop.example.co.uk
	want org shop.example.co.uk
	want dkim_aligned 0
	run "$ADDR@$PORT" psl mail.shop.example.co.uk dkim other.example.co.uk
	want result pass
	want policy none
	want pdomain example.co.uk
	want org example.co.uk
	want dkim_aligned 1
	# the PSL mode asks the Author Domain and the registrable domain only
	got=$(dmarc_asked)
	if [ "$got" = "_dmarc.mail.shop.example.co.uk,_dmarc.example.co.uk" ]; then ok; else bad "asked $got"; fi
	# without psd=n both agree: a sibling of shop under example.co.uk
	run "$ADDR@$PORT" tree www.example.co.uk dkim other.example.co.uk
	want result pass
	want org example.co.uk
	run "$ADDR@$PORT" psl www.example.co.uk dkim other.example.co.uk
	want result pass
	want org example.co.uk

	# 4. a server that never answers: temperror, in bounded time
	exec 3< <(python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(60)
' & echo "PID $!")
	read -r _ SILENT_PID <&3
	read -r SPORT <&3
	start=$(date +%s)
	run "127.0.0.1@$SPORT" tree a.b.c.d.e.f.g.h.i.j.mail.none.example
	elapsed=$(( $(date +%s) - start ))
	want result temperror
	if [ "$elapsed" -le 10 ]; then ok; else bad "took $elapsed s"; fi
	run "127.0.0.1@$SPORT" psl mail.shop.example.co.uk
	want result temperror
	kill "$SILENT_PID" 2>/dev/null
	SILENT_PID=

	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

PROBE=${1:?usage: $0 DMARC_PROBE}
command -v nsd-control >/dev/null || [ -x /usr/sbin/nsd-control ] || { echo "SKIP: nsd-control not installed"; exit 77; }
export PATH=$PATH:/usr/sbin
DIR_PREFIX=mt-dmarcwalk
. "$HERE/lib_zones.sh"
zone example.zone example ns-a.example <<'EOF'
ns-a A 127.0.0.1
a.b.c.d.e.f.g.h.i.j.mail.none A 192.0.2.1
a.b.c.d.e.f.g.h.i.j.mail.skip A 192.0.2.1
_dmarc.c.d.e.f.g.h.i.j.mail.skip TXT "v=DMARC1; p=quarantine"
_dmarc.i.j.mail.skip TXT "v=DMARC1; p=reject"
EOF
zone uk.zone uk ns-a.example <<'EOF'
mail.shop.example.co A 192.0.2.2
www.example.co A 192.0.2.3
_dmarc.shop.example.co TXT "v=DMARC1; p=reject; psd=n"
_dmarc.example.co TXT "v=DMARC1; p=none"
EOF
bash "$HERE/run_nsd.sh" --zone example "$DIR/example.zone" --zone uk "$DIR/uk.zone" \
	bash "$0" --run "$PROBE"
