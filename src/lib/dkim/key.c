/* DKIM key records (RFC 6376 3.6.1, RFC 8301, RFC 8463) and their keys,
 * decoded through OpenSSL 3. */
#include "dkim/dkim_tags.h"
#include "util/util.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

void mt_dkim_key_free(mt_dkim_key *key)
{
	if (!key)
		return;
	EVP_PKEY_CTX_free(key->rsa_vctx);
	EVP_PKEY_free(key->pkey);
	mt_arena_free(key->arena);
	free(key);
}

bool mt_dkim_key_allows_hash(const mt_dkim_key *key, mt_dkim_hash h)
{
	if (!key->has_h)
		return true;
	return h == MT_DKIM_HASH_SHA256 ? key->h_sha256 : key->h_sha1;
}

bool mt_dkim_key_usable_for(const mt_dkim_key *key, const mt_dkim_sig *sig, mt_dkim_perm *perm)
{
	static const char *const kt[] = { "?", "rsa", "ed25519" };

	if (key->perm.failed) {
		*perm = key->perm;
		return false;
	}
	if (key->key_type != sig->key_type) {
		mt_dkim_perm_set(perm, key->k_given ? key->k_off : key->len, "k", 1,
		                 "the key's type is %s%s, the signature's a= needs %s", kt[key->key_type & 3],
		                 key->k_given ? "" : " (no k=, so the default)", kt[sig->key_type & 3]);
		return false;
	}
	if (!mt_dkim_key_allows_hash(key, sig->hash)) {
		mt_dkim_perm_set(perm, key->h_off, "h", 1,
		                 "tag \"h\" at offset %zu: the key's hash list excludes %s, the signature's hash",
		                 key->h_off, sig->hash == MT_DKIM_HASH_SHA1 ? "sha1" : "sha256");
		return false;
	}
	if (key->strict && !mt_strcaseeq(sig->i_domain.p, sig->i_domain.len, sig->d.p, sig->d.len)) {
		mt_dkim_perm_set(perm, key->t_off, "t", 1,
		                 "tag \"t\" at offset %zu: t=s forbids a subdomain in i= (%.*s), d= is %s",
		                 key->t_off, (int)(sig->i_domain.len > 64 ? 64 : sig->i_domain.len),
		                 sig->i_domain.p, sig->d.p);
		return false;
	}
	return true;
}

/* Call fn on each colon-separated element, FWS around it trimmed (empty
 * elements passed as empty). */
static void each_colon(const char *v, size_t len, void (*fn)(mt_dkim_key *, const char *, size_t),
                       mt_dkim_key *key)
{
	size_t i = 0;

	for (;;) {
		size_t st = i;
		while (i < len && v[i] != ':')
			i++;
		size_t a = st, b = i;
		while (a < b && (v[a] == ' ' || v[a] == '\t' || v[a] == '\r' || v[a] == '\n'))
			a++;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t' || v[b - 1] == '\r' || v[b - 1] == '\n'))
			b--;
		fn(key, v + a, b - a);
		if (i == len)
			return;
		i++;
	}
}

static void h_elem(mt_dkim_key *key, const char *p, size_t len)
{
	if (mt_strcaseeq(p, len, "sha256", 6))
		key->h_sha256 = true;
	else if (mt_strcaseeq(p, len, "sha1", 4))
		key->h_sha1 = true;
}

static void s_elem(mt_dkim_key *key, const char *p, size_t len)
{
	if ((len == 1 && p[0] == '*') || mt_strcaseeq(p, len, "email", 5))
		key->service_email = true;
}

static void t_elem(mt_dkim_key *key, const char *p, size_t len)
{
	if (mt_strcaseeq(p, len, "y", 1))
		key->testing = true;
	else if (mt_strcaseeq(p, len, "s", 1))
		key->strict = true;
}

/* Decode the DER in key->p into key->pkey; perm says why not. */
static void decode_key(mt_dkim_key *key, const mt_dkim_tag *t)
{
	const unsigned char *der = key->p;
	EVP_PKEY *pk = NULL;

	if (key->key_type == MT_DKIM_KEY_ED25519) {
		if (key->p_len != 32) {
			mt_dkim_perm_set(&key->perm, t->name_off, "p", 1,
			                 "tag \"p\" at offset %zu: an ed25519 key is 32 octets, this one %zu "
			                 "(RFC 8463 4)", t->name_off, key->p_len);
			return;
		}
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key->p, 32);
		if (!pk) {
			ERR_clear_error();
			mt_dkim_perm_set(&key->perm, t->name_off, "p", 1,
			                 "tag \"p\" at offset %zu: OpenSSL rejects the ed25519 key", t->name_off);
			return;
		}
		key->pkey = pk;
		key->bits = 256;
		key->acceptable = true;
		return;
	}

	pk = d2i_PUBKEY(NULL, &der, (long)key->p_len);
	if (pk && der != key->p + key->p_len) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	if (!pk) {
		/* some publishers put a bare PKCS#1 RSAPublicKey in p= */
		der = key->p;
		pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &der, (long)key->p_len);
		if (pk && der != key->p + key->p_len) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		if (pk)
			key->rsa_bare = true;
	}
	ERR_clear_error();
	if (!pk) {
		mt_dkim_perm_set(&key->perm, t->name_off, "p", 1,
		                 "tag \"p\" at offset %zu: not a DER SubjectPublicKeyInfo or RSAPublicKey",
		                 t->name_off);
		return;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk);
		mt_dkim_perm_set(&key->perm, t->name_off, "p", 1,
		                 "tag \"p\" at offset %zu: the key is not an RSA key but k= says rsa",
		                 t->name_off);
		return;
	}
	key->pkey = pk;
	key->bits = EVP_PKEY_get_bits(pk);
	{
		/* the context every verification with this key would set up */
		EVP_PKEY_CTX *vc = EVP_PKEY_CTX_new(pk, NULL);
		if (vc && EVP_PKEY_verify_init(vc) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(vc, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(vc, EVP_sha256()) == 1) {
			key->rsa_vctx = vc;
		} else {
			EVP_PKEY_CTX_free(vc);
			ERR_clear_error();
		}
	}
	if (key->bits < 1024) {
		mt_dkim_perm_set(&key->perm, t->name_off, "p", 1,
		                 "tag \"p\" at offset %zu: RSA key of %d bits, less than 1024 (RFC 8301 3.2)",
		                 t->name_off, key->bits);
		return;
	}
	key->acceptable = true;
}

mt_status mt_dkim_key_parse(const char *rec, size_t len, mt_dkim_key **out)
{
	mt_status st = MT_OK;
	mt_dkim_key *key = NULL;
	mt_dkim_taglist *tl = NULL;
	mt_dkim_perm *perm;
	const mt_dkim_tag *t;

	if (!out || (!rec && len))
		return MT_EINVAL;
	*out = NULL;
	key = calloc(1, sizeof(*key));
	tl = malloc(sizeof(*tl));
	if (!key || !tl || !(key->arena = mt_arena_new(2048))) {
		st = MT_ENOMEM;
		goto out;
	}
	perm = &key->perm;
	key->key_type = MT_DKIM_KEY_RSA;
	key->service_email = true;
	if (!mt_dkim_taglist_parse(rec ? rec : "", len, tl, perm))
		goto done;

	if ((t = mt_dkim_taglist_get(tl, "v"))) {
		if (t != &tl->tags[0]) {
			mt_dkim_perm_set(perm, t->name_off, "v", 1,
			                 "tag \"v\" at offset %zu: must be the first tag", t->name_off);
			goto done;
		}
		if (t->value_len != 5 || memcmp(t->value, "DKIM1", 5) != 0) {
			mt_dkim_perm_set(perm, t->name_off, "v", 1,
			                 "tag \"v\" at offset %zu: version must be DKIM1", t->name_off);
			goto done;
		}
	}

	key->len = len;
	if ((t = mt_dkim_taglist_get(tl, "k"))) {
		key->k_given = true;
		key->k_off = t->name_off;
		if (mt_strcaseeq(t->value, t->value_len, "rsa", 3)) {
			key->key_type = MT_DKIM_KEY_RSA;
		} else if (mt_strcaseeq(t->value, t->value_len, "ed25519", 7)) {
			key->key_type = MT_DKIM_KEY_ED25519;
		} else {
			mt_dkim_perm_set(perm, t->name_off, "k", 1,
			                 "tag \"k\" at offset %zu: unknown key type (rsa, ed25519)", t->name_off);
			goto done;
		}
	}

	if ((t = mt_dkim_taglist_get(tl, "h"))) {
		key->has_h = true;
		key->h_off = t->name_off;
		each_colon(t->value, t->value_len, h_elem, key);
	}
	if ((t = mt_dkim_taglist_get(tl, "s"))) {
		key->service_email = false;
		each_colon(t->value, t->value_len, s_elem, key);
		if (!key->service_email) {
			mt_dkim_perm_set(perm, t->name_off, "s", 1,
			                 "tag \"s\" at offset %zu: the key is not for email (s= lacks * and email)",
			                 t->name_off);
			goto done;
		}
	}
	if ((t = mt_dkim_taglist_get(tl, "t"))) {
		key->t_off = t->name_off;
		each_colon(t->value, t->value_len, t_elem, key);
	}
	if ((t = mt_dkim_taglist_get(tl, "n"))) {
		if (!(key->notes = mt_arena_strndup(key->arena, t->value, t->value_len))) {
			st = MT_ENOMEM;
			goto out;
		}
	}

	t = mt_dkim_taglist_get(tl, "p");
	if (!t) {
		mt_dkim_perm_set(perm, len, "p", 1, "required tag \"p\" is missing");
		goto done;
	}
	if (!(key->p = mt_arena_alloc(key->arena, t->value_len / 4 * 3 + 4))) {
		st = MT_ENOMEM;
		goto out;
	}
	if (!mt_dkim_base64_decode(t->value, t->value_len, key->p, &key->p_len)) {
		mt_dkim_perm_set(perm, t->name_off, "p", 1,
		                 "tag \"p\" at offset %zu: public key is not valid base64", t->name_off);
		goto done;
	}
	if (key->p_len == 0) {
		key->revoked = true;
		mt_dkim_perm_set(perm, t->name_off, "p", 1,
		                 "tag \"p\" at offset %zu: the key is revoked (empty p=)", t->name_off);
		goto done;
	}
	decode_key(key, t);

done:
	*out = key;
	key = NULL;
out:
	free(tl);
	mt_dkim_key_free(key);
	return st;
}
