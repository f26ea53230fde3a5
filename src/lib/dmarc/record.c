/* DMARC policy records (draft-ietf-dmarc-dmarcbis-41 sections 4.7, 4.8,
 * 4.10): the parser, and the DNS Tree Walk's names and Organizational
 * Domain selection. */
#include <mailtrust/dmarc.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define MAX_FINDINGS 64
#define MAX_TAGS     64
#define MSG_MAX      160

typedef struct tagseen {
	char name[8];
} tagseen;

struct mt_dmarc_record {
	char *text;
	size_t len;
	mt_arena *arena;

	mt_dmarc_policy p, sp, np;
	bool p_bad, sp_bad, np_bad;   /* given but not valid */
	bool strict_dkim, strict_spf, testing;
	mt_dmarc_psd psd;
	const char *fo;

	mt_dmarc_uri rua[MT_DMARC_URIS_MAX], ruf[MT_DMARC_URIS_MAX];
	size_t nrua, nruf;

	/* names seen (lowercased, known tags only), for duplicates and has_tag */
	char seen[MAX_TAGS][8];
	size_t nseen;

	mt_dmarc_finding findings[MAX_FINDINGS];
	size_t nfindings;
};

static bool is_wsp(char c) { return c == ' ' || c == '\t'; }

static void add(mt_dmarc_record *r, mt_dmarc_severity sev, size_t off, const char *tag,
                size_t tag_len, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add(mt_dmarc_record *r, mt_dmarc_severity sev, size_t off, const char *tag,
                size_t tag_len, const char *fmt, ...)
{
	if (r->nfindings >= MAX_FINDINGS)
		return;
	char msg[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char *t = mt_arena_strndup(r->arena, tag ? tag : "", tag ? (tag_len > 16 ? 16 : tag_len) : 0);
	char *m = mt_arena_strdup(r->arena, msg);
	if (!t || !m)
		return;
	mt_dmarc_finding *f = &r->findings[r->nfindings++];
	f->severity = sev;
	f->offset = off;
	f->tag = t;
	f->message = m;
}

/* A printable rendering of an untrusted value for a message: at most 40
 * octets, anything outside 0x21-0x7e as "?". */
static void show(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		if (i == 40) {
			out[o++] = '.';
			out[o++] = '.';
			out[o++] = '.';
			break;
		}
		unsigned char c = (unsigned char)s[i];
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

static bool value_eq(const char *v, size_t n, const char *lit)
{
	return mt_strcaseeq(v, n, lit, strlen(lit));
}

static bool parse_request(const char *v, size_t n, mt_dmarc_policy *out)
{
	if (value_eq(v, n, "none"))
		*out = MT_DMARC_POLICY_NONE;
	else if (value_eq(v, n, "quarantine"))
		*out = MT_DMARC_POLICY_QUARANTINE;
	else if (value_eq(v, n, "reject"))
		*out = MT_DMARC_POLICY_REJECT;
	else
		return false;
	return true;
}

/* dmarc-fo: items 0 1 d s separated by ':', each at most once, not both
 * 0 and 1 (this is what the ABNF's three alternatives allow together). */
static bool valid_fo(const char *v, size_t n)
{
	bool seen[4] = { false, false, false, false };
	size_t i = 0;
	if (n == 0)
		return false;
	for (;;) {
		if (i >= n)
			return false;
		int k;
		switch (mt_lower(v[i])) {
		case '0': k = 0; break;
		case '1': k = 1; break;
		case 'd': k = 2; break;
		case 's': k = 3; break;
		default: return false;
		}
		if (seen[k])
			return false;
		seen[k] = true;
		i++;
		if (i == n)
			break;
		if (v[i] != ':')
			return false;
		i++;
	}
	return !(seen[0] && seen[1]);
}

/* RFC 3986 characters allowed in a URI (unreserved, reserved, '%'), less
 * ',' and '!' which DMARC requires percent-encoded. */
static bool uri_char(unsigned char c)
{
	if (mt_is_alnum(c))
		return true;
	return strchr("-._~:/?#[]@$&'()*+;=%", c) != NULL && c != '\0';
}

static void parse_uri(mt_dmarc_record *r, const char *tag, const char *s, size_t n, size_t off,
                      mt_dmarc_uri *u)
{
	char shown[64];
	memset(u, 0, sizeof *u);
	u->offset = off;
	u->domain = "";
	/* an obsolete size suffix: "!" 1*DIGIT [k/m/g/t] at the end */
	size_t end = n;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '!')
			continue;
		size_t j = i + 1, d0 = j;
		while (j < n && mt_is_digit(s[j]))
			j++;
		if (j > d0 && j < n && strchr("kmgtKMGT", s[j]) && s[j] != '\0')
			j++;
		if (j > d0 && j == n) {
			end = i;
			u->has_size = true;
		}
		break;
	}
	u->uri = mt_arena_strndup(r->arena, s, end);
	if (!u->uri) {
		u->uri = "";
		return;
	}
	show(s, end, shown, sizeof shown);
	if (u->has_size)
		add(r, MT_DMARC_NOTE, off + end, tag, strlen(tag),
		    "the size limit \"%.*s\" is obsolete (RFC 7489) and ignored",
		    (int)(n - end > 12 ? 12 : n - end), s + end);
	/* scheme */
	size_t i = 0;
	if (end == 0 || !mt_is_alpha((unsigned char)s[0])) {
		add(r, MT_DMARC_ERROR, off, tag, strlen(tag),
		    "\"%s\" is not a URI: it must start with a scheme such as mailto:", shown);
		return;
	}
	while (i < end && (mt_is_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' ||
	                   s[i] == '.'))
		i++;
	if (i >= end || s[i] != ':') {
		add(r, MT_DMARC_ERROR, off, tag, strlen(tag),
		    "\"%s\" is not a URI: it must start with a scheme such as mailto:", shown);
		return;
	}
	size_t scheme_len = i;
	i++;
	if (i == end) {
		add(r, MT_DMARC_ERROR, off, tag, strlen(tag), "\"%s\" has nothing after the scheme",
		    shown);
		return;
	}
	for (size_t k = i; k < end; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c == '!' || c == ',') {
			add(r, MT_DMARC_ERROR, off + k, tag, strlen(tag),
			    "'%c' in \"%s\" must be percent-encoded (%%%02X)", c, shown, c);
			return;
		}
		if (c == '%') {
			if (k + 2 >= end + 0 || !strchr("0123456789abcdefABCDEF", s[k + 1]) ||
			    !strchr("0123456789abcdefABCDEF", s[k + 2]) || s[k + 1] == '\0' ||
			    s[k + 2] == '\0') {
				add(r, MT_DMARC_ERROR, off + k, tag, strlen(tag),
				    "'%%' in \"%s\" is not followed by two hex digits", shown);
				return;
			}
			continue;
		}
		if (!uri_char(c)) {
			add(r, MT_DMARC_ERROR, off + k, tag, strlen(tag),
			    "character 0x%02x in \"%s\" is not allowed in a URI", c, shown);
			return;
		}
	}
	u->valid = true;
	u->mailto = mt_strcaseeq(s, scheme_len, "mailto", 6);
	if (!u->mailto)
		return;
	/* mailto:local@domain[?hfields]: the domain, for the external
	 * destination check (reports to another domain need its consent) */
	size_t a0 = i, a1 = i;
	while (a1 < end && s[a1] != '?')
		a1++;
	const char *at = NULL;
	for (size_t k = a0; k < a1; k++)
		if (s[k] == '@')
			at = s + k;
	if (!at || at == s + a0 || at + 1 == s + a1) {
		add(r, MT_DMARC_ERROR, off, tag, strlen(tag),
		    "\"%s\" is not a mail address (mailto:user@domain)", shown);
		u->valid = false;
		return;
	}
	size_t dl = (size_t)(s + a1 - (at + 1));
	char *d = mt_arena_strndup(r->arena, at + 1, dl);
	if (d) {
		for (size_t k = 0; k < dl; k++)
			d[k] = mt_lower(d[k]);
		u->domain = d;
	}
	if (!strchr(u->domain, '.'))
		add(r, MT_DMARC_WARNING, off, tag, strlen(tag),
		    "the domain of \"%s\" has no dot: reports will not reach it", shown);
}

static void parse_urilist(mt_dmarc_record *r, const char *tag, const char *v, size_t n,
                          size_t off, mt_dmarc_uri *list, size_t *count)
{
	size_t i = 0;
	while (i <= n) {
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (s < e && is_wsp(v[s]))
			s++;
		while (e > s && is_wsp(v[e - 1]))
			e--;
		if (s == e) {
			add(r, MT_DMARC_ERROR, off + s, tag, strlen(tag), "an empty URI in the list");
		} else if (*count >= MT_DMARC_URIS_MAX) {
			add(r, MT_DMARC_WARNING, off + s, tag, strlen(tag),
			    "more than %d URIs: the rest are ignored", MT_DMARC_URIS_MAX);
			return;
		} else {
			parse_uri(r, tag, v + s, e - s, off + s, &list[(*count)++]);
		}
		i++;
	}
	size_t valid = 0;
	for (size_t k = 0; k < *count; k++)
		valid += list[k].valid;
	if (*count > 0 && valid == 0)
		add(r, MT_DMARC_ERROR, off, tag, strlen(tag),
		    "no valid URI: no %s reports will be sent", tag[2] == 'a' ? "aggregate" : "failure");
}

static bool seen_tag(const mt_dmarc_record *r, const char *name)
{
	for (size_t i = 0; i < r->nseen; i++)
		if (strcmp(r->seen[i], name) == 0)
			return true;
	return false;
}

static const char *const KNOWN[] = { "v", "p", "sp", "np", "psd", "t", "adkim", "aspf",
	                             "rua", "ruf", "fo", "pct", "rf", "ri" };

static void tag_value(mt_dmarc_record *r, const char *name, size_t nlen, size_t noff,
                      const char *v, size_t vlen, size_t voff)
{
	char lname[8] = "";
	const char *known = NULL;
	char shown[64];
	show(v, vlen, shown, sizeof shown);
	if (nlen < sizeof lname) {
		for (size_t i = 0; i < nlen; i++)
			lname[i] = mt_lower(name[i]);
		lname[nlen] = '\0';
		for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
			if (strcmp(lname, KNOWN[i]) == 0)
				known = KNOWN[i];
	}
	if (!known) {
		char nshown[64];
		show(name, nlen, nshown, sizeof nshown);
		add(r, MT_DMARC_NOTE, noff, name, nlen, "unknown tag \"%s\" is ignored", nshown);
		return;
	}
	if (seen_tag(r, known)) {
		add(r, MT_DMARC_ERROR, noff, name, nlen,
		    "tag \"%s\" appears more than once: the first value is used", known);
		return;
	}
	if (r->nseen < MAX_TAGS)
		memcpy(r->seen[r->nseen++], known, strlen(known) + 1);

	if (strcmp(known, "v") == 0) {
		add(r, MT_DMARC_ERROR, noff, name, nlen, "\"v\" may only be the first tag");
	} else if (strcmp(known, "p") == 0 || strcmp(known, "sp") == 0 ||
	           strcmp(known, "np") == 0) {
		mt_dmarc_policy pol;
		bool *bad = known[0] == 'p' ? &r->p_bad : known[0] == 's' ? &r->sp_bad : &r->np_bad;
		mt_dmarc_policy *dst = known[0] == 'p' ? &r->p : known[0] == 's' ? &r->sp : &r->np;
		if (parse_request(v, vlen, &pol)) {
			*dst = pol;
		} else {
			*bad = true;
			add(r, MT_DMARC_ERROR, voff, name, nlen,
			    "%s=%s is not a policy: use none, quarantine or reject", known, shown);
		}
	} else if (strcmp(known, "adkim") == 0 || strcmp(known, "aspf") == 0) {
		bool *dst = known[1] == 'd' ? &r->strict_dkim : &r->strict_spf;
		if (value_eq(v, vlen, "s"))
			*dst = true;
		else if (!value_eq(v, vlen, "r"))
			add(r, MT_DMARC_ERROR, voff, name, nlen,
			    "%s=%s is not valid: use r (relaxed) or s (strict); relaxed applies", known,
			    shown);
	} else if (strcmp(known, "t") == 0) {
		if (value_eq(v, vlen, "y"))
			r->testing = true;
		else if (!value_eq(v, vlen, "n"))
			add(r, MT_DMARC_ERROR, voff, name, nlen,
			    "t=%s is not valid: use y or n; n applies", shown);
	} else if (strcmp(known, "psd") == 0) {
		if (value_eq(v, vlen, "y"))
			r->psd = MT_DMARC_PSD_YES;
		else if (value_eq(v, vlen, "n"))
			r->psd = MT_DMARC_PSD_NO;
		else if (!value_eq(v, vlen, "u"))
			add(r, MT_DMARC_ERROR, voff, name, nlen,
			    "psd=%s is not valid: use y, n or u; u applies", shown);
	} else if (strcmp(known, "fo") == 0) {
		if (valid_fo(v, vlen)) {
			char *fo = mt_arena_strndup(r->arena, v, vlen);
			if (fo)
				r->fo = fo;
		} else {
			add(r, MT_DMARC_ERROR, voff, name, nlen,
			    "fo=%s is not valid: 0 or 1, d, s separated by ':', each once", shown);
		}
	} else if (strcmp(known, "rua") == 0) {
		parse_urilist(r, "rua", v, vlen, voff, r->rua, &r->nrua);
	} else if (strcmp(known, "ruf") == 0) {
		parse_urilist(r, "ruf", v, vlen, voff, r->ruf, &r->nruf);
	} else { /* pct rf ri */
		add(r, MT_DMARC_NOTE, noff, name, nlen,
		    "tag \"%s\" is obsolete (RFC 7489) and ignored", known);
	}
}

mt_status mt_dmarc_record_parse(const char *txt, size_t len, mt_dmarc_record **out, mt_error *err)
{
	if (!txt || !out)
		return mt_error_set(err, MT_EINVAL, "mt_dmarc_record_parse: NULL argument");
	*out = NULL;
	if (len > MT_DMARC_RECORD_MAX)
		return mt_error_set(err, MT_ERANGE, "record of %zu octets is longer than %d", len,
		                    MT_DMARC_RECORD_MAX);
	/* v=DMARC1 first: "v" *WSP "=" *WSP "DMARC1", then the end or a separator */
	size_t i = 0;
	if (len == 0 || (txt[0] != 'v' && txt[0] != 'V'))
		return mt_error_set(err, MT_ESYNTAX, "not a DMARC record: it does not start with v=DMARC1");
	i = 1;
	while (i < len && is_wsp(txt[i]))
		i++;
	if (i >= len || txt[i] != '=')
		return mt_error_set(err, MT_ESYNTAX, "not a DMARC record: it does not start with v=DMARC1");
	i++;
	while (i < len && is_wsp(txt[i]))
		i++;
	if (len - i < 6 || memcmp(txt + i, "DMARC1", 6) != 0)
		return mt_error_set(err, MT_ESYNTAX,
		                    "not a DMARC record: v= at offset %zu must be DMARC1 (upper case)", i);
	i += 6;
	size_t j = i;
	while (j < len && is_wsp(txt[j]))
		j++;
	if (j < len && txt[j] != ';')
		return mt_error_set(err, MT_ESYNTAX,
		                    "not a DMARC record: v=DMARC1 is followed by text at offset %zu", j);

	mt_dmarc_record *r = calloc(1, sizeof *r);
	if (!r)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	r->arena = mt_arena_new(1024);
	r->text = malloc(len + 1);
	if (!r->arena || !r->text) {
		mt_dmarc_record_free(r);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	memcpy(r->text, txt, len);
	r->text[len] = '\0';
	r->len = len;
	r->fo = "0";
	memcpy(r->seen[r->nseen++], "v", 2);

	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)txt[k];
		if ((c < 0x20 && c != '\t') || c >= 0x7f) {
			add(r, MT_DMARC_ERROR, k, NULL, 0,
			    "octet 0x%02x at offset %zu is not allowed in a record (printable ASCII only)",
			    c, k);
			break;
		}
	}

	/* the tags after v=DMARC1: dmarc-sep dmarc-tag ... [dmarc-sep] */
	i = j;
	while (i < len) {
		/* at a ';' */
		i++;
		while (i < len && is_wsp(txt[i]))
			i++;
		if (i >= len)
			break;
		if (txt[i] == ';') {
			add(r, MT_DMARC_WARNING, i, NULL, 0, "an empty tag (\";;\") at offset %zu", i);
			continue;
		}
		size_t ns = i;
		while (i < len && txt[i] != ';' && txt[i] != '=' && !is_wsp(txt[i]))
			i++;
		size_t ne = i;
		while (i < len && is_wsp(txt[i]))
			i++;
		size_t end = i;
		while (end < len && txt[end] != ';')
			end++;
		char nshown[64];
		show(txt + ns, ne - ns, nshown, sizeof nshown);
		bool alpha = ne > ns;
		for (size_t k = ns; k < ne; k++)
			alpha = alpha && mt_is_alpha((unsigned char)txt[k]);
		if (i >= len || txt[i] != '=') {
			add(r, MT_DMARC_ERROR, ns, txt + ns, ne - ns,
			    "\"%s\" at offset %zu is not a tag=value pair: ignored", nshown, ns);
			i = end;
			continue;
		}
		if (!alpha) {
			add(r, MT_DMARC_ERROR, ns, txt + ns, ne - ns,
			    "\"%s\" at offset %zu is not a tag name (letters only): ignored", nshown, ns);
			i = end;
			continue;
		}
		i++;
		while (i < end && is_wsp(txt[i]))
			i++;
		size_t vs = i, ve = end;
		while (ve > vs && is_wsp(txt[ve - 1]))
			ve--;
		tag_value(r, txt + ns, ne - ns, ns, txt + vs, ve - vs, vs);
		i = end;
	}

	if (!mt_dmarc_record_has_tag(r, "p"))
		add(r, MT_DMARC_WARNING, len, "p", 1,
		    "no p= tag: the record is treated as p=none (RECOMMENDED: give p=)");
	*out = r;
	return MT_OK;
}

void mt_dmarc_record_free(mt_dmarc_record *rec)
{
	if (!rec)
		return;
	mt_arena_free(rec->arena);
	free(rec->text);
	free(rec);
}

const char *mt_dmarc_record_text(const mt_dmarc_record *rec, size_t *len)
{
	if (len)
		*len = rec->len;
	return rec->text;
}

mt_dmarc_policy mt_dmarc_record_p(const mt_dmarc_record *rec) { return rec->p; }
mt_dmarc_policy mt_dmarc_record_sp(const mt_dmarc_record *rec) { return rec->sp; }
mt_dmarc_policy mt_dmarc_record_np(const mt_dmarc_record *rec) { return rec->np; }
bool mt_dmarc_record_strict_dkim(const mt_dmarc_record *rec) { return rec->strict_dkim; }
bool mt_dmarc_record_strict_spf(const mt_dmarc_record *rec) { return rec->strict_spf; }
bool mt_dmarc_record_testing(const mt_dmarc_record *rec) { return rec->testing; }
mt_dmarc_psd mt_dmarc_record_psd(const mt_dmarc_record *rec) { return rec->psd; }
const char *mt_dmarc_record_fo(const mt_dmarc_record *rec) { return rec->fo; }

bool mt_dmarc_record_has_tag(const mt_dmarc_record *rec, const char *name)
{
	char l[8];
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= sizeof l)
		return false;
	for (size_t i = 0; i <= n; i++)
		l[i] = mt_lower(name[i]);
	return seen_tag(rec, l);
}

size_t mt_dmarc_record_rua_count(const mt_dmarc_record *rec) { return rec->nrua; }
const mt_dmarc_uri *mt_dmarc_record_rua(const mt_dmarc_record *rec, size_t i)
{
	return i < rec->nrua ? &rec->rua[i] : NULL;
}
size_t mt_dmarc_record_ruf_count(const mt_dmarc_record *rec) { return rec->nruf; }
const mt_dmarc_uri *mt_dmarc_record_ruf(const mt_dmarc_record *rec, size_t i)
{
	return i < rec->nruf ? &rec->ruf[i] : NULL;
}
size_t mt_dmarc_record_finding_count(const mt_dmarc_record *rec) { return rec->nfindings; }
const mt_dmarc_finding *mt_dmarc_record_finding(const mt_dmarc_record *rec, size_t i)
{
	return i < rec->nfindings ? &rec->findings[i] : NULL;
}

bool mt_dmarc_record_applies(const mt_dmarc_record *rec, bool *as_none)
{
	if (as_none)
		*as_none = false;
	bool p_ok = rec->p != MT_DMARC_POLICY_ABSENT;
	if (p_ok && !rec->sp_bad && !rec->np_bad)
		return true;
	for (size_t i = 0; i < rec->nrua; i++) {
		if (rec->rua[i].valid) {
			if (as_none)
				*as_none = true;
			return true;
		}
	}
	return false;
}

const char *mt_dmarc_policy_name(mt_dmarc_policy p)
{
	switch (p) {
	case MT_DMARC_POLICY_NONE: return "none";
	case MT_DMARC_POLICY_QUARANTINE: return "quarantine";
	case MT_DMARC_POLICY_REJECT: return "reject";
	default: return "";
	}
}

const char *mt_dmarc_severity_name(mt_dmarc_severity s)
{
	switch (s) {
	case MT_DMARC_NOTE: return "note";
	case MT_DMARC_WARNING: return "warning";
	default: return "error";
	}
}

/* ---- DNS Tree Walk --------------------------------------------------- */

/* Offsets of the labels of d[0..n): starts[k] for k = 0 (leftmost) ... */
static mt_status split_labels(const char *d, size_t n, size_t *starts, size_t *count,
                              mt_error *err)
{
	size_t c = 0, s = 0;
	if (n == 0)
		return mt_error_set(err, MT_EINVAL, "empty domain name");
	if (n > 253)
		return mt_error_set(err, MT_EINVAL, "domain name of %zu octets is longer than 253", n);
	for (size_t i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			if (i == s)
				return mt_error_set(err, MT_EINVAL, "empty label at offset %zu of \"%.*s\"",
				                    i, (int)n, d);
			if (i - s > 63)
				return mt_error_set(err, MT_EINVAL,
				                    "label at offset %zu is longer than 63 octets", s);
			starts[c++] = s;
			s = i + 1;
		}
	}
	*count = c;
	return MT_OK;
}

mt_status mt_dmarc_walk_targets(const char *domain, bool from_parent, char *names[MT_DMARC_WALK_MAX],
                                size_t *count, mt_error *err)
{
	if (!domain || !names || !count)
		return mt_error_set(err, MT_EINVAL, "mt_dmarc_walk_targets: NULL argument");
	*count = 0;
	size_t n = strlen(domain);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	size_t starts[128]; /* 253 octets hold at most 127 labels */
	size_t x;
	mt_status st = split_labels(domain, n, starts, &x, err);
	if (st != MT_OK)
		return st;
	/* the first name is the domain itself; then 7 labels when x >= 8 (step
	 * 4), then one label fewer each time (step 7) */
	size_t first_labels[MT_DMARC_WALK_MAX + 1];
	size_t m = 0;
	first_labels[m++] = x;
	size_t next = x >= 8 ? 7 : x - 1;
	while (next >= 1 && m < MT_DMARC_WALK_MAX)
		first_labels[m++] = next--;
	size_t out = 0;
	for (size_t k = from_parent ? 1 : 0; k < m; k++) {
		size_t labels = first_labels[k];
		const char *suffix = domain + starts[x - labels];
		size_t slen = n - starts[x - labels];
		char *name = malloc(slen + 8);
		if (!name) {
			for (size_t q = 0; q < out; q++)
				free(names[q]);
			return mt_error_set(err, MT_ENOMEM, "out of memory");
		}
		memcpy(name, "_dmarc.", 7);
		memcpy(name + 7, suffix, slen);
		name[7 + slen] = '\0';
		names[out++] = name;
	}
	*count = out;
	return MT_OK;
}

static size_t count_labels(const char *d)
{
	size_t n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0)
		return 0;
	size_t c = 1;
	for (size_t i = 0; i < n; i++)
		c += d[i] == '.';
	return c;
}

static bool same_domain(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	if (al > 0 && a[al - 1] == '.')
		al--;
	if (bl > 0 && b[bl - 1] == '.')
		bl--;
	return mt_strcaseeq(a, al, b, bl);
}

static mt_status put(const char *s, size_t n, char *out, size_t cap)
{
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n + 1 > cap)
		return MT_ERANGE;
	memcpy(out, s, n);
	out[n] = '\0';
	return MT_OK;
}

mt_status mt_dmarc_org_domain(const char *start, const char *const *walk_domains, const int *psd,
                              size_t n, char *out, size_t cap)
{
	if (!start || (n > 0 && (!walk_domains || !psd)) || !out || cap == 0)
		return MT_EINVAL;
	size_t sn = strlen(start);
	if (sn > 0 && start[sn - 1] == '.')
		sn--;
	size_t starts[128], x;
	if (split_labels(start, sn, starts, &x, NULL) != MT_OK)
		return MT_EINVAL;
	/* longest to shortest: the walk's own order, but sort defensively by
	 * label count (stable: equal counts keep walk order) */
	size_t order[MT_DMARC_WALK_MAX * 4];
	if (n > sizeof order / sizeof order[0])
		return MT_EINVAL;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && count_labels(walk_domains[order[j]]) >
		                            count_labels(walk_domains[order[j - 1]]); j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	const char *shortest = NULL;
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k];
		if (psd[i] < 0)
			continue;
		if (psd[i] == MT_DMARC_PSD_NO)
			return put(walk_domains[i], strlen(walk_domains[i]), out, cap);
		if (psd[i] == MT_DMARC_PSD_YES && !same_domain(walk_domains[i], start)) {
			size_t labels = count_labels(walk_domains[i]) + 1;
			if (labels <= x)
				return put(start + starts[x - labels], sn - starts[x - labels], out, cap);
		}
		shortest = walk_domains[i];
	}
	if (shortest)
		return put(shortest, strlen(shortest), out, cap);
	return put(start, sn, out, cap);
}
