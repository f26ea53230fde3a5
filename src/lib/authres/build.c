/* Authentication-Results builder (RFC 8601 section 2.2): the one place
 * that knows how a value is quoted. */
#include "authres/authres_int.h"

#include <stdlib.h>
#include <string.h>

#define FOLD_WIDTH 78
#define PREFIX "Authentication-Results: "

struct mt_authres {
	mt_arena *arena;
	char *authserv_id;
	unsigned version;
	size_t count;
	mt_authres_method methods[MT_AUTHRES_MAX_METHODS];
};

bool mt_ar_keyword(const char *s)
{
	if (!s || !mt_ar_kw_first((unsigned char)s[0]))
		return false;
	for (size_t i = 1; s[i]; i++)
		if (!mt_ar_kw_char((unsigned char)s[i]) || i >= MT_AUTHRES_MAX_VALUE)
			return false;
	return true;
}

mt_status mt_ar_check_value(const char *s, bool may_be_empty, const char *what, mt_error *err)
{
	size_t n;
	if (!s)
		return mt_error_set(err, MT_EINVAL, "authres: %s is NULL", what);
	n = strlen(s);
	if (n == 0 && !may_be_empty)
		return mt_error_set(err, MT_EINVAL, "authres: %s is empty", what);
	if (n > MT_AUTHRES_MAX_VALUE)
		return mt_error_set(err, MT_ERANGE, "authres: %s is %zu octets, over the limit of %d", what, n,
		                    MT_AUTHRES_MAX_VALUE);
	for (size_t i = 0; i < n; i++)
		if (mt_ar_ctl((unsigned char)s[i]))
			return mt_error_set(err, MT_EINVAL,
			                    "authres: %s holds control character 0x%02x at offset %zu", what,
			                    (unsigned char)s[i], i);
	return MT_OK;
}

/* RFC 2045 token: CHAR except SP, CTLs and tspecials. */
static bool token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c))
			return false;
	}
	return true;
}

static bool atext(unsigned char c)
{
	return mt_is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5322 dot-atom-text over s[0..n) */
static bool dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !atext((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* RFC 6376 domain-name: sub-domain 1*("." sub-domain), letters, digits
 * and inner hyphens. */
static bool domain_name(const char *s)
{
	size_t labels = 0, len = 0;
	for (;; s++) {
		if (*s == '.' || !*s) {
			if (len == 0 || s[-1] == '-')
				return false;
			labels++;
			len = 0;
			if (!*s)
				break;
		} else if (mt_is_alnum(*s) || (*s == '-' && len > 0)) {
			len++;
		} else {
			return false;
		}
	}
	return labels >= 2;
}

/* pvalue written bare: a token or [local-part] "@" domain-name */
static bool bare_pvalue(const char *s)
{
	const char *at;
	if (token(s))
		return true;
	at = strrchr(s, '@');
	if (!at || !domain_name(at + 1))
		return false;
	return at == s || dot_atom(s, (size_t)(at - s));
}

static void put_quoted(mt_buf *b, const char *s)
{
	mt_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			mt_buf_putc(b, '\\');
		mt_buf_putc(b, *s);
	}
	mt_buf_putc(b, '"');
}

static void put_value(mt_buf *b, const char *s, bool pvalue)
{
	if (pvalue ? bare_pvalue(s) : token(s))
		mt_buf_puts(b, s);
	else
		put_quoted(b, s);
}

static void put_comment(mt_buf *b, const char *s)
{
	mt_buf_putc(b, '(');
	for (; *s; s++) {
		if (*s == '(' || *s == ')' || *s == '\\')
			mt_buf_putc(b, '\\');
		mt_buf_putc(b, *s);
	}
	mt_buf_putc(b, ')');
}

mt_status mt_authres_new(const char *authserv_id, mt_authres **out, mt_error *err)
{
	mt_status st;
	mt_authres *ar;
	if (!out)
		return mt_error_set(err, MT_EINVAL, "authres: no place for the result");
	*out = NULL;
	if ((st = mt_ar_check_value(authserv_id, false, "authserv-id", err)) != MT_OK)
		return st;
	if (!(ar = calloc(1, sizeof *ar)) || !(ar->arena = mt_arena_new(4096)) ||
	    !(ar->authserv_id = mt_arena_strdup(ar->arena, authserv_id))) {
		mt_authres_free(ar);
		return mt_error_set(err, MT_ENOMEM, "authres: out of memory");
	}
	*out = ar;
	return MT_OK;
}

void mt_authres_free(mt_authres *ar)
{
	if (!ar)
		return;
	mt_arena_free(ar->arena);
	free(ar);
}

void mt_authres_set_version(mt_authres *ar, unsigned version)
{
	if (ar)
		ar->version = version;
}

static char *dup_or_null(mt_arena *a, const char *s, bool *oom)
{
	char *d;
	if (!s)
		return NULL;
	if (!(d = mt_arena_strdup(a, s)))
		*oom = true;
	return d;
}

static mt_status check_method(const mt_authres_method *m, mt_error *err)
{
	mt_status st;
	if (!m)
		return mt_error_set(err, MT_EINVAL, "authres: NULL argument");
	if (!mt_ar_keyword(m->method))
		return mt_error_set(err, MT_EINVAL, "authres: method name \"%.64s\" is not a keyword",
		                    m->method ? m->method : "(null)");
	if (!mt_ar_keyword(m->result))
		return mt_error_set(err, MT_EINVAL, "authres: %s result \"%.64s\" is not a keyword", m->method,
		                    m->result ? m->result : "(null)");
	if (m->reason && (st = mt_ar_check_value(m->reason, true, "reason", err)) != MT_OK)
		return st;
	if (m->comment && (st = mt_ar_check_value(m->comment, true, "comment", err)) != MT_OK)
		return st;
	if (m->prop_count > MT_AUTHRES_MAX_PROPS)
		return mt_error_set(err, MT_ERANGE, "authres: %zu properties, over the limit of %d",
		                    m->prop_count, MT_AUTHRES_MAX_PROPS);
	if (m->prop_count && !m->props)
		return mt_error_set(err, MT_EINVAL, "authres: NULL property list");
	for (size_t i = 0; i < m->prop_count; i++) {
		const mt_authres_prop *p = &m->props[i];
		if (!p->ptype || (p->ptype[0] && !mt_ar_keyword(p->ptype)))
			return mt_error_set(err, MT_EINVAL, "authres: property type \"%.64s\" is not a keyword",
			                    p->ptype ? p->ptype : "(null)");
		if (!mt_ar_keyword(p->property))
			return mt_error_set(err, MT_EINVAL, "authres: property \"%.64s\" is not a keyword",
			                    p->property ? p->property : "(null)");
		if (!p->ptype[0] && mt_strcaseeq(p->property, strlen(p->property), "reason", 6))
			return mt_error_set(err, MT_EINVAL, "authres: a dotless property \"reason\" would read "
			                    "as the reason");
		if ((st = mt_ar_check_value(p->value, true, "property value", err)) != MT_OK)
			return st;
	}
	return MT_OK;
}

mt_status mt_authres_add(mt_authres *ar, const mt_authres_method *m, mt_error *err)
{
	mt_status st;
	mt_authres_method *d;
	mt_authres_prop *props = NULL;
	bool oom = false;

	if (!ar)
		return mt_error_set(err, MT_EINVAL, "authres: NULL argument");
	if ((st = check_method(m, err)) != MT_OK)
		return st;
	if (ar->count >= MT_AUTHRES_MAX_METHODS)
		return mt_error_set(err, MT_ERANGE, "authres: more than %d results", MT_AUTHRES_MAX_METHODS);

	d = &ar->methods[ar->count];
	memset(d, 0, sizeof *d);
	d->version = m->version;
	d->method = dup_or_null(ar->arena, m->method, &oom);
	d->result = dup_or_null(ar->arena, m->result, &oom);
	d->reason = dup_or_null(ar->arena, m->reason, &oom);
	d->comment = dup_or_null(ar->arena, m->comment, &oom);
	if (m->prop_count) {
		if (!(props = mt_arena_alloc(ar->arena, m->prop_count * sizeof *props)))
			oom = true;
		for (size_t i = 0; props && i < m->prop_count; i++) {
			props[i].ptype = dup_or_null(ar->arena, m->props[i].ptype, &oom);
			props[i].property = dup_or_null(ar->arena, m->props[i].property, &oom);
			props[i].value = dup_or_null(ar->arena, m->props[i].value, &oom);
		}
	}
	if (oom)
		return mt_error_set(err, MT_ENOMEM, "authres: out of memory");
	d->props = props;
	d->prop_count = m->prop_count;
	ar->count++;
	return MT_OK;
}

/* Place one unit on the line: after a space, or folded when it would pass
 * the fold width (never before the first unit of a line). */
static void place(mt_buf *b, mt_buf *unit, size_t *col, bool fold, bool first)
{
	if (!first) {
		if (fold && *col + 1 + unit->len > FOLD_WIDTH) {
			mt_buf_puts(b, "\r\n\t");
			*col = 8;
		} else {
			mt_buf_putc(b, ' ');
			(*col)++;
		}
	}
	mt_buf_append(b, unit->data, unit->len);
	*col += unit->len;
	if (unit->err && !b->err)
		b->err = unit->err;
	unit->len = 0;
}

/* method[/version]=result [(comment)] [reason=...] properties */
static void put_method(mt_buf *b, mt_buf *unit, const mt_authres_method *m, size_t *col, bool fold)
{
	mt_buf_puts(unit, m->method);
	if (m->version)
		mt_buf_printf(unit, "/%u", m->version);
	mt_buf_putc(unit, '=');
	mt_buf_puts(unit, m->result);
	place(b, unit, col, fold, true);
	if (m->comment) {
		put_comment(unit, m->comment);
		place(b, unit, col, fold, false);
	}
	if (m->reason) {
		mt_buf_puts(unit, "reason=");
		put_value(unit, m->reason, false);
		place(b, unit, col, fold, false);
	}
	for (size_t j = 0; j < m->prop_count; j++) {
		const mt_authres_prop *p = &m->props[j];
		if (p->ptype[0]) {
			mt_buf_puts(unit, p->ptype);
			mt_buf_putc(unit, '.');
		}
		mt_buf_puts(unit, p->property);
		mt_buf_putc(unit, '=');
		put_value(unit, p->value, true);
		place(b, unit, col, fold, false);
	}
}

mt_status mt_authres_render(const mt_authres *ar, unsigned flags, size_t max, char **out, mt_error *err)
{
	mt_buf b, u;
	size_t col = 0;
	bool fold = flags & MT_AUTHRES_FOLD;
	char *s;

	if (!out)
		return mt_error_set(err, MT_EINVAL, "authres: no place for the result");
	*out = NULL;
	if (!ar)
		return mt_error_set(err, MT_EINVAL, "authres: NULL builder");
	if (!max)
		max = MT_AUTHRES_MAX_OUTPUT;
	mt_buf_init(&b, max);
	mt_buf_init(&u, max);
	if (flags & MT_AUTHRES_PREFIX)
		mt_buf_puts(&b, PREFIX);
	put_value(&b, ar->authserv_id, false);
	if (ar->version)
		mt_buf_printf(&b, " %u", ar->version);
	mt_buf_putc(&b, ';');
	col = b.len;
	if (ar->count == 0)
		mt_buf_puts(&b, " none");
	for (size_t i = 0; i < ar->count; i++) {
		const mt_authres_method *m = &ar->methods[i];
		if (i)
			mt_buf_putc(&b, ';');
		if (fold) {
			mt_buf_puts(&b, "\r\n\t");
			col = 8;
		} else {
			mt_buf_putc(&b, ' ');
			col++;
		}
		put_method(&b, &u, m, &col, fold);
	}
	mt_buf_free(&u);
	if (b.err == MT_ERANGE) {
		mt_buf_free(&b);
		return mt_error_set(err, MT_ERANGE, "authres: the field is longer than %zu octets", max);
	}
	if (!(s = mt_buf_take(&b)))
		return mt_error_set(err, MT_ENOMEM, "authres: out of memory");
	*out = s;
	return MT_OK;
}

mt_status mt_authres_entry(const mt_authres_method *m, size_t max, char **out, mt_error *err)
{
	mt_status st;
	mt_buf b, u;
	size_t col = 0;
	char *s;

	if (!out)
		return mt_error_set(err, MT_EINVAL, "authres: no place for the result");
	*out = NULL;
	if ((st = check_method(m, err)) != MT_OK)
		return st;
	if (!max)
		max = MT_AUTHRES_MAX_OUTPUT;
	mt_buf_init(&b, max);
	mt_buf_init(&u, max);
	put_method(&b, &u, m, &col, false);
	mt_buf_free(&u);
	if (b.err == MT_ERANGE) {
		mt_buf_free(&b);
		return mt_error_set(err, MT_ERANGE, "authres: the entry is longer than %zu octets", max);
	}
	if (!(s = mt_buf_take(&b)))
		return mt_error_set(err, MT_ENOMEM, "authres: out of memory");
	*out = s;
	return MT_OK;
}

const char *mt_ar_clean(char *dst, size_t cap, const char *s)
{
	size_t i;
	for (i = 0; s[i] && i + 1 < cap && i < 300; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
	return dst;
}
