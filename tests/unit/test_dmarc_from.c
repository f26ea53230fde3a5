/* The Author Domain from the From field (draft-ietf-dmarc-dmarcbis-41
 * 5.3.1, 11.5; RFC 5322 3.4 and 3.6.2; RFC 6854 groups; RFC 8616 A-labels).
 * Expected domains are read off the addresses by hand. */
#include <mailtrust/dmarc.h>
#include <mailtrust/msg.h>

#include "mt_test.h"

static mt_dmarc_from parse(const char *v)
{
	mt_dmarc_from f;
	CHECK_INT(mt_dmarc_from_parse(v, strlen(v), &f), MT_OK);
	return f;
}

static void ok(const char *v, const char *domain)
{
	mt_dmarc_from f = parse(v);
	if (f.status != MT_DMARC_FROM_OK)
		fprintf(stderr, "From: %s -> %s (%s)\n", v, mt_dmarc_from_status_name(f.status), f.reason);
	CHECK_INT(f.status, MT_DMARC_FROM_OK);
	CHECK_STR(f.domain, domain);
}

static void bad(const char *v, mt_dmarc_from_status want)
{
	mt_dmarc_from f = parse(v);
	if (f.status != want)
		fprintf(stderr, "From: %s -> %s (%s)\n", v, mt_dmarc_from_status_name(f.status), f.reason);
	CHECK_INT(f.status, want);
	CHECK(f.reason[0] != '\0');
	CHECK(f.offset <= strlen(v));
}

static void test_forms(void)
{
	ok("user@example.com", "example.com");
	ok("User <user@Example.COM>", "example.com");
	ok("\"Doe, John\" <john@mail.example.org>", "mail.example.org");
	ok("(comment (nested)) john (x) @ (y) example.net (z)", "example.net");
	ok("<john@example.net.>", "example.net");
	ok("=?utf-8?q?J=C3=B6rg?= <j@example.de>", "example.de");
	ok("\"quoted local\"@example.com", "example.com");
	ok("<@route.example,@other.example:user@final.example>", "final.example");
	/* several mailboxes of one domain: one Author Domain */
	ok("a@example.com, B <b@EXAMPLE.com>", "example.com");
	/* a group (RFC 6854) */
	ok("Team: a@example.com, b@example.com;", "example.com");
	/* U-labels become A-labels (RFC 8616, RFC 5890 2.3) */
	ok("user@b\xc3\xbc" "cher.example", "xn--bcher-kva.example");
	ok("user@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", "xn--r8jz45g.xn--zckzah");
}

static void test_refused(void)
{
	/* 11.5: more than one domain is not one Author Domain */
	mt_dmarc_from f = parse("a@example.com, b@example.org");
	CHECK_INT(f.status, MT_DMARC_FROM_MANY_DOMAINS);
	CHECK_INT(f.ndomains, 2);
	CHECK_STR(f.domains[0], "example.com");
	CHECK_STR(f.domains[1], "example.org");
	/* the display-name trick: an unquoted address before the real one */
	bad("paypal.com@example.com <evil@attacker.example>", MT_DMARC_FROM_SYNTAX);
	bad("\"a\" <a@example.com> <b@attacker.example>", MT_DMARC_FROM_SYNTAX);
	/* an unquoted comma splits the display name from its address */
	bad("Doe, John <john@example.com>", MT_DMARC_FROM_SYNTAX);
	bad("", MT_DMARC_FROM_NO_DOMAIN);
	bad("Undisclosed:;", MT_DMARC_FROM_NO_DOMAIN);
	bad("user@[192.0.2.1]", MT_DMARC_FROM_NO_DOMAIN);
	bad("user", MT_DMARC_FROM_SYNTAX);
	bad("user@", MT_DMARC_FROM_SYNTAX);
	bad("<user@example.com", MT_DMARC_FROM_SYNTAX);
	bad("\"open quote <a@example.com>", MT_DMARC_FROM_SYNTAX);
	bad("(open comment a@example.com", MT_DMARC_FROM_SYNTAX);
	bad("Team: a@example.com", MT_DMARC_FROM_SYNTAX);
	bad("a@exa mple.com", MT_DMARC_FROM_SYNTAX);
	bad("a@example..com", MT_DMARC_FROM_BAD_DOMAIN);
	bad("a@exa$mple.com", MT_DMARC_FROM_BAD_DOMAIN);
	bad("a@\xff\xfe.example", MT_DMARC_FROM_BAD_DOMAIN);
	bad("a@example.com\x01", MT_DMARC_FROM_SYNTAX);
	/* a label over 63 octets */
	char lab[128] = "a@";
	memset(lab + 2, 'x', 64);
	strcpy(lab + 66, ".example");
	bad(lab, MT_DMARC_FROM_BAD_DOMAIN);
}

static void test_hostile(void)
{
	/* deep comments are refused, not recursed into */
	char deep[512];
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		deep[n++] = '(';
	memcpy(deep + n, "a@example.com", 13);
	n += 13;
	deep[n] = '\0';
	bad(deep, MT_DMARC_FROM_SYNTAX);
	/* thousands of mailboxes: refused past the cap, in linear time */
	size_t big = 64 * 1024;
	char *many = malloc(big);
	n = 0;
	while (n + 20 < big) {
		memcpy(many + n, "a@example.com,", 14);
		n += 14;
	}
	many[n] = '\0';
	bad(many, MT_DMARC_FROM_SYNTAX);
	/* at the cap exactly: still one domain */
	n = 0;
	for (int i = 0; i < MT_DMARC_FROM_MAILBOXES_MAX; i++) {
		memcpy(many + n, "a@example.com,", 14);
		n += 14;
	}
	many[n] = '\0';
	mt_dmarc_from f = parse(many);
	CHECK_INT(f.status, MT_DMARC_FROM_OK);
	CHECK_INT(f.mailboxes, MT_DMARC_FROM_MAILBOXES_MAX);
	/* many distinct domains: all counted, the first kept */
	n = 0;
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(many + n, big - n, "a@d%d.example,", i);
	f = parse(many);
	CHECK_INT(f.status, MT_DMARC_FROM_MANY_DOMAINS);
	CHECK_INT(f.ndomains, 20);
	CHECK_STR(f.domains[MT_DMARC_FROM_DOMAINS_MAX - 1], "d7.example");
	free(many);
}

static mt_msg *read_msg(const char *text)
{
	mt_msg *m = NULL;
	mt_error err;
	if (mt_msg_new(NULL, &m, &err) != MT_OK)
		return NULL;
	mt_msg_feed(m, text, strlen(text), &err);
	mt_msg_finish(m, &err);
	return m;
}

static void test_message(void)
{
	mt_dmarc_from f;
	mt_msg *m = read_msg("To: x@y.example\r\nFrom: A <a@Example.com>\r\n\r\nbody\r\n");
	CHECK_INT(mt_dmarc_from_message(m, &f), MT_OK);
	CHECK_INT(f.status, MT_DMARC_FROM_OK);
	CHECK_STR(f.domain, "example.com");
	mt_msg_free(m);

	m = read_msg("To: x@y.example\r\n\r\nbody\r\n");
	CHECK_INT(mt_dmarc_from_message(m, &f), MT_OK);
	CHECK_INT(f.status, MT_DMARC_FROM_ABSENT);
	mt_msg_free(m);

	/* two From fields: refused even when one of them is the real domain,
	 * and both domains are named (the OpenDMARC multiple-From bug class) */
	m = read_msg("From: a@bank.example\r\nfrom: b@attacker.example\r\n\r\nbody\r\n");
	CHECK_INT(mt_dmarc_from_message(m, &f), MT_OK);
	CHECK_INT(f.status, MT_DMARC_FROM_MANY_FIELDS);
	CHECK_INT(f.fields, 2);
	CHECK_INT(f.ndomains, 2);
	CHECK_STR(f.domains[0], "bank.example");
	CHECK_STR(f.domains[1], "attacker.example");
	mt_msg_free(m);

	/* a folded From */
	m = read_msg("From: \"A long\r\n name\" <a@\r\n example.net>\r\n\r\n");
	CHECK_INT(mt_dmarc_from_message(m, &f), MT_OK);
	CHECK_INT(f.status, MT_DMARC_FROM_OK);
	CHECK_STR(f.domain, "example.net");
	mt_msg_free(m);

	/* a thousand From fields: refused, counted */
	size_t cap = 1000 * 24 + 16;
	char *text = malloc(cap);
	size_t n = 0;
	for (int i = 0; i < 900; i++)
		n += (size_t)snprintf(text + n, cap - n, "From: a@d%d.example\r\n", i % 3);
	snprintf(text + n, cap - n, "\r\n");
	m = read_msg(text);
	CHECK_INT(mt_dmarc_from_message(m, &f), MT_OK);
	CHECK_INT(f.status, MT_DMARC_FROM_MANY_FIELDS);
	CHECK_INT(f.fields, 900);
	CHECK_INT(f.ndomains, 3);
	mt_msg_free(m);
	free(text);
}

int main(void)
{
	test_forms();
	test_refused();
	test_hostile();
	test_message();
	return mt_test_done();
}
