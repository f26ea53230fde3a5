/*
 * mailtrust DKIM signing (RFC 6376 section 5, RFC 8301, RFC 8463).
 *
 * Keys: a private key is an mt_dkim_keygen object (dkim_key.h), loaded
 * once from PEM with mt_dkim_keygen_from_pem() (RSA of 1024 to 8192 bits,
 * or ed25519) or made with mt_dkim_keygen_generate().  A key is never
 * changed by signing: one key may sign any number of messages, from
 * several threads at once (each thread with its own signer).
 *
 * A signer signs one message.  It takes one or more (key, d=, s=) entries,
 * so that an rsa-sha256 and an ed25519-sha256 signature (RFC 8463 section
 * 4 suggests both) come out of one pass over the message.  The raw message
 * is fed in chunks of any size and the body is never held: it is
 * canonicalized and hashed as it streams (one body hash shared by all
 * entries).  Bare LF line ends are taken as CRLF (see msg.h).  Order:
 *
 *     mt_dkim_sign_new(&opts, &s, &err);
 *     mt_dkim_sign_add(s, rsa_key, "example.com", "rsa2026", NULL, &err);
 *     mt_dkim_sign_add(s, ed_key, "example.com", "ed2026", NULL, &err);
 *     mt_dkim_sign_feed(s, data, len, &err);    // any number of times
 *     mt_dkim_sign_finish(s, &err);
 *     fields = mt_dkim_sign_fields(s, &len);    // write these, then the
 *                                               // original message
 *     mt_dkim_sign_free(s);
 *
 * What is signed (section 5.4): the fields named in the header list
 * (options.headers, or MT_DKIM_SIGN_DEFAULT_HEADERS), each name listed in
 * h= once per instance present in the message, plus every name of the
 * oversign list (default "from") listed one more time, so that a field of
 * that name added later breaks the signature (section 8.15).  Names are
 * written in h= as the lists give them, in list order, the oversigned ones
 * at the end.  The list must name From, the message must have a From field
 * (MT_ESYNTAX otherwise), and h= holds at most 256 names (MT_ERANGE).
 *
 * The DKIM-Signature field, tags in this order:
 *   v=1; a=rsa-sha256|ed25519-sha256; c=HEADER/BODY; d=; s=; [i=;] [t=;]
 *   [x=;] [l=;] h=; bh=; b=
 * folded with CRLF SP so that no line is longer than 78 columns (a tag
 * value without room to break, such as a very long d=, may make one
 * longer); base64 values and h= are broken where the line is full.  t= is
 * written when options.now is set (a clock the caller passes in: the
 * library reads none), x= = now + options.expire, l= only when
 * options.body_length asks for it (l= lets anyone append content that
 * still verifies: section 8.2).  The hash covers the field exactly as it
 * is returned, so it may be written with CRLF or, with options.lf, LF
 * line ends (a verifier takes LF as CRLF).
 *
 * rsa-sha256 is RSASSA-PKCS1-v1_5 over SHA-256 of the header data (section
 * 3.7); ed25519-sha256 is PureEdDSA over the SHA-256 of the same data (RFC
 * 8463 section 3).  Both are deterministic: the same key, message and
 * options (and now) give the same fields byte for byte.
 *
 * Errors are returned with a message in err, never printed; the library
 * keeps no global state.  MT_EINVAL a bad argument (a malformed d=, s=,
 * i= or header list, a call out of place); MT_ESTATE a call out of order;
 * MT_ESYNTAX a message that cannot be signed (no From field, a header
 * that begins with a continuation line, which a prepended field would
 * swallow); MT_ERANGE a cap of msg.h or more than 256 h= names; MT_ENOMEM;
 * MT_EIO libcrypto failed.  After a failure of feed or finish every later
 * call returns it again.
 *
 * Thread safety: a signer must not be used from two threads at once;
 * distinct signers are independent and may share keys.
 */
#ifndef MAILTRUST_DKIM_SIGN_H
#define MAILTRUST_DKIM_SIGN_H

#include <mailtrust/common.h>
#include <mailtrust/dkim_key.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The header fields signed by default: RFC 6376 5.4.1's list, plus
 * Message-ID, the MIME fields, Sender, and List-Unsubscribe-Post (RFC
 * 8058 3 requires it signed). */
#define MT_DKIM_SIGN_DEFAULT_HEADERS                                                    \
	"from:reply-to:subject:date:to:cc:resent-date:resent-from:resent-to:resent-cc:"  \
	"in-reply-to:references:message-id:mime-version:content-type:"                 \
	"content-transfer-encoding:sender:list-id:list-help:list-unsubscribe:"           \
	"list-unsubscribe-post:list-subscribe:list-post:list-owner:list-archive"
/* Oversigned by default. */
#define MT_DKIM_SIGN_DEFAULT_OVERSIGN "from"

/* Entries (keys) one signer takes at most. */
#define MT_DKIM_SIGN_MAX_KEYS 8

typedef enum mt_dkim_sign_canon {
	MT_DKIM_SIGN_SIMPLE = 0,
	MT_DKIM_SIGN_RELAXED = 1,
} mt_dkim_sign_canon;

typedef struct mt_dkim_sign_options {
	size_t size;                    /* sizeof(mt_dkim_sign_options), set by init */
	mt_dkim_sign_canon canon_header;/* c= (default relaxed/relaxed) */
	mt_dkim_sign_canon canon_body;
	const char *headers;            /* colon-separated names to sign; NULL: the
	                                   default list.  Copied by mt_dkim_sign_new. */
	const char *oversign;           /* colon-separated names listed once more than
	                                   present; NULL: "from"; "": none */
	int64_t now;                    /* seconds since the Epoch for t=; 0: no t= */
	uint64_t expire;                /* x= = now + expire; 0: no x= (needs now) */
	bool body_length;               /* write l= (the whole canonical body) */
	bool lf;                        /* fields end lines in LF, not CRLF */
	size_t max_header_bytes;        /* passed to mt_msg (0: its default) */
	size_t max_fields;              /* passed to mt_msg (0: its default) */
} mt_dkim_sign_options;

/* Fill opts with the defaults (relaxed/relaxed, default lists, no t=). */
MT_EXPORT void mt_dkim_sign_options_init(mt_dkim_sign_options *opts);

/* Parse "relaxed/simple", "simple" (= simple/simple, as c= reads) ... into
 * the two canonicalizations.  MT_EINVAL with err saying what is wrong. */
MT_EXPORT mt_status mt_dkim_sign_parse_canon(const char *text, mt_dkim_sign_canon *header,
                                             mt_dkim_sign_canon *body, mt_error *err);

typedef struct mt_dkim_sign mt_dkim_sign;

/*
 * A new signer.  opts may be NULL (the defaults); a smaller size leaves
 * later fields at their defaults.  The header lists are checked here
 * (field names: printable ASCII but ':'; From must be in headers;
 * DKIM-Signature may not be oversigned, the fields added would count):
 * MT_EINVAL with err naming the bad name; MT_EINVAL also for expire
 * without now.  Free with mt_dkim_sign_free() (accepts NULL).
 */
MT_EXPORT mt_status mt_dkim_sign_new(const mt_dkim_sign_options *opts, mt_dkim_sign **out,
                                     mt_error *err);
MT_EXPORT void mt_dkim_sign_free(mt_dkim_sign *s);

/*
 * Add a signature to make: key (borrowed: it must outlive the signer),
 * the signing domain d= and the selector s= (checked as by
 * mt_dkim_record_check_names), and an optional identity i= (NULL: none)
 * "[local-part]@domain" whose domain is d= or a subdomain of it (section
 * 3.5); its local part is written dkim-quoted-printable (at most 512
 * octets in all).  Before the first
 * feed only (MT_ESTATE), at most MT_DKIM_SIGN_MAX_KEYS (MT_ERANGE).  The
 * fields come out in the order the entries were added.
 */
MT_EXPORT mt_status mt_dkim_sign_add(mt_dkim_sign *s, const mt_dkim_keygen *key,
                                     const char *domain, const char *selector,
                                     const char *identity, mt_error *err);

/* Feed len octets of the raw message (any chunking; len 0 is allowed).
 * MT_ESTATE without any entry, or after finish. */
MT_EXPORT mt_status mt_dkim_sign_feed(mt_dkim_sign *s, const void *data, size_t len,
                                      mt_error *err);
/* The end of the message: the signatures are made. */
MT_EXPORT mt_status mt_dkim_sign_finish(mt_dkim_sign *s, mt_error *err);

/*
 * After a successful finish: all DKIM-Signature fields, one per entry in
 * the order added, each ending in CRLF (LF with options.lf), as one
 * NUL-terminated string owned by the signer (*len its length when len is
 * not NULL); mt_dkim_sign_field() gives entry i alone, as a pointer into
 * that string and its length in *len (required: only the last field is
 * followed by a NUL).  NULL before finish, after a failure, for i out of
 * range, or (mt_dkim_sign_field) a NULL len.
 */
MT_EXPORT const char *mt_dkim_sign_fields(const mt_dkim_sign *s, size_t *len);
MT_EXPORT size_t mt_dkim_sign_count(const mt_dkim_sign *s);
MT_EXPORT const char *mt_dkim_sign_field(const mt_dkim_sign *s, size_t i, size_t *len);
/* Octets of the canonical body (what l= says when asked), after finish. */
MT_EXPORT uint64_t mt_dkim_sign_body_length(const mt_dkim_sign *s);

/* ---- is the key published? --------------------------------------------- */
typedef enum mt_dkim_key_match {
	MT_DKIM_KEY_MATCH = 0,   /* the record publishes this key's public key */
	MT_DKIM_KEY_MISMATCH,    /* a usable key, but another one (or another type) */
	MT_DKIM_KEY_REVOKED,     /* p= is empty */
	MT_DKIM_KEY_UNUSABLE,    /* the record does not parse as a usable key */
} mt_dkim_key_match;

/*
 * Compare key with a published key record (len octets, the TXT strings
 * joined): *match says the outcome and reason (NUL-terminated, at most
 * reason_cap octets; may be NULL) says why in one line.  MT_EINVAL for
 * NULL arguments, MT_ENOMEM.  Thread-safe.
 */
MT_EXPORT mt_status mt_dkim_key_match_record(const mt_dkim_keygen *key, const char *record,
                                             size_t len, mt_dkim_key_match *match,
                                             char *reason, size_t reason_cap);

#ifdef __cplusplus
}
#endif
#endif
