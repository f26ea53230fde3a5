/*
 * mailtrust SPF verification for domain owners: find what is wrong with a
 * domain's SPF setup, explain it, say how to fix it; and merge or build
 * records.
 *
 * Verification is blocking: it asks its questions through an
 * mt_dns_resolver (the libunbound resolver, or a zone for offline use).
 * Results are a list of findings, each with a stable code.  No global
 * state; a report is owned by the caller and freed with
 * mt_spf_verify_free().
 */
#ifndef MAILTRUST_SPF_VERIFY_H
#define MAILTRUST_SPF_VERIFY_H

#include <mailtrust/common.h>
#include <mailtrust/dns.h>
#include <mailtrust/spf.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mt_spf_severity {
	MT_SPF_INFO = 0,
	MT_SPF_WARNING,
	MT_SPF_ERROR,
} mt_spf_severity;

/* "info", "warning", "error" */
MT_EXPORT const char *mt_spf_severity_name(mt_spf_severity sev);

/*
 * One thing found.  code is stable across releases (lower-case words with
 * dashes, e.g. "multiple-records", "lookup-limit"); message says what is
 * wrong in plain words; fix says what to do (NULL when nothing is to be
 * done).  domain/record/offset/length/term locate it: offset and length
 * are bytes within record (-1 and 0 when not about one place).
 */
typedef struct mt_spf_finding {
	const char *code;
	mt_spf_severity severity;
	const char *message;
	const char *fix;
	const char *domain;
	const char *record;
	long offset;
	size_t length;
	const char *term;
	size_t record_len;          /* octets of record (a TXT record may hold a NUL) */
} mt_spf_finding;

/*
 * A node of the include/redirect tree, in pre-order (a node's children
 * follow it).  lookups is the DNS-querying terms of this record alone
 * (include, a, mx, ptr, exists, redirect: mt_spf_record_lookups());
 * subtree_lookups adds its descendants.  cost is what the node costs
 * against the limit of 10, the one number the CLI shows: for an include
 * or redirect, 1 for that term (counted in its parent's record) plus
 * subtree_lookups; for the domain itself, subtree_lookups (the total).  status is MT_SPF_PASS when the record was found and parsed,
 * MT_SPF_NONE when the domain has no SPF record, MT_SPF_PERMERROR for a
 * syntax error or a loop, MT_SPF_TEMPERROR for a DNS failure.
 */
typedef struct mt_spf_tree_node {
	const char *domain;
	const char *via;            /* "top", "include" or "redirect" */
	unsigned depth;             /* 0 for the domain itself */
	const char *record;         /* NULL when none */
	mt_spf_result status;
	unsigned lookups;
	unsigned subtree_lookups;
	unsigned void_lookups;      /* a/mx/exists targets of this record that have no records */
	unsigned mx_names_max;      /* most MX names of one mx term here */
	uint32_t ttl;               /* TTL of the TXT answer */
	unsigned cost;              /* lookups it costs, with everything below it (see above) */
	size_t record_len;          /* octets of record (it may hold a NUL) */
} mt_spf_tree_node;

/* What one authoritative server answered for the domain's TXT records. */
typedef struct mt_spf_ns_answer {
	const char *server;         /* NS name */
	const char *address;        /* the address asked */
	mt_dns_rcode rcode;
	const char *why;            /* failure detail, or NULL */
	const char *spf_record;     /* the SPF record it serves, or NULL (none, several: see count) */
	size_t spf_count;           /* SPF records it serves */
	uint32_t ttl;
	bool agrees;                /* same SPF record set as the recursive answer */
} mt_spf_ns_answer;

/* For each address to authorize: the result a receiver would reach. */
typedef struct mt_spf_authz {
	const char *ip;
	mt_spf_result result;
	const char *explanation;    /* fail: the explanation */
	const char *problem;        /* errors: what happened */
	size_t chain_count;         /* the terms that decided, from the domain's record down */
	const mt_spf_chain_link *chain;
} mt_spf_authz;

typedef struct mt_spf_verify_options {
	mt_spf_options spf;         /* limits used for the lookup checks (RFC defaults) */
	const char *expect;         /* the record the owner meant to publish, or NULL */
	const char *const *ips;     /* addresses to authorize, nips of them */
	size_t nips;
	const char *sender_local;   /* local-part for macro expansion ("postmaster" if NULL) */
	/*
	 * Publication: a resolver that asks one authoritative server directly.
	 * When NULL, publication is not checked (an info finding says so).
	 * server_port is the port for those questions (0: 53).
	 */
	mt_status (*server_resolver)(void *ctx, const char *address, unsigned port,
	                             mt_dns_resolver **out);
	void *server_ctx;
	unsigned server_port;
	int64_t now;                /* seconds since the Epoch for TTL expiry times; 0: now */
	/*
	 * How long to wait for each DNS answer, from res and from each
	 * authoritative server (passed to mt_dns_resolve; 0: the resolver's
	 * own default, 5000 ms for libunbound).  The --ip checks use
	 * spf.timeout_ms for each check as a whole.
	 */
	unsigned timeout_ms;
} mt_spf_verify_options;

MT_EXPORT void mt_spf_verify_options_init(mt_spf_verify_options *opts);

typedef struct mt_spf_verify mt_spf_verify;

/*
 * Verify domain's SPF setup through res.  On MT_OK, *out is a report
 * (free with mt_spf_verify_free) even when the domain could not be checked:
 * then mt_spf_verify_checked() is false and a finding says why.  Errors:
 * MT_EINVAL (malformed domain or option, err says which), MT_ENOMEM.
 */
MT_EXPORT mt_status mt_spf_verify_run(const char *domain, mt_dns_resolver *res,
                                      const mt_spf_verify_options *opts, mt_spf_verify **out,
                                      mt_error *err);
MT_EXPORT void mt_spf_verify_free(mt_spf_verify *v);

/*
 * The offline checks of verify on one record text (len octets), as a
 * domain would publish it; no DNS.  A text that is not an SPF record but
 * looks like one (typos, quotes, typographic quotes, other spaces) gives
 * broken-record with the corrected record as the fix; an SPF record gets
 * verify's syntax suggestions (glued terms, misspelled mechanisms, ip4:
 * with a host name, ...), terms after all, redirect ignored, the policy
 * of all, ptr, broad ranges, host bits, macros and record-too-long (over
 * 450 octets, RFC 7208 section 3.4, with the strings a zone file needs).
 * A NUL octet in the text is a syntax-error.  *out is a report read with
 * mt_spf_verify_finding_count/_finding and freed with mt_spf_verify_free;
 * its findings have no domain and the tree, servers and authorization are
 * empty.  Errors: MT_EINVAL (NULL, longer than 65535 octets), MT_ENOMEM.
 */
MT_EXPORT mt_status mt_spf_lint(const char *record, size_t len, mt_spf_verify **out,
                                mt_error *err);

/*
 * rec (len octets) as the character-strings of a TXT record in zone-file
 * form: "..." "...", each at most 255 octets, split after a space where
 * one is near (receivers join the strings without adding anything); '"'
 * and '\' are escaped with '\', other octets outside printable ASCII as
 * \DDD.  *out: mt_free.  MT_EINVAL, MT_ENOMEM.
 */
MT_EXPORT mt_status mt_spf_zone_strings(const char *rec, size_t len, char **out);

/* False when DNS failures kept the domain from being checked (exit 3). */
MT_EXPORT bool mt_spf_verify_checked(const mt_spf_verify *v);
/* The worst severity among the findings; MT_SPF_INFO when none. */
MT_EXPORT mt_spf_severity mt_spf_verify_worst(const mt_spf_verify *v);
MT_EXPORT const char *mt_spf_verify_domain(const mt_spf_verify *v);
/* The SPF record the domain publishes (joined), or NULL; its length in
 * octets (a TXT record may hold a NUL: the record goes on after it). */
MT_EXPORT const char *mt_spf_verify_record(const mt_spf_verify *v);
MT_EXPORT size_t mt_spf_verify_record_len(const mt_spf_verify *v);

MT_EXPORT size_t mt_spf_verify_finding_count(const mt_spf_verify *v);
MT_EXPORT const mt_spf_finding *mt_spf_verify_finding(const mt_spf_verify *v, size_t i);
MT_EXPORT size_t mt_spf_verify_tree_count(const mt_spf_verify *v);
MT_EXPORT const mt_spf_tree_node *mt_spf_verify_tree(const mt_spf_verify *v, size_t i);
/* Totals over the whole tree, as a receiver counts them. */
MT_EXPORT unsigned mt_spf_verify_total_lookups(const mt_spf_verify *v);
MT_EXPORT unsigned mt_spf_verify_total_void(const mt_spf_verify *v);
MT_EXPORT size_t mt_spf_verify_ns_count(const mt_spf_verify *v);
MT_EXPORT const mt_spf_ns_answer *mt_spf_verify_ns(const mt_spf_verify *v, size_t i);
MT_EXPORT size_t mt_spf_verify_authz_count(const mt_spf_verify *v);
MT_EXPORT const mt_spf_authz *mt_spf_verify_authz(const mt_spf_verify *v, size_t i);

/* ---- merge and build --------------------------------------------------- */

/*
 * Merge several SPF records into one.  Every ip4, ip6, a, mx, ptr,
 * include and exists term appears once (compared case-insensitively,
 * addresses by value), in this order: ip4, ip6, a, mx, ptr, include,
 * exists, then modifiers, then one "all".  The "all" qualifier rule: the
 * least strict one present wins (? over ~ over -), so the merged record
 * never rejects mail that one of the originals only soft-failed; no "all"
 * in any record gives none.  Refused with MT_ESYNTAX and err->message
 * saying why: a record does not parse, "+all" (anyone may send), the same
 * term with different qualifiers, different redirect= or exp= targets, a
 * redirect= beside an "all" (the redirect would be ignored), a mechanism
 * that this order would move past another of its own record when either
 * is "all" or has a qualifier other than '+' (the first match decides, so
 * the record's meaning would change; terms after "all" are never
 * evaluated), or more than max_lookups DNS-querying terms (0: 10).  The
 * count is of the merged record itself: what its includes cost is not
 * known offline.  An ip4 (ip6) term inside another listed network is left
 * out when every ip4 (ip6) term of the inputs has the qualifier '+' (the
 * wider one then matches first or alike).  *out is a new string (mt_free).
 */
MT_EXPORT mt_status mt_spf_merge(const char *const *records, size_t n, unsigned max_lookups,
                                 char **out, mt_error *err);

typedef struct mt_spf_build_options {
	const char *const *ip4;     /* addresses or networks ("192.0.2.0/24") */
	size_t nip4;
	const char *const *ip6;
	size_t nip6;
	const char *const *include; /* domains */
	size_t ninclude;
	bool a, mx;
	char all;                   /* '-' fail, '~' softfail, '?' neutral; 0: '-' */
	unsigned max_lookups;       /* 0: 10 */
} mt_spf_build_options;

/*
 * Build a record from its parts, refusing (MT_ESYNTAX with err) an invalid
 * address, prefix or domain, or more than max_lookups DNS-querying terms.
 * Terms in this order: ip4, ip6, a, mx, include, then "all"; each include,
 * a and mx counts one lookup.  Each input is written once (networks
 * compared by value and prefix, names without case or final dot), and an
 * address or network inside another listed network is left out.  MT_EINVAL for a NULL list or another "all"
 * qualifier.  The result always parses with mt_spf_record_parse.
 * *out: mt_free.
 */
MT_EXPORT mt_status mt_spf_build(const mt_spf_build_options *opts, char **out, mt_error *err);

/*
 * mt_spf_merge and mt_spf_build, and notes on the result: on MT_OK, when
 * notes is not NULL, *notes is a report (mt_spf_verify_finding_count /
 * _finding, mt_spf_verify_free) whose findings have no domain.  Codes:
 * host-bits (info: an ip4/ip6 input with bits set below its prefix, which
 * receivers ignore), covered-dropped (info: an ip4/ip6 address or network
 * inside another listed network was left out; merge does it only when
 * every ip4, or ip6, term of the inputs is '+'), duplicate-dropped (info,
 * build: an input given twice, names compared without case or final dot,
 * networks by value; merge writes repeats once as documented above),
 * policy-weaker (warning, merge: a record had a stricter "all" than the
 * merged one), needs-split (info: 256 to 450 octets, the fix gives the
 * zone-file strings) and record-too-long (warning: over 450 octets, RFC
 * 7208 section 3.4; the fix gives the strings and suggests moving terms to
 * an included record).  On failure *notes is NULL.
 */
MT_EXPORT mt_status mt_spf_merge_notes(const char *const *records, size_t n, unsigned max_lookups,
                                       char **out, mt_spf_verify **notes, mt_error *err);
MT_EXPORT mt_status mt_spf_build_notes(const mt_spf_build_options *opts, char **out,
                                       mt_spf_verify **notes, mt_error *err);

#ifdef __cplusplus
}
#endif
#endif
