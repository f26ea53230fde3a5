/* DKIM tag-lists, DKIM-Signature values and key records (RFC 6376 3.2,
 * 3.5, 3.6.1, 6.1.1; RFC 8301; RFC 8463). */
#include "dkim/dkim_tags.h"
#include "mt_test.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>

/* 32 and 20 octets ("1234..."), the RFC 6376 3.5 example's bh= */
#define BH256 "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="
#define BH1   "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA="

/* RFC 8463 A.2 */
#define ED_P  "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RSA_P "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR" \
	"iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC" \
	"DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3" \
	"Ip3G+2kryOTIKT+l/K4w3QIDAQAB"

static size_t off(const char *s, const char *needle)
{
	const char *p = strstr(s, needle);
	return p ? (size_t)(p - s) : (size_t)-1;
}

/* ---- tag-list ---------------------------------------------------------- */

static void tl_bad(const char *s, size_t want_off, const char *want_msg)
{
	mt_dkim_taglist tl;
	mt_dkim_perm perm = { 0 };
	bool ok = mt_dkim_taglist_parse(s, strlen(s), &tl, &perm);
	CHECK(!ok);
	CHECK(perm.failed);
	CHECK_INT(perm.offset, want_off);
	if (!strstr(perm.message, want_msg)) {
		mt_test_failed++;
		fprintf(stderr, "taglist \"%s\": message \"%s\" lacks \"%s\"\n", s, perm.message, want_msg);
	}
}

static void test_taglist(void)
{
	mt_dkim_taglist tl;
	mt_dkim_perm perm = { 0 };
	const char *s = " a = 1 ;b=x y\r\n\tz; c_9=;";
	CHECK(mt_dkim_taglist_parse(s, strlen(s), &tl, &perm));
	CHECK(!perm.failed);
	CHECK_INT(tl.count, 3);
	CHECK_INT(tl.tags[0].name_off, 1);
	CHECK_INT(tl.tags[0].value_off, 5);
	CHECK_INT(tl.tags[0].value_len, 1);
	CHECK_INT(tl.tags[0].raw_off, 4);
	CHECK_INT(tl.tags[0].raw_len, 3);          /* " 1 " */
	const mt_dkim_tag *b = mt_dkim_taglist_get(&tl, "b");
	CHECK(b && b->value_len == 7 && memcmp(b->value, "x y\r\n\tz", 7) == 0);
	const mt_dkim_tag *c = mt_dkim_taglist_get(&tl, "c_9");
	CHECK(c && c->value_len == 0);
	CHECK(mt_dkim_taglist_get(&tl, "B") == NULL);   /* names are case-sensitive */
	CHECK(mt_dkim_taglist_get(&tl, "d") == NULL);

	/* trailing ';' then FWS: allowed; bare LF + WSP taken as FWS */
	s = "a=1;\n b=2; ";
	CHECK(mt_dkim_taglist_parse(s, strlen(s), &tl, &perm));
	CHECK_INT(tl.count, 2);
	CHECK_INT(tl.tags[1].name_off, 6);

	tl_bad("", 0, "empty tag-list");
	tl_bad("  ", 2, "empty tag-list");
	tl_bad("a=1;;b=2", 4, "empty tag");
	tl_bad("a=1; b=2; a=3", 10, "appears twice (first at offset 0)");
	tl_bad("1a=1", 0, "must start with a letter");
	tl_bad("a-b=1", 0, "expected '='");
	tl_bad("a=1; bb", 5, "expected '='");
	tl_bad("a=1; b=x\x01y", 5, "invalid octet");
	tl_bad("a=1; b=\xc3\xa9", 5, "invalid octet");
	tl_bad("a=1; b=x\r\ny", 5, "line break not followed by whitespace");
	tl_bad("a=1\r\n; b=x", 0, "line break not followed by whitespace");
	tl_bad("a=1; b=x\ny", 5, "line break");

	/* a NUL inside is an invalid octet, never the end */
	{
		const char nul[] = "a=1; b=x\0y";
		CHECK(!mt_dkim_taglist_parse(nul, sizeof(nul) - 1, &tl, &perm));
	}
	/* the caps */
	{
		char *big = malloc(MT_DKIM_TAGLIST_MAX + 2);
		memset(big, 'x', MT_DKIM_TAGLIST_MAX + 1);
		big[0] = 'a';
		big[1] = '=';
		mt_dkim_perm p2 = { 0 };
		CHECK(!mt_dkim_taglist_parse(big, MT_DKIM_TAGLIST_MAX + 1, &tl, &p2));
		CHECK(strstr(p2.message, "limit") != NULL);
		CHECK(mt_dkim_taglist_parse(big, MT_DKIM_TAGLIST_MAX, &tl, &p2));
		free(big);

		char many[1024];
		size_t n = 0;
		for (int k = 0; k <= MT_DKIM_TAGS_MAX; k++)
			n += (size_t)snprintf(many + n, sizeof(many) - n, "t%d=1;", k);
		mt_dkim_perm p3 = { 0 };
		CHECK(!mt_dkim_taglist_parse(many, n, &tl, &p3));
		CHECK_INT(p3.offset, off(many, "t64="));
		CHECK(strstr(p3.message, "more than 64 tags") != NULL);
		CHECK(mt_dkim_taglist_parse(many, off(many, "t64="), &tl, &p3));
	}
}

static void test_base64(void)
{
	uint8_t out[64];
	size_t n = 99;
	CHECK(mt_dkim_base64_decode("dGVzdA==", 8, out, &n) && n == 4 && memcmp(out, "test", 4) == 0);
	CHECK(mt_dkim_base64_decode("dGV zdA\r\n =\t=", 13, out, &n) && n == 4);
	CHECK(mt_dkim_base64_decode("dGVzdA", 6, out, &n) && n == 4);   /* padding left out */
	CHECK(mt_dkim_base64_decode("", 0, out, &n) && n == 0);
	CHECK(!mt_dkim_base64_decode("dGVzdA=", 7, out, &n));   /* one '=' where two belong */
	CHECK(!mt_dkim_base64_decode("dGVzd", 5, out, &n));     /* a lone sextet */
	CHECK(!mt_dkim_base64_decode("dG=Vz", 5, out, &n));     /* data after '=' */
	CHECK(!mt_dkim_base64_decode("dGVz====", 8, out, &n));
	CHECK(!mt_dkim_base64_decode("dGVzdB==", 8, out, &n));  /* stray low bits */
	CHECK(!mt_dkim_base64_decode("dG-z", 4, out, &n));
	CHECK(!mt_dkim_base64_decode("dGVzdA==dGVz", 12, out, &n)); /* a whole quad after '=' */
	CHECK(!mt_dkim_base64_decode("dGVz\x80GVz", 8, out, &n));
	{
		/* every length 0..60 of pseudo-random octets, encoded by OpenSSL and
		 * folded with WSP and CRLF at a place moving with the length */
		uint8_t raw[60], back[60];
		unsigned char enc[81], fold[100];
		uint32_t x = 12345;
		for (size_t len = 0; len <= sizeof raw; len++) {
			size_t el, fl = 0, cut;
			for (size_t k = 0; k < len; k++) {
				x = x * 1103515245u + 12345u;
				raw[k] = (uint8_t)(x >> 16);
			}
			el = (size_t)EVP_EncodeBlock(enc, raw, (int)len);
			cut = el ? len % el : 0;
			for (size_t k = 0; k < el; k++) {
				if (k == cut) {
					memcpy(fold + fl, " \r\n\t", 4);
					fl += 4;
				}
				fold[fl++] = enc[k];
			}
			n = 999;
			CHECK(mt_dkim_base64_decode((const char *)fold, fl, back, &n));
			CHECK(n == len && memcmp(back, raw, len) == 0);
		}
	}
}

/* ---- signatures -------------------------------------------------------- */

#define SIG_OK "v=1; a=rsa-sha256; d=example.com; s=sel; h=From:To; bh=" BH256 "; b=dGVzdA=="

static mt_dkim_sig *sig_of(const char *s)
{
	mt_dkim_sig *sig = NULL;
	CHECK_INT(mt_dkim_sig_parse(s, strlen(s), &sig), MT_OK);
	return sig;
}

static void sig_bad(const char *s, const char *tag, size_t want_off, const char *want_msg)
{
	mt_dkim_sig *sig = sig_of(s);
	if (!sig)
		return;
	CHECK(sig->perm.failed);
	CHECK_STR(sig->perm.tag, tag);
	CHECK_INT(sig->perm.offset, want_off);
	if (!strstr(sig->perm.message, want_msg)) {
		mt_test_failed++;
		fprintf(stderr, "sig \"%s\": message \"%s\" lacks \"%s\"\n", s, sig->perm.message, want_msg);
	}
	mt_dkim_sig_free(sig);
}

static void test_sig_valid(void)
{
	mt_dkim_sig *sig = sig_of(SIG_OK);
	CHECK(sig && !sig->perm.failed);
	if (!sig || sig->perm.failed)
		return;
	CHECK_INT(sig->key_type, MT_DKIM_KEY_RSA);
	CHECK_INT(sig->hash, MT_DKIM_HASH_SHA256);
	CHECK(sig->alg_acceptable);
	CHECK_INT(sig->canon_header, MT_DKIM_CANON_SIMPLE);
	CHECK_INT(sig->canon_body, MT_DKIM_CANON_SIMPLE);
	CHECK_STR(sig->d.p, "example.com");
	CHECK_STR(sig->s.p, "sel");
	CHECK_STR(sig->i.p, "@example.com");   /* default "@" + d */
	CHECK(!sig->i_given);
	CHECK_INT(sig->i_domain.len, 11);
	CHECK_INT(sig->header_count, 2);
	CHECK_STR(sig->headers[0].p, "From");
	CHECK_STR(sig->headers[1].p, "To");
	CHECK(!sig->has_l && !sig->has_t && !sig->has_x);
	CHECK_INT(sig->bh_len, 32);
	CHECK(memcmp(sig->bh, "12345678901234567890123456789012", 32) == 0);
	CHECK_INT(sig->b_len, 4);
	CHECK(memcmp(sig->b, "test", 4) == 0);
	CHECK_INT(sig->b_raw_off, off(SIG_OK, "b=dGVz") + 2);
	CHECK_INT(sig->b_raw_len, 8);
	mt_dkim_sig_free(sig);

	/* c= forms */
	struct { const char *c; int h, b; } cs[] = {
		{ "simple", 0, 0 }, { "relaxed", 1, 0 }, { "relaxed/relaxed", 1, 1 },
		{ "simple/relaxed", 0, 1 }, { "relaxed/simple", 1, 0 },
	};
	for (size_t k = 0; k < sizeof(cs) / sizeof(cs[0]); k++) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%s; c=%s", SIG_OK, cs[k].c);
		sig = sig_of(buf);
		CHECK(sig && !sig->perm.failed);
		if (sig) {
			CHECK_INT(sig->canon_header, cs[k].h);
			CHECK_INT(sig->canon_body, cs[k].b);
		}
		mt_dkim_sig_free(sig);
	}

	/* ed25519 and rsa-sha1 (parsed, not acceptable), l= t= x= q= i=, unknown tags */
	sig = sig_of("v=1; a=ed25519-sha256; d=Example.COM; s=a.b-c; h=to:FROM; bh=" BH256
	             "; b=dGVzdA==; i=user.name@Sub.example.com; l=0; t=1; x=2; q=dns/txt; foo=bar baz;");
	CHECK(sig && !sig->perm.failed);
	if (sig) {
		CHECK_INT(sig->key_type, MT_DKIM_KEY_ED25519);
		CHECK(sig->alg_acceptable);
		CHECK(sig->i_given);
		CHECK_STR(sig->i.p, "user.name@Sub.example.com");
		CHECK_INT(sig->i_domain.len, 15);
		CHECK(memcmp(sig->i_domain.p, "Sub.example.com", 15) == 0);
		CHECK(sig->has_l && sig->l == 0);
		CHECK(sig->has_t && sig->t == 1 && sig->has_x && sig->x == 2);
	}
	mt_dkim_sig_free(sig);

	sig = sig_of("v=1; a=rsa-sha1; d=example.com; s=s; h=from; bh=" BH1 "; b=dGVzdA==");
	CHECK(sig && !sig->perm.failed);
	if (sig) {
		CHECK_INT(sig->hash, MT_DKIM_HASH_SHA1);
		CHECK(!sig->alg_acceptable);
		CHECK_INT(sig->bh_len, 20);
	}
	mt_dkim_sig_free(sig);

	/* l= at 2^64-1 fits, the most digits the ABNF allows (76) with leading zeros */
	sig = sig_of(SIG_OK "; l=18446744073709551615");
	CHECK(sig && !sig->perm.failed && sig->l == UINT64_MAX);
	mt_dkim_sig_free(sig);
	{
		char buf[512];
		snprintf(buf, sizeof(buf), "%s; l=%075d7", SIG_OK, 0);
		sig = sig_of(buf);
		CHECK(sig && !sig->perm.failed && sig->l == 7);
		mt_dkim_sig_free(sig);
	}

	/* b= with FWS inside and around: the raw span covers it all */
	{
		const char *s = "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=" BH256 "; b= dGV\r\n zdA\r\n =\r\n =  ; t=5";
		sig = sig_of(s);
		CHECK(sig && !sig->perm.failed);
		if (sig) {
			CHECK_INT(sig->b_len, 4);
			CHECK(memcmp(sig->b, "test", 4) == 0);
			CHECK_INT(sig->b_raw_off, off(s, "b= ") + 2);
			CHECK_INT(sig->b_raw_off + sig->b_raw_len, off(s, "; t=5"));
		}
		mt_dkim_sig_free(sig);
	}
}

static void test_sig_invalid(void)
{
	char buf[1024];

	/* missing required tags: reported at the end of the value */
	const char *req[] = { "v", "a", "b", "bh", "d", "h", "s" };
	const char *parts[] = { "v=1", "a=rsa-sha256", "b=dGVzdA==", "bh=" BH256, "d=example.com",
	                        "h=from", "s=sel" };
	for (size_t k = 0; k < 7; k++) {
		size_t n = 0;
		for (size_t j = 0; j < 7; j++)
			if (j != k)
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s; ", parts[j]);
		sig_bad(buf, req[k], n, "is missing");
	}

	sig_bad("v=2; a=rsa-sha256; d=example.com; s=sel; h=From; bh=" BH256 "; b=dGVzdA==", "v", 0, "must be 1");
	sig_bad("v=1; a=rsa-sha512; d=example.com; s=sel; h=From; bh=" BH256 "; b=dGVzdA==", "a", 5, "unknown algorithm");
	sig_bad("v=1; a=RSA-SHA256; d=example.com; s=sel; h=From; bh=" BH256 "; b=dGVzdA==", "a", 5, "unknown algorithm");
	sig_bad(SIG_OK "; c=fancy", "c", strlen(SIG_OK) + 2, "simple or relaxed");
	sig_bad(SIG_OK "; c=relaxed/", "c", strlen(SIG_OK) + 2, "simple or relaxed");
	sig_bad(SIG_OK "; c=relaxed/fancy", "c", strlen(SIG_OK) + 2, "simple or relaxed");

	/* d= needs two labels of letters, digits, hyphens */
	const char *bad_d[] = { "com", "example..com", "-x.com", "x-.com", "ex_ample.com", ".example.com",
	                        "example.com.", "exa mple.com" };
	for (size_t k = 0; k < sizeof(bad_d) / sizeof(bad_d[0]); k++) {
		snprintf(buf, sizeof(buf), "v=1; a=rsa-sha256; d=%s; s=sel; h=From; bh=" BH256 "; b=dGVzdA==", bad_d[k]);
		sig_bad(buf, "d", 19, "not a domain name");
	}
	snprintf(buf, sizeof(buf), "v=1; a=rsa-sha256; d=%.64s.com; s=sel; h=From; bh=" BH256 "; b=dGVzdA==",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	sig_bad(buf, "d", 19, "not a domain name");   /* a 64-octet label */
	sig_bad("v=1; a=rsa-sha256; d=example.com; s=se_l; h=From; bh=" BH256 "; b=dGVzdA==", "s", 34, "selector");
	sig_bad("v=1; a=rsa-sha256; d=example.com; s=; h=From; bh=" BH256 "; b=dGVzdA==", "s", 34, "selector");

	/* h= */
	sig_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=To:Subject; bh=" BH256 "; b=dGVzdA==", "h", 41,
	        "From is not signed");
	sig_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=From::To; bh=" BH256 "; b=dGVzdA==", "h", 41,
	        "empty or invalid");
	sig_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=From:; bh=" BH256 "; b=dGVzdA==", "h", 41,
	        "empty or invalid");
	sig_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=Fr om; bh=" BH256 "; b=dGVzdA==", "h", 41,
	        "empty or invalid");
	{
		mt_dkim_sig *sig = sig_of("v=1; a=rsa-sha256; d=example.com; s=sel; h=to : fRoM\r\n : subject; bh="
		                          BH256 "; b=dGVzdA==");
		CHECK(sig && !sig->perm.failed && sig->header_count == 3);
		if (sig && sig->header_count == 3)
			CHECK_STR(sig->headers[1].p, "fRoM");
		mt_dkim_sig_free(sig);

		size_t n = (size_t)snprintf(buf, sizeof(buf), "v=1; a=rsa-sha256; d=example.com; s=sel; bh=" BH256
		                            "; b=dGVzdA==; h=from");
		char *many = malloc(n + 257 * 2 + 1);
		memcpy(many, buf, n);
		for (int k = 0; k < 256; k++) {
			memcpy(many + n, ":a", 2);
			n += 2;
		}
		sig = NULL;
		CHECK_INT(mt_dkim_sig_parse(many, n, &sig), MT_OK);
		CHECK(sig && sig->perm.failed && strstr(sig->perm.message, "more than 256") != NULL);
		mt_dkim_sig_free(sig);
		sig = NULL;
		CHECK_INT(mt_dkim_sig_parse(many, n - 2, &sig), MT_OK);   /* exactly 256 names */
		CHECK(sig && !sig->perm.failed && sig->header_count == 256);
		mt_dkim_sig_free(sig);
		free(many);
	}

	/* i= */
	size_t io = strlen(SIG_OK) + 2;
	sig_bad(SIG_OK "; i=user@example.org", "i", io, "neither d=");
	sig_bad(SIG_OK "; i=user@badexample.com", "i", io, "neither d=");
	sig_bad(SIG_OK "; i=user@com", "i", io, "not a domain name");
	sig_bad(SIG_OK "; i=user.example.com", "i", io, "no '@'");
	sig_bad(SIG_OK "; i=@", "i", io, "not a domain name");
	{
		mt_dkim_sig *sig = sig_of(SIG_OK "; i=a@b@EXAMPLE.com");
		CHECK(sig && !sig->perm.failed);
		mt_dkim_sig_free(sig);
	}

	/* l= t= x= */
	sig_bad(SIG_OK "; l=18446744073709551616", "l", io, "larger than 2^64-1");
	sig_bad(SIG_OK "; l=", "l", io, "empty");
	sig_bad(SIG_OK "; l=-1", "l", io, "not a decimal");
	sig_bad(SIG_OK "; l=1 2", "l", io, "not a decimal");
	snprintf(buf, sizeof(buf), "%s; l=%076d7", SIG_OK, 0);   /* 77 digits */
	sig_bad(buf, "l", io, "too many digits");
	sig_bad(SIG_OK "; t=12x", "t", io, "not a decimal");
	sig_bad(SIG_OK "; x=99999999999999999999", "x", io, "larger than 2^64-1");
	sig_bad(SIG_OK "; t=100; x=100", "x", io + 7, "not after the timestamp");
	sig_bad(SIG_OK "; x=99; t=100", "x", io, "not after the timestamp");

	/* q= */
	sig_bad(SIG_OK "; q=dns", "q", io, "only dns/txt");
	sig_bad(SIG_OK "; q=http/well-known", "q", io, "only dns/txt");
	{
		mt_dkim_sig *sig = sig_of(SIG_OK "; q=foo/bar:dns/txt");
		CHECK(sig && !sig->perm.failed);
		mt_dkim_sig_free(sig);
	}

	/* bh= and b= */
	/* the offset of the offending tag: found in the input */
#define SIG_BAD_AT(str, tag, needle, msg) sig_bad(str, tag, off(str, needle), msg)
	SIG_BAD_AT("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=" BH1 "; b=dGVzdA==", "bh", "bh=",
	           "20 octets, SHA-256 gives 32");
	SIG_BAD_AT("v=1; a=rsa-sha1; d=example.com; s=sel; h=From; bh=" BH256 "; b=dGVzdA==", "bh", "bh=",
	           "32 octets, SHA-1 gives 20");
	SIG_BAD_AT("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=MTIz*DU2; b=dGVzdA==", "bh", "bh=",
	           "not valid base64");
	SIG_BAD_AT("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=" BH256 "; b=dGVzd", "b", "b=dGVzd",
	           "not valid base64");
	{
		const char *e = "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=" BH256 "; b=";
		sig_bad(e, "b", strlen(e) - 2, "empty");
	}
	/* duplicate tag: offset of the second one */
	sig_bad(SIG_OK "; d=example.com", "d", io, "appears twice");
	/* a tag-list error with an empty tag name */
	sig_bad(SIG_OK ";;", "", strlen(SIG_OK) + 1, "empty tag");

	/* the first error sticks; later tags are not looked at */
	sig_bad("v=3; a=nope; d=example.com; s=sel; h=From; bh=" BH256 "; b=dGVzdA==", "v", 0, "version");

	/* NULL with a length is a bad argument; empty is a permerror */
	mt_dkim_sig *sig = NULL;
	CHECK_INT(mt_dkim_sig_parse(NULL, 3, &sig), MT_EINVAL);
	CHECK_INT(mt_dkim_sig_parse(NULL, 0, &sig), MT_OK);
	CHECK(sig && sig->perm.failed);
	mt_dkim_sig_free(sig);
}

/* RFC 6376 3.5's informative example (its b= is cut short in the RFC;
 * the part printed is whole base64 groups) and RFC 8463 A.3's two. */
static void test_sig_rfc(void)
{
	const char *ex = " v=1; a=rsa-sha256; d=example.net; s=brisbane;\r\n"
		"   c=simple; q=dns/txt; i=@eng.example.net;\r\n"
		"   t=1117574938; x=1118006938;\r\n"
		"   h=from:to:subject:date;\r\n"
		"   z=From:foo@eng.example.net|To:joe@example.com|\r\n"
		"    Subject:demo=20run|Date:July=205,=202005=203:44:08=20PM=20-0700;\r\n"
		"   bh=MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=;\r\n"
		"   b=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR";
	mt_dkim_sig *sig = sig_of(ex);
	CHECK(sig && !sig->perm.failed);
	if (sig && !sig->perm.failed) {
		CHECK_STR(sig->d.p, "example.net");
		CHECK_STR(sig->s.p, "brisbane");
		CHECK_STR(sig->i.p, "@eng.example.net");
		CHECK_INT(sig->canon_header, MT_DKIM_CANON_SIMPLE);
		CHECK_INT(sig->canon_body, MT_DKIM_CANON_SIMPLE);
		CHECK(sig->t == 1117574938 && sig->x == 1118006938);
		CHECK_INT(sig->header_count, 4);
		CHECK_STR(sig->headers[3].p, "date");
		CHECK_INT(sig->copied_count, 4);
		if (sig->copied_count == 4) {
			CHECK_STR(sig->copied[0].p, "From:foo@eng.example.net");
			CHECK_STR(sig->copied[2].p, "Subject:demo=20run");
		}
		CHECK_INT(sig->b_len, 48);   /* 64 base64 characters */
		CHECK_INT(sig->b_raw_off, off(ex, "b=dzd") + 2);
		CHECK_INT(sig->b_raw_len, strlen(ex) - sig->b_raw_off);
	}
	mt_dkim_sig_free(sig);

	const char *ed = " v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
		" d=football.example.com; i=@football.example.com;\r\n"
		" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
		" subject : date : message-id : from : subject : date;\r\n"
		" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
		" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
		" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";
	sig = sig_of(ed);
	CHECK(sig && !sig->perm.failed);
	if (sig && !sig->perm.failed) {
		CHECK_INT(sig->key_type, MT_DKIM_KEY_ED25519);
		CHECK_INT(sig->canon_header, MT_DKIM_CANON_RELAXED);
		CHECK_INT(sig->canon_body, MT_DKIM_CANON_RELAXED);
		CHECK_INT(sig->header_count, 8);
		CHECK_STR(sig->headers[4].p, "message-id");
		CHECK_INT(sig->b_len, 64);   /* an Ed25519 signature */
		CHECK_INT(sig->b[0], 0xfe);
		CHECK_INT(sig->b_raw_off, off(ed, "b=/gC") + 2);
		CHECK_INT(sig->b_raw_off + sig->b_raw_len, strlen(ed));
	}
	mt_dkim_sig_free(sig);

	const char *rsa = " v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
		" d=football.example.com; i=@football.example.com;\r\n"
		" q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
		" date : message-id : from : subject : date;\r\n"
		" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
		" b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
		" DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
		" dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=";
	sig = sig_of(rsa);
	CHECK(sig && !sig->perm.failed);
	if (sig && !sig->perm.failed) {
		CHECK_INT(sig->key_type, MT_DKIM_KEY_RSA);
		CHECK_INT(sig->b_len, 128);   /* a 1024-bit RSA signature */
		CHECK_STR(sig->s.p, "test");
	}
	mt_dkim_sig_free(sig);
}

/* ---- keys -------------------------------------------------------------- */

static mt_dkim_key *key_of(const char *s)
{
	mt_dkim_key *key = NULL;
	CHECK_INT(mt_dkim_key_parse(s, strlen(s), &key), MT_OK);
	return key;
}

static void key_bad(const char *s, const char *tag, size_t want_off, const char *want_msg)
{
	mt_dkim_key *key = key_of(s);
	if (!key)
		return;
	CHECK(key->perm.failed);
	CHECK_STR(key->perm.tag, tag);
	CHECK_INT(key->perm.offset, want_off);
	if (!strstr(key->perm.message, want_msg)) {
		mt_test_failed++;
		fprintf(stderr, "key \"%.60s\": message \"%s\" lacks \"%s\"\n", s, key->perm.message, want_msg);
	}
	mt_dkim_key_free(key);
}

/* base64 of the DER of pk as a SubjectPublicKeyInfo (bare: PKCS#1) */
static char *b64_of_der(const unsigned char *der, int n)
{
	char *out = malloc((size_t)n / 3 * 4 + 8);
	EVP_EncodeBlock((unsigned char *)out, der, n);
	return out;
}

static char *spki_b64(EVP_PKEY *pk)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pk, &der);
	char *r = b64_of_der(der, n);
	OPENSSL_free(der);
	return r;
}

static void test_key_rfc8463(void)
{
	mt_dkim_key *key = key_of("v=DKIM1; k=ed25519; p=" ED_P);
	CHECK(key && !key->perm.failed);
	if (key) {
		CHECK_INT(key->key_type, MT_DKIM_KEY_ED25519);
		CHECK(key->acceptable);
		CHECK_INT(key->p_len, 32);
		CHECK(key->pkey != NULL);
		CHECK(mt_dkim_key_allows_hash(key, MT_DKIM_HASH_SHA256));
		CHECK(key->pkey && EVP_PKEY_get_base_id(key->pkey) == EVP_PKEY_ED25519);
		CHECK(key->service_email && !key->testing && !key->strict && !key->revoked);
	}
	mt_dkim_key_free(key);

	key = key_of("v=DKIM1; k=rsa; p=" RSA_P);
	CHECK(key && !key->perm.failed);
	if (key) {
		CHECK_INT(key->key_type, MT_DKIM_KEY_RSA);
		CHECK_INT(key->bits, 1024);
		CHECK(key->acceptable && !key->rsa_bare);
	}
	mt_dkim_key_free(key);
}

static void test_key_tags(void)
{
	mt_dkim_key *key;

	/* defaults: no v=, k=rsa, h= all, s=*, no flags */
	key = key_of("p=" RSA_P);
	CHECK(key && !key->perm.failed && key->key_type == MT_DKIM_KEY_RSA && !key->has_h);
	mt_dkim_key_free(key);

	key = key_of("v=DKIM1; h=sha256 : foo; k=RSA; n=a note =3B here; s=email:tlsrpt; t=y:s:z; p=" RSA_P ";");
	CHECK(key && !key->perm.failed);
	if (key) {
		CHECK(key->has_h && key->h_sha256 && !key->h_sha1);
		CHECK(mt_dkim_key_allows_hash(key, MT_DKIM_HASH_SHA256));
		CHECK(!mt_dkim_key_allows_hash(key, MT_DKIM_HASH_SHA1));
		CHECK(key->testing && key->strict && key->service_email);
		CHECK_STR(key->notes, "a note =3B here");
	}
	mt_dkim_key_free(key);

	key = key_of("h=sha1; s=*; p=" RSA_P);
	CHECK(key && !key->perm.failed && !mt_dkim_key_allows_hash(key, MT_DKIM_HASH_SHA256) &&
	      mt_dkim_key_allows_hash(key, MT_DKIM_HASH_SHA1));
	mt_dkim_key_free(key);
	/* only unknown hashes: the key allows neither */
	key = key_of("h=sha512; p=" RSA_P);
	CHECK(key && !key->perm.failed && !mt_dkim_key_allows_hash(key, MT_DKIM_HASH_SHA256));
	mt_dkim_key_free(key);

	key_bad("k=rsa; v=DKIM1; p=" RSA_P, "v", 7, "must be the first tag");
	key_bad("v=DKIM2; p=" RSA_P, "v", 0, "must be DKIM1");
	key_bad("v=dkim1; p=" RSA_P, "v", 0, "must be DKIM1");
	key_bad("v=DKIM1; k=dsa; p=" RSA_P, "k", 9, "unknown key type");
	key_bad("v=DKIM1; s=tlsrpt; p=" RSA_P, "s", 9, "not for email");
	key_bad("v=DKIM1; k=rsa", "p", 14, "required tag \"p\" is missing");
	key_bad("v=DKIM1; p=MIGf!MA0G", "p", 9, "not valid base64");
	key_bad("v=DKIM1; p=MIGfMA0G", "p", 9, "not a DER");
	key_bad("v=DKIM1; p=" RSA_P "; p=" RSA_P, "p", 13 + strlen(RSA_P), "appears twice");
	key_bad("v=DKIM1; k=ed25519; p=" RSA_P, "p", 20, "32 octets, this one 162");
	key_bad("v=DKIM1; k=ed25519; p=dGVzdA==", "p", 20, "32 octets, this one 4");

	/* revoked */
	key = key_of("v=DKIM1; p=");
	CHECK(key && key->perm.failed && key->revoked && key->pkey == NULL);
	if (key)
		CHECK_INT(key->perm.offset, 9);
	mt_dkim_key_free(key);
	key = key_of("v=DKIM1; k=rsa; p= ; t=y");
	CHECK(key && key->perm.failed && key->revoked);
	mt_dkim_key_free(key);
}

static void test_key_der(void)
{
	/* the RFC 8463 key as a bare RSAPublicKey: the SPKI's BIT STRING holds
	 * it after 22 octets (SEQUENCE, AlgorithmIdentifier, BIT STRING header) */
	uint8_t der[256];
	size_t n = 0;
	CHECK(mt_dkim_base64_decode(RSA_P, strlen(RSA_P), der, &n));
	CHECK_INT(n, 162);
	CHECK_INT(der[22], 0x30);
	char *bare = b64_of_der(der + 22, (int)n - 22);
	char rec[512];
	snprintf(rec, sizeof(rec), "v=DKIM1; p=%s", bare);
	mt_dkim_key *key = key_of(rec);
	CHECK(key && !key->perm.failed && key->rsa_bare && key->bits == 1024 && key->acceptable);
	mt_dkim_key_free(key);
	free(bare);

	/* trailing garbage after the DER is not a key */
	char *junk = b64_of_der((const unsigned char *)"\x00", 1);
	der[n] = 0;
	char *padded = b64_of_der(der, (int)n + 1);
	snprintf(rec, sizeof(rec), "p=%s", padded);
	key_bad(rec, "p", 0, "not a DER");
	free(padded);
	free(junk);

	/* a 512-bit RSA key: decoded, size known, not acceptable */
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	CHECK(small != NULL);
	if (small) {
		char *b = spki_b64(small);
		char *r = malloc(strlen(b) + 32);
		snprintf(r, strlen(b) + 32, "v=DKIM1; k=rsa; p=%s", b);
		key = key_of(r);
		CHECK(key && key->perm.failed && !key->acceptable && key->bits == 512 && key->pkey);
		if (key) {
			CHECK_STR(key->perm.tag, "p");
			CHECK_INT(key->perm.offset, 16);
			CHECK(strstr(key->perm.message, "512 bits, less than 1024") != NULL);
		}
		mt_dkim_key_free(key);
		free(r);
		free(b);
		EVP_PKEY_free(small);
	}

	/* k=rsa with an Ed25519 SubjectPublicKeyInfo */
	uint8_t raw[32];
	CHECK(mt_dkim_base64_decode(ED_P, strlen(ED_P), raw, &n));
	EVP_PKEY *ed = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
	if (ed) {
		char *b = spki_b64(ed);
		snprintf(rec, sizeof(rec), "k=rsa; p=%s", b);
		key_bad(rec, "p", 7, "not an RSA key");
		/* and k=ed25519 wants the 32 raw octets, not an SPKI (44 octets) */
		snprintf(rec, sizeof(rec), "k=ed25519; p=%s", b);
		key_bad(rec, "p", 11, "this one 44");
		free(b);
		EVP_PKEY_free(ed);
	}
}

/* a key against a signature: k= vs a=, h= vs the hash, t=s vs i= */
static void usable(const char *keyrec, const char *sigv, bool want, const char *tag, size_t want_off,
                   const char *want_msg)
{
	mt_dkim_key *key = key_of(keyrec);
	mt_dkim_sig *sig = sig_of(sigv);
	mt_dkim_perm perm = { 0 };
	if (key && sig) {
		CHECK(!sig->perm.failed);
		bool got = mt_dkim_key_usable_for(key, sig, &perm);
		CHECK_INT(got, want);
		CHECK_INT(perm.failed, !want);
		if (!want) {
			CHECK_STR(perm.tag, tag);
			CHECK_INT(perm.offset, want_off);
			if (!strstr(perm.message, want_msg)) {
				mt_test_failed++;
				fprintf(stderr, "usable \"%.40s\": message \"%s\" lacks \"%s\"\n", keyrec,
				        perm.message, want_msg);
			}
		}
	}
	mt_dkim_key_free(key);
	mt_dkim_sig_free(sig);
}

#define SIG_ED "v=1; a=ed25519-sha256; d=example.com; s=sel; h=From; bh=" BH256 "; b=dGVzdA=="
#define SIG_SHA1 "v=1; a=rsa-sha1; d=example.com; s=sel; h=From; bh=" BH1 "; b=dGVzdA=="

static void test_key_usable(void)
{
	const char *rsa = "v=DKIM1; p=" RSA_P;
	usable(rsa, SIG_OK, true, NULL, 0, NULL);
	usable(rsa, SIG_SHA1, true, NULL, 0, NULL);   /* the key allows it; a= is judged elsewhere */
	usable(rsa, SIG_ED, false, "k", strlen(rsa), "type is rsa (no k=, so the default), the signature's a= needs ed25519");
	usable("v=DKIM1; k=ed25519; p=" ED_P, SIG_ED, true, NULL, 0, NULL);
	usable("v=DKIM1; k=ed25519; p=" ED_P, SIG_OK, false, "k", 9, "type is ed25519, the signature's a= needs rsa");
	usable("v=DKIM1; h=sha1; p=" RSA_P, SIG_OK, false, "h", 9, "excludes sha256");
	usable("v=DKIM1; h=sha256; p=" RSA_P, SIG_SHA1, false, "h", 9, "excludes sha1");
	usable("v=DKIM1; h=sha1:sha256; p=" RSA_P, SIG_SHA1, true, NULL, 0, NULL);
	usable("v=DKIM1; t=s; p=" RSA_P, SIG_OK "; i=@example.com", true, NULL, 0, NULL);
	usable("v=DKIM1; t=s; p=" RSA_P, SIG_OK "; i=joe@EXAMPLE.com", true, NULL, 0, NULL);
	usable("v=DKIM1; t=s; p=" RSA_P, SIG_OK "; i=joe@mail.example.com", false, "t", 9, "t=s forbids");
	usable("v=DKIM1; t=y; p=" RSA_P, SIG_OK "; i=joe@mail.example.com", true, NULL, 0, NULL);
	/* a bad key: its own reason */
	usable("v=DKIM1; p=", SIG_OK, false, "p", 9, "revoked");
}

/* ---- vectors in ../shared/vectors (absent from a user's clone) ---------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap + 1);
	size_t r;
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(b, cap * 2 + 1);
			if (!nb) { free(b); b = NULL; break; }
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (b)
		b[n] = '\0';
	*len = n;
	return b;
}

struct key_expect { const char *name; int ok; int type; int bits; const char *perm_tag; };

static void check_dns_file(const char *dir, const char *file, const struct key_expect *ex, size_t nex)
{
	char path[1024];
	size_t len, seen = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	char *text = slurp(path, &len);
	CHECK(text != NULL);
	if (!text)
		return;
	char *line = text;
	while (line < text + len) {
		char *nl = memchr(line, '\n', (size_t)(text + len - line));
		size_t ll = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
		char *sp = memchr(line, ' ', ll);
		if (sp) {
			size_t nl2 = (size_t)(sp - line);
			for (size_t k = 0; k < nex; k++) {
				if (strlen(ex[k].name) != nl2 || memcmp(ex[k].name, line, nl2) != 0)
					continue;
				mt_dkim_key *key = NULL;
				CHECK_INT(mt_dkim_key_parse(sp + 1, ll - nl2 - 1, &key), MT_OK);
				if (!key)
					continue;
				seen++;
				if (ex[k].ok != !key->perm.failed)
					fprintf(stderr, "%s %s: %s\n", file, ex[k].name, key->perm.message);
				CHECK_INT(!key->perm.failed, ex[k].ok);
				if (ex[k].ok) {
					CHECK_INT(key->key_type, ex[k].type);
					CHECK_INT(key->bits, ex[k].bits);
				} else {
					CHECK_STR(key->perm.tag, ex[k].perm_tag);
				}
				mt_dkim_key_free(key);
			}
		}
		line += ll + 1;
	}
	CHECK_INT(seen, nex);
	free(text);
}

static void test_vectors(void)
{
	const char *dir = mt_test_vectors_dir(MT_SHARED_VECTORS_DIR);
	if (!dir)
		return;
	static const struct key_expect r8463[] = {
		{ "brisbane._domainkey.football.example.com", 1, MT_DKIM_KEY_ED25519, 256, NULL },
		{ "test._domainkey.football.example.com", 1, MT_DKIM_KEY_RSA, 1024, NULL },
	};
	check_dns_file(dir, "rfc8463/dns.txt", r8463, 2);
	static const struct key_expect r6376[] = {
		{ "brisbane._domainkey.example.com", 1, MT_DKIM_KEY_RSA, 1024, NULL },
		{ "brisbane._domainkey.example.org", 1, MT_DKIM_KEY_RSA, 1024, NULL },
	};
	check_dns_file(dir, "rfc6376/dns.txt", r6376, 2);
	/* OpenDKIM's key table (README: the selectors and what each tests) */
	static const struct key_expect od[] = {
		{ "test._domainkey.example.com", 1, MT_DKIM_KEY_RSA, 1024, NULL },
		{ "test._domainkey.sendmail.com", 1, MT_DKIM_KEY_RSA, 1024, NULL },
		{ "sha256only._domainkey.example.com", 1, MT_DKIM_KEY_RSA, 1024, NULL },
		{ "badh._domainkey.example.com", 1, MT_DKIM_KEY_RSA, 1024, NULL },   /* h=sha0: allows nothing */
		{ "nok._domainkey.example.com", 1, MT_DKIM_KEY_RSA, 1024, NULL },
		{ "badv._domainkey.example.com", 0, 0, 0, "v" },
		{ "badk._domainkey.example.com", 0, 0, 0, "k" },
		{ "emptyp._domainkey.example.com", 0, 0, 0, "p" },
		{ "nop._domainkey.example.com", 0, 0, 0, "p" },
		{ "corruptp._domainkey.example.com", 0, 0, 0, "p" },
	};
	check_dns_file(dir, "opendkim/dns.txt", od, sizeof(od) / sizeof(od[0]));
	{
		const char *rec = "v=DKIM1; k=rsa; t=y:s; h=sha0; p=" RSA_P;
		mt_dkim_key *key = key_of(rec);
		CHECK(key && !mt_dkim_key_allows_hash(key, MT_DKIM_HASH_SHA256) &&
		      !mt_dkim_key_allows_hash(key, MT_DKIM_HASH_SHA1));
		mt_dkim_key_free(key);
	}
	/* OpenDKIM's 512-bit key: its public half is too small */
	char path[1024];
	snprintf(path, sizeof(path), "%s/opendkim/small-key.pem", dir);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		CHECK(pk != NULL);
		if (pk) {
			char *b = spki_b64(pk);
			char rec[1024];
			snprintf(rec, sizeof(rec), "v=DKIM1; p=%s", b);
			mt_dkim_key *key = key_of(rec);
			CHECK(key && key->perm.failed && key->bits == 512 && !key->acceptable);
			mt_dkim_key_free(key);
			free(b);
			EVP_PKEY_free(pk);
		}
	}
}

int main(void)
{
	test_taglist();
	test_base64();
	test_sig_valid();
	test_sig_invalid();
	test_sig_rfc();
	test_key_rfc8463();
	test_key_tags();
	test_key_der();
	test_key_usable();
	test_vectors();
	return mt_test_done();
}
