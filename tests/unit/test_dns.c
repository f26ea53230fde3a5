/* DNS module: names, answers, text forms and the resolver wrapper (the zone: test_zone.c). */
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
	static const mt_dns_resolver_ops null_ops = { .resolve = null_resolve, .destroy = count_destroy };
	static const mt_dns_resolver_ops fail_ops = { .resolve = failing_resolve };
	static const mt_dns_resolver_ops echo_ops = { .resolve = echo_resolve };
	static const mt_dns_resolver_ops no_ops = { .resolve = NULL };
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

int main(void)
{
	test_names();
	test_answer();
	test_txt_join();
	test_rr_to_text();
	test_resolver();
	return mt_test_done();
}
