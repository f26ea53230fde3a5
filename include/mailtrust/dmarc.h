/*
 * mailtrust DMARC (RFC 9989; implemented from draft-ietf-dmarc-dmarcbis-41,
 * with RFC 7489 where it says so).
 *
 * This header has the policy record and the DNS Tree Walk's arithmetic:
 *
 *  - mt_dmarc_record_parse() reads one _dmarc TXT record (its strings
 *    joined) into an object: the tags with their defaults, and findings
 *    (errors, warnings, notes) each with the tag and its byte offset.
 *  - mt_dmarc_walk_targets() lists the names a DNS Tree Walk queries
 *    (section 4.10: at most 8, long names shortened to 7 labels).
 *  - mt_dmarc_org_domain() picks the Organizational Domain from what a
 *    walk found (section 4.10.2).
 *
 * Record rules (sections 4.7, 4.8): "v=DMARC1" must be the first tag,
 * with the value case-sensitive; otherwise the record is not a DMARC
 * record at all (MT_ESYNTAX: a walk discards it).  Tag names are
 * case-insensitive (ABNF), unknown tags are ignored (a note names them),
 * the RFC 7489 tags pct, rf and ri are accepted and reported as obsolete.
 * A tag whose value does not fit its rule is an error finding and the tag
 * counts as absent (its default applies); a repeated tag is an error and
 * its first value is used.  Whether the record is applied is the draft's
 * rule of section 4.10.1: see mt_dmarc_record_applies().
 *
 * No global state; a record object is read-only after parsing and may be
 * shared between threads.
 */
#ifndef MAILTRUST_DMARC_H
#define MAILTRUST_DMARC_H

#include <mailtrust/common.h>
#include <mailtrust/run.h>
#include <mailtrust/authres.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest record parsed (longer input is MT_ERANGE); URIs kept. */
#define MT_DMARC_RECORD_MAX 4096
#define MT_DMARC_URIS_MAX   16
/* Section 4.10: a walk makes at most this many queries. */
#define MT_DMARC_WALK_MAX   8

typedef enum mt_dmarc_policy {
	MT_DMARC_POLICY_ABSENT = 0, /* tag not given (or not valid) */
	MT_DMARC_POLICY_NONE,
	MT_DMARC_POLICY_QUARANTINE,
	MT_DMARC_POLICY_REJECT,
} mt_dmarc_policy;

/* "none", "quarantine", "reject" ("" for ABSENT). */
MT_EXPORT const char *mt_dmarc_policy_name(mt_dmarc_policy p);

typedef enum mt_dmarc_psd {
	MT_DMARC_PSD_UNKNOWN = 0, /* "u", the default */
	MT_DMARC_PSD_YES,         /* "y": a public suffix domain */
	MT_DMARC_PSD_NO,          /* "n": an organizational domain */
} mt_dmarc_psd;

typedef enum mt_dmarc_severity {
	MT_DMARC_NOTE = 0,  /* worth knowing: an unknown tag, an obsolete tag */
	MT_DMARC_WARNING,   /* works, but probably not as meant */
	MT_DMARC_ERROR,     /* a tag that is ignored because it is wrong */
} mt_dmarc_severity;

/* "note", "warning", "error". */
MT_EXPORT const char *mt_dmarc_severity_name(mt_dmarc_severity s);

typedef struct mt_dmarc_finding {
	mt_dmarc_severity severity;
	size_t offset;       /* byte offset in the record (of the tag's name,
	                        or of the bad part of a value) */
	const char *tag;     /* the tag's name as written, "" for the record */
	const char *message; /* one line */
} mt_dmarc_finding;

/* One reporting URI of rua= or ruf=.  Strings owned by the record. */
typedef struct mt_dmarc_uri {
	const char *uri;     /* as written, without an obsolete "!size" */
	size_t offset;       /* of the URI in the record */
	bool valid;          /* an RFC 3986 URI (scheme ":" ...) without
	                        the characters DMARC requires encoded */
	bool mailto;         /* the scheme is mailto (case-insensitive) */
	const char *domain;  /* mailto: the address's domain, lowercased;
	                        "" otherwise or when there is none */
	bool has_size;       /* an obsolete "!size" suffix was given */
} mt_dmarc_uri;

typedef struct mt_dmarc_record mt_dmarc_record;

/*
 * Parse the record txt[0..len) (the TXT strings joined).  On MT_OK *out is
 * a new record (free with mt_dmarc_record_free).  Not a DMARC record
 * (no leading v=DMARC1): MT_ESYNTAX with err saying why.  MT_ERANGE above
 * MT_DMARC_RECORD_MAX octets, MT_EINVAL for NULL arguments, MT_ENOMEM.
 */
MT_EXPORT mt_status mt_dmarc_record_parse(const char *txt, size_t len, mt_dmarc_record **out,
                                          mt_error *err);
MT_EXPORT void mt_dmarc_record_free(mt_dmarc_record *rec);

/* The record's text (NUL-terminated copy) and length. */
MT_EXPORT const char *mt_dmarc_record_text(const mt_dmarc_record *rec, size_t *len);

/* The tags; an absent or invalid tag reads as its default. */
MT_EXPORT mt_dmarc_policy mt_dmarc_record_p(const mt_dmarc_record *rec);
MT_EXPORT mt_dmarc_policy mt_dmarc_record_sp(const mt_dmarc_record *rec);  /* ABSENT: p applies */
MT_EXPORT mt_dmarc_policy mt_dmarc_record_np(const mt_dmarc_record *rec);  /* ABSENT: sp, then p */
MT_EXPORT bool mt_dmarc_record_strict_dkim(const mt_dmarc_record *rec);     /* adkim=s */
MT_EXPORT bool mt_dmarc_record_strict_spf(const mt_dmarc_record *rec);      /* aspf=s */
MT_EXPORT bool mt_dmarc_record_testing(const mt_dmarc_record *rec);         /* t=y */
MT_EXPORT mt_dmarc_psd mt_dmarc_record_psd(const mt_dmarc_record *rec);
/* fo= as given ("0" when absent or invalid). */
MT_EXPORT const char *mt_dmarc_record_fo(const mt_dmarc_record *rec);

/* Did the record have the tag (valid or not)?  name is case-insensitive. */
MT_EXPORT bool mt_dmarc_record_has_tag(const mt_dmarc_record *rec, const char *name);

MT_EXPORT size_t mt_dmarc_record_rua_count(const mt_dmarc_record *rec);
MT_EXPORT const mt_dmarc_uri *mt_dmarc_record_rua(const mt_dmarc_record *rec, size_t i);
MT_EXPORT size_t mt_dmarc_record_ruf_count(const mt_dmarc_record *rec);
MT_EXPORT const mt_dmarc_uri *mt_dmarc_record_ruf(const mt_dmarc_record *rec, size_t i);

MT_EXPORT size_t mt_dmarc_record_finding_count(const mt_dmarc_record *rec);
MT_EXPORT const mt_dmarc_finding *mt_dmarc_record_finding(const mt_dmarc_record *rec, size_t i);

/*
 * Section 4.10.1: is the record applied?  True when p= is valid and sp=,
 * np= are valid or absent; also when they are not but rua= holds at least
 * one valid URI (the record then acts as p=none, and *as_none is set).
 * False: no DMARC processing for the message.  as_none may be NULL.
 */
MT_EXPORT bool mt_dmarc_record_applies(const mt_dmarc_record *rec, bool *as_none);

/*
 * The names a DNS Tree Walk from domain queries, in order (section 4.10):
 * "_dmarc." + domain, then, when domain has 8 or more labels, its last 7
 * labels, then one label fewer each time down to the top-level label.
 * At most MT_DMARC_WALK_MAX names.  A trailing dot is dropped.  With
 * from_parent (policy discovery after the Author Domain's own query,
 * section 4.10.1) the first name is left out.
 * On MT_OK names[0..*count) are new strings (free each with mt_free).
 * MT_EINVAL for an empty name, an empty label or a name over 253 octets.
 */
MT_EXPORT mt_status mt_dmarc_walk_targets(const char *domain, bool from_parent,
                                          char *names[MT_DMARC_WALK_MAX], size_t *count,
                                          mt_error *err);

/*
 * Section 4.10.2: the Organizational Domain of start, given the walk's
 * findings: for each name the walk queried (walk_domains[i], without the
 * "_dmarc." label, in walk order), psd[i] is the psd= of the single valid
 * DMARC record found there, or -1 when none was found.  Writes the
 * Organizational Domain into out (cap octets, NUL-terminated): the longest
 * domain with psd=n; else the domain one label below a psd=y record other
 * than start's own; else the shortest domain with a record; else start.
 * MT_ERANGE when out is too small, MT_EINVAL for bad arguments.
 */
MT_EXPORT mt_status mt_dmarc_org_domain(const char *start, const char *const *walk_domains,
                                        const int *psd, size_t n, char *out, size_t cap);

/* ---- The Author Domain (section 5.3.1, RFC 5322 3.6.2, RFC 6854) ------ */

/* Distinct domains a From field's report keeps (more are counted). */
#define MT_DMARC_FROM_DOMAINS_MAX 8
/* Mailboxes read from one From field; past this the field is refused. */
#define MT_DMARC_FROM_MAILBOXES_MAX 256

typedef enum mt_dmarc_from_status {
	MT_DMARC_FROM_OK = 0,          /* exactly one Author Domain */
	MT_DMARC_FROM_ABSENT,          /* no From field */
	MT_DMARC_FROM_MANY_FIELDS,     /* more than one From field */
	MT_DMARC_FROM_MANY_DOMAINS,    /* mailboxes of more than one domain */
	MT_DMARC_FROM_NO_DOMAIN,       /* no mailbox with a domain (an empty
	                                  field, an empty group, a domain
	                                  literal such as [192.0.2.1]) */
	MT_DMARC_FROM_SYNTAX,          /* not an RFC 5322 mailbox-list */
	MT_DMARC_FROM_BAD_DOMAIN,      /* a domain that is not a DNS name, or an
	                                  internationalized one that does not
	                                  convert to A-labels */
} mt_dmarc_from_status;

/* "ok", "absent", "multiple-from-fields", ... (static strings). */
MT_EXPORT const char *mt_dmarc_from_status_name(mt_dmarc_from_status s);

typedef struct mt_dmarc_from {
	mt_dmarc_from_status status;
	char domain[256];      /* the Author Domain (status OK): lowercase,
	                          A-labels (RFC 8616), no trailing dot */
	size_t fields;         /* From fields in the message (from_message) */
	size_t mailboxes;      /* mailboxes read */
	size_t ndomains;       /* distinct domains seen */
	char domains[MT_DMARC_FROM_DOMAINS_MAX][256]; /* the first of them */
	size_t offset;         /* where the problem is, in the field value */
	char reason[200];      /* one line for anything but OK */
} mt_dmarc_from;

/*
 * Read the Author Domain from one From field's value (value[0..len), the
 * unfolded text after the colon, as mt_msg_field.value gives it).  The
 * value is a mailbox-list (RFC 5322 3.4) with comments, quoted strings,
 * display names, angle addresses with an obsolete route, and the group
 * syntax RFC 6854 allows.  Several mailboxes of one domain give that
 * domain; of several domains, MANY_DOMAINS (draft section 11.5: DMARC is
 * not possible; domains[] lists them for a receiver that checks each).
 * A U-label domain is converted to A-labels (UTF-8 input, RFC 6532).
 * Returns MT_EINVAL for NULL arguments, else MT_OK with out filled.
 */
MT_EXPORT mt_status mt_dmarc_from_parse(const char *value, size_t len, mt_dmarc_from *out);

struct mt_msg;
/*
 * The same for a message whose header is read (msg.h): no From field is
 * ABSENT, two or more is MANY_FIELDS (RFC 5322 allows exactly one; the
 * domains of all of them are listed), else the one field's value parsed.
 */
MT_EXPORT mt_status mt_dmarc_from_message(const struct mt_msg *msg, mt_dmarc_from *out);

/* ---- Checking a message's Author Domain (sections 4.10, 5.3) ---------- */
/*
 * A check is a job of the driver (run.h), like an SPF check: it asks for
 * the _dmarc TXT records of policy discovery and of the Organizational
 * Domain walks that relaxed alignment needs, and for the Author Domain's
 * existence (np=), then gives one outcome.  Order:
 *
 *     mt_dmarc_check_new(NULL, "mail.example.com", &chk, &err);
 *     mt_dmarc_check_set_spf(chk, true, "bounce.example.com", &err);  // MAIL FROM, SPF pass
 *     mt_dmarc_check_add_dkim(chk, "example.com", true, &err);        // each signature
 *     mt_dmarc_check_run(chk, resolver);      // or mt_run_add(run, mt_dmarc_check_job_ops(), chk, 0, u)
 *     const mt_dmarc_outcome *o = mt_dmarc_check_outcome(chk);
 *
 * The SPF-Authenticated Identifier is the MAIL FROM domain only (section
 * 4.4.2); for a null reverse-path that is the HELO domain RFC 7208 checks
 * as postmaster@HELO.  Every DKIM signature is given with its d= and
 * whether it passed; only passing ones are Authenticated Identifiers.
 *
 * Organizational Domains: by the DNS Tree Walk (the default, the draft),
 * or, with MT_DMARC_ORG_PSL, by the Public Suffix List as RFC 7489 did:
 * the registrable domain (public suffix + one label), and policy discovery
 * asks _dmarc at the Author Domain and then at its Organizational Domain.
 *
 * Outcome (section 5.3.5, 5.3.6): pass when an Authenticated Identifier is
 * aligned; fail when none is; none when no applicable policy record was
 * found (DMARC does not apply); temperror when a DNS failure left the
 * policy or an alignment undecided.  The policy is p= for the Author
 * Domain's own record, else sp= for an existing subdomain and np= (then
 * sp=, then p=) for a non-existent one (NXDOMAIN, RFC 8020).  The
 * disposition on fail is that policy, one level lower with t=y.
 */
typedef enum mt_dmarc_org_mode {
	MT_DMARC_ORG_TREEWALK = 0, /* draft section 4.10 */
	MT_DMARC_ORG_PSL,          /* RFC 7489 3.2: the Public Suffix List */
} mt_dmarc_org_mode;

/*
 * A Public Suffix List loaded once, for PSL mode: loading the list takes
 * about 10 ms, so a receiver loads it once and gives it to every check
 * (mt_dmarc_options.psl).  Read-only after loading: any number of checks
 * in any threads may share it; free it after the last of them.
 * file NULL: the system's list (Debian package publicsuffix).  MT_EIO when
 * it cannot be read, MT_EINVAL for out NULL.
 */
typedef struct mt_dmarc_psl mt_dmarc_psl;
MT_EXPORT mt_status mt_dmarc_psl_load(const char *file, mt_dmarc_psl **out, mt_error *err);
MT_EXPORT void mt_dmarc_psl_free(mt_dmarc_psl *psl);

typedef struct mt_dmarc_options {
	size_t size;                /* sizeof(mt_dmarc_options), set by init */
	mt_dmarc_org_mode org_mode;
	const char *psl_file;       /* PSL mode: the list to load (NULL: the
	                               system's, Debian package publicsuffix) */
	const mt_dmarc_psl *psl;    /* PSL mode: a loaded list (borrowed, must
	                               outlive the check); when set, psl_file
	                               is not read */
} mt_dmarc_options;

MT_EXPORT void mt_dmarc_options_init(mt_dmarc_options *opts);

typedef enum mt_dmarc_result {
	MT_DMARC_RESULT_NONE = 0,  /* no policy record: DMARC does not apply */
	MT_DMARC_RESULT_PASS,
	MT_DMARC_RESULT_FAIL,
	MT_DMARC_RESULT_TEMPERROR,
	MT_DMARC_RESULT_PERMERROR, /* RFC 8601 registers it; the draft's rules never
	                              give it (an unusable record is "none") */
} mt_dmarc_result;

/* "none", "pass", "fail", "temperror", "permerror" (RFC 8601 names). */
MT_EXPORT const char *mt_dmarc_result_name(mt_dmarc_result r);

/* The most Authenticated Identifiers one check takes (DKIM signatures). */
#define MT_DMARC_DKIM_MAX 32

/*
 * The outcome.  Strings are owned by the check, never NULL ("" when not
 * known).
 *  policy        the Domain Owner Assessment Policy for this message
 *  disposition   what to do with it: policy on fail (t=y: one level lower),
 *                NONE on pass, ABSENT when DMARC did not decide
 *  policy_tag    "p", "sp" or "np": where policy came from
 *  policy_domain where the applied record was found (no "_dmarc.")
 *  org_domain    the Author Domain's Organizational Domain ("" unknown)
 *  record        the applied record's text
 *  spf_aligned   the SPF-Authenticated Identifier is aligned
 *  dkim_domain   d= of the first aligned passing signature ("" none)
 *  reason        one line saying why
 */
typedef struct mt_dmarc_outcome {
	mt_dmarc_result result;
	mt_dmarc_policy policy;
	mt_dmarc_policy disposition;
	bool testing;
	bool author_exists;        /* false only when NXDOMAIN was seen */
	const char *policy_tag;
	const char *author_domain;
	const char *policy_domain;
	const char *org_domain;
	const char *record;
	bool spf_aligned;
	bool dkim_aligned;
	const char *dkim_domain;
	const char *reason;
	unsigned queries;          /* DNS questions the check asked */
} mt_dmarc_outcome;

typedef struct mt_dmarc_check mt_dmarc_check;

/* author_domain as mt_dmarc_from gives it (A-labels; case and a trailing
 * dot do not matter).  MT_EINVAL for a name that is not a domain, MT_EIO
 * when the PSL cannot be loaded, MT_ENOMEM; err says why. */
MT_EXPORT mt_status mt_dmarc_check_new(const mt_dmarc_options *opts, const char *author_domain,
                                       mt_dmarc_check **out, mt_error *err);
MT_EXPORT void mt_dmarc_check_free(mt_dmarc_check *chk);
/* The SPF result of the MAIL FROM identity: pass or not, and its domain.
 * Before the job starts; MT_ESTATE after. */
MT_EXPORT mt_status mt_dmarc_check_set_spf(mt_dmarc_check *chk, bool pass, const char *domain,
                                           mt_error *err);
/* One DKIM signature: d= and whether it passed.  MT_ERANGE past
 * MT_DMARC_DKIM_MAX, MT_ESTATE once the job has started. */
MT_EXPORT mt_status mt_dmarc_check_add_dkim(mt_dmarc_check *chk, const char *d, bool pass,
                                            mt_error *err);

MT_EXPORT const mt_run_job_ops *mt_dmarc_check_job_ops(void);
/* Blocking: run the job over res until it is done. */
MT_EXPORT mt_status mt_dmarc_check_run(mt_dmarc_check *chk, mt_dns_resolver *res);
/* NULL until the job is done. */
MT_EXPORT const mt_dmarc_outcome *mt_dmarc_check_outcome(const mt_dmarc_check *chk);

/* The check's parsed policy record (NULL when none was found). */
MT_EXPORT const mt_dmarc_record *mt_dmarc_check_record(const mt_dmarc_check *chk);

/* Add the "dmarc=" entry to ar: header.from and, when a policy record
 * applies, policy.dmarc: the outcome's policy (p=, or the sp=/np= applied
 * for a subdomain), on pass as on fail; the reason on anything but pass.
 * MT_ESTATE before the job is done. */
MT_EXPORT mt_status mt_dmarc_check_authres(const mt_dmarc_check *chk, mt_authres *ar,
                                           mt_error *err);

#ifdef __cplusplus
}
#endif
#endif
