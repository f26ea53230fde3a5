/* The Author Domain: the domain of the RFC5322.From field (draft section
 * 5.3.1).  A small RFC 5322 section 3.4 reader: the value is cut into
 * tokens (atoms, quoted strings, domain literals, specials), comments and
 * whitespace dropped, then read as a mailbox-list, with RFC 6854 groups.
 * Everything is bounded by the input: one pass to tokenize, one to parse,
 * comment nesting capped. */
#include <mailtrust/dmarc.h>
#include <mailtrust/msg.h>

#include <idn2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define COMMENT_DEPTH_MAX 32

typedef enum { T_ATOM, T_QSTR, T_DLIT, T_SPECIAL } tkind;

typedef struct tok {
	tkind kind;
	char c;          /* T_SPECIAL: the character */
	size_t off, len; /* in the value */
} tok;

static bool is_wsp(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* atext (RFC 5322 3.2.3) plus '.', so dot-atoms and obsolete local parts
 * are one token; octets >= 0x80 are UTF8-non-ascii (RFC 6532). */
static bool is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if (mt_is_alnum(c))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static void fail(mt_dmarc_from *out, mt_dmarc_from_status st, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(mt_dmarc_from *out, mt_dmarc_from_status st, size_t off, const char *fmt, ...)
{
	va_list ap;
	out->status = st;
	out->offset = off;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
}

/* Tokenize value[0..len) into toks (at most len entries).  false (out
 * filled) on an unterminated quoted string, comment or literal, on too
 * deep comments, or on a control character. */
static bool tokenize(const char *v, size_t len, tok *toks, size_t *ntok, mt_dmarc_from *out)
{
	size_t i = 0, n = 0;
	while (i < len) {
		unsigned char c = (unsigned char)v[i];
		if (is_wsp(c)) {
			i++;
		} else if (c == '(') {
			size_t start = i, depth = 0;
			do {
				if (v[i] == '\\' && i + 1 < len) {
					i += 2;
					continue;
				}
				if (v[i] == '(' && ++depth > COMMENT_DEPTH_MAX) {
					fail(out, MT_DMARC_FROM_SYNTAX, i, "comments nested deeper than %d",
					     COMMENT_DEPTH_MAX);
					return false;
				}
				if (v[i] == ')')
					depth--;
				i++;
			} while (depth > 0 && i < len);
			if (depth > 0) {
				fail(out, MT_DMARC_FROM_SYNTAX, start, "a comment that is not closed");
				return false;
			}
		} else if (c == '"') {
			size_t start = i++;
			while (i < len && v[i] != '"')
				i += (v[i] == '\\' && i + 1 < len) ? 2 : 1;
			if (i >= len) {
				fail(out, MT_DMARC_FROM_SYNTAX, start, "a quoted string that is not closed");
				return false;
			}
			i++;
			toks[n++] = (tok){ T_QSTR, 0, start, i - start };
		} else if (c == '[') {
			size_t start = i++;
			while (i < len && v[i] != ']' && v[i] != '[')
				i += (v[i] == '\\' && i + 1 < len) ? 2 : 1;
			if (i >= len || v[i] != ']') {
				fail(out, MT_DMARC_FROM_SYNTAX, start, "a domain literal that is not closed");
				return false;
			}
			i++;
			toks[n++] = (tok){ T_DLIT, 0, start, i - start };
		} else if (is_atext(c)) {
			size_t start = i;
			while (i < len && is_atext((unsigned char)v[i]))
				i++;
			toks[n++] = (tok){ T_ATOM, 0, start, i - start };
		} else if (c != '\0' && strchr(",:;@<>", c)) {
			toks[n++] = (tok){ T_SPECIAL, (char)c, i, 1 };
			i++;
		} else {
			fail(out, MT_DMARC_FROM_SYNTAX, i, "octet 0x%02x at offset %zu is not allowed here",
			     c, i);
			return false;
		}
	}
	*ntok = n;
	return true;
}

static bool is_special(const tok *t, size_t n, size_t i, char c)
{
	return i < n && t[i].kind == T_SPECIAL && t[i].c == c;
}

/* Check and normalise a domain (an atom's text) into dst: lowercase,
 * A-labels, no trailing dot.  false with out filled when it is not a DNS
 * name. */
static bool domain_norm(const char *d, size_t n, size_t off, char *dst, size_t cap,
                        mt_dmarc_from *out)
{
	char buf[1024];
	bool ascii = true;
	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof buf) {
		fail(out, MT_DMARC_FROM_BAD_DOMAIN, off, "the domain is empty or too long");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		ascii = ascii && (unsigned char)d[i] < 0x80;
	if (!ascii) {
		memcpy(buf, d, n);
		buf[n] = '\0';
		char *alabels = NULL;
		int rc = idn2_lookup_u8((const uint8_t *)buf, (uint8_t **)&alabels,
		                        IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			fail(out, MT_DMARC_FROM_BAD_DOMAIN, off,
			     "the internationalized domain does not convert to A-labels: %s",
			     idn2_strerror(rc));
			return false;
		}
		size_t an = strlen(alabels);
		if (an >= sizeof buf) {
			idn2_free(alabels);
			fail(out, MT_DMARC_FROM_BAD_DOMAIN, off, "the domain is too long");
			return false;
		}
		memcpy(buf, alabels, an + 1);
		idn2_free(alabels);
		d = buf;
		n = an;
	}
	if (n > 253) {
		fail(out, MT_DMARC_FROM_BAD_DOMAIN, off, "the domain is longer than 253 octets");
		return false;
	}
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			if (label == 0 || label > 63) {
				fail(out, MT_DMARC_FROM_BAD_DOMAIN, off,
				     label ? "a label of the domain is longer than 63 octets"
				           : "the domain has an empty label");
				return false;
			}
			label = 0;
			continue;
		}
		unsigned char c = (unsigned char)d[i];
		if (!mt_is_alnum(c) && c != '-' && c != '_') {
			fail(out, MT_DMARC_FROM_BAD_DOMAIN, off,
			     "'%c' is not allowed in a domain name", c >= 0x20 && c < 0x7f ? c : '?');
			return false;
		}
		label++;
	}
	if (n + 1 > cap)
		return false;
	for (size_t i = 0; i < n; i++)
		dst[i] = mt_lower(d[i]);
	dst[n] = '\0';
	return true;
}

static void note_domain(mt_dmarc_from *out, const char *d)
{
	for (size_t i = 0; i < out->ndomains && i < MT_DMARC_FROM_DOMAINS_MAX; i++)
		if (strcmp(out->domains[i], d) == 0)
			return;
	if (out->ndomains < MT_DMARC_FROM_DOMAINS_MAX)
		snprintf(out->domains[out->ndomains], sizeof out->domains[0], "%s", d);
	out->ndomains++;
}

/* addr-spec at t[*i]: local-part "@" domain, the local part being any
 * run of atoms and quoted strings.  Ends at the token after the domain. */
static bool addr_spec(const char *v, const tok *t, size_t n, size_t *i, mt_dmarc_from *out)
{
	size_t start = *i;
	while (*i < n && (t[*i].kind == T_ATOM || t[*i].kind == T_QSTR))
		(*i)++;
	if (*i == start) {
		fail(out, MT_DMARC_FROM_SYNTAX, start < n ? t[start].off : 0,
		     "a mailbox without a local part");
		return false;
	}
	if (!is_special(t, n, *i, '@')) {
		fail(out, MT_DMARC_FROM_SYNTAX, t[*i - 1].off,
		     "\"%.*s\" is not an address: no '@domain'",
		     (int)(t[*i - 1].len > 40 ? 40 : t[*i - 1].len), v + t[*i - 1].off);
		return false;
	}
	(*i)++;
	if (*i >= n || (t[*i].kind != T_ATOM && t[*i].kind != T_DLIT)) {
		fail(out, MT_DMARC_FROM_SYNTAX, *i < n ? t[*i].off : t[*i - 1].off,
		     "nothing that is a domain after '@'");
		return false;
	}
	const tok *d = &t[(*i)++];
	out->mailboxes++;
	if (d->kind == T_DLIT) {
		char lit[256];
		snprintf(lit, sizeof lit, "%.*s", (int)(d->len > 250 ? 250 : d->len), v + d->off);
		note_domain(out, lit);
		return true;
	}
	char dom[256];
	if (!domain_norm(v + d->off, d->len, d->off, dom, sizeof dom, out))
		return false;
	note_domain(out, dom);
	return true;
}

/* One mailbox: name-addr or addr-spec. */
static bool mailbox(const char *v, const tok *t, size_t n, size_t *i, mt_dmarc_from *out)
{
	/* a display name (phrase) runs up to '<'; an addr-spec has '@' after
	 * its first words */
	size_t j = *i;
	while (j < n && (t[j].kind == T_ATOM || t[j].kind == T_QSTR))
		j++;
	if (is_special(t, n, j, '<')) {
		*i = j + 1;
		/* obs-route: "@a,@b:" before the address */
		if (is_special(t, n, *i, '@')) {
			while (*i < n && !is_special(t, n, *i, ':') && !is_special(t, n, *i, '>'))
				(*i)++;
			if (!is_special(t, n, *i, ':')) {
				fail(out, MT_DMARC_FROM_SYNTAX, *i < n ? t[*i].off : 0,
				     "a route in an angle address without ':'");
				return false;
			}
			(*i)++;
		}
		if (!addr_spec(v, t, n, i, out))
			return false;
		if (!is_special(t, n, *i, '>')) {
			fail(out, MT_DMARC_FROM_SYNTAX, *i < n ? t[*i].off : t[*i - 1].off + t[*i - 1].len,
			     "an angle address without its closing '>'");
			return false;
		}
		(*i)++;
		return true;
	}
	return addr_spec(v, t, n, i, out);
}

mt_status mt_dmarc_from_parse(const char *value, size_t len, mt_dmarc_from *out)
{
	if (!value || !out)
		return MT_EINVAL;
	memset(out, 0, sizeof *out);
	out->fields = 1;
	tok *t = len ? malloc(len * sizeof *t) : NULL;
	if (len && !t) {
		fail(out, MT_DMARC_FROM_SYNTAX, 0, "out of memory");
		return MT_ENOMEM;
	}
	size_t n = 0, i = 0;
	if (!tokenize(value, len, t, &n, out))
		goto done;
	bool in_group = false;
	while (i < n) {
		if (is_special(t, n, i, ',')) { /* obs-mbox-list: empty elements */
			i++;
			continue;
		}
		if (out->mailboxes >= MT_DMARC_FROM_MAILBOXES_MAX) {
			fail(out, MT_DMARC_FROM_SYNTAX, t[i].off, "more than %d mailboxes",
			     MT_DMARC_FROM_MAILBOXES_MAX);
			goto done;
		}
		/* a group: phrase ":" [mailbox-list] ";" (RFC 6854) */
		size_t j = i;
		while (j < n && (t[j].kind == T_ATOM || t[j].kind == T_QSTR))
			j++;
		if (!in_group && j > i && is_special(t, n, j, ':')) {
			in_group = true;
			i = j + 1;
			continue;
		}
		if (in_group && is_special(t, n, i, ';')) {
			in_group = false;
			i++;
			continue;
		}
		if (!mailbox(value, t, n, &i, out))
			goto done;
		if (i < n && !is_special(t, n, i, ',') && !(in_group && is_special(t, n, i, ';'))) {
			fail(out, MT_DMARC_FROM_SYNTAX, t[i].off,
			     "unexpected \"%.*s\" after a mailbox (a ',' is needed between mailboxes)",
			     (int)(t[i].len > 40 ? 40 : t[i].len), value + t[i].off);
			goto done;
		}
	}
	if (in_group) {
		fail(out, MT_DMARC_FROM_SYNTAX, len, "a group without its closing ';'");
		goto done;
	}
	if (out->ndomains == 0) {
		fail(out, MT_DMARC_FROM_NO_DOMAIN, 0, "the From field names no mailbox");
	} else if (out->ndomains > 1) {
		fail(out, MT_DMARC_FROM_MANY_DOMAINS, 0,
		     "the From field has mailboxes of %zu domains: DMARC needs exactly one",
		     out->ndomains);
	} else if (out->domains[0][0] == '[') {
		fail(out, MT_DMARC_FROM_NO_DOMAIN, 0,
		     "the From address has a domain literal %s, not a domain name", out->domains[0]);
	} else {
		out->status = MT_DMARC_FROM_OK;
		memcpy(out->domain, out->domains[0], sizeof out->domain);
	}
done:
	free(t);
	return MT_OK;
}

static bool is_from(const mt_msg_field *f)
{
	return f->name_len == 4 && mt_strcaseeq(f->name, 4, "From", 4);
}

mt_status mt_dmarc_from_message(const struct mt_msg *msg, mt_dmarc_from *out)
{
	if (!msg || !out)
		return MT_EINVAL;
	/* one pass over the fields: a message may carry thousands */
	const mt_msg_field *first = NULL;
	size_t count = 0, nf = mt_msg_field_count(msg);
	for (size_t k = 0; k < nf; k++) {
		const mt_msg_field *f = mt_msg_field_at(msg, k);
		if (f && is_from(f) && count++ == 0)
			first = f;
	}
	if (count == 0) {
		memset(out, 0, sizeof *out);
		fail(out, MT_DMARC_FROM_ABSENT, 0, "the message has no From field");
		return MT_OK;
	}
	if (count == 1)
		return mt_dmarc_from_parse(first->value, first->value_len, out);
	/* several From fields: list the domains of (at most 64 of) them */
	mt_dmarc_from all, one;
	memset(&all, 0, sizeof all);
	for (size_t k = 0, parsed = 0; k < nf && parsed < 64; k++) {
		const mt_msg_field *f = mt_msg_field_at(msg, k);
		if (!f || !is_from(f))
			continue;
		parsed++;
		if (mt_dmarc_from_parse(f->value, f->value_len, &one) != MT_OK)
			continue;
		all.mailboxes += one.mailboxes;
		for (size_t d = 0; d < one.ndomains && d < MT_DMARC_FROM_DOMAINS_MAX; d++)
			note_domain(&all, one.domains[d]);
	}
	all.fields = count;
	*out = all;
	fail(out, MT_DMARC_FROM_MANY_FIELDS, 0,
	     "the message has %zu From fields (RFC 5322 allows one): DMARC is not possible", count);
	return MT_OK;
}

const char *mt_dmarc_from_status_name(mt_dmarc_from_status s)
{
	switch (s) {
	case MT_DMARC_FROM_OK: return "ok";
	case MT_DMARC_FROM_ABSENT: return "no-from";
	case MT_DMARC_FROM_MANY_FIELDS: return "multiple-from-fields";
	case MT_DMARC_FROM_MANY_DOMAINS: return "multiple-from-domains";
	case MT_DMARC_FROM_NO_DOMAIN: return "no-from-domain";
	case MT_DMARC_FROM_SYNTAX: return "from-syntax";
	case MT_DMARC_FROM_BAD_DOMAIN: return "from-bad-domain";
	}
	return "unknown";
}
