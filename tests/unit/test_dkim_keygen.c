/* DKIM key generation and publishing (dkim_key.h): generated keys parse
 * back with the strict key-record parser (RFC 6376 3.6.1, RFC 8463 4) and
 * match their private key; records of the RFC 8463 A.1 keys equal A.2's. */
#include <mailtrust/dkim_key.h>

#include "dkim/dkim_tags.h"
#include "mt_test.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

/* RFC 8463 A.1 and A.2 */
#define RFC8463_ED_SECRET "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
#define RFC8463_ED_RECORD "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
static const char rfc8463_rsa_pem[] =
	"-----BEGIN RSA PRIVATE KEY-----\n"
	"MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
	"Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
	"KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
	"AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
	"6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
	"zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
	"6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
	"uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
	"WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
	"WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
	"licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
	"o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
	"uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
	"-----END RSA PRIVATE KEY-----\n";
#define RFC8463_RSA_RECORD "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR" \
	"iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC" \
	"DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3" \
	"Ip3G+2kryOTIKT+l/K4w3QIDAQAB"

/* Sign a buffer with the PEM private key, verify with pub (EVP_PKEY *). */
static bool sign_verify(const char *pem, void *pub, bool rsa)
{
	static const unsigned char msg[] = "mailtrust keygen self-test";
	unsigned char sig[2048];
	size_t sig_len = sizeof sig;
	bool ok = false;
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *priv = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	EVP_MD_CTX *sctx = EVP_MD_CTX_new(), *vctx = EVP_MD_CTX_new();
	const EVP_MD *md = rsa ? EVP_sha256() : NULL;

	if (!priv || !sctx || !vctx)
		goto out;
	if (EVP_DigestSignInit(sctx, NULL, md, NULL, priv) != 1 ||
	    EVP_DigestSign(sctx, sig, &sig_len, msg, sizeof msg - 1) != 1)
		goto out;
	if (EVP_DigestVerifyInit(vctx, NULL, md, NULL, (EVP_PKEY *)pub) != 1)
		goto out;
	ok = EVP_DigestVerify(vctx, sig, sig_len, msg, sizeof msg - 1) == 1;
	/* and a changed message does not verify */
	if (ok) {
		EVP_MD_CTX_free(vctx);
		vctx = EVP_MD_CTX_new();
		if (!vctx || EVP_DigestVerifyInit(vctx, NULL, md, NULL, (EVP_PKEY *)pub) != 1 ||
		    EVP_DigestVerify(vctx, sig, sig_len, msg, sizeof msg - 2) == 1)
			ok = false;
	}
out:
	EVP_MD_CTX_free(sctx);
	EVP_MD_CTX_free(vctx);
	EVP_PKEY_free(priv);
	BIO_free(bio);
	return ok;
}

/* Strings of at most 255 octets that join to the record; all but the last
 * full. */
static void check_split(const char *record)
{
	char **s = NULL;
	size_t n = 0, i, total = 0, len = strlen(record);

	CHECK_INT(mt_dkim_record_split(record, len, &s, &n), MT_OK);
	CHECK_INT(n, len ? (len + 254) / 255 : 1);
	for (i = 0; i < n; i++) {
		size_t l = strlen(s[i]);
		CHECK(l <= 255);
		if (i + 1 < n)
			CHECK_INT(l, 255);
		CHECK(total + l <= len && memcmp(record + total, s[i], l) == 0);
		total += l;
	}
	CHECK_INT(total, len);
	mt_dkim_record_strings_free(s, n);
}

/* The expected zone line, built here from the record: 255-octet pieces. */
static void check_zone_line(const char *sel, const char *dom, const char *record)
{
	char *line = NULL, want[8192];
	size_t len = strlen(record), off, w;
	mt_error err = { 0 };

	CHECK_INT(mt_dkim_record_zone_line(sel, dom, record, len, &line, &err), MT_OK);
	w = (size_t)snprintf(want, sizeof want, "%s._domainkey.%s. IN TXT (", sel, dom);
	for (off = 0; off < len; off += 255) {
		size_t l = len - off < 255 ? len - off : 255;
		w += (size_t)snprintf(want + w, sizeof want - w, " \"%.*s\"", (int)l, record + off);
	}
	snprintf(want + w, sizeof want - w, " )");
	CHECK_STR(line, want);
	mt_free(line);
}

static void check_generated(mt_dkim_keygen_type type, unsigned bits, unsigned want_bits)
{
	mt_dkim_keygen *k = NULL, *k2 = NULL;
	mt_dkim_key *key = NULL;
	mt_error err = { 0 };
	const char *rec;
	const char *prefix = type == MT_DKIM_KEYGEN_RSA ? "v=DKIM1; k=rsa; p=" : "v=DKIM1; k=ed25519; p=";

	CHECK_INT(mt_dkim_keygen_generate(type, bits, &k, &err), MT_OK);
	if (!k) {
		fprintf(stderr, "generate: %s\n", err.message);
		return;
	}
	CHECK_INT(mt_dkim_keygen_get_type(k), type);
	CHECK_INT(mt_dkim_keygen_bits(k), want_bits);
	CHECK(mt_dkim_keygen_warning(k) == NULL);
	/* PKCS#8 */
	CHECK(strncmp(mt_dkim_keygen_pem(k), "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	CHECK(strstr(mt_dkim_keygen_pem(k), "-----END PRIVATE KEY-----\n") != NULL);
	rec = mt_dkim_keygen_record(k);
	CHECK(strncmp(rec, prefix, strlen(prefix)) == 0);

	/* the strict parser takes the record */
	CHECK_INT(mt_dkim_key_parse(rec, strlen(rec), &key), MT_OK);
	if (key) {
		CHECK(!key->perm.failed);
		if (key->perm.failed)
			fprintf(stderr, "key parse: %s\n", key->perm.message);
		CHECK(key->k_given);
		CHECK_INT(key->key_type, type == MT_DKIM_KEYGEN_RSA ? MT_DKIM_KEY_RSA : MT_DKIM_KEY_ED25519);
		CHECK(!key->revoked);
		CHECK(key->acceptable);
		CHECK(!key->rsa_bare);
		CHECK_INT(key->p_len, type == MT_DKIM_KEYGEN_RSA ? key->p_len : 32);
		if (type == MT_DKIM_KEYGEN_RSA)
			CHECK_INT(key->bits, want_bits);
		CHECK(key->pkey != NULL);
		if (key->pkey)
			CHECK(sign_verify(mt_dkim_keygen_pem(k), key->pkey, type == MT_DKIM_KEYGEN_RSA));
	}
	mt_dkim_key_free(key);

	check_split(rec);
	check_zone_line("sel2026", "example.com", rec);

	/* the record derived from the PEM is the same */
	CHECK_INT(mt_dkim_keygen_from_pem(mt_dkim_keygen_pem(k), strlen(mt_dkim_keygen_pem(k)), &k2, &err),
	          MT_OK);
	if (k2) {
		CHECK_STR(mt_dkim_keygen_record(k2), rec);
		CHECK_INT(mt_dkim_keygen_bits(k2), want_bits);
		CHECK_STR(mt_dkim_keygen_pem(k2), mt_dkim_keygen_pem(k));
	}
	mt_dkim_keygen_free(k2);
	mt_dkim_keygen_free(k);
}

static void test_generate(void)
{
	mt_dkim_keygen *k = NULL;
	mt_error err = { 0 };

	check_generated(MT_DKIM_KEYGEN_RSA, 0, 2048);
	check_generated(MT_DKIM_KEYGEN_RSA, 1024, 1024);
	check_generated(MT_DKIM_KEYGEN_ED25519, 0, 256);
	check_generated(MT_DKIM_KEYGEN_ED25519, 256, 256);

	/* RFC 8301 3.2: below 1024 refused, with the reason */
	CHECK_INT(mt_dkim_keygen_generate(MT_DKIM_KEYGEN_RSA, 512, &k, &err), MT_EINVAL);
	CHECK(k == NULL);
	CHECK(strstr(err.message, "512") && strstr(err.message, "1024") && strstr(err.message, "8301"));
	CHECK_INT(mt_dkim_keygen_generate(MT_DKIM_KEYGEN_RSA, 1023, &k, &err), MT_EINVAL);
	CHECK_INT(mt_dkim_keygen_generate(MT_DKIM_KEYGEN_RSA, 8193, &k, &err), MT_EINVAL);
	CHECK(strstr(err.message, "8192") != NULL);
	CHECK_INT(mt_dkim_keygen_generate(MT_DKIM_KEYGEN_ED25519, 2048, &k, &err), MT_EINVAL);
	CHECK(strstr(err.message, "ed25519") != NULL);
	CHECK_INT(mt_dkim_keygen_generate((mt_dkim_keygen_type)7, 0, &k, &err), MT_EINVAL);
	CHECK_INT(mt_dkim_keygen_generate(MT_DKIM_KEYGEN_RSA, 2048, NULL, &err), MT_EINVAL);
	CHECK(k == NULL);
	CHECK_STR(mt_dkim_keygen_type_name(MT_DKIM_KEYGEN_RSA), "rsa");
	CHECK_STR(mt_dkim_keygen_type_name(MT_DKIM_KEYGEN_ED25519), "ed25519");
}

/* An RSA key above 4096 bits: a warning about TXT sizes.  A 4104-bit test
 * key (made once with openssl genpkey, tests/data/dkim/) rather than
 * generating one here, which takes seconds. */
static void test_warning(void)
{
	FILE *fp = fopen("dkim/keygen-rsa4104.pem", "r");
	char pem[8192];
	size_t len = 0;
	mt_dkim_keygen *k = NULL;
	mt_error err = { 0 };

	CHECK(fp != NULL);
	if (!fp)
		return;
	len = fread(pem, 1, sizeof pem, fp);
	fclose(fp);
	CHECK(len > 0 && len < sizeof pem);
	CHECK_INT(mt_dkim_keygen_from_pem(pem, len, &k, &err), MT_OK);
	if (k) {
		const char *w = mt_dkim_keygen_warning(k);
		mt_dkim_key *key = NULL;

		CHECK_INT(mt_dkim_keygen_bits(k), 4104);
		CHECK(w && strstr(w, "TXT") && strstr(w, "4096"));
		/* over 510 octets: three strings */
		check_split(mt_dkim_keygen_record(k));
		CHECK(strlen(mt_dkim_keygen_record(k)) > 2 * 255);
		CHECK_INT(mt_dkim_key_parse(mt_dkim_keygen_record(k), strlen(mt_dkim_keygen_record(k)), &key),
		          MT_OK);
		if (key) {
			CHECK(!key->perm.failed);
			CHECK_INT(key->bits, 4104);
			CHECK(key->pkey && sign_verify(mt_dkim_keygen_pem(k), key->pkey, true));
		}
		mt_dkim_key_free(key);
	}
	mt_dkim_keygen_free(k);
}

static void test_rfc8463(void)
{
	mt_dkim_keygen *k = NULL;
	mt_error err = { 0 };
	unsigned char seed[40];
	EVP_PKEY *pk;
	BIO *bio;
	char *mem = NULL;
	long len;
	char *line = NULL;

	/* the RSA key of A.1 (traditional PEM) gives A.2's record */
	CHECK_INT(mt_dkim_keygen_from_pem(rfc8463_rsa_pem, strlen(rfc8463_rsa_pem), &k, &err), MT_OK);
	if (k) {
		CHECK_STR(mt_dkim_keygen_record(k), RFC8463_RSA_RECORD);
		CHECK_INT(mt_dkim_keygen_bits(k), 1024);
		CHECK(strncmp(mt_dkim_keygen_pem(k), "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
		CHECK_INT(mt_dkim_record_zone_line("test", "football.example.com.", mt_dkim_keygen_record(k),
		                                   strlen(mt_dkim_keygen_record(k)), &line, &err), MT_OK);
		/* 18 + 216 = 234 octets: one string (A.2 splits it in four, as
		 * a zone file may; verifiers join them) */
		CHECK_INT(strlen(RFC8463_RSA_RECORD), 234);
		CHECK_STR(line, "test._domainkey.football.example.com. IN TXT ( \"" RFC8463_RSA_RECORD "\" )");
		mt_free(line);
	}
	mt_dkim_keygen_free(k);
	k = NULL;

	/* the ed25519 secret of A.1 gives A.2's record */
	CHECK_INT(EVP_DecodeBlock(seed, (const unsigned char *)RFC8463_ED_SECRET,
	                          (int)strlen(RFC8463_ED_SECRET)), 33); /* 32 + one '=' pad */
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	bio = BIO_new(BIO_s_mem());
	CHECK(pk && bio && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1);
	len = BIO_get_mem_data(bio, &mem);
	CHECK_INT(mt_dkim_keygen_from_pem(mem, (size_t)len, &k, &err), MT_OK);
	if (k) {
		CHECK_STR(mt_dkim_keygen_record(k), RFC8463_ED_RECORD);
		CHECK_INT(mt_dkim_keygen_bits(k), 256);
		CHECK_INT(mt_dkim_record_zone_line("brisbane", "football.example.com",
		                                   mt_dkim_keygen_record(k),
		                                   strlen(mt_dkim_keygen_record(k)), &line, &err), MT_OK);
		CHECK_STR(line, "brisbane._domainkey.football.example.com. IN TXT ( \"" RFC8463_ED_RECORD "\" )");
		mt_free(line);
	}
	mt_dkim_keygen_free(k);
	BIO_free(bio);
	EVP_PKEY_free(pk);
}

static void test_from_pem_errors(void)
{
	mt_dkim_keygen *k = NULL;
	mt_error err = { 0 };
	EVP_PKEY *pk;
	BIO *bio;
	char *mem = NULL;
	long len;

	CHECK_INT(mt_dkim_keygen_from_pem("", 0, &k, &err), MT_ESYNTAX);
	CHECK_INT(mt_dkim_keygen_from_pem("hello", 5, &k, &err), MT_ESYNTAX);
	CHECK(strstr(err.message, "BEGIN") != NULL);
	/* a truncated PEM */
	CHECK_INT(mt_dkim_keygen_from_pem(rfc8463_rsa_pem, 200, &k, &err), MT_ESYNTAX);
	/* a public key is not a private key */
	CHECK_INT(mt_dkim_keygen_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
	                                  58, &k, &err), MT_ESYNTAX);
	CHECK(k == NULL);

	/* an encrypted key: refused, never a passphrase prompt */
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	bio = BIO_new(BIO_s_mem());
	CHECK(pk && bio && PEM_write_bio_PKCS8PrivateKey(bio, pk, EVP_aes_128_cbc(), NULL, 0, NULL,
	                                                  (void *)"secret") == 1);
	len = BIO_get_mem_data(bio, &mem);
	CHECK_INT(mt_dkim_keygen_from_pem(mem, (size_t)len, &k, &err), MT_EINVAL);
	CHECK(strstr(err.message, "encrypted") != NULL);
	CHECK(k == NULL);
	BIO_free(bio);
	EVP_PKEY_free(pk);

	/* RSA below 1024 bits (RFC 8301) and a key of another type */
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	bio = BIO_new(BIO_s_mem());
	CHECK(pk && bio && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1);
	len = BIO_get_mem_data(bio, &mem);
	CHECK_INT(mt_dkim_keygen_from_pem(mem, (size_t)len, &k, &err), MT_EINVAL);
	CHECK(strstr(err.message, "512") && strstr(err.message, "1024"));
	CHECK(k == NULL);
	BIO_free(bio);
	EVP_PKEY_free(pk);

	pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	bio = BIO_new(BIO_s_mem());
	CHECK(pk && bio && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1);
	len = BIO_get_mem_data(bio, &mem);
	CHECK_INT(mt_dkim_keygen_from_pem(mem, (size_t)len, &k, &err), MT_EINVAL);
	CHECK(strstr(err.message, "not RSA or ed25519") != NULL);
	CHECK(k == NULL);
	BIO_free(bio);
	EVP_PKEY_free(pk);
}

static void test_names(void)
{
	static const char *good[][2] = {
		{ "s1", "example.com" },
		{ "2026-01", "mail.example.co.uk" },
		{ "a.b.c", "example.com." },
		{ "Sel", "EXAMPLE.ORG" },
		{ "x", "a-b.c-d" },
	};
	static const char *bad[][3] = {
		/* selector, domain, a word the message must hold */
		{ "", "example.com", "selector is empty" },
		{ "s_1", "example.com", "'_'" },
		{ "s 1", "example.com", "0x20" },
		{ "-s", "example.com", "starts with '-'" },
		{ "s-", "example.com", "ends with '-'" },
		{ "s..t", "example.com", "empty label" },
		{ ".s", "example.com", "empty label" },
		{ "s.", "example.com", "empty label" },
		{ "s1", "com", "one label" },
		{ "s1", "", "domain is empty" },
		{ "s1", "example..com", "empty label" },
		{ "s1", ".example.com", "empty label" },
		{ "s1", "example.com..", "empty label" },
		{ "s1", "exa mple.com", "0x20" },
		{ "s1", "-example.com", "starts with '-'" },
		{ "s1", "example.com/x", "'/'" },
		{ "s1", "ex\x01.com", "0x01" },
		{ "s1", "exa\xc3\xa9.com", "0xc3" },
	};
	char label64[65], longname[300];
	mt_error err;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		memset(&err, 0, sizeof err);
		CHECK_INT(mt_dkim_record_check_names(good[i][0], good[i][1], &err), MT_OK);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&err, 0, sizeof err);
		CHECK_INT(mt_dkim_record_check_names(bad[i][0], bad[i][1], &err), MT_EINVAL);
		if (!strstr(err.message, bad[i][2])) {
			fprintf(stderr, "'%s' '%s': message '%s' lacks '%s'\n", bad[i][0], bad[i][1],
			        err.message, bad[i][2]);
			CHECK(0);
		}
		CHECK(strstr(err.message, i < 8 ? "selector" : "domain") != NULL);
	}
	/* a 64-octet label, and a name over 253 octets */
	memset(label64, 'a', 64);
	label64[64] = '\0';
	CHECK_INT(mt_dkim_record_check_names(label64, "example.com", &err), MT_EINVAL);
	CHECK(strstr(err.message, "63") != NULL);
	label64[63] = '\0';
	CHECK_INT(mt_dkim_record_check_names(label64, "example.com", &err), MT_OK);
	/* 63 + 12 + 175 = 250 octets: fits; one more label does not */
	snprintf(longname, sizeof longname, "abc");
	for (i = 1; i < 44; i++)
		strncat(longname, ".abc", sizeof longname - strlen(longname) - 1);
	CHECK_INT(strlen(longname), 175);
	CHECK_INT(mt_dkim_record_check_names(label64, longname, &err), MT_OK);
	strncat(longname, ".x", sizeof longname - strlen(longname) - 1);
	CHECK_INT(mt_dkim_record_check_names(label64, longname, &err), MT_OK);
	strncat(longname, ".abcdef", sizeof longname - strlen(longname) - 1);
	CHECK_INT(mt_dkim_record_check_names(label64, longname, &err), MT_EINVAL);
	CHECK(strstr(err.message, "253") != NULL);
	CHECK_INT(mt_dkim_record_check_names(NULL, "example.com", &err), MT_EINVAL);

	/* the zone line refuses bad names too */
	{
		char *line = (char *)"x";
		CHECK_INT(mt_dkim_record_zone_line("s_1", "example.com", "v=DKIM1; p=", 11, &line, &err),
		          MT_EINVAL);
		CHECK(line == NULL);
	}
}

static void test_split_edges(void)
{
	char rec[1024];
	char **s = NULL;
	size_t n = 0;
	char *line = NULL;
	mt_error err = { 0 };

	memset(rec, 'A', sizeof rec);
	rec[255] = '\0';
	check_split(rec);        /* exactly 255: one string */
	rec[255] = 'A';
	rec[256] = '\0';
	check_split(rec);        /* 256: 255 + 1 */
	rec[510] = '\0';
	rec[256] = 'A';
	check_split(rec);        /* 510: two full strings */
	check_split("");
	CHECK_INT(mt_dkim_record_split("a\0b", 3, &s, &n), MT_EINVAL);
	CHECK(s == NULL && n == 0);
	CHECK_INT(mt_dkim_record_split(NULL, 3, &s, &n), MT_EINVAL);

	/* '"' and '\' escaped in the zone line (a record given by a user) */
	CHECK_INT(mt_dkim_record_zone_line("s", "example.com", "n=\"a\\b\";", 8, &line, &err), MT_OK);
	CHECK_STR(line, "s._domainkey.example.com. IN TXT ( \"n=\\\"a\\\\b\\\";\" )");
	mt_free(line);
}

int main(void)
{
	test_generate();
	test_warning();
	test_rfc8463();
	test_from_pem_errors();
	test_names();
	test_split_edges();
	return mt_test_done();
}
