/* DNS answers, record text forms and the resolver wrapper. */
#include "dns/dns_internal.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <time.h>

/* ---- names of things ---- */

static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
	{MT_DNS_A, "A"},     {MT_DNS_NS, "NS"},   {MT_DNS_CNAME, "CNAME"},
	{MT_DNS_SOA, "SOA"}, {MT_DNS_PTR, "PTR"}, {MT_DNS_MX, "MX"},
	{MT_DNS_TXT, "TXT"}, {MT_DNS_AAAA, "AAAA"}, {MT_DNS_SPF, "SPF"},
};

const char *mt_dns_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return NULL;
}

uint16_t mt_dns_type_from_name(const char *name, size_t len)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
		const char *n = type_names[i].name;
		if (mt_strcaseeq(name, len, n, strlen(n)))
			return type_names[i].type;
	}
	/* RFC 3597 generic form: TYPE followed by a decimal number. */
	if (len > 4 && len <= 9 && mt_strcaseeq(name, 4, "TYPE", 4)) {
		uint32_t v = 0;
		for (size_t i = 4; i < len; i++) {
			if (!mt_is_digit((unsigned char)name[i]))
				return 0;
			v = v * 10 + (uint32_t)(name[i] - '0');
		}
		if (name[4] == '0' || v > 65535)
			return 0;
		return (uint16_t)v;
	}
	return 0;
}

const char *mt_dns_rcode_name(mt_dns_rcode rcode)
{
	switch (rcode) {
	case MT_DNS_NOERROR: return "NOERROR";
	case MT_DNS_NXDOMAIN: return "NXDOMAIN";
	case MT_DNS_SERVFAIL: return "SERVFAIL";
	case MT_DNS_REFUSED: return "REFUSED";
	case MT_DNS_TIMEOUT: return "TIMEOUT";
	case MT_DNS_FAILURE: return "FAILURE";
	}
	return "UNKNOWN";
}

const char *mt_dnssec_state_name(mt_dnssec_state state)
{
	switch (state) {
	case MT_DNSSEC_UNCHECKED: return "unchecked";
	case MT_DNSSEC_INSECURE: return "insecure";
	case MT_DNSSEC_SECURE: return "secure";
	case MT_DNSSEC_BOGUS: return "bogus";
	}
	return "unknown";
}

bool mt_dns_name_check(const char *s, size_t len, size_t *outlen)
{
	size_t label = 0;
	if (!s)
		return false;
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len > MT_DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0')
			return false;
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > MT_DNS_LABEL_MAX) {
			return false;
		}
	}
	if (len > 0 && label == 0)
		return false;
	*outlen = len;
	return true;
}

/* ---- answers ---- */

/* The public answer is the first member, so the two pointers convert. */
typedef struct derived {
	void *data;
	void (*release)(void *);
} derived;

struct answer {
	mt_dns_answer pub;
	derived slot;    /* pub.priv points here */
	unsigned refs;   /* mt_dns_answer_hold() */
	mt_dns_rr *rrs;
	size_t cap;
	char *why;
	char *canonical;
};

mt_dns_answer *mt_dns_answer_new(mt_dns_rcode rcode)
{
	struct answer *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->pub.rcode = rcode;
	a->pub.dnssec = MT_DNSSEC_UNCHECKED;
	a->pub.priv = &a->slot;
	a->refs = 1;
	return &a->pub;
}

mt_status mt_dns_answer_add(mt_dns_answer *ans, uint16_t type, uint32_t ttl, uint16_t pref,
                            const void *data, size_t len)
{
	struct answer *a = (struct answer *)ans;
	uint8_t *copy;
	if (!a || (!data && len))
		return MT_EINVAL;
	if (a->pub.count >= MT_DNS_RR_MAX || len > MT_DNS_RDATA_MAX)
		return MT_ERANGE;
	if (a->pub.count == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 4;
		mt_dns_rr *n = realloc(a->rrs, ncap * sizeof *n);
		if (!n)
			return MT_ENOMEM;
		a->rrs = n;
		a->cap = ncap;
		a->pub.rr = n;
	}
	copy = malloc(len + 1);
	if (!copy)
		return MT_ENOMEM;
	if (len)
		memcpy(copy, data, len);
	copy[len] = '\0';
	a->rrs[a->pub.count] = (mt_dns_rr){.type = type, .pref = pref, .ttl = ttl, .len = len,
	                                   .data = copy};
	a->pub.count++;
	return MT_OK;
}

static mt_status replace_string(char **slot, const char **pub, const char *s)
{
	char *copy = NULL;
	if (s) {
		size_t n = strlen(s);
		copy = malloc(n + 1);
		if (!copy)
			return MT_ENOMEM;
		memcpy(copy, s, n + 1);
	}
	free(*slot);
	*slot = copy;
	*pub = copy;
	return MT_OK;
}

mt_status mt_dns_answer_set_why(mt_dns_answer *ans, const char *why)
{
	struct answer *a = (struct answer *)ans;
	if (!a)
		return MT_EINVAL;
	return replace_string(&a->why, &a->pub.why, why);
}

mt_status mt_dns_answer_set_canonical(mt_dns_answer *ans, const char *name)
{
	struct answer *a = (struct answer *)ans;
	if (!a)
		return MT_EINVAL;
	return replace_string(&a->canonical, &a->pub.canonical_name, name);
}

mt_status mt_dns_answer_copy(const mt_dns_answer *src, mt_dns_answer **out)
{
	mt_dns_answer *a = mt_dns_answer_new(src->rcode);
	mt_status st = a ? MT_OK : MT_ENOMEM;
	*out = NULL;
	for (size_t i = 0; st == MT_OK && i < src->count; i++)
		st = mt_dns_answer_add(a, src->rr[i].type, src->rr[i].ttl, src->rr[i].pref,
		                       src->rr[i].data, src->rr[i].len);
	if (st == MT_OK && src->why)
		st = mt_dns_answer_set_why(a, src->why);
	if (st == MT_OK && src->canonical_name)
		st = mt_dns_answer_set_canonical(a, src->canonical_name);
	if (st != MT_OK) {
		mt_dns_answer_free(a);
		return st;
	}
	a->dnssec = src->dnssec;
	a->negative_ttl = src->negative_ttl;
	*out = a;
	return MT_OK;
}

size_t mt_dns_answer_bytes(const mt_dns_answer *ans)
{
	const struct answer *a = (const struct answer *)ans;
	size_t n = sizeof *a + a->cap * sizeof(mt_dns_rr);
	for (size_t i = 0; i < a->pub.count; i++)
		n += a->rrs[i].len + 1 + 16; /* malloc overhead, roughly */
	if (a->why)
		n += strlen(a->why) + 1;
	if (a->canonical)
		n += strlen(a->canonical) + 1;
	return n;
}

void *mt_dns_answer_derived(const mt_dns_answer *ans, void (*release)(void *))
{
	const derived *d = ans ? ans->priv : NULL;
	return d && d->release == release ? d->data : NULL;
}

void mt_dns_answer_set_derived(const mt_dns_answer *ans, void *data, void (*release)(void *))
{
	/* Only answers made by mt_dns_answer_new() have the slot (priv); an
	 * answer built by hand keeps nothing. */
	derived *d = ans ? ans->priv : NULL;
	if (!release)
		return;
	if (!d || d->release) {
		release(data);
		return;
	}
	d->data = data;
	d->release = release;
}

mt_dns_answer *mt_dns_answer_hold(const mt_dns_answer *ans)
{
	mt_dns_answer *copy;
	if (!ans)
		return NULL;
	if (ans->priv) { /* made by mt_dns_answer_new(): shared */
		((struct answer *)ans)->refs++;
		return (mt_dns_answer *)ans;
	}
	return mt_dns_answer_copy(ans, &copy) == MT_OK ? copy : NULL;
}

void mt_dns_answer_free(mt_dns_answer *ans)
{
	struct answer *a = (struct answer *)ans;
	if (!a || --a->refs > 0)
		return;
	if (a->slot.release)
		a->slot.release(a->slot.data);
	for (size_t i = 0; i < a->pub.count; i++)
		free((void *)a->rrs[i].data);
	free(a->rrs);
	free(a->why);
	free(a->canonical);
	free(a);
}

/* ---- text forms ---- */

size_t mt_dns_txt_join(const uint8_t *rdata, size_t len, char *out, size_t cap)
{
	size_t pos = 0, total = 0;
	while (rdata && pos < len) {
		size_t n = rdata[pos++];
		if (n > len - pos)
			break;
		for (size_t i = 0; i < n; i++, total++)
			if (out && cap && total < cap - 1)
				out[total] = (char)rdata[pos + i];
		pos += n;
	}
	if (out && cap)
		out[total < cap - 1 ? total : cap - 1] = '\0';
	return total;
}

bool mt_dns_txt_check(const uint8_t *d, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		size_t n = d[pos++];
		if (n > len - pos)
			return false;
		pos += n;
	}
	return true;
}

/* RFC 3597 generic form: \# length hex */
static void put_generic(mt_buf *b, const mt_dns_rr *rr)
{
	mt_buf_printf(b, "\\# %zu", rr->len);
	if (rr->len)
		mt_buf_putc(b, ' ');
	for (size_t i = 0; i < rr->len; i++)
		mt_buf_printf(b, "%02x", rr->data[i]);
}

static void put_txt(mt_buf *b, const mt_dns_rr *rr)
{
	size_t pos = 0;
	if (rr->len == 0) {
		mt_buf_puts(b, "\"\"");
		return;
	}
	while (pos < rr->len) {
		size_t n = rr->data[pos++];
		if (pos > 1)
			mt_buf_putc(b, ' ');
		mt_buf_putc(b, '"');
		for (size_t i = 0; i < n; i++) {
			uint8_t c = rr->data[pos + i];
			if (c == '"' || c == '\\')
				mt_buf_printf(b, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				mt_buf_printf(b, "\\%03u", c);
			else
				mt_buf_putc(b, (char)c);
		}
		mt_buf_putc(b, '"');
		pos += n;
	}
}

static void put_name(mt_buf *b, const mt_dns_rr *rr)
{
	if (rr->len == 0)
		mt_buf_putc(b, '.');
	else
		mt_buf_append(b, rr->data, rr->len);
}

char *mt_dns_rr_to_text(const mt_dns_rr *rr)
{
	mt_buf b;
	char ip[64];
	if (!rr || (!rr->data && rr->len))
		return NULL;
	/* Every form is bounded by 4 output octets per input octet. */
	mt_buf_init(&b, 4 * (size_t)MT_DNS_RDATA_MAX + 64);
	switch (rr->type) {
	case MT_DNS_A:
	case MT_DNS_AAAA:
		if (rr->len == (rr->type == MT_DNS_A ? 4u : 16u) &&
		    inet_ntop(rr->type == MT_DNS_A ? AF_INET : AF_INET6, rr->data, ip, sizeof ip))
			mt_buf_puts(&b, ip);
		else
			put_generic(&b, rr);
		break;
	case MT_DNS_MX:
		mt_buf_printf(&b, "%u ", (unsigned)rr->pref);
		put_name(&b, rr);
		break;
	case MT_DNS_NS:
	case MT_DNS_CNAME:
	case MT_DNS_PTR:
		put_name(&b, rr);
		break;
	case MT_DNS_TXT:
	case MT_DNS_SPF:
		if (mt_dns_txt_check(rr->data, rr->len))
			put_txt(&b, rr);
		else
			put_generic(&b, rr);
		break;
	default:
		put_generic(&b, rr);
		break;
	}
	return mt_buf_take(&b);
}

/* ---- resolvers ---- */

/* An answer of a blocking-only backend, waiting for process(). */
typedef struct emulated {
	uint64_t token;
	mt_dns_answer *ans;
	struct emulated *next;
} emulated;

struct mt_dns_resolver {
	const mt_dns_resolver_ops *ops;
	void *impl;
	emulated *ready, **ready_tail; /* blocking-only backends */
	bool in_resolve;               /* blocking loop over the async ops */
	uint64_t resolves;             /* blocking loops so far: each has its own token */
};

static bool has_async(const mt_dns_resolver_ops *ops)
{
	return ops->submit && ops->cancel && ops->process;
}

mt_dns_resolver *mt_dns_resolver_new(const mt_dns_resolver_ops *ops, void *impl)
{
	mt_dns_resolver *r;
	if (!ops || (!ops->resolve && !has_async(ops)))
		return NULL;
	r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->ops = ops;
	r->impl = impl;
	r->ready_tail = &r->ready;
	return r;
}

void *mt_dns_resolver_impl(const mt_dns_resolver *res, const mt_dns_resolver_ops *ops)
{
	return res && res->ops == ops ? res->impl : NULL;
}

void mt_dns_resolver_free(mt_dns_resolver *res)
{
	emulated *e, *next;
	if (!res)
		return;
	for (e = res->ready; e; e = next) {
		next = e->next;
		mt_dns_answer_free(e->ans);
		free(e);
	}
	if (res->ops->destroy)
		res->ops->destroy(res->impl);
	free(res);
}

uint64_t mt_dns_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The blocking loop over a backend that only has the async operations. */
typedef struct one_answer {
	uint64_t token;
	bool done;
	mt_status st;
	mt_dns_answer *copy;
} one_answer;

static void keep_one(void *arg, uint64_t token, const mt_dns_answer *ans)
{
	one_answer *o = arg;
	if (o->done || token != o->token)
		return; /* a duplicate, or a late answer to an earlier question */
	o->done = true;
	o->st = mt_dns_answer_copy(ans, &o->copy);
}

static mt_status resolve_async(mt_dns_resolver *res, const char *name, uint16_t type,
                               unsigned timeout_ms, mt_dns_answer **out)
{
	one_answer o = { 0 };
	uint64_t start = mt_dns_now_ms(), deadline = start + (timeout_ms ? timeout_ms : 30000u);
	mt_status st;

	/* A token no earlier question had: a backend may still deliver the
	 * answer to one that was cancelled (its own timeout, a broken
	 * backend), and that must not pass for this one.  The top bit keeps
	 * it apart from the driver's tokens. */
	o.token = UINT64_C(1) << 63 | ++res->resolves;
	res->in_resolve = true;
	st = res->ops->submit(res->impl, name, type, o.token, start);
	if (st != MT_OK)
		goto out;
	for (;;) {
		uint64_t now = mt_dns_now_ms();
		st = res->ops->process(res->impl, now, keep_one, &o);
		if (st != MT_OK || o.done)
			break;
		if (now >= deadline) {
			res->ops->cancel(res->impl, o.token);
			char why[320];
			snprintf(why, sizeof why, "no answer for %.253s within %u ms", name, timeout_ms);
			o.copy = mt_dns_answer_new(MT_DNS_TIMEOUT);
			st = o.copy ? mt_dns_answer_set_why(o.copy, why) : MT_ENOMEM;
			break;
		}
		uint64_t next = res->ops->next_deadline ? res->ops->next_deadline(res->impl) : UINT64_MAX;
		if (next > deadline)
			next = deadline;
		int fd = res->ops->fd ? res->ops->fd(res->impl) : -1;
		if (next <= now)
			continue;
		uint64_t wait = next - now;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, wait > 1000000 ? 1000000 : (int)wait) < 0 &&
		    errno != EINTR) {
			res->ops->cancel(res->impl, o.token);
			st = MT_EDNS;
			break;
		}
	}
out:
	res->in_resolve = false;
	if (st == MT_OK && o.st != MT_OK)
		st = o.st;
	if (st != MT_OK) {
		mt_dns_answer_free(o.copy);
		return st;
	}
	*out = o.copy;
	return MT_OK;
}

mt_status mt_dns_resolve(mt_dns_resolver *res, const char *name, uint16_t type,
                         unsigned timeout_ms, mt_dns_answer **out)
{
	mt_dns_answer *ans = NULL;
	mt_status st;
	if (out)
		*out = NULL;
	if (!res || !name || !out || res->in_resolve)
		return MT_EINVAL;
	if (res->ops->resolve)
		st = res->ops->resolve(res->impl, name, type, timeout_ms, &ans);
	else
		st = resolve_async(res, name, type, timeout_ms, &ans);
	if (st != MT_OK) {
		mt_dns_answer_free(ans);
		return st;
	}
	if (!ans)
		return MT_EDNS;
	*out = ans;
	return MT_OK;
}

mt_status mt_dns_submit(mt_dns_resolver *res, const char *name, uint16_t type, uint64_t token,
                        uint64_t now_ms)
{
	emulated *e;
	mt_status st;
	if (!res || !name)
		return MT_EINVAL;
	if (has_async(res->ops))
		return res->ops->submit(res->impl, name, type, token, now_ms);
	e = calloc(1, sizeof *e);
	if (!e)
		return MT_ENOMEM;
	st = mt_dns_resolve(res, name, type, 0, &e->ans);
	if (st != MT_OK) {
		free(e);
		return st;
	}
	e->token = token;
	*res->ready_tail = e;
	res->ready_tail = &e->next;
	return MT_OK;
}

void mt_dns_cancel(mt_dns_resolver *res, uint64_t token)
{
	emulated **pp;
	if (!res)
		return;
	if (has_async(res->ops)) {
		res->ops->cancel(res->impl, token);
		return;
	}
	for (pp = &res->ready; *pp; pp = &(*pp)->next) {
		emulated *e = *pp;
		if (e->token == token) {
			*pp = e->next;
			if (res->ready_tail == &e->next)
				res->ready_tail = pp;
			mt_dns_answer_free(e->ans);
			free(e);
			return;
		}
	}
}

mt_status mt_dns_process(mt_dns_resolver *res, uint64_t now_ms, mt_dns_deliver_fn deliver,
                         void *arg)
{
	if (!res || !deliver)
		return MT_EINVAL;
	if (has_async(res->ops))
		return res->ops->process(res->impl, now_ms, deliver, arg);
	/* Deliver what was ready when the call began (answers submitted from
	 * inside deliver wait for the next call; cancelled ones are gone). */
	size_t n = 0;
	for (emulated *e = res->ready; e; e = e->next)
		n++;
	while (n-- > 0 && res->ready) {
		emulated *e = res->ready;
		res->ready = e->next;
		if (!res->ready)
			res->ready_tail = &res->ready;
		deliver(arg, e->token, e->ans);
		mt_dns_answer_free(e->ans);
		free(e);
	}
	return MT_OK;
}

int mt_dns_resolver_fd(mt_dns_resolver *res)
{
	if (!res || !has_async(res->ops) || !res->ops->fd)
		return -1;
	return res->ops->fd(res->impl);
}

uint64_t mt_dns_resolver_next_deadline(mt_dns_resolver *res)
{
	if (!res)
		return UINT64_MAX;
	if (!has_async(res->ops))
		return res->ready ? 0 : UINT64_MAX;
	return res->ops->next_deadline ? res->ops->next_deadline(res->impl) : UINT64_MAX;
}
