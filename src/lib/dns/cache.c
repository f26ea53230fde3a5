/*
 * The in-process DNS cache: a resolver in front of another one.  Entries
 * are keyed by (type, lower-cased name) in a chained hash table.  A ready
 * entry sits on an LRU list and is evicted from its cold end when the byte
 * bound is passed; an entry in flight holds the questions waiting for it
 * (one backend question for all of them).  Hits are queued and handed out
 * by the next process() call, so a hit costs no system call.
 */
#include "dns/dns_internal.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define MIN_BYTES (64u * 1024u)
#define DEFAULT_BYTES (64u * 1024u * 1024u)

enum { E_FLIGHT = 1, E_READY };

typedef struct waiter {
	uint64_t token;
	struct centry *e;
	bool cancelled;
	struct waiter *next;
} waiter;

typedef struct centry {
	struct centry *hnext;
	struct centry *prev, *next;   /* LRU list (ready) */
	uint32_t fslot;               /* in flight: index in the cache's flight slots */
	uint32_t hash;
	uint16_t type;
	uint8_t state;
	bool keep;                    /* cacheable: stays after delivery */
	unsigned pins;                /* queued hits that will read ans */
	mt_dns_answer *ans;
	uint64_t expires;
	size_t bytes;
	waiter *waiters, **waiters_tail;
	size_t namelen;
	char name[];
} centry;

typedef struct cache {
	mt_dns_resolver *inner;
	mt_dns_cache_options o;
	centry **table;
	size_t nbuckets, nentries;
	size_t bytes;
	centry *lru_head, *lru_tail;  /* head: most recently used */
	/* Entries asked of the backend, by slot; the backend's token is the
	 * slot's generation and index, so a stale or duplicate answer is
	 * recognised without touching freed memory. */
	centry **fslots;
	uint32_t *fgen;
	uint32_t *ffree;              /* free slot indices */
	size_t nfslots, nffree, nflight;
	waiter *hits, **hits_tail;    /* hits for the next process() */
	waiter *delivering;           /* waiters of the answer being handed out */
	waiter *free_waiters;
	mt_dns_cache_stats st;
	/* the caller's deliver while process() runs */
	mt_dns_deliver_fn deliver;
	void *deliver_arg;
	uint64_t now;
} cache;

static uint32_t hash_name(const char *name, size_t len, uint16_t type)
{
	uint32_t h = 2166136261u ^ type;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)mt_lower(name[i]);
		h *= 16777619u;
	}
	return h;
}

static bool same_name(const centry *e, const char *name, size_t len)
{
	if (e->namelen != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (e->name[i] != mt_lower(name[i]))
			return false;
	return true;
}

static waiter *waiter_get(cache *c)
{
	waiter *w = c->free_waiters;
	if (w) {
		c->free_waiters = w->next;
		return w;
	}
	return malloc(sizeof *w);
}

static void waiter_put(cache *c, waiter *w)
{
	w->next = c->free_waiters;
	c->free_waiters = w;
}

/* ---- lists ---- */

static void unlink_entry(centry **head, centry **tail, centry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		*head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else if (tail)
		*tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_front(cache *c, centry *e)
{
	e->prev = NULL;
	e->next = c->lru_head;
	if (c->lru_head)
		c->lru_head->prev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
}

static void table_remove(cache *c, centry *e)
{
	centry **pp = &c->table[e->hash & (c->nbuckets - 1)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	c->nentries--;
}

static void entry_free(cache *c, centry *e)
{
	c->bytes -= e->bytes;
	mt_dns_answer_free(e->ans);
	free(e);
}

/* Drop a ready entry (expired or evicted); a pinned one is only unlinked
 * from the table and the list, and freed when its last hit is delivered. */
static void drop_ready(cache *c, centry *e)
{
	table_remove(c, e);
	unlink_entry(&c->lru_head, &c->lru_tail, e);
	e->keep = false;
	if (e->pins == 0)
		entry_free(c, e);
}

static void grow_table(cache *c)
{
	size_t n = c->nbuckets * 2;
	centry **t = calloc(n, sizeof *t);
	if (!t)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < c->nbuckets; i++) {
		centry *e = c->table[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			e->hnext = t[e->hash & (n - 1)];
			t[e->hash & (n - 1)] = e;
		}
	}
	free(c->table);
	c->table = t;
	c->nbuckets = n;
}

static void enforce_bound(cache *c)
{
	centry *e = c->lru_tail;
	while (c->bytes > c->o.max_bytes && e) {
		centry *prev = e->prev;
		if (e->pins == 0) {
			drop_ready(c, e);
			c->st.evictions++;
		}
		e = prev;
	}
}

static uint64_t flight_token(const cache *c, uint32_t idx)
{
	return (uint64_t)c->fgen[idx] << 32 | idx;
}

static bool grow_slots(cache *c)
{
	size_t n = c->nfslots ? c->nfslots * 2 : 64;
	centry **s;
	uint32_t *g, *f;
	if (n > UINT32_MAX)
		return false;
	s = realloc(c->fslots, n * sizeof *s);
	if (!s)
		return false;
	c->fslots = s;
	g = realloc(c->fgen, n * sizeof *g);
	if (!g)
		return false;
	c->fgen = g;
	f = realloc(c->ffree, n * sizeof *f);
	if (!f)
		return false;
	c->ffree = f;
	for (size_t i = c->nfslots; i < n; i++) {
		s[i] = NULL;
		g[i] = 0;
	}
	/* lowest index handed out first */
	for (size_t i = n; i > c->nfslots; i--)
		f[c->nffree++] = (uint32_t)(i - 1);
	c->nfslots = n;
	return true;
}

/* ---- the resolver operations ---- */

static mt_status cache_submit(void *impl, const char *name, uint16_t type, uint64_t token,
                              uint64_t now_ms)
{
	cache *c = impl;
	size_t len = strlen(name);
	uint32_t h;
	centry *e;
	waiter *w;
	mt_status st;

	if (len > 0 && name[len - 1] == '.')
		len--;
	h = hash_name(name, len, type);
	for (e = c->table[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->type == type && same_name(e, name, len))
			break;
	if (e && e->state == E_READY && e->expires <= now_ms) {
		drop_ready(c, e);
		c->st.expired++;
		e = NULL;
	}
	w = waiter_get(c);
	if (!w)
		return MT_ENOMEM;
	w->token = token;
	w->cancelled = false;
	w->next = NULL;
	if (e && e->state == E_READY) {
		c->st.hits++;
		if (e != c->lru_head) {
			unlink_entry(&c->lru_head, &c->lru_tail, e);
			lru_front(c, e);
		}
		e->pins++;
		w->e = e;
		*c->hits_tail = w;
		c->hits_tail = &w->next;
		return MT_OK;
	}
	if (e) { /* in flight: wait for the same answer */
		c->st.joined++;
		w->e = e;
		*e->waiters_tail = w;
		e->waiters_tail = &w->next;
		return MT_OK;
	}
	if (c->nffree == 0 && !grow_slots(c)) {
		waiter_put(c, w);
		return MT_ENOMEM;
	}
	e = calloc(1, sizeof *e + len + 1);
	if (!e) {
		waiter_put(c, w);
		return MT_ENOMEM;
	}
	for (size_t i = 0; i < len; i++)
		e->name[i] = mt_lower(name[i]);
	e->namelen = len;
	e->hash = h;
	e->type = type;
	e->state = E_FLIGHT;
	e->waiters = w;
	e->waiters_tail = &w->next;
	w->e = e;
	e->bytes = sizeof *e + len + 1;
	c->st.misses++;
	e->fslot = c->ffree[c->nffree - 1];
	st = mt_dns_submit(c->inner, name, type, flight_token(c, e->fslot), now_ms);
	if (st != MT_OK) {
		waiter_put(c, w);
		free(e);
		return st;
	}
	c->nffree--;
	c->fslots[e->fslot] = e;
	e->hnext = c->table[h & (c->nbuckets - 1)];
	c->table[h & (c->nbuckets - 1)] = e;
	c->nentries++;
	c->bytes += e->bytes;
	c->nflight++;
	if (c->nentries > c->nbuckets)
		grow_table(c);
	return MT_OK;
}

static void cache_cancel(void *impl, uint64_t token)
{
	cache *c = impl;
	/* Cancelling is rare (a job ran out of time): a scan is enough.  The
	 * backend question goes on; its answer is still worth keeping. */
	for (waiter *w = c->hits; w; w = w->next)
		if (w->token == token && !w->cancelled) {
			w->cancelled = true;
			return;
		}
	/* cancelled from inside deliver, for a waiter of the same answer */
	for (waiter *w = c->delivering; w; w = w->next)
		if (w->token == token && !w->cancelled) {
			w->cancelled = true;
			return;
		}
	for (size_t i = 0; i < c->nfslots; i++)
		for (waiter *w = c->fslots[i] ? c->fslots[i]->waiters : NULL; w; w = w->next)
			if (w->token == token && !w->cancelled) {
				w->cancelled = true;
				return;
			}
}

static uint32_t answer_ttl(const cache *c, const mt_dns_answer *a)
{
	uint32_t ttl;
	size_t n = 0;
	if (a->rcode != MT_DNS_NOERROR && a->rcode != MT_DNS_NXDOMAIN)
		return 0;
	ttl = c->o.max_ttl_s;
	for (size_t i = 0; i < a->count; i++) {
		n++;
		if (a->rr[i].ttl < ttl)
			ttl = a->rr[i].ttl;
	}
	if (a->rcode == MT_DNS_NXDOMAIN || n == 0) {
		uint32_t neg = a->negative_ttl ? a->negative_ttl : c->o.negative_default_s;
		ttl = neg < c->o.max_ttl_s ? neg : c->o.max_ttl_s;
	}
	return ttl;
}

/* The backend answered entry e (token): store it and hand it to every
 * question that waited. */
static void on_inner(void *arg, uint64_t token, const mt_dns_answer *ans)
{
	cache *c = arg;
	centry *e = NULL;
	waiter *w;
	uint32_t ttl;

	uint32_t idx = (uint32_t)token;
	if (idx < c->nfslots && c->fgen[idx] == (uint32_t)(token >> 32))
		e = c->fslots[idx];
	if (!e)
		return; /* not ours (a duplicate from the backend) */
	c->fslots[idx] = NULL;
	c->fgen[idx]++;
	c->ffree[c->nffree++] = idx;
	c->nflight--;
	ttl = answer_ttl(c, ans);
	e->state = E_READY;
	if (ttl > 0 && (e->ans = mt_dns_answer_hold(ans)) != NULL) {
		e->keep = true;
		e->expires = c->now + (uint64_t)ttl * 1000u;
		e->bytes += mt_dns_answer_bytes(e->ans);
		c->bytes += mt_dns_answer_bytes(e->ans);
		c->st.inserts++;
		lru_front(c, e);
	} else {
		table_remove(c, e);
	}
	/* Deliver the stored copy when there is one: what the checks derive
	 * from it (a parsed record) then stays with it in the cache.  The
	 * waiters stay where cache_cancel() finds them until each one's
	 * turn: deliver may cancel a later one (a job aborted on its first
	 * answer). */
	e->pins++;
	c->delivering = e->waiters;
	e->waiters = NULL;
	e->waiters_tail = &e->waiters;
	while ((w = c->delivering) != NULL) {
		c->delivering = w->next;
		if (!w->cancelled)
			c->deliver(c->deliver_arg, w->token, e->keep ? e->ans : ans);
		waiter_put(c, w);
	}
	e->pins--;
	if (!e->keep && e->pins == 0)
		entry_free(c, e);
	else
		enforce_bound(c);
}

static mt_status cache_process(void *impl, uint64_t now_ms, mt_dns_deliver_fn deliver, void *arg)
{
	cache *c = impl;
	mt_status st = MT_OK;
	size_t n = 0;

	c->deliver = deliver;
	c->deliver_arg = arg;
	c->now = now_ms;
	/* Hits queued before this call; hits queued by deliver wait. */
	for (waiter *w = c->hits; w; w = w->next)
		n++;
	while (n-- > 0 && c->hits) {
		waiter *w = c->hits;
		centry *e = w->e;
		c->hits = w->next;
		if (!c->hits)
			c->hits_tail = &c->hits;
		if (!w->cancelled)
			deliver(arg, w->token, e->ans);
		waiter_put(c, w);
		if (--e->pins == 0 && !e->keep)
			entry_free(c, e);
	}
	if (c->nflight > 0)
		st = mt_dns_process(c->inner, now_ms, on_inner, c);
	c->deliver = NULL;
	return st;
}

static int cache_fd(void *impl)
{
	cache *c = impl;
	return mt_dns_resolver_fd(c->inner);
}

static uint64_t cache_next_deadline(void *impl)
{
	cache *c = impl;
	if (c->hits)
		return 0;
	if (c->nflight == 0)
		return UINT64_MAX;
	return mt_dns_resolver_next_deadline(c->inner);
}

static void cache_destroy(void *impl)
{
	cache *c = impl;
	waiter *w, *wn;
	if (!c)
		return;
	for (w = c->hits; w; w = wn) {
		wn = w->next;
		/* An entry that expired while this hit waited is no longer in
		 * the table: its last hit frees it. */
		if (--w->e->pins == 0 && !w->e->keep) {
			mt_dns_answer_free(w->e->ans);
			free(w->e);
		}
		free(w);
	}
	for (size_t i = 0; c->table && i < c->nbuckets; i++) {
		centry *e = c->table[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			for (w = e->waiters; w; w = wn) {
				wn = w->next;
				free(w);
			}
			if (e->state == E_FLIGHT)
				mt_dns_cancel(c->inner, flight_token(c, e->fslot));
			mt_dns_answer_free(e->ans);
			free(e);
		}
	}
	for (w = c->free_waiters; w; w = wn) {
		wn = w->next;
		free(w);
	}
	free(c->table);
	if (c->o.own_inner)
		mt_dns_resolver_free(c->inner);
	free(c->fslots);
	free(c->fgen);
	free(c->ffree);
	free(c);
}

static const mt_dns_resolver_ops cache_ops = {
	.destroy = cache_destroy,
	.submit = cache_submit,
	.cancel = cache_cancel,
	.process = cache_process,
	.fd = cache_fd,
	.next_deadline = cache_next_deadline,
};

void mt_dns_cache_options_init(mt_dns_cache_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
	opts->max_bytes = DEFAULT_BYTES;
	opts->max_ttl_s = 86400;
	opts->negative_default_s = 300;
}

mt_status mt_dns_cache_resolver_new(mt_dns_resolver *inner, const mt_dns_cache_options *opts,
                                    mt_dns_resolver **out, mt_error *err)
{
	cache *c;
	if (!out || !inner) {
		if (opts && opts->own_inner)
			mt_dns_resolver_free(inner);
		return mt_error_set(err, MT_EINVAL, "a cache needs a resolver behind it");
	}
	*out = NULL;
	c = calloc(1, sizeof *c);
	if (!c) {
		if (opts && opts->own_inner)
			mt_dns_resolver_free(inner);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	mt_dns_cache_options_init(&c->o);
	if (opts) {
		size_t n = opts->size && opts->size < sizeof c->o ? opts->size : sizeof c->o;
		memcpy(&c->o, opts, n);
		c->o.size = sizeof c->o;
	}
	if (c->o.max_bytes < MIN_BYTES)
		c->o.max_bytes = MIN_BYTES;
	if (c->o.max_ttl_s == 0)
		c->o.max_ttl_s = 86400;
	c->inner = inner;
	c->nbuckets = 1024;
	c->table = calloc(c->nbuckets, sizeof *c->table);
	c->hits_tail = &c->hits;
	if (!c->table) {
		cache_destroy(c);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	*out = mt_dns_resolver_new(&cache_ops, c);
	if (!*out) {
		cache_destroy(c);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	return MT_OK;
}

mt_status mt_dns_cache_stats_get(mt_dns_resolver *res, mt_dns_cache_stats *out)
{
	cache *c = mt_dns_resolver_impl(res, &cache_ops);
	if (!c || !out)
		return MT_EINVAL;
	*out = c->st;
	out->entries = c->nentries;
	out->bytes = c->bytes;
	return MT_OK;
}
