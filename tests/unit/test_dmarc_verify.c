/* Unit tests for mt_dmarc_verify_run and mt_dmarc_build (dmarc_verify.h):
 * the policy record judged from zones, and the authoritative servers
 * answered by zones of their own through a server_resolver that maps an
 * address to a zone.  Expectations from draft-ietf-dmarc-dmarcbis-41
 * (4.7 tags and defaults, 4.10 tree walk, 4.10.1 several records / not
 * applied, Appendix B.2.3 the external destination's record). */
#include <mailtrust/dmarc_verify.h>
#include "mt_test.h"

static mt_dns_zone *load(const char *text)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err;
	if (!z || mt_dns_zone_load_text(z, text, strlen(text), NULL, "test", &err) != MT_OK) {
		fprintf(stderr, "zone: %s\n", z ? err.message : "out of memory");
		exit(1);
	}
	return z;
}

/* 192.0.2.1 answers from servers[0], 192.0.2.2 from servers[1]. */
static mt_dns_zone *servers[2];
static mt_status server_resolver(void *ctx, const char *address, unsigned port,
                                 mt_dns_resolver **out)
{
	(void)ctx;
	CHECK_INT(port, 53);
	if (strcmp(address, "192.0.2.1") == 0)
		*out = mt_dns_zone_resolver_new(servers[0]);
	else if (strcmp(address, "192.0.2.2") == 0)
		*out = mt_dns_zone_resolver_new(servers[1]);
	else
		return MT_EINVAL;
	return *out ? MT_OK : MT_ENOMEM;
}

static const mt_dmarc_verify_finding *find(const mt_dmarc_verify *v, const char *code)
{
	for (size_t i = 0; i < mt_dmarc_verify_finding_count(v); i++)
		if (strcmp(mt_dmarc_verify_finding_at(v, i)->code, code) == 0)
			return mt_dmarc_verify_finding_at(v, i);
	return NULL;
}

static bool has(const mt_dmarc_verify *v, const char *code, mt_dmarc_verify_severity sev)
{
	const mt_dmarc_verify_finding *f = find(v, code);
	return f && f->severity == sev;
}

static mt_dmarc_verify *run(mt_dns_resolver *res, const char *domain,
                            const mt_dmarc_verify_options *o)
{
	mt_dmarc_verify *v = NULL;
	mt_error err;
	memset(&err, 0, sizeof err);
	if (mt_dmarc_verify_run(domain, res, o, &v, &err) != MT_OK) {
		fprintf(stderr, "run %s: %s\n", domain, err.message);
		exit(1);
	}
	return v;
}

static void test_build(void)
{
	mt_dmarc_build_options o;
	const char *rua[3] = { "dmarc@example.com", "mailto:agg@example.net", "x" };
	char *rec = NULL;
	mt_error err;

	memset(&o, 0, sizeof o);
	CHECK_INT(mt_dmarc_build(&o, &rec, &err), MT_EINVAL); /* no p */
	o.p = MT_DMARC_POLICY_REJECT;
	CHECK_INT(mt_dmarc_build(&o, &rec, &err), MT_OK);
	CHECK_STR(rec, "v=DMARC1; p=reject");
	mt_free(rec);
	o.sp = MT_DMARC_POLICY_QUARANTINE;
	o.np = MT_DMARC_POLICY_REJECT;
	o.adkim = 's';
	o.testing = true;
	o.psd = MT_DMARC_PSD_NO;
	o.fo = "1:d";
	o.rua = rua;
	o.nrua = 2;
	CHECK_INT(mt_dmarc_build(&o, &rec, &err), MT_OK);
	CHECK_STR(rec, "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; t=y; psd=n; fo=1:d; "
	               "rua=mailto:dmarc@example.com,mailto:agg@example.net");
	/* what build writes, the parser reads back with the same values */
	{
		mt_dmarc_record *r = NULL;
		CHECK_INT(mt_dmarc_record_parse(rec, strlen(rec), &r, &err), MT_OK);
		if (r) {
			CHECK_INT(mt_dmarc_record_sp(r), MT_DMARC_POLICY_QUARANTINE);
			CHECK_INT(mt_dmarc_record_np(r), MT_DMARC_POLICY_REJECT);
			CHECK(mt_dmarc_record_strict_dkim(r) && !mt_dmarc_record_strict_spf(r));
			CHECK(mt_dmarc_record_testing(r));
			CHECK_INT(mt_dmarc_record_rua_count(r), 2);
			CHECK_INT(mt_dmarc_record_finding_count(r), 0);
		}
		mt_dmarc_record_free(r);
	}
	mt_free(rec);
	rec = NULL;
	/* refused: a URI that is not one, a bad fo, a ',' inside a URI */
	o.nrua = 3;
	CHECK_INT(mt_dmarc_build(&o, &rec, &err), MT_ESYNTAX);
	CHECK(rec == NULL);
	o.nrua = 1;
	o.fo = "x";
	CHECK_INT(mt_dmarc_build(&o, &rec, &err), MT_ESYNTAX);
	o.fo = NULL;
	rua[0] = "mailto:a@example.com,b@example.com";
	CHECK_INT(mt_dmarc_build(&o, &rec, &err), MT_ESYNTAX);
	CHECK_INT(mt_dmarc_build(NULL, &rec, &err), MT_EINVAL);
}

int main(void)
{
	mt_dmarc_verify_options o;
	mt_dmarc_verify *v;
	mt_dns_resolver *res;
	const mt_dmarc_verify_finding *f;
	mt_dns_zone *z;

	test_build();

	z = load("$ORIGIN example.com.\n$TTL 600\n"
	         "_dmarc TXT \"v=DMARC1; p=reject; rua=mailto:d@example.com,mailto:r@third.example\"\n"
	         "www A 192.0.2.80\n"
	         "$ORIGIN third.example.\n"
	         "example.com._report._dmarc TXT \"v=DMARC1;\"\n"
	         "$ORIGIN none.example.\n"
	         "_dmarc TXT \"v=DMARC1; p=none\"\n"
	         "$ORIGIN two.example.\n"
	         "_dmarc TXT \"v=DMARC1; p=reject\"\n"
	         "_dmarc TXT \"v=DMARC1; p=none\"\n"
	         "$ORIGIN bad.example.\n"
	         "_dmarc TXT \"v=DMARC1; p=reject; aspf=x; pct=10; rua=mailto:d@elsewhere.example\"\n"
	         "$ORIGIN bare.example.\n"
	         "dmarc TXT \"v=DMARC1; p=reject\"\n"
	         "_dmarc TXT \"v=dmarc1; p=reject\"\n"
	         "$ORIGIN ns.example.\n"
	         "@ NS ns1.ns.example.\n"
	         "@ NS ns2.ns.example.\n"
	         "ns1 A 192.0.2.1\n"
	         "ns2 A 192.0.2.2\n"
	         "_dmarc TXT \"v=DMARC1; p=quarantine\"\n");
	res = mt_dns_zone_resolver_new(z);
	mt_dmarc_verify_options_init(&o);

	/* a clean record at the domain; its external destination authorizes it */
	v = run(res, "Example.COM.", &o);
	CHECK(mt_dmarc_verify_checked(v));
	CHECK_STR(mt_dmarc_verify_domain(v), "example.com");
	CHECK_STR(mt_dmarc_verify_name(v), "_dmarc.example.com");
	CHECK_INT(mt_dmarc_verify_source_of(v), MT_DMARC_SOURCE_DOMAIN);
	CHECK_INT(mt_dmarc_verify_policy(v), MT_DMARC_POLICY_REJECT);
	CHECK_INT(mt_dmarc_verify_ttl(v), 600);
	CHECK_INT(mt_dmarc_verify_worst(v), MT_DMARC_VERIFY_INFO);
	CHECK_INT(mt_dmarc_verify_dest_count(v), 1);
	if (mt_dmarc_verify_dest_count(v) == 1) {
		CHECK_STR(mt_dmarc_verify_dest_at(v, 0)->name, "example.com._report._dmarc.third.example");
		CHECK_INT(mt_dmarc_verify_dest_at(v, 0)->state, MT_DMARC_AUTH_AUTHORIZED);
	}
	CHECK(has(v, "publication-not-checked", MT_DMARC_VERIFY_INFO));
	mt_dmarc_verify_free(v);

	/* 4.10: a subdomain without a record takes the Organizational Domain's */
	v = run(res, "a.b.www.example.com", &o);
	CHECK_INT(mt_dmarc_verify_source_of(v), MT_DMARC_SOURCE_INHERITED);
	CHECK_STR(mt_dmarc_verify_policy_domain(v), "example.com");
	CHECK_INT(mt_dmarc_verify_policy(v), MT_DMARC_POLICY_REJECT);
	CHECK(has(v, "inherited", MT_DMARC_VERIFY_INFO));
	CHECK_INT(mt_dmarc_verify_record_count(v), 0);
	mt_dmarc_verify_free(v);

	/* p=none without rua */
	v = run(res, "none.example", &o);
	CHECK(has(v, "monitoring-only", MT_DMARC_VERIFY_WARNING));
	CHECK(has(v, "no-rua", MT_DMARC_VERIFY_WARNING));
	CHECK_INT(mt_dmarc_verify_worst(v), MT_DMARC_VERIFY_WARNING);
	mt_dmarc_verify_free(v);

	/* several records: none applies */
	v = run(res, "two.example", &o);
	CHECK_INT(mt_dmarc_verify_record_count(v), 2);
	CHECK(has(v, "multiple-records", MT_DMARC_VERIFY_ERROR));
	CHECK(mt_dmarc_verify_source_of(v) != MT_DMARC_SOURCE_DOMAIN);
	mt_dmarc_verify_free(v);

	/* a bad tag with its offset (aspf=x: the value at 25; pct=10 at 28), obsolete pct, an
	 * unauthorized destination */
	v = run(res, "bad.example", &o);
	f = find(v, "syntax-error");
	CHECK(f && f->severity == MT_DMARC_VERIFY_ERROR && f->offset == 25 && f->length == 1);
	f = find(v, "obsolete-tag");
	CHECK(f && f->offset == 28 && f->length == 6);
	CHECK(has(v, "report-not-authorized", MT_DMARC_VERIFY_WARNING));
	CHECK(mt_dmarc_verify_dest_count(v) == 1 &&
	      mt_dmarc_verify_dest_at(v, 0)->state == MT_DMARC_AUTH_MISSING);
	mt_dmarc_verify_free(v);

	/* a look-alike at _dmarc and the record at dmarc. */
	v = run(res, "bare.example", &o);
	CHECK(has(v, "no-record", MT_DMARC_VERIFY_ERROR));
	CHECK(has(v, "not-dmarc-record", MT_DMARC_VERIFY_ERROR));
	CHECK(has(v, "wrong-name", MT_DMARC_VERIFY_ERROR));
	CHECK_INT(mt_dmarc_verify_source_of(v), MT_DMARC_SOURCE_NONE);
	mt_dmarc_verify_free(v);

	/* the authoritative servers: ns1 serves the record, ns2 another one */
	servers[0] = load("$ORIGIN ns.example.\n_dmarc 300 TXT \"v=DMARC1; p=quarantine\"\n");
	servers[1] = load("$ORIGIN ns.example.\n_dmarc 300 TXT \"v=DMARC1; p=reject\"\n");
	o.server_resolver = server_resolver;
	o.expect = "v=DMARC1;  p=reject;";
	v = run(res, "ns.example", &o);
	CHECK_INT(mt_dmarc_verify_ns_count(v), 2);
	if (mt_dmarc_verify_ns_count(v) == 2) {
		CHECK(mt_dmarc_verify_ns_at(v, 0)->agrees && !mt_dmarc_verify_ns_at(v, 0)->serves_expect);
		CHECK(!mt_dmarc_verify_ns_at(v, 1)->agrees && mt_dmarc_verify_ns_at(v, 1)->serves_expect);
	}
	CHECK(has(v, "ns-disagree", MT_DMARC_VERIFY_WARNING));
	CHECK(has(v, "expect-partial", MT_DMARC_VERIFY_WARNING));
	CHECK(has(v, "expect-differs", MT_DMARC_VERIFY_ERROR));
	mt_dmarc_verify_free(v);
	/* served by neither: added at a provider that is not the DNS host */
	o.expect = "v=DMARC1; p=none; rua=mailto:x@ns.example";
	v = run(res, "ns.example", &o);
	f = find(v, "expect-not-published");
	CHECK(f && f->severity == MT_DMARC_VERIFY_ERROR &&
	      strstr(f->message, "ns1.ns.example, ns2.ns.example") != NULL);
	mt_dmarc_verify_free(v);

	/* bad arguments */
	{
		mt_dmarc_verify *x = NULL;
		mt_error err;
		CHECK_INT(mt_dmarc_verify_run("a..b", res, NULL, &x, &err), MT_EINVAL);
		CHECK_INT(mt_dmarc_verify_run(NULL, res, NULL, &x, &err), MT_EINVAL);
		CHECK(x == NULL);
	}

	mt_dns_resolver_free(res);
	mt_dns_zone_free(servers[0]);
	mt_dns_zone_free(servers[1]);
	mt_dns_zone_free(z);
	return mt_test_done();
}
