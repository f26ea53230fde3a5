/*
 * The spf-world benchmark through mailtrust's public API: one driver mode
 * per process, a cold pass over every check of checks.tsv and then a warm
 * pass in the same process (same resolver, same cache).  Prints the
 * RESULT line that bench/run_bench_world.sh turns into its table.
 *
 *   bench_world_mt --mode MODE --checks checks.tsv --resolver 127.0.0.1@PORT [options]
 *
 * A mode is one entry of the drivers[] table below: open() builds what
 * the mode needs (resolver, driver objects), pass() runs checks 0..n-1
 * and stores each result's name, close() frees.  A new driver is a new
 * entry and its three functions; run_bench_world.sh runs every mode that
 * `bench_world_mt --list` prints.
 *
 * Only a loopback resolver is accepted.  libunbound answers names under
 * "test." itself (RFC 6761 default local zone) and the world lives there,
 * so the resolver gets a config file making test. an ordinary zone; the
 * server's query counter shows the questions do reach it.
 */
#include "world.h"

#include <mailtrust/dns.h>
#include <mailtrust/spf.h>
#include <mailtrust/run.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct bench {
	bw_args args;
	unsigned in_flight;         /* --in-flight: checks evaluating at once (async modes) */
	unsigned soak;              /* --soak N: N more warm passes, RSS after each */
	unsigned cache_mb;          /* --cache-mb: the cache's bound (0: 64 MiB) */
	int64_t now;                /* the time every request carries */
	char forwarder[80];         /* ADDR@PORT for libunbound */
	char unbound_conf[64];      /* the temporary config file, "" when none */
	mt_dns_resolver *res;
	mt_spf_check *chk;          /* blocking modes */
	mt_run *run;                /* driver mode */
	mt_spf_check **pool;        /* driver mode: in_flight checks, reused */
	size_t npool;
} bench;

typedef struct driver {
	const char *mode;                /* --mode NAME */
	const char *label;               /* the table's row */
	bool async;                      /* takes --in-flight (shown in the label) */
	bool (*open)(bench *b);
	bw_pass_fn pass;                 /* ctx is the bench */
	void (*close)(bench *b);
} driver;

/* ---- shared pieces --------------------------------------------------------- */

static mt_spf_request request(const bench *b, const bw_check *c)
{
	mt_spf_request r = { .ip = c->ip, .sender = c->mail_from, .helo = c->helo,
	                     .identity = MT_SPF_MAILFROM, .now = b->now };
	return r;
}

/* The config file that makes names under test. go to the forwarder. */
static bool write_unbound_conf(bench *b)
{
	static const char text[] =
		"# bench_world_mt: the world lives under test.; ask the server for it\n"
		"server:\n"
		"\tlocal-zone: \"test.\" nodefault\n";
	const char *tmp = getenv("TMPDIR");
	int fd;
	if (!tmp || !*tmp || strlen(tmp) > sizeof b->unbound_conf - 32)
		tmp = "/tmp";
	snprintf(b->unbound_conf, sizeof b->unbound_conf, "%s/bench-world-ub.XXXXXX", tmp);
	fd = mkstemp(b->unbound_conf);
	if (fd < 0) {
		fprintf(stderr, "bench_world_mt: cannot create %s: %s\n", b->unbound_conf,
		        strerror(errno));
		b->unbound_conf[0] = '\0';
		return false;
	}
	if (write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1)) {
		fprintf(stderr, "bench_world_mt: cannot write %s\n", b->unbound_conf);
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

static bool open_unbound(bench *b, bool cached)
{
	mt_dns_unbound_options o;
	mt_error err = { 0 };
	if (!write_unbound_conf(b))
		return false;
	mt_dns_unbound_options_init(&o);
	o.forwarder = b->forwarder;
	o.config_file = b->unbound_conf;
	if (mt_dns_unbound_resolver_new(&o, &b->res, &err) != MT_OK) {
		fprintf(stderr, "bench_world_mt: resolver: %s\n", err.message);
		return false;
	}
	unlink(b->unbound_conf);   /* read by now */
	b->unbound_conf[0] = '\0';
	if (cached) {
		/* mailtrust's own cache in front (64 MiB, the CLI's default) */
		mt_dns_cache_options co;
		mt_dns_resolver *inner = b->res;
		mt_dns_cache_options_init(&co);
		co.own_inner = true;
		if (b->cache_mb)
			co.max_bytes = (size_t)b->cache_mb << 20;
		b->res = NULL;
		if (mt_dns_cache_resolver_new(inner, &co, &b->res, &err) != MT_OK) {
			fprintf(stderr, "bench_world_mt: cache: %s\n", err.message);
			return false;
		}
	}
	return true;
}

static void close_all(bench *b)
{
	mt_run_free(b->run);
	for (size_t i = 0; i < b->npool; i++)
		mt_spf_check_free(b->pool[i]);
	free(b->pool);
	mt_spf_check_free(b->chk);
	mt_dns_resolver_free(b->res);
	b->run = NULL;
	b->pool = NULL;
	b->npool = 0;
	b->chk = NULL;
	b->res = NULL;
}

/* ---- blocking: mt_spf_check_run() per check ---------------------------------- */

static bool open_blocking_with(bench *b, bool cached)
{
	if (!open_unbound(b, cached))
		return false;
	if (mt_spf_check_new(NULL, &b->chk, NULL) != MT_OK) {
		fputs("bench_world_mt: out of memory\n", stderr);
		return false;
	}
	return true;
}

static bool open_blocking(bench *b)
{
	return open_blocking_with(b, true);
}

static bool open_blocking_raw(bench *b)
{
	return open_blocking_with(b, false);
}

static bool pass_blocking(void *ctx, const bw_world *w, size_t n, const char **results)
{
	bench *b = ctx;
	for (size_t i = 0; i < n; i++) {
		mt_error err = { 0 };
		mt_spf_request r = request(b, &w->checks[i]);
		const mt_spf_outcome *o;
		results[i] = "error";
		if (mt_spf_check_start(b->chk, &r, &err) != MT_OK ||
		    mt_spf_check_run(b->chk, b->res) != MT_OK)
			continue;
		if ((o = mt_spf_check_outcome(b->chk)) != NULL)
			results[i] = mt_spf_result_name(o->result);
	}
	return true;
}

/* ---- driver: mt_run over the cache, in_flight checks at once -------------------- */

static bool open_driver(bench *b)
{
	mt_error err = { 0 };
	mt_run_options ro;
	if (!open_unbound(b, true))
		return false;
	mt_run_options_init(&ro);
	ro.max_jobs = b->in_flight;
	if (mt_run_new(b->res, &ro, &b->run, &err) != MT_OK) {
		fprintf(stderr, "bench_world_mt: driver: %s\n", err.message);
		return false;
	}
	b->pool = calloc(b->in_flight, sizeof *b->pool);
	if (!b->pool)
		return false;
	for (unsigned i = 0; i < b->in_flight; i++) {
		if (mt_spf_check_new(NULL, &b->pool[b->npool], NULL) != MT_OK)
			return false;
		b->npool++;
	}
	return true;
}

static bool pass_driver(void *ctx, const bw_world *w, size_t n, const char **results)
{
	bench *b = ctx;
	size_t next = 0, done = 0;

	while (done < n) {
		void *job, *user;
		while (next < n && b->npool > 0) {
			mt_error err = { 0 };
			mt_spf_check *chk = b->pool[b->npool - 1];
			mt_spf_request req = request(b, &w->checks[next]);
			results[next] = "error";
			if (mt_spf_check_start(chk, &req, &err) != MT_OK) {
				next++;
				done++;
				continue;
			}
			if (mt_run_add(b->run, mt_spf_check_job_ops(), chk, 0,
			               (void *)&results[next]) != MT_OK)
				return false;
			b->npool--;
			next++;
		}
		if (done >= n)
			break;
		if (mt_run_wait(b->run, -1) != MT_OK) {
			fputs("bench_world_mt: the resolver failed\n", stderr);
			return false;
		}
		while (mt_run_next(b->run, &job, &user)) {
			*(const char **)user = mt_spf_result_name(mt_spf_check_outcome(job)->result);
			b->pool[b->npool++] = job;
			done++;
		}
	}
	return true;
}

/* ---- the modes ------------------------------------------------------------------ */

static const driver drivers[] = {
	{ "blocking-nocache", "mt_spf_check_run, libunbound only", false, open_blocking_raw,
	  pass_blocking, close_all },
	{ "blocking", "mt_spf_check_run + cache", false, open_blocking, pass_blocking, close_all },
	{ "driver", "mt_run + cache", true, open_driver, pass_driver, close_all },
};

static void usage(FILE *f)
{
	fputs("usage: bench_world_mt --mode MODE --checks FILE --resolver ADDR@PORT [options]\n"
	      "       bench_world_mt --list   (the modes, one a line)\n"
	      "Runs every check of an spf-world checks.tsv twice (cold, then warm) through one\n"
	      "mailtrust driver and prints a RESULT line; see bench/run_bench_world.sh.\n"
	      "  --mode MODE          one of:", f);
	for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
		fprintf(f, " %s", drivers[i].mode);
	fputs("\n  --in-flight K        checks evaluating at once in async modes (default 500)\n"
	      "  --soak N             after the warm pass, N more warm passes, printing the\n"
	      "                       resident memory after each (SOAK lines)\n"
	      "  --cache-mb M         bound mailtrust's DNS cache to M MiB (default 64)\n", f);
	fputs(bw_common_usage, f);
}

int main(int argc, char **argv)
{
	bench b = { .in_flight = 500 };
	const driver *d = NULL;
	const char *mode = NULL;
	const char **results = NULL;
	bw_world w = { 0 };
	bw_pass cold, warm;
	char label[96];
	size_t n, nwarm;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--list") == 0) {
			for (size_t j = 0; j < sizeof drivers / sizeof drivers[0]; j++)
				printf("%s\n", drivers[j].mode);
			return 0;
		}
	}
	if (!bw_parse_common(argc, argv, &b.args)) {
		usage(stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		char *e;
		unsigned long v;
		if (!argv[i])
			continue;
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			mode = argv[++i];
		} else if (strcmp(argv[i], "--in-flight") == 0 && i + 1 < argc) {
			errno = 0;
			v = strtoul(argv[++i], &e, 10);
			if (errno || *e || v == 0 || v > 100000) {
				fprintf(stderr, "--in-flight: not a count from 1 to 100000: '%s'\n", argv[i]);
				return 2;
			}
			b.in_flight = (unsigned)v;
		} else if ((strcmp(argv[i], "--soak") == 0 || strcmp(argv[i], "--cache-mb") == 0) &&
		           i + 1 < argc) {
			bool soak = strcmp(argv[i], "--soak") == 0;
			errno = 0;
			v = strtoul(argv[++i], &e, 10);
			if (errno || *e || v > 100000) {
				fprintf(stderr, "%s: not a count up to 100000: '%s'\n", soak ? "--soak"
				        : "--cache-mb", argv[i]);
				return 2;
			}
			*(soak ? &b.soak : &b.cache_mb) = (unsigned)v;
		} else {
			fprintf(stderr, "bench_world_mt: unknown option or missing value: '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	for (size_t i = 0; mode && i < sizeof drivers / sizeof drivers[0]; i++)
		if (strcmp(mode, drivers[i].mode) == 0)
			d = &drivers[i];
	if (!d) {
		fprintf(stderr, "bench_world_mt: %s mode%s%s\n", mode ? "unknown" : "no",
		        mode ? ": " : " (--mode)", mode ? mode : "");
		usage(stderr);
		return 2;
	}
	if ((size_t)snprintf(b.forwarder, sizeof b.forwarder, "%s@%u", b.args.addr, b.args.port) >=
	    sizeof b.forwarder)
		return 2;
	if (!bw_load(b.args.checks, &w))
		return 1;
	n = b.args.limit && b.args.limit < w.n ? b.args.limit : w.n;
	nwarm = b.args.warm_limit && b.args.warm_limit < n ? b.args.warm_limit : n;
	results = calloc(n, sizeof *results);
	if (!results) {
		fputs("bench_world_mt: out of memory\n", stderr);
		goto out;
	}
	b.now = (int64_t)time(NULL);
	if (!d->open(&b))
		goto out;
	if (d->async)
		snprintf(label, sizeof label, "%s, %u in flight", d->label, b.in_flight);
	else
		snprintf(label, sizeof label, "%s", d->label);
	if (!bw_run_pass(d->pass, &b, &w, n, false, results, &cold))
		goto out;
	if (b.args.mismatches)
		bw_show_mismatches(&w, n, results, b.args.mismatches);
	if (!bw_run_pass(d->pass, &b, &w, nwarm, b.args.callgrind, results, &warm))
		goto out;
	bw_report(d->mode, label, &cold, &warm);
	for (unsigned i = 1; i <= b.soak; i++) {
		if (!bw_run_pass(d->pass, &b, &w, nwarm, false, results, &warm))
			goto out;
		printf("SOAK pass=%u checks=%zu rss_kib=%ld label=%s\n", i, n + i * nwarm,
		       bw_rss_kib(), label);
	}
	rc = 0;
out:
	if (d)
		d->close(&b);
	if (b.unbound_conf[0])
		unlink(b.unbound_conf);
	free(results);
	bw_free(&w);
	return rc;
}
