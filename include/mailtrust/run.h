/*
 * mailtrust run: one driver for every job.
 *
 * A job is anything with the sans-I/O shape of an SPF check: step() says
 * which DNS questions it needs next (none: it is finished), answer() feeds
 * one answer back, abort() ends it when its time runs out.  The driver
 * keeps many jobs in flight over one resolver (any backend, usually the
 * cache in front of libunbound), asks every question a job has ready at
 * once, and hands finished jobs back in the order they finish.
 *
 *     mt_run_new(res, NULL, &run, &err);
 *     mt_run_add(run, mt_spf_check_job_ops(), chk, 0, user);   // MT_EAGAIN: full
 *     while (mt_run_jobs(run) > 0) {
 *         mt_run_wait(run, -1);                  // or poll mt_run_fd() yourself,
 *         while (mt_run_next(run, &job, &user))  // for mt_run_timeout() ms, then
 *             ...                                // call mt_run_process()
 *     }
 *
 * An event loop (libevent, libuv, epoll) watches mt_run_fd() for reading,
 * arms a timer for mt_run_timeout() milliseconds, and calls
 * mt_run_process() when either fires.  The driver reads the monotonic
 * clock; jobs never do.
 *
 * Thread safety: one thread at a time per driver; the resolver must not be
 * used by another thread while the driver lives.
 */
#ifndef MAILTRUST_RUN_H
#define MAILTRUST_RUN_H

#include <mailtrust/common.h>
#include <mailtrust/dns.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * How the driver talks to a job.  step(): MT_OK with *n questions in *qs
 * (valid until the next call on the job); *n == 0 means finished.  A
 * question returned again while unanswered is not asked twice.  answer():
 * the answer is borrowed for the call.  abort(): the job must finish (its
 * next step() returns no questions).  timeout_ms (may be NULL): the job's
 * own time budget, used when mt_run_add() is given 0.  set_time (may be
 * NULL): called once by mt_run_add() with the wall-clock time (seconds
 * since the Epoch), for jobs that need it (SPF's %{t}).
 */
typedef struct mt_run_job_ops {
	mt_status (*step)(void *job, const mt_dns_question **qs, size_t *n);
	mt_status (*answer)(void *job, uint32_t id, const mt_dns_answer *ans);
	void (*abort)(void *job, const char *reason);
	unsigned (*timeout_ms)(void *job);
	void (*set_time)(void *job, int64_t now);
} mt_run_job_ops;

typedef struct mt_run_options {
	size_t size;        /* sizeof(mt_run_options), set by init */
	unsigned max_jobs;  /* jobs held at once, running or finished and not
	                       yet taken (default 1024, at most 1048576; their
	                       slots, about 90 octets each, are allocated by
	                       mt_run_new()): mt_run_add() says MT_EAGAIN
	                       beyond it */
} mt_run_options;

MT_EXPORT void mt_run_options_init(mt_run_options *opts);

typedef struct mt_run mt_run;

/* res is borrowed and must outlive the driver.  opts may be NULL.
 * MT_ENOMEM, MT_EINVAL with err set. */
MT_EXPORT mt_status mt_run_new(mt_dns_resolver *res, const mt_run_options *opts, mt_run **out,
                               mt_error *err);
/* Cancels the questions in flight; the jobs belong to the caller and are
 * not freed.  Accepts NULL. */
MT_EXPORT void mt_run_free(mt_run *run);

/*
 * Hand a started job to the driver: it will be stepped by the next
 * mt_run_process() or mt_run_wait().  It gets timeout_ms (0: the job's
 * own, else 20000) from now; when that runs out its questions are
 * cancelled and it is aborted.  user comes back with it.  MT_EAGAIN when
 * max_jobs are held; MT_EINVAL; MT_ENOMEM.
 */
MT_EXPORT mt_status mt_run_add(mt_run *run, const mt_run_job_ops *ops, void *job,
                               unsigned timeout_ms, void *user);

/*
 * Do what can be done now without blocking: take the resolver's answers,
 * feed them, step the jobs that can go on, send their questions, abort
 * jobs whose time ran out.  MT_EDNS when the resolver itself fails,
 * MT_ENOMEM.  A job whose step() or answer() fails is aborted with that
 * reason; the driver goes on.
 */
MT_EXPORT mt_status mt_run_process(mt_run *run);

/*
 * mt_run_process() and wait on the resolver's descriptor until a job has
 * finished or wait_ms milliseconds have passed (-1: until a job finishes;
 * returns at once when no job is running).
 */
MT_EXPORT mt_status mt_run_wait(mt_run *run, int wait_ms);

/* Take the job that finished first and has not been taken: true and the
 * job and its user value, or false when none has finished. */
MT_EXPORT bool mt_run_next(mt_run *run, void **job, void **user);

/* The descriptor to watch for reading (-1: none), and the milliseconds
 * until mt_run_process() must be called anyway (0: now; -1: only when the
 * descriptor is readable or a job is added). */
MT_EXPORT int mt_run_fd(const mt_run *run);
MT_EXPORT int mt_run_timeout(const mt_run *run);

/* Jobs held (running, or finished and not taken), and running only. */
MT_EXPORT size_t mt_run_jobs(const mt_run *run);
MT_EXPORT size_t mt_run_running(const mt_run *run);

/* Run one job to its end on a driver of its own over res, blocking: what
 * every module's blocking call (mt_spf_check_run(), mt_dkim_verify_run(),
 * mt_dmarc_check_run(), mt_verdict_run()) does.  MT_OK when the driver
 * gave the job back (finished, or aborted when its time ran out), else
 * the driver's error (MT_ENOMEM, MT_EDNS ...). */
MT_EXPORT mt_status mt_run_one(mt_dns_resolver *res, const mt_run_job_ops *ops, void *job);

#ifdef __cplusplus
}
#endif
#endif
