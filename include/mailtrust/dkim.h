/*
 * mailtrust DKIM verification (RFC 6376, RFC 8301, RFC 8463).
 *
 * A verifier reads one message as a stream and evaluates every
 * DKIM-Signature on it, each with its own result.  The message is fed in
 * chunks of any size (mt_dkim_verify_feed), then ended
 * (mt_dkim_verify_finish); the body is never held: one pass computes the
 * body hashes of all signatures (shared where c=, l= and the hash agree).
 * Bare LF line ends are taken as CRLF (see msg.h).
 *
 * Keys are fetched through the job driver (run.h): the verifier is a job,
 * mt_dkim_verify_job_ops().  Its step() asks TXT at
 * selector._domainkey.domain once per distinct name.  Order:
 *
 *     mt_dkim_verify_new(NULL, &v, &err);
 *     mt_dkim_verify_feed(v, data, len, &err);   // any number of times
 *     mt_dkim_verify_finish(v, &err);
 *     mt_dkim_verify_run(v, resolver);           // or mt_run_add(run,
 *                                                //   mt_dkim_verify_job_ops(), v, 0, u)
 *
 * The job may also be added to a driver as soon as the header block has
 * been fed (mt_dkim_verify_header_done()), so the keys are fetched while
 * the body streams in; step() before that fails with MT_ESTATE.  Results
 * are final when both the message is finished and the job is done
 * (mt_dkim_verify_done()).
 *
 * Key answers: of the TXT records at the name, the first that parses as a
 * usable key is taken; when none does, the first record's reason is the
 * permerror.  NODATA ("no key") and NXDOMAIN (RFC 6376 6.1.2, key not
 * found) are permerror; SERVFAIL, REFUSED, a timeout or another failure is
 * temperror.  CNAMEs are followed by the resolver.
 *
 * Per signature (RFC 6376 section 6): a malformed signature is permerror
 * with the tag and offset (dkim_tags); rsa-sha1 is permerror (RFC 8301
 * 3.1); a key under min_rsa_bits, revoked (empty p=), of the wrong k=, or
 * whose h= excludes the hash is permerror; with a clock (now != 0) an
 * expired x= is permerror ("signature expired", RFC 6376 6.1.1 allows
 * PERMFAIL) and a t= more than max_future_skew seconds ahead is
 * permerror; a body hash that differs from bh= is fail (body hash); a
 * signature that does not verify is fail (signature).  The header hash
 * follows section 3.7: the fields named in h= are taken from the bottom of
 * the header, a name listed more often than present contributes nothing
 * (oversigning), and the DKIM-Signature field itself comes last with the
 * b= value (and the whitespace around it) removed and without its CRLF.
 * ed25519-sha256 verifies the SHA-256 of that data with PureEdDSA (RFC
 * 8463 section 3); rsa-sha256 is PKCS#1 v1.5 over SHA-256.  l= is
 * honoured; a body longer than l= sets l_risk (content may have been
 * appended).  A key with t=y sets testing.  Signatures beyond
 * max_signatures are reported with MT_DKIM_POLICY and evaluated == false.
 *
 * Errors of the calls (not results): MT_EINVAL, MT_ENOMEM, MT_ERANGE (a
 * header cap of msg.h), MT_ESTATE (a call out of order), with err set.
 *
 * Thread safety: one verifier per thread at a time; distinct verifiers are
 * independent.
 */
#ifndef MAILTRUST_DKIM_H
#define MAILTRUST_DKIM_H

#include <mailtrust/common.h>
#include <mailtrust/run.h>
#include <mailtrust/authres.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MT_DKIM_MAX_SIGNATURES 32 /* upper bound of max_signatures */

typedef struct mt_dkim_verify_options {
	size_t size;             /* sizeof(mt_dkim_verify_options), set by init */
	unsigned max_signatures; /* evaluated at most (default 10, at most
	                            MT_DKIM_MAX_SIGNATURES); the rest are
	                            reported as not evaluated */
	unsigned max_future_skew;/* seconds a t= may be ahead of now (default 300) */
	int64_t now;             /* seconds since the Epoch for the x=/t= checks;
	                            0: the driver's set_time gives it; with no
	                            time at all they are not checked */
	unsigned min_rsa_bits;   /* default 1024; smaller values are raised to 1024 */
	size_t max_header_bytes; /* passed to mt_msg (0: its default) */
	size_t max_fields;       /* passed to mt_msg (0: its default) */
} mt_dkim_verify_options;

MT_EXPORT void mt_dkim_verify_options_init(mt_dkim_verify_options *opts);

typedef enum mt_dkim_result {
	MT_DKIM_PASS = 0,
	MT_DKIM_FAIL,        /* see mt_dkim_fail */
	MT_DKIM_NEUTRAL,
	MT_DKIM_TEMPERROR,   /* DNS */
	MT_DKIM_PERMERROR,   /* syntax, key, algorithm, time */
	MT_DKIM_POLICY,      /* not evaluated (over max_signatures) */
} mt_dkim_result;

/* "pass", "fail", ... as RFC 8601 writes them. */
MT_EXPORT const char *mt_dkim_result_name(mt_dkim_result r);

typedef enum mt_dkim_fail {
	MT_DKIM_FAIL_NONE = 0,
	MT_DKIM_FAIL_BODY_HASH,  /* the body hash differs from bh= */
	MT_DKIM_FAIL_SIGNATURE,  /* b= does not verify over the header hash */
} mt_dkim_fail;

/*
 * One signature's outcome.  Strings are owned by the verifier, never NULL
 * ("" when not known, e.g. for a malformed signature).
 *  reason    one line saying why (for pass: "")
 *  d s i a   the tags as written (i: "@" d when absent)
 *  b         the first characters of b= (RFC 6008 header.b: at least 8,
 *            more when needed to tell this message's signatures apart)
 *  field     the signature field's index in the header (mt_msg_field.index)
 */
typedef struct mt_dkim_sig_result {
	mt_dkim_result result;
	mt_dkim_fail fail;
	bool evaluated;
	const char *reason;
	const char *d, *s, *i, *a;
	const char *b;
	bool testing;        /* the key has t=y */
	bool strict;         /* the key has t=s */
	bool has_l;
	uint64_t l;
	bool l_risk;         /* the canonical body is longer than l= */
	uint64_t body_length;/* octets of the canonical body */
	int key_bits;        /* of the key used, 0 when none */
	size_t field;
} mt_dkim_sig_result;

typedef struct mt_dkim_verify mt_dkim_verify;

/* opts may be NULL (defaults); a smaller size leaves later fields at their
 * defaults.  Free with mt_dkim_verify_free (accepts NULL). */
MT_EXPORT mt_status mt_dkim_verify_new(const mt_dkim_verify_options *opts, mt_dkim_verify **out,
                                       mt_error *err);
MT_EXPORT void mt_dkim_verify_free(mt_dkim_verify *v);

MT_EXPORT mt_status mt_dkim_verify_feed(mt_dkim_verify *v, const void *data, size_t len,
                                        mt_error *err);
MT_EXPORT mt_status mt_dkim_verify_finish(mt_dkim_verify *v, mt_error *err);

/* Has the header block been read (the job may be added)? */
MT_EXPORT bool mt_dkim_verify_header_done(const mt_dkim_verify *v);
/* Finished and every key answered: the results are final. */
MT_EXPORT bool mt_dkim_verify_done(const mt_dkim_verify *v);

/* The verifier as a job of the driver (run.h). */
MT_EXPORT const mt_run_job_ops *mt_dkim_verify_job_ops(void);
/* Blocking: run the job over res until every key is answered.  MT_ESTATE
 * before the header is complete. */
MT_EXPORT mt_status mt_dkim_verify_run(mt_dkim_verify *v, mt_dns_resolver *res);

/* Signatures on the message (evaluated or not), top to bottom, and one
 * of them (NULL out of range or before mt_dkim_verify_done()). */
MT_EXPORT size_t mt_dkim_verify_count(const mt_dkim_verify *v);
MT_EXPORT const mt_dkim_sig_result *mt_dkim_verify_result(const mt_dkim_verify *v, size_t i);

/* Add one "dkim=" entry per signature to ar (header.d, header.s, header.i,
 * header.a, header.b; reason for a failure), or "dkim=none" for a message
 * without signatures.  MT_ESTATE before mt_dkim_verify_done(); MT_ERANGE
 * (from mt_authres_add) past MT_AUTHRES_MAX_METHODS entries in ar.  A
 * signature whose d=, i= ... authres cannot carry gets its result alone. */
MT_EXPORT mt_status mt_dkim_verify_authres(const mt_dkim_verify *v, mt_authres *ar, mt_error *err);

#ifdef __cplusplus
}
#endif
#endif
