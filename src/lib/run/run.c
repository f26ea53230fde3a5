/*
 * The driver: jobs in slots, their questions on one resolver.  A question's
 * token is the job's slot and a sequence number, so an answer for a job
 * that is gone (cancelled, timed out, a duplicate) is recognised and
 * dropped.  Answers only mark jobs dirty; jobs are stepped in process(),
 * never from inside the resolver's callback.
 */
#include <mailtrust/run.h>
#include "util/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_JOBS 1024u
#define DEFAULT_TIMEOUT_MS 20000u
#define SEQ_BITS 40
#define SEQ_MASK ((UINT64_C(1) << SEQ_BITS) - 1)
#define MAX_SLOTS (1u << 20) /* slots are allocated up front: about 90 MB at most */
/* process() rounds while answers keep coming at once (cache hits); each
 * round moves at least one job forward, and a job's questions are
 * bounded, so this only guards against a resolver that never settles. */
#define ROUNDS_MAX 100000u

enum { S_FREE = 0, S_RUNNING, S_DONE };

typedef struct asked {
	uint64_t seq;
	uint32_t qid;
} asked;

typedef struct jobrec {
	const mt_run_job_ops *ops;
	void *job, *user;
	uint64_t deadline;
	unsigned timeout_ms;
	int state;
	bool dirty;
	bool failed;               /* aborted for a step/answer failure */
	asked *q;                  /* questions in flight */
	size_t nq, qcap;
	uint32_t next_dirty;       /* index + 1 in the dirty list, 0: end */
	uint32_t next_done;
	uint32_t prev_run, next_run; /* running list, index + 1 */
} jobrec;

struct mt_run {
	mt_dns_resolver *res;
	mt_run_options o;
	jobrec *slots;
	uint32_t *free_slots;
	size_t nfree;
	size_t held, running;
	uint32_t dirty;            /* index + 1 */
	uint32_t done_head, done_tail;
	uint32_t run_head, run_tail; /* running jobs, oldest first */
	uint64_t seq;
	uint64_t now;
};

void mt_run_options_init(mt_run_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
	opts->max_jobs = DEFAULT_MAX_JOBS;
}

mt_status mt_run_new(mt_dns_resolver *res, const mt_run_options *opts, mt_run **out,
                     mt_error *err)
{
	mt_run *r;
	if (!out || !res)
		return mt_error_set(err, MT_EINVAL, "the driver needs a resolver");
	*out = NULL;
	r = calloc(1, sizeof *r);
	if (!r)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	mt_run_options_init(&r->o);
	if (opts) {
		size_t n = opts->size && opts->size < sizeof r->o ? opts->size : sizeof r->o;
		memcpy(&r->o, opts, n);
		r->o.size = sizeof r->o;
	}
	if (r->o.max_jobs == 0)
		r->o.max_jobs = DEFAULT_MAX_JOBS;
	if (r->o.max_jobs > MAX_SLOTS) {
		free(r);
		return mt_error_set(err, MT_EINVAL, "at most %u jobs at once", MAX_SLOTS);
	}
	r->res = res;
	r->slots = calloc(r->o.max_jobs, sizeof *r->slots);
	r->free_slots = malloc(r->o.max_jobs * sizeof *r->free_slots);
	if (!r->slots || !r->free_slots) {
		mt_run_free(r);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < r->o.max_jobs; i++)
		r->free_slots[r->nfree++] = r->o.max_jobs - 1 - i;
	*out = r;
	return MT_OK;
}

static uint64_t token_of(uint32_t slot, uint64_t seq)
{
	return (uint64_t)slot << SEQ_BITS | (seq & SEQ_MASK);
}

static void cancel_questions(mt_run *r, uint32_t slot)
{
	jobrec *j = &r->slots[slot];
	for (size_t i = 0; i < j->nq; i++)
		mt_dns_cancel(r->res, token_of(slot, j->q[i].seq));
	j->nq = 0;
}

void mt_run_free(mt_run *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; r->slots && i < r->o.max_jobs; i++) {
		if (r->slots[i].state == S_RUNNING)
			cancel_questions(r, i);
		free(r->slots[i].q);
	}
	free(r->slots);
	free(r->free_slots);
	free(r);
}

static void mark_dirty(mt_run *r, uint32_t slot)
{
	jobrec *j = &r->slots[slot];
	if (j->dirty)
		return;
	j->dirty = true;
	j->next_dirty = r->dirty;
	r->dirty = slot + 1;
}

static void run_unlink(mt_run *r, uint32_t slot)
{
	jobrec *j = &r->slots[slot];
	if (j->prev_run)
		r->slots[j->prev_run - 1].next_run = j->next_run;
	else
		r->run_head = j->next_run;
	if (j->next_run)
		r->slots[j->next_run - 1].prev_run = j->prev_run;
	else
		r->run_tail = j->prev_run;
	j->prev_run = j->next_run = 0;
}

mt_status mt_run_add(mt_run *r, const mt_run_job_ops *ops, void *job, unsigned timeout_ms,
                     void *user)
{
	uint32_t slot;
	jobrec *j;
	if (!r || !ops || !ops->step || !ops->answer || !ops->abort || !job)
		return MT_EINVAL;
	if (r->nfree == 0)
		return MT_EAGAIN;
	if (ops->set_time)
		ops->set_time(job, (int64_t)time(NULL));
	if (timeout_ms == 0)
		timeout_ms = ops->timeout_ms ? ops->timeout_ms(job) : 0;
	if (timeout_ms == 0)
		timeout_ms = DEFAULT_TIMEOUT_MS;
	slot = r->free_slots[--r->nfree];
	j = &r->slots[slot];
	j->ops = ops;
	j->job = job;
	j->user = user;
	j->state = S_RUNNING;
	j->failed = false;
	j->nq = 0;
	j->deadline = mt_dns_now_ms() + timeout_ms;
	j->timeout_ms = timeout_ms;
	j->prev_run = r->run_tail;
	j->next_run = 0;
	if (r->run_tail)
		r->slots[r->run_tail - 1].next_run = slot + 1;
	else
		r->run_head = slot + 1;
	r->run_tail = slot + 1;
	r->held++;
	r->running++;
	mark_dirty(r, slot);
	return MT_OK;
}

static void finish(mt_run *r, uint32_t slot)
{
	jobrec *j = &r->slots[slot];
	cancel_questions(r, slot);
	run_unlink(r, slot);
	j->state = S_DONE;
	j->next_done = 0;
	if (r->done_tail)
		r->slots[r->done_tail - 1].next_done = slot + 1;
	else
		r->done_head = slot + 1;
	r->done_tail = slot + 1;
	r->running--;
}

static void fail_job(mt_run *r, uint32_t slot, const char *what, mt_status st)
{
	jobrec *j = &r->slots[slot];
	char why[160];
	if (j->failed)
		return;
	j->failed = true;
	snprintf(why, sizeof why, "%s failed: %s", what, mt_strerror(st));
	cancel_questions(r, slot);
	j->ops->abort(j->job, why);
	mark_dirty(r, slot);
}

static void deliver(void *arg, uint64_t token, const mt_dns_answer *ans)
{
	mt_run *r = arg;
	uint64_t slot = token >> SEQ_BITS, seq = token & SEQ_MASK;
	jobrec *j;
	size_t i;
	mt_status st;

	if (slot >= r->o.max_jobs)
		return;
	j = &r->slots[slot];
	if (j->state != S_RUNNING)
		return;
	for (i = 0; i < j->nq; i++)
		if (j->q[i].seq == seq)
			break;
	if (i == j->nq)
		return; /* cancelled, or a duplicate */
	uint32_t qid = j->q[i].qid;
	j->q[i] = j->q[--j->nq];
	st = j->ops->answer(j->job, qid, ans);
	if (st != MT_OK && st != MT_ENOTFOUND)
		fail_job(r, (uint32_t)slot, "answering", st);
	mark_dirty(r, (uint32_t)slot);
}

static bool asked_already(const jobrec *j, uint32_t qid)
{
	for (size_t i = 0; i < j->nq; i++)
		if (j->q[i].qid == qid)
			return true;
	return false;
}

/* Step one dirty job and send what it asks. */
static mt_status step_job(mt_run *r, uint32_t slot)
{
	jobrec *j = &r->slots[slot];
	const mt_dns_question *qs;
	size_t n;
	mt_status st;

	if (j->state != S_RUNNING)
		return MT_OK;
	st = j->ops->step(j->job, &qs, &n);
	if (st != MT_OK) {
		if (j->failed) {
			finish(r, slot); /* an aborted job that still fails: give up on it */
			return MT_OK;
		}
		fail_job(r, slot, "stepping", st);
		return MT_OK;
	}
	/* Finished; or aborted and still asking (the contract says it must
	 * not): give up on it rather than wait past its budget. */
	if (n == 0 || j->failed) {
		finish(r, slot);
		return MT_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (asked_already(j, qs[i].id))
			continue;
		if (j->nq == j->qcap) {
			size_t cap = j->qcap ? j->qcap * 2 : 8;
			asked *q = realloc(j->q, cap * sizeof *q);
			if (!q)
				return MT_ENOMEM;
			j->q = q;
			j->qcap = cap;
		}
		uint64_t seq = ++r->seq & SEQ_MASK;
		j->q[j->nq++] = (asked){ .seq = seq, .qid = qs[i].id };
		st = mt_dns_submit(r->res, qs[i].name, qs[i].type, token_of(slot, seq), r->now);
		if (st != MT_OK) {
			j->nq--;
			if (st == MT_ENOMEM)
				return st;
			fail_job(r, slot, "sending a DNS question", st);
			return MT_OK;
		}
		/* An answer may come back at once (a cache hit) on the next
		 * process(); the question view stays valid until then. */
	}
	return MT_OK;
}

static void expire(mt_run *r)
{
	uint32_t s = r->run_head;
	while (s) {
		jobrec *j = &r->slots[s - 1];
		uint32_t next = j->next_run;
		if (j->deadline <= r->now && !j->failed) {
			char why[128];
			snprintf(why, sizeof why, "the DNS time budget of %u ms ran out", j->timeout_ms);
			cancel_questions(r, s - 1);
			j->failed = true;
			j->ops->abort(j->job, why);
			mark_dirty(r, s - 1);
		}
		s = next;
	}
}

mt_status mt_run_process(mt_run *r)
{
	mt_status st;
	if (!r)
		return MT_EINVAL;
	for (unsigned round = 0; round < ROUNDS_MAX; round++) {
		r->now = mt_dns_now_ms();
		st = mt_dns_process(r->res, r->now, deliver, r);
		if (st != MT_OK)
			return st;
		expire(r);
		if (!r->dirty)
			break;
		while (r->dirty) {
			uint32_t slot = r->dirty - 1;
			jobrec *j = &r->slots[slot];
			r->dirty = j->next_dirty;
			j->dirty = false;
			st = step_job(r, slot);
			if (st != MT_OK)
				return st;
		}
		/* Go round again only while answers are ready at once: a
		 * backend may say so with 0 or with a time that has come. */
		if (mt_dns_resolver_next_deadline(r->res) > r->now)
			break;
	}
	return MT_OK;
}

int mt_run_fd(const mt_run *r)
{
	return r ? mt_dns_resolver_fd(r->res) : -1;
}

int mt_run_timeout(const mt_run *r)
{
	uint64_t next, now;
	if (!r)
		return -1;
	if (r->dirty)
		return 0;
	next = mt_dns_resolver_next_deadline(r->res);
	for (uint32_t s = r->run_head; s; s = r->slots[s - 1].next_run)
		if (r->slots[s - 1].deadline < next)
			next = r->slots[s - 1].deadline;
	if (next == UINT64_MAX)
		return -1;
	now = mt_dns_now_ms();
	if (next <= now)
		return 0;
	return next - now > 1000000 ? 1000000 : (int)(next - now);
}

mt_status mt_run_wait(mt_run *r, int wait_ms)
{
	uint64_t start, end;
	mt_status st;
	if (!r)
		return MT_EINVAL;
	start = mt_dns_now_ms();
	end = wait_ms < 0 ? UINT64_MAX : start + (uint64_t)wait_ms;
	for (;;) {
		st = mt_run_process(r);
		if (st != MT_OK || r->done_head || r->running == 0)
			return st;
		uint64_t now = mt_dns_now_ms();
		if (now >= end)
			return MT_OK;
		int t = mt_run_timeout(r);
		if (t < 0 || (uint64_t)t > end - now)
			t = end - now > 1000000 ? 1000000 : (int)(end - now);
		if (t == 0)
			continue;
		int fd = mt_run_fd(r);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, t) < 0 && errno != EINTR)
			return MT_EDNS;
	}
}

bool mt_run_next(mt_run *r, void **job, void **user)
{
	uint32_t slot;
	jobrec *j;
	if (!r || !r->done_head)
		return false;
	slot = r->done_head - 1;
	j = &r->slots[slot];
	r->done_head = j->next_done;
	if (!r->done_head)
		r->done_tail = 0;
	if (job)
		*job = j->job;
	if (user)
		*user = j->user;
	j->state = S_FREE;
	j->job = j->user = NULL;
	r->free_slots[r->nfree++] = slot;
	r->held--;
	return true;
}

size_t mt_run_jobs(const mt_run *r)
{
	return r ? r->held : 0;
}

size_t mt_run_running(const mt_run *r)
{
	return r ? r->running : 0;
}

mt_status mt_run_one(mt_dns_resolver *res, const mt_run_job_ops *ops, void *job)
{
	mt_run_options o;
	mt_run *run = NULL;
	mt_status st;

	if (!res || !ops || !job)
		return MT_EINVAL;
	mt_run_options_init(&o);
	o.max_jobs = 1;
	st = mt_run_new(res, &o, &run, NULL);
	if (st != MT_OK)
		return st;
	st = mt_run_add(run, ops, job, 0, NULL);
	while (st == MT_OK && !mt_run_next(run, NULL, NULL))
		st = mt_run_wait(run, -1);
	mt_run_free(run);
	return st;
}
