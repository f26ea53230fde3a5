/* Internal interfaces of the DKIM module: canonicalization (RFC 6376
 * section 3.4) and body hashing.  Not part of the API yet. */
#ifndef MT_DKIM_INT_H
#define MT_DKIM_INT_H

#include <mailtrust/common.h>
#include <stdint.h>
#include "util/util.h"
#include "dkim/dkim_tags.h"

/* mt_dkim_canon and mt_dkim_hash are the tag parser's (one definition for
 * the module, so the verifier can use both headers). */

#define MT_DKIM_MAX_DIGEST 32u
/* Canonical body octets are gathered into blocks of this size before
 * they are handed to the digest. */
#define MT_DKIM_HASH_BLOCK 16384u
/* Distinct (c=, l=, hash) combinations one body hasher set holds. */
#define MT_DKIM_MAX_BODYHASH 32u

/* ---- Header fields ----------------------------------------------------- */
/*
 * Canonicalize one header field, given as its raw bytes in the message:
 * "name:value" with any folding, CRLF line ends, and its terminating CRLF
 * when it has one (the DKIM-Signature field being verified is passed
 * without it).  simple copies the bytes unchanged.  relaxed (section
 * 3.4.2): the name is lowercased, every CRLF but a final one is removed
 * (unfolding), runs of WSP become one SP, and WSP at the end of the value
 * and around the first colon is deleted; the output ends with CRLF exactly
 * when the input did.  The output is never longer than the input.
 *
 * Writes at most cap octets to out and sets *out_len to the canonical
 * length; returns MT_ERANGE (out then holds a truncated form) when cap is
 * too small, MT_EINVAL on a NULL argument.  Thread-safe.
 */
mt_status mt_dkim_canon_header(mt_dkim_canon c, const char *raw, size_t len,
                               char *out, size_t cap, size_t *out_len);
/* The same, appended to b (which keeps its maximum; b's sticky error is
 * returned). */
mt_status mt_dkim_canon_header_buf(mt_dkim_canon c, const char *raw, size_t len, mt_buf *b);

/* ---- Body: one canonicalizer feeding one digest ------------------------ */
/*
 * A body hasher canonicalizes the body as a stream (section 3.4.3 simple,
 * 3.4.4 relaxed) and hashes the canonical octets, never holding the body:
 * trailing empty lines are kept only as a count, whitespace state carries
 * across chunks, and a CR at the end of a chunk waits for the next one.
 * Line ends are CRLF; a bare LF is taken as CRLF, a CR not followed by LF
 * is an ordinary character.  An empty body is CRLF under simple and
 * nothing under relaxed.
 *
 * With has_limit, only the first `limit` canonical octets (DKIM l=) are
 * hashed; canon_len still counts the whole canonical body, so canon_len >
 * limit says that content follows the signed part.
 */
typedef struct mt_dkim_bodyhash mt_dkim_bodyhash;

typedef struct mt_dkim_bodyhash_result {
	mt_dkim_canon canon;
	mt_dkim_hash hash;
	bool has_limit;
	uint64_t limit;
	uint64_t canon_len;   /* octets of the whole canonical body */
	uint64_t hashed;      /* octets given to the digest: min(canon_len, limit) */
	unsigned char digest[MT_DKIM_MAX_DIGEST];
	size_t digest_len;    /* 32 for SHA-256, 20 for SHA-1 */
} mt_dkim_bodyhash_result;

/* NULL when out of memory or when libcrypto cannot provide the digest. */
mt_dkim_bodyhash *mt_dkim_bodyhash_new(mt_dkim_canon c, mt_dkim_hash h, bool has_limit,
                                       uint64_t limit);
void mt_dkim_bodyhash_free(mt_dkim_bodyhash *bh);
/* Feed the next len octets of the body (any size, len 0 allowed).
 * MT_ESTATE after final, MT_EIO when libcrypto fails. */
mt_status mt_dkim_bodyhash_update(mt_dkim_bodyhash *bh, const void *data, size_t len);
/* End of body: emits the final line end and finishes the digest.  The
 * result stays readable until free; update and final are then MT_ESTATE. */
mt_status mt_dkim_bodyhash_final(mt_dkim_bodyhash *bh);
const mt_dkim_bodyhash_result *mt_dkim_bodyhash_result_get(const mt_dkim_bodyhash *bh);
/* Also append every hashed canonical octet to copy (owned by the caller,
 * capped by its maximum): for tests, fuzzing and showing what was signed.
 * Call before the first update. */
void mt_dkim_bodyhash_copy_to(mt_dkim_bodyhash *bh, mt_buf *copy);

/* ---- Several body hashes in one pass ------------------------------------ */
/*
 * A set of body hashers fed the same chunks: one per distinct (canon,
 * hash, l=) combination.  Adding a combination already present returns the
 * existing index, so every signature asks for its own and shares the work.
 */
typedef struct mt_dkim_bodyhash_set mt_dkim_bodyhash_set;

mt_dkim_bodyhash_set *mt_dkim_bodyhash_set_new(void);
void mt_dkim_bodyhash_set_free(mt_dkim_bodyhash_set *set);
/* Index of the combination in *idx.  MT_ERANGE beyond MT_DKIM_MAX_BODYHASH
 * combinations, MT_ESTATE once data has been fed, MT_ENOMEM. */
mt_status mt_dkim_bodyhash_set_add(mt_dkim_bodyhash_set *set, mt_dkim_canon c, mt_dkim_hash h,
                                   bool has_limit, uint64_t limit, size_t *idx);
size_t mt_dkim_bodyhash_set_count(const mt_dkim_bodyhash_set *set);
mt_status mt_dkim_bodyhash_set_update(mt_dkim_bodyhash_set *set, const void *data, size_t len);
mt_status mt_dkim_bodyhash_set_final(mt_dkim_bodyhash_set *set);
/* NULL for an index out of range or before final. */
const mt_dkim_bodyhash_result *mt_dkim_bodyhash_set_result(const mt_dkim_bodyhash_set *set,
                                                           size_t idx);

/* ---- Signing keys --------------------------------------------------------- */
struct mt_dkim_keygen;
/* The key's EVP_PKEY (borrowed; read-only use from any thread). */
void *mt_dkim_keygen_pkey(const struct mt_dkim_keygen *key);

/*
 * The core of signing, also for tests that compare with published
 * signatures: the header data of RFC 6376 3.7 for the fields of msg named
 * in names[0..n) (picked from the bottom, a name listed more often than
 * present contributes nothing), then the signature field `field` (its raw
 * text "DKIM-Signature: ...b=" with CRLF line ends, the b= value empty and
 * no final CRLF), canonicalized with c, hashed and signed with key.  On
 * MT_OK *b64 is the base64 signature (free with free()).
 */
struct mt_msg;
mt_status mt_dkim_sign_header(const struct mt_dkim_keygen *key, const struct mt_msg *msg,
                              const char *const *names, size_t n, mt_dkim_canon c,
                              const char *field, size_t field_len, char **b64, mt_error *err);
/* The verifier's message reader (msg.h): its header fields, for a caller
 * in the library that needs more of the header (the verdict's From). */
struct mt_dkim_verify;
struct mt_msg;
const struct mt_msg *mt_dkim_verify_msg(const struct mt_dkim_verify *v);
/* One signature's dkim= entry (header.d/s/i/a/b, the reason made fit for
 * a value); a property authres cannot carry leaves the result and reason
 * alone.  mt_dkim_verify_authres() and the verdict use it. */
struct mt_authres;
struct mt_dkim_sig_result;
mt_status mt_dkim_sig_authres(struct mt_authres *ar, const struct mt_dkim_sig_result *r,
                              mt_error *err);

#endif
