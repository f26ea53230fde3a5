/* DKIM signing (RFC 6376 section 5, RFC 8463): the message streamed through
 * mt_msg, one body hash for every signature, the fields built and folded
 * here and signed over exactly the text that is returned. */
#include <mailtrust/dkim_sign.h>
#include <mailtrust/msg.h>
#include "dkim/dkim_int.h"
#include "msg/msg_int.h"
#include "dkim/dkim_tags.h"
#include "util/util.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#define FOLD_WIDTH 78
#define HDATA_MAX ((size_t)8 << 20)
#define IDENTITY_MAX 512

typedef struct entry {
	const mt_dkim_keygen *key;
	char *d, *s;
	char *i;                 /* dkim-quoted-printable, or NULL */
} entry;

/* A colon-separated list of field names, split (names point into text). */
typedef struct namelist {
	char *text;
	const char **names;
	size_t n;
} namelist;

struct mt_dkim_sign {
	mt_dkim_sign_options o;
	namelist headers, oversign;
	entry e[MT_DKIM_SIGN_MAX_KEYS];
	size_t ne;
	mt_msg *msg;
	mt_dkim_bodyhash_set *bhs;
	size_t bh_idx;
	const char **h;          /* h= names, in order (pointing into the lists) */
	size_t nh;
	bool fed, finished;
	mt_status fail;
	char fail_msg[256];
	char *fields;            /* the result */
	size_t fields_len;
	size_t off[MT_DKIM_SIGN_MAX_KEYS + 1];
	uint64_t body_len;
};

void mt_dkim_sign_options_init(mt_dkim_sign_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
	opts->canon_header = MT_DKIM_SIGN_RELAXED;
	opts->canon_body = MT_DKIM_SIGN_RELAXED;
}

static bool canon_word(const char *s, size_t len, mt_dkim_sign_canon *c)
{
	if (len == 6 && memcmp(s, "simple", 6) == 0)
		*c = MT_DKIM_SIGN_SIMPLE;
	else if (len == 7 && memcmp(s, "relaxed", 7) == 0)
		*c = MT_DKIM_SIGN_RELAXED;
	else
		return false;
	return true;
}

mt_status mt_dkim_sign_parse_canon(const char *text, mt_dkim_sign_canon *header,
                                   mt_dkim_sign_canon *body, mt_error *err)
{
	const char *slash;
	size_t len;

	if (!text || !header || !body)
		return mt_error_set(err, MT_EINVAL, "no canonicalization given");
	len = strlen(text);
	slash = memchr(text, '/', len);
	if (!slash) {
		if (!canon_word(text, len, header))
			goto bad;
		*body = MT_DKIM_SIGN_SIMPLE; /* c=relaxed means relaxed/simple (3.5) */
		return MT_OK;
	}
	if (!canon_word(text, (size_t)(slash - text), header) ||
	    !canon_word(slash + 1, len - (size_t)(slash - text) - 1, body))
		goto bad;
	return MT_OK;
bad:
	return mt_error_set(err, MT_EINVAL,
	                    "canonicalization '%.64s' is not HEADER/BODY with each simple or relaxed",
	                    text);
}

static void namelist_free(namelist *l)
{
	free(l->text);
	free(l->names);
	memset(l, 0, sizeof *l);
}

/* Split and check a list ("" gives none); duplicates (any case) dropped. */
static mt_status namelist_parse(namelist *l, const char *what, const char *text, mt_error *err)
{
	size_t len = strlen(text), cap = 1, i;
	char *p;

	for (i = 0; i < len; i++)
		cap += text[i] == ':';
	l->text = malloc(len + 1);
	l->names = calloc(cap, sizeof *l->names);
	if (!l->text || !l->names)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	memcpy(l->text, text, len + 1);
	if (len == 0)
		return MT_OK;
	p = l->text;
	for (;;) {
		char *end = strchr(p, ':'), *a = p, *b;
		bool dup = false;
		if (end)
			*end = '\0';
		b = a + strlen(a);
		while (*a == ' ' || *a == '\t')
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		*b = '\0';
		if (a == b)
			return mt_error_set(err, MT_EINVAL, "the %s list '%.80s' has an empty name", what,
			                    text);
		for (char *c = a; c < b; c++)
			if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e)
				return mt_error_set(err, MT_EINVAL,
				                    "the %s list has the octet 0x%02x in the name at offset %zu: "
				                    "a field name is printable ASCII without ':'", what,
				                    (unsigned char)*c, (size_t)(c - l->text));
		for (i = 0; i < l->n; i++)
			if (mt_strcaseeq(l->names[i], strlen(l->names[i]), a, (size_t)(b - a)))
				dup = true;
		if (!dup)
			l->names[l->n++] = a;
		if (!end)
			break;
		p = end + 1;
	}
	return MT_OK;
}

static bool namelist_has(const namelist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (mt_strcaseeq(l->names[i], strlen(l->names[i]), name, strlen(name)))
			return true;
	return false;
}

static void sfail(mt_dkim_sign *s, mt_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sfail(mt_dkim_sign *s, mt_status st, const char *fmt, ...)
{
	va_list ap;
	if (s->fail != MT_OK)
		return;
	s->fail = st;
	va_start(ap, fmt);
	vsnprintf(s->fail_msg, sizeof s->fail_msg, fmt, ap);
	va_end(ap);
}

/* ---- the header ---------------------------------------------------------- */

static size_t count_named(const mt_msg *msg, const char *name)
{
	size_t n = 0, nf = mt_msg_field_count(msg), len = strlen(name);
	for (size_t k = 0; k < nf; k++) {
		const mt_msg_field *f = mt_msg_field_at(msg, k);
		if (!(f->flags & MT_MSG_FIELD_MALFORMED) && mt_strcaseeq(f->name, f->name_len, name, len))
			n++;
	}
	return n;
}

static void on_header(void *arg, mt_msg *msg)
{
	mt_dkim_sign *s = arg;
	const mt_msg_field *first = mt_msg_field_at(msg, 0);
	size_t total = 0;

	if (first && (first->flags & MT_MSG_FIELD_MALFORMED) && first->raw_len &&
	    (first->raw[0] == ' ' || first->raw[0] == '\t')) {
		sfail(s, MT_ESYNTAX, "the message begins with a continuation line (offset 0): a "
		      "signature field put on top would take it in");
		return;
	}
	if (!mt_msg_find(msg, "from", 0)) {
		sfail(s, MT_ESYNTAX, "the message has no From field; DKIM signs From (RFC 6376 5.4)");
		return;
	}
	for (size_t k = 0; k < s->headers.n; k++)
		total += count_named(msg, s->headers.names[k]);
	total += s->oversign.n;
	if (total > MT_DKIM_SIG_HEADERS_MAX) {
		sfail(s, MT_ERANGE, "%zu header fields to sign; a signature lists at most %d", total,
		      MT_DKIM_SIG_HEADERS_MAX);
		return;
	}
	s->h = calloc(total ? total : 1, sizeof *s->h);
	if (!s->h) {
		sfail(s, MT_ENOMEM, "out of memory");
		return;
	}
	for (size_t k = 0; k < s->headers.n; k++)
		for (size_t c = count_named(msg, s->headers.names[k]); c > 0; c--)
			s->h[s->nh++] = s->headers.names[k];
	for (size_t k = 0; k < s->oversign.n; k++)
		s->h[s->nh++] = s->oversign.names[k];
}

static void on_body(void *arg, const uint8_t *data, size_t len)
{
	mt_dkim_sign *s = arg;
	if (s->fail == MT_OK && mt_dkim_bodyhash_set_update(s->bhs, data, len) != MT_OK)
		sfail(s, MT_EIO, "body hashing failed");
}

/* ---- signing ------------------------------------------------------------- */

static char *base64(const unsigned char *in, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

mt_status mt_dkim_sign_header(const mt_dkim_keygen *key, const mt_msg *msg,
                              const char *const *names, size_t n, mt_dkim_canon c,
                              const char *field, size_t field_len, char **b64, mt_error *err)
{
	EVP_PKEY *pk = key ? mt_dkim_keygen_pkey(key) : NULL;
	EVP_MD_CTX *mc = NULL;
	unsigned char *sig = NULL, hh[32];
	size_t siglen = 0;
	unsigned int hl = 0;
	mt_status st = MT_OK;
	mt_buf data;

	if (!pk || !msg || (!names && n) || !field || !b64)
		return mt_error_set(err, MT_EINVAL, "mt_dkim_sign_header: NULL argument");
	*b64 = NULL;
	mt_buf_init(&data, HDATA_MAX);
	for (size_t h = 0; h < n; h++) {
		const mt_msg_field *f;
		size_t nth = 0, len = strlen(names[h]);
		for (size_t e = 0; e < h; e++)
			if (mt_strcaseeq(names[e], strlen(names[e]), names[h], len))
				nth++;
		f = mt_msg_find_last(msg, names[h], nth);
		if (f)
			mt_dkim_canon_header_buf(c, f->raw, f->raw_len, &data);
	}
	mt_dkim_canon_header_buf(c, field, field_len, &data);
	if (data.err != MT_OK) {
		st = mt_error_set(err, data.err, data.err == MT_ENOMEM ? "out of memory"
		                  : "the signed header data is larger than 8 MiB");
		goto out;
	}
	mc = EVP_MD_CTX_new();
	sig = malloc((size_t)EVP_PKEY_get_size(pk) + 1);
	if (!mc || !sig) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	siglen = (size_t)EVP_PKEY_get_size(pk);
	if (mt_dkim_keygen_get_type(key) == MT_DKIM_KEYGEN_ED25519) {
		if (!EVP_Digest(data.data ? data.data : "", data.len, hh, &hl, EVP_sha256(), NULL) ||
		    hl != 32 || EVP_DigestSignInit(mc, NULL, NULL, NULL, pk) != 1 ||
		    EVP_DigestSign(mc, sig, &siglen, hh, 32) != 1)
			st = MT_EIO;
	} else if (EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, pk) != 1 ||
	           EVP_DigestSign(mc, sig, &siglen, (const unsigned char *)(data.data ? data.data : ""),
	                          data.len) != 1) {
		st = MT_EIO;
	}
	if (st != MT_OK) {
		mt_error_set(err, st, "libcrypto could not sign with the %s key",
		             mt_dkim_keygen_type_name(mt_dkim_keygen_get_type(key)));
		goto out;
	}
	*b64 = base64(sig, siglen);
	if (!*b64)
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
out:
	EVP_MD_CTX_free(mc);
	free(sig);
	mt_buf_free(&data);
	ERR_clear_error();
	return st;
}

/* A field being folded: CRLF SP before an atom that would pass the width. */
typedef struct folder {
	mt_buf b;
	size_t col;
} folder;

/* Before an atom of len octets (and a space before it when space): fold
 * if it would pass the width, else write the space.  The caller writes the
 * atom and moves col. */
static void fold_room(folder *f, size_t len, bool space)
{
	if (f->col + len + (space ? 1 : 0) > FOLD_WIDTH && f->col > 1) {
		mt_buf_puts(&f->b, "\r\n ");
		f->col = 1;
	} else if (space) {
		mt_buf_putc(&f->b, ' ');
		f->col++;
	}
}

static void fold_tag(folder *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fold_tag(folder *f, const char *fmt, ...)
{
	char tmp[600];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		f->b.err = MT_ERANGE;
		return;
	}
	fold_room(f, (size_t)n, true);
	mt_buf_append(&f->b, tmp, (size_t)n);
	f->col += (size_t)n;
}

/* A base64 value after its tag name: broken wherever the line is full. */
static void fold_value(folder *f, const char *v, size_t len)
{
	while (len) {
		size_t room = f->col < FOLD_WIDTH ? FOLD_WIDTH - f->col : 0, take;
		if (room == 0) {
			mt_buf_puts(&f->b, "\r\n ");
			f->col = 1;
			continue;
		}
		take = len < room ? len : room;
		mt_buf_append(&f->b, v, take);
		f->col += take;
		v += take;
		len -= take;
	}
}

static mt_status sign_entry(mt_dkim_sign *s, const entry *e, const char *bh, mt_buf *out,
                            mt_error *err)
{
	static const char *const cn[] = { "simple", "relaxed" };
	folder f;
	char *b = NULL;
	mt_status st;
	bool ed = mt_dkim_keygen_get_type(e->key) == MT_DKIM_KEYGEN_ED25519;
	size_t prefix;

	mt_buf_init(&f.b, MT_DKIM_TAGLIST_MAX + 64);
	mt_buf_puts(&f.b, "DKIM-Signature:");
	f.col = 15;
	fold_tag(&f, "v=1;");
	fold_tag(&f, "a=%s;", ed ? "ed25519-sha256" : "rsa-sha256");
	fold_tag(&f, "c=%s/%s;", cn[s->o.canon_header], cn[s->o.canon_body]);
	fold_tag(&f, "d=%s;", e->d);
	fold_tag(&f, "s=%s;", e->s);
	if (e->i)
		fold_tag(&f, "i=%s;", e->i);
	if (s->o.now != 0)
		fold_tag(&f, "t=%lld;", (long long)s->o.now);
	if (s->o.expire != 0)
		fold_tag(&f, "x=%llu;", (unsigned long long)((uint64_t)s->o.now + s->o.expire));
	if (s->o.body_length)
		fold_tag(&f, "l=%llu;", (unsigned long long)s->body_len);
	for (size_t k = 0; k < s->nh; k++) {
		/* "h=" stays with the first name, each ':' (';') with its name */
		size_t len = strlen(s->h[k]) + 1 + (k == 0 ? 2 : 0);
		fold_room(&f, len, k == 0);
		if (k == 0)
			mt_buf_puts(&f.b, "h=");
		mt_buf_puts(&f.b, s->h[k]);
		mt_buf_putc(&f.b, k + 1 < s->nh ? ':' : ';');
		f.col += len;
	}
	fold_room(&f, 3 + strlen(bh) + 1, true);
	mt_buf_puts(&f.b, "bh=");
	f.col += 3;
	fold_value(&f, bh, strlen(bh));
	mt_buf_putc(&f.b, ';');
	f.col++;
	fold_room(&f, 2 + 8, true); /* "b=" with some of its value */
	mt_buf_puts(&f.b, "b=");
	f.col += 2;
	if (f.b.err != MT_OK || f.b.len + 2048 > MT_DKIM_TAGLIST_MAX) {
		st = mt_error_set(err, MT_ERANGE, "the DKIM-Signature field would be longer than %d "
		                  "octets (too many or too long header names?)", MT_DKIM_TAGLIST_MAX);
		goto out;
	}
	prefix = f.b.len;
	st = mt_dkim_sign_header(e->key, s->msg, s->h, s->nh, (mt_dkim_canon)s->o.canon_header,
	                         f.b.data, prefix, &b, err);
	if (st != MT_OK)
		goto out;
	fold_value(&f, b, strlen(b));
	mt_buf_puts(&f.b, "\r\n");
	if (f.b.err != MT_OK) {
		st = mt_error_set(err, f.b.err, "out of memory");
		goto out;
	}
	if (s->o.lf) {
		for (size_t k = 0; k < f.b.len; k++)
			if (!(f.b.data[k] == '\r' && k + 1 < f.b.len && f.b.data[k + 1] == '\n'))
				mt_buf_putc(out, f.b.data[k]);
	} else {
		mt_buf_append(out, f.b.data, f.b.len);
	}
	st = out->err == MT_OK ? MT_OK : mt_error_set(err, out->err, "out of memory");
out:
	free(b);
	mt_buf_free(&f.b);
	return st;
}

/* ---- the object ---------------------------------------------------------- */

mt_status mt_dkim_sign_new(const mt_dkim_sign_options *opts, mt_dkim_sign **out, mt_error *err)
{
	mt_dkim_sign *s;
	mt_msg_options mo;
	mt_status st;

	if (!out)
		return mt_error_set(err, MT_EINVAL, "mt_dkim_sign_new: out is NULL");
	*out = NULL;
	if (opts && opts->size < offsetof(mt_dkim_sign_options, canon_body))
		return mt_error_set(err, MT_EINVAL, "mt_dkim_sign_new: options size too small");
	s = calloc(1, sizeof *s);
	if (!s)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	mt_dkim_sign_options_init(&s->o);
	if (opts) {
		size_t n = opts->size < sizeof s->o ? opts->size : sizeof s->o;
		memcpy(&s->o, opts, n);
		s->o.size = sizeof s->o;
	}
	if ((s->o.canon_header != MT_DKIM_SIGN_SIMPLE && s->o.canon_header != MT_DKIM_SIGN_RELAXED) ||
	    (s->o.canon_body != MT_DKIM_SIGN_SIMPLE && s->o.canon_body != MT_DKIM_SIGN_RELAXED)) {
		st = mt_error_set(err, MT_EINVAL, "unknown canonicalization");
		goto fail;
	}
	if (s->o.now < 0) {
		st = mt_error_set(err, MT_EINVAL, "now is negative");
		goto fail;
	}
	if (s->o.expire != 0 && s->o.now == 0) {
		st = mt_error_set(err, MT_EINVAL, "an expiry (x=) needs the time (now) to count from");
		goto fail;
	}
	if (s->o.expire > (uint64_t)1 << 40) {
		st = mt_error_set(err, MT_EINVAL, "the expiry of %llu seconds is too far away",
		                  (unsigned long long)s->o.expire);
		goto fail;
	}
	st = namelist_parse(&s->headers, "header", s->o.headers ? s->o.headers
	                    : MT_DKIM_SIGN_DEFAULT_HEADERS, err);
	if (st == MT_OK)
		st = namelist_parse(&s->oversign, "oversign", s->o.oversign ? s->o.oversign
		                    : MT_DKIM_SIGN_DEFAULT_OVERSIGN, err);
	if (st != MT_OK)
		goto fail;
	s->o.headers = s->o.oversign = NULL; /* the copies are in the lists */
	if (namelist_has(&s->oversign, "dkim-signature")) {
		/* the fields added on top would be taken for the extra instance */
		st = mt_error_set(err, MT_EINVAL, "DKIM-Signature cannot be oversigned: the signature "
		                  "fields added on top of the message would count as the extra one");
		goto fail;
	}
	if (!namelist_has(&s->headers, "from")) {
		st = mt_error_set(err, MT_EINVAL, "the header list must name From (RFC 6376 5.4)");
		goto fail;
	}
	mt_msg_options_init(&mo);
	if (s->o.max_header_bytes)
		mo.max_header_bytes = s->o.max_header_bytes;
	if (s->o.max_fields)
		mo.max_fields = s->o.max_fields;
	s->bhs = mt_dkim_bodyhash_set_new();
	if (!s->bhs || mt_dkim_bodyhash_set_add(s->bhs, (mt_dkim_canon)s->o.canon_body,
	                                        MT_DKIM_HASH_SHA256, false, 0, &s->bh_idx) != MT_OK) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto fail;
	}
	st = mt_msg_new(&mo, &s->msg, err);
	if (st != MT_OK)
		goto fail;
	mt_msg_set_header_handler(s->msg, on_header, s);
	mt_msg_set_body_handler(s->msg, on_body, s);
	/* the body hashers take bare LF and a CR ending a piece themselves */
	mt_msg_set_raw_body(s->msg, true);
	*out = s;
	return MT_OK;
fail:
	mt_dkim_sign_free(s);
	return st;
}

void mt_dkim_sign_free(mt_dkim_sign *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->ne; k++) {
		free(s->e[k].d);
		free(s->e[k].s);
		free(s->e[k].i);
	}
	namelist_free(&s->headers);
	namelist_free(&s->oversign);
	free(s->h);
	free(s->fields);
	mt_dkim_bodyhash_set_free(s->bhs);
	mt_msg_free(s->msg);
	free(s);
}

static char *dup_domain(const char *d)
{
	size_t n = strlen(d);
	char *p;
	if (n > 1 && d[n - 1] == '.')
		n--;
	p = malloc(n + 1);
	if (p) {
		memcpy(p, d, n);
		p[n] = '\0';
	}
	return p;
}

/* i= as dkim-quoted-printable (RFC 6376 2.11), its domain checked. */
static mt_status identity(const char *id, const char *d, char **out, mt_error *err)
{
	const char *at = strrchr(id, '@');
	size_t dl = strlen(d), il;
	mt_buf b;
	mt_error e2;

	if (!at)
		return mt_error_set(err, MT_EINVAL, "the identity '%.80s' has no '@'", id);
	il = strlen(at + 1);
	if (mt_dkim_record_check_names("x", at + 1, &e2) != MT_OK)
		return mt_error_set(err, MT_EINVAL, "the identity's %s",
		                    strncmp(e2.message, "the ", 4) == 0 ? e2.message + 4 : e2.message);
	if (il > 1 && at[il] == '.')
		il--;
	if (!(mt_strcaseeq(at + 1, il, d, dl) ||
	      (il > dl && at[il - dl] == '.' && mt_strcaseeq(at + 1 + il - dl, dl, d, dl))))
		return mt_error_set(err, MT_EINVAL, "the identity's domain '%.*s' is neither d=%s nor a "
		                    "subdomain of it (RFC 6376 3.5)", (int)(il > 80 ? 80 : il), at + 1, d);
	mt_buf_init(&b, IDENTITY_MAX + 1);
	for (const char *c = id; c < at; c++) {
		unsigned char ch = (unsigned char)*c;
		if (ch >= 0x21 && ch <= 0x7e && ch != ';' && ch != '=')
			mt_buf_putc(&b, (char)ch);
		else
			mt_buf_printf(&b, "=%02X", ch);
	}
	mt_buf_putc(&b, '@');
	mt_buf_append(&b, at + 1, il);
	*out = mt_buf_take(&b);
	if (!*out)
		return mt_error_set(err, MT_EINVAL, "the identity is longer than %d octets (written "
		                    "dkim-quoted-printable)", IDENTITY_MAX);
	return MT_OK;
}

mt_status mt_dkim_sign_add(mt_dkim_sign *s, const mt_dkim_keygen *key, const char *domain,
                           const char *selector, const char *id, mt_error *err)
{
	entry *e;
	mt_status st;

	if (!s || !key || !domain || !selector)
		return mt_error_set(err, MT_EINVAL, "mt_dkim_sign_add: NULL argument");
	if (s->fed || s->finished)
		return mt_error_set(err, MT_ESTATE, "mt_dkim_sign_add: the message is being read");
	if (s->ne == MT_DKIM_SIGN_MAX_KEYS)
		return mt_error_set(err, MT_ERANGE, "at most %d signatures per message",
		                    MT_DKIM_SIGN_MAX_KEYS);
	if (!mt_dkim_keygen_pkey(key))
		return mt_error_set(err, MT_EINVAL, "the key object holds no key");
	st = mt_dkim_record_check_names(selector, domain, err);
	if (st != MT_OK)
		return st;
	e = &s->e[s->ne];
	memset(e, 0, sizeof *e);
	e->key = key;
	e->d = dup_domain(domain);
	e->s = dup_domain(selector);
	if (!e->d || !e->s) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto fail;
	}
	if (id) {
		st = identity(id, e->d, &e->i, err);
		if (st != MT_OK)
			goto fail;
	}
	s->ne++;
	return MT_OK;
fail:
	free(e->d);
	free(e->s);
	free(e->i);
	memset(e, 0, sizeof *e);
	return st;
}

mt_status mt_dkim_sign_feed(mt_dkim_sign *s, const void *data, size_t len, mt_error *err)
{
	mt_status st;
	if (!s || (!data && len))
		return mt_error_set(err, MT_EINVAL, "mt_dkim_sign_feed: NULL argument");
	if (s->finished)
		return mt_error_set(err, MT_ESTATE, "mt_dkim_sign_feed: after finish");
	if (s->ne == 0)
		return mt_error_set(err, MT_ESTATE, "mt_dkim_sign_feed: no key added");
	if (s->fail != MT_OK)
		return mt_error_set(err, s->fail, "%s", s->fail_msg);
	s->fed = true;
	st = mt_msg_feed(s->msg, data, len, err);
	if (st != MT_OK) {
		sfail(s, st, "%s", err ? err->message : "reading the message failed");
		return st;
	}
	if (s->fail != MT_OK)
		return mt_error_set(err, s->fail, "%s", s->fail_msg);
	return MT_OK;
}

mt_status mt_dkim_sign_finish(mt_dkim_sign *s, mt_error *err)
{
	const mt_dkim_bodyhash_result *r;
	char *bh = NULL;
	mt_status st;
	mt_buf out;

	if (!s)
		return mt_error_set(err, MT_EINVAL, "mt_dkim_sign_finish: NULL argument");
	if (s->finished)
		return mt_error_set(err, MT_ESTATE, "mt_dkim_sign_finish: called twice");
	if (s->ne == 0)
		return mt_error_set(err, MT_ESTATE, "mt_dkim_sign_finish: no key added");
	if (s->fail != MT_OK)
		return mt_error_set(err, s->fail, "%s", s->fail_msg);
	s->fed = true;
	st = mt_msg_finish(s->msg, err);
	if (st != MT_OK) {
		sfail(s, st, "%s", err ? err->message : "reading the message failed");
		return st;
	}
	if (s->fail == MT_OK && mt_dkim_bodyhash_set_final(s->bhs) != MT_OK)
		sfail(s, MT_EIO, "finishing the body hash failed");
	if (s->fail != MT_OK)
		return mt_error_set(err, s->fail, "%s", s->fail_msg);
	s->finished = true;
	r = mt_dkim_bodyhash_set_result(s->bhs, s->bh_idx);
	if (!r) {
		sfail(s, MT_EIO, "no body hash");
		return mt_error_set(err, s->fail, "%s", s->fail_msg);
	}
	s->body_len = r->canon_len;
	bh = base64(r->digest, r->digest_len);
	if (!bh) {
		sfail(s, MT_ENOMEM, "out of memory");
		return mt_error_set(err, s->fail, "%s", s->fail_msg);
	}
	mt_buf_init(&out, (size_t)MT_DKIM_SIGN_MAX_KEYS * (MT_DKIM_TAGLIST_MAX + 2048));
	for (size_t k = 0; k < s->ne && st == MT_OK; k++) {
		s->off[k] = out.len;
		st = sign_entry(s, &s->e[k], bh, &out, err);
	}
	s->off[s->ne] = out.len;
	free(bh);
	if (st != MT_OK) {
		mt_buf_free(&out);
		sfail(s, st, "%s", err ? err->message : "signing failed");
		return st;
	}
	s->fields_len = out.len;
	s->fields = mt_buf_take(&out);
	if (!s->fields) {
		sfail(s, MT_ENOMEM, "out of memory");
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	return MT_OK;
}

const char *mt_dkim_sign_fields(const mt_dkim_sign *s, size_t *len)
{
	if (!s || !s->fields || s->fail != MT_OK)
		return NULL;
	if (len)
		*len = s->fields_len;
	return s->fields;
}

size_t mt_dkim_sign_count(const mt_dkim_sign *s)
{
	return s ? s->ne : 0;
}

const char *mt_dkim_sign_field(const mt_dkim_sign *s, size_t i, size_t *len)
{
	if (!s || !s->fields || s->fail != MT_OK || i >= s->ne || !len)
		return NULL;
	*len = s->off[i + 1] - s->off[i];
	return s->fields + s->off[i];
}

uint64_t mt_dkim_sign_body_length(const mt_dkim_sign *s)
{
	return s && s->finished ? s->body_len : 0;
}

/* ---- is the key published? ----------------------------------------------- */

static void reason_set(char *reason, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reason_set(char *reason, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (!reason || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, cap, fmt, ap);
	va_end(ap);
}

mt_status mt_dkim_key_match_record(const mt_dkim_keygen *key, const char *record, size_t len,
                                   mt_dkim_key_match *match, char *reason, size_t reason_cap)
{
	mt_dkim_key *k = NULL;
	bool ed;

	if (!key || (!record && len) || !match || !mt_dkim_keygen_pkey(key))
		return MT_EINVAL;
	if (mt_dkim_key_parse(record ? record : "", len, &k) != MT_OK)
		return MT_ENOMEM;
	ed = mt_dkim_keygen_get_type(key) == MT_DKIM_KEYGEN_ED25519;
	if (k->revoked) {
		*match = MT_DKIM_KEY_REVOKED;
		reason_set(reason, reason_cap, "the published key is revoked (empty p=)");
	} else if (k->perm.failed || !k->pkey) {
		*match = MT_DKIM_KEY_UNUSABLE;
		reason_set(reason, reason_cap, "the published record is not a usable key: %s",
		           k->perm.message);
	} else if ((k->key_type == MT_DKIM_KEY_ED25519) != ed) {
		*match = MT_DKIM_KEY_MISMATCH;
		reason_set(reason, reason_cap, "the published key is %s, the private key %s",
		           k->key_type == MT_DKIM_KEY_ED25519 ? "ed25519" : "rsa",
		           ed ? "ed25519" : "rsa");
	} else if (EVP_PKEY_eq(k->pkey, mt_dkim_keygen_pkey(key)) != 1) {
		*match = MT_DKIM_KEY_MISMATCH;
		reason_set(reason, reason_cap, "the published p= is another %s key (%d bits) than the "
		           "private key's", ed ? "ed25519" : "rsa", k->bits);
	} else if (!mt_dkim_key_allows_hash(k, MT_DKIM_HASH_SHA256)) {
		*match = MT_DKIM_KEY_UNUSABLE;
		reason_set(reason, reason_cap, "the published key's h= excludes sha256");
	} else {
		*match = MT_DKIM_KEY_MATCH;
		reason_set(reason, reason_cap, "the published key is the private key's public key");
	}
	mt_dkim_key_free(k);
	ERR_clear_error();
	return MT_OK;
}
