/*
 * SPF checks per second through real DNS: the blocking driver
 * (mt_spf_check_run, one check after another) against the driver
 * (mailtrust/run.h, many checks in flight), each with a cold libunbound cache and again warm.
 * Meant for a local authoritative server serving the zone of
 * tests/integration/gen_batch_zone.sh (bench/run_bench_dns.sh sets it up);
 * refuses any resolver that is not a loopback address.
 *
 *   bench_dns --resolver 127.0.0.1@PORT [-n CHECKS] [-d DOMAINS] [-k IN_FLIGHT]
 */
#include <mailtrust/dns.h>
#include <mailtrust/spf.h>
#include <mailtrust/run.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct input {
	char ip[48];
	char sender[64];
} input;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "ADDR" or "ADDR@PORT" with ADDR in 127.0.0.0/8 or ::1. */
static bool loopback(const char *spec)
{
	char addr[64];
	unsigned char buf[16];
	size_t len = strcspn(spec, "@");
	if (len == 0 || len >= sizeof addr)
		return false;
	memcpy(addr, spec, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, buf) == 1)
		return buf[0] == 127;
	if (inet_pton(AF_INET6, addr, buf) == 1) {
		static const unsigned char one[16] = { [15] = 1 };
		return memcmp(buf, one, 16) == 0;
	}
	return false;
}

static mt_dns_resolver *resolver(const char *fwd)
{
	mt_dns_unbound_options o;
	mt_dns_resolver *r = NULL;
	mt_error err = { 0 };
	mt_dns_unbound_options_init(&o);
	o.forwarder = fwd;
	if (mt_dns_unbound_resolver_new(&o, &r, &err) != MT_OK)
		fprintf(stderr, "bench_dns: resolver: %s\n", err.message);
	return r;
}

static mt_spf_request request(const input *in)
{
	mt_spf_request r = { .ip = in->ip, .sender = in->sender, .helo = "mail.client.example",
	                     .identity = MT_SPF_MAILFROM };
	return r;
}

/* Checks per second, and how many ended in each result (a sanity line). */
static double run_blocking(mt_dns_resolver *res, const input *in, unsigned n,
                           unsigned counts[7])
{
	mt_spf_check *chk = NULL;
	double t0;
	if (mt_spf_check_new(NULL, &chk, NULL) != MT_OK)
		return 0;
	t0 = now_s();
	for (unsigned j = 0; j < n; j++) {
		mt_error err = { 0 };
		mt_spf_request r = request(&in[j]);
		const mt_spf_outcome *o;
		if (mt_spf_check_start(chk, &r, &err) == MT_OK && mt_spf_check_run(chk, res) == MT_OK &&
		    (o = mt_spf_check_outcome(chk)) != NULL)
			counts[o->result]++;
	}
	t0 = now_s() - t0;
	mt_spf_check_free(chk);
	return n / t0;
}

static double run_batch(mt_dns_resolver *res, const input *in, unsigned n, unsigned k,
                        unsigned counts[7])
{
	mt_run_options ro;
	mt_run *run = NULL;
	mt_error err = { 0 };
	mt_spf_check **pool = calloc(k, sizeof *pool);
	size_t npool = 0;
	unsigned next = 0, got = 0;
	double t0 = now_s();

	mt_run_options_init(&ro);
	ro.max_jobs = k;
	if (!pool || mt_run_new(res, &ro, &run, &err) != MT_OK) {
		fprintf(stderr, "bench_dns: driver: %s\n", err.message);
		free(pool);
		return 0;
	}
	for (unsigned i = 0; i < k; i++)
		if (mt_spf_check_new(NULL, &pool[npool], NULL) == MT_OK)
			npool++;
	while (got < n) {
		while (next < n && npool > 0) {
			mt_spf_check *chk = pool[--npool];
			mt_spf_request r = request(&in[next++]);
			if (mt_spf_check_start(chk, &r, &err) != MT_OK ||
			    mt_run_add(run, mt_spf_check_job_ops(), chk, 0, NULL) != MT_OK) {
				pool[npool++] = chk;
				got++;
			}
		}
		if (mt_run_wait(run, -1) != MT_OK)
			break;
		void *job;
		while (mt_run_next(run, &job, NULL)) {
			counts[mt_spf_check_outcome(job)->result]++;
			pool[npool++] = job;
			got++;
		}
	}
	t0 = now_s() - t0;
	for (size_t i = 0; i < npool; i++)
		mt_spf_check_free(pool[i]);
	free(pool);
	mt_run_free(run);
	return n / t0;
}

static void report(const char *what, double rate, const unsigned counts[7])
{
	printf("%-26s %9.0f checks/s   (", what, rate);
	for (int r = 0; r < 7; r++)
		printf("%s%s %u", r ? ", " : "", mt_spf_result_name((mt_spf_result)r), counts[r]);
	printf(")\n");
}

int main(int argc, char **argv)
{
	const char *fwd = NULL;
	unsigned n = 10000, domains = 10000, k = 500;
	unsigned counts[7];
	mt_dns_resolver *res = NULL;
	input *in = NULL;
	double rate;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--resolver") == 0 && i + 1 < argc)
			fwd = argv[++i];
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			domains = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-k") == 0 && i + 1 < argc)
			k = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			fwd = NULL, i = argc;
	}
	if (!fwd || n == 0 || n > 10000000 || domains == 0) {
		fputs("usage: bench_dns --resolver ADDR@PORT [-n CHECKS] [-d DOMAINS] [-k IN_FLIGHT]\n"
		      "Sends CHECKS SPF checks (default 10000) to a local server serving\n"
		      "tests/integration/gen_batch_zone.sh's zone with DOMAINS domains (default\n"
		      "10000); bench/run_bench_dns.sh starts one.\n", stderr);
		return 2;
	}
	if (!loopback(fwd)) {
		fprintf(stderr, "bench_dns: refusing to run: %s is not a loopback address "
		        "(127.0.0.0/8 or ::1); this benchmark floods its resolver\n", fwd);
		return 2;
	}
	in = calloc(n, sizeof *in);
	if (!in)
		return 1;
	for (unsigned j = 0; j < n; j++) {
		unsigned d = j % domains, o = d % 250;
		switch (j % 4) {
		case 0: snprintf(in[j].ip, sizeof in[j].ip, "192.0.2.%u", o); break;
		case 1: snprintf(in[j].ip, sizeof in[j].ip, "203.0.113.%u", o); break;
		case 2: snprintf(in[j].ip, sizeof in[j].ip, "10.%u.1.1", d % 10); break;
		default: snprintf(in[j].ip, sizeof in[j].ip, "2001:db8::%x", j); break;
		}
		snprintf(in[j].sender, sizeof in[j].sender, "u%u@d%u.batch.example", j, d);
	}
	printf("%u checks over %u domains via %s (async batch: %u in flight)\n", n,
	       domains < n ? domains : n, fwd, k);

	/* Each mode gets its own resolver: its first run has a cold cache. */
	for (int mode = 0; mode < 2; mode++) {
		res = resolver(fwd);
		if (!res)
			goto out;
		for (int warm = 0; warm < 2; warm++) {
			char what[64];
			memset(counts, 0, sizeof counts);
			rate = mode == 0 ? run_blocking(res, in, n, counts)
			                 : run_batch(res, in, n, k, counts);
			snprintf(what, sizeof what, "%s, %s cache:", mode == 0 ? "blocking" : "async batch",
			         warm ? "warm" : "cold");
			report(what, rate, counts);
		}
		mt_dns_resolver_free(res);
		res = NULL;
	}
	rc = 0;
out:
	mt_dns_resolver_free(res);
	free(in);
	return rc;
}
