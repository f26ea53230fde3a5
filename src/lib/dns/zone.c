/* The in-memory zone: a hash table of names, each with its records in
 * insertion order, and the faults tests ask for.  Everything a zone holds
 * (nodes, records, faults) comes from one arena freed at once; a node keeps
 * only its first label and points to its parent, so the names below a
 * deep name share their suffixes instead of copying them. */
#include "dns/dns_internal.h"
#include "util/util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE ((size_t)64 << 10)
#define CHUNK_BIG (CHUNK_SIZE / 4) /* larger allocations get a chunk of their own */

struct chunk {
	struct chunk *next;
	size_t size, used; /* of data */
	_Alignas(8) unsigned char data[];
};

struct zrr {
	struct zrr *next;   /* the node's records in insertion order */
	uint32_t ttl;
	uint16_t type;
	uint16_t pref;
	uint16_t len;       /* at most MT_DNS_RDATA_MAX */
	uint8_t data[];     /* NUL-terminated past len */
};

struct zfault {
	struct zfault *next;
	uint16_t type; /* 0: every type */
	mt_dns_rcode rcode;
};

struct node {
	struct node *next;   /* hash chain */
	struct node *parent; /* NULL for the root */
	struct zrr *rrs, *last;
	struct zfault *faults;
	uint32_t hash;       /* of the whole name, lower-cased */
	uint16_t count;      /* at most MT_DNS_RR_MAX */
	uint8_t labellen;    /* 0 only for the root */
	bool exists;         /* has records, or names with records below it */
	char label[];        /* lower case, not NUL-terminated */
};

struct mt_dns_zone {
	struct node **buckets;
	size_t nbuckets;     /* a power of two */
	size_t nnodes;
	struct chunk *chunks;
	size_t records;      /* records and faults */
	size_t bytes;        /* chunks and the bucket table */
	size_t max_records, max_bytes;
	mt_dns_zone_limit hit; /* the limit behind the last MT_ERANGE */
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
	z->bytes = sizeof *z + z->nbuckets * sizeof *z->buckets;
	z->max_records = MT_DNS_ZONE_RECORDS_DEFAULT;
	z->max_bytes = MT_DNS_ZONE_BYTES_DEFAULT;
	return z;
}

void mt_dns_zone_free(mt_dns_zone *zone)
{
	struct chunk *c, *next;
	if (!zone)
		return;
	for (c = zone->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(zone->buckets);
	free(zone);
}

mt_status mt_dns_zone_set_limits(mt_dns_zone *zone, size_t max_records, size_t max_bytes)
{
	if (!zone)
		return MT_EINVAL;
	zone->max_records = max_records ? max_records : MT_DNS_ZONE_RECORDS_DEFAULT;
	zone->max_bytes = max_bytes ? max_bytes : MT_DNS_ZONE_BYTES_DEFAULT;
	return MT_OK;
}

mt_status mt_dns_zone_usage(const mt_dns_zone *zone, size_t *records, size_t *bytes)
{
	if (!zone)
		return MT_EINVAL;
	if (records)
		*records = zone->records;
	if (bytes)
		*bytes = zone->bytes;
	return MT_OK;
}

mt_dns_zone_limit mt_dns_zone_limit_hit(const mt_dns_zone *zone, size_t *limit)
{
	if (limit)
		*limit = zone->hit == MT_DNS_ZONE_LIMIT_RECORDS ? zone->max_records
		       : zone->hit == MT_DNS_ZONE_LIMIT_BYTES ? zone->max_bytes
		       : MT_DNS_RR_MAX;
	return zone->hit;
}

/* size octets, 8-aligned, from the arena; NULL with *st set when out of
 * memory or over the zone's byte limit. */
static void *zalloc(mt_dns_zone *z, size_t size, mt_status *st)
{
	struct chunk *c = z->chunks;
	size = (size + 7) & ~(size_t)7;
	if (!c || c->size - c->used < size) {
		size_t csize = size > CHUNK_BIG ? size : CHUNK_SIZE - sizeof *c;
		size_t left = z->bytes < z->max_bytes ? z->max_bytes - z->bytes : 0;
		size_t cost;
		if (sizeof *c + csize > left && left > sizeof *c)
			csize = left - sizeof *c; /* near the limit: a smaller chunk */
		cost = sizeof *c + csize;
		if (csize < size || cost > left) {
			z->hit = MT_DNS_ZONE_LIMIT_BYTES;
			*st = MT_ERANGE;
			return NULL;
		}
		c = malloc(cost);
		if (!c) {
			*st = MT_ENOMEM;
			return NULL;
		}
		c->size = csize;
		c->used = 0;
		z->bytes += cost;
		if (size > CHUNK_BIG && z->chunks) {
			/* keep filling the current small chunk */
			c->next = z->chunks->next;
			z->chunks->next = c;
		} else {
			c->next = z->chunks;
			z->chunks = c;
		}
	}
	void *p = c->data + c->used;
	c->used += size;
	return p;
}

/* Does node n hold name/len (normalised, no trailing dot)? */
static bool node_is(const struct node *n, const char *name, size_t len)
{
	size_t pos = 0;
	for (; n && n->parent; n = n->parent) {
		if (pos > len || len - pos < n->labellen ||
		    !mt_strcaseeq(n->label, n->labellen, name + pos, n->labellen))
			return false;
		pos += n->labellen;
		if (n->parent->parent) {
			if (pos >= len || name[pos] != '.')
				return false;
			pos++;
		}
	}
	return n && pos == len;
}

/* name/len is already normalised (no trailing dot). */
static struct node *find_hashed(const mt_dns_zone *z, const char *name, size_t len, uint32_t h)
{
	for (struct node *n = z->buckets[h & (z->nbuckets - 1)]; n; n = n->next)
		if (n->hash == h && node_is(n, name, len))
			return n;
	return NULL;
}

static struct node *find(const mt_dns_zone *z, const char *name, size_t len)
{
	return find_hashed(z, name, len, name_hash(name, len));
}

static void grow(mt_dns_zone *z)
{
	size_t nb = z->nbuckets * 2, cost;
	struct node **b;
	if (nb > ((size_t)1 << 26))
		return;
	cost = (nb - z->nbuckets) * sizeof *b;
	if (z->bytes > z->max_bytes || z->max_bytes - z->bytes < cost)
		return; /* near the limit: slower, still correct */
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
	z->bytes += cost;
}

static void link_node(mt_dns_zone *z, struct node *n)
{
	n->next = z->buckets[n->hash & (z->nbuckets - 1)];
	z->buckets[n->hash & (z->nbuckets - 1)] = n;
	if (++z->nnodes > z->nbuckets)
		grow(z);
}

static struct node *new_node(mt_dns_zone *z, struct node *up, const char *label, size_t llen,
                             uint32_t hash, mt_status *st)
{
	struct node *n = zalloc(z, offsetof(struct node, label) + llen, st);
	if (!n)
		return NULL;
	memset(n, 0, offsetof(struct node, label));
	n->parent = up;
	n->labellen = (uint8_t)llen;
	for (size_t i = 0; i < llen; i++)
		n->label[i] = mt_lower(label[i]);
	n->hash = hash;
	link_node(z, n);
	return n;
}

/* The node of name/len (normalised), made with its missing ancestors when
 * absent.  After a failure the ancestors made stay, holding nothing. */
static mt_status find_or_add(mt_dns_zone *z, const char *name, size_t len, struct node **out)
{
	size_t off[MT_DNS_NAME_MAX / 2 + 2], nlabels = 0, k;
	struct node *up = NULL;
	mt_status st = MT_OK;

	*out = find(z, name, len);
	if (*out)
		return MT_OK;
	/* off[k]: where the k-th label starts; off[nlabels] == len + 1 stands
	 * for the root, as if a dot ended the name. */
	if (len > 0) {
		off[nlabels++] = 0;
		for (size_t i = 0; i < len; i++)
			if (name[i] == '.')
				off[nlabels++] = i + 1;
	}
	off[nlabels] = len + 1;
	/* The longest proper suffix already in the zone. */
	for (k = 1; k <= nlabels; k++) {
		size_t o = k < nlabels ? off[k] : len;
		up = find(z, name + o, len - o);
		if (up)
			break;
	}
	if (!up) {
		up = new_node(z, NULL, "", 0, name_hash("", 0), &st);
		if (!up)
			return st;
		k = nlabels;
	}
	while (k-- > 0) {
		up = new_node(z, up, name + off[k], off[k + 1] - 1 - off[k],
		              name_hash(name + off[k], len - off[k]), &st);
		if (!up)
			return st;
	}
	*out = up;
	return MT_OK;
}

/* Room for one more record or fault? */
static mt_status count_one(mt_dns_zone *z)
{
	if (z->records >= z->max_records) {
		z->hit = MT_DNS_ZONE_LIMIT_RECORDS;
		return MT_ERANGE;
	}
	return MT_OK;
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
	if (len > MT_DNS_RDATA_MAX) {
		zone->hit = MT_DNS_ZONE_LIMIT_NONE;
		return MT_ERANGE;
	}
	if (!mt_dns_name_check(name, strlen(name), &nlen) || !rdata_ok(type, data, len, &keep))
		return MT_EINVAL;
	st = count_one(zone);
	if (st == MT_OK)
		st = find_or_add(zone, name, nlen, &n);
	if (st != MT_OK)
		return st;
	if (n->count >= MT_DNS_RR_MAX) {
		zone->hit = MT_DNS_ZONE_LIMIT_NAME;
		return MT_ERANGE;
	}
	r = zalloc(zone, offsetof(struct zrr, data) + keep + 1, &st);
	if (!r)
		return st;
	r->next = NULL;
	r->type = type;
	r->pref = pref;
	r->ttl = ttl;
	r->len = (uint16_t)keep;
	if (keep)
		memcpy(r->data, data, keep);
	r->data[keep] = 0;
	if (n->last)
		n->last->next = r;
	else
		n->rrs = r;
	n->last = r;
	n->count++;
	zone->records++;
	/* name and its ancestors exist; above an existing node they already do */
	for (; n && !n->exists; n = n->parent)
		n->exists = true;
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
	struct zfault *f, **tail;
	mt_status st;
	if (!zone || !name || rcode <= MT_DNS_NOERROR || rcode > MT_DNS_FAILURE)
		return MT_EINVAL;
	if (!mt_dns_name_check(name, strlen(name), &nlen))
		return MT_EINVAL;
	st = find_or_add(zone, name, nlen, &n);
	if (st != MT_OK)
		return st;
	for (tail = &n->faults; *tail; tail = &(*tail)->next) {
		if ((*tail)->type == type) {
			(*tail)->rcode = rcode; /* the later one wins */
			return MT_OK;
		}
	}
	/* at most one per type: bounded by 65536 per name */
	st = count_one(zone);
	if (st != MT_OK)
		return st;
	f = zalloc(zone, sizeof *f, &st);
	if (!f)
		return st;
	*f = (struct zfault){.next = NULL, .type = type, .rcode = rcode};
	*tail = f;
	zone->records++;
	return MT_OK;
}

/* The fault for (n, type): one for the type beats one for every type. */
static bool fault_for(const struct node *n, uint16_t type, mt_dns_rcode *rcode)
{
	bool found = false;
	for (const struct zfault *f = n->faults; f; f = f->next) {
		if (f->type == type) {
			*rcode = f->rcode;
			return true;
		}
		if (f->type == 0) {
			*rcode = f->rcode;
			found = true;
		}
	}
	return found;
}

static const struct zrr *first_of(const struct node *n, uint16_t type)
{
	for (const struct zrr *r = n ? n->rrs : NULL; r; r = r->next)
		if (r->type == type)
			return r;
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
		for (const struct zrr *r = n ? n->rrs : NULL; r && st == MT_OK; r = r->next) {
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
