/* The blocking driver: steps a check over an mt_dns_resolver, within the
 * check's overall DNS time budget.  With the batch, the only part of the
 * SPF module that reads a clock: the core gets the time from here. */
#include "spf/spf_int.h"

#include <stdio.h>
#include <time.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

mt_status mt_spf_check_run(mt_spf_check *chk, mt_dns_resolver *res)
{
	const mt_spf_question *qs;
	size_t n;
	mt_status st;
	unsigned budget;
	uint64_t start, deadline;

	if (!chk || !res)
		return MT_EINVAL;
	if (mt_spf_check_now(chk) == 0)
		mt_spf_check_set_now(chk, (int64_t)time(NULL)); /* for %{t} */
	budget = mt_spf_check_timeout(chk);
	start = now_ms();
	deadline = start + budget;
	for (;;) {
		st = mt_spf_step(chk, &qs, &n);
		if (st != MT_OK || n == 0)
			return st;
		/* Copy the batch: answering may change the check's question view. */
		mt_spf_question batch[64];
		size_t nb = n < 64 ? n : 64;
		for (size_t i = 0; i < nb; i++)
			batch[i] = qs[i];
		for (size_t i = 0; i < nb; i++) {
			uint64_t t = now_ms();
			if (t >= deadline) {
				char why[128];
				snprintf(why, sizeof why, "the DNS time budget of %u ms ran out (waiting for %s)",
				         budget, batch[i].name);
				mt_spf_abort(chk, why);
				return MT_OK;
			}
			mt_dns_answer *ans = NULL;
			st = mt_dns_resolve(res, batch[i].name, batch[i].type, (unsigned)(deadline - t), &ans);
			if (st != MT_OK) {
				mt_dns_answer_free(ans);
				return st;
			}
			st = mt_spf_answer(chk, batch[i].id, ans);
			mt_dns_answer_free(ans);
			if (st != MT_OK)
				return st;
		}
	}
}
