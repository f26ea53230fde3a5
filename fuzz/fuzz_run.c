/*
 * Fuzz the runtime: the input scripts the faults of the test backend
 * (rules: which name and type, delay, drop, duplicate, fail; flags:
 * reverse, ignore cancel) over a small fixed zone, then
 *  1. a sequence of submits, cancels and clock steps on the cache over
 *     that backend, with an injected clock: every question is answered
 *     exactly once unless cancelled (then never), with the answer the
 *     rules and the zone give;
 *  2. a few SPF checks through the driver (over the backend, and over the
 *     cache over it) with delays of at most 1 ms and budgets of a few ms:
 *     every job comes back exactly once with an outcome, and when no rule
 *     drops or fails answers and no budget is short, the outcome equals
 *     that of the blocking run over the plain zone.
 * Input layout: flags, rule count, 3 octets per rule, then the script of
 * part 1 (ends at 0xFF or after 64 steps), then the checks (2 octets each).
 */
#include <mailtrust/dns.h>
#include <mailtrust/run.h>
#include <mailtrust/spf.h>
#include <stdlib.h>
#include <string.h>

static const char zone_text[] =
	"$TTL 60\n"
	"a.fz.   TXT \"v=spf1 ip4:192.0.2.0/24 mx include:b.fz ~all\"\n"
	"a.fz.   MX  10 m1.fz.\n"
	"a.fz.   MX  20 m2.fz.\n"
	"m1.fz.  A   192.0.2.10\n"
	"m2.fz.  A   203.0.113.20\n"
	"b.fz.   TXT \"v=spf1 a:h.fz exists:%{i}.x.fz -all\"\n"
	"h.fz.   A   198.51.100.1\n"
	"c.fz.   TXT \"v=spf1 redirect=a.fz\"\n"
	"9.100.51.198.x.fz. A 127.0.0.2\n";

static const char *const names[] = {"*", "a.fz", "b.fz", "c.fz", "m1.fz", "m2.fz", "h.fz", "nx.fz"};
#define NNAMES (sizeof names / sizeof names[0])
static const uint16_t types[] = {0, MT_DNS_A, MT_DNS_TXT, MT_DNS_MX};
static const mt_dns_rcode rcodes[] = {MT_DNS_SERVFAIL, MT_DNS_TIMEOUT, MT_DNS_NXDOMAIN,
                                      MT_DNS_REFUSED, MT_DNS_FAILURE, MT_DNS_NOERROR};
static const char *const ips[] = {"192.0.2.1", "203.0.113.20", "198.51.100.1", "198.51.100.9",
                                  "2001:db8::1", "192.0.2.200"};
static const char *const domains[] = {"a.fz", "b.fz", "c.fz", "nx.fz"};

#define MAX_RULES 4
#define MAX_TOKENS 64

typedef struct input {
	const uint8_t *p;
	size_t len, off;
} input;

static int next(input *in)
{
	return in->off < in->len ? in->p[in->off++] : -1;
}

/* ---- part 1: the cache over the test backend, injected clock ---- */

typedef struct tok {
	uint8_t name, type;
	bool cancelled;
	int delivered;
	mt_dns_rcode want;
	size_t want_count;
} tok;

typedef struct p1 {
	tok t[MAX_TOKENS + 1];
	size_t n;
	mt_dns_resolver *cache;
} p1;

static void on_answer(void *arg, uint64_t token, const mt_dns_answer *ans)
{
	p1 *s = arg;
	if (token == 0 || token > s->n)
		abort(); /* a token never handed out */
	tok *t = &s->t[token];
	if (t->cancelled || t->delivered)
		abort(); /* cancelled, or a second time */
	t->delivered++;
	if (ans->rcode != t->want || (ans->rcode == MT_DNS_NOERROR && ans->count != t->want_count))
		abort();
	/* now and then a job is aborted on its answer: cancel the next one */
	if (token % 3 == 0 && token < s->n && !s->t[token + 1].delivered) {
		s->t[token + 1].cancelled = true;
		mt_dns_cancel(s->cache, token + 1);
	}
}

/* What the backend answers for (name, type) under the rules. */
static void expected(const mt_dns_zone *z, const mt_dns_test_rule *rules, size_t nrules,
                     const char *name, uint16_t type, mt_dns_rcode *rc, size_t *count)
{
	for (size_t i = 0; i < nrules; i++) {
		const mt_dns_test_rule *r = &rules[i];
		if (r->type && r->type != type)
			continue;
		if (strcmp(r->name, "*") != 0 && strcmp(r->name, name) != 0)
			continue;
		if (r->action == MT_DNS_TEST_DROP) {
			*rc = MT_DNS_TIMEOUT;
			*count = 0;
			return;
		}
		if (r->action == MT_DNS_TEST_FAIL) {
			*rc = r->rcode;
			*count = 0;
			return;
		}
		break;
	}
	mt_dns_answer *a = NULL;
	if (mt_dns_zone_query(z, name, type, &a) != MT_OK || !a)
		abort();
	*rc = a->rcode;
	*count = a->count;
	mt_dns_answer_free(a);
}

static void part1(input *in, mt_dns_zone *z, mt_dns_resolver *zr, const mt_dns_test_rule *rules,
                  size_t nrules, unsigned flags)
{
	mt_dns_resolver *t = NULL;
	mt_dns_cache_options o;
	static p1 s;
	uint64_t now = 1000;
	int b;

	memset(&s, 0, sizeof s);
	if (mt_dns_test_resolver_new(zr, rules, nrules, flags, 500, &t, NULL) != MT_OK)
		return;
	mt_dns_cache_options_init(&o);
	o.max_ttl_s = 30;
	o.negative_default_s = 5;
	if (mt_dns_cache_resolver_new(t, &o, &s.cache, NULL) != MT_OK) {
		mt_dns_resolver_free(t);
		return;
	}
	for (int step = 0; step < 64 && (b = next(in)) >= 0 && b != 0xFF; step++) {
		switch (b & 3) {
		case 0: /* submit */
		case 1:
			if (s.n < MAX_TOKENS) {
				tok *k = &s.t[++s.n];
				k->name = (uint8_t)(1 + (b >> 2) % (NNAMES - 1));
				k->type = (uint8_t)(1 + (b >> 5) % 3);
				expected(z, rules, nrules, names[k->name], types[k->type], &k->want,
				         &k->want_count);
				if (mt_dns_submit(s.cache, names[k->name], types[k->type], s.n, now) != MT_OK)
					abort();
			}
			break;
		case 2: /* cancel one not yet answered */
			if (s.n) {
				size_t i = 1 + (size_t)(b >> 2) % s.n;
				if (!s.t[i].delivered && !s.t[i].cancelled) {
					s.t[i].cancelled = true;
					mt_dns_cancel(s.cache, i);
				}
			}
			break;
		case 3: /* time passes; what is due is delivered */
			now += (uint64_t)(b >> 2) * 250;
			if (mt_dns_process(s.cache, now, on_answer, &s) != MT_OK)
				abort();
			break;
		}
	}
	/* long after every delay and the backend's timeout: all answered */
	for (int i = 0; i < 3; i++) {
		now += 100000;
		if (mt_dns_process(s.cache, now, on_answer, &s) != MT_OK)
			abort();
	}
	if (mt_dns_resolver_next_deadline(s.cache) != UINT64_MAX)
		abort();
	for (size_t i = 1; i <= s.n; i++)
		if (!s.t[i].cancelled && s.t[i].delivered != 1)
			abort();
	mt_dns_cache_stats st;
	if (mt_dns_cache_stats_get(s.cache, &st) != MT_OK || st.hits + st.misses + st.joined != s.n)
		abort();
	mt_dns_resolver_free(s.cache);
	mt_dns_resolver_free(t);
}

/* ---- part 2: SPF checks through the driver, real clock ---- */

#define MAX_CHECKS 4

static mt_spf_check *start(const char *domain, const char *ip)
{
	mt_spf_check *c = NULL;
	char sender[64];
	size_t dl = strlen(domain);
	memcpy(sender, "u@", 2);
	memcpy(sender + 2, domain, dl + 1);
	mt_spf_request rq = {.ip = ip, .sender = sender, .helo = "mta.fz", .now = 1};
	if (mt_spf_check_new(NULL, &c, NULL) != MT_OK)
		return NULL;
	if (mt_spf_check_start(c, &rq, NULL) != MT_OK) {
		mt_spf_check_free(c);
		return NULL;
	}
	return c;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void part2(input *in, mt_dns_resolver *zr, const mt_dns_test_rule *rules, size_t nrules,
                  unsigned flags, bool faulty, bool use_cache)
{
	mt_dns_test_rule fast[MAX_RULES];
	mt_dns_resolver *t = NULL, *c = NULL, *res;
	mt_spf_check *chk[MAX_CHECKS] = {0}, *ref[MAX_CHECKS] = {0};
	unsigned budget[MAX_CHECKS] = {0};
	bool back[MAX_CHECKS] = {0};
	mt_run_options ro;
	mt_run *run = NULL;
	size_t n = 0, added = 0, taken = 0;
	int b1, b2;

	/* delays of at most 1 ms of real time */
	for (size_t i = 0; i < nrules; i++) {
		fast[i] = rules[i];
		fast[i].delay_ms = rules[i].delay_ms % 2;
	}
	if (mt_dns_test_resolver_new(zr, fast, nrules, flags, 1, &t, NULL) != MT_OK)
		return;
	res = t;
	if (use_cache) {
		if (mt_dns_cache_resolver_new(t, NULL, &c, NULL) != MT_OK)
			goto out;
		res = c;
	}
	while (n < MAX_CHECKS && (b1 = next(in)) >= 0 && (b2 = next(in)) >= 0) {
		const char *d = domains[b1 % 4], *ip = ips[(b1 >> 2) % 6];
		chk[n] = start(d, ip);
		ref[n] = start(d, ip);
		if (!chk[n] || !ref[n] || mt_spf_check_run(ref[n], zr) != MT_OK)
			abort();
		budget[n] = (b2 & 0x80) ? 1 + (b2 & 3) : 0;
		n++;
	}
	mt_run_options_init(&ro);
	ro.max_jobs = 2;
	if (n == 0 || mt_run_new(res, &ro, &run, NULL) != MT_OK)
		goto out;
	/* bounded: every job has a budget of at most 20 s, but with these
	 * delays all end within milliseconds; 2000 rounds is far beyond */
	for (int round = 0; round < 2000 && taken < n; round++) {
		void *job, *user;
		while (added < n) {
			mt_status st = mt_run_add(run, mt_spf_check_job_ops(), chk[added], budget[added],
			                          (void *)(added + 1));
			if (st == MT_EAGAIN)
				break;
			if (st != MT_OK)
				abort();
			added++;
		}
		if (mt_run_wait(run, 5) != MT_OK)
			abort();
		while (mt_run_next(run, &job, &user)) {
			size_t i = (size_t)user - 1;
			if (i >= n || back[i] || job != chk[i] || !mt_spf_check_outcome(chk[i]))
				abort();
			back[i] = true;
			taken++;
		}
	}
	if (taken != n || mt_run_jobs(run) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		const mt_spf_outcome *a = mt_spf_check_outcome(chk[i]), *r = mt_spf_check_outcome(ref[i]);
		if (faulty || budget[i])
			continue;
		if (a->result != r->result || !same(a->mechanism, r->mechanism) ||
		    !same(a->problem, r->problem) || a->trace_count != r->trace_count)
			abort();
	}
out:
	mt_run_free(run);
	for (size_t i = 0; i < n; i++) {
		mt_spf_check_free(chk[i]);
		mt_spf_check_free(ref[i]);
	}
	mt_dns_resolver_free(c);
	mt_dns_resolver_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mt_dns_zone *z;
	static mt_dns_resolver *zr;
	mt_dns_test_rule rules[MAX_RULES];
	input in = {data, size, 0};
	unsigned flags;
	size_t nrules;
	bool faulty = false;
	int b;

	if (!z) {
		z = mt_dns_zone_new();
		if (!z || mt_dns_zone_load_text(z, zone_text, strlen(zone_text), NULL, "fz", NULL) != MT_OK)
			abort();
		zr = mt_dns_zone_resolver_new(z);
		if (!zr)
			abort();
	}
	if ((b = next(&in)) < 0)
		return 0;
	flags = (unsigned)b & (MT_DNS_TEST_REVERSE | MT_DNS_TEST_IGNORE_CANCEL);
	if ((b = next(&in)) < 0)
		return 0;
	nrules = (size_t)b % (MAX_RULES + 1);
	for (size_t i = 0; i < nrules; i++) {
		int n = next(&in), k = next(&in), d = next(&in);
		if (n < 0 || k < 0 || d < 0)
			return 0;
		rules[i] = (mt_dns_test_rule){
			.name = names[n % NNAMES],
			.type = types[k % 4],
			.action = (mt_dns_test_action)((k >> 2) % 4),
			.delay_ms = (unsigned)(d & 0x0F) * 37,
			.rcode = rcodes[(d >> 4) % 6],
		};
		if (rules[i].action == MT_DNS_TEST_DROP || rules[i].action == MT_DNS_TEST_FAIL)
			faulty = true;
	}
	part1(&in, z, zr, rules, nrules, flags);
	size_t checks_at = in.off;
	part2(&in, zr, rules, nrules, flags, faulty, false);
	in.off = checks_at;
	part2(&in, zr, rules, nrules, flags, faulty, true);
	return 0;
}
