# Shared by the spf verify tests against NSD: the prerequisites check and
# zone(), which writes a zone file.  Source it after setting DIR_PREFIX;
# it sets DIR (a temporary directory removed on exit).
if ! command -v nsd >/dev/null && [ ! -x /usr/sbin/nsd ]; then
	echo "SKIP: nsd not installed"
	exit 77
fi
command -v dig >/dev/null || { echo "SKIP: dig not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/${DIR_PREFIX:-mt}.XXXXXX") || exit 1
trap 'rm -rf "$DIR"' EXIT

zone() { # file origin ns-names... ; records on stdin
	local f=$1 o=$2
	shift 2
	{
		printf '$ORIGIN %s.\n$TTL 300\n@ SOA ns-a.example. hostmaster.example. 1 3600 600 86400 300\n' "$o"
		for n in "$@"; do printf '@ NS %s.\n' "$n"; done
		cat
	} > "$DIR/$f"
}
