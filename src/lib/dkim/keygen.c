/* DKIM signing keys: generate or load a private key, build its key record
 * (RFC 6376 3.6.1, RFC 8463 4) and the DNS text that publishes it. */
#include <mailtrust/dkim_key.h>

#include "dkim/dkim_int.h"
#include "util/util.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct mt_dkim_keygen {
	mt_dkim_keygen_type type;
	unsigned bits;
	char *pem;        /* PKCS#8 PEM, NUL-terminated */
	size_t pem_len;
	char *record;
	EVP_PKEY *pkey;   /* the key itself, for signing (dkim/sign.c) */
};

/* Bounds for a PEM handed to mt_dkim_keygen_from_pem: an 8192-bit RSA key
 * in PEM is under 7 KB. */
#define PEM_INPUT_MAX (64 * 1024)

void mt_dkim_keygen_free(mt_dkim_keygen *key)
{
	if (!key)
		return;
	if (key->pem) {
		OPENSSL_cleanse(key->pem, key->pem_len);
		free(key->pem);
	}
	free(key->record);
	EVP_PKEY_free(key->pkey);
	free(key);
}

void *mt_dkim_keygen_pkey(const mt_dkim_keygen *key)
{
	return key ? key->pkey : NULL;
}

mt_dkim_keygen_type mt_dkim_keygen_get_type(const mt_dkim_keygen *key)
{
	return key->type;
}

const char *mt_dkim_keygen_type_name(mt_dkim_keygen_type type)
{
	switch (type) {
	case MT_DKIM_KEYGEN_RSA:
		return "rsa";
	case MT_DKIM_KEYGEN_ED25519:
		return "ed25519";
	}
	return "unknown";
}

unsigned mt_dkim_keygen_bits(const mt_dkim_keygen *key)
{
	return key->bits;
}

const char *mt_dkim_keygen_pem(const mt_dkim_keygen *key)
{
	return key->pem;
}

const char *mt_dkim_keygen_record(const mt_dkim_keygen *key)
{
	return key->record;
}

const char *mt_dkim_keygen_warning(const mt_dkim_keygen *key)
{
	if (key->type == MT_DKIM_KEYGEN_RSA && key->bits > MT_DKIM_KEYGEN_RSA_DNS_WARN)
		return "an RSA key above 4096 bits gives a key record that many DNS hosting "
		       "services refuse (they limit the size of TXT records); 2048 bits is the "
		       "usual choice";
	return NULL;
}

/* Base64 of in[0..len) into a new NUL-terminated string, or NULL. */
static char *base64(const unsigned char *in, size_t len)
{
	size_t cap;
	char *out;

	if (len > INT_MAX / 2)
		return NULL;
	cap = (len + 2) / 3 * 4 + 1;
	out = malloc(cap);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

/* Fill key's type, bits, PEM and record from pk (RSA or ed25519). */
static mt_status key_fill(mt_dkim_keygen *key, EVP_PKEY *pk, mt_error *err)
{
	mt_status st = MT_ENOMEM;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	unsigned char raw[32];
	size_t raw_len = sizeof raw;
	char *b64 = NULL;
	char *mem;
	long mem_len;
	int der_len;
	mt_buf b;

	mt_buf_init(&b, 16384);
	if (EVP_PKEY_is_a(pk, "ED25519")) {
		key->type = MT_DKIM_KEYGEN_ED25519;
		key->bits = 256;
		if (EVP_PKEY_get_raw_public_key(pk, raw, &raw_len) != 1 || raw_len != 32) {
			st = mt_error_set(err, MT_EIO, "cannot read the ed25519 public key");
			goto out;
		}
		b64 = base64(raw, raw_len);
	} else if (EVP_PKEY_is_a(pk, "RSA")) {
		int bits = EVP_PKEY_get_bits(pk);

		key->type = MT_DKIM_KEYGEN_RSA;
		if (bits < MT_DKIM_KEYGEN_RSA_MIN) {
			st = mt_error_set(err, MT_EINVAL,
			                  "the RSA key has %d bits; DKIM requires at least %d (RFC 8301 3.2)",
			                  bits, MT_DKIM_KEYGEN_RSA_MIN);
			goto out;
		}
		if (bits > MT_DKIM_KEYGEN_RSA_MAX) {
			st = mt_error_set(err, MT_EINVAL, "the RSA key has %d bits; at most %d are supported",
			                  bits, MT_DKIM_KEYGEN_RSA_MAX);
			goto out;
		}
		key->bits = (unsigned)bits;
		der_len = i2d_PUBKEY(pk, &der);
		if (der_len <= 0) {
			st = mt_error_set(err, MT_EIO, "cannot encode the RSA public key");
			goto out;
		}
		b64 = base64(der, (size_t)der_len);
	} else {
		st = mt_error_set(err, MT_EINVAL, "the key is %s, not RSA or ed25519",
		                  EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "of an unknown type");
		goto out;
	}
	if (!b64) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	mt_buf_printf(&b, "v=DKIM1; k=%s; p=%s", mt_dkim_keygen_type_name(key->type), b64);
	key->record = mt_buf_take(&b);
	if (!key->record) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}

	bio = BIO_new(BIO_s_secmem());
	if (!bio)
		bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1) {
		st = mt_error_set(err, MT_EIO, "cannot write the private key as PEM");
		goto out;
	}
	mem_len = BIO_get_mem_data(bio, &mem);
	if (mem_len <= 0) {
		st = mt_error_set(err, MT_EIO, "cannot write the private key as PEM");
		goto out;
	}
	key->pem = malloc((size_t)mem_len + 1);
	if (!key->pem) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(key->pem, mem, (size_t)mem_len);
	key->pem[mem_len] = '\0';
	key->pem_len = (size_t)mem_len;
	st = MT_OK;
out:
	mt_buf_free(&b);
	BIO_free(bio);
	OPENSSL_free(der);
	free(b64);
	ERR_clear_error();
	return st;
}

/* A new mt_dkim_keygen for pk (borrowed) in *out. */
static mt_status key_wrap(EVP_PKEY *pk, mt_dkim_keygen **out, mt_error *err)
{
	mt_dkim_keygen *key = calloc(1, sizeof *key);
	mt_status st;
	if (!key)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	st = key_fill(key, pk, err);
	if (st == MT_OK && EVP_PKEY_up_ref(pk) != 1)
		st = mt_error_set(err, MT_EIO, "cannot keep the key");
	if (st == MT_OK)
		key->pkey = pk;
	if (st != MT_OK) {
		mt_dkim_keygen_free(key);
		return st;
	}
	*out = key;
	return MT_OK;
}

mt_status mt_dkim_keygen_check_bits(mt_dkim_keygen_type type, unsigned bits, mt_error *err)
{
	if (type == MT_DKIM_KEYGEN_RSA) {
		if (bits == 0)
			return MT_OK;
		if (bits < MT_DKIM_KEYGEN_RSA_MIN)
			return mt_error_set(err, MT_EINVAL,
			                    "an RSA key of %u bits is too small: DKIM requires at least %d "
			                    "(RFC 8301 3.2)", bits, MT_DKIM_KEYGEN_RSA_MIN);
		if (bits > MT_DKIM_KEYGEN_RSA_MAX)
			return mt_error_set(err, MT_EINVAL, "an RSA key of %u bits is too large: at most %d",
			                    bits, MT_DKIM_KEYGEN_RSA_MAX);
	} else if (type == MT_DKIM_KEYGEN_ED25519) {
		if (bits != 0 && bits != 256)
			return mt_error_set(err, MT_EINVAL, "an ed25519 key has 256 bits, not %u", bits);
	} else {
		return mt_error_set(err, MT_EINVAL, "unknown key type %d", (int)type);
	}
	return MT_OK;
}

mt_status mt_dkim_keygen_generate(mt_dkim_keygen_type type, unsigned bits, mt_dkim_keygen **out,
                                  mt_error *err)
{
	mt_status st;
	EVP_PKEY *pk = NULL;

	if (!out)
		return mt_error_set(err, MT_EINVAL, "no place for the key");
	*out = NULL;
	st = mt_dkim_keygen_check_bits(type, bits, err);
	if (st != MT_OK)
		return st;
	if (type == MT_DKIM_KEYGEN_RSA && bits == 0)
		bits = MT_DKIM_KEYGEN_RSA_DEFAULT;

	if (type == MT_DKIM_KEYGEN_RSA)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pk) {
		st = mt_error_set(err, MT_EIO, "libcrypto could not generate the %s key",
		                  mt_dkim_keygen_type_name(type));
		goto out;
	}
	st = key_wrap(pk, out, err);
out:
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return st;
}

/* Does s[0..len) hold the NUL-terminated needle? */
static bool contains(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; n <= len && i <= len - n; i++)
		if (memcmp(s + i, needle, n) == 0)
			return true;
	return false;
}

/* Never asks for a passphrase: an encrypted key fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

mt_status mt_dkim_keygen_from_pem(const char *pem, size_t len, mt_dkim_keygen **out, mt_error *err)
{
	mt_status st;
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;

	if (!out || (!pem && len))
		return mt_error_set(err, MT_EINVAL, "no PEM or no place for the key");
	*out = NULL;
	if (len > PEM_INPUT_MAX)
		return mt_error_set(err, MT_ERANGE, "the PEM is %zu octets, more than a key needs (%d at most)",
		                    len, PEM_INPUT_MAX);
	if (len == 0 || !contains(pem, len, "-----BEGIN "))
		return mt_error_set(err, MT_ESYNTAX, "no PEM block (\"-----BEGIN ...\") in the input");
	if (contains(pem, len, "-----BEGIN ENCRYPTED") || contains(pem, len, "Proc-Type: 4,ENCRYPTED"))
		return mt_error_set(err, MT_EINVAL,
		                    "the private key is encrypted; decrypt it first (openssl pkey)");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (!pk) {
		st = mt_error_set(err, MT_ESYNTAX, "not a readable PEM private key");
		goto out;
	}
	st = key_wrap(pk, out, err);
out:
	EVP_PKEY_free(pk);
	BIO_free(bio);
	ERR_clear_error();
	return st;
}

/* ---- publishing -------------------------------------------------------- */

void mt_dkim_record_strings_free(char **strings, size_t count)
{
	size_t i;

	if (!strings)
		return;
	for (i = 0; i < count; i++)
		free(strings[i]);
	free(strings);
}

mt_status mt_dkim_record_split(const char *record, size_t len, char ***strings, size_t *count)
{
	size_t n, i;
	char **v;

	if (!strings || !count || (!record && len))
		return MT_EINVAL;
	*strings = NULL;
	*count = 0;
	if (len && memchr(record, '\0', len))
		return MT_EINVAL;
	n = len ? (len + MT_DKIM_RECORD_STRING_MAX - 1) / MT_DKIM_RECORD_STRING_MAX : 1;
	v = calloc(n, sizeof *v);
	if (!v)
		return MT_ENOMEM;
	for (i = 0; i < n; i++) {
		size_t off = i * MT_DKIM_RECORD_STRING_MAX;
		size_t l = len - off < MT_DKIM_RECORD_STRING_MAX ? len - off : MT_DKIM_RECORD_STRING_MAX;

		if (len == 0)
			l = 0;
		v[i] = malloc(l + 1);
		if (!v[i]) {
			mt_dkim_record_strings_free(v, n);
			return MT_ENOMEM;
		}
		if (l)
			memcpy(v[i], record + off, l);
		v[i][l] = '\0';
	}
	*strings = v;
	*count = n;
	return MT_OK;
}

static bool is_ldh(int c)
{
	return mt_is_alnum(c) || c == '-';
}

/* Check the labels of name[0..len): returns the number of labels, or 0
 * after filling err (what names the name: "selector", "domain"). */
static size_t check_labels(const char *what, const char *name, size_t len, mt_error *err)
{
	size_t i = 0, labels = 0;

	if (len == 0) {
		mt_error_set(err, MT_EINVAL, "the %s is empty", what);
		return 0;
	}
	while (i <= len) {
		size_t start = i;

		while (i < len && name[i] != '.') {
			if (!is_ldh((unsigned char)name[i])) {
				unsigned char c = (unsigned char)name[i];
				if (c >= 0x21 && c < 0x7f)
					mt_error_set(err, MT_EINVAL,
					             "the %s '%.*s' has '%c' at offset %zu: only letters, "
					             "digits, '-' and '.' are allowed", what,
					             (int)(len > 80 ? 80 : len), name, c, i);
				else
					mt_error_set(err, MT_EINVAL,
					             "the %s has the octet 0x%02x at offset %zu: only letters, "
					             "digits, '-' and '.' are allowed", what, c, i);
				return 0;
			}
			i++;
		}
		if (i == start) {
			mt_error_set(err, MT_EINVAL, "the %s '%.*s' has an empty label at offset %zu", what,
			             (int)(len > 80 ? 80 : len), name, start);
			return 0;
		}
		if (i - start > 63) {
			mt_error_set(err, MT_EINVAL,
			             "the %s has a label of %zu octets at offset %zu; at most 63 are allowed",
			             what, i - start, start);
			return 0;
		}
		if (name[start] == '-' || name[i - 1] == '-') {
			mt_error_set(err, MT_EINVAL,
			             "the %s '%.*s' has a label that %s with '-' at offset %zu", what,
			             (int)(len > 80 ? 80 : len), name,
			             name[start] == '-' ? "starts" : "ends",
			             name[start] == '-' ? start : i - 1);
			return 0;
		}
		labels++;
		i++; /* past the '.' (or the end) */
	}
	return labels;
}

mt_status mt_dkim_record_check_names(const char *selector, const char *domain, mt_error *err)
{
	size_t slen, dlen, labels;

	if (!selector || !domain)
		return mt_error_set(err, MT_EINVAL, "no selector or no domain");
	slen = strlen(selector);
	dlen = strlen(domain);
	if (slen > 253)
		return mt_error_set(err, MT_EINVAL, "the selector is %zu octets long; a name has at most 253",
		                    slen);
	if (dlen > 254)
		return mt_error_set(err, MT_EINVAL, "the domain is %zu octets long; a name has at most 253",
		                    dlen);
	if (!check_labels("selector", selector, slen, err))
		return MT_EINVAL;
	if (dlen > 1 && domain[dlen - 1] == '.')
		dlen--;
	labels = check_labels("domain", domain, dlen, err);
	if (labels == 0)
		return MT_EINVAL;
	if (labels < 2)
		return mt_error_set(err, MT_EINVAL,
		                    "the domain '%.*s' has one label; give the full domain (example.com)",
		                    (int)(dlen > 80 ? 80 : dlen), domain);
	/* SELECTOR "._domainkey." DOMAIN */
	if (slen + 12 + dlen > 253)
		return mt_error_set(err, MT_EINVAL,
		                    "the key's name SELECTOR._domainkey.DOMAIN would be %zu octets "
		                    "long; at most 253 are allowed", slen + 12 + dlen);
	return MT_OK;
}

mt_status mt_dkim_record_zone_line(const char *selector, const char *domain, const char *record,
                                   size_t len, char **line, mt_error *err)
{
	mt_status st;
	char **strings = NULL;
	size_t count = 0, i, j, dlen;
	mt_buf b;

	if (!line || (!record && len))
		return mt_error_set(err, MT_EINVAL, "no record or no place for the line");
	*line = NULL;
	st = mt_dkim_record_check_names(selector, domain, err);
	if (st != MT_OK)
		return st;
	st = mt_dkim_record_split(record, len, &strings, &count);
	if (st != MT_OK)
		return mt_error_set(err, st, st == MT_EINVAL ? "the record holds a NUL octet"
		                                            : "out of memory");
	dlen = strlen(domain);
	if (domain[dlen - 1] == '.')
		dlen--;
	mt_buf_init(&b, 4 * len + 8 * count + 600);
	mt_buf_printf(&b, "%s._domainkey.%.*s. IN TXT (", selector, (int)dlen, domain);
	for (i = 0; i < count; i++) {
		mt_buf_puts(&b, " \"");
		for (j = 0; strings[i][j]; j++) {
			unsigned char c = (unsigned char)strings[i][j];

			if (c == '"' || c == '\\')
				mt_buf_printf(&b, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				mt_buf_printf(&b, "\\%03u", c);
			else
				mt_buf_putc(&b, (char)c);
		}
		mt_buf_putc(&b, '"');
	}
	mt_buf_puts(&b, " )");
	*line = mt_buf_take(&b);
	mt_dkim_record_strings_free(strings, count);
	if (!*line)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	return MT_OK;
}
