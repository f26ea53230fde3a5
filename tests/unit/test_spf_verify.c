/* spf verify: every finding code on in-memory zones, the shapes from
 * providers' instructions (issue 4), the tree and its lookup counts
 * (RFC 7208 4.6.4), publication through a fake per-server resolver, and
 * authorization. */
#include "mt_test.h"
#include <mailtrust/spf_verify.h>
#include <stdlib.h>

static mt_dns_zone *zone;
static mt_dns_resolver *res;
/* Publication: each authoritative server's own copy of the zone. */
static mt_dns_zone *server_a, *server_b;

static void txt_in(mt_dns_zone *z, const char *name, const char *text)
{
	const char *s[1] = {text};
	size_t l[1] = {strlen(text)};
	CHECK_INT(mt_dns_zone_add_txt(z, name, MT_DNS_TXT, 300, s, l, 1), MT_OK);
}

static void txt(const char *name, const char *text) { txt_in(zone, name, text); }

static void txt2(const char *name, const char *s1, const char *s2)
{
	const char *s[2] = {s1, s2};
	size_t l[2] = {strlen(s1), strlen(s2)};
	CHECK_INT(mt_dns_zone_add_txt(zone, name, MT_DNS_TXT, 300, s, l, 2), MT_OK);
}

static void a4(mt_dns_zone *z, const char *name, uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3)
{
	uint8_t ad[4] = {a0, a1, a2, a3};
	CHECK_INT(mt_dns_zone_add(z, name, MT_DNS_A, 300, 0, ad, 4), MT_OK);
}

static void ns(const char *name, const char *host)
{
	CHECK_INT(mt_dns_zone_add(zone, name, MT_DNS_NS, 300, 0, host, strlen(host)), MT_OK);
}

static void build_zone(void)
{
	zone = mt_dns_zone_new();
	/* the provider */
	txt("zoho.com", "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:100::/48 -all");
	txt("one.zoho.com", "v=spf1 ip4:203.0.113.0/24 -all");
	/* issue 4 shapes */
	txt("clean.example", "v=spf1 include:zoho.com -all");
	txt("valid.example", "v=spf1 ip4:192.168.20.25 ip6:1080::8:800:68.0.3.1/96 include:zoho.com ~all");
	txt("three.example", "v=spf1 ip4:192.168.20.25 ~all");
	txt("three.example", "v=spf1 ip6:1080::8:800:68.0.3.1/96 ~all");
	txt("three.example", "v=spf1 include:zoho.com ~all");
	txt("eq.example", "=spf1 include:one.zoho.com -all");
	/* look-alikes */
	txt("glue.example", "v=spf1include:zoho.com -all");
	txt("nov.example", "spf1 include:zoho.com -all");
	txt("space1.example", "v=spf 1 include:zoho.com -all");
	txt("space2.example", "v= spf1 include:zoho.com -all");
	txt("quoted.example", "\"v=spf1 include:zoho.com -all\"");
	txt("lead.example", " v=spf1 include:zoho.com -all");
	txt("sid.example", "v=spf2.0/pra include:zoho.com -all");
	txt("sid.example", "v=spf1 include:zoho.com -all");
	txt("none.example", "google-site-verification=abc");
	/* pasted from a word processor (issue 7 item 3): typographic quotes,
	 * guillemets, a no-break space, U+2009 inside */
	txt("curly.example", "\u201cv=spf1 include:zoho.com -all\u201d");
	txt("single.example", "\u2018v=spf1 include:zoho.com -all\u2019");
	txt("guil.example", "\u00abv=spf1 include:zoho.com -all\u00bb");
	txt("nbsp.example", "\u00a0v=spf1 include:zoho.com -all\u00a0");
	txt("thin.example", "v=spf1\u2009include:zoho.com -all");
	txt("nbspin.example", "v=spf1 include:zoho.com\u00a0-all");
	txt("curlyend.example", "v=spf1 include:zoho.com -all\u00bb");
	/* type 99 */
	{
		const char *s[1] = {"v=spf1 -all"};
		size_t l[1] = {11};
		CHECK_INT(mt_dns_zone_add_txt(zone, "t99.example", MT_DNS_SPF, 300, s, l, 1), MT_OK);
	}
	/* split records */
	txt2("split.example", "v=spf1 ip4:192.0.2.1 ", "include:zoho.com -all");
	txt2("splitglue.example", "v=spf1 include:zoho.com", "-all");
	/* syntax */
	txt("glued.example", "v=spf1 include:zoho.com-all");
	txt("glued2.example", "v=spf1 include:zoho.cominclude:one.zoho.com -all");
	txt("host4.example", "v=spf1 ip4:mail.zoho.com -all");
	txt("pre4.example", "v=spf1 ip4:192.0.2.0/33 -all");
	txt("host6.example", "v=spf1 ip6:mail.zoho.com -all");
	txt("trail.example", "v=spf1 ip4:192.0.2.1 -all ");
	txt("pre6.example", "v=spf1 ip6:2001:db8::/129 -all");
	txt("typo.example", "v=spf1 include:\xe2\x80\x9czoho.com\xe2\x80\x9d -all");
	txt("comma.example", "v=spf1 ip4:192.0.2.1, -all");
	txt("dot.example", "v=spf1 ip4:192.0.2.1 -all.");
	txt("inlcude.example", "v=spf1 inlcude:zoho.com -all");
	txt("ipv4.example", "v=spf1 ipv4:192.0.2.1 -all");
	txt("redirct.example", "v=spf1 redirct=zoho.com");
	txt("dup.example", "v=spf1 redirect=zoho.com redirect=one.zoho.com");
	txt("two-errors.example", "v=spf1 foo:x.example ip4:1.2.3 -all");
	txt("redir-all.example", "v=spf1 redirect=zoho.com -all");
	txt("after.example", "v=spf1 -all ip4:192.0.2.1");
	/* policy */
	txt("plus.example", "v=spf1 +all");
	txt("neutral.example", "v=spf1 ip4:192.0.2.1 ?all");
	txt("noall.example", "v=spf1 ip4:192.0.2.1");
	txt("redir.example", "v=spf1 redirect=zoho.com");
	txt("ptr.example", "v=spf1 ptr -all");
	txt("broad4.example", "v=spf1 ip4:10.0.0.0/8 -all");
	txt("broad6.example", "v=spf1 ip6:2001:db8::/32 -all");
	txt("macro.example", "v=spf1 exists:%{i}._spf.zoho.com -all");
	txt("incnone.example", "v=spf1 include:nothing.example -all");
	txt("nothing.example", "just text");
	txt("redirnone.example", "v=spf1 redirect=nothing.example");
	/* limits */
	txt("loop1.example", "v=spf1 include:loop2.example -all");
	txt("loop2.example", "v=spf1 include:loop1.example -all");
	txt("l3.example", "v=spf1 a:h.zoho.com a:h.zoho.com a:h.zoho.com -all");
	a4(zone, "h.zoho.com", 198, 51, 100, 1);
	txt("many.example", "v=spf1 include:l3.example include:l3.example include:l3.example ~all");
	txt("near.example", "v=spf1 include:l3.example include:l3.example a:h.zoho.com -all");
	txt("void.example", "v=spf1 a:nx1.example mx:nx2.example exists:nx3.example -all");
	txt("void1.example", "v=spf1 a:nx1.example ip4:192.0.2.1 -all");
	txt("mx.example", "v=spf1 mx -all");
	for (int i = 0; i < 11; i++) {
		char host[32];
		snprintf(host, sizeof host, "m%d.example", i);
		CHECK_INT(mt_dns_zone_add(zone, "mx.example", MT_DNS_MX, 300, (uint16_t)i, host,
		                          strlen(host)), MT_OK);
		a4(zone, host, 192, 0, 2, (uint8_t)(10 + i));
	}
	txt("incdns.example", "v=spf1 include:fails.example -all");
	CHECK_INT(mt_dns_zone_add_fault(zone, "fails.example", MT_DNS_TXT, MT_DNS_SERVFAIL), MT_OK);
	txt("incmulti.example", "v=spf1 include:three.example -all");
	txt("incsyn.example", "v=spf1 include:pre4.example -all");
	/* a chain deeper than 20 includes */
	for (int i = 0; i < 25; i++) {
		char name[32], rec[64];
		snprintf(name, sizeof name, "d%d.example", i);
		snprintf(rec, sizeof rec, "v=spf1 include:d%d.example -all", i + 1);
		txt(name, rec);
	}
	txt("d25.example", "v=spf1 -all");
	/* a wide tree: 1 + 8 + 64 records, more than 50 */
	txt("wide.example", "v=spf1 include:w0.example include:w1.example include:w2.example "
	                    "include:w3.example include:w4.example include:w5.example "
	                    "include:w6.example include:w7.example -all");
	for (int i = 0; i < 8; i++) {
		char name[32], rec[300];
		size_t n;
		snprintf(name, sizeof name, "w%d.example", i);
		n = (size_t)snprintf(rec, sizeof rec, "v=spf1");
		for (int j = 0; j < 8; j++)
			n += (size_t)snprintf(rec + n, sizeof rec - n, " include:x%d.example", j);
		snprintf(rec + n, sizeof rec - n, " -all");
		txt(name, rec);
		snprintf(name, sizeof name, "x%d.example", i);
		txt(name, "v=spf1 ip4:192.0.2.1 -all");
	}
	/* size */
	{
		char rec[600];
		size_t n = (size_t)snprintf(rec, sizeof rec, "v=spf1");
		for (int i = 0; i < 30; i++)
			n += (size_t)snprintf(rec + n, sizeof rec - n, " ip4:192.0.2.%d", i + 100);
		snprintf(rec + n, sizeof rec - n, " -all");
		/* in strings of at most 255 octets */
		const char *s[3] = {rec, rec + 255, rec + 510};
		size_t total = strlen(rec);
		size_t l[3] = {255, total - 255 > 255 ? 255 : total - 255, total > 510 ? total - 510 : 0};
		CHECK_INT(mt_dns_zone_add_txt(zone, "long.example", MT_DNS_TXT, 300, s, l,
		                              total > 510 ? 3 : 2), MT_OK);
	}
	txt("big.example", "v=spf1 -all");
	for (int i = 0; i < 6; i++) {
		char tok[160];
		snprintf(tok, sizeof tok, "verification-token-%d=%0100d", i, i);
		txt("big.example", tok);
	}
	/* DNS failure, NXDOMAIN */
	CHECK_INT(mt_dns_zone_add_fault(zone, "timeout.example", MT_DNS_TXT, MT_DNS_TIMEOUT), MT_OK);
	txt("exists.example", "v=spf1 -all");

	/* publication: pub.example delegated to ns1 (192.0.2.53) and ns2 (192.0.2.54) */
	txt("pub.example", "v=spf1 include:zoho.com -all");
	ns("pub.example", "ns1.pub.example");
	ns("pub.example", "ns2.pub.example");
	a4(zone, "ns1.pub.example", 192, 0, 2, 53);
	a4(zone, "ns2.pub.example", 192, 0, 2, 54);
	/* sub.pub.example has no NS of its own: the walk goes up */
	txt("sub.pub.example", "v=spf1 -all");
	server_a = mt_dns_zone_new();
	server_b = mt_dns_zone_new();
	txt_in(server_a, "pub.example", "v=spf1 include:zoho.com -all");
	txt_in(server_b, "pub.example", "v=spf1 include:zoho.com ip4:192.0.2.7 -all");
	txt_in(server_a, "sub.pub.example", "v=spf1 -all");
	txt_in(server_b, "sub.pub.example", "v=spf1 -all");
	/* cached.example: both servers already serve the new record */
	txt("cached.example", "v=spf1 -all");
	ns("cached.example", "ns1.pub.example");
	ns("cached.example", "ns2.pub.example");
	txt_in(server_a, "cached.example", "v=spf1 include:zoho.com -all");
	txt_in(server_b, "cached.example", "v=spf1 include:zoho.com -all");
	/* lame.example: the second server has no address a resolver can use */
	txt("lame.example", "v=spf1 -all");
	ns("lame.example", "ns1.pub.example");
	ns("lame.example", "ns3.pub.example");
	a4(zone, "ns3.pub.example", 192, 0, 2, 99);
	txt_in(server_a, "lame.example", "v=spf1 -all");
	/* 300 a terms naming hosts that do not exist, over 24 strings */
	{
		static char strs[32][256];
		const char *sp[32];
		size_t sl[32];
		int n = 0;
		sl[0] = (size_t)snprintf(strs[0], sizeof strs[0], "v=spf1");
		for (int i = 0; i <= 300 && n < 31; i++) {
			char term[32];
			int tl = snprintf(term, sizeof term, i < 300 ? " a:h%d.nx.example" : " -all", i);
			if (sl[n] + (size_t)tl > 255)
				sl[++n] = 0;
			memcpy(strs[n] + sl[n], term, (size_t)tl);
			sl[n] += (size_t)tl;
		}
		for (int i = 0; i <= n; i++)
			sp[i] = strs[i];
		CHECK(n < 31);
		CHECK_INT(mt_dns_zone_add_txt(zone, "manya.example", MT_DNS_TXT, 300, sp, sl,
		                              (size_t)n + 1), MT_OK);
	}
	res = mt_dns_zone_resolver_new(zone);
}

/* A resolver that counts the questions it passes on to res. */
typedef struct counting {
	unsigned total, txt;
	const char *txt_name; /* count the TXT questions for this name */
} counting;

static mt_status counting_resolve(void *impl, const char *name, uint16_t type, unsigned timeout_ms,
                                  mt_dns_answer **out)
{
	counting *c = impl;
	c->total++;
	if (type == MT_DNS_TXT && c->txt_name && strcmp(name, c->txt_name) == 0)
		c->txt++;
	return mt_dns_resolve(res, name, type, timeout_ms, out);
}

static void counting_destroy(void *impl) { (void)impl; }

static const mt_dns_resolver_ops counting_ops = { .resolve = counting_resolve, .destroy = counting_destroy };

/* Run verify on domain through a counting resolver; c receives the counts. */
static mt_spf_verify *run_counted(const char *domain, counting *c)
{
	mt_spf_verify_options o;
	mt_spf_verify *v = NULL;
	mt_error err;
	mt_dns_resolver *r = mt_dns_resolver_new(&counting_ops, c);
	CHECK(r != NULL);
	if (!r)
		return NULL;
	mt_spf_verify_options_init(&o);
	o.now = 1700000000;
	memset(&err, 0, sizeof err);
	CHECK_INT(mt_spf_verify_run(domain, r, &o, &v, &err), MT_OK);
	mt_dns_resolver_free(r);
	return v;
}

static mt_status fake_server(void *ctx, const char *address, unsigned port, mt_dns_resolver **out)
{
	unsigned *seen = ctx;
	*seen = port;
	if (strcmp(address, "192.0.2.53") == 0)
		*out = mt_dns_zone_resolver_new(server_a);
	else if (strcmp(address, "192.0.2.54") == 0)
		*out = mt_dns_zone_resolver_new(server_b);
	else
		return MT_EINVAL;
	return *out ? MT_OK : MT_ENOMEM;
}

static mt_spf_verify *run_opts(const char *domain, const mt_spf_verify_options *o)
{
	mt_spf_verify *v = NULL;
	mt_error err;
	memset(&err, 0, sizeof err);
	mt_status st = mt_spf_verify_run(domain, res, o, &v, &err);
	CHECK_INT(st, MT_OK);
	if (st != MT_OK)
		fprintf(stderr, "  %s: %s\n", domain, err.message);
	return v;
}

static mt_spf_verify *run(const char *domain)
{
	mt_spf_verify_options o;
	mt_spf_verify_options_init(&o);
	o.now = 1700000000; /* 2023-11-14 22:13:20 UTC */
	return run_opts(domain, &o);
}

static const mt_spf_finding *find(const mt_spf_verify *v, const char *code)
{
	for (size_t i = 0; i < mt_spf_verify_finding_count(v); i++)
		if (strcmp(mt_spf_verify_finding(v, i)->code, code) == 0)
			return mt_spf_verify_finding(v, i);
	return NULL;
}

static size_t count_code(const mt_spf_verify *v, const char *code)
{
	size_t n = 0;
	for (size_t i = 0; i < mt_spf_verify_finding_count(v); i++)
		n += strcmp(mt_spf_verify_finding(v, i)->code, code) == 0;
	return n;
}

/* domain has finding code with severity sev. */
static const mt_spf_finding *expect_code(const char *domain, const char *code, mt_spf_severity sev)
{
	static mt_spf_finding copy;
	mt_spf_verify *v;
	/* the previous copy is released here */
	free((char *)copy.term);
	free((char *)copy.fix);
	free((char *)copy.message);
	free((char *)copy.record);
	memset(&copy, 0, sizeof copy);
	if (!domain)
		return NULL;
	v = run(domain);
	const mt_spf_finding *f = v ? find(v, code) : NULL;
	if (!f) {
		fprintf(stderr, "  %s: no finding %s\n", domain, code);
		CHECK(0);
		mt_spf_verify_free(v);
		return NULL;
	}
	CHECK_INT(f->severity, sev);
	CHECK(f->message && f->message[0]);
	copy = *f;
	copy.term = f->term ? strdup(f->term) : NULL;
	copy.fix = f->fix ? strdup(f->fix) : NULL;
	copy.message = strdup(f->message);
	copy.record = f->record ? strdup(f->record) : NULL;
	mt_spf_verify_free(v);
	return &copy;
}

static void expect_no_code(const char *domain, const char *code)
{
	mt_spf_verify *v = run(domain);
	if (v && find(v, code)) {
		fprintf(stderr, "  %s: unexpected finding %s\n", domain, code);
		CHECK(0);
	} else {
		CHECK(1);
	}
	mt_spf_verify_free(v);
}

static void test_shapes(void)
{
	mt_spf_verify *v;

	/* v=spf1 include:zoho.com -all: clean apart from info */
	v = run("clean.example");
	CHECK(mt_spf_verify_checked(v));
	CHECK_INT(mt_spf_verify_worst(v), MT_SPF_INFO);
	CHECK_STR(mt_spf_verify_record(v), "v=spf1 include:zoho.com -all");
	CHECK_INT(mt_spf_verify_total_lookups(v), 1); /* the include (4.6.4) */
	CHECK_INT(mt_spf_verify_tree_count(v), 2);
	CHECK_STR(mt_spf_verify_tree(v, 1)->domain, "zoho.com");
	CHECK_STR(mt_spf_verify_tree(v, 1)->via, "include");
	CHECK_INT(mt_spf_verify_tree(v, 1)->depth, 1);
	CHECK_INT(mt_spf_verify_tree(v, 0)->subtree_lookups, 1);
	mt_spf_verify_free(v);

	/* the combined record is valid */
	v = run("valid.example");
	CHECK(mt_spf_verify_worst(v) != MT_SPF_ERROR);
	CHECK(find(v, "syntax-error") == NULL);
	CHECK(find(v, "softfail-all") != NULL);
	mt_spf_verify_free(v);

	/* three records: permerror, and the merged record proposed */
	v = run("three.example");
	const mt_spf_finding *f = find(v, "multiple-records");
	CHECK(f != NULL);
	if (f) {
		CHECK_INT(f->severity, MT_SPF_ERROR);
		CHECK(strstr(f->message, "v=spf1 ip4:192.168.20.25 ~all") != NULL);
		CHECK(strstr(f->message, "v=spf1 ip6:1080::8:800:68.0.3.1/96 ~all") != NULL);
		CHECK(strstr(f->message, "v=spf1 include:zoho.com ~all") != NULL);
		const char *want = "v=spf1 ip4:192.168.20.25 ip6:1080::8:800:68.0.3.1/96 include:zoho.com ~all";
		const char *p = f->fix ? strstr(f->fix, want) : NULL;
		CHECK(p != NULL);
		CHECK(p && p[strlen(want)] == '\0');
	}
	CHECK(mt_spf_verify_record(v) == NULL);
	mt_spf_verify_free(v);

	/* =spf1 ...: not an SPF record */
	f = expect_code("eq.example", "broken-record", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "v=spf1 include:one.zoho.com -all"));
	CHECK(f && strstr(f->message, "ignore"));
	/* issue 7 item 7: the broken record explains the absence; it is the
	 * only error, and it says that the domain has no SPF record */
	expect_no_code("eq.example", "no-record");
	CHECK(f && strstr(f->message, "eq.example has no SPF record"));
	v = run("eq.example");
	CHECK_INT(count_code(v, "broken-record"), 1);
	for (size_t i = 0; i < mt_spf_verify_finding_count(v); i++) {
		const mt_spf_finding *g = mt_spf_verify_finding(v, i);
		CHECK(g->severity != MT_SPF_ERROR || strcmp(g->code, "broken-record") == 0);
	}
	mt_spf_verify_free(v);
}

static void test_presence(void)
{
	const mt_spf_finding *f;
	expect_code("none.example", "no-record", MT_SPF_ERROR);
	expect_no_code("none.example", "broken-record");
	f = expect_code("glue.example", "broken-record", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "\"v=spf1 include:zoho.com -all\""));
	f = expect_code("nov.example", "broken-record", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "\"v=spf1 include:zoho.com -all\""));
	f = expect_code("space1.example", "broken-record", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "\"v=spf1 include:zoho.com -all\""));
	f = expect_code("space2.example", "broken-record", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "\"v=spf1 include:zoho.com -all\""));
	f = expect_code("quoted.example", "broken-record", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "\"v=spf1 include:zoho.com -all\""));
	expect_code("lead.example", "broken-record", MT_SPF_ERROR);
	/* typographic quotes and other spaces: caught like ASCII quotes, with
	 * the code point named and the plain record as the fix */
	static const char *const pasted[][2] = {
		{ "curly.example", "U+201C" }, { "single.example", "U+2018" },
		{ "guil.example", "U+00AB" }, { "nbsp.example", "U+00A0" },
		{ "thin.example", "U+2009" },
	};
	for (size_t i = 0; i < sizeof pasted / sizeof pasted[0]; i++) {
		f = expect_code(pasted[i][0], "broken-record", MT_SPF_ERROR);
		CHECK(f && strstr(f->fix, "replace it with \"v=spf1 include:zoho.com -all\""));
		CHECK(f && strstr(f->message, pasted[i][1]));
		expect_no_code(pasted[i][0], "no-record");
	}
	/* inside or at the end of a record that begins right: the term is named */
	f = expect_code("nbspin.example", "unicode-space", MT_SPF_ERROR);
	CHECK(f && f->offset == 23 && f->length == 2 && strstr(f->message, "U+00A0"));
	f = expect_code("curlyend.example", "typographic-quotes", MT_SPF_ERROR);
	CHECK(f && f->offset == 28 && f->length == 2);
	/* Sender ID beside a real record: info only */
	expect_code("sid.example", "sender-id", MT_SPF_INFO);
	expect_no_code("sid.example", "multiple-records");
	expect_no_code("sid.example", "no-record");
	expect_code("t99.example", "spf-rr-type", MT_SPF_WARNING);
	expect_code("t99.example", "no-record", MT_SPF_ERROR);

	/* 3.3: strings joined without spaces */
	f = expect_code("split.example", "split-record", MT_SPF_INFO);
	CHECK(f && strstr(f->message, "v=spf1 ip4:192.0.2.1 include:zoho.com -all"));
	expect_no_code("split.example", "split-glued");
	f = expect_code("splitglue.example", "split-glued", MT_SPF_WARNING);
	CHECK(f && strstr(f->message, "include:zoho.com-all"));
	/* and the joined term is itself a glued -all */
	expect_code("splitglue.example", "glued-terms", MT_SPF_ERROR);

	mt_spf_verify *v = run("timeout.example");
	CHECK(!mt_spf_verify_checked(v));
	CHECK(find(v, "dns-failure") != NULL);
	CHECK_INT(mt_spf_verify_tree_count(v), 0);
	mt_spf_verify_free(v);
	v = run("nx.example");
	CHECK(mt_spf_verify_checked(v));
	CHECK(find(v, "domain-not-found") != NULL);
	mt_spf_verify_free(v);
}

static void test_syntax(void)
{
	const mt_spf_finding *f;

	f = expect_code("glued.example", "glued-terms", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "include:zoho.com -all"));
	CHECK(f && f->offset == 7);
	CHECK(f && f->term && strcmp(f->term, "include:zoho.com-all") == 0);
	f = expect_code("glued2.example", "glued-terms", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "include:zoho.com include:one.zoho.com"));
	f = expect_code("host4.example", "ip4-hostname", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "a:mail.zoho.com"));
	f = expect_code("pre4.example", "ip4-prefix", MT_SPF_ERROR);
	CHECK(f && f->term && strcmp(f->term, "/33") == 0);
	expect_code("pre6.example", "ip6-prefix", MT_SPF_ERROR);
	f = expect_code("host6.example", "ip6-hostname", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "a:mail.zoho.com"));
	f = expect_code("trail.example", "trailing-space", MT_SPF_INFO);
	CHECK(f && f->offset == 25);
	expect_no_code("trail.example", "syntax-error"); /* 4.6: trailing spaces are allowed */
	f = expect_code("typo.example", "typographic-quotes", MT_SPF_ERROR);
	CHECK(f && f->offset == 15);
	f = expect_code("comma.example", "stray-punctuation", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "\"ip4:192.0.2.1\""));
	expect_code("dot.example", "stray-punctuation", MT_SPF_ERROR);
	f = expect_code("inlcude.example", "misspelled-mechanism", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "include:zoho.com"));
	CHECK(f && f->offset == 7 && f->length == 7);
	f = expect_code("ipv4.example", "misspelled-mechanism", MT_SPF_ERROR);
	CHECK(f && strstr(f->fix, "ip4:192.0.2.1"));
	/* an unknown modifier is valid and ignored: a warning */
	f = expect_code("redirct.example", "misspelled-mechanism", MT_SPF_WARNING);
	CHECK(f && strstr(f->fix, "redirect=zoho.com"));
	expect_code("dup.example", "duplicate-modifier", MT_SPF_ERROR);
	/* every error, not only the first: both terms reported */
	mt_spf_verify *v = run("two-errors.example");
	CHECK_INT(count_code(v, "syntax-error"), 2);
	f = find(v, "syntax-error");
	CHECK(f && f->offset == 7);
	CHECK(f && f->term && strncmp(f->term, "foo:x.example", 13) == 0);
	mt_spf_verify_free(v);
	expect_code("redir-all.example", "redirect-ignored", MT_SPF_WARNING);
	f = expect_code("after.example", "terms-after-all", MT_SPF_WARNING);
	CHECK(f && f->term && strcmp(f->term, "ip4:192.0.2.1") == 0);
}

static void test_policy(void)
{
	expect_code("plus.example", "pass-all", MT_SPF_ERROR);
	expect_code("neutral.example", "neutral-all", MT_SPF_WARNING);
	expect_code("noall.example", "no-all", MT_SPF_WARNING);
	expect_no_code("redir.example", "no-all"); /* redirect decides instead */
	expect_code("valid.example", "softfail-all", MT_SPF_INFO);
	expect_code("clean.example", "fail-all", MT_SPF_INFO);
	expect_code("ptr.example", "ptr-deprecated", MT_SPF_WARNING);
	const mt_spf_finding *f = expect_code("broad4.example", "broad-range", MT_SPF_WARNING);
	CHECK(f && strstr(f->message, "16777216 addresses")); /* 2^(32-8) */
	expect_code("broad6.example", "broad-range", MT_SPF_WARNING);
	expect_no_code("clean.example", "broad-range"); /* zoho's /48 is not broad */
	expect_code("macro.example", "macros", MT_SPF_INFO);
	const mt_spf_finding *g = expect_code("incnone.example", "include-no-record", MT_SPF_ERROR);
	CHECK(g && g->offset == 7 && g->term && strcmp(g->term, "include:nothing.example") == 0);
	expect_code("redirnone.example", "redirect-no-record", MT_SPF_ERROR);
}

static void test_limits(void)
{
	mt_spf_verify *v;
	const mt_spf_finding *f;

	/* three includes of a record with three a terms: 3 + 3*3 = 12 > 10 */
	v = run("many.example");
	CHECK_INT(mt_spf_verify_total_lookups(v), 12);
	CHECK(find(v, "lookup-limit") != NULL);
	CHECK_INT(mt_spf_verify_tree_count(v), 4);
	CHECK_INT(mt_spf_verify_tree(v, 0)->lookups, 3);
	CHECK_INT(mt_spf_verify_tree(v, 1)->lookups, 3);
	CHECK_INT(mt_spf_verify_tree(v, 0)->subtree_lookups, 12);
	f = find(v, "most-expensive-include");
	CHECK(f && strstr(f->message, "include:l3.example") && strstr(f->message, "4 DNS lookups"));
	mt_spf_verify_free(v);
	/* 2 + 2*3 + 1 = 9: within 2 of 10 */
	v = run("near.example");
	CHECK_INT(mt_spf_verify_total_lookups(v), 9);
	CHECK(find(v, "lookup-limit-near") && find(v, "lookup-limit-near")->severity == MT_SPF_WARNING);
	CHECK(find(v, "lookup-limit") == NULL);
	mt_spf_verify_free(v);
	expect_no_code("clean.example", "lookup-limit-near");

	f = expect_code("loop1.example", "include-loop", MT_SPF_ERROR);
	CHECK(f && strstr(f->message, "loop1.example"));
	/* 3 void lookups > 2 */
	v = run("void.example");
	CHECK_INT(mt_spf_verify_total_void(v), 3);
	CHECK_INT(count_code(v, "void-lookup"), 3);
	CHECK(find(v, "void-limit") != NULL);
	mt_spf_verify_free(v);
	v = run("void1.example");
	CHECK_INT(mt_spf_verify_total_void(v), 1);
	CHECK(find(v, "void-lookup") != NULL);
	CHECK(find(v, "void-limit") == NULL);
	mt_spf_verify_free(v);
	/* 11 MX names > 10 (4.6.4) */
	v = run("mx.example");
	CHECK(find(v, "mx-limit") != NULL);
	CHECK_INT(mt_spf_verify_tree(v, 0)->mx_names_max, 11);
	mt_spf_verify_free(v);
	expect_code("incdns.example", "include-dns-failure", MT_SPF_WARNING);
	expect_code("incmulti.example", "include-multiple-records", MT_SPF_ERROR);
	expect_code("incsyn.example", "include-syntax-error", MT_SPF_ERROR);
	v = run("wide.example");
	CHECK(find(v, "tree-truncated") != NULL);
	CHECK_INT(mt_spf_verify_tree_count(v), 50);
	CHECK(find(v, "lookup-limit") != NULL);
	/* pre-order: w0 then its first include */
	CHECK_STR(mt_spf_verify_tree(v, 1)->domain, "w0.example");
	CHECK_STR(mt_spf_verify_tree(v, 2)->domain, "x0.example");
	CHECK_INT(mt_spf_verify_tree(v, 2)->depth, 2);
	mt_spf_verify_free(v);
	v = run("d0.example");
	CHECK(find(v, "tree-truncated") != NULL);
	CHECK(mt_spf_verify_tree_count(v) <= 50);
	for (size_t i = 0; i < mt_spf_verify_tree_count(v); i++)
		CHECK(mt_spf_verify_tree(v, i)->depth <= 20);
	mt_spf_verify_free(v);

	/* 300 a terms: the names asked are bounded (100, each A then AAAA
	 * when empty), and the report says the check is partial */
	counting c = { 0, 0, NULL };
	v = run_counted("manya.example", &c);
	CHECK(find(v, "tree-truncated") != NULL);
	CHECK_INT(mt_spf_verify_total_void(v), 100);
	CHECK_INT(mt_spf_verify_total_lookups(v), 300);
	CHECK(c.total <= 2 * 100 + 10);
	mt_spf_verify_free(v);
}

/* The top TXT answer is asked once, also for a record of several strings. */
static void test_questions(void)
{
	counting c = { 0, 0, "splitglue.example" };
	mt_spf_verify *v = run_counted("splitglue.example", &c);
	CHECK(find(v, "split-glued") != NULL);
	CHECK_INT(c.txt, 1);
	mt_spf_verify_free(v);
}

static void test_size(void)
{
	mt_spf_verify_options o;
	mt_spf_verify *v;
	char big[400];

	expect_code("long.example", "record-too-long", MT_SPF_WARNING);
	expect_code("long.example", "split-record", MT_SPF_INFO);
	expect_no_code("clean.example", "record-too-long");
	expect_code("big.example", "answer-too-large", MT_SPF_WARNING);
	expect_no_code("clean.example", "answer-too-large");

	mt_spf_verify_options_init(&o);
	size_t n = (size_t)snprintf(big, sizeof big, "v=spf1");
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, " ip4:198.51.100.%d", i + 100);
	snprintf(big + n, sizeof big - n, " -all");
	o.expect = big;
	v = run_opts("clean.example", &o);
	const mt_spf_finding *f = find(v, "expect-needs-split");
	CHECK(f && f->severity == MT_SPF_INFO);
	/* every suggested string at most 255 octets */
	if (f) {
		const char *p = strchr(f->fix, '"');
		while (p) {
			const char *q = strchr(p + 1, '"');
			if (!q)
				break;
			CHECK(q - p - 1 <= 255);
			p = strchr(q + 1, '"');
		}
	}
	mt_spf_verify_free(v);
	o.expect = "v=spf1 include:zoho.com -al";
	v = run_opts("clean.example", &o);
	CHECK(find(v, "expect-invalid") != NULL);
	mt_spf_verify_free(v);
}

static void test_publication(void)
{
	mt_spf_verify_options o;
	mt_spf_verify *v;
	unsigned port = 0;
	const mt_spf_finding *f;

	expect_code("clean.example", "publication-not-checked", MT_SPF_INFO);
	f = expect_code("clean.example", "ttl", MT_SPF_INFO);
	/* now + TTL = 1700000000 + 300 */
	CHECK(f && strstr(f->message, "2023-11-14 22:18:20 UTC"));

	mt_spf_verify_options_init(&o);
	o.now = 1700000000;
	o.server_resolver = fake_server;
	o.server_ctx = &port;
	o.server_port = 5353;
	v = run_opts("pub.example", &o);
	CHECK_INT(port, 5353);
	CHECK_INT(mt_spf_verify_ns_count(v), 2);
	CHECK(find(v, "publication-not-checked") == NULL);
	f = find(v, "ns-disagree");
	CHECK(f && f->severity == MT_SPF_WARNING);
	CHECK(f && strstr(f->message, "ns2.pub.example") && !strstr(f->message, "ns1.pub.example"));
	for (size_t i = 0; i < mt_spf_verify_ns_count(v); i++) {
		const mt_spf_ns_answer *a = mt_spf_verify_ns(v, i);
		CHECK_INT(a->rcode, MT_DNS_NOERROR);
		CHECK_INT(a->spf_count, 1);
		CHECK_INT(a->agrees, strcmp(a->address, "192.0.2.53") == 0);
	}
	mt_spf_verify_free(v);

	/* the expected record only on server B: partial */
	o.expect = "v=spf1 include:zoho.com ip4:192.0.2.7 -all";
	v = run_opts("pub.example", &o);
	CHECK(find(v, "expect-partial") != NULL);
	mt_spf_verify_free(v);
	/* on neither server: added at the wrong provider, naming the NS hosts */
	o.expect = "v=spf1 include:one.zoho.com -all";
	v = run_opts("pub.example", &o);
	f = find(v, "expect-not-published");
	CHECK(f && f->severity == MT_SPF_ERROR);
	CHECK(f && strstr(f->message, "ns1.pub.example") && strstr(f->message, "ns2.pub.example"));
	CHECK(f && strstr(f->message, "not the domain's DNS host"));
	mt_spf_verify_free(v);
	/* the NS walk goes up one label */
	o.expect = NULL;
	v = run_opts("sub.pub.example", &o);
	CHECK_INT(mt_spf_verify_ns_count(v), 2);
	CHECK(find(v, "ns-disagree") == NULL);
	mt_spf_verify_free(v);
	/* a server that cannot be asked */
	v = run_opts("clean.example", &o);
	CHECK(find(v, "ns-not-found") != NULL);
	mt_spf_verify_free(v);
	/* every server has the new record; the recursive answer is old */
	o.expect = "v=spf1 include:zoho.com -all";
	v = run_opts("cached.example", &o);
	f = find(v, "expect-not-cached");
	CHECK(f && f->severity == MT_SPF_WARNING);
	CHECK(f && strstr(f->message, "2023-11-14 22:18:20 UTC"));
	CHECK(find(v, "expect-not-published") == NULL);
	/* the servers agree with each other: the message blames the cache */
	f = find(v, "ns-disagree");
	CHECK(f && strstr(f->message, "every authoritative server") && strstr(f->message, "cache"));
	mt_spf_verify_free(v);
	o.expect = NULL;
	v = run_opts("lame.example", &o);
	f = find(v, "ns-unreachable");
	CHECK(f && strstr(f->message, "ns3.pub.example"));
	CHECK(find(v, "ns-disagree") == NULL);
	CHECK_INT(mt_spf_verify_ns_count(v), 2);
	mt_spf_verify_free(v);
	/* without server checks, --expect against the recursive answer */
	mt_spf_verify_options_init(&o);
	o.expect = "v=spf1 include:one.zoho.com -all";
	v = run_opts("pub.example", &o);
	f = find(v, "expect-not-published");
	CHECK(f && strstr(f->message, "ns1.pub.example"));
	mt_spf_verify_free(v);
	o.expect = "v=spf1   include:ZOHO.com -all"; /* same terms */
	v = run_opts("pub.example", &o);
	CHECK(find(v, "expect-not-published") == NULL);
	mt_spf_verify_free(v);
}

static void test_authz(void)
{
	mt_spf_verify_options o;
	mt_spf_verify *v;
	const char *ips[] = {"198.51.100.9", "192.0.2.99"};

	mt_spf_verify_options_init(&o);
	o.ips = ips;
	o.nips = 2;
	v = run_opts("clean.example", &o);
	CHECK_INT(mt_spf_verify_authz_count(v), 2);
	const mt_spf_authz *a = mt_spf_verify_authz(v, 0);
	CHECK_STR(a->ip, "198.51.100.9");
	CHECK_INT(a->result, MT_SPF_PASS);
	CHECK_INT(a->chain_count, 2);
	if (a->chain_count == 2) {
		CHECK_STR(a->chain[0].term, "include:zoho.com");
		CHECK_STR(a->chain[0].domain, "clean.example");
		CHECK_STR(a->chain[1].term, "ip4:198.51.100.0/24");
		CHECK_STR(a->chain[1].domain, "zoho.com");
	}
	a = mt_spf_verify_authz(v, 1);
	CHECK_INT(a->result, MT_SPF_FAIL);
	CHECK(a->explanation != NULL);
	mt_spf_verify_free(v);

	/* invalid input */
	const char *bad[] = {"not-an-ip"};
	o.ips = bad;
	o.nips = 1;
	mt_error err;
	mt_spf_verify *w = (mt_spf_verify *)1;
	CHECK_INT(mt_spf_verify_run("clean.example", res, &o, &w, &err), MT_EINVAL);
	CHECK(w == NULL);
	CHECK_INT(mt_spf_verify_run("bad domain", res, NULL, &w, &err), MT_EINVAL);
	CHECK_INT(mt_spf_verify_run("a..b", res, NULL, &w, &err), MT_EINVAL);
	mt_spf_verify_free(NULL);
	CHECK_STR(mt_spf_severity_name(MT_SPF_WARNING), "warning");
}

/* mt_spf_lint: verify's offline checks on one record (issue 7 items 7, 8, 13, 4). */
static mt_spf_verify *lint(const char *rec, size_t len)
{
	mt_spf_verify *v = NULL;
	mt_error err;
	memset(&err, 0, sizeof err);
	CHECK_INT(mt_spf_lint(rec, len, &v, &err), MT_OK);
	CHECK(v != NULL);
	return v;
}

static void test_lint(void)
{
	mt_spf_verify *v;
	const mt_spf_finding *f;
	mt_error err;
	char buf[800], *z = NULL;

	/* the seed's typo: broken, with the record it should be */
	v = lint("=spf1 include:one.zoho.com -all", 31);
	f = find(v, "broken-record");
	CHECK(f && f->severity == MT_SPF_ERROR && f->domain == NULL);
	CHECK(f && strcmp(f->fix, "replace it with \"v=spf1 include:one.zoho.com -all\"") == 0);
	mt_spf_verify_free(v);
	/* glued -all: an error although the record parses */
	v = lint("v=spf1 include:zoho.com-all", 27);
	f = find(v, "glued-terms");
	CHECK(f && f->offset == 7 && f->length == 20);
	CHECK(find(v, "no-all") != NULL);
	CHECK_INT(mt_spf_verify_worst(v), MT_SPF_ERROR);
	CHECK_INT(mt_spf_verify_tree_count(v), 0);
	mt_spf_verify_free(v);
	/* RFC 7208 5.1 and 6.1 */
	v = lint("v=spf1 -all ip4:192.0.2.1", 25);
	f = find(v, "terms-after-all");
	CHECK(f && f->offset == 12);
	mt_spf_verify_free(v);
	v = lint("v=spf1 redirect=a.example -all", 30);
	CHECK(find(v, "redirect-ignored") != NULL);
	mt_spf_verify_free(v);
	/* host bits (RFC 7208 5.6: the prefix decides) */
	v = lint("v=spf1 ip4:192.0.2.5/24 -all", 28);
	f = find(v, "host-bits");
	CHECK(f && strstr(f->message, "192.0.2.0/24") && f->offset == 7 && f->length == 16);
	mt_spf_verify_free(v);
	v = lint("v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.5/32 ip6:2001:db8::/32 -all", 63);
	CHECK(find(v, "host-bits") == NULL);
	mt_spf_verify_free(v);
	/* over 450 octets (3.4): a warning whose fix gives the strings */
	size_t n = (size_t)snprintf(buf, sizeof buf, "v=spf1");
	for (int i = 1; i <= 30; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, " ip4:192.0.2.%d", i);
	n += (size_t)snprintf(buf + n, sizeof buf - n, " -all");
	CHECK(n > 450);
	v = lint(buf, n);
	f = find(v, "record-too-long");
	CHECK(f && f->severity == MT_SPF_WARNING && strstr(f->message, "450") &&
	      strstr(f->fix, "\"v=spf1 ip4:192.0.2.1 ") && strstr(f->fix, "include"));
	mt_spf_verify_free(v);
	v = lint("v=spf1 -all", 11);
	CHECK(find(v, "record-too-long") == NULL);
	mt_spf_verify_free(v);
	/* a NUL inside: named, not cut away silently */
	v = lint("v=spf1 -all\0x", 13);
	f = find(v, "syntax-error");
	CHECK(f && f->offset == 11 && f->record_len == 13 && strstr(f->message, "-all\\x00x"));
	mt_spf_verify_free(v);
	memset(&err, 0, sizeof err);
	CHECK_INT(mt_spf_lint(NULL, 1, &v, &err), MT_EINVAL);
	/* nothing at all: not a record, no look-alike */
	v = lint(NULL, 0);
	CHECK_INT(mt_spf_verify_finding_count(v), 0);
	mt_spf_verify_free(v);

	/* zone-file strings: at most 255 octets each, split after a space,
	 * joined back they give the record; quotes escaped */
	CHECK_INT(mt_spf_zone_strings(buf, n, &z), MT_OK);
	if (z) {
		char joined[800];
		size_t jl = 0, strings = 0;
		for (const char *p = z; *p; p++) {
			if (*p != '"')
				continue;
			const char *e = strchr(p + 1, '"');
			CHECK(e != NULL);
			if (!e)
				break;
			CHECK(e - p - 1 <= 255);
			memcpy(joined + jl, p + 1, (size_t)(e - p - 1));
			jl += (size_t)(e - p - 1);
			strings++;
			p = e;
		}
		CHECK_INT(jl, n);
		CHECK(memcmp(joined, buf, n) == 0);
		CHECK_INT(strings, 2);
	}
	mt_free(z);
	z = NULL;
	CHECK_INT(mt_spf_zone_strings("a\"b\\c", 5, &z), MT_OK);
	CHECK(z && strcmp(z, "\"a\\\"b\\\\c\"") == 0);
	mt_free(z);
}

int main(void)
{
	build_zone();
	test_shapes();
	test_presence();
	test_syntax();
	test_policy();
	test_limits();
	test_questions();
	test_size();
	test_publication();
	test_authz();
	test_lint();
	expect_code(NULL, NULL, MT_SPF_INFO); /* frees the last copy */
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	mt_dns_zone_free(server_a);
	mt_dns_zone_free(server_b);
	return mt_test_done();
}
