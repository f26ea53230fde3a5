/* The SPF check as a job of the driver (run/), and the blocking loop over
 * it.  The check itself reads no clock; the driver does and passes the
 * time in (the monotonic clock for budgets, the wall clock for %{t}). */
#include "spf/spf_int.h"
#include <mailtrust/run.h>

static mt_status job_step(void *job, const mt_dns_question **qs, size_t *n)
{
	return mt_spf_step(job, qs, n);
}

static mt_status job_answer(void *job, uint32_t id, const mt_dns_answer *ans)
{
	return mt_spf_answer(job, id, ans);
}

static void job_abort(void *job, const char *reason)
{
	mt_spf_abort(job, reason);
}

static unsigned job_timeout(void *job)
{
	return mt_spf_check_timeout(job);
}

static void job_set_time(void *job, int64_t now)
{
	if (mt_spf_check_now(job) == 0) /* the request gave none: %{t} */
		mt_spf_check_set_now(job, now);
}

static const mt_run_job_ops spf_job_ops = {
	.step = job_step,
	.answer = job_answer,
	.abort = job_abort,
	.timeout_ms = job_timeout,
	.set_time = job_set_time,
};

const mt_run_job_ops *mt_spf_check_job_ops(void)
{
	return &spf_job_ops;
}

mt_status mt_spf_check_run(mt_spf_check *chk, mt_dns_resolver *res)
{
	mt_status st;

	if (!chk || !res)
		return MT_EINVAL;
	st = mt_run_one(res, &spf_job_ops, chk);
	/* The driver gives back a job it could not step (a check that was
	 * never started): that is the caller's error, and there is no
	 * outcome to read. */
	if (st == MT_OK && !mt_spf_check_done(chk))
		st = MT_ESTATE;
	return st;
}
