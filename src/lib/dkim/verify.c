/* DKIM verification (RFC 6376 section 6): the message streamed through
 * mt_msg, body hashes in one pass, keys fetched as a job of the driver. */
#include <mailtrust/dkim.h>
#include <mailtrust/msg.h>
#include "dkim/dkim_int.h"
#include "authres/authres_int.h"
#include "msg/msg_int.h"
#include "dkim/dkim_tags.h"
#include "dns/dns_internal.h"
#include "util/util.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#define KEY_NAME_MAX 600

typedef enum key_state { KEY_PENDING = 0, KEY_ASKED, KEY_DONE } key_state;

/*
 * What the TXT answer at a key name holds, decoded once per answer and kept
 * with it (in the DNS cache, for as long as the answer): the first record
 * that parses as a usable key, else the first record's parse (for the
 * reason).  Shared by reference between verifications.
 */
typedef struct keyset {
	unsigned refs;
	size_t ntxt;               /* TXT records at the name */
	mt_dkim_key *usable;       /* or NULL */
	mt_dkim_key *first;        /* usable NULL, ntxt > 0: the first one's failure */
} keyset;

static void keyset_release(void *p);

typedef struct vkey {
	char name[KEY_NAME_MAX];   /* selector._domainkey.domain, lowercase */
	key_state state;
	mt_dkim_result err;        /* PASS: key usable; else TEMPERROR/PERMERROR */
	char reason[900];
	const mt_dkim_key *key;    /* PASS: the key, held through ks */
	keyset *ks;                /* a reference, released with the verifier */
} vkey;

typedef struct vsig {
	mt_dkim_sig_result r;
	mt_dkim_sig *sig;
	bool decided;              /* result known before the key/body */
	size_t key;                /* index into keys */
	size_t bh_idx;
	unsigned char hhash[32];   /* SHA-256 of the canonical header data */
	char reason[1024];
	char *strs;                /* d, s, i, a, b copies */
} vsig;

struct mt_dkim_verify {
	mt_dkim_verify_options o;
	mt_msg *msg;
	mt_dkim_bodyhash_set *bhs;
	vsig *sigs;
	size_t nsig;
	vkey *keys;                /* one per distinct key name, room for key_cap */
	size_t nkey, key_cap;
	mt_dns_question qs[MT_DKIM_MAX_SIGNATURES];
	bool header_done, finished, evaluated, aborted;
	mt_status fail;            /* a failure in a callback (memory, libcrypto) */
	char fail_msg[200];
};

void mt_dkim_verify_options_init(mt_dkim_verify_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
	opts->max_signatures = 10;
	opts->max_future_skew = 300;
	opts->min_rsa_bits = 1024;
}

const char *mt_dkim_result_name(mt_dkim_result r)
{
	switch (r) {
	case MT_DKIM_PASS: return "pass";
	case MT_DKIM_FAIL: return "fail";
	case MT_DKIM_NEUTRAL: return "neutral";
	case MT_DKIM_TEMPERROR: return "temperror";
	case MT_DKIM_PERMERROR: return "permerror";
	case MT_DKIM_POLICY: return "policy";
	}
	return "unknown";
}

static void set_result(vsig *s, mt_dkim_result r, mt_dkim_fail f, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_result(vsig *s, mt_dkim_result r, mt_dkim_fail f, const char *fmt, ...)
{
	va_list ap;
	s->r.result = r;
	s->r.fail = f;
	s->decided = true;
	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof s->reason, fmt, ap);
	va_end(ap);
	s->r.reason = s->reason;
}

static void vfail(mt_dkim_verify *v, mt_status st, const char *what)
{
	if (v->fail != MT_OK)
		return;
	v->fail = st;
	snprintf(v->fail_msg, sizeof v->fail_msg, "DKIM verify: %s", what);
}

/* Copy the strings a result shows: d s i a, and b='s value without FWS. */
static bool copy_strings(vsig *s, const char *value, size_t vlen)
{
	const mt_dkim_sig *sig = s->sig;
	const char *a = "";
	size_t n = 0, off = 0;
	char *p;
	if (sig->key_type == MT_DKIM_KEY_ED25519)
		a = "ed25519-sha256";
	else if (sig->key_type == MT_DKIM_KEY_RSA)
		a = sig->hash == MT_DKIM_HASH_SHA1 ? "rsa-sha1" : "rsa-sha256";
	n = (sig->d.p ? sig->d.len : 0) + (sig->s.p ? sig->s.len : 0) + (sig->i.p ? sig->i.len : 0) +
	    strlen(a) + vlen + 5;
	p = malloc(n);
	if (!p)
		return false;
	s->strs = p;
#define PUT(dst, src, len) do { memcpy(p + off, (src), (len)); p[off + (len)] = 0; \
		dst = p + off; off += (len) + 1; } while (0)
	PUT(s->r.d, sig->d.p ? sig->d.p : "", sig->d.p ? sig->d.len : 0);
	PUT(s->r.s, sig->s.p ? sig->s.p : "", sig->s.p ? sig->s.len : 0);
	PUT(s->r.i, sig->i.p ? sig->i.p : "", sig->i.p ? sig->i.len : 0);
	PUT(s->r.a, a, strlen(a));
#undef PUT
	s->r.b = p + off;
	if (sig->b_raw_len && sig->b_raw_off + sig->b_raw_len <= vlen) {
		for (size_t k = sig->b_raw_off; k < sig->b_raw_off + sig->b_raw_len; k++) {
			char c = value[k];
			if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
				p[off++] = c;
		}
	}
	p[off] = 0;
	return true;
}

static size_t key_for(mt_dkim_verify *v, const mt_dkim_sig *sig)
{
	char name[KEY_NAME_MAX];
	int n = snprintf(name, sizeof name, "%s._domainkey.%s", sig->s.p, sig->d.p);
	if (n < 0 || (size_t)n >= sizeof name)
		return SIZE_MAX;
	for (char *c = name; *c; c++)
		*c = mt_lower(*c);
	for (size_t k = 0; k < v->nkey; k++)
		if (strcmp(v->keys[k].name, name) == 0)
			return k;
	if (v->nkey >= v->key_cap)
		return SIZE_MAX;
	memcpy(v->keys[v->nkey].name, name, (size_t)n + 1);
	if (v->aborted) { /* the job ended before the header was read */
		v->keys[v->nkey].state = KEY_DONE;
		v->keys[v->nkey].err = MT_DKIM_TEMPERROR;
		snprintf(v->keys[v->nkey].reason, sizeof v->keys[v->nkey].reason,
		         "key lookup %s not done: the job was aborted", name);
	}
	return v->nkey++;
}

/* SHA-256 over the canonical header data (RFC 6376 3.7). */
static bool header_hash(mt_dkim_verify *v, vsig *s, const mt_msg_field *sf, size_t colon)
{
	const mt_dkim_sig *sig = s->sig;
	mt_buf b;
	bool ok = false;
	unsigned int dlen = 0;

	mt_buf_init(&b, (size_t)8 << 20);
	for (size_t h = 0; h < sig->header_count; h++) {
		const mt_msg_field *f;
		size_t nth = 0;
		for (size_t e = 0; e < h; e++)
			if (mt_strcaseeq(sig->headers[e].p, sig->headers[e].len, sig->headers[h].p,
			                 sig->headers[h].len))
				nth++;
		f = mt_msg_find_last(v->msg, sig->headers[h].p, nth);
		if (!f)
			continue; /* absent (or oversigned): contributes nothing */
		mt_dkim_canon_header_buf(sig->canon_header, f->raw, f->raw_len, &b);
	}
	{
		/* the signature field: name ':' value with b='s span removed, no CRLF */
		size_t vlen = sf->raw_len - colon - 1;
		const char *val = sf->raw + colon + 1;
		mt_buf tmp;
		if (vlen >= 2 && val[vlen - 2] == '\r' && val[vlen - 1] == '\n')
			vlen -= 2;
		else if (vlen >= 1 && val[vlen - 1] == '\n')
			vlen -= 1;
		if (sig->b_raw_off > vlen || sig->b_raw_len > vlen - sig->b_raw_off) {
			mt_buf_free(&b);
			set_result(s, MT_DKIM_PERMERROR, MT_DKIM_FAIL_NONE,
			           "b= lies outside the signature field");
			return true;
		}
		mt_buf_init(&tmp, sf->raw_len + 1);
		mt_buf_append(&tmp, sf->raw, colon + 1);
		mt_buf_append(&tmp, val, sig->b_raw_off);
		mt_buf_append(&tmp, val + sig->b_raw_off + sig->b_raw_len,
		              vlen - sig->b_raw_off - sig->b_raw_len);
		if (tmp.err == MT_OK)
			mt_dkim_canon_header_buf(sig->canon_header, tmp.data ? tmp.data : "", tmp.len, &b);
		else
			b.err = tmp.err;
		mt_buf_free(&tmp);
	}
	if (b.err != MT_OK)
		goto out;
	if (!EVP_Digest(b.data ? b.data : "", b.len, s->hhash, &dlen, EVP_sha256(), NULL) || dlen != 32)
		goto out;
	ok = true;
out:
	mt_buf_free(&b);
	return ok;
}

static bool is_sig_field(const mt_msg_field *f)
{
	return !(f->flags & MT_MSG_FIELD_MALFORMED) &&
	       mt_strcaseeq(f->name, f->name_len, "DKIM-Signature", 14);
}

static void on_header(void *arg, mt_msg *msg)
{
	mt_dkim_verify *v = arg;
	size_t nf = mt_msg_field_count(msg), total = 0, evaluated = 0;

	v->header_done = true;
	for (size_t k = 0; k < nf; k++)
		if (is_sig_field(mt_msg_field_at(msg, k)))
			total++;
	if (total == 0)
		return;
	v->sigs = calloc(total, sizeof *v->sigs);
	/* at most one key per evaluated signature */
	v->key_cap = total < v->o.max_signatures ? total : v->o.max_signatures;
	v->keys = calloc(v->key_cap ? v->key_cap : 1, sizeof *v->keys);
	if (!v->sigs || !v->keys) {
		vfail(v, MT_ENOMEM, "out of memory");
		return;
	}
	for (size_t k = 0; k < nf; k++) {
		const mt_msg_field *f = mt_msg_field_at(msg, k);
		const char *colon, *val;
		size_t ci, vlen;
		vsig *s;
		if (!is_sig_field(f))
			continue;
		s = &v->sigs[v->nsig++];
		s->r.field = f->index;
		s->r.reason = "";
		s->r.d = s->r.s = s->r.i = s->r.a = s->r.b = "";
		colon = memchr(f->raw, ':', f->raw_len);
		ci = (size_t)(colon - f->raw);
		val = colon + 1;
		vlen = f->raw_len - ci - 1;
		if (vlen >= 2 && val[vlen - 2] == '\r' && val[vlen - 1] == '\n')
			vlen -= 2;
		if (mt_dkim_sig_parse(val, vlen, &s->sig) != MT_OK) {
			vfail(v, MT_ENOMEM, "out of memory parsing a signature");
			return;
		}
		if (!copy_strings(s, val, vlen)) {
			vfail(v, MT_ENOMEM, "out of memory");
			return;
		}
		if (evaluated >= v->o.max_signatures) {
			set_result(s, MT_DKIM_POLICY, MT_DKIM_FAIL_NONE,
			           "not evaluated: more than %u signatures", v->o.max_signatures);
			continue;
		}
		evaluated++;
		s->r.evaluated = true;
		s->r.has_l = s->sig->has_l;
		s->r.l = s->sig->l;
		if (s->sig->perm.failed) {
			set_result(s, MT_DKIM_PERMERROR, MT_DKIM_FAIL_NONE, "%s", s->sig->perm.message);
			continue;
		}
		if (!s->sig->alg_acceptable) {
			set_result(s, MT_DKIM_PERMERROR, MT_DKIM_FAIL_NONE,
			           "algorithm %s is not allowed (RFC 8301 3.1)", s->r.a);
			continue;
		}
		s->key = key_for(v, s->sig);
		if (s->key == SIZE_MAX) {
			set_result(s, MT_DKIM_PERMERROR, MT_DKIM_FAIL_NONE,
			           "key name %s._domainkey.%s is too long", s->r.s, s->r.d);
			continue;
		}
		if (mt_dkim_bodyhash_set_add(v->bhs, s->sig->canon_body, s->sig->hash, s->sig->has_l,
		                             s->sig->l, &s->bh_idx) != MT_OK) {
			vfail(v, MT_ENOMEM, "cannot set up a body hash");
			return;
		}
		if (!header_hash(v, s, f, ci)) {
			vfail(v, MT_ENOMEM, "cannot hash the header");
			return;
		}
	}
}

static void on_body(void *arg, const uint8_t *data, size_t len)
{
	mt_dkim_verify *v = arg;
	if (v->fail == MT_OK && mt_dkim_bodyhash_set_count(v->bhs) > 0 &&
	    mt_dkim_bodyhash_set_update(v->bhs, data, len) != MT_OK)
		vfail(v, MT_EIO, "body hashing failed");
}

mt_status mt_dkim_verify_new(const mt_dkim_verify_options *opts, mt_dkim_verify **out,
                             mt_error *err)
{
	mt_dkim_verify *v;
	mt_msg_options mo;

	if (!out)
		return mt_error_set(err, MT_EINVAL, "mt_dkim_verify_new: out is NULL");
	*out = NULL;
	if (opts && opts->size < offsetof(mt_dkim_verify_options, max_future_skew))
		return mt_error_set(err, MT_EINVAL, "mt_dkim_verify_new: options size too small");
	v = calloc(1, sizeof *v);
	if (!v)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	mt_dkim_verify_options_init(&v->o);
	if (opts) {
		size_t n = opts->size < sizeof v->o ? opts->size : sizeof v->o;
		memcpy(&v->o, opts, n);
		v->o.size = sizeof v->o;
	}
	if (v->o.max_signatures > MT_DKIM_MAX_SIGNATURES)
		v->o.max_signatures = MT_DKIM_MAX_SIGNATURES;
	if (v->o.min_rsa_bits < 1024)
		v->o.min_rsa_bits = 1024;
	mt_msg_options_init(&mo);
	if (v->o.max_header_bytes)
		mo.max_header_bytes = v->o.max_header_bytes;
	if (v->o.max_fields)
		mo.max_fields = v->o.max_fields;
	v->bhs = mt_dkim_bodyhash_set_new();
	if (!v->bhs || mt_msg_new(&mo, &v->msg, err) != MT_OK) {
		mt_dkim_verify_free(v);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	mt_msg_set_header_handler(v->msg, on_header, v);
	mt_msg_set_body_handler(v->msg, on_body, v);
	/* the body hashers take bare LF and a CR ending a piece themselves */
	mt_msg_set_raw_body(v->msg, true);
	*out = v;
	return MT_OK;
}

void mt_dkim_verify_free(mt_dkim_verify *v)
{
	if (!v)
		return;
	for (size_t k = 0; k < v->nsig; k++) {
		mt_dkim_sig_free(v->sigs[k].sig);
		free(v->sigs[k].strs);
	}
	free(v->sigs);
	for (size_t k = 0; k < v->nkey; k++)
		keyset_release(v->keys[k].ks);
	free(v->keys);
	mt_dkim_bodyhash_set_free(v->bhs);
	mt_msg_free(v->msg);
	free(v);
}

mt_status mt_dkim_verify_feed(mt_dkim_verify *v, const void *data, size_t len, mt_error *err)
{
	mt_status st;
	if (!v || (!data && len))
		return mt_error_set(err, MT_EINVAL, "mt_dkim_verify_feed: NULL argument");
	if (v->finished)
		return mt_error_set(err, MT_ESTATE, "mt_dkim_verify_feed: after finish");
	if (v->fail != MT_OK)
		return mt_error_set(err, v->fail, "%s", v->fail_msg);
	st = mt_msg_feed(v->msg, data, len, err);
	if (st == MT_OK && v->fail != MT_OK)
		return mt_error_set(err, v->fail, "%s", v->fail_msg);
	return st;
}

static bool verify_sig(mt_dkim_verify *v, vsig *s, const mt_dkim_key *key)
{
	EVP_PKEY_CTX *pc = NULL;
	EVP_MD_CTX *mc = NULL;
	bool ok = false;
	(void)v;
	if (key->key_type == MT_DKIM_KEY_ED25519) {
		mc = EVP_MD_CTX_new();
		if (mc && EVP_DigestVerifyInit(mc, NULL, NULL, NULL, key->pkey) == 1 &&
		    EVP_DigestVerify(mc, s->sig->b, s->sig->b_len, s->hhash, 32) == 1)
			ok = true;
		EVP_MD_CTX_free(mc);
	} else if (key->rsa_vctx && s->sig->hash == MT_DKIM_HASH_SHA256) {
		/* prepared once with the key: PKCS#1 v1.5, SHA-256 */
		ok = EVP_PKEY_verify(key->rsa_vctx, s->sig->b, s->sig->b_len, s->hhash, 32) == 1;
		if (!ok)
			ERR_clear_error();
	} else {
		pc = EVP_PKEY_CTX_new(key->pkey, NULL);
		if (pc && EVP_PKEY_verify_init(pc) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
		    EVP_PKEY_verify(pc, s->sig->b, s->sig->b_len, s->hhash, 32) == 1)
			ok = true;
		EVP_PKEY_CTX_free(pc);
	}
	return ok;
}

/* Shortest b= prefix (at least 8) that tells this signature from every
 * other one with a different b= (decided on the whole values first). */
static void shorten_b(mt_dkim_verify *v)
{
	size_t *want = calloc(v->nsig ? v->nsig : 1, sizeof *want);
	if (!want)
		return; /* the whole values stay: longer, still correct */
	for (size_t k = 0; k < v->nsig; k++) {
		const char *b = v->sigs[k].r.b;
		size_t len = strlen(b);
		want[k] = len < 8 ? len : 8;
		for (size_t o = 0; o < v->nsig; o++) {
			const char *ob = v->sigs[o].r.b;
			size_t c = 0;
			if (o == k || strcmp(ob, b) == 0)
				continue;
			while (b[c] && ob[c] == b[c])
				c++;
			if (c + 1 > want[k])
				want[k] = c + 1 <= len ? c + 1 : len;
		}
	}
	for (size_t k = 0; k < v->nsig; k++)
		if (v->sigs[k].r.b[want[k]] != 0)
			((char *)v->sigs[k].r.b)[want[k]] = 0;
	free(want);
}

static void evaluate(mt_dkim_verify *v)
{
	if (v->evaluated || !v->finished)
		return;
	for (size_t k = 0; k < v->nkey; k++)
		if (v->keys[k].state != KEY_DONE)
			return;
	v->evaluated = true;
	for (size_t k = 0; k < v->nsig; k++) {
		vsig *s = &v->sigs[k];
		const mt_dkim_sig *sig = s->sig;
		const vkey *vk;
		const mt_dkim_bodyhash_result *bh;
		mt_dkim_perm perm;
		if (s->decided)
			continue;
		bh = mt_dkim_bodyhash_set_result(v->bhs, s->bh_idx);
		if (bh)
			s->r.body_length = bh->canon_len;
		if (sig->has_l && bh && bh->canon_len > sig->l)
			s->r.l_risk = true;
		if (v->o.now != 0 && sig->has_x && (uint64_t)v->o.now > sig->x) {
			set_result(s, MT_DKIM_PERMERROR, MT_DKIM_FAIL_NONE,
			           "signature expired (x=%llu, now %lld)", (unsigned long long)sig->x,
			           (long long)v->o.now);
			continue;
		}
		if (v->o.now != 0 && sig->has_t &&
		    sig->t > (uint64_t)v->o.now + v->o.max_future_skew) {
			set_result(s, MT_DKIM_PERMERROR, MT_DKIM_FAIL_NONE,
			           "signature timestamp in the future (t=%llu, now %lld, %u s allowed)",
			           (unsigned long long)sig->t, (long long)v->o.now,
			           v->o.max_future_skew);
			continue;
		}
		vk = &v->keys[s->key];
		if (vk->err != MT_DKIM_PASS) {
			set_result(s, vk->err, MT_DKIM_FAIL_NONE, "%s", vk->reason);
			continue;
		}
		s->r.testing = vk->key->testing;
		s->r.strict = vk->key->strict;
		s->r.key_bits = vk->key->bits;
		memset(&perm, 0, sizeof perm);
		if (!mt_dkim_key_usable_for(vk->key, sig, &perm)) {
			set_result(s, MT_DKIM_PERMERROR, MT_DKIM_FAIL_NONE, "key %s: %s", vk->name,
			           perm.message);
			continue;
		}
		if (vk->key->key_type == MT_DKIM_KEY_RSA &&
		    vk->key->bits < (int)v->o.min_rsa_bits) {
			set_result(s, MT_DKIM_PERMERROR, MT_DKIM_FAIL_NONE,
			           "key %s: RSA key of %d bits, less than the %u required", vk->name,
			           vk->key->bits, v->o.min_rsa_bits);
			continue;
		}
		if (!bh || bh->digest_len != sig->bh_len ||
		    memcmp(bh->digest, sig->bh, sig->bh_len) != 0) {
			set_result(s, MT_DKIM_FAIL, MT_DKIM_FAIL_BODY_HASH,
			           "body hash did not verify (bh= differs from the body's hash)");
			continue;
		}
		if (!verify_sig(v, s, vk->key)) {
			set_result(s, MT_DKIM_FAIL, MT_DKIM_FAIL_SIGNATURE,
			           "signature did not verify (header hash or key mismatch)");
			continue;
		}
		set_result(s, MT_DKIM_PASS, MT_DKIM_FAIL_NONE, "%s", "");
	}
	shorten_b(v);
}

mt_status mt_dkim_verify_finish(mt_dkim_verify *v, mt_error *err)
{
	mt_status st;
	if (!v)
		return mt_error_set(err, MT_EINVAL, "mt_dkim_verify_finish: NULL argument");
	if (v->finished)
		return mt_error_set(err, MT_ESTATE, "mt_dkim_verify_finish: called twice");
	if (v->fail != MT_OK)
		return mt_error_set(err, v->fail, "%s", v->fail_msg);
	st = mt_msg_finish(v->msg, err);
	if (st != MT_OK)
		return st;
	if (v->fail != MT_OK)
		return mt_error_set(err, v->fail, "%s", v->fail_msg);
	if (mt_dkim_bodyhash_set_count(v->bhs) > 0 && mt_dkim_bodyhash_set_final(v->bhs) != MT_OK)
		return mt_error_set(err, MT_EIO, "DKIM verify: finishing the body hashes failed");
	v->finished = true;
	evaluate(v);
	return MT_OK;
}

bool mt_dkim_verify_header_done(const mt_dkim_verify *v)
{
	return v && v->header_done;
}

bool mt_dkim_verify_done(const mt_dkim_verify *v)
{
	return v && v->evaluated;
}

/* ---- the job ------------------------------------------------------------ */
static mt_status job_step(void *job, const mt_dns_question **qs, size_t *n)
{
	mt_dkim_verify *v = job;
	size_t c = 0;
	*n = 0;
	*qs = v->qs;
	if (!v->header_done)
		return MT_ESTATE;
	for (size_t k = 0; k < v->nkey; k++) {
		if (v->keys[k].state == KEY_DONE)
			continue;
		v->keys[k].state = KEY_ASKED;
		v->qs[c].id = (uint32_t)k;
		v->qs[c].name = v->keys[k].name;
		v->qs[c].type = MT_DNS_TXT;
		c++;
	}
	*n = c;
	if (c == 0)
		evaluate(v);
	return MT_OK;
}

static void key_error(vkey *k, mt_dkim_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void key_error(vkey *k, mt_dkim_result r, const char *fmt, ...)
{
	va_list ap;
	k->err = r;
	k->state = KEY_DONE;
	va_start(ap, fmt);
	vsnprintf(k->reason, sizeof k->reason, fmt, ap);
	va_end(ap);
}

static void keyset_release(void *p)
{
	keyset *ks = p;
	if (!ks || --ks->refs > 0)
		return;
	mt_dkim_key_free(ks->usable);
	mt_dkim_key_free(ks->first);
	free(ks);
}

/* Decode the TXT records of a key answer (bounded: each RDATA is at most
 * 65535 octets, so its join fits the buffer). */
static keyset *keyset_build(const mt_dns_answer *ans)
{
	keyset *ks = calloc(1, sizeof *ks);
	char *txt = NULL;
	if (!ks)
		return NULL;
	ks->refs = 1;
	for (size_t r = 0; r < ans->count && !ks->usable; r++) {
		mt_dkim_key *key = NULL;
		size_t len;
		if (ans->rr[r].type != MT_DNS_TXT)
			continue;
		if (!txt && !(txt = malloc(65536)))
			goto nomem;
		ks->ntxt++;
		len = mt_dns_txt_join(ans->rr[r].data, ans->rr[r].len, txt, 65536);
		if (len >= 65536)
			len = 65535;
		if (mt_dkim_key_parse(txt, len, &key) != MT_OK)
			goto nomem;
		if (!key->perm.failed)
			ks->usable = key;
		else if (!ks->first)
			ks->first = key;
		else
			mt_dkim_key_free(key);
	}
	free(txt);
	return ks;
nomem:
	free(txt);
	keyset_release(ks);
	return NULL;
}

static mt_status job_answer(void *job, uint32_t id, const mt_dns_answer *ans)
{
	mt_dkim_verify *v = job;
	vkey *k;
	keyset *ks;

	if (id >= v->nkey || !ans)
		return MT_EINVAL;
	k = &v->keys[id];
	if (k->state == KEY_DONE)
		return MT_OK;
	if (ans->rcode == MT_DNS_NXDOMAIN) {
		key_error(k, MT_DKIM_PERMERROR, "no key: %s does not exist (NXDOMAIN)", k->name);
		return MT_OK;
	}
	if (ans->rcode != MT_DNS_NOERROR) {
		key_error(k, MT_DKIM_TEMPERROR, "key lookup %s failed: %s%s%s", k->name,
		          mt_dns_rcode_name(ans->rcode), ans->why ? ", " : "", ans->why ? ans->why : "");
		return MT_OK;
	}
	ks = mt_dns_answer_derived(ans, keyset_release);
	if (ks) {
		ks->refs++;
	} else {
		ks = keyset_build(ans);
		if (!ks)
			return MT_ENOMEM;
		/* One reference for the answer (dropped at once when it cannot
		 * keep one), one for this verification. */
		ks->refs = 2;
		mt_dns_answer_set_derived(ans, ks, keyset_release);
	}
	k->ks = ks;
	if (ks->usable) {
		k->key = ks->usable;
		k->err = MT_DKIM_PASS;
		k->state = KEY_DONE;
	} else if (ks->ntxt == 0) {
		key_error(k, MT_DKIM_PERMERROR, "no key: no TXT record at %s", k->name);
	} else {
		key_error(k, MT_DKIM_PERMERROR, "key %s: %s", k->name, ks->first->perm.message);
	}
	return MT_OK;
}

static void job_abort(void *job, const char *reason)
{
	mt_dkim_verify *v = job;
	for (size_t k = 0; k < v->nkey; k++)
		if (v->keys[k].state != KEY_DONE)
			key_error(&v->keys[k], MT_DKIM_TEMPERROR, "key lookup %s did not finish: %s",
			          v->keys[k].name, reason ? reason : "aborted");
	v->aborted = true;
	evaluate(v);
}

static void job_set_time(void *job, int64_t now)
{
	mt_dkim_verify *v = job;
	if (v->o.now == 0)
		v->o.now = now;
}

static const mt_run_job_ops dkim_job_ops = {
	.step = job_step,
	.answer = job_answer,
	.abort = job_abort,
	.timeout_ms = NULL,
	.set_time = job_set_time,
};

const mt_run_job_ops *mt_dkim_verify_job_ops(void)
{
	return &dkim_job_ops;
}

mt_status mt_dkim_verify_run(mt_dkim_verify *v, mt_dns_resolver *res)
{
	mt_status st;

	if (!v || !res)
		return MT_EINVAL;
	if (!v->header_done)
		return MT_ESTATE;
	st = mt_run_one(res, &dkim_job_ops, v);
	evaluate(v);
	return st;
}

size_t mt_dkim_verify_count(const mt_dkim_verify *v)
{
	return v ? v->nsig : 0;
}

const mt_dkim_sig_result *mt_dkim_verify_result(const mt_dkim_verify *v, size_t i)
{
	if (!v || !v->evaluated || i >= v->nsig)
		return NULL;
	return &v->sigs[i].r;
}

mt_status mt_dkim_sig_authres(mt_authres *ar, const mt_dkim_sig_result *r, mt_error *err)
{
	char why[320];
	mt_authres_prop props[5];
	mt_authres_method m = { .method = "dkim", .result = mt_dkim_result_name(r->result) };
	const char *names[5] = { "d", "s", "i", "a", "b" };
	const char *vals[5] = { r->d, r->s, r->i, r->a, r->b };
	size_t np = 0;
	mt_status st;

	for (size_t k = 0; k < 5; k++)
		if (*vals[k])
			props[np++] = (mt_authres_prop){ "header", names[k], vals[k] };
	m.props = props;
	m.prop_count = np;
	if (*r->reason)
		m.reason = mt_ar_clean(why, sizeof why, r->reason);
	st = mt_authres_add(ar, &m, NULL);
	if (st == MT_EINVAL) { /* a value authres cannot carry: the result alone */
		m.props = NULL;
		m.prop_count = 0;
	}
	if (st != MT_OK)
		st = mt_authres_add(ar, &m, err); /* again, for the message */
	return st;
}

mt_status mt_dkim_verify_authres(const mt_dkim_verify *v, mt_authres *ar, mt_error *err)
{
	if (!v || !ar)
		return mt_error_set(err, MT_EINVAL, "mt_dkim_verify_authres: NULL argument");
	if (!v->evaluated)
		return mt_error_set(err, MT_ESTATE, "mt_dkim_verify_authres: results not final");
	if (v->nsig == 0) {
		mt_authres_method m = { .method = "dkim", .result = "none" };
		return mt_authres_add(ar, &m, err);
	}
	for (size_t k = 0; k < v->nsig; k++) {
		mt_status st = mt_dkim_sig_authres(ar, &v->sigs[k].r, err);
		if (st != MT_OK)
			return st;
	}
	return MT_OK;
}

const mt_msg *mt_dkim_verify_msg(const mt_dkim_verify *v)
{
	return v ? v->msg : NULL;
}
