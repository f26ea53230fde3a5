#!/bin/bash
# Start NSD on loopback with the generated zone batch.example (10,000
# domains by default), run bench_dns against it, stop NSD by its PID
# (tests/integration/with_batch_zone.sh and run_nsd.sh do the server part).
#
#   run_bench_dns.sh BENCH_DNS [-d DOMAINS] [bench_dns options...]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then
	echo "usage: $0 path/to/bench_dns [-d DOMAINS] [-n CHECKS] [-k IN_FLIGHT]" >&2
	exit 2
fi
BENCH=$1
shift
DOMAINS=10000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	if [ "${args[i]}" = "-d" ] && [ $((i + 1)) -lt ${#args[@]} ]; then
		DOMAINS=${args[i+1]}
	fi
done
export MT_BENCH_DOMAINS=$DOMAINS
bash "$HERE/../tests/integration/with_batch_zone.sh" -n "$DOMAINS" \
	bash -c 'exec "$0" --resolver "$MT_NSD_ADDR@$MT_NSD_PORT" -d "$MT_BENCH_DOMAINS" "$@"' \
	"$BENCH" "$@"
