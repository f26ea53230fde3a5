/* Authentication-Results (RFC 8601): builder quoting, parser, round trip,
 * the RFC's own examples, forged-field detection and bounds. */
#include <mailtrust/authres.h>
#include <stdlib.h>

#include "mt_test.h"

/* Build a field from authserv-id and one method, render it unfolded. */
static char *one(const char *id, const mt_authres_method *m, mt_status want_add)
{
	mt_authres *ar = NULL;
	char *s = NULL;
	mt_error err;
	CHECK_INT(mt_authres_new(id, &ar, &err), MT_OK);
	if (!ar)
		return NULL;
	CHECK_INT(mt_authres_add(ar, m, &err), want_add);
	CHECK_INT(mt_authres_render(ar, 0, 0, &s, &err), MT_OK);
	mt_authres_free(ar);
	return s;
}

static char *with_prop(const char *ptype, const char *prop, const char *value)
{
	mt_authres_prop p = { ptype, prop, value };
	mt_authres_method m = { .method = "dkim", .result = "pass", .props = &p, .prop_count = 1 };
	return one("mx.example.org", &m, MT_OK);
}

static void test_quoting(void)
{
	char *s;
	struct { const char *value, *want; } t[] = {
		/* a token (RFC 2045) or [local-part] "@" domain-name stays bare */
		{ "example.com", "mx.example.org; dkim=pass header.d=example.com" },
		{ "@example.com", "mx.example.org; dkim=pass header.d=@example.com" },
		{ "user.name+tag@example.com", "mx.example.org; dkim=pass header.d=user.name+tag@example.com" },
		/* RFC 6008 header.b: base64 '/' is a tspecial, so quoted */
		{ "ab/cd+ef", "mx.example.org; dkim=pass header.d=\"ab/cd+ef\"" },
		{ "a=b", "mx.example.org; dkim=pass header.d=\"a=b\"" },
		{ "two words", "mx.example.org; dkim=pass header.d=\"two words\"" },
		{ "say \"hi\" \\o/", "mx.example.org; dkim=pass header.d=\"say \\\"hi\\\" \\\\o/\"" },
		{ "", "mx.example.org; dkim=pass header.d=\"\"" },
		{ "a;b", "mx.example.org; dkim=pass header.d=\"a;b\"" },
		{ "(x)", "mx.example.org; dkim=pass header.d=\"(x)\"" },
		/* "@" with a one-label domain is not a domain-name (RFC 6376 3.5) */
		{ "u@localhost", "mx.example.org; dkim=pass header.d=\"u@localhost\"" },
		{ "a..b@example.com", "mx.example.org; dkim=pass header.d=\"a..b@example.com\"" },
		{ "u@-x.example", "mx.example.org; dkim=pass header.d=\"u@-x.example\"" },
		{ "caf\xc3\xa9", "mx.example.org; dkim=pass header.d=\"caf\xc3\xa9\"" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		s = with_prop("header", "d", t[i].value);
		CHECK_STR(s, t[i].want);
		free(s);
	}

	/* reason, comment, method version, authserv-id quoted when not a token */
	mt_authres_prop p = { "smtp", "mailfrom", "example.net" };
	mt_authres_method m = { .method = "spf", .version = 1, .result = "fail", .reason = "bad record",
	                        .comment = "x (y) \\z", .props = &p, .prop_count = 1 };
	s = one("mx example", &m, MT_OK);
	CHECK_STR(s, "\"mx example\"; spf/1=fail (x \\(y\\) \\\\z) reason=\"bad record\" "
	             "smtp.mailfrom=example.net");
	free(s);
	m.reason = "ok";
	m.comment = NULL;
	m.version = 0;
	s = one("mx.example.org", &m, MT_OK);
	CHECK_STR(s, "mx.example.org; spf=fail reason=ok smtp.mailfrom=example.net");
	free(s);
}

static void test_refused(void)
{
	mt_authres *ar = NULL;
	mt_error err;
	char *s;

	/* authserv-id validated */
	CHECK_INT(mt_authres_new("", &ar, &err), MT_EINVAL);
	CHECK(ar == NULL);
	CHECK_INT(mt_authres_new(NULL, &ar, &err), MT_EINVAL);
	CHECK_INT(mt_authres_new("mx\r\n.example", &ar, &err), MT_EINVAL);
	CHECK(strstr(err.message, "control character 0x0d at offset 2") != NULL);
	char big[MT_AUTHRES_MAX_VALUE + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK_INT(mt_authres_new(big, &ar, &err), MT_ERANGE);

	/* CR, LF and other controls never reach the output: refused */
	mt_authres_prop p = { "smtp", "mailfrom", "a\r\nX-Evil: 1" };
	mt_authres_method m = { .method = "spf", .result = "pass", .props = &p, .prop_count = 1 };
	s = one("mx.example.org", &m, MT_EINVAL);
	CHECK_STR(s, "mx.example.org; none");
	free(s);
	p.value = "ok";
	m.reason = "bell\a";
	s = one("mx.example.org", &m, MT_EINVAL);
	free(s);
	m.reason = NULL;
	m.comment = "nul-free but \x7f";
	s = one("mx.example.org", &m, MT_EINVAL);
	free(s);
	m.comment = NULL;
	/* keywords */
	const char *bad_kw[] = { "", "-x", "a b", "a.b", "a=b", "sp\xc3\xa9" };
	for (size_t i = 0; i < sizeof bad_kw / sizeof bad_kw[0]; i++) {
		m.method = bad_kw[i];
		s = one("mx.example.org", &m, MT_EINVAL);
		free(s);
		m.method = "spf";
		m.result = bad_kw[i];
		s = one("mx.example.org", &m, MT_EINVAL);
		free(s);
		m.result = "pass";
		p.ptype = bad_kw[i][0] ? bad_kw[i] : "a b";
		s = one("mx.example.org", &m, MT_EINVAL);
		free(s);
		p.ptype = "smtp";
	}
	/* a dotless "reason" property would be read back as the reason */
	p.ptype = "";
	p.property = "reason";
	s = one("mx.example.org", &m, MT_EINVAL);
	free(s);
	p.property = "mailfrom";
	p.ptype = "smtp";

	/* bounds: methods, properties, output size */
	CHECK_INT(mt_authres_new("mx.example.org", &ar, &err), MT_OK);
	for (int i = 0; i < MT_AUTHRES_MAX_METHODS; i++)
		CHECK_INT(mt_authres_add(ar, &m, &err), MT_OK);
	CHECK_INT(mt_authres_add(ar, &m, &err), MT_ERANGE);
	CHECK_INT(mt_authres_render(ar, 0, 100, &s, &err), MT_ERANGE);
	CHECK(s == NULL);
	CHECK(strstr(err.message, "longer than 100 octets") != NULL);
	CHECK_INT(mt_authres_render(ar, 0, 0, &s, &err), MT_OK);
	CHECK(s && strlen(s) == strlen("mx.example.org;") + 64 * strlen(" spf=pass smtp.mailfrom=ok;") - 1);
	free(s);
	mt_authres_free(ar);
	mt_authres_prop many[MT_AUTHRES_MAX_PROPS + 1];
	for (size_t i = 0; i < MT_AUTHRES_MAX_PROPS + 1; i++)
		many[i] = p;
	m.props = many;
	m.prop_count = MT_AUTHRES_MAX_PROPS + 1;
	s = one("mx.example.org", &m, MT_ERANGE);
	free(s);
}

static void test_render_forms(void)
{
	mt_authres *ar = NULL;
	mt_error err;
	char *s;

	/* RFC 8601 2.2: no result at all is "none" */
	CHECK_INT(mt_authres_new("example.org", &ar, &err), MT_OK);
	mt_authres_set_version(ar, 1);
	CHECK_INT(mt_authres_render(ar, MT_AUTHRES_PREFIX, 0, &s, &err), MT_OK);
	CHECK_STR(s, "Authentication-Results: example.org 1; none");
	free(s);
	mt_authres_free(ar);

	/* folded: each result on its own line, lines kept under 78 columns */
	mt_authres_prop a[] = { { "header", "d", "example.com" }, { "header", "s", "selector2024" },
	                        { "header", "i", "@mail-router.example.net" },
	                        { "header", "b", "Xa1b2/c3" } };
	mt_authres_method d = { .method = "dkim", .result = "pass", .props = a, .prop_count = 4 };
	mt_authres_prop sp = { "smtp", "mailfrom", "example.net" };
	mt_authres_method f = { .method = "spf", .result = "pass", .props = &sp, .prop_count = 1 };
	CHECK_INT(mt_authres_new("example.com", &ar, &err), MT_OK);
	CHECK_INT(mt_authres_add(ar, &f, &err), MT_OK);
	CHECK_INT(mt_authres_add(ar, &d, &err), MT_OK);
	CHECK_INT(mt_authres_render(ar, MT_AUTHRES_PREFIX | MT_AUTHRES_FOLD, 0, &s, &err), MT_OK);
	CHECK_STR(s, "Authentication-Results: example.com;\r\n"
	             "\tspf=pass smtp.mailfrom=example.net;\r\n"
	             "\tdkim=pass header.d=example.com header.s=selector2024\r\n"
	             "\theader.i=@mail-router.example.net header.b=\"Xa1b2/c3\"");
	free(s);
	CHECK_INT(mt_authres_render(ar, 0, 0, &s, &err), MT_OK);
	CHECK_STR(s, "example.com; spf=pass smtp.mailfrom=example.net; dkim=pass header.d=example.com "
	             "header.s=selector2024 header.i=@mail-router.example.net header.b=\"Xa1b2/c3\"");
	free(s);
	mt_authres_free(ar);
	CHECK_INT(mt_authres_entry(&f, 0, &s, &err), MT_OK);
	CHECK_STR(s, "spf=pass smtp.mailfrom=example.net");
	free(s);
}

static mt_authres_parsed *parse_ok(const char *v)
{
	mt_authres_parsed *p = NULL;
	mt_error err = { 0 };
	size_t off = 99;
	mt_status st = mt_authres_parse(v, strlen(v), &p, &off, &err);
	CHECK_INT(st, MT_OK);
	if (st != MT_OK)
		fprintf(stderr, "  parsing \"%s\": %s\n", v, err.message);
	return p;
}

static const char *prop(const mt_authres_method *m, const char *ptype, const char *name)
{
	for (size_t i = 0; i < m->prop_count; i++)
		if (!strcmp(m->props[i].ptype, ptype) && !strcmp(m->props[i].property, name))
			return m->props[i].value;
	return NULL;
}

/* RFC 8601 Appendix B examples (field values after "Authentication-Results:") */
static void test_rfc_examples(void)
{
	mt_authres_parsed *p;

	/* B.2 */
	p = parse_ok(" example.org 1; none\r\n");
	if (p) {
		CHECK_STR(p->authserv_id, "example.org");
		CHECK_INT(p->version, 1);
		CHECK_INT(p->method_count, 0);
	}
	mt_authres_parsed_free(p);
	/* B.3 */
	p = parse_ok(" example.com;\r\n          spf=pass smtp.mailfrom=example.net");
	if (p && p->method_count == 1) {
		CHECK_STR(p->authserv_id, "example.com");
		CHECK_INT(p->version, 0);
		CHECK_STR(p->methods[0].method, "spf");
		CHECK_STR(p->methods[0].result, "pass");
		CHECK_STR(prop(&p->methods[0], "smtp", "mailfrom"), "example.net");
	} else {
		CHECK(0);
	}
	mt_authres_parsed_free(p);
	/* B.4 */
	p = parse_ok(" example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
	             "          spf=pass smtp.mailfrom=example.net");
	if (p && p->method_count == 2) {
		CHECK_STR(p->methods[0].method, "auth");
		CHECK(p->methods[0].comment == NULL);
		CHECK_STR(prop(&p->methods[0], "smtp", "auth"), "sender@example.net");
		CHECK_STR(p->methods[1].method, "spf");
	} else {
		CHECK(0);
	}
	mt_authres_parsed_free(p);
	p = parse_ok(" example.com; iprev=pass\r\n          policy.iprev=192.0.2.200");
	if (p && p->method_count == 1)
		CHECK_STR(prop(&p->methods[0], "policy", "iprev"), "192.0.2.200");
	else
		CHECK(0);
	mt_authres_parsed_free(p);
	/* B.5 */
	p = parse_ok(" example.com;\r\n          dkim=pass (good signature) header.d=example.com");
	if (p && p->method_count == 1)
		CHECK_STR(prop(&p->methods[0], "header", "d"), "example.com");
	else
		CHECK(0);
	mt_authres_parsed_free(p);
	/* B.6 */
	p = parse_ok(" example.com;\r\n      dkim=pass reason=\"good signature\"\r\n"
	             "        header.i=@mail-router.example.net;\r\n      dkim=fail reason=\"bad signature\"\r\n"
	             "        header.i=@newyork.example.com");
	if (p && p->method_count == 2) {
		CHECK_STR(p->methods[0].reason, "good signature");
		CHECK_STR(prop(&p->methods[0], "header", "i"), "@mail-router.example.net");
		CHECK_STR(p->methods[1].result, "fail");
		CHECK_STR(p->methods[1].reason, "bad signature");
		CHECK_STR(prop(&p->methods[1], "header", "i"), "@newyork.example.com");
	} else {
		CHECK(0);
	}
	mt_authres_parsed_free(p);
	/* B.7: comments everywhere CFWS may be */
	p = parse_ok(" foo.example.net (foobar) 1 (baz);\r\n"
	             "    dkim (Because I like it) / 1 (One yay) = (wait for it) fail\r\n"
	             "      policy (A dot can go here) . (like that) expired\r\n"
	             "      (this surprised me) = (as I wasn't expecting it) 1362471462");
	if (p && p->method_count == 1) {
		CHECK_STR(p->authserv_id, "foo.example.net");
		CHECK_INT(p->version, 1);
		CHECK_STR(p->methods[0].method, "dkim");
		CHECK_INT(p->methods[0].version, 1);
		CHECK_STR(p->methods[0].result, "fail");
		CHECK_STR(prop(&p->methods[0], "policy", "expired"), "1362471462");
	} else {
		CHECK(0);
	}
	mt_authres_parsed_free(p);
	/* section 2.7 example: an experimental method with a comment after */
	p = parse_ok(" example.com;\r\n          foo=pass bar.baz=blob (2 of 3 tests OK)");
	if (p && p->method_count == 1)
		CHECK_STR(prop(&p->methods[0], "bar", "baz"), "blob");
	else
		CHECK(0);
	mt_authres_parsed_free(p);
}

static void test_sloppy(void)
{
	mt_authres_parsed *p;

	/* what real receivers write: no spaces, trailing ';', dotless keys,
	 * base64 in header.b, odd spacing and bare LF folds, a quoted id */
	p = parse_ok("spf.example;spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=a.example;"
	             "dkim=none (message not signed) header.d=none;dmarc=none action=none "
	             "header.from=a.example;compauth=pass reason=100;");
	if (p && p->method_count == 4) {
		CHECK_STR(p->methods[2].method, "dmarc");
		CHECK_STR(prop(&p->methods[2], "", "action"), "none");
		CHECK_STR(p->methods[3].reason, "100");
	} else {
		CHECK(0);
	}
	mt_authres_parsed_free(p);
	p = parse_ok("\"mx.google.com\" ;\n\tdkim=pass header.i=@gmail.com header.s=20230601 "
	             "header.b=ZkQq/0Nm;\n\t;  spf = pass  smtp.mailfrom = \"a b\"@x.example ");
	if (p && p->method_count == 2) {
		CHECK_STR(p->authserv_id, "mx.google.com");
		CHECK_STR(prop(&p->methods[0], "header", "b"), "ZkQq/0Nm");
		CHECK_STR(p->methods[1].method, "spf");
		/* a quoted local-part: the addr-spec, quoted as it came */
		CHECK_STR(prop(&p->methods[1], "smtp", "mailfrom"), "\"a b\"@x.example");
	} else {
		CHECK(0);
	}
	mt_authres_parsed_free(p);
	/* no "none" at all, and "none" among empty results */
	p = parse_ok("example.net");
	CHECK(p && p->method_count == 0);
	mt_authres_parsed_free(p);
	p = parse_ok("example.net;; none ;");
	CHECK(p && p->method_count == 0);
	mt_authres_parsed_free(p);
	/* a quoted-string folded inside, with escapes */
	p = parse_ok("x.example; dkim=fail reason=\"bad\r\n \\\"sig\\\"\"");
	if (p && p->method_count == 1)
		CHECK_STR(p->methods[0].reason, "bad \"sig\"");
	mt_authres_parsed_free(p);

	/* errors, with the offset where reading stopped */
	struct { const char *v; size_t off; const char *msg; } bad[] = {
		{ "", 0, "expected the authserv-id" },
		{ "  (only a comment)", 18, "expected the authserv-id" },
		{ "x.example; spf", 14, "expected '='" },
		{ "x.example; spf=", 15, "expected a result" },
		{ "x.example; spf=pass smtp.mailfrom", 33, "expected '='" },
		{ "x.example; spf=pass (open", 20, "comment not closed" },
		{ "x.example; spf=pass reason=\"open", 32, "quoted-string not closed" },
		{ "x.example; spf=pass reason=\"a\001b\"", 29, "control character" },
		{ "x.example; spf=pass\r\nX-Evil: 1", 19, "expected a property" },
		{ "x.example; spf=pass reason=a reason=b", 37, "a second reason" },
		{ "x.example; spf/1234567890=pass", 24, "over 9 digits" },
		{ "x.example junk; spf=pass", 10, "expected ';'" },
		{ "\"\"; spf=pass", 0, "expected the authserv-id" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mt_error err = { 0 };
		size_t off = 9999;
		p = (mt_authres_parsed *)1;
		mt_status st = mt_authres_parse(bad[i].v, strlen(bad[i].v), &p, &off, &err);
		CHECK(st == MT_ESYNTAX || st == MT_ERANGE);
		CHECK(p == NULL);
		CHECK_INT(off, bad[i].off);
		CHECK(strstr(err.message, bad[i].msg) != NULL);
		if (!strstr(err.message, bad[i].msg))
			fprintf(stderr, "  row %zu: \"%s\"\n", i, err.message);
	}
	/* never reads past len: the text after len would make it valid */
	const char *cut = "x.example; spf=pass reason=\"abc\"";
	CHECK_INT(mt_authres_parse(cut, strlen(cut) - 1, &p, NULL, NULL), MT_ESYNTAX);
	CHECK_INT(mt_authres_parse(cut, 0, &p, NULL, NULL), MT_ESYNTAX);
	/* bounds */
	char *big = malloc(MT_AUTHRES_MAX_INPUT + 2);
	if (big) {
		memset(big, 'a', MT_AUTHRES_MAX_INPUT + 1);
		CHECK_INT(mt_authres_parse(big, MT_AUTHRES_MAX_INPUT + 1, &p, NULL, NULL), MT_ERANGE);
		CHECK_INT(mt_authres_parse(big, MT_AUTHRES_MAX_VALUE + 1, &p, NULL, NULL), MT_ERANGE);
		size_t n = 0;
		memcpy(big, "x.example", 9);
		n = 9;
		for (int i = 0; i <= MT_AUTHRES_MAX_METHODS; i++) {
			memcpy(big + n, "; a=b", 5);
			n += 5;
		}
		CHECK_INT(mt_authres_parse(big, n, &p, NULL, NULL), MT_ERANGE);
		CHECK_INT(mt_authres_parse(big, n - 5, &p, NULL, NULL), MT_OK);
		CHECK(p && p->method_count == MT_AUTHRES_MAX_METHODS);
		mt_authres_parsed_free(p);
		free(big);
	}
}

static void test_round_trip(void)
{
	mt_authres_prop sp[] = { { "smtp", "mailfrom", "\"odd local\"@example.net" },
	                         { "smtp", "helo", "h.example" } };
	mt_authres_prop dp[] = { { "header", "d", "example.com" }, { "header", "b", "a+b/c=d" },
	                         { "header", "i", "@example.com" }, { "policy", "x-y", "" },
	                         { "", "action", "none" } };
	mt_authres_method m[] = {
		{ .method = "spf", .result = "pass", .props = sp, .prop_count = 2, .comment = "c" },
		{ .method = "dkim", .version = 2, .result = "fail", .reason = "body hash \"mismatch\"\\",
		  .props = dp, .prop_count = 5 },
		{ .method = "dmarc", .result = "none" },
	};
	for (unsigned flags = 0; flags < 4; flags++) {
		mt_authres *ar = NULL;
		mt_authres_parsed *p = NULL;
		char *s = NULL;
		CHECK_INT(mt_authres_new("mx 1.example", &ar, NULL), MT_OK);
		mt_authres_set_version(ar, 7);
		for (size_t i = 0; i < 3; i++)
			CHECK_INT(mt_authres_add(ar, &m[i], NULL), MT_OK);
		CHECK_INT(mt_authres_render(ar, flags, 0, &s, NULL), MT_OK);
		const char *v = s;
		if (s && (flags & MT_AUTHRES_PREFIX)) {
			CHECK(strncmp(s, "Authentication-Results: ", 24) == 0);
			v = s + 23;
		}
		if (s && mt_authres_parse(v, strlen(v), &p, NULL, NULL) == MT_OK) {
			mt_authres_parsed want = { "mx 1.example", 7, 3, m };
			CHECK(mt_authres_parsed_equal(p, &want));
		} else {
			CHECK(0);
		}
		mt_authres_parsed_free(p);
		free(s);
		mt_authres_free(ar);
	}
}

static void test_claims(void)
{
	/* RFC 8601 section 5: a field claiming our authserv-id is forged */
	CHECK(mt_authres_claims(" MX.Example.ORG; spf=pass smtp.mailfrom=x.example", 48, "mx.example.org"));
	const char *q = "(forged) \"mx.example.org\"; dkim=pass";
	CHECK(mt_authres_claims(q, strlen(q), "mx.example.org"));
	/* the rest need not be well-formed */
	q = "mx.example.org; this is ( not valid";
	CHECK(mt_authres_claims(q, strlen(q), "mx.example.org"));
	q = "mx.example.org.evil; spf=pass";
	CHECK(!mt_authres_claims(q, strlen(q), "mx.example.org"));
	q = "evil.example; spf=pass smtp.mailfrom=mx.example.org";
	CHECK(!mt_authres_claims(q, strlen(q), "mx.example.org"));
	q = "mx.example.org";
	CHECK(!mt_authres_claims(q, 5, "mx.example.org"));
	CHECK(!mt_authres_claims(q, strlen(q), NULL));
	CHECK(!mt_authres_claims(NULL, 0, "mx.example.org"));
	q = "(unclosed mx.example.org";
	CHECK(!mt_authres_claims(q, strlen(q), "mx.example.org"));
}


/* ---- go-msgauth vectors (JSON, read by a minimal reader) -------------- */
typedef struct jv {
	char type;              /* 'o' object, 'a' array, 's' string, 'x' other */
	char *str;              /* 's': the decoded string */
	size_t n;
	char **keys;            /* 'o': keys of items */
	struct jv *items;
} jv;

static void jv_free(jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jv_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

static void jws(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\r' || **p == '\t')
		(*p)++;
}

static char *jstr(const char **p)
{
	char *out = malloc(strlen(*p) + 1);
	size_t n = 0;
	if (!out || **p != '"')
		goto bad;
	for ((*p)++; **p != '"'; (*p)++) {
		char c = **p;
		if (!c)
			goto bad;
		if (c == '\\') {
			c = *++*p;
			switch (c) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				unsigned u = 0;
				for (int i = 0; i < 4; i++) {
					char h = *++*p;
					if (!h)
						goto bad;
					u = u * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
				}
				if (u > 0x7f)
					goto bad; /* not needed by these vectors */
				c = (char)u;
				break;
			}
			case '\0': goto bad;
			default: break;
			}
		}
		out[n++] = c;
	}
	(*p)++;
	out[n] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static bool jparse(const char **p, jv *v, int depth)
{
	memset(v, 0, sizeof *v);
	jws(p);
	if (depth > 16)
		return false;
	if (**p == '"') {
		v->type = 's';
		return (v->str = jstr(p)) != NULL;
	}
	if (**p == '{' || **p == '[') {
		char close = **p == '{' ? '}' : ']';
		v->type = **p == '{' ? 'o' : 'a';
		(*p)++;
		jws(p);
		while (**p != close) {
			jv *it = realloc(v->items, (v->n + 1) * sizeof *it);
			if (!it)
				return false;
			v->items = it;
			if (v->type == 'o') {
				char **k = realloc(v->keys, (v->n + 1) * sizeof *k);
				if (!k)
					return false;
				v->keys = k;
				k[v->n] = NULL;
				memset(&it[v->n], 0, sizeof *it);
				v->n++;
				if (!(k[v->n - 1] = jstr(p)))
					return false;
				jws(p);
				if (*(*p)++ != ':')
					return false;
			} else {
				memset(&it[v->n], 0, sizeof *it);
				v->n++;
			}
			if (!jparse(p, &v->items[v->n - 1], depth + 1))
				return false;
			jws(p);
			if (**p == ',')
				(*p)++;
			else if (**p != close)
				return false;
			jws(p);
		}
		(*p)++;
		return true;
	}
	v->type = 'x';
	while (**p && !strchr(",}] \r\n\t", **p))
		(*p)++;
	return true;
}

static const jv *jget(const jv *o, const char *key)
{
	for (size_t i = 0; o && o->type == 'o' && i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return &o->items[i];
	return NULL;
}

static const char *jstring(const jv *o, const char *key)
{
	const jv *v = jget(o, key);
	return v && v->type == 's' ? v->str : NULL;
}

/* One case: value parses to authserv_id and results; roundtrip cases are
 * also built again (mailtrust writes no trailing space after a result
 * without properties, go-msgauth does: compared without it). */
static void vector_case(const jv *c, bool roundtrip, size_t idx)
{
	const char *value = jstring(c, "value"), *id = jstring(c, "authserv_id");
	const jv *res = jget(c, "results");
	mt_authres_parsed *p = NULL;
	mt_error err = { 0 };
	int failed = mt_test_failed;

	if (!value || !id || !res || res->type != 'a') {
		CHECK(0);
		return;
	}
	if (!id[0]) {
		/* go-msgauth reads "" as an empty authserv-id; RFC 8601 has none */
		CHECK_INT(mt_authres_parse(value, strlen(value), &p, NULL, &err), MT_ESYNTAX);
		return;
	}
	CHECK_INT(mt_authres_parse(value, strlen(value), &p, NULL, &err), MT_OK);
	if (!p)
		goto out;
	CHECK_STR(p->authserv_id, id);
	CHECK_INT(p->method_count, res->n);
	for (size_t i = 0; i < res->n && i < p->method_count; i++) {
		const jv *r = &res->items[i], *props = jget(r, "props");
		const mt_authres_method *m = &p->methods[i];
		const char *reason = jstring(r, "reason");
		CHECK_STR(m->method, jstring(r, "method"));
		CHECK_STR(m->result, jstring(r, "result"));
		if (reason)
			CHECK_STR(m->reason, reason);
		else
			CHECK(m->reason == NULL);
		CHECK_INT(m->prop_count, props ? props->n : 0);
		for (size_t j = 0; props && j < props->n; j++) {
			const char *dot = strchr(props->keys[j], '.');
			if (!dot) {
				CHECK(0);
				continue;
			}
			char ptype[64];
			snprintf(ptype, sizeof ptype, "%.*s", (int)(dot - props->keys[j]), props->keys[j]);
			CHECK_STR(prop(m, ptype, dot + 1), props->items[j].str);
		}
	}
	if (roundtrip) {
		mt_authres *ar = NULL;
		char *s = NULL;
		size_t n = strlen(value);
		CHECK_INT(mt_authres_new(p->authserv_id, &ar, NULL), MT_OK);
		for (size_t i = 0; ar && i < p->method_count; i++)
			CHECK_INT(mt_authres_add(ar, &p->methods[i], NULL), MT_OK);
		if (ar)
			CHECK_INT(mt_authres_render(ar, 0, 0, &s, NULL), MT_OK);
		while (n && value[n - 1] == ' ')
			n--;
		CHECK(s && strlen(s) == n && !strncmp(s, value, n));
		free(s);
		mt_authres_free(ar);
	}
out:
	if (mt_test_failed != failed)
		fprintf(stderr, "  (go-msgauth %s case %zu: \"%s\"%s%s)\n", roundtrip ? "roundtrip" : "parse_only",
		        idx, value, err.message[0] ? ": " : "", err.message);
	mt_authres_parsed_free(p);
}

static void test_go_msgauth(void)
{
	const char *dir = getenv("MT_VECTORS_DIR");
	char path[1024];
	FILE *f;
	char *text;
	long len;
	jv root;

	/* the working directory is tests/data: ../shared is beside the checkout */
	snprintf(path, sizeof path, "%s/go-msgauth/authres/authres-cases.json",
	         dir && *dir ? dir : "../../../shared/vectors");
	if (!(f = fopen(path, "rb"))) {
		printf("skipped: go-msgauth vectors: %s not found (set MT_VECTORS_DIR)\n", path);
		return;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = len > 0 && len < (1 << 20) ? malloc((size_t)len + 1) : NULL;
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		CHECK(0);
		free(text);
		fclose(f);
		return;
	}
	fclose(f);
	text[len] = '\0';
	const char *cur = text;
	if (jparse(&cur, &root, 0)) {
		const jv *rt = jget(&root, "roundtrip"), *po = jget(&root, "parse_only");
		size_t cases = 0;
		for (size_t i = 0; rt && i < rt->n; i++, cases++)
			vector_case(&rt->items[i], true, i);
		for (size_t i = 0; po && i < po->n; i++, cases++)
			vector_case(&po->items[i], false, i);
		CHECK(cases >= 13);
		printf("go-msgauth vectors: %zu cases from %s\n", cases, path);
	} else {
		CHECK(0);
	}
	jv_free(&root);
	free(text);
}

int main(void)
{
	test_quoting();
	test_refused();
	test_render_forms();
	test_rfc_examples();
	test_sloppy();
	test_round_trip();
	test_claims();
	test_go_msgauth();
	return mt_test_done();
}
