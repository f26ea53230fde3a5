/*
 * mailtrust DNS: answers, resolvers and the in-memory zone.
 *
 * The SPF core never performs I/O: it asks questions (name, type) and is
 * fed mt_dns_answer values.  A resolver (mt_dns_resolver) is what a
 * blocking driver uses to obtain those answers: the in-memory zone below,
 * the libunbound resolver, or any backend a program supplies through
 * mt_dns_resolver_new().
 *
 * Names are passed in presentation form without the trailing dot
 * ("example.com"); comparisons are case-insensitive (ASCII only).
 *
 * Thread safety: distinct objects may be used from distinct threads; one
 * object must not be used from two threads at once.  A zone that is no
 * longer modified may be queried from several threads.
 */
#ifndef MAILTRUST_DNS_H
#define MAILTRUST_DNS_H

#include <mailtrust/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Record types mailtrust reads (numeric values are the IANA ones). */
enum {
	MT_DNS_A = 1,
	MT_DNS_NS = 2,
	MT_DNS_CNAME = 5,
	MT_DNS_SOA = 6,
	MT_DNS_PTR = 12,
	MT_DNS_MX = 15,
	MT_DNS_TXT = 16,
	MT_DNS_AAAA = 28,
	MT_DNS_SPF = 99,
};

/* Name of a record type ("TXT"), or NULL for one mailtrust does not know. */
MT_EXPORT const char *mt_dns_type_name(uint16_t type);
/* Type number for a name such as "txt" or "TYPE99"; 0 if unknown. */
MT_EXPORT uint16_t mt_dns_type_from_name(const char *name, size_t len);

/* What the DNS said (or failed to say) to one question. */
typedef enum mt_dns_rcode {
	MT_DNS_NOERROR = 0, /* an answer; zero records means NODATA */
	MT_DNS_NXDOMAIN,    /* the name does not exist */
	MT_DNS_SERVFAIL,    /* the server failed */
	MT_DNS_REFUSED,     /* the server refused */
	MT_DNS_TIMEOUT,     /* no answer in time */
	MT_DNS_FAILURE,     /* any other failure (FORMERR, network error, bogus DNSSEC) */
} mt_dns_rcode;

/* "NOERROR", "NXDOMAIN", ... */
MT_EXPORT const char *mt_dns_rcode_name(mt_dns_rcode rcode);

typedef enum mt_dnssec_state {
	MT_DNSSEC_UNCHECKED = 0, /* validation was not performed */
	MT_DNSSEC_INSECURE,
	MT_DNSSEC_SECURE,
	MT_DNSSEC_BOGUS,
} mt_dnssec_state;

MT_EXPORT const char *mt_dnssec_state_name(mt_dnssec_state state);

/*
 * One resource record of an answer.  data/len depend on type:
 *  A      4 octets, network order
 *  AAAA   16 octets
 *  MX     pref holds the preference; data is the exchange name
 *  PTR, CNAME, NS   data is the target name
 *  TXT, SPF  the RDATA in wire form: character-strings, each one length
 *            octet followed by that many octets (possibly zero strings)
 * Names are in presentation form without the trailing dot; data is
 * followed by a NUL octet that len does not count.
 */
typedef struct mt_dns_rr {
	uint16_t type;
	uint16_t pref;
	uint32_t ttl;
	size_t len;
	const uint8_t *data;
} mt_dns_rr;

/*
 * The answer to one question, after CNAMEs were followed.  rr holds only
 * records of the asked type.  why is a human-readable detail for a failure
 * ("timed out after 5000 ms", "SERVFAIL from 127.0.0.1"), or NULL.
 */
typedef struct mt_dns_answer {
	mt_dns_rcode rcode;
	mt_dnssec_state dnssec;
	const char *why;
	const char *canonical_name; /* last CNAME target, or NULL if none */
	size_t count;
	const mt_dns_rr *rr;
	/* NXDOMAIN or NODATA: how long the server allows the absence to be
	 * remembered (RFC 2308: the SOA's TTL capped by its minimum field), in
	 * seconds; 0 when the backend does not know.  Caches use it. */
	uint32_t negative_ttl;
	/* The library's own (data derived from the answer, such as a parsed
	 * SPF record, kept with it in the cache): NULL in an answer built by
	 * hand, never touched by callers. */
	void *priv;
} mt_dns_answer;

/*
 * Building answers, for backends.  mt_dns_answer_new() returns NULL when
 * out of memory.  mt_dns_answer_add() copies data.  Free with
 * mt_dns_answer_free() (accepts NULL).
 */
MT_EXPORT mt_dns_answer *mt_dns_answer_new(mt_dns_rcode rcode);
MT_EXPORT mt_status mt_dns_answer_add(mt_dns_answer *ans, uint16_t type, uint32_t ttl,
                                      uint16_t pref, const void *data, size_t len);
MT_EXPORT mt_status mt_dns_answer_set_why(mt_dns_answer *ans, const char *why);
MT_EXPORT mt_status mt_dns_answer_set_canonical(mt_dns_answer *ans, const char *name);
MT_EXPORT void mt_dns_answer_free(mt_dns_answer *ans);

/*
 * Join the character-strings of TXT RDATA (wire form) without separators,
 * as RFC 7208 section 3.3 requires.  Writes at most cap-1 octets and a NUL
 * to out; returns the joined length (which may exceed cap-1: truncated).
 * Malformed RDATA (a length octet running past the end) is joined up to
 * the bad string.
 */
MT_EXPORT size_t mt_dns_txt_join(const uint8_t *rdata, size_t len, char *out, size_t cap);

/*
 * Presentation form of one record's data, as in a zone file:
 * "192.0.2.1", "10 mx.example.com", "\"v=spf1 \" \"-all\"".  Returns a
 * string to free with mt_free(), or NULL when out of memory.
 */
MT_EXPORT char *mt_dns_rr_to_text(const mt_dns_rr *rr);

/* ---- Resolvers ------------------------------------------------------- */

/*
 * One DNS question, the same for every protocol: an SPF check, a DKIM key
 * fetch and a DMARC policy discovery all ask these.  id is the asker's
 * own number for it; name is in presentation form.
 */
typedef struct mt_dns_question {
	uint32_t id;
	const char *name;
	uint16_t type;
} mt_dns_question;

typedef struct mt_dns_resolver mt_dns_resolver;

/*
 * Receives an answer: token is the value given to submit(); ans is
 * borrowed and valid only during the call (copy what you keep).
 */
typedef void (*mt_dns_deliver_fn)(void *arg, uint64_t token, const mt_dns_answer *ans);

/*
 * A backend.  Times are milliseconds of a monotonic clock that the caller
 * (the driver) reads and passes in: backends read no clock.
 *
 * Blocking:
 *   resolve() answers one question within timeout_ms milliseconds (0 = the
 *   backend's own default) and stores a new answer in *out, which the
 *   caller frees with mt_dns_answer_free().  A DNS failure (timeout,
 *   SERVFAIL) is an answer with that rcode, not an error; an error status
 *   means the backend itself could not work (out of memory).
 *
 * Asynchronous (all of submit, cancel and process, or none):
 *   submit() starts a question; its answer is delivered by a later
 *   process() call, exactly once, unless cancel() is called first (then
 *   never).  token identifies it in deliver and cancel; tokens of
 *   questions in flight are distinct.  A backend that gives no answer by
 *   now_ms + its own per-question limit delivers an MT_DNS_TIMEOUT answer.
 *   process() delivers every answer that is ready at now_ms and never
 *   blocks.  fd() is a descriptor that becomes readable when process()
 *   has work (-1: none, e.g. answers are always ready at once).
 *   next_deadline() is the earliest now_ms at which process() must be
 *   called even if fd() stays quiet (UINT64_MAX: none); 0 means "now",
 *   e.g. answers are waiting.
 *
 * A backend with only resolve() works everywhere: submit() is emulated by
 * resolving at once.  A backend with only the asynchronous operations
 * serves mt_dns_resolve() too, through a loop over them.
 * destroy() releases impl when the resolver is freed (may be NULL).
 */
typedef struct mt_dns_resolver_ops {
	mt_status (*resolve)(void *impl, const char *name, uint16_t type,
	                     unsigned timeout_ms, mt_dns_answer **out);
	void (*destroy)(void *impl);
	mt_status (*submit)(void *impl, const char *name, uint16_t type, uint64_t token,
	                    uint64_t now_ms);
	void (*cancel)(void *impl, uint64_t token);
	mt_status (*process)(void *impl, uint64_t now_ms, mt_dns_deliver_fn deliver, void *arg);
	int (*fd)(void *impl);
	uint64_t (*next_deadline)(void *impl);
} mt_dns_resolver_ops;

/* Wrap a backend.  ops must outlive the resolver and provide resolve() or
 * the asynchronous trio (or both).  NULL if out of memory or ops is not
 * usable. */
MT_EXPORT mt_dns_resolver *mt_dns_resolver_new(const mt_dns_resolver_ops *ops, void *impl);
MT_EXPORT void mt_dns_resolver_free(mt_dns_resolver *res);

/*
 * Blocking: answer one question within timeout_ms (0: the backend's
 * default).  *out is a new answer to free with mt_dns_answer_free().
 * Must not be called while asynchronous questions of the same resolver
 * are in flight.
 */
MT_EXPORT mt_status mt_dns_resolve(mt_dns_resolver *res, const char *name, uint16_t type,
                                   unsigned timeout_ms, mt_dns_answer **out);

/*
 * Asynchronous, over any resolver (see mt_dns_resolver_ops): submit a
 * question, cancel it, deliver what is ready, and what to wait for.  These
 * are what the driver (mailtrust/run.h) uses; programs rarely call them.
 * mt_dns_submit() returns MT_EINVAL for a NULL name, MT_ENOMEM, or the
 * backend's failure; a malformed name is answered (MT_DNS_FAILURE), not
 * refused.  mt_dns_resolver_fd() returns -1 when there is nothing to
 * poll; mt_dns_resolver_next_deadline() UINT64_MAX when there is no
 * deadline.
 */
MT_EXPORT mt_status mt_dns_submit(mt_dns_resolver *res, const char *name, uint16_t type,
                                  uint64_t token, uint64_t now_ms);
MT_EXPORT void mt_dns_cancel(mt_dns_resolver *res, uint64_t token);
MT_EXPORT mt_status mt_dns_process(mt_dns_resolver *res, uint64_t now_ms,
                                   mt_dns_deliver_fn deliver, void *arg);
MT_EXPORT int mt_dns_resolver_fd(mt_dns_resolver *res);
MT_EXPORT uint64_t mt_dns_resolver_next_deadline(mt_dns_resolver *res);

/* The monotonic clock in milliseconds that drivers pass to the calls above. */
MT_EXPORT uint64_t mt_dns_now_ms(void);

/* ---- Cache --------------------------------------------------------------- */

/*
 * An in-process cache in front of any resolver.  Answers are kept for
 * their TTL: the smallest TTL of their records; NXDOMAIN and NODATA for
 * the answer's negative_ttl (RFC 2308), or for negative_default_s when the
 * backend does not say; both capped by max_ttl_s.  SERVFAIL, REFUSED,
 * timeouts and other failures are never kept.  Questions for the same
 * name and type that are in flight at once are sent to the backend once.
 * The cache is bounded in bytes (answers and bookkeeping); when full the
 * least recently used answers are evicted.  A hit costs no system call
 * and takes no lock.
 *
 * Thread safety: none; one thread at a time per cache (and per resolver
 * made over it).
 */
typedef struct mt_dns_cache_options {
	size_t size;                 /* sizeof(mt_dns_cache_options), set by init */
	size_t max_bytes;            /* default 64 MiB; at least 64 KiB is used */
	uint32_t max_ttl_s;          /* default 86400 */
	uint32_t negative_default_s; /* default 300 */
	bool own_inner;              /* free inner with the cache resolver */
} mt_dns_cache_options;

MT_EXPORT void mt_dns_cache_options_init(mt_dns_cache_options *opts);

typedef struct mt_dns_cache_stats {
	uint64_t hits;        /* questions answered from the cache */
	uint64_t misses;      /* questions sent to the backend */
	uint64_t joined;      /* questions that waited for one already sent */
	uint64_t inserts;     /* answers stored */
	uint64_t evictions;   /* answers dropped to stay within max_bytes */
	uint64_t expired;     /* answers dropped because their TTL ran out */
	size_t entries;       /* answers held now */
	size_t bytes;         /* bytes held now */
} mt_dns_cache_stats;

/*
 * A resolver that answers from the cache and asks inner otherwise.  inner
 * is borrowed and must outlive the cache resolver, unless opts->own_inner
 * hands it over (it is then freed with the cache resolver, also when this
 * call fails).  opts may be NULL.
 * Blocking mt_dns_resolve() on it goes through the cache too.
 * MT_ENOMEM or MT_EINVAL with err set.
 */
MT_EXPORT mt_status mt_dns_cache_resolver_new(mt_dns_resolver *inner,
                                              const mt_dns_cache_options *opts,
                                              mt_dns_resolver **out, mt_error *err);
/* Counters of a resolver made by mt_dns_cache_resolver_new(); MT_EINVAL
 * for any other resolver. */
MT_EXPORT mt_status mt_dns_cache_stats_get(mt_dns_resolver *res, mt_dns_cache_stats *out);

/* ---- Test backend ----------------------------------------------------------- */

/*
 * A resolver for testing drivers and event loops: it answers from another
 * resolver (typically a zone) but misbehaves on command.  Rules are
 * matched in order by name (exact, case-insensitive; "*" matches every
 * name) and type (0: any); the first that matches applies.
 */
typedef enum mt_dns_test_action {
	MT_DNS_TEST_DELAY = 0, /* deliver after delay_ms */
	MT_DNS_TEST_DROP,      /* never answer (the question times out) */
	MT_DNS_TEST_DUPLICATE, /* deliver, then deliver again */
	MT_DNS_TEST_FAIL,      /* answer rcode instead (SERVFAIL, TIMEOUT ...) */
} mt_dns_test_action;

typedef struct mt_dns_test_rule {
	const char *name;
	uint16_t type;
	mt_dns_test_action action;
	unsigned delay_ms;          /* DELAY, DUPLICATE and FAIL: when to deliver */
	mt_dns_rcode rcode;         /* FAIL */
} mt_dns_test_rule;

/* Flags of the test resolver. */
enum {
	/* When several answers are ready, deliver them newest first. */
	MT_DNS_TEST_REVERSE = 1,
	/* Count cancel() but deliver the answer anyway, later: a broken
	 * backend, or an answer that was already on its way. */
	MT_DNS_TEST_IGNORE_CANCEL = 2,
};

/*
 * inner is borrowed and is asked with mt_dns_resolve() when a question
 * arrives.  Answers that no rule delays are ready at once.  timeout_ms: a
 * dropped question is answered MT_DNS_TIMEOUT after it (0: 5000).  Rules
 * (and their names) are copied.  DUPLICATE and IGNORE_CANCEL break the
 * "exactly once" contract on purpose: a driver must ignore tokens it no
 * longer waits for.
 */
MT_EXPORT mt_status mt_dns_test_resolver_new(mt_dns_resolver *inner,
                                             const mt_dns_test_rule *rules, size_t nrules,
                                             unsigned flags, unsigned timeout_ms,
                                             mt_dns_resolver **out, mt_error *err);
/* Questions the test resolver has received and cancellations it has seen. */
MT_EXPORT void mt_dns_test_resolver_counts(mt_dns_resolver *res, size_t *submitted,
                                           size_t *cancelled);

/* ---- In-memory zone -------------------------------------------------- */

/*
 * A set of records held in memory, answering like an authoritative server
 * for every name it holds: NXDOMAIN for a name with no records and no
 * records below it, NODATA for an existing name without the asked type,
 * CNAME chains followed (at most 16 links; a loop or a longer chain
 * answers SERVFAIL).
 *
 * Faults make names misbehave for tests: a fault on (name, type) - type 0
 * for every type - is returned for a question that the zone has no record
 * of the asked type for; records of the asked type are still answered.
 */
typedef struct mt_dns_zone mt_dns_zone;

MT_EXPORT mt_dns_zone *mt_dns_zone_new(void);
MT_EXPORT void mt_dns_zone_free(mt_dns_zone *zone);

/*
 * Add one record; data as in mt_dns_rr (copied).  Names may carry a
 * trailing dot.  MT_EINVAL for a malformed name or data of the wrong
 * size for the type.
 */
MT_EXPORT mt_status mt_dns_zone_add(mt_dns_zone *zone, const char *name, uint16_t type,
                                    uint32_t ttl, uint16_t pref, const void *data, size_t len);
/* Add a TXT (or SPF) record from n character-strings (each at most 255 octets). */
MT_EXPORT mt_status mt_dns_zone_add_txt(mt_dns_zone *zone, const char *name, uint16_t type,
                                        uint32_t ttl, const char *const *strings,
                                        const size_t *lens, size_t n);
/*
 * What a zone may cost.  A zone holds at most max_records records (each
 * $FAULT counts as one) and takes at most max_bytes octets of memory for
 * its names, records and table, per-record overhead included (the
 * zone's own count: what it asked malloc for).  An add that would pass
 * either limit fails with MT_ERANGE and the zone answers as before.  0 means the
 * default: MT_DNS_ZONE_RECORDS_DEFAULT records, MT_DNS_ZONE_BYTES_DEFAULT
 * octets.  A new limit below what the zone already holds only stops
 * further adds.  Loading a file also needs the file's text in memory
 * while it is read (at most 64 MiB).
 */
#define MT_DNS_ZONE_RECORDS_DEFAULT ((size_t)2 << 20)
#define MT_DNS_ZONE_BYTES_DEFAULT ((size_t)256 << 20)
MT_EXPORT mt_status mt_dns_zone_set_limits(mt_dns_zone *zone, size_t max_records,
                                           size_t max_bytes);
/* What the zone holds: records (and faults) and octets as counted above. */
MT_EXPORT mt_status mt_dns_zone_usage(const mt_dns_zone *zone, size_t *records,
                                      size_t *bytes);

/* Make (name, type) answer rcode (type 0: every type), see above. */
MT_EXPORT mt_status mt_dns_zone_add_fault(mt_dns_zone *zone, const char *name, uint16_t type,
                                          mt_dns_rcode rcode);

/*
 * Read RFC 1035 master-file text: $ORIGIN, $TTL, $INCLUDE (files only),
 * parentheses, quoted strings with \X and \DDD escapes, owner inheritance,
 * class IN, and the types A AAAA MX PTR CNAME NS TXT SPF; SOA is read and
 * ignored, any other type is an error.  One extension for tests:
 *
 *     $FAULT <owner> <TIMEOUT|SERVFAIL|REFUSED|NXDOMAIN> [TYPE]
 *
 * adds a fault as mt_dns_zone_add_fault() does.  A UTF-8 byte-order mark
 * at the start of a file (or of text) is skipped.  origin may be NULL.  On
 * failure err says "file:line: what is wrong"; records read before the
 * error stay in the zone.
 */
MT_EXPORT mt_status mt_dns_zone_load_text(mt_dns_zone *zone, const char *text, size_t len,
                                          const char *origin, const char *filename,
                                          mt_error *err);
MT_EXPORT mt_status mt_dns_zone_load_file(mt_dns_zone *zone, const char *path,
                                          const char *origin, mt_error *err);

/* Answer one question from the zone (what the zone resolver does). */
MT_EXPORT mt_status mt_dns_zone_query(const mt_dns_zone *zone, const char *name, uint16_t type,
                                      mt_dns_answer **out);

/*
 * A resolver answering from zone.  The zone is borrowed: it must outlive
 * the resolver.
 */
MT_EXPORT mt_dns_resolver *mt_dns_zone_resolver_new(mt_dns_zone *zone);

/* ---- libunbound resolver (real DNS) ---------------------------------- */

/*
 * Options of the libunbound resolver.  Initialise with
 * mt_dns_unbound_options_init() and change what you need; the strings
 * are read during mt_dns_unbound_resolver_new() only.  size is set by
 * init: fields added to the end in later versions are read only when size
 * says the caller has them.
 */
typedef struct mt_dns_unbound_options {
	size_t size;    /* sizeof(mt_dns_unbound_options), set by init */
	/* "ADDR" or "ADDR@PORT" (IPv4 or IPv6) of a recursive server to
	 * forward every question to; NULL: the nameservers of
	 * /etc/resolv.conf.  Ignored when recursive is set. */
	const char *forwarder;
	/* Full recursion from the root hints instead of forwarding. */
	bool recursive;
	/* Validate DNSSEC (off by default); answers carry the state and a
	 * bogus one is answered MT_DNS_FAILURE with the reason in why. */
	bool dnssec;
	/* Trust anchor file (DS or DNSKEY records in master-file form) for
	 * dnssec; NULL: Debian's /usr/share/dns/root.key.  Checked before
	 * libunbound reads it: a regular, readable file of at most 1 MiB
	 * whose records are all DS or DNSKEY (else MT_EIO or MT_ESYNTAX). */
	const char *trust_anchor_file;
	/* Budget for one question when resolve() is given 0; 0 = 5000 ms. */
	unsigned timeout_ms;
	/* An unbound.conf(5) file read before the settings above (stub-zone,
	 * forward-zone clauses ...), or NULL. */
	const char *config_file;
	/* Sizes in octets of libunbound's message and RRset caches; 0 keeps
	 * libunbound's defaults (1 MiB each in libunbound 1.17).  A cache of
	 * mailtrust's own (mt_dns_cache_resolver_new) may sit in front. */
	size_t msg_cache_size;
	size_t rrset_cache_size;
	/* n_unbound_options lines "key: value" of unbound.conf(5)'s server:
	 * clause ("outgoing-range: 1024", "edns-buffer-size: 1232"), handed
	 * to ub_ctx_set_option() after every setting above, so they can
	 * change mailtrust's choices.  A line libunbound rejects fails
	 * mt_dns_unbound_resolver_new() with MT_EINVAL naming it. */
	const char *const *unbound_options;
	size_t n_unbound_options;
} mt_dns_unbound_options;

/* Defaults: forward to /etc/resolv.conf, no DNSSEC, 5000 ms. */
MT_EXPORT void mt_dns_unbound_options_init(mt_dns_unbound_options *opts);

/*
 * A resolver asking the real DNS through one libunbound context, whose
 * cache lives as long as the resolver (repeated questions are answered
 * from it while their TTL lasts).
 *
 * Names libunbound would otherwise answer itself, without a query, are
 * asked of the configured servers like any other name: the reverse zones
 * of RFC 6303 and RFC 6598 (private, shared, documentation, loopback and
 * link-local addresses) always, and when forwarding (not recursive) also
 * the special-use domains test. (RFC 6761 6.2: a resolver library should
 * send them to its configured server), invalid. (6.4 leaves that to the
 * library; the configured server decides, as it does for the system
 * resolver) and home.arpa. (RFC 8375: must not be treated as special).
 * Still answered locally: localhost. (RFC 6761 6.3: the loopback address,
 * never asked) and onion. (RFC 7686 2: a library must answer NXDOMAIN).
 *
 * Concurrency: libunbound's library defaults (16 ports, a 376 ms wait for
 * a server it has no round-trip time for yet) make a slow server time out
 * and be asked again before its answer can arrive.  The resolver uses up
 * to 8192 ports (fewer when the process's open-file limit is lower: 256
 * descriptors stay free) and waits 3000 ms for an unknown server; both can
 * be changed with unbound_options ("outgoing-range", "unknown-server-time-
 * limit").
 *
 * libunbound prints nothing: its log goes nowhere, and what it reports
 * while the context is set up (a trust anchor it cannot use ...) becomes
 * the message in err.  libunbound's log is one for the whole process, so
 * this also silences other libunbound contexts of the program.
 *
 * Each resolve() waits at most its timeout and then answers
 * MT_DNS_TIMEOUT; the question is cancelled.  A background thread of
 * libunbound does the network work.
 *
 * opts NULL means the defaults.  On failure returns MT_EINVAL (bad
 * forwarder address, unreadable config file, an option libunbound
 * rejects), MT_EIO (a trust anchor file that is missing, unreadable or not
 * a regular file), MT_ESYNTAX (a trust anchor file that does not hold DS or
 * DNSKEY records), MT_ENOMEM or MT_EDNS, with a message in err.  Free with
 * mt_dns_resolver_free().  Not thread-safe: one thread at a time per
 * resolver.
 */
MT_EXPORT mt_status mt_dns_unbound_resolver_new(const mt_dns_unbound_options *opts,
                                                mt_dns_resolver **out, mt_error *err);

#ifdef __cplusplus
}
#endif
#endif
