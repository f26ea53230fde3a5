/* The in-memory zone API, the master-file reader (RFC 1035 section 5) and
 * the $FAULT extension. */
#include "mt_test.h"
#include "dns/dns_internal.h"
#include "util/util.h"
#include <mailtrust/dns.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the zone API ---- */

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

/* What a zone costs: limits on records and memory, and an overhead per
 * record that stays near what the data needs (a name's node, the record,
 * a slot of the table: under 128 octets for a short name and an A record;
 * the allocator's headers and the old layout's separate key and data
 * blocks came to about 240). */
static void test_zone_limits(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	const uint8_t a4[4] = {192, 0, 2, 1};
	mt_error err = {0};
	size_t records = 0, bytes = 0, before;
	char name[300];
	mt_buf text;
	int bad = 0;

	/* small names, one A record each */
	for (int i = 0; i < 50000; i++) {
		snprintf(name, sizeof name, "%x.example", i);
		if (mt_dns_zone_add(z, name, MT_DNS_A, 1, 0, a4, 4) != MT_OK)
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(mt_dns_zone_usage(z, &records, &bytes), MT_OK);
	CHECK_INT(records, 50000);
	CHECK(bytes / records < 128);
	mt_dns_zone_free(z);

	/* Deep names share the nodes of their common suffix: 1,000 names of
	 * 101 labels cost little more than 1,000 short ones. */
	z = mt_dns_zone_new();
	{
		size_t n = 0;
		for (int i = 0; i < 100; i++) {
			memcpy(name + n, "s.", 2);
			n += 2;
		}
		memcpy(name + n, "example", 8);
		for (int i = 0; i < 1000; i++) {
			char deep[320];
			snprintf(deep, sizeof deep, "%x.%s", i, name);
			if (mt_dns_zone_add(z, deep, MT_DNS_A, 1, 0, a4, 4) != MT_OK)
				bad++;
		}
		CHECK_INT(bad, 0);
		CHECK_INT(mt_dns_zone_usage(z, &records, &bytes), MT_OK);
		CHECK(bytes / records < 256);
		{
			char upper[320];
			snprintf(upper, sizeof upper, "3E7.S.%s", name + 2);
			expect(z, upper, MT_DNS_A, MT_DNS_NOERROR, 1);
		}
		expect(z, name, MT_DNS_A, MT_DNS_NOERROR, 0);      /* an ancestor: NODATA */
		expect(z, name + 2, MT_DNS_A, MT_DNS_NOERROR, 0);
		expect(z, "3e8.s.example", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	}
	mt_dns_zone_free(z);

	/* Labels are matched whole, from the right, in any case. */
	z = mt_dns_zone_new();
	CHECK_INT(mt_dns_zone_add(z, "a.b.c", MT_DNS_A, 1, 0, a4, 4), MT_OK);
	expect(z, "A.B.C", MT_DNS_A, MT_DNS_NOERROR, 1);
	expect(z, "b.c", MT_DNS_A, MT_DNS_NOERROR, 0);
	expect(z, "c", MT_DNS_A, MT_DNS_NOERROR, 0);
	expect(z, "", MT_DNS_A, MT_DNS_NOERROR, 0);
	expect(z, "ab.c", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	expect(z, "a.bc", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	expect(z, "a.b.c.d", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	expect(z, "x.a.b.c", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	CHECK_INT(mt_dns_zone_add(z, ".", MT_DNS_A, 1, 0, a4, 4), MT_OK);
	expect(z, "", MT_DNS_A, MT_DNS_NOERROR, 1);
	mt_dns_zone_free(z);

	/* A record limit: the add past it fails and changes nothing. */
	z = mt_dns_zone_new();
	CHECK_INT(mt_dns_zone_set_limits(z, 3, 0), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, "one.example", MT_DNS_A, 1, 0, a4, 4), MT_OK);
	CHECK_INT(mt_dns_zone_add_fault(z, "two.example", 0, MT_DNS_SERVFAIL), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, "three.example", MT_DNS_A, 1, 0, a4, 4), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, "four.example", MT_DNS_A, 1, 0, a4, 4), MT_ERANGE);
	CHECK_INT(mt_dns_zone_add_fault(z, "four.example", 0, MT_DNS_SERVFAIL), MT_ERANGE);
	/* replacing a fault adds none */
	CHECK_INT(mt_dns_zone_add_fault(z, "two.example", 0, MT_DNS_REFUSED), MT_OK);
	expect(z, "four.example", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	expect(z, "two.example", MT_DNS_A, MT_DNS_REFUSED, 0);
	CHECK_INT(mt_dns_zone_usage(z, &records, NULL), MT_OK);
	CHECK_INT(records, 3);
	/* 0 restores the default */
	CHECK_INT(mt_dns_zone_set_limits(z, 0, 0), MT_OK);
	CHECK_INT(mt_dns_zone_add(z, "four.example", MT_DNS_A, 1, 0, a4, 4), MT_OK);
	CHECK_INT(mt_dns_zone_set_limits(NULL, 1, 1), MT_EINVAL);
	CHECK_INT(mt_dns_zone_usage(NULL, &records, &bytes), MT_EINVAL);
	mt_dns_zone_free(z);

	/* The loader names the file, the line and the limit. */
	z = mt_dns_zone_new();
	CHECK_INT(mt_dns_zone_set_limits(z, 2, 0), MT_OK);
	CHECK_INT(mt_dns_zone_load_text(z, "a A 192.0.2.1\n; two\nb TXT \"x\"\n\nc A 192.0.2.3\n",
	                                45, "example", "small.zone", &err), MT_ERANGE);
	CHECK_STR(err.message, "small.zone:5: zone exceeds 2 records (its limit)");
	expect(z, "b.example", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	mt_dns_zone_free(z);

	/* A memory limit of 1 MiB: 30,000 records do not fit. */
	z = mt_dns_zone_new();
	CHECK_INT(mt_dns_zone_set_limits(z, 0, (size_t)1 << 20), MT_OK);
	mt_buf_init(&text, (size_t)1 << 22);
	for (int i = 0; i < 30000; i++)
		mt_buf_printf(&text, "h%d A 192.0.2.1\n", i);
	CHECK_INT(text.err, MT_OK);
	CHECK_INT(mt_dns_zone_load_text(z, text.data, text.len, "example", "big.zone", &err),
	          MT_ERANGE);
	CHECK(strncmp(err.message, "big.zone:", 9) == 0);
	CHECK(strstr(err.message, ": zone exceeds 1 MiB of memory (its limit)") != NULL);
	CHECK_INT(mt_dns_zone_usage(z, &records, &bytes), MT_OK);
	CHECK(bytes <= (size_t)1 << 20);
	CHECK(records > 1000 && records < 30000);
	before = bytes;
	CHECK_INT(mt_dns_zone_add(z, "more.example", MT_DNS_TXT, 1, 0, "", 0), MT_ERANGE);
	CHECK_INT(mt_dns_zone_usage(z, NULL, &bytes), MT_OK);
	CHECK(bytes <= (size_t)1 << 20 && bytes >= before);
	mt_buf_free(&text);
	/* A limit that is not whole MiB is said in octets. */
	CHECK_INT(mt_dns_zone_set_limits(z, 0, 1000), MT_OK);
	CHECK_INT(mt_dns_zone_load_text(z, "x A 192.0.2.1\n", 14, "example", NULL, &err), MT_ERANGE);
	CHECK_STR(err.message, "<string>:1: zone exceeds 1000 octets of memory (its limit)");
	mt_dns_zone_free(z);
}

/* ---- the master-file reader ---- */

/* The joined text of record i of an answer (TXT), or the name data. */
static const char *txt(const mt_dns_answer *a, size_t i, char *buf, size_t cap)
{
	if (!a || i >= a->count)
		return "(none)";
	mt_dns_txt_join(a->rr[i].data, a->rr[i].len, buf, cap);
	return buf;
}

static mt_status load(mt_dns_zone *z, const char *text, const char *origin, mt_error *err)
{
	return mt_dns_zone_load_text(z, text, strlen(text), origin, NULL, err);
}

/* text must fail with MT_ESYNTAX and exactly this message. */
static void expect_error(const char *text, const char *message)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err = {0};
	mt_status st = load(z, text, "example.com", &err);
	CHECK_INT(st, MT_ESYNTAX);
	CHECK_INT(err.status, MT_ESYNTAX);
	CHECK_STR(err.message, message);
	mt_dns_zone_free(z);
}

static void test_basic(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err = {0};
	char buf[512];
	const char *text =
		"; a comment line\n"
		"$ORIGIN example.com.\n"
		"$TTL 300\n"
		"@\tIN TXT \"v=spf1 -all\"\n"
		"\tMX 10 mail ; owner inherited from the line above\n"
		"mail 60 IN A 192.0.2.10\n"
		"     IN 120 AAAA 2001:db8::10\n"
		"\n"
		"www.example.org. CNAME mail\n"
		"rel.sub CNAME @\n"
		"abs CNAME other.example.net.\n"
		"$ORIGIN example.net.\n"
		"x TXT plain\n";
	CHECK_INT(load(z, text, NULL, &err), MT_OK);
	mt_dns_answer *a = q(z, "example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].ttl == 300);
	CHECK_STR(txt(a, 0, buf, sizeof buf), "v=spf1 -all");
	mt_dns_answer_free(a);
	a = q(z, "example.com", MT_DNS_MX);
	CHECK(a && a->count == 1 && a->rr[0].pref == 10 && a->rr[0].ttl == 300);
	CHECK_STR(a && a->count ? (const char *)a->rr[0].data : NULL, "mail.example.com");
	mt_dns_answer_free(a);
	a = q(z, "mail.example.com", MT_DNS_A);
	CHECK(a && a->count == 1 && a->rr[0].ttl == 60 &&
	      memcmp(a->rr[0].data, "\xc0\x00\x02\x0a", 4) == 0);
	mt_dns_answer_free(a);
	a = q(z, "mail.example.com", MT_DNS_AAAA);
	CHECK(a && a->count == 1 && a->rr[0].ttl == 120 && a->rr[0].len == 16 &&
	      a->rr[0].data[0] == 0x20 && a->rr[0].data[15] == 0x10);
	mt_dns_answer_free(a);
	a = q(z, "www.example.org", MT_DNS_CNAME);
	CHECK_STR(a && a->count ? (const char *)a->rr[0].data : NULL, "mail.example.com");
	mt_dns_answer_free(a);
	a = q(z, "rel.sub.example.com", MT_DNS_CNAME);
	CHECK_STR(a && a->count ? (const char *)a->rr[0].data : NULL, "example.com");
	mt_dns_answer_free(a);
	a = q(z, "abs.example.com", MT_DNS_CNAME);
	CHECK_STR(a && a->count ? (const char *)a->rr[0].data : NULL, "other.example.net");
	mt_dns_answer_free(a);
	a = q(z, "x.example.net", MT_DNS_TXT); /* after the second $ORIGIN */
	CHECK_STR(txt(a, 0, buf, sizeof buf), "plain");
	mt_dns_answer_free(a);
	/* Following the CNAME from www.example.org reaches mail's address. */
	a = q(z, "www.example.org", MT_DNS_A);
	CHECK(a && a->count == 1);
	CHECK_STR(a ? a->canonical_name : NULL, "mail.example.com");
	mt_dns_answer_free(a);
	/* sub.example.com is an empty non-terminal (rel.sub has a record). */
	expect(z, "sub.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 0);
	expect(z, "nope.example.com", MT_DNS_TXT, MT_DNS_NXDOMAIN, 0);
	mt_dns_zone_free(z);
}

static void test_origin_and_ttl(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err = {0};
	mt_dns_answer *a;
	/* The origin argument, with or without its dot; '@' is the origin. */
	CHECK_INT(load(z, "@ A 192.0.2.1\nhost A 192.0.2.2\n", "Example.COM.", &err), MT_OK);
	expect(z, "example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	expect(z, "host.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	/* No origin: relative names are taken as they are. */
	CHECK_INT(load(z, "plain.example A 192.0.2.3\n", NULL, &err), MT_OK);
	expect(z, "plain.example", MT_DNS_A, MT_DNS_NOERROR, 1);
	CHECK_INT(load(z, "x A 192.0.2.3\n", "bad..origin", &err), MT_EINVAL);

	/* Without $TTL the last stated TTL is the default (RFC 1035 section 5.1);
	 * with $TTL that value is (RFC 2308 section 4). Units as in BIND. */
	CHECK_INT(load(z,
	               "t1 100 A 192.0.2.1\n"
	               "t2 A 192.0.2.1\n"
	               "t3 1h A 192.0.2.1\n"
	               "t4 IN 2d A 192.0.2.1\n"
	               "t5 1W IN A 192.0.2.1\n"
	               "t6 1h30m A 192.0.2.1\n"
	               "$TTL 30m\n"
	               "t7 A 192.0.2.1\n"
	               "t8 5 A 192.0.2.1\n"
	               "t9 A 192.0.2.1\n"
	               "t10 2147483647 A 192.0.2.1\n",
	               "ttl.example", &err), MT_OK);
	static const struct { const char *name; uint32_t ttl; } want[] = {
		{"t1.ttl.example", 100},   {"t2.ttl.example", 100},    {"t3.ttl.example", 3600},
		{"t4.ttl.example", 172800}, {"t5.ttl.example", 604800}, {"t6.ttl.example", 5400},
		{"t7.ttl.example", 1800},  {"t8.ttl.example", 5},      {"t9.ttl.example", 1800},
		{"t10.ttl.example", 2147483647u},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		a = q(z, want[i].name, MT_DNS_A);
		CHECK(a && a->count == 1);
		if (a && a->count == 1 && a->rr[0].ttl != want[i].ttl)
			fprintf(stderr, "  %s: ttl %u, want %u\n", want[i].name, a->rr[0].ttl, want[i].ttl);
		CHECK(a && a->count == 1 && a->rr[0].ttl == want[i].ttl);
		mt_dns_answer_free(a);
	}
	mt_dns_zone_free(z);
}

static void test_strings(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err = {0};
	char buf[512];
	mt_dns_answer *a;
	const char *text =
		"multi TXT ( \"v=spf1 \" ; the first string\n"
		"            \"ip4:192.0.2.0/24\"\n"
		"            \" -all\" )\n"
		"esc TXT \"a\\\"b\" \"c\\\\d\" \"\\065\\066C\"\n"
		"bare TXT a\\ b\\059c\n"
		"semi TXT \"x;y\" (z)\n"
		"empty TXT \"\"\n"
		"nul TXT \"\\000\\255\"\n"
		"spf SPF \"v=spf1 -all\"\n";
	CHECK_INT(load(z, text, "example.com", &err), MT_OK);
	a = q(z, "multi.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1);
	/* three character-strings, joined without separators (RFC 7208 3.3) */
	CHECK(a && a->count == 1 && a->rr[0].len == 1 + 7 + 1 + 16 + 1 + 5 && a->rr[0].data[0] == 7);
	CHECK_STR(txt(a, 0, buf, sizeof buf), "v=spf1 ip4:192.0.2.0/24 -all");
	mt_dns_answer_free(a);
	a = q(z, "esc.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].len == 12 &&
	      memcmp(a->rr[0].data, "\x03" "a\"b" "\x03" "c\\d" "\x03" "ABC", 12) == 0);
	mt_dns_answer_free(a);
	a = q(z, "bare.example.com", MT_DNS_TXT); /* escapes outside quotes too */
	CHECK(a && a->count == 1 && a->rr[0].len == 6 && memcmp(a->rr[0].data, "\x05" "a b;c", 6) == 0);
	mt_dns_answer_free(a);
	a = q(z, "semi.example.com", MT_DNS_TXT); /* ';' inside quotes is text */
	CHECK(a && a->count == 1 && a->rr[0].len == 6 && memcmp(a->rr[0].data, "\x03x;y\x01z", 6) == 0);
	mt_dns_answer_free(a);
	a = q(z, "empty.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].len == 1 && a->rr[0].data[0] == 0);
	mt_dns_answer_free(a);
	a = q(z, "nul.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].len == 3 && memcmp(a->rr[0].data, "\x02\x00\xff", 3) == 0);
	mt_dns_answer_free(a);
	expect(z, "spf.example.com", MT_DNS_SPF, MT_DNS_NOERROR, 1);
	expect(z, "spf.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 0);

	/* 255 octets is the most one string holds. */
	char big[300];
	memcpy(big, "b TXT \"", 7);
	memset(big + 7, 'x', 255);
	memcpy(big + 262, "\"\n", 3);
	CHECK_INT(load(z, big, "example.com", &err), MT_OK);
	a = q(z, "b.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].len == 256 && a->rr[0].data[0] == 255);
	mt_dns_answer_free(a);
	mt_dns_zone_free(z);
}

static void test_misc_syntax(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err = {0};
	mt_dns_answer *a;
	const char *text =
		"$origin Example.com.\r\n"                      /* directives, types, class: any case */
		"Host in txt \"crlf\"\r\n"
		"foo:bar/baz 1 a 192.0.2.5\n"                   /* odd octets in a label */
		"@ IN SOA ns1 hostmaster (\n"
		"        2024060101 ; serial\n"
		"        1h 15m 1w\n"
		"        300 )\n"
		"mx MX 0 .\n"                                   /* RFC 7505 null MX */
		"rev PTR host\n"
		"ns NS ns1.example.net.\n"
		"num TYPE16 \"generic type name\"\n"
		"$FAULT slow TIMEOUT\n"
		"$FAULT flaky.example.net. SERVFAIL MX\n"
		"$FAULT host REFUSED a\n"
		"$FAULT gone NXDOMAIN\n";
	CHECK_INT(load(z, text, NULL, &err), MT_OK);
	if (err.status)
		fprintf(stderr, "  %s\n", err.message);
	expect(z, "host.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	expect(z, "foo:bar/baz.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	expect(z, "example.com", MT_DNS_SOA, MT_DNS_NOERROR, 0); /* SOA read and dropped */
	a = q(z, "mx.example.com", MT_DNS_MX);
	CHECK(a && a->count == 1 && a->rr[0].pref == 0 && a->rr[0].len == 0);
	mt_dns_answer_free(a);
	expect(z, "rev.example.com", MT_DNS_PTR, MT_DNS_NOERROR, 1);
	expect(z, "ns.example.com", MT_DNS_NS, MT_DNS_NOERROR, 1);
	expect(z, "num.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	expect(z, "slow.example.com", MT_DNS_TXT, MT_DNS_TIMEOUT, 0);
	expect(z, "slow.example.com", MT_DNS_A, MT_DNS_TIMEOUT, 0);
	expect(z, "flaky.example.net", MT_DNS_MX, MT_DNS_SERVFAIL, 0);
	expect(z, "flaky.example.net", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	expect(z, "host.example.com", MT_DNS_A, MT_DNS_REFUSED, 0);
	expect(z, "host.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 1); /* records still answered */
	expect(z, "gone.example.com", MT_DNS_MX, MT_DNS_NXDOMAIN, 0);
	mt_dns_zone_free(z);

	/* Empty and comment-only input is a valid, empty zone. */
	z = mt_dns_zone_new();
	CHECK_INT(mt_dns_zone_load_text(z, "", 0, NULL, NULL, &err), MT_OK);
	CHECK_INT(mt_dns_zone_load_text(z, NULL, 0, NULL, NULL, &err), MT_OK);
	CHECK_INT(load(z, "; nothing\n\n   \n\t; more\n", NULL, &err), MT_OK);
	/* No newline at the end. */
	CHECK_INT(load(z, "last A 192.0.2.9", "example.com", &err), MT_OK);
	expect(z, "last.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	/* A raw NUL inside a quoted string is data. */
	CHECK_INT(mt_dns_zone_load_text(z, "n TXT \"a\0b\"\n", 12, "example.com", NULL, &err), MT_OK);
	a = q(z, "n.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].len == 4 && memcmp(a->rr[0].data, "\x03" "a\0b", 4) == 0);
	mt_dns_answer_free(a);
	mt_dns_zone_free(z);

	/* A UTF-8 byte-order mark before the first owner is not part of the
	 * name; the same octets anywhere else are ordinary label octets. */
	z = mt_dns_zone_new();
	CHECK_INT(load(z, "\xEF\xBB\xBF" "bom A 192.0.2.7\n", "example.com", &err), MT_OK);
	expect(z, "bom.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	expect(z, "\xEF\xBB\xBF" "bom.example.com", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	CHECK_INT(load(z, "\xEF\xBB\xBF\tA 192.0.2.8\n", "example.com", &err), MT_ESYNTAX);
	CHECK_STR(err.message, "<string>:1: no owner name: no previous record to inherit it from");
	CHECK_INT(load(z, "x A 192.0.2.9\n\xEF\xBB\xBF" "y A 192.0.2.9\n", "example.com", &err), MT_OK);
	expect(z, "\xEF\xBB\xBF" "y.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	mt_dns_zone_free(z);
}

static void test_errors(void)
{
	expect_error("a TXT \"x\"\nb SRV 0 0 25 mail\n", "<string>:2: unsupported record type SRV");
	expect_error("a TXT \"x\"\nb HINFO a b\n", "<string>:2: unsupported record type HINFO");
	expect_error("a TYPE257 x\n", "<string>:1: unsupported record type TYPE257");
	expect_error("\n\na A 192.0.2.256\n", "<string>:3: bad IPv4 address '192.0.2.256'");
	expect_error("a AAAA 192.0.2.1\n", "<string>:1: bad IPv6 address '192.0.2.1'");
	expect_error("a A 192.0.2.1 192.0.2.2\n", "<string>:1: A record needs 1 field, not 2");
	expect_error("a A\n", "<string>:1: A record needs 1 field, not 0");
	expect_error("a MX 10\n", "<string>:1: MX record needs 2 fields, not 1");
	expect_error("a MX 65536 mail\n", "<string>:1: bad MX preference '65536'");
	expect_error("a MX -1 mail\n", "<string>:1: bad MX preference '-1'");
	expect_error("a CNAME b c\n", "<string>:1: CNAME record needs 1 field, not 2");
	expect_error("a TXT\n", "<string>:1: TXT record needs a string");
	expect_error("a SOA ns host 1 2 3 4\n", "<string>:1: SOA record needs 7 fields, not 6");
	expect_error("a 300 IN\n", "<string>:1: missing record type");
	expect_error("a 1x A 192.0.2.1\n", "<string>:1: bad TTL '1x'");
	expect_error("a 2147483648 A 192.0.2.1\n", "<string>:1: bad TTL '2147483648'");
	expect_error("a CH TXT \"x\"\n", "<string>:1: unsupported class CH (only IN)");
	expect_error(" A 192.0.2.1\n",
	             "<string>:1: no owner name: no previous record to inherit it from");
	expect_error("a..b A 192.0.2.1\n", "<string>:1: bad owner name 'a..b'");
	expect_error("a CNAME b..c\n", "<string>:1: bad target name 'b..c'");
	expect_error("a\\.b A 192.0.2.1\n",
	             "<string>:1: escaped dot in owner name 'a.b' is not supported");
	expect_error("a\\000b A 192.0.2.1\n", "<string>:1: bad owner name 'a?b'");
	expect_error("a TXT \"x\"\n\"b\" TXT \"y\n", "<string>:2: newline in quoted string");
	expect_error("a TXT \"x", "<string>:1: unterminated quoted string");
	expect_error("a TXT ( \"x\"\n\n \"y\"\n", "<string>:1: '(' without ')'");
	expect_error("a TXT \"x\" )\n", "<string>:1: ')' without '('");
	expect_error("a TXT ( ( \"x\" ) )\n", "<string>:1: nested '('");
	expect_error("a TXT \"\\256\"\n", "<string>:1: bad escape: \\256 is above 255");
	expect_error("a TXT \"\\12x\"\n", "<string>:1: bad escape: \\DDD needs three decimal digits");
	expect_error("a TXT x\\", "<string>:1: backslash at end of input");
	expect_error("$FOO bar\n", "<string>:1: unknown directive $FOO");
	expect_error("$TTL\n", "<string>:1: $TTL needs one value");
	expect_error("$TTL 1y\n", "<string>:1: bad TTL '1y'");
	expect_error("$ORIGIN a b\n", "<string>:1: $ORIGIN needs one name");
	expect_error("$FAULT a SLOW\n", "<string>:1: unknown fault 'SLOW'");
	expect_error("$FAULT a TIMEOUT TXT extra\n",
	             "<string>:1: $FAULT needs an owner, TIMEOUT|SERVFAIL|REFUSED|NXDOMAIN and an optional type");
	expect_error("$FAULT a TIMEOUT BOGUS\n", "<string>:1: unknown record type BOGUS");
	expect_error("$INCLUDE other.zone\n", "<string>:1: $INCLUDE is only allowed in zone files");
	/* Line numbers count the lines a parenthesised record spans. */
	expect_error("a TXT ( \"one\"\n \"two\" ; c\n )\nb A x\n", "<string>:4: bad IPv4 address 'x'");
	expect_error("a TXT \"x\\\ny\"\nb A x\n", "<string>:3: bad IPv4 address 'x'");

	/* String longer than 255 octets. */
	char big[300];
	memcpy(big, "b TXT \"", 7);
	memset(big + 7, 'x', 256);
	memcpy(big + 263, "\"\n", 3);
	expect_error(big, "<string>:1: string longer than 255 octets (256)");
	/* A name longer than 253 octets once the origin is appended. */
	char longname[300];
	memset(longname, 'a', 250);
	for (int i = 60; i < 250; i += 61)
		longname[i] = '.';
	memcpy(longname + 250, " A 192.0.2.1\n", 14);
	{
		mt_dns_zone *zl = mt_dns_zone_new();
		mt_error e = {0};
		CHECK_INT(load(zl, longname, "example.com", &e), MT_ESYNTAX);
		/* the message shows the start of the name, cut short */
		CHECK(strncmp(e.message, "<string>:1: bad owner name 'aaaa", 32) == 0);
		CHECK(strlen(e.message) > 4 && strcmp(e.message + strlen(e.message) - 4, "...'") == 0);
		mt_dns_zone_free(zl);
	}

	/* The filename argument is in the message; records before the error stay. */
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err = {0};
	const char *t = "ok A 192.0.2.1\nbad A nope\nlater A 192.0.2.2\n";
	CHECK_INT(mt_dns_zone_load_text(z, t, strlen(t), "example.com", "my.zone", &err), MT_ESYNTAX);
	CHECK_STR(err.message, "my.zone:2: bad IPv4 address 'nope'");
	expect(z, "ok.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	expect(z, "later.example.com", MT_DNS_A, MT_DNS_NXDOMAIN, 0);
	/* err is untouched on success. */
	err.status = MT_EDNS;
	CHECK_INT(load(z, "fine A 192.0.2.1\n", "example.com", &err), MT_OK);
	CHECK_INT(err.status, MT_EDNS);
	/* Larger than 64 MiB. */
	size_t huge = ((size_t)64 << 20) + 1;
	char *mem = calloc(1, huge);
	CHECK_INT(mt_dns_zone_load_text(z, mem, huge, NULL, NULL, &err), MT_ERANGE);
	CHECK_INT(err.status, MT_ERANGE);
	free(mem);
	CHECK_INT(mt_dns_zone_load_text(NULL, "", 0, NULL, NULL, &err), MT_EINVAL);
	mt_dns_zone_free(z);
}

/* RFC 3597 section 5: \# <length> <hex> for the types the reader knows. */
static void test_generic_rdata(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err = {0};
	mt_dns_answer *a;
	const char *text =
		"empty TXT \\# 0\n"                        /* TXT with no character-string */
		"two TXT \\# 3 02 6869\n"
		"addr A \\# 4 C0000201\n"
		"mx MX ( \\# 8 000a\n 046d61696c 00 )\n"  /* 10 mail. (wire names are absolute) */
		"soa SOA \\# 0\n";
	CHECK_INT(load(z, text, "example.com", &err), MT_OK);
	if (err.status)
		fprintf(stderr, "  %s\n", err.message);
	a = q(z, "empty.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].len == 0);
	mt_dns_answer_free(a);
	a = q(z, "two.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].len == 3 && memcmp(a->rr[0].data, "\x02hi", 3) == 0);
	mt_dns_answer_free(a);
	a = q(z, "addr.example.com", MT_DNS_A);
	CHECK(a && a->count == 1 && memcmp(a->rr[0].data, "\xc0\x00\x02\x01", 4) == 0);
	mt_dns_answer_free(a);
	a = q(z, "mx.example.com", MT_DNS_MX);
	CHECK(a && a->count == 1 && a->rr[0].pref == 10);
	CHECK_STR(a && a->count ? (const char *)a->rr[0].data : NULL, "mail");
	mt_dns_answer_free(a);
	mt_dns_zone_free(z);
	/* A TXT whose text is "#" is written "\\#" only when quoted. */
	z = mt_dns_zone_new();
	CHECK_INT(load(z, "h TXT \"\\#\" x\\#\n", "example.com", &err), MT_OK);
	a = q(z, "h.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].len == 5 && memcmp(a->rr[0].data, "\x01#\x02x#", 5) == 0);
	mt_dns_answer_free(a);
	mt_dns_zone_free(z);

	expect_error("a TXT \\# 3 0102\n", "<string>:1: RDATA is not 3 octets of hex");
	expect_error("a TXT \\# 1 0102\n", "<string>:1: more RDATA than the length 1");
	expect_error("a TXT \\# x\n", "<string>:1: \\# needs the RDATA length");
	expect_error("a TXT \\#\n", "<string>:1: \\# needs the RDATA length");
	expect_error("a TXT \\# 1 zz\n", "<string>:1: bad hex RDATA 'zz'");
	expect_error("a A \\# 3 010203\n", "<string>:1: RDATA is not a valid A record");
	expect_error("a TXT \\# 2 05ff\n", "<string>:1: RDATA is not a valid TXT record");
	expect_error("a CNAME \\# 2 0161\n", "<string>:1: RDATA is not a valid CNAME record");
}

/* rr_to_text output read back gives the same record. */
static void test_round_trip(void)
{
	mt_dns_zone *z = mt_dns_zone_new(), *z2 = mt_dns_zone_new();
	mt_error err = {0};
	const uint16_t types[] = {MT_DNS_TXT, MT_DNS_MX, MT_DNS_A, MT_DNS_AAAA, MT_DNS_CNAME};
	const char *text =
		"r TXT \"q\\\"uote\" \"back\\\\slash\" \"\\001\\127\\200\\255 x\" \"\"\n"
		"r MX 20 mx.example.net.\n"
		"r A 203.0.113.7\n"
		"r AAAA 2001:db8:0:0:1:0:0:1\n"
		"c CNAME r\n";
	CHECK_INT(load(z, text, "example.com", &err), MT_OK);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		const char *owner = types[i] == MT_DNS_CNAME ? "c.example.com" : "r.example.com";
		mt_dns_answer *a = q(z, owner, types[i]), *b;
		char line[2048];
		CHECK(a && a->count == 1);
		if (!a || a->count != 1) {
			mt_dns_answer_free(a);
			continue;
		}
		char *s = mt_dns_rr_to_text(&a->rr[0]);
		CHECK(s != NULL);
		snprintf(line, sizeof line, "x.example.com. %s %s.\n", mt_dns_type_name(types[i]),
		         s ? s : "");
		if (types[i] == MT_DNS_TXT || types[i] == MT_DNS_A || types[i] == MT_DNS_AAAA)
			line[strlen(line) - 2] = '\n', line[strlen(line) - 1] = '\0'; /* no dot */
		CHECK_INT(load(z2, line, NULL, &err), MT_OK);
		b = q(z2, "x.example.com", types[i]);
		CHECK(b && b->count == 1 && b->rr[0].len == a->rr[0].len &&
		      b->rr[0].pref == a->rr[0].pref &&
		      memcmp(b->rr[0].data, a->rr[0].data, a->rr[0].len) == 0);
		mt_free(s);
		mt_dns_answer_free(a);
		mt_dns_answer_free(b);
	}
	mt_dns_zone_free(z);
	mt_dns_zone_free(z2);
}

/* ---- files ---- */

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_files(void)
{
	char path[256], want[512];
	mt_error err = {0};
	mt_dns_zone *z = mt_dns_zone_new();

	snprintf(dir, sizeof dir, "/tmp/mt_test_zone.XXXXXX");
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof path, "%s/sub", dir);
	CHECK(mkdir(path, 0700) == 0);
	write_file("main.zone",
	           "$ORIGIN example.com.\n"
	           "$TTL 600\n"
	           "top TXT \"main\"\n"
	           "$INCLUDE sub/child.zone child.example.com.\n"
	           "after TXT \"origin restored\"\n"
	           " A 192.0.2.1\n");
	/* Relative to the including file's directory: sub/. */
	write_file("sub/child.zone",
	           "@ TXT \"child apex\"\n"
	           "leaf A 192.0.2.2\n"
	           "$INCLUDE grandchild.zone\n");
	write_file("sub/grandchild.zone", "\xEF\xBB\xBF" "deep TXT \"grandchild\"\n");
	snprintf(path, sizeof path, "%s/main.zone", dir);
	CHECK_INT(mt_dns_zone_load_file(z, path, NULL, &err), MT_OK);
	if (err.status)
		fprintf(stderr, "  %s\n", err.message);
	expect(z, "top.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	expect(z, "child.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	expect(z, "leaf.child.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	expect(z, "deep.child.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	expect(z, "after.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	expect(z, "after.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	mt_dns_answer *a = q(z, "leaf.child.example.com", MT_DNS_A);
	CHECK(a && a->count == 1 && a->rr[0].ttl == 600); /* $TTL carries into the include */
	mt_dns_answer_free(a);

	/* An error inside an included file names that file and its line. */
	write_file("broken.zone", "a TXT \"x\"\n$INCLUDE sub/bad.zone\n");
	write_file("sub/bad.zone", "\n\nz A 999.1.1.1\n");
	snprintf(path, sizeof path, "%s/broken.zone", dir);
	CHECK_INT(mt_dns_zone_load_file(z, path, "example.com", &err), MT_ESYNTAX);
	snprintf(want, sizeof want, "%s/sub/bad.zone:3: bad IPv4 address '999.1.1.1'", dir);
	CHECK_STR(err.message, want);

	/* A missing include. */
	write_file("missing.zone", "a TXT \"x\"\n\n$INCLUDE nothere.zone\n");
	snprintf(path, sizeof path, "%s/missing.zone", dir);
	CHECK_INT(mt_dns_zone_load_file(z, path, "example.com", &err), MT_EIO);
	snprintf(want, sizeof want, "%s/missing.zone:3: %s/nothere.zone: %s", dir, dir,
	         strerror(ENOENT));
	CHECK_STR(err.message, want);

	/* A file including itself stops at the depth limit. */
	write_file("loop.zone", "x TXT \"again\"\n$INCLUDE loop.zone\n");
	snprintf(path, sizeof path, "%s/loop.zone", dir);
	CHECK_INT(mt_dns_zone_load_file(z, path, "example.com", &err), MT_ESYNTAX);
	snprintf(want, sizeof want, "%s/loop.zone:2: $INCLUDE nested deeper than 8", dir);
	CHECK_STR(err.message, want);

	/* An unreadable file: "path: strerror". */
	snprintf(path, sizeof path, "%s/absent.zone", dir);
	CHECK_INT(mt_dns_zone_load_file(z, path, NULL, &err), MT_EIO);
	snprintf(want, sizeof want, "%s: %s", path, strerror(ENOENT));
	CHECK_STR(err.message, want);
	CHECK_INT(err.status, MT_EIO);
	snprintf(path, sizeof path, "%s/sub", dir); /* a directory */
	CHECK_INT(mt_dns_zone_load_file(z, path, NULL, &err), MT_EIO);
	snprintf(want, sizeof want, "%s: %s", path, strerror(EISDIR));
	CHECK_STR(err.message, want);
	CHECK_INT(mt_dns_zone_load_file(z, NULL, NULL, &err), MT_EINVAL);

	const char *names[] = {"main.zone", "sub/child.zone", "sub/grandchild.zone", "broken.zone",
	                       "sub/bad.zone", "missing.zone", "loop.zone"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
	mt_dns_zone_free(z);
}

/* tests/data/example.zone (ctest runs this in tests/data). */
static void test_example_zone(void)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err = {0};
	char buf[512];
	mt_dns_answer *a;
	CHECK_INT(mt_dns_zone_load_file(z, "example.zone", NULL, &err), MT_OK);
	if (err.status)
		fprintf(stderr, "  %s\n", err.message);
	a = q(z, "example.com", MT_DNS_TXT);
	CHECK_STR(txt(a, 0, buf, sizeof buf),
	          "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx include:_spf.example.net -all");
	mt_dns_answer_free(a);
	a = q(z, "example.com", MT_DNS_MX);
	CHECK_STR(a && a->count == 1 ? (const char *)a->rr[0].data : NULL, "mail.example.com");
	mt_dns_answer_free(a);
	expect(z, "mail.example.com", MT_DNS_A, MT_DNS_NOERROR, 1);
	expect(z, "mail.example.com", MT_DNS_AAAA, MT_DNS_NOERROR, 1);
	a = q(z, "_spf.example.net", MT_DNS_TXT);
	CHECK_STR(txt(a, 0, buf, sizeof buf), "v=spf1 ip4:198.51.100.0/24 ~all");
	mt_dns_answer_free(a);
	a = q(z, "split.example.com", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].data[0] < a->rr[0].len - 1); /* two strings */
	CHECK_STR(txt(a, 0, buf, sizeof buf),
	          "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip4:203.0.113.0/24 -all");
	mt_dns_answer_free(a);
	expect(z, "twice.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 2);
	expect(z, "why.explained.example.com", MT_DNS_TXT, MT_DNS_NOERROR, 1);
	expect(z, "slow.example.com", MT_DNS_TXT, MT_DNS_TIMEOUT, 0);
	a = q(z, "10.2.0.192.in-addr.arpa", MT_DNS_PTR);
	CHECK_STR(a && a->count == 1 ? (const char *)a->rr[0].data : NULL, "mail.example.com");
	mt_dns_answer_free(a);
	mt_dns_zone_free(z);
}

int main(void)
{
	test_zone_names();
	test_zone_exist();
	test_zone_cname();
	test_zone_faults();
	test_zone_many();
	test_zone_limits();
	test_basic();
	test_origin_and_ttl();
	test_strings();
	test_misc_syntax();
	test_errors();
	test_generic_rdata();
	test_round_trip();
	test_files();
	test_example_zone();
	return mt_test_done();
}
