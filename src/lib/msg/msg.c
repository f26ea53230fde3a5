/* RFC 5322 message reader: header fields with their raw bytes, the body
 * streamed to a consumer.  Input of any chunking, CRLF or bare LF. */
#include "msg/msg_int.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_DEFAULT_HEADER_BYTES ((size_t)1 << 20)
#define MSG_DEFAULT_FIELDS 1000
#define MSG_MAX_PROBLEMS 64

enum { ST_HEADER, ST_BODY, ST_DONE, ST_FAILED };

/* Where a field's strings lie in the buffers (they move when these grow). */
typedef struct field_off {
	size_t raw;
	size_t name;
	size_t value;
} field_off;

struct mt_msg {
	mt_msg_options opts;
	int state;
	mt_status fail_st;
	char fail_msg[sizeof(((mt_error *)0)->message)];
	bool in_cb;
	bool pending_cr;
	bool sep_seen;
	bool hdr_done;
	bool body_begun;
	bool raw_body;          /* mt_msg_set_raw_body() */
	uint64_t in_off;

	/* the header block, CRLF-normalised */
	char *hdr;
	size_t hdr_len, hdr_cap;
	size_t line_start;      /* offset in hdr of the line being read */
	uint64_t line_in_off;   /* its offset in the input */
	bool line_fresh;        /* no input octet of this line consumed yet */
	unsigned line_flags;
	bool field_open;
	size_t field_start;
	uint64_t field_in_off;
	unsigned field_flags;
	bool field_orphan;      /* began with a continuation line */

	/* names and unfolded values, NUL-terminated */
	char *vals;
	size_t vals_len, vals_cap;

	mt_msg_field *fields;
	field_off *foffs;
	size_t nfields, fields_cap;

	mt_msg_problem problems[MSG_MAX_PROBLEMS];
	size_t nprob, prob_total;

	uint8_t *bbuf;
	size_t blen;
	uint64_t body_len;

	mt_msg_header_fn hdr_fn;
	void *hdr_arg;
	mt_msg_body_fn body_fn;
	void *body_arg;
};

void mt_msg_options_init(mt_msg_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
	opts->max_header_bytes = MSG_DEFAULT_HEADER_BYTES;
	opts->max_fields = MSG_DEFAULT_FIELDS;
}

mt_status mt_msg_new(const mt_msg_options *opts, mt_msg **out, mt_error *err)
{
	mt_msg_options o;
	mt_msg *m;

	if (!out)
		return mt_error_set(err, MT_EINVAL, "mt_msg_new: no place for the result");
	*out = NULL;
	mt_msg_options_init(&o);
	if (opts) {
		if (opts->size < offsetof(mt_msg_options, max_header_bytes))
			return mt_error_set(err, MT_EINVAL, "mt_msg_new: options size %zu too small",
			                    opts->size);
		memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
		o.size = sizeof o;
		if (!o.max_header_bytes)
			o.max_header_bytes = MSG_DEFAULT_HEADER_BYTES;
		if (!o.max_fields)
			o.max_fields = MSG_DEFAULT_FIELDS;
	}
	m = calloc(1, sizeof *m);
	if (!m)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	m->opts = o;
	m->state = ST_HEADER;
	m->line_fresh = true;
	*out = m;
	return MT_OK;
}

void mt_msg_free(mt_msg *m)
{
	if (!m)
		return;
	free(m->hdr);
	free(m->vals);
	free(m->fields);
	free(m->foffs);
	free(m->bbuf);
	free(m);
}

mt_status mt_msg_set_header_handler(mt_msg *m, mt_msg_header_fn fn, void *arg)
{
	if (!m)
		return MT_EINVAL;
	m->hdr_fn = fn;
	m->hdr_arg = arg;
	return MT_OK;
}

void mt_msg_set_raw_body(mt_msg *m, bool raw)
{
	if (m && !m->body_begun)
		m->raw_body = raw;
}

mt_status mt_msg_set_body_handler(mt_msg *m, mt_msg_body_fn fn, void *arg)
{
	if (!m)
		return MT_EINVAL;
	if (m->body_begun)
		return MT_ESTATE;
	m->body_fn = fn;
	m->body_arg = arg;
	return MT_OK;
}

size_t mt_msg_buffer_bytes(const mt_msg *m)
{
	return m->hdr_cap + m->vals_cap + m->fields_cap * (sizeof(mt_msg_field) + sizeof(field_off)) +
	       (m->bbuf ? MT_MSG_BODY_BUFFER : 0);
}

/* ---- failures and problems ---- */

static mt_status fail(mt_msg *m, mt_error *err, mt_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static mt_status fail(mt_msg *m, mt_error *err, mt_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->fail_msg, sizeof m->fail_msg, fmt, ap);
	va_end(ap);
	m->state = ST_FAILED;
	m->fail_st = st;
	return mt_error_set(err, st, "%s", m->fail_msg);
}

static void problem(mt_msg *m, uint64_t offset, const char *what)
{
	m->prob_total++;
	if (m->nprob < MSG_MAX_PROBLEMS) {
		m->problems[m->nprob].offset = offset;
		m->problems[m->nprob].what = what;
		m->nprob++;
	}
}

/* ---- buffers ---- */

static void rebase(mt_msg *m)
{
	for (size_t i = 0; i < m->nfields; i++) {
		m->fields[i].raw = m->hdr + m->foffs[i].raw;
		m->fields[i].name = m->vals + m->foffs[i].name;
		m->fields[i].value = m->vals + m->foffs[i].value;
	}
}

/* Grow *buf to hold need octets, doubling, never past max. */
static bool grow(char **buf, size_t *cap, size_t need, size_t max)
{
	size_t nc;
	char *nb;

	if (need <= *cap)
		return true;
	if (need > max)
		return false;
	nc = *cap ? *cap : 1024;
	while (nc < need)
		nc = nc > max / 2 ? max : nc * 2;
	nb = realloc(*buf, nc);
	if (!nb)
		return false;
	*buf = nb;
	*cap = nc;
	return true;
}

/* Append n octets; off is the input offset reported if they do not fit:
 * for a run copied as it is (run), that of the first octet past the cap. */
static mt_status hdr_put(mt_msg *m, const char *s, size_t n, uint64_t off, bool run,
                         mt_error *err)
{
	if (m->hdr_len + n > m->opts.max_header_bytes) {
		if (run)
			off += m->opts.max_header_bytes - m->hdr_len;
		return fail(m, err, MT_ERANGE,
		            "the header block is longer than %zu octets (at input offset %llu)",
		            m->opts.max_header_bytes, (unsigned long long)off);
	}
	if (m->hdr_len + n > m->hdr_cap) {
		if (!grow(&m->hdr, &m->hdr_cap, m->hdr_len + n, m->opts.max_header_bytes))
			return fail(m, err, MT_ENOMEM, "out of memory");
		rebase(m);
	}
	memcpy(m->hdr + m->hdr_len, s, n);
	m->hdr_len += n;
	return MT_OK;
}

/* ---- fields ---- */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* The open field ends before hdr offset end: split it into name and
 * value, store them. */
static mt_status end_field(mt_msg *m, size_t end, mt_error *err)
{
	const char *raw, *colon;
	size_t raw_len, first = 0, name_len = 0, vstart = 0;
	unsigned flags = m->field_flags;
	mt_msg_field *f;
	size_t need, np, vp;

	if (!m->field_open)
		return MT_OK;
	raw = m->hdr + m->field_start;
	raw_len = end - m->field_start;
	m->field_open = false;
	while (first < raw_len && !(raw[first] == '\r' && first + 1 < raw_len && raw[first + 1] == '\n'))
		first++;
	if (m->field_orphan) {
		flags |= MT_MSG_FIELD_MALFORMED;
	} else if (!(colon = memchr(raw, ':', first))) {
		problem(m, m->field_in_off, "header line without a colon");
		flags |= MT_MSG_FIELD_MALFORMED;
	} else {
		name_len = (size_t)(colon - raw);
		vstart = name_len + 1;
		while (name_len && is_wsp(raw[name_len - 1]))
			name_len--;
		if (!name_len) {
			problem(m, m->field_in_off, "header field with an empty name");
			flags |= MT_MSG_FIELD_MALFORMED;
		}
		for (size_t i = 0; i < name_len; i++) {
			unsigned char c = (unsigned char)raw[i];
			if (c < 33 || c > 126) {
				problem(m, m->field_in_off + i,
				        "header field name holds an octet that RFC 5322 does not allow");
				flags |= MT_MSG_FIELD_MALFORMED;
				break;
			}
		}
	}
	if (flags & MT_MSG_FIELD_MALFORMED) {
		name_len = 0;
		vstart = raw_len;
	}
	/* room for name, value (at most the rest of raw) and two NULs */
	need = m->vals_len + name_len + (raw_len - vstart) + 2;
	if (need > m->vals_cap) {
		if (!grow(&m->vals, &m->vals_cap, need, SIZE_MAX / 2))
			return fail(m, err, MT_ENOMEM, "out of memory");
		rebase(m);
	}
	np = m->vals_len;
	memcpy(m->vals + np, raw, name_len);
	m->vals[np + name_len] = '\0';
	vp = np + name_len + 1;
	{
		size_t o = vp;
		for (size_t i = vstart; i < raw_len; i++) {
			if (raw[i] == '\r' && i + 1 < raw_len && raw[i + 1] == '\n') {
				i++;
				continue;
			}
			if (o == vp && is_wsp(raw[i]))
				continue;
			m->vals[o++] = raw[i];
		}
		while (o > vp && is_wsp(m->vals[o - 1]))
			o--;
		m->vals[o] = '\0';
		m->vals_len = o + 1;
	}
	f = &m->fields[m->nfields];
	f->name_len = name_len;
	f->raw_len = raw_len;
	f->value_len = m->vals_len - 1 - vp;
	f->offset = m->field_in_off;
	f->index = m->nfields;
	f->flags = flags;
	m->foffs[m->nfields].raw = m->field_start;
	m->foffs[m->nfields].name = np;
	m->foffs[m->nfields].value = vp;
	m->nfields++;
	rebase(m);
	return MT_OK;
}

static mt_status open_field(mt_msg *m, bool orphan, mt_error *err)
{
	if (m->nfields >= m->opts.max_fields)
		return fail(m, err, MT_ERANGE,
		            "the header block has more than %zu fields (at input offset %llu)",
		            m->opts.max_fields, (unsigned long long)m->line_in_off);
	if (m->nfields == m->fields_cap) {
		size_t nc = m->fields_cap ? m->fields_cap * 2 : 16;
		mt_msg_field *nf;
		field_off *no;
		if (nc > m->opts.max_fields)
			nc = m->opts.max_fields;
		nf = realloc(m->fields, nc * sizeof *nf);
		if (!nf)
			return fail(m, err, MT_ENOMEM, "out of memory");
		m->fields = nf;
		no = realloc(m->foffs, nc * sizeof *no);
		if (!no)
			return fail(m, err, MT_ENOMEM, "out of memory");
		m->foffs = no;
		m->fields_cap = nc;
	}
	m->field_open = true;
	m->field_start = m->line_start;
	m->field_in_off = m->line_in_off;
	m->field_flags = 0;
	m->field_orphan = orphan;
	return MT_OK;
}

static void header_complete(mt_msg *m)
{
	m->hdr_done = true;
	if (m->hdr_fn) {
		m->in_cb = true;
		m->hdr_fn(m->hdr_arg, m);
		m->in_cb = false;
	}
}

/* The line [line_start, hdr_len) is complete (terminated: it ends in CRLF). */
static mt_status line_done(mt_msg *m, bool terminated, mt_error *err)
{
	size_t len = m->hdr_len - m->line_start;
	const char *l = m->hdr + m->line_start;
	mt_status st = MT_OK;

	if (terminated && len == 2) {
		st = end_field(m, m->line_start, err);
		if (st != MT_OK)
			return st;
		m->sep_seen = true;
		m->state = ST_BODY;
		header_complete(m);
		return MT_OK;
	}
	if (is_wsp(l[0])) {
		if (!m->field_open) {
			problem(m, m->line_in_off, "continuation line before the first header field");
			st = open_field(m, true, err);
		}
	} else {
		st = end_field(m, m->line_start, err);
		if (st == MT_OK)
			st = open_field(m, false, err);
	}
	if (st != MT_OK)
		return st;
	m->field_flags |= m->line_flags;
	m->line_flags = 0;
	m->line_start = m->hdr_len;
	m->line_fresh = true;
	return MT_OK;
}

/* Header octets; *used says how many were taken (all, unless the header
 * block ended inside p). */
static mt_status hdr_feed(mt_msg *m, const uint8_t *p, size_t n, size_t *used, mt_error *err)
{
	mt_status st = MT_OK;
	size_t i;

	for (i = 0; i < n && st == MT_OK && m->state == ST_HEADER; i++) {
		char c = (char)p[i];
		uint64_t off = m->in_off++;
		if (m->line_fresh) {
			m->line_fresh = false;
			m->line_in_off = off;
		}
		if (m->pending_cr) {
			m->pending_cr = false;
			if (c == '\n') {
				st = hdr_put(m, "\r\n", 2, off, false, err);
				if (st == MT_OK)
					st = line_done(m, true, err);
				continue;
			}
			problem(m, off - 1, "bare CR (not followed by LF) in the header");
			st = hdr_put(m, "\r", 1, off - 1, false, err);
			if (st != MT_OK)
				break;
		}
		if (c == '\r') {
			m->pending_cr = true;
		} else if (c == '\n') {
			st = hdr_put(m, "\r\n", 2, off, false, err);
			if (st == MT_OK)
				st = line_done(m, true, err);
		} else if (c == '\0') {
			problem(m, off, "NUL octet in the header");
			m->line_flags |= MT_MSG_FIELD_NUL;
			st = hdr_put(m, &c, 1, off, false, err);
		} else {
			/* a run of ordinary octets is copied at once */
			size_t j = i + 1;
			while (j < n && p[j] != '\r' && p[j] != '\n' && p[j] != '\0')
				j++;
			st = hdr_put(m, (const char *)p + i, j - i, off, true, err);
			m->in_off += j - i - 1;
			i = j - 1;
		}
	}
	*used = i;
	return st;
}

/* ---- body ---- */

static void body_flush(mt_msg *m)
{
	if (!m->blen)
		return;
	m->body_len += m->blen;
	if (m->body_fn) {
		m->in_cb = true;
		m->body_fn(m->body_arg, m->bbuf, m->blen);
		m->in_cb = false;
	}
	m->blen = 0;
}

static mt_status body_sink(mt_msg *m, const uint8_t *p, size_t n, mt_error *err)
{
	if (!n)
		return MT_OK;
	m->body_begun = true;
	if (n >= MT_MSG_BODY_BUFFER / 4) {
		body_flush(m);
		m->body_len += n;
		if (m->body_fn) {
			m->in_cb = true;
			m->body_fn(m->body_arg, p, n);
			m->in_cb = false;
		}
		return MT_OK;
	}
	if (!m->bbuf) {
		m->bbuf = malloc(MT_MSG_BODY_BUFFER);
		if (!m->bbuf)
			return fail(m, err, MT_ENOMEM, "out of memory");
	}
	if (m->blen + n > MT_MSG_BODY_BUFFER)
		body_flush(m);
	memcpy(m->bbuf + m->blen, p, n);
	m->blen += n;
	return MT_OK;
}

/* Body octets, CRLF-normalised on the way; a CR at the end is held back
 * until the next octet shows whether it ends a line. */
static mt_status body_feed(mt_msg *m, const uint8_t *p, size_t n, mt_error *err)
{
	static const uint8_t crlf[2] = { '\r', '\n' };
	size_t i = 0, start;
	mt_status st = MT_OK;

	m->in_off += n;
	if (!n)
		return MT_OK;
	if (m->pending_cr) {
		m->pending_cr = false;
		if (p[0] == '\n') {
			st = body_sink(m, crlf, 2, err);
			i = 1;
		} else {
			st = body_sink(m, crlf, 1, err);
		}
	}
	start = i;
	while (st == MT_OK && i < n) {
		const uint8_t *q = memchr(p + i, '\n', n - i);
		size_t j;
		if (!q)
			break;
		j = (size_t)(q - p);
		i = j + 1;
		if (j > start && p[j - 1] == '\r')
			continue;
		/* a bare LF */
		st = body_sink(m, p + start, j - start, err);
		if (st == MT_OK)
			st = body_sink(m, crlf, 2, err);
		start = j + 1;
	}
	if (st == MT_OK && n > start && p[n - 1] == '\r') {
		m->pending_cr = true;
		n--;
	}
	if (st == MT_OK)
		st = body_sink(m, p + start, n - start, err);
	return st;
}

/* ---- input ---- */

static mt_status check_state(mt_msg *m, mt_error *err)
{
	if (m->in_cb)
		return mt_error_set(err, MT_ESTATE, "message fed from inside its own callback");
	if (m->state == ST_FAILED)
		return mt_error_set(err, m->fail_st, "%s", m->fail_msg);
	if (m->state == ST_DONE)
		return mt_error_set(err, MT_ESTATE, "message already finished");
	return MT_OK;
}

mt_status mt_msg_feed(mt_msg *m, const void *data, size_t len, mt_error *err)
{
	const uint8_t *p = data;
	mt_status st;

	if (!m || (!data && len))
		return mt_error_set(err, MT_EINVAL, "mt_msg_feed: NULL argument");
	st = check_state(m, err);
	if (st != MT_OK)
		return st;
	if (m->state == ST_HEADER) {
		size_t used = 0;
		st = hdr_feed(m, p, len, &used, err);
		if (st != MT_OK)
			return st;
		p += used;
		len -= used;
	}
	if (m->state == ST_BODY && m->raw_body) {
		/* as fed: the consumer takes line ends itself */
		m->in_off += len;
		if (len) {
			m->body_begun = true;
			m->body_len += len;
			if (m->body_fn) {
				m->in_cb = true;
				m->body_fn(m->body_arg, p, len);
				m->in_cb = false;
			}
		}
	} else if (m->state == ST_BODY) {
		st = body_feed(m, p, len, err);
		if (st == MT_OK)
			body_flush(m);
	}
	return st;
}

mt_status mt_msg_finish(mt_msg *m, mt_error *err)
{
	mt_status st;

	if (!m)
		return mt_error_set(err, MT_EINVAL, "mt_msg_finish: NULL argument");
	st = check_state(m, err);
	if (st != MT_OK)
		return st;
	if (m->state == ST_HEADER) {
		if (m->pending_cr) {
			m->pending_cr = false;
			problem(m, m->in_off - 1, "bare CR (not followed by LF) in the header");
			st = hdr_put(m, "\r", 1, m->in_off - 1, false, err);
			if (st != MT_OK)
				return st;
		}
		if (m->hdr_len > m->line_start) {
			problem(m, m->line_in_off, "the last header line ends without a line break");
			st = line_done(m, false, err);
			if (st != MT_OK)
				return st;
		}
		st = end_field(m, m->hdr_len, err);
		if (st != MT_OK)
			return st;
		header_complete(m);
	} else {
		if (m->pending_cr) {
			m->pending_cr = false;
			st = body_sink(m, (const uint8_t *)"\r", 1, err);
			if (st != MT_OK)
				return st;
		}
		body_flush(m);
	}
	m->state = ST_DONE;
	return MT_OK;
}

/* ---- reading ---- */

bool mt_msg_header_done(const mt_msg *m)
{
	return m && m->hdr_done;
}

bool mt_msg_body_started(const mt_msg *m)
{
	return m && m->sep_seen;
}

uint64_t mt_msg_body_length(const mt_msg *m)
{
	return m ? m->body_len : 0;
}

size_t mt_msg_field_count(const mt_msg *m)
{
	return m ? m->nfields : 0;
}

const mt_msg_field *mt_msg_field_at(const mt_msg *m, size_t i)
{
	if (!m || i >= m->nfields)
		return NULL;
	return &m->fields[i];
}

static bool name_is(const mt_msg_field *f, const char *name, size_t len)
{
	return !(f->flags & MT_MSG_FIELD_MALFORMED) && mt_strcaseeq(f->name, f->name_len, name, len);
}

const mt_msg_field *mt_msg_find(const mt_msg *m, const char *name, size_t nth)
{
	size_t len;

	if (!m || !name)
		return NULL;
	len = strlen(name);
	for (size_t i = 0; i < m->nfields; i++)
		if (name_is(&m->fields[i], name, len) && nth-- == 0)
			return &m->fields[i];
	return NULL;
}

const mt_msg_field *mt_msg_find_last(const mt_msg *m, const char *name, size_t nth)
{
	size_t len;

	if (!m || !name)
		return NULL;
	len = strlen(name);
	for (size_t i = m->nfields; i-- > 0;)
		if (name_is(&m->fields[i], name, len) && nth-- == 0)
			return &m->fields[i];
	return NULL;
}

size_t mt_msg_problem_count(const mt_msg *m)
{
	return m ? m->nprob : 0;
}

size_t mt_msg_problem_total(const mt_msg *m)
{
	return m ? m->prob_total : 0;
}

const mt_msg_problem *mt_msg_problem_at(const mt_msg *m, size_t i)
{
	if (!m || i >= m->nprob)
		return NULL;
	return &m->problems[i];
}
