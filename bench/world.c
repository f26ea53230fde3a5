/*
 * Shared parts of the spf-world benchmark drivers, see world.h.
 */
#include "world.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BW_HAVE_CALLGRIND 1
#endif
#endif

#define BW_MAX_FILE (256u << 20)  /* checks.tsv larger than this is refused */
#define BW_MAX_CHECKS 10000000u

const char bw_common_usage[] =
	"  --checks FILE        the world's checks.tsv (required)\n"
	"  --resolver ADDR@PORT the server to ask; 127.0.0.0/8 or ::1 only (required)\n"
	"  --limit N            only the first N checks\n"
	"  --warm-checks N      warm pass over the first N checks only (after a full cold pass)\n"
	"  --callgrind          switch callgrind's instrumentation on for the warm pass only\n"
	"                       (run under valgrind --tool=callgrind --instr-atstart=no)\n"
	"  --mismatches N       print the first N checks whose result differs from expected\n";

bool bw_load(const char *path, bw_world *w)
{
	FILE *f = NULL;
	struct stat st;
	size_t len = 0, lines = 0, lineno = 0;
	char *p, *end;
	bool ok = false;

	memset(w, 0, sizeof *w);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto out;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: not a regular file\n", path);
		goto out;
	}
	if (st.st_size > (off_t)BW_MAX_FILE) {
		fprintf(stderr, "%s: larger than %u octets\n", path, BW_MAX_FILE);
		goto out;
	}
	w->text = malloc((size_t)st.st_size + 1);
	if (!w->text) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	len = fread(w->text, 1, (size_t)st.st_size, f);
	if (ferror(f) || len != (size_t)st.st_size) {
		fprintf(stderr, "%s: read error (or the file changed while read)\n", path);
		goto out;
	}
	w->text[len] = '\0';
	if (memchr(w->text, '\0', len)) {
		fprintf(stderr, "%s: holds a NUL octet\n", path);
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		lines += w->text[i] == '\n';
	lines++;
	if (lines > BW_MAX_CHECKS)
		lines = BW_MAX_CHECKS;
	w->checks = calloc(lines, sizeof *w->checks);
	if (!w->checks) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	p = w->text;
	end = w->text + len;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		char *field[5];
		size_t nf = 0;
		if (!eol)
			eol = end;
		*eol = '\0';
		lineno++;
		if (eol > p && eol[-1] == '\r')
			eol[-1] = '\0';
		if (*p == '#' || *p == '\0') {
			p = eol + 1;
			continue;
		}
		for (char *q = p;; ) {
			char *tab = strchr(q, '\t');
			if (nf == 5) {
				fprintf(stderr, "%s:%zu: more than 5 tab-separated fields\n", path, lineno);
				goto out;
			}
			field[nf++] = q;
			if (!tab)
				break;
			*tab = '\0';
			q = tab + 1;
		}
		if (nf != 5) {
			fprintf(stderr, "%s:%zu: %zu fields, expected 5 (id ip mail_from helo expected)\n",
			        path, lineno, nf);
			goto out;
		}
		if (w->n == lines) {
			fprintf(stderr, "%s:%zu: more than %zu checks\n", path, lineno, lines);
			goto out;
		}
		w->checks[w->n].ip = field[1];
		w->checks[w->n].mail_from = field[2];
		w->checks[w->n].helo = field[3];
		w->checks[w->n].expected = field[4];
		w->n++;
		p = eol + 1;
	}
	if (w->n == 0) {
		fprintf(stderr, "%s: no checks\n", path);
		goto out;
	}
	ok = true;
out:
	if (f)
		fclose(f);
	if (!ok)
		bw_free(w);
	return ok;
}

void bw_free(bw_world *w)
{
	free(w->text);
	free(w->checks);
	memset(w, 0, sizeof *w);
}

bool bw_loopback(const char *spec, char *addr, size_t cap, unsigned *port)
{
	unsigned char buf[16];
	const char *at = strchr(spec, '@');
	size_t len = at ? (size_t)(at - spec) : strlen(spec);
	bool lo = false;

	if (len == 0 || len >= cap)
		return false;
	memcpy(addr, spec, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, buf) == 1) {
		lo = buf[0] == 127;
	} else if (inet_pton(AF_INET6, addr, buf) == 1) {
		static const unsigned char one[16] = { [15] = 1 };
		lo = memcmp(buf, one, 16) == 0;
	}
	if (!lo)
		return false;
	if (port) {
		char *e;
		unsigned long v = 53;
		if (at) {
			errno = 0;
			v = strtoul(at + 1, &e, 10);
			if (errno || e == at + 1 || *e || v == 0 || v > 65535)
				return false;
		}
		*port = (unsigned)v;
	}
	return true;
}

long bw_server_queries(void)
{
	const char *ctl = getenv("MT_NSD_CONTROL"), *conf = getenv("MT_NSD_CONF");
	char cmd[2048], line[256];
	static const char key[] = "num.queries=";
	long val = -1;
	FILE *p;

	if (!ctl || !conf || strchr(ctl, '\'') || strchr(conf, '\''))
		return -1;
	if ((size_t)snprintf(cmd, sizeof cmd, "'%s' -c '%s' stats_noreset", ctl, conf) >= sizeof cmd)
		return -1;
	fflush(NULL);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof line, p))
		if (strncmp(line, key, sizeof key - 1) == 0)
			val = strtol(line + sizeof key - 1, NULL, 10);
	if (pclose(p) != 0)
		val = -1;
	return val;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

bool bw_run_pass(bw_pass_fn fn, void *ctx, const bw_world *w, size_t n, bool instrument,
                 const char **results, bw_pass *out)
{
	long q0, q1;
	double t0, c0;
	bool ok;

	memset(out, 0, sizeof *out);
	out->n = n;
	for (size_t i = 0; i < n; i++)
		results[i] = NULL;
	q0 = bw_server_queries();
	c0 = cpu_s();
	t0 = now_s();
#ifdef BW_HAVE_CALLGRIND
	if (instrument)
		CALLGRIND_START_INSTRUMENTATION;
#endif
	ok = fn(ctx, w, n, results);
#ifdef BW_HAVE_CALLGRIND
	if (instrument)
		CALLGRIND_STOP_INSTRUMENTATION;
#endif
	out->wall_s = now_s() - t0;
	out->cpu_s = cpu_s() - c0;
	q1 = bw_server_queries();
	out->queries = q0 >= 0 && q1 >= q0 ? q1 - q0 : -1;
	for (size_t i = 0; i < n; i++)
		if (results[i] && strcmp(results[i], w->checks[i].expected) == 0)
			out->agree++;
	return ok;
}

void bw_show_mismatches(const bw_world *w, size_t n, const char *const *results, size_t max)
{
	size_t shown = 0;
	for (size_t i = 0; i < n && shown < max; i++) {
		const bw_check *c = &w->checks[i];
		if (results[i] && strcmp(results[i], c->expected) == 0)
			continue;
		fprintf(stderr, "mismatch: check %zu ip %s mail_from <%s> helo %s: %s, expected %s\n", i,
		        c->ip, c->mail_from, c->helo, results[i] ? results[i] : "(none)", c->expected);
		shown++;
	}
}

long bw_rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long bw_maxrss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

void bw_report(const char *driver, const char *label, const bw_pass *cold, const bw_pass *warm)
{
	long rss = bw_maxrss_kib();
	printf("RESULT driver=%s checks=%zu cold_wall=%.6f cold_cpu=%.6f cold_queries=%ld "
	       "cold_agree=%zu warm_checks=%zu warm_wall=%.6f warm_cpu=%.6f warm_queries=%ld "
	       "warm_agree=%zu maxrss_kib=%ld label=%s\n",
	       driver, cold->n, cold->wall_s, cold->cpu_s, cold->queries, cold->agree, warm->n,
	       warm->wall_s, warm->cpu_s, warm->queries, warm->agree, rss, label);
	fflush(stdout);
	fprintf(stderr, "%s: cold %.0f checks/s (%.2f s, cpu %.2f s, %ld queries), "
	        "warm %.0f checks/s (%.0f per cpu-s, %ld queries), agree %zu/%zu cold, %zu/%zu warm, "
	        "peak RSS %ld KiB\n", label,
	        cold->wall_s > 0 ? (double)cold->n / cold->wall_s : 0, cold->wall_s, cold->cpu_s,
	        cold->queries, warm->wall_s > 0 ? (double)warm->n / warm->wall_s : 0,
	        warm->cpu_s > 0 ? (double)warm->n / warm->cpu_s : 0, warm->queries, cold->agree,
	        cold->n, warm->agree, warm->n, rss);
}

static bool size_arg(const char *opt, const char *val, size_t *out)
{
	char *e;
	unsigned long long v;
	errno = 0;
	v = strtoull(val, &e, 10);
	if (errno || e == val || *e || v > BW_MAX_CHECKS) {
		fprintf(stderr, "%s: not a count up to %u: '%s'\n", opt, BW_MAX_CHECKS, val);
		return false;
	}
	*out = (size_t)v;
	return true;
}

bool bw_parse_common(int argc, char **argv, bw_args *a)
{
	memset(a, 0, sizeof *a);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		bool has = i + 1 < argc;
		if (!o)
			continue;
		if (strcmp(o, "--callgrind") == 0) {
#ifndef BW_HAVE_CALLGRIND
			fputs("--callgrind: built without valgrind/callgrind.h (Debian package valgrind)\n",
			      stderr);
			return false;
#endif
			a->callgrind = true;
			argv[i] = NULL;
			continue;
		}
		if (strcmp(o, "--checks") != 0 && strcmp(o, "--resolver") != 0 &&
		    strcmp(o, "--limit") != 0 && strcmp(o, "--warm-checks") != 0 &&
		    strcmp(o, "--mismatches") != 0)
			continue;
		if (!has) {
			fprintf(stderr, "%s needs a value\n", o);
			return false;
		}
		if (strcmp(o, "--checks") == 0)
			a->checks = argv[i + 1];
		else if (strcmp(o, "--resolver") == 0)
			a->resolver = argv[i + 1];
		else if (!size_arg(o, argv[i + 1], strcmp(o, "--limit") == 0 ? &a->limit
		                   : strcmp(o, "--warm-checks") == 0 ? &a->warm_limit
		                   : &a->mismatches))
			return false;
		argv[i] = argv[i + 1] = NULL;
		i++;
	}
	if (!a->checks || !a->resolver) {
		fputs("--checks and --resolver are required\n", stderr);
		return false;
	}
	if (!bw_loopback(a->resolver, a->addr, sizeof a->addr, &a->port)) {
		fprintf(stderr, "refusing to run: resolver '%s' is not ADDR[@PORT] (port 1-65535) with a loopback "
		        "address (127.0.0.0/8 or ::1); this benchmark floods its server\n", a->resolver);
		return false;
	}
	return true;
}
