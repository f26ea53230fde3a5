/* The DNS cache resolver (mt_dns_cache_resolver_new), driven directly with
 * mt_dns_submit()/mt_dns_process() and an injected clock: TTLs, negative
 * answers (RFC 2308), what is never kept, the byte bound, questions in
 * flight joined, cancellation, keys, counters.  The backends behind it
 * count what they are asked. */
#include "mt_test.h"
#include <mailtrust/dns.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- a scripted backend: the answer depends on the name ---- */

static size_t script_calls;

static mt_status script_resolve(void *impl, const char *name, uint16_t type,
                                unsigned timeout_ms, mt_dns_answer **out)
{
	static const uint8_t ip[4] = {192, 0, 2, 1};
	mt_dns_answer *a;
	(void)impl;
	(void)type;
	(void)timeout_ms;
	script_calls++;
	if (strcmp(name, "neg5.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_NXDOMAIN);
		a->negative_ttl = 5;
	} else if (strcmp(name, "nodata7.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_NOERROR);
		a->negative_ttl = 7;
	} else if (strcmp(name, "nxdefault.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_NXDOMAIN);
	} else if (strcmp(name, "negbig.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_NXDOMAIN);
		a->negative_ttl = 1000000;
	} else if (strcmp(name, "servfail.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_SERVFAIL);
		a->negative_ttl = 60; /* must not make it kept */
	} else if (strcmp(name, "refused.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_REFUSED);
	} else if (strcmp(name, "timeout.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_TIMEOUT);
	} else if (strcmp(name, "failure.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_FAILURE);
	} else if (strcmp(name, "ttl0.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_NOERROR);
		mt_dns_answer_add(a, MT_DNS_A, 0, 0, ip, 4);
	} else if (strcmp(name, "big.example") == 0) {
		a = mt_dns_answer_new(MT_DNS_NOERROR);
		mt_dns_answer_add(a, MT_DNS_A, 100000, 0, ip, 4);
	} else if (strcmp(name, "two.example") == 0) {
		/* the smallest TTL of the records counts */
		a = mt_dns_answer_new(MT_DNS_NOERROR);
		mt_dns_answer_add(a, MT_DNS_A, 90, 0, ip, 4);
		mt_dns_answer_add(a, MT_DNS_A, 20, 0, ip, 4);
	} else {
		a = mt_dns_answer_new(MT_DNS_NOERROR);
		mt_dns_answer_add(a, MT_DNS_A, 60, 0, ip, 4);
	}
	*out = a;
	return a ? MT_OK : MT_ENOMEM;
}

static const mt_dns_resolver_ops script_ops = {.resolve = script_resolve};

/* ---- what the cache delivers ---- */

#define SEEN_MAX 64
typedef struct seen {
	uint64_t tokens[SEEN_MAX];
	mt_dns_rcode rcodes[SEEN_MAX];
	size_t counts[SEEN_MAX];
	size_t n;
	mt_dns_resolver *res;  /* for cancel_on_deliver */
	uint64_t cancel_when, cancel_what;
} seen;

static void record(void *arg, uint64_t token, const mt_dns_answer *ans)
{
	seen *s = arg;
	if (s->n < SEEN_MAX) {
		s->rcodes[s->n] = ans->rcode;
		s->counts[s->n] = ans->count;
		s->tokens[s->n++] = token;
	}
	if (s->res && token == s->cancel_when)
		mt_dns_cancel(s->res, s->cancel_what);
}

static mt_dns_resolver *new_cache(mt_dns_resolver *inner, size_t max_bytes, uint32_t max_ttl,
                                  uint32_t neg_default)
{
	mt_dns_cache_options o;
	mt_dns_resolver *c = NULL;
	mt_error err;
	mt_dns_cache_options_init(&o);
	if (max_bytes)
		o.max_bytes = max_bytes;
	if (max_ttl)
		o.max_ttl_s = max_ttl;
	if (neg_default)
		o.negative_default_s = neg_default;
	CHECK_INT(mt_dns_cache_resolver_new(inner, &o, &c, &err), MT_OK);
	return c;
}

/* Ask name at now and process at now: the rcode delivered, and whether the
 * backend was asked (script_calls went up). */
static bool ask(mt_dns_resolver *c, const char *name, uint64_t now, mt_dns_rcode *rc)
{
	static uint64_t token = 1000;
	size_t before = script_calls;
	seen s = {0};
	CHECK_INT(mt_dns_submit(c, name, MT_DNS_A, ++token, now), MT_OK);
	CHECK_INT(mt_dns_process(c, now, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.tokens[0], token);
	if (rc)
		*rc = s.rcodes[0];
	return script_calls > before;
}

/* The answer's TTL, the cap, and expiry exactly at the TTL. */
static void test_ttl(void)
{
	mt_dns_resolver *inner = mt_dns_resolver_new(&script_ops, NULL);
	mt_dns_resolver *c = new_cache(inner, 0, 1000, 30);
	mt_dns_cache_stats st;
	seen s = {0};
	mt_dns_rcode rc;

	/* 60 s: asked at 1000 ms, kept up to 60999 ms, gone at 61000 */
	CHECK_INT(mt_dns_submit(c, "a.example", MT_DNS_A, 1, 1000), MT_OK);
	CHECK_INT(s.n, 0); /* answers come from process() only */
	CHECK_INT(mt_dns_process(c, 1000, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.tokens[0], 1);
	CHECK_INT(s.rcodes[0], MT_DNS_NOERROR);
	CHECK_INT(s.counts[0], 1);
	CHECK_INT(script_calls, 1);
	CHECK_INT(mt_dns_resolver_next_deadline(c), UINT64_MAX);
	CHECK_INT(mt_dns_submit(c, "a.example", MT_DNS_A, 2, 60999), MT_OK);
	CHECK_INT(mt_dns_resolver_next_deadline(c), 0); /* a hit waits for process() */
	CHECK_INT(mt_dns_process(c, 60999, record, &s), MT_OK);
	CHECK_INT(s.n, 2);
	CHECK_INT(s.tokens[1], 2);
	CHECK_INT(s.counts[1], 1);
	CHECK_INT(script_calls, 1);
	CHECK(ask(c, "a.example", 61000, NULL));
	CHECK_INT(mt_dns_cache_stats_get(c, &st), MT_OK);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.misses, 2);
	CHECK_INT(st.expired, 1);
	CHECK_INT(st.inserts, 2);
	CHECK_INT(st.entries, 1);
	CHECK(st.bytes > 0);
	/* the smallest TTL of the records: 20 s */
	CHECK(ask(c, "two.example", 0, NULL));
	CHECK(!ask(c, "two.example", 19999, NULL));
	CHECK(ask(c, "two.example", 20000, NULL));
	/* a TTL above max_ttl_s (1000 s) is capped */
	CHECK(ask(c, "big.example", 0, NULL));
	CHECK(!ask(c, "big.example", 999999, NULL));
	CHECK(ask(c, "big.example", 1000000, NULL));
	/* TTL 0: never kept */
	CHECK(ask(c, "ttl0.example", 0, &rc));
	CHECK_INT(rc, MT_DNS_NOERROR);
	CHECK(ask(c, "ttl0.example", 0, NULL));
	/* same name, another type: another entry */
	CHECK(!ask(c, "a.example", 61001, NULL));
	size_t before = script_calls;
	CHECK_INT(mt_dns_submit(c, "a.example", MT_DNS_TXT, 9, 61001), MT_OK);
	CHECK_INT(mt_dns_process(c, 61001, record, &s), MT_OK);
	CHECK_INT(script_calls, before + 1);
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(inner);
}

/* NXDOMAIN and NODATA for the answer's negative TTL or the default;
 * failures never. */
static void test_negative(void)
{
	mt_dns_resolver *inner = mt_dns_resolver_new(&script_ops, NULL);
	mt_dns_resolver *c = new_cache(inner, 0, 1000, 30);
	mt_dns_cache_stats st;
	mt_dns_rcode rc;

	CHECK(ask(c, "neg5.example", 0, &rc));
	CHECK_INT(rc, MT_DNS_NXDOMAIN);
	CHECK(!ask(c, "neg5.example", 4999, &rc));
	CHECK_INT(rc, MT_DNS_NXDOMAIN);
	CHECK(ask(c, "neg5.example", 5000, NULL));

	CHECK(ask(c, "nodata7.example", 0, &rc));
	CHECK_INT(rc, MT_DNS_NOERROR);
	CHECK(!ask(c, "nodata7.example", 6999, &rc));
	CHECK_INT(rc, MT_DNS_NOERROR);
	CHECK(ask(c, "nodata7.example", 7000, NULL));

	/* the backend did not say: negative_default_s (30) */
	CHECK(ask(c, "nxdefault.example", 0, NULL));
	CHECK(!ask(c, "nxdefault.example", 29999, NULL));
	CHECK(ask(c, "nxdefault.example", 30000, NULL));

	/* capped by max_ttl_s (1000) */
	CHECK(ask(c, "negbig.example", 0, NULL));
	CHECK(!ask(c, "negbig.example", 999999, NULL));
	CHECK(ask(c, "negbig.example", 1000000, NULL));

	/* SERVFAIL, REFUSED, TIMEOUT and other failures are asked again */
	static const char *const fails[] = {"servfail.example", "refused.example",
	                                    "timeout.example", "failure.example"};
	static const mt_dns_rcode frc[] = {MT_DNS_SERVFAIL, MT_DNS_REFUSED, MT_DNS_TIMEOUT,
	                                   MT_DNS_FAILURE};
	for (size_t i = 0; i < 4; i++) {
		CHECK(ask(c, fails[i], 0, &rc));
		CHECK_INT(rc, frc[i]);
		CHECK(ask(c, fails[i], 1, &rc));
		CHECK_INT(rc, frc[i]);
	}
	CHECK_INT(mt_dns_cache_stats_get(c, &st), MT_OK);
	CHECK_INT(st.inserts, 8);
	CHECK_INT(st.hits, 4);
	CHECK_INT(st.expired, 4);
	CHECK_INT(st.entries, 4); /* the four negative answers asked again */
	mt_dns_resolver_free(c);

	/* the default negative_default_s: 300 s; max_ttl_s 0: one day */
	c = new_cache(inner, 0, 0, 0);
	CHECK(ask(c, "nxdefault.example", 0, NULL));
	CHECK(!ask(c, "nxdefault.example", 299999, NULL));
	CHECK(ask(c, "nxdefault.example", 300000, NULL));
	mt_dns_resolver_free(c);
	mt_dns_cache_options o;
	mt_error err;
	mt_dns_cache_options_init(&o);
	o.max_ttl_s = 0;
	CHECK_INT(mt_dns_cache_resolver_new(inner, &o, &c, &err), MT_OK);
	CHECK(ask(c, "big.example", 0, NULL)); /* TTL 100000 s */
	CHECK(!ask(c, "big.example", 86399999, NULL));
	CHECK(ask(c, "big.example", 86400000, NULL));
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(inner);
}

/* A zone of n TXT records of about 200 octets: "name<i>.example". */
static mt_dns_zone *big_zone(size_t n)
{
	mt_dns_zone *z = mt_dns_zone_new();
	char name[64], text[201];
	memset(text, 'x', 200);
	text[200] = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s[1] = {text};
		size_t l[1] = {200};
		snprintf(name, sizeof name, "name%zu.example", i);
		CHECK_INT(mt_dns_zone_add_txt(z, name, MT_DNS_TXT, 3600, s, l, 1), MT_OK);
	}
	return z;
}

static bool ask_txt(mt_dns_resolver *c, mt_dns_resolver *counted, const char *name, uint64_t now)
{
	static uint64_t token = 50000;
	size_t before = 0, after = 0;
	seen s = {0};
	mt_dns_test_resolver_counts(counted, &before, NULL);
	CHECK_INT(mt_dns_submit(c, name, MT_DNS_TXT, ++token, now), MT_OK);
	CHECK_INT(mt_dns_process(c, now, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	CHECK(s.n == 1 && s.counts[0] == 1);
	mt_dns_test_resolver_counts(counted, &after, NULL);
	return after > before;
}

/* Least recently used answers go when the byte bound is reached. */
static void test_eviction(void)
{
	mt_dns_zone *z = big_zone(2000);
	mt_dns_resolver *zr = mt_dns_zone_resolver_new(z), *t = NULL, *c;
	mt_dns_cache_stats st;
	mt_error err;
	char name[64];

	CHECK_INT(mt_dns_test_resolver_new(zr, NULL, 0, 0, 0, &t, &err), MT_OK);
	/* 1000 is below the least bound the cache uses: 64 KiB */
	c = new_cache(t, 1000, 0, 0);
	CHECK(ask_txt(c, t, "name0.example", 0));
	CHECK(ask_txt(c, t, "name1.example", 0));
	for (size_t i = 2; i < 1000; i++) {
		snprintf(name, sizeof name, "name%zu.example", i);
		CHECK(ask_txt(c, t, name, 0));
		if (i % 10 == 0)
			CHECK(!ask_txt(c, t, "name1.example", 0)); /* kept in use: stays */
		CHECK_INT(mt_dns_cache_stats_get(c, &st), MT_OK);
		CHECK(st.bytes <= 64 * 1024);
	}
	CHECK_INT(mt_dns_cache_stats_get(c, &st), MT_OK);
	CHECK(st.evictions > 0);
	CHECK(st.entries < 1000);
	CHECK(st.entries > 50);  /* 64 KiB holds more than 50 of them */
	CHECK_INT(st.evictions + st.entries, 1000);
	CHECK(!ask_txt(c, t, "name1.example", 0));
	CHECK(!ask_txt(c, t, "name999.example", 0));
	CHECK(ask_txt(c, t, "name0.example", 0)); /* the oldest went first */
	mt_dns_resolver_free(c);

	/* a large bound keeps them all (and the table grows past its
	 * first size) */
	c = new_cache(t, 0, 0, 0);
	for (size_t i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "name%zu.example", i);
		CHECK(ask_txt(c, t, name, 0));
	}
	for (size_t i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "NAME%zu.Example.", i);
		CHECK(!ask_txt(c, t, name, 1000));
	}
	CHECK_INT(mt_dns_cache_stats_get(c, &st), MT_OK);
	CHECK_INT(st.entries, 2000);
	CHECK_INT(st.evictions, 0);
	CHECK_INT(st.hits, 2000);
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(t);
	mt_dns_resolver_free(zr);
	mt_dns_zone_free(z);
}

static const char small_zone[] =
	"$TTL 300\n"
	"a.example.     A   192.0.2.1\n"
	"b.example.     A   192.0.2.2\n"
	"b.example.     A   192.0.2.3\n"
	"dead.example.  A   192.0.2.4\n";

/* Questions in flight for the same name and type are asked once; each
 * asker gets the answer; a cancelled one does not. */
static void test_in_flight(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_dns_resolver *zr, *t = NULL, *c;
	mt_dns_test_rule rules[] = {
		{.name = "*", .action = MT_DNS_TEST_DELAY, .delay_ms = 10},
	};
	mt_dns_cache_stats st;
	mt_error err;
	seen s = {0};
	size_t sub = 0;

	CHECK_INT(mt_dns_zone_load_text(z, small_zone, strlen(small_zone), NULL, "z", &err), MT_OK);
	zr = mt_dns_zone_resolver_new(z);
	CHECK_INT(mt_dns_test_resolver_new(zr, rules, 1, 0, 0, &t, &err), MT_OK);
	c = new_cache(t, 0, 0, 0);

	/* two askers, names differing in case and a trailing dot: one
	 * question to the backend */
	CHECK_INT(mt_dns_submit(c, "b.example", MT_DNS_A, 1, 100), MT_OK);
	CHECK_INT(mt_dns_submit(c, "B.Example.", MT_DNS_A, 2, 101), MT_OK);
	mt_dns_test_resolver_counts(t, &sub, NULL);
	CHECK_INT(sub, 1);
	CHECK_INT(mt_dns_resolver_next_deadline(c), 110);
	CHECK_INT(mt_dns_process(c, 109, record, &s), MT_OK);
	CHECK_INT(s.n, 0);
	CHECK_INT(mt_dns_process(c, 110, record, &s), MT_OK);
	CHECK_INT(s.n, 2);
	CHECK_INT(s.tokens[0], 1);
	CHECK_INT(s.tokens[1], 2);
	CHECK_INT(s.counts[0], 2);
	CHECK_INT(s.counts[1], 2);
	CHECK_INT(mt_dns_cache_stats_get(c, &st), MT_OK);
	CHECK_INT(st.misses, 1);
	CHECK_INT(st.joined, 1);
	CHECK_INT(st.inserts, 1);

	/* cancel one of two waiters: the other still gets it */
	s.n = 0;
	CHECK_INT(mt_dns_submit(c, "a.example", MT_DNS_A, 3, 200), MT_OK);
	CHECK_INT(mt_dns_submit(c, "a.example", MT_DNS_A, 4, 200), MT_OK);
	mt_dns_cancel(c, 3);
	mt_dns_cancel(c, 12345); /* unknown: nothing */
	CHECK_INT(mt_dns_process(c, 210, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.tokens[0], 4);
	/* both cancelled: the answer is still kept */
	s.n = 0;
	CHECK_INT(mt_dns_submit(c, "dead.example", MT_DNS_A, 5, 300), MT_OK);
	CHECK_INT(mt_dns_submit(c, "dead.example", MT_DNS_A, 6, 300), MT_OK);
	mt_dns_cancel(c, 5);
	mt_dns_cancel(c, 6);
	CHECK_INT(mt_dns_process(c, 310, record, &s), MT_OK);
	CHECK_INT(s.n, 0);
	mt_dns_test_resolver_counts(t, &sub, NULL);
	CHECK_INT(sub, 3);
	/* a hit cancelled before process(): not delivered */
	CHECK_INT(mt_dns_submit(c, "dead.example", MT_DNS_A, 7, 320), MT_OK);
	CHECK_INT(mt_dns_submit(c, "dead.example", MT_DNS_A, 8, 320), MT_OK);
	mt_dns_cancel(c, 7);
	CHECK_INT(mt_dns_process(c, 320, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.tokens[0], 8);
	mt_dns_test_resolver_counts(t, &sub, NULL);
	CHECK_INT(sub, 3);

	/* cancelled from inside the delivery of another waiter of the same
	 * answer (a driver aborting a job on its first answer): not delivered */
	s.n = 0;
	s.res = c;
	s.cancel_when = 9;
	s.cancel_what = 10;
	CHECK_INT(mt_dns_submit(c, "fresh.example", MT_DNS_A, 9, 400), MT_OK);
	CHECK_INT(mt_dns_submit(c, "fresh.example", MT_DNS_A, 10, 400), MT_OK);
	CHECK_INT(mt_dns_submit(c, "fresh.example", MT_DNS_A, 11, 400), MT_OK);
	CHECK_INT(mt_dns_process(c, 410, record, &s), MT_OK);
	CHECK_INT(s.n, 2);
	CHECK_INT(s.tokens[0], 9);
	CHECK_INT(s.tokens[1], 11);
	CHECK_INT(s.rcodes[0], MT_DNS_NXDOMAIN);
	/* the same with hits */
	s.n = 0;
	s.cancel_when = 12;
	s.cancel_what = 13;
	CHECK_INT(mt_dns_submit(c, "fresh.example", MT_DNS_A, 12, 420), MT_OK);
	CHECK_INT(mt_dns_submit(c, "fresh.example", MT_DNS_A, 13, 420), MT_OK);
	CHECK_INT(mt_dns_process(c, 420, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.tokens[0], 12);
	s.res = NULL;
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(t);

	/* the backend answers twice: each asker once; it never answers: a
	 * TIMEOUT after its limit, not kept */
	mt_dns_test_rule rules2[] = {
		{.name = "a.example", .action = MT_DNS_TEST_DUPLICATE},
		{.name = "dead.example", .action = MT_DNS_TEST_DROP},
	};
	CHECK_INT(mt_dns_test_resolver_new(zr, rules2, 2, MT_DNS_TEST_REVERSE, 100, &t, &err), MT_OK);
	c = new_cache(t, 0, 0, 0);
	s.n = 0;
	CHECK_INT(mt_dns_submit(c, "a.example", MT_DNS_A, 1, 0), MT_OK);
	CHECK_INT(mt_dns_submit(c, "a.example", MT_DNS_A, 2, 0), MT_OK);
	CHECK_INT(mt_dns_submit(c, "dead.example", MT_DNS_A, 3, 0), MT_OK);
	CHECK_INT(mt_dns_process(c, 0, record, &s), MT_OK);
	CHECK_INT(s.n, 2);
	CHECK_INT(s.tokens[0], 1);
	CHECK_INT(s.tokens[1], 2);
	CHECK_INT(mt_dns_resolver_next_deadline(c), 100);
	CHECK_INT(mt_dns_process(c, 100, record, &s), MT_OK);
	CHECK_INT(s.n, 3);
	CHECK_INT(s.tokens[2], 3);
	CHECK_INT(s.rcodes[2], MT_DNS_TIMEOUT);
	CHECK_INT(mt_dns_submit(c, "dead.example", MT_DNS_A, 4, 200), MT_OK);
	mt_dns_test_resolver_counts(t, &sub, NULL);
	CHECK_INT(sub, 3); /* asked again */
	CHECK_INT(mt_dns_cache_stats_get(c, &st), MT_OK);
	CHECK_INT(st.inserts, 1);
	CHECK_INT(st.misses, 3);
	/* freed with a question in flight and hits queued */
	CHECK_INT(mt_dns_submit(c, "a.example", MT_DNS_A, 5, 200), MT_OK);
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(t);
	mt_dns_resolver_free(zr);
	mt_dns_zone_free(z);
}

/* A hit queued for process() on an answer that then expires (another
 * question for it comes later, at a time past its TTL): the queued hit
 * still gets the old answer; freeing the cache before process() loses
 * nothing (ASan: no leak). */
static void test_expired_while_queued(void)
{
	mt_dns_resolver *inner = mt_dns_resolver_new(&script_ops, NULL);
	mt_dns_resolver *c = new_cache(inner, 0, 0, 0);
	seen s = {0};

	CHECK(ask(c, "two.example", 0, NULL));  /* kept 20 s */
	CHECK_INT(mt_dns_submit(c, "two.example", MT_DNS_A, 1, 19000), MT_OK);
	CHECK_INT(mt_dns_submit(c, "two.example", MT_DNS_A, 2, 20000), MT_OK);
	CHECK_INT(mt_dns_process(c, 20000, record, &s), MT_OK);
	CHECK_INT(s.n, 2);
	CHECK_INT(s.counts[0], 2);
	CHECK_INT(s.counts[1], 2);
	CHECK_INT(mt_dns_submit(c, "two.example", MT_DNS_A, 3, 21000), MT_OK);
	CHECK_INT(mt_dns_submit(c, "two.example", MT_DNS_A, 4, 50000), MT_OK);
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(inner);
}

/* Blocking mt_dns_resolve() goes through the cache too. */
static void test_blocking(void)
{
	mt_dns_resolver *inner = mt_dns_resolver_new(&script_ops, NULL);
	mt_dns_resolver *c = new_cache(inner, 0, 0, 0);
	mt_dns_answer *a = NULL;
	size_t before = script_calls;
	mt_dns_cache_stats st;
	mt_error err;
	mt_dns_resolver *bad = NULL;

	CHECK_INT(mt_dns_resolve(c, "a.example", MT_DNS_A, 0, &a), MT_OK);
	CHECK(a && a->count == 1);
	mt_dns_answer_free(a);
	CHECK_INT(mt_dns_resolve(c, "a.example", MT_DNS_A, 0, &a), MT_OK);
	CHECK(a && a->count == 1);
	mt_dns_answer_free(a);
	CHECK_INT(script_calls, before + 1);
	CHECK_INT(mt_dns_cache_stats_get(c, &st), MT_OK);
	CHECK_INT(st.hits, 1);
	/* not a cache; bad arguments */
	CHECK_INT(mt_dns_cache_stats_get(inner, &st), MT_EINVAL);
	CHECK_INT(mt_dns_cache_stats_get(c, NULL), MT_EINVAL);
	CHECK_INT(mt_dns_cache_resolver_new(NULL, NULL, &bad, &err), MT_EINVAL);
	CHECK(strlen(err.message) > 0);
	CHECK_INT(mt_dns_cache_resolver_new(inner, NULL, NULL, &err), MT_EINVAL);
	mt_dns_cache_options_init(NULL);
	/* fd and deadline of an idle cache over a backend without a descriptor */
	CHECK_INT(mt_dns_resolver_fd(c), -1);
	CHECK_INT(mt_dns_resolver_next_deadline(c), UINT64_MAX);
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(inner);
}

int main(void)
{
	test_ttl();
	test_negative();
	test_eviction();
	test_in_flight();
	test_expired_while_queued();
	test_blocking();
	return mt_test_done();
}
