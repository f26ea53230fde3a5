/*
 * Decoding DNS wire-form RDATA (as libunbound hands it over: one record's
 * RDATA without its length prefix, names uncompressed) into the forms of
 * mt_dns_rr.  Internal to the library; fuzzed by fuzz/fuzz_dnsanswer.c.
 */
#ifndef MT_DNS_WIRE_H
#define MT_DNS_WIRE_H

#include <mailtrust/dns.h>

/* Room for the longest name in presentation form, plus a NUL. */
#define MT_DNS_WIRE_NAME_BUF 256

/*
 * Read the uncompressed wire name at p[0..len) into out as presentation
 * form without the trailing dot (the root is ""), NUL-terminated.  cap
 * must be at least MT_DNS_WIRE_NAME_BUF.  Returns the octets the name
 * took in p, or 0 when it is malformed or cannot be written without
 * escapes: a label running past len, a compression pointer or other label
 * type, more than 255 octets, a label holding '.' or NUL.
 */
size_t mt_dns_wire_name(const uint8_t *p, size_t len, char *out, size_t cap, size_t *outlen);

/*
 * Turn the RDATA of one record of type into what mt_dns_rr holds: A 4
 * octets, AAAA 16, MX preference + exchange name, PTR/CNAME/NS a name,
 * TXT/SPF its character-strings checked to fill the RDATA exactly; other
 * types are passed through unchanged.  *data points into rdata or into buf
 * (cap at least MT_DNS_WIRE_NAME_BUF).  Returns MT_OK, or MT_ESYNTAX for
 * RDATA that does not have the form of its type (trailing octets
 * included).
 */
mt_status mt_dns_wire_rdata(uint16_t type, const uint8_t *rdata, size_t len, char *buf,
                            size_t cap, uint16_t *pref, const uint8_t **data, size_t *dlen);

/*
 * Follow the CNAME chain of a whole DNS response message msg[0..len)
 * (compression pointers allowed, each pointing strictly backwards) from
 * the question's name through the answer section, at most 16 links.
 * Writes the last target as in mt_dns_wire_name() and returns true when
 * the chain has at least one link; false when there is none or the
 * message is malformed.
 */
bool mt_dns_wire_canonical(const uint8_t *msg, size_t len, char *out, size_t cap);

#endif
