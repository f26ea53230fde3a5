/*
 * mailtrust: a domain's DMARC policy record checked for its owner
 * (draft-ietf-dmarc-dmarcbis-41, which became RFC 9989), and a record
 * built from its parts.
 *
 * mt_dmarc_verify_run() asks TXT at _dmarc.DOMAIN through a resolver and
 * reports findings, each with a stable code and a severity: whether a
 * policy record is there or is inherited from the Organizational Domain
 * (found with the DNS Tree Walk of dmarc.h's check job: which domain's
 * record applies, and through which tag, sp= or np=), the record's syntax
 * (mt_dmarc_record_parse's findings with their offsets, for a caret),
 * p=none (monitoring only: what moving to quarantine or reject needs),
 * sp= and np=, the obsolete pct/rf/ri, t=y, the rua/ruf URIs (syntax, a
 * scheme other than mailto, and for a destination outside the domain's
 * Organizational Domain the authorization record
 * <policy-domain>._report._dmarc.<destination> that must hold a TXT
 * record starting with v=DMARC1), several records at the name (none of
 * them applies), TXT records that look like a DMARC record but are not
 * one, and the record's TTL.  Like spf verify (spf_verify.h) and dkim
 * check-key (dkim_check.h), each authoritative server of the name's zone
 * is asked directly and its answer compared with the recursive one, and
 * an expected record is looked for on them: absent everywhere (added at a
 * provider that is not the DNS host), on some servers only, or served but
 * not yet in the caches.
 *
 * Blocking; no global state; a report is owned by the caller.
 */
#ifndef MAILTRUST_DMARC_VERIFY_H
#define MAILTRUST_DMARC_VERIFY_H

#include <mailtrust/common.h>
#include <mailtrust/dns.h>
#include <mailtrust/dmarc.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mt_dmarc_verify_severity {
	MT_DMARC_VERIFY_INFO = 0,
	MT_DMARC_VERIFY_WARNING,
	MT_DMARC_VERIFY_ERROR,
} mt_dmarc_verify_severity;

/* "info", "warning", "error" */
MT_EXPORT const char *mt_dmarc_verify_severity_name(mt_dmarc_verify_severity sev);

/*
 * One thing found.  code is stable (lower-case words with dashes); message
 * says what is wrong, fix what to do (NULL: nothing).  record/record_len
 * is the text the finding is about (the published record or the expected
 * one), NULL when none; offset/length locate the bad spot in it (offset
 * -1: not about one place).
 */
typedef struct mt_dmarc_verify_finding {
	const char *code;
	mt_dmarc_verify_severity severity;
	const char *message;
	const char *fix;
	const char *record;
	size_t record_len;
	long offset;
	size_t length;
} mt_dmarc_verify_finding;

/* What one authoritative server answered for _dmarc.DOMAIN TXT. */
typedef struct mt_dmarc_verify_ns {
	const char *server;         /* NS name */
	const char *address;        /* the address asked */
	mt_dns_rcode rcode;
	const char *why;            /* failure detail, or NULL */
	const char *record;         /* the first DMARC record it serves, or NULL */
	size_t record_len;
	size_t nrecords;            /* DMARC records it serves */
	bool agrees;                /* the same DMARC records as the recursive answer */
	bool serves_expect;         /* serves the expected record (options.expect) */
} mt_dmarc_verify_ns;

/* A reporting URI's destination outside the domain's Organizational
 * Domain, and its authorization record. */
typedef enum mt_dmarc_verify_auth_state {
	MT_DMARC_AUTH_AUTHORIZED = 0, /* a TXT record starting with v=DMARC1 is there */
	MT_DMARC_AUTH_MISSING,        /* none: receivers drop reports to it */
	MT_DMARC_AUTH_UNKNOWN,        /* the lookup failed */
} mt_dmarc_verify_auth_state;

typedef struct mt_dmarc_verify_report_dest {
	const char *tag;            /* "rua" or "ruf" */
	const char *uri;
	const char *domain;         /* the mailto address's domain */
	const char *name;           /* <policy-domain>._report._dmarc.<domain> */
	mt_dmarc_verify_auth_state state;
} mt_dmarc_verify_report_dest;

typedef struct mt_dmarc_verify_options {
	size_t size;                /* sizeof(mt_dmarc_verify_options), set by init */
	const char *expect;         /* the record meant to be published, or NULL */
	/* A resolver asking one authoritative server directly; NULL: the
	 * servers are not asked (an info finding says so).  server_port 0: 53. */
	mt_status (*server_resolver)(void *ctx, const char *address, unsigned port,
	                             mt_dns_resolver **out);
	void *server_ctx;
	unsigned server_port;
	unsigned timeout_ms;        /* per DNS answer (0: the resolver's default) */
} mt_dmarc_verify_options;

MT_EXPORT void mt_dmarc_verify_options_init(mt_dmarc_verify_options *opts);

/* Where the policy that applies to the domain was found. */
typedef enum mt_dmarc_verify_source {
	MT_DMARC_SOURCE_NONE = 0,   /* no policy record applies */
	MT_DMARC_SOURCE_DOMAIN,     /* _dmarc.DOMAIN itself */
	MT_DMARC_SOURCE_INHERITED,  /* the Organizational Domain's (or a PSD's) record */
} mt_dmarc_verify_source;

/* "none", "domain", "inherited" */
MT_EXPORT const char *mt_dmarc_verify_source_name(mt_dmarc_verify_source s);

typedef struct mt_dmarc_verify mt_dmarc_verify;

/*
 * Check the DMARC setup of domain through res.  On MT_OK *out is a report
 * (free with mt_dmarc_verify_free), also when the record could not be
 * looked up (mt_dmarc_verify_checked() false, a finding says why).
 * Errors: MT_EINVAL (a malformed domain, err says why; a NULL argument),
 * MT_ENOMEM.
 */
MT_EXPORT mt_status mt_dmarc_verify_run(const char *domain, mt_dns_resolver *res,
                                        const mt_dmarc_verify_options *opts,
                                        mt_dmarc_verify **out, mt_error *err);
MT_EXPORT void mt_dmarc_verify_free(mt_dmarc_verify *v);

/* False when a DNS failure kept the policy from being looked up. */
MT_EXPORT bool mt_dmarc_verify_checked(const mt_dmarc_verify *v);
/* The worst severity among the findings (INFO when none). */
MT_EXPORT mt_dmarc_verify_severity mt_dmarc_verify_worst(const mt_dmarc_verify *v);
/* The domain, lowercase, no trailing dot; "_dmarc." + it. */
MT_EXPORT const char *mt_dmarc_verify_domain(const mt_dmarc_verify *v);
MT_EXPORT const char *mt_dmarc_verify_name(const mt_dmarc_verify *v);
MT_EXPORT mt_dmarc_verify_source mt_dmarc_verify_source_of(const mt_dmarc_verify *v);
/* The domain whose record applies ("" when none), the Organizational
 * Domain ("" when not known) and the tag that gives the policy for the
 * domain ("p", "sp", "np"; "" when none applies). */
MT_EXPORT const char *mt_dmarc_verify_policy_domain(const mt_dmarc_verify *v);
MT_EXPORT const char *mt_dmarc_verify_org_domain(const mt_dmarc_verify *v);
MT_EXPORT const char *mt_dmarc_verify_policy_tag(const mt_dmarc_verify *v);
/* The policy that applies to mail from the domain (ABSENT: none). */
MT_EXPORT mt_dmarc_policy mt_dmarc_verify_policy(const mt_dmarc_verify *v);
/* The record that applies (joined strings) or NULL; its length, its TTL,
 * and its parse (NULL when none). */
MT_EXPORT const char *mt_dmarc_verify_record(const mt_dmarc_verify *v);
MT_EXPORT size_t mt_dmarc_verify_record_len(const mt_dmarc_verify *v);
MT_EXPORT uint32_t mt_dmarc_verify_ttl(const mt_dmarc_verify *v);
MT_EXPORT const mt_dmarc_record *mt_dmarc_verify_parsed(const mt_dmarc_verify *v);
/* TXT records at _dmarc.DOMAIN that are DMARC records. */
MT_EXPORT size_t mt_dmarc_verify_record_count(const mt_dmarc_verify *v);

MT_EXPORT size_t mt_dmarc_verify_finding_count(const mt_dmarc_verify *v);
MT_EXPORT const mt_dmarc_verify_finding *mt_dmarc_verify_finding_at(const mt_dmarc_verify *v,
                                                                    size_t i);
MT_EXPORT size_t mt_dmarc_verify_ns_count(const mt_dmarc_verify *v);
MT_EXPORT const mt_dmarc_verify_ns *mt_dmarc_verify_ns_at(const mt_dmarc_verify *v, size_t i);
MT_EXPORT size_t mt_dmarc_verify_dest_count(const mt_dmarc_verify *v);
MT_EXPORT const mt_dmarc_verify_report_dest *mt_dmarc_verify_dest_at(const mt_dmarc_verify *v,
                                                                     size_t i);

/* ---- build ------------------------------------------------------------- */

typedef struct mt_dmarc_build_options {
	mt_dmarc_policy p;          /* required: NONE, QUARANTINE or REJECT */
	mt_dmarc_policy sp, np;     /* ABSENT: not written */
	const char *const *rua;     /* URIs ("mailto:..."); a bare address
	                               gets "mailto:" in front */
	size_t nrua;
	const char *const *ruf;
	size_t nruf;
	char adkim, aspf;           /* 'r', 's' or 0 (not written) */
	bool testing;               /* t=y */
	mt_dmarc_psd psd;           /* UNKNOWN: not written */
	const char *fo;             /* NULL: not written */
} mt_dmarc_build_options;

/*
 * Build one record from its parts, in the order v, p, sp, np, adkim, aspf,
 * t, psd, fo, rua, ruf.  The result is parsed back with
 * mt_dmarc_record_parse: any error finding (a URI that is not valid, a
 * bad fo=) refuses it with MT_ESYNTAX and err naming the part.  MT_EINVAL
 * for a missing p, MT_ENOMEM.  *out: mt_free.
 */
MT_EXPORT mt_status mt_dmarc_build(const mt_dmarc_build_options *opts, char **out, mt_error *err);

#ifdef __cplusplus
}
#endif
#endif
