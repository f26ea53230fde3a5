/*
 * Shared parts of the spf-world benchmark drivers (bench_world_mt,
 * bench_world_spf2): reading checks.tsv, the loopback rule, the server's
 * query counter, timing a pass and printing the result line that
 * run_bench_world.sh collects.  Not part of the library.
 */
#ifndef MT_BENCH_WORLD_H
#define MT_BENCH_WORLD_H

#include <stdbool.h>
#include <stddef.h>

/* One line of checks.tsv; mail_from "" is the null sender. */
typedef struct bw_check {
	const char *ip;
	const char *mail_from;
	const char *helo;
	const char *expected;
} bw_check;

typedef struct bw_world {
	char *text;        /* the file, cut into NUL-terminated fields */
	bw_check *checks;
	size_t n;
} bw_world;

/* Read checks.tsv ("#" lines, then "id ip mail_from helo expected").
 * false with a message on stderr naming the file and line. */
bool bw_load(const char *path, bw_world *w);
void bw_free(bw_world *w);

/* "ADDR" or "ADDR@PORT" with ADDR in 127.0.0.0/8 or ::1.  With port
 * non-NULL, the port (53 when absent) is stored there. */
bool bw_loopback(const char *spec, char *addr, size_t cap, unsigned *port);

/*
 * Queries the server has received so far: "num.queries" from
 * `$MT_NSD_CONTROL -c $MT_NSD_CONF stats_noreset` (run_nsd.sh sets both),
 * or -1 when that is not available.
 */
long bw_server_queries(void);

/* One pass over the checks: run() stores one result name per check
 * ("pass", "fail", ... or "error") in results[0..n-1]; false when the
 * driver itself failed (it prints why). */
typedef bool (*bw_pass_fn)(void *ctx, const bw_world *w, size_t n, const char **results);

typedef struct bw_pass {
	size_t n;          /* checks run */
	double wall_s;     /* wall-clock seconds */
	double cpu_s;      /* user + system seconds of the whole process */
	long queries;      /* queries the server received during the pass, -1 unknown */
	size_t agree;      /* results equal to the expected column */
} bw_pass;

/*
 * Run one pass of the first n checks and measure it.  With instrument,
 * callgrind's instrumentation is switched on around exactly the pass
 * (under `valgrind --tool=callgrind --instr-atstart=no`).
 */
bool bw_run_pass(bw_pass_fn fn, void *ctx, const bw_world *w, size_t n, bool instrument,
                 const char **results, bw_pass *out);

/* Print up to max checks whose result differs from the expected one. */
void bw_show_mismatches(const bw_world *w, size_t n, const char *const *results, size_t max);

/* Peak resident set size of this process so far, in KiB. */
long bw_maxrss_kib(void);
/* Resident memory now (from /proc/self/statm), KiB; -1 when unknown. */
long bw_rss_kib(void);

/* The line run_bench_world.sh reads (stdout), and a readable summary (stderr). */
void bw_report(const char *driver, const char *label, const bw_pass *cold, const bw_pass *warm);

/* The options both drivers take; argv entries they used are set to NULL. */
typedef struct bw_args {
	const char *checks;      /* --checks FILE (checks.tsv) */
	const char *resolver;    /* --resolver ADDR@PORT, loopback only */
	char addr[64];           /* its address ... */
	unsigned port;           /* ... and port (53 when not given) */
	size_t limit;            /* --limit N: only the first N checks (0: all) */
	size_t warm_limit;       /* --warm-checks N: warm pass over the first N (0: all) */
	bool callgrind;          /* --callgrind: instrument the warm pass only */
	size_t mismatches;       /* --mismatches N: print the first N disagreements */
} bw_args;

/* Parse the common options; false (message printed) on a bad value or a
 * resolver that is not a loopback address. */
bool bw_parse_common(int argc, char **argv, bw_args *a);
extern const char bw_common_usage[];

#endif
