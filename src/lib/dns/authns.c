/* The authoritative servers of a zone (authns.h): found once for every
 * owner-side check that compares what each server serves. */
#include "dns/authns.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static bool is_dns_failure(mt_dns_rcode rc)
{
	return rc != MT_DNS_NOERROR && rc != MT_DNS_NXDOMAIN;
}

static char *dup_n(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static mt_status find_names(mt_authns *a, mt_dns_resolver *res, const char *name,
                            unsigned timeout_ms)
{
	for (unsigned steps = 0; steps < 127 && name && *name; steps++) {
		mt_dns_answer *ans = NULL;
		mt_status st = mt_dns_resolve(res, name, MT_DNS_NS, timeout_ms, &ans);
		if (st != MT_OK)
			return st == MT_ENOMEM ? st : MT_OK;
		if (ans->rcode == MT_DNS_NOERROR && ans->count > 0) {
			for (size_t i = 0; i < ans->count && a->nnames < MT_AUTHNS_MAX_NAMES; i++) {
				if (ans->rr[i].type != MT_DNS_NS)
					continue;
				a->names[a->nnames] = dup_n((const char *)ans->rr[i].data, ans->rr[i].len);
				if (!a->names[a->nnames]) {
					mt_dns_answer_free(ans);
					return MT_ENOMEM;
				}
				a->nnames++;
			}
			mt_dns_answer_free(ans);
			a->zone = dup_n(name, strlen(name));
			return a->zone ? MT_OK : MT_ENOMEM;
		}
		bool fail = is_dns_failure(ans->rcode);
		mt_dns_answer_free(ans);
		if (fail)
			return MT_OK;
		const char *dot = strchr(name, '.');
		if (!dot || !strchr(dot + 1, '.'))
			return MT_OK;
		name = dot + 1;
	}
	return MT_OK;
}

mt_status mt_authns_find(mt_authns *a, mt_dns_resolver *res, const char *name,
                         unsigned timeout_ms)
{
	mt_status st;

	memset(a, 0, sizeof *a);
	st = find_names(a, res, name, timeout_ms);
	if (st != MT_OK)
		return st;
	for (size_t i = 0; i < a->nnames; i++) {
		static const uint16_t types[2] = { MT_DNS_A, MT_DNS_AAAA };
		for (int ti = 0; ti < 2; ti++) {
			mt_dns_answer *ans = NULL;
			st = mt_dns_resolve(res, a->names[i], types[ti], timeout_ms, &ans);
			if (st == MT_ENOMEM)
				return st;
			if (st != MT_OK)
				continue;
			for (size_t k = 0; k < ans->count && a->naddrs < MT_AUTHNS_MAX_ADDRS; k++) {
				const mt_dns_rr *rr = &ans->rr[k];
				mt_ip ip;
				if (rr->type != types[ti] || rr->len != (ti ? 16u : 4u))
					continue;
				memset(&ip, 0, sizeof ip);
				ip.family = ti ? 6 : 4;
				memcpy(ip.addr, rr->data, rr->len);
				a->addrs[a->naddrs].ns = i;
				mt_ip_format(&ip, a->addrs[a->naddrs].address,
				             sizeof a->addrs[a->naddrs].address);
				a->naddrs++;
			}
			mt_dns_answer_free(ans);
		}
	}
	return MT_OK;
}

void mt_authns_clear(mt_authns *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nnames; i++)
		free(a->names[i]);
	free(a->zone);
	memset(a, 0, sizeof *a);
}

static mt_status failure(const char *why, mt_dns_answer **out)
{
	*out = mt_dns_answer_new(MT_DNS_FAILURE);
	if (!*out || mt_dns_answer_set_why(*out, why) != MT_OK) {
		mt_dns_answer_free(*out);
		*out = NULL;
		return MT_ENOMEM;
	}
	return MT_OK;
}

mt_status mt_authns_ask(mt_authns_server_fn fn, void *ctx, const char *address, unsigned port,
                        const char *name, uint16_t type, unsigned timeout_ms,
                        mt_dns_answer **out)
{
	mt_dns_resolver *sr = NULL;
	mt_status st;

	*out = NULL;
	if (!fn || fn(ctx, address, port ? port : 53, &sr) != MT_OK || !sr)
		return failure("cannot set up a resolver for this server", out);
	st = mt_dns_resolve(sr, name, type, timeout_ms, out);
	mt_dns_resolver_free(sr);
	if (st == MT_ENOMEM)
		return st;
	if (st != MT_OK)
		return failure("the question could not be asked", out);
	return MT_OK;
}
