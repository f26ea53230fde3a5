/* Authentication-Results parser (RFC 8601 section 2.2), tolerant of the
 * spacing, comments and stray semicolons of real fields, never reading
 * past len. */
#include "authres/authres_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct parser {
	const char *s;
	size_t len, pos;
	mt_arena *arena;
	mt_buf tmp;
	mt_error *err;
	size_t *eoff;
	bool oom;         /* an allocation failed: checked before returning */
} parser;

/* The result and the arena that holds it (the result comes first). */
typedef struct holder {
	mt_authres_parsed pub;
	mt_arena *arena;
} holder;

static mt_status fail(parser *p, mt_status st, const char *what)
{
	if (p->eoff)
		*p->eoff = p->pos;
	if (p->pos < p->len)
		return mt_error_set(p->err, st, "authres: offset %zu: %s (found 0x%02x)", p->pos, what,
		                    (unsigned char)p->s[p->pos]);
	return mt_error_set(p->err, st, "authres: offset %zu: %s (found the end)", p->pos, what);
}

static bool at(const parser *p, char c)
{
	return p->pos < p->len && p->s[p->pos] == c;
}

static bool wsp_at(const parser *p, size_t i)
{
	return i < p->len && (p->s[i] == ' ' || p->s[i] == '\t');
}

/* Octets of a line break at pos that is a fold (followed by WSP) or ends
 * the input; 0 otherwise. */
static size_t fold_at(const parser *p)
{
	size_t n = 0;
	if (at(p, '\r') && p->pos + 1 < p->len && p->s[p->pos + 1] == '\n')
		n = 2;
	else if (at(p, '\n'))
		n = 1;
	if (n && (p->pos + n == p->len || wsp_at(p, p->pos + n)))
		return n;
	return 0;
}

/* [CFWS]: whitespace, folds and (nested) comments. */
static mt_status cfws(parser *p)
{
	for (;;) {
		size_t n;
		if (wsp_at(p, p->pos)) {
			p->pos++;
		} else if ((n = fold_at(p)) != 0) {
			p->pos += n;
		} else if (at(p, '(')) {
			size_t start = p->pos, depth = 0;
			do {
				char c = p->s[p->pos++];
				if (c == '\\') {
					if (p->pos >= p->len)
						break;
					p->pos++;
				} else if (c == '(') {
					depth++;
				} else if (c == ')') {
					depth--;
				}
			} while (depth && p->pos < p->len);
			if (depth) {
				p->pos = start;
				return fail(p, MT_ESYNTAX, "comment not closed");
			}
		} else {
			return MT_OK;
		}
	}
}

static bool keyword(parser *p, const char **out)
{
	size_t start = p->pos;
	if (p->pos >= p->len || !mt_ar_kw_first((unsigned char)p->s[p->pos]))
		return false;
	while (p->pos < p->len && mt_ar_kw_char((unsigned char)p->s[p->pos]) &&
	       p->pos - start < MT_AUTHRES_MAX_VALUE)
		p->pos++;
	*out = mt_arena_strndup(p->arena, p->s + start, p->pos - start);
	if (!*out) {
		p->oom = true;
		*out = "";
	}
	return true;
}

/* 1*DIGIT, at most 9 of them */
static mt_status digits(parser *p, unsigned *out)
{
	unsigned v = 0, n = 0;
	while (p->pos < p->len && mt_is_digit(p->s[p->pos])) {
		if (++n > 9)
			return fail(p, MT_ERANGE, "version number over 9 digits");
		v = v * 10 + (unsigned)(p->s[p->pos++] - '0');
	}
	if (!n)
		return fail(p, MT_ESYNTAX, "expected a version number");
	*out = v;
	return MT_OK;
}

static bool bare_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && !strchr(";()\"\\", c);
}

/* value: a quoted-string (unescaped, folds removed) or a run of octets up
 * to whitespace, ';', a comment or a quote. */
/* A pvalue whose local-part was a quoted-string (RFC 8601 2.2:
 * [local-part "@"] domain-name): *out holds the unquoted local-part and
 * pos is at the '@'.  The value is the addr-spec with the local-part
 * quoted again. */
static mt_status addr_spec(parser *p, const char **out)
{
	const char *local = *out;
	size_t start = p->pos, n, j = 0, ll = strlen(local);
	char *v;
	p->pos++;
	while (p->pos < p->len && bare_char((unsigned char)p->s[p->pos]))
		p->pos++;
	n = p->pos - start;
	if (2 * ll + 2 + n > MT_AUTHRES_MAX_VALUE)
		return fail(p, MT_ERANGE, "value longer than 1024 octets");
	if (!(v = mt_arena_alloc(p->arena, 2 * ll + 3 + n)))
		return fail(p, MT_ENOMEM, "out of memory");
	v[j++] = '"';
	for (size_t i = 0; i < ll; i++) {
		if (local[i] == '"' || local[i] == '\\')
			v[j++] = '\\';
		v[j++] = local[i];
	}
	v[j++] = '"';
	memcpy(v + j, p->s + start, n);
	v[j + n] = '\0';
	*out = v;
	return MT_OK;
}

static mt_status value(parser *p, bool pvalue, bool may_be_empty, const char *what, const char **out)
{
	size_t start = p->pos;
	if (at(p, '"')) {
		p->pos++;
		p->tmp.len = 0;
		for (;;) {
			size_t n;
			unsigned char c;
			if (p->pos >= p->len)
				return fail(p, MT_ESYNTAX, "quoted-string not closed");
			if ((n = fold_at(p)) != 0) {
				p->pos += n;
				continue;
			}
			c = (unsigned char)p->s[p->pos];
			if (c == '"')
				break;
			if (c == '\\') {
				p->pos++;
				if (p->pos >= p->len)
					return fail(p, MT_ESYNTAX, "quoted-string not closed");
				c = (unsigned char)p->s[p->pos];
			}
			if (mt_ar_ctl(c))
				return fail(p, MT_ESYNTAX, "control character in a quoted-string");
			if (p->tmp.len >= MT_AUTHRES_MAX_VALUE)
				return fail(p, MT_ERANGE, "value longer than 1024 octets");
			mt_buf_putc(&p->tmp, (char)c);
			p->pos++;
		}
		p->pos++;
		if (p->tmp.err)
			return fail(p, p->tmp.err, "out of memory");
		if (p->tmp.len == 0 && !may_be_empty) {
			p->pos = start;
			return fail(p, MT_ESYNTAX, what);
		}
		*out = mt_arena_strndup(p->arena, p->tmp.data ? p->tmp.data : "", p->tmp.len);
		if (pvalue && at(p, '@') && *out)
			return addr_spec(p, out);
	} else {
		while (p->pos < p->len && bare_char((unsigned char)p->s[p->pos])) {
			if (p->pos - start >= MT_AUTHRES_MAX_VALUE)
				return fail(p, MT_ERANGE, "value longer than 1024 octets");
			p->pos++;
		}
		if (p->pos == start && !may_be_empty)
			return fail(p, MT_ESYNTAX, what);
		*out = mt_arena_strndup(p->arena, p->s + start, p->pos - start);
	}
	if (!*out)
		return fail(p, MT_ENOMEM, "out of memory");
	return MT_OK;
}

static bool end_or_semi(const parser *p)
{
	return p->pos >= p->len || p->s[p->pos] == ';';
}

/* One resinfo after its ';' and CFWS; *skip when it was "none". */
static mt_status resinfo(parser *p, mt_authres_method *m, bool *skip)
{
	mt_status st;
	mt_authres_prop props[MT_AUTHRES_MAX_PROPS];
	size_t np = 0;

	*skip = false;
	memset(m, 0, sizeof *m);
	if (!keyword(p, &m->method))
		return fail(p, MT_ESYNTAX, "expected a method name");
	if ((st = cfws(p)))
		return st;
	if (at(p, '/')) {
		p->pos++;
		if ((st = cfws(p)) || (st = digits(p, &m->version)) || (st = cfws(p)))
			return st;
	} else if (!at(p, '=') && mt_strcaseeq(m->method, strlen(m->method), "none", 4) && end_or_semi(p)) {
		*skip = true;
		return MT_OK;
	}
	if (!at(p, '='))
		return fail(p, MT_ESYNTAX, "expected '=' after the method name");
	p->pos++;
	if ((st = cfws(p)))
		return st;
	if (!keyword(p, &m->result))
		return fail(p, MT_ESYNTAX, "expected a result keyword");
	for (;;) {
		const char *k1, *k2 = NULL, *v;
		if ((st = cfws(p)))
			return st;
		if (end_or_semi(p))
			break;
		if (!keyword(p, &k1))
			return fail(p, MT_ESYNTAX, "expected a property (ptype.property=value) or ';'");
		if ((st = cfws(p)))
			return st;
		if (at(p, '.')) {
			p->pos++;
			if ((st = cfws(p)))
				return st;
			if (!keyword(p, &k2))
				return fail(p, MT_ESYNTAX, "expected a property name after '.'");
			if ((st = cfws(p)))
				return st;
		}
		if (!at(p, '='))
			return fail(p, MT_ESYNTAX, "expected '=' after the property");
		p->pos++;
		if ((st = cfws(p)) || (st = value(p, true, true, "expected a value", &v)))
			return st;
		if (!k2 && mt_strcaseeq(k1, strlen(k1), "reason", 6)) {
			if (m->reason)
				return fail(p, MT_ESYNTAX, "a second reason");
			m->reason = v;
			continue;
		}
		if (np >= MT_AUTHRES_MAX_PROPS)
			return fail(p, MT_ERANGE, "more than 32 properties in one result");
		props[np].ptype = k2 ? k1 : "";
		props[np].property = k2 ? k2 : k1;
		props[np].value = v;
		np++;
	}
	if (np) {
		mt_authres_prop *d = mt_arena_alloc(p->arena, np * sizeof *d);
		if (!d)
			return fail(p, MT_ENOMEM, "out of memory");
		memcpy(d, props, np * sizeof *d);
		m->props = d;
		m->prop_count = np;
	}
	if (p->oom)
		return fail(p, MT_ENOMEM, "out of memory");
	return MT_OK;
}

/* CFWS then the authserv-id */
static mt_status head(parser *p, const char **id)
{
	mt_status st;
	if ((st = cfws(p)))
		return st;
	return value(p, false, false, "expected the authserv-id", id);
}

static void parser_init(parser *p, const char *s, size_t len, size_t *eoff, mt_error *err)
{
	memset(p, 0, sizeof *p);
	p->s = s;
	p->len = len;
	p->err = err;
	p->eoff = eoff;
	mt_buf_init(&p->tmp, MT_AUTHRES_MAX_VALUE + 1);
}

mt_status mt_authres_parse(const char *s, size_t len, mt_authres_parsed **out, size_t *eoff, mt_error *err)
{
	mt_status st;
	parser p;
	mt_authres_parsed *r = NULL;
	holder *h = NULL;
	mt_authres_method *methods = NULL;
	size_t n = 0;

	if (eoff)
		*eoff = 0;
	if (!out || (!s && len))
		return mt_error_set(err, MT_EINVAL, "authres: NULL argument");
	*out = NULL;
	if (len > MT_AUTHRES_MAX_INPUT)
		return mt_error_set(err, MT_ERANGE, "authres: field of %zu octets, over the limit of %d", len,
		                    MT_AUTHRES_MAX_INPUT);
	parser_init(&p, s ? s : "", len, eoff, err);
	if (!(p.arena = mt_arena_new(4096)) || !(h = mt_arena_alloc(p.arena, sizeof *h)) ||
	    !(r = mt_arena_alloc(p.arena, sizeof *r)) ||
	    !(methods = mt_arena_alloc(p.arena, MT_AUTHRES_MAX_METHODS * sizeof *methods))) {
		st = mt_error_set(err, MT_ENOMEM, "authres: out of memory");
		goto out;
	}
	memset(r, 0, sizeof *r);
	if ((st = head(&p, &r->authserv_id)) || (st = cfws(&p)))
		goto out;
	if (p.pos < p.len && mt_is_digit(p.s[p.pos])) {
		if ((st = digits(&p, &r->version)) || (st = cfws(&p)))
			goto out;
	}
	while (p.pos < p.len) {
		bool skip;
		if (!at(&p, ';')) {
			st = fail(&p, MT_ESYNTAX, "expected ';'");
			goto out;
		}
		p.pos++;
		if ((st = cfws(&p)))
			goto out;
		if (end_or_semi(&p))
			continue;
		if (n >= MT_AUTHRES_MAX_METHODS) {
			st = fail(&p, MT_ERANGE, "more than 64 results");
			goto out;
		}
		if ((st = resinfo(&p, &methods[n], &skip)))
			goto out;
		if (!skip)
			n++;
	}
	r->methods = methods;
	r->method_count = n;
	st = p.oom ? fail(&p, MT_ENOMEM, "out of memory") : MT_OK;
out:
	mt_buf_free(&p.tmp);
	if (st != MT_OK) {
		mt_arena_free(p.arena);
		return st;
	}
	h->pub = *r;
	h->arena = p.arena;
	*out = &h->pub;
	return MT_OK;
}

void mt_authres_parsed_free(mt_authres_parsed *r)
{
	holder *h = (holder *)(void *)r;
	if (!r)
		return;
	mt_arena_free(h->arena);
}

bool mt_authres_claims(const char *s, size_t len, const char *authserv_id)
{
	parser p;
	const char *id = NULL;
	bool yes = false;

	if (!s || !authserv_id || len > MT_AUTHRES_MAX_INPUT)
		return false;
	parser_init(&p, s, len, NULL, NULL);
	if ((p.arena = mt_arena_new(1024)) && head(&p, &id) == MT_OK && id)
		yes = mt_strcaseeq(id, strlen(id), authserv_id, strlen(authserv_id));
	mt_buf_free(&p.tmp);
	mt_arena_free(p.arena);
	return yes;
}

bool mt_authres_parsed_equal(const mt_authres_parsed *a, const mt_authres_parsed *b)
{
	if (strcmp(a->authserv_id, b->authserv_id) || a->version != b->version ||
	    a->method_count != b->method_count)
		return false;
	for (size_t i = 0; i < a->method_count; i++) {
		const mt_authres_method *x = &a->methods[i], *y = &b->methods[i];
		if (strcmp(x->method, y->method) || x->version != y->version || strcmp(x->result, y->result) ||
		    !x->reason != !y->reason || (x->reason && strcmp(x->reason, y->reason)) ||
		    x->prop_count != y->prop_count)
			return false;
		for (size_t j = 0; j < x->prop_count; j++)
			if (strcmp(x->props[j].ptype, y->props[j].ptype) ||
			    strcmp(x->props[j].property, y->props[j].property) ||
			    strcmp(x->props[j].value, y->props[j].value))
				return false;
	}
	return true;
}
