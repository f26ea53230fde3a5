/* The RFC 1035 section 5 master-file reader, plus $FAULT for tests. */
#include "dns/dns_internal.h"
#include "dns/dns_wire.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZONE_TEXT_MAX ((size_t)64 << 20) /* per file, and all includes together */
#define INCLUDE_DEPTH_MAX 8
#define ENTRY_TEXT_MAX ((size_t)256 << 10) /* decoded octets of one entry */
#define ENTRY_TOKENS_MAX 65536
#define PATH_MAX_LEN 4096
#define TTL_MAX 2147483647u /* RFC 2181 section 8 */
#define TTL_DEFAULT 3600u

struct tok {
	size_t off, len;   /* in entry.text */
	unsigned line;
	bool quoted;
	bool escdot;       /* an escape produced '.': unusable in a name */
	bool generic;      /* the unquoted word \# (RFC 3597 generic RDATA) */
};

struct entry {
	mt_buf text;
	struct tok *toks;
	size_t n, cap;
	bool blank_start;  /* the line began with a blank: owner inherited */
	unsigned line;
};

struct lexer {
	const char *p;
	size_t len, pos;
	unsigned line;
	const char *file;
};

struct loader {
	mt_dns_zone *zone;
	mt_error *err;
	size_t total;      /* octets read from files so far */
	bool files;        /* $INCLUDE allowed */
};

/* Per-file state. */
struct state {
	struct loader *L;
	const char *file;
	int depth;
	char origin[MT_DNS_NAME_MAX + 1];
	char owner[MT_DNS_NAME_MAX + 1];
	bool have_owner;
	uint32_t ttl;      /* for records without one */
	bool dollar_ttl;   /* ttl comes from $TTL */
};

static mt_status fail(mt_error *err, mt_status st, const char *file, unsigned line,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static mt_status fail(mt_error *err, mt_status st, const char *file, unsigned line,
                      const char *fmt, ...)
{
	char msg[224];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return mt_error_set(err, st, "%s:%u: %s", file, line, msg);
}

/* A printable excerpt of a token for messages. */
static const char *show(const struct entry *e, const struct tok *t, char *out, size_t cap)
{
	size_t n = 0;
	const char *s = e->text.data + t->off;
	for (size_t i = 0; i < t->len && n + 4 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n < t->len && n + 4 <= cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static const char *tokp(const struct entry *e, const struct tok *t)
{
	return e->text.data + t->off;
}

static bool tok_is(const struct entry *e, const struct tok *t, const char *word)
{
	return !t->quoted && mt_strcaseeq(tokp(e, t), t->len, word, strlen(word));
}

/* ---- lexer ---- */

static mt_status add_token(struct entry *e, struct lexer *lx, mt_error *err, size_t off,
                           unsigned line, bool quoted, bool escdot, bool generic)
{
	if (e->text.err)
		return fail(err, e->text.err == MT_ENOMEM ? MT_ENOMEM : MT_ESYNTAX, lx->file, line,
		            e->text.err == MT_ENOMEM ? "out of memory" : "record too long");
	if (e->n == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 16;
		struct tok *t;
		if (e->n >= ENTRY_TOKENS_MAX)
			return fail(err, MT_ESYNTAX, lx->file, line, "too many fields in one record");
		t = realloc(e->toks, ncap * sizeof *t);
		if (!t)
			return fail(err, MT_ENOMEM, lx->file, line, "out of memory");
		e->toks = t;
		e->cap = ncap;
	}
	/* The buffer exists even for an empty token. */
	mt_buf_append(&e->text, "", 0);
	if (e->text.err)
		return fail(err, MT_ENOMEM, lx->file, line, "out of memory");
	e->toks[e->n++] = (struct tok){.off = off, .len = e->text.len - off, .line = line,
	                               .quoted = quoted, .escdot = escdot, .generic = generic};
	return MT_OK;
}

/* Decode the escape at lx->pos (a backslash) into the entry's text. */
static mt_status lex_escape(struct lexer *lx, struct entry *e, mt_error *err, bool *escdot)
{
	const char *p = lx->p;
	size_t pos = lx->pos + 1;
	char c;
	if (pos >= lx->len)
		return fail(err, MT_ESYNTAX, lx->file, lx->line, "backslash at end of input");
	if (mt_is_digit((unsigned char)p[pos])) {
		unsigned v = 0;
		for (size_t i = 0; i < 3; i++) {
			if (pos + i >= lx->len || !mt_is_digit((unsigned char)p[pos + i]))
				return fail(err, MT_ESYNTAX, lx->file, lx->line,
				            "bad escape: \\DDD needs three decimal digits");
			v = v * 10 + (unsigned)(p[pos + i] - '0');
		}
		if (v > 255)
			return fail(err, MT_ESYNTAX, lx->file, lx->line, "bad escape: \\%c%c%c is above 255",
			            p[pos], p[pos + 1], p[pos + 2]);
		c = (char)v;
		lx->pos = pos + 3;
	} else {
		c = p[pos];
		if (c == '\n')
			lx->line++;
		lx->pos = pos + 1;
	}
	if (c == '.')
		*escdot = true;
	mt_buf_putc(&e->text, c);
	return MT_OK;
}

static mt_status lex_quoted(struct lexer *lx, struct entry *e, mt_error *err)
{
	size_t off = e->text.len;
	unsigned line = lx->line;
	bool escdot = false;
	mt_status st;
	lx->pos++; /* the opening quote */
	for (;;) {
		if (lx->pos >= lx->len)
			return fail(err, MT_ESYNTAX, lx->file, line, "unterminated quoted string");
		char c = lx->p[lx->pos];
		if (c == '"') {
			lx->pos++;
			break;
		}
		if (c == '\n')
			return fail(err, MT_ESYNTAX, lx->file, line, "newline in quoted string");
		if (c == '\\') {
			st = lex_escape(lx, e, err, &escdot);
			if (st != MT_OK)
				return st;
			continue;
		}
		mt_buf_putc(&e->text, c);
		lx->pos++;
	}
	return add_token(e, lx, err, off, line, true, escdot, false);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_delim(char c)
{
	return is_blank(c) || c == '\n' || c == ';' || c == '(' || c == ')' || c == '"';
}

static mt_status lex_word(struct lexer *lx, struct entry *e, mt_error *err)
{
	size_t off = e->text.len, start = lx->pos;
	unsigned line = lx->line;
	bool escdot = false;
	mt_status st;
	while (lx->pos < lx->len) {
		char c = lx->p[lx->pos];
		if (is_delim(c))
			break;
		if (c == '\\') {
			st = lex_escape(lx, e, err, &escdot);
			if (st != MT_OK)
				return st;
			continue;
		}
		mt_buf_putc(&e->text, c);
		lx->pos++;
	}
	return add_token(e, lx, err, off, line, false, escdot,
	                 lx->pos - start == 2 && lx->p[start] == '\\' && lx->p[start + 1] == '#');
}

/*
 * Read the next entry (one line, or several joined by parentheses) into e.
 * Returns MT_OK with e->n == 0 at the end of the input.
 */
static mt_status lex_entry(struct lexer *lx, struct entry *e, mt_error *err)
{
	mt_status st;
	e->n = 0;
	e->text.len = 0;
	e->text.err = MT_OK;
	while (lx->pos < lx->len) {
		bool paren = false;
		unsigned paren_line = 0;
		e->blank_start = is_blank(lx->p[lx->pos]) && lx->p[lx->pos] != '\r';
		e->line = lx->line;
		while (lx->pos < lx->len) {
			char c = lx->p[lx->pos];
			if (c == '\n') {
				lx->line++;
				lx->pos++;
				if (!paren)
					break;
			} else if (is_blank(c)) {
				lx->pos++;
			} else if (c == ';') {
				const char *nl = memchr(lx->p + lx->pos, '\n', lx->len - lx->pos);
				lx->pos = nl ? (size_t)(nl - lx->p) : lx->len;
			} else if (c == '(') {
				if (paren)
					return fail(err, MT_ESYNTAX, lx->file, lx->line, "nested '('");
				paren = true;
				paren_line = lx->line;
				lx->pos++;
			} else if (c == ')') {
				if (!paren)
					return fail(err, MT_ESYNTAX, lx->file, lx->line, "')' without '('");
				paren = false;
				lx->pos++;
			} else {
				st = c == '"' ? lex_quoted(lx, e, err) : lex_word(lx, e, err);
				if (st != MT_OK)
					return st;
			}
		}
		if (paren)
			return fail(err, MT_ESYNTAX, lx->file, paren_line, "'(' without ')'");
		if (e->n > 0)
			return MT_OK;
	}
	return MT_OK;
}

/* ---- fields ---- */

/* Decimal number of at most max. */
static bool parse_uint(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!mt_is_digit((unsigned char)s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Seconds, or a sum of <number><unit> with units s m h d w (BIND style). */
static bool parse_ttl(const char *s, size_t len, uint32_t *out)
{
	uint64_t total = 0, v = 0;
	bool digits = false;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = mt_lower(s[i]);
		uint64_t mul;
		if (mt_is_digit((unsigned char)c)) {
			v = v * 10 + (uint64_t)(c - '0');
			if (v > TTL_MAX)
				return false;
			digits = true;
			continue;
		}
		switch (c) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: return false;
		}
		if (!digits)
			return false;
		total += v * mul;
		if (total > TTL_MAX)
			return false;
		v = 0;
		digits = false;
	}
	total += v;
	if (total > TTL_MAX)
		return false;
	*out = (uint32_t)total;
	return true;
}

/* A name field: "@", absolute (trailing dot) or relative to the origin.
 * out holds MT_DNS_NAME_MAX + 1 octets. */
static mt_status field_name(struct state *S, const struct entry *e, const struct tok *t,
                            const char *what, char *out, size_t *outlen)
{
	const char *s = tokp(e, t);
	char buf[2 * MT_DNS_NAME_MAX + 4], sh[72];
	size_t len = 0, n;
	if (t->escdot)
		return fail(S->L->err, MT_ESYNTAX, S->file, t->line,
		            "escaped dot in %s '%s' is not supported", what, show(e, t, sh, sizeof sh));
	if (!t->quoted && t->len == 1 && s[0] == '@') {
		n = strlen(S->origin);
		memcpy(out, S->origin, n + 1);
		*outlen = n;
		return MT_OK;
	}
	if (t->len > MT_DNS_NAME_MAX + 1)
		goto bad;
	memcpy(buf, s, t->len);
	len = t->len;
	if ((len == 0 || s[len - 1] != '.') && S->origin[0]) {
		buf[len++] = '.';
		n = strlen(S->origin);
		memcpy(buf + len, S->origin, n);
		len += n;
	}
	if (!mt_dns_name_check(buf, len, &n))
		goto bad;
	memcpy(out, buf, n);
	out[n] = '\0';
	*outlen = n;
	return MT_OK;
bad:
	return fail(S->L->err, MT_ESYNTAX, S->file, t->line, "bad %s '%s'", what,
	            show(e, t, sh, sizeof sh));
}

static mt_status add_status(struct state *S, mt_status st, unsigned line)
{
	switch (st) {
	case MT_OK:
		return MT_OK;
	case MT_ENOMEM:
		return fail(S->L->err, st, S->file, line, "out of memory");
	case MT_ERANGE: {
		size_t limit;
		switch (mt_dns_zone_limit_hit(S->L->zone, &limit)) {
		case MT_DNS_ZONE_LIMIT_RECORDS:
			return fail(S->L->err, st, S->file, line, "zone exceeds %zu records (its limit)",
			            limit);
		case MT_DNS_ZONE_LIMIT_BYTES:
			if (limit % ((size_t)1 << 20) == 0)
				return fail(S->L->err, st, S->file, line,
				            "zone exceeds %zu MiB of memory (its limit)", limit >> 20);
			return fail(S->L->err, st, S->file, line,
			            "zone exceeds %zu octets of memory (its limit)", limit);
		case MT_DNS_ZONE_LIMIT_NAME:
			return fail(S->L->err, st, S->file, line, "more than %u records for one name",
			            MT_DNS_RR_MAX);
		default:
			return fail(S->L->err, st, S->file, line, "record data longer than %u octets",
			            MT_DNS_RDATA_MAX);
		}
	}
	default:
		return fail(S->L->err, MT_ESYNTAX, S->file, line, "invalid record");
	}
}

/* ---- directives ---- */

static mt_status load_text(struct loader *L, const char *text, size_t len, const char *file,
                           const char *origin, int depth, uint32_t ttl, bool dollar_ttl);

/* Reads a whole file (bounded by what is left of the total budget). */
static mt_status read_file(struct loader *L, const char *path, char **out, size_t *outlen,
                           char *why, size_t whycap)
{
	size_t cap = 0, len = 0, budget = ZONE_TEXT_MAX - L->total;
	char *buf = NULL;
	mt_status st = MT_OK;
	FILE *f = fopen(path, "rb");
	*out = NULL;
	if (!f) {
		if (strerror_r(errno, why, whycap) != 0)
			snprintf(why, whycap, "cannot open");
		return MT_EIO;
	}
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			if (ncap > budget + 1)
				ncap = budget + 1;
			if (ncap <= len) {
				snprintf(why, whycap, "zone text larger than 64 MiB");
				st = MT_ERANGE;
				goto out;
			}
			char *nb = realloc(buf, ncap);
			if (!nb) {
				snprintf(why, whycap, "out of memory");
				st = MT_ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				if (strerror_r(errno, why, whycap) != 0)
					snprintf(why, whycap, "read error");
				st = MT_EIO;
				goto out;
			}
			break;
		}
	}
	if (len > budget) {
		snprintf(why, whycap, "zone text larger than 64 MiB");
		st = MT_ERANGE;
		goto out;
	}
	L->total += len;
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return st;
}

static mt_status do_include(struct state *S, const struct entry *e)
{
	const struct tok *t = &e->toks[1];
	char path[PATH_MAX_LEN + 1], origin[MT_DNS_NAME_MAX + 1], why[160];
	const char *slash = strrchr(S->file, '/');
	size_t dirlen = slash ? (size_t)(slash - S->file) + 1 : 0, olen;
	char *text = NULL;
	size_t len = 0;
	mt_status st;

	if (!S->L->files)
		return fail(S->L->err, MT_ESYNTAX, S->file, e->line,
		            "$INCLUDE is only allowed in zone files");
	if (e->n < 2 || e->n > 3)
		return fail(S->L->err, MT_ESYNTAX, S->file, e->line,
		            "$INCLUDE needs a file name and an optional origin");
	if (S->depth >= INCLUDE_DEPTH_MAX)
		return fail(S->L->err, MT_ESYNTAX, S->file, e->line,
		            "$INCLUDE nested deeper than %d", INCLUDE_DEPTH_MAX);
	if (t->len == 0 || memchr(tokp(e, t), '\0', t->len))
		return fail(S->L->err, MT_ESYNTAX, S->file, t->line, "bad file name");
	if (tokp(e, t)[0] == '/')
		dirlen = 0;
	if (dirlen + t->len > PATH_MAX_LEN)
		return fail(S->L->err, MT_ESYNTAX, S->file, t->line, "file name too long");
	memcpy(path, S->file, dirlen);
	memcpy(path + dirlen, tokp(e, t), t->len);
	path[dirlen + t->len] = '\0';
	if (e->n == 3) {
		st = field_name(S, e, &e->toks[2], "origin", origin, &olen);
		if (st != MT_OK)
			return st;
	} else {
		memcpy(origin, S->origin, sizeof origin);
	}
	st = read_file(S->L, path, &text, &len, why, sizeof why);
	if (st != MT_OK)
		return fail(S->L->err, st, S->file, e->line, "%s: %s", path, why);
	st = load_text(S->L, text, len, path, origin, S->depth + 1, S->ttl, S->dollar_ttl);
	free(text);
	return st;
}

static mt_status do_fault(struct state *S, const struct entry *e)
{
	static const struct {
		const char *name;
		mt_dns_rcode rcode;
	} rcodes[] = {
		{"TIMEOUT", MT_DNS_TIMEOUT},   {"SERVFAIL", MT_DNS_SERVFAIL},
		{"REFUSED", MT_DNS_REFUSED},   {"NXDOMAIN", MT_DNS_NXDOMAIN},
	};
	char name[MT_DNS_NAME_MAX + 1], sh[72];
	size_t nlen;
	uint16_t type = 0;
	mt_dns_rcode rcode = MT_DNS_NOERROR;
	mt_status st;

	if (e->n < 3 || e->n > 4)
		return fail(S->L->err, MT_ESYNTAX, S->file, e->line,
		            "$FAULT needs an owner, TIMEOUT|SERVFAIL|REFUSED|NXDOMAIN and an optional type");
	st = field_name(S, e, &e->toks[1], "owner name", name, &nlen);
	if (st != MT_OK)
		return st;
	for (size_t i = 0; i < sizeof rcodes / sizeof rcodes[0]; i++)
		if (tok_is(e, &e->toks[2], rcodes[i].name))
			rcode = rcodes[i].rcode;
	if (rcode == MT_DNS_NOERROR)
		return fail(S->L->err, MT_ESYNTAX, S->file, e->toks[2].line, "unknown fault '%s'",
		            show(e, &e->toks[2], sh, sizeof sh));
	if (e->n == 4) {
		type = mt_dns_type_from_name(tokp(e, &e->toks[3]), e->toks[3].len);
		if (type == 0)
			return fail(S->L->err, MT_ESYNTAX, S->file, e->toks[3].line,
			            "unknown record type %s", show(e, &e->toks[3], sh, sizeof sh));
	}
	return add_status(S, mt_dns_zone_add_fault(S->L->zone, name, type, rcode), e->line);
}

static mt_status do_directive(struct state *S, const struct entry *e)
{
	const struct tok *t = &e->toks[0];
	char sh[72];
	size_t len;
	mt_status st;

	if (tok_is(e, t, "$ORIGIN")) {
		char origin[MT_DNS_NAME_MAX + 1];
		if (e->n != 2)
			return fail(S->L->err, MT_ESYNTAX, S->file, e->line, "$ORIGIN needs one name");
		st = field_name(S, e, &e->toks[1], "origin", origin, &len);
		if (st == MT_OK)
			memcpy(S->origin, origin, len + 1);
		return st;
	}
	if (tok_is(e, t, "$TTL")) {
		if (e->n != 2)
			return fail(S->L->err, MT_ESYNTAX, S->file, e->line, "$TTL needs one value");
		if (!parse_ttl(tokp(e, &e->toks[1]), e->toks[1].len, &S->ttl))
			return fail(S->L->err, MT_ESYNTAX, S->file, e->toks[1].line, "bad TTL '%s'",
			            show(e, &e->toks[1], sh, sizeof sh));
		S->dollar_ttl = true;
		return MT_OK;
	}
	if (tok_is(e, t, "$INCLUDE"))
		return do_include(S, e);
	if (tok_is(e, t, "$FAULT"))
		return do_fault(S, e);
	return fail(S->L->err, MT_ESYNTAX, S->file, e->line, "unknown directive %s",
	            show(e, t, sh, sizeof sh));
}

/* ---- records ---- */

static mt_status need_fields(struct state *S, const struct entry *e, size_t have, size_t want,
                             uint16_t type)
{
	if (have == want)
		return MT_OK;
	return fail(S->L->err, MT_ESYNTAX, S->file, e->line, "%s record needs %zu field%s, not %zu",
	            mt_dns_type_name(type), want, want == 1 ? "" : "s", have);
}

static mt_status rdata_txt(struct state *S, const struct entry *e, size_t i, const char *owner,
                           uint16_t type, uint32_t ttl)
{
	mt_buf b;
	mt_status st = MT_OK;
	if (i >= e->n)
		return fail(S->L->err, MT_ESYNTAX, S->file, e->line, "%s record needs a string",
		            mt_dns_type_name(type));
	mt_buf_init(&b, MT_DNS_RDATA_MAX);
	for (; i < e->n; i++) {
		const struct tok *t = &e->toks[i];
		if (t->len > 255) {
			st = fail(S->L->err, MT_ESYNTAX, S->file, t->line,
			          "string longer than 255 octets (%zu)", t->len);
			goto out;
		}
		mt_buf_putc(&b, (char)t->len);
		mt_buf_append(&b, tokp(e, t), t->len);
	}
	if (b.err) {
		st = b.err == MT_ENOMEM
		         ? fail(S->L->err, MT_ENOMEM, S->file, e->line, "out of memory")
		         : fail(S->L->err, MT_ESYNTAX, S->file, e->line,
		                "record data longer than 65535 octets");
		goto out;
	}
	st = add_status(S, mt_dns_zone_add(S->L->zone, owner, type, ttl, 0, b.data, b.len),
	                e->line);
out:
	mt_buf_free(&b);
	return st;
}

static int hexval(char c)
{
	if (mt_is_digit((unsigned char)c))
		return c - '0';
	c = mt_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 3597 section 5: \# <length> <hex octets, in any number of words>. */
static mt_status rdata_generic(struct state *S, const struct entry *e, size_t i,
                               const char *owner, uint16_t type, uint32_t ttl)
{
	uint8_t *raw = NULL;
	char name[MT_DNS_WIRE_NAME_BUF], sh[72];
	const uint8_t *data;
	size_t n = 0, dlen;
	uint32_t len;
	uint16_t pref;
	mt_status st = MT_OK;
	int hi = -1;

	if (i + 1 >= e->n || !parse_uint(tokp(e, &e->toks[i + 1]), e->toks[i + 1].len, 65535, &len))
		return fail(S->L->err, MT_ESYNTAX, S->file, e->line, "\\# needs the RDATA length");
	raw = malloc(len ? len : 1);
	if (!raw)
		return fail(S->L->err, MT_ENOMEM, S->file, e->line, "out of memory");
	for (size_t k = i + 2; k < e->n; k++) {
		const char *h = tokp(e, &e->toks[k]);
		for (size_t j = 0; j < e->toks[k].len; j++) {
			int v = hexval(h[j]);
			if (v < 0 || e->toks[k].quoted) {
				st = fail(S->L->err, MT_ESYNTAX, S->file, e->toks[k].line,
				          "bad hex RDATA '%s'", show(e, &e->toks[k], sh, sizeof sh));
				goto out;
			}
			if (hi < 0) {
				hi = v;
				continue;
			}
			if (n == len) {
				st = fail(S->L->err, MT_ESYNTAX, S->file, e->toks[k].line,
				          "more RDATA than the length %u", (unsigned)len);
				goto out;
			}
			raw[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0 || n != len) {
		st = fail(S->L->err, MT_ESYNTAX, S->file, e->line, "RDATA is not %u octets of hex",
		          (unsigned)len);
		goto out;
	}
	if (type == MT_DNS_SOA)
		goto out;
	if (mt_dns_wire_rdata(type, raw, n, name, sizeof name, &pref, &data, &dlen) != MT_OK) {
		st = fail(S->L->err, MT_ESYNTAX, S->file, e->line, "RDATA is not a valid %s record",
		          mt_dns_type_name(type));
		goto out;
	}
	st = add_status(S, mt_dns_zone_add(S->L->zone, owner, type, ttl, pref, data, dlen), e->line);
out:
	free(raw);
	return st;
}

static mt_status do_record(struct state *S, const struct entry *e)
{
	char owner[MT_DNS_NAME_MAX + 1], target[MT_DNS_NAME_MAX + 1], sh[72];
	size_t i = 0, olen, tlen;
	uint32_t ttl = 0, v;
	bool have_ttl = false, have_class = false;
	uint16_t type;
	mt_status st;
	mt_ip ip;

	if (e->blank_start) {
		if (!S->have_owner)
			return fail(S->L->err, MT_ESYNTAX, S->file, e->line,
			            "no owner name: no previous record to inherit it from");
		memcpy(owner, S->owner, sizeof owner);
	} else {
		st = field_name(S, e, &e->toks[0], "owner name", owner, &olen);
		if (st != MT_OK)
			return st;
		memcpy(S->owner, owner, olen + 1);
		S->have_owner = true;
		i = 1;
	}
	/* [TTL] [class] or [class] [TTL] */
	for (int k = 0; k < 2 && i < e->n; k++) {
		const struct tok *t = &e->toks[i];
		const char *s = tokp(e, t);
		if (!have_class && (tok_is(e, t, "IN") || tok_is(e, t, "CLASS1"))) {
			have_class = true;
			i++;
		} else if (!have_class && (tok_is(e, t, "CH") || tok_is(e, t, "HS") ||
		                           tok_is(e, t, "CS") || tok_is(e, t, "ANY") ||
		                           (t->len > 5 && mt_strcaseeq(s, 5, "CLASS", 5)))) {
			return fail(S->L->err, MT_ESYNTAX, S->file, t->line,
			            "unsupported class %s (only IN)", show(e, t, sh, sizeof sh));
		} else if (!have_ttl && t->len > 0 && mt_is_digit((unsigned char)s[0])) {
			if (!parse_ttl(s, t->len, &ttl))
				return fail(S->L->err, MT_ESYNTAX, S->file, t->line, "bad TTL '%s'",
				            show(e, t, sh, sizeof sh));
			have_ttl = true;
			i++;
		} else {
			break;
		}
	}
	if (i >= e->n)
		return fail(S->L->err, MT_ESYNTAX, S->file, e->line, "missing record type");
	if (have_ttl) {
		if (!S->dollar_ttl)
			S->ttl = ttl; /* RFC 1035: the last stated TTL is the default */
	} else {
		ttl = S->ttl;
	}
	type = e->toks[i].quoted ? 0 : mt_dns_type_from_name(tokp(e, &e->toks[i]), e->toks[i].len);
	i++;
	if (type && mt_dns_type_name(type) && i < e->n && e->toks[i].generic)
		return rdata_generic(S, e, i, owner, type, ttl);
	switch (type) {
	case MT_DNS_A:
	case MT_DNS_AAAA:
		st = need_fields(S, e, e->n - i, 1, type);
		if (st != MT_OK)
			return st;
		if (!mt_ip_parse(tokp(e, &e->toks[i]), e->toks[i].len, &ip) ||
		    ip.family != (type == MT_DNS_A ? 4 : 6))
			return fail(S->L->err, MT_ESYNTAX, S->file, e->toks[i].line, "bad %s address '%s'",
			            type == MT_DNS_A ? "IPv4" : "IPv6", show(e, &e->toks[i], sh, sizeof sh));
		return add_status(S, mt_dns_zone_add(S->L->zone, owner, type, ttl, 0, ip.addr,
		                                     type == MT_DNS_A ? 4 : 16), e->line);
	case MT_DNS_MX:
		st = need_fields(S, e, e->n - i, 2, type);
		if (st != MT_OK)
			return st;
		if (!parse_uint(tokp(e, &e->toks[i]), e->toks[i].len, 65535, &v))
			return fail(S->L->err, MT_ESYNTAX, S->file, e->toks[i].line,
			            "bad MX preference '%s'", show(e, &e->toks[i], sh, sizeof sh));
		st = field_name(S, e, &e->toks[i + 1], "mail exchanger", target, &tlen);
		if (st != MT_OK)
			return st;
		return add_status(S, mt_dns_zone_add(S->L->zone, owner, type, ttl, (uint16_t)v, target,
		                                     tlen), e->line);
	case MT_DNS_NS:
	case MT_DNS_CNAME:
	case MT_DNS_PTR:
		st = need_fields(S, e, e->n - i, 1, type);
		if (st != MT_OK)
			return st;
		st = field_name(S, e, &e->toks[i], "target name", target, &tlen);
		if (st != MT_OK)
			return st;
		return add_status(S, mt_dns_zone_add(S->L->zone, owner, type, ttl, 0, target, tlen),
		                  e->line);
	case MT_DNS_TXT:
	case MT_DNS_SPF:
		return rdata_txt(S, e, i, owner, type, ttl);
	case MT_DNS_SOA:
		/* mname rname serial refresh retry expire minimum: checked, not kept */
		st = need_fields(S, e, e->n - i, 7, type);
		if (st != MT_OK)
			return st;
		st = field_name(S, e, &e->toks[i], "SOA name", target, &tlen);
		if (st == MT_OK)
			st = field_name(S, e, &e->toks[i + 1], "SOA mailbox", target, &tlen);
		if (st != MT_OK)
			return st;
		if (!parse_uint(tokp(e, &e->toks[i + 2]), e->toks[i + 2].len, UINT32_MAX, &v))
			return fail(S->L->err, MT_ESYNTAX, S->file, e->toks[i + 2].line,
			            "bad SOA serial '%s'", show(e, &e->toks[i + 2], sh, sizeof sh));
		for (size_t k = i + 3; k < i + 7; k++)
			if (!parse_ttl(tokp(e, &e->toks[k]), e->toks[k].len, &v))
				return fail(S->L->err, MT_ESYNTAX, S->file, e->toks[k].line,
				            "bad SOA time '%s'", show(e, &e->toks[k], sh, sizeof sh));
		return MT_OK;
	default:
		return fail(S->L->err, MT_ESYNTAX, S->file, e->toks[i - 1].line,
		            "unsupported record type %s", show(e, &e->toks[i - 1], sh, sizeof sh));
	}
}

static mt_status load_text(struct loader *L, const char *text, size_t len, const char *file,
                           const char *origin, int depth, uint32_t ttl, bool dollar_ttl)
{
	struct lexer lx = {.p = text, .len = len, .pos = 0, .line = 1, .file = file};
	struct entry e = {.n = 0};
	struct state S = {.L = L, .file = file, .depth = depth, .ttl = ttl,
	                  .dollar_ttl = dollar_ttl};
	mt_status st = MT_OK;

	memcpy(S.origin, origin, strlen(origin) + 1);
	/* A UTF-8 byte-order mark (what some editors write first) is not text. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		lx.pos = 3;
	mt_buf_init(&e.text, ENTRY_TEXT_MAX);
	for (;;) {
		st = lex_entry(&lx, &e, L->err);
		if (st != MT_OK || e.n == 0)
			break;
		if (!e.blank_start && !e.toks[0].quoted && e.toks[0].len > 0 &&
		    tokp(&e, &e.toks[0])[0] == '$')
			st = do_directive(&S, &e);
		else
			st = do_record(&S, &e);
		if (st != MT_OK)
			break;
	}
	mt_buf_free(&e.text);
	free(e.toks);
	return st;
}

/* The origin argument as a normalised name ("" for NULL: the root). */
static bool origin_arg(const char *origin, char *out)
{
	size_t n = 0;
	if (origin && !mt_dns_name_check(origin, strlen(origin), &n))
		return false;
	if (n)
		memcpy(out, origin, n);
	out[n] = '\0';
	return true;
}

mt_status mt_dns_zone_load_text(mt_dns_zone *zone, const char *text, size_t len,
                                const char *origin, const char *filename, mt_error *err)
{
	struct loader L = {.zone = zone, .err = err, .files = false};
	char org[MT_DNS_NAME_MAX + 1];
	const char *file = filename ? filename : "<string>";
	if (!zone || (!text && len))
		return mt_error_set(err, MT_EINVAL, "%s: invalid argument", file);
	if (!origin_arg(origin, org))
		return mt_error_set(err, MT_EINVAL, "%s: bad origin", file);
	if (len > ZONE_TEXT_MAX)
		return mt_error_set(err, MT_ERANGE, "%s: zone text larger than 64 MiB", file);
	return load_text(&L, text ? text : "", len, file, org, 0, TTL_DEFAULT, false);
}

mt_status mt_dns_zone_load_file(mt_dns_zone *zone, const char *path, const char *origin,
                                mt_error *err)
{
	struct loader L = {.zone = zone, .err = err, .files = true};
	char org[MT_DNS_NAME_MAX + 1], why[160];
	char *text = NULL;
	size_t len = 0;
	mt_status st;
	if (!zone || !path)
		return mt_error_set(err, MT_EINVAL, "invalid argument");
	if (!origin_arg(origin, org))
		return mt_error_set(err, MT_EINVAL, "%s: bad origin", path);
	st = read_file(&L, path, &text, &len, why, sizeof why);
	if (st != MT_OK)
		return mt_error_set(err, st, "%s: %s", path, why);
	st = load_text(&L, text, len, path, org, 0, TTL_DEFAULT, false);
	free(text);
	return st;
}
