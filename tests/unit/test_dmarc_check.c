/* DMARC checks over an in-memory zone (draft-ietf-dmarc-dmarcbis-41
 * sections 4.10, 5.3; RFC 7489 for the PSL mode).  Each case states the
 * draft's rule it follows; the expected results are worked out from it. */
#include <mailtrust/dmarc.h>
#include <mailtrust/dns.h>

#include "mt_test.h"

static const char ZONE[] =
	"$ORIGIN example.\n"
	"$TTL 300\n"
	/* example.com: the Organizational Domain, p=reject, sp=quarantine, np=reject */
	"_dmarc.example.com. TXT \"v=DMARC1; p=reject; sp=quarantine; np=reject; rua=mailto:d@example.com\"\n"
	"example.com. A 192.0.2.1\n"
	"sub.example.com. A 192.0.2.2\n"
	"bounce.example.com. A 192.0.2.3\n"
	/* strict: the same but aspf=s adkim=s */
	"_dmarc.strict.test. TXT \"v=DMARC1; p=reject; aspf=s; adkim=s\"\n"
	"mail.strict.test. A 192.0.2.4\n"
	/* testing mode */
	"_dmarc.testing.test. TXT \"v=DMARC1; p=reject; t=y\"\n"
	/* two DMARC records at one name: both discarded */
	"_dmarc.twice.test. TXT \"v=DMARC1; p=reject\"\n"
	"_dmarc.twice.test. TXT \"v=DMARC1; p=none\"\n"
	/* a TXT record that is not DMARC beside a DMARC one */
	"_dmarc.mixed.test. TXT \"v=spf1 -all\"\n"
	"_dmarc.mixed.test. TXT \"v=DMARC1; p=quarantine\"\n"
	/* a public suffix with its own policy (psd=y) */
	"_dmarc.psd. TXT \"v=DMARC1; p=reject; psd=y\"\n"
	"shop.psd. A 192.0.2.5\n"
	/* psd=n: mail.corp.test is its own Organizational Domain */
	"_dmarc.corp.test. TXT \"v=DMARC1; p=none\"\n"
	"_dmarc.mail.corp.test. TXT \"v=DMARC1; p=reject; psd=n\"\n"
	/* invalid p but a valid rua: acts as p=none; invalid p, no rua: ignored */
	"_dmarc.badp.test. TXT \"v=DMARC1; p=rejectt; rua=mailto:r@badp.test\"\n"
	"_dmarc.badp2.test. TXT \"v=DMARC1; p=rejectt\"\n"
	/* DNS failures */
	"$FAULT _dmarc.broken.test. SERVFAIL\n"
	"$FAULT _dmarc.slow.test. TIMEOUT\n"
	/* a public suffix without psd=y and with a record: the tree walk makes
	 * it everyone's Organizational Domain, the PSL does not */
	"_dmarc.co.uk. TXT \"v=DMARC1; p=none\"\n"
	"_dmarc.example.co.uk. TXT \"v=DMARC1; p=reject\"\n";

static mt_dns_zone *zone;

typedef struct spec {
	const char *author;
	bool spf_pass;
	const char *spf;
	const char *dkim;      /* one d=, or NULL */
	bool dkim_pass;
	mt_dmarc_org_mode mode;
} spec;

static mt_dmarc_check *run(const spec *s)
{
	mt_dmarc_options o;
	mt_dmarc_options_init(&o);
	o.org_mode = s->mode;
	mt_dmarc_check *c = NULL;
	mt_error err;
	if (mt_dmarc_check_new(&o, s->author, &c, &err) != MT_OK) {
		fprintf(stderr, "new %s: %s\n", s->author, err.message);
		return NULL;
	}
	if (s->spf)
		CHECK_INT(mt_dmarc_check_set_spf(c, s->spf_pass, s->spf, &err), MT_OK);
	if (s->dkim)
		CHECK_INT(mt_dmarc_check_add_dkim(c, s->dkim, s->dkim_pass, &err), MT_OK);
	mt_dns_resolver *res = mt_dns_zone_resolver_new(zone);
	CHECK_INT(mt_dmarc_check_run(c, res), MT_OK);
	mt_dns_resolver_free(res);
	const mt_dmarc_outcome *out = mt_dmarc_check_outcome(c);
	CHECK(out != NULL);
	if (out && getenv("MT_TEST_VERBOSE"))
		fprintf(stderr, "%s: %s %s(%s) q=%u: %s\n", s->author, mt_dmarc_result_name(out->result),
		        out->policy_tag, mt_dmarc_policy_name(out->policy), out->queries, out->reason);
	return c;
}

#define OUT(c) mt_dmarc_check_outcome(c)

static void test_basic(void)
{
	/* the Author Domain's own record, SPF of the same domain: pass, 1 query */
	spec s = { "Example.COM.", true, "example.com", NULL, false, 0 };
	mt_dmarc_check *c = run(&s);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_PASS);
	CHECK(OUT(c)->spf_aligned);
	CHECK_STR(OUT(c)->policy_domain, "example.com");
	CHECK_STR(OUT(c)->policy_tag, "p");
	CHECK_INT(OUT(c)->policy, MT_DMARC_POLICY_REJECT);
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_NONE);
	CHECK_INT(OUT(c)->queries, 1);
	mt_dmarc_check_free(c);

	/* relaxed: bounce.example.com and example.com share example.com */
	spec s2 = { "example.com", true, "bounce.example.com", NULL, false, 0 };
	c = run(&s2);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_PASS);
	CHECK(OUT(c)->spf_aligned);
	CHECK_STR(OUT(c)->org_domain, "example.com");
	mt_dmarc_check_free(c);

	/* SPF passed for another domain, DKIM failed: fail, p=reject */
	spec s3 = { "example.com", true, "attacker.test", "example.com", false, 0 };
	c = run(&s3);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_REJECT);
	CHECK(!OUT(c)->spf_aligned && !OUT(c)->dkim_aligned);
	/* no walk for attacker.test: it shares no label with example.com */
	CHECK_INT(OUT(c)->queries, 1);
	mt_dmarc_check_free(c);

	/* DKIM pass from the parent domain aligns a subdomain author */
	spec s4 = { "sub.example.com", false, "sub.example.com", "example.com", true, 0 };
	c = run(&s4);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_PASS);
	CHECK(OUT(c)->dkim_aligned);
	CHECK_STR(OUT(c)->dkim_domain, "example.com");
	CHECK_STR(OUT(c)->policy_domain, "example.com");
	mt_dmarc_check_free(c);
}

static void test_policy_choice(void)
{
	/* an existing subdomain without its own record: sp= */
	spec s = { "sub.example.com", false, "sub.example.com", NULL, false, 0 };
	mt_dmarc_check *c = run(&s);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_STR(OUT(c)->policy_tag, "sp");
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_QUARANTINE);
	CHECK(OUT(c)->author_exists);
	mt_dmarc_check_free(c);

	/* a non-existent subdomain (NXDOMAIN, RFC 8020): np= */
	spec s2 = { "nowhere.example.com", false, NULL, NULL, false, 0 };
	c = run(&s2);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_STR(OUT(c)->policy_tag, "np");
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_REJECT);
	CHECK(!OUT(c)->author_exists);
	mt_dmarc_check_free(c);

	/* t=y: reject is applied as quarantine */
	spec s3 = { "testing.test", false, NULL, NULL, false, 0 };
	c = run(&s3);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK(OUT(c)->testing);
	CHECK_INT(OUT(c)->policy, MT_DMARC_POLICY_REJECT);
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_QUARANTINE);
	mt_dmarc_check_free(c);

	/* strict SPF: bounce.strict.test is not strict.test */
	spec s4 = { "strict.test", true, "mail.strict.test", "mail.strict.test", true, 0 };
	c = run(&s4);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_INT(OUT(c)->queries, 1); /* strict: no walk at all */
	mt_dmarc_check_free(c);

	/* two DMARC records: discarded, nothing above: none */
	spec s5 = { "twice.test", false, NULL, NULL, false, 0 };
	c = run(&s5);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_NONE);
	mt_dmarc_check_free(c);

	/* a non-DMARC TXT beside the DMARC one is discarded, the other used */
	spec s6 = { "mixed.test", false, NULL, NULL, false, 0 };
	c = run(&s6);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_INT(OUT(c)->policy, MT_DMARC_POLICY_QUARANTINE);
	mt_dmarc_check_free(c);

	/* invalid p with a valid rua: p=none (4.10.1); without rua: no DMARC */
	spec s7 = { "badp.test", false, NULL, NULL, false, 0 };
	c = run(&s7);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_NONE);
	mt_dmarc_check_free(c);
	spec s8 = { "badp2.test", false, NULL, NULL, false, 0 };
	c = run(&s8);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_NONE);
	mt_dmarc_check_free(c);

	/* nothing published: none */
	spec s9 = { "unpublished.test", true, "unpublished.test", NULL, false, 0 };
	c = run(&s9);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_NONE);
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_ABSENT);
	CHECK_INT(OUT(c)->queries, 2); /* _dmarc.unpublished.test, _dmarc.test */
	mt_dmarc_check_free(c);
}

static void test_tree_walk(void)
{
	/* psd=y at "psd": shop.psd is the Organizational Domain (rule 2); it
	 * has no record, so the PSD's applies, as to a subdomain */
	spec s = { "shop.psd", false, NULL, NULL, false, 0 };
	mt_dmarc_check *c = run(&s);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_STR(OUT(c)->policy_domain, "psd");
	CHECK_STR(OUT(c)->org_domain, "shop.psd");
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_REJECT);
	mt_dmarc_check_free(c);

	/* psd=n: a.mail.corp.test's Organizational Domain is mail.corp.test,
	 * so a DKIM pass for corp.test does not align */
	spec s2 = { "a.mail.corp.test", false, NULL, "corp.test", true, 0 };
	c = run(&s2);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_STR(OUT(c)->policy_domain, "mail.corp.test");
	CHECK_STR(OUT(c)->org_domain, "mail.corp.test");
	mt_dmarc_check_free(c);
	/* ... and one for x.mail.corp.test does */
	spec s3 = { "a.mail.corp.test", false, NULL, "x.mail.corp.test", true, 0 };
	c = run(&s3);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_PASS);
	mt_dmarc_check_free(c);

	/* a long name: at most 8 queries (the label-skipping rule), and the
	 * policy of example.com found */
	spec s4 = { "a.b.c.d.e.f.g.h.i.j.mail.example.com", false, NULL, NULL, false, 0 };
	c = run(&s4);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_STR(OUT(c)->policy_domain, "example.com");
	CHECK(OUT(c)->queries <= 8 + 1); /* + the existence question for np= */
	CHECK_STR(OUT(c)->policy_tag, "np"); /* the name does not exist in the zone */
	mt_dmarc_check_free(c);
}

static void test_errors(void)
{
	/* SERVFAIL at the policy: temperror, nothing applied */
	spec s = { "broken.test", true, "broken.test", NULL, false, 0 };
	mt_dmarc_check *c = run(&s);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_TEMPERROR);
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_ABSENT);
	CHECK(strstr(OUT(c)->reason, "SERVFAIL") != NULL);
	mt_dmarc_check_free(c);
	/* a timeout too */
	spec s2 = { "slow.test", true, "slow.test", NULL, false, 0 };
	c = run(&s2);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_TEMPERROR);
	mt_dmarc_check_free(c);

	mt_dmarc_check *x = NULL;
	mt_error err;
	CHECK_INT(mt_dmarc_check_new(NULL, "bad..name", &x, &err), MT_EINVAL);
	CHECK_INT(mt_dmarc_check_new(NULL, "example.com", &x, &err), MT_OK);
	for (int i = 0; i < MT_DMARC_DKIM_MAX; i++)
		CHECK_INT(mt_dmarc_check_add_dkim(x, "example.com", false, &err), MT_OK);
	CHECK_INT(mt_dmarc_check_add_dkim(x, "example.com", false, &err), MT_ERANGE);
	CHECK(mt_dmarc_check_outcome(x) == NULL); /* not run */
	mt_dmarc_check_free(x);
}

static void test_psl_mode(void)
{
	/* A record at a public suffix without psd=y: the tree walk takes co.uk
	 * as the Organizational Domain of both names and aligns them; the PSL
	 * (RFC 7489) keeps example.co.uk and other.co.uk apart.  This is the
	 * documented difference: PSOs are expected to publish psd=y. */
	spec tw = { "a.example.co.uk", true, "b.other.co.uk", NULL, false, MT_DMARC_ORG_TREEWALK };
	mt_dmarc_check *c = run(&tw);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_PASS);
	CHECK_STR(OUT(c)->org_domain, "co.uk");
	/* and the Organizational Domain's record (co.uk, p=none) is the one
	 * applied, not example.co.uk's p=reject (4.10.1's order) */
	CHECK_STR(OUT(c)->policy_domain, "co.uk");
	mt_dmarc_check_free(c);
	spec psl = { "a.example.co.uk", true, "b.other.co.uk", NULL, false, MT_DMARC_ORG_PSL };
	c = run(&psl);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_FAIL);
	CHECK_STR(OUT(c)->policy_domain, "example.co.uk");
	CHECK_STR(OUT(c)->org_domain, "example.co.uk");
	CHECK_INT(OUT(c)->disposition, MT_DMARC_POLICY_REJECT);
	/* _dmarc.a.example.co.uk, _dmarc.example.co.uk; no np= so no existence question */
	CHECK_INT(OUT(c)->queries, 2);
	mt_dmarc_check_free(c);
	/* both modes agree on an ordinary relaxed case */
	spec psl2 = { "example.com", true, "bounce.example.com", NULL, false, MT_DMARC_ORG_PSL };
	c = run(&psl2);
	CHECK_INT(OUT(c)->result, MT_DMARC_RESULT_PASS);
	mt_dmarc_check_free(c);
	/* a missing list file is an error with the file named */
	mt_dmarc_options o;
	mt_dmarc_options_init(&o);
	o.org_mode = MT_DMARC_ORG_PSL;
	o.psl_file = "/nonexistent/psl.dat";
	mt_dmarc_check *x = NULL;
	mt_error err;
	CHECK_INT(mt_dmarc_check_new(&o, "example.com", &x, &err), MT_EIO);
	CHECK(strstr(err.message, "/nonexistent/psl.dat") != NULL);
}

/* A list loaded once and shared by many checks gives the answers a list
 * loaded by each check gives; the checks never read psl_file then. */
static void test_psl_shared(void)
{
	mt_error err;
	mt_dmarc_psl *psl = NULL;
	CHECK_INT(mt_dmarc_psl_load("/nonexistent/psl.dat", &psl, &err), MT_EIO);
	CHECK(psl == NULL && strstr(err.message, "/nonexistent/psl.dat") != NULL);
	CHECK_INT(mt_dmarc_psl_load(NULL, NULL, &err), MT_EINVAL);
	CHECK_INT(mt_dmarc_psl_load(NULL, &psl, &err), MT_OK);
	mt_dmarc_psl_free(NULL);
	mt_dns_resolver *res = mt_dns_zone_resolver_new(zone);
	static const struct { const char *author, *spf; mt_dmarc_result want; const char *org; } cs[] = {
		{ "a.example.co.uk", "b.other.co.uk", MT_DMARC_RESULT_FAIL, "example.co.uk" },
		{ "example.com", "bounce.example.com", MT_DMARC_RESULT_PASS, "example.com" },
		{ "sub.example.com", "example.com", MT_DMARC_RESULT_PASS, "example.com" },
	};
	for (int round = 0; round < 100; round++) {
		for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
			mt_dmarc_options o;
			mt_dmarc_options_init(&o);
			o.org_mode = MT_DMARC_ORG_PSL;
			o.psl = psl;
			o.psl_file = "/nonexistent/psl.dat"; /* not read: psl is given */
			mt_dmarc_check *c = NULL;
			if (mt_dmarc_check_new(&o, cs[i].author, &c, &err) != MT_OK) {
				CHECK(!"mt_dmarc_check_new with a shared list");
				continue;
			}
			CHECK_INT(mt_dmarc_check_set_spf(c, true, cs[i].spf, &err), MT_OK);
			CHECK_INT(mt_dmarc_check_run(c, res), MT_OK);
			if (round == 0 || OUT(c)->result != cs[i].want) {
				CHECK_INT(OUT(c)->result, cs[i].want);
				CHECK_STR(OUT(c)->org_domain, cs[i].org);
			}
			mt_dmarc_check_free(c);
		}
	}
	mt_dns_resolver_free(res);
	mt_dmarc_psl_free(psl);
}

static void test_authres(void)
{
	spec s = { "example.com", true, "attacker.test", NULL, false, 0 };
	mt_dmarc_check *c = run(&s);
	mt_authres *ar = NULL;
	mt_error err;
	CHECK_INT(mt_authres_new("mx.test", &ar, &err), MT_OK);
	CHECK_INT(mt_dmarc_check_authres(c, ar, &err), MT_OK);
	char *txt = NULL;
	CHECK_INT(mt_authres_render(ar, 0, 0, &txt, &err), MT_OK);
	CHECK(txt && strstr(txt, "dmarc=fail") && strstr(txt, "header.from=example.com") &&
	      strstr(txt, "policy.dmarc=reject"));
	/* it parses back */
	mt_authres_parsed *p = NULL;
	size_t off = 0;
	CHECK_INT(mt_authres_parse(txt, strlen(txt), &p, &off, &err), MT_OK);
	mt_authres_parsed_free(p);
	mt_free(txt);
	mt_authres_free(ar);
	mt_dmarc_check_free(c);
}

int main(void)
{
	zone = mt_dns_zone_new();
	mt_error err;
	if (mt_dns_zone_load_text(zone, ZONE, strlen(ZONE), NULL, "test", &err) != MT_OK) {
		fprintf(stderr, "zone: %s\n", err.message);
		return 1;
	}
	test_basic();
	test_policy_choice();
	test_tree_walk();
	test_errors();
	test_psl_mode();
	test_psl_shared();
	test_authres();
	mt_dns_zone_free(zone);
	return mt_test_done();
}
