/* Macro expansion: the worked examples of RFC 7208 section 7.4, plus
 * escapes, URL encoding, truncation (7.3) and the exp-only letters. */
#include "mt_test.h"
#include <mailtrust/spf.h>
#include <strings.h>

static mt_spf_check *started(const char *ip, const char *sender, const char *helo)
{
	mt_spf_check *c = NULL;
	mt_spf_options o;
	mt_spf_options_init(&o);
	o.receiver = "mx.receiver.example";
	CHECK_INT(mt_spf_check_new(&o, &c, NULL), MT_OK);
	mt_spf_request rq = {.ip = ip, .sender = sender, .helo = helo, .now = 1234567890};
	mt_error err;
	CHECK_INT(mt_spf_check_start(c, &rq, &err), MT_OK);
	return c;
}

static void expect(mt_spf_check *c, const char *macro, bool exp, const char *want)
{
	char out[1024];
	size_t n = 0;
	mt_status st = mt_spf_expand(c, macro, strlen(macro), exp, out, sizeof out, &n, NULL);
	CHECK_INT(st, MT_OK);
	if (st == MT_OK) {
		CHECK_STR(out, want);
		CHECK_INT(n, strlen(want));
	}
}

static void test_rfc_examples(void)
{
	/* Section 7.4: sender strong-bad@email.example.com, client 192.0.2.3. */
	mt_spf_check *c = started("192.0.2.3", "strong-bad@email.example.com", "mx.example.org");
	expect(c, "%{s}", false, "strong-bad@email.example.com");
	expect(c, "%{o}", false, "email.example.com");
	expect(c, "%{d}", false, "email.example.com");
	expect(c, "%{d4}", false, "email.example.com");
	expect(c, "%{d3}", false, "email.example.com");
	expect(c, "%{d2}", false, "example.com");
	expect(c, "%{d1}", false, "com");
	expect(c, "%{dr}", false, "com.example.email");
	expect(c, "%{d2r}", false, "example.email");
	expect(c, "%{l}", false, "strong-bad");
	expect(c, "%{l-}", false, "strong.bad");
	expect(c, "%{lr}", false, "strong-bad");
	expect(c, "%{lr-}", false, "bad.strong");
	expect(c, "%{l1r-}", false, "strong");
	expect(c, "%{ir}.%{v}._spf.%{d2}", false, "3.2.0.192.in-addr._spf.example.com");
	expect(c, "%{lr-}.lp._spf.%{d2}", false, "bad.strong.lp._spf.example.com");
	expect(c, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", false,
	       "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	expect(c, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", false,
	       "3.2.0.192.in-addr.strong.lp._spf.example.com");
	expect(c, "%{d2}.trusted-domains.example.net", false, "example.com.trusted-domains.example.net");
	/* 7.1 special cases */
	expect(c, "a%%b%_c%-d", true, "a%b c%20d");
	/* the h macro, and exp-only letters c r t */
	expect(c, "%{h}", false, "mx.example.org");
	expect(c, "%{c} %{r} %{t}", true, "192.0.2.3 mx.receiver.example 1234567890");
	/* %{p} without a validated name is "unknown" (section 7.3) */
	expect(c, "%{p}", false, "unknown");
	/* a trailing dot of a domain is dropped; not in explanations */
	expect(c, "%{d}.", false, "email.example.com");
	expect(c, "%{d}.", true, "email.example.com.");
	/* delimiters: several, with digits beyond the number of parts */
	expect(c, "%{l9r-.}", false, "bad.strong");
	mt_spf_check_free(c);

	/* IPv6: %{i} is dot-separated nibbles, %{c} the colon form. */
	c = started("2001:db8::cb01", "strong-bad@email.example.com", "mx.example.org");
	char out[512];
	size_t n;
	const char *m = "%{ir}.%{v}._spf.%{d2}";
	CHECK_INT(mt_spf_expand(c, m, strlen(m), false, out, sizeof out, &n, NULL), MT_OK);
	/* DNS names compare case-insensitively; the RFC prints lower case. */
	CHECK(strcasecmp(out, "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com") == 0);
	expect(c, "%{c}", true, "2001:db8::cb01");
	mt_spf_check_free(c);
}

static void test_url_and_errors(void)
{
	mt_spf_check *c = started("192.0.2.3", "~jack&jill=up-a_b3.c@e8.example.com", "h");
	/* Upper-case letters are URL-escaped: only RFC 3986 unreserved stay. */
	expect(c, "%{L}", true, "~jack%26jill%3Dup-a_b3.c");
	expect(c, "%{S}", true, "~jack%26jill%3Dup-a_b3.c%40e8.example.com");
	char out[64];
	size_t n;
	mt_spf_syntax_error syn;
	CHECK_INT(mt_spf_expand(c, "%{c}", 4, false, out, sizeof out, &n, &syn), MT_ESYNTAX);
	CHECK_INT(mt_spf_expand(c, "%{x}", 4, true, out, sizeof out, &n, &syn), MT_ESYNTAX);
	CHECK_INT(mt_spf_expand(c, "%{d0}", 5, true, out, sizeof out, &n, &syn), MT_ESYNTAX);
	CHECK_INT(mt_spf_expand(c, "100%", 4, true, out, sizeof out, &n, &syn), MT_ESYNTAX);
	CHECK_INT(syn.offset, 3);
	/* does not fit: an error, never a silent cut */
	CHECK_INT(mt_spf_expand(c, "%{s}%{s}%{s}", 12, true, out, 16, &n, &syn), MT_ERANGE);
	mt_spf_check_free(c);
}

static void test_truncation(void)
{
	/* Section 7.3: over 253 octets, labels are removed from the left. */
	const char *sender = "x@somewhat.long.exp.example.com";
	mt_spf_check *c = started("192.0.2.3", sender, "h");
	const char *m = "foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com";
	char out[1024];
	size_t n;
	CHECK_INT(mt_spf_expand(c, m, strlen(m), false, out, sizeof out, &n, NULL), MT_OK);
	CHECK(n <= 253);
	/* 8 * 28 octets of %{o} + ".example.com" + dots = 243 + "foobar." (7) = 250 <= 253? */
	size_t full = 7 + 8 * strlen("somewhat.long.exp.example.com") + 8 + strlen("example.com");
	if (full > 253)
		CHECK(strncmp(out, "foobar.", 7) != 0);
	/* the result still ends with the right-hand labels, whole */
	CHECK(n >= 11 && strcmp(out + n - 11, "example.com") == 0);
	CHECK(out[0] != '.');
	mt_spf_check_free(c);
}

int main(void)
{
	test_rfc_examples();
	test_url_and_errors();
	test_truncation();
	return mt_test_done();
}
