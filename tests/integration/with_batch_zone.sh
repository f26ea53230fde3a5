#!/bin/bash
# Run PROGRAM against NSD on loopback serving the generated zone
# batch.example (gen_batch_zone.sh, N domains, default 100), through
# run_nsd.sh (which exports MT_NSD_ADDR and MT_NSD_PORT and stops NSD by
# its PID).  Exit status: PROGRAM's, or 77 when nsd is missing.
#
#   with_batch_zone.sh [-n N] PROGRAM [ARGS...]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
N=100
if [ "${1:-}" = "-n" ] && [ $# -ge 2 ]; then
	N=$2
	shift 2
fi
if [ $# -lt 1 ]; then
	echo "usage: $0 [-n N] PROGRAM [ARGS...]" >&2
	exit 2
fi
DIR=$(mktemp -d "${TMPDIR:-/tmp}/mt-batchzone.XXXXXX") || exit 1
trap 'rm -rf "$DIR"' EXIT
bash "$HERE/gen_batch_zone.sh" "$DIR/batch.example.zone" "$N" || exit 1
bash "$HERE/run_nsd.sh" --zone batch.example "$DIR/batch.example.zone" "$@"
