/* The wire decoders of the libunbound resolver (src/lib/dns/dns_wire.h):
 * expectations from the RFC 1035 wire format (sections 3.1, 3.3, 4.1.4). */
#include "dns/dns_internal.h"
#include "dns/dns_wire.h"
#include "mt_test.h"

static mt_status rdata(uint16_t type, const char *w, size_t len, char *buf, uint16_t *pref,
                       const uint8_t **d, size_t *dlen)
{
	return mt_dns_wire_rdata(type, (const uint8_t *)w, len, buf, MT_DNS_WIRE_NAME_BUF, pref, d,
	                         dlen);
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
	return mt_test_done();
}
