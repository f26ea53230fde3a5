/* Internal: DKIM's two tag-lists (RFC 6376 3.2), the DKIM-Signature header
 * field's value (3.5, 6.1.1) and the key record (3.6.1, RFC 8301, RFC 8463),
 * parsed strictly.  Not part of the API (yet).
 *
 * Protocol outcomes are not call errors: a malformed signature or key is
 * parsed into an object whose perm.failed is set, with the reason, the tag
 * and the tag's byte offset in the input; the calls return MT_OK for it.
 * They fail only for a bad argument (MT_EINVAL) or memory (MT_ENOMEM). */
#ifndef MT_DKIM_TAGS_H
#define MT_DKIM_TAGS_H

#include <mailtrust/common.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds: a tag-list longer than MT_DKIM_TAGLIST_MAX octets or with more
 * than MT_DKIM_TAGS_MAX tags is rejected; h= holds at most
 * MT_DKIM_SIG_HEADERS_MAX names and z= at most MT_DKIM_SIG_COPIED_MAX fields. */
#define MT_DKIM_TAGLIST_MAX    16384
#define MT_DKIM_TAGS_MAX       64
#define MT_DKIM_SIG_HEADERS_MAX 256
#define MT_DKIM_SIG_COPIED_MAX  256

/* ---- tag=value lists (RFC 6376 3.2) ------------------------------------ */
typedef struct mt_dkim_tag {
	const char *name;     /* points into the input */
	size_t name_len;
	size_t name_off;      /* offset of the tag name in the input */
	const char *value;    /* the value without the FWS around it */
	size_t value_len;
	size_t value_off;
	/* the whole span after '=' up to the ';' or the end, FWS included:
	 * what RFC 6376 3.7 deletes for b= */
	size_t raw_off;
	size_t raw_len;
} mt_dkim_tag;

typedef struct mt_dkim_taglist {
	mt_dkim_tag tags[MT_DKIM_TAGS_MAX];
	size_t count;
} mt_dkim_taglist;

/* Why a tag-list, signature or key is a permerror. */
typedef struct mt_dkim_perm {
	bool failed;
	size_t offset;        /* offset of the offending tag's name; for a missing
	                         required tag, the input's length */
	char tag[16];         /* the tag's name ("" when the list itself is bad) */
	char message[200];    /* one line, says what is wrong */
} mt_dkim_perm;

/* Split s[0..len) into tags: FWS (WSP, CRLF WSP, and LF WSP for input
 * whose line ends were taken as LF) around names, '=' and values; names
 * ALPHA *(ALPHA / DIGIT / "_"), case-sensitive; values of VALCHARs with
 * FWS only between them; one empty ';' (plus FWS) at the end allowed;
 * duplicate names rejected.  Views point into s.  Returns false and fills
 * perm when the list is malformed. */
bool mt_dkim_taglist_parse(const char *s, size_t len, mt_dkim_taglist *out, mt_dkim_perm *perm);

/* The tag named name (NUL-terminated), or NULL. */
const mt_dkim_tag *mt_dkim_taglist_get(const mt_dkim_taglist *tl, const char *name);

/* ---- algorithms -------------------------------------------------------- */
typedef enum mt_dkim_hash {
	MT_DKIM_HASH_SHA256 = 1,
	MT_DKIM_HASH_SHA1 = 2,
} mt_dkim_hash;

typedef enum mt_dkim_keytype {
	MT_DKIM_KEY_RSA = 1,
	MT_DKIM_KEY_ED25519 = 2,
} mt_dkim_keytype;

typedef enum mt_dkim_canon {
	MT_DKIM_CANON_SIMPLE = 0,
	MT_DKIM_CANON_RELAXED = 1,
} mt_dkim_canon;

/* Octets of a digest of that hash (32 or 20). */
size_t mt_dkim_hash_size(mt_dkim_hash h);

/* ---- DKIM-Signature (RFC 6376 3.5, 6.1.1) ------------------------------ */
typedef struct mt_dkim_str {
	const char *p;        /* NUL-terminated copy owned by the signature */
	size_t len;
} mt_dkim_str;

typedef struct mt_dkim_sig {
	mt_dkim_perm perm;          /* perm.failed: the signature is a permerror */

	mt_dkim_keytype key_type;   /* a= */
	mt_dkim_hash hash;
	bool alg_acceptable;        /* false for rsa-sha1 (RFC 8301 3.1) */
	mt_dkim_canon canon_header; /* c=, default simple/simple */
	mt_dkim_canon canon_body;
	mt_dkim_str d;              /* signing domain, as written */
	mt_dkim_str s;              /* selector */
	mt_dkim_str i;              /* AUID; "@" + d when absent */
	bool i_given;
	mt_dkim_str i_domain;       /* the part of i after its last '@' */
	mt_dkim_str *headers;       /* h=, in order, names as written */
	size_t header_count;
	bool has_l;
	uint64_t l;                 /* body length limit (l=) */
	bool has_t, has_x;
	uint64_t t, x;              /* timestamp and expiry, seconds since the epoch */
	mt_dkim_str *copied;        /* z=: the fields as written (dkim-quoted-printable) */
	size_t copied_count;
	uint8_t *b;                 /* decoded signature */
	size_t b_len;
	uint8_t *bh;                /* decoded body hash, mt_dkim_hash_size(hash) octets */
	size_t bh_len;
	/* b='s value in the raw header value: [b_raw_off, b_raw_off + b_raw_len),
	 * FWS around it included; the verifier hashes the field with this
	 * span removed (RFC 6376 3.7). */
	size_t b_raw_off, b_raw_len;

	struct mt_arena *arena;     /* owns everything above */
} mt_dkim_sig;

/* Parse the value of one DKIM-Signature field (the octets after the
 * colon, folding kept, without the field's final CRLF).  *out is set on MT_OK, also for a permerror
 * (check (*out)->perm.failed); free it with mt_dkim_sig_free.  Fields after
 * the first error may be unset. */
mt_status mt_dkim_sig_parse(const char *value, size_t len, mt_dkim_sig **out);
void mt_dkim_sig_free(mt_dkim_sig *sig);

/* ---- key record (RFC 6376 3.6.1, RFC 8301, RFC 8463) ------------------- */
typedef struct mt_dkim_key {
	mt_dkim_perm perm;          /* perm.failed: the key is unusable (permerror) */

	mt_dkim_keytype key_type;   /* k=, default rsa */
	bool has_h;                 /* h= given: only the hashes below allowed */
	bool h_sha256, h_sha1;
	bool revoked;               /* p= empty */
	bool testing;               /* t=y */
	bool strict;                /* t=s: i= must equal d=, no subdomain */
	bool service_email;         /* s= absent, or lists * or email */
	const char *notes;          /* n= as written, or NULL */
	uint8_t *p;                 /* decoded p= */
	size_t p_len;
	bool rsa_bare;              /* p= held a bare PKCS#1 RSAPublicKey, not a
	                               SubjectPublicKeyInfo (some publishers do) */
	int bits;                   /* key size in bits */
	bool acceptable;            /* false when RSA < 1024 bits (RFC 8301 3.2);
	                               perm says why */
	void *pkey;                 /* EVP_PKEY *, owned; NULL when revoked or bad */
	void *rsa_vctx;             /* RSA: an EVP_PKEY_CTX * made once, initialised
	                               for PKCS#1 v1.5 SHA-256 verification (owned;
	                               NULL if that failed: the caller makes its
	                               own).  Used by one thread at a time, like
	                               the key's cache. */
	bool k_given;
	size_t k_off, h_off, t_off; /* offsets of the k=, h=, t= tags (when given) */
	size_t len;                 /* the record's length */

	struct mt_arena *arena;
} mt_dkim_key;

/* Parse a key record (the TXT strings joined).  Same conventions as
 * mt_dkim_sig_parse: MT_OK with perm.failed for a bad or unusable key. */
mt_status mt_dkim_key_parse(const char *rec, size_t len, mt_dkim_key **out);
void mt_dkim_key_free(mt_dkim_key *key);

/* Does the key's h= allow this hash?  (true when h= is absent) */
bool mt_dkim_key_allows_hash(const mt_dkim_key *key, mt_dkim_hash h);

/* Can key verify sig?  Copies key->perm when the key itself is bad; else
 * fails, saying why in perm (offsets in the key record), when k= differs
 * from a='s key type, when h= excludes a='s hash, or when t=s and the i=
 * domain is not d= itself (RFC 6376 3.6.1).  Does not judge a= itself
 * (sig->alg_acceptable) nor the key size (key->acceptable, in key->perm). */
bool mt_dkim_key_usable_for(const mt_dkim_key *key, const mt_dkim_sig *sig, mt_dkim_perm *perm);

/* Decode base64 (FWS ignored; padding optional but never misplaced) into
 * out (at least len * 3 / 4 + 3 octets).  Returns false when malformed. */
bool mt_dkim_base64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len);

/* Mark perm failed (first failure sticks): offset, tag (may be NULL), message. */
void mt_dkim_perm_set(mt_dkim_perm *perm, size_t offset, const char *tag, size_t tag_len,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
