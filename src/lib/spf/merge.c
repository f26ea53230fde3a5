/* SPF records for domain owners: merge several records into one, build one
 * from its parts.  Both validate through the record parser (record.c). */
#include "spf/spf_int.h"

#include <mailtrust/spf_verify.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_LOOKUPS 10u
/* How much of a term or record a message quotes. */
#define QUOTE_MAX 60

/* One term of an input record, with what identifies it. */
typedef struct entry {
	const mt_spf_term *t;
	const char *text;    /* the record's text: t's offsets point into it */
	size_t rec;          /* index of the record */
	size_t seq;          /* order of appearance over all records */
	int rank;            /* output group (see rank_of) */
	const char *key;     /* identity of the term, without its qualifier */
	size_t keylen;
	const char *val;     /* modifiers: the normalized value */
	size_t vallen;
	struct entry *kept;  /* the entry written for this term (itself when kept) */
	size_t pos;          /* position in the merged record (of kept) */
} entry;

/* Output order: ip4, ip6, a, mx, ptr, include, exists, redirect, exp,
 * unknown modifiers; "all" is written last and handled apart. */
static int rank_of(mt_spf_term_kind k)
{
	switch (k) {
	case MT_SPF_IP4: return 0;
	case MT_SPF_IP6: return 1;
	case MT_SPF_A: return 2;
	case MT_SPF_MX: return 3;
	case MT_SPF_PTR: return 4;
	case MT_SPF_INCLUDE: return 5;
	case MT_SPF_EXISTS: return 6;
	case MT_SPF_REDIRECT: return 7;
	case MT_SPF_EXP: return 8;
	case MT_SPF_UNKNOWN_MODIFIER: return 9;
	case MT_SPF_ALL: break;
	}
	return -1;
}

static bool is_mechanism(mt_spf_term_kind k)
{
	return k != MT_SPF_REDIRECT && k != MT_SPF_EXP && k != MT_SPF_UNKNOWN_MODIFIER;
}

/*
 * Append a macro-string lowered for comparison into b: letters outside
 * macro-expands are lowered (DNS names ignore case), the inside of
 * %{...} is kept (an upper-case macro letter means URL escaping), and with
 * strip_dot one trailing dot is dropped (the name is the same).
 */
static void put_norm(mt_buf *b, const char *s, size_t len, bool strip_dot)
{
	size_t i = 0;
	if (strip_dot && len > 1 && s[len - 1] == '.')
		len--;
	while (i < len) {
		if (s[i] == '%' && i + 1 < len) {
			size_t j = i + 2;
			if (s[i + 1] == '{')
				while (j < len && s[j - 1] != '}')
					j++;
			mt_buf_append(b, s + i, j - i);
			i = j;
			continue;
		}
		mt_buf_putc(b, mt_lower(s[i]));
		i++;
	}
}

/* The identity of term t (kind, and what the mechanism points at) into b. */
static void put_key(mt_buf *b, const mt_spf_term *t)
{
	mt_buf_putc(b, (char)('A' + (int)t->kind));
	switch (t->kind) {
	case MT_SPF_IP4:
	case MT_SPF_IP6: {
		int bits = t->kind == MT_SPF_IP4 ? 32 : 128;
		int prefix = t->kind == MT_SPF_IP4 ? t->cidr4 : t->cidr6;
		uint8_t net[16];
		if (prefix < 0)
			prefix = bits;
		/* the network value: host bits cleared */
		memset(net, 0, sizeof net);
		for (int i = 0; i < bits / 8; i++) {
			int keep = prefix - i * 8;
			if (keep >= 8)
				net[i] = t->addr[i];
			else if (keep > 0)
				net[i] = (uint8_t)(t->addr[i] & (0xff << (8 - keep)));
		}
		mt_buf_append(b, net, (size_t)bits / 8);
		mt_buf_putc(b, (char)prefix);
		break;
	}
	case MT_SPF_A:
	case MT_SPF_MX:
	case MT_SPF_PTR:
	case MT_SPF_INCLUDE:
	case MT_SPF_EXISTS:
		if (t->domain) {
			mt_buf_putc(b, ':');
			put_norm(b, t->domain, t->domain_len, true);
		}
		if (t->kind == MT_SPF_A || t->kind == MT_SPF_MX)
			mt_buf_printf(b, "/%d//%d", t->cidr4 < 0 ? 32 : t->cidr4,
			              t->cidr6 < 0 ? 128 : t->cidr6);
		break;
	case MT_SPF_UNKNOWN_MODIFIER:
		put_norm(b, t->name, t->name_len, false);
		break;
	default:
		break; /* redirect, exp: one per record, the value is compared */
	}
}

/* A term as written, for a message: at most QUOTE_MAX octets. */
static int qlen(const entry *e)
{
	return (int)(e->t->length < QUOTE_MAX ? e->t->length : QUOTE_MAX);
}
static const char *qtext(const entry *e)
{
	return e->text + e->t->offset;
}
static const char *ellipsis(const entry *e)
{
	return e->t->length > QUOTE_MAX ? "..." : "";
}

static int cmp_entry(const void *pa, const void *pb)
{
	const entry *a = *(const entry *const *)pa, *b = *(const entry *const *)pb;
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, n);
	if (c)
		return c;
	if (a->keylen != b->keylen)
		return a->keylen < b->keylen ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_output(const void *pa, const void *pb)
{
	const entry *a = *(const entry *const *)pa, *b = *(const entry *const *)pb;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int all_strictness(char q)
{
	return q == '?' ? 0 : q == '~' ? 1 : 2;
}

/* Write a record's text, shortened and with anything unprintable escaped
 * as \xHH (mt_spf_escape), for a message.  cap >= 4 * QUOTE_MAX + 4. */
static void quote_record(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = mt_spf_escape(out, cap - 3, s, len < QUOTE_MAX ? len : QUOTE_MAX);
	if (len > QUOTE_MAX)
		memcpy(out + n, "...", 4);
}

/* The merge itself, over parsed records. */
/* A record of 256..450 octets: fine over UDP, but a zone file needs it as
 * several strings (over 450, record-too-long says it with the strings). */
static void note_split(mt_spf_verify *notes, const char *rec, size_t len)
{
	char *z = NULL;
	if (len <= 255 || len > MT_SPF_UDP_SAFE)
		return;
	if (mt_spf_zone_strings(rec, len, &z) != MT_OK)
		return;
	mt_spf_report_add(notes, "needs-split", MT_SPF_INFO, z, NULL, -1, 0,
	                  "the record is %zu octets, more than one DNS string holds (255): a zone "
	                  "file needs it as several strings, which receivers join without spaces",
	                  len);
	mt_free(z);
}

/* Notes on the inputs that stay true whatever the merge does: host bits. */
static void note_host_bits(mt_spf_verify *notes, const mt_spf_term *t, const char *text,
                           const char *where)
{
	char net[64];
	int pre;
	if (!notes || (t->kind != MT_SPF_IP4 && t->kind != MT_SPF_IP6))
		return;
	pre = t->kind == MT_SPF_IP4 ? t->cidr4 : t->cidr6;
	if (pre < 0 || !mt_spf_host_bits(t, net, sizeof net))
		return;
	mt_spf_report_add(notes, "host-bits", MT_SPF_INFO, NULL, NULL, -1, 0,
	                  "'%.*s'%s has host bits set below the /%d prefix: receivers ignore "
	                  "them, so it means the whole network %s/%d, not one host",
	                  (int)(t->length < QUOTE_MAX ? t->length : QUOTE_MAX), text + t->offset,
	                  where, pre, net, pre);
}

/*
 * An ip4/ip6 network that holds another listed one makes the narrower one
 * useless when both pass ('+'): drop it (kept points at the wider one) and
 * say so.  Only when every ip4 (or ip6) term of the inputs is '+': a '-'
 * or '~' one between them could make the narrower one decide first.
 * Bounded: at most MAX_COVER_CHECK terms of a family are compared.
 */
#define MAX_COVER_CHECK 4096u
static void drop_covered(entry *ents, size_t ne, mt_spf_verify *notes, size_t nrec)
{
	for (int fam = 0; fam < 2; fam++) {
		mt_spf_term_kind kind = fam ? MT_SPF_IP6 : MT_SPF_IP4;
		size_t count = 0, i, j;
		bool all_plus = true;
		for (i = 0; i < ne; i++)
			if (ents[i].t->kind == kind) {
				count++;
				if (ents[i].t->qualifier != '+')
					all_plus = false;
			}
		if (!all_plus || count < 2 || count > MAX_COVER_CHECK)
			continue;
		for (i = 0; i < ne; i++) {
			entry *e = &ents[i];
			if (e->t->kind != kind || e->kept != e)
				continue;
			for (j = 0; j < ne; j++) {
				entry *w = &ents[j];
				if (j == i || w->t->kind != kind || w->kept != w ||
				    !mt_spf_ip_covers(w->t, e->t))
					continue;
				e->kept = w;
				if (notes) {
					char re[32] = "", rw[32] = "";
					if (nrec > 1) {
						snprintf(re, sizeof re, " (record %zu)", e->rec + 1);
						snprintf(rw, sizeof rw, " (record %zu)", w->rec + 1);
					}
					mt_spf_report_add(notes, "covered-dropped", MT_SPF_INFO, NULL, NULL, -1, 0,
					                  "'%.*s%s'%s lies inside '%.*s%s'%s: dropped",
					                  qlen(e), qtext(e), ellipsis(e), re, qlen(w), qtext(w),
					                  ellipsis(w), rw);
				}
				break;
			}
		}
	}
	/* duplicates of a dropped term follow it to the wider one */
	for (size_t i = 0; i < ne; i++)
		for (size_t steps = 0; ents[i].kept->kept != ents[i].kept && steps < ne; steps++)
			ents[i].kept = ents[i].kept->kept;
}

static mt_status merge_parsed(mt_spf_record *const *recs, size_t n, unsigned max_lookups,
                              char **out, mt_spf_verify *notes, mt_error *err)
{
	mt_status st = MT_OK;
	mt_arena *arena = NULL;
	entry *ents = NULL, **byk = NULL, **order = NULL;
	size_t total = 0, ne = 0, nkept = 0, lookups = 0;
	const entry *redirect = NULL;
	char all_q = 0;
	size_t all_rec = 0, i, j;
	mt_buf b, ob;
	mt_spf_record *check = NULL;

	mt_buf_init(&b, (size_t)-1 / 2);
	mt_buf_init(&ob, MT_SPF_MAX_RECORD);
	for (i = 0; i < n; i++)
		total += recs[i]->nterms;
	ents = calloc(total ? total : 1, sizeof *ents);
	byk = calloc(total ? total : 1, sizeof *byk);
	order = calloc(total ? total : 1, sizeof *order);
	arena = mt_arena_new(16384);
	if (!ents || !byk || !order || !arena) {
		st = MT_ENOMEM;
		goto out;
	}

	/* Collect the terms; "all" apart. */
	for (i = 0; i < n; i++) {
		const mt_spf_record *r = recs[i];
		for (j = 0; j < r->nterms; j++) {
			const mt_spf_term *t = &r->terms[j];
			entry *e = &ents[ne];
			if (t->kind == MT_SPF_ALL) {
				if (t->qualifier == '+') {
					st = mt_error_set(err, MT_ESYNTAX,
					                  "record %zu has '%.*s' (anyone may send mail as the domain): "
					                  "remove it or use -all or ~all",
					                  i + 1, (int)t->length, r->text + t->offset);
					goto out;
				}
				if (!all_q || all_strictness(t->qualifier) < all_strictness(all_q)) {
					all_q = t->qualifier;
					all_rec = i;
				}
			}
			if (notes) {
				char where[32];
				snprintf(where, sizeof where, " (record %zu)", i + 1);
				note_host_bits(notes, t, r->text, where);
			}
			e->t = t;
			e->text = r->text;
			e->rec = i;
			e->seq = ne;
			e->rank = rank_of(t->kind);
			b.len = 0;
			put_key(&b, t);
			if (b.err) {
				st = b.err;
				goto out;
			}
			char *k = mt_arena_alloc(arena, b.len ? b.len : 1);
			if (!k) {
				st = MT_ENOMEM;
				goto out;
			}
			memcpy(k, b.data, b.len);
			e->key = k;
			e->keylen = b.len;
			if (!is_mechanism(t->kind)) {
				const char *v = t->kind == MT_SPF_UNKNOWN_MODIFIER ? t->value : t->domain;
				size_t vl = t->kind == MT_SPF_UNKNOWN_MODIFIER ? t->value_len : t->domain_len;
				b.len = 0;
				put_norm(&b, v, vl, t->kind != MT_SPF_UNKNOWN_MODIFIER);
				char *vv = b.err ? NULL : mt_arena_alloc(arena, b.len ? b.len : 1);
				if (!vv) {
					st = b.err ? b.err : MT_ENOMEM;
					goto out;
				}
				memcpy(vv, b.data, b.len);
				e->val = vv;
				e->vallen = b.len;
			}
			byk[ne] = e;
			ne++;
		}
	}

	/* Same identity: keep the first, refuse disagreements. */
	qsort(byk, ne, sizeof *byk, cmp_entry);
	for (i = 0; i < ne; i++) {
		entry *e = byk[i], *first = e;
		if (i > 0 && byk[i - 1]->keylen == e->keylen &&
		    memcmp(byk[i - 1]->key, e->key, e->keylen) == 0)
			first = byk[i - 1]->kept;
		e->kept = first;
		if (first == e)
			continue;
		if (is_mechanism(e->t->kind)) {
			if (e->t->kind != MT_SPF_ALL && first->t->qualifier != e->t->qualifier) {
				st = mt_error_set(err, MT_ESYNTAX,
				                  "'%.*s%s' (record %zu) and '%.*s%s' (record %zu) are the same "
				                  "term with different qualifiers",
				                  qlen(first), qtext(first), ellipsis(first), first->rec + 1,
				                  qlen(e), qtext(e), ellipsis(e), e->rec + 1);
				goto out;
			}
		} else if (first->vallen != e->vallen || memcmp(first->val, e->val, e->vallen) != 0) {
			const char *what = e->t->kind == MT_SPF_UNKNOWN_MODIFIER
			                   ? "give one modifier different values"
			                   : "name different targets";
			st = mt_error_set(err, MT_ESYNTAX,
			                  "'%.*s%s' (record %zu) and '%.*s%s' (record %zu) %s: "
			                  "a record can hold only one",
			                  qlen(first), qtext(first), ellipsis(first), first->rec + 1,
			                  qlen(e), qtext(e), ellipsis(e), e->rec + 1, what);
			goto out;
		}
	}

	drop_covered(ents, ne, notes, n);

	/* The merged order; "all" entries come after everything. */
	for (i = 0; i < ne; i++) {
		entry *e = &ents[i];
		if (e->kept == e && e->t->kind != MT_SPF_ALL)
			order[nkept++] = e;
		if (e->t->kind == MT_SPF_REDIRECT && !redirect)
			redirect = e;
	}
	qsort(order, nkept, sizeof *order, cmp_output);
	for (i = 0; i < nkept; i++)
		order[i]->pos = i;
	for (i = 0; i < ne; i++)
		if (ents[i].t->kind == MT_SPF_ALL)
			ents[i].pos = nkept;
	for (i = 0; i < ne; i++)
		if (ents[i].t->kind != MT_SPF_ALL)
			ents[i].pos = ents[i].kept->pos;

	if (redirect && all_q) {
		st = mt_error_set(err, MT_ESYNTAX,
		                  "'%.*s%s' (record %zu) would be ignored beside the 'all' of record %zu: "
		                  "a record with 'all' never follows redirect=",
		                  qlen(redirect), qtext(redirect), ellipsis(redirect), redirect->rec + 1,
		                  all_rec + 1);
		goto out;
	}

	/*
	 * First match wins: within one record, a mechanism whose qualifier is
	 * not '+' (or "all") must keep its place relative to the record's
	 * other mechanisms, or what the record says would change.  Entries of
	 * a record are consecutive in ents, in record order.
	 */
	for (i = 0; i < ne;) {
		const entry *latest = NULL, *strict = NULL, *moved = NULL, *past = NULL;
		size_t end = i, k;
		while (end < ne && ents[end].rec == ents[i].rec)
			end++;
		/* latest: the mechanism placed last so far; strict: the non-'+'
		 * one placed last so far */
		for (k = i; k < end && !moved; k++) {
			const entry *e = &ents[k];
			if (!is_mechanism(e->t->kind))
				continue;
			if (e->t->qualifier != '+' && latest && latest->pos > e->pos)
				past = latest;
			else if (strict && strict->pos > e->pos)
				past = strict;
			if (past)
				moved = e;
			if (!latest || e->pos > latest->pos)
				latest = e;
			if (e->t->qualifier != '+' && (!strict || e->pos > strict->pos))
				strict = e;
		}
		if (moved) {
			st = mt_error_set(err, MT_ESYNTAX,
			                  "record %zu: the merged order would put '%.*s%s' before '%.*s%s'; "
			                  "the first matching term decides, so the record's meaning would "
			                  "change",
			                  moved->rec + 1, qlen(moved), qtext(moved), ellipsis(moved),
			                  qlen(past), qtext(past), ellipsis(past));
			goto out;
		}
		i = end;
	}

	/* The least strict "all" won: say when a record had a stricter one. */
	if (notes && all_q) {
		const entry *strictest = NULL;
		for (i = 0; i < ne; i++)
			if (ents[i].t->kind == MT_SPF_ALL &&
			    all_strictness(ents[i].t->qualifier) > all_strictness(all_q) &&
			    (!strictest || all_strictness(ents[i].t->qualifier) >
			                   all_strictness(strictest->t->qualifier)))
				strictest = &ents[i];
		char fix[160];
		if (strictest)
			snprintf(fix, sizeof fix, "once every host that sends the domain's mail is listed, "
			         "end the merged record with '%call' to keep record %zu's policy",
			         strictest->t->qualifier, strictest->rec + 1);
		if (strictest)
			mt_spf_report_add(notes, "policy-weaker", MT_SPF_WARNING, fix, NULL, -1, 0,
			                  "the policy got weaker: record %zu ends in '%call' (%s) but the "
			                  "merged record ends in '%call' from record %zu (the least strict "
			                  "wins), so mail from hosts not listed is %s instead of %s",
			                  strictest->rec + 1, strictest->t->qualifier,
			                  strictest->t->qualifier == '-' ? "fail" : "softfail", all_q,
			                  all_rec + 1, all_q == '~' ? "only marked (softfail)" :
			                  "neither accepted nor rejected (neutral)",
			                  strictest->t->qualifier == '-' ? "rejected (fail)" :
			                  "marked (softfail)");
	}

	for (i = 0; i < nkept; i++)
		if (mt_spf_term_queries_dns(order[i]->t->kind))
			lookups++;
	if (lookups > max_lookups) {
		st = mt_error_set(err, MT_ESYNTAX,
		                  "the merged record would need %zu DNS lookups (include, a, mx, ptr, "
		                  "exists, redirect), more than the limit of %u",
		                  lookups, max_lookups);
		goto out;
	}

	mt_buf_puts(&ob, "v=spf1");
	for (i = 0; i < nkept; i++) {
		const entry *e = order[i];
		const char *w = qtext(e);
		size_t wl = e->t->length;
		mt_buf_putc(&ob, ' ');
		if (e->t->qualifier && e->t->qualifier != '+')
			mt_buf_putc(&ob, e->t->qualifier);
		if (wl && (w[0] == '+' || w[0] == '-' || w[0] == '~' || w[0] == '?') &&
		    is_mechanism(e->t->kind)) {
			w++;
			wl--;
		}
		mt_buf_append(&ob, w, wl);
	}
	if (all_q) {
		mt_buf_putc(&ob, ' ');
		if (all_q != '+')
			mt_buf_putc(&ob, all_q);
		mt_buf_puts(&ob, "all");
	}
	if (ob.err == MT_ERANGE) {
		st = mt_error_set(err, MT_ESYNTAX, "the merged record would be longer than %u octets",
		                  MT_SPF_MAX_RECORD);
		goto out;
	}
	if (ob.err) {
		st = ob.err;
		goto out;
	}
	/* The result must parse; anything else is a bug here. */
	st = mt_spf_record_parse(ob.data, ob.len, &check, NULL);
	if (st != MT_OK) {
		st = mt_error_set(err, st == MT_ENOMEM ? MT_ENOMEM : MT_ESYNTAX,
		                  "internal error: the merged record does not parse");
		goto out;
	}
	if (notes) {
		mt_spf_report_too_long(notes, ob.data);
		note_split(notes, ob.data, ob.len);
	}
	*out = mt_buf_take(&ob);
	if (!*out)
		st = MT_ENOMEM;
out:
	mt_spf_record_free(check);
	mt_buf_free(&b);
	mt_buf_free(&ob);
	mt_arena_free(arena);
	free(ents);
	free(byk);
	free(order);
	return st;
}

mt_status mt_spf_merge(const char *const *records, size_t n, unsigned max_lookups, char **out,
                       mt_error *err)
{
	return mt_spf_merge_notes(records, n, max_lookups, out, NULL, err);
}

mt_status mt_spf_merge_notes(const char *const *records, size_t n, unsigned max_lookups,
                             char **out, mt_spf_verify **notesp, mt_error *err)
{
	mt_spf_record **recs = NULL;
	mt_spf_verify *notes = NULL;
	mt_status st = MT_OK;
	size_t i;

	if (notesp)
		*notesp = NULL;
	if (!out)
		return mt_error_set(err, MT_EINVAL, "no place for the result");
	*out = NULL;
	if (!records || n == 0)
		return mt_error_set(err, MT_EINVAL, "no records to merge");
	if (n > (size_t)-1 / sizeof *recs)
		return mt_error_set(err, MT_ENOMEM, "too many records");
	recs = calloc(n, sizeof *recs);
	if (!recs)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		mt_spf_syntax_error syn;
		char quote[4 * QUOTE_MAX + 8];
		size_t len;

		if (!records[i]) {
			st = mt_error_set(err, MT_EINVAL, "record %zu is NULL", i + 1);
			goto out;
		}
		len = strnlen(records[i], MT_SPF_MAX_RECORD + 1);
		if (len > MT_SPF_MAX_RECORD) {
			st = mt_error_set(err, MT_ESYNTAX, "record %zu is longer than %u octets", i + 1,
			                  MT_SPF_MAX_RECORD);
			goto out;
		}
		memset(&syn, 0, sizeof syn);
		st = mt_spf_record_parse(records[i], len, &recs[i], &syn);
		if (st == MT_ESYNTAX) {
			quote_record(quote, sizeof quote, records[i], len);
			st = mt_error_set(err, MT_ESYNTAX, "record %zu ('%s') is not valid: %s (offset %zu)",
			                  i + 1, quote, syn.message, syn.offset);
			goto out;
		}
		if (st != MT_OK) {
			st = mt_error_set(err, st, "record %zu: %s", i + 1, mt_strerror(st));
			goto out;
		}
	}
	if (notesp && !(notes = mt_spf_report_new())) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	st = merge_parsed(recs, n, max_lookups ? max_lookups : DEFAULT_MAX_LOOKUPS, out, notes, err);
	if (st == MT_OK && notes && !mt_spf_report_ok(notes))
		st = MT_ENOMEM;
	if (st == MT_ENOMEM) {
		mt_error_set(err, st, "out of memory");
		mt_free(*out);
		*out = NULL;
	}
	if (st == MT_OK && notesp) {
		*notesp = notes;
		notes = NULL;
	}
out:
	mt_spf_verify_free(notes);
	if (recs)
		for (i = 0; i < n; i++)
			mt_spf_record_free(recs[i]);
	free(recs);
	return st;
}

/* ---- build ---------------------------------------------------------- */

/* What one built term came from, to name it in messages. */
typedef struct part {
	const char *what;   /* "ip4", "ip6", "include" */
	const char *input;
	size_t off, len;    /* where its term lies in the built record */
} part;

/* Inputs are single terms: no space or control character may split them. */
static bool input_ok(const char *s)
{
	size_t n = strnlen(s, 1024);
	if (n == 0 || n >= 1024)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Is term u of the built record the same as t (an earlier one)?  ip4/ip6
 * by network value and prefix, include by name without case or final dot. */
static bool same_part(const mt_spf_term *t, const mt_spf_term *u)
{
	if (t->kind != u->kind)
		return false;
	if (t->kind == MT_SPF_IP4 || t->kind == MT_SPF_IP6)
		return mt_spf_ip_covers(t, u) && mt_spf_ip_covers(u, t);
	if (t->kind == MT_SPF_INCLUDE) {
		size_t tl = t->domain_len, ul = u->domain_len;
		if (tl > 1 && t->domain[tl - 1] == '.')
			tl--;
		if (ul > 1 && u->domain[ul - 1] == '.')
			ul--;
		return mt_strcaseeq(t->domain, tl, u->domain, ul);
	}
	return false;
}

mt_status mt_spf_build(const mt_spf_build_options *opts, char **out, mt_error *err)
{
	return mt_spf_build_notes(opts, out, NULL, err);
}

mt_status mt_spf_build_notes(const mt_spf_build_options *opts, char **out,
                             mt_spf_verify **notesp, mt_error *err)
{
	mt_buf b, ob;
	part *parts = NULL;
	size_t nparts = 0, total, i, k;
	mt_spf_record *rec = NULL;
	mt_spf_verify *notes = NULL;
	mt_spf_syntax_error syn;
	mt_status st = MT_OK;
	unsigned max_lookups;
	size_t lookups;
	bool *drop = NULL;
	char allq;

	mt_buf_init(&b, MT_SPF_MAX_RECORD);
	mt_buf_init(&ob, MT_SPF_MAX_RECORD);
	if (notesp)
		*notesp = NULL;
	if (!out)
		return mt_error_set(err, MT_EINVAL, "no place for the result");
	*out = NULL;
	if (!opts || (opts->nip4 && !opts->ip4) || (opts->nip6 && !opts->ip6) ||
	    (opts->ninclude && !opts->include))
		return mt_error_set(err, MT_EINVAL, "missing build options");
	allq = opts->all ? opts->all : '-';
	if (allq != '-' && allq != '~' && allq != '?')
		return mt_error_set(err, MT_EINVAL,
		                    "the 'all' qualifier must be '-' (fail), '~' (softfail) or '?' (neutral)");
	max_lookups = opts->max_lookups ? opts->max_lookups : DEFAULT_MAX_LOOKUPS;
	if (opts->nip4 > MT_SPF_MAX_RECORD || opts->nip6 > MT_SPF_MAX_RECORD ||
	    opts->ninclude > MT_SPF_MAX_RECORD)
		return mt_error_set(err, MT_ESYNTAX, "the record would be longer than %u octets",
		                    MT_SPF_MAX_RECORD);
	total = opts->nip4 + opts->nip6 + opts->ninclude;
	parts = calloc(total ? total : 1, sizeof *parts);
	if (!parts)
		return mt_error_set(err, MT_ENOMEM, "out of memory");

	mt_buf_puts(&b, "v=spf1");
	for (k = 0; k < 3; k++) {
		const char *what = k == 0 ? "ip4" : k == 1 ? "ip6" : "include";
		const char *const *list = k == 0 ? opts->ip4 : k == 1 ? opts->ip6 : opts->include;
		size_t cnt = k == 0 ? opts->nip4 : k == 1 ? opts->nip6 : opts->ninclude;
		for (i = 0; i < cnt; i++) {
			const char *s = list[i];
			part *p = &parts[nparts++];
			if (!s || !input_ok(s)) {
				char quote[4 * QUOTE_MAX + 8];
				quote_record(quote, sizeof quote, s ? s : "", s ? strnlen(s, 1024) : 0);
				st = mt_error_set(err, s ? MT_ESYNTAX : MT_EINVAL,
				                  "%s '%s': empty, too long, or holds a space or a character "
				                  "that is not printable ASCII", what, quote);
				goto out;
			}
			mt_buf_putc(&b, ' ');
			p->what = what;
			p->input = s;
			p->off = b.len;
			mt_buf_printf(&b, "%s:%s", what, s);
			p->len = b.len - p->off;
		}
		if (k == 1) {
			if (opts->a)
				mt_buf_puts(&b, " a");
			if (opts->mx)
				mt_buf_puts(&b, " mx");
		}
	}
	mt_buf_printf(&b, " %call", allq);
	if (b.err) {
		st = b.err == MT_ERANGE
		     ? mt_error_set(err, MT_ESYNTAX, "the record would be longer than %u octets",
		                    MT_SPF_MAX_RECORD)
		     : mt_error_set(err, b.err, "out of memory");
		goto out;
	}

	/* The parser validates every part; name the input it rejects. */
	memset(&syn, 0, sizeof syn);
	st = mt_spf_record_parse(b.data, b.len, &rec, &syn);
	if (st == MT_ESYNTAX) {
		for (i = 0; i < nparts; i++)
			if (syn.offset >= parts[i].off && syn.offset < parts[i].off + parts[i].len)
				break;
		if (i < nparts)
			st = mt_error_set(err, MT_ESYNTAX, "%s '%s': %s", parts[i].what, parts[i].input,
			                  syn.message);
		else
			st = mt_error_set(err, MT_ESYNTAX, "the built record is not valid: %s",
			                  syn.message);
		goto out;
	}
	if (st != MT_OK) {
		st = mt_error_set(err, st, "%s", mt_strerror(st));
		goto out;
	}
	/* Each input must have made exactly its own term, and a DNS name too. */
	for (i = 0; i < nparts; i++) {
		const mt_spf_term *t = NULL;
		for (k = 0; k < rec->nterms; k++)
			if (rec->terms[k].offset == parts[i].off)
				t = &rec->terms[k];
		if (!t || t->length != parts[i].len ||
		    strcmp(mt_spf_term_kind_name(t->kind), parts[i].what) != 0) {
			st = mt_error_set(err, MT_ESYNTAX, "%s '%s' is not a single %s term",
			                  parts[i].what, parts[i].input, parts[i].what);
			goto out;
		}
		if (t->kind == MT_SPF_INCLUDE && !memchr(t->domain, '%', t->domain_len) &&
		    !mt_spf_host_name_ok(t->domain, t->domain_len, true)) {
			st = mt_error_set(err, MT_ESYNTAX,
			                  "include '%s': not a domain name (letters, digits, '-', '_' "
			                  "and dots; labels of 1 to 63 octets, at most 253 in all)",
			                  parts[i].input);
			goto out;
		}
	}
	/*
	 * Each address, network and include once: a repeat (same network and
	 * prefix; same name without case or final dot) and a network inside
	 * another listed one (all build terms pass, so the wider one decides
	 * the same) are dropped, and the notes say so.
	 */
	if (notesp && !(notes = mt_spf_report_new())) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	drop = calloc(rec->nterms ? rec->nterms : 1, sizeof *drop);
	if (!drop) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < rec->nterms; i++) {
		const mt_spf_term *t = &rec->terms[i];
		if (t->kind != MT_SPF_IP4 && t->kind != MT_SPF_IP6 && t->kind != MT_SPF_INCLUDE)
			continue;
		note_host_bits(notes, t, rec->text, "");
		for (k = 0; k < i && !drop[i]; k++)
			if (!drop[k] && same_part(&rec->terms[k], t)) {
				drop[i] = true;
				mt_spf_report_add(notes, "duplicate-dropped", MT_SPF_INFO, NULL, NULL, -1, 0,
				                  "'%.*s' repeats '%.*s': written once",
				                  (int)(t->length < QUOTE_MAX ? t->length : QUOTE_MAX),
				                  rec->text + t->offset,
				                  (int)(rec->terms[k].length < QUOTE_MAX ? rec->terms[k].length
				                                                         : QUOTE_MAX),
				                  rec->text + rec->terms[k].offset);
			}
	}
	if (opts->nip4 + opts->nip6 <= MAX_COVER_CHECK)
		for (i = 0; i < rec->nterms; i++) {
			const mt_spf_term *t = &rec->terms[i];
			if (drop[i] || (t->kind != MT_SPF_IP4 && t->kind != MT_SPF_IP6))
				continue;
			for (k = 0; k < rec->nterms; k++) {
				const mt_spf_term *u = &rec->terms[k];
				if (k == i || drop[k] || !mt_spf_ip_covers(u, t))
					continue;
				drop[i] = true;
				mt_spf_report_add(notes, "covered-dropped", MT_SPF_INFO, NULL, NULL, -1, 0,
				                  "'%.*s' lies inside '%.*s': dropped",
				                  (int)(t->length < QUOTE_MAX ? t->length : QUOTE_MAX),
				                  rec->text + t->offset,
				                  (int)(u->length < QUOTE_MAX ? u->length : QUOTE_MAX),
				                  rec->text + u->offset);
				break;
			}
		}
	mt_buf_puts(&ob, "v=spf1");
	lookups = 0;
	for (i = 0; i < rec->nterms; i++) {
		if (drop[i])
			continue;
		mt_buf_putc(&ob, ' ');
		mt_buf_append(&ob, rec->text + rec->terms[i].offset, rec->terms[i].length);
		if (mt_spf_term_queries_dns(rec->terms[i].kind))
			lookups++;
	}
	if (ob.err) {
		st = mt_error_set(err, ob.err, "out of memory");
		goto out;
	}
	if (lookups > max_lookups) {
		st = mt_error_set(err, MT_ESYNTAX,
		                  "the record would need %zu DNS lookups (each include, a and mx "
		                  "costs one), more than the limit of %u",
		                  lookups, max_lookups);
		goto out;
	}
	if (notes) {
		mt_spf_report_too_long(notes, ob.data);
		note_split(notes, ob.data, ob.len);
		if (!mt_spf_report_ok(notes)) {
			st = mt_error_set(err, MT_ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = mt_buf_take(&ob);
	if (!*out) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	if (notesp) {
		*notesp = notes;
		notes = NULL;
	}
out:
	mt_spf_verify_free(notes);
	mt_spf_record_free(rec);
	mt_buf_free(&b);
	mt_buf_free(&ob);
	free(parts);
	free(drop);
	return st;
}
