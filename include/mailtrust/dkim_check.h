/*
 * mailtrust: a published DKIM key checked for its domain's owner
 * (RFC 6376 3.6, RFC 8301, RFC 8463).
 *
 * mt_dkim_check_run() asks TXT at SELECTOR._domainkey.DOMAIN through a
 * resolver and reports findings, each with a stable code and a severity:
 * whether a key is there, its syntax (the offset of the bad tag, for a
 * caret), its size (RSA below 1024 bits is an error, below 2048 a warning),
 * a revoked key (empty p=), the testing flag t=y, t=s, an h= that excludes
 * sha256, several TXT records at the name, a CNAME delegation (name and
 * target), the answer's size (over 512 octets needs EDNS or TCP), and how
 * the record is split into strings.  Like spf verify (spf_verify.h), each
 * authoritative server of the name's zone is asked directly and its answer
 * compared with the recursive one (a CNAME is asked of the servers of the
 * zone holding it, the key of the servers of the target's zone), and an
 * expected record (the one the owner meant to publish) is looked for on
 * them: absent everywhere (added at a provider that is not the DNS host),
 * served by some servers only, or served but not yet in the caches.  A
 * private key can be checked against the published public key.
 *
 * Blocking; no global state; a report is owned by the caller.  Thread
 * safety: one report per thread; distinct calls are independent.
 */
#ifndef MAILTRUST_DKIM_CHECK_H
#define MAILTRUST_DKIM_CHECK_H

#include <mailtrust/common.h>
#include <mailtrust/dns.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mt_dkim_check_severity {
	MT_DKIM_CHECK_INFO = 0,
	MT_DKIM_CHECK_WARNING,
	MT_DKIM_CHECK_ERROR,
} mt_dkim_check_severity;

/* "info", "warning", "error" */
MT_EXPORT const char *mt_dkim_check_severity_name(mt_dkim_check_severity sev);

/*
 * One thing found.  code is stable (lower-case words with dashes); message
 * says what is wrong, fix what to do (NULL: nothing).  record/record_len
 * is the text the finding is about (the published record, or the expected
 * one), NULL when none; offset/length locate the bad spot in it (offset
 * -1: not about one place).
 */
typedef struct mt_dkim_check_finding {
	const char *code;
	mt_dkim_check_severity severity;
	const char *message;
	const char *fix;
	const char *record;
	size_t record_len;
	long offset;
	size_t length;
} mt_dkim_check_finding;

/* What one authoritative server answered. */
typedef struct mt_dkim_check_ns {
	const char *server;         /* NS name */
	const char *address;        /* the address asked */
	const char *name;           /* the name asked (the key name, or a CNAME's target) */
	mt_dns_rcode rcode;
	const char *why;            /* failure detail, or NULL */
	const char *cname;          /* the CNAME target it serves at name, or NULL */
	const char *record;         /* the first TXT record it serves (joined), or NULL */
	size_t record_len;
	size_t ntxt;                /* TXT records it serves at name */
	bool agrees;                /* the same as the recursive answer */
	bool serves_expect;         /* serves the expected key (options.expect) */
} mt_dkim_check_ns;

typedef struct mt_dkim_check_options {
	size_t size;                /* sizeof(mt_dkim_check_options), set by init */
	const char *expect;         /* the record meant to be published, or NULL */
	/* a private key (PEM, pem_len octets) to compare with the published
	 * public key, or NULL */
	const char *private_key_pem;
	size_t private_key_len;
	/* A resolver asking one authoritative server directly; NULL: the
	 * servers are not asked (an info finding says so).  server_port 0: 53. */
	mt_status (*server_resolver)(void *ctx, const char *address, unsigned port,
	                             mt_dns_resolver **out);
	void *server_ctx;
	unsigned server_port;
	unsigned timeout_ms;        /* per DNS answer (0: the resolver's default) */
} mt_dkim_check_options;

MT_EXPORT void mt_dkim_check_options_init(mt_dkim_check_options *opts);

typedef struct mt_dkim_check mt_dkim_check;

/*
 * Check the key at selector._domainkey.domain through res.  On MT_OK *out
 * is a report (free with mt_dkim_check_free), also when the key could not
 * be looked up (mt_dkim_check_checked() false, a finding says why).
 * Errors: MT_EINVAL (a malformed selector or domain, err says which and
 * where; a NULL argument), MT_ESYNTAX (private_key_pem is not a private
 * key, err says why), MT_ENOMEM.
 */
MT_EXPORT mt_status mt_dkim_check_run(const char *selector, const char *domain,
                                      mt_dns_resolver *res, const mt_dkim_check_options *opts,
                                      mt_dkim_check **out, mt_error *err);
MT_EXPORT void mt_dkim_check_free(mt_dkim_check *c);

/* False when a DNS failure kept the key from being looked up. */
MT_EXPORT bool mt_dkim_check_checked(const mt_dkim_check *c);
/* The worst severity among the findings (MT_DKIM_CHECK_INFO when none). */
MT_EXPORT mt_dkim_check_severity mt_dkim_check_worst(const mt_dkim_check *c);
/* SELECTOR._domainkey.DOMAIN, lowercase, no trailing dot. */
MT_EXPORT const char *mt_dkim_check_name(const mt_dkim_check *c);
/* The CNAME target the name leads to, or NULL (no delegation). */
MT_EXPORT const char *mt_dkim_check_cname(const mt_dkim_check *c);
/* The key record checked (the TXT strings joined), or NULL; its length. */
MT_EXPORT const char *mt_dkim_check_record(const mt_dkim_check *c);
MT_EXPORT size_t mt_dkim_check_record_len(const mt_dkim_check *c);

/* The checked key: "rsa"/"ed25519" (NULL: no usable key), its size in bits,
 * and its flags. */
typedef struct mt_dkim_check_key {
	const char *type;
	int bits;
	bool revoked, testing, strict;
	size_t strings;             /* character-strings of the record in DNS */
	size_t ntxt;                /* TXT records at the name */
	uint32_t ttl;
	size_t answer_octets;       /* estimated size of the DNS answer */
	int private_key_matches;    /* -1: not checked, 0: no, 1: yes */
} mt_dkim_check_key;
MT_EXPORT const mt_dkim_check_key *mt_dkim_check_key_info(const mt_dkim_check *c);

MT_EXPORT size_t mt_dkim_check_finding_count(const mt_dkim_check *c);
MT_EXPORT const mt_dkim_check_finding *mt_dkim_check_finding_at(const mt_dkim_check *c, size_t i);
MT_EXPORT size_t mt_dkim_check_ns_count(const mt_dkim_check *c);
MT_EXPORT const mt_dkim_check_ns *mt_dkim_check_ns_at(const mt_dkim_check *c, size_t i);

#ifdef __cplusplus
}
#endif
#endif
