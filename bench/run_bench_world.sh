#!/bin/bash
# The spf-world benchmark (issue 8): generate the world with
# shared/bench/spf-world/gen-world, serve it with NSD on loopback, run
# libspf2 and every mailtrust driver over its checks (a cold pass, then a
# warm pass in the same process), and print one table.
#
#   run_bench_world.sh [options]        (or: make -C build bench-world,
#                                         options in BENCH_WORLD_ARGS)
# Options:
#   -n RUNS               medians of RUNS runs of each driver (default 1)
#   --limit N             only the first N checks
#   --in-flight K         checks in flight for the async mailtrust drivers (default 500)
#   --callgrind           also count instructions per warm check with callgrind
#                         (mailtrust's blocking driver and libspf2's 64k cache)
#   --callgrind-mode MODE the mailtrust mode to count (default blocking)
#   --callgrind-checks M  warm checks counted, after a full cold pass (default 2000)
#   --seed S --domains D --checks C   passed to gen-world (defaults: its own)
#   --shared DIR          the shared/ directory (default: $MT_SHARED_DIR, else the
#                         build's MT_SHARED_DIR (--shared-default, which make
#                         bench-world passes), else ../shared beside the checkout)
#   --mt PATH --spf2 PATH the driver programs (default: build/bench/...; the
#                         libspf2 rows are left out when there is no bench_world_spf2)
#   --no-netns            do not use a private network namespace
#
# Every address used is loopback: NSD listens on 127.0.0.1 and the drivers
# refuse any other resolver.  When `unshare` can make one (root, or user
# namespaces), server and drivers also run in a private network namespace
# holding only the loopback interface.  NSD is stopped by the PID started
# (tests/integration/run_nsd.sh does the server part).
#
# Without the shared directory (a clone has no ../shared) or without NSD
# the benchmark is skipped: a message, exit status 0.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)

# ---- inner part: run inside run_nsd.sh, with MT_NSD_* set ------------------
if [ "${1:-}" = "--inner" ]; then
	resolver="$MT_NSD_ADDR@$MT_NSD_PORT"
	common=(--checks "$BW_WORLD/checks.tsv" --resolver "$resolver")
	[ "$BW_LIMIT" != 0 ] && common+=(--limit "$BW_LIMIT")
	modes=$("$BW_MT" --list) || exit 1
	echo "SERVER $BW_NSD_VERSION on $resolver, $BW_NETNS" >> "$BW_OUT"
	for ((run = 1; run <= BW_RUNS; run++)); do
		echo "--- run $run of $BW_RUNS" >&2
		if [ -n "$BW_SPF2" ]; then
			"$BW_SPF2" "${common[@]}" >> "$BW_OUT" || exit 1
			"$BW_SPF2" --cache-bits 16 "${common[@]}" >> "$BW_OUT" || exit 1
		fi
		for mode in $modes; do
			"$BW_MT" --mode "$mode" --in-flight "$BW_INFLIGHT" "${common[@]}" >> "$BW_OUT" ||
				exit 1
		done
	done
	if grep -qx driver <<< "$modes"; then
		# Memory per check in flight: the same cold pass with few and with
		# many checks in flight; then a soak of 10 more warm passes with a
		# small (1 MiB) cache bound, resident memory after each.
		for k in 100 2000; do
			echo "--- memory: driver, $k in flight" >&2
			"$BW_MT" --mode driver --in-flight "$k" "${common[@]}" |
				sed -n "s/^RESULT .*maxrss_kib=\([0-9]*\) .*/INFLIGHT k=$k maxrss_kib=\1/p" \
				>> "$BW_OUT" || exit 1
		done
		echo "--- soak: driver, 10 more warm passes, 1 MiB cache" >&2
		"$BW_MT" --mode driver --in-flight "$BW_INFLIGHT" --cache-mb 1 --soak 10 "${common[@]}" |
			grep '^SOAK' >> "$BW_OUT" || exit 1
	fi
	if [ "$BW_CALLGRIND" = 1 ]; then
		cg() { # name program args...: instructions of the warm pass
			local name=$1 out="$BW_TMP/callgrind.$1"
			shift
			echo "--- callgrind: $name (cold pass uninstrumented, then $BW_CG_CHECKS warm checks)" >&2
			valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
				"$@" "${common[@]}" --callgrind --warm-checks "$BW_CG_CHECKS" \
				> "$BW_TMP/cg.stdout" 2> "$BW_TMP/cg.stderr" || {
				cat "$BW_TMP/cg.stderr" >&2
				return 1
			}
			ir=$(awk '/^totals:/ { print $2; exit }' "$out")
			if [ -z "$ir" ]; then
				echo "run_bench_world.sh: no totals line in callgrind's $out" >&2
				return 1
			fi
			label=$(sed -n 's/^RESULT .* label=//p' "$BW_TMP/cg.stdout")
			echo "CALLGRIND ir=$ir checks=$BW_CG_CHECKS label=$label" >> "$BW_OUT"
		}
		cg mt "$BW_MT" --mode "$BW_CG_MODE" --in-flight "$BW_INFLIGHT" || exit 1
		if [ -n "$BW_SPF2" ]; then
			cg spf2 "$BW_SPF2" --cache-bits 16 || exit 1
		fi
	fi
	exit 0
fi

# ---- options ---------------------------------------------------------------
args=("$@")
if [ -n "${BENCH_WORLD_ARGS:-}" ]; then
	read -ra extra <<< "$BENCH_WORLD_ARGS"
	args+=("${extra[@]}")
fi
RUNS=1 LIMIT=0 INFLIGHT=500 CALLGRIND=0 CG_MODE=blocking CG_CHECKS=2000 NETNS=auto
SHARED= SHARED_DEFAULT=$REPO/../shared
MT= SPF2= GEN_ARGS=()
build=${BUILD_DIR:-$REPO/build}
[ -x "$build/bench/bench_world_mt" ] && MT=$build/bench/bench_world_mt
[ -x "$build/bench/bench_world_spf2" ] && SPF2=$build/bench/bench_world_spf2
usage() { # exit status (0 for --help: the text on stdout)
	if [ "${1:-2}" = 0 ]; then
		sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p'
		exit 0
	fi
	sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
	exit 2
}
count() { # option value
	case "$2" in
	''|*[!0-9]*) echo "run_bench_world.sh: $1 needs a number, not '$2'" >&2; exit 2 ;;
	esac
}
set -- "${args[@]}"
while [ $# -gt 0 ]; do
	case "$1" in
	-n|--limit|--in-flight|--callgrind-checks|--seed|--domains|--checks)
		[ $# -ge 2 ] || usage
		count "$1" "$2"
		case "$1" in
		-n) RUNS=$2 ;;
		--limit) LIMIT=$2 ;;
		--in-flight) INFLIGHT=$2 ;;
		--callgrind-checks) CG_CHECKS=$2 ;;
		*) GEN_ARGS+=("$1" "$2") ;;
		esac
		shift 2 ;;
	--callgrind-mode) [ $# -ge 2 ] || usage; CG_MODE=$2; shift 2 ;;
	--shared) [ $# -ge 2 ] || usage; SHARED=$2; shift 2 ;;
	--shared-default) [ $# -ge 2 ] || usage; SHARED_DEFAULT=$2; shift 2 ;;
	--mt) [ $# -ge 2 ] || usage; MT=$2; shift 2 ;;
	--spf2) [ $# -ge 2 ] || usage; SPF2=$2; shift 2 ;;
	--callgrind) CALLGRIND=1; shift ;;
	--no-netns) NETNS=no; shift ;;
	-h|--help) usage 0 ;;
	*) echo "run_bench_world.sh: unknown option '$1'" >&2; usage ;;
	esac
done
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 100 ] || { echo "run_bench_world.sh: -n: 1 to 100" >&2; exit 2; }

[ -z "$SHARED" ] && SHARED=${MT_SHARED_DIR:-$SHARED_DEFAULT}
GEN=$SHARED/bench/spf-world/gen-world
if [ ! -f "$GEN" ]; then
	echo "bench-world: skipped: the world generator $GEN is not there"
	echo "  (it lives in the project's shared/ directory; set MT_SHARED_DIR or --shared to it," \
	     "or configure with -DMT_SHARED_DIR=...)"
	exit 0
fi
if ! command -v nsd >/dev/null && [ ! -x /usr/sbin/nsd ]; then
	echo "bench-world: skipped: nsd is not installed (Debian package nsd)"
	exit 0
fi
if ! command -v python3 >/dev/null; then
	echo "bench-world: skipped: python3 (for gen-world) is not installed"
	exit 0
fi
if [ -z "$MT" ] || [ ! -x "$MT" ]; then
	echo "run_bench_world.sh: no bench_world_mt; build it first (make -C build bench_world_mt)" >&2
	exit 1
fi
if [ -n "$SPF2" ] && [ ! -x "$SPF2" ]; then
	echo "run_bench_world.sh: $SPF2 is not a program" >&2
	exit 1
fi
if [ "$CALLGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
	echo "run_bench_world.sh: --callgrind needs valgrind (Debian package valgrind)" >&2
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-world.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

echo "--- generating the world: $GEN ${GEN_ARGS[*]}" >&2
python3 "$GEN" "${GEN_ARGS[@]}" --out "$TMP/world" > "$TMP/gen.out" || {
	cat "$TMP/gen.out" >&2
	exit 1
}
ZONES=()
while read -r origin file; do
	[ -n "$origin" ] && ZONES+=(--zone "$origin" "$TMP/world/zones/$file")
done < "$TMP/world/zones/zones.txt"

# A private network namespace when unshare can make one (root: -n; else a
# user namespace: -rn) and ip can bring its loopback up.
NS=() NSNAME="host loopback"
if [ "$NETNS" = auto ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
	for u in "-n" "-rn"; do
		if unshare $u sh -c 'ip link set lo up' 2>/dev/null; then
			NS=(unshare $u sh -c 'ip link set lo up && exec "$@"' sh)
			NSNAME="private network namespace"
			break
		fi
	done
fi

export BW_MT=$MT BW_SPF2=$SPF2 BW_RUNS=$RUNS BW_LIMIT=$LIMIT BW_INFLIGHT=$INFLIGHT
export BW_CALLGRIND=$CALLGRIND BW_CG_MODE=$CG_MODE BW_CG_CHECKS=$CG_CHECKS
NSD=$(command -v nsd || echo /usr/sbin/nsd)
export BW_NSD_VERSION="NSD $("$NSD" -v 2>&1 | awk '/version/ { print $NF; exit }')"
export BW_WORLD=$TMP/world BW_OUT=$TMP/results BW_TMP=$TMP BW_NETNS=$NSNAME
: > "$BW_OUT"
"${NS[@]}" bash "$REPO/tests/integration/run_nsd.sh" "${ZONES[@]}" bash "$HERE/run_bench_world.sh" --inner >&2
rc=$?
if [ $rc -eq 77 ]; then
	echo "bench-world: skipped: nsd / nsd-control not usable"
	exit 0
elif [ $rc -ne 0 ]; then
	echo "run_bench_world.sh: the benchmark failed (exit $rc)" >&2
	exit 1
fi

# ---- the table -----------------------------------------------------------------
cmd="bench/run_bench_world.sh ${args[*]//$REPO\//}"
python3 - "$BW_OUT" "$TMP/world/summary.txt" "$RUNS" "$cmd" <<'EOF'
import platform, re, statistics, sys, time
results, summary, runs, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows, order, cg, server = {}, [], [], ""
inflight, soak = [], []
for line in open(results):
    words = line.split()
    if not words:
        continue
    if words[0] == "SERVER":
        server = " ".join(words[1:])
        continue
    if words[0] == "INFLIGHT":
        kv = dict(w.split("=", 1) for w in words[1:])
        inflight.append((int(kv["k"]), int(kv["maxrss_kib"])))
        continue
    if words[0] == "SOAK":
        kv = dict(w.split("=", 1) for w in line.split(" label=")[0].split()[1:])
        soak.append((int(kv["pass"]), int(kv["checks"]), int(kv["rss_kib"])))
        continue
    if words[0] not in ("RESULT", "CALLGRIND"):
        continue
    head, _, label = line.rstrip("\n").partition(" label=")
    kv = dict(w.split("=", 1) for w in head.split()[1:])
    if words[0] == "CALLGRIND":
        cg.append((label, int(kv["ir"]), int(kv["checks"])))
        continue
    if label not in rows:
        rows[label] = []
        order.append(label)
    rows[label].append({k: (float(v) if re.fullmatch(r"-?[0-9.]+", v) else v)
                        for k, v in kv.items()})

def med(label, f):
    vals = [f(r) for r in rows[label]]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None

def rate(n, s):
    return n / s if s > 0 else None

def qpc(q, n):
    return q / n if q >= 0 and n > 0 else None

cpu = "?"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
except OSError:
    pass
import os
print()
print(f"spf-world benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}: {platform.node()}, "
      f"{platform.system()} {platform.release()} {platform.machine()}, {cpu}, "
      f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
print(f"world: {open(summary).readline().strip()}; server: {server}")
print(f"command: {cmd}   (medians of {runs} run{'s' if runs != 1 else ''}; "
      f"each driver in its own process: cold pass, then warm pass)")
print()
hdr = ["driver", "cold checks/s", "warm checks/s", "warm checks per CPU-second",
       "DNS queries per check (cold / warm)", "peak RSS", "agrees with expected"]
table = []
best = {"libspf2": None, "mailtrust": None}
def k(v):
    return "-" if v is None else (f"{v / 1000:.1f} k" if v >= 1000 else f"{v:.0f}")
for label in order:
    cold = med(label, lambda r: rate(r["checks"], r["cold_wall"]))
    warm = med(label, lambda r: rate(r["warm_checks"], r["warm_wall"]))
    wcpu = med(label, lambda r: rate(r["warm_checks"], r["warm_cpu"]))
    qc = med(label, lambda r: qpc(r["cold_queries"], r["checks"]))
    qw = med(label, lambda r: qpc(r["warm_queries"], r["warm_checks"]))
    rss = med(label, lambda r: r["maxrss_kib"])
    ac = med(label, lambda r: 100 * r["cold_agree"] / r["checks"])
    aw = med(label, lambda r: 100 * r["warm_agree"] / r["warm_checks"])
    agree = f"{ac:.1f}%" if abs(ac - aw) < 0.05 else f"{ac:.1f}% (warm {aw:.1f}%)"
    q = lambda v: "n/a" if v is None else f"{v:.2f}"
    table.append([label, k(cold), k(warm), k(wcpu), f"{q(qc)} / {q(qw)}",
                  f"{rss / 1024:.1f} MiB", agree])
    who = "libspf2" if label.startswith("libspf2") else "mailtrust"
    if wcpu is not None and (best[who] is None or wcpu > best[who][0]):
        best[who] = (wcpu, label)
w = [max(len(str(r[i])) for r in table + [hdr]) for i in range(len(hdr))]
line = lambda r: "| " + " | ".join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i])
                                    for i, c in enumerate(r)) + " |"
print(line(hdr))
print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in table:
    print(line(r))
print()
if best["libspf2"] and best["mailtrust"]:
    m, l = best["mailtrust"], best["libspf2"]
    print(f"warm checks per CPU-second, mailtrust's best ({m[1]}) / libspf2's best ({l[1]}): "
          f"{m[0] / l[0]:.2f}x  (issue 8's target: at least 3x)")
if len(inflight) == 2:
    (k1, r1), (k2, r2) = sorted(inflight)
    print(f"memory per check in flight (driver, peak RSS with {k2} vs {k1} in flight): "
          f"{(r2 - r1) / (k2 - k1):.2f} KiB  (issue 8's target: at most 8 KiB)")
if soak:
    first, last = soak[0], soak[-1]
    print(f"soak (driver, cache bounded to 1 MiB): resident {first[2] / 1024:.1f} MiB after "
          f"{first[1]} checks, {last[2] / 1024:.1f} MiB after {last[1]} checks "
          f"({', '.join(f'{s[2] / 1024:.1f}' for s in soak)} MiB)")
for label, ir, n in cg:
    print(f"callgrind: {ir / n / 1000:.0f} k instructions per warm check, {label} "
          f"({ir} Ir over {n} warm checks, all threads)")
EOF
