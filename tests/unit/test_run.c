/* The job driver (run.h) over the test backend: answers out of order,
 * late, twice or never, jobs that time out while others finish, completion
 * order, back-pressure, the event-loop hooks, and a job that is not SPF.
 * Expected results come from the zone below and RFC 7208, not from the
 * program's output; where a whole set is compared, the reference is the
 * blocking mt_spf_check_run() over the plain zone, itself checked against
 * reasoned values. */
#include "mt_test.h"
#include <mailtrust/run.h>
#include <mailtrust/spf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char zone_text[] =
	"$TTL 300\n"
	"quick.example.      TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
	"slow.example.       TXT \"v=spf1 a:slowhost.example -all\"\n"
	"slowhost.example.   A   192.0.2.5\n"
	"drop.example.       TXT \"v=spf1 a:dead.example ~all\"\n"
	"dead.example.       A   192.0.2.6\n"
	"late.example.       TXT \"v=spf1 a:bhost.example -all\"\n"
	"bhost.example.      A   192.0.2.7\n"
	"mx10.example.       TXT \"v=spf1 mx -all\"\n"
	"mx10.example.       MX  10 m1.mx10.example.\n"
	"mx10.example.       MX  20 m2.mx10.example.\n"
	"mx10.example.       MX  30 m3.mx10.example.\n"
	"mx10.example.       MX  40 m4.mx10.example.\n"
	"mx10.example.       MX  50 m5.mx10.example.\n"
	"mx10.example.       MX  60 m6.mx10.example.\n"
	"mx10.example.       MX  70 m7.mx10.example.\n"
	"mx10.example.       MX  80 m8.mx10.example.\n"
	"mx10.example.       MX  90 m9.mx10.example.\n"
	"mx10.example.       MX  95 m10.mx10.example.\n"
	"m1.mx10.example.    A   203.0.113.1\n"
	"m2.mx10.example.    A   203.0.113.2\n"
	"m3.mx10.example.    A   203.0.113.3\n"
	"m4.mx10.example.    A   203.0.113.4\n"
	"m5.mx10.example.    A   203.0.113.5\n"
	"m6.mx10.example.    A   203.0.113.6\n"
	"m7.mx10.example.    A   203.0.113.7\n"
	"m8.mx10.example.    A   203.0.113.8\n"
	"m9.mx10.example.    A   203.0.113.9\n"
	"m10.mx10.example.   A   203.0.113.10\n"
	"inc.example.        TXT \"v=spf1 include:quick.example include:mx10.example ?all\"\n"
	"redir.example.      TXT \"v=spf1 redirect=quick.example\"\n"
	"none.example.       A   192.0.2.9\n"
	"perm.example.       TXT \"v=spf1 foo:bar -all\"\n"
	"exists.example.     TXT \"v=spf1 exists:%{i}.list.example ~all\"\n"
	"192.0.2.1.list.example. A 127.0.0.2\n"
	"servfail.example.   TXT \"v=spf1 a:broken.example -all\"\n"
	"$FAULT broken.example. SERVFAIL\n";

static mt_dns_zone *zone;
static mt_dns_resolver *zres; /* the plain zone */

static uint64_t ms(void)
{
	return mt_dns_now_ms();
}

static mt_spf_check *new_check(const char *domain, const char *ip, unsigned timeout_ms)
{
	mt_spf_check *c = NULL;
	mt_spf_options o;
	mt_error err;
	char sender[300];
	snprintf(sender, sizeof sender, "postmaster@%s", domain);
	mt_spf_request rq = {.ip = ip, .sender = sender, .helo = "mta.example", .now = 1};
	mt_spf_options_init(&o);
	if (timeout_ms)
		o.timeout_ms = timeout_ms;
	if (mt_spf_check_new(&o, &c, NULL) != MT_OK)
		return NULL;
	if (mt_spf_check_start(c, &rq, &err) != MT_OK) {
		mt_spf_check_free(c);
		return NULL;
	}
	return c;
}

static mt_dns_resolver *new_testres(const mt_dns_test_rule *rules, size_t n, unsigned flags,
                                    unsigned timeout_ms)
{
	mt_dns_resolver *t = NULL;
	mt_error err;
	CHECK_INT(mt_dns_test_resolver_new(zres, rules, n, flags, timeout_ms, &t, &err), MT_OK);
	return t;
}

static mt_run *new_run(mt_dns_resolver *res, unsigned max_jobs)
{
	mt_run_options o;
	mt_run *run = NULL;
	mt_error err;
	mt_run_options_init(&o);
	if (max_jobs)
		o.max_jobs = max_jobs;
	CHECK_INT(mt_run_new(res, &o, &run, &err), MT_OK);
	return run;
}

/* Take every job until none is held; the user values in the order the
 * jobs came out go to order[].  Gives up after limit_ms. */
static size_t drain(mt_run *run, void **order, size_t cap, unsigned limit_ms)
{
	size_t n = 0;
	uint64_t end = ms() + limit_ms;
	while (mt_run_jobs(run) > 0 && ms() < end) {
		void *job, *user;
		if (mt_run_wait(run, 100) != MT_OK)
			break;
		while (mt_run_next(run, &job, &user))
			if (n < cap)
				order[n++] = user;
	}
	CHECK_INT(mt_run_jobs(run), 0);
	return n;
}

static mt_spf_result result_of(const mt_spf_check *c)
{
	const mt_spf_outcome *o = mt_spf_check_outcome(c);
	return o ? o->result : (mt_spf_result)-1;
}

/* ---- the test backend itself ---- */

typedef struct seen {
	uint64_t tokens[32];
	mt_dns_rcode rcodes[32];
	size_t counts[32];
	size_t n;
} seen;

static void record(void *arg, uint64_t token, const mt_dns_answer *ans)
{
	seen *s = arg;
	if (s->n < 32) {
		s->rcodes[s->n] = ans->rcode;
		s->counts[s->n] = ans->count;
		s->tokens[s->n++] = token;
	}
}

static void test_backend(void)
{
	mt_dns_test_rule rules[] = {
		{.name = "Slowhost.Example", .type = MT_DNS_A, .action = MT_DNS_TEST_DELAY, .delay_ms = 50},
		{.name = "dead.example", .action = MT_DNS_TEST_DROP},
		{.name = "bhost.example", .type = MT_DNS_A, .action = MT_DNS_TEST_DUPLICATE, .delay_ms = 10},
		{.name = "*", .type = MT_DNS_MX, .action = MT_DNS_TEST_FAIL, .rcode = MT_DNS_SERVFAIL},
	};
	mt_dns_resolver *t = new_testres(rules, 4, MT_DNS_TEST_REVERSE, 100);
	seen s = {0};
	size_t sub, can;

	/* at 1000: three answers ready at once come newest first (REVERSE) */
	CHECK_INT(mt_dns_submit(t, "quick.example", MT_DNS_TXT, 1, 1000), MT_OK);
	CHECK_INT(mt_dns_submit(t, "none.example", MT_DNS_A, 2, 1000), MT_OK);
	CHECK_INT(mt_dns_submit(t, "nx.example", MT_DNS_A, 3, 1000), MT_OK);
	CHECK_INT(mt_dns_submit(t, "slowhost.example", MT_DNS_A, 4, 1000), MT_OK);
	CHECK_INT(mt_dns_submit(t, "dead.example", MT_DNS_A, 5, 1000), MT_OK);
	CHECK_INT(mt_dns_submit(t, "bhost.example", MT_DNS_A, 6, 1000), MT_OK);
	CHECK_INT(mt_dns_submit(t, "mx10.example", MT_DNS_MX, 7, 1000), MT_OK);
	CHECK_INT(mt_dns_resolver_next_deadline(t), 1000);
	CHECK_INT(mt_dns_resolver_fd(t), -1);
	CHECK_INT(mt_dns_process(t, 1000, record, &s), MT_OK);
	CHECK_INT(s.n, 4);
	CHECK_INT(s.tokens[0], 7);
	CHECK_INT(s.rcodes[0], MT_DNS_SERVFAIL); /* FAIL rule for every MX */
	CHECK_INT(s.tokens[1], 3);
	CHECK_INT(s.rcodes[1], MT_DNS_NXDOMAIN);
	CHECK_INT(s.tokens[2], 2);
	CHECK_INT(s.rcodes[2], MT_DNS_NOERROR);
	CHECK_INT(s.counts[2], 1);
	CHECK_INT(s.tokens[3], 1);
	/* the duplicate answers twice at 1010; the delayed one at 1050 (the
	 * rule's name matched without regard to case) */
	CHECK_INT(mt_dns_resolver_next_deadline(t), 1010);
	s.n = 0;
	CHECK_INT(mt_dns_process(t, 1049, record, &s), MT_OK);
	CHECK_INT(s.n, 2);
	CHECK_INT(s.tokens[0], 6);
	CHECK_INT(s.tokens[1], 6);
	CHECK_INT(s.rcodes[1], MT_DNS_NOERROR);
	CHECK_INT(mt_dns_resolver_next_deadline(t), 1050);
	s.n = 0;
	CHECK_INT(mt_dns_process(t, 1050, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.tokens[0], 4);
	/* the dropped question answers TIMEOUT after the backend's 100 ms */
	s.n = 0;
	CHECK_INT(mt_dns_process(t, 1099, record, &s), MT_OK);
	CHECK_INT(s.n, 0);
	CHECK_INT(mt_dns_process(t, 1100, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.tokens[0], 5);
	CHECK_INT(s.rcodes[0], MT_DNS_TIMEOUT);
	CHECK_INT(mt_dns_resolver_next_deadline(t), UINT64_MAX);
	/* cancel removes an answer that is not delivered yet */
	s.n = 0;
	CHECK_INT(mt_dns_submit(t, "slowhost.example", MT_DNS_A, 8, 2000), MT_OK);
	CHECK_INT(mt_dns_submit(t, "quick.example", MT_DNS_TXT, 9, 2000), MT_OK);
	mt_dns_cancel(t, 8);
	CHECK_INT(mt_dns_process(t, 3000, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.tokens[0], 9);
	mt_dns_test_resolver_counts(t, &sub, &can);
	CHECK_INT(sub, 9);
	CHECK_INT(can, 1);
	/* counts of a resolver that is not a test resolver are zero */
	mt_dns_test_resolver_counts(zres, &sub, &can);
	CHECK_INT(sub, 0);
	CHECK_INT(can, 0);
	mt_dns_resolver_free(t);

	/* IGNORE_CANCEL: cancelled, counted, and answered anyway */
	t = new_testres(NULL, 0, MT_DNS_TEST_IGNORE_CANCEL, 0);
	s.n = 0;
	CHECK_INT(mt_dns_submit(t, "quick.example", MT_DNS_TXT, 1, 0), MT_OK);
	mt_dns_cancel(t, 1);
	CHECK_INT(mt_dns_process(t, 0, record, &s), MT_OK);
	CHECK_INT(s.n, 1);
	mt_dns_test_resolver_counts(t, &sub, &can);
	CHECK_INT(can, 1);
	mt_dns_resolver_free(t);

	/* bad arguments */
	mt_error err;
	CHECK_INT(mt_dns_test_resolver_new(NULL, NULL, 0, 0, 0, &t, &err), MT_EINVAL);
	CHECK_INT(mt_dns_test_resolver_new(zres, NULL, 1, 0, 0, &t, &err), MT_EINVAL);
	CHECK_INT(mt_dns_submit(NULL, "a.example", MT_DNS_A, 1, 0), MT_EINVAL);
	CHECK_INT(mt_dns_process(NULL, 0, record, &s), MT_EINVAL);
}

/*
 * mt_dns_resolve() over a backend that only has the async operations is
 * a loop over them; an answer to a question that was cancelled earlier
 * (IGNORE_CANCEL: it comes anyway) must not be taken for the answer.
 */
static void test_blocking_over_async(void)
{
	mt_dns_test_rule rules[] = {
		{.name = "dead.example", .action = MT_DNS_TEST_DROP},
		{.name = "slowhost.example", .action = MT_DNS_TEST_DELAY, .delay_ms = 20},
	};
	mt_dns_resolver *t = new_testres(rules, 2, MT_DNS_TEST_IGNORE_CANCEL, 0);
	mt_dns_answer *a = NULL;
	uint64_t t0;

	CHECK_INT(mt_dns_resolve(t, "slowhost.example", MT_DNS_A, 0, &a), MT_OK);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1 && a->rr[0].data[3] == 5);
	mt_dns_answer_free(a);
	t0 = ms();
	CHECK_INT(mt_dns_resolve(t, "dead.example", MT_DNS_A, 30, &a), MT_OK);
	CHECK(a && a->rcode == MT_DNS_TIMEOUT);
	CHECK(ms() - t0 >= 30);
	mt_dns_answer_free(a);
	/* an async question, cancelled: its answer still comes (the flag) */
	CHECK_INT(mt_dns_submit(t, "none.example", MT_DNS_A, 77, ms()), MT_OK);
	mt_dns_cancel(t, 77);
	CHECK_INT(mt_dns_resolve(t, "quick.example", MT_DNS_TXT, 0, &a), MT_OK);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1 && a->rr[0].type == MT_DNS_TXT);
	mt_dns_answer_free(a);
	mt_dns_resolver_free(t);
}


/* The generic layer over a blocking-only backend (the zone): submit is
 * answered at once and queued for process(); cancel takes an answer out
 * of the queue wherever it is. */
static void test_emulated(void)
{
	static const mt_dns_resolver_ops none = {0};
	mt_dns_resolver *zr = mt_dns_zone_resolver_new(zone);
	seen s = {0};

	CHECK(mt_dns_resolver_new(NULL, NULL) == NULL);
	CHECK(mt_dns_resolver_new(&none, NULL) == NULL);
	CHECK_INT(mt_dns_resolver_next_deadline(zr), UINT64_MAX);
	CHECK_INT(mt_dns_submit(zr, "quick.example", MT_DNS_TXT, 1, 0), MT_OK);
	CHECK_INT(mt_dns_submit(zr, "nx.example", MT_DNS_A, 2, 0), MT_OK);
	CHECK_INT(mt_dns_resolver_next_deadline(zr), 0);
	CHECK_INT(mt_dns_resolver_fd(zr), -1);
	mt_dns_cancel(zr, 1); /* the first */
	CHECK_INT(mt_dns_submit(zr, "none.example", MT_DNS_A, 3, 0), MT_OK);
	CHECK_INT(mt_dns_submit(zr, "slowhost.example", MT_DNS_A, 4, 0), MT_OK);
	mt_dns_cancel(zr, 4); /* the last: the next one queues behind 3 */
	mt_dns_cancel(zr, 99);
	CHECK_INT(mt_dns_submit(zr, "bad..name", MT_DNS_A, 5, 0), MT_OK);
	CHECK_INT(mt_dns_process(zr, 0, record, &s), MT_OK);
	CHECK_INT(s.n, 3);
	CHECK_INT(s.tokens[0], 2);
	CHECK_INT(s.rcodes[0], MT_DNS_NXDOMAIN);
	CHECK_INT(s.tokens[1], 3);
	CHECK_INT(s.tokens[2], 5);
	CHECK_INT(s.rcodes[2], MT_DNS_FAILURE); /* a malformed name is answered */
	CHECK_INT(mt_dns_resolver_next_deadline(zr), UINT64_MAX);
	CHECK_INT(mt_dns_submit(zr, NULL, MT_DNS_A, 6, 0), MT_EINVAL);
	/* freed with answers queued (ASan: nothing leaks) */
	CHECK_INT(mt_dns_submit(zr, "quick.example", MT_DNS_TXT, 7, 0), MT_OK);
	mt_dns_resolver_free(zr);
	mt_dns_cancel(NULL, 1);
	CHECK_INT(mt_dns_resolver_next_deadline(NULL), UINT64_MAX);
	CHECK_INT(mt_dns_resolver_fd(NULL), -1);
}

/*
 * Late answers (IGNORE_CANCEL) to a job that timed out, arriving while it
 * is finished and not taken, and after it was taken (its slot free): both
 * dropped.
 */
static void test_stale_answers(void)
{
	mt_dns_test_rule rules[] = {{.name = "dead.example", .action = MT_DNS_TEST_DROP}};
	mt_dns_resolver *t = new_testres(rules, 1, MT_DNS_TEST_IGNORE_CANCEL, 60);
	mt_run *run = new_run(t, 4);
	mt_spf_check *a = new_check("drop.example", "192.0.2.6", 0);
	mt_spf_check *b = new_check("drop.example", "192.0.2.6", 0);
	struct timespec nap = {0, 80 * 1000000L};
	void *job;

	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), a, 20, NULL), MT_OK);
	CHECK_INT(mt_run_wait(run, 1000), MT_OK);
	CHECK_INT(mt_run_running(run), 0);
	nanosleep(&nap, NULL);
	CHECK_INT(mt_run_process(run), MT_OK); /* a's answer: a is done, not taken */
	CHECK(mt_run_next(run, &job, NULL) && job == a);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), b, 20, NULL), MT_OK);
	CHECK_INT(mt_run_wait(run, 1000), MT_OK);
	CHECK(mt_run_next(run, &job, NULL) && job == b);
	nanosleep(&nap, NULL);
	CHECK_INT(mt_run_process(run), MT_OK); /* b's answer: its slot is free */
	CHECK_INT(mt_run_jobs(run), 0);
	CHECK(!mt_run_next(run, NULL, NULL));
	CHECK_INT(mt_dns_resolver_next_deadline(t), UINT64_MAX); /* both came */
	CHECK_INT(result_of(a), MT_SPF_TEMPERROR);
	CHECK_INT(result_of(b), MT_SPF_TEMPERROR);
	mt_spf_check_free(a);
	mt_spf_check_free(b);
	mt_run_free(run);
	mt_dns_resolver_free(t);
}

/* ---- the driver with SPF checks ---- */

typedef struct expect {
	const char *domain, *ip;
	mt_spf_result result;
} expect;

/* Expected by RFC 7208 from zone_text (MX hosts 203.0.113.1-10). */
static const expect cases[] = {
	{"quick.example", "192.0.2.1", MT_SPF_PASS},
	{"quick.example", "198.51.100.1", MT_SPF_FAIL},
	{"slow.example", "192.0.2.5", MT_SPF_PASS},
	{"slow.example", "192.0.2.1", MT_SPF_FAIL},
	{"drop.example", "192.0.2.6", MT_SPF_PASS},
	{"drop.example", "192.0.2.1", MT_SPF_SOFTFAIL},
	{"late.example", "192.0.2.7", MT_SPF_PASS},
	{"mx10.example", "203.0.113.10", MT_SPF_PASS},
	{"mx10.example", "203.0.113.1", MT_SPF_PASS},
	{"mx10.example", "203.0.113.11", MT_SPF_FAIL},
	{"inc.example", "203.0.113.3", MT_SPF_PASS},
	{"inc.example", "192.0.2.200", MT_SPF_PASS},
	{"inc.example", "198.51.100.1", MT_SPF_NEUTRAL},
	{"redir.example", "192.0.2.1", MT_SPF_PASS},
	{"redir.example", "198.51.100.1", MT_SPF_FAIL},
	{"none.example", "192.0.2.9", MT_SPF_NONE},
	{"nx.example", "192.0.2.9", MT_SPF_NONE},
	{"perm.example", "192.0.2.1", MT_SPF_PERMERROR},
	{"exists.example", "192.0.2.1", MT_SPF_PASS},
	{"exists.example", "192.0.2.2", MT_SPF_SOFTFAIL},
	{"servfail.example", "192.0.2.1", MT_SPF_TEMPERROR},
};
#define NCASES (sizeof cases / sizeof cases[0])

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Do two finished checks agree on what they found? */
static bool same_outcome(const mt_spf_check *x, const mt_spf_check *y)
{
	const mt_spf_outcome *a = mt_spf_check_outcome(x), *b = mt_spf_check_outcome(y);
	return a && b && a->result == b->result && same_str(a->mechanism, b->mechanism) &&
	       same_str(a->mechanism_domain, b->mechanism_domain) &&
	       same_str(a->problem, b->problem) && same_str(a->explanation, b->explanation) &&
	       a->dns_mechanisms == b->dns_mechanisms && a->void_lookups == b->void_lookups &&
	       a->trace_count == b->trace_count;
}

/*
 * The set of cases through the driver over a misbehaving backend must find
 * what the blocking run over the plain zone finds.  max_jobs below the
 * number of checks: added as slots free up (back-pressure).
 */
static void run_cases(mt_dns_resolver *res, unsigned max_jobs, const char *what)
{
	mt_spf_check *ref[NCASES], *got[NCASES];
	mt_run *run = new_run(res, max_jobs);
	size_t next = 0, taken = 0;
	uint64_t end = ms() + 5000;

	for (size_t i = 0; i < NCASES; i++) {
		ref[i] = new_check(cases[i].domain, cases[i].ip, 0);
		got[i] = new_check(cases[i].domain, cases[i].ip, 0);
		CHECK(ref[i] && got[i]);
		CHECK_INT(mt_spf_check_run(ref[i], zres), MT_OK);
		if (result_of(ref[i]) != cases[i].result)
			fprintf(stderr, "reference %s %s: %s\n", cases[i].domain, cases[i].ip,
			        mt_spf_result_name(result_of(ref[i])));
		CHECK_INT(result_of(ref[i]), cases[i].result);
	}
	while (taken < NCASES && ms() < end) {
		void *job, *user;
		while (next < NCASES) {
			mt_status st = mt_run_add(run, mt_spf_check_job_ops(), got[next], 0, (void *)(next + 1));
			if (st == MT_EAGAIN)
				break;
			CHECK_INT(st, MT_OK);
			next++;
		}
		CHECK_INT(mt_run_wait(run, 100), MT_OK);
		while (mt_run_next(run, &job, &user)) {
			size_t i = (size_t)user - 1;
			CHECK(job == got[i]);
			taken++;
		}
	}
	CHECK_INT(taken, NCASES);
	for (size_t i = 0; i < NCASES; i++) {
		if (!same_outcome(ref[i], got[i]))
			fprintf(stderr, "%s: %s %s differs: %s\n", what, cases[i].domain, cases[i].ip,
			        mt_spf_result_name(result_of(got[i])));
		CHECK(same_outcome(ref[i], got[i]));
		mt_spf_check_free(ref[i]);
		mt_spf_check_free(got[i]);
	}
	mt_run_free(run);
}

static void test_equal_to_blocking(void)
{
	mt_dns_test_rule rules[] = {
		{.name = "slowhost.example", .action = MT_DNS_TEST_DELAY, .delay_ms = 3},
		{.name = "m5.mx10.example", .action = MT_DNS_TEST_DELAY, .delay_ms = 2},
		{.name = "quick.example", .action = MT_DNS_TEST_DUPLICATE, .delay_ms = 1},
	};
	mt_dns_resolver *t;

	/* over the plain zone (a blocking-only backend: submit is emulated) */
	run_cases(zres, 0, "zone");
	run_cases(zres, 3, "zone, 3 at once");
	/* answers out of order */
	t = new_testres(NULL, 0, MT_DNS_TEST_REVERSE, 0);
	run_cases(t, 0, "reverse");
	mt_dns_resolver_free(t);
	/* out of order, late, twice, and cancelled answers that come anyway */
	t = new_testres(rules, 3, MT_DNS_TEST_REVERSE | MT_DNS_TEST_IGNORE_CANCEL, 0);
	run_cases(t, 4, "delays, reverse, duplicates");
	mt_dns_resolver_free(t);
}

/* Every answer delivered twice: ignored the second time; no question asked
 * twice (the questions asked equal the trace entries of the checks). */
static void test_duplicates(void)
{
	mt_dns_test_rule rules[] = {{.name = "*", .action = MT_DNS_TEST_DUPLICATE}};
	mt_dns_resolver *t = new_testres(rules, 1, 0, 0);
	mt_run *run = new_run(t, 0);
	mt_spf_check *c[NCASES];
	void *order[NCASES];
	size_t traces = 0, sub = 0, can = 0;

	for (size_t i = 0; i < NCASES; i++) {
		c[i] = new_check(cases[i].domain, cases[i].ip, 0);
		CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c[i], 0, c[i]), MT_OK);
	}
	CHECK_INT(drain(run, order, NCASES, 5000), NCASES);
	for (size_t i = 0; i < NCASES; i++) {
		CHECK_INT(result_of(c[i]), cases[i].result);
		traces += mt_spf_check_outcome(c[i])->trace_count;
		mt_spf_check_free(c[i]);
	}
	mt_dns_test_resolver_counts(t, &sub, &can);
	CHECK_INT(sub, traces);
	CHECK_INT(can, 0);
	mt_run_free(run);
	mt_dns_resolver_free(t);
}

/* All the A questions of an mx mechanism are asked in one go: ten MX hosts,
 * one round trip. */
static void test_mx_batch(void)
{
	mt_dns_test_rule rules[] = {
		{.name = "*", .type = MT_DNS_A, .action = MT_DNS_TEST_DELAY, .delay_ms = 400},
	};
	mt_dns_resolver *t = new_testres(rules, 1, MT_DNS_TEST_REVERSE, 0);
	mt_run *run = new_run(t, 0);
	mt_spf_check *c = new_check("mx10.example", "203.0.113.10", 0);
	size_t sub = 0;
	void *order[1];
	uint64_t t0 = ms();

	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c, 0, NULL), MT_OK);
	/* the TXT and MX answers come at once; the A answers after 400 ms */
	CHECK_INT(mt_run_wait(run, 100), MT_OK);
	mt_dns_test_resolver_counts(t, &sub, NULL);
	CHECK_INT(sub, 12); /* TXT, MX, then ten A at once */
	CHECK_INT(mt_run_running(run), 1);
	CHECK_INT(drain(run, order, 1, 3000), 1);
	/* one round trip of 400 ms, not ten */
	CHECK(ms() - t0 >= 400 && ms() - t0 < 1500);
	CHECK_INT(result_of(c), MT_SPF_PASS);
	mt_dns_test_resolver_counts(t, &sub, NULL);
	CHECK_INT(sub, 12);
	mt_spf_check_free(c);
	mt_run_free(run);
	mt_dns_resolver_free(t);
}

/* A job whose answer never comes times out on its own budget while the
 * others finish with correct results; its question is cancelled. */
static void test_timeout(void)
{
	mt_dns_test_rule rules[] = {{.name = "dead.example", .action = MT_DNS_TEST_DROP}};
	mt_dns_resolver *t = new_testres(rules, 1, 0, 5000);
	mt_run *run = new_run(t, 0);
	mt_spf_check *drop = new_check("drop.example", "192.0.2.6", 0);
	mt_spf_check *q1 = new_check("quick.example", "192.0.2.1", 0);
	mt_spf_check *q2 = new_check("mx10.example", "203.0.113.11", 0);
	mt_spf_check *q3 = new_check("inc.example", "198.51.100.1", 0);
	void *order[4];
	size_t can = 0;
	uint64_t t0 = ms();

	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), drop, 60, drop), MT_OK);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), q1, 0, q1), MT_OK);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), q2, 0, q2), MT_OK);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), q3, 0, q3), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 4);
	CHECK(order[3] == drop);
	CHECK(ms() - t0 >= 60 && ms() - t0 < 2000);
	CHECK_INT(result_of(drop), MT_SPF_TEMPERROR);
	const mt_spf_outcome *o = mt_spf_check_outcome(drop);
	CHECK(o && o->problem && strstr(o->problem, "60 ms"));
	CHECK_INT(result_of(q1), MT_SPF_PASS);
	CHECK_INT(result_of(q2), MT_SPF_FAIL);
	CHECK_INT(result_of(q3), MT_SPF_NEUTRAL);
	mt_dns_test_resolver_counts(t, NULL, &can);
	CHECK_INT(can, 1); /* the dead.example question */
	mt_run_free(run);
	mt_dns_resolver_free(t);
	mt_spf_check_free(drop);
	mt_spf_check_free(q1);
	mt_spf_check_free(q2);
	mt_spf_check_free(q3);

	/* the check's own budget (opts.timeout_ms) when mt_run_add says 0 */
	t = new_testres(rules, 1, 0, 5000);
	run = new_run(t, 0);
	drop = new_check("drop.example", "192.0.2.6", 40);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), drop, 0, NULL), MT_OK);
	CHECK_INT(drain(run, order, 1, 3000), 1);
	o = mt_spf_check_outcome(drop);
	CHECK(o && o->result == MT_SPF_TEMPERROR && o->problem && strstr(o->problem, "40 ms"));
	mt_spf_check_free(drop);
	mt_run_free(run);
	mt_dns_resolver_free(t);

	/* the blocking mt_spf_check_run() is the same loop */
	t = new_testres(rules, 1, 0, 5000);
	drop = new_check("drop.example", "192.0.2.6", 40);
	t0 = ms();
	CHECK_INT(mt_spf_check_run(drop, t), MT_OK);
	CHECK_INT(result_of(drop), MT_SPF_TEMPERROR);
	CHECK(ms() - t0 >= 40 && ms() - t0 < 2000);
	mt_spf_check_free(drop);
	/* the backend's own timeout answer comes before the budget runs out */
	mt_dns_resolver_free(t);
	t = new_testres(rules, 1, 0, 30);
	drop = new_check("drop.example", "192.0.2.6", 5000);
	CHECK_INT(mt_spf_check_run(drop, t), MT_OK);
	o = mt_spf_check_outcome(drop);
	CHECK(o && o->result == MT_SPF_TEMPERROR && o->trace_count == 2 &&
	      o->trace[1].rcode == MT_DNS_TIMEOUT);
	mt_spf_check_free(drop);
	mt_dns_resolver_free(t);
}

/*
 * A job times out; its slot is reused by the next job; the answer to the
 * cancelled question still comes (IGNORE_CANCEL) while the new job waits
 * for its own answer to the question with the same id.  The late answer
 * must be dropped, not fed to the new job.
 */
static void test_late_answer(void)
{
	mt_dns_test_rule rules[] = {
		{.name = "dead.example", .action = MT_DNS_TEST_DROP},
		{.name = "bhost.example", .type = MT_DNS_A, .action = MT_DNS_TEST_DELAY, .delay_ms = 400},
	};
	/* dead.example answers TIMEOUT 200 ms after it was asked */
	mt_dns_resolver *t = new_testres(rules, 2, MT_DNS_TEST_IGNORE_CANCEL, 200);
	mt_run *run = new_run(t, 1);
	mt_spf_check *a = new_check("drop.example", "192.0.2.6", 0);
	mt_spf_check *b = new_check("late.example", "192.0.2.7", 0);
	void *order[1];
	size_t can = 0;
	uint64_t t0 = ms();

	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), a, 20, NULL), MT_OK);
	CHECK_INT(drain(run, order, 1, 3000), 1);
	CHECK_INT(result_of(a), MT_SPF_TEMPERROR);
	CHECK(ms() - t0 < 200); /* before the late answer */
	mt_dns_test_resolver_counts(t, NULL, &can);
	CHECK_INT(can, 1);
	/* same slot (max_jobs 1); its A question has the same id as a's */
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), b, 0, NULL), MT_OK);
	CHECK_INT(drain(run, order, 1, 3000), 1);
	CHECK(ms() - t0 >= 400); /* after it */
	CHECK_INT(result_of(b), MT_SPF_PASS);
	const mt_spf_outcome *o = mt_spf_check_outcome(b);
	CHECK(o && o->trace_count == 2 && o->trace[1].rcode == MT_DNS_NOERROR);
	mt_spf_check_free(a);
	mt_spf_check_free(b);
	mt_run_free(run);
	mt_dns_resolver_free(t);
}

/* Results in completion order: a delayed job comes out after quick ones
 * added after it. */
static void test_completion_order(void)
{
	mt_dns_test_rule rules[] = {
		{.name = "slowhost.example", .action = MT_DNS_TEST_DELAY, .delay_ms = 60},
	};
	mt_dns_resolver *t = new_testres(rules, 1, 0, 0);
	mt_run *run = new_run(t, 0);
	mt_spf_check *slow = new_check("slow.example", "192.0.2.5", 0);
	mt_spf_check *q1 = new_check("quick.example", "192.0.2.1", 0);
	mt_spf_check *q2 = new_check("redir.example", "198.51.100.1", 0);
	void *order[3] = {0};

	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), slow, 0, slow), MT_OK);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), q1, 0, q1), MT_OK);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), q2, 0, q2), MT_OK);
	CHECK_INT(drain(run, order, 3, 3000), 3);
	CHECK(order[0] == q1 || order[0] == q2);
	CHECK(order[1] == q1 || order[1] == q2);
	CHECK(order[2] == slow);
	CHECK_INT(result_of(slow), MT_SPF_PASS);
	CHECK_INT(result_of(q1), MT_SPF_PASS);
	CHECK_INT(result_of(q2), MT_SPF_FAIL);
	mt_spf_check_free(slow);
	mt_spf_check_free(q1);
	mt_spf_check_free(q2);
	mt_run_free(run);
	mt_dns_resolver_free(t);
}

/*
 * One mt_run_process() does all that can be done now: answers that are
 * ready at once (the test backend's undelayed ones, due "now" rather than
 * at time 0) are taken in the same call, so a check whose answers are all
 * ready finishes in it.
 */
static void test_process_all_ready(void)
{
	mt_dns_resolver *t = new_testres(NULL, 0, 0, 0);
	mt_run *run = new_run(t, 0);
	mt_spf_check *c = new_check("mx10.example", "203.0.113.10", 0);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c, 0, NULL), MT_OK);
	CHECK_INT(mt_run_process(run), MT_OK);
	CHECK(mt_run_next(run, NULL, NULL));
	CHECK_INT(result_of(c), MT_SPF_PASS);
	mt_spf_check_free(c);
	mt_run_free(run);
	mt_dns_resolver_free(t);
}

/* max_jobs counts running jobs and finished ones not yet taken. */
static void test_backpressure(void)
{
	mt_run *run = new_run(zres, 2);
	mt_spf_check *c[3];
	void *job, *user;
	for (int i = 0; i < 3; i++)
		c[i] = new_check("quick.example", "192.0.2.1", 0);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c[0], 0, NULL), MT_OK);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c[1], 0, NULL), MT_OK);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c[2], 0, NULL), MT_EAGAIN);
	CHECK_INT(mt_run_jobs(run), 2);
	CHECK_INT(mt_run_running(run), 2);
	for (int i = 0; i < 10 && mt_run_running(run) > 0; i++)
		CHECK_INT(mt_run_wait(run, 100), MT_OK);
	CHECK_INT(mt_run_running(run), 0);
	CHECK_INT(mt_run_jobs(run), 2);
	/* finished but not taken: still full */
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c[2], 0, NULL), MT_EAGAIN);
	CHECK(mt_run_next(run, &job, &user));
	CHECK(job == c[0] || job == c[1]);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c[2], 0, NULL), MT_OK);
	CHECK(mt_run_next(run, &job, &user));
	for (int i = 0; i < 10 && mt_run_jobs(run) > 0; i++) {
		CHECK_INT(mt_run_wait(run, 100), MT_OK);
		while (mt_run_next(run, NULL, NULL))
			;
	}
	CHECK_INT(mt_run_jobs(run), 0);
	CHECK(!mt_run_next(run, &job, &user));
	for (int i = 0; i < 3; i++) {
		CHECK_INT(result_of(c[i]), MT_SPF_PASS);
		mt_spf_check_free(c[i]);
	}
	mt_run_free(run);
}

/* What an event loop reads: the descriptor and the time to the next
 * deadline. */
static void test_loop_hooks(void)
{
	mt_dns_test_rule rules[] = {
		{.name = "slowhost.example", .action = MT_DNS_TEST_DELAY, .delay_ms = 300},
		{.name = "dead.example", .action = MT_DNS_TEST_DROP},
	};
	mt_dns_resolver *t = new_testres(rules, 2, 0, 5000);
	mt_run *run = new_run(t, 0);
	mt_spf_check *slow = new_check("slow.example", "192.0.2.5", 0);
	mt_spf_check *drop = new_check("drop.example", "192.0.2.6", 0);
	void *order[2];
	int tmo;

	/* nothing held: nothing to wait for, and wait returns at once */
	CHECK_INT(mt_run_timeout(run), -1);
	CHECK_INT(mt_run_fd(run), -1); /* the test backend has no descriptor */
	CHECK_INT(mt_run_wait(run, -1), MT_OK);
	CHECK_INT(mt_run_process(run), MT_OK);
	CHECK(!mt_run_next(run, NULL, NULL));
	/* an added job has to be stepped now */
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), slow, 0, NULL), MT_OK);
	CHECK_INT(mt_run_timeout(run), 0);
	CHECK_INT(mt_run_process(run), MT_OK);
	CHECK_INT(mt_run_process(run), MT_OK);
	/* now waiting for the delayed answer: at most 300 ms away */
	tmo = mt_run_timeout(run);
	CHECK(tmo > 100 && tmo <= 300);
	/* a job with a 150 ms budget waiting for a dropped answer: the
	 * budget is the nearer deadline */
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), drop, 150, NULL), MT_OK);
	CHECK_INT(mt_run_process(run), MT_OK);
	CHECK_INT(mt_run_process(run), MT_OK);
	tmo = mt_run_timeout(run);
	CHECK(tmo > 50 && tmo <= 150);
	CHECK_INT(mt_run_running(run), 2);
	CHECK_INT(drain(run, order, 2, 3000), 2);
	CHECK(order[0] == NULL && order[1] == NULL);
	CHECK_INT(result_of(drop), MT_SPF_TEMPERROR);
	CHECK_INT(result_of(slow), MT_SPF_PASS);
	CHECK_INT(mt_run_timeout(run), -1);
	mt_spf_check_free(slow);
	mt_spf_check_free(drop);
	mt_run_free(run);
	mt_dns_resolver_free(t);

	/* libunbound has a descriptor, and the driver hands it out (through
	 * a cache too).  Nothing is asked: no traffic. */
	mt_dns_unbound_options uo;
	mt_dns_resolver *ub = NULL, *cache = NULL;
	mt_error err;
	mt_dns_unbound_options_init(&uo);
	uo.forwarder = "127.0.0.1@9";
	if (mt_dns_unbound_resolver_new(&uo, &ub, &err) == MT_OK) {
		CHECK_INT(mt_dns_cache_resolver_new(ub, NULL, &cache, &err), MT_OK);
		run = new_run(cache, 0);
		CHECK(mt_run_fd(run) >= 0);
		CHECK_INT(mt_run_fd(run), mt_dns_resolver_fd(ub));
		CHECK_INT(mt_run_timeout(run), -1);
		mt_run_free(run);
		mt_dns_resolver_free(cache);
		mt_dns_resolver_free(ub);
	}
	/* NULL driver */
	CHECK_INT(mt_run_fd(NULL), -1);
	CHECK_INT(mt_run_timeout(NULL), -1);
	CHECK_INT(mt_run_jobs(NULL), 0);
	CHECK_INT(mt_run_running(NULL), 0);
	CHECK_INT(mt_run_process(NULL), MT_EINVAL);
	CHECK_INT(mt_run_wait(NULL, 0), MT_EINVAL);
	CHECK(!mt_run_next(NULL, NULL, NULL));
	mt_run_free(NULL);
}

/* Freeing a driver with jobs in flight cancels their questions. */
static void test_free_in_flight(void)
{
	mt_dns_test_rule rules[] = {{.name = "*", .type = MT_DNS_A, .action = MT_DNS_TEST_DROP}};
	mt_dns_resolver *t = new_testres(rules, 1, 0, 5000);
	mt_run *run = new_run(t, 0);
	mt_spf_check *c = new_check("mx10.example", "203.0.113.10", 0);
	size_t sub = 0, can = 0;
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c, 0, NULL), MT_OK);
	CHECK_INT(mt_run_wait(run, 50), MT_OK);
	CHECK_INT(mt_run_running(run), 1);
	mt_run_free(run);
	mt_dns_test_resolver_counts(t, &sub, &can);
	CHECK_INT(sub, 12);
	CHECK_INT(can, 10);
	mt_spf_check_free(c);
	mt_dns_resolver_free(t);
}

/* ---- a job that is not SPF: the driver knows nothing about SPF ---- */

typedef struct gjob {
	const char *names[4];
	size_t n;
	mt_dns_question q[4];
	bool answered[4];
	size_t records;       /* A records seen in all answers */
	int fail_step;        /* step fails this many times */
	bool fail_answer;     /* answer() fails */
	unsigned budget;      /* its own time budget (0: none) */
	char why[200];        /* abort() reason */
	bool aborted;
	bool ignore_abort;    /* broken: asks on after abort() */
	int steps;
} gjob;

static mt_status g_step(void *job, const mt_dns_question **qs, size_t *n)
{
	gjob *g = job;
	size_t k = 0;
	g->steps++;
	*n = 0;
	if (g->fail_step > 0) {
		g->fail_step--;
		return MT_ENOMEM;
	}
	if (g->aborted && !g->ignore_abort)
		return MT_OK;
	for (size_t i = 0; i < g->n; i++)
		if (!g->answered[i])
			g->q[k++] = (mt_dns_question){.id = (uint32_t)(100 + i), .name = g->names[i],
			                              .type = MT_DNS_A};
	*qs = g->q;
	*n = k;
	return MT_OK;
}

static mt_status g_answer(void *job, uint32_t id, const mt_dns_answer *ans)
{
	gjob *g = job;
	if (id < 100 || id - 100 >= g->n || g->answered[id - 100])
		return MT_ENOTFOUND;
	if (g->fail_answer)
		return MT_ESTATE;
	g->answered[id - 100] = true;
	g->records += ans->count;
	return MT_OK;
}

static void g_abort(void *job, const char *reason)
{
	gjob *g = job;
	g->aborted = true;
	snprintf(g->why, sizeof g->why, "%s", reason);
}

static unsigned g_timeout(void *job)
{
	return ((gjob *)job)->budget;
}

static const mt_run_job_ops g_ops = {
	.step = g_step, .answer = g_answer, .abort = g_abort, .timeout_ms = g_timeout,
};

static void test_generic_job(void)
{
	mt_dns_test_rule rules[] = {
		{.name = "m2.mx10.example", .action = MT_DNS_TEST_DELAY, .delay_ms = 30},
		{.name = "dead.example", .action = MT_DNS_TEST_DROP},
	};
	mt_dns_resolver *t = new_testres(rules, 2, MT_DNS_TEST_REVERSE, 5000);
	mt_run *run = new_run(t, 0);
	void *order[4];
	size_t sub = 0, can = 0;

	/* three names at once (one does not exist), one answer late */
	gjob g = {.names = {"m1.mx10.example", "m2.mx10.example", "nx.example"}, .n = 3};
	CHECK_INT(mt_run_add(run, &g_ops, &g, 0, &g), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 1);
	CHECK(order[0] == &g);
	CHECK(!g.aborted);
	CHECK_INT(g.records, 2);
	CHECK(g.answered[0] && g.answered[1] && g.answered[2]);
	mt_dns_test_resolver_counts(t, &sub, &can);
	CHECK_INT(sub, 3);

	/* its own budget (timeout_ms op) when mt_run_add says 0 */
	gjob d = {.names = {"dead.example", "m1.mx10.example"}, .n = 2, .budget = 40};
	CHECK_INT(mt_run_add(run, &g_ops, &d, 0, &d), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 1);
	CHECK(d.aborted && strstr(d.why, "40 ms"));
	CHECK(d.answered[1] && !d.answered[0]);

	/* a broken job that goes on asking after abort(): the driver ends it
	 * at its budget anyway instead of waiting for the answer (here the
	 * backend's 5 s timeout) */
	gjob ig = {.names = {"dead.example"}, .n = 1, .budget = 30, .ignore_abort = true};
	uint64_t t0 = ms();
	CHECK_INT(mt_run_add(run, &g_ops, &ig, 0, NULL), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 1);
	CHECK(ig.aborted);
	CHECK(ms() - t0 < 1000);

	/* step fails once: aborted with the reason, then finished */
	gjob s = {.names = {"m1.mx10.example"}, .n = 1, .fail_step = 1};
	CHECK_INT(mt_run_add(run, &g_ops, &s, 0, NULL), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 1);
	CHECK(s.aborted && strstr(s.why, "stepping"));
	/* step fails even after the abort: the driver gives up on it */
	gjob s2 = {.names = {"m1.mx10.example"}, .n = 1, .fail_step = 1000};
	CHECK_INT(mt_run_add(run, &g_ops, &s2, 0, NULL), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 1);
	CHECK(s2.aborted);
	CHECK_INT(s2.steps, 2);

	/* answer() fails: aborted, its other question cancelled */
	gjob f = {.names = {"m1.mx10.example", "m2.mx10.example"}, .n = 2, .fail_answer = true};
	mt_dns_test_resolver_counts(t, NULL, &can);
	size_t can0 = can;
	CHECK_INT(mt_run_add(run, &g_ops, &f, 0, NULL), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 1);
	CHECK(f.aborted && strstr(f.why, "answering"));
	mt_dns_test_resolver_counts(t, NULL, &can);
	CHECK_INT(can - can0, 1);

	/* a question the resolver refuses (no name): aborted with the reason */
	gjob nn = {.names = {NULL}, .n = 1};
	CHECK_INT(mt_run_add(run, &g_ops, &nn, 0, NULL), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 1);
	CHECK(nn.aborted && strstr(nn.why, "sending a DNS question"));
	mt_run_free(run);
	mt_dns_resolver_free(t);

	/* the same over the plain zone (emulated submit): answer() fails on
	 * the first of two ready answers, the second is cancelled unseen */
	run = new_run(zres, 0);
	gjob z = {.names = {"m1.mx10.example", "m2.mx10.example"}, .n = 2, .fail_answer = true};
	CHECK_INT(mt_run_add(run, &g_ops, &z, 0, NULL), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 1);
	CHECK(z.aborted);
	gjob ok = {.names = {"m9.mx10.example", "m10.mx10.example", "none.example"}, .n = 3};
	CHECK_INT(mt_run_add(run, &g_ops, &ok, 0, NULL), MT_OK);
	CHECK_INT(drain(run, order, 4, 3000), 1);
	CHECK(!ok.aborted);
	CHECK_INT(ok.records, 3);
	mt_run_free(run);

	/* mt_run_one: the same generic job to its end, blocking; a job whose
	 * time runs out is given back aborted; bad arguments refused */
	gjob one = {.names = {"m1.mx10.example", "m2.mx10.example", "nx.example"}, .n = 3};
	CHECK_INT(mt_run_one(zres, &g_ops, &one), MT_OK);
	CHECK(!one.aborted);
	CHECK_INT(one.records, 2);
	CHECK(one.answered[0] && one.answered[1] && one.answered[2]);
	t = new_testres(rules, 2, MT_DNS_TEST_REVERSE, 5000);
	gjob late = {.names = {"dead.example"}, .n = 1, .budget = 40};
	uint64_t t1 = ms();
	CHECK_INT(mt_run_one(t, &g_ops, &late), MT_OK);
	CHECK(late.aborted && strstr(late.why, "40 ms"));
	CHECK(ms() - t1 < 1000);
	mt_dns_resolver_free(t);
	CHECK_INT(mt_run_one(NULL, &g_ops, &one), MT_EINVAL);
	CHECK_INT(mt_run_one(zres, NULL, &one), MT_EINVAL);
	CHECK_INT(mt_run_one(zres, &g_ops, NULL), MT_EINVAL);
}

/* A check that was never started: the blocking run says so (as it did
 * before it was a loop over the driver) instead of MT_OK without an
 * outcome; the driver hands it back without hanging. */
static void test_not_started(void)
{
	mt_spf_check *c = NULL;
	mt_run *run;
	void *job = NULL;
	CHECK_INT(mt_spf_check_new(NULL, &c, NULL), MT_OK);
	CHECK_INT(mt_spf_check_run(c, zres), MT_ESTATE);
	CHECK(mt_spf_check_outcome(c) == NULL);
	run = new_run(zres, 0);
	CHECK_INT(mt_run_add(run, mt_spf_check_job_ops(), c, 0, NULL), MT_OK);
	CHECK_INT(mt_run_wait(run, 1000), MT_OK);
	CHECK(mt_run_next(run, &job, NULL) && job == c);
	CHECK(!mt_spf_check_done(c));
	mt_run_free(run);
	mt_spf_check_free(c);
}

static void test_bad_args(void)
{
	mt_run_options o;
	mt_run *run = NULL;
	mt_error err;
	gjob g = {.names = {"m1.mx10.example"}, .n = 1};
	mt_run_job_ops half = {.step = g_step};

	CHECK_INT(mt_run_new(NULL, NULL, &run, &err), MT_EINVAL);
	CHECK_INT(mt_run_new(zres, NULL, NULL, &err), MT_EINVAL);
	mt_run_options_init(&o);
	o.max_jobs = 1u << 30;
	CHECK_INT(mt_run_new(zres, &o, &run, &err), MT_EINVAL);
	CHECK(run == NULL);
	mt_run_options_init(NULL);
	CHECK_INT(mt_run_new(zres, NULL, &run, &err), MT_OK);
	CHECK_INT(mt_run_add(run, NULL, &g, 0, NULL), MT_EINVAL);
	CHECK_INT(mt_run_add(run, &half, &g, 0, NULL), MT_EINVAL);
	CHECK_INT(mt_run_add(run, &g_ops, NULL, 0, NULL), MT_EINVAL);
	CHECK_INT(mt_run_add(NULL, &g_ops, &g, 0, NULL), MT_EINVAL);
	CHECK_INT(mt_run_jobs(run), 0);
	mt_run_free(run);
	/* max_jobs 0: the default, 1024 */
	o.max_jobs = 0;
	CHECK_INT(mt_run_new(zres, &o, &run, &err), MT_OK);
	for (int i = 0; i < 1024; i++)
		CHECK_INT(mt_run_add(run, &g_ops, &g, 0, NULL), MT_OK);
	CHECK_INT(mt_run_add(run, &g_ops, &g, 0, NULL), MT_EAGAIN);
	CHECK_INT(mt_run_jobs(run), 1024);
	mt_run_free(run);
}

int main(void)
{
	mt_error err;
	zone = mt_dns_zone_new();
	CHECK_INT(mt_dns_zone_load_text(zone, zone_text, strlen(zone_text), NULL, "run.zone", &err), MT_OK);
	zres = mt_dns_zone_resolver_new(zone);
	test_backend();
	test_blocking_over_async();
	test_emulated();
	test_stale_answers();
	test_equal_to_blocking();
	test_duplicates();
	test_mx_batch();
	test_timeout();
	test_late_answer();
	test_completion_order();
	test_process_all_ready();
	test_backpressure();
	test_loop_hooks();
	test_free_in_flight();
	test_generic_job();
	test_not_started();
	test_bad_args();
	mt_dns_resolver_free(zres);
	mt_dns_zone_free(zone);
	return mt_test_done();
}
