/*
 * mailtrust SPF: RFC 7208 check_host() as a resumable state machine.
 *
 * A check is created, started with the client's address and identities,
 * and then driven:
 *
 *     mt_spf_check_new(&opts, &chk, &err);
 *     mt_spf_check_start(chk, &req, &err);
 *     mt_spf_check_set_now(chk, time(NULL)); // for %{t}, unless req.now was set
 *     for (;;) {
 *         mt_spf_step(chk, &qs, &n);       // n == 0: done
 *         if (n == 0) break;
 *         for each qs[i]: resolve it, mt_spf_answer(chk, qs[i].id, ans);
 *     }
 *     const mt_spf_outcome *o = mt_spf_check_outcome(chk);
 *
 * The core performs no I/O and reads no clock, so one process can keep
 * thousands of checks in flight: the time for the %{t} macro comes from
 * the request or mt_spf_check_set_now().  mt_spf_check_run() is the
 * blocking loop over an mt_dns_resolver, enforcing the overall DNS time
 * budget; it and the batch read the clock for the caller.
 *
 * Thread safety: a check is used by one thread at a time; distinct checks
 * are independent.  There is no global state.
 */
#ifndef MAILTRUST_SPF_H
#define MAILTRUST_SPF_H

#include <mailtrust/common.h>
#include <mailtrust/dns.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mt_spf_result {
	MT_SPF_NONE = 0,
	MT_SPF_NEUTRAL,
	MT_SPF_PASS,
	MT_SPF_FAIL,
	MT_SPF_SOFTFAIL,
	MT_SPF_TEMPERROR,
	MT_SPF_PERMERROR,
} mt_spf_result;

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror". */
MT_EXPORT const char *mt_spf_result_name(mt_spf_result result);

/* ---- Records ---------------------------------------------------------- */

typedef enum mt_spf_term_kind {
	MT_SPF_ALL = 0,
	MT_SPF_INCLUDE,
	MT_SPF_A,
	MT_SPF_MX,
	MT_SPF_PTR,
	MT_SPF_IP4,
	MT_SPF_IP6,
	MT_SPF_EXISTS,
	MT_SPF_REDIRECT,  /* modifier redirect= */
	MT_SPF_EXP,       /* modifier exp= */
	MT_SPF_UNKNOWN_MODIFIER,
} mt_spf_term_kind;

/* "all", "include", ..., "redirect", "exp", "modifier". */
MT_EXPORT const char *mt_spf_term_kind_name(mt_spf_term_kind kind);

/*
 * One term of a parsed record (a read-only view into the record).
 * Strings point into the record and are not NUL-terminated: use the
 * lengths.
 */
typedef struct mt_spf_term {
	mt_spf_term_kind kind;
	char qualifier;        /* '+', '-', '~' or '?'; '+' when not written; 0 for modifiers */
	size_t offset;         /* byte offset of the term in the record text */
	size_t length;         /* length of the term as written */
	const char *domain;    /* domain-spec (may hold macros), or NULL when absent */
	size_t domain_len;
	int cidr4;             /* a, mx, ip4: IPv4 prefix length, -1 when not written */
	int cidr6;             /* a, mx, ip6: IPv6 prefix length, -1 when not written */
	uint8_t addr[16];      /* ip4 (first 4 octets) and ip6 network address */
	const char *name;      /* unknown modifier: its name */
	size_t name_len;
	const char *value;     /* unknown modifier: its macro-string value */
	size_t value_len;
} mt_spf_term;

typedef struct mt_spf_record mt_spf_record;

/*
 * Why a record (or macro string) is not valid: a message naming what is
 * wrong, and the byte offset and length of the offending text: the part
 * of the term that is wrong (the address of a bad ip4:, the top-level
 * label of a bad domain), or the whole term when all of it is unknown.
 */
typedef struct mt_spf_syntax_error {
	size_t offset;
	size_t length;
	char message[200];
} mt_spf_syntax_error;

/*
 * Parse an SPF record ("v=spf1 ..."), per RFC 7208 sections 4.6 and 12.
 * On success *out is a new record (free with mt_spf_record_free).  A
 * record that the ABNF rejects gives MT_ESYNTAX and fills *syn (which may
 * be NULL).  MT_ENOMEM when out of memory.  Records longer than 65535
 * octets are MT_ERANGE.
 */
MT_EXPORT mt_status mt_spf_record_parse(const char *text, size_t len, mt_spf_record **out,
                                        mt_spf_syntax_error *syn);
MT_EXPORT void mt_spf_record_free(mt_spf_record *rec);
/* Terms in record order, modifiers included. */
MT_EXPORT size_t mt_spf_record_term_count(const mt_spf_record *rec);
MT_EXPORT const mt_spf_term *mt_spf_record_term(const mt_spf_record *rec, size_t i);
/*
 * What the record costs against the limit of DNS-querying terms by itself
 * (RFC 7208 section 4.6.4): its include, a, mx, ptr and exists mechanisms,
 * and redirect= unless an "all" makes it unused.  Included records cost
 * more, and are not counted here.  0 for NULL.
 */
MT_EXPORT unsigned mt_spf_record_lookups(const mt_spf_record *rec);
/* The record text as parsed (NUL-terminated copy). */
MT_EXPORT const char *mt_spf_record_text(const mt_spf_record *rec);

/* Does text look like an SPF record: "v=spf1" followed by a space or its end? */
MT_EXPORT bool mt_spf_is_record(const char *text, size_t len);

/* ---- Checks ------------------------------------------------------------ */

typedef enum mt_spf_identity {
	MT_SPF_MAILFROM = 0, /* check the MAIL FROM domain (postmaster@HELO when it is empty) */
	MT_SPF_HELO,         /* check the HELO/EHLO name */
} mt_spf_identity;

typedef struct mt_spf_options {
	unsigned max_dns_mechanisms; /* DNS-querying terms in a whole check (RFC: 10) */
	unsigned max_mx_names;       /* MX names looked up per mx mechanism (RFC: 10) */
	unsigned max_ptr_names;      /* PTR names validated per ptr mechanism (RFC: 10) */
	unsigned max_void_lookups;   /* answers with no records (RFC: 2) */
	unsigned timeout_ms;         /* overall DNS time for one check, used by drivers (20000) */
	const char *default_explanation; /* macro-string for a fail without a usable exp=;
	                                    NULL: the library's default */
	const char *receiver;        /* this host's name, for %{r} and headers; NULL: "unknown" */
} mt_spf_options;

/* Fill opts with the RFC 7208 defaults. */
MT_EXPORT void mt_spf_options_init(mt_spf_options *opts);

/* The default explanation used when default_explanation is NULL. */
#define MT_SPF_DEFAULT_EXPLANATION "%{i} is not one of %{d}'s designated mail servers."

typedef struct mt_spf_request {
	const char *ip;       /* client address, IPv4 or IPv6 text (IPv4-mapped IPv6 is IPv4;
	                         an IPv6 zone id such as "%eth0" is dropped) */
	const char *sender;   /* MAIL FROM address as the client sent it, any text;
	                         NULL or "" for the null reverse-path */
	const char *helo;     /* HELO/EHLO name as the client sent it, any text; may be NULL */
	mt_spf_identity identity;
	const char *domain;   /* check this domain instead of the identity's; usually NULL */
	int64_t now;          /* seconds since the Epoch for the %{t} macro; 0: not given
	                         (mt_spf_check_run() and the batch then use the current
	                         time; mt_spf_check_set_now() sets it; left unset, %{t}
	                         expands to 0) */
} mt_spf_request;

typedef struct mt_spf_check mt_spf_check;

/*
 * Create a check.  opts may be NULL for the defaults; it is copied (the
 * strings too).  MT_ENOMEM, or MT_EINVAL for a bad option: a limit that
 * is 0 (max_void_lookups may be) or over 1000, a malformed or over-long
 * default explanation, a receiver longer than 255 octets.  On failure err
 * (may be NULL) says which option is wrong and why.
 */
MT_EXPORT mt_status mt_spf_check_new(const mt_spf_options *opts, mt_spf_check **out,
                                     mt_error *err);
MT_EXPORT void mt_spf_check_free(mt_spf_check *chk);

/*
 * Begin a check (a check may be started again to reuse its memory).
 *
 * HELO and MAIL FROM are taken as the client sent them: any length, any
 * octets.  check_host()'s <sender> is the MAIL FROM address, with the
 * local-part "postmaster" when it has none (RFC 7208 section 4.3):
 * "@example.com" is postmaster@example.com, and a sender without '@' is
 * all domain ("example.com" is postmaster@example.com).  For the HELO
 * identity, and for the null reverse-path, it is postmaster@HELO
 * (sections 2.3, 2.4).  When the domain to check is malformed or absent
 * (empty as in "a@", not a multi-label name, over 253 octets, a label
 * over 63 octets, characters other than letters, digits, '-', '_' and
 * dots, an address literal as HELO, no HELO name), the check is finished
 * at once with "none" (section 4.3): mt_spf_step() returns no question,
 * the outcome's problem says why and malformed_domain is set.
 *
 * Only a missing or malformed client address is an error: MT_EINVAL with
 * err set (the address is quoted in at most 64 octets).  MT_ENOMEM.
 */
MT_EXPORT mt_status mt_spf_check_start(mt_spf_check *chk, const mt_spf_request *req,
                                       mt_error *err);

/*
 * Set the time for the %{t} macro (seconds since the Epoch) of a started
 * check whose request left now at 0; the core reads no clock.  Call it
 * before the check finishes (the explanation is expanded last).  The
 * driver (mailtrust/run.h, and so mt_spf_check_run()) calls it with the
 * current time when the request's now is 0.  MT_ESTATE when the check is
 * not started.
 */
MT_EXPORT mt_status mt_spf_check_set_now(mt_spf_check *chk, int64_t now);

/* A DNS question the check is waiting for (the DNS module's type). */
typedef mt_dns_question mt_spf_question;

/*
 * Advance the check.  On MT_OK, *n is the number of questions in *qs
 * (valid until the next call on chk); zero means the check is finished.
 * Questions already returned and not yet answered are returned again.
 * MT_ESTATE when the check was not started.
 */
MT_EXPORT mt_status mt_spf_step(mt_spf_check *chk, const mt_spf_question **qs, size_t *n);

/*
 * Feed the answer to question id.  The answer is copied; the caller keeps
 * ownership.  MT_ENOTFOUND for an id that is not pending.
 */
MT_EXPORT mt_status mt_spf_answer(mt_spf_check *chk, uint32_t id, const mt_dns_answer *ans);

/*
 * Give up: the driver's time budget ran out.  The check ends with
 * temperror and reason in the outcome's problem.
 */
MT_EXPORT void mt_spf_abort(mt_spf_check *chk, const char *reason);

MT_EXPORT bool mt_spf_check_done(const mt_spf_check *chk);

/*
 * Blocking driver: step and resolve until done, within opts.timeout_ms of
 * wall-clock time (the whole check ends in temperror when it runs out).
 * A loop over the driver of mailtrust/run.h with this one job: every
 * question the check has ready is asked at once.  When the check has no
 * time for %{t} (request's now 0, no mt_spf_check_set_now()), the driver
 * sets the current time first.
 */
MT_EXPORT mt_status mt_spf_check_run(mt_spf_check *chk, mt_dns_resolver *res);

/*
 * The check as a job for the driver (mailtrust/run.h): start the check,
 * then mt_run_add(run, mt_spf_check_job_ops(), chk, 0, user).  Its time
 * budget is opts.timeout_ms.
 */
struct mt_run_job_ops;
MT_EXPORT const struct mt_run_job_ops *mt_spf_check_job_ops(void);

/* One DNS question and its answer, as the check saw it. */
typedef struct mt_spf_trace_entry {
	const char *name;
	uint16_t type;
	mt_dns_rcode rcode;
	mt_dnssec_state dnssec;
	const char *why;           /* failure detail, or NULL */
	unsigned depth;            /* include/redirect nesting at the time of the question */
	bool void_lookup;          /* counted against the void lookup limit */
	size_t count;
	const mt_dns_rr *records;  /* the records of the asked type (mt_dns_rr_to_text() renders one) */
} mt_spf_trace_entry;

/* One step on the way to the deciding mechanism: a term of domain's record. */
typedef struct mt_spf_chain_link {
	const char *domain;
	const char *term;
} mt_spf_chain_link;

/*
 * What a finished check found.  Strings are NUL-terminated, owned by the
 * check and valid until it is started again or freed.
 */
typedef struct mt_spf_outcome {
	mt_spf_result result;
	mt_spf_identity identity;
	const char *ip;              /* client address as evaluated (mapped IPv6 as IPv4) */
	const char *sender;          /* the sender identity checked (postmaster@helo when MAIL FROM was empty) */
	const char *helo;            /* may be NULL */
	const char *domain;          /* the domain check_host() was called with */
	const char *record;          /* the top-level SPF record text (also when it has a syntax error), or NULL */
	const char *explanation;     /* result fail: the explanation; otherwise NULL */
	const char *mechanism;       /* the matching term as written, NULL when none matched */
	const char *mechanism_domain;/* the domain whose record holds that term */
	const char *problem;         /* temperror/permerror/none: what happened, else NULL */
	const char *problem_domain;  /* where it happened (a domain, never ""), or NULL */
	const char *problem_term;    /* the offending text as written (see mt_spf_syntax_error), or NULL */
	long problem_offset;         /* byte offset in that domain's record, -1 if none */
	mt_dnssec_state dnssec;      /* over all lookups: bogus if any was, secure if all were,
	                                insecure if any was, else unchecked */
	unsigned dns_mechanisms;     /* DNS-querying terms evaluated */
	unsigned void_lookups;
	size_t trace_count;
	const mt_spf_trace_entry *trace;
	/* The terms that decided the result, from the checked domain's record
	 * down through includes and redirects to the matching mechanism
	 * (e.g. "include:_spf.example.net" then "ip4:198.51.100.0/24");
	 * empty when no mechanism matched. */
	size_t chain_count;
	const mt_spf_chain_link *chain;
	/* The result is "none" because the domain to check is malformed or
	 * absent (RFC 7208 section 4.3; domain may then be ""): problem says
	 * why, and nothing was looked up. */
	bool malformed_domain;
	size_t record_len;           /* octets of record: a TXT record may hold a NUL */
} mt_spf_outcome;

/* The outcome of a finished check, or NULL while it is running. */
MT_EXPORT const mt_spf_outcome *mt_spf_check_outcome(const mt_spf_check *chk);

/*
 * Header fields of a finished check, as new strings to free with
 * mt_free(), without a trailing CRLF.
 *  - Received-SPF (RFC 7208 section 9.1), beginning "Received-SPF: ".
 *  - The "spf=" method entry of Authentication-Results (RFC 8601 section
 *    2.7.2), e.g. "spf=pass smtp.mailfrom=example.com".  When the
 *    outcome's malformed_domain is set there is no identity to name: the
 *    property is left out (section 2.2 allows it) and the problem is a
 *    comment, e.g. "spf=none (the domain of the sender 'a@' is empty...)".
 *    Received-SPF then has the problem in its comment and "problem=" key.
 *    Received-SPF values that cannot be a dot-atom are quoted; the
 *    Authentication-Results ones are quoted as <mailtrust/authres.h>
 *    says.  Control characters become '?', and values over 320 octets
 *    are cut (with "...").
 *  - A whole Authentication-Results field with authserv_id (NULL: the
 *    receiver option; "unknown" when it is empty) and that
 *    one entry, built with mt_authres_new/_add/_render (unfolded).
 * MT_ESTATE while the check is running; MT_ENOMEM.
 */
MT_EXPORT mt_status mt_spf_received_spf(const mt_spf_check *chk, char **out);
MT_EXPORT mt_status mt_spf_authres_entry(const mt_spf_check *chk, char **out);
MT_EXPORT mt_status mt_spf_authres_header(const mt_spf_check *chk, const char *authserv_id,
                                          char **out);
/*
 * Add the same "spf=" entry to a field being built (authres.h), as the
 * DKIM and DMARC checks do; several checks (MAIL FROM and HELO) may add
 * theirs to one field.  MT_ESTATE while the check is running; MT_ERANGE
 * past MT_AUTHRES_MAX_METHODS (from mt_authres_add).
 */
struct mt_authres;
MT_EXPORT mt_status mt_spf_check_authres(const mt_spf_check *chk, struct mt_authres *ar,
                                         mt_error *err);

/*
 * Expand an SPF macro-string (RFC 7208 section 7) for a started check, as
 * a domain-spec (exp_context false) or explanation text (true, letters c r
 * t allowed).  Writes the expansion and a NUL into out (cap octets).
 * MT_ESYNTAX (with *syn) for a malformed macro, MT_ERANGE when the result
 * does not fit.  Domain-specs longer than 253 octets are shortened from
 * the left as section 7.3 requires.  For tests and tools; the check uses
 * it internally.
 */
MT_EXPORT mt_status mt_spf_expand(const mt_spf_check *chk, const char *macro, size_t len,
                                  bool exp_context, char *out, size_t cap, size_t *outlen,
                                  mt_spf_syntax_error *syn);

/* ---- Many checks at once ----------------------------------------------- */

/*
 * Many checks run at once on the driver of mailtrust/run.h: start each
 * check and hand it over with mt_run_add(run, mt_spf_check_job_ops(), chk,
 * 0, user); finished checks come back from mt_run_next() in the order they
 * finish.  Results equal those of mt_spf_check_run() over the same
 * resolver.
 */

#ifdef __cplusplus
}
#endif
#endif
