/*
 * The DNS cache (mt_dns_cache_resolver_new) in front of libunbound,
 * against NSD on loopback serving the zone of cache_nsd.sh.  A repeated
 * check is answered by the cache: the server's query counter (nsd-control
 * stats_noreset) does not move, and the cache's counters show that
 * libunbound was not asked either.  Questions of checks in flight at once
 * are joined.  Negative answers are kept for the SOA minimum (RFC 2308).
 * Also the asynchronous operations of the libunbound backend itself:
 * its own per-question timeout against a silent server, cancellation, a
 * malformed name.  Expected values come from the zone, not from running
 * this code.
 */
#include <mailtrust/dns.h>
#include <mailtrust/run.h>
#include <mailtrust/spf.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_test.h"

static const char *nsd_addr, *nsd_port, *nsd_conf, *nsd_control;
static char forwarder[64];

static long nsd_stat(const char *key)
{
	return mt_test_nsd_stat(key);
}

static mt_dns_resolver *unbound(void)
{
	mt_dns_unbound_options o;
	mt_dns_resolver *r = NULL;
	mt_error err = {0};
	mt_dns_unbound_options_init(&o);
	o.forwarder = forwarder;
	o.timeout_ms = 3000;
	if (mt_dns_unbound_resolver_new(&o, &r, &err) != MT_OK)
		fprintf(stderr, "resolver: %s\n", err.message);
	return r;
}

static mt_dns_resolver *cache_over(mt_dns_resolver *inner)
{
	mt_dns_resolver *c = NULL;
	mt_error err = {0};
	if (inner && mt_dns_cache_resolver_new(inner, NULL, &c, &err) != MT_OK)
		fprintf(stderr, "cache: %s\n", err.message);
	return c;
}

/*
 * spf.cache.example for 198.51.100.7: mx (MX, then A of mx1 and mx2: no
 * match), a:host (no match), include:inc (TXT; exists: NXDOMAIN; ip4:
 * matches) gives pass.  Seven questions, one of them NXDOMAIN.
 */
#define QUESTIONS 7

static mt_spf_check *new_check(void)
{
	mt_spf_check *c = NULL;
	mt_error err;
	mt_spf_request rq = {.ip = "198.51.100.7", .sender = "alice@spf.cache.example",
	                     .helo = "mta.example", .now = 1};
	if (mt_spf_check_new(NULL, &c, NULL) != MT_OK)
		return NULL;
	if (mt_spf_check_start(c, &rq, &err) != MT_OK) {
		mt_spf_check_free(c);
		return NULL;
	}
	return c;
}

static mt_spf_result check(mt_dns_resolver *res)
{
	mt_spf_check *c = new_check();
	mt_spf_result r = (mt_spf_result)-1;
	if (c && mt_spf_check_run(c, res) == MT_OK && mt_spf_check_outcome(c))
		r = mt_spf_check_outcome(c)->result;
	mt_spf_check_free(c);
	return r;
}

static void test_hit_asks_nothing(void)
{
	mt_dns_resolver *ub = unbound(), *c = cache_over(ub);
	mt_dns_resolver *ub2 = unbound(), *c2 = cache_over(ub2);
	mt_dns_cache_stats s1, s2;
	long q0, q1, q2, q3;

	CHECK(c && c2);
	if (!c || !c2)
		goto out;
	q0 = nsd_stat("num.queries");
	CHECK_INT(check(c), MT_SPF_PASS);
	q1 = nsd_stat("num.queries");
	CHECK_INT(mt_dns_cache_stats_get(c, &s1), MT_OK);
	CHECK_INT(s1.misses, QUESTIONS);
	CHECK_INT(s1.hits, 0);
	/* the same check again: from the cache, nothing reaches the server */
	CHECK_INT(check(c), MT_SPF_PASS);
	q2 = nsd_stat("num.queries");
	CHECK_INT(mt_dns_cache_stats_get(c, &s2), MT_OK);
	CHECK_INT(s2.misses, QUESTIONS); /* and nothing reached libunbound */
	CHECK_INT(s2.hits, QUESTIONS);
	/* a cache of its own over a resolver of its own asks the server */
	CHECK_INT(check(c2), MT_SPF_PASS);
	q3 = nsd_stat("num.queries");
	printf("NSD queries: %ld -> %ld (first check) -> %ld (same check, cached) -> %ld "
	       "(new cache and resolver)\n", q0, q1, q2, q3);
	CHECK(q0 >= 0);
	CHECK(q1 - q0 >= QUESTIONS);
	CHECK_INT(q2 - q1, 0);
	CHECK(q3 - q2 >= QUESTIONS);
out:
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(ub);
	mt_dns_resolver_free(c2);
	mt_dns_resolver_free(ub2);
}

/* Two identical checks in flight at once through the driver: each
 * question is sent once and both get the answers. */
static void test_joined(void)
{
	mt_dns_resolver *ub = unbound(), *c = cache_over(ub);
	mt_run *run = NULL;
	mt_error err;
	mt_spf_check *a = new_check(), *b = new_check();
	mt_dns_cache_stats s;
	long q0, q1;
	int taken = 0;

	CHECK(c && a && b);
	if (!c || !a || !b)
		goto out;
	CHECK_INT(mt_run_new(c, NULL, &run, &err), MT_OK);
	q0 = nsd_stat("num.queries");
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), a, 0, NULL), MT_OK);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), b, 0, NULL), MT_OK);
	for (int i = 0; i < 100 && taken < 2; i++) {
		CHECK_INT(mt_run_wait(run, 100), MT_OK);
		while (mt_run_next(run, NULL, NULL))
			taken++;
	}
	CHECK_INT(taken, 2);
	q1 = nsd_stat("num.queries");
	CHECK_INT(mt_spf_check_outcome(a)->result, MT_SPF_PASS);
	CHECK_INT(mt_spf_check_outcome(b)->result, MT_SPF_PASS);
	CHECK_INT(mt_dns_cache_stats_get(c, &s), MT_OK);
	CHECK_INT(s.misses, QUESTIONS);
	CHECK_INT(s.joined, QUESTIONS);
	printf("two checks at once: NSD queries %ld -> %ld, cache misses %llu, joined %llu\n",
	       q0, q1, (unsigned long long)s.misses, (unsigned long long)s.joined);
	CHECK(q1 - q0 >= QUESTIONS && q1 - q0 < 2 * QUESTIONS);
out:
	mt_run_free(run);
	mt_spf_check_free(a);
	mt_spf_check_free(b);
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(ub);
}

typedef struct got {
	int n;
	mt_dns_rcode rcode;
	size_t count;
} got;

static void take(void *arg, uint64_t token, const mt_dns_answer *ans)
{
	got *g = arg;
	(void)token;
	g->n++;
	g->rcode = ans->rcode;
	g->count = ans->count;
}

/* Ask through the cache with the clock at now (the cache's and the
 * backend's idea of time; the real wait is polled). */
static got ask_at(mt_dns_resolver *c, const char *name, uint16_t type, uint64_t now)
{
	static uint64_t token;
	got g = {0};
	CHECK_INT(mt_dns_submit(c, name, type, ++token, now), MT_OK);
	for (int i = 0; i < 300 && g.n == 0; i++) {
		CHECK_INT(mt_dns_process(c, now, take, &g), MT_OK);
		if (g.n)
			break;
		struct pollfd p = {.fd = mt_dns_resolver_fd(c), .events = POLLIN};
		poll(&p, 1, 10);
	}
	CHECK_INT(g.n, 1);
	return g;
}

/* NXDOMAIN and NODATA carry the SOA minimum (7 s, below the SOA's TTL of
 * 3600 s) as their negative TTL, and the cache keeps them that long. */
static void test_negative_ttl(void)
{
	mt_dns_resolver *ub = unbound(), *c = cache_over(ub);
	mt_dns_answer *a = NULL;
	long q0, q1;
	got g;

	CHECK(c != NULL);
	if (!c)
		goto out;
	CHECK_INT(mt_dns_resolve(ub, "nothing.cache.example", MT_DNS_A, 0, &a), MT_OK);
	CHECK(a && a->rcode == MT_DNS_NXDOMAIN);
	CHECK(a && a->negative_ttl == 7);
	printf("NXDOMAIN negative TTL %u\n", a ? a->negative_ttl : 0);
	mt_dns_answer_free(a);
	a = NULL;
	CHECK_INT(mt_dns_resolve(ub, "host.cache.example", MT_DNS_TXT, 0, &a), MT_OK);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 0);
	CHECK(a && a->negative_ttl == 7);
	mt_dns_answer_free(a);

	g = ask_at(c, "gone.cache.example", MT_DNS_A, 1000);
	CHECK_INT(g.rcode, MT_DNS_NXDOMAIN);
	q0 = nsd_stat("num.queries");
	g = ask_at(c, "gone.cache.example", MT_DNS_A, 7999);
	CHECK_INT(g.rcode, MT_DNS_NXDOMAIN);
	q1 = nsd_stat("num.queries");
	CHECK_INT(q1 - q0, 0);
	/* libunbound keeps it for as long: only the cache's count shows it */
	mt_dns_cache_stats s;
	CHECK_INT(mt_dns_cache_stats_get(c, &s), MT_OK);
	CHECK_INT(s.hits, 1);
	g = ask_at(c, "gone.cache.example", MT_DNS_A, 8000);
	CHECK_INT(g.rcode, MT_DNS_NXDOMAIN);
	CHECK_INT(mt_dns_cache_stats_get(c, &s), MT_OK);
	CHECK_INT(s.hits, 1);
	CHECK_INT(s.expired, 1);
	CHECK_INT(s.misses, 2);
out:
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(ub);
}


static uint64_t now_ms(void)
{
	return mt_dns_now_ms();
}

typedef struct tokens {
	uint64_t tok[8];
	mt_dns_rcode rc[8];
	int n;
} tokens;

static void note(void *arg, uint64_t token, const mt_dns_answer *ans)
{
	tokens *t = arg;
	if (t->n < 8) {
		t->tok[t->n] = token;
		t->rc[t->n++] = ans->rcode;
	}
}

/* Process with the real clock until want answers came or limit_ms passed. */
static void pump(mt_dns_resolver *r, tokens *t, int want, unsigned limit_ms)
{
	uint64_t end = now_ms() + limit_ms;
	while (t->n < want && now_ms() < end) {
		CHECK_INT(mt_dns_process(r, now_ms(), note, t), MT_OK);
		if (t->n >= want)
			break;
		uint64_t dl = mt_dns_resolver_next_deadline(r), now = now_ms();
		int wait = dl == UINT64_MAX ? 50 : dl <= now ? 0 : (int)(dl - now > 50 ? 50 : dl - now);
		struct pollfd p = {.fd = mt_dns_resolver_fd(r), .events = POLLIN};
		poll(&p, 1, wait);
	}
}

static void test_unbound_async(void)
{
	mt_dns_unbound_options o;
	mt_dns_resolver *r = NULL;
	mt_error err = {0};
	tokens t = {0};
	char fwd[64];
	int port = 0, fd = mt_test_silent_udp(&port);
	uint64_t t0;

	/* against NSD: answers, a cancelled question, a malformed name */
	r = unbound();
	CHECK(r != NULL);
	if (!r)
		return;
	t0 = now_ms();
	CHECK_INT(mt_dns_submit(r, "spf.cache.example", MT_DNS_MX, 1, t0), MT_OK);
	CHECK_INT(mt_dns_submit(r, "host.cache.example", MT_DNS_A, 2, t0), MT_OK);
	CHECK_INT(mt_dns_submit(r, "inc.cache.example", MT_DNS_TXT, 3, t0), MT_OK);
	CHECK_INT(mt_dns_submit(r, "bad..name", MT_DNS_A, 4, t0), MT_OK);
	CHECK_INT(mt_dns_submit(r, "bad..name", MT_DNS_TXT, 5, t0), MT_OK);
	CHECK_INT(mt_dns_resolver_next_deadline(r), 0); /* the malformed ones are ready */
	mt_dns_cancel(r, 2); /* in flight */
	mt_dns_cancel(r, 5); /* answered, not yet delivered */
	pump(r, &t, 3, 3000);
	CHECK_INT(t.n, 3);
	CHECK_INT(t.tok[0], 4);
	CHECK_INT(t.rc[0], MT_DNS_FAILURE);
	CHECK((t.tok[1] == 1 && t.tok[2] == 3) || (t.tok[1] == 3 && t.tok[2] == 1));
	CHECK(t.rc[1] == MT_DNS_NOERROR && t.rc[2] == MT_DNS_NOERROR);
	pump(r, &t, 4, 200);
	CHECK_INT(t.n, 3); /* nothing for 2 and 5 */
	CHECK_INT(mt_dns_resolver_next_deadline(r), UINT64_MAX);
	mt_dns_resolver_free(r);

	/* a silent server: the backend's own limit (300 ms) answers TIMEOUT */
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	snprintf(fwd, sizeof fwd, "127.0.0.1@%d", port);
	mt_dns_unbound_options_init(&o);
	o.forwarder = fwd;
	o.timeout_ms = 300;
	r = NULL;
	CHECK_INT(mt_dns_unbound_resolver_new(&o, &r, &err), MT_OK);
	if (!r)
		goto out;
	memset(&t, 0, sizeof t);
	t0 = now_ms();
	CHECK_INT(mt_dns_submit(r, "spf.cache.example", MT_DNS_TXT, 7, t0), MT_OK);
	CHECK_INT(mt_dns_submit(r, "host.cache.example", MT_DNS_A, 8, t0), MT_OK);
	CHECK_INT(mt_dns_resolver_next_deadline(r), t0 + 300);
	mt_dns_cancel(r, 8);
	pump(r, &t, 1, 2000);
	CHECK_INT(t.n, 1);
	CHECK_INT(t.tok[0], 7);
	CHECK_INT(t.rc[0], MT_DNS_TIMEOUT);
	CHECK(now_ms() - t0 >= 300 && now_ms() - t0 < 1500);
	/* an SPF check through the driver: temperror at the backend's limit,
	 * long before its own budget of 20 s */
	mt_spf_check *c = new_check();
	t0 = now_ms();
	CHECK(c && mt_spf_check_run(c, r) == MT_OK);
	const mt_spf_outcome *out = c ? mt_spf_check_outcome(c) : NULL;
	CHECK(out && out->result == MT_SPF_TEMPERROR && out->trace_count == 1 &&
	      out->trace[0].rcode == MT_DNS_TIMEOUT);
	printf("silent server: check ended %s after %llu ms\n",
	       out ? mt_spf_result_name(out->result) : "?", (unsigned long long)(now_ms() - t0));
	CHECK(now_ms() - t0 < 1500);
	mt_spf_check_free(c);
	mt_dns_resolver_free(r);
out:
	close(fd);
}

int main(void)
{
	nsd_addr = getenv("MT_NSD_ADDR");
	nsd_port = getenv("MT_NSD_PORT");
	nsd_conf = getenv("MT_NSD_CONF");
	nsd_control = getenv("MT_NSD_CONTROL");
	if (!nsd_addr || !nsd_port || !nsd_conf || !nsd_control) {
		fprintf(stderr, "run me through cache_nsd.sh\n");
		return 2;
	}
	if (strncmp(nsd_addr, "127.", 4) != 0) {
		fprintf(stderr, "refusing to run: %s is not on loopback\n", nsd_addr);
		return 2;
	}
	snprintf(forwarder, sizeof forwarder, "%s@%s", nsd_addr, nsd_port);
	test_hit_asks_nothing();
	test_joined();
	test_negative_ttl();
	test_unbound_async();
	return mt_test_done();
}
