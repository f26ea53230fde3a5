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

#endif
