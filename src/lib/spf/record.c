/* SPF record parsing: RFC 7208 sections 4.5, 4.6, 5, 6 and 12. */
#include "spf/spf_int.h"
#include "dns/dns_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	mt_spf_term_kind kind;
} mechanisms[] = {
	{"all", MT_SPF_ALL}, {"include", MT_SPF_INCLUDE}, {"a", MT_SPF_A},
	{"mx", MT_SPF_MX},   {"ptr", MT_SPF_PTR},         {"ip4", MT_SPF_IP4},
	{"ip6", MT_SPF_IP6}, {"exists", MT_SPF_EXISTS},
};

const char *mt_spf_term_kind_name(mt_spf_term_kind kind)
{
	switch (kind) {
	case MT_SPF_ALL: return "all";
	case MT_SPF_INCLUDE: return "include";
	case MT_SPF_A: return "a";
	case MT_SPF_MX: return "mx";
	case MT_SPF_PTR: return "ptr";
	case MT_SPF_IP4: return "ip4";
	case MT_SPF_IP6: return "ip6";
	case MT_SPF_EXISTS: return "exists";
	case MT_SPF_REDIRECT: return "redirect";
	case MT_SPF_EXP: return "exp";
	case MT_SPF_UNKNOWN_MODIFIER: return "modifier";
	}
	return "?";
}

const char *mt_spf_result_name(mt_spf_result result)
{
	switch (result) {
	case MT_SPF_NONE: return "none";
	case MT_SPF_NEUTRAL: return "neutral";
	case MT_SPF_PASS: return "pass";
	case MT_SPF_FAIL: return "fail";
	case MT_SPF_SOFTFAIL: return "softfail";
	case MT_SPF_TEMPERROR: return "temperror";
	case MT_SPF_PERMERROR: return "permerror";
	}
	return "?";
}

bool mt_spf_is_record(const char *text, size_t len)
{
	return text && len >= 6 && mt_strcaseeq(text, 6, "v=spf1", 6) && (len == 6 || text[6] == ' ');
}

/* ---- macro-string syntax (section 7.1) ---- */

static bool is_delim(char c)
{
	return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

bool mt_spf_macro_valid(const char *s, size_t len, bool exp_context, size_t *err_off,
                        const char **msg, bool *ends_with_macro)
{
	bool last_macro = false;
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c != '%') {
			if (c == ' ' && exp_context) {
				i++;
				last_macro = false;
				continue;
			}
			if (c < 0x21 || c > 0x7e) {
				*err_off = i;
				*msg = c >= 0x80 ? "non-ASCII octet (SPF records are 7-bit ASCII)"
				                 : "control character or space inside a term";
				return false;
			}
			i++;
			last_macro = false;
			continue;
		}
		if (i + 1 >= len) {
			*err_off = i;
			*msg = "'%' at the end: write %% for a literal percent sign";
			return false;
		}
		char n = s[i + 1];
		if (n == '%' || n == '_' || n == '-') {
			i += 2;
			last_macro = true;
			continue;
		}
		if (n != '{') {
			*err_off = i;
			*msg = "'%' must be followed by '{', '%', '_' or '-'";
			return false;
		}
		size_t start = i;
		i += 2;
		if (i >= len) {
			*err_off = start;
			*msg = "unterminated macro: missing '}'";
			return false;
		}
		char l = mt_lower(s[i]);
		if (!strchr("slodiphv", l) || l == '\0') {
			if (l == 'c' || l == 'r' || l == 't') {
				if (!exp_context) {
					*err_off = start;
					*msg = "macro letters c, r and t are allowed only in explanation text";
					return false;
				}
			} else {
				*err_off = start;
				*msg = "unknown macro letter (valid: s l o d i p h v, and c r t in explanations)";
				return false;
			}
		}
		i++;
		size_t digits = 0;
		bool nonzero = false;
		while (i < len && mt_is_digit(s[i])) {
			if (s[i] != '0')
				nonzero = true;
			digits++;
			i++;
		}
		if (digits && !nonzero) {
			*err_off = start;
			*msg = "macro part count must be nonzero";
			return false;
		}
		if (i < len && (s[i] == 'r' || s[i] == 'R'))
			i++;
		while (i < len && is_delim(s[i]))
			i++;
		if (i >= len || s[i] != '}') {
			*err_off = start;
			*msg = "malformed macro: expected transformers, delimiters and '}'";
			return false;
		}
		i++;
		last_macro = true;
	}
	if (ends_with_macro)
		*ends_with_macro = last_macro;
	return true;
}

bool mt_spf_macro_uses(const char *s, size_t len, const char *letters)
{
	for (size_t i = 0; i + 2 < len; i++)
		if (s[i] == '%' && s[i + 1] == '{') {
			char l = mt_lower(s[i + 2]);
			if (l && strchr(letters, l))
				return true;
			i += 2;
		} else if (s[i] == '%') {
			i++; /* skip the escaped character of %% %_ %- */
		}
	return false;
}

static bool toplabel_ok(const char *s, size_t len)
{
	bool alpha = false, dash = false;
	if (len == 0 || !mt_is_alnum(s[0]) || !mt_is_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (mt_is_alpha(s[i]))
			alpha = true;
		else if (s[i] == '-')
			dash = true;
		else if (!mt_is_digit(s[i]))
			return false;
	}
	return alpha || dash;
}

/* domain-spec = macro-string domain-end */
static bool domain_spec_ok(const char *s, size_t len, size_t *err_off, const char **msg)
{
	bool ends_macro = false;
	if (len == 0) {
		*err_off = 0;
		*msg = "empty domain-spec";
		return false;
	}
	if (!mt_spf_macro_valid(s, len, false, err_off, msg, &ends_macro))
		return false;
	if (ends_macro)
		return true;
	size_t end = len;
	if (s[end - 1] == '.')
		end--;
	size_t dot = end;
	while (dot > 0 && s[dot - 1] != '.')
		dot--;
	if (dot == 0 || !toplabel_ok(s + dot, end - dot)) {
		*err_off = dot;
		*msg = "domain must end in a top-level label with a letter (like \".com\") or a macro";
		return false;
	}
	return true;
}

/* ip4-cidr-length / ip6-cidr-length digits: no leading zero, value <= max */
static bool cidr_value(const char *s, size_t len, int max, int *out)
{
	int v = 0;
	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!mt_is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static size_t trailing_digits(const char *s, size_t len)
{
	size_t n = 0;
	while (n < len && mt_is_digit(s[len - 1 - n]))
		n++;
	return n;
}

/*
 * Split a trailing dual-cidr-length off arg[0..*len): "//N" then "/N".
 * allow4/allow6 say which parts the mechanism takes.
 */
static bool take_cidr(const char *arg, size_t *len, bool allow4, bool allow6, int *c4, int *c6,
                      const char **msg)
{
	size_t n = *len, d;
	*c4 = *c6 = -1;
	d = trailing_digits(arg, n);
	if (allow6 && d && n >= d + 2 && arg[n - d - 1] == '/' && arg[n - d - 2] == '/') {
		if (!cidr_value(arg + n - d, d, 128, c6)) {
			*msg = "IPv6 prefix length must be 0 to 128, without leading zeros";
			return false;
		}
		n -= d + 2;
		d = trailing_digits(arg, n);
	}
	if (d && n >= d + 1 && arg[n - d - 1] == '/') {
		if (!allow4 || !cidr_value(arg + n - d, d, 32, c4)) {
			*msg = allow4 ? "IPv4 prefix length must be 0 to 32, without leading zeros"
			              : "this mechanism takes no IPv4 prefix length";
			return false;
		}
		n -= d + 1;
	}
	*len = n;
	return true;
}

static mt_status syntax(mt_spf_syntax_error *syn, size_t off, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static mt_status syntax(mt_spf_syntax_error *syn, size_t off, size_t len, const char *fmt, ...)
{
	if (syn) {
		va_list ap;
		syn->offset = off;
		syn->length = len;
		char raw[sizeof syn->message];
		va_start(ap, fmt);
		vsnprintf(raw, sizeof raw, fmt, ap);
		va_end(ap);
		/* The message quotes record text: keep it printable, escaped the
		 * way the CLI shows the record itself. */
		mt_spf_escape(syn->message, sizeof syn->message, raw, strlen(raw));
	}
	return MT_ESYNTAX;
}

size_t mt_spf_escape(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) {
			if (n + 1 >= cap)
				break;
			out[n++] = (char)c;
		} else {
			if (n + 4 >= cap)
				break;
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return n;
}

static bool name_char(char c)
{
	return mt_is_alnum(c) || c == '-' || c == '_' || c == '.';
}

/* Parse one term t[0..tlen) found at offset off of the record. */
static mt_status parse_term(mt_spf_record *rec, const char *t, size_t tlen, size_t off,
                            mt_spf_syntax_error *syn)
{
	mt_spf_term *term = &rec->terms[rec->nterms];
	const char *msg = NULL;
	size_t eoff = 0;

	memset(term, 0, sizeof *term);
	term->offset = off;
	term->length = tlen;
	term->cidr4 = term->cidr6 = -1;

	/* A control character (a NUL too) anywhere in the term: said first,
	 * with the term quoted escaped (a NUL would end the message). */
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c < 0x20 || c == 0x7f) {
			char q[4 * 40 + 4];
			mt_spf_escape(q, sizeof q, t, tlen < 40 ? tlen : 40);
			return syntax(syn, off + i, 1, "control character in term '%s%s'", q,
			              tlen > 40 ? "..." : "");
		}
	}

	/* modifier: name "=" ... where name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
	size_t nl = 0;
	while (nl < tlen && name_char(t[nl]))
		nl++;
	if (nl < tlen && t[nl] == '=') {
		const char *val = t + nl + 1;
		size_t vlen = tlen - nl - 1;
		if (nl == 0 || !mt_is_alpha(t[0]))
			return syntax(syn, off, tlen, "modifier name '%.*s' must start with a letter", (int)(nl), t);
		if (mt_strcaseeq(t, nl, "redirect", 8) || mt_strcaseeq(t, nl, "exp", 3)) {
			bool redir = nl == 8;
			int *slot = redir ? &rec->redirect : &rec->exp;
			if (*slot >= 0)
				return syntax(syn, off, tlen, "the %.*s= modifier appears more than once", (int)(nl), t);
			if (!domain_spec_ok(val, vlen, &eoff, &msg))
				return syntax(syn, off + nl + 1 + (vlen ? eoff : 0), vlen ? tlen - nl - 1 - eoff : 0,
				              "%.*s", (int)(strlen(msg)), msg);
			*slot = (int)rec->nterms;
			term->kind = redir ? MT_SPF_REDIRECT : MT_SPF_EXP;
			term->domain = val;
			term->domain_len = vlen;
		} else {
			if (!mt_spf_macro_valid(val, vlen, false, &eoff, &msg, NULL))
				return syntax(syn, off + nl + 1 + eoff, tlen - nl - 1 - eoff, "%.*s", (int)(strlen(msg)), msg);
			term->kind = MT_SPF_UNKNOWN_MODIFIER;
			term->name = t;
			term->name_len = nl;
			term->value = val;
			term->value_len = vlen;
		}
		rec->nterms++;
		return MT_OK;
	}

	/* directive = [ qualifier ] mechanism */
	size_t p = 0;
	term->qualifier = '+';
	if (t[0] == '+' || t[0] == '-' || t[0] == '~' || t[0] == '?') {
		term->qualifier = t[0];
		p = 1;
	}
	size_t ml = 0;
	while (p + ml < tlen && mt_is_alnum(t[p + ml]))
		ml++;
	size_t k;
	for (k = 0; k < sizeof mechanisms / sizeof mechanisms[0]; k++)
		if (mt_strcaseeq(t + p, ml, mechanisms[k].name, strlen(mechanisms[k].name)))
			break;
	if (k == sizeof mechanisms / sizeof mechanisms[0]) {
		for (size_t i = 0; i < tlen; i++) {
			unsigned char c = (unsigned char)t[i];
			if (c < 0x21 || c > 0x7e)
				return syntax(syn, off + i, 1,
				              c >= 0x80 ? "non-ASCII octet in term '%.*s' (SPF records are 7-bit ASCII)"
				                        : "control character in term '%.*s'", (int)(tlen), t);
		}
		return syntax(syn, off, tlen, "unknown mechanism '%.*s'", (int)(tlen), t);
	}
	term->kind = mechanisms[k].kind;
	const char *rest = t + p + ml;
	size_t rlen = tlen - p - ml;
	size_t roff = off + p + ml;
	const char *kname = mechanisms[k].name;

	switch (term->kind) {
	case MT_SPF_ALL:
		if (rlen)
			return syntax(syn, roff, rlen, "'all' takes no argument ('%.*s')", (int)(rlen), rest);
		rec->has_all = true;
		break;
	case MT_SPF_INCLUDE:
	case MT_SPF_EXISTS:
	case MT_SPF_PTR:
		if (rlen == 0) {
			if (term->kind == MT_SPF_PTR)
				break;
			return syntax(syn, off, tlen, "'%.*s' needs ':' and a domain", (int)(strlen(kname)), kname);
		}
		if (rest[0] != ':')
			return syntax(syn, roff, rlen, "unexpected '%.*s' after the mechanism name", (int)(rlen), rest);
		if (!domain_spec_ok(rest + 1, rlen - 1, &eoff, &msg))
			return syntax(syn, roff + 1 + eoff, rlen - 1 - (rlen > 1 ? eoff : 0), "%.*s", (int)(strlen(msg)), msg);
		term->domain = rest + 1;
		term->domain_len = rlen - 1;
		break;
	case MT_SPF_A:
	case MT_SPF_MX: {
		size_t alen = rlen;
		if (!take_cidr(rest, &alen, true, true, &term->cidr4, &term->cidr6, &msg))
			return syntax(syn, roff, rlen, "%.*s", (int)(strlen(msg)), msg);
		if (alen == 0)
			break;
		if (rest[0] != ':')
			return syntax(syn, roff, rlen, "unexpected '%.*s' after the mechanism name", (int)(rlen), rest);
		if (!domain_spec_ok(rest + 1, alen - 1, &eoff, &msg))
			return syntax(syn, roff + 1 + eoff, alen - 1 - (alen > 1 ? eoff : 0), "%.*s", (int)(strlen(msg)), msg);
		term->domain = rest + 1;
		term->domain_len = alen - 1;
		break;
	}
	case MT_SPF_IP4:
	case MT_SPF_IP6: {
		bool v4 = term->kind == MT_SPF_IP4;
		size_t alen = rlen;
		if (rlen == 0 || rest[0] != ':')
			return syntax(syn, off, tlen, "'%.*s' needs ':' and an address", (int)(3), kname);
		const char *slash = memchr(rest, '/', rlen);
		if (slash) {
			int *c = v4 ? &term->cidr4 : &term->cidr6;
			size_t dlen = rlen - (size_t)(slash + 1 - rest);
			if (!cidr_value(slash + 1, dlen, v4 ? 32 : 128, c))
				return syntax(syn, roff + (size_t)(slash - rest), dlen + 1,
				              v4 ? "IPv4 prefix length '%.*s' must be 0 to 32, without leading zeros"
				                 : "IPv6 prefix length '%.*s' must be 0 to 128, without leading zeros", (int)(dlen), slash + 1);
			alen = (size_t)(slash - rest);
		}
		mt_ip ip;
		if (!mt_ip_parse(rest + 1, alen - 1, &ip) || ip.family != (v4 ? 4 : 6))
			return syntax(syn, roff + 1, alen - 1,
			              v4 ? "'%.*s' is not an IPv4 address (dotted quad)" : "'%.*s' is not an IPv6 address", (int)(alen - 1), rest + 1);
		memcpy(term->addr, ip.addr, 16);
		break;
	}
	default:
		break;
	}
	rec->nterms++;
	return MT_OK;
}

mt_status mt_spf_record_parse_in(mt_arena *arena, const char *text, size_t len,
                                 mt_spf_record **out, mt_spf_syntax_error *syn)
{
	mt_spf_record *rec;
	size_t nmax = 1, i, size;
	mt_status st;

	*out = NULL;
	if (!text && len)
		return MT_EINVAL;
	if (len > MT_SPF_MAX_RECORD)
		return MT_ERANGE;
	if (!mt_spf_is_record(text, len))
		return syntax(syn, 0, len < 6 ? len : 6, "a record must begin with \"v=spf1\" and a space");
	for (i = 0; i < len; i++)
		if (text[i] == ' ')
			nmax++;
	size = sizeof *rec + nmax * sizeof(mt_spf_term) + len + 1;
	rec = arena ? mt_arena_alloc(arena, size) : malloc(size);
	if (!rec)
		return MT_ENOMEM;
	memset(rec, 0, sizeof *rec);
	rec->terms = (mt_spf_term *)(rec + 1);
	rec->text = (char *)(rec->terms + nmax);
	memcpy(rec->text, text, len);
	rec->text[len] = '\0';
	rec->len = len;
	rec->redirect = rec->exp = -1;

	/* terms = *( 1*SP ( directive / modifier ) ), then *SP */
	i = 6;
	while (i < len) {
		while (i < len && rec->text[i] == ' ')
			i++;
		if (i >= len)
			break;
		size_t start = i;
		while (i < len && rec->text[i] != ' ')
			i++;
		st = parse_term(rec, rec->text + start, i - start, start, syn);
		if (st != MT_OK)
			goto fail;
	}
	/* Point the term views into the copy (parse_term was given it already). */
	*out = rec;
	return MT_OK;
fail:
	if (!arena)
		free(rec);
	return st;
}

mt_status mt_spf_record_parse(const char *text, size_t len, mt_spf_record **out,
                              mt_spf_syntax_error *syn)
{
	if (!out)
		return MT_EINVAL;
	return mt_spf_record_parse_in(NULL, text, len, out, syn);
}

void mt_spf_record_free(mt_spf_record *rec)
{
	free(rec);
}

size_t mt_spf_record_term_count(const mt_spf_record *rec)
{
	return rec ? rec->nterms : 0;
}

const mt_spf_term *mt_spf_record_term(const mt_spf_record *rec, size_t i)
{
	return rec && i < rec->nterms ? &rec->terms[i] : NULL;
}

const char *mt_spf_record_text(const mt_spf_record *rec)
{
	return rec ? rec->text : NULL;
}

bool mt_spf_domain_ok(const char *name, size_t len, bool multi_label)
{
	size_t n;
	/* The DNS module's rule (labels 1..63, at most 253, no NUL); the root
	 * name is not a domain SPF can check. */
	if (!mt_dns_name_check(name, len, &n) || n == 0)
		return false;
	return !multi_label || memchr(name, '.', n) != NULL;
}

bool mt_spf_host_name_ok(const char *name, size_t len, bool multi_label)
{
	for (size_t i = 0; i < len; i++)
		if (!mt_is_alnum(name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.')
			return false;
	return mt_spf_domain_ok(name, len, multi_label);
}

bool mt_spf_term_queries_dns(mt_spf_term_kind k)
{
	return k == MT_SPF_INCLUDE || k == MT_SPF_A || k == MT_SPF_MX || k == MT_SPF_PTR ||
	       k == MT_SPF_EXISTS || k == MT_SPF_REDIRECT;
}

unsigned mt_spf_record_lookups(const mt_spf_record *rec)
{
	unsigned n = 0;
	if (!rec)
		return 0;
	for (size_t i = 0; i < rec->nterms; i++) {
		mt_spf_term_kind k = rec->terms[i].kind;
		if (mt_spf_term_queries_dns(k) && !(k == MT_SPF_REDIRECT && rec->has_all))
			n++;
	}
	return n;
}

/* The prefix length of an ip4/ip6 term (the address size when not written). */
static int ip_prefix(const mt_spf_term *t)
{
	int bits = t->kind == MT_SPF_IP4 ? 32 : 128;
	int pre = t->kind == MT_SPF_IP4 ? t->cidr4 : t->cidr6;
	return pre < 0 || pre > bits ? bits : pre;
}

/* Do a and b agree on their first pre bits? */
static bool same_bits(const uint8_t *a, const uint8_t *b, int pre)
{
	int full = pre / 8, rest = pre % 8;
	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool mt_spf_host_bits(const mt_spf_term *t, char *net, size_t cap)
{
	mt_ip ip;
	int pre, bits;

	if (!t || (t->kind != MT_SPF_IP4 && t->kind != MT_SPF_IP6))
		return false;
	bits = t->kind == MT_SPF_IP4 ? 32 : 128;
	pre = ip_prefix(t);
	memset(&ip, 0, sizeof ip);
	ip.family = t->kind == MT_SPF_IP4 ? 4 : 6;
	for (int i = 0; i < bits / 8; i++) {
		int keep = pre - i * 8;
		ip.addr[i] = keep >= 8 ? t->addr[i] : keep > 0 ? (uint8_t)(t->addr[i] & (0xff << (8 - keep))) : 0;
	}
	if (memcmp(ip.addr, t->addr, (size_t)bits / 8) == 0)
		return false;
	if (net && cap)
		mt_ip_format(&ip, net, cap);
	return true;
}

bool mt_spf_ip_covers(const mt_spf_term *net, const mt_spf_term *t)
{
	if (!net || !t || net->kind != t->kind || (t->kind != MT_SPF_IP4 && t->kind != MT_SPF_IP6))
		return false;
	if (ip_prefix(net) > ip_prefix(t))
		return false;
	return same_bits(net->addr, t->addr, ip_prefix(net));
}
