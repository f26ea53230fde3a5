/* DNS module: names, answers, text forms, resolvers and the zone API. */
#include "mt_test.h"
#include "dns/dns_internal.h"
#include "util/util.h"
#include <mailtrust/dns.h>
#include <stdlib.h>

static void test_names(void)
{
	CHECK_STR(mt_dns_type_name(MT_DNS_TXT), "TXT");
	CHECK_STR(mt_dns_type_name(99), "SPF");
	CHECK_STR(mt_dns_type_name(28), "AAAA");
	CHECK(mt_dns_type_name(33) == NULL);
	CHECK(mt_dns_type_name(0) == NULL);
	CHECK_INT(mt_dns_type_from_name("txt", 3), 16);
	CHECK_INT(mt_dns_type_from_name("Aaaa", 4), 28);
	CHECK_INT(mt_dns_type_from_name("cname", 5), 5);
	CHECK_INT(mt_dns_type_from_name("MXX", 2), 15); /* only len octets count */
	CHECK_INT(mt_dns_type_from_name("MXX", 3), 0);
	CHECK_INT(mt_dns_type_from_name("TYPE99", 6), 99);
	CHECK_INT(mt_dns_type_from_name("type16", 6), 16);
	CHECK_INT(mt_dns_type_from_name("TYPE65535", 9), 65535);
	CHECK_INT(mt_dns_type_from_name("TYPE65536", 9), 0);
	CHECK_INT(mt_dns_type_from_name("TYPE0", 5), 0);
	CHECK_INT(mt_dns_type_from_name("TYPE", 4), 0);
	CHECK_INT(mt_dns_type_from_name("TYPE1x", 6), 0);
	CHECK_INT(mt_dns_type_from_name("", 0), 0);
	CHECK_INT(mt_dns_type_from_name(NULL, 3), 0);
	CHECK_STR(mt_dns_rcode_name(MT_DNS_NOERROR), "NOERROR");
	CHECK_STR(mt_dns_rcode_name(MT_DNS_NXDOMAIN), "NXDOMAIN");
	CHECK_STR(mt_dns_rcode_name(MT_DNS_SERVFAIL), "SERVFAIL");
	CHECK_STR(mt_dns_rcode_name(MT_DNS_REFUSED), "REFUSED");
	CHECK_STR(mt_dns_rcode_name(MT_DNS_TIMEOUT), "TIMEOUT");
	CHECK_STR(mt_dns_rcode_name(MT_DNS_FAILURE), "FAILURE");
	CHECK(mt_dns_rcode_name((mt_dns_rcode)77) != NULL);
	CHECK_STR(mt_dnssec_state_name(MT_DNSSEC_SECURE), "secure");
	CHECK_STR(mt_dnssec_state_name(MT_DNSSEC_BOGUS), "bogus");
	CHECK(mt_dnssec_state_name((mt_dnssec_state)9) != NULL);
}

static void test_answer(void)
{
	char src[4] = "abc";
	mt_dns_answer *a = mt_dns_answer_new(MT_DNS_NOERROR);
	CHECK(a != NULL);
	CHECK_INT(a->count, 0);
	CHECK(a->why == NULL && a->canonical_name == NULL);
	CHECK_INT(mt_dns_answer_add(a, MT_DNS_TXT, 300, 0, src, 3), MT_OK);
	src[0] = 'X'; /* the answer holds a copy */
	CHECK_INT(a->count, 1);
	CHECK_INT(a->rr[0].len, 3);
	CHECK(memcmp(a->rr[0].data, "abc", 4) == 0); /* NUL past len */
	CHECK_INT(a->rr[0].ttl, 300);
	CHECK_INT(mt_dns_answer_add(a, MT_DNS_A, 1, 0, NULL, 0), MT_OK);
	CHECK(a->rr[1].data != NULL && a->rr[1].data[0] == 0);
	CHECK_INT(mt_dns_answer_add(a, MT_DNS_A, 1, 0, NULL, 4), MT_EINVAL);
	CHECK_INT(mt_dns_answer_add(NULL, MT_DNS_A, 1, 0, src, 1), MT_EINVAL);
	uint8_t *big = calloc(1, 65536);
	CHECK_INT(mt_dns_answer_add(a, MT_DNS_TXT, 1, 0, big, 65536), MT_ERANGE);
	CHECK_INT(mt_dns_answer_add(a, MT_DNS_TXT, 1, 0, big, 65535), MT_OK);
	free(big);
	CHECK_INT(mt_dns_answer_set_why(a, "first"), MT_OK);
	CHECK_INT(mt_dns_answer_set_why(a, "timed out"), MT_OK);
	CHECK_STR(a->why, "timed out");
	CHECK_INT(mt_dns_answer_set_canonical(a, "host.example.com"), MT_OK);
	CHECK_STR(a->canonical_name, "host.example.com");
	CHECK_INT(mt_dns_answer_set_canonical(a, NULL), MT_OK);
	CHECK(a->canonical_name == NULL);
	mt_dns_answer_free(a);
	mt_dns_answer_free(NULL);

	/* At most 65535 records. */
	a = mt_dns_answer_new(MT_DNS_NOERROR);
	mt_status st = MT_OK;
	for (size_t i = 0; i < 65535 && st == MT_OK; i++)
		st = mt_dns_answer_add(a, MT_DNS_A, 0, 0, "\x01\x02\x03\x04", 4);
	CHECK_INT(st, MT_OK);
	CHECK_INT(a->count, 65535);
	CHECK_INT(mt_dns_answer_add(a, MT_DNS_A, 0, 0, "\x01\x02\x03\x04", 4), MT_ERANGE);
	CHECK_INT(a->count, 65535);
	mt_dns_answer_free(a);
}

static void test_txt_join(void)
{
	char out[64];
	const uint8_t two[] = "\x05hello\x06 world";
	CHECK_INT(mt_dns_txt_join(two, 13, out, sizeof out), 11);
	CHECK_STR(out, "hello world");
	CHECK_INT(mt_dns_txt_join(two, 13, out, 6), 11); /* truncated */
	CHECK_STR(out, "hello");
	CHECK_INT(mt_dns_txt_join(two, 13, NULL, 0), 11);
	CHECK_INT(mt_dns_txt_join(two, 0, out, sizeof out), 0);
	CHECK_STR(out, "");
	const uint8_t empty_first[] = "\x00\x02" "ab";
	CHECK_INT(mt_dns_txt_join(empty_first, 4, out, sizeof out), 2);
	CHECK_STR(out, "ab");
	const uint8_t bad[] = "\x02" "ab\x05" "cd"; /* second string runs past the end */
	CHECK_INT(mt_dns_txt_join(bad, 6, out, sizeof out), 2);
	CHECK_STR(out, "ab");
	CHECK_INT(mt_dns_txt_join(two, 13, out, 1), 11);
	CHECK_STR(out, "");
}

static void check_text(uint16_t type, uint16_t pref, const void *data, size_t len,
                       const char *want)
{
	mt_dns_rr rr = {.type = type, .pref = pref, .ttl = 1, .len = len, .data = data};
	char *s = mt_dns_rr_to_text(&rr);
	CHECK_STR(s, want);
	mt_free(s);
}

static void test_rr_to_text(void)
{
	check_text(MT_DNS_A, 0, "\xc0\x00\x02\x01", 4, "192.0.2.1");
	check_text(MT_DNS_AAAA, 0, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x10", 16, "2001:db8::10");
	check_text(MT_DNS_MX, 10, "mail.example.com", 16, "10 mail.example.com");
	check_text(MT_DNS_MX, 0, "", 0, "0 ."); /* RFC 7505 null MX */
	check_text(MT_DNS_CNAME, 0, "Host.Example.com", 16, "Host.Example.com");
	check_text(MT_DNS_PTR, 0, "mail.example.com", 16, "mail.example.com");
	check_text(MT_DNS_TXT, 0, "\x07v=spf1 \x04-all", 13, "\"v=spf1 \" \"-all\"");
	check_text(MT_DNS_SPF, 0, "\x03" "a\"b", 4, "\"a\\\"b\"");
	check_text(MT_DNS_TXT, 0, "\x05" "a\\b\x01\xff", 6, "\"a\\\\b\\001\\255\"");
	check_text(MT_DNS_TXT, 0, "\x00", 1, "\"\"");
	check_text(MT_DNS_TXT, 0, "", 0, "\"\"");
	/* Data that does not fit its type: RFC 3597 generic form. */
	check_text(MT_DNS_A, 0, "\x01\x02\x03", 3, "\\# 3 010203");
	check_text(MT_DNS_TXT, 0, "\x05" "ab", 3, "\\# 3 056162");
	check_text(257, 0, "\xab", 1, "\\# 1 ab");
	CHECK(mt_dns_rr_to_text(NULL) == NULL);
}

/* ---- resolver wrapper ---- */

static int destroyed;

static mt_status null_resolve(void *impl, const char *name, uint16_t type, unsigned t,
                              mt_dns_answer **out)
{
	*out = NULL;
	return MT_OK;
}

static mt_status failing_resolve(void *impl, const char *name, uint16_t type, unsigned t,
                                 mt_dns_answer **out)
{
	*out = mt_dns_answer_new(MT_DNS_NOERROR); /* must be freed by the wrapper */
	return MT_ENOMEM;
}

static mt_status echo_resolve(void *impl, const char *name, uint16_t type, unsigned t,
                              mt_dns_answer **out)
{
	*out = mt_dns_answer_new(MT_DNS_TIMEOUT);
	if (!*out)
		return MT_ENOMEM;
	mt_dns_answer_set_why(*out, impl);
	return MT_OK;
}

static void count_destroy(void *impl)
{
	destroyed++;
}

static void test_resolver(void)
{
	static const mt_dns_resolver_ops null_ops = {null_resolve, count_destroy};
	static const mt_dns_resolver_ops fail_ops = {failing_resolve, NULL};
	static const mt_dns_resolver_ops echo_ops = {echo_resolve, NULL};
	static const mt_dns_resolver_ops no_ops = {NULL, NULL};
	mt_dns_answer *ans = (mt_dns_answer *)&ans;
	mt_dns_resolver *r = mt_dns_resolver_new(&null_ops, NULL);

	CHECK(r != NULL);
	CHECK_INT(mt_dns_resolve(r, "example.com", MT_DNS_TXT, 0, &ans), MT_EDNS);
	CHECK(ans == NULL);
	CHECK_INT(mt_dns_resolve(r, NULL, MT_DNS_TXT, 0, &ans), MT_EINVAL);
	mt_dns_resolver_free(r);
	CHECK_INT(destroyed, 1);
	mt_dns_resolver_free(NULL);
	CHECK(mt_dns_resolver_new(NULL, NULL) == NULL);
	CHECK(mt_dns_resolver_new(&no_ops, NULL) == NULL);

	r = mt_dns_resolver_new(&fail_ops, NULL);
	CHECK_INT(mt_dns_resolve(r, "example.com", MT_DNS_TXT, 0, &ans), MT_ENOMEM);
	CHECK(ans == NULL);
	mt_dns_resolver_free(r);

	r = mt_dns_resolver_new(&echo_ops, "timed out after 5000 ms");
	CHECK_INT(mt_dns_resolve(r, "example.com", MT_DNS_TXT, 5000, &ans), MT_OK);
	CHECK(ans != NULL && ans->rcode == MT_DNS_TIMEOUT);
	CHECK_STR(ans ? ans->why : NULL, "timed out after 5000 ms");
	mt_dns_answer_free(ans);
	mt_dns_resolver_free(r);
}

/* ---- zone ---- */

static mt_dns_answer *q(const mt_dns_zone *z, const char *name, uint16_t type)
{
	mt_dns_answer *a = NULL;
	mt_status st = mt_dns_zone_query(z, name, type, &a);
	CHECK_INT(st, MT_OK);
	CHECK(a != NULL);
	return a;
}

/* rcode and record count of one question. */
static void expect(const mt_dns_zone *z, const char *name, uint16_t type, mt_dns_rcode rcode,
                   size_t count)
{
	mt_dns_answer *a = q(z, name, type);
	if (!a)
		return;
	if (a->rcode != rcode || a->count != count)
		fprintf(stderr, "  question %s/%u: %s with %zu records\n", name, type,
		        mt_dns_rcode_name(a->rcode), a->count);
	CHECK_INT(a->rcode, rcode);
	CHECK_INT(a->count, count);
	for (size_t i = 0; i < a->count; i++)
		CHECK_INT(a->rr[i].type, type);
	mt_dns_answer_free(a);
}

static mt_status add_txt1(mt_dns_zone *z, const char *name, const char *s)
{
	size_t len = strlen(s);
	return mt_dns_zone_add_txt(z, name, MT_DNS_TXT, 300, &s, &len, 1);
}

static void test_zone_names(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	char l63[64], l64[65], n253[254], n254[256];
	const uint8_t a4[4] = {192, 0, 2, 1};
	size_t len;

	memset(l63, 'a', 63);
	l63[63] = 0;
	memset(l64, 'b', 64);
	l64[64] = 0;
	/* 253 octets: 63 + 1 + 63 + 1 + 63 + 1 + 61 */
	memset(n253, 'c', 253);
	n253[63] = n253[127] = n253[191] = '.';
	n253[253] = 0;
	memcpy(n254, n253, 253);
	n254[253] = 'c';
	n254[254] = 0;

	CHECK_INT(mt_dns_zone_add(z, l63, MT_DNS_A, 1, 0, a4, 4), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, l64, MT_DNS_A, 1, 0, a4, 4), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add(z, n253, MT_DNS_A, 1, 0, a4, 4), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, n254, MT_DNS_A, 1, 0, a4, 4), MT_EINVAL);
	n254[253] = '.'; /* 253 octets and the trailing dot */
	CHECK_INT(mt_dns_zone_add(z, n254, MT_DNS_A, 1, 0, a4, 4), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, "a..example.com", MT_DNS_A, 1, 0, a4, 4), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add(z, ".example.com", MT_DNS_A, 1, 0, a4, 4), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add(z, "example.com..", MT_DNS_A, 1, 0, a4, 4), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add(z, "foo:bar/baz.example.com", MT_DNS_A, 1, 0, a4, 4), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, "example.com.", MT_DNS_A, 1, 0, a4, 4), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, NULL, MT_DNS_A, 1, 0, a4, 4), MT_EINVAL);
	/* Data sizes and forms. */
	CHECK_INT(mt_dns_zone_add(z, "x.example.com", MT_DNS_A, 1, 0, a4, 3), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add(z, "x.example.com", MT_DNS_AAAA, 1, 0, a4, 4), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add(z, "x.example.com", MT_DNS_TXT, 1, 0, "\x05" "ab", 3), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add(z, "x.example.com", MT_DNS_CNAME, 1, 0, "a..b", 4), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add(z, "x.example.com", 0, 1, 0, a4, 4), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add(z, "x.example.com", MT_DNS_TXT, 1, 0, NULL, 1), MT_EINVAL);
	expect(z, "x.example.com", MT_DNS_A, MT_DNS_NXDOMAIN, 0); /* nothing was added */
	/* A target with a trailing dot is kept without it. */
	CHECK_INT(mt_dns_zone_add(z, "m.example.com", MT_DNS_MX, 1, 5, "mx.example.com.", 15), MT_OK);
	mt_dns_answer *a = q(z, "m.example.com", MT_DNS_MX);
	CHECK(a && a->count == 1 && a->rr[0].pref == 5 && a->rr[0].len == 14);
	CHECK_STR(a && a->count ? (const char *)a->rr[0].data : NULL, "mx.example.com");
	mt_dns_answer_free(a);
	/* Query names follow the same rules; a bad one is a failure answer. */
	expect(z, l63, MT_DNS_A, MT_DNS_NOERROR, 1);
	expect(z, n253, MT_DNS_A, MT_DNS_NOERROR, 2);
	expect(z, "foo:bar/baz.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	expect(z, "a..example.com", MT_DNS_A, MT_DNS_FAILURE, 0);
	expect(z, l64, MT_DNS_A, MT_DNS_FAILURE, 0);
	CHECK(mt_dns_zone_query(z, NULL, MT_DNS_A, &a) == MT_EINVAL && a == NULL);

	CHECK(mt_dns_name_check("a.b.", 4, &len) && len == 3);
	CHECK(mt_dns_name_check(".", 1, &len) && len == 0);
	CHECK(mt_dns_name_check("", 0, &len) && len == 0);
	CHECK(!mt_dns_name_check("a\0b", 3, &len));
	mt_dns_zone_free(z);
	mt_dns_zone_free(NULL);
}

static void test_zone_exist(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	CHECK_INT(add_txt1(z, "a.b.example.com", "hello"), MT_OK);
	/* RFC 1034 section 4.3.2 / RFC 8020: a name with records below it exists. */
	expect(z, "a.b.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	expect(z, "a.b.example.com", MT_DNS_A, MT_DNS_NOERROR, 0);   /* NODATA */
	expect(z, "b.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 0);   /* empty non-terminal */
	expect(z, "example.com", MT_DNS_TXT, MT_DNS_NOERROR, 0);
	expect(z, "com", MT_DNS_MX, MT_DNS_NOERROR, 0);
	expect(z, "c.example.com", MT_DNS_TXT, MT_DNS_NXDOMAIN, 0);
	expect(z, "x.a.b.example.com", MT_DNS_TXT, MT_DNS_NXDOMAIN, 0);
	expect(z, "ab.example.com", MT_DNS_TXT, MT_DNS_NXDOMAIN, 0);
	expect(z, "example.org", MT_DNS_TXT, MT_DNS_NXDOMAIN, 0);
	/* Case-insensitive, trailing dot optional. */
	expect(z, "A.B.Example.COM.", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	expect(z, "B.EXAMPLE.COM", MT_DNS_TXT, MT_DNS_NOERROR, 0);

	/* Insertion order within an RRset, types kept apart. */
	CHECK_INT(add_txt1(z, "Order.example.com", "one"), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, "order.example.com", MT_DNS_A, 1, 0, "\xc0\0\x02\x01", 4),
	          MT_OK);
	CHECK_INT(add_txt1(z, "ORDER.example.com", "two"), MT_OK);
	CHECK_INT(add_txt1(z, "order.example.com.", "three"), MT_OK);
	mt_dns_answer *a = q(z, "order.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 3);
	if (a && a->count == 3) {
		CHECK_STR((const char *)a->rr[0].data + 1, "one");
		CHECK_STR((const char *)a->rr[1].data + 1, "two");
		CHECK_STR((const char *)a->rr[2].data + 1, "three");
		CHECK_INT(a->rr[0].ttl, 300);
	}
	CHECK(a && a->canonical_name == NULL && a->why == NULL);
	mt_dns_answer_free(a);
	expect(z, "order.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);

	/* add_txt: several strings, each at most 255 octets. */
	const char *s[2] = {"v=spf1 ", "-all"};
	size_t l[2] = {7, 4};
	CHECK_INT(mt_dns_zone_add_txt(z, "two.example.com", MT_DNS_SPF, 60, s, l, 2), MT_OK);
	a = q(z, "two.example.com", MT_DNS_SPF);
	CHECK(a && a->count == 1 && a->rr[0].len == 13 &&
	      memcmp(a->rr[0].data, "\x07v=spf1 \x04-all", 14) == 0);
	mt_dns_answer_free(a);
	char big[256];
	const char *bp = big;
	size_t bl = 256;
	memset(big, 'x', sizeof big);
	CHECK_INT(mt_dns_zone_add_txt(z, "big.example.com", MT_DNS_TXT, 1, &bp, &bl, 1), MT_EINVAL);
	bl = 255;
	CHECK_INT(mt_dns_zone_add_txt(z, "big.example.com", MT_DNS_TXT, 1, &bp, &bl, 1), MT_OK);
	CHECK_INT(mt_dns_zone_add_txt(z, "big.example.com", MT_DNS_A, 1, &bp, &bl, 1), MT_EINVAL);
	mt_dns_zone_free(z);
}

static void test_zone_cname(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	char name[32], target[32];
	mt_dns_answer *a;

	CHECK_INT(mt_dns_zone_add(z, "www.example.com", MT_DNS_CNAME, 60, 0, "host.example.org", 16),
	          MT_OK);
	CHECK_INT(mt_dns_zone_add(z, "host.example.org", MT_DNS_A, 60, 0, "\xc0\0\x02\x07", 4), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, "dangling.example.com", MT_DNS_CNAME, 60, 0, "gone.example.net",
	                          16), MT_OK);

	/* RFC 1034 section 3.6.2: the answer is the target's data. */
	a = q(z, "WWW.example.com", MT_DNS_A);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1 && a->rr[0].type == MT_DNS_A);
	CHECK(a && a->count == 1 && memcmp(a->rr[0].data, "\xc0\0\x02\x07", 4) == 0);
	CHECK_STR(a ? a->canonical_name : NULL, "host.example.org");
	mt_dns_answer_free(a);
	/* Target exists without the type: NODATA, still through the CNAME. */
	a = q(z, "www.example.com", MT_DNS_TXT);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 0);
	CHECK_STR(a ? a->canonical_name : NULL, "host.example.org");
	mt_dns_answer_free(a);
	/* Asking for the CNAME itself does not follow it. */
	a = q(z, "www.example.com", MT_DNS_CNAME);
	CHECK(a && a->count == 1 && a->rr[0].type == MT_DNS_CNAME && a->canonical_name == NULL);
	CHECK_STR(a && a->count ? (const char *)a->rr[0].data : NULL, "host.example.org");
	mt_dns_answer_free(a);
	/* RFC 6604: NXDOMAIN is about the last name of the chain. */
	a = q(z, "dangling.example.com", MT_DNS_TXT);
	CHECK(a && a->rcode == MT_DNS_NXDOMAIN && a->count == 0);
	CHECK_STR(a ? a->canonical_name : NULL, "gone.example.net");
	mt_dns_answer_free(a);

	/* Loops. */
	mt_dns_zone_add(z, "l1.example.com", MT_DNS_CNAME, 1, 0, "l2.example.com", 14);
	mt_dns_zone_add(z, "l2.example.com", MT_DNS_CNAME, 1, 0, "L1.example.com.", 15);
	mt_dns_zone_add(z, "self.example.com", MT_DNS_CNAME, 1, 0, "self.example.com", 16);
	a = q(z, "l1.example.com", MT_DNS_TXT);
	CHECK(a && a->rcode == MT_DNS_SERVFAIL && a->count == 0);
	CHECK_STR(a ? a->why : NULL, "CNAME loop");
	mt_dns_answer_free(a);
	a = q(z, "self.example.com", MT_DNS_A);
	CHECK(a && a->rcode == MT_DNS_SERVFAIL);
	CHECK_STR(a ? a->why : NULL, "CNAME loop");
	mt_dns_answer_free(a);
	expect(z, "l1.example.com", MT_DNS_CNAME, MT_DNS_NOERROR, 1);

	/* c0 -> c1 -> ... -> c16 (16 links) answers; c0 ... c17 does not. */
	for (int i = 0; i < 17; i++) {
		snprintf(name, sizeof name, "c%d.chain.example", i);
		snprintf(target, sizeof target, "c%d.chain.example", i + 1);
		CHECK_INT(mt_dns_zone_add(z, name, MT_DNS_CNAME, 1, 0, target, strlen(target)), MT_OK);
	}
	/* c17 holds the TXT; from c1 it is 16 links, from c0 17. */
	CHECK_INT(add_txt1(z, "c17.chain.example", "end"), MT_OK);
	a = q(z, "c1.chain.example", MT_DNS_TXT);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
	CHECK_STR(a ? a->canonical_name : NULL, "c17.chain.example");
	mt_dns_answer_free(a);
	a = q(z, "c0.chain.example", MT_DNS_TXT);
	CHECK(a && a->rcode == MT_DNS_SERVFAIL && a->count == 0);
	mt_dns_answer_free(a);
	mt_dns_zone_free(z);
}

static void test_zone_faults(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_dns_answer *a;

	CHECK_INT(add_txt1(z, "spftimeout.example.net", "v=spf1 -all"), MT_OK);
	CHECK_INT(mt_dns_zone_add_fault(z, "spftimeout.example.net", 0, MT_DNS_TIMEOUT), MT_OK);
	CHECK_INT(mt_dns_zone_add_fault(z, "mxfail.example.net", MT_DNS_MX, MT_DNS_SERVFAIL), MT_OK);
	CHECK_INT(mt_dns_zone_add_fault(z, "both.example.net", 0, MT_DNS_REFUSED), MT_OK);
	CHECK_INT(mt_dns_zone_add_fault(z, "both.example.net", MT_DNS_A, MT_DNS_SERVFAIL), MT_OK);
	CHECK_INT(mt_dns_zone_add_fault(z, "bad..name", 0, MT_DNS_TIMEOUT), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add_fault(z, "x.example.net", 0, MT_DNS_NOERROR), MT_EINVAL);
	CHECK_INT(mt_dns_zone_add_fault(z, "gone.example.net", 0, MT_DNS_NXDOMAIN), MT_OK);

	/* Records of the asked type are still answered ... */
	expect(z, "spftimeout.example.net", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	/* ... every other type gets the fault. */
	expect(z, "spftimeout.example.net", MT_DNS_SPF, MT_DNS_TIMEOUT, 0);
	expect(z, "SPFTIMEOUT.example.net", MT_DNS_A, MT_DNS_TIMEOUT, 0);
	/* A fault for one type. */
	expect(z, "mxfail.example.net", MT_DNS_MX, MT_DNS_SERVFAIL, 0);
	expect(z, "mxfail.example.net", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	/* The type's own fault wins over the one for every type. */
	expect(z, "both.example.net", MT_DNS_A, MT_DNS_SERVFAIL, 0);
	expect(z, "both.example.net", MT_DNS_TXT, MT_DNS_REFUSED, 0);
	expect(z, "gone.example.net", MT_DNS_TXT, MT_DNS_NXDOMAIN, 0);
	/* A fault does not make a name exist: its parent is not an ENT. */
	expect(z, "example.net", MT_DNS_TXT, MT_DNS_NOERROR, 0); /* spftimeout's records */
	expect(z, "sub.mxfail.example.net", MT_DNS_MX, MT_DNS_NXDOMAIN, 0);
	/* A fault reached through a CNAME. */
	mt_dns_zone_add(z, "alias.example.org", MT_DNS_CNAME, 1, 0, "spftimeout.example.net", 22);
	a = q(z, "alias.example.org", MT_DNS_A);
	CHECK(a && a->rcode == MT_DNS_TIMEOUT);
	CHECK_STR(a ? a->canonical_name : NULL, "spftimeout.example.net");
	mt_dns_answer_free(a);

	/* The zone as a resolver answers the same. */
	mt_dns_resolver *r = mt_dns_zone_resolver_new(z);
	CHECK(r != NULL);
	CHECK_INT(mt_dns_resolve(r, "spftimeout.example.net", MT_DNS_TXT, 0, &a), MT_OK);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
	mt_dns_answer_free(a);
	CHECK_INT(mt_dns_resolve(r, "mxfail.example.net", MT_DNS_MX, 10, &a), MT_OK);
	CHECK(a && a->rcode == MT_DNS_SERVFAIL);
	mt_dns_answer_free(a);
	mt_dns_resolver_free(r); /* the zone is borrowed */
	expect(z, "spftimeout.example.net", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	CHECK(mt_dns_zone_resolver_new(NULL) == NULL);
	mt_dns_zone_free(z);
}

/* Many names: the table grows and still finds everything. */
static void test_zone_many(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	char name[64];
	int bad = 0;
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof name, "h%d.n%d.example", i, i % 97);
		if (mt_dns_zone_add(z, name, MT_DNS_A, 1, 0, "\xc0\0\x02\x01", 4) != MT_OK)
			bad++;
	}
	CHECK_INT(bad, 0);
	for (int i = 0; i < 20000; i += 7) {
		mt_dns_answer *a = NULL;
		snprintf(name, sizeof name, "H%d.N%d.EXAMPLE", i, i % 97);
		if (mt_dns_zone_query(z, name, MT_DNS_A, &a) != MT_OK || a->count != 1)
			bad++;
		mt_dns_answer_free(a);
	}
	CHECK_INT(bad, 0);
	expect(z, "n5.example", MT_DNS_A, MT_DNS_NOERROR, 0);
	expect(z, "n97.example", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	mt_dns_zone_free(z);
}

int main(void)
{
	test_names();
	test_answer();
	test_txt_join();
	test_rr_to_text();
	test_resolver();
	test_zone_names();
	test_zone_exist();
	test_zone_cname();
	test_zone_faults();
	test_zone_many();
	return mt_test_done();
}
