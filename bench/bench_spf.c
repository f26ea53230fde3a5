/*
 * SPF engine throughput from the in-memory zone: no network, so this
 * measures the engine (parsing, macro expansion, the state machine) and
 * the zone lookups.  Prints checks per second for a few record shapes, and
 * the memory of many checks held in flight at once through the step API.
 *
 *   bench_spf [seconds-per-case]
 */
#include <mailtrust/spf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void txt(mt_dns_zone *z, const char *name, const char *text)
{
	const char *s[1] = {text};
	size_t l[1] = {strlen(text)};
	mt_dns_zone_add_txt(z, name, MT_DNS_TXT, 300, s, l, 1);
}

static void a4(mt_dns_zone *z, const char *name, int a, int b, int c, int d)
{
	uint8_t ad[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d};
	mt_dns_zone_add(z, name, MT_DNS_A, 300, 0, ad, 4);
}

static mt_dns_zone *build(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	/* A typical provider-style setup: own ranges, MX, two includes. */
	txt(z, "typical.example", "v=spf1 ip4:192.0.2.0/26 mx include:_spf.mail.example include:_spf.crm.example ~all");
	mt_dns_zone_add(z, "typical.example", MT_DNS_MX, 300, 10, "mx1.typical.example", 19);
	mt_dns_zone_add(z, "typical.example", MT_DNS_MX, 300, 20, "mx2.typical.example", 19);
	a4(z, "mx1.typical.example", 192, 0, 2, 100);
	a4(z, "mx2.typical.example", 192, 0, 2, 101);
	txt(z, "_spf.mail.example", "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:1::/48 include:_netblocks.mail.example -all");
	txt(z, "_netblocks.mail.example", "v=spf1 ip4:203.0.113.0/25 ip4:203.0.113.128/26 ip4:203.0.113.192/27 -all");
	txt(z, "_spf.crm.example", "v=spf1 a:out.crm.example exists:%{i}._ip.crm.example -all");
	a4(z, "out.crm.example", 192, 0, 2, 200);
	a4(z, "203.0.113.250._ip.crm.example", 127, 0, 0, 2);
	txt(z, "simple.example", "v=spf1 ip4:192.0.2.0/24 -all");
	txt(z, "macro.example", "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all exp=explain.%{d}");
	txt(z, "explain.macro.example", "%{i} may not send for %{d} (see https://example.com/spf?s=%{S})");
	return z;
}

struct bcase {
	const char *name, *ip, *sender;
};

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	mt_dns_zone *z = build();
	mt_dns_resolver *r = mt_dns_zone_resolver_new(z);
	mt_spf_check *c = NULL;
	mt_error err;
	static const struct bcase cases[] = {
		{"ip4 match, 1 record", "192.0.2.9", "a@simple.example"},
		{"typical, first term", "192.0.2.9", "a@typical.example"},
		{"typical, nested include", "203.0.113.77", "a@typical.example"},
		{"typical, last include", "203.0.113.250", "a@typical.example"},
		{"typical, no match, softfail", "198.18.0.1", "a@typical.example"},
		{"macros + explanation", "192.0.2.9", "first.last@macro.example"},
	};
	if (!z || !r || mt_spf_check_new(NULL, &c, NULL) != MT_OK)
		return 1;
	printf("SPF engine over the in-memory zone (%.1f s per case)\n", secs);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		mt_spf_request rq = {.ip = cases[k].ip, .sender = cases[k].sender, .helo = "h.example"};
		unsigned long n = 0;
		double t0 = now_s(), t;
		const char *res = "?";
		do {
			for (int i = 0; i < 256; i++) {
				if (mt_spf_check_start(c, &rq, &err) != MT_OK || mt_spf_check_run(c, r) != MT_OK)
					return 1;
				n++;
			}
			t = now_s() - t0;
		} while (t < secs);
		res = mt_spf_result_name(mt_spf_check_outcome(c)->result);
		printf("  %-30s %-9s %10.0f checks/s  %6.2f us/check  (%u DNS terms)\n", cases[k].name, res,
		       (double)n / t, t * 1e6 / (double)n, mt_spf_check_outcome(c)->dns_mechanisms);
	}
	mt_spf_check_free(c);

	/* Many checks in flight at once: each started and stepped round-robin,
	 * answers fed from the zone, as an event loop would. */
	enum { INFLIGHT = 10000 };
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	mt_spf_check **all = calloc(INFLIGHT, sizeof *all);
	double t0 = now_s();
	size_t done = 0, rounds = 0;
	for (int i = 0; i < INFLIGHT; i++) {
		mt_spf_request rq = {.ip = "203.0.113.77", .sender = "a@typical.example", .helo = "h.example"};
		if (mt_spf_check_new(NULL, &all[i], NULL) != MT_OK || mt_spf_check_start(all[i], &rq, &err) != MT_OK)
			return 1;
	}
	while (done < INFLIGHT) {
		rounds++;
		for (int i = 0; i < INFLIGHT; i++) {
			const mt_spf_question *qs;
			size_t nq;
			if (!all[i] || mt_spf_step(all[i], &qs, &nq) != MT_OK)
				continue;
			if (nq == 0) {
				done++;
				mt_spf_check_free(all[i]);
				all[i] = NULL;
				continue;
			}
			mt_spf_question q[16];
			size_t m = nq < 16 ? nq : 16;
			memcpy(q, qs, m * sizeof *q);
			for (size_t j = 0; j < m; j++) {
				mt_dns_answer *ans;
				if (mt_dns_zone_query(z, q[j].name, q[j].type, &ans) != MT_OK)
					return 1;
				mt_spf_answer(all[i], q[j].id, ans);
				mt_dns_answer_free(ans);
			}
		}
		if (rounds == 2) {
			getrusage(RUSAGE_SELF, &ru1);
			printf("  %d checks in flight after 2 rounds: max RSS grew by %ld KiB (%.1f KiB per check)\n",
			       INFLIGHT, ru1.ru_maxrss - ru0.ru_maxrss, (double)(ru1.ru_maxrss - ru0.ru_maxrss) / INFLIGHT);
		}
	}
	double t = now_s() - t0;
	printf("  %d interleaved checks (typical, nested include): %.0f checks/s, %zu rounds\n", INFLIGHT,
	       INFLIGHT / t, rounds);
	free(all);
	mt_dns_resolver_free(r);
	mt_dns_zone_free(z);
	return 0;
}
