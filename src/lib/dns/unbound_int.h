/*
 * Internal: what other drivers (the SPF batch) need from the libunbound
 * resolver to run their own questions on its context.  Not part of the API.
 */
#ifndef MT_DNS_UNBOUND_INT_H
#define MT_DNS_UNBOUND_INT_H

#include "dns/dns_internal.h"

struct ub_ctx;
struct ub_result;
typedef struct unbound_impl unbound_impl;

/* The state of a resolver made by mt_dns_unbound_resolver_new(), or NULL
 * for any other resolver. */
unbound_impl *mt_dns_unbound_impl(mt_dns_resolver *res);
/* Its libunbound context (owned by the resolver). */
struct ub_ctx *mt_dns_unbound_ctx(unbound_impl *u);
/* Room for any well-formed name as libunbound reads it: each octet
 * escaped to at most 4, or the root's dot, and the NUL. */
#define MT_DNS_UNBOUND_QNAME_BUF (MT_DNS_NAME_MAX * 4 + 2)
/* name as libunbound reads it (escaped) into qname (cap at least
 * MT_DNS_UNBOUND_QNAME_BUF); false for a malformed name (answer it with
 * mt_dns_unbound_convert(u, name, type, UB_SYNTAX, NULL, ...)). */
bool mt_dns_unbound_qname(const char *name, char *qname, size_t cap);
/* The answer for a callback's (err, result); r is not freed.  MT_ENOMEM. */
mt_status mt_dns_unbound_convert(unbound_impl *u, const char *name, uint16_t type, int err,
                                 const struct ub_result *r, mt_dns_answer **out);

#endif
