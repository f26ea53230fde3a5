/* The in-memory zone: a hash table of names, each with its records in
 * insertion order, and the faults tests ask for. */
#include "dns/dns_internal.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

struct zrr {
	uint16_t type;
	uint16_t pref;
	uint32_t ttl;
	size_t len;
	uint8_t *data; /* NUL-terminated past len */
};

struct zfault {
	uint16_t type; /* 0: every type */
	mt_dns_rcode rcode;
};

struct node {
	struct node *next;  /* hash chain */
	uint32_t hash;
	char *key;          /* lower case, no trailing dot */
	size_t keylen;
	struct zrr *rrs;
	size_t count, cap;
	struct zfault *faults;
	size_t nfaults;
	bool exists;        /* has records, or names with records below it */
};

struct mt_dns_zone {
	struct node **buckets;
	size_t nbuckets;    /* a power of two */
	size_t nnodes;
};

static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a over the lower-cased name */
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)mt_lower(s[i]);
		h *= 16777619u;
	}
	return h;
}

mt_dns_zone *mt_dns_zone_new(void)
{
	mt_dns_zone *z = calloc(1, sizeof *z);
	if (!z)
		return NULL;
	z->nbuckets = 64;
	z->buckets = calloc(z->nbuckets, sizeof *z->buckets);
	if (!z->buckets) {
		free(z);
		return NULL;
	}
	return z;
}

static void node_free(struct node *n)
{
	for (size_t i = 0; i < n->count; i++)
		free(n->rrs[i].data);
	free(n->rrs);
	free(n->faults);
	free(n->key);
	free(n);
}

void mt_dns_zone_free(mt_dns_zone *zone)
{
	if (!zone)
		return;
	for (size_t i = 0; i < zone->nbuckets; i++) {
		struct node *n = zone->buckets[i], *next;
		for (; n; n = next) {
			next = n->next;
			node_free(n);
		}
	}
	free(zone->buckets);
	free(zone);
}

/* name/len is already normalised (no trailing dot). */
static struct node *find(const mt_dns_zone *z, const char *name, size_t len)
{
	uint32_t h = name_hash(name, len);
	for (struct node *n = z->buckets[h & (z->nbuckets - 1)]; n; n = n->next)
		if (n->hash == h && mt_strcaseeq(n->key, n->keylen, name, len))
			return n;
	return NULL;
}

static void grow(mt_dns_zone *z)
{
	size_t nb = z->nbuckets * 2;
	struct node **b;
	if (nb > ((size_t)1 << 26))
		return;
	b = calloc(nb, sizeof *b);
	if (!b)
		return; /* keep the old table: slower, still correct */
	for (size_t i = 0; i < z->nbuckets; i++) {
		struct node *n = z->buckets[i], *next;
		for (; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(z->buckets);
	z->buckets = b;
	z->nbuckets = nb;
}

static struct node *find_or_add(mt_dns_zone *z, const char *name, size_t len)
{
	struct node *n = find(z, name, len);
	if (n)
		return n;
	n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->key = malloc(len + 1);
	if (!n->key) {
		free(n);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		n->key[i] = mt_lower(name[i]);
	n->key[len] = '\0';
	n->keylen = len;
	n->hash = name_hash(name, len);
	n->next = z->buckets[n->hash & (z->nbuckets - 1)];
	z->buckets[n->hash & (z->nbuckets - 1)] = n;
	if (++z->nnodes > z->nbuckets)
		grow(z);
	return n;
}

/* The parent of name/len ("b.c" for "a.b.c", the root for "c"). */
static void parent(const char **name, size_t *len)
{
	const char *dot = memchr(*name, '.', *len);
	size_t skip = dot ? (size_t)(dot + 1 - *name) : *len;
	*name += skip;
	*len -= skip;
}

/* Mark name and every ancestor up to the root as existing.  An existing
 * node's ancestors exist already, so the walk stops there; after a failed
 * allocation the nodes marked by this call are unmarked again. */
static mt_status mark_exists(mt_dns_zone *z, const char *name, size_t len)
{
	const char *p = name;
	size_t plen = len, marked = 0;
	for (;;) {
		struct node *n = find_or_add(z, p, plen);
		if (!n)
			break;
		if (n->exists)
			return MT_OK;
		n->exists = true;
		marked++;
		if (plen == 0)
			return MT_OK;
		parent(&p, &plen);
	}
	for (; marked > 0; marked--) {
		find(z, name, len)->exists = false;
		parent(&name, &len);
	}
	return MT_ENOMEM;
}

/* Is data valid RDATA for type?  Names are checked, fixed sizes enforced. */
static bool rdata_ok(uint16_t type, const uint8_t *data, size_t len, size_t *keep)
{
	*keep = len;
	switch (type) {
	case MT_DNS_A:
		return len == 4;
	case MT_DNS_AAAA:
		return len == 16;
	case MT_DNS_MX:
	case MT_DNS_NS:
	case MT_DNS_CNAME:
	case MT_DNS_PTR:
		/* A target name; stored without its trailing dot. */
		return mt_dns_name_check((const char *)data, len, keep);
	case MT_DNS_TXT:
	case MT_DNS_SPF:
		return mt_dns_txt_check(data, len);
	default:
		return true;
	}
}

mt_status mt_dns_zone_add(mt_dns_zone *zone, const char *name, uint16_t type, uint32_t ttl,
                          uint16_t pref, const void *data, size_t len)
{
	size_t nlen, keep;
	struct node *n;
	struct zrr *r;
	mt_status st;
	if (!zone || !name || type == 0 || (!data && len))
		return MT_EINVAL;
	if (len > MT_DNS_RDATA_MAX)
		return MT_ERANGE;
	if (!mt_dns_name_check(name, strlen(name), &nlen) || !rdata_ok(type, data, len, &keep))
		return MT_EINVAL;
	n = find_or_add(zone, name, nlen);
	if (!n)
		return MT_ENOMEM;
	if (n->count >= MT_DNS_RR_MAX)
		return MT_ERANGE;
	if (n->count == n->cap) {
		size_t ncap = n->cap ? n->cap * 2 : 2;
		struct zrr *a = realloc(n->rrs, ncap * sizeof *a);
		if (!a)
			return MT_ENOMEM;
		n->rrs = a;
		n->cap = ncap;
	}
	r = &n->rrs[n->count];
	r->data = malloc(keep + 1);
	if (!r->data)
		return MT_ENOMEM;
	if (keep)
		memcpy(r->data, data, keep);
	r->data[keep] = 0;
	r->type = type;
	r->pref = pref;
	r->ttl = ttl;
	r->len = keep;
	st = mark_exists(zone, name, nlen);
	if (st != MT_OK) {
		free(r->data);
		return st;
	}
	n->count++;
	return MT_OK;
}

mt_status mt_dns_zone_add_txt(mt_dns_zone *zone, const char *name, uint16_t type, uint32_t ttl,
                              const char *const *strings, const size_t *lens, size_t n)
{
	mt_buf b;
	mt_status st;
	if (!zone || !name || (type != MT_DNS_TXT && type != MT_DNS_SPF) ||
	    (n && (!strings || !lens)))
		return MT_EINVAL;
	mt_buf_init(&b, MT_DNS_RDATA_MAX);
	for (size_t i = 0; i < n; i++) {
		if (lens[i] > 255 || (!strings[i] && lens[i])) {
			mt_buf_free(&b);
			return MT_EINVAL;
		}
		mt_buf_putc(&b, (char)lens[i]);
		mt_buf_append(&b, strings[i], lens[i]);
	}
	st = b.err;
	if (st == MT_OK)
		st = mt_dns_zone_add(zone, name, type, ttl, 0, b.data, b.len);
	mt_buf_free(&b);
	return st;
}

mt_status mt_dns_zone_add_fault(mt_dns_zone *zone, const char *name, uint16_t type,
                                mt_dns_rcode rcode)
{
	size_t nlen;
	struct node *n;
	if (!zone || !name || rcode <= MT_DNS_NOERROR || rcode > MT_DNS_FAILURE)
		return MT_EINVAL;
	if (!mt_dns_name_check(name, strlen(name), &nlen))
		return MT_EINVAL;
	n = find_or_add(zone, name, nlen);
	if (!n)
		return MT_ENOMEM;
	for (size_t i = 0; i < n->nfaults; i++) {
		if (n->faults[i].type == type) {
			n->faults[i].rcode = rcode; /* the later one wins */
			return MT_OK;
		}
	}
	if (n->nfaults >= MT_DNS_RR_MAX)
		return MT_ERANGE;
	struct zfault *f = realloc(n->faults, (n->nfaults + 1) * sizeof *f);
	if (!f)
		return MT_ENOMEM;
	n->faults = f;
	f[n->nfaults++] = (struct zfault){.type = type, .rcode = rcode};
	return MT_OK;
}

/* The fault for (n, type): one for the type beats one for every type. */
static bool fault_for(const struct node *n, uint16_t type, mt_dns_rcode *rcode)
{
	bool found = false;
	for (size_t i = 0; i < n->nfaults; i++) {
		if (n->faults[i].type == type) {
			*rcode = n->faults[i].rcode;
			return true;
		}
		if (n->faults[i].type == 0) {
			*rcode = n->faults[i].rcode;
			found = true;
		}
	}
	return found;
}

static const struct zrr *first_of(const struct node *n, uint16_t type)
{
	for (size_t i = 0; n && i < n->count; i++)
		if (n->rrs[i].type == type)
			return &n->rrs[i];
	return NULL;
}

/* Sets the rcode, the why text and the canonical name of a fresh answer. */
static mt_status finish(mt_dns_answer *a, mt_dns_rcode rcode, const char *why,
                        const char *canonical)
{
	mt_status st = MT_OK;
	a->rcode = rcode;
	if (why)
		st = mt_dns_answer_set_why(a, why);
	if (st == MT_OK && canonical)
		st = mt_dns_answer_set_canonical(a, canonical);
	return st;
}

mt_status mt_dns_zone_query(const mt_dns_zone *zone, const char *name, uint16_t type,
                            mt_dns_answer **out)
{
	const struct node *seen[MT_DNS_CNAME_LINKS_MAX + 1], *n;
	const char *canonical = NULL;
	size_t len, links = 0;
	mt_dns_answer *a = NULL;
	mt_dns_rcode fault;
	mt_status st = MT_OK;

	if (out)
		*out = NULL;
	if (!zone || !name || !out)
		return MT_EINVAL;
	a = mt_dns_answer_new(MT_DNS_NOERROR);
	if (!a)
		return MT_ENOMEM;
	if (!mt_dns_name_check(name, strlen(name), &len)) {
		st = finish(a, MT_DNS_FAILURE, "malformed query name", NULL);
		goto out;
	}
	n = find(zone, name, len);
	for (;;) {
		const struct zrr *cname;
		bool any = false;
		for (size_t i = 0; n && i < n->count && st == MT_OK; i++) {
			const struct zrr *r = &n->rrs[i];
			if (r->type != type)
				continue;
			any = true;
			st = mt_dns_answer_add(a, r->type, r->ttl, r->pref, r->data, r->len);
		}
		if (st != MT_OK || any) {
			if (st == MT_OK)
				st = finish(a, MT_DNS_NOERROR, NULL, canonical);
			goto out;
		}
		if (n && fault_for(n, type, &fault)) {
			st = finish(a, fault, "fault configured in the zone", canonical);
			goto out;
		}
		cname = type == MT_DNS_CNAME ? NULL : first_of(n, MT_DNS_CNAME);
		if (!cname) {
			bool exists = n && n->exists;
			st = finish(a, exists ? MT_DNS_NOERROR : MT_DNS_NXDOMAIN, NULL, canonical);
			goto out;
		}
		seen[links] = n;
		if (links == MT_DNS_CNAME_LINKS_MAX) {
			st = finish(a, MT_DNS_SERVFAIL, "CNAME chain longer than 16", canonical);
			goto out;
		}
		canonical = (const char *)cname->data;
		links++;
		n = find(zone, canonical, cname->len);
		for (size_t i = 0; n && i < links; i++) {
			if (seen[i] == n) {
				st = finish(a, MT_DNS_SERVFAIL, "CNAME loop", canonical);
				goto out;
			}
		}
	}
out:
	if (st != MT_OK) {
		mt_dns_answer_free(a);
		return st;
	}
	*out = a;
	return MT_OK;
}

/* ---- the zone as a resolver ---- */

static mt_status zone_resolve(void *impl, const char *name, uint16_t type, unsigned timeout_ms,
                              mt_dns_answer **out)
{
	(void)timeout_ms;
	return mt_dns_zone_query(impl, name, type, out);
}

static const mt_dns_resolver_ops zone_ops = {
	.resolve = zone_resolve,
	.destroy = NULL,
};

mt_dns_resolver *mt_dns_zone_resolver_new(mt_dns_zone *zone)
{
	if (!zone)
		return NULL;
	return mt_dns_resolver_new(&zone_ops, zone);
}
