#include "mt_test.h"
#include "util/util.h"
#include <stdlib.h>

static void test_buf(void)
{
	mt_buf b;
	mt_buf_init(&b, 8);
	mt_buf_puts(&b, "abcd");
	mt_buf_printf(&b, "%d", 123);
	CHECK_INT(b.err, MT_OK);
	CHECK_STR(b.data, "abcd123");
	mt_buf_puts(&b, "xy"); /* 9 > max 8 */
	CHECK_INT(b.err, MT_ERANGE);
	CHECK_INT(b.len, 7);
	CHECK(mt_buf_take(&b) == NULL);
}

static void test_arena(void)
{
	mt_arena *a = mt_arena_new(64);
	char *s = mt_arena_strdup(a, "hello");
	CHECK_STR(s, "hello");
	char *big = mt_arena_alloc(a, 1000);
	CHECK(big != NULL);
	memset(big, 'x', 1000);
	char *t = mt_arena_printf(a, "%s-%d", s, 7);
	CHECK_STR(t, "hello-7");
	mt_arena_reset(a);
	mt_arena_set_limit(a, 200);
	CHECK(mt_arena_alloc(a, 5000) == NULL);
	mt_arena_free(a);
}

static void test_ip(void)
{
	mt_ip ip;
	uint8_t net[16] = {192, 0, 2, 0};
	CHECK(mt_ip_parse("192.0.2.77", 10, &ip));
	CHECK_INT(ip.family, 4);
	CHECK(mt_ip_match(&ip, net, 4, 24));
	CHECK(!mt_ip_match(&ip, net, 4, 32));
	CHECK(mt_ip_match(&ip, net, 4, 0));
	CHECK(!mt_ip_parse("192.0.2", 7, &ip));
	CHECK(!mt_ip_parse("192.0.2.256", 11, &ip));
	CHECK(!mt_ip_parse("1.2.3.4 ", 8, &ip));
	CHECK(mt_ip_parse("2001:db8::1", 11, &ip));
	CHECK_INT(ip.family, 6);
	char out[64];
	mt_ip_format(&ip, out, sizeof out);
	CHECK_STR(out, "2001:db8::1");
	CHECK(mt_strcaseeq("ExAmple", 7, "example", 7));
	CHECK(!mt_strcaseeq("example", 7, "exampl", 6));
}

int main(void)
{
	test_buf();
	test_arena();
	test_ip();
	return mt_test_done();
}
