#!/bin/sh
# ctest's interop.dkim: finds a python3 that imports dkimpy and PyNaCl
# (Debian python3-dkim, python3-nacl: /usr/bin/python3, whatever python3
# comes first in PATH) and runs interop_dkim.py with it.
#
#   run_interop.sh MAILTRUST OPENDKIM_PEER|"" DATA_DIR [interop_dkim.py options]
#
# A missing peer (no such python3, the OpenDKIM peer not built) skips the
# test (exit 77) with a message, or fails it when CI=true: CI must run it.
MT=${1:?usage: $0 MAILTRUST OPENDKIM_PEER DATA_DIR}
PEER=$2
DATA=${3:?usage: $0 MAILTRUST OPENDKIM_PEER DATA_DIR}
shift 3
HERE=$(dirname "$0")

missing() {
	echo "$1"
	if [ "${CI:-}" = true ]; then
		echo "CI=true: a missing interoperability peer fails the test (bash scripts/deps.sh installs them)"
		exit 1
	fi
	exit 77
}

py=""
for cand in "${PYTHON:-}" python3 /usr/bin/python3; do
	[ -n "$cand" ] || continue
	command -v "$cand" >/dev/null 2>&1 || continue
	if "$cand" -c 'import dkim, nacl.signing' >/dev/null 2>&1; then
		py=$cand
		break
	fi
done
[ -n "$py" ] || missing "SKIP: no python3 here imports dkimpy and PyNaCl (Debian python3-dkim python3-nacl)"
[ -n "$PEER" ] && [ -x "$PEER" ] ||
	missing "SKIP: the OpenDKIM peer was not built: cmake found no libopendkim (Debian libopendkim-dev)"

"$py" "$HERE/interop_dkim.py" --mailtrust "$MT" --peer "$PEER" --data "$DATA" "$@"
rc=$?
[ $rc -eq 77 ] && missing "SKIP: a peer is missing (above)"
exit $rc
