/* Fuzz the DKIM signer.  The first octet chooses the options: bit 0 c=
 * header relaxed, bit 1 c= body relaxed, bit 2 l=, bit 3 LF fields, bits
 * 4-5 the keys (rsa, ed25519, both; 0 = ed25519), bit 6 an i=, bit 7 no
 * oversigning.  The second octet gives how many chunk-size octets follow (1
 * to 8); those give the sizes (1 to 256) of the chunks the rest, the
 * message, is fed in, cycling.  Signing the message whole and in chunks
 * must succeed or fail alike, with the same fields; signed fields put on
 * top of the message must verify (pass) with the library's verifier. */
#include <mailtrust/dkim.h>
#include <mailtrust/dkim_sign.h>
#include <mailtrust/dns.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mt_dns_zone *zone;
static mt_dns_resolver *res;
static mt_dkim_keygen *rsa, *ed;

static void publish(const char *name, const char *rec)
{
	const char *strs[8];
	size_t lens[8], n = 0, len = strlen(rec);
	for (size_t o = 0; o < len && n < 8; o += 255) {
		strs[n] = rec + o;
		lens[n++] = len - o > 255 ? 255 : len - o;
	}
	if (mt_dns_zone_add_txt(zone, name, MT_DNS_TXT, 300, strs, lens, n) != MT_OK)
		abort();
}

static void setup(void)
{
	unsigned char seed[32];
	EVP_PKEY *pk;
	BIO *bio;
	char *mem;
	long n;

	if (zone)
		return;
	/* ed25519 from a fixed seed (deterministic signatures); RSA made once */
	for (int i = 0; i < 32; i++)
		seed[i] = (unsigned char)(i * 37 + 11);
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	bio = BIO_new(BIO_s_mem());
	if (!pk || !bio || PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	n = BIO_get_mem_data(bio, &mem);
	if (mt_dkim_keygen_from_pem(mem, (size_t)n, &ed, NULL) != MT_OK)
		abort();
	EVP_PKEY_free(pk);
	BIO_free(bio);
	if (mt_dkim_keygen_generate(MT_DKIM_KEYGEN_RSA, 1024, &rsa, NULL) != MT_OK)
		abort();
	zone = mt_dns_zone_new();
	res = zone ? mt_dns_zone_resolver_new(zone) : NULL;
	if (!res)
		abort();
	publish("rsa._domainkey.example.com", mt_dkim_keygen_record(rsa));
	publish("ed._domainkey.example.com", mt_dkim_keygen_record(ed));
}

/* Sign msg; NULL (with *st) when the signer refused it. */
static char *sign(uint8_t flags, const uint8_t *msg, size_t len, const uint8_t *sizes,
                  size_t nsizes, mt_status *st, size_t *flen)
{
	mt_dkim_sign_options o;
	mt_dkim_sign *s = NULL;
	const char *id = (flags & 0x40) ? "user@sub.example.com" : NULL;
	unsigned keys = (flags >> 4) & 3;
	size_t i = 0, k = 0;
	char *out = NULL;
	const char *f;

	mt_dkim_sign_options_init(&o);
	o.canon_header = (flags & 1) ? MT_DKIM_SIGN_RELAXED : MT_DKIM_SIGN_SIMPLE;
	o.canon_body = (flags & 2) ? MT_DKIM_SIGN_RELAXED : MT_DKIM_SIGN_SIMPLE;
	o.body_length = (flags & 4) != 0;
	o.lf = (flags & 8) != 0;
	if (flags & 0x80)
		o.oversign = "";
	if (mt_dkim_sign_new(&o, &s, NULL) != MT_OK)
		abort();
	if (keys == 0)
		keys = 2;
	if ((keys & 1) && mt_dkim_sign_add(s, rsa, "example.com", "rsa", id, NULL) != MT_OK)
		abort();
	if ((keys & 2) && mt_dkim_sign_add(s, ed, "example.com", "ed", id, NULL) != MT_OK)
		abort();
	*st = MT_OK;
	while (i < len && *st == MT_OK) {
		size_t n = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : len;
		if (n > len - i)
			n = len - i;
		*st = mt_dkim_sign_feed(s, msg + i, n, NULL);
		i += n;
	}
	if (*st == MT_OK)
		*st = mt_dkim_sign_finish(s, NULL);
	if (*st == MT_OK) {
		f = mt_dkim_sign_fields(s, flen);
		if (!f || *flen == 0)
			abort();
		out = malloc(*flen + len + 1);
		if (!out)
			abort();
		memcpy(out, f, *flen);
		if (len)
			memcpy(out + *flen, msg, len);
	} else if (mt_dkim_sign_fields(s, NULL) != NULL) {
		abort();
	}
	mt_dkim_sign_free(s);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_dkim_verify_options vo;
	mt_dkim_verify *v = NULL;
	mt_status sa, sb;
	size_t nsizes, la = 0, lb = 0, len, nkeys;
	const uint8_t *msg;
	char *a, *b;
	uint8_t flags;

	setup();
	if (size < 2)
		return 0;
	flags = data[0];
	nsizes = (size_t)(data[1] & 7) + 1;
	if (size < 2 + nsizes)
		return 0;
	msg = data + 2 + nsizes;
	len = size - 2 - nsizes;
	nkeys = ((flags >> 4) & 3) == 3 ? 2 : 1;
	a = sign(flags, msg, len, NULL, 0, &sa, &la);
	b = sign(flags, msg, len, data + 2, nsizes, &sb, &lb);
	if (sa != sb || (a == NULL) != (b == NULL) || la != lb || (a && memcmp(a, b, la) != 0))
		abort();
	if (a) {
		const char *p;
		/* lines of the fields end as asked */
		p = memchr(a, '\r', la);
		if ((flags & 8) ? p != NULL : p == NULL)
			abort();
		mt_dkim_verify_options_init(&vo);
		vo.max_fields = 1000 + 2;        /* the message's, plus ours */
		vo.max_header_bytes = 1048576 + 32768;
		if (mt_dkim_verify_new(&vo, &v, NULL) != MT_OK ||
		    mt_dkim_verify_feed(v, a, la + len, NULL) != MT_OK ||
		    mt_dkim_verify_finish(v, NULL) != MT_OK || mt_dkim_verify_run(v, res) != MT_OK ||
		    mt_dkim_verify_count(v) < nkeys)
			abort();
		for (size_t k = 0; k < nkeys; k++) {
			const mt_dkim_sig_result *r = mt_dkim_verify_result(v, k);
			if (!r || r->result != MT_DKIM_PASS)
				abort();
		}
		mt_dkim_verify_free(v);
	}
	free(a);
	free(b);
	return 0;
}
