#include "util/util.h"
#include <mailtrust/version.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- status ---- */

const char *mt_strerror(mt_status status)
{
	switch (status) {
	case MT_OK: return "success";
	case MT_ENOMEM: return "out of memory";
	case MT_EINVAL: return "invalid argument";
	case MT_EIO: return "input/output error";
	case MT_ESYNTAX: return "syntax error";
	case MT_ERANGE: return "value out of range";
	case MT_ESTATE: return "operation not valid in this state";
	case MT_ENOTFOUND: return "not found";
	case MT_EDNS: return "DNS backend failure";
	case MT_EAGAIN: return "queue full, try again later";
	}
	return "unknown status";
}

void mt_free(void *ptr)
{
	free(ptr);
}

mt_status mt_error_set(mt_error *err, mt_status st, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->status = st;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
	}
	return st;
}

/* ---- arena ---- */

struct chunk {
	struct chunk *next;
	size_t size, used;
	max_align_t data[];
};

struct mt_arena {
	struct chunk *head;
	size_t chunk_size;
	size_t total, limit;
};

mt_arena *mt_arena_new(size_t chunk_size)
{
	mt_arena *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->chunk_size = chunk_size ? chunk_size : 4096;
	return a;
}

void mt_arena_set_limit(mt_arena *a, size_t limit)
{
	a->limit = limit;
}

void mt_arena_reset(mt_arena *a)
{
	struct chunk *c, *next;
	if (!a || !a->head)
		return;
	/* Keep the last chunk in the list (the oldest, of the base size). */
	for (c = a->head; c->next; c = next) {
		next = c->next;
		free(c);
	}
	a->head = c;
	c->used = 0;
	a->total = c->size;
}

void mt_arena_free(mt_arena *a)
{
	struct chunk *c, *next;
	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *mt_arena_alloc(mt_arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct chunk *c = a->head;
	size_t need = (size + align - 1) & ~(align - 1);
	if (need < size)
		return NULL;
	if (!c || c->size - c->used < need) {
		size_t csize = need > a->chunk_size ? need : a->chunk_size;
		if (a->limit && a->total + csize > a->limit)
			return NULL;
		c = malloc(sizeof *c + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->used = 0;
		if (a->head && need > a->chunk_size) {
			/* Oversized: put it behind the current chunk so that chunk stays in use. */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->total += csize;
	}
	void *p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

char *mt_arena_strndup(mt_arena *a, const char *s, size_t len)
{
	char *p = mt_arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *mt_arena_strdup(mt_arena *a, const char *s)
{
	return s ? mt_arena_strndup(a, s, strlen(s)) : NULL;
}

char *mt_arena_printf(mt_arena *a, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = mt_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	if ((size_t)n < sizeof small) {
		memcpy(p, small, (size_t)n + 1);
	} else {
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return p;
}

/* ---- buffer ---- */

void mt_buf_init(mt_buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

void mt_buf_free(mt_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

static bool buf_reserve(mt_buf *b, size_t extra)
{
	if (b->err)
		return false;
	if (extra > b->max || b->len > b->max - extra) {
		b->err = MT_ERANGE;
		return false;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	char *p = realloc(b->data, ncap);
	if (!p) {
		b->err = MT_ENOMEM;
		return false;
	}
	b->data = p;
	b->cap = ncap;
	return true;
}

void mt_buf_append(mt_buf *b, const void *data, size_t len)
{
	if (!buf_reserve(b, len))
		return;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void mt_buf_puts(mt_buf *b, const char *s)
{
	mt_buf_append(b, s, strlen(s));
}

void mt_buf_putc(mt_buf *b, char c)
{
	mt_buf_append(b, &c, 1);
}

void mt_buf_printf(mt_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (!b->err)
			b->err = MT_EINVAL;
		return;
	}
	if ((size_t)n < sizeof small) {
		mt_buf_append(b, small, (size_t)n);
		return;
	}
	if (!buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *mt_buf_take(mt_buf *b)
{
	char *p;
	if (b->err) {
		mt_buf_free(b);
		return NULL;
	}
	if (!b->data && !buf_reserve(b, 0))
		return NULL;
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- strings ---- */

bool mt_strcaseeq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (mt_lower(a[i]) != mt_lower(b[i]))
			return false;
	return true;
}

/* ---- IP ---- */

bool mt_ip_parse(const char *s, size_t len, mt_ip *ip)
{
	char tmp[64];
	if (!s || len == 0 || len >= sizeof tmp)
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (memchr(tmp, '\0', len))
		return false;
	memset(ip, 0, sizeof *ip);
	if (inet_pton(AF_INET, tmp, ip->addr) == 1) {
		ip->family = 4;
		return true;
	}
	/* inet_pton accepts a zone-less RFC 4291 address, including an
	 * embedded dotted quad; reject scope ids and the like. */
	if (inet_pton(AF_INET6, tmp, ip->addr) == 1) {
		ip->family = 6;
		return true;
	}
	return false;
}

bool mt_ip_match(const mt_ip *ip, const uint8_t *net, int family, int prefix)
{
	int bits = family == 4 ? 32 : 128;
	if (ip->family != family || prefix < 0 || prefix > bits)
		return false;
	int full = prefix / 8, rem = prefix % 8;
	if (memcmp(ip->addr, net, (size_t)full) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));
		if ((ip->addr[full] & mask) != (net[full] & mask))
			return false;
	}
	return true;
}

void mt_ip_format(const mt_ip *ip, char *out, size_t cap)
{
	if (!inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->addr, out, (socklen_t)cap) && cap)
		out[0] = '\0';
}

const char *mt_version(void)
{
	return "0.1.0";
}
