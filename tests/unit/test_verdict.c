/* The verdict over in-memory zones: SPF for MAIL FROM and HELO (RFC 7208
 * 2.3, 2.4), DKIM (RFC 6376) on RFC 8463 Appendix A.3's signed message
 * with A.2's published keys, DMARC (draft-ietf-dmarc-dmarcbis-41 4.4,
 * 4.10, 5.3) and the one Authentication-Results field (RFC 8601).  The
 * message's signatures are RFC 8463's, not made by this library; every
 * expected result is worked out from the RFCs and the zone below. */
#include <mailtrust/verdict.h>
#include <mailtrust/dns.h>
#include <mailtrust/authres.h>

#include "mt_test.h"

#define ED "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RSA "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"

static const char KEYS[] =
	"$ORIGIN example.\n"
	"$TTL 300\n"
	"brisbane._domainkey.football.example.com. TXT \"" ED "\"\n"
	"test._domainkey.football.example.com. TXT \"" RSA "\"\n"
	/* MAIL FROM and HELO of the From domain: only 192.0.2.1 */
	"football.example.com. TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
	"mail.football.example.com. TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
	/* a bounce domain of someone else: only 192.0.2.9 */
	"bounce.other.test. TXT \"v=spf1 ip4:192.0.2.9 -all\"\n"
	"mail.other.test. TXT \"v=spf1 ip4:192.0.2.9 -all\"\n";

static const char POLICY[] =
	"_dmarc.football.example.com. TXT \"v=DMARC1; p=reject; sp=quarantine\"\n";

static char *message;
static size_t message_len;

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 > cap) {
			cap = (cap + 4096) * 2;
			char *b = realloc(buf, cap);
			if (!b)
				break;
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* The message with its body changed ("lost" -> "won!"): both body hashes
 * differ (RFC 6376 6.1.3). */
static char *tampered(size_t *len)
{
	char *m = malloc(message_len + 1);
	memcpy(m, message, message_len + 1);
	char *p = strstr(m, "We lost the game");
	if (p)
		memcpy(p + 3, "won!", 4);
	*len = message_len;
	return m;
}

typedef struct tx {
	const char *ip, *helo, *mail_from;
	const char *msg;
	size_t len;
	size_t chunk;   /* 0: all at once */
	bool policy;    /* publish the DMARC record */
	const char *extra_zone;
} tx;

static const mt_dmarc_psl *use_psl; /* set: PSL mode with this shared list */

static mt_verdict *run(const tx *t)
{
	mt_dns_zone *zone = mt_dns_zone_new();
	mt_error err;
	mt_verdict *v = NULL;
	mt_verdict_options o;

	CHECK_INT(mt_dns_zone_load_text(zone, KEYS, strlen(KEYS), NULL, "zone", &err), MT_OK);
	if (t->policy)
		CHECK_INT(mt_dns_zone_load_text(zone, POLICY, strlen(POLICY), NULL, "zone", &err), MT_OK);
	if (t->extra_zone)
		CHECK_INT(mt_dns_zone_load_text(zone, t->extra_zone, strlen(t->extra_zone), NULL, "zone", &err),
		          MT_OK);
	mt_verdict_options_init(&o);
	o.now = 1528637909 + 3600; /* an hour after the signatures' t= */
	if (use_psl) {
		o.org_mode = MT_DMARC_ORG_PSL;
		o.psl = use_psl;
	}
	CHECK_INT(mt_verdict_new(&o, &v, &err), MT_OK);
	CHECK_INT(mt_verdict_set_connection(v, t->ip, t->helo, &err), MT_OK);
	CHECK_INT(mt_verdict_set_mail_from(v, t->mail_from, &err), MT_OK);
	size_t chunk = t->chunk ? t->chunk : t->len + 1;
	for (size_t off = 0; off < t->len; off += chunk)
		CHECK_INT(mt_verdict_feed(v, t->msg + off, t->len - off < chunk ? t->len - off : chunk,
		                          &err), MT_OK);
	CHECK_INT(mt_verdict_finish(v, &err), MT_OK);
	mt_dns_resolver *res = mt_dns_zone_resolver_new(zone);
	CHECK_INT(mt_verdict_run(v, res), MT_OK);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	CHECK(mt_verdict_done(v));
	if (getenv("MT_TEST_VERBOSE")) {
		char *f = NULL;
		mt_verdict_authres_field(v, "mx.test", 0, &f, NULL);
		fprintf(stderr, "%s\n", f ? f : "(no field)");
		mt_free(f);
	}
	return v;
}

/* The field, parsed back with the library's parser: the method entry
 * number i. */
static mt_authres_parsed *field(const mt_verdict *v)
{
	char *f = NULL;
	mt_error err;
	mt_authres_parsed *p = NULL;
	size_t off = 0;
	CHECK_INT(mt_verdict_authres_field(v, "mx.example.org", 0, &f, &err), MT_OK);
	if (!f)
		return NULL;
	CHECK_INT(mt_authres_parse(f, strlen(f), &p, &off, &err), MT_OK);
	mt_free(f);
	return p;
}

static const char *prop(const mt_authres_method *m, const char *ptype, const char *name)
{
	for (size_t i = 0; i < m->prop_count; i++)
		if (strcmp(m->props[i].ptype, ptype) == 0 && strcmp(m->props[i].property, name) == 0)
			return m->props[i].value;
	return NULL;
}

/* Everything passes: both SPF identities, both signatures, DMARC by both. */
static void test_pass(void)
{
	tx t = { "192.0.2.1", "mail.football.example.com", "joe@football.example.com",
	         message, message_len, 0, true, NULL };
	for (int pass = 0; pass < 2; pass++) {
		t.chunk = pass ? 1 : 0; /* streamed one octet at a time, too */
		mt_verdict *v = run(&t);
		const mt_verdict_outcome *o = mt_verdict_result(v);
		CHECK(o != NULL);
		if (!o)
			return;
		CHECK_INT(o->spf_mailfrom, MT_SPF_PASS);
		CHECK(o->helo_checked);
		CHECK_INT(o->spf_helo, MT_SPF_PASS);
		CHECK_INT(o->dkim_signatures, 2);
		CHECK_INT(o->dkim_pass, 2);
		CHECK_INT(o->dmarc, MT_DMARC_RESULT_PASS);
		CHECK_INT(o->policy, MT_DMARC_POLICY_REJECT);
		CHECK_INT(o->disposition, MT_DMARC_POLICY_NONE);
		CHECK_INT(o->from_status, MT_DMARC_FROM_OK);
		CHECK_STR(o->from_domain, "football.example.com");
		CHECK(mt_verdict_dmarc(v) && mt_verdict_dmarc(v)->spf_aligned &&
		      mt_verdict_dmarc(v)->dkim_aligned);
		mt_authres_parsed *p = field(v);
		CHECK(p && p->method_count == 5);
		if (p && p->method_count == 5) {
			CHECK_STR(p->authserv_id, "mx.example.org");
			CHECK_STR(p->methods[0].method, "spf");
			CHECK_STR(p->methods[0].result, "pass");
			CHECK_STR(prop(&p->methods[0], "smtp", "mailfrom"), "football.example.com");
			CHECK_STR(p->methods[1].method, "spf");
			CHECK_STR(prop(&p->methods[1], "smtp", "helo"), "mail.football.example.com");
			CHECK_STR(p->methods[2].method, "dkim");
			CHECK_STR(p->methods[2].result, "pass");
			CHECK_STR(prop(&p->methods[2], "header", "d"), "football.example.com");
			CHECK_STR(prop(&p->methods[2], "header", "s"), "brisbane");
			CHECK_STR(prop(&p->methods[2], "header", "a"), "ed25519-sha256");
			CHECK_STR(prop(&p->methods[2], "header", "i"), "@football.example.com");
			CHECK_STR(prop(&p->methods[2], "header", "b"), "/gCrinpc");
			CHECK_STR(prop(&p->methods[3], "header", "s"), "test");
			CHECK_STR(prop(&p->methods[3], "header", "b"), "F45dVWDf");
			CHECK_STR(p->methods[4].method, "dmarc");
			CHECK_STR(p->methods[4].result, "pass");
			CHECK_STR(prop(&p->methods[4], "header", "from"), "football.example.com");
			CHECK_STR(prop(&p->methods[4], "policy", "dmarc"), "reject");
		}
		mt_authres_parsed_free(p);
		mt_verdict_free(v);
	}
}

/* SPF fails (wrong address), both signatures fail (tampered body): DMARC
 * fails and p=reject is the disposition. */
static void test_fail(void)
{
	size_t len;
	char *m = tampered(&len);
	tx t = { "198.51.100.7", "mail.football.example.com", "joe@football.example.com",
	         m, len, 0, true, NULL };
	mt_verdict *v = run(&t);
	const mt_verdict_outcome *o = mt_verdict_result(v);
	CHECK_INT(o->spf_mailfrom, MT_SPF_FAIL);
	CHECK_INT(o->spf_helo, MT_SPF_FAIL);
	CHECK_INT(o->dkim_signatures, 2);
	CHECK_INT(o->dkim_pass, 0);
	CHECK_INT(mt_dkim_verify_result(mt_verdict_dkim(v), 0)->fail, MT_DKIM_FAIL_BODY_HASH);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_FAIL);
	CHECK_INT(o->policy, MT_DMARC_POLICY_REJECT);
	CHECK_INT(o->disposition, MT_DMARC_POLICY_REJECT);
	mt_authres_parsed *p = field(v);
	CHECK(p && p->method_count == 5);
	if (p && p->method_count == 5) {
		CHECK_STR(p->methods[0].result, "fail");
		CHECK_STR(p->methods[2].result, "fail");
		CHECK_STR(p->methods[3].result, "fail");
		CHECK_STR(p->methods[4].result, "fail");
		CHECK_STR(prop(&p->methods[4], "policy", "dmarc"), "reject");
	}
	mt_authres_parsed_free(p);
	mt_verdict_free(v);

	/* SPF fails but an aligned signature passes: DMARC passes (DKIM) */
	tx t2 = { "198.51.100.7", NULL, "joe@football.example.com", message, message_len, 0,
	          true, NULL };
	v = run(&t2);
	o = mt_verdict_result(v);
	CHECK_INT(o->spf_mailfrom, MT_SPF_FAIL);
	CHECK(!o->helo_checked);
	CHECK(mt_verdict_spf_helo(v) == NULL);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_PASS);
	CHECK(!mt_verdict_dmarc(v)->spf_aligned && mt_verdict_dmarc(v)->dkim_aligned);
	p = field(v);
	CHECK(p && p->method_count == 4); /* no smtp.helo entry without a HELO */
	mt_authres_parsed_free(p);
	mt_verdict_free(v);

	/* SPF passes for someone else's bounce domain: not aligned; with the
	 * body tampered nothing is aligned */
	tx t3 = { "192.0.2.9", "mail.other.test", "x@bounce.other.test", m, len, 0, true, NULL };
	v = run(&t3);
	o = mt_verdict_result(v);
	CHECK_INT(o->spf_mailfrom, MT_SPF_PASS);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_FAIL);
	CHECK(!mt_verdict_dmarc(v)->spf_aligned);
	mt_verdict_free(v);

	/* MAIL FROM not null: the HELO result (a pass of the From domain's
	 * HELO name) is NOT used for DMARC (draft 4.4.2) */
	tx t4 = { "192.0.2.1", "mail.football.example.com", "x@bounce.other.test", m, len, 0, true,
	          NULL };
	v = run(&t4);
	o = mt_verdict_result(v);
	CHECK_INT(o->spf_mailfrom, MT_SPF_FAIL);
	CHECK_INT(o->spf_helo, MT_SPF_PASS);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_FAIL);
	mt_verdict_free(v);
	free(m);
}

/* The null reverse-path: the HELO identity's check is the SPF identifier. */
static void test_null_mail_from(void)
{
	size_t len;
	char *m = tampered(&len);
	tx t = { "192.0.2.1", "mail.football.example.com", NULL, m, len, 0, true, NULL };
	mt_verdict *v = run(&t);
	const mt_verdict_outcome *o = mt_verdict_result(v);
	CHECK_INT(o->spf_helo, MT_SPF_PASS);
	CHECK_INT(o->dkim_pass, 0);
	/* mail.football.example.com aligns relaxed with football.example.com */
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_PASS);
	CHECK(mt_verdict_dmarc(v)->spf_aligned);
	CHECK_STR(mt_verdict_spf_mailfrom(v)->sender, "postmaster@mail.football.example.com");
	mt_verdict_free(v);

	/* the same HELO from an address its record does not list: fail */
	tx t2 = { "198.51.100.7", "mail.football.example.com", "", m, len, 0, true, NULL };
	v = run(&t2);
	o = mt_verdict_result(v);
	CHECK_INT(o->spf_helo, MT_SPF_FAIL);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_FAIL);
	mt_verdict_free(v);

	/* a HELO of another domain that passes SPF is not aligned */
	tx t3 = { "192.0.2.9", "mail.other.test", NULL, m, len, 0, true, NULL };
	v = run(&t3);
	o = mt_verdict_result(v);
	CHECK_INT(o->spf_helo, MT_SPF_PASS);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_FAIL);
	mt_verdict_free(v);
	free(m);
}

/* No DMARC record anywhere on the walk: none, no policy property. */
static void test_none(void)
{
	tx t = { "192.0.2.1", "mail.football.example.com", "joe@football.example.com", message,
	         message_len, 0, false, NULL };
	mt_verdict *v = run(&t);
	const mt_verdict_outcome *o = mt_verdict_result(v);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_NONE);
	CHECK_INT(o->policy, MT_DMARC_POLICY_ABSENT);
	CHECK_INT(o->disposition, MT_DMARC_POLICY_ABSENT);
	CHECK_INT(o->dkim_pass, 2);
	mt_authres_parsed *p = field(v);
	if (p && p->method_count == 5) {
		CHECK_STR(p->methods[4].result, "none");
		CHECK_STR(prop(&p->methods[4], "header", "from"), "football.example.com");
		CHECK(prop(&p->methods[4], "policy", "dmarc") == NULL);
	} else {
		CHECK(!"five entries");
	}
	mt_authres_parsed_free(p);
	mt_verdict_free(v);
}

/* A DNS failure of policy discovery: temperror. */
static void test_temperror(void)
{
	static const char fault[] = "$FAULT _dmarc.football.example.com. SERVFAIL\n";
	tx t = { "192.0.2.1", NULL, "joe@football.example.com", message, message_len, 0, false,
	         fault };
	mt_verdict *v = run(&t);
	CHECK_INT(mt_verdict_result(v)->dmarc, MT_DMARC_RESULT_TEMPERROR);
	mt_verdict_free(v);
}

/* PSL mode (RFC 7489's Organizational Domains): one list loaded once and
 * lent to many verdicts gives the same answers as the tree walk here (the
 * policy is at the From domain itself); a list that cannot be loaded is
 * an error of mt_verdict_new, and a verdict loading its own list works. */
static void test_psl(void)
{
	mt_dmarc_psl *psl = NULL;
	mt_error err;
	CHECK_INT(mt_dmarc_psl_load(NULL, &psl, &err), MT_OK);
	for (int i = 0; i < 3; i++) {
		tx t = { "192.0.2.1", "mail.football.example.com", "joe@football.example.com", message,
		         message_len, 0, true, NULL };
		use_psl = psl;
		mt_verdict *v = run(&t);
		use_psl = NULL;
		CHECK_INT(mt_verdict_result(v)->dmarc, MT_DMARC_RESULT_PASS);
		CHECK_INT(mt_verdict_result(v)->policy, MT_DMARC_POLICY_REJECT);
		mt_verdict_free(v);
	}
	mt_dmarc_psl_free(psl); /* after the last verdict that borrowed it */

	mt_verdict_options o;
	mt_verdict *v = NULL;
	mt_verdict_options_init(&o);
	o.org_mode = MT_DMARC_ORG_PSL;
	o.psl_file = "/nonexistent/public_suffix_list.dat";
	CHECK(mt_verdict_new(&o, &v, &err) != MT_OK);
	CHECK(v == NULL);
	o.psl_file = NULL;
	CHECK_INT(mt_verdict_new(&o, &v, &err), MT_OK);
	mt_verdict_free(v);
}

/* Hostile headers: several From fields, thousands of them, a huge field,
 * NUL octets.  Results with reasons, never a failed call or a crash. */
static void test_hostile(void)
{
	/* a second From field on top (RFC 5322 3.6 allows one) */
	const char *extra = "From: Mallory <m@evil.test>\r\n";
	size_t len = strlen(extra) + message_len;
	char *m = malloc(len + 1);
	memcpy(m, extra, strlen(extra));
	memcpy(m + strlen(extra), message, message_len + 1);
	tx t = { "192.0.2.1", NULL, "joe@football.example.com", m, len, 0, true, NULL };
	mt_verdict *v = run(&t);
	const mt_verdict_outcome *o = mt_verdict_result(v);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_PERMERROR);
	CHECK_INT(o->from_status, MT_DMARC_FROM_MANY_FIELDS);
	CHECK(strstr(o->reason, "multiple-from") != NULL);
	CHECK(mt_verdict_dmarc(v) == NULL);
	CHECK_STR(o->from_domain, "");
	mt_authres_parsed *p = field(v);
	CHECK(p && p->methods[p->method_count - 1].result &&
	      strcmp(p->methods[p->method_count - 1].result, "permerror") == 0);
	mt_authres_parsed_free(p);
	mt_verdict_free(v);
	free(m);

	/* 5000 From fields: past the 1000-field cap, the header is not read */
	size_t cap = 5000 * 40 + message_len + 1;
	m = malloc(cap);
	len = 0;
	for (int i = 0; i < 5000; i++)
		len += (size_t)snprintf(m + len, cap - len, "From: u%d@d%d.test\r\n", i, i % 7);
	memcpy(m + len, message, message_len + 1);
	len += message_len;
	tx t2 = { "192.0.2.1", "mail.football.example.com", "joe@football.example.com", m, len,
	          4096, true, NULL };
	v = run(&t2);
	o = mt_verdict_result(v);
	CHECK(o->header_error);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_PERMERROR);
	CHECK_INT(o->spf_mailfrom, MT_SPF_PASS); /* SPF does not need the message */
	CHECK(mt_verdict_dkim(v) == NULL);
	p = field(v);
	CHECK(p && p->method_count == 4);
	if (p && p->method_count == 4) {
		CHECK_STR(p->methods[2].method, "dkim");
		CHECK_STR(p->methods[2].result, "permerror");
		CHECK_STR(p->methods[3].result, "permerror");
	}
	mt_authres_parsed_free(p);
	mt_verdict_free(v);
	free(m);

	/* one 2 MiB field: past the 1 MiB header cap */
	len = 2u << 20;
	m = malloc(len + message_len + 1);
	memcpy(m, "X-Big: ", 7);
	memset(m + 7, 'a', len - 9);
	memcpy(m + len - 2, "\r\n", 2);
	memcpy(m + len, message, message_len + 1);
	tx t3 = { "192.0.2.1", NULL, "", m, len + message_len, 65536, true, NULL };
	v = run(&t3);
	o = mt_verdict_result(v);
	CHECK(o->header_error);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_PERMERROR);
	mt_verdict_free(v);
	free(m);

	/* NUL octets in a header field and in the body */
	static const char nul[] = "From: a@football.example.com\r\nSubject: x\0y\r\n\r\nbody\0\r\n";
	tx t4 = { "192.0.2.1", NULL, "a@football.example.com", nul, sizeof nul - 1, 0, true, NULL };
	v = run(&t4);
	o = mt_verdict_result(v);
	CHECK_INT(o->dkim_signatures, 0);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_PASS); /* SPF aligned */
	p = field(v);
	CHECK(p && p->method_count == 3); /* spf, dkim=none, dmarc */
	if (p && p->method_count == 3)
		CHECK_STR(p->methods[1].result, "none");
	mt_authres_parsed_free(p);
	mt_verdict_free(v);

	/* 100 signatures: more than a field holds (64 results); the
	 * evaluated ones (10 by default) are reported, the field renders */
	cap = 100 * 120 + 200;
	m = malloc(cap);
	len = 0;
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(m + len, cap - len,
		                        "DKIM-Signature: v=1; a=rsa-sha256; d=football.example.com; "
		                        "s=test; h=from; bh=AAAA; b=BBBB%d\r\n", i);
	len += (size_t)snprintf(m + len, cap - len, "From: a@football.example.com\r\n\r\nx\r\n");
	tx t6 = { "192.0.2.1", NULL, "a@football.example.com", m, len, 0, true, NULL };
	v = run(&t6);
	o = mt_verdict_result(v);
	CHECK_INT(o->dkim_signatures, 100);
	CHECK_INT(o->dkim_pass, 0);
	CHECK_INT(o->dmarc, MT_DMARC_RESULT_PASS); /* SPF aligned */
	p = field(v);
	CHECK(p && p->method_count == 12); /* spf, 10 dkim, dmarc */
	mt_authres_parsed_free(p);
	mt_verdict_free(v);
	free(m);

	/* no From field at all */
	static const char nofrom[] = "Subject: x\r\n\r\nbody\r\n";
	tx t5 = { "192.0.2.1", NULL, "a@football.example.com", nofrom, sizeof nofrom - 1, 0, true,
	          NULL };
	v = run(&t5);
	CHECK_INT(mt_verdict_result(v)->dmarc, MT_DMARC_RESULT_PERMERROR);
	CHECK_INT(mt_verdict_result(v)->from_status, MT_DMARC_FROM_ABSENT);
	mt_verdict_free(v);
}

/* Calls out of order and bad arguments. */
static void test_api(void)
{
	mt_verdict *v = NULL;
	mt_error err;
	CHECK_INT(mt_verdict_new(NULL, &v, &err), MT_OK);
	CHECK_INT(mt_verdict_set_connection(v, "not-an-ip", NULL, &err), MT_EINVAL);
	CHECK(strstr(err.message, "not-an-ip") != NULL);
	CHECK_INT(mt_verdict_set_connection(v, NULL, NULL, &err), MT_EINVAL);
	CHECK_INT(mt_verdict_feed(v, NULL, 1, &err), MT_EINVAL);
	mt_dns_zone *zone = mt_dns_zone_new();
	mt_dns_resolver *res = mt_dns_zone_resolver_new(zone);
	CHECK_INT(mt_verdict_run(v, res), MT_ESTATE); /* no connection, not finished */
	CHECK(mt_verdict_result(v) == NULL);
	char *f = (char *)1;
	CHECK_INT(mt_verdict_authres_field(v, "mx", 0, &f, &err), MT_ESTATE);
	CHECK(f == NULL);
	CHECK_INT(mt_verdict_set_connection(v, "2001:db8::1", "h.example", &err), MT_OK);
	CHECK_INT(mt_verdict_run(v, res), MT_ESTATE); /* not finished */
	CHECK_INT(mt_verdict_finish(v, &err), MT_OK);
	CHECK_INT(mt_verdict_finish(v, &err), MT_ESTATE);
	CHECK_INT(mt_verdict_feed(v, "x", 1, &err), MT_ESTATE);
	CHECK_INT(mt_verdict_run(v, res), MT_OK);
	CHECK_INT(mt_verdict_set_mail_from(v, "a@b.example", &err), MT_ESTATE);
	/* an empty message: no From, permerror; SPF of nothing known: none */
	CHECK_INT(mt_verdict_result(v)->dmarc, MT_DMARC_RESULT_PERMERROR);
	CHECK_INT(mt_verdict_authres_field(v, "bad\nid", 0, &f, &err), MT_EINVAL);
	mt_verdict_free(v);
	mt_verdict_free(NULL);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
}

/* Many verdicts on one driver at once: each as when run alone. */
static void test_driver(void)
{
	mt_dns_zone *zone = mt_dns_zone_new();
	mt_error err;
	CHECK_INT(mt_dns_zone_load_text(zone, KEYS, strlen(KEYS), NULL, "zone", &err), MT_OK);
	CHECK_INT(mt_dns_zone_load_text(zone, POLICY, strlen(POLICY), NULL, "zone", &err), MT_OK);
	mt_dns_resolver *res = mt_dns_zone_resolver_new(zone);
	mt_run *run = NULL;
	CHECK_INT(mt_run_new(res, NULL, &run, &err), MT_OK);
	size_t tlen;
	char *tm = tampered(&tlen);
	enum { N = 40 };
	mt_verdict *v[N];
	for (int i = 0; i < N; i++) {
		mt_verdict_options o;
		mt_verdict_options_init(&o);
		o.now = 1528637909 + 60;
		CHECK_INT(mt_verdict_new(&o, &v[i], &err), MT_OK);
		/* even: everything passes; odd: SPF from a foreign address and
		 * a tampered body */
		CHECK_INT(mt_verdict_set_connection(v[i], i % 2 ? "198.51.100.7" : "192.0.2.1",
		                                    "mail.football.example.com", &err), MT_OK);
		CHECK_INT(mt_verdict_set_mail_from(v[i], "joe@football.example.com", &err), MT_OK);
		CHECK_INT(mt_verdict_feed(v[i], i % 2 ? tm : message, message_len, &err), MT_OK);
		CHECK_INT(mt_verdict_finish(v[i], &err), MT_OK);
		CHECK_INT(mt_run_add(run, mt_verdict_job_ops(), v[i], 0, (void *)(intptr_t)i), MT_OK);
	}
	int finished = 0;
	while (mt_run_jobs(run) > 0) {
		void *job, *user;
		CHECK_INT(mt_run_wait(run, 1000), MT_OK);
		while (mt_run_next(run, &job, &user)) {
			int i = (int)(intptr_t)user;
			CHECK(job == v[i]);
			const mt_verdict_outcome *o = mt_verdict_result(v[i]);
			CHECK(o != NULL);
			if (o)
				CHECK_INT(o->dmarc, i % 2 ? MT_DMARC_RESULT_FAIL : MT_DMARC_RESULT_PASS);
			finished++;
		}
	}
	CHECK_INT(finished, N);
	for (int i = 0; i < N; i++)
		mt_verdict_free(v[i]);
	free(tm);
	mt_run_free(run);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
}

int main(void)
{
	message = read_file("dkim/rfc8463-signed.eml", &message_len);
	if (!message) {
		fprintf(stderr, "cannot read dkim/rfc8463-signed.eml (run from tests/data)\n");
		return 1;
	}
	test_pass();
	test_fail();
	test_null_mail_from();
	test_none();
	test_temperror();
	test_psl();
	test_hostile();
	test_api();
	test_driver();
	free(message);
	printf("test_verdict: %d passed, %d failed\n", mt_test_passed, mt_test_failed);
	return mt_test_failed ? 1 : 0;
}
