#!/bin/bash
# Write the zone "batch.example" used by the batch test and bench_dns:
# N domains d0..d(N-1) (default 100) whose SPF records use include, mx, a,
# redirect and ip4 in four shapes (i % 4):
#   0  v=spf1 include:inc(i%10) mx a:web.dI -all
#   1  v=spf1 a mx ~all
#   2  v=spf1 redirect=d(i-1)          (a shape-1 domain)
#   3  v=spf1 ip4:198.51.100.I include:nothere -all   (include of a name
#      without a record: permerror once the ip4 does not match)
# inc0..inc9: v=spf1 ip4:10.K.0.0/16 ?all.  Every dI has an MX mx.dI
# (192.0.2.I) and an A record (203.0.113.I); web.dI is 203.0.113.(I+100)
# (I < 100) or absent.
#
#   gen_batch_zone.sh FILE [N]
set -eu
out=$1
n=${2:-100}
{
	echo '$ORIGIN batch.example.'
	echo '$TTL 3600'
	echo '@ SOA ns.batch.example. hostmaster.batch.example. 1 3600 600 86400 300'
	echo '@ NS ns'
	echo 'ns A 127.0.0.1'
	for k in 0 1 2 3 4 5 6 7 8 9; do
		echo "inc$k TXT \"v=spf1 ip4:10.$k.0.0/16 ?all\""
	done
	for ((i = 0; i < n; i++)); do
		o=$((i % 250))
		case $((i % 4)) in
		0) echo "d$i TXT \"v=spf1 include:inc$((i % 10)).batch.example mx a:web.d$i.batch.example -all\"" ;;
		1) echo "d$i TXT \"v=spf1 a mx ~all\"" ;;
		2) echo "d$i TXT \"v=spf1 redirect=d$((i - 1)).batch.example\"" ;;
		3) echo "d$i TXT \"v=spf1 ip4:198.51.100.$o include:nothere.batch.example -all\"" ;;
		esac
		echo "d$i MX 10 mx.d$i"
		echo "mx.d$i A 192.0.2.$o"
		echo "d$i A 203.0.113.$o"
		if [ "$i" -lt 100 ]; then
			echo "web.d$i A 203.0.113.$((i + 100))"
		fi
	done
} > "$out"
