/* The master-file reader (RFC 1035 section 5) and the $FAULT extension. */
#include "mt_test.h"
#include <mailtrust/dns.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static mt_dns_answer *q(const mt_dns_zone *z, const char *name, uint16_t type)
{
	mt_dns_answer *a = NULL;
	CHECK_INT(mt_dns_zone_query(z, name, type, &a), MT_OK);
	return a;
}

/* The joined text of record i of an answer (TXT), or the name data. */
static const char *txt(const mt_dns_answer *a, size_t i, char *buf, size_t cap)
{
	if (!a || i >= a->count)
		return "(none)";
	mt_dns_txt_join(a->rr[i].data, a->rr[i].len, buf, cap);
	return buf;
}

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
	mt_dns_answer_free(a);
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
	write_file("sub/grandchild.zone", "deep TXT \"grandchild\"\n");
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
