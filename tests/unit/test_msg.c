/* Unit tests of the message reader (src/lib/msg). */
#include "mt_test.h"
#include <mailtrust/msg.h>
#include "msg/msg_int.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

/* What a reading produced: fields, problems and body, for comparing. */
typedef struct reading {
	mt_status st;
	char *dump;       /* fields and problems, one per line */
	size_t dump_len;
	uint8_t *body;
	size_t body_len, body_cap;
	size_t calls;
	size_t max_piece;
	bool hdr_called;
	bool body_started;
} reading;

static void body_cb(void *arg, const uint8_t *d, size_t n)
{
	reading *r = arg;
	if (r->body_len + n > r->body_cap) {
		r->body_cap = (r->body_len + n) * 2;
		r->body = realloc(r->body, r->body_cap);
	}
	memcpy(r->body + r->body_len, d, n);
	r->body_len += n;
	r->calls++;
	if (n > r->max_piece)
		r->max_piece = n;
}

static void hdr_cb(void *arg, mt_msg *m)
{
	reading *r = arg;
	r->hdr_called = true;
	CHECK(mt_msg_set_body_handler(m, body_cb, r) == MT_OK);
	CHECK(mt_msg_feed(m, "x", 1, NULL) == MT_ESTATE);
}

static void app(reading *r, const void *d, size_t n)
{
	r->dump = realloc(r->dump, r->dump_len + n + 1);
	memcpy(r->dump + r->dump_len, d, n);
	r->dump_len += n;
	r->dump[r->dump_len] = '\0';
}

static void dump_msg(reading *r, const mt_msg *m)
{
	char line[128];
	for (size_t i = 0; i < mt_msg_field_count(m); i++) {
		const mt_msg_field *f = mt_msg_field_at(m, i);
		int k = snprintf(line, sizeof line, "%zu %llu %u [", f->index,
		                 (unsigned long long)f->offset, f->flags);
		app(r, line, (size_t)k);
		app(r, f->name, f->name_len);
		app(r, "][", 2);
		app(r, f->raw, f->raw_len);
		app(r, "][", 2);
		app(r, f->value, f->value_len);
		app(r, "]\n", 2);
	}
	for (size_t i = 0; i < mt_msg_problem_count(m); i++) {
		const mt_msg_problem *p = mt_msg_problem_at(m, i);
		int k = snprintf(line, sizeof line, "problem %llu %s\n",
		                 (unsigned long long)p->offset, p->what);
		app(r, line, (size_t)k);
	}
}

/* Read msg in pieces of chunk octets (0: whole). */
static void read_msg(reading *r, const char *msg, size_t len, size_t chunk,
                     const mt_msg_options *opts)
{
	mt_msg *m = NULL;
	memset(r, 0, sizeof *r);
	r->st = mt_msg_new(opts, &m, NULL);
	if (r->st != MT_OK)
		return;
	mt_msg_set_header_handler(m, hdr_cb, r);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len && r->st == MT_OK; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;
		r->st = mt_msg_feed(m, msg + i, n, NULL);
	}
	if (r->st == MT_OK)
		r->st = mt_msg_finish(m, NULL);
	r->body_started = mt_msg_body_started(m);
	CHECK_INT(mt_msg_body_length(m), r->body_len);
	dump_msg(r, m);
	mt_msg_free(m);
}

static void reading_free(reading *r)
{
	free(r->dump);
	free(r->body);
}

static bool same(const reading *a, const reading *b)
{
	return a->st == b->st && a->dump_len == b->dump_len &&
	       (a->dump_len == 0 || memcmp(a->dump, b->dump, a->dump_len) == 0) &&
	       a->body_len == b->body_len &&
	       (a->body_len == 0 || memcmp(a->body, b->body, a->body_len) == 0) &&
	       a->body_started == b->body_started;
}

static mt_msg *parse(const char *s, mt_status want)
{
	mt_msg *m = NULL;
	CHECK(mt_msg_new(NULL, &m, NULL) == MT_OK);
	CHECK_INT(mt_msg_feed(m, s, strlen(s), NULL), want);
	if (want == MT_OK)
		CHECK_INT(mt_msg_finish(m, NULL), MT_OK);
	return m;
}

static bool mem_is(const char *got, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(got, want, len) == 0;
}

static void test_fields(void)
{
	const char *s = "From: Joe <joe@example.com>\r\n"
	                "Subject: a long\r\n"
	                "\tfolded  subject \r\n"
	                "DKIM-Signature: v=1; d=a\r\n"
	                "X-Empty:\r\n"
	                "Obs-Name : spaced\r\n"
	                "dkim-signature: v=1; d=b\r\n"
	                "\r\n"
	                "Body line\r\n";
	mt_msg *m = parse(s, MT_OK);
	CHECK_INT(mt_msg_field_count(m), 6);
	const mt_msg_field *f = mt_msg_field_at(m, 1);
	CHECK(mem_is(f->name, f->name_len, "Subject"));
	CHECK(mem_is(f->raw, f->raw_len, "Subject: a long\r\n\tfolded  subject \r\n"));
	/* RFC 5322 2.2.3: unfolding removes the CRLF only; the WSP stays */
	CHECK_STR(f->value, "a long\tfolded  subject");
	CHECK_INT(f->offset, 29);
	CHECK_INT(f->index, 1);
	CHECK_INT(f->flags, 0);
	f = mt_msg_field_at(m, 0);
	CHECK_STR(f->value, "Joe <joe@example.com>");
	CHECK_INT(f->offset, 0);
	f = mt_msg_field_at(m, 3);
	CHECK_STR(f->name, "X-Empty");
	CHECK_INT(f->value_len, 0);
	f = mt_msg_field_at(m, 4);
	CHECK_STR(f->name, "Obs-Name");
	CHECK_STR(f->value, "spaced");
	CHECK(mt_msg_field_at(m, 6) == NULL);
	/* case-insensitive, from the top and from the bottom */
	CHECK_STR(mt_msg_find(m, "dkim-SIGNATURE", 0)->value, "v=1; d=a");
	CHECK_STR(mt_msg_find(m, "DKIM-Signature", 1)->value, "v=1; d=b");
	CHECK(mt_msg_find(m, "DKIM-Signature", 2) == NULL);
	CHECK_STR(mt_msg_find_last(m, "dkim-signature", 0)->value, "v=1; d=b");
	CHECK_STR(mt_msg_find_last(m, "dkim-signature", 1)->value, "v=1; d=a");
	CHECK(mt_msg_find_last(m, "dkim-signature", 2) == NULL);
	CHECK(mt_msg_find(m, "To", 0) == NULL);
	CHECK(mt_msg_find(m, "From:", 0) == NULL);
	/* a value that begins on the next line: the whitespace before it goes */
	mt_msg *m2 = parse("To:\r\n \t a@b,\r\n c@d \r\n\t\r\n", MT_OK);
	CHECK_STR(mt_msg_find(m2, "to", 0)->value, "a@b, c@d");
	mt_msg_free(m2);
	CHECK_INT(mt_msg_problem_count(m), 0);
	CHECK(mt_msg_header_done(m));
	CHECK(mt_msg_body_started(m));
	CHECK_INT(mt_msg_body_length(m), 11);
	/* the raw fields concatenated are the header block */
	size_t off = 0;
	for (size_t i = 0; i < mt_msg_field_count(m); i++) {
		f = mt_msg_field_at(m, i);
		CHECK(memcmp(s + off, f->raw, f->raw_len) == 0);
		off += f->raw_len;
	}
	CHECK_INT(off, strlen(s) - 2 - 11);
	mt_msg_free(m);
}

/* The same message with LF and with CRLF line ends reads the same (the
 * offsets aside, which count input octets). */
static void test_lf_crlf(void)
{
	const char *crlf = "A: 1\r\nB: two\r\n  lines\r\n\r\nbody\r\n\r\nend\r\n";
	const char *lf = "A: 1\nB: two\n  lines\n\nbody\n\nend\n";
	reading a, b;
	read_msg(&a, crlf, strlen(crlf), 0, NULL);
	read_msg(&b, lf, strlen(lf), 0, NULL);
	CHECK_INT(a.st, MT_OK);
	CHECK(a.body_len == b.body_len && memcmp(a.body, b.body, a.body_len) == 0);
	CHECK(a.body_len == 13 && memcmp(a.body, "body\r\n\r\nend\r\n", 13) == 0);
	mt_msg *m1 = parse(crlf, MT_OK), *m2 = parse(lf, MT_OK);
	CHECK_INT(mt_msg_field_count(m1), 2);
	CHECK_INT(mt_msg_field_count(m2), 2);
	for (size_t i = 0; i < 2; i++) {
		const mt_msg_field *f1 = mt_msg_field_at(m1, i), *f2 = mt_msg_field_at(m2, i);
		CHECK(f1->raw_len == f2->raw_len && memcmp(f1->raw, f2->raw, f1->raw_len) == 0);
		CHECK(f1->value_len == f2->value_len && memcmp(f1->value, f2->value, f1->value_len) == 0);
	}
	CHECK_INT(mt_msg_field_at(m2, 1)->offset, 5);
	CHECK_INT(mt_msg_field_at(m1, 1)->offset, 6);
	mt_msg_free(m1);
	mt_msg_free(m2);
	reading_free(&a);
	reading_free(&b);
	/* mixed, with a CR at a chunk's end */
	const char *mixed = "A: 1\r\nB: two\n  lines\r\n\nbody\n\r\nend\r\n";
	for (size_t c = 1; c <= strlen(mixed); c++) {
		read_msg(&a, mixed, strlen(mixed), c, NULL);
		CHECK(a.body_len == 13 && memcmp(a.body, "body\r\n\r\nend\r\n", 13) == 0);
		reading_free(&a);
	}
	/* bare CR kept as it is, in the body and (as a problem) in the header */
	const char *bare = "A: x\ry\r\n\r\nb\rc\r";
	read_msg(&a, bare, strlen(bare), 0, NULL);
	CHECK(a.body_len == 4 && memcmp(a.body, "b\rc\r", 4) == 0);
	CHECK(strstr(a.dump, "[A][A: x\ry\r\n][x\ry]") != NULL);
	CHECK(strstr(a.dump, "problem 4 bare CR") != NULL);
	reading_free(&a);
}

/* malformed lines: NULs (so its length is given by sizeof) and 8-bit octets */
static const char M8[] = " lead\r\nno colon here\r\n :x\r\nA\0B: v\0w\r\n"
                         "\xc3\xa9t\xc3\xa9: 8bit \xff\r\n\r\nb\r\r\n\n";
static const char *chunk_msgs[] = {
	"From: a@b\r\nTo: c@d\r\n  , e@f\r\nSubject: s\r\n\r\nline 1\r\nline 2\r\n\r\n\r\n",
	"From: a@b\nTo: c@d\n\t, e@f\n\nline 1\nline 2\n\n",
	"From: a@b\r\n\r\n",
	"From: a@b\r\n",
	"From: a@b",
	"From: a@b\r",
	"From: a@b\r\n\r\nbody without end",
	"From: a@b\r\n\r\nbody ending in CR\r",
	M8,
	"\r\nbody only\r\n",
	"",
	"\n\n\n",
	"A: 1\r\r\nB: 2\r\r\r\n\r\n\r\r\n",
};
static const size_t chunk_lens[] = { 0, 0, 0, 0, 0, 0, 0, 0, sizeof M8 - 1, 0, 0, 0, 0 };

/* Every chunk size gives the same fields, problems and body. */
static void test_chunks(void)
{
	for (size_t k = 0; k < sizeof chunk_msgs / sizeof chunk_msgs[0]; k++) {
		const char *s = chunk_msgs[k];
		size_t len = chunk_lens[k] ? chunk_lens[k] : strlen(s);
		reading whole, part;
		read_msg(&whole, s, len, 0, NULL);
		CHECK_INT(whole.st, MT_OK);
		CHECK(whole.hdr_called);
		for (size_t c = 1; c <= len + 1; c++) {
			read_msg(&part, s, len, c, NULL);
			if (!same(&whole, &part))
				fprintf(stderr, "message %zu differs in chunks of %zu\n", k, c);
			CHECK(same(&whole, &part));
			reading_free(&part);
		}
		reading_free(&whole);
	}
}

static void test_ends(void)
{
	reading r;
	/* no body: separator, nothing after */
	read_msg(&r, chunk_msgs[2], strlen(chunk_msgs[2]), 0, NULL);
	CHECK(r.body_started);
	CHECK_INT(r.body_len, 0);
	CHECK_INT(r.calls, 0);
	reading_free(&r);
	/* all header: no empty line */
	read_msg(&r, chunk_msgs[3], strlen(chunk_msgs[3]), 0, NULL);
	CHECK(!r.body_started);
	CHECK(r.hdr_called);
	CHECK(strstr(r.dump, "[From][From: a@b\r\n][a@b]") != NULL);
	CHECK(strstr(r.dump, "problem") == NULL);
	reading_free(&r);
	/* the last line without a line break */
	read_msg(&r, chunk_msgs[4], strlen(chunk_msgs[4]), 0, NULL);
	CHECK(!r.body_started);
	CHECK(strstr(r.dump, "[From][From: a@b][a@b]") != NULL);
	CHECK(strstr(r.dump, "problem 0 the last header line ends without a line break") != NULL);
	reading_free(&r);
	/* a body ending in CR: the CR is handed on at the end */
	read_msg(&r, chunk_msgs[7], strlen(chunk_msgs[7]), 0, NULL);
	CHECK(r.body_len == 18 && memcmp(r.body, "body ending in CR\r", 18) == 0);
	reading_free(&r);
	/* empty input: no fields, no body */
	read_msg(&r, "", 0, 0, NULL);
	CHECK_INT(r.st, MT_OK);
	CHECK_INT(r.dump_len, 0);
	CHECK(!r.body_started);
	reading_free(&r);
	/* empty header */
	read_msg(&r, chunk_msgs[9], strlen(chunk_msgs[9]), 0, NULL);
	CHECK(r.body_started);
	CHECK_INT(r.dump_len, 0);
	CHECK_INT(r.body_len, 11);
	reading_free(&r);
	/* states */
	mt_msg *m = parse("A: b\r\n", MT_OK);
	mt_error err;
	CHECK_INT(mt_msg_feed(m, "x", 1, &err), MT_ESTATE);
	CHECK_INT(mt_msg_finish(m, NULL), MT_ESTATE);
	CHECK_INT(mt_msg_feed(NULL, "x", 1, NULL), MT_EINVAL);
	CHECK_INT(mt_msg_feed(m, NULL, 1, NULL), MT_EINVAL);
	mt_msg_free(m);
	mt_msg_free(NULL);
	m = parse("A: b\r\n\r\nx", MT_OK);
	CHECK_INT(mt_msg_set_body_handler(m, body_cb, NULL), MT_ESTATE);
	mt_msg_free(m);
}

static void test_malformed(void)
{
	reading r;
	read_msg(&r, chunk_msgs[8], chunk_lens[8], 0, NULL);
	CHECK_INT(r.st, MT_OK);
	/* offsets: " lead\r\n" 0, "no colon here\r\n" 7, " :x\r\n" 22,
	 * "A\0B: v\0w\r\n" 27 (NUL at 28 and 33), 8-bit name at 37 */
	static const char want[] =
		"0 0 1 [][ lead\r\n][]\n"
		"1 7 1 [][no colon here\r\n :x\r\n][]\n"
		"2 27 3 [][A\0B: v\0w\r\n][]\n"
		"3 37 1 [][\xc3\xa9t\xc3\xa9: 8bit \xff\r\n][]\n"
		"problem 0 continuation line before the first header field\n"
		"problem 28 NUL octet in the header\n"
		"problem 33 NUL octet in the header\n"
		"problem 7 header line without a colon\n"
		"problem 28 header field name holds an octet that RFC 5322 does not allow\n"
		"problem 37 header field name holds an octet that RFC 5322 does not allow\n";
	size_t want_len = sizeof want - 1;
	CHECK_INT(r.dump_len, want_len);
	CHECK(r.dump_len == want_len && memcmp(r.dump, want, want_len) == 0);
	if (r.dump_len != want_len || memcmp(r.dump, want, want_len) != 0)
		fwrite(r.dump, 1, r.dump_len, stderr);
	CHECK(r.body_len == 6 && memcmp(r.body, "b\r\r\n\r\n", 6) == 0);
	reading_free(&r);

	/* a well-formed name with a NUL in the value stays a field */
	mt_msg *m = NULL;
	CHECK(mt_msg_new(NULL, &m, NULL) == MT_OK);
	CHECK(mt_msg_feed(m, "X: a\0b\r\nY: c\r\n", 14, NULL) == MT_OK);
	CHECK(mt_msg_finish(m, NULL) == MT_OK);
	const mt_msg_field *f = mt_msg_find(m, "x", 0);
	CHECK(f && f->flags == MT_MSG_FIELD_NUL && f->value_len == 3 && memcmp(f->value, "a\0b", 3) == 0);
	CHECK(mt_msg_find(m, "y", 0) && mt_msg_find(m, "y", 0)->flags == 0);
	mt_msg_free(m);

	/* empty name; malformed entries are never found by name */
	m = parse(": v\r\nA: 1\r\n\r\n", MT_OK);
	CHECK_INT(mt_msg_field_count(m), 2);
	CHECK_INT(mt_msg_field_at(m, 0)->flags, MT_MSG_FIELD_MALFORMED);
	CHECK_STR(mt_msg_problem_at(m, 0)->what, "header field with an empty name");
	CHECK(mt_msg_find(m, "", 0) == NULL);
	mt_msg_free(m);

	/* problems beyond 64 are counted, not kept */
	size_t n = 100 * 3 + 2;
	char *many = malloc(n);
	for (size_t i = 0; i < 100; i++)
		memcpy(many + i * 3, "x\r\n", 3);
	memcpy(many + 300, "\r\n", 2);
	m = NULL;
	CHECK(mt_msg_new(NULL, &m, NULL) == MT_OK);
	CHECK(mt_msg_feed(m, many, n, NULL) == MT_OK);
	CHECK_INT(mt_msg_problem_count(m), 64);
	CHECK_INT(mt_msg_problem_total(m), 100);
	CHECK(mt_msg_problem_at(m, 64) == NULL);
	CHECK_INT(mt_msg_problem_at(m, 63)->offset, 63 * 3);
	mt_msg_free(m);
	free(many);
}

static void test_caps(void)
{
	mt_msg_options o;
	mt_msg *m = NULL;
	mt_error err;
	mt_status st;
	char buf[64];

	mt_msg_options_init(&o);
	CHECK_INT(o.size, sizeof o);
	CHECK_INT(o.max_header_bytes, 1048576);
	CHECK_INT(o.max_fields, 1000);

	/* field count: 3 fields allowed, the 4th is refused */
	o.max_fields = 3;
	CHECK(mt_msg_new(&o, &m, NULL) == MT_OK);
	CHECK(mt_msg_feed(m, "A: 1\r\nB: 2\r\nC: 3\r\n", 18, NULL) == MT_OK);
	CHECK_INT(mt_msg_feed(m, "D: 4\r\n", 6, &err), MT_ERANGE);
	CHECK_INT(err.status, MT_ERANGE);
	CHECK_STR(err.message, "the header block has more than 3 fields (at input offset 18)");
	/* sticky */
	memset(&err, 0, sizeof err);
	CHECK_INT(mt_msg_feed(m, "\r\n", 2, &err), MT_ERANGE);
	CHECK_STR(err.message, "the header block has more than 3 fields (at input offset 18)");
	CHECK_INT(mt_msg_finish(m, NULL), MT_ERANGE);
	CHECK_INT(mt_msg_field_count(m), 3);
	CHECK_STR(mt_msg_field_at(m, 2)->value, "3");
	mt_msg_free(m);
	/* exactly the cap is fine */
	CHECK(mt_msg_new(&o, &m, NULL) == MT_OK);
	CHECK(mt_msg_feed(m, "A: 1\r\nB: 2\r\nC: 3\r\n\r\nD: 4\r\n", 26, NULL) == MT_OK);
	CHECK(mt_msg_finish(m, NULL) == MT_OK);
	mt_msg_free(m);

	/* header size: 20 octets allowed */
	mt_msg_options_init(&o);
	o.max_header_bytes = 20;
	CHECK(mt_msg_new(&o, &m, NULL) == MT_OK);
	/* 18 octets of fields + the empty line = 20: fits */
	CHECK(mt_msg_feed(m, "A: 1\r\nB: 2\r\nC: 3\r\n\r\nmore body", 29, NULL) == MT_OK);
	CHECK(mt_msg_finish(m, NULL) == MT_OK);
	CHECK_INT(mt_msg_body_length(m), 9);
	mt_msg_free(m);
	CHECK(mt_msg_new(&o, &m, NULL) == MT_OK);
	CHECK_INT(mt_msg_feed(m, "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", 24, &err), MT_ERANGE);
	CHECK_STR(err.message, "the header block is longer than 20 octets (at input offset 20)");
	mt_msg_free(m);
	/* the same, octet by octet */
	CHECK(mt_msg_new(&o, &m, NULL) == MT_OK);
	st = MT_OK;
	for (size_t i = 0; i < 24 && st == MT_OK; i++)
		st = mt_msg_feed(m, "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n" + i, 1, &err);
	CHECK_INT(st, MT_ERANGE);
	CHECK_STR(err.message, "the header block is longer than 20 octets (at input offset 20)");
	mt_msg_free(m);
	/* one endless line, fed in pieces: refused at the cap, memory bounded */
	o.max_header_bytes = 4096;
	CHECK(mt_msg_new(&o, &m, NULL) == MT_OK);
	memset(buf, 'a', sizeof buf);
	st = MT_OK;
	size_t fed = 0;
	for (int i = 0; i < 1000 && st == MT_OK; i++, fed += sizeof buf)
		st = mt_msg_feed(m, buf, sizeof buf, NULL);
	CHECK_INT(st, MT_ERANGE);
	CHECK_INT(fed, 4096 + 64);
	CHECK(mt_msg_buffer_bytes(m) <= 4096 + 1024);
	mt_msg_free(m);

	/* an older caller's smaller options: later fields take defaults */
	o.size = offsetof(mt_msg_options, max_fields);
	o.max_header_bytes = 100;
	o.max_fields = 1;
	CHECK(mt_msg_new(&o, &m, NULL) == MT_OK);
	CHECK(mt_msg_feed(m, "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 20, NULL) == MT_OK);
	mt_msg_free(m);
	o.size = 1;
	CHECK_INT(mt_msg_new(&o, &m, &err), MT_EINVAL);
	CHECK(m == NULL);
	CHECK_INT(mt_msg_new(NULL, NULL, NULL), MT_EINVAL);
}

/* A 50 MB body passes through a buffer of fixed size. */
static size_t big_seen;
static uint32_t big_sum;
static void big_cb(void *arg, const uint8_t *d, size_t n)
{
	size_t *max_buf = arg;
	(void)max_buf;
	for (size_t i = 0; i < n; i += 4096)
		big_sum = big_sum * 31 + d[i];
	big_seen += n;
}

static void test_big_body(void)
{
	mt_msg *m = NULL;
	size_t max_held = 0, total = 0;
	char line[80];
	char chunk[12000];
	size_t fill = 0;
	const size_t target = 50u * 1000 * 1000;

	CHECK(mt_msg_new(NULL, &m, NULL) == MT_OK);
	CHECK(mt_msg_set_body_handler(m, big_cb, NULL) == MT_OK);
	CHECK(mt_msg_feed(m, "Subject: big\n\n", 14, NULL) == MT_OK);
	/* LF lines of 72 octets, fed in chunks of odd sizes (7001 octets) */
	memset(line, 'x', 71);
	line[71] = '\n';
	size_t lines = 0, odd = 7001;
	while (total < target) {
		while (fill + 72 <= sizeof chunk) {
			memcpy(chunk + fill, line, 72);
			fill += 72;
			lines++;
		}
		size_t n = fill < odd ? fill : odd;
		CHECK(mt_msg_feed(m, chunk, n, NULL) == MT_OK);
		memmove(chunk, chunk + n, fill - n);
		fill -= n;
		total += n;
		size_t held = mt_msg_buffer_bytes(m);
		if (held > max_held)
			max_held = held;
	}
	CHECK(mt_msg_feed(m, chunk, fill, NULL) == MT_OK);
	total += fill;
	CHECK(mt_msg_finish(m, NULL) == MT_OK);
	/* every LF became CRLF */
	CHECK_INT(total % 72, 0);
	CHECK_INT(big_seen, total / 72 * 73);
	CHECK_INT(mt_msg_body_length(m), big_seen);
	/* the library held its fixed buffers only */
	CHECK(max_held <= MT_MSG_BODY_BUFFER + 4096);
	printf("50 MB body: %zu octets in, %zu handed on, at most %zu octets held\n", total,
	       big_seen, max_held);
	mt_msg_free(m);
}

/* ---- optional: the .eml files of ../shared/vectors ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n;
	*len = 0;
	if (!f)
		return NULL;
	do {
		if (*len + 4096 > cap) {
			cap = (*len + 4096) * 2;
			buf = realloc(buf, cap);
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return buf;
}

/* One vector file: whole and chunked agree, no problems, the fields'
 * raw bytes are the header block and the body the rest, both with every
 * bare LF made CRLF (computed here independently). */
static void check_eml(const char *path)
{
	size_t len, nlen = 0, cut = 0;
	char *s = slurp(path, &len);
	if (!s) {
		fprintf(stderr, "cannot read %s\n", path);
		CHECK(0);
		return;
	}
	char *norm = malloc(2 * len + 1);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			norm[nlen++] = '\r';
		norm[nlen++] = s[i];
	}
	bool found = false;
	if (nlen >= 2 && memcmp(norm, "\r\n", 2) == 0)
		found = true;
	for (cut = 0; !found && cut + 4 <= nlen; cut++)
		if (memcmp(norm + cut, "\r\n\r\n", 4) == 0) {
			cut += 2;
			found = true;
			break;
		}
	reading whole, part;
	read_msg(&whole, s, len, 0, NULL);
	CHECK_INT(whole.st, MT_OK);
	CHECK(found && whole.body_started);
	CHECK(strstr(whole.dump, "problem") == NULL);
	CHECK(whole.body_len == nlen - cut - 2 && memcmp(whole.body, norm + cut + 2, whole.body_len) == 0);
	static const size_t sizes[] = { 1, 3, 64, 4096 };
	for (size_t k = 0; k < 4; k++) {
		read_msg(&part, s, len, sizes[k], NULL);
		CHECK(same(&whole, &part));
		reading_free(&part);
	}
	mt_msg *m = NULL;
	CHECK(mt_msg_new(NULL, &m, NULL) == MT_OK);
	CHECK(mt_msg_feed(m, s, len, NULL) == MT_OK);
	CHECK(mt_msg_finish(m, NULL) == MT_OK);
	CHECK(mt_msg_find(m, "from", 0) != NULL);
	size_t off = 0;
	for (size_t i = 0; i < mt_msg_field_count(m); i++) {
		const mt_msg_field *f = mt_msg_field_at(m, i);
		CHECK(off + f->raw_len <= cut && memcmp(norm + off, f->raw, f->raw_len) == 0);
		off += f->raw_len;
	}
	CHECK_INT(off, cut);
	mt_msg_free(m);
	reading_free(&whole);
	free(norm);
	free(s);
}

static size_t check_eml_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	char path[4096];
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		int k = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (k < 0 || (size_t)k >= sizeof path)
			continue;
		check_eml(path);
		n++;
	}
	closedir(d);
	return n;
}

static void test_vectors(void)
{
	static const char *const subdirs[] = { "rfc6376", "rfc8463", "go-msgauth/dkim" };
	const char *env = getenv("MT_VECTORS_DIR");
	const char *cands[] = { env, MT_SOURCE_DIR "/../shared/vectors",
	                        MT_SOURCE_DIR "/../../shared/vectors" };
	const char *dir = NULL;
	char path[4096];
	for (size_t i = 0; i < 3 && !dir; i++) {
		DIR *d = cands[i] && cands[i][0] ? opendir(cands[i]) : NULL;
		if (d) {
			closedir(d);
			dir = cands[i];
		}
	}
	if (!dir) {
		printf("vectors: skipped (no ../shared/vectors beside the checkout; set MT_VECTORS_DIR)\n");
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < 3; i++) {
		int k = snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]);
		if (k > 0 && (size_t)k < sizeof path)
			n += check_eml_dir(path);
	}
	printf("vectors: %zu messages from %s\n", n, dir);
	CHECK(n > 0);
}

/* Raw body mode: the body handler gets each feed's body part as fed (bare
 * LF, a CR ending a piece, lone CR), in one call per feed, and
 * mt_msg_body_length() counts those octets; the header is read as usual. */
static void test_raw_body(void)
{
	static const char msg[] = "A: 1\nB: 2\r\n\r\nx\ny\r\nz\r";
	static const char body[] = "x\ny\r\nz\r";
	for (size_t chunk = 1; chunk <= sizeof msg - 1; chunk++) {
		reading r;
		mt_msg *m = NULL;
		memset(&r, 0, sizeof r);
		CHECK(mt_msg_new(NULL, &m, NULL) == MT_OK);
		mt_msg_set_raw_body(m, true);
		CHECK(mt_msg_set_body_handler(m, body_cb, &r) == MT_OK);
		for (size_t i = 0; i < sizeof msg - 1; i += chunk) {
			size_t n = sizeof msg - 1 - i < chunk ? sizeof msg - 1 - i : chunk;
			CHECK(mt_msg_feed(m, msg + i, n, NULL) == MT_OK);
		}
		CHECK(mt_msg_finish(m, NULL) == MT_OK);
		CHECK(r.body_len == sizeof body - 1 && memcmp(r.body, body, r.body_len) == 0);
		CHECK(mt_msg_body_length(m) == sizeof body - 1);
		CHECK(mt_msg_field_count(m) == 2);
		if (chunk == sizeof msg - 1)
			CHECK(r.calls == 1);
		free(r.body);
		mt_msg_free(m);
	}
}

int main(void)
{
	test_fields();
	test_lf_crlf();
	test_chunks();
	test_ends();
	test_malformed();
	test_caps();
	test_big_body();
	test_vectors();
	test_raw_body();
	return mt_test_done();
}
