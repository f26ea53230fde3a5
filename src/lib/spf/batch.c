/*
 * The asynchronous driver: many checks at once on one libunbound context.
 * Checks are started in submission order, each question of a step goes
 * out with ub_resolve_async(), answers come back through ub_process() and
 * are fed to the sans-I/O core, and finished checks leave in submission
 * order.  Callbacks only park answers; all stepping happens in the loop.
 */
#include "spf/spf_int.h"
#include "dns/unbound_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>

#define DEFAULT_IN_FLIGHT 256u
#define WINDOW_FACTOR 4u
#define ADVANCE_ROUNDS_MAX 100000u

typedef struct item item;

/* One question sent to libunbound for one check. */
typedef struct query {
	item *it;                /* NULL: orphaned, freed by its callback */
	uint32_t qid;
	uint16_t type;
	int async_id;
	mt_status st;            /* conversion status once answered */
	mt_dns_answer *ans;      /* parked answer, fed in the loop */
	struct query *next;
	char name[];
} query;

struct item {
	size_t index;
	void *user;
	mt_spf_request req;      /* strings point into strs */
	char *strs;
	mt_spf_check *chk;
	mt_status status;
	char error[256];
	uint64_t deadline;
	bool active;             /* counted in the batch's in-flight number */
	bool done;
	bool dirty;              /* on the batch's dirty list */
	query *asked;            /* waiting for libunbound */
	query *ready;            /* answered, not yet fed */
	item *next_dirty;
	struct mt_spf_batch *b;
};

struct mt_spf_batch {
	unbound_impl *u;
	struct ub_ctx *ctx;
	mt_spf_options opts;
	char *expl;              /* copies of the option strings */
	char *receiver;
	unsigned max;
	unsigned window;
	unsigned active;
	item **ring;             /* submitted, not delivered, in order */
	size_t cap, first, n;
	size_t started;          /* the first `started` of them have begun */
	size_t submitted;
	item *dirty;
	mt_spf_check **pool;     /* finished checks kept for reuse */
	size_t npool;
	item *last;              /* the result handed out last */
	mt_spf_batch_result result;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *dup_or_null(const char *s)
{
	char *p;
	size_t len;
	if (!s)
		return NULL;
	len = strlen(s);
	p = malloc(len + 1);
	if (p)
		memcpy(p, s, len + 1);
	return p;
}

static item *at(const mt_spf_batch *b, size_t pos)
{
	return b->ring[(b->first + pos) % b->cap];
}

/* ---- queries ------------------------------------------------------------ */

static void mark_dirty(item *it)
{
	if (it->dirty)
		return;
	it->dirty = true;
	it->next_dirty = it->b->dirty;
	it->b->dirty = it;
}

static void on_answer(void *mydata, int err, struct ub_result *r)
{
	query *q = mydata;
	item *it = q->it;
	query **pp;

	if (!it) {
		ub_resolve_free(r);
		free(q);
		return;
	}
	q->st = mt_dns_unbound_convert(it->b->u, q->name, q->type, err, r, &q->ans);
	ub_resolve_free(r);
	for (pp = &it->asked; *pp && *pp != q; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = q->next;
	q->next = it->ready;
	it->ready = q;
	mark_dirty(it);
}

static void drop_queries(mt_spf_batch *b, item *it)
{
	query *q, *next;
	for (q = it->asked; q; q = next) {
		next = q->next;
		/* A cancelled question never reaches its callback; one that
		 * cannot be cancelled is left to free itself there. */
		if (ub_cancel(b->ctx, q->async_id) == 0) {
			free(q);
		} else {
			q->it = NULL;
			q->next = NULL;
		}
	}
	it->asked = NULL;
	for (q = it->ready; q; q = next) {
		next = q->next;
		mt_dns_answer_free(q->ans);
		free(q);
	}
	it->ready = NULL;
}

static bool has_question(const item *it, uint32_t id)
{
	for (const query *q = it->asked; q; q = q->next)
		if (q->qid == id)
			return true;
	for (const query *q = it->ready; q; q = q->next)
		if (q->qid == id)
			return true;
	return false;
}

/* ---- checks ------------------------------------------------------------- */

static void finish(mt_spf_batch *b, item *it)
{
	if (it->done)
		return;
	it->done = true;
	if (it->active) {
		it->active = false;
		b->active--;
	}
	drop_queries(b, it);
}

static void fail(mt_spf_batch *b, item *it, mt_status st, const char *what)
{
	it->status = st;
	snprintf(it->error, sizeof it->error, "%s: %s", what, mt_strerror(st));
	finish(b, it);
}

/* Send one question; a malformed name is answered at once (*answered). */
static mt_status ask(mt_spf_batch *b, item *it, const mt_spf_question *sq, bool *answered)
{
	char qname[MT_DNS_UNBOUND_QNAME_BUF];
	size_t len = strlen(sq->name);
	query *q;
	mt_status st;
	int rc;

	if (!mt_dns_unbound_qname(sq->name, qname, sizeof qname)) {
		mt_dns_answer *ans = NULL;
		st = mt_dns_unbound_convert(b->u, sq->name, sq->type, UB_SYNTAX, NULL, &ans);
		if (st == MT_OK)
			st = mt_spf_answer(it->chk, sq->id, ans);
		mt_dns_answer_free(ans);
		*answered = true;
		return st;
	}
	q = calloc(1, sizeof *q + len + 1);
	if (!q)
		return MT_ENOMEM;
	q->it = it;
	q->qid = sq->id;
	q->type = sq->type;
	memcpy(q->name, sq->name, len + 1);
	rc = ub_resolve_async(b->ctx, qname, sq->type, 1 /* IN */, q, on_answer, &q->async_id);
	if (rc != 0) {
		free(q);
		return rc == UB_NOMEM ? MT_ENOMEM : MT_EDNS;
	}
	q->next = it->asked;
	it->asked = q;
	return MT_OK;
}

/* Step the check and send the questions not yet asked. */
static void advance(mt_spf_batch *b, item *it)
{
	for (unsigned round = 0; !it->done; round++) {
		const mt_spf_question *qs;
		size_t n;
		bool answered = false;
		mt_status st;

		if (round >= ADVANCE_ROUNDS_MAX) {
			fail(b, it, MT_ESTATE, "the check did not settle");
			return;
		}
		st = mt_spf_step(it->chk, &qs, &n);
		if (st != MT_OK) {
			fail(b, it, st, "mt_spf_step");
			return;
		}
		if (n == 0) {
			finish(b, it);
			return;
		}
		for (size_t i = 0; i < n && !answered; i++) {
			if (has_question(it, qs[i].id))
				continue;
			/* An immediate answer invalidates qs: step again. */
			st = ask(b, it, &qs[i], &answered);
			if (st != MT_OK) {
				fail(b, it, st, "asking libunbound");
				return;
			}
		}
		if (!answered)
			return;
	}
}

/* Feed the parked answers of a check, then step it. */
static void feed(mt_spf_batch *b, item *it)
{
	query *q;
	while ((q = it->ready) != NULL && !it->done) {
		mt_status st = q->st;
		it->ready = q->next;
		if (st == MT_OK)
			st = mt_spf_answer(it->chk, q->qid, q->ans);
		mt_dns_answer_free(q->ans);
		free(q);
		if (st != MT_OK)
			fail(b, it, st, "answering the check");
	}
	if (!it->done)
		advance(b, it);
}

static void put_check(mt_spf_batch *b, mt_spf_check *chk)
{
	if (!chk)
		return;
	if (b->npool < b->window)
		b->pool[b->npool++] = chk;
	else
		mt_spf_check_free(chk);
}

static void start(mt_spf_batch *b, item *it)
{
	mt_error err = { 0 };
	mt_status st;

	if (b->npool > 0) {
		it->chk = b->pool[--b->npool];
	} else if ((st = mt_spf_check_new(&b->opts, &it->chk, NULL)) != MT_OK) {
		fail(b, it, st, "mt_spf_check_new");
		return;
	}
	st = mt_spf_check_start(it->chk, &it->req, &err);
	if (st == MT_OK && it->req.now == 0)
		mt_spf_check_set_now(it->chk, (int64_t)time(NULL)); /* for %{t} */
	if (st != MT_OK) {
		it->status = st;
		snprintf(it->error, sizeof it->error, "%s", err.message[0] ? err.message
		                                                            : mt_strerror(st));
		put_check(b, it->chk);
		it->chk = NULL;
		it->done = true;
		return;
	}
	it->deadline = now_ms() + mt_spf_check_timeout(it->chk);
	it->active = true;
	b->active++;
	advance(b, it);
}

static void expire(mt_spf_batch *b, uint64_t now)
{
	/* Checks start in ring order with one budget, so deadlines ascend. */
	for (size_t pos = 0; pos < b->started; pos++) {
		item *it = at(b, pos);
		char why[160];
		if (it->done)
			continue;
		if (it->deadline > now)
			break;
		drop_queries(b, it);
		snprintf(why, sizeof why, "the DNS time budget of %u ms ran out",
		         mt_spf_check_timeout(it->chk));
		mt_spf_abort(it->chk, why);
		finish(b, it);
	}
}

static void feed_dirty(mt_spf_batch *b)
{
	while (b->dirty) {
		item *it = b->dirty;
		b->dirty = it->next_dirty;
		it->dirty = false;
		it->next_dirty = NULL;
		if (!it->done)
			feed(b, it);
		else
			drop_queries(b, it);
	}
}

/* Everything that can be done without waiting.  (Callbacks run only
 * inside ub_process(), so starting checks makes nothing dirty.) */
static void pump(mt_spf_batch *b)
{
	feed_dirty(b);
	expire(b, now_ms());
	while (b->active < b->max && b->started < b->n && b->started < b->window)
		start(b, at(b, b->started++));
}

static void item_free(mt_spf_batch *b, item *it)
{
	if (!it)
		return;
	drop_queries(b, it);
	put_check(b, it->chk);
	free(it->strs);
	free(it);
}

/* ---- the API ------------------------------------------------------------ */

mt_status mt_spf_batch_new(mt_dns_resolver *res, const mt_spf_options *opts,
                           unsigned max_in_flight, mt_spf_batch **out, mt_error *err)
{
	mt_spf_batch *b = NULL;
	mt_spf_check *probe = NULL;
	mt_status st = MT_OK;

	if (!out)
		return mt_error_set(err, MT_EINVAL, "no place for the batch");
	*out = NULL;
	b = calloc(1, sizeof *b);
	if (!b) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	b->u = mt_dns_unbound_impl(res);
	if (!b->u) {
		st = mt_error_set(err, MT_EINVAL, "a batch needs a libunbound resolver");
		goto out;
	}
	b->ctx = mt_dns_unbound_ctx(b->u);
	if (opts)
		b->opts = *opts;
	else
		mt_spf_options_init(&b->opts);
	b->expl = dup_or_null(b->opts.default_explanation);
	b->receiver = dup_or_null(b->opts.receiver);
	if ((b->opts.default_explanation && !b->expl) || (b->opts.receiver && !b->receiver)) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	b->opts.default_explanation = b->expl;
	b->opts.receiver = b->receiver;
	/* Bad options show up now rather than in every result. */
	if ((st = mt_spf_check_new(&b->opts, &probe, err)) != MT_OK)
		goto out;
	b->max = max_in_flight ? max_in_flight : DEFAULT_IN_FLIGHT;
	if (b->max > 1000000u)
		b->max = 1000000u;
	b->window = b->max * WINDOW_FACTOR;
	b->pool = calloc(b->window, sizeof *b->pool);
	if (!b->pool) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	b->pool[b->npool++] = probe;
	probe = NULL;
	*out = b;
	b = NULL;
out:
	mt_spf_check_free(probe);
	mt_spf_batch_free(b);
	return st;
}

void mt_spf_batch_free(mt_spf_batch *b)
{
	if (!b)
		return;
	item_free(b, b->last);
	for (size_t pos = 0; pos < b->n; pos++)
		item_free(b, at(b, pos));
	for (size_t i = 0; i < b->npool; i++)
		mt_spf_check_free(b->pool[i]);
	free(b->pool);
	free(b->ring);
	free(b->expl);
	free(b->receiver);
	free(b);
}

mt_status mt_spf_batch_submit(mt_spf_batch *b, const mt_spf_request *req, void *user,
                              mt_error *err)
{
	const char *src[4];
	size_t len[4], total = 0;
	item *it = NULL;
	char *p;

	if (!b || !req)
		return mt_error_set(err, MT_EINVAL, "no batch or no request");
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		item **ring;
		if (ncap > SIZE_MAX / sizeof *ring)
			return mt_error_set(err, MT_ENOMEM, "out of memory");
		ring = malloc(ncap * sizeof *ring);
		if (!ring)
			return mt_error_set(err, MT_ENOMEM, "out of memory");
		for (size_t pos = 0; pos < b->n; pos++)
			ring[pos] = at(b, pos);
		free(b->ring);
		b->ring = ring;
		b->cap = ncap;
		b->first = 0;
	}
	src[0] = req->ip;
	src[1] = req->sender;
	src[2] = req->helo;
	src[3] = req->domain;
	for (size_t i = 0; i < 4; i++) {
		len[i] = src[i] ? strlen(src[i]) + 1 : 0;
		total += len[i];
	}
	it = calloc(1, sizeof *it);
	if (!it || !(it->strs = malloc(total ? total : 1))) {
		free(it);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	it->req = *req;
	p = it->strs;
	{
		const char **dst[4] = { &it->req.ip, &it->req.sender, &it->req.helo,
		                        &it->req.domain };
		for (size_t i = 0; i < 4; i++) {
			if (!src[i])
				continue;
			memcpy(p, src[i], len[i]);
			*dst[i] = p;
			p += len[i];
		}
	}
	it->index = b->submitted++;
	it->user = user;
	it->b = b;
	b->ring[(b->first + b->n) % b->cap] = it;
	b->n++;
	return MT_OK;
}

size_t mt_spf_batch_pending(const mt_spf_batch *b)
{
	return b ? b->n : 0;
}

int mt_spf_batch_fd(const mt_spf_batch *b)
{
	return b ? ub_fd(b->ctx) : -1;
}

mt_status mt_spf_batch_next(mt_spf_batch *b, int wait_ms, const mt_spf_batch_result **out)
{
	uint64_t begin = now_ms();
	bool polled = false;
	int fd;

	if (!out)
		return MT_EINVAL;
	*out = NULL;
	if (!b)
		return MT_EINVAL;
	item_free(b, b->last);
	b->last = NULL;
	fd = ub_fd(b->ctx);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now, left = UINT64_MAX;
		int n;

		pump(b);
		if (b->n > 0 && b->started > 0 && at(b, 0)->done) {
			item *it = at(b, 0);
			b->first = (b->first + 1) % b->cap;
			b->n--;
			b->started--;
			b->last = it;
			b->result.index = it->index;
			b->result.user = it->user;
			b->result.status = it->status;
			b->result.error = it->status != MT_OK ? it->error : NULL;
			b->result.check = it->status == MT_OK ? it->chk : NULL;
			*out = &b->result;
			return MT_OK;
		}
		if (b->n == 0)
			return MT_OK;
		now = now_ms();
		if (wait_ms >= 0) {
			uint64_t end = begin + (uint64_t)wait_ms;
			if (polled && now >= end)
				return MT_OK;
			left = end > now ? end - now : 0;
		}
		for (size_t pos = 0; pos < b->started; pos++) {
			item *it = at(b, pos);
			if (!it->done) {
				uint64_t d = it->deadline > now ? it->deadline - now : 0;
				if (d < left)
					left = d;
				break;
			}
		}
		if (left > 1000000)
			left = 1000000;
		n = poll(&pfd, 1, (int)left);
		polled = true;
		if (n < 0 && errno != EINTR)
			return MT_EDNS;
		if (n > 0 && ub_process(b->ctx) != 0)
			return MT_EDNS;
	}
}
