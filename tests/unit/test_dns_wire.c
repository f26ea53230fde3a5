/* The wire decoders of the libunbound resolver (src/lib/dns/dns_wire.h):
 * expectations from the RFC 1035 wire format (sections 3.1, 3.3, 4.1.4). */
#include "dns/dns_internal.h"
#include "dns/dns_wire.h"
#include "dns/unbound_int.h"
#include "mt_test.h"

#include <unbound.h>

static mt_status rdata(uint16_t type, const char *w, size_t len, char *buf, uint16_t *pref,
                       const uint8_t **d, size_t *dlen)
{
	return mt_dns_wire_rdata(type, (const uint8_t *)w, len, buf, MT_DNS_WIRE_NAME_BUF, pref, d,
	                         dlen);
}

/* A libunbound result holding the RDATA of n records (NULL-terminated
 * arrays as ub_result has them), converted as the resolver does. */
static mt_dns_answer *convert(unbound_impl *u, uint16_t type, const char *const *rd,
                              const int *lens)
{
	struct ub_result r;
	mt_dns_answer *a = NULL;
	memset(&r, 0, sizeof r);
	r.qname = (char *)"192.0.2.1.in-addr.arpa";
	r.qtype = type;
	r.qclass = 1;
	r.data = (char **)rd;
	r.len = (int *)lens;
	r.havedata = rd[0] != NULL;
	r.ttl = 300;
	CHECK_INT(mt_dns_unbound_convert(u, r.qname, type, 0, &r, &a), MT_OK);
	return a;
}

/* An RRset with one record that cannot be used (a name with a dot inside a
 * label, valid on the wire but not writable as a plain name) keeps its
 * other records (RFC 7208 section 5.5: each PTR name is checked on its
 * own); only an RRset with nothing usable is a failure. */
static void test_convert(void)
{
	mt_dns_unbound_options o;
	mt_dns_resolver *res = NULL;
	mt_error err = {0};
	unbound_impl *u;
	mt_dns_answer *a;

	mt_dns_unbound_options_init(&o);
	o.forwarder = "127.0.0.1"; /* nothing is asked */
	CHECK_INT(mt_dns_unbound_resolver_new(&o, &res, &err), MT_OK);
	u = mt_dns_unbound_impl(res);
	CHECK(u != NULL);
	if (!u)
		return;
	{
		const char *rd[] = {"\3a.b\7example\0", "\4good\7example\0", NULL};
		const int lens[] = {13, 14, 0};
		a = convert(u, MT_DNS_PTR, rd, lens);
		CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
		CHECK(a && a->count == 1 && a->rr[0].len == 12 &&
		      memcmp(a->rr[0].data, "good.example", 12) == 0);
		CHECK(a && a->why && strstr(a->why, "1 malformed or unusable PTR record") != NULL);
		mt_dns_answer_free(a);
	}
	{
		const char *rd[] = {"\4good\7example\0", "\3a\0b\7example\0", "\2ok\7example\0",
		                    NULL};
		const int lens[] = {14, 13, 12, 0};
		a = convert(u, MT_DNS_PTR, rd, lens);
		CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 2);
		CHECK(a && a->count == 2 && strcmp((const char *)a->rr[1].data, "ok.example") == 0);
		mt_dns_answer_free(a);
	}
	{
		/* MX: the preference and a bad exchange, then a good one */
		const char *rd[] = {"\0\x0a\3m.x\7example\0", "\0\x14\2mx\7example\0", NULL};
		const int lens[] = {15, 14, 0};
		a = convert(u, MT_DNS_MX, rd, lens);
		CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1 && a->rr[0].pref == 20);
		mt_dns_answer_free(a);
	}
	{
		/* nothing usable */
		const char *rd[] = {"\3a.b\7example\0", NULL};
		const int lens[] = {13, 0};
		a = convert(u, MT_DNS_PTR, rd, lens);
		CHECK(a && a->rcode == MT_DNS_FAILURE && a->count == 0);
		CHECK(a && a->why && strstr(a->why, "malformed or unusable PTR record") != NULL);
		mt_dns_answer_free(a);
	}
	{
		/* a TXT that does not fill its RDATA: the server is broken, and
		 * a check must not go on as if the record were not there */
		const char *rd[] = {"\5v=spf1", "\3abc", NULL};
		const int lens[] = {7, 4, 0};
		a = convert(u, MT_DNS_TXT, rd, lens);
		CHECK(a && a->rcode == MT_DNS_FAILURE && a->count == 0);
		mt_dns_answer_free(a);
	}
	mt_dns_resolver_free(res);
}

int main(void)
{
	char buf[MT_DNS_WIRE_NAME_BUF];
	const uint8_t *d;
	size_t dlen = 0, nlen = 0;
	uint16_t pref = 0;

	/* names */
	CHECK_INT(mt_dns_wire_name((const uint8_t *)"\3www\7example\3com\0", 17, buf, sizeof buf, &nlen), 17);
	CHECK_STR(buf, "www.example.com");
	CHECK_INT(mt_dns_wire_name((const uint8_t *)"\0", 1, buf, sizeof buf, &nlen), 1);
	CHECK_STR(buf, "");
	CHECK_INT(mt_dns_wire_name((const uint8_t *)"\3www\7exam", 9, buf, sizeof buf, &nlen), 0);
	CHECK_INT(mt_dns_wire_name((const uint8_t *)"\3a.b\0", 5, buf, sizeof buf, &nlen), 0);
	CHECK_INT(mt_dns_wire_name((const uint8_t *)"\3www\xc0\x00", 6, buf, sizeof buf, &nlen), 0);
	CHECK_INT(mt_dns_wire_name((const uint8_t *)"\x40" "a", 2, buf, sizeof buf, &nlen), 0);

	/* RDATA */
	CHECK_INT(rdata(MT_DNS_A, "\xc0\x00\x02\x01", 4, buf, &pref, &d, &dlen), MT_OK);
	CHECK_INT(dlen, 4);
	CHECK_INT(rdata(MT_DNS_A, "\xc0\x00\x02", 3, buf, &pref, &d, &dlen), MT_ESYNTAX);
	CHECK_INT(rdata(MT_DNS_AAAA, "0123456789abcdef", 16, buf, &pref, &d, &dlen), MT_OK);
	CHECK_INT(rdata(MT_DNS_AAAA, "0123456789abcdefg", 17, buf, &pref, &d, &dlen), MT_ESYNTAX);
	CHECK_INT(rdata(MT_DNS_MX, "\0\x0a\4mail\7example\0", 16, buf, &pref, &d, &dlen), MT_OK);
	CHECK_INT(pref, 10);
	CHECK(dlen == 12 && memcmp(d, "mail.example", 12) == 0);
	CHECK_INT(rdata(MT_DNS_MX, "\0\x0a\4mail\7example\0x", 17, buf, &pref, &d, &dlen), MT_ESYNTAX);
	CHECK_INT(rdata(MT_DNS_MX, "\0", 1, buf, &pref, &d, &dlen), MT_ESYNTAX);
	CHECK_INT(rdata(MT_DNS_PTR, "\1a\0", 3, buf, &pref, &d, &dlen), MT_OK);
	CHECK(dlen == 1 && d[0] == 'a');
	CHECK_INT(rdata(MT_DNS_TXT, "\3abc\0", 5, buf, &pref, &d, &dlen), MT_OK);
	CHECK_INT(dlen, 5);
	CHECK_INT(rdata(MT_DNS_TXT, "\4abc", 4, buf, &pref, &d, &dlen), MT_ESYNTAX);
	CHECK_INT(rdata(MT_DNS_TXT, "", 0, buf, &pref, &d, &dlen), MT_OK);

	/* character-strings (RFC 1035 3.3, 3.3.14): each length octet, then that many
	 * octets, filling the RDATA exactly; the one check the zone, the text form
	 * and the wire decoder share */
	CHECK(mt_dns_txt_check((const uint8_t *)"", 0));
	CHECK(mt_dns_txt_check((const uint8_t *)"\0", 1));
	CHECK(mt_dns_txt_check((const uint8_t *)"\2ab\1c", 5));
	CHECK(!mt_dns_txt_check((const uint8_t *)"\2ab\2c", 5));
	CHECK(!mt_dns_txt_check((const uint8_t *)"\xff", 1));

	/* a response: c.example CNAME t.example (compressed), t.example TXT */
	{
		static const uint8_t msg[] =
			"\x12\x34\x81\x80\0\1\0\2\0\0\0\0"
			"\1c\7example\0\0\x10\0\1"                         /* question at 12 */
			"\xc0\x0c\0\5\0\1\0\0\1\x2c\0\4\1t\xc0\x0e"        /* CNAME -> t.example */
			"\1t\xc0\x0e\0\x10\0\1\0\0\1\x2c\0\2\1x";          /* TXT "x" */
		CHECK(mt_dns_wire_canonical(msg, sizeof msg - 1, buf, sizeof buf));
		CHECK_STR(buf, "t.example");
		/* truncated inside the answer section: malformed */
		CHECK(!mt_dns_wire_canonical(msg, 40, buf, sizeof buf));
	}
	test_convert();
	return mt_test_done();
}
