/* The evaluator: step API, limits (configurable), identities, trace and
 * header fields, through the in-memory zone. */
#include "mt_test.h"
#include <mailtrust/spf.h>
#include <mailtrust/authres.h>
#include <stdlib.h>
#include <time.h>

static mt_dns_zone *zone;

static void txt(const char *name, const char *text)
{
	const char *s[1] = {text};
	size_t l[1] = {strlen(text)};
	CHECK_INT(mt_dns_zone_add_txt(zone, name, MT_DNS_TXT, 300, s, l, 1), MT_OK);
}

static void a(const char *name, uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3)
{
	uint8_t ad[4] = {a0, a1, a2, a3};
	CHECK_INT(mt_dns_zone_add(zone, name, MT_DNS_A, 300, 0, ad, 4), MT_OK);
}

static void mx(const char *name, uint16_t pref, const char *host)
{
	CHECK_INT(mt_dns_zone_add(zone, name, MT_DNS_MX, 300, pref, host, strlen(host)), MT_OK);
}

static void build_zone(void)
{
	zone = mt_dns_zone_new();
	txt("pass.example", "v=spf1 ip4:192.0.2.0/24 -all");
	txt("three-a.example", "v=spf1 a:x1.example a:x2.example a:x3.example ip4:192.0.2.1 -all");
	a("x1.example", 203, 0, 113, 1);
	a("x2.example", 203, 0, 113, 2);
	a("x3.example", 203, 0, 113, 3);
	txt("voids.example", "v=spf1 a:nx1.example a:nx2.example a:nx3.example ?all");
	txt("mx.example", "v=spf1 mx -all");
	mx("mx.example", 10, "m1.example");
	mx("mx.example", 20, "m2.example");
	mx("mx.example", 30, "m3.example");
	a("m1.example", 203, 0, 113, 10);
	a("m2.example", 203, 0, 113, 20);
	a("m3.example", 192, 0, 2, 99);
	txt("helo.example", "v=spf1 a -all");
	a("helo.example", 192, 0, 2, 7);
	txt("local.example", "v=spf1 exists:%{l}.users.local.example -all");
	a("alice.users.local.example", 127, 0, 0, 2);
	txt("syntax.example", "v=spf1 ip4:192.0.2.1 inlcude:foo.example -all");
	txt("slow.example", "v=spf1 a:s1.example a:s2.example -all");
	a("s1.example", 203, 0, 113, 1);
	a("s2.example", 203, 0, 113, 2);
	txt("fail.example", "v=spf1 -all");
	txt("timeout.example", "v=spf1 a:dead.example -all");
	txt("pexp.example", "v=spf1 ip4:192.0.2.1 -all exp=why.%{p}");
	txt("why.host.pexp.example", "not from %{i} (validated %{p})");
	a("host.pexp.example", 192, 0, 2, 77);
	CHECK_INT(mt_dns_zone_add(zone, "77.2.0.192.in-addr.arpa", MT_DNS_PTR, 300, 0, "host.pexp.example", 17), MT_OK);
	txt("chain.example", "v=spf1 include:fail.example include:inc1.example -all");
	txt("inc1.example", "v=spf1 ip4:198.51.100.0/24 redirect=inc2.example");
	txt("inc2.example", "v=spf1 ?ip4:203.0.113.0/24 include:pass.example ~all");
	CHECK_INT(mt_dns_zone_add_fault(zone, "dead.example", 0, MT_DNS_TIMEOUT), MT_OK);
	txt("three.example", "v=spf1 ip4:192.0.2.1 -all");
	txt("three.example", "v=spf1 mx ~all");
	txt("three.example", "v=spf1 a ?all");
}

static const mt_spf_outcome *run(mt_spf_check **c, const mt_spf_options *o, const char *ip,
                                 const char *sender, const char *helo)
{
	mt_dns_resolver *r = mt_dns_zone_resolver_new(zone);
	mt_spf_request rq = {.ip = ip, .sender = sender, .helo = helo};
	mt_error err;
	CHECK_INT(mt_spf_check_new(o, c, NULL), MT_OK);
	CHECK_INT(mt_spf_check_start(*c, &rq, &err), MT_OK);
	CHECK_INT(mt_spf_check_run(*c, r), MT_OK);
	mt_dns_resolver_free(r);
	return mt_spf_check_outcome(*c);
}

static void test_limits(void)
{
	mt_spf_check *c;
	mt_spf_options o;
	const mt_spf_outcome *out;

	/* default: three a mechanisms are within 10 */
	out = run(&c, NULL, "192.0.2.1", "u@three-a.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PASS);
	CHECK_INT(out->dns_mechanisms, 3);
	mt_spf_check_free(c);
	/* the lookup limit is an option: 2 makes the third a permerror */
	mt_spf_options_init(&o);
	o.max_dns_mechanisms = 2;
	out = run(&c, &o, "192.0.2.1", "u@three-a.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PERMERROR);
	CHECK(out->problem && strstr(out->problem, "more than 2"));
	CHECK_STR(out->problem_term, "a:x3.example");
	mt_spf_check_free(c);
	/* void lookups: three NXDOMAIN a-terms exceed the default 2 */
	out = run(&c, NULL, "192.0.2.1", "u@voids.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PERMERROR);
	CHECK_INT(out->void_lookups, 3);
	mt_spf_check_free(c);
	mt_spf_options_init(&o);
	o.max_void_lookups = 3;
	out = run(&c, &o, "192.0.2.1", "u@voids.example", "h.example");
	CHECK_INT(out->result, MT_SPF_NEUTRAL);
	mt_spf_check_free(c);
	/* MX names: 3 MX records over a limit of 2 is a permerror (4.6.4) */
	mt_spf_options_init(&o);
	o.max_mx_names = 2;
	out = run(&c, &o, "192.0.2.99", "u@mx.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PERMERROR);
	mt_spf_check_free(c);
	out = run(&c, NULL, "192.0.2.99", "u@mx.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PASS);
	CHECK_STR(out->mechanism, "mx");
	CHECK_STR(out->mechanism_domain, "mx.example");
	mt_spf_check_free(c);
	/* invalid options */
	mt_spf_options_init(&o);
	o.max_dns_mechanisms = 0;
	CHECK_INT(mt_spf_check_new(&o, &c, NULL), MT_EINVAL);
	mt_spf_options_init(&o);
	o.default_explanation = "bad %{x}";
	CHECK_INT(mt_spf_check_new(&o, &c, NULL), MT_EINVAL);
}

static void test_step_api(void)
{
	mt_spf_check *c;
	const mt_spf_question *qs;
	size_t n;
	mt_error err;
	mt_spf_request rq = {.ip = "192.0.2.99", .sender = "u@mx.example", .helo = "h"};

	CHECK_INT(mt_spf_check_new(NULL, &c, NULL), MT_OK);
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_ESTATE); /* not started */
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
	CHECK_INT(n, 1);
	CHECK_STR(qs[0].name, "mx.example");
	CHECK_INT(qs[0].type, MT_DNS_TXT);
	uint32_t id = qs[0].id;
	/* unanswered questions are asked again */
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
	CHECK_INT(n, 1);
	CHECK_INT(qs[0].id, id);
	mt_dns_answer *ans = mt_dns_answer_new(MT_DNS_NOERROR);
	CHECK_INT(mt_spf_answer(c, id + 100, ans), MT_ENOTFOUND);
	mt_dns_answer_free(ans);
	CHECK_INT(mt_dns_zone_query(zone, "mx.example", MT_DNS_TXT, &ans), MT_OK);
	CHECK_INT(mt_spf_answer(c, id, ans), MT_OK);
	mt_dns_answer_free(ans);
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
	CHECK_INT(n, 1);
	CHECK_INT(qs[0].type, MT_DNS_MX);
	CHECK_INT(mt_dns_zone_query(zone, qs[0].name, MT_DNS_MX, &ans), MT_OK);
	CHECK_INT(mt_spf_answer(c, qs[0].id, ans), MT_OK);
	mt_dns_answer_free(ans);
	/* the three MX hosts are asked at once */
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
	CHECK_INT(n, 3);
	mt_spf_question batch[3];
	memcpy(batch, qs, sizeof batch);
	for (size_t i = 0; i < 3; i++) {
		CHECK_INT(batch[i].type, MT_DNS_A);
		CHECK_INT(mt_dns_zone_query(zone, batch[i].name, MT_DNS_A, &ans), MT_OK);
		CHECK_INT(mt_spf_answer(c, batch[i].id, ans), MT_OK);
		mt_dns_answer_free(ans);
		CHECK(!mt_spf_check_done(c) || i == 2);
	}
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
	CHECK_INT(n, 0);
	CHECK(mt_spf_check_done(c));
	CHECK_INT(mt_spf_check_outcome(c)->result, MT_SPF_PASS);
	CHECK_INT(mt_spf_check_outcome(c)->trace_count, 5);

	/* abort: the driver's budget ran out */
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	CHECK(mt_spf_check_outcome(c) == NULL);
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
	mt_spf_abort(c, "budget gone");
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
	CHECK_INT(n, 0);
	CHECK_INT(mt_spf_check_outcome(c)->result, MT_SPF_TEMPERROR);
	CHECK_STR(mt_spf_check_outcome(c)->problem, "budget gone");
	mt_spf_check_free(c);
}

static void test_identities_and_input(void)
{
	mt_spf_check *c;
	const mt_spf_outcome *out;
	/* IPv4-mapped IPv6 clients are IPv4 */
	out = run(&c, NULL, "::ffff:192.0.2.5", "u@pass.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PASS);
	CHECK_STR(out->ip, "192.0.2.5");
	mt_spf_check_free(c);
	/* empty MAIL FROM: postmaster@HELO (section 2.4) */
	out = run(&c, NULL, "192.0.2.7", "", "helo.example");
	CHECK_INT(out->result, MT_SPF_PASS);
	CHECK_STR(out->sender, "postmaster@helo.example");
	CHECK_STR(out->domain, "helo.example");
	mt_spf_check_free(c);
}

/*
 * HELO and MAIL FROM are what the client sent: every input gives a
 * finished result.  RFC 7208 section 4.3: a malformed or absent domain is
 * "none" (with the reason), a missing local-part is "postmaster"; only
 * the domain decides, so a long or odd local-part is evaluated.
 */
static void test_smtp_input(void)
{
	static char long_local[420], long_domain[320], long_label[100], huge_helo[100001];
	memset(long_local, 'a', 400);
	memcpy(long_local + 400, "@pass.example", 14);            /* 413 octets */
	memcpy(long_domain, "u@", 2);
	for (size_t k = 0; k < 50; k++)
		memcpy(long_domain + 2 + 6 * k, "abcde.", 6);          /* 300-octet domain */
	memcpy(long_domain + 302, "example", 8);
	memcpy(long_label, "u@", 2);
	memset(long_label + 2, 'b', 64);                          /* a 64-octet label */
	memcpy(long_label + 66, ".example", 9);
	memset(huge_helo, 'h', 100000);
	static char huge_sender[100020];
	memset(huge_sender, 'l', 100000);
	memcpy(huge_sender + 100000, "@local.example", 15);
	static const struct {
		mt_spf_identity id;
		const char *sender, *helo, *domain;
		mt_spf_result want;
		const char *why;        /* in problem; NULL: no problem */
		const char *out_sender; /* NULL: not checked */
		const char *out_domain; /* NULL: not checked */
	} t[] = {
		{MT_SPF_MAILFROM, "a@", "h.example", NULL, MT_SPF_NONE, "is empty", "a@", ""},
		{MT_SPF_MAILFROM, "@", "h.example", NULL, MT_SPF_NONE, "is empty", "postmaster@", ""},
		{MT_SPF_MAILFROM, "noatsign", NULL, NULL, MT_SPF_NONE, "not a multi-label",
		 "postmaster@noatsign", "noatsign"},
		/* no '@': all of it is the domain, postmaster the local-part */
		{MT_SPF_MAILFROM, "pass.example", NULL, NULL, MT_SPF_PASS, NULL,
		 "postmaster@pass.example", "pass.example"},
		{MT_SPF_MAILFROM, "@pass.example", NULL, NULL, MT_SPF_PASS, NULL,
		 "postmaster@pass.example", "pass.example"},
		{MT_SPF_MAILFROM, long_local, NULL, NULL, MT_SPF_PASS, NULL, long_local, "pass.example"},
		{MT_SPF_MAILFROM, "a\nb@pass.example", NULL, NULL, MT_SPF_PASS, NULL, NULL, "pass.example"},
		/* a 100 KB local-part: %{l} of local.example's exists: cannot make a
		 * name, so the term does not match (4.8) and -all decides */
		{MT_SPF_MAILFROM, huge_sender, NULL, NULL, MT_SPF_FAIL, NULL, huge_sender, "local.example"},
		{MT_SPF_MAILFROM, long_domain, NULL, NULL, MT_SPF_NONE, "longer than 253", NULL, NULL},
		{MT_SPF_MAILFROM, long_label, NULL, NULL, MT_SPF_NONE, "label longer than 63", NULL, NULL},
		{MT_SPF_MAILFROM, "u@pass\001.example", NULL, NULL, MT_SPF_NONE, "control character",
		 NULL, NULL},
		{MT_SPF_MAILFROM, "u@[192.0.2.1]", NULL, NULL, MT_SPF_NONE, "other than letters", NULL,
		 "[192.0.2.1]"},
		{MT_SPF_MAILFROM, "u@example", NULL, NULL, MT_SPF_NONE, "not a multi-label", NULL, NULL},
		{MT_SPF_MAILFROM, "u@a..example", NULL, NULL, MT_SPF_NONE, "empty label", NULL, NULL},
		{MT_SPF_MAILFROM, "u@p\xc3\xa4ss.example", NULL, NULL, MT_SPF_NONE, "not ASCII", NULL, NULL},
		/* the null reverse-path: postmaster@HELO (section 2.4) */
		{MT_SPF_MAILFROM, "", NULL, NULL, MT_SPF_NONE, "no HELO name", NULL, ""},
		{MT_SPF_MAILFROM, NULL, "[192.0.2.1]", NULL, MT_SPF_NONE, "the sender is empty",
		 "postmaster@[192.0.2.1]", "[192.0.2.1]"},
		{MT_SPF_MAILFROM, "", huge_helo, NULL, MT_SPF_NONE, "longer than 253", NULL, NULL},
		/* the HELO identity (section 2.3) */
		{MT_SPF_HELO, "u@pass.example", NULL, NULL, MT_SPF_NONE, "no HELO name was given", NULL, ""},
		{MT_SPF_HELO, NULL, "", NULL, MT_SPF_NONE, "no HELO name was given", NULL, ""},
		{MT_SPF_HELO, NULL, huge_helo, NULL, MT_SPF_NONE, "longer than 253", NULL, NULL},
		{MT_SPF_HELO, NULL, "a\tb.example", NULL, MT_SPF_NONE, "control character", NULL, NULL},
		{MT_SPF_HELO, NULL, "helo\x7f.example", NULL, MT_SPF_NONE, "control character", NULL, NULL},
		{MT_SPF_HELO, NULL, "[192.0.2.7]", NULL, MT_SPF_NONE, "other than letters", NULL, NULL},
		{MT_SPF_HELO, "x", "helo.example", NULL, MT_SPF_PASS, NULL, "postmaster@helo.example",
		 "helo.example"},
		/* an explicit domain */
		{MT_SPF_MAILFROM, "u@pass.example", NULL, "", MT_SPF_NONE, "the domain '' is empty", NULL, ""},
		{MT_SPF_MAILFROM, "u@pass.example", NULL, "x y.example", MT_SPF_NONE, "other than", NULL, NULL},
	};
	mt_dns_resolver *r = mt_dns_zone_resolver_new(zone);
	mt_spf_check *c;
	const mt_spf_question *qs;
	size_t n;

	CHECK_INT(mt_spf_check_new(NULL, &c, NULL), MT_OK);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		const char *ip = t[i].id == MT_SPF_HELO ? "192.0.2.7" : "192.0.2.1";
		mt_spf_request rq = {.ip = ip, .sender = t[i].sender, .helo = t[i].helo,
		                     .identity = t[i].id, .domain = t[i].domain};
		mt_error err = {0};
		char *h = NULL;
		int failed_before = mt_test_failed;
		CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
		if (t[i].want == MT_SPF_NONE) {
			/* finished at once: nothing to ask */
			CHECK(mt_spf_check_done(c));
			CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
			CHECK_INT(n, 0);
		}
		CHECK_INT(mt_spf_check_run(c, r), MT_OK);
		const mt_spf_outcome *o = mt_spf_check_outcome(c);
		CHECK(o != NULL);
		if (!o) {
			fprintf(stderr, "  (in row %zu of the SMTP input table)\n", i);
			continue;
		}
		CHECK_INT(o->result, t[i].want);
		CHECK_INT(o->malformed_domain, t[i].want == MT_SPF_NONE);
		if (t[i].why) {
			CHECK(o->problem && strstr(o->problem, t[i].why));
			CHECK(o->problem && strstr(o->problem, "RFC 7208 section 4.3"));
			CHECK(o->problem && strlen(o->problem) < 300);
			CHECK_INT(o->trace_count, 0);
			CHECK(!o->problem_domain || o->problem_domain[0]);
		} else {
			CHECK(o->problem == NULL);
		}
		if (t[i].out_sender)
			CHECK_STR(o->sender, t[i].out_sender);
		if (t[i].out_domain)
			CHECK_STR(o->domain, t[i].out_domain);
		/* the header fields stay well-formed and bounded */
		CHECK_INT(mt_spf_received_spf(c, &h), MT_OK);
		CHECK(h && strlen(h) < 2000 && !strpbrk(h, "\r\n\t\001\177"));
		if (h && t[i].why)
			CHECK(strstr(h, "; problem=\"") != NULL);
		mt_free(h);
		CHECK_INT(mt_spf_authres_entry(c, &h), MT_OK);
		CHECK(h && strlen(h) < 1000 && !strpbrk(h, "\r\n\t\001\177"));
		if (h && t[i].why) {
			/* no identity to name: the property is left out (RFC 8601 2.2) */
			CHECK(strncmp(h, "spf=none (", 10) == 0);
			CHECK(strstr(h, "smtp.") == NULL);
		}
		mt_free(h);
		if (mt_test_failed != failed_before)
			fprintf(stderr, "  (in row %zu of the SMTP input table)\n", i);
	}
	mt_spf_check_free(c);
	mt_dns_resolver_free(r);
}

/* Only the client address is the caller's error. */
static void test_bad_ip(void)
{
	static char huge[100001];
	static const char *const bad[] = {
		"192.0.2", "", "192.0.2.256", "192.0.2.1%eth0", "fe80::1%", "example.com", huge,
	};
	mt_spf_check *c;
	mt_error err;

	memset(huge, '1', 100000);
	CHECK_INT(mt_spf_check_new(NULL, &c, NULL), MT_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mt_spf_request rq = {.ip = bad[i], .sender = "u@pass.example", .helo = "h.example"};
		memset(&err, 0, sizeof err);
		CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_EINVAL);
		CHECK_INT(err.status, MT_EINVAL);
		CHECK(strstr(err.message, "is not an IPv4 or IPv6 address") != NULL);
		CHECK(!mt_spf_check_done(c));
	}
	CHECK(strstr(err.message, "111...'") != NULL); /* the long one is cut */
	mt_spf_request none = {.sender = "u@pass.example"};
	CHECK_INT(mt_spf_check_start(c, &none, &err), MT_EINVAL);
	mt_spf_check_free(c);
}

/* An IPv6 zone id names a link of the receiver: dropped (RFC 4007 11). */
static void test_zone_id(void)
{
	mt_spf_check *c;
	const mt_spf_outcome *out = run(&c, NULL, "fe80::1%eth0", "u@pass.example", "h.example");
	CHECK_STR(out->ip, "fe80::1");
	CHECK_INT(out->result, MT_SPF_FAIL);
	mt_spf_check_free(c);
	out = run(&c, NULL, "::ffff:192.0.2.9%2", "u@pass.example", "h.example");
	CHECK_STR(out->ip, "192.0.2.9");
	CHECK_INT(out->result, MT_SPF_PASS);
	mt_spf_check_free(c);
}

/* mt_spf_check_new() says which option is wrong. */
static void test_new_errors(void)
{
	static char longname[301];
	mt_spf_options o;
	mt_spf_check *c = (mt_spf_check *)&o;
	mt_error err;

	memset(longname, 'r', 300);
	mt_spf_options_init(&o);
	o.receiver = longname;
	memset(&err, 0, sizeof err);
	CHECK_INT(mt_spf_check_new(&o, &c, &err), MT_EINVAL);
	CHECK(c == NULL);
	CHECK_INT(err.status, MT_EINVAL);
	CHECK(strstr(err.message, "receiver") && strstr(err.message, "300") &&
	      !strstr(err.message, "explanation"));
	mt_spf_options_init(&o);
	o.default_explanation = "bad %{q}";
	CHECK_INT(mt_spf_check_new(&o, &c, &err), MT_EINVAL);
	CHECK(strstr(err.message, "default explanation") && !strstr(err.message, "receiver"));
	mt_spf_options_init(&o);
	o.max_dns_mechanisms = 0;
	CHECK_INT(mt_spf_check_new(&o, &c, &err), MT_EINVAL);
	CHECK(strstr(err.message, "DNS-querying") != NULL);
	mt_spf_options_init(&o);
	o.max_void_lookups = 1001;
	CHECK_INT(mt_spf_check_new(&o, &c, &err), MT_EINVAL);
	CHECK(strstr(err.message, "void") != NULL);
	CHECK_INT(mt_spf_check_new(&o, &c, NULL), MT_EINVAL); /* err may be NULL */
	o.max_void_lookups = 0;                                  /* 0 void lookups is a limit */
	CHECK_INT(mt_spf_check_new(&o, &c, &err), MT_OK);
	mt_spf_check_free(c);
}

/* Step a check over the zone by hand: no driver, so no clock. */
static void step_by_hand(mt_spf_check *c)
{
	const mt_spf_question *qs;
	size_t n;
	for (int guard = 0; guard < 100; guard++) {
		CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
		if (n == 0)
			return;
		mt_spf_question q = qs[0];
		mt_dns_answer *ans = NULL;
		CHECK_INT(mt_dns_zone_query(zone, q.name, q.type, &ans), MT_OK);
		CHECK_INT(mt_spf_answer(c, q.id, ans), MT_OK);
		mt_dns_answer_free(ans);
	}
	CHECK(!"the check did not end");
}

/* The core reads no clock: %{t} is the time it is given. */
static void test_now(void)
{
	mt_spf_options o;
	mt_spf_check *c;
	mt_dns_resolver *r = mt_dns_zone_resolver_new(zone);
	mt_spf_request rq = {.ip = "198.51.100.1", .sender = "u@fail.example", .helo = "h.example"};
	mt_error err;

	mt_spf_options_init(&o);
	o.default_explanation = "t=%{t}";
	CHECK_INT(mt_spf_check_new(&o, &c, &err), MT_OK);
	CHECK_INT(mt_spf_check_set_now(c, 5), MT_ESTATE); /* not started */
	/* the request's time */
	rq.now = 1234567890;
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	step_by_hand(c);
	CHECK_STR(mt_spf_check_outcome(c)->explanation, "t=1234567890");
	/* mt_spf_check_set_now() */
	rq.now = 0;
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	CHECK_INT(mt_spf_check_set_now(c, 42), MT_OK);
	step_by_hand(c);
	CHECK_STR(mt_spf_check_outcome(c)->explanation, "t=42");
	/* a time set before the blocking driver runs is kept */
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	CHECK_INT(mt_spf_check_set_now(c, 7), MT_OK);
	CHECK_INT(mt_spf_check_run(c, r), MT_OK);
	CHECK_STR(mt_spf_check_outcome(c)->explanation, "t=7");
	/* no time given and no driver: the core does not look at a clock */
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	step_by_hand(c);
	CHECK_STR(mt_spf_check_outcome(c)->explanation, "t=0");
	/* the blocking driver supplies the current time */
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	long long before = (long long)time(NULL);
	CHECK_INT(mt_spf_check_run(c, r), MT_OK);
	long long after = (long long)time(NULL);
	const char *e = mt_spf_check_outcome(c)->explanation;
	CHECK(e && strncmp(e, "t=", 2) == 0);
	long long t = e ? atoll(e + 2) : 0;
	CHECK(t >= before && t <= after);
	mt_spf_check_free(c);
	mt_dns_resolver_free(r);
}

static void test_problem_and_headers(void)
{
	mt_spf_check *c;
	const mt_spf_outcome *out;
	char *h;
	mt_spf_options o;

	out = run(&c, NULL, "192.0.2.1", "u@syntax.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PERMERROR);
	CHECK_INT(out->problem_offset, 21);
	CHECK_STR(out->problem_domain, "syntax.example");
	CHECK(out->problem && strstr(out->problem, "inlcude"));
	mt_spf_check_free(c);

	mt_spf_options_init(&o);
	o.receiver = "mx.receiver.example";
	out = run(&c, &o, "192.0.2.1", "user@pass.example", "h.example");
	CHECK_INT(mt_spf_received_spf(c, &h), MT_OK);
	CHECK(strncmp(h, "Received-SPF: pass (mx.receiver.example: ", 41) == 0);
	CHECK(strstr(h, "client-ip=192.0.2.1;") != NULL);
	/* section 9.1: values are dot-atom or quoted-string, as in its example */
	CHECK(strstr(h, "envelope-from=\"user@pass.example\";") != NULL);
	CHECK(strstr(h, "helo=h.example;") != NULL);
	CHECK(strstr(h, "receiver=mx.receiver.example;") != NULL);
	CHECK(strstr(h, "identity=mailfrom;") != NULL);
	CHECK(strstr(h, "mechanism=\"ip4:192.0.2.0/24\";") != NULL);
	mt_free(h);
	/* RFC 8601 2.7.2: no local-part unless the policy used it */
	CHECK_INT(mt_spf_authres_entry(c, &h), MT_OK);
	CHECK_STR(h, "spf=pass smtp.mailfrom=pass.example");
	mt_free(h);
	CHECK_INT(mt_spf_authres_header(c, NULL, &h), MT_OK);
	CHECK_STR(h, "Authentication-Results: mx.receiver.example; spf=pass smtp.mailfrom=pass.example");
	mt_free(h);
	/* built by the authres module: an authserv-id that is not an RFC 2045
	 * token is quoted, a control character in it becomes '?', and the
	 * field reads back with the authres parser */
	CHECK_INT(mt_spf_authres_header(c, "mx receiver\texample", &h), MT_OK);
	CHECK_STR(h, "Authentication-Results: \"mx receiver?example\"; spf=pass smtp.mailfrom=pass.example");
	if (h) {
		mt_authres_parsed *p = NULL;
		const char *v = h + strlen("Authentication-Results:");
		CHECK_INT(mt_authres_parse(v, strlen(v), &p, NULL, NULL), MT_OK);
		if (p) {
			CHECK_STR(p->authserv_id, "mx receiver?example");
			CHECK_INT(p->method_count, 1);
			CHECK_STR(p->methods[0].method, "spf");
			CHECK_STR(p->methods[0].result, "pass");
			CHECK_INT(p->methods[0].prop_count, 1);
			CHECK_STR(p->methods[0].props[0].value, "pass.example");
		}
		mt_authres_parsed_free(p);
		CHECK(mt_authres_claims(v, strlen(v), "MX RECEIVER?example"));
	}
	mt_free(h);
	/* an empty authserv-id cannot be written: "unknown" (RFC 8601 2.5) */
	CHECK_INT(mt_spf_authres_header(c, "", &h), MT_OK);
	CHECK_STR(h, "Authentication-Results: unknown; spf=pass smtp.mailfrom=pass.example");
	mt_free(h);
	mt_spf_check_free(c);

	out = run(&c, &o, "192.0.2.1", "alice@local.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PASS);
	CHECK_INT(mt_spf_authres_entry(c, &h), MT_OK);
	CHECK_STR(h, "spf=pass smtp.mailfrom=alice@local.example");
	mt_free(h);
	mt_spf_check_free(c);

	/* fail: the default explanation names the client and the domain */
	out = run(&c, &o, "198.51.100.1", "u@fail.example", "h.example");
	CHECK_INT(out->result, MT_SPF_FAIL);
	CHECK_STR(out->explanation, "198.51.100.1 is not one of fail.example's designated mail servers.");
	CHECK_INT(mt_spf_received_spf(c, &h), MT_OK);
	CHECK(strncmp(h, "Received-SPF: fail (", 20) == 0);
	mt_free(h);
	mt_spf_check_free(c);

	/* temperror carries the failing name; the header has problem= quoted */
	out = run(&c, &o, "198.51.100.1", "u@timeout.example", "h.example");
	CHECK_INT(out->result, MT_SPF_TEMPERROR);
	CHECK(out->problem && strstr(out->problem, "dead.example"));
	CHECK_INT(mt_spf_received_spf(c, &h), MT_OK);
	CHECK(strstr(h, "problem=\"") != NULL);
	mt_free(h);
	mt_spf_check_free(c);
}

/* RFC 7208 4.5: several records are a permerror that names each of them. */
static void test_several_records(void)
{
	mt_spf_check *c;
	const mt_spf_outcome *out = run(&c, NULL, "192.0.2.1", "u@three.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PERMERROR);
	CHECK(out->problem && strstr(out->problem, "has 3 SPF records"));
	CHECK(out->problem && strstr(out->problem, "\"v=spf1 ip4:192.0.2.1 -all\""));
	CHECK(out->problem && strstr(out->problem, "\"v=spf1 mx ~all\""));
	CHECK(out->problem && strstr(out->problem, "\"v=spf1 a ?all\""));
	CHECK_STR(out->problem_domain, "three.example");
	mt_spf_check_free(c);
}

/* A resolver that takes 20 ms per answer, to run out a 30 ms budget. */
static mt_status slow_resolve(void *impl, const char *name, uint16_t type, unsigned timeout_ms,
                              mt_dns_answer **out)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	return mt_dns_zone_query(impl, name, type, out);
}

/* %{p} in the exp= domain and in the explanation text (RFC 7208 6.2, 7.3):
 * the validated name is computed once, before the explanation. */
static void test_p_in_exp(void)
{
	mt_spf_check *c;
	const mt_spf_outcome *out = run(&c, NULL, "192.0.2.77", "a@pexp.example", "h");
	CHECK_INT(out->result, MT_SPF_FAIL);
	CHECK_STR(out->explanation, "not from 192.0.2.77 (validated host.pexp.example)");
	size_t ptr = 0;
	for (size_t i = 0; i < out->trace_count; i++)
		ptr += out->trace[i].type == MT_DNS_PTR;
	CHECK_INT(ptr, 1);
	CHECK_INT(out->dns_mechanisms, 0); /* exp and %{p} are not DNS-querying terms */
	mt_spf_check_free(c);
	/* no PTR: %{p} is "unknown", why.unknown does not exist: the default */
	out = run(&c, NULL, "192.0.2.99", "a@pexp.example", "h");
	CHECK_STR(out->explanation, "192.0.2.99 is not one of pexp.example's designated mail servers.");
	mt_spf_check_free(c);
}

/* A check object started again must count exactly as a fresh one. */
static void test_reuse(void)
{
	mt_spf_check *c;
	mt_dns_resolver *r = mt_dns_zone_resolver_new(zone);
	mt_spf_request rq = {.ip = "192.0.2.1", .sender = "u@three-a.example", .helo = "h"};
	mt_spf_request rq2 = {.ip = "192.0.2.99", .sender = "u@mx.example", .helo = "h"};
	mt_error err;
	CHECK_INT(mt_spf_check_new(NULL, &c, NULL), MT_OK);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
		CHECK_INT(mt_spf_check_run(c, r), MT_OK);
		CHECK_INT(mt_spf_check_outcome(c)->dns_mechanisms, 3);
		CHECK_INT(mt_spf_check_outcome(c)->result, MT_SPF_PASS);
		CHECK_INT(mt_spf_check_start(c, &rq2, &err), MT_OK);
		CHECK_INT(mt_spf_check_run(c, r), MT_OK);
		CHECK_INT(mt_spf_check_outcome(c)->dns_mechanisms, 1);
		CHECK_INT(mt_spf_check_outcome(c)->trace_count, 5);
	}
	/* aborted half-way, then started again */
	const mt_spf_question *qs;
	size_t n;
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK);
	mt_dns_answer *ans;
	CHECK_INT(mt_dns_zone_query(zone, qs[0].name, qs[0].type, &ans), MT_OK);
	CHECK_INT(mt_spf_answer(c, qs[0].id, ans), MT_OK);
	mt_dns_answer_free(ans);
	CHECK_INT(mt_spf_step(c, &qs, &n), MT_OK); /* the first a: counted, waiting */
	CHECK_INT(n, 1);
	mt_spf_abort(c, "stop");
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	CHECK_INT(mt_spf_check_run(c, r), MT_OK);
	CHECK_INT(mt_spf_check_outcome(c)->dns_mechanisms, 3);
	mt_spf_check_free(c);
	mt_dns_resolver_free(r);
}

static void test_chain(void)
{
	mt_spf_check *c;
	const mt_spf_outcome *out;
	/* through an include whose record fails (no match), then an include
	 * that redirects, to a nested include that passes */
	out = run(&c, NULL, "192.0.2.44", "u@chain.example", "h.example");
	CHECK_INT(out->result, MT_SPF_PASS);
	CHECK_INT(out->chain_count, 3);
	if (out->chain_count == 3) {
		CHECK_STR(out->chain[0].domain, "chain.example");
		CHECK_STR(out->chain[0].term, "include:inc1.example");
		CHECK_STR(out->chain[1].domain, "inc2.example");
		CHECK_STR(out->chain[1].term, "include:pass.example");
		CHECK_STR(out->chain[2].domain, "pass.example");
		CHECK_STR(out->chain[2].term, "ip4:192.0.2.0/24");
	}
	mt_spf_check_free(c);
	out = run(&c, NULL, "203.0.113.5", "u@chain.example", "h.example");
	CHECK_INT(out->result, MT_SPF_FAIL); /* ?ip4 in the include: neutral, not a match */
	CHECK_INT(out->chain_count, 1);
	CHECK_STR(out->chain[0].term, "-all");
	mt_spf_check_free(c);
	/* no match at all: default neutral, no chain */
	out = run(&c, NULL, "203.0.113.5", "u@voids.example", "h.example");
	CHECK_INT(out->chain_count, 0);
	mt_spf_check_free(c);
}

static void test_budget(void)
{
	static const mt_dns_resolver_ops ops = { .resolve = slow_resolve };
	mt_dns_resolver *r = mt_dns_resolver_new(&ops, zone);
	mt_spf_options o;
	mt_spf_check *c;
	mt_error err;
	mt_spf_options_init(&o);
	o.timeout_ms = 30;
	CHECK_INT(mt_spf_check_new(&o, &c, NULL), MT_OK);
	mt_spf_request rq = {.ip = "192.0.2.1", .sender = "u@slow.example", .helo = "h"};
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	CHECK_INT(mt_spf_check_run(c, r), MT_OK);
	/* three answers are needed; 20 ms each cannot fit in 30 ms */
	CHECK_INT(mt_spf_check_outcome(c)->result, MT_SPF_TEMPERROR);
	CHECK(strstr(mt_spf_check_outcome(c)->problem, "budget") != NULL);
	mt_spf_check_free(c);
	mt_dns_resolver_free(r);
}

int main(void)
{
	build_zone();
	test_limits();
	test_step_api();
	test_identities_and_input();
	test_smtp_input();
	test_bad_ip();
	test_zone_id();
	test_new_errors();
	test_now();
	test_problem_and_headers();
	test_several_records();
	test_chain();
	test_reuse();
	test_p_in_exp();
	test_budget();
	mt_dns_zone_free(zone);
	return mt_test_done();
}
