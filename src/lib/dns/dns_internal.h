/* Internal helpers of the DNS module: not part of the API. */
#ifndef MT_DNS_INTERNAL_H
#define MT_DNS_INTERNAL_H

#include <mailtrust/dns.h>

/* Longest name in presentation form without the trailing dot. */
#define MT_DNS_NAME_MAX 253
#define MT_DNS_LABEL_MAX 63
/* Most records in one answer or RRset, and most octets of one RDATA. */
#define MT_DNS_RR_MAX 65535
#define MT_DNS_RDATA_MAX 65535
/* Most CNAME links followed for one question, by every resolver. */
#define MT_DNS_CNAME_LINKS_MAX 16

/*
 * Check a presentation-form name of len octets (no escapes: any octet
 * but NUL and '.' may appear in a label).  One trailing dot is removed;
 * the empty result is the root.  Labels are 1..63 octets, the whole at
 * most 253.  Returns false for a malformed name, else stores the length
 * without the trailing dot in *outlen.
 */
bool mt_dns_name_check(const char *s, size_t len, size_t *outlen);

/* Is d[0..len) a sequence of character-strings (TXT/SPF RDATA) that fills
 * it exactly?  The empty RDATA is. */
bool mt_dns_txt_check(const uint8_t *d, size_t len);

/* Which limit the zone's last MT_ERANGE from mt_dns_zone_add() or
 * mt_dns_zone_add_fault() came from, and its value in *limit. */
typedef enum mt_dns_zone_limit {
	MT_DNS_ZONE_LIMIT_NONE = 0,
	MT_DNS_ZONE_LIMIT_NAME,    /* MT_DNS_RR_MAX records for one name */
	MT_DNS_ZONE_LIMIT_RECORDS, /* the zone's record limit */
	MT_DNS_ZONE_LIMIT_BYTES,   /* the zone's memory limit */
} mt_dns_zone_limit;
mt_dns_zone_limit mt_dns_zone_limit_hit(const mt_dns_zone *zone, size_t *limit);

/* The impl of a resolver made with ops, or NULL when res was made with
 * other ops (lets a backend recognise its own resolvers). */
void *mt_dns_resolver_impl(const mt_dns_resolver *res, const mt_dns_resolver_ops *ops);

/*
 * Data derived from an answer (an SPF module's parsed record), kept with it
 * and released with it: an answer held in the cache is read once, however
 * many checks see it.  release identifies the kind of data.  get returns
 * NULL when the answer has none of that kind; set does nothing when the
 * answer already holds derived data (and then releases data at once).
 */
void *mt_dns_answer_derived(const mt_dns_answer *ans, void (*release)(void *));
void mt_dns_answer_set_derived(const mt_dns_answer *ans, void *data, void (*release)(void *));

/*
 * Keep an answer beyond the call that lent it: the same answer with one
 * more reference when it was made by mt_dns_answer_new() (answers are
 * immutable once delivered), else a copy.  Release with
 * mt_dns_answer_free().  NULL when out of memory.  Not thread-safe: an
 * answer is shared within one thread.
 */
mt_dns_answer *mt_dns_answer_hold(const mt_dns_answer *ans);

/* A deep copy of src (MT_ENOMEM), and roughly the memory an answer holds. */
mt_status mt_dns_answer_copy(const mt_dns_answer *src, mt_dns_answer **out);
size_t mt_dns_answer_bytes(const mt_dns_answer *ans);

#endif
