/* mt_spf_merge and mt_spf_build: expectations from issue 4 and the rules
 * stated in spf_verify.h (order, qualifier of "all", refusals). */
#include <mailtrust/spf_verify.h>
#include "mt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Does text parse as an SPF record? */
static int parses(const char *text)
{
	mt_spf_record *r = NULL;
	mt_status st = mt_spf_record_parse(text, strlen(text), &r, NULL);
	mt_spf_record_free(r);
	return st == MT_OK;
}

/* Merge and expect want (and that it parses). */
static void merge_ok(const char *const *recs, size_t n, unsigned max, const char *want, int line)
{
	char *out = NULL;
	mt_error err;
	memset(&err, 0, sizeof err);
	mt_status st = mt_spf_merge(recs, n, max, &out, &err);
	if (st != MT_OK)
		fprintf(stderr, "line %d: refused: %s\n", line, err.message);
	CHECK_INT(st, MT_OK);
	CHECK_STR(out, want);
	if (out)
		CHECK(parses(out));
	mt_free(out);
}

/* Merge and expect a refusal whose message holds each of the words. */
static void merge_refused(const char *const *recs, size_t n, unsigned max, const char *word1,
                          const char *word2, int line)
{
	char *out = NULL;
	mt_error err;
	memset(&err, 0, sizeof err);
	mt_status st = mt_spf_merge(recs, n, max, &out, &err);
	if (st != MT_ESYNTAX)
		fprintf(stderr, "line %d: not refused (got \"%s\")\n", line, out ? out : "");
	CHECK_INT(st, MT_ESYNTAX);
	CHECK(out == NULL);
	if (word1 && !strstr(err.message, word1))
		fprintf(stderr, "line %d: message \"%s\" lacks \"%s\"\n", line, err.message, word1);
	CHECK(!word1 || strstr(err.message, word1));
	if (word2 && !strstr(err.message, word2))
		fprintf(stderr, "line %d: message \"%s\" lacks \"%s\"\n", line, err.message, word2);
	CHECK(!word2 || strstr(err.message, word2));
	mt_free(out);
}

#define MERGE_OK(recs, max, want) merge_ok(recs, N(recs), max, want, __LINE__)
#define REFUSED(recs, max, w1, w2) merge_refused(recs, N(recs), max, w1, w2, __LINE__)

static void test_issue_example(void)
{
	/* Issue 4: the three separate records must become this single one. */
	const char *recs[] = {
		"v=spf1 ip4:192.168.20.25 ~all",
		"v=spf1 ip6:1080::8:800:68.0.3.1/96 ~all",
		"v=spf1 include:zoho.com ~all",
	};
	MERGE_OK(recs, 0, "v=spf1 ip4:192.168.20.25 ip6:1080::8:800:68.0.3.1/96 include:zoho.com ~all");
	/* any order of the inputs gives the same record (stated order) */
	const char *rev[] = { recs[2], recs[1], recs[0] };
	MERGE_OK(rev, 0, "v=spf1 ip4:192.168.20.25 ip6:1080::8:800:68.0.3.1/96 include:zoho.com ~all");
	/* one record alone is itself */
	const char *one[] = { "v=spf1 include:zoho.com -all" };
	MERGE_OK(one, 0, "v=spf1 include:zoho.com -all");
}

static void test_duplicates(void)
{
	/* same terms compared case-insensitively, addresses by value: the
	 * first written form is kept */
	const char *recs[] = {
		"v=spf1 ip4:192.0.2.1 include:_spf.Example.com -all",
		"v=spf1 ip4:192.0.2.1/32 INCLUDE:_spf.example.COM -all",
		"v=spf1 include:_spf.example.com. ip4:192.0.2.1 -all",
	};
	MERGE_OK(recs, 0, "v=spf1 ip4:192.0.2.1 include:_spf.Example.com -all");
	/* a network is its value and prefix: 192.0.2.77/24 is 192.0.2.0/24;
	 * and (issue 7 item 9) a network inside a listed one is dropped */
	const char *net[] = { "v=spf1 ip4:192.0.2.0/24", "v=spf1 ip4:192.0.2.77/24 ip4:192.0.2.0/25" };
	MERGE_OK(net, 0, "v=spf1 ip4:192.0.2.0/24");
	const char *v6[] = { "v=spf1 ip6:2001:db8::1", "v=spf1 ip6:2001:DB8:0:0::1/128 ip6:2001:db8::1/64" };
	MERGE_OK(v6, 0, "v=spf1 ip6:2001:db8::1/64");
	/* a/mx: same domain and prefixes; "a" is "a/32//128" */
	const char *am[] = { "v=spf1 a mx:Mail.example.com/24", "v=spf1 a/32//128 a/24 mx:mail.example.com/24 mx" };
	MERGE_OK(am, 0, "v=spf1 a a/24 mx:Mail.example.com/24 mx");
	/* "+" is not written */
	const char *plus[] = { "v=spf1 +ip4:192.0.2.1 +include:a.example ?all", "v=spf1 +mx" };
	MERGE_OK(plus, 0, "v=spf1 ip4:192.0.2.1 mx include:a.example ?all");
	/* unknown modifiers: kept once when name and value agree */
	const char *mod[] = { "v=spf1 foo=bar -all", "v=spf1 FOO=bar ip4:192.0.2.1 -all" };
	MERGE_OK(mod, 0, "v=spf1 ip4:192.0.2.1 foo=bar -all");
	/* the same redirect in two records is one redirect */
	const char *red[] = { "v=spf1 redirect=_spf.example.com", "v=spf1 ip4:192.0.2.1 redirect=_SPF.example.com" };
	MERGE_OK(red, 0, "v=spf1 ip4:192.0.2.1 redirect=_spf.example.com");
	/* macros: an upper-case letter means URL escaping, a different term */
	const char *mac[] = { "v=spf1 exists:%{i}.bl.example", "v=spf1 exists:%{I}.bl.example exists:%{i}.BL.example" };
	MERGE_OK(mac, 0, "v=spf1 exists:%{i}.bl.example exists:%{I}.bl.example");
}

static void test_order(void)
{
	/* ip4, ip6, a, mx, ptr, include, exists, modifiers, all */
	const char *recs[] = {
		"v=spf1 exp=explain.example.com include:x.example mx a ip6:2001:db8::/32",
		"v=spf1 exists:%{i}.e.example ptr ip4:192.0.2.0/24 -all",
	};
	MERGE_OK(recs, 0,
	         "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx ptr include:x.example "
	         "exists:%{i}.e.example exp=explain.example.com -all");
	/* a non-'+' term keeps its place in its record: here it stays first */
	const char *keep[] = { "v=spf1 -ip4:192.0.2.9 ip4:192.0.2.0/24 -all", "v=spf1 mx ~all" };
	MERGE_OK(keep, 0, "v=spf1 -ip4:192.0.2.9 ip4:192.0.2.0/24 mx ~all");
	/* ... and cannot be moved after a term it came before */
	const char *move[] = { "v=spf1 -a ip4:192.0.2.0/24 -all" };
	REFUSED(move, 0, "record 1", "-a");
	/* terms after "all" are never evaluated; moving them before it would */
	const char *after[] = { "v=spf1 ip4:192.0.2.1 ~all", "v=spf1 -all ip4:198.51.100.1" };
	REFUSED(after, 0, "record 2", "ip4:198.51.100.1");
}

static void test_all(void)
{
	/* the least strict qualifier present wins: ? over ~ over - */
	const char *sm[] = { "v=spf1 ip4:192.0.2.1 -all", "v=spf1 mx ~all" };
	MERGE_OK(sm, 0, "v=spf1 ip4:192.0.2.1 mx ~all");
	const char *ms[] = { "v=spf1 mx ~all", "v=spf1 ip4:192.0.2.1 -all" };
	MERGE_OK(ms, 0, "v=spf1 ip4:192.0.2.1 mx ~all");
	const char *q[] = { "v=spf1 mx -all", "v=spf1 a ?all", "v=spf1 ip4:192.0.2.1 ~all" };
	MERGE_OK(q, 0, "v=spf1 ip4:192.0.2.1 a mx ?all");
	/* no "all" in any record: none */
	const char *none[] = { "v=spf1 ip4:192.0.2.1", "v=spf1 mx" };
	MERGE_OK(none, 0, "v=spf1 ip4:192.0.2.1 mx");
	/* an "all" in only one record is the one */
	const char *onlyone[] = { "v=spf1 ip4:192.0.2.1", "v=spf1 mx -all" };
	MERGE_OK(onlyone, 0, "v=spf1 ip4:192.0.2.1 mx -all");
	const char *empty[] = { "v=spf1", "v=spf1 " };
	MERGE_OK(empty, 0, "v=spf1");
	/* +all (written or not) is refused */
	const char *pa[] = { "v=spf1 mx -all", "v=spf1 ip4:192.0.2.1 +all" };
	REFUSED(pa, 0, "record 2", "+all");
	const char *ba[] = { "v=spf1 mx all" };
	REFUSED(ba, 0, "record 1", "all");
}

static void test_refusals(void)
{
	const char *tworedir[] = { "v=spf1 redirect=_spf.a.example", "v=spf1 redirect=_spf.b.example" };
	REFUSED(tworedir, 0, "redirect=_spf.a.example", "redirect=_spf.b.example");
	const char *twoexp[] = { "v=spf1 exp=a.example -all", "v=spf1 exp=b.example -all" };
	REFUSED(twoexp, 0, "exp=a.example", "exp=b.example");
	const char *redirall[] = { "v=spf1 redirect=_spf.example.com", "v=spf1 ip4:192.0.2.1 -all" };
	REFUSED(redirall, 0, "redirect=_spf.example.com", "all");
	const char *qual[] = { "v=spf1 ~include:a.example -all", "v=spf1 include:A.example -all" };
	REFUSED(qual, 0, "~include:a.example", "qualifiers");
	const char *qip[] = { "v=spf1 ip4:192.0.2.1 -all", "v=spf1 ?ip4:192.0.2.1/32 -all" };
	REFUSED(qip, 0, "?ip4:192.0.2.1/32", "qualifiers");
	const char *mod[] = { "v=spf1 foo=bar", "v=spf1 foo=baz" };
	REFUSED(mod, 0, "foo=bar", "foo=baz");
	/* a record with a syntax error is named */
	const char *syn[] = { "v=spf1 mx -all", "v=spf1 ip4:192.0.2.300 -all" };
	REFUSED(syn, 0, "record 2", "192.0.2.300");
	/* not an SPF record at all (issue 4's shape) */
	const char *notspf[] = { "v=spf1 mx -all", "=spf1 include:one.zoho.com -all" };
	REFUSED(notspf, 0, "record 2", "v=spf1");
	/* (a glued "include:zoho.com-all" parses: "com-all" is a valid
	 * top label; a misspelled mechanism does not) */
	const char *typo[] = { "v=spf1 inlcude:zoho.com -all" };
	REFUSED(typo, 0, "record 1", "inlcude");
}

static void test_lookups(void)
{
	/* 11 includes over two records: one more than RFC 7208 4.6.4 allows */
	const char *eleven[] = {
		"v=spf1 include:i1.example include:i2.example include:i3.example include:i4.example "
		"include:i5.example include:i6.example -all",
		"v=spf1 include:i7.example include:i8.example include:i9.example include:i10.example "
		"include:i11.example -all",
	};
	REFUSED(eleven, 0, "11", "10");
	/* the count is of the merged record: a duplicate costs nothing */
	const char *ten[] = {
		"v=spf1 include:i1.example include:i2.example include:i3.example include:i4.example "
		"include:i5.example include:i6.example -all",
		"v=spf1 include:i7.example include:i8.example include:i9.example include:i10.example "
		"include:I1.example -all",
	};
	MERGE_OK(ten, 0,
	         "v=spf1 include:i1.example include:i2.example include:i3.example include:i4.example "
	         "include:i5.example include:i6.example include:i7.example include:i8.example "
	         "include:i9.example include:i10.example -all");
	/* every DNS-querying term counts: a mx ptr exists redirect include */
	const char *mixed[] = { "v=spf1 a mx ptr", "v=spf1 exists:%{i}.x.example include:y.example redirect=z.example" };
	REFUSED(mixed, 5, "6", "5");
	MERGE_OK(mixed, 6, "v=spf1 a mx ptr include:y.example exists:%{i}.x.example redirect=z.example");
	/* addresses cost none */
	const char *ips[] = { "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 ip6:2001:db8::1", "v=spf1 mx" };
	MERGE_OK(ips, 1, "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 ip6:2001:db8::1 mx");
}

static void test_bad_arguments(void)
{
	char *out = (char *)"x";
	mt_error err;
	const char *recs[] = { "v=spf1 -all", NULL };
	CHECK_INT(mt_spf_merge(recs, 0, 0, &out, &err), MT_EINVAL);
	CHECK_INT(mt_spf_merge(NULL, 1, 0, &out, &err), MT_EINVAL);
	CHECK_INT(mt_spf_merge(recs, 2, 0, &out, &err), MT_EINVAL);
	CHECK(out == NULL);
	CHECK_INT(mt_spf_merge(recs, 1, 0, NULL, &err), MT_EINVAL);
	/* records are bounded: one over 65535 octets is refused */
	char *big = malloc(70000);
	if (big) {
		memset(big, ' ', 69999);
		memcpy(big, "v=spf1", 6);
		big[69999] = '\0';
		const char *b[] = { big };
		REFUSED(b, 0, "record 1", "65535");
		free(big);
	}
}

/* ---- build ---- */

static void build_expect(const mt_spf_build_options *o, const char *want, int line)
{
	char *out = NULL;
	mt_error err;
	memset(&err, 0, sizeof err);
	mt_status st = mt_spf_build(o, &out, &err);
	if (st != MT_OK)
		fprintf(stderr, "line %d: refused: %s\n", line, err.message);
	CHECK_INT(st, MT_OK);
	CHECK_STR(out, want);
	if (out)
		CHECK(parses(out));
	mt_free(out);
}

static void build_refused(const mt_spf_build_options *o, const char *word, int line)
{
	char *out = NULL;
	mt_error err;
	memset(&err, 0, sizeof err);
	mt_status st = mt_spf_build(o, &out, &err);
	if (st != MT_ESYNTAX)
		fprintf(stderr, "line %d: not refused (got \"%s\")\n", line, out ? out : "");
	CHECK_INT(st, MT_ESYNTAX);
	CHECK(out == NULL);
	if (!strstr(err.message, word))
		fprintf(stderr, "line %d: message \"%s\" lacks \"%s\"\n", line, err.message, word);
	CHECK(strstr(err.message, word) != NULL);
	mt_free(out);
}

static void test_build(void)
{
	mt_spf_build_options o;
	const char *ip4[] = { "192.0.2.0/24", "198.51.100.7" };
	const char *ip6[] = { "2001:db8::/32" };
	const char *inc[] = { "_spf.example.com", "zoho.com" };

	memset(&o, 0, sizeof o);
	build_expect(&o, "v=spf1 -all", __LINE__);
	o.ip4 = ip4;
	o.nip4 = 2;
	o.ip6 = ip6;
	o.nip6 = 1;
	o.include = inc;
	o.ninclude = 2;
	o.a = o.mx = true;
	build_expect(&o, "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 ip6:2001:db8::/32 a mx "
	                 "include:_spf.example.com include:zoho.com -all", __LINE__);
	o.all = '~';
	o.a = false;
	build_expect(&o, "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 ip6:2001:db8::/32 mx "
	                 "include:_spf.example.com include:zoho.com ~all", __LINE__);
	memset(&o, 0, sizeof o);
	o.include = inc + 1;
	o.ninclude = 1;
	o.all = '?';
	build_expect(&o, "v=spf1 include:zoho.com ?all", __LINE__);
	/* the issue's provider example */
	o.all = '-';
	build_expect(&o, "v=spf1 include:zoho.com -all", __LINE__);
	o.all = '+';
	char *out = NULL;
	CHECK_INT(mt_spf_build(&o, &out, NULL), MT_EINVAL);
	CHECK(out == NULL);
	CHECK_INT(mt_spf_build(NULL, &out, NULL), MT_EINVAL);

	/* invalid addresses, each named in the message */
	static const char *const bad4[] = {
		"1.2.3.4/33", "mail.example.com", "192.168.01.1", "1.2.3.4/08", "1.2.3", "1.2.3.4/",
		"2001:db8::1", "1.2.3.4 +all", "1.2.3.4//64", "",
	};
	for (size_t i = 0; i < N(bad4); i++) {
		memset(&o, 0, sizeof o);
		o.ip4 = &bad4[i];
		o.nip4 = 1;
		build_refused(&o, bad4[i][0] ? bad4[i] : "ip4", __LINE__);
	}
	static const char *const bad6[] = { "2001:db8::/129", "192.0.2.1", "2001:db8::/064", "gg::1" };
	for (size_t i = 0; i < N(bad6); i++) {
		memset(&o, 0, sizeof o);
		o.ip6 = &bad6[i];
		o.nip6 = 1;
		build_refused(&o, bad6[i], __LINE__);
	}
	static const char *const badinc[] = {
		"zoho", "zoho.com -all", "zoho.com/24", "zoho..com", "zoho.123", "%{z}.example.com",
		"include:zoho.com",
	};
	for (size_t i = 0; i < N(badinc); i++) {
		memset(&o, 0, sizeof o);
		o.include = &badinc[i];
		o.ninclude = 1;
		build_refused(&o, badinc[i], __LINE__);
	}
	/* good edge values */
	static const char *const good4[] = { "0.0.0.0/0", "255.255.255.255/32" };
	static const char *const good6[] = { "::/0", "::1/128", "1080::8:800:68.0.3.1/96" };
	memset(&o, 0, sizeof o);
	o.ip4 = good4;
	o.nip4 = 2;
	o.ip6 = good6;
	o.nip6 = 3;
	/* issue 7 item 9: /0 holds every other network of its family, which
	 * are dropped */
	build_expect(&o, "v=spf1 ip4:0.0.0.0/0 ip6:::/0 -all", __LINE__);
	/* without the /0 each extreme is written */
	o.ip4 = good4 + 1;
	o.nip4 = 1;
	o.ip6 = good6 + 1;
	o.nip6 = 2;
	build_expect(&o, "v=spf1 ip4:255.255.255.255/32 ip6:::1/128 ip6:1080::8:800:68.0.3.1/96 -all",
	             __LINE__);
	/* a macro is a valid domain-spec */
	static const char *const mac[] = { "%{d}.spf.example.net" };
	memset(&o, 0, sizeof o);
	o.include = mac;
	o.ninclude = 1;
	build_expect(&o, "v=spf1 include:%{d}.spf.example.net -all", __LINE__);

	/* lookups: each include, a and mx costs one; the limit is 10 */
	static const char *const many[] = {
		"i1.example", "i2.example", "i3.example", "i4.example", "i5.example", "i6.example",
		"i7.example", "i8.example", "i9.example", "i10.example", "i11.example",
	};
	memset(&o, 0, sizeof o);
	o.include = many;
	o.ninclude = 11;
	build_refused(&o, "11", __LINE__);
	o.ninclude = 10;
	out = NULL;
	CHECK_INT(mt_spf_build(&o, &out, NULL), MT_OK);
	CHECK(out && parses(out));
	mt_free(out);
	o.ninclude = 9;
	o.a = o.mx = true;
	build_refused(&o, "11", __LINE__);
	o.a = false;
	out = NULL;
	CHECK_INT(mt_spf_build(&o, &out, NULL), MT_OK);
	mt_free(out);
	o.ninclude = 2;
	o.max_lookups = 2;
	build_refused(&o, "3", __LINE__);
}

/* ---- notes (issue 7 items 4, 9, 13) ---- */

static const mt_spf_finding *note(const mt_spf_verify *n, const char *code, size_t which)
{
	for (size_t i = 0; i < mt_spf_verify_finding_count(n); i++) {
		const mt_spf_finding *f = mt_spf_verify_finding(n, i);
		if (strcmp(f->code, code) == 0 && which-- == 0)
			return f;
	}
	return NULL;
}

static size_t nnotes(const mt_spf_verify *n, const char *code)
{
	size_t c = 0;
	while (note(n, code, c))
		c++;
	return c;
}

/* Every "..." string of a zone-file form is at most 255 octets and the
 * strings joined give rec. */
static void check_strings(const char *z, const char *rec)
{
	size_t jl = 0, rl = strlen(rec);
	const char *p = z ? strchr(z, '"') : NULL;
	CHECK(p != NULL);
	while (p) {
		const char *e = strchr(p + 1, '"');
		CHECK(e != NULL);
		if (!e)
			return;
		CHECK(e - p - 1 <= 255);
		CHECK(jl + (size_t)(e - p - 1) <= rl && memcmp(rec + jl, p + 1, (size_t)(e - p - 1)) == 0);
		jl += (size_t)(e - p - 1);
		p = strchr(e + 1, '"');
	}
	CHECK_INT(jl, rl);
}

static void test_notes(void)
{
	mt_spf_build_options o;
	mt_spf_verify *n = NULL;
	const mt_spf_finding *f;
	char *out = NULL;
	mt_error err;

	/* build: the same network twice, the same include in two spellings,
	 * a host inside a listed network */
	static const char *const ip4[] = { "192.0.2.0/24", "192.0.2.0/24", "192.0.2.5", "198.51.100.7" };
	static const char *const inc[] = { "a.example", "A.example." };
	memset(&o, 0, sizeof o);
	o.ip4 = ip4;
	o.nip4 = 4;
	o.include = inc;
	o.ninclude = 2;
	memset(&err, 0, sizeof err);
	CHECK_INT(mt_spf_build_notes(&o, &out, &n, &err), MT_OK);
	CHECK_STR(out, "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 include:a.example -all");
	CHECK_INT(nnotes(n, "duplicate-dropped"), 2);
	f = note(n, "covered-dropped", 0);
	CHECK(f && strstr(f->message, "'ip4:192.0.2.5'") && strstr(f->message, "'ip4:192.0.2.0/24'"));
	CHECK_INT(nnotes(n, "covered-dropped"), 1);
	mt_free(out);
	mt_spf_verify_free(n);
	/* two includes, one after dropping the repeat: within a limit of 1 */
	o.nip4 = 0;
	o.max_lookups = 1;
	CHECK_INT(mt_spf_build_notes(&o, &out, NULL, &err), MT_OK);
	CHECK_STR(out, "v=spf1 include:a.example -all");
	mt_free(out);

	/* build: host bits (RFC 7208 5.6: only the prefix's bits count) */
	static const char *const hb[] = { "192.0.2.5/24" };
	memset(&o, 0, sizeof o);
	o.ip4 = hb;
	o.nip4 = 1;
	CHECK_INT(mt_spf_build_notes(&o, &out, &n, &err), MT_OK);
	f = note(n, "host-bits", 0);
	CHECK(f && f->severity == MT_SPF_INFO && strstr(f->message, "192.0.2.0/24"));
	mt_free(out);
	mt_spf_verify_free(n);

	/* build: 40 networks make an 811-octet record (6 + 40 * 20 + 5): over
	 * the 450 of RFC 7208 3.4, with the strings a zone file needs */
	static char nets[40][24];
	const char *np[40];
	for (int i = 0; i < 40; i++) {
		snprintf(nets[i], sizeof nets[i], "198.51.%d.0/24", 100 + i);
		np[i] = nets[i];
	}
	memset(&o, 0, sizeof o);
	o.ip4 = np;
	o.nip4 = 40;
	CHECK_INT(mt_spf_build_notes(&o, &out, &n, &err), MT_OK);
	CHECK_INT(out ? strlen(out) : 0, 811);
	f = note(n, "record-too-long", 0);
	CHECK(f && f->severity == MT_SPF_WARNING && strstr(f->message, "450") &&
	      strstr(f->message, "UDP") && strstr(f->fix, "include"));
	if (f && out)
		check_strings(strchr(f->fix, '"'), out);
	CHECK(note(n, "needs-split", 0) == NULL);
	mt_free(out);
	mt_spf_verify_free(n);
	/* 15 networks: 311 octets, fine over UDP but two strings in a zone */
	o.nip4 = 15;
	CHECK_INT(mt_spf_build_notes(&o, &out, &n, &err), MT_OK);
	CHECK(note(n, "record-too-long", 0) == NULL);
	f = note(n, "needs-split", 0);
	CHECK(f && f->fix);
	if (f && f->fix && out)
		check_strings(f->fix, out);
	mt_free(out);
	mt_spf_verify_free(n);
	/* a short record: no note at all */
	o.nip4 = 1;
	CHECK_INT(mt_spf_build_notes(&o, &out, &n, &err), MT_OK);
	CHECK_INT(mt_spf_verify_finding_count(n), 0);
	mt_free(out);
	mt_spf_verify_free(n);

	/* merge: -all and ~all give ~all; the weaker policy is named */
	const char *weak[] = { "v=spf1 ip4:192.0.2.1 -all", "v=spf1 mx ~all" };
	CHECK_INT(mt_spf_merge_notes(weak, 2, 0, &out, &n, &err), MT_OK);
	CHECK_STR(out, "v=spf1 ip4:192.0.2.1 mx ~all");
	f = note(n, "policy-weaker", 0);
	CHECK(f && f->severity == MT_SPF_WARNING && strstr(f->message, "record 1") &&
	      strstr(f->message, "-all") && strstr(f->message, "~all"));
	mt_free(out);
	mt_spf_verify_free(n);
	const char *same[] = { "v=spf1 ip4:192.0.2.1 ~all", "v=spf1 mx ~all" };
	CHECK_INT(mt_spf_merge_notes(same, 2, 0, &out, &n, &err), MT_OK);
	CHECK(note(n, "policy-weaker", 0) == NULL);
	mt_free(out);
	mt_spf_verify_free(n);

	/* merge: a host inside a network of another record is dropped */
	const char *cov[] = { "v=spf1 ip4:192.0.2.5 ip6:2001:db8::1 -all",
	                      "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all" };
	CHECK_INT(mt_spf_merge_notes(cov, 2, 0, &out, &n, &err), MT_OK);
	CHECK_STR(out, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
	CHECK_INT(nnotes(n, "covered-dropped"), 2);
	f = note(n, "covered-dropped", 0);
	CHECK(f && strstr(f->message, "(record 1)") && strstr(f->message, "(record 2)"));
	mt_free(out);
	mt_spf_verify_free(n);
	/* not when a '-' network of the family could decide first */
	const char *neg[] = { "v=spf1 ip4:192.0.2.5 -all",
	                      "v=spf1 -ip4:192.0.2.0/28 ip4:192.0.2.0/24 -all" };
	CHECK_INT(mt_spf_merge_notes(neg, 2, 0, &out, &n, &err), MT_OK);
	CHECK_STR(out, "v=spf1 ip4:192.0.2.5 -ip4:192.0.2.0/28 ip4:192.0.2.0/24 -all");
	CHECK_INT(nnotes(n, "covered-dropped"), 0);
	mt_free(out);
	mt_spf_verify_free(n);
	/* host bits in an input */
	const char *hbits[] = { "v=spf1 ip4:192.0.2.5/24 -all" };
	CHECK_INT(mt_spf_merge_notes(hbits, 1, 0, &out, &n, &err), MT_OK);
	f = note(n, "host-bits", 0);
	CHECK(f && strstr(f->message, "192.0.2.0/24"));
	mt_free(out);
	mt_spf_verify_free(n);
	/* refused: no notes */
	const char *bad[] = { "v=spf1 +all" };
	n = (mt_spf_verify *)&err; /* must be reset */
	CHECK_INT(mt_spf_merge_notes(bad, 1, 0, &out, &n, &err), MT_ESYNTAX);
	CHECK(n == NULL && out == NULL);
}

int main(void)
{
	test_issue_example();
	test_duplicates();
	test_order();
	test_all();
	test_refusals();
	test_lookups();
	test_bad_arguments();
	test_build();
	test_notes();
	return mt_test_done();
}
