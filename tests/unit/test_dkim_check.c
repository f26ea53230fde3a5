/* Unit tests for mt_dkim_check_run (dkim_check.h): the published key
 * judged from zones, and the authoritative servers answered by zones of
 * their own through a server_resolver that maps an address to a zone.
 * Expectations from RFC 6376 3.6.1 / 6.1.2, RFC 8301 3.2, RFC 8463. */
#include <mailtrust/dkim_check.h>
#include <mailtrust/dkim_key.h>
#include "mt_test.h"

#define ED "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RSA1024 "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"

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

/* Two servers: 192.0.2.1 answers from servers[0], 192.0.2.2 from servers[1]. */
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

static bool has(const mt_dkim_check *c, const char *code, mt_dkim_check_severity sev)
{
	for (size_t i = 0; i < mt_dkim_check_finding_count(c); i++) {
		const mt_dkim_check_finding *f = mt_dkim_check_finding_at(c, i);
		if (strcmp(f->code, code) == 0 && f->severity == sev)
			return true;
	}
	return false;
}

static const mt_dkim_check_finding *find(const mt_dkim_check *c, const char *code)
{
	for (size_t i = 0; i < mt_dkim_check_finding_count(c); i++)
		if (strcmp(mt_dkim_check_finding_at(c, i)->code, code) == 0)
			return mt_dkim_check_finding_at(c, i);
	return NULL;
}

static mt_dkim_check *run(mt_dns_resolver *res, const char *sel, const mt_dkim_check_options *o)
{
	mt_dkim_check *c = NULL;
	mt_error err;
	mt_status st = mt_dkim_check_run(sel, "example.com", res, o, &c, &err);
	CHECK_INT(st, MT_OK);
	if (st != MT_OK) {
		fprintf(stderr, "  %s: %s\n", sel, err.message);
		exit(1);
	}
	return c;
}

static const char *const ZONE =
	"$ORIGIN example.com.\n$TTL 300\n"
	"@ NS ns1.example.net.\n@ NS ns2.example.net.\n"
	"ed._domainkey TXT \"" ED "\"\n"
	"rsa._domainkey TXT \"" RSA1024 "\"\n"
	"rev._domainkey TXT \"v=DKIM1; k=rsa; p=\"\n"
	"badv._domainkey TXT \"k=rsa; v=DKIM1; p=MIGf\"\n"
	"test._domainkey TXT \"v=DKIM1; k=ed25519; t=y:s; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
	"two._domainkey TXT \"" ED "\"\n"
	"two._domainkey TXT \"not a key\"\n"
	"cn._domainkey CNAME ed.keys.provider.example.\n"
	"split._domainkey TXT \"v=DKIM1; k=ed25519; \" \"p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
	"$FAULT slow._domainkey TIMEOUT\n"
	"$ORIGIN example.net.\n"
	"ns1 A 192.0.2.1\nns2 A 192.0.2.2\n"
	"$ORIGIN provider.example.\n"
	"@ NS ns1.example.net.\n"
	"ed.keys TXT \"" ED "\"\n";

int main(void)
{
	mt_dns_zone *z = load(ZONE);
	mt_dns_resolver *res = mt_dns_zone_resolver_new(z);
	mt_dkim_check_options o;
	mt_dkim_check *c;
	const mt_dkim_check_finding *f;
	const mt_dkim_check_key *k;
	mt_error err;

	mt_dkim_check_options_init(&o);
	CHECK(o.size == sizeof o);

	/* ---- offline: the key itself ---- */
	c = run(res, "ed", NULL);
	CHECK(mt_dkim_check_checked(c));
	CHECK_STR(mt_dkim_check_name(c), "ed._domainkey.example.com");
	CHECK_STR(mt_dkim_check_record(c), ED);
	CHECK(mt_dkim_check_cname(c) == NULL);
	k = mt_dkim_check_key_info(c);
	CHECK_STR(k->type, "ed25519");
	CHECK_INT(k->bits, 256);
	CHECK_INT(k->private_key_matches, -1);
	CHECK_INT(mt_dkim_check_worst(c), MT_DKIM_CHECK_INFO);
	CHECK(has(c, "publication-not-checked", MT_DKIM_CHECK_INFO));
	mt_dkim_check_free(c);

	c = run(res, "rsa", NULL); /* 1024 bits: valid, below 2048 (RFC 8301 3.2) */
	CHECK(has(c, "key-weak", MT_DKIM_CHECK_WARNING));
	CHECK_INT(mt_dkim_check_key_info(c)->bits, 1024);
	CHECK_INT(mt_dkim_check_worst(c), MT_DKIM_CHECK_WARNING);
	mt_dkim_check_free(c);

	c = run(res, "rev", NULL); /* empty p=: revoked, the caret on p */
	f = find(c, "revoked");
	CHECK(f && f->severity == MT_DKIM_CHECK_ERROR);
	CHECK(f && f->record && f->offset == 16 && f->length == 1);
	CHECK(mt_dkim_check_key_info(c)->revoked);
	CHECK(mt_dkim_check_key_info(c)->type == NULL);
	mt_dkim_check_free(c);

	c = run(res, "badv", NULL); /* v= must come first (RFC 6376 3.6.1) */
	f = find(c, "invalid-record");
	CHECK(f && f->offset == 7 && f->length == 1);
	mt_dkim_check_free(c);

	c = run(res, "test", NULL); /* t=y:s */
	CHECK(has(c, "testing", MT_DKIM_CHECK_WARNING));
	CHECK(has(c, "strict", MT_DKIM_CHECK_INFO));
	k = mt_dkim_check_key_info(c);
	CHECK(k->testing && k->strict);
	mt_dkim_check_free(c);

	c = run(res, "two", NULL); /* a key and another text: an error */
	CHECK(has(c, "multiple-records", MT_DKIM_CHECK_ERROR));
	CHECK_INT(mt_dkim_check_key_info(c)->ntxt, 2);
	CHECK_STR(mt_dkim_check_record(c), ED);
	mt_dkim_check_free(c);

	c = run(res, "cn", NULL);
	CHECK_STR(mt_dkim_check_cname(c), "ed.keys.provider.example");
	CHECK(has(c, "cname", MT_DKIM_CHECK_INFO));
	CHECK_STR(mt_dkim_check_record(c), ED);
	mt_dkim_check_free(c);

	c = run(res, "split", NULL);
	CHECK(has(c, "split-record", MT_DKIM_CHECK_INFO));
	CHECK_INT(mt_dkim_check_key_info(c)->strings, 2);
	CHECK_INT(mt_dkim_check_worst(c), MT_DKIM_CHECK_INFO);
	mt_dkim_check_free(c);

	c = run(res, "none", NULL);
	CHECK(mt_dkim_check_checked(c));
	CHECK(has(c, "no-key", MT_DKIM_CHECK_ERROR));
	CHECK(mt_dkim_check_record(c) == NULL);
	mt_dkim_check_free(c);

	c = run(res, "slow", NULL);
	CHECK(!mt_dkim_check_checked(c));
	CHECK(has(c, "lookup-failed", MT_DKIM_CHECK_ERROR));
	mt_dkim_check_free(c);

	/* refused calls */
	c = NULL;
	CHECK_INT(mt_dkim_check_run("bad sel", "example.com", res, NULL, &c, &err), MT_EINVAL);
	CHECK(c == NULL);
	CHECK_INT(mt_dkim_check_run("ed", "com", res, NULL, &c, &err), MT_EINVAL);
	CHECK_INT(mt_dkim_check_run(NULL, "example.com", res, NULL, &c, &err), MT_EINVAL);
	o.private_key_pem = "not a key";
	o.private_key_len = 9;
	CHECK_INT(mt_dkim_check_run("ed", "example.com", res, &o, &c, &err), MT_ESYNTAX);
	CHECK(c == NULL);
	mt_dkim_check_options_init(&o);

	/* --expect: the same key written otherwise is no finding; another is */
	o.expect = "v=DKIM1;k=ed25519;p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	c = run(res, "ed", &o);
	CHECK(find(c, "expect-differs") == NULL);
	mt_dkim_check_free(c);
	o.expect = RSA1024;
	c = run(res, "ed", &o);
	CHECK(has(c, "expect-differs", MT_DKIM_CHECK_ERROR));
	mt_dkim_check_free(c);
	o.expect = "v=DKIM1; k=rsa; q=; p=MIGf";
	c = run(res, "ed", &o);
	f = find(c, "expect-invalid");
	CHECK(f && f->record && strcmp(f->record, o.expect) == 0);
	mt_dkim_check_free(c);
	mt_dkim_check_options_init(&o);

	/* ---- the authoritative servers: 192.0.2.1 serves the same zone,
	 * 192.0.2.2 an older one (another key at ed, no CNAME at cn) ---- */
	servers[0] = load(ZONE);
	servers[1] = load("$ORIGIN example.com.\n$TTL 300\n"
	                  "ed._domainkey TXT \"" RSA1024 "\"\n"
	                  "cn._domainkey TXT \"" ED "\"\n");
	o.server_resolver = server_resolver;
	c = run(res, "ed", &o);
	CHECK_INT(mt_dkim_check_ns_count(c), 2);
	if (mt_dkim_check_ns_count(c) == 2) {
		const mt_dkim_check_ns *a = mt_dkim_check_ns_at(c, 0), *b = mt_dkim_check_ns_at(c, 1);
		CHECK_STR(a->server, "ns1.example.net");
		CHECK_STR(a->address, "192.0.2.1");
		CHECK(a->agrees && a->ntxt == 1 && a->cname == NULL);
		CHECK_STR(b->address, "192.0.2.2");
		CHECK(!b->agrees);
		CHECK_STR(b->record, RSA1024);
	}
	CHECK(has(c, "ns-disagree", MT_DKIM_CHECK_WARNING));
	CHECK(find(c, "publication-not-checked") == NULL);
	mt_dkim_check_free(c);

	/* the expected (new) key on one server of two */
	o.expect = ED;
	c = run(res, "ed", &o);
	CHECK(has(c, "expect-partial", MT_DKIM_CHECK_WARNING));
	CHECK(mt_dkim_check_ns_at(c, 0) && mt_dkim_check_ns_at(c, 0)->serves_expect);
	CHECK(mt_dkim_check_ns_at(c, 1) && !mt_dkim_check_ns_at(c, 1)->serves_expect);
	mt_dkim_check_free(c);
	/* an expected key that no server has: published at the wrong provider */
	o.expect = "v=DKIM1; k=rsa; p=";
	c = run(res, "ed", &o);
	f = find(c, "expect-not-published");
	CHECK(f && f->severity == MT_DKIM_CHECK_ERROR);
	CHECK(f && strstr(f->message, "ns1.example.net, ns2.example.net") != NULL);
	mt_dkim_check_free(c);
	o.expect = NULL;

	/* CNAME: the name's servers are asked for the CNAME, the target zone's
	 * (provider.example: ns1 only) for the key */
	c = run(res, "cn", &o);
	CHECK_INT(mt_dkim_check_ns_count(c), 3);
	if (mt_dkim_check_ns_count(c) == 3) {
		const mt_dkim_check_ns *a = mt_dkim_check_ns_at(c, 0), *b = mt_dkim_check_ns_at(c, 1),
		                       *p = mt_dkim_check_ns_at(c, 2);
		CHECK_STR(a->name, "cn._domainkey.example.com");
		CHECK_STR(a->cname, "ed.keys.provider.example");
		CHECK(a->agrees);
		CHECK(b->cname == NULL && !b->agrees); /* serves a TXT itself */
		CHECK_STR(p->name, "ed.keys.provider.example");
		CHECK_STR(p->address, "192.0.2.1");
		CHECK(p->agrees);
	}
	CHECK(has(c, "ns-disagree", MT_DKIM_CHECK_WARNING));
	mt_dkim_check_free(c);

	mt_dns_resolver_free(res);
	mt_dns_zone_free(servers[0]);
	mt_dns_zone_free(servers[1]);
	mt_dns_zone_free(z);
	return mt_test_done();
}
