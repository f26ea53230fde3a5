/* Fuzz the message reader.  The first octet says how many chunk-size
 * octets follow (1 to 8) and whether small caps apply; those octets give
 * the sizes (1 to 256) of the chunks the rest, the message, is fed in,
 * cycling.  Fed whole and fed in chunks, the message must give the same
 * status and error message, fields, problems and body; every offset lies inside the input
 * and the body is CRLF-normalised (no LF without CR before it). */
#include <mailtrust/msg.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct out {
	uint8_t *body;
	size_t len, cap;
	bool last_cr; /* the previous piece ended in CR */
} out;

static void body_cb(void *arg, const uint8_t *d, size_t n)
{
	out *o = arg;
	if (!n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (d[i] == '\n' && !(i ? d[i - 1] == '\r' : o->last_cr))
			abort();
	o->last_cr = d[n - 1] == '\r';
	if (o->len + n > o->cap) {
		size_t nc = (o->len + n) * 2;
		uint8_t *nb = realloc(o->body, nc);
		if (!nb)
			abort();
		o->body = nb;
		o->cap = nc;
	}
	memcpy(o->body + o->len, d, n);
	o->len += n;
}

static void hdr_cb(void *arg, mt_msg *m)
{
	if (mt_msg_set_body_handler(m, body_cb, arg) != MT_OK)
		abort();
}

static mt_msg *run(const uint8_t *msg, size_t len, const uint8_t *sizes, size_t nsizes,
                   const mt_msg_options *opts, out *o, mt_status *st, mt_error *err)
{
	mt_msg *m = NULL;
	size_t i = 0, k = 0;

	if (mt_msg_new(opts, &m, NULL) != MT_OK)
		abort();
	mt_msg_set_header_handler(m, hdr_cb, o);
	*st = MT_OK;
	while (i < len && *st == MT_OK) {
		size_t n = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : len;
		if (n > len - i)
			n = len - i;
		*st = mt_msg_feed(m, msg + i, n, err);
		i += n;
	}
	if (*st == MT_OK)
		*st = mt_msg_finish(m, err);
	if (mt_msg_body_length(m) != o->len)
		abort();
	return m;
}

static bool same_field(const mt_msg_field *a, const mt_msg_field *b, size_t size)
{
	if (a->offset >= size || a->name[a->name_len] || a->value[a->value_len])
		abort();
	return a->name_len == b->name_len && !memcmp(a->name, b->name, a->name_len) &&
	       a->raw_len == b->raw_len && !memcmp(a->raw, b->raw, a->raw_len) &&
	       a->value_len == b->value_len && !memcmp(a->value, b->value, a->value_len) &&
	       a->offset == b->offset && a->index == b->index && a->flags == b->flags;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_msg_options opts;
	out o1 = { 0 }, o2 = { 0 };
	mt_status st1, st2;
	mt_error e1, e2;
	size_t nsizes;

	if (size < 1)
		return 0;
	nsizes = (data[0] & 7) + 1;
	if (size < 1 + nsizes)
		return 0;
	mt_msg_options_init(&opts);
	if (data[0] & 8) {
		opts.max_fields = 4;
		opts.max_header_bytes = 200;
	}
	const uint8_t *sizes = data + 1, *msg = data + 1 + nsizes;
	size_t len = size - 1 - nsizes;

	mt_msg *a = run(msg, len, NULL, 0, &opts, &o1, &st1, &e1);
	mt_msg *b = run(msg, len, sizes, nsizes, &opts, &o2, &st2, &e2);
	if (st1 != st2 || mt_msg_field_count(a) != mt_msg_field_count(b) ||
	    mt_msg_problem_total(a) != mt_msg_problem_total(b) ||
	    mt_msg_problem_count(a) != mt_msg_problem_count(b) ||
	    mt_msg_body_started(a) != mt_msg_body_started(b) ||
	    mt_msg_header_done(a) != mt_msg_header_done(b) || o1.len != o2.len ||
	    (o1.len && memcmp(o1.body, o2.body, o1.len)))
		abort();
	/* a failure says the same, at the same offset */
	if (st1 != MT_OK && (e1.status != st1 || e2.status != st2 || strcmp(e1.message, e2.message)))
		abort();
	if (o1.len && !mt_msg_body_started(a))
		abort();
	if (mt_msg_field_count(a) > opts.max_fields)
		abort();
	size_t raw_total = 0;
	for (size_t i = 0; i < mt_msg_field_count(a); i++) {
		const mt_msg_field *fa = mt_msg_field_at(a, i);
		if (!same_field(fa, mt_msg_field_at(b, i), len))
			abort();
		raw_total += fa->raw_len;
	}
	if (raw_total > opts.max_header_bytes)
		abort();
	for (size_t i = 0; i < mt_msg_problem_count(a); i++) {
		const mt_msg_problem *pa = mt_msg_problem_at(a, i), *pb = mt_msg_problem_at(b, i);
		if (pa->offset >= len || pa->offset != pb->offset || strcmp(pa->what, pb->what))
			abort();
	}
	mt_msg_free(a);
	mt_msg_free(b);
	free(o1.body);
	free(o2.body);
	return 0;
}
