/* Internal interfaces of the SPF module. */
#ifndef MT_SPF_INT_H
#define MT_SPF_INT_H

#include <mailtrust/spf.h>
#include <mailtrust/spf_verify.h>
#include "util/util.h"

#define MT_SPF_MAX_RECORD 65535u
/* RFC 7208 section 3.4: a record up to this size is fetched over UDP. */
#define MT_SPF_UDP_SAFE 450u
#define MT_SPF_MAX_DOMAIN 253u
/* Expansions are capped: a macro-string is at most a record long, and
 * each letter expands to at most a sender (320) or a domain; 8 KiB is more
 * than any legitimate use and bounds what hostile input can make. */
#define MT_SPF_MAX_EXPANSION 8192u

struct mt_spf_record {
	char *text;
	size_t len;
	mt_spf_term *terms;
	size_t nterms;
	int redirect;      /* index of redirect=, or -1 */
	int exp;           /* index of exp=, or -1 */
	bool has_all;      /* an "all" mechanism anywhere: redirect is ignored */
};

/* Parse text into a record allocated from arena (or with malloc when
 * arena is NULL, as one block to free()). */
mt_status mt_spf_record_parse_in(mt_arena *arena, const char *text, size_t len,
                                 mt_spf_record **out, mt_spf_syntax_error *syn);

/*
 * Validate a macro-string (RFC 7208 section 7.1).  exp_context allows the
 * letters c, r, t and spaces (explain-string).  On error returns false and
 * sets *err_off (offset within s) and *msg.
 * *ends_with_macro tells whether the last token is a macro-expand.
 */
bool mt_spf_macro_valid(const char *s, size_t len, bool exp_context, size_t *err_off,
                        const char **msg, bool *ends_with_macro);

/* Does s use a macro letter from set (e.g. "p" or "slo h")? */
bool mt_spf_macro_uses(const char *s, size_t len, const char *letters);

/* What macro expansion reads. */
typedef struct mt_spf_macro_ctx {
	const char *sender;   /* <sender> (local@domain) */
	const char *local;    /* local-part */
	size_t local_len;
	const char *sender_domain;
	const char *domain;   /* current <domain> */
	const char *helo;
	const char *receiver;
	const mt_ip *ip;
	const char *validated; /* %{p} value ("unknown" when none) */
	long long now;         /* %{t} */
} mt_spf_macro_ctx;

/*
 * Expand a macro-string already validated with mt_spf_macro_valid.  As a
 * domain (exp_context false) a trailing dot is removed and the result is
 * shortened from the left to 253 octets (section 7.3).  MT_ERANGE when
 * it does not fit in cap (including the NUL).
 */
mt_status mt_spf_macro_expand(const mt_spf_macro_ctx *mc, const char *s, size_t len,
                              bool exp_context, char *out, size_t cap, size_t *outlen);

/* Reverse-lookup name of ip ("4.3.2.1.in-addr.arpa"), into out (>= 80). */
void mt_spf_reverse_name(const mt_ip *ip, char *out, size_t cap);

/* Is name a well-formed domain name for a DNS query (labels 1..63,
 * total <= 253)?  multi_label additionally requires two labels or more. */
bool mt_spf_domain_ok(const char *name, size_t len, bool multi_label);

/* include, a, mx, ptr, exists and redirect cause DNS queries (4.6.4). */
bool mt_spf_term_queries_dns(mt_spf_term_kind kind);

/* A host name as a user or a sender gives it: mt_spf_domain_ok() and only
 * letters, digits, '-', '_' and dots (no macros, brackets or spaces). */
bool mt_spf_host_name_ok(const char *name, size_t len, bool multi_label);

/* Whether an s or l macro was expanded: the A-R entry then keeps the
 * sender's local-part (RFC 8601 section 2.7.2). */
bool mt_spf_check_used_local(const mt_spf_check *chk);
/* The overall DNS time budget option, in milliseconds. */
unsigned mt_spf_check_timeout(const mt_spf_check *chk);
/* The time for %{t} (0: not given yet; the drivers then set the current
 * time with mt_spf_check_set_now()). */
int64_t mt_spf_check_now(const mt_spf_check *chk);
/* The receiver option ("unknown" when not set). */
const char *mt_spf_check_receiver(const mt_spf_check *chk);

/*
 * Reports without DNS (verify.c): lint, and the notes of merge and build,
 * are an mt_spf_verify holding findings only.  mt_spf_report_ok() is false
 * after an allocation failed.  Strings are copied.
 */
mt_spf_verify *mt_spf_report_new(void);
bool mt_spf_report_ok(const mt_spf_verify *v);
void mt_spf_report_add(mt_spf_verify *v, const char *code, mt_spf_severity sev,
                       const char *fix, const char *record, long offset, size_t length,
                       const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* record-too-long (over MT_SPF_UDP_SAFE octets) for rec, as verify reports it. */
void mt_spf_report_too_long(mt_spf_verify *v, const char *rec);

/*
 * Record text for a message: printable ASCII as it is, every other octet
 * (controls, NUL, DEL, octets >= 0x80) as \xHH, the form in which the CLI
 * shows untrusted text.  Writes at most cap - 1 octets and a NUL, never
 * half an escape; returns the octets written.
 */
size_t mt_spf_escape(char *out, size_t cap, const char *s, size_t len);

/* Does an ip4/ip6 term with a prefix have bits set below it?  Then
 * net (cap >= 48) is the network address in text. */
bool mt_spf_host_bits(const mt_spf_term *t, char *net, size_t cap);
/* Does ip4/ip6 term net match every address that t matches (same family,
 * a prefix no longer than t's, the same network bits)? */
bool mt_spf_ip_covers(const mt_spf_term *net, const mt_spf_term *t);

#endif
