/* Record parsing: RFC 7208 section 12 ABNF, with error offsets. */
#include "mt_test.h"
#include <mailtrust/spf.h>

static mt_spf_record *parse_ok(const char *txt)
{
	mt_spf_record *r = NULL;
	mt_spf_syntax_error syn;
	mt_status st = mt_spf_record_parse(txt, strlen(txt), &r, &syn);
	if (st != MT_OK)
		fprintf(stderr, "unexpected error for '%s': %s at %zu\n", txt, syn.message, syn.offset);
	CHECK_INT(st, MT_OK);
	return r;
}

/* The record must be rejected, and the error must point at want_off. */
static void parse_bad(const char *txt, size_t want_off, const char *want_word)
{
	mt_spf_record *r = NULL;
	mt_spf_syntax_error syn;
	memset(&syn, 0, sizeof syn);
	mt_status st = mt_spf_record_parse(txt, strlen(txt), &r, &syn);
	CHECK_INT(st, MT_ESYNTAX);
	CHECK(r == NULL);
	if (want_off != (size_t)-1)
		CHECK_INT(syn.offset, want_off);
	if (want_word && !strstr(syn.message, want_word)) {
		fprintf(stderr, "message for '%s' lacks '%s': %s\n", txt, want_word, syn.message);
		CHECK(0);
	}
	CHECK(syn.message[0] != '\0');
}

static void test_terms(void)
{
	const char *txt = "v=spf1 ip4:192.0.2.0/24 -ip6:2001:db8::/32 ~a a:mail.example.com/28//64 "
	                  "?mx:example.org include:_spf.example.net exists:%{ir}.bl.example.com "
	                  "ptr:example.com redirect=_spf.example.com exp=explain.%{d} foo=bar -all";
	mt_spf_record *r = parse_ok(txt);
	if (!r)
		return;
	CHECK_INT(mt_spf_record_term_count(r), 12);
	const mt_spf_term *t = mt_spf_record_term(r, 0);
	CHECK_INT(t->kind, MT_SPF_IP4);
	CHECK_INT(t->qualifier, '+');
	CHECK_INT(t->cidr4, 24);
	CHECK(t->addr[0] == 192 && t->addr[1] == 0 && t->addr[2] == 2 && t->addr[3] == 0);
	CHECK_INT(t->offset, 7);
	t = mt_spf_record_term(r, 1);
	CHECK_INT(t->kind, MT_SPF_IP6);
	CHECK_INT(t->qualifier, '-');
	CHECK_INT(t->cidr6, 32);
	CHECK(t->addr[0] == 0x20 && t->addr[1] == 0x01 && t->addr[2] == 0x0d && t->addr[3] == 0xb8);
	t = mt_spf_record_term(r, 2);
	CHECK_INT(t->kind, MT_SPF_A);
	CHECK_INT(t->qualifier, '~');
	CHECK(t->domain == NULL);
	CHECK_INT(t->cidr4, -1);
	t = mt_spf_record_term(r, 3);
	CHECK_INT(t->kind, MT_SPF_A);
	CHECK_INT(t->domain_len, strlen("mail.example.com"));
	CHECK(memcmp(t->domain, "mail.example.com", t->domain_len) == 0);
	CHECK_INT(t->cidr4, 28);
	CHECK_INT(t->cidr6, 64);
	t = mt_spf_record_term(r, 4);
	CHECK_INT(t->kind, MT_SPF_MX);
	CHECK_INT(t->qualifier, '?');
	CHECK_INT(mt_spf_record_term(r, 5)->kind, MT_SPF_INCLUDE);
	t = mt_spf_record_term(r, 6);
	CHECK_INT(t->kind, MT_SPF_EXISTS);
	CHECK(memcmp(t->domain, "%{ir}.bl.example.com", t->domain_len) == 0);
	CHECK_INT(mt_spf_record_term(r, 7)->kind, MT_SPF_PTR);
	CHECK_INT(mt_spf_record_term(r, 8)->kind, MT_SPF_REDIRECT);
	CHECK_INT(mt_spf_record_term(r, 9)->kind, MT_SPF_EXP);
	t = mt_spf_record_term(r, 10);
	CHECK_INT(t->kind, MT_SPF_UNKNOWN_MODIFIER);
	CHECK(t->name_len == 3 && memcmp(t->name, "foo", 3) == 0);
	CHECK(t->value_len == 3 && memcmp(t->value, "bar", 3) == 0);
	t = mt_spf_record_term(r, 11);
	CHECK_INT(t->kind, MT_SPF_ALL);
	CHECK_INT(t->qualifier, '-');
	CHECK_INT(t->offset, strlen(txt) - 4);
	CHECK_STR(mt_spf_record_text(r), txt);
	mt_spf_record_free(r);
}

static void test_valid_edges(void)
{
	mt_spf_record *r;
	/* Section 4.5: "v=spf1" alone is a record with no terms; case-insensitive. */
	r = parse_ok("v=spf1");
	CHECK_INT(mt_spf_record_term_count(r), 0);
	mt_spf_record_free(r);
	mt_spf_record_free(parse_ok("V=SpF1 -ALL"));
	/* Trailing and repeated spaces: record = version terms *SP. */
	r = parse_ok("v=spf1  a   -all   ");
	CHECK_INT(mt_spf_record_term_count(r), 2);
	mt_spf_record_free(r);
	/* ':' and '/' are macro-literals, so they may sit inside a domain-spec. */
	r = parse_ok("v=spf1 a:foo:bar/baz.example.com");
	CHECK_INT(mt_spf_record_term(r, 0)->cidr4, -1);
	mt_spf_record_free(r);
	mt_spf_record_free(parse_ok("v=spf1 a:example.com."));
	mt_spf_record_free(parse_ok("v=spf1 a:foo.example.xn--zckzah"));
	mt_spf_record_free(parse_ok("v=spf1 a/0 a//0 mx/32//128 ip4:0.0.0.0/0 ip6:::/0"));
	mt_spf_record_free(parse_ok("v=spf1 exists:%{l1r+-}.%{o}._spf.%{d2} -all"));
	mt_spf_record_free(parse_ok("v=spf1 a:macro%%percent%_%_space%-url-space.example.com"));
	mt_spf_record_free(parse_ok("v=spf1 ip6:::ffff:192.0.2.1 ip6:2001:db8::cd30/60"));
	/* Unknown modifiers are kept and ignored (section 6). */
	mt_spf_record_free(parse_ok("v=spf1 moo.cow-far_out=man:dog/cat -all"));
	CHECK(mt_spf_is_record("v=spf1", 6));
	CHECK(mt_spf_is_record("v=spf1 -all", 11));
	CHECK(!mt_spf_is_record("v=spf10", 7));
	CHECK(!mt_spf_is_record("v=spf1mx", 8));
	CHECK(!mt_spf_is_record("=spf1 -all", 10));
}

static void test_errors(void)
{
	parse_bad("v=spf1 ip4:1.2.3.4 inlcude:foo.com", 19, "unknown mechanism");
	parse_bad("v=spf1 -all moo", 12, "unknown mechanism");
	parse_bad("v=spf1 all.", 10, "all");
	parse_bad("v=spf1 all:foo.com", 10, NULL);
	parse_bad("v=spf1 -all/8", 11, NULL);
	parse_bad("v=spf1 a/33", 8, "32");
	parse_bad("v=spf1 a//129", 8, "128");
	parse_bad("v=spf1 a/24/64", 8, NULL);
	parse_bad("v=spf1 ip4:1.2.3.4/33", 18, "32");
	parse_bad("v=spf1 ip4:1.2.3.4/032", 18, "leading");
	parse_bad("v=spf1 ip4:1.2.3.4/24//64", 18, NULL);
	parse_bad("v=spf1 ip6:::1/129", 14, "128");
	parse_bad("v=spf1 ip4:mail.example.com", 11, "IPv4");
	parse_bad("v=spf1 ip4:1.2.3", 11, "IPv4");
	parse_bad("v=spf1 ip4:1.2.3.4:25", 11, NULL);
	parse_bad("v=spf1 ip6:1.2.3.4", 11, "IPv6");
	parse_bad("v=spf1 ip4", 7, "address");
	parse_bad("v=spf1 include", 7, "domain");
	parse_bad("v=spf1 include:", 15, "empty");
	parse_bad("v=spf1 exists", 7, "domain");
	parse_bad("v=spf1 ptr/24", (size_t)-1, NULL);
	/* domain-end: a top-level label with a letter, or a macro. */
	parse_bad("v=spf1 a:foo-bar -all", 9, "top-level");
	parse_bad("v=spf1 a:museum", 9, "top-level");
	parse_bad("v=spf1 a:museum.", 9, "top-level");
	parse_bad("v=spf1 a:abc.123", 13, "top-level");
	parse_bad("v=spf1 a:example.-com", 17, "top-level");
	parse_bad("v=spf1 a:111.222.33.44", 20, "top-level");
	/* "include:zoho.com-all" is valid ABNF (toplabel "com-all"): spf verify flags it. */
	mt_spf_record_free(parse_ok("v=spf1 include:zoho.com-all"));
	/* macros (section 7.1) */
	parse_bad("v=spf1 exists:%(ir).sbl.example.com", 14, "'%'");
	parse_bad("v=spf1 exists:foo%.sbl.example.com", 17, NULL);
	parse_bad("v=spf1 a:%{a}.example.com", 9, "macro letter");
	parse_bad("v=spf1 a:%{d0}.example.com", 9, "nonzero");
	parse_bad("v=spf1 -all exp=%{r}.example.com", 16, "explanation");
	parse_bad("v=spf1 a:%{d", 9, NULL);
	parse_bad("v=spf1 -all foo=%abc", 16, NULL);
	/* modifiers */
	parse_bad("v=spf1 redirect=a.example.com redirect=b.example.com", 30, "more than once");
	parse_bad("v=spf1 exp=a.example.com -all exp=b.example.com", 30, "more than once");
	parse_bad("v=spf1 redirect=", (size_t)-1, "empty");
	parse_bad("v=spf1 exp=-all", (size_t)-1, NULL);
	parse_bad("v=spf1 1up=foo", 7, "letter");
	parse_bad("v=spf1 =all", 7, NULL);
	parse_bad("v=spf1 redirect:example.com", 7, "unknown mechanism");
	/* characters (section 3.1: 7-bit ASCII; terms separated by SP only) */
	parse_bad("v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all", 9, "ASCII");
	parse_bad("v=spf1 \x80" "a:example.net", 7, "ASCII");
	parse_bad("v=spf1 a:example.net\r\nptr", 20, NULL);
	parse_bad("v=spf1\ta", 0, "v=spf1");
	parse_bad("spf1 -all", 0, "v=spf1");
	parse_bad("", 0, NULL);
	/* An embedded NUL is not a space: the term is malformed. */
	{
		mt_spf_record *r = NULL;
		CHECK_INT(mt_spf_record_parse("v=spf1 a:foo.example.com\0x", 26, &r, NULL), MT_ESYNTAX);
	}
}

/* Section 4.6.4: include a mx ptr exists and redirect cost a lookup; all,
 * ip4, ip6 and exp do not; redirect is unused (and free) beside "all". */
static void test_lookups(void)
{
	mt_spf_record *r = parse_ok("v=spf1 ip4:192.0.2.0/24 a mx ptr include:x.example "
	                            "exists:%{i}.x.example ip6:::1 exp=e.example redirect=r.example");
	CHECK_INT(mt_spf_record_lookups(r), 6);
	mt_spf_record_free(r);
	r = parse_ok("v=spf1 mx redirect=r.example -all");
	CHECK_INT(mt_spf_record_lookups(r), 1);
	mt_spf_record_free(r);
	r = parse_ok("v=spf1 ip4:192.0.2.1 -all");
	CHECK_INT(mt_spf_record_lookups(r), 0);
	mt_spf_record_free(r);
	CHECK_INT(mt_spf_record_lookups(NULL), 0);
}

/* Issue 7 item 11: messages quote record text escaped as \xHH (as the CLI
 * shows the record), never as '?'; a NUL is an error at its own offset. */
static void test_control_characters(void)
{
	mt_spf_record *r = NULL;
	mt_spf_syntax_error syn;

	memset(&syn, 0, sizeof syn);
	CHECK_INT(mt_spf_record_parse("v=spf1 \x1b[31m -all", 17, &r, &syn), MT_ESYNTAX);
	CHECK_INT(syn.offset, 7);
	CHECK_INT(syn.length, 1);
	CHECK(strstr(syn.message, "'\\x1B[31m'") != NULL);
	CHECK(strchr(syn.message, '?') == NULL);
	memset(&syn, 0, sizeof syn);
	CHECK_INT(mt_spf_record_parse("v=spf1 -all\0x", 13, &r, &syn), MT_ESYNTAX);
	CHECK_INT(syn.offset, 11);
	CHECK(strstr(syn.message, "control character in term '-all\\x00x'") != NULL);
	/* a control character behind an address: named as such, escaped */
	memset(&syn, 0, sizeof syn);
	CHECK_INT(mt_spf_record_parse("v=spf1 ip4:192.0.2.1\x7f", 21, &r, &syn), MT_ESYNTAX);
	CHECK_INT(syn.offset, 20);
	CHECK(strstr(syn.message, "'ip4:192.0.2.1\\x7F'") != NULL);
	CHECK(r == NULL);
}

int main(void)
{
	test_control_characters();
	test_lookups();
	test_terms();
	test_valid_edges();
	test_errors();
	return mt_test_done();
}
