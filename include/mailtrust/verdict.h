/*
 * mailtrust verdict: one receiver's verdict on one message.
 *
 * A verdict combines, for one SMTP transaction:
 *  - SPF (RFC 7208) of the MAIL FROM identity and, when a HELO/EHLO name
 *    was given, of the HELO identity, as two separate checks (sections 2.3
 *    and 2.4: their results are kept apart and both reported);
 *  - every DKIM-Signature of the message (RFC 6376), the message streamed
 *    in chunks of any size, never held whole;
 *  - DMARC (RFC 9989, draft-ietf-dmarc-dmarcbis-41) for the RFC5322.From
 *    domain: alignment of the SPF-authenticated identifier (the MAIL FROM
 *    domain; for a null reverse-path the HELO domain, the HELO check's
 *    result) and of every passing signature's d=, the policy (p=, sp= or
 *    np= applied) and the disposition;
 * and gives ONE Authentication-Results field (RFC 8601) built by the
 * authres module: "spf=" for MAIL FROM (smtp.mailfrom) and for HELO
 * (smtp.helo), one "dkim=" per signature (header.d/s/i/a/b) or
 * "dkim=none", and "dmarc=" with header.from and policy.dmarc (the policy
 * for the From domain after sp=/np= are applied).
 *
 * The verdict is a job of the driver (run.h) whose sub-jobs are the SPF
 * checks, the DKIM key fetches and the DMARC check; their questions go out
 * together.  Order, as a milter sees a transaction:
 *
 *     mt_verdict_new(NULL, &v, &err);
 *     mt_verdict_set_connection(v, "192.0.2.1", "mail.example.com", &err);
 *     mt_verdict_set_mail_from(v, "bounce@example.com", &err);  // NULL or "": <>
 *     mt_verdict_feed(v, chunk, len, &err);                      // any number of times
 *     mt_verdict_finish(v, &err);
 *     mt_verdict_run(v, resolver);      // or mt_run_add(run, mt_verdict_job_ops(), v, 0, u)
 *     const mt_verdict_outcome *o = mt_verdict_result(v);
 *     mt_verdict_authres_field(v, "mx.example.org", MT_AUTHRES_PREFIX, &field, &err);
 *
 * The job may be added to a driver only after mt_verdict_finish(); its
 * step() before that fails with MT_ESTATE.
 *
 * Hostile messages give results, not failed calls: a header over the
 * limits (max_header_bytes, max_fields; thousands of From fields, a
 * megabyte of header) stops reading the message, and the verdict says
 * dkim=permerror and dmarc=permerror with that reason; NUL octets are
 * kept as msg.h says.  A message without exactly one From field with one
 * author domain (none, several From fields, several domains, a From that
 * does not parse) is dmarc=permerror with the reason (the draft's
 * section 5.3.1 and 11.5: DMARC cannot be applied; the OpenDMARC multiple
 * From CVE class is avoided by never picking one of several).
 *
 * Errors of the calls: MT_EINVAL (NULL argument, a client address that is
 * not an IP address), MT_ESTATE (a call out of order), MT_ENOMEM, with err
 * set.  There is no global state; one verdict is used by one thread at a
 * time, distinct verdicts are independent.
 */
#ifndef MAILTRUST_VERDICT_H
#define MAILTRUST_VERDICT_H

#include <mailtrust/common.h>
#include <mailtrust/run.h>
#include <mailtrust/authres.h>
#include <mailtrust/spf.h>
#include <mailtrust/dkim.h>
#include <mailtrust/dmarc.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mt_verdict_options {
	size_t size;              /* sizeof(mt_verdict_options), set by init */
	mt_dmarc_org_mode org_mode; /* DMARC Organizational Domains (default:
	                             the DNS Tree Walk) */
	const char *psl_file;     /* PSL mode: the list (NULL: the system's) */
	int64_t now;              /* seconds since the Epoch for DKIM x=/t= and
	                             SPF %{t}; 0: the driver's clock */
	unsigned timeout_ms;      /* the job's whole DNS time (default 30000) */
	unsigned max_signatures;  /* DKIM signatures evaluated (0: the
	                             verifier's default, 10) */
	size_t max_header_bytes;  /* message header caps (0: msg.h defaults, */
	size_t max_fields;        /*   1 MiB and 1000 fields) */
	const char *receiver;     /* this host's name for SPF's %{r} (NULL:
	                             "unknown"); copied */
	const mt_dmarc_psl *psl;  /* PSL mode: a list loaded once with
	                             mt_dmarc_psl_load() and shared by many
	                             verdicts (borrowed: it must outlive them);
	                             NULL: each verdict loads psl_file itself */
} mt_verdict_options;

MT_EXPORT void mt_verdict_options_init(mt_verdict_options *opts);

typedef struct mt_verdict mt_verdict;

/* opts may be NULL (the defaults); a smaller size leaves later fields at
 * their defaults.  Free with mt_verdict_free() (accepts NULL). */
MT_EXPORT mt_status mt_verdict_new(const mt_verdict_options *opts, mt_verdict **out,
                                   mt_error *err);
MT_EXPORT void mt_verdict_free(mt_verdict *v);

/* The SMTP client's address (IPv4 or IPv6 text) and its HELO/EHLO name
 * (NULL or "": none given; any text, judged by SPF).  MT_EINVAL for an
 * address that is not one (err quotes it); MT_ESTATE once the job has
 * started.  Copied. */
MT_EXPORT mt_status mt_verdict_set_connection(mt_verdict *v, const char *ip, const char *helo,
                                              mt_error *err);
/* The MAIL FROM address as the client sent it, without angle brackets
 * (NULL or "": the null reverse-path).  MT_ESTATE once started.  Copied. */
MT_EXPORT mt_status mt_verdict_set_mail_from(mt_verdict *v, const char *mail_from,
                                             mt_error *err);

/* The raw message (header and body, CRLF or LF line ends), in chunks of
 * any size, then its end.  A header over the limits is not an error of
 * the call (see above): later chunks are then ignored.  MT_ESTATE after
 * finish, MT_ENOMEM. */
MT_EXPORT mt_status mt_verdict_feed(mt_verdict *v, const void *data, size_t len, mt_error *err);
MT_EXPORT mt_status mt_verdict_finish(mt_verdict *v, mt_error *err);

/* The verdict as a job of the driver (run.h).  Its time budget is
 * timeout_ms; when it runs out the checks still waiting end in
 * temperror. */
MT_EXPORT const mt_run_job_ops *mt_verdict_job_ops(void);
/* Blocking: run the job over res until it is done.  MT_ESTATE before
 * mt_verdict_finish() or without mt_verdict_set_connection(). */
MT_EXPORT mt_status mt_verdict_run(mt_verdict *v, mt_dns_resolver *res);
MT_EXPORT bool mt_verdict_done(const mt_verdict *v);

/*
 * The verdict.  Strings are owned by the verdict, never NULL ("" when not
 * known).
 *  dmarc          the DMARC result (RFC 8601 names: mt_dmarc_result_name)
 *  policy         the From domain's policy (p=, sp= or np= applied;
 *                 ABSENT when no policy record applies)
 *  disposition    what the policy asks for this message: NONE on pass,
 *                 policy on fail (one level lower with t=y), ABSENT when
 *                 DMARC decided nothing (none, temperror, permerror)
 *  from_status    how the From field read (mt_dmarc_from_status_name)
 *  from_domain    the Author Domain ("" unless from_status is OK)
 *  reason         one line for the DMARC result
 *  spf_mailfrom   the MAIL FROM check's result
 *  spf_helo       the HELO check's result (helo_checked false: no HELO
 *                 name was given, NONE)
 *  dkim_signatures, dkim_pass   signatures on the message, passing ones
 *  header_error   the header could not be read (over the limits): reason
 *                 says why
 */
typedef struct mt_verdict_outcome {
	mt_dmarc_result dmarc;
	mt_dmarc_policy policy;
	mt_dmarc_policy disposition;
	mt_dmarc_from_status from_status;
	const char *from_domain;
	const char *reason;
	mt_spf_result spf_mailfrom;
	mt_spf_result spf_helo;
	bool helo_checked;
	size_t dkim_signatures;
	size_t dkim_pass;
	bool header_error;
} mt_verdict_outcome;

/* NULL until the job is done. */
MT_EXPORT const mt_verdict_outcome *mt_verdict_result(const mt_verdict *v);

/* The parts, for a caller that reports more (NULL until done, or when the
 * part did not run: no HELO check without a HELO name, no DMARC outcome
 * when the From field decided permerror or the header could not be read,
 * no DKIM results then either). */
MT_EXPORT const mt_spf_outcome *mt_verdict_spf_mailfrom(const mt_verdict *v);
MT_EXPORT const mt_spf_outcome *mt_verdict_spf_helo(const mt_verdict *v);
MT_EXPORT const mt_dkim_verify *mt_verdict_dkim(const mt_verdict *v);
MT_EXPORT const mt_dmarc_outcome *mt_verdict_dmarc(const mt_verdict *v);

/* Add the verdict's entries to ar (spf, spf, dkim..., dmarc, in that
 * order).  MT_ESTATE before done; MT_ERANGE past MT_AUTHRES_MAX_METHODS. */
MT_EXPORT mt_status mt_verdict_authres(const mt_verdict *v, mt_authres *ar, mt_error *err);

/* The whole field for authserv_id, rendered with flags (MT_AUTHRES_PREFIX,
 * MT_AUTHRES_FOLD) as a new string (free with mt_free()), without a
 * trailing CRLF.  MT_EINVAL for a bad authserv_id, MT_ESTATE before
 * done. */
MT_EXPORT mt_status mt_verdict_authres_field(const mt_verdict *v, const char *authserv_id,
                                             unsigned flags, char **out, mt_error *err);

#ifdef __cplusplus
}
#endif
#endif
