/*
 * SPF verification for domain owners (spf_verify.h): presence, syntax,
 * limits, policy, size, publication and authorization checks, each
 * reported as findings with a stable code.
 */
#include "spf/spf_int.h"
#include "dns/authns.h"

#include <mailtrust/spf_verify.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define V_MAX_FINDINGS 400u
#define V_MAX_NODES 50u
#define V_MAX_DEPTH 20u
#define V_MAX_NS 13u
#define V_MAX_ADDRS 26u
#define V_MAX_TXT 64u          /* TXT records of one name looked at */
#define V_MAX_TARGETS 100u     /* a/mx/exists names asked over the whole tree */
#define V_ARENA_LIMIT (16u << 20)

struct mt_spf_verify {
	mt_arena *arena;
	bool oom;
	bool checked;
	const char *domain;
	const char *record;
	size_t record_len;     /* octets of record: it may hold a NUL */
	mt_spf_finding *findings;
	size_t nfindings;
	mt_spf_tree_node nodes[V_MAX_NODES];
	size_t parent[V_MAX_NODES];
	size_t nnodes;
	unsigned total_lookups, total_void;
	unsigned ntargets;     /* a/mx/exists names asked so far */
	mt_spf_ns_answer ns[V_MAX_ADDRS];
	size_t nns;
	mt_spf_authz *authz;
	size_t nauthz;
	const mt_spf_verify_options *opts;
	mt_dns_resolver *res;
	const char *ns_names[V_MAX_NS];
	size_t nns_names;
};

/* The SPF records (and look-alikes) of one TXT answer. */
typedef struct txt_set {
	mt_dns_rcode rcode;
	const char *why;
	uint32_t ttl;
	size_t nspf;
	const char *spf[V_MAX_TXT];
	size_t spf_len[V_MAX_TXT];         /* octets of each (a NUL may be inside) */
	size_t nstrings[V_MAX_TXT];        /* character-strings of each SPF record */
	size_t nother;
	const char *other[V_MAX_TXT];      /* non-SPF texts, joined */
	size_t answer_octets;              /* RDATA and RR overhead, for the size estimate */
	const uint8_t *split_rdata[V_MAX_TXT]; /* RDATA of an SPF record of several strings */
	size_t split_rdlen[V_MAX_TXT];
} txt_set;

/* ---- small helpers ---- */

const char *mt_spf_severity_name(mt_spf_severity sev)
{
	switch (sev) {
	case MT_SPF_INFO: return "info";
	case MT_SPF_WARNING: return "warning";
	case MT_SPF_ERROR: return "error";
	}
	return "?";
}

void mt_spf_verify_options_init(mt_spf_verify_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	mt_spf_options_init(&opts->spf);
}

static const char *vstr(mt_spf_verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *vstr(mt_spf_verify *v, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		v->oom = true;
		return "";
	}
	if ((size_t)n < sizeof small) {
		p = mt_arena_strndup(v->arena, small, (size_t)n);
	} else {
		p = mt_arena_alloc(v->arena, (size_t)n + 1);
		if (p) {
			va_start(ap, fmt);
			vsnprintf(p, (size_t)n + 1, fmt, ap);
			va_end(ap);
		}
	}
	if (!p) {
		v->oom = true;
		return "";
	}
	return p;
}

static const char *vdup(mt_spf_verify *v, const char *s, size_t len)
{
	char *p = mt_arena_strndup(v->arena, s, len);
	if (!p) {
		v->oom = true;
		return "";
	}
	return p;
}

/* Record text for a message: control characters (a NUL too, which would
 * end the message) as \xHH, the form the CLI shows them in; the rest as
 * it is. */
static const char *qt(mt_spf_verify *v, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	mt_buf b;
	const char *r;
	mt_buf_init(&b, 4 * (size_t)MT_SPF_MAX_RECORD + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			mt_buf_append(&b, e, 4);
		} else {
			mt_buf_putc(&b, (char)c);
		}
	}
	r = b.err == MT_OK ? vdup(v, b.data ? b.data : "", b.len) : "";
	if (b.err != MT_OK)
		v->oom = true;
	mt_buf_free(&b);
	return r;
}

/* Add a finding; location may be NULL record (offset -1). */
static mt_spf_finding *add(mt_spf_verify *v, const char *code, mt_spf_severity sev,
                           const char *message, const char *fix, const char *domain,
                           const char *record, long offset, size_t length)
{
	mt_spf_finding *f;

	if (v->nfindings >= V_MAX_FINDINGS)
		return NULL;
	if (v->nfindings % 16 == 0) {
		mt_spf_finding *n = realloc(v->findings, (v->nfindings + 16) * sizeof *n);
		if (!n) {
			v->oom = true;
			return NULL;
		}
		v->findings = n;
	}
	f = &v->findings[v->nfindings++];
	f->code = code;
	f->severity = sev;
	f->message = message;
	f->fix = fix;
	f->domain = domain ? domain : v->domain;
	f->record = record;
	f->record_len = 0;
	if (record) {
		/* the records read from DNS may hold a NUL: their own length */
		f->record_len = strlen(record);
		if (record == v->record)
			f->record_len = v->record_len;
		for (size_t k = 0; k < v->nnodes; k++)
			if (record == v->nodes[k].record)
				f->record_len = v->nodes[k].record_len;
	}
	f->offset = record ? offset : -1;
	f->length = record && offset >= 0 ? length : 0;
	f->term = NULL;
	if (record && offset >= 0 && length > 0)
		f->term = vdup(v, record + offset, length);
	return f;
}

static bool has_code(const mt_spf_verify *v, const char *code)
{
	for (size_t i = 0; i < v->nfindings; i++)
		if (strcmp(v->findings[i].code, code) == 0)
			return true;
	return false;
}

static bool ci_prefix(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);
	return len >= n && mt_strcaseeq(s, n, p, n);
}

static bool ci_suffix(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);
	return len >= n && mt_strcaseeq(s + len - n, n, p, n);
}

static bool is_dns_failure(mt_dns_rcode rc)
{
	return rc != MT_DNS_NOERROR && rc != MT_DNS_NXDOMAIN;
}

/* Edit distance with adjacent transpositions, for short words (<= 31). */
static unsigned edit_distance(const char *a, size_t al, const char *b, size_t bl)
{
	unsigned d[32][32];
	if (al > 31 || bl > 31)
		return 99;
	for (size_t i = 0; i <= al; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= bl; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= al; i++)
		for (size_t j = 1; j <= bl; j++) {
			unsigned cost = mt_lower(a[i - 1]) == mt_lower(b[j - 1]) ? 0 : 1;
			unsigned m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < m)
				m = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && mt_lower(a[i - 1]) == mt_lower(b[j - 2]) &&
			    mt_lower(a[i - 2]) == mt_lower(b[j - 1]) && d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = m;
		}
	return d[al][bl];
}

/* ---- DNS ---- */

static mt_status ask(mt_spf_verify *v, mt_dns_resolver *r, const char *name, uint16_t type,
                     mt_dns_answer **out)
{
	mt_status st = mt_dns_resolve(r, name, type, v->opts ? v->opts->timeout_ms : 0, out);
	if (st == MT_ENOMEM)
		v->oom = true;
	return st;
}

/* Read the TXT answer of name into set (strings copied into the arena). */
static mt_status read_txt(mt_spf_verify *v, mt_dns_resolver *r, const char *name, txt_set *set)
{
	mt_dns_answer *ans = NULL;
	mt_status st;

	memset(set, 0, sizeof *set);
	st = ask(v, r, name, MT_DNS_TXT, &ans);
	if (st != MT_OK)
		return st;
	set->rcode = ans->rcode;
	set->why = ans->why ? vdup(v, ans->why, strlen(ans->why)) : NULL;
	for (size_t i = 0; i < ans->count && i < V_MAX_TXT; i++) {
		const mt_dns_rr *rr = &ans->rr[i];
		size_t need, strings = 0, p = 0;
		char *text;

		if (rr->type != MT_DNS_TXT)
			continue;
		set->answer_octets += 12 + rr->len; /* name pointer, type, class, ttl, rdlength */
		while (p < rr->len) {
			p += 1 + rr->data[p];
			strings++;
		}
		need = mt_dns_txt_join(rr->data, rr->len, NULL, 0);
		text = mt_arena_alloc(v->arena, need + 1);
		if (!text) {
			v->oom = true;
			break;
		}
		mt_dns_txt_join(rr->data, rr->len, text, need + 1);
		/* A NUL inside stays: receivers see the whole text (a record that
		 * begins "v=spf1 " and holds a NUL is a permerror, not absent). */
		bool nul = memchr(text, '\0', need) != NULL;
		if (mt_spf_is_record(text, need)) {
			if (set->nspf == 0 || rr->ttl < set->ttl)
				set->ttl = rr->ttl;
			/* the strings as published, for the split check */
			if (strings > 1 && !nul) {
				uint8_t *rd = mt_arena_alloc(v->arena, rr->len);
				if (!rd) {
					v->oom = true;
					break;
				}
				memcpy(rd, rr->data, rr->len);
				set->split_rdata[set->nspf] = rd;
				set->split_rdlen[set->nspf] = rr->len;
			}
			set->nstrings[set->nspf] = strings;
			set->spf_len[set->nspf] = need;
			set->spf[set->nspf++] = text;
		} else {
			set->other[set->nother++] = text;
		}
	}
	mt_dns_answer_free(ans);
	return MT_OK;
}

/* ---- presence ---- */

/*
 * A character that word processors and web pages put around or inside
 * pasted text: typographic quotation marks (U+2018..U+201F, U+2039,
 * U+203A, U+00AB, U+00BB, U+FF02) and spaces other than U+0020 (U+00A0,
 * U+2000..U+200B, U+202F, U+205F, U+3000, U+FEFF).  Returns its UTF-8
 * length at s (0: none) and sets *space for a space.
 */
static size_t paste_char(const char *s, size_t len, bool *space)
{
	const unsigned char *p = (const unsigned char *)s;
	*space = false;
	if (len >= 2 && p[0] == 0xc2 && (p[1] == 0xab || p[1] == 0xbb))
		return 2;
	if (len >= 2 && p[0] == 0xc2 && p[1] == 0xa0) {
		*space = true;
		return 2;
	}
	if (len < 3)
		return 0;
	if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x98 && p[2] <= 0x9f) || p[2] == 0xb9 ||
	                                     p[2] == 0xba))
		return 3;
	if (p[0] == 0xef && p[1] == 0xbc && p[2] == 0x82)
		return 3;
	if ((p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8b || p[2] == 0xaf)) ||
	    (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
	    (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) ||
	    (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)) {
		*space = true;
		return 3;
	}
	return 0;
}

/* The same at the end of s: the length of such a character ending s. */
static size_t paste_char_end(const char *s, size_t len, bool *space)
{
	for (size_t n = 2; n <= 3 && n <= len; n++)
		if (paste_char(s + len - n, n, space) == n)
			return n;
	return 0;
}

/* The code point of the UTF-8 sequence of n (2 or 3) octets at s. */
static unsigned paste_code_point(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	if (n == 2)
		return ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
	return ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
}

static bool ascii_wrap(char c)
{
	return c == ' ' || c == '"' || c == '\'' || c == '\t';
}

/* What a broken SPF-like text should have been; NULL when it is not one. */
static const char *lookalike(mt_spf_verify *v, const char *t, bool *sender_id,
                             unsigned *pasted)
{
	size_t len = strlen(t), i = 0, n;
	bool sp;
	*sender_id = false;
	*pasted = 0;
	for (size_t k = 0; k < len && !*pasted; k++)
		if ((n = paste_char(t + k, len - k, &sp)) > 0)
			*pasted = paste_code_point(t + k, n);
	/* Leading blanks and quotes, ASCII or typographic. */
	for (;;) {
		if (i < len && ascii_wrap(t[i]))
			i++;
		else if ((n = paste_char(t + i, len - i, &sp)) > 0)
			i += n;
		else
			break;
	}
	if (ci_prefix(t + i, len - i, "v=spf2.0") || ci_prefix(t + i, len - i, "spf2.0/")) {
		*sender_id = true;
		return "";
	}
	const char *s = t + i;
	size_t sl = len - i;
	/* Strip trailing quotes and blanks to find the intended text. */
	for (;;) {
		if (sl > 0 && ascii_wrap(s[sl - 1]))
			sl--;
		else if ((n = paste_char_end(s, sl, &sp)) > 0)
			sl -= n;
		else
			break;
	}
	const char *rest = NULL;
	size_t restl = 0;
	static const char *const heads[] = {
		"v=spf1", "v=spf 1", "v= spf1", "v =spf1", "v = spf1", "=spf1", "spf1", "v-spf1",
		"v:spf1", "vspf1", "v=spf", "spf=", "v=sfp1", "v=sp1",
	};
	for (size_t k = 0; k < sizeof heads / sizeof heads[0]; k++)
		if (ci_prefix(s, sl, heads[k])) {
			rest = s + strlen(heads[k]);
			restl = sl - strlen(heads[k]);
			break;
		}
	if (!rest)
		return NULL;
	if (i == 0 && sl == len && mt_spf_is_record(t, len))
		return NULL;
	/* Inside: other spaces become plain ones, typographic quotes go. */
	mt_buf b;
	const char *fix;
	mt_buf_init(&b, MT_SPF_MAX_RECORD);
	for (size_t k = 0; k < restl;) {
		if ((n = paste_char(rest + k, restl - k, &sp)) > 0) {
			if (sp)
				mt_buf_putc(&b, ' ');
			k += n;
		} else {
			mt_buf_putc(&b, rest[k++]);
		}
	}
	/* "v=spf1include:..." -> "v=spf1 include:...". */
	size_t skip = 0;
	while (skip < b.len && b.data[skip] == ' ')
		skip++;
	if (b.err != MT_OK) {
		v->oom = v->oom || b.err == MT_ENOMEM;
		fix = NULL;
	} else {
		fix = vstr(v, "v=spf1%s%.*s", b.len > skip ? " " : "", (int)(b.len - skip),
		           b.data ? b.data + skip : "");
	}
	mt_buf_free(&b);
	return fix;
}

static const char *spf_list(mt_spf_verify *v, const char *const *recs, size_t n)
{
	mt_buf b;
	const char *s;
	mt_buf_init(&b, 1u << 20);
	for (size_t i = 0; i < n; i++)
		mt_buf_printf(&b, "%s\"%s\"", i ? ", " : "", recs[i]);
	s = b.err == MT_OK && b.data ? vdup(v, b.data, b.len) : "";
	if (b.err != MT_OK)
		v->oom = true;
	mt_buf_free(&b);
	return s;
}

/* rdata: the TXT RDATA whose strings joined make the record joined. */
static void check_split(mt_spf_verify *v, const char *domain, const uint8_t *rdata,
                        size_t rdlen, const char *joined)
{
	size_t p = 0, off = 0, nstr = 0;
	bool glued = false;
	while (p < rdlen) {
		size_t l = rdata[p];
		const char *s = (const char *)rdata + p + 1;
		if (p + 1 + l > rdlen)
			break;
		if (nstr > 0 && off > 0 && l > 0 && joined[off - 1] != ' ' && s[0] != ' ') {
			/* The previous string ends inside a token; does the next one begin a term? */
			static const char *const starts[] = {
				"include:", "ip4:", "ip6:", "a:", "mx:", "ptr", "exists:", "redirect=", "exp=",
				"all", "a/", "mx/",
			};
			size_t q = s[0] == '+' || s[0] == '-' || s[0] == '~' || s[0] == '?' ? 1 : 0;
			bool term = false;
			for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++)
				if (ci_prefix(s + q, l - q, starts[k]))
					term = true;
			if ((l - q == 1 && (s[q] == 'a')) || (l - q == 2 && ci_prefix(s + q, 2, "mx")))
				term = true;
			if (term && !glued) {
				size_t ts = off;
				while (ts > 0 && joined[ts - 1] != ' ')
					ts--;
				size_t te = off;
				while (joined[te] && joined[te] != ' ')
					te++;
				add(v, "split-glued", MT_SPF_WARNING,
				    vstr(v, "the record is split into several strings and a split falls between "
				            "two terms without a space: receivers join the strings without adding "
				            "spaces, so they read \"%.*s\" as one term",
				         (int)(te - ts), joined + ts),
				    vstr(v, "end the string before the split with a space (\"... %.*s \" \"%.*s...\")",
				         (int)(off - ts), joined + ts, (int)(l < 20 ? l : 20), s),
				    domain, joined, (long)ts, te - ts);
				glued = true;
			}
		}
		off += l;
		nstr++;
		p += 1 + l;
	}
}

/* ---- syntax and policy of one record ---- */

static const char *const known_mech[] = {
	"include", "ip4", "ip6", "exists", "redirect", "all", "ptr", "mx", "a", "exp",
};

static void check_token(mt_spf_verify *v, const char *domain, const char *rec, size_t off,
                        size_t len, bool *syntax_reported)
{
	const char *t = rec + off;
	size_t q = (t[0] == '+' || t[0] == '-' || t[0] == '~' || t[0] == '?') ? 1 : 0;
	size_t nl = q;
	char probe[600];
	mt_spf_record *r = NULL;
	mt_spf_syntax_error syn;
	mt_status st;
	bool specific = false;

	while (nl < len && (mt_is_alnum(t[nl]) || t[nl] == '-' || t[nl] == '_' || t[nl] == '.'))
		nl++;
	const char *name = t + q;
	size_t namel = nl - q;
	char sep = nl < len ? t[nl] : 0;

	/* A control character (a NUL too): the parser's message says it; the
	 * guesses below would read the text around it as something else. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)t[i] < 0x20 || (unsigned char)t[i] == 0x7f)
			goto probe;

	/* Typographic quotes and spaces other than U+0020 (see paste_char). */
	for (size_t i = 0; i < len; i++) {
		bool sp;
		size_t n = paste_char(t + i, len - i, &sp);
		if (n == 0)
			continue;
		if (sp)
			add(v, "unicode-space", MT_SPF_ERROR,
			    vstr(v, "the record contains U+%04X, a space that is not the ASCII space, "
			            "probably pasted from a word processor or web page; SPF separates terms "
			            "with plain spaces only, so \"%.*s\" is not a valid term",
			         paste_code_point(t + i, n), (int)len, t),
			    "replace it with a plain space (or remove it at the end of the record)",
			    domain, rec, (long)(off + i), n);
		else
			add(v, "typographic-quotes", MT_SPF_ERROR,
			    "the record contains a typographic quotation mark (\u201c \u201d \u2018 \u2019 "
			    "\u00ab \u00bb), probably pasted from a word processor or web page; SPF records "
			    "are plain ASCII",
			    "remove the quotation marks; if the DNS form needs quotes, type plain \" in it",
			    domain, rec, (long)(off + i), n);
		specific = true;
		break;
	}

	/* Glued terms: include:zoho.com-all, include:a.cominclude:b.com. */
	if (!specific && namel > 0 && (sep == ':' || sep == '=')) {
		static const char *const alls[] = { "-all", "~all", "?all", "+all" };
		for (size_t k = 0; k < 4; k++)
			if (ci_suffix(t, len, alls[k]) && len > nl + 1 + 4) {
				add(v, "glued-terms", MT_SPF_ERROR,
				    vstr(v, "\"%.*s\" is one term: the space before \"%s\" is missing, so the "
				            "domain becomes \"%.*s\" and the record has no \"all\"",
				         (int)len, t, alls[k], (int)(len - nl - 1), t + nl + 1),
				    vstr(v, "write \"%.*s %s\"", (int)(len - 4), t, alls[k]),
				    domain, rec, (long)off, len);
				specific = true;
				break;
			}
		static const char *const mechs[] = {
			"include:", "ip4:", "ip6:", "exists:", "redirect=", "exp=", "mx:", "ptr:", "a:",
		};
		bool ip6 = mt_strcaseeq(name, namel, "ip6", 3);
		for (size_t k = 0; !specific && k < sizeof mechs / sizeof mechs[0]; k++) {
			size_t ml = strlen(mechs[k]);
			if (ip6 && ml <= 3) /* "a:" is hex in an IPv6 address */
				continue;
			for (size_t i = nl + 2; i + ml <= len; i++)
				if (mt_strcaseeq(t + i, ml, mechs[k], ml)) {
					add(v, "glued-terms", MT_SPF_ERROR,
					    vstr(v, "\"%.*s\" holds two terms without a space between them",
					         (int)len, t),
					    vstr(v, "write \"%.*s %.*s\"", (int)i, t, (int)(len - i), t + i),
					    domain, rec, (long)off, len);
					specific = true;
					break;
				}
		}
	}

	/* ip4:/ip6: with a host name, prefix over the maximum. */
	if (!specific && (ci_prefix(name, namel, "ip4") || ci_prefix(name, namel, "ip6")) &&
	    namel == 3 && sep == ':') {
		bool v4 = mt_lower(name[2]) == '4';
		const char *a = t + nl + 1;
		size_t al = len - nl - 1, sl = 0;
		while (sl < al && a[sl] != '/')
			sl++;
		bool host = false;
		for (size_t i = 0; i < sl; i++)
			if (v4 ? mt_is_alpha(a[i]) : (mt_is_alpha(a[i]) && mt_lower(a[i]) > 'f'))
				host = true;
		if (host) {
			add(v, v4 ? "ip4-hostname" : "ip6-hostname", MT_SPF_ERROR,
			    vstr(v, "%s: takes an address, but \"%.*s\" is a host name", v4 ? "ip4" : "ip6",
			         (int)sl, a),
			    vstr(v, "write \"a:%.*s\" to authorize that host's addresses, or "
			            "\"include:%.*s\" if it publishes an SPF record", (int)sl, a, (int)sl, a),
			    domain, rec, (long)off, len);
			specific = true;
		} else if (sl < al) {
			long pre = 0;
			size_t i;
			for (i = sl + 1; i < al && mt_is_digit(a[i]) && pre < 100000; i++)
				pre = pre * 10 + (a[i] - '0');
			if (i == al && i > sl + 1 && pre > (v4 ? 32 : 128)) {
				add(v, v4 ? "ip4-prefix" : "ip6-prefix", MT_SPF_ERROR,
				    vstr(v, "the prefix length /%ld is larger than %d, the number of bits of an "
				            "%s address", pre, v4 ? 32 : 128, v4 ? "IPv4" : "IPv6"),
				    vstr(v, "use /%d for a single address (or leave the prefix out), or the real "
				            "network size", v4 ? 32 : 128),
				    domain, rec, (long)(off + nl + 1 + sl), al - sl);
				specific = true;
			}
		}
	}

	/* A stray trailing comma, semicolon or dot. */
	if (!specific && len > 1 &&
	    (t[len - 1] == ',' || t[len - 1] == ';' ||
	     (t[len - 1] == '.' && (ci_prefix(name, namel, "ip4") || ci_prefix(name, namel, "ip6") ||
	                            ci_suffix(t, len, "all.")) && namel <= 4))) {
		add(v, "stray-punctuation", MT_SPF_ERROR,
		    vstr(v, "\"%.*s\" ends in a stray '%c': terms are separated by spaces only",
		         (int)len, t, t[len - 1]),
		    vstr(v, "write \"%.*s\"", (int)(len - 1), t), domain, rec, (long)(off + len - 1), 1);
		specific = true;
	}

	/* Misspelled mechanism or modifier names. */
	if (!specific && namel > 0 && namel < 32) {
		bool known = false;
		for (size_t k = 0; k < sizeof known_mech / sizeof known_mech[0]; k++)
			if (mt_strcaseeq(name, namel, known_mech[k], strlen(known_mech[k])))
				known = true;
		if (!known) {
			const char *best = NULL;
			if (mt_strcaseeq(name, namel, "ipv4", 4) || mt_strcaseeq(name, namel, "ip", 2))
				best = "ip4";
			else if (mt_strcaseeq(name, namel, "ipv6", 4))
				best = "ip6";
			for (size_t k = 0; !best && k < 5; k++) {
				size_t kl = strlen(known_mech[k]);
				unsigned d = edit_distance(name, namel, known_mech[k], kl);
				if (d >= 1 && d <= (kl >= 6 ? 2u : 1u) && namel >= 3)
					best = known_mech[k];
			}
			if (best && (sep == ':' || sep == '=' || sep == 0 || sep == '/')) {
				bool modifier = sep == '=';
				add(v, "misspelled-mechanism", modifier ? MT_SPF_WARNING : MT_SPF_ERROR,
				    vstr(v, "\"%.*s\" is not a known %s; it looks like a misspelling of \"%s\"%s",
				         (int)namel, name, modifier ? "modifier" : "mechanism", best,
				         modifier ? " (unknown modifiers are silently ignored)" : ""),
				    vstr(v, "write \"%.*s%s%s%.*s\"", (int)q, t, best,
				         (!strcmp(best, "redirect") || !strcmp(best, "exp")) ? "=" : ":",
				         (int)(len - nl - (sep ? 1 : 0)), t + nl + (sep ? 1 : 0)),
				    domain, rec, (long)(off + q), namel);
				specific = true;
			}
		}
	}

probe:
	/* Every syntax error: parse the term alone. */
	if (len + 8 > sizeof probe)
		return;
	memcpy(probe, "v=spf1 ", 7);
	memcpy(probe + 7, t, len);
	memset(&syn, 0, sizeof syn);
	st = mt_spf_record_parse(probe, len + 7, &r, &syn);
	mt_spf_record_free(r);
	if (st == MT_ENOMEM)
		v->oom = true;
	if (st != MT_ESYNTAX)
		return;
	*syntax_reported = true;
	if (specific)
		return;
	size_t eo = syn.offset >= 7 ? syn.offset - 7 : 0;
	size_t el = syn.length;
	if (eo > len)
		eo = len;
	if (el > len - eo)
		el = len - eo;
	if (el == 0)
		el = len - eo;
	add(v, "syntax-error", MT_SPF_ERROR,
	    vstr(v, "invalid term \"%s\": %s; the whole record is void (permerror for every receiver)",
	         qt(v, t, len), syn.message),
	    "correct the term (see RFC 7208 section 5 for each mechanism's form) or remove it",
	    domain, rec, (long)(off + eo), el);
}

/* Checks of a parsed (valid) record of domain; top: the domain's own. */
static void check_parsed(mt_spf_verify *v, const char *domain, const mt_spf_record *rec, bool top)
{
	const char *text = rec->text;
	const mt_spf_term *all = NULL;
	bool after_all_reported = false, macros = false;
	size_t nptr = 0;

	for (size_t i = 0; i < rec->nterms; i++) {
		const mt_spf_term *t = &rec->terms[i];
		if (t->kind == MT_SPF_ALL && !all)
			all = t;
		else if (all && !after_all_reported && t->kind != MT_SPF_REDIRECT &&
		         t->kind != MT_SPF_EXP && t->kind != MT_SPF_UNKNOWN_MODIFIER) {
			add(v, "terms-after-all", MT_SPF_WARNING,
			    vstr(v, "\"%.*s\" and any mechanism after it are never evaluated: \"all\" "
			            "matches every address first", (int)t->length, text + t->offset),
			    "move \"all\" to the end of the record", domain, text, (long)t->offset,
			    t->length);
			after_all_reported = true;
		}
		if (t->kind == MT_SPF_PTR) {
			if (nptr++ == 0)
				add(v, "ptr-deprecated", MT_SPF_WARNING,
				    "the ptr mechanism is deprecated (RFC 7208 section 5.5): it is slow, "
				    "unreliable, and some receivers skip it",
				    "list the sending hosts' addresses with ip4:/ip6: or use a: instead",
				    domain, text, (long)t->offset, t->length);
		}
		if (t->kind == MT_SPF_IP4 || t->kind == MT_SPF_IP6) {
			char net[64];
			int bits = t->kind == MT_SPF_IP4 ? 32 : 128;
			int pre = t->kind == MT_SPF_IP4 ? t->cidr4 : t->cidr6;
			if (pre >= 0 && pre < bits && mt_spf_host_bits(t, net, sizeof net))
				add(v, "host-bits", MT_SPF_INFO,
				    vstr(v, "\"%.*s\" has host bits set below the /%d prefix: receivers "
				            "ignore them, so it means the whole network %s/%d, not one host",
				         (int)t->length, text + t->offset, pre, net, pre),
				    vstr(v, "write \"%s:%s/%d\" for the network, or drop \"/%d\" for the "
				            "single address", t->kind == MT_SPF_IP4 ? "ip4" : "ip6", net, pre,
				         pre),
				    domain, text, (long)t->offset, t->length);
		}
		if (t->kind == MT_SPF_IP4 && t->cidr4 >= 0 && t->cidr4 < 16)
			add(v, "broad-range", MT_SPF_WARNING,
			    vstr(v, "ip4 prefix /%d authorizes %llu addresses%s: far more than any sender owns",
			         t->cidr4, 1ULL << (32 - t->cidr4), t->cidr4 == 0 ? " (all of IPv4)" : ""),
			    "narrow it to the networks that really send your mail", domain, text,
			    (long)t->offset, t->length);
		if (t->kind == MT_SPF_IP6 && t->cidr6 >= 0 && t->cidr6 < 48)
			add(v, "broad-range", MT_SPF_WARNING,
			    vstr(v, "ip6 prefix /%d is broader than a /48 (a typical whole site): far more "
			            "than any sender owns", t->cidr6),
			    "narrow it to the networks that really send your mail", domain, text,
			    (long)t->offset, t->length);
		const char *s = t->kind == MT_SPF_UNKNOWN_MODIFIER ? t->value : t->domain;
		size_t sl = t->kind == MT_SPF_UNKNOWN_MODIFIER ? t->value_len : t->domain_len;
		if (top && !macros && s && memchr(s, '%', sl)) {
			add(v, "macros", MT_SPF_INFO,
			    vstr(v, "\"%.*s\" uses macros (RFC 7208 section 7): they are expanded for each "
			            "message from the sender's address, IP or HELO name; this is valid, but "
			            "the names it queries cannot be checked in advance",
			         (int)t->length, text + t->offset),
			    NULL, domain, text, (long)t->offset, t->length);
			macros = true;
		}
	}
	if (!top)
		return;
	if (rec->redirect >= 0 && rec->has_all) {
		const mt_spf_term *t = &rec->terms[rec->redirect];
		add(v, "redirect-ignored", MT_SPF_WARNING,
		    "redirect= is never used because the record also has \"all\" (RFC 7208 section 6.1)",
		    "remove \"all\" to delegate to the redirect target, or remove redirect=",
		    domain, text, (long)t->offset, t->length);
	}
	if (all) {
		switch (all->qualifier) {
		case '+':
			add(v, "pass-all", MT_SPF_ERROR,
			    "\"+all\" authorizes every host on the Internet to send mail as this domain",
			    "end the record with \"-all\" (or \"~all\" while testing)", domain, text,
			    (long)all->offset, all->length);
			break;
		case '?':
			add(v, "neutral-all", MT_SPF_WARNING,
			    "\"?all\" is neutral: mail from any other host is neither accepted nor rejected "
			    "because of SPF, so the record protects nothing",
			    "end the record with \"-all\" (or \"~all\")", domain, text, (long)all->offset,
			    all->length);
			break;
		case '~':
			add(v, "softfail-all", MT_SPF_INFO,
			    "\"~all\" (softfail): mail from hosts not listed is accepted but marked as "
			    "suspicious; \"-all\" (fail) asks receivers to reject it",
			    "switch to \"-all\" once every legitimate sender is listed", domain, text,
			    (long)all->offset, all->length);
			break;
		default:
			add(v, "fail-all", MT_SPF_INFO,
			    "\"-all\" (fail): receivers may reject mail from every host not listed; "
			    "\"~all\" (softfail) would only mark it",
			    NULL, domain, text, (long)all->offset, all->length);
			break;
		}
	} else if (rec->redirect < 0) {
		add(v, "no-all", MT_SPF_WARNING,
		    "the record has no \"all\" and no redirect=: mail from hosts not listed gets "
		    "\"neutral\", so nothing is ever rejected",
		    "end the record with \"-all\" (or \"~all\")", domain, text, -1, 0);
	}
}

/* Syntax checks of one record text; *rec_out: the parsed record when valid. */
static void check_record_text(mt_spf_verify *v, const char *domain, const char *text,
                              size_t len, mt_spf_record **rec_out)
{
	size_t i = 6;
	bool syntax_reported = false;
	unsigned nredirect = 0, nexp = 0;
	mt_spf_syntax_error syn;
	mt_status st;

	*rec_out = NULL;
	while (i < len) {
		while (i < len && text[i] == ' ')
			i++;
		if (i >= len)
			break;
		size_t s = i;
		while (i < len && text[i] != ' ')
			i++;
		if (ci_prefix(text + s, i - s, "redirect=") && nredirect++ == 1)
			add(v, "duplicate-modifier", MT_SPF_ERROR,
			    "redirect= appears more than once: the record is invalid (permerror, RFC 7208 "
			    "section 6)", "keep a single redirect=", domain, text, (long)s, i - s);
		if (ci_prefix(text + s, i - s, "exp=") && nexp++ == 1)
			add(v, "duplicate-modifier", MT_SPF_ERROR,
			    "exp= appears more than once: the record is invalid (permerror, RFC 7208 "
			    "section 6)", "keep a single exp=", domain, text, (long)s, i - s);
		check_token(v, domain, text, s, i - s, &syntax_reported);
	}
	memset(&syn, 0, sizeof syn);
	st = mt_spf_record_parse_in(v->arena, text, len, rec_out, &syn);
	if (st == MT_ENOMEM)
		v->oom = true;
	if (st == MT_ERANGE)
		add(v, "syntax-error", MT_SPF_ERROR, "the record is longer than 65535 octets", NULL,
		    domain, text, -1, 0);
	if (st == MT_ESYNTAX && !syntax_reported && nredirect < 2 && nexp < 2)
		add(v, "syntax-error", MT_SPF_ERROR,
		    vstr(v, "invalid record: %s", syn.message),
		    "correct the record (RFC 7208 section 12 gives the grammar)", domain, text,
		    (long)syn.offset, syn.length);
	if (st != MT_OK)
		*rec_out = NULL;
}

/* ---- limits: the include/redirect tree ---- */

static bool has_macro(const char *s, size_t len)
{
	return memchr(s, '%', len) != NULL;
}

static bool on_path(const mt_spf_verify *v, size_t node, const char *domain)
{
	for (size_t k = node, steps = 0; steps <= V_MAX_NODES; steps++) {
		if (mt_strcaseeq(v->nodes[k].domain, strlen(v->nodes[k].domain), domain, strlen(domain)))
			return true;
		if (k == 0)
			break;
		k = v->parent[k];
	}
	return false;
}

/* Ask the a/mx/exists targets of a record for void lookups and MX sizes;
 * false when some were left unasked (V_MAX_TARGETS reached). */
static bool count_targets(mt_spf_verify *v, size_t node, const mt_spf_record *rec)
{
	mt_spf_tree_node *n = &v->nodes[node];
	for (size_t i = 0; i < rec->nterms; i++) {
		const mt_spf_term *t = &rec->terms[i];
		const char *target;
		mt_dns_answer *ans = NULL;
		uint16_t type;

		if (t->kind != MT_SPF_A && t->kind != MT_SPF_MX && t->kind != MT_SPF_EXISTS)
			continue;
		if (t->domain && has_macro(t->domain, t->domain_len))
			continue;
		/* a record may hold thousands of terms: bound the questions */
		if (v->ntargets >= V_MAX_TARGETS)
			return false;
		v->ntargets++;
		target = t->domain ? vdup(v, t->domain, t->domain_len) : n->domain;
		type = t->kind == MT_SPF_MX ? MT_DNS_MX : MT_DNS_A;
		if (ask(v, v->res, target, type, &ans) != MT_OK)
			continue;
		bool empty = ans->rcode == MT_DNS_NXDOMAIN || (ans->rcode == MT_DNS_NOERROR && ans->count == 0);
		if (empty && t->kind == MT_SPF_A) {
			/* An a term may still match IPv6 clients. */
			mt_dns_answer *a6 = NULL;
			if (ask(v, v->res, target, MT_DNS_AAAA, &a6) == MT_OK && a6->rcode == MT_DNS_NOERROR &&
			    a6->count > 0)
				empty = false;
			mt_dns_answer_free(a6);
		}
		if (empty) {
			n->void_lookups++;
			add(v, "void-lookup", MT_SPF_WARNING,
			    vstr(v, "\"%.*s\" queries %s, which has no %s records (%s): a void lookup; "
			            "receivers allow only %u of them", (int)t->length, rec->text + t->offset,
			         target, t->kind == MT_SPF_MX ? "MX" : "address",
			         ans->rcode == MT_DNS_NXDOMAIN ? "the name does not exist" : "no data",
			         v->opts->spf.max_void_lookups),
			    "remove the term, or create the records it refers to", n->domain, rec->text,
			    (long)t->offset, t->length);
		}
		if (t->kind == MT_SPF_MX && ans->rcode == MT_DNS_NOERROR) {
			if (ans->count > n->mx_names_max)
				n->mx_names_max = (unsigned)ans->count;
			if (ans->count > v->opts->spf.max_mx_names)
				add(v, "mx-limit", MT_SPF_ERROR,
				    vstr(v, "%s has %zu MX hosts; an mx term may look at no more than %u "
				            "(RFC 7208 section 4.6.4): receivers return permerror",
				         target, ans->count, v->opts->spf.max_mx_names),
				    "list the mail servers' addresses with ip4:/ip6: instead of mx",
				    n->domain, rec->text, (long)t->offset, t->length);
		}
		mt_dns_answer_free(ans);
	}
	return true;
}

/* Walk the tree from the top record (already parsed) in pre-order. */
static void walk_tree(mt_spf_verify *v, mt_spf_record *top, uint32_t ttl)
{
	/* Explicit stack of (parent node, child term index) pending. */
	struct pend { size_t parent; const char *domain; const char *via; const char *term; long off; size_t len; } stack[V_MAX_NODES * 2];
	size_t sp = 0;
	mt_spf_record *recs[V_MAX_NODES];
	bool truncated = false;

	memset(recs, 0, sizeof recs);
	v->nnodes = 1;
	v->nodes[0].domain = v->domain;
	v->nodes[0].via = "top";
	v->nodes[0].record = v->record;
	v->nodes[0].record_len = v->record_len;
	v->nodes[0].status = MT_SPF_PASS;
	v->nodes[0].ttl = ttl;
	v->parent[0] = 0;
	recs[0] = top;

	for (size_t cur = 0;;) {
		/* Process node cur: count and push its children (reverse order for pre-order). */
		mt_spf_record *rec = recs[cur];
		if (rec) {
			v->nodes[cur].lookups = mt_spf_record_lookups(rec);
			if (!count_targets(v, cur, rec))
				truncated = true;
			size_t first = sp;
			for (size_t i = 0; i < rec->nterms; i++) {
				const mt_spf_term *t = &rec->terms[i];
				if (t->kind != MT_SPF_INCLUDE && !(t->kind == MT_SPF_REDIRECT && !rec->has_all))
					continue;
				if (has_macro(t->domain, t->domain_len))
					continue;
				if (sp >= sizeof stack / sizeof stack[0]) {
					truncated = true;
					break;
				}
				size_t dl = t->domain_len;
				if (dl && t->domain[dl - 1] == '.')
					dl--;
				stack[sp].parent = cur;
				stack[sp].domain = vdup(v, t->domain, dl);
				stack[sp].via = t->kind == MT_SPF_INCLUDE ? "include" : "redirect";
				stack[sp].term = vdup(v, rec->text + t->offset, t->length);
				stack[sp].off = (long)t->offset;
				stack[sp].len = t->length;
				sp++;
			}
			/* reverse the pushed part so that the first term is popped first */
			for (size_t a = first, b = sp; b > a + 1; a++, b--) {
				struct pend tmp = stack[a];
				stack[a] = stack[b - 1];
				stack[b - 1] = tmp;
			}
		}
		/* The next pending include/redirect that fits the bounds. */
		size_t k = 0;
		struct pend p;
		bool found = false;
		while (sp > 0) {
			p = stack[--sp];
			if (v->nnodes >= V_MAX_NODES || v->nodes[p.parent].depth + 1 > V_MAX_DEPTH) {
				truncated = true;
				continue;
			}
			found = true;
			break;
		}
		if (!found)
			break;
		k = v->nnodes++;
		cur = k;
		mt_spf_tree_node *n = &v->nodes[k];
		memset(n, 0, sizeof *n);
		n->domain = p.domain;
		n->via = p.via;
		n->depth = v->nodes[p.parent].depth + 1;
		v->parent[k] = p.parent;
		if (on_path(v, p.parent, p.domain)) {
			n->status = MT_SPF_PERMERROR;
			add(v, "include-loop", MT_SPF_ERROR,
			    vstr(v, "%s:%s leads back to %s, which is already being evaluated: a loop; "
			            "receivers stop at the lookup limit with permerror", p.via, p.domain,
			         p.domain),
			    "remove the include or redirect that closes the loop",
			    v->nodes[p.parent].domain, v->nodes[p.parent].record, p.off, p.len);
			continue;
		}
		txt_set set;
		if (read_txt(v, v->res, p.domain, &set) != MT_OK) {
			n->status = MT_SPF_TEMPERROR;
			continue;
		}
		n->ttl = set.ttl;
		if (is_dns_failure(set.rcode)) {
			n->status = MT_SPF_TEMPERROR;
			add(v, "include-dns-failure", MT_SPF_WARNING,
			    vstr(v, "the SPF record of %s (%s) could not be read: %s%s%s", p.domain, p.term,
			         mt_dns_rcode_name(set.rcode), set.why ? ", " : "", set.why ? set.why : ""),
			    "check again later; if it persists, ask the operator of that domain",
			    v->nodes[p.parent].domain, v->nodes[p.parent].record, p.off, p.len);
		} else if (set.nspf == 0) {
			n->status = MT_SPF_NONE;
			add(v, strcmp(p.via, "include") == 0 ? "include-no-record" : "redirect-no-record",
			    MT_SPF_ERROR,
			    vstr(v, "%s points to %s, which has no SPF record: every receiver gets "
			            "permerror for this domain (RFC 7208 section %s)", p.term, p.domain,
			         strcmp(p.via, "include") == 0 ? "5.2" : "6.1"),
			    vstr(v, "remove \"%s\" or correct the domain name (the provider's instructions "
			            "give the exact name to include)", p.term),
			    v->nodes[p.parent].domain, v->nodes[p.parent].record, p.off, p.len);
		} else if (set.nspf > 1) {
			n->status = MT_SPF_PERMERROR;
			n->record = set.spf[0];
			n->record_len = set.spf_len[0];
			add(v, "include-multiple-records", MT_SPF_ERROR,
			    vstr(v, "%s publishes %zu SPF records (%s): evaluating it gives permerror",
			         p.domain, set.nspf, p.term),
			    "ask the operator of that domain to publish a single record",
			    v->nodes[p.parent].domain, v->nodes[p.parent].record, p.off, p.len);
		} else {
			mt_spf_syntax_error syn;
			mt_spf_record *r = NULL;
			n->record = set.spf[0];
			n->record_len = set.spf_len[0];
			mt_status st = mt_spf_record_parse_in(v->arena, set.spf[0], set.spf_len[0], &r, &syn);
			if (st == MT_OK) {
				n->status = MT_SPF_PASS;
				recs[k] = r;
				check_parsed(v, p.domain, r, false);
			} else {
				if (st == MT_ENOMEM)
					v->oom = true;
				n->status = MT_SPF_PERMERROR;
				add(v, "include-syntax-error", MT_SPF_ERROR,
				    vstr(v, "the SPF record of %s (%s) is invalid: %s; receivers get permerror",
				         p.domain, p.term, st == MT_ESYNTAX ? syn.message : mt_strerror(st)),
				    "ask the operator of that domain to correct it, or remove the term",
				    p.domain, set.spf[0], st == MT_ESYNTAX ? (long)syn.offset : -1,
				    st == MT_ESYNTAX ? syn.length : 0);
			}
		}
	}
	/* Subtree sums (children follow their parents). */
	for (size_t k = 0; k < v->nnodes; k++)
		v->nodes[k].subtree_lookups = v->nodes[k].lookups;
	unsigned void_total = 0;
	for (size_t k = v->nnodes; k-- > 1;)
		v->nodes[v->parent[k]].subtree_lookups += v->nodes[k].subtree_lookups;
	for (size_t k = 0; k < v->nnodes; k++)
		void_total += v->nodes[k].void_lookups;
	for (size_t k = 0; k < v->nnodes; k++)
		v->nodes[k].cost = v->nodes[k].subtree_lookups + (k > 0 ? 1u : 0u);
	v->total_lookups = v->nodes[0].subtree_lookups;
	v->total_void = void_total;
	if (truncated)
		add(v, "tree-truncated", MT_SPF_WARNING,
		    vstr(v, "the include/redirect tree is larger than %u records, deeper than %u or "
		            "names more than %u hosts in a/mx/exists terms: only part of it was checked",
		         V_MAX_NODES, V_MAX_DEPTH, V_MAX_TARGETS),
		    "flatten the record: fewer nested includes", NULL, NULL, -1, 0);
}

static void limit_findings(mt_spf_verify *v)
{
	unsigned max = v->opts->spf.max_dns_mechanisms, total = v->total_lookups;
	const mt_spf_tree_node *worst = NULL;
	const char *wfix = "";

	for (size_t k = 1; k < v->nnodes; k++)
		if (strcmp(v->nodes[k].via, "include") == 0 && v->parent[k] == 0 &&
		    (!worst || v->nodes[k].cost > worst->cost))
			worst = &v->nodes[k];
	if (worst) {
		add(v, "most-expensive-include", MT_SPF_INFO,
		    vstr(v, "the most expensive include is include:%s: %u DNS lookup%s (itself and "
		            "what it includes) of the %u allowed", worst->domain,
		         worst->cost, worst->cost == 1 ? "" : "s", max),
		    NULL, NULL, NULL, -1, 0);
		wfix = vstr(v, "; the most expensive is include:%s (%u lookup%s)", worst->domain,
		            worst->cost, worst->cost == 1 ? "" : "s");
	}
	if (total > max)
		add(v, "lookup-limit", MT_SPF_ERROR,
		    vstr(v, "evaluating the record takes %u DNS lookups, more than the limit of %u "
		            "(RFC 7208 section 4.6.4): receivers return permerror", total, max),
		    vstr(v, "remove includes you no longer use, or replace an include with the ip4:/ip6: "
		            "ranges it lists%s", wfix),
		    NULL, v->record, -1, 0);
	else if (total + 2 >= max)
		add(v, "lookup-limit-near", MT_SPF_WARNING,
		    vstr(v, "evaluating the record takes %u of the %u DNS lookups allowed: one more "
		            "provider's include (or a provider adding one) can break the limit", total, max),
		    vstr(v, "keep a margin: replace a: and mx: terms with ip4:/ip6:%s", wfix),
		    NULL, v->record, -1, 0);
	if (v->total_void > v->opts->spf.max_void_lookups)
		add(v, "void-limit", MT_SPF_ERROR,
		    vstr(v, "%u terms query names that do not exist or have no records, more than the "
		            "limit of %u void lookups (RFC 7208 section 4.6.4): receivers return permerror",
		         v->total_void, v->opts->spf.max_void_lookups),
		    "remove the terms that point to missing names (see the void-lookup findings)",
		    NULL, v->record, -1, 0);
}

/* ---- size ---- */

static const char *split_suggestion(mt_spf_verify *v, const char *rec);

/* A record over the 450 octets of RFC 7208 section 3.4. */
static void too_long(mt_spf_verify *v, const char *rec, size_t rl)
{
	if (rl <= MT_SPF_UDP_SAFE)
		return;
	add(v, "record-too-long", MT_SPF_WARNING,
	    vstr(v, "the record is %zu octets long, more than the %u that receivers are "
	            "guaranteed to fetch over UDP (RFC 7208 section 3.4): some may not get it at "
	            "all", rl, MT_SPF_UDP_SAFE),
	    vstr(v, "shorten it (merge ip4 ranges, remove unused includes) or split it: move part "
	            "of the terms to a record of their own (e.g. at _spf.<your domain>) and "
	            "include it (one more DNS lookup); as it is, a zone file needs it as these "
	            "strings of at most 255 octets: %s", rl <= 4096 ? split_suggestion(v, rec) :
	            "(too long to show)"),
	    NULL, rec, -1, 0);
}

static void size_findings(mt_spf_verify *v, const txt_set *set)
{
	too_long(v, v->record, v->record_len);
	size_t est = 12 + (strlen(v->domain) + 2) + 4 + set->answer_octets;
	if (est > 512)
		add(v, "answer-too-large", MT_SPF_WARNING,
		    vstr(v, "the TXT answer for %s is about %zu octets (all its TXT records together), "
		            "more than the 512 of a classic DNS packet: some receivers' resolvers fall "
		            "back to TCP or fail (RFC 7208 section 3.4)", v->domain, est),
		    "remove TXT records you no longer need (old verification tokens) or shorten the "
		    "SPF record", NULL, NULL, -1, 0);
}

mt_status mt_spf_zone_strings(const char *rec, size_t len, char **out)
{
	mt_buf b;
	size_t p = 0;

	if (!out)
		return MT_EINVAL;
	*out = NULL;
	if (!rec && len)
		return MT_EINVAL;
	mt_buf_init(&b, 4 * (size_t)MT_SPF_MAX_RECORD);
	if (len == 0)
		mt_buf_puts(&b, "\"\"");
	while (p < len) {
		size_t n = len - p <= 255 ? len - p : 255;
		if (p + n < len) {
			size_t cut = n;
			while (cut > 1 && rec[p + cut - 1] != ' ')
				cut--;
			if (cut > 1)
				n = cut; /* the space stays at the end of this string */
		}
		mt_buf_puts(&b, p ? " \"" : "\"");
		for (size_t i = p; i < p + n; i++) {
			unsigned char c = (unsigned char)rec[i];
			if (c == '"' || c == '\\')
				mt_buf_printf(&b, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				mt_buf_printf(&b, "\\%03u", c); /* zone-file \DDD */
			else
				mt_buf_putc(&b, (char)c);
		}
		mt_buf_putc(&b, '"');
		p += n;
	}
	if (b.err != MT_OK) {
		mt_status st = b.err == MT_ERANGE ? MT_EINVAL : b.err;
		mt_buf_free(&b);
		return st;
	}
	*out = mt_buf_take(&b);
	return *out ? MT_OK : MT_ENOMEM;
}

/* The expected record split into strings of at most 255 octets, at spaces. */
static const char *split_suggestion(mt_spf_verify *v, const char *rec)
{
	char *z = NULL;
	const char *s = "";
	mt_status st = mt_spf_zone_strings(rec, strlen(rec), &z);
	if (st == MT_OK)
		s = vdup(v, z, strlen(z));
	else if (st == MT_ENOMEM)
		v->oom = true;
	mt_free(z);
	return s;
}

/* ---- publication ---- */

/* Same record: the same terms, compared case-insensitively, spaces ignored. */
static bool same_record(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b), i = 0, j = 0;
	for (;;) {
		while (i < al && a[i] == ' ')
			i++;
		while (j < bl && b[j] == ' ')
			j++;
		if (i >= al || j >= bl)
			return i >= al && j >= bl;
		size_t si = i, sj = j;
		while (i < al && a[i] != ' ')
			i++;
		while (j < bl && b[j] != ' ')
			j++;
		if (!mt_strcaseeq(a + si, i - si, b + sj, j - sj))
			return false;
	}
}

static bool set_has(const char *const *recs, size_t n, const char *r)
{
	for (size_t i = 0; i < n; i++)
		if (same_record(recs[i], r))
			return true;
	return false;
}

static bool same_set(const char *const *a, size_t an, const char *const *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (!set_has(b, bn, a[i]))
			return false;
	return true;
}

/* The domain's authoritative servers (dns/authns.h, shared with the other
 * owner-side checks): their names kept for the messages, addresses in ns. */
static void find_ns(mt_spf_verify *v, mt_authns *ns)
{
	if (mt_authns_find(ns, v->res, v->domain, v->opts ? v->opts->timeout_ms : 0) == MT_ENOMEM)
		v->oom = true;
	for (size_t i = 0; i < ns->nnames && v->nns_names < V_MAX_NS; i++)
		v->ns_names[v->nns_names++] = vdup(v, ns->names[i], strlen(ns->names[i]));
}

static const char *ns_list(mt_spf_verify *v)
{
	mt_buf b;
	const char *s;
	if (v->nns_names == 0)
		return "(none found)";
	mt_buf_init(&b, 1u << 16);
	for (size_t i = 0; i < v->nns_names; i++)
		mt_buf_printf(&b, "%s%s", i ? ", " : "", v->ns_names[i]);
	s = b.err == MT_OK && b.data ? vdup(v, b.data, b.len) : "";
	mt_buf_free(&b);
	return s;
}

static void time_text(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, cap, "%lld (seconds since 1970)", (long long)t);
}

static void ask_servers(mt_spf_verify *v, const mt_authns *ns, const txt_set *top)
{
	const mt_spf_verify_options *o = v->opts;
	unsigned port = o->server_port ? o->server_port : 53;
	for (size_t k = 0; k < ns->naddrs && v->nns < V_MAX_ADDRS; k++) {
		const char *abuf = ns->addrs[k].address;
		mt_dns_resolver *sr = NULL;
		txt_set set;
		mt_spf_ns_answer *na;

		na = &v->ns[v->nns++];
		memset(na, 0, sizeof *na);
		na->server = v->ns_names[ns->addrs[k].ns];
		na->address = vdup(v, abuf, strlen(abuf));
		if (o->server_resolver(o->server_ctx, abuf, port, &sr) != MT_OK || !sr) {
			na->rcode = MT_DNS_FAILURE;
			na->why = "cannot set up a resolver for this server";
			continue;
		}
		if (read_txt(v, sr, v->domain, &set) != MT_OK) {
			na->rcode = MT_DNS_FAILURE;
			na->why = "the question could not be asked";
		} else {
			na->rcode = set.rcode;
			na->why = set.why;
			na->spf_count = set.nspf;
			na->spf_record = set.nspf == 1 ? set.spf[0] : NULL;
			na->ttl = set.ttl;
			na->agrees = !is_dns_failure(set.rcode) &&
			             same_set(set.spf, set.nspf, top->spf, top->nspf);
			/* keep the set for the expect comparison: store all records joined */
			if (set.nspf > 1)
				na->spf_record = spf_list(v, set.spf, set.nspf);
		}
		mt_dns_resolver_free(sr);
	}
}

static bool ns_serves(const mt_spf_ns_answer *na, const char *expect)
{
	if (is_dns_failure(na->rcode) || !na->spf_record)
		return false;
	if (na->spf_count == 1)
		return same_record(na->spf_record, expect);
	return false; /* several records: a permerror anyway */
}

static void publication(mt_spf_verify *v, const txt_set *top)
{
	const mt_spf_verify_options *o = v->opts;
	const char *expect = o->expect;
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	char when[64];
	size_t answered = 0, agreeing = 0, with_expect = 0;
	mt_authns ns;

	find_ns(v, &ns);
	if (!o->server_resolver) {
		add(v, "publication-not-checked", MT_SPF_INFO,
		    "publication was not checked: the authoritative servers were not asked directly",
		    NULL, NULL, NULL, -1, 0);
	} else if (v->nns_names == 0) {
		add(v, "ns-not-found", MT_SPF_WARNING,
		    vstr(v, "no NS records were found for %s or its parent domains, so its "
		            "authoritative servers could not be asked", v->domain),
		    "check the domain's delegation at its registrar", NULL, NULL, -1, 0);
	} else {
		ask_servers(v, &ns, top);
		mt_buf b;
		mt_buf_init(&b, 1u << 16);
		for (size_t i = 0; i < v->nns; i++) {
			const mt_spf_ns_answer *na = &v->ns[i];
			if (is_dns_failure(na->rcode)) {
				add(v, "ns-unreachable", MT_SPF_WARNING,
				    vstr(v, "the authoritative server %s (%s) did not answer: %s%s%s",
				         na->server, na->address, mt_dns_rcode_name(na->rcode),
				         na->why ? ", " : "", na->why ? na->why : ""),
				    "check that server, or remove it from the NS records", NULL, NULL, -1, 0);
				continue;
			}
			answered++;
			if (na->agrees)
				agreeing++;
			else
				mt_buf_printf(&b, "%s%s (%s) serves %s%s%s", b.len ? "; " : "", na->server,
				              na->address, na->spf_record ? "\"" : "",
				              na->spf_record ? na->spf_record : "no SPF record",
				              na->spf_record ? "\"" : "");
			if (expect && ns_serves(na, expect))
				with_expect++;
		}
		if (v->nns == 0)
			add(v, "ns-unreachable", MT_SPF_WARNING,
			    vstr(v, "no address was found for the name servers of %s (%s)", v->domain,
			         ns_list(v)),
			    "check the A/AAAA records of the name servers", NULL, NULL, -1, 0);
		/* Do the servers that answered agree with each other (and only
		 * differ from the recursive answer, which is then a cached copy)? */
		bool servers_same = true;
		const mt_spf_ns_answer *first = NULL;
		for (size_t i = 0; i < v->nns; i++) {
			const mt_spf_ns_answer *na = &v->ns[i];
			if (is_dns_failure(na->rcode))
				continue;
			if (!first)
				first = na;
			else if (na->spf_count != first->spf_count ||
			         !na->spf_record != !first->spf_record ||
			         (na->spf_record && strcmp(na->spf_record, first->spf_record) != 0))
				servers_same = false;
		}
		if (agreeing == 0 && answered > 0 && servers_same) {
			add(v, "ns-disagree", MT_SPF_WARNING,
			    vstr(v, "every authoritative server that answered serves %s%s%s, but recursive "
			            "resolvers return %s: they still hold an older answer in their cache",
			         first->spf_record ? "\"" : "", first->spf_record ? first->spf_record : "no SPF record",
			         first->spf_record ? "\"" : "",
			         top->nspf ? spf_list(v, top->spf, top->nspf) : "no SPF record"),
			    "nothing to change on the servers: wait until the cached answer expires (its TTL)",
			    NULL, NULL, -1, 0);
		} else if (agreeing < answered) {
			add(v, "ns-disagree", MT_SPF_WARNING,
			    vstr(v, "the authoritative servers do not all serve the same SPF record: %s; "
			            "the others serve what recursive resolvers return (%s). A change has "
			            "not reached every server yet, or the servers are not kept in sync",
			         b.data ? b.data : "", top->nspf ? spf_list(v, top->spf, top->nspf) : "no SPF record"),
			    "wait for the change to reach every server (zone transfer); if it persists, "
			    "correct the zone on the servers that differ",
			    NULL, NULL, -1, 0);
		}
		if (b.err != MT_OK)
			v->oom = true;
		mt_buf_free(&b);
	}
	mt_authns_clear(&ns);
	if (top->nspf > 0) {
		time_text(now + (int64_t)top->ttl, when, sizeof when);
		add(v, "ttl", MT_SPF_INFO,
		    vstr(v, "the record's TTL is %lu seconds: resolvers that cached it may keep the "
		            "current answer until %s", (unsigned long)top->ttl, when),
		    NULL, NULL, NULL, -1, 0);
	}
	if (!expect)
		return;
	bool in_recursive = set_has(top->spf, top->nspf, expect);
	if (answered > 0) {
		if (with_expect == 0)
			add(v, "expect-not-published", MT_SPF_ERROR,
			    vstr(v, "the expected record is not served by any of the domain's authoritative "
			            "servers (%s): it was probably added at a provider that is not the "
			            "domain's DNS host; the domain's DNS is served by %s",
			         ns_list(v), ns_list(v)),
			    vstr(v, "add the record at the DNS provider that operates %s (or change the "
			            "domain's NS records to the provider where you added it)", ns_list(v)),
			    NULL, NULL, -1, 0);
		else if (with_expect < answered)
			add(v, "expect-partial", MT_SPF_WARNING,
			    vstr(v, "the expected record is served by %zu of %zu authoritative servers: the "
			            "change has not reached every server yet", with_expect, answered),
			    "wait for the servers to synchronise, then verify again", NULL, NULL, -1, 0);
		else if (!in_recursive) {
			time_text(now + (int64_t)top->ttl, when, sizeof when);
			add(v, "expect-not-cached", MT_SPF_WARNING,
			    vstr(v, "every authoritative server serves the expected record, but the "
			            "recursive resolver still returns the old answer; cached copies expire "
			            "by %s", when),
			    "wait until then; nothing needs to change", NULL, NULL, -1, 0);
		}
	} else if (!in_recursive) {
		/* No server answered: say which were found and whether they were asked. */
		const char *servers, *fix;
		if (v->nns_names == 0) {
			servers = "no name servers were found for the domain, so none was asked";
			fix = "add the record at the DNS provider that hosts the domain's zone";
		} else if (!o->server_resolver) {
			servers = vstr(v, "its name servers (%s) were not asked directly", ns_list(v));
			fix = vstr(v, "add the record at the DNS provider that operates %s", ns_list(v));
		} else {
			servers = vstr(v, "none of its name servers (%s) answered", ns_list(v));
			fix = vstr(v, "add the record at the DNS provider that operates %s", ns_list(v));
		}
		add(v, "expect-not-published", MT_SPF_ERROR,
		    vstr(v, "the domain's DNS answer does not contain the expected record: it was "
		            "probably added at a provider that is not the domain's DNS host, or not "
		            "saved; %s", servers),
		    fix, NULL, NULL, -1, 0);
	}
}

static void check_expect(mt_spf_verify *v)
{
	const char *e = v->opts->expect;
	size_t len = strlen(e);
	mt_spf_record *r = NULL;
	mt_spf_syntax_error syn;
	mt_status st;

	memset(&syn, 0, sizeof syn);
	st = mt_spf_record_parse(e, len, &r, &syn);
	mt_spf_record_free(r);
	if (st == MT_ENOMEM)
		v->oom = true;
	else if (st != MT_OK)
		add(v, "expect-invalid", MT_SPF_ERROR,
		    vstr(v, "the expected record itself is invalid: %s",
		         st == MT_ESYNTAX ? syn.message : mt_strerror(st)),
		    "correct it before publishing it", NULL, vdup(v, e, len),
		    st == MT_ESYNTAX ? (long)syn.offset : -1, st == MT_ESYNTAX ? syn.length : 0);
	if (len > 255)
		add(v, "expect-needs-split", MT_SPF_INFO,
		    vstr(v, "the expected record is %zu octets, more than one DNS character-string "
		            "holds (255): it must be published as several strings, which receivers "
		            "join without spaces", len),
		    vstr(v, "enter it as %s (most DNS providers' forms split long text themselves)",
		         split_suggestion(v, e)),
		    NULL, NULL, -1, 0);
}

/* ---- authorization ---- */

static mt_status authorize(mt_spf_verify *v, size_t idx, const char *ip)
{
	mt_spf_check *chk = NULL;
	mt_spf_request req;
	mt_error err;
	mt_status st;
	mt_spf_authz *a = &v->authz[idx];
	const char *local = v->opts->sender_local ? v->opts->sender_local : "postmaster";

	memset(a, 0, sizeof *a);
	a->ip = vdup(v, ip, strlen(ip));
	st = mt_spf_check_new(&v->opts->spf, &chk, NULL);
	if (st != MT_OK)
		goto out;
	memset(&req, 0, sizeof req);
	req.ip = ip;
	req.sender = vstr(v, "%s@%s", local, v->domain);
	req.identity = MT_SPF_MAILFROM;
	req.now = v->opts->now;
	memset(&err, 0, sizeof err);
	st = mt_spf_check_start(chk, &req, &err);
	if (st == MT_OK)
		st = mt_spf_check_run(chk, v->res);
	if (st != MT_OK) {
		a->result = MT_SPF_TEMPERROR;
		a->problem = vstr(v, "the check could not run: %s",
		                  err.message[0] ? err.message : mt_strerror(st));
		st = st == MT_ENOMEM ? st : MT_OK;
		goto out;
	}
	const mt_spf_outcome *oc = mt_spf_check_outcome(chk);
	if (!oc) {
		st = MT_ESTATE;
		goto out;
	}
	a->result = oc->result;
	a->explanation = oc->explanation ? vdup(v, oc->explanation, strlen(oc->explanation)) : NULL;
	a->problem = oc->problem ? vdup(v, oc->problem, strlen(oc->problem)) : NULL;
	if (oc->chain_count > 0) {
		mt_spf_chain_link *c = mt_arena_alloc(v->arena, oc->chain_count * sizeof *c);
		if (!c) {
			st = MT_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < oc->chain_count; i++) {
			c[i].domain = oc->chain[i].domain ? vdup(v, oc->chain[i].domain, strlen(oc->chain[i].domain)) : NULL;
			c[i].term = oc->chain[i].term ? vdup(v, oc->chain[i].term, strlen(oc->chain[i].term)) : NULL;
		}
		a->chain = c;
		a->chain_count = oc->chain_count;
	}
out:
	mt_spf_check_free(chk);
	return st;
}

/* ---- the run ---- */

static void presence(mt_spf_verify *v, const txt_set *set)
{
	const char *expect = v->opts->expect;

	/* Look-alikes: texts that are meant as SPF but are ignored. */
	for (size_t i = 0; i < set->nother; i++) {
		bool sid = false;
		unsigned pasted = 0;
		const char *fix = lookalike(v, set->other[i], &sid, &pasted);
		if (!fix)
			continue;
		if (sid)
			add(v, "sender-id", MT_SPF_INFO,
			    vstr(v, "\"%s\" is a Sender ID record (RFC 4406, obsolete): SPF receivers "
			            "ignore it", set->other[i]),
			    "remove it; SPF uses only the record beginning \"v=spf1 \"", NULL,
			    set->other[i], -1, 0);
		else
			add(v, "broken-record", MT_SPF_ERROR,
			    vstr(v, "\"%s\" looks like an SPF record but is not one: a record must begin "
			            "with exactly \"v=spf1\" followed by a space%s, so receivers silently "
			            "ignore this text%s", set->other[i],
			         pasted ? vstr(v, " and be plain ASCII (this one holds "
			                          "U+%04X, pasted from a word processor or web page)",
			                       pasted) : "",
			         set->nspf == 0 ? vstr(v, " and %s has no SPF record (\"none\" for every "
			                                 "receiver)", v->domain) : ""),
			    vstr(v, "replace it with \"%s\"", fix), NULL, set->other[i], 0,
			    strlen(set->other[i]) < 6 ? strlen(set->other[i]) : 6);
	}
	/* A broken record explains the absence: the broken-record error says it
	 * and how to fix it, so no-record is not reported beside it. */
	if (set->nspf == 0 && !has_code(v, "broken-record")) {
		add(v, "no-record", MT_SPF_ERROR,
		    vstr(v, "%s has no SPF record: receivers get \"none\" and cannot tell forged mail "
		            "from yours", v->domain),
		    expect ? vstr(v, "publish a TXT record at %s: \"%s\"", v->domain, expect)
		           : vstr(v, "publish a TXT record at %s such as \"v=spf1 mx -all\" (list your "
		                     "senders; \"v=spf1 -all\" if the domain sends no mail)", v->domain),
		    NULL, NULL, -1, 0);
	} else if (set->nspf > 1) {
		char *merged = NULL;
		mt_error err;
		memset(&err, 0, sizeof err);
		mt_status st = mt_spf_merge(set->spf, set->nspf, v->opts->spf.max_dns_mechanisms,
		                            &merged, &err);
		const char *fix;
		if (st == MT_OK && merged)
			fix = vstr(v, "replace them with this single record: %s", merged);
		else if (st == MT_ENOMEM)
			fix = (v->oom = true, "");
		else
			fix = vstr(v, "combine them into one record by hand; they cannot be merged "
			              "automatically: %s", err.message[0] ? err.message : mt_strerror(st));
		mt_free(merged);
		add(v, "multiple-records", MT_SPF_ERROR,
		    vstr(v, "%s publishes %zu SPF records: %s. RFC 7208 section 4.5 makes that a "
		            "permerror for every receiver, so none of them is used", v->domain,
		         set->nspf, spf_list(v, set->spf, set->nspf)),
		    fix, NULL, NULL, -1, 0);
	} else if (set->nstrings[0] > 1) {
		add(v, "split-record", MT_SPF_INFO,
		    vstr(v, "the record is published as %zu strings; receivers join them without "
		            "spaces into: %s", set->nstrings[0], set->spf[0]),
		    NULL, NULL, set->spf[0], -1, 0);
	}
	/* Leading or trailing blanks inside the record. */
	if (set->nspf == 1) {
		size_t l = set->spf_len[0];
		if (l > 0 && (set->spf[0][l - 1] == ' ' || set->spf[0][l - 1] == '"'))
			add(v, "trailing-space", MT_SPF_INFO,
			    "the record ends with a space or quote: harmless here, but a sign that the "
			    "text was pasted with extra characters",
			    "remove the trailing characters", NULL, set->spf[0], (long)(l - 1), 1);
	}
}

mt_status mt_spf_verify_run(const char *domain, mt_dns_resolver *res,
                            const mt_spf_verify_options *opts, mt_spf_verify **out,
                            mt_error *err)
{
	mt_spf_verify_options defaults;
	mt_spf_verify *v = NULL;
	mt_status st = MT_OK;
	txt_set *set = NULL;
	size_t dl;
	char *d;

	if (out)
		*out = NULL;
	if (!domain || !res || !out) {
		st = mt_error_set(err, MT_EINVAL, "domain, resolver and out are required");
		goto out;
	}
	if (!opts) {
		mt_spf_verify_options_init(&defaults);
		opts = &defaults;
	}
	dl = strlen(domain);
	if (dl && domain[dl - 1] == '.')
		dl--;
	if (!mt_spf_host_name_ok(domain, dl, false)) {
		st = mt_error_set(err, MT_EINVAL, "'%s' is not a domain name", domain);
		goto out;
	}
	if (opts->spf.max_dns_mechanisms == 0 || opts->spf.max_void_lookups == 0 ||
	    opts->spf.max_mx_names == 0) {
		st = mt_error_set(err, MT_EINVAL, "the SPF limits must not be zero");
		goto out;
	}
	for (size_t i = 0; i < opts->nips; i++) {
		mt_ip ip;
		if (!opts->ips || !opts->ips[i] || !mt_ip_parse(opts->ips[i], strlen(opts->ips[i]), &ip)) {
			st = mt_error_set(err, MT_EINVAL, "'%s' is not an IPv4 or IPv6 address",
			                  opts->ips && opts->ips[i] ? opts->ips[i] : "(null)");
			goto out;
		}
	}
	v = calloc(1, sizeof *v);
	set = calloc(1, sizeof *set);
	if (!v || !set || !(v->arena = mt_arena_new(16384))) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	mt_arena_set_limit(v->arena, V_ARENA_LIMIT);
	v->opts = opts;
	v->res = res;
	d = mt_arena_strndup(v->arena, domain, dl);
	if (!d) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < dl; i++)
		d[i] = mt_lower(d[i]);
	v->domain = d;
	if (opts->nips) {
		v->authz = calloc(opts->nips, sizeof *v->authz);
		if (!v->authz) {
			st = mt_error_set(err, MT_ENOMEM, "out of memory");
			goto out;
		}
	}

	/* 1. presence */
	st = read_txt(v, res, v->domain, set);
	if (st != MT_OK)
		goto fail;
	if (is_dns_failure(set->rcode)) {
		add(v, "dns-failure", MT_SPF_ERROR,
		    vstr(v, "the TXT records of %s could not be read: %s%s%s; receivers get temperror "
		            "and may defer mail", v->domain, mt_dns_rcode_name(set->rcode),
		         set->why ? ", " : "", set->why ? set->why : ""),
		    "check that the domain's name servers answer, then verify again", NULL, NULL, -1, 0);
		v->checked = false;
		goto done;
	}
	v->checked = true;
	if (set->nspf == 1) {
		/* Set before any finding quotes it: add() takes the length of a
		 * record it knows (it may hold a NUL). */
		v->record = set->spf[0];
		v->record_len = set->spf_len[0];
	}
	if (set->rcode == MT_DNS_NXDOMAIN) {
		add(v, "domain-not-found", MT_SPF_ERROR,
		    vstr(v, "%s does not exist in the DNS (NXDOMAIN)", v->domain),
		    "check the spelling, or create the domain's zone at its DNS host", NULL, NULL, -1, 0);
	} else {
		mt_dns_answer *a99 = NULL;
		if (ask(v, res, v->domain, MT_DNS_SPF, &a99) == MT_OK && a99->rcode == MT_DNS_NOERROR &&
		    a99->count > 0)
			add(v, "spf-rr-type", MT_SPF_WARNING,
			    "the domain also has a record of the obsolete SPF type (99): RFC 7208 section "
			    "3.1 retired it and receivers read only TXT records",
			    set->nspf ? "remove the type-99 record; keep the TXT record"
			              : "publish the same text as a TXT record and remove the type-99 record",
			    NULL, NULL, -1, 0);
		mt_dns_answer_free(a99);
		presence(v, set);
	}
	if (set->nspf == 1) {
		mt_spf_record *top = NULL;
		if (set->split_rdata[0])
			check_split(v, v->domain, set->split_rdata[0], set->split_rdlen[0], v->record);
		check_record_text(v, v->domain, v->record, v->record_len, &top);
		if (top) {
			check_parsed(v, v->domain, top, true);
			walk_tree(v, top, set->ttl);
			limit_findings(v);
		} else {
			v->nnodes = 1;
			memset(&v->nodes[0], 0, sizeof v->nodes[0]);
			v->nodes[0].domain = v->domain;
			v->nodes[0].via = "top";
			v->nodes[0].record = v->record;
			v->nodes[0].record_len = v->record_len;
			v->nodes[0].status = MT_SPF_PERMERROR;
			v->nodes[0].ttl = set->ttl;
		}
		size_findings(v, set);
	}
	if (opts->expect)
		check_expect(v);
	/* 6. publication */
	publication(v, set);
	/* 7. authorization */
	for (size_t i = 0; i < opts->nips; i++) {
		st = authorize(v, i, opts->ips[i]);
		if (st != MT_OK)
			goto fail;
		v->nauthz++;
	}
done:
	if (v->oom) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	v->opts = NULL;
	v->res = NULL;
	*out = v;
	v = NULL;
	st = MT_OK;
	goto out;
fail:
	mt_error_set(err, st, "%s", mt_strerror(st));
out:
	free(set);
	mt_spf_verify_free(v);
	return st;
}

/* ---- reports without DNS: lint, merge and build notes ---- */

mt_spf_verify *mt_spf_report_new(void)
{
	mt_spf_verify *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	v->arena = mt_arena_new(4096);
	if (!v->arena) {
		free(v);
		return NULL;
	}
	mt_arena_set_limit(v->arena, V_ARENA_LIMIT);
	v->checked = true;
	return v;
}

bool mt_spf_report_ok(const mt_spf_verify *v)
{
	return v && !v->oom;
}

void mt_spf_report_add(mt_spf_verify *rep, const char *code, mt_spf_severity sev,
                       const char *fix, const char *record, long offset, size_t length,
                       const char *fmt, ...)
{
	va_list ap;
	char small[512], *msg;
	const char *fx = NULL, *rec = NULL;
	int n;

	if (!rep)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		rep->oom = true;
		return;
	}
	msg = mt_arena_alloc(rep->arena, (size_t)n + 1);
	if (!msg) {
		rep->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (fix)
		fx = vdup(rep, fix, strlen(fix));
	if (record)
		rec = vdup(rep, record, strlen(record));
	/* code: the caller's (merge.c, build) */
	add(rep, code, sev, msg, fx, NULL, rec, offset, length);
}

void mt_spf_report_too_long(mt_spf_verify *v, const char *rec)
{
	if (v && rec)
		too_long(v, vdup(v, rec, strlen(rec)), strlen(rec));
}

mt_status mt_spf_lint(const char *record, size_t len, mt_spf_verify **out, mt_error *err)
{
	mt_spf_verify_options defaults;
	mt_spf_verify *v = NULL;
	mt_spf_record *rec = NULL;
	const char *text;
	mt_status st = MT_OK;

	if (out)
		*out = NULL;
	if (!out || (!record && len))
		return mt_error_set(err, MT_EINVAL, "record and out are required");
	if (!record)
		record = "";
	if (len > MT_SPF_MAX_RECORD)
		return mt_error_set(err, MT_EINVAL, "the record is longer than %u octets",
		                    MT_SPF_MAX_RECORD);
	v = mt_spf_report_new();
	if (!v)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	mt_spf_verify_options_init(&defaults);
	v->opts = &defaults;
	text = vdup(v, record, len);
	v->record = text;
	v->record_len = len;
	if (!mt_spf_is_record(text, len)) {
		bool sid = false;
		unsigned pasted = 0;
		const char *fix = lookalike(v, text, &sid, &pasted);
		if (fix && sid)
			add(v, "sender-id", MT_SPF_INFO,
			    "this is a Sender ID record (RFC 4406, obsolete): SPF receivers ignore it",
			    "publish an SPF record beginning \"v=spf1 \" instead", NULL, text, -1, 0);
		else if (fix)
			add(v, "broken-record", MT_SPF_ERROR,
			    vstr(v, "this looks like an SPF record but is not one: a record must begin "
			            "with exactly \"v=spf1\" followed by a space%s, so receivers silently "
			            "ignore it (the domain would have no SPF record)",
			         pasted ? vstr(v, " and be plain ASCII (this one holds U+%04X, pasted "
			                          "from a word processor or web page)", pasted) : ""),
			    vstr(v, "replace it with \"%s\"", fix), NULL, text, 0, len < 6 ? len : 6);
	} else {
		check_record_text(v, NULL, text, len, &rec);
		if (rec)
			check_parsed(v, NULL, rec, true);
		if (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '"'))
			add(v, "trailing-space", MT_SPF_INFO,
			    "the record ends with a space or quote: harmless, but a sign that the text was "
			    "pasted with extra characters",
			    "remove the trailing characters", NULL, text, (long)(len - 1), 1);
		too_long(v, text, len);
	}
	v->opts = NULL;
	if (v->oom) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		mt_spf_verify_free(v);
		return st;
	}
	*out = v;
	return MT_OK;
}

void mt_spf_verify_free(mt_spf_verify *v)
{
	if (!v)
		return;
	mt_arena_free(v->arena);
	free(v->findings);
	free(v->authz);
	free(v);
}

bool mt_spf_verify_checked(const mt_spf_verify *v)
{
	return v && v->checked;
}

mt_spf_severity mt_spf_verify_worst(const mt_spf_verify *v)
{
	mt_spf_severity w = MT_SPF_INFO;
	for (size_t i = 0; v && i < v->nfindings; i++)
		if (v->findings[i].severity > w)
			w = v->findings[i].severity;
	return w;
}

const char *mt_spf_verify_domain(const mt_spf_verify *v) { return v ? v->domain : NULL; }
const char *mt_spf_verify_record(const mt_spf_verify *v) { return v ? v->record : NULL; }
size_t mt_spf_verify_record_len(const mt_spf_verify *v) { return v && v->record ? v->record_len : 0; }
size_t mt_spf_verify_finding_count(const mt_spf_verify *v) { return v ? v->nfindings : 0; }

const mt_spf_finding *mt_spf_verify_finding(const mt_spf_verify *v, size_t i)
{
	return v && i < v->nfindings ? &v->findings[i] : NULL;
}

size_t mt_spf_verify_tree_count(const mt_spf_verify *v) { return v ? v->nnodes : 0; }

const mt_spf_tree_node *mt_spf_verify_tree(const mt_spf_verify *v, size_t i)
{
	return v && i < v->nnodes ? &v->nodes[i] : NULL;
}

unsigned mt_spf_verify_total_lookups(const mt_spf_verify *v) { return v ? v->total_lookups : 0; }
unsigned mt_spf_verify_total_void(const mt_spf_verify *v) { return v ? v->total_void : 0; }
size_t mt_spf_verify_ns_count(const mt_spf_verify *v) { return v ? v->nns : 0; }

const mt_spf_ns_answer *mt_spf_verify_ns(const mt_spf_verify *v, size_t i)
{
	return v && i < v->nns ? &v->ns[i] : NULL;
}

size_t mt_spf_verify_authz_count(const mt_spf_verify *v) { return v ? v->nauthz : 0; }

const mt_spf_authz *mt_spf_verify_authz(const mt_spf_verify *v, size_t i)
{
	return v && i < v->nauthz ? &v->authz[i] : NULL;
}
