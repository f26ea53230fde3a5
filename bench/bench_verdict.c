/* The verdict's cost: SPF (MAIL FROM and HELO) + two DKIM signatures
 * (RFC 8463 A.3: ed25519 and RSA-1024) + DMARC, over an in-memory zone, so
 * the numbers are CPU only (the DNS cache in front keeps the parsed DKIM
 * keys, as for a receiver).  Prints verdicts per second one at a time
 * (mt_verdict_run) and many in flight on one driver.
 *   bench_verdict [SECONDS] [MESSAGE]   (default 1.0, RFC 8463's message) */
#include <mailtrust/verdict.h>
#include <mailtrust/dns.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef MT_SOURCE_DIR
#define MT_SOURCE_DIR "."
#endif

static const char ZONE[] =
	"$ORIGIN football.example.com.\n"
	"brisbane._domainkey TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
	"test._domainkey TXT \"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\"\n"
	"@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
	"mail TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
	"_dmarc TXT \"v=DMARC1; p=reject\"\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static mt_verdict *make(const char *msg, size_t len)
{
	mt_verdict_options o;
	mt_verdict *v = NULL;
	mt_verdict_options_init(&o);
	o.now = 1528637909 + 60;
	if (mt_verdict_new(&o, &v, NULL) != MT_OK ||
	    mt_verdict_set_connection(v, "192.0.2.1", "mail.football.example.com", NULL) != MT_OK ||
	    mt_verdict_set_mail_from(v, "joe@football.example.com", NULL) != MT_OK ||
	    mt_verdict_feed(v, msg, len, NULL) != MT_OK || mt_verdict_finish(v, NULL) != MT_OK) {
		fprintf(stderr, "bench_verdict: set-up failed\n");
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	const char *path = argc > 2 ? argv[2] : MT_SOURCE_DIR "/tests/data/dkim/rfc8463-signed.eml";
	static char msg[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t len;
	if (!f) {
		fprintf(stderr, "bench_verdict: cannot open %s\n", path);
		return 1;
	}
	len = fread(msg, 1, sizeof msg, f);
	fclose(f);
	mt_dns_zone *zone = mt_dns_zone_new();
	if (mt_dns_zone_load_text(zone, ZONE, sizeof ZONE - 1, NULL, "bench", NULL) != MT_OK)
		return 1;
	/* the cache in front, as a receiver runs it: it keeps the parsed keys */
	mt_dns_cache_options co;
	mt_dns_cache_options_init(&co);
	co.own_inner = true;
	mt_dns_resolver *res = NULL;
	if (mt_dns_cache_resolver_new(mt_dns_zone_resolver_new(zone), &co, &res, NULL) != MT_OK)
		return 1;

	/* one at a time */
	unsigned long n = 0;
	double t0 = now_s(), t;
	do {
		mt_verdict *v = make(msg, len);
		if (mt_verdict_run(v, res) != MT_OK || mt_verdict_result(v)->dmarc != MT_DMARC_RESULT_PASS) {
			fprintf(stderr, "bench_verdict: not a pass\n");
			return 1;
		}
		mt_verdict_free(v);
		n++;
	} while ((t = now_s() - t0) < secs);
	printf("verdict, one at a time:  %8.0f verdicts/s  %7.1f us each  (%lu in %.2f s)\n",
	       (double)n / t, t * 1e6 / (double)n, n, t);

	/* 256 in flight on one driver */
	enum { BATCH = 256 };
	mt_run *run = NULL;
	mt_run_options ro;
	mt_run_options_init(&ro);
	ro.max_jobs = BATCH;
	if (mt_run_new(res, &ro, &run, NULL) != MT_OK)
		return 1;
	mt_verdict *vs[BATCH];
	n = 0;
	t0 = now_s();
	do {
		for (int i = 0; i < BATCH; i++) {
			vs[i] = make(msg, len);
			if (mt_run_add(run, mt_verdict_job_ops(), vs[i], 0, NULL) != MT_OK)
				return 1;
		}
		size_t done = 0;
		while (done < BATCH) {
			void *job;
			mt_run_wait(run, 1000);
			while (mt_run_next(run, &job, NULL)) {
				if (mt_verdict_result(job)->dmarc != MT_DMARC_RESULT_PASS)
					return 1;
				done++;
			}
		}
		for (int i = 0; i < BATCH; i++)
			mt_verdict_free(vs[i]);
		n += BATCH;
	} while ((t = now_s() - t0) < secs);
	printf("verdict, %d in flight:  %8.0f verdicts/s  %7.1f us each  (%lu in %.2f s)\n", BATCH,
	       (double)n / t, t * 1e6 / (double)n, n, t);
	mt_run_free(run);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return 0;
}
