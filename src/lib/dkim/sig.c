/* DKIM tag-lists (RFC 6376 3.2) and the DKIM-Signature value (3.5, 6.1.1). */
#include "dkim/dkim_tags.h"
#include "util/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mt_dkim_perm_set(mt_dkim_perm *perm, size_t offset, const char *tag, size_t tag_len,
                      const char *fmt, ...)
{
	va_list ap;

	if (perm->failed)
		return;
	perm->failed = true;
	perm->offset = offset;
	perm->tag[0] = '\0';
	if (tag) {
		if (tag_len >= sizeof(perm->tag))
			tag_len = sizeof(perm->tag) - 1;
		memcpy(perm->tag, tag, tag_len);
		perm->tag[tag_len] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(perm->message, sizeof(perm->message), fmt, ap);
	va_end(ap);
}

size_t mt_dkim_hash_size(mt_dkim_hash h)
{
	return h == MT_DKIM_HASH_SHA1 ? 20 : 32;
}

/* ---- tag-list ---------------------------------------------------------- */

static bool is_wsp(char c) { return c == ' ' || c == '\t'; }

/* Skip FWS from *i; false when a line break is not followed by WSP. */
static bool skip_fws(const char *s, size_t len, size_t *i)
{
	size_t p = *i;

	for (;;) {
		if (p < len && is_wsp(s[p])) {
			p++;
		} else if (p + 2 < len && s[p] == '\r' && s[p + 1] == '\n' && is_wsp(s[p + 2])) {
			p += 3;
		} else if (p + 1 < len && s[p] == '\n' && is_wsp(s[p + 1])) {
			p += 2;
		} else if (p < len && (s[p] == '\r' || s[p] == '\n')) {
			*i = p;
			return false;
		} else {
			break;
		}
	}
	*i = p;
	return true;
}

static bool is_valchar(unsigned char c) { return c >= 0x21 && c <= 0x7e && c != ';'; }

bool mt_dkim_taglist_parse(const char *s, size_t len, mt_dkim_taglist *out, mt_dkim_perm *perm)
{
	size_t i = 0;

	out->count = 0;
	if (len > MT_DKIM_TAGLIST_MAX) {
		mt_dkim_perm_set(perm, 0, NULL, 0, "tag-list is %zu octets, more than the limit of %d",
		                 len, MT_DKIM_TAGLIST_MAX);
		return false;
	}
	for (;;) {
		if (!skip_fws(s, len, &i)) {
			mt_dkim_perm_set(perm, i, NULL, 0, "line break not followed by whitespace at offset %zu", i);
			return false;
		}
		if (i == len) {
			if (out->count > 0)
				return true;   /* after a final ';' */
			mt_dkim_perm_set(perm, i, NULL, 0, "empty tag-list");
			return false;
		}
		size_t name_off = i;
		if (!mt_is_alpha((unsigned char)s[i])) {
			if (s[i] == ';')
				mt_dkim_perm_set(perm, i, NULL, 0, "empty tag at offset %zu (two ';' in a row)", i);
			else
				mt_dkim_perm_set(perm, i, NULL, 0,
				                 "tag name must start with a letter at offset %zu", i);
			return false;
		}
		while (i < len && (mt_is_alnum((unsigned char)s[i]) || s[i] == '_'))
			i++;
		size_t name_len = i - name_off;
		const char *name = s + name_off;
		if (!skip_fws(s, len, &i) || i == len || s[i] != '=') {
			mt_dkim_perm_set(perm, name_off, name, name_len,
			                 "tag \"%.*s\" at offset %zu: expected '=' after the name (offset %zu)",
			                 (int)(name_len > 32 ? 32 : name_len), name, name_off, i);
			return false;
		}
		i++;
		size_t raw_off = i;
		if (!skip_fws(s, len, &i)) {
			mt_dkim_perm_set(perm, name_off, name, name_len,
			                 "tag \"%.*s\" at offset %zu: line break not followed by whitespace",
			                 (int)(name_len > 32 ? 32 : name_len), name, name_off);
			return false;
		}
		size_t value_off = i, value_end = i;
		while (i < len && s[i] != ';') {
			if (is_valchar((unsigned char)s[i])) {
				i++;
				value_end = i;
				continue;
			}
			size_t at = i;
			if (!skip_fws(s, len, &i) || at == i) {
				mt_dkim_perm_set(perm, name_off, name, name_len,
				                 "tag \"%.*s\" at offset %zu: %s (octet 0x%02x at offset %zu)",
				                 (int)(name_len > 32 ? 32 : name_len), name, name_off,
				                 (s[i] == '\r' || s[i] == '\n') ?
				                 "line break not followed by whitespace" : "invalid octet in the value",
				                 (unsigned char)s[i], i);
				return false;
			}
		}
		for (size_t k = 0; k < out->count; k++) {
			if (out->tags[k].name_len == name_len && memcmp(out->tags[k].name, name, name_len) == 0) {
				mt_dkim_perm_set(perm, name_off, name, name_len,
				                 "tag \"%.*s\" at offset %zu appears twice (first at offset %zu)",
				                 (int)(name_len > 32 ? 32 : name_len), name, name_off,
				                 out->tags[k].name_off);
				return false;
			}
		}
		if (out->count == MT_DKIM_TAGS_MAX) {
			mt_dkim_perm_set(perm, name_off, name, name_len,
			                 "more than %d tags (tag at offset %zu)", MT_DKIM_TAGS_MAX, name_off);
			return false;
		}
		mt_dkim_tag *t = &out->tags[out->count++];
		t->name = name;
		t->name_len = name_len;
		t->name_off = name_off;
		t->value = s + value_off;
		t->value_len = value_end - value_off;
		t->value_off = value_off;
		t->raw_off = raw_off;
		t->raw_len = i - raw_off;
		if (i == len)
			return true;
		i++;   /* ';' */
	}
}

const mt_dkim_tag *mt_dkim_taglist_get(const mt_dkim_taglist *tl, const char *name)
{
	size_t n = strlen(name);

	for (size_t k = 0; k < tl->count; k++)
		if (tl->tags[k].name_len == n && memcmp(tl->tags[k].name, name, n) == 0)
			return &tl->tags[k];
	return NULL;
}

/* ---- base64 ------------------------------------------------------------ */

/* Sextet value + 1 of each base64 letter; 0 for every other octet. */
static const uint8_t b64_tab[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
	['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23,
	['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44,
	['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51,
	['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58,
	['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static int b64_value(unsigned char c)
{
	return (int)b64_tab[c] - 1;
}

bool mt_dkim_base64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t acc = 0;
	size_t n = 0, o = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = u[i];
		if (n % 4 == 0 && !pad && len - i >= 4) {
			/* four letters in a row: three octets at once */
			unsigned a = b64_tab[c], b = b64_tab[u[i + 1]], d = b64_tab[u[i + 2]],
			         e = b64_tab[u[i + 3]];
			if (a && b && d && e) {
				uint32_t q = (a - 1) << 18 | (b - 1) << 12 | (d - 1) << 6 | (e - 1);
				out[o++] = (uint8_t)(q >> 16);
				out[o++] = (uint8_t)(q >> 8);
				out[o++] = (uint8_t)q;
				n += 4;
				i += 3;
				continue;
			}
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64_value(c);
		if (v < 0 || pad)
			return false;   /* not base64, or data after '=' */
		acc = (acc << 6) | (uint32_t)v;
		if (++n % 4 == 0) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	switch (n % 4) {
	case 0:
		if (pad)
			return false;
		break;
	case 1:
		return false;
	case 2:
		if (pad != 0 && pad != 2)
			return false;
		if (acc & 0xf)
			return false;   /* bits beyond the last octet */
		out[o++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		if (pad != 0 && pad != 1)
			return false;
		if (acc & 0x3)
			return false;
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
		break;
	}
	*out_len = o;
	return true;
}

/* ---- signature --------------------------------------------------------- */

#define TAGFMT(t) (int)(t)->name_len, (t)->name, (t)->name_off

static bool tag_is(const mt_dkim_tag *t, const char *v)
{
	size_t n = strlen(v);
	return t->value_len == n && memcmp(t->value, v, n) == 0;
}

static bool is_ldh(unsigned char c) { return mt_is_alnum(c) || c == '-'; }

/* sub-domain *("." sub-domain), RFC 5321 sub-domain = Let-dig [Ldh-str];
 * labels of 1..63 octets, 253 in all.  min_labels: 2 for d= and i=
 * (domain-name), 1 for s= (selector). */
static bool domain_ok(const char *s, size_t len, int min_labels)
{
	size_t label = 0;
	int labels = 1;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			labels++;
			continue;
		}
		if (!is_ldh(c) || (label == 0 && c == '-') || ++label > 63)
			return false;
	}
	return label > 0 && s[len - 1] != '-' && labels >= min_labels;
}

/* Decimal of 1..max_digits digits that fits 64 bits. */
static bool parse_u64(const char *s, size_t len, size_t max_digits, uint64_t *v, const char **why)
{
	uint64_t n = 0;

	if (len == 0 || len > max_digits) {
		*why = len ? "too many digits" : "empty";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!mt_is_digit((unsigned char)s[i])) {
			*why = "not a decimal number";
			return false;
		}
		unsigned d = (unsigned)(s[i] - '0');
		if (n > (UINT64_MAX - d) / 10) {
			*why = "larger than 2^64-1";
			return false;
		}
		n = n * 10 + d;
	}
	*v = n;
	return true;
}

static mt_dkim_str dup_str(mt_arena *a, const char *p, size_t len, bool *oom)
{
	mt_dkim_str r = { NULL, 0 };
	char *c = mt_arena_strndup(a, p, len);
	if (!c) {
		*oom = true;
		return r;
	}
	r.p = c;
	r.len = len;
	return r;
}

/* Split v on sep with FWS allowed around the separators; calls out for
 * each element; false when an element is empty. */
typedef bool (*elem_fn)(void *ctx, const char *p, size_t len);

static bool split_list(const char *v, size_t len, char sep, elem_fn fn, void *ctx)
{
	size_t i = 0;

	for (;;) {
		size_t st = i;
		while (i < len && v[i] != sep)
			i++;
		size_t a = st, b = i;
		while (a < b && (is_wsp(v[a]) || v[a] == '\r' || v[a] == '\n'))
			a++;
		while (b > a && (is_wsp(v[b - 1]) || v[b - 1] == '\r' || v[b - 1] == '\n'))
			b--;
		if (a == b || !fn(ctx, v + a, b - a))
			return false;
		if (i == len)
			return true;
		i++;
	}
}

struct hdr_ctx {
	mt_dkim_sig *sig;
	mt_dkim_str *arr;
	size_t max, n;
	bool oom, too_many, bad_name, from;
};

static bool hdr_elem(void *vctx, const char *p, size_t len)
{
	struct hdr_ctx *c = vctx;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch < 33 || ch > 126 || ch == ':') {
			c->bad_name = true;
			return false;
		}
	}
	if (c->n == c->max) {
		c->too_many = true;
		return false;
	}
	if (mt_strcaseeq(p, len, "from", 4))
		c->from = true;
	c->arr[c->n++] = dup_str(c->sig->arena, p, len, &c->oom);
	return !c->oom;
}

struct copied_ctx {
	mt_dkim_sig *sig;
	mt_dkim_str *arr;
	size_t n;
	bool oom, too_many;
};

static bool copied_elem(void *vctx, const char *p, size_t len)
{
	struct copied_ctx *c = vctx;

	if (c->n == MT_DKIM_SIG_COPIED_MAX) {
		c->too_many = true;
		return false;
	}
	c->arr[c->n++] = dup_str(c->sig->arena, p, len, &c->oom);
	return !c->oom;
}

struct q_ctx { bool dns_txt; };

static bool q_elem(void *vctx, const char *p, size_t len)
{
	struct q_ctx *c = vctx;
	if (mt_strcaseeq(p, len, "dns/txt", 7))
		c->dns_txt = true;
	return true;
}

static bool decode_b64_tag(mt_dkim_sig *sig, const mt_dkim_tag *t, uint8_t **out, size_t *out_len,
                           bool *oom)
{
	uint8_t *buf = mt_arena_alloc(sig->arena, t->value_len / 4 * 3 + 4);
	if (!buf) {
		*oom = true;
		return false;
	}
	if (!mt_dkim_base64_decode(t->value, t->value_len, buf, out_len))
		return false;
	*out = buf;
	return true;
}

void mt_dkim_sig_free(mt_dkim_sig *sig)
{
	if (!sig)
		return;
	mt_arena_free(sig->arena);
	free(sig);
}

static const char *const sig_required[] = { "v", "a", "b", "bh", "d", "h", "s" };

mt_status mt_dkim_sig_parse(const char *value, size_t len, mt_dkim_sig **out)
{
	mt_status st = MT_OK;
	mt_dkim_sig *sig = NULL;
	mt_dkim_taglist *tl = NULL;
	mt_dkim_perm *perm;
	const mt_dkim_tag *t;
	const char *why;
	bool oom = false;

	if (!out || (!value && len))
		return MT_EINVAL;
	*out = NULL;
	sig = calloc(1, sizeof(*sig));
	tl = malloc(sizeof(*tl));
	if (!sig || !tl || !(sig->arena = mt_arena_new(4096))) {
		st = MT_ENOMEM;
		goto out;
	}
	perm = &sig->perm;
	sig->canon_header = sig->canon_body = MT_DKIM_CANON_SIMPLE;
	if (!mt_dkim_taglist_parse(value ? value : "", len, tl, perm))
		goto done;

	for (size_t k = 0; k < sizeof(sig_required) / sizeof(sig_required[0]); k++) {
		if (!mt_dkim_taglist_get(tl, sig_required[k])) {
			mt_dkim_perm_set(perm, len, sig_required[k], strlen(sig_required[k]),
			                 "required tag \"%s\" is missing", sig_required[k]);
			goto done;
		}
	}

	t = mt_dkim_taglist_get(tl, "v");
	if (!tag_is(t, "1")) {
		mt_dkim_perm_set(perm, t->name_off, "v", 1,
		                 "tag \"v\" at offset %zu: version must be 1", t->name_off);
		goto done;
	}

	t = mt_dkim_taglist_get(tl, "a");
	if (tag_is(t, "rsa-sha256")) {
		sig->key_type = MT_DKIM_KEY_RSA;
		sig->hash = MT_DKIM_HASH_SHA256;
		sig->alg_acceptable = true;
	} else if (tag_is(t, "ed25519-sha256")) {
		sig->key_type = MT_DKIM_KEY_ED25519;
		sig->hash = MT_DKIM_HASH_SHA256;
		sig->alg_acceptable = true;
	} else if (tag_is(t, "rsa-sha1")) {
		sig->key_type = MT_DKIM_KEY_RSA;
		sig->hash = MT_DKIM_HASH_SHA1;
		sig->alg_acceptable = false;   /* RFC 8301 3.1: MUST NOT be used */
	} else {
		mt_dkim_perm_set(perm, t->name_off, "a", 1,
		                 "tag \"a\" at offset %zu: unknown algorithm (rsa-sha256, ed25519-sha256, rsa-sha1)",
		                 t->name_off);
		goto done;
	}

	if ((t = mt_dkim_taglist_get(tl, "c"))) {
		const char *v = t->value, *slash = memchr(v, '/', t->value_len);
		size_t hl = slash ? (size_t)(slash - v) : t->value_len;
		int ok = 0;
		if (mt_strcaseeq(v, hl, "simple", 6)) { sig->canon_header = MT_DKIM_CANON_SIMPLE; ok = 1; }
		else if (mt_strcaseeq(v, hl, "relaxed", 7)) { sig->canon_header = MT_DKIM_CANON_RELAXED; ok = 1; }
		if (ok && slash) {
			const char *b = slash + 1;
			size_t bl = t->value_len - hl - 1;
			if (mt_strcaseeq(b, bl, "simple", 6)) sig->canon_body = MT_DKIM_CANON_SIMPLE;
			else if (mt_strcaseeq(b, bl, "relaxed", 7)) sig->canon_body = MT_DKIM_CANON_RELAXED;
			else ok = 0;
		}
		if (!ok) {
			mt_dkim_perm_set(perm, t->name_off, "c", 1,
			                 "tag \"c\" at offset %zu: canonicalization must be simple or relaxed, "
			                 "optionally /simple or /relaxed", t->name_off);
			goto done;
		}
	}

	t = mt_dkim_taglist_get(tl, "d");
	if (!domain_ok(t->value, t->value_len, 2)) {
		mt_dkim_perm_set(perm, t->name_off, "d", 1,
		                 "tag \"d\" at offset %zu: not a domain name of two or more labels", t->name_off);
		goto done;
	}
	sig->d = dup_str(sig->arena, t->value, t->value_len, &oom);

	t = mt_dkim_taglist_get(tl, "s");
	if (!domain_ok(t->value, t->value_len, 1)) {
		mt_dkim_perm_set(perm, t->name_off, "s", 1,
		                 "tag \"s\" at offset %zu: selector is not a dot-separated list of labels "
		                 "(letters, digits, '-')", t->name_off);
		goto done;
	}
	sig->s = dup_str(sig->arena, t->value, t->value_len, &oom);

	t = mt_dkim_taglist_get(tl, "h");
	{
		struct hdr_ctx hc = { sig, NULL, MT_DKIM_SIG_HEADERS_MAX, 0, false, false, false, false };
		hc.arr = mt_arena_alloc(sig->arena, MT_DKIM_SIG_HEADERS_MAX * sizeof(mt_dkim_str));
		if (!hc.arr) {
			oom = true;
			goto done;
		}
		bool ok = split_list(t->value, t->value_len, ':', hdr_elem, &hc);
		if (hc.oom) {
			oom = true;
			goto done;
		}
		if (!ok || !hc.from) {
			mt_dkim_perm_set(perm, t->name_off, "h", 1, "tag \"h\" at offset %zu: %s", t->name_off,
			                 hc.too_many ? "more than 256 header field names" :
			                 hc.bad_name || !ok ? "empty or invalid header field name" :
			                 "From is not signed (RFC 6376 5.4: it must be)");
			goto done;
		}
		sig->headers = hc.arr;
		sig->header_count = hc.n;
	}

	if ((t = mt_dkim_taglist_get(tl, "i"))) {
		const char *at = NULL;
		for (size_t k = 0; k < t->value_len; k++)
			if (t->value[k] == '@')
				at = t->value + k;
		if (!at) {
			mt_dkim_perm_set(perm, t->name_off, "i", 1,
			                 "tag \"i\" at offset %zu: no '@' in the identity", t->name_off);
			goto done;
		}
		size_t dl = t->value_len - (size_t)(at + 1 - t->value);
		const char *dom = at + 1;
		if (!domain_ok(dom, dl, 2)) {
			mt_dkim_perm_set(perm, t->name_off, "i", 1,
			                 "tag \"i\" at offset %zu: the part after '@' is not a domain name", t->name_off);
			goto done;
		}
		bool under = mt_strcaseeq(dom, dl, sig->d.p, sig->d.len) ||
		             (dl > sig->d.len && dom[dl - sig->d.len - 1] == '.' &&
		              mt_strcaseeq(dom + dl - sig->d.len, sig->d.len, sig->d.p, sig->d.len));
		if (!under) {
			mt_dkim_perm_set(perm, t->name_off, "i", 1,
			                 "tag \"i\" at offset %zu: domain \"%.*s\" is neither d= (%s) nor a subdomain of it",
			                 t->name_off, (int)(dl > 64 ? 64 : dl), dom, sig->d.p);
			goto done;
		}
		sig->i_given = true;
		sig->i = dup_str(sig->arena, t->value, t->value_len, &oom);
		if (!oom) {
			sig->i_domain.p = sig->i.p + (at + 1 - t->value);
			sig->i_domain.len = dl;
		}
	} else {
		char *c = mt_arena_alloc(sig->arena, sig->d.len + 2);
		if (!c || !sig->d.p) {
			oom = true;
			goto done;
		}
		c[0] = '@';
		memcpy(c + 1, sig->d.p, sig->d.len + 1);
		sig->i.p = c;
		sig->i.len = sig->d.len + 1;
		sig->i_domain.p = c + 1;
		sig->i_domain.len = sig->d.len;
	}

	if ((t = mt_dkim_taglist_get(tl, "l"))) {
		if (!parse_u64(t->value, t->value_len, 76, &sig->l, &why)) {
			mt_dkim_perm_set(perm, t->name_off, "l", 1,
			                 "tag \"l\" at offset %zu: body length %s", t->name_off, why);
			goto done;
		}
		sig->has_l = true;
	}

	if ((t = mt_dkim_taglist_get(tl, "q"))) {
		struct q_ctx qc = { false };
		if (!split_list(t->value, t->value_len, ':', q_elem, &qc) || !qc.dns_txt) {
			mt_dkim_perm_set(perm, t->name_off, "q", 1,
			                 "tag \"q\" at offset %zu: no supported query method (only dns/txt)",
			                 t->name_off);
			goto done;
		}
	}

	if ((t = mt_dkim_taglist_get(tl, "t"))) {
		if (!parse_u64(t->value, t->value_len, 20, &sig->t, &why)) {
			mt_dkim_perm_set(perm, t->name_off, "t", 1,
			                 "tag \"t\" at offset %zu: timestamp %s", t->name_off, why);
			goto done;
		}
		sig->has_t = true;
	}
	if ((t = mt_dkim_taglist_get(tl, "x"))) {
		if (!parse_u64(t->value, t->value_len, 20, &sig->x, &why)) {
			mt_dkim_perm_set(perm, t->name_off, "x", 1,
			                 "tag \"x\" at offset %zu: expiration %s", t->name_off, why);
			goto done;
		}
		sig->has_x = true;
		if (sig->has_t && sig->x <= sig->t) {
			mt_dkim_perm_set(perm, t->name_off, "x", 1,
			                 "tag \"x\" at offset %zu: expiration is not after the timestamp t=",
			                 t->name_off);
			goto done;
		}
	}

	if ((t = mt_dkim_taglist_get(tl, "z"))) {
		struct copied_ctx cc = { sig, NULL, 0, false, false };
		cc.arr = mt_arena_alloc(sig->arena, MT_DKIM_SIG_COPIED_MAX * sizeof(mt_dkim_str));
		if (!cc.arr) {
			oom = true;
			goto done;
		}
		bool ok = split_list(t->value, t->value_len, '|', copied_elem, &cc);
		if (cc.oom) {
			oom = true;
			goto done;
		}
		if (!ok) {
			mt_dkim_perm_set(perm, t->name_off, "z", 1, "tag \"z\" at offset %zu: %s", t->name_off,
			                 cc.too_many ? "more than 256 copied header fields" : "empty copied header field");
			goto done;
		}
		sig->copied = cc.arr;
		sig->copied_count = cc.n;
	}

	t = mt_dkim_taglist_get(tl, "bh");
	if (!decode_b64_tag(sig, t, &sig->bh, &sig->bh_len, &oom)) {
		if (!oom)
			mt_dkim_perm_set(perm, t->name_off, "bh", 2,
			                 "tag \"bh\" at offset %zu: body hash is not valid base64", t->name_off);
		goto done;
	}
	if (sig->bh_len != mt_dkim_hash_size(sig->hash)) {
		mt_dkim_perm_set(perm, t->name_off, "bh", 2,
		                 "tag \"bh\" at offset %zu: body hash is %zu octets, %s gives %zu", t->name_off,
		                 sig->bh_len, sig->hash == MT_DKIM_HASH_SHA1 ? "SHA-1" : "SHA-256",
		                 mt_dkim_hash_size(sig->hash));
		goto done;
	}

	t = mt_dkim_taglist_get(tl, "b");
	sig->b_raw_off = t->raw_off;
	sig->b_raw_len = t->raw_len;
	if (!decode_b64_tag(sig, t, &sig->b, &sig->b_len, &oom)) {
		if (!oom)
			mt_dkim_perm_set(perm, t->name_off, "b", 1,
			                 "tag \"b\" at offset %zu: signature is not valid base64", t->name_off);
		goto done;
	}
	if (sig->b_len == 0) {
		mt_dkim_perm_set(perm, t->name_off, "b", 1, "tag \"b\" at offset %zu: signature is empty",
		                 t->name_off);
		goto done;
	}

done:
	if (oom) {
		st = MT_ENOMEM;
		goto out;
	}
	*out = sig;
	sig = NULL;
out:
	free(tl);
	mt_dkim_sig_free(sig);
	return st;
}
