/* Internal: the authoritative servers of a name's zone, for the owner-side
 * checks (spf verify, dkim check-key) that ask each server directly and
 * compare its answer with the recursive one.  Not part of the API. */
#ifndef MT_DNS_AUTHNS_H
#define MT_DNS_AUTHNS_H

#include <mailtrust/dns.h>

#define MT_AUTHNS_MAX_NAMES 13u  /* NS names kept (a root zone has 13) */
#define MT_AUTHNS_MAX_ADDRS 26u  /* server addresses asked */

typedef struct mt_authns_addr {
	size_t ns;                   /* index into names */
	char address[64];            /* presentation form */
} mt_authns_addr;

typedef struct mt_authns {
	char *names[MT_AUTHNS_MAX_NAMES];  /* NS names of the zone, as answered */
	size_t nnames;
	mt_authns_addr addrs[MT_AUTHNS_MAX_ADDRS];
	size_t naddrs;
	char *zone;                  /* the name the NS records were found at, or NULL */
} mt_authns;

/* A resolver asking one server directly (the verify options' hook). */
typedef mt_status (*mt_authns_server_fn)(void *ctx, const char *address, unsigned port,
                                         mt_dns_resolver **out);

/*
 * The NS names of the zone holding name: the first of name and its parents
 * (down to two labels: the registrable level of most names) that has NS
 * records through res; then their A and AAAA addresses (names in order,
 * A before AAAA).  A DNS failure stops the search and leaves what was
 * found.  Each question waits timeout_ms (0: the resolver's default).
 * MT_ENOMEM; MT_OK otherwise.  Free with mt_authns_clear.
 */
mt_status mt_authns_find(mt_authns *a, mt_dns_resolver *res, const char *name,
                         unsigned timeout_ms);
void mt_authns_clear(mt_authns *a);

/*
 * Ask the server at address (port 0: 53) (name, type) through a resolver
 * made by fn.  *out is an answer (free with mt_dns_answer_free); when no
 * resolver can be made or the question cannot be asked it is an
 * MT_DNS_FAILURE answer saying so.  MT_ENOMEM only.
 */
mt_status mt_authns_ask(mt_authns_server_fn fn, void *ctx, const char *address, unsigned port,
                        const char *name, uint16_t type, unsigned timeout_ms,
                        mt_dns_answer **out);

#endif
