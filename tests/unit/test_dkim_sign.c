/* DKIM signing: sign -> verify round trips with the library's verifier
 * (keys in an in-memory zone), the field's form, tampering, refusals, key
 * matching, and the published signatures of RFC 8463 and go-msgauth
 * reproduced byte for byte when ../shared/vectors is present. */
#include <mailtrust/dkim.h>
#include <mailtrust/dkim_sign.h>
#include <mailtrust/dns.h>
#include <mailtrust/msg.h>
#include "dkim/dkim_int.h"
#include "mt_test.h"

#include <pthread.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static mt_dns_zone *zone;
static mt_dns_resolver *res;
static mt_dkim_keygen *rsa, *ed, *rsa_big;

static void zone_add(const char *name, const char *value)
{
	const char *strs[64];
	size_t lens[64], n = 0, len = strlen(value);
	for (size_t o = 0; o < len && n < 64; o += 255) {
		strs[n] = value + o;
		lens[n] = len - o > 255 ? 255 : len - o;
		n++;
	}
	CHECK(mt_dns_zone_add_txt(zone, name, MT_DNS_TXT, 300, strs, lens, n) == MT_OK);
}

static void fresh_zone(void)
{
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	zone = mt_dns_zone_new();
	res = mt_dns_zone_resolver_new(zone);
}

/* Sign msg (len octets) fed in chunks of `chunk` (0: at once) with keys
 * [k0 (selector s0), k1 (s1)] under example.com; returns the fields
 * followed by the original message, or NULL (with *st set) on failure. */
static char *sign_with(const char *msg, size_t len, size_t chunk, const mt_dkim_sign_options *o,
                       mt_dkim_keygen *k0, const char *s0, mt_dkim_keygen *k1, const char *s1,
                       mt_status *st_out, mt_error *err_out)
{
	mt_dkim_sign *s = NULL;
	mt_error err = { 0 };
	mt_status st;
	const char *f;
	size_t flen = 0;
	char *out = NULL;

	st = mt_dkim_sign_new(o, &s, &err);
	if (st == MT_OK)
		st = mt_dkim_sign_add(s, k0, "example.com", s0, NULL, &err);
	if (st == MT_OK && k1)
		st = mt_dkim_sign_add(s, k1, "example.com", s1, NULL, &err);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t off = 0; st == MT_OK && off < len; off += chunk)
		st = mt_dkim_sign_feed(s, msg + off, len - off < chunk ? len - off : chunk, &err);
	if (st == MT_OK)
		st = mt_dkim_sign_finish(s, &err);
	if (st_out)
		*st_out = st;
	if (err_out)
		*err_out = err;
	if (st == MT_OK && (f = mt_dkim_sign_fields(s, &flen)) != NULL) {
		out = malloc(flen + len + 1);
		memcpy(out, f, flen);
		memcpy(out + flen, msg, len);
		out[flen + len] = 0;
	}
	mt_dkim_sign_free(s);
	return out;
}

static char *sign1(const char *msg, const mt_dkim_sign_options *o, mt_dkim_keygen *k,
                   const char *sel)
{
	mt_error err = { 0 };
	mt_status st;
	char *r = sign_with(msg, strlen(msg), 0, o, k, sel, NULL, NULL, &st, &err);
	if (!r)
		fprintf(stderr, "sign: %s\n", err.message);
	return r;
}

static mt_dkim_verify *verify(const char *msg, size_t len, size_t chunk, int64_t now)
{
	mt_dkim_verify_options o;
	mt_dkim_verify *v = NULL;
	mt_error err;
	mt_dkim_verify_options_init(&o);
	o.now = now;
	CHECK(mt_dkim_verify_new(&o, &v, &err) == MT_OK);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		CHECK(mt_dkim_verify_feed(v, msg + off, len - off < chunk ? len - off : chunk, &err) ==
		      MT_OK);
	CHECK(mt_dkim_verify_finish(v, &err) == MT_OK);
	CHECK(mt_dkim_verify_run(v, res) == MT_OK);
	CHECK(mt_dkim_verify_done(v));
	return v;
}

static const mt_dkim_sig_result *result(mt_dkim_verify *v, size_t i)
{
	return mt_dkim_verify_result(v, i);
}

/* Every signature on msg has result want (and fail kind); line for the report. */
static void expect_all(const char *msg, size_t nsig, mt_dkim_result want, mt_dkim_fail fail,
                       int line)
{
	mt_dkim_verify *v;
	if (!msg) {
		mt_test_failed++;
		fprintf(stderr, "%s:%d: no signed message\n", __FILE__, line);
		return;
	}
	v = verify(msg, strlen(msg), 0, 0);
	if (mt_dkim_verify_count(v) < nsig) {
		mt_test_failed++;
		fprintf(stderr, "%s:%d: %zu signatures, want %zu\n", __FILE__, line,
		        mt_dkim_verify_count(v), nsig);
	}
	for (size_t k = 0; k < nsig && k < mt_dkim_verify_count(v); k++) {
		const mt_dkim_sig_result *r = result(v, k);
		if (!r || r->result != want || r->fail != fail) {
			mt_test_failed++;
			fprintf(stderr, "%s:%d: signature %zu: %s (%s), want %s\n", __FILE__, line, k,
			        r ? mt_dkim_result_name(r->result) : "none", r ? r->reason : "",
			        mt_dkim_result_name(want));
		} else {
			mt_test_passed++;
		}
	}
	mt_dkim_verify_free(v);
}
#define EXPECT_ALL(m, n, r, f) expect_all((m), (n), (r), (f), __LINE__)
#define EXPECT_PASS(m, n) expect_all((m), (n), MT_DKIM_PASS, MT_DKIM_FAIL_NONE, __LINE__)

static char *replace(const char *msg, const char *from, const char *to)
{
	const char *p = msg ? strstr(msg, from) : NULL;
	size_t n;
	char *o;
	if (!p)
		return msg ? strdup(msg) : NULL;
	n = strlen(msg) - strlen(from) + strlen(to) + 1;
	o = malloc(n);
	snprintf(o, n, "%.*s%s%s", (int)(p - msg), msg, to, p + strlen(from));
	return o;
}

static char *to_lf(const char *s)
{
	char *o = malloc(strlen(s) + 1), *w = o;
	for (; *s; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			*w++ = *s;
	*w = 0;
	return o;
}

static const char *MSG =
	"Received: from a.example by b.example; Mon, 1 Dec 2026 08:00:00 +0000\r\n"
	"From: Alice <alice@example.com>\r\n"
	"To: Bob <bob@example.org>,\r\n"
	"\tCarol <carol@example.org>\r\n"
	"Subject: Hello  world,\r\n"
	" folded\r\n"
	"Date: Mon, 1 Dec 2026 08:00:00 +0000\r\n"
	"Message-ID: <1@example.com>\r\n"
	"X-Unsigned: not in the list\r\n"
	"\r\n"
	"Hi Bob,\r\n"
	"\r\n"
	"see you at  noon. \r\n"
	"\r\n"
	"\r\n";

/* ---- round trips ---------------------------------------------------------- */
static void test_round_trips(void)
{
	static const mt_dkim_sign_canon cs[2] = { MT_DKIM_SIGN_SIMPLE, MT_DKIM_SIGN_RELAXED };
	mt_dkim_sign_options o;
	char *m, *lf = to_lf(MSG);

	/* rsa, ed25519, both in one pass; every c= combination; LF and CRLF */
	for (int h = 0; h < 2; h++)
		for (int b = 0; b < 2; b++)
			for (int l = 0; l < 2; l++) {
				const char *in = l ? lf : MSG;
				mt_dkim_sign_options_init(&o);
				o.canon_header = cs[h];
				o.canon_body = cs[b];
				o.lf = l;
				m = sign1(in, &o, rsa, "rsa");
				EXPECT_PASS(m, 1);
				free(m);
				m = sign1(in, &o, ed, "ed");
				EXPECT_PASS(m, 1);
				free(m);
				m = sign_with(in, strlen(in), 0, &o, rsa, "rsa", ed, "ed", NULL, NULL);
				EXPECT_PASS(m, 2);
				if (m && l)
					CHECK(strchr(m, '\r') == NULL); /* LF fields for LF input */
				free(m);
			}
	/* a key of 4104 bits */
	mt_dkim_sign_options_init(&o);
	m = sign1(MSG, &o, rsa_big, "big");
	EXPECT_PASS(m, 1);
	free(m);
	free(lf);
}

/* Chunks of 1..N octets give the same fields as the message fed whole. */
static void test_chunks(void)
{
	mt_dkim_sign_options o;
	size_t len = strlen(MSG);
	char *whole;

	mt_dkim_sign_options_init(&o);
	o.now = 1764576000;
	whole = sign_with(MSG, len, 0, &o, rsa, "rsa", ed, "ed", NULL, NULL);
	EXPECT_PASS(whole, 2);
	for (size_t c = 1; c <= len; c += (c < 40 ? 1 : 37)) {
		char *m = sign_with(MSG, len, c, &o, rsa, "rsa", ed, "ed", NULL, NULL);
		if (!m || !whole || strcmp(m, whole) != 0) {
			mt_test_failed++;
			fprintf(stderr, "%s:%d: chunk size %zu gives other fields\n", __FILE__, __LINE__, c);
		} else {
			mt_test_passed++;
		}
		free(m);
	}
	/* and the signed message verifies when fed in chunks too */
	for (size_t c = 1; whole && c < 200; c += 13) {
		mt_dkim_verify *v = verify(whole, strlen(whole), c, 0);
		CHECK(result(v, 0) && result(v, 0)->result == MT_DKIM_PASS);
		CHECK(result(v, 1) && result(v, 1)->result == MT_DKIM_PASS);
		mt_dkim_verify_free(v);
	}
	free(whole);
}

/* Empty body, no body at all, a body without a final line end, and
 * a CR LF split across chunks. */
static void test_bodies(void)
{
	static const char *const msgs[] = {
		"From: a@example.com\r\nSubject: empty\r\n\r\n",
		"From: a@example.com\r\nSubject: no body\r\n",
		"From: a@example.com\r\n\r\nno line end",
		"From: a@example.com\r\n\r\n\r\n\r\n\r\n",
		"From: a@example.com\n\nlf \t body\n\n",
	};
	mt_dkim_sign_options o;
	for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++)
		for (int c = 0; c < 4; c++) {
			mt_dkim_sign_options_init(&o);
			o.canon_header = (mt_dkim_sign_canon)(c & 1);
			o.canon_body = (mt_dkim_sign_canon)(c >> 1);
			for (size_t ch = 0; ch < 4; ch++) {
				char *m = sign_with(msgs[k], strlen(msgs[k]), ch, &o, rsa, "rsa", ed, "ed", NULL,
				                    NULL);
				EXPECT_PASS(m, 2);
				free(m);
			}
		}
}

/* RFC 8463 A.3's body, relaxed: bh= as the RFC prints it; the empty body
 * as RFC 6376 3.4.3/3.4.4 define it (SHA-256 of CRLF, of nothing). */
static void test_body_hash_values(void)
{
	const char *m8463 =
		"From: Joe SixPack <joe@football.example.com>\r\n\r\n"
		"Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n";
	mt_dkim_sign_options o;
	char *m;

	mt_dkim_sign_options_init(&o);
	m = sign1(m8463, &o, ed, "ed");
	CHECK(m && strstr(m, "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"));
	free(m);
	o.canon_body = MT_DKIM_SIGN_SIMPLE;
	m = sign1("From: a@example.com\r\n\r\n", &o, ed, "ed");
	CHECK(m && strstr(m, "bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=;"));
	free(m);
	o.canon_body = MT_DKIM_SIGN_RELAXED;
	m = sign1("From: a@example.com\r\n\r\n", &o, ed, "ed");
	CHECK(m && strstr(m, "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"));
	free(m);
}

/* ---- the field ------------------------------------------------------------ */

/* The value of tag name in field (unfolded, FWS removed), into buf. */
static const char *tag(const char *field, const char *name, char *buf, size_t cap)
{
	char pat[16];
	const char *p;
	size_t o = 0;
	snprintf(pat, sizeof pat, " %s=", name);
	buf[0] = 0;
	/* names follow a space or a line start of " " after CRLF/LF */
	p = strstr(field, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	for (; *p && *p != ';' && o + 1 < cap; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			buf[o++] = *p;
	buf[o] = 0;
	return buf;
}

static void test_field_form(void)
{
	mt_dkim_sign_options o;
	mt_dkim_sign *s = NULL;
	const char *f;
	char buf[4096];
	size_t len = 0, line = 0;
	const char *msg =
		"From: Alice <alice@example.com>\r\n"
		"To: Bob <bob@example.org>\r\n"
		"Received: x\r\n"
		"To: Carol <carol@example.org>\r\n"
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
		"Subject: s\r\n"
		"\r\nbody\r\n";

	mt_dkim_sign_options_init(&o);
	o.now = 1764576000;
	o.expire = 86400;
	o.body_length = true;
	CHECK(mt_dkim_sign_new(&o, &s, NULL) == MT_OK);
	CHECK(mt_dkim_sign_add(s, rsa, "Example.COM.", "rsa", "user;x=1 @mail.example.com", NULL) ==
	      MT_OK);
	CHECK(mt_dkim_sign_add(s, ed, "example.com", "ed", NULL, NULL) == MT_OK);
	CHECK(mt_dkim_sign_feed(s, msg, strlen(msg), NULL) == MT_OK);
	CHECK(mt_dkim_sign_finish(s, NULL) == MT_OK);
	f = mt_dkim_sign_fields(s, &len);
	CHECK(f && len == strlen(f));
	CHECK_INT(mt_dkim_sign_count(s), 2);
	CHECK_INT(mt_dkim_sign_body_length(s), 6);
	if (f) {
		size_t l0 = 0, l1 = 0;
		const char *f0 = mt_dkim_sign_field(s, 0, &l0), *f1 = mt_dkim_sign_field(s, 1, &l1);
		CHECK(f0 == f && l0 + l1 == len && f1 == f + l0);
		CHECK(strncmp(f, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=Example.COM;", 68)
		      == 0);
		CHECK(f1 && strncmp(f1, "DKIM-Signature: v=1; a=ed25519-sha256; ", 39) == 0);
		/* every line at most 78 columns, continuation lines start with SP */
		for (const char *p = f; *p; p++) {
			if (*p == '\r')
				continue;
			if (*p == '\n') {
				CHECK(line <= 78);
				CHECK(p[1] == 0 || p[1] == ' ' || strncmp(p + 1, "DKIM-Signature:", 15) == 0);
				line = 0;
			} else {
				line++;
			}
		}
		/* tags as reasoned: two To fields, List-Unsubscribe-Post, From
		 * oversigned once, Received and absent names left out */
		CHECK_STR(tag(f, "h", buf, sizeof buf),
		          "from:subject:to:to:list-unsubscribe-post:from");
		CHECK_STR(tag(f, "t", buf, sizeof buf), "1764576000");
		CHECK_STR(tag(f, "x", buf, sizeof buf), "1764662400");
		CHECK_STR(tag(f, "l", buf, sizeof buf), "6");
		CHECK_STR(tag(f, "i", buf, sizeof buf), "user=3Bx=3D1=20@mail.example.com");
		CHECK_STR(tag(f, "s", buf, sizeof buf), "rsa");
		/* b= is last and the field ends with it */
		CHECK(strstr(f, " b=") != NULL);
	}
	mt_dkim_sign_free(s);

	/* it verifies, l= reported; the identity is the verifier's i= */
	{
		char *m = sign_with(msg, strlen(msg), 0, &o, rsa, "rsa", NULL, NULL, NULL, NULL);
		mt_dkim_verify *v = verify(m, strlen(m), 0, o.now + 10);
		CHECK(result(v, 0) && result(v, 0)->result == MT_DKIM_PASS);
		CHECK(result(v, 0) && result(v, 0)->has_l && result(v, 0)->l == 6);
		mt_dkim_verify_free(v);
		/* expired a day later */
		v = verify(m, strlen(m), 0, o.now + 86401);
		CHECK(result(v, 0) && result(v, 0)->result == MT_DKIM_PERMERROR);
		mt_dkim_verify_free(v);
		free(m);
	}

	/* without now: no t=; without body_length: no l= */
	mt_dkim_sign_options_init(&o);
	{
		char *m = sign1(msg, &o, ed, "ed");
		char *end = m ? strstr(m, "\r\nFrom:") : NULL;
		if (end)
			*end = 0;
		CHECK(m && !tag(m, "t", buf, sizeof buf) && !tag(m, "l", buf, sizeof buf) &&
		      !tag(m, "x", buf, sizeof buf) && !tag(m, "i", buf, sizeof buf));
		free(m);
	}
	/* signing is deterministic */
	{
		char *a = sign1(MSG, &o, rsa, "rsa"), *b = sign1(MSG, &o, rsa, "rsa");
		CHECK(a && b && strcmp(a, b) == 0);
		free(a);
		free(b);
	}
	/* a custom list, names as given; oversign several, or none */
	o.headers = "From : Subject:X-Unsigned:subject";
	o.oversign = "from:Subject:X-Absent";
	{
		char *m = sign1(MSG, &o, rsa, "rsa");
		CHECK(m && strcmp(tag(m, "h", buf, sizeof buf),
		                  "From:Subject:X-Unsigned:from:Subject:X-Absent") == 0);
		EXPECT_PASS(m, 1);
		free(m);
	}
	o.oversign = "";
	{
		char *m = sign1(MSG, &o, rsa, "rsa");
		CHECK(m && strcmp(tag(m, "h", buf, sizeof buf), "From:Subject:X-Unsigned") == 0);
		free(m);
	}
}

/* ---- tampering ------------------------------------------------------------ */
static void test_tampering(void)
{
	mt_dkim_sign_options o;
	char *rel, *sim, *m;
	/* a byte changed in each signed field (and in the body) */
	static const char *const edits[][2] = {
		{ "From: Alice", "From: Alicf" },
		{ "Bob <bob", "Bob <boc" },
		{ "Carol <carol", "Carol <carox" },
		{ "Hello  world", "Hello  worle" },
		{ " folded", " foldex" },
		{ "08:00:00 +0000\r\nMessage", "08:00:01 +0000\r\nMessage" },
		{ "<1@example.com>", "<2@example.com>" },
	};

	mt_dkim_sign_options_init(&o);
	rel = sign_with(MSG, strlen(MSG), 0, &o, rsa, "rsa", ed, "ed", NULL, NULL);
	o.canon_header = o.canon_body = MT_DKIM_SIGN_SIMPLE;
	sim = sign_with(MSG, strlen(MSG), 0, &o, rsa, "rsa", ed, "ed", NULL, NULL);
	EXPECT_PASS(rel, 2);
	EXPECT_PASS(sim, 2);
	for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
		m = replace(rel, edits[k][0], edits[k][1]);
		CHECK(strcmp(m, rel) != 0);
		EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_SIGNATURE);
		free(m);
		m = replace(sim, edits[k][0], edits[k][1]);
		EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_SIGNATURE);
		free(m);
	}
	/* an unsigned field may change */
	m = replace(rel, "not in the list", "changed");
	EXPECT_PASS(m, 2);
	free(m);
	/* the body */
	m = replace(rel, "Hi Bob", "Hi Bop");
	EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_BODY_HASH);
	free(m);
	m = replace(sim, "Hi Bob", "Hi Bop");
	EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_BODY_HASH);
	free(m);
	/* whitespace: relaxed tolerates, simple does not */
	m = replace(rel, "Subject: Hello  world", "Subject:  Hello \t world");
	EXPECT_PASS(m, 2);
	free(m);
	m = replace(sim, "Subject: Hello  world", "Subject:  Hello \t world");
	EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_SIGNATURE);
	free(m);
	m = replace(rel, "From: Alice", "FROM:   Alice");
	EXPECT_PASS(m, 2);
	free(m);
	m = replace(sim, "From: Alice", "FROM:   Alice");
	EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_SIGNATURE);
	free(m);
	m = replace(rel, "at  noon. \r\n", "at noon.\t\r\n");
	EXPECT_PASS(m, 2);
	free(m);
	m = replace(sim, "at  noon. \r\n", "at noon.\t\r\n");
	EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_BODY_HASH);
	free(m);
	/* trailing empty lines do not count under either */
	m = replace(sim, "\r\n\r\n\r\n", "\r\n\r\n\r\n\r\n\r\n");
	EXPECT_PASS(m, 2);
	free(m);
	/* an added From (above or below the signed one): oversigning catches it */
	m = replace(rel, "From: Alice", "From: Mallory <m@evil.example>\r\nFrom: Alice");
	EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_SIGNATURE);
	free(m);
	m = replace(rel, "To: Bob", "From: Mallory <m@evil.example>\r\nTo: Bob");
	EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_SIGNATURE);
	free(m);
	/* ... which it would not without oversigning (the added From below is
	 * the one a verifier takes, above it is not) */
	mt_dkim_sign_options_init(&o);
	o.oversign = "";
	free(sim);
	sim = sign1(MSG, &o, rsa, "rsa");
	m = replace(sim, "Received:", "From: Mallory <m@evil.example>\r\nReceived:");
	EXPECT_PASS(m, 1);
	free(m);
	/* a second To below the signed one is the one a verifier picks */
	m = replace(rel, "Date:", "To: Mallory <m@evil.example>\r\nDate:");
	EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_SIGNATURE);
	free(m);
	/* appended body: fails without l=, passes with l= (reported) */
	{
		size_t n = strlen(rel) + 32;
		m = malloc(n);
		snprintf(m, n, "%sappended\r\n", rel);
		EXPECT_ALL(m, 2, MT_DKIM_FAIL, MT_DKIM_FAIL_BODY_HASH);
		free(m);
	}
	mt_dkim_sign_options_init(&o);
	o.body_length = true;
	free(sim);
	sim = sign_with(MSG, strlen(MSG), 0, &o, rsa, "rsa", ed, "ed", NULL, NULL);
	{
		size_t n = strlen(sim) + 32;
		mt_dkim_verify *v;
		m = malloc(n);
		snprintf(m, n, "%sappended\r\n", sim);
		v = verify(m, strlen(m), 0, 0);
		for (size_t k = 0; k < 2; k++) {
			CHECK(result(v, k) && result(v, k)->result == MT_DKIM_PASS);
			CHECK(result(v, k) && result(v, k)->l_risk);
		}
		mt_dkim_verify_free(v);
		free(m);
	}
	free(rel);
	free(sim);
}

/* ---- refusals ------------------------------------------------------------- */
static void test_refusals(void)
{
	mt_dkim_sign_options o;
	mt_dkim_sign *s = NULL;
	mt_error err = { 0 };
	mt_status st;
	mt_dkim_sign_canon h, b;
	char *m;

	/* no From; a leading continuation line */
	mt_dkim_sign_options_init(&o);
	m = sign_with("To: b@example.org\r\n\r\nx\r\n", 22, 0, &o, rsa, "rsa", NULL, NULL, &st, &err);
	CHECK(!m && st == MT_ESYNTAX && strstr(err.message, "no From"));
	m = sign_with(" x\r\nFrom: a@example.com\r\n\r\n", 27, 3, &o, rsa, "rsa", NULL, NULL, &st,
	              &err);
	CHECK(!m && st == MT_ESYNTAX && strstr(err.message, "continuation"));
	/* the header cap of msg.h */
	o.max_header_bytes = 64;
	m = sign_with(MSG, strlen(MSG), 5, &o, rsa, "rsa", NULL, NULL, &st, &err);
	CHECK(!m && st == MT_ERANGE);
	/* options */
	mt_dkim_sign_options_init(&o);
	o.headers = "to:subject";
	CHECK(mt_dkim_sign_new(&o, &s, &err) == MT_EINVAL && !s && strstr(err.message, "From"));
	o.headers = "from::to";
	CHECK(mt_dkim_sign_new(&o, &s, &err) == MT_EINVAL && strstr(err.message, "empty name"));
	o.headers = "from:x y";
	CHECK(mt_dkim_sign_new(&o, &s, &err) == MT_EINVAL && strstr(err.message, "0x20"));
	o.headers = NULL;
	o.oversign = "from:DKIM-Signature";
	CHECK(mt_dkim_sign_new(&o, &s, &err) == MT_EINVAL && strstr(err.message, "oversigned"));
	o.oversign = NULL;
	o.expire = 60;
	CHECK(mt_dkim_sign_new(&o, &s, &err) == MT_EINVAL && strstr(err.message, "x="));
	o.expire = 0;
	CHECK(mt_dkim_sign_new(&o, NULL, &err) == MT_EINVAL);
	/* entries */
	CHECK(mt_dkim_sign_new(&o, &s, &err) == MT_OK);
	CHECK(mt_dkim_sign_feed(s, "From: a@example.com\r\n", 21, &err) == MT_ESTATE);
	CHECK(mt_dkim_sign_finish(s, &err) == MT_ESTATE);
	CHECK(mt_dkim_sign_add(s, rsa, "example", "rsa", NULL, &err) == MT_EINVAL);
	CHECK(mt_dkim_sign_add(s, rsa, "example.com", "bad_sel", NULL, &err) == MT_EINVAL);
	CHECK(mt_dkim_sign_add(s, rsa, "example.com", "rsa", "a@example.org", &err) == MT_EINVAL &&
	      strstr(err.message, "subdomain"));
	CHECK(mt_dkim_sign_add(s, rsa, "example.com", "rsa", "a@badexample.com", &err) == MT_EINVAL);
	CHECK(mt_dkim_sign_add(s, rsa, "example.com", "rsa", "no-at", &err) == MT_EINVAL);
	CHECK(mt_dkim_sign_add(s, rsa, "example.com", "rsa", "a@x..example.com", &err) == MT_EINVAL &&
	      strstr(err.message, "identity's domain"));
	{
		char longid[400];
		memset(longid, ';', 300); /* each written =3B */
		snprintf(longid + 300, sizeof longid - 300, "@example.com");
		CHECK(mt_dkim_sign_add(s, rsa, "example.com", "rsa", longid, &err) == MT_EINVAL &&
		      strstr(err.message, "longer than 512"));
	}
	CHECK(mt_dkim_sign_add(s, rsa, "example.com", "rsa", "@sub.example.com", &err) == MT_OK);
	CHECK(mt_dkim_sign_add(s, NULL, "example.com", "rsa", NULL, &err) == MT_EINVAL);
	CHECK(mt_dkim_sign_fields(s, NULL) == NULL);
	CHECK(mt_dkim_sign_feed(s, "From: a@example.com\r\n\r\n", 23, &err) == MT_OK);
	CHECK(mt_dkim_sign_add(s, ed, "example.com", "ed", NULL, &err) == MT_ESTATE);
	CHECK(mt_dkim_sign_finish(s, &err) == MT_OK);
	CHECK(mt_dkim_sign_finish(s, &err) == MT_ESTATE);
	CHECK(mt_dkim_sign_feed(s, "x", 1, &err) == MT_ESTATE);
	{
		size_t l = 0;
		CHECK(mt_dkim_sign_field(s, 1, &l) == NULL);
		CHECK(mt_dkim_sign_field(s, 0, NULL) == NULL);
		CHECK(mt_dkim_sign_field(s, 0, &l) != NULL && l > 0);
	}
	mt_dkim_sign_free(s);
	mt_dkim_sign_free(NULL);
	/* at most MT_DKIM_SIGN_MAX_KEYS entries */
	CHECK(mt_dkim_sign_new(NULL, &s, &err) == MT_OK);
	for (int k = 0; k < MT_DKIM_SIGN_MAX_KEYS; k++)
		CHECK(mt_dkim_sign_add(s, ed, "example.com", "ed", NULL, &err) == MT_OK);
	CHECK(mt_dkim_sign_add(s, ed, "example.com", "ed", NULL, &err) == MT_ERANGE);
	mt_dkim_sign_free(s);
	/* more than 256 h= names */
	{
		mt_buf big;
		char *msg;
		mt_buf_init(&big, 1 << 20);
		mt_buf_puts(&big, "From: a@example.com\r\n");
		for (int k = 0; k < 300; k++)
			mt_buf_puts(&big, "To: b@example.org\r\n");
		mt_buf_puts(&big, "\r\n");
		msg = mt_buf_take(&big);
		mt_dkim_sign_options_init(&o);
		m = sign_with(msg, strlen(msg), 0, &o, rsa, "rsa", NULL, NULL, &st, &err);
		CHECK(!m && st == MT_ERANGE && strstr(err.message, "256"));
		free(msg);
	}
	/* c= text */
	CHECK(mt_dkim_sign_parse_canon("relaxed/simple", &h, &b, &err) == MT_OK &&
	      h == MT_DKIM_SIGN_RELAXED && b == MT_DKIM_SIGN_SIMPLE);
	CHECK(mt_dkim_sign_parse_canon("simple/relaxed", &h, &b, &err) == MT_OK &&
	      h == MT_DKIM_SIGN_SIMPLE && b == MT_DKIM_SIGN_RELAXED);
	CHECK(mt_dkim_sign_parse_canon("relaxed", &h, &b, &err) == MT_OK &&
	      h == MT_DKIM_SIGN_RELAXED && b == MT_DKIM_SIGN_SIMPLE);
	CHECK(mt_dkim_sign_parse_canon("relaxed/", &h, &b, &err) == MT_EINVAL);
	CHECK(mt_dkim_sign_parse_canon("Relaxed", &h, &b, &err) == MT_EINVAL);
	CHECK(mt_dkim_sign_parse_canon("simple/simple/simple", &h, &b, &err) == MT_EINVAL);
}

/* ---- key records ---------------------------------------------------------- */
static void test_key_match(void)
{
	mt_dkim_key_match m;
	char why[256];
	const char *rr = mt_dkim_keygen_record(rsa), *re = mt_dkim_keygen_record(ed);

	CHECK(mt_dkim_key_match_record(rsa, rr, strlen(rr), &m, why, sizeof why) == MT_OK &&
	      m == MT_DKIM_KEY_MATCH);
	CHECK(mt_dkim_key_match_record(ed, re, strlen(re), &m, why, sizeof why) == MT_OK &&
	      m == MT_DKIM_KEY_MATCH);
	CHECK(mt_dkim_key_match_record(rsa, re, strlen(re), &m, why, sizeof why) == MT_OK &&
	      m == MT_DKIM_KEY_MISMATCH && strstr(why, "ed25519"));
	rr = mt_dkim_keygen_record(rsa_big);
	CHECK(mt_dkim_key_match_record(rsa, rr, strlen(rr), &m, why, sizeof why) == MT_OK &&
	      m == MT_DKIM_KEY_MISMATCH && strstr(why, "4104"));
	CHECK(mt_dkim_key_match_record(rsa, "v=DKIM1; p=", 11, &m, why, sizeof why) == MT_OK &&
	      m == MT_DKIM_KEY_REVOKED);
	CHECK(mt_dkim_key_match_record(rsa, "v=DKIM1; p=!!", 13, &m, why, sizeof why) == MT_OK &&
	      m == MT_DKIM_KEY_UNUSABLE);
	CHECK(mt_dkim_key_match_record(rsa, NULL, 0, &m, NULL, 0) == MT_OK &&
	      m == MT_DKIM_KEY_UNUSABLE);
	CHECK(mt_dkim_key_match_record(NULL, "x", 1, &m, NULL, 0) == MT_EINVAL);
}

/* A key loaded from PEM signs many messages; a key object shared by two
 * signers at once. */
static void test_key_reuse(void)
{
	mt_dkim_keygen *k = NULL;
	mt_dkim_sign *a = NULL, *b = NULL;
	const char *pem = mt_dkim_keygen_pem(ed);
	const char *m1 = "From: a@example.com\r\n\r\none\r\n", *m2 = "From: a@example.com\r\n\r\ntwo\r\n";
	CHECK(mt_dkim_keygen_from_pem(pem, strlen(pem), &k, NULL) == MT_OK);
	CHECK(mt_dkim_sign_new(NULL, &a, NULL) == MT_OK && mt_dkim_sign_new(NULL, &b, NULL) == MT_OK);
	CHECK(mt_dkim_sign_add(a, k, "example.com", "ed", NULL, NULL) == MT_OK);
	CHECK(mt_dkim_sign_add(b, k, "example.com", "ed", NULL, NULL) == MT_OK);
	CHECK(mt_dkim_sign_feed(a, m1, 10, NULL) == MT_OK);
	CHECK(mt_dkim_sign_feed(b, m2, strlen(m2), NULL) == MT_OK);
	CHECK(mt_dkim_sign_feed(a, m1 + 10, strlen(m1) - 10, NULL) == MT_OK);
	CHECK(mt_dkim_sign_finish(a, NULL) == MT_OK && mt_dkim_sign_finish(b, NULL) == MT_OK);
	for (int i = 0; i < 2; i++) {
		const char *f = mt_dkim_sign_fields(i ? b : a, NULL), *msg = i ? m2 : m1;
		size_t n = f ? strlen(f) + strlen(msg) + 1 : 1;
		char *full = malloc(n);
		snprintf(full, n, "%s%s", f ? f : "", msg);
		EXPECT_PASS(full, 1);
		free(full);
	}
	mt_dkim_sign_free(a);
	mt_dkim_sign_free(b);
	mt_dkim_keygen_free(k);
}

/* Keys shared read-only by threads: four threads sign with the same two
 * key objects at once and get the fields a single thread gets (both
 * algorithms are deterministic). */
typedef struct thread_job {
	const char *want;
	int mismatches;
} thread_job;

static void *sign_thread(void *arg)
{
	thread_job *j = arg;
	mt_dkim_sign_options o;
	mt_dkim_sign_options_init(&o);
	o.now = 1764576000;
	for (int i = 0; i < 25; i++) {
		char *m = sign_with(MSG, strlen(MSG), (size_t)(i % 7) + 1, &o, rsa, "rsa", ed, "ed", NULL,
		                    NULL);
		if (!m || strcmp(m, j->want) != 0)
			j->mismatches++;
		free(m);
	}
	return NULL;
}

static void test_key_threads(void)
{
	mt_dkim_sign_options o;
	pthread_t t[4];
	thread_job jobs[4];
	char *want;

	mt_dkim_sign_options_init(&o);
	o.now = 1764576000;
	want = sign_with(MSG, strlen(MSG), 0, &o, rsa, "rsa", ed, "ed", NULL, NULL);
	EXPECT_PASS(want, 2);
	for (int k = 0; k < 4; k++) {
		jobs[k].want = want;
		jobs[k].mismatches = 0;
		CHECK(pthread_create(&t[k], NULL, sign_thread, &jobs[k]) == 0);
	}
	for (int k = 0; k < 4; k++) {
		pthread_join(t[k], NULL);
		CHECK_INT(jobs[k].mismatches, 0);
	}
	free(want);
}

/* ---- published signatures -------------------------------------------------- */
static char *slurp(const char *dir, const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		mt_test_failed++;
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

static mt_dkim_keygen *pem_key(const char *dir, const char *rel)
{
	size_t len = 0;
	char *pem = slurp(dir, rel, &len);
	mt_dkim_keygen *k = NULL;
	mt_error err;
	if (pem && mt_dkim_keygen_from_pem(pem, len, &k, &err) != MT_OK)
		fprintf(stderr, "%s: %s\n", rel, err.message);
	CHECK(k != NULL);
	free(pem);
	return k;
}

/* An ed25519 key from a base64 32-octet seed, through PEM. */
static mt_dkim_keygen *seed_key(const char *dir, const char *rel)
{
	size_t len = 0;
	char *b64 = slurp(dir, rel, &len), *mem;
	unsigned char seed[48];
	EVP_PKEY *pk = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	mt_dkim_keygen *k = NULL;
	long n;
	while (len && (b64[len - 1] == '\n' || b64[len - 1] == '\r'))
		len--;
	if (b64 && EVP_DecodeBlock(seed, (unsigned char *)b64, (int)len) >= 32)
		pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (pk && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1) {
		n = BIO_get_mem_data(bio, &mem);
		mt_dkim_keygen_from_pem(mem, (size_t)n, &k, NULL);
	}
	CHECK(k != NULL);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	free(b64);
	return k;
}

/*
 * The i-th DKIM-Signature of a published message (file): its raw text
 * with b='s value removed (as signed), that value without FWS, and the
 * message without any signature read into a mt_msg.  Then sign the same
 * field with key through mt_dkim_sign_header(): b= must be equal.
 */
static void reproduce(const char *dir, const char *file, size_t idx, mt_dkim_keygen *key,
                      const char *const *names, size_t nn, mt_dkim_canon c, const char *what)
{
	size_t len = 0;
	char *text = slurp(dir, file, &len);
	mt_msg *msg = NULL;
	const mt_msg_field *f;
	char *field = NULL, *want = NULL, *got = NULL;
	const char *b, *e;
	size_t flen = 0, wl = 0;
	mt_error err = { 0 };

	if (!text || !key)
		goto out;
	CHECK(mt_msg_new(NULL, &msg, NULL) == MT_OK);
	CHECK(mt_msg_feed(msg, text, len, NULL) == MT_OK && mt_msg_finish(msg, NULL) == MT_OK);
	f = mt_msg_find(msg, "DKIM-Signature", idx);
	CHECK(f != NULL);
	if (!f)
		goto out;
	/* b= is the last tag in these fields */
	b = NULL;
	for (size_t k = 0; k + 2 < f->raw_len; k++)
		if ((f->raw[k] == ' ' || f->raw[k] == ';' || f->raw[k] == '\t') && f->raw[k + 1] == 'b' &&
		    f->raw[k + 2] == '=')
			b = f->raw + k + 3;
	CHECK(b != NULL);
	if (!b)
		goto out;
	flen = (size_t)(b - f->raw);
	field = malloc(flen + 1);
	memcpy(field, f->raw, flen);
	field[flen] = 0;
	want = malloc(f->raw_len);
	for (e = b; e < f->raw + f->raw_len; e++)
		if (*e != ' ' && *e != '\t' && *e != '\r' && *e != '\n' && *e != ';')
			want[wl++] = *e;
	want[wl] = 0;
	if (mt_dkim_sign_header(key, msg, names, nn, c, field, flen, &got, &err) != MT_OK)
		fprintf(stderr, "%s: %s\n", what, err.message);
	if (got && strcmp(got, want) == 0) {
		mt_test_passed++;
	} else {
		mt_test_failed++;
		fprintf(stderr, "%s: b=%s\n  published b=%s\n", what, got ? got : "(none)", want);
	}
out:
	mt_msg_free(msg);
	free(text);
	free(field);
	free(want);
	free(got);
}

static void test_vectors(void)
{
	const char *dir = mt_test_vectors_dir(MT_SHARED_VECTORS_DIR);
	static const char *const h8463[] = { "from", "to", "subject", "date", "message-id",
	                                     "from", "subject", "date" };
	static const char *const hgo[] = { "From", "To", "Subject", "Date", "Message-ID" };
	mt_dkim_keygen *k8463_ed, *k8463_rsa, *kgo_rsa, *kgo_ed;
	size_t len = 0;
	char *text, *m;
	mt_dkim_sign_options o;
	mt_dkim_verify *v;

	if (!dir)
		return;
	k8463_ed = seed_key(dir, "rfc8463/ed25519.private.b64");
	k8463_rsa = pem_key(dir, "rfc8463/rsa.private.pem");
	kgo_rsa = pem_key(dir, "go-msgauth/dkim/rsa1024-brisbane.private.pem");
	kgo_ed = seed_key(dir, "go-msgauth/dkim/ed25519-brisbane.seed.b64");

	/* The keys are the published ones */
	{
		mt_dkim_key_match mm;
		const char *pub = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
		CHECK(k8463_ed && mt_dkim_key_match_record(k8463_ed, pub, strlen(pub), &mm, NULL, 0) ==
		      MT_OK && mm == MT_DKIM_KEY_MATCH);
	}
	/* RFC 8463 A.3: both signatures, byte for byte */
	reproduce(dir, "rfc8463/signed.eml", 0, k8463_ed, h8463, 8, MT_DKIM_CANON_RELAXED,
	          "RFC 8463 ed25519-sha256");
	reproduce(dir, "rfc8463/signed.eml", 1, k8463_rsa, h8463, 8, MT_DKIM_CANON_RELAXED,
	          "RFC 8463 rsa-sha256");
	/* go-msgauth's signing outputs (simple/simple, t=424242) */
	reproduce(dir, "go-msgauth/dkim/sign-expected-rsa-sha256.eml", 0, kgo_rsa, hgo, 5,
	          MT_DKIM_CANON_SIMPLE, "go-msgauth rsa-sha256");
	reproduce(dir, "go-msgauth/dkim/sign-expected-ed25519-sha256.eml", 0, kgo_ed, hgo, 5,
	          MT_DKIM_CANON_SIMPLE, "go-msgauth ed25519-sha256");

	/* Our own fields for the same inputs: the published bh=, and they
	 * verify against the published keys. */
	text = slurp(dir, "go-msgauth/dkim/sign-input.eml", &len);
	fresh_zone();
	{
		size_t dl = 0;
		char *dns = slurp(dir, "go-msgauth/dkim/dns.txt", &dl);
		for (char *line = dns, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			char *sp;
			nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			sp = strchr(line, ' ');
			if (sp) {
				*sp = 0;
				zone_add(line, sp + 1);
			}
		}
		free(dns);
	}
	mt_dkim_sign_options_init(&o);
	o.canon_header = o.canon_body = MT_DKIM_SIGN_SIMPLE;
	o.now = 424242;
	o.headers = "From:To:Subject:Date:Message-ID";
	o.oversign = "";
	if (text && kgo_rsa) {
		mt_dkim_sign *s = NULL;
		CHECK(mt_dkim_sign_new(&o, &s, NULL) == MT_OK);
		CHECK(mt_dkim_sign_add(s, kgo_rsa, "example.org", "brisbane", NULL, NULL) == MT_OK);
		CHECK(mt_dkim_sign_feed(s, text, len, NULL) == MT_OK);
		CHECK(mt_dkim_sign_finish(s, NULL) == MT_OK);
		{
			const char *f = mt_dkim_sign_fields(s, NULL);
			size_t n = (f ? strlen(f) : 0) + len + 1;
			CHECK(f && strstr(f, "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"));
			CHECK(f && strstr(f, " h=From:To:Subject:Date:Message-ID;"));
			m = malloc(n);
			snprintf(m, n, "%s%s", f ? f : "", text);
			v = verify(m, strlen(m), 0, 0);
			CHECK(result(v, 0) && result(v, 0)->result == MT_DKIM_PASS);
			mt_dkim_verify_free(v);
			free(m);
		}
		mt_dkim_sign_free(s);
	}
	free(text);

	/* RFC 8463's message re-signed with both of its keys in one pass */
	text = slurp(dir, "rfc8463/signed.eml", &len);
	fresh_zone();
	zone_add("brisbane._domainkey.football.example.com",
	         "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	if (text && k8463_rsa) {
		const char *rec = mt_dkim_keygen_record(k8463_rsa);
		zone_add("test._domainkey.football.example.com", rec);
	}
	if (text && k8463_ed && k8463_rsa) {
		mt_dkim_sign *s = NULL;
		mt_dkim_sign_options_init(&o);
		o.now = 1528637909;
		o.headers = "from:to:subject:date:message-id";
		o.oversign = "from:subject:date";
		CHECK(mt_dkim_sign_new(&o, &s, NULL) == MT_OK);
		CHECK(mt_dkim_sign_add(s, k8463_ed, "football.example.com", "brisbane",
		                       "@football.example.com", NULL) == MT_OK);
		CHECK(mt_dkim_sign_add(s, k8463_rsa, "football.example.com", "test",
		                       "@football.example.com", NULL) == MT_OK);
		CHECK(mt_dkim_sign_feed(s, text, len, NULL) == MT_OK);
		CHECK(mt_dkim_sign_finish(s, NULL) == MT_OK);
		{
			const char *f = mt_dkim_sign_fields(s, NULL);
			char buf[512];
			size_t n = (f ? strlen(f) : 0) + len + 1;
			CHECK(f && strstr(f, "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"));
			CHECK(f && tag(f, "h", buf, sizeof buf) &&
			      strcmp(buf, "from:to:subject:date:message-id:from:subject:date") == 0);
			m = malloc(n);
			snprintf(m, n, "%s%s", f ? f : "", text);
			v = verify(m, strlen(m), 1, 1528637909 + 60);
			CHECK_INT(mt_dkim_verify_count(v), 4);
			for (size_t k = 0; k < 4; k++)
				CHECK(result(v, k) && result(v, k)->result == MT_DKIM_PASS);
			mt_dkim_verify_free(v);
			free(m);
		}
		mt_dkim_sign_free(s);
	}
	free(text);
	mt_dkim_keygen_free(k8463_ed);
	mt_dkim_keygen_free(k8463_rsa);
	mt_dkim_keygen_free(kgo_rsa);
	mt_dkim_keygen_free(kgo_ed);
}

static mt_dkim_keygen *load_big(void)
{
	FILE *f = fopen("dkim/keygen-rsa4104.pem", "rb");
	char buf[8192];
	size_t n;
	mt_dkim_keygen *k = NULL;
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	mt_dkim_keygen_from_pem(buf, n, &k, NULL);
	return k;
}

int main(void)
{
	CHECK(mt_dkim_keygen_generate(MT_DKIM_KEYGEN_RSA, 1024, &rsa, NULL) == MT_OK);
	CHECK(mt_dkim_keygen_generate(MT_DKIM_KEYGEN_ED25519, 0, &ed, NULL) == MT_OK);
	rsa_big = load_big();
	CHECK(rsa && ed && rsa_big);
	if (!rsa || !ed || !rsa_big)
		return mt_test_done();
	fresh_zone();
	zone_add("rsa._domainkey.example.com", mt_dkim_keygen_record(rsa));
	zone_add("ed._domainkey.example.com", mt_dkim_keygen_record(ed));
	zone_add("big._domainkey.example.com", mt_dkim_keygen_record(rsa_big));

	test_round_trips();
	test_chunks();
	test_bodies();
	test_body_hash_values();
	test_field_form();
	test_tampering();
	test_refusals();
	test_key_match();
	test_key_reuse();
	test_key_threads();
	test_vectors();

	mt_dkim_keygen_free(rsa);
	mt_dkim_keygen_free(ed);
	mt_dkim_keygen_free(rsa_big);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return mt_test_done();
}
