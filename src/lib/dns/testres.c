/*
 * The test backend: answers from another resolver, late, reordered,
 * twice, wrong or never, as its rules say.  For testing drivers.
 */
#include "dns/dns_internal.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 5000u

typedef struct titem {
	uint64_t token;
	uint64_t at;
	uint64_t order;
	mt_dns_answer *ans;
	struct titem *next;
} titem;

typedef struct testres {
	mt_dns_resolver *inner;
	mt_dns_test_rule *rules;
	size_t nrules;
	unsigned flags;
	unsigned timeout_ms;
	titem *items;
	uint64_t order, order_limit;
	size_t submitted, cancelled;
} testres;

static const mt_dns_test_rule *find_rule(const testres *t, const char *name, uint16_t type)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < t->nrules; i++) {
		const mt_dns_test_rule *r = &t->rules[i];
		if (r->type && r->type != type)
			continue;
		if (strcmp(r->name, "*") == 0 || mt_strcaseeq(r->name, strlen(r->name), name, len))
			return r;
	}
	return NULL;
}

static mt_status queue(testres *t, uint64_t token, uint64_t at, mt_dns_answer *ans)
{
	titem *it = calloc(1, sizeof *it);
	if (!it) {
		mt_dns_answer_free(ans);
		return MT_ENOMEM;
	}
	it->token = token;
	it->at = at;
	it->order = t->order++;
	it->ans = ans;
	it->next = t->items;
	t->items = it;
	return MT_OK;
}

static mt_status simple(mt_dns_rcode rc, const char *why, mt_dns_answer **out)
{
	mt_dns_answer *a = mt_dns_answer_new(rc);
	mt_status st = a ? mt_dns_answer_set_why(a, why) : MT_ENOMEM;
	if (st != MT_OK) {
		mt_dns_answer_free(a);
		return st;
	}
	*out = a;
	return MT_OK;
}

static mt_status test_submit(void *impl, const char *name, uint16_t type, uint64_t token,
                             uint64_t now)
{
	testres *t = impl;
	const mt_dns_test_rule *r = find_rule(t, name, type);
	mt_dns_answer *ans = NULL, *dup = NULL;
	mt_status st;
	char why[320];

	t->submitted++;
	if (r && r->action == MT_DNS_TEST_DROP) {
		snprintf(why, sizeof why, "test: %.253s dropped", name);
		st = simple(MT_DNS_TIMEOUT, why, &ans);
		return st == MT_OK ? queue(t, token, now + t->timeout_ms, ans) : st;
	}
	if (r && r->action == MT_DNS_TEST_FAIL) {
		snprintf(why, sizeof why, "test: %.253s fails with %s", name, mt_dns_rcode_name(r->rcode));
		st = simple(r->rcode, why, &ans);
	} else {
		st = mt_dns_resolve(t->inner, name, type, 0, &ans);
	}
	if (st != MT_OK)
		return st;
	if (r && r->action == MT_DNS_TEST_DUPLICATE) {
		st = mt_dns_answer_copy(ans, &dup);
		if (st != MT_OK) {
			mt_dns_answer_free(ans);
			return st;
		}
	}
	st = queue(t, token, now + (r ? r->delay_ms : 0), ans);
	if (st == MT_OK && dup)
		st = queue(t, token, now + r->delay_ms, dup);
	else
		mt_dns_answer_free(dup);
	return st;
}

static void test_cancel(void *impl, uint64_t token)
{
	testres *t = impl;
	t->cancelled++;
	if (t->flags & MT_DNS_TEST_IGNORE_CANCEL)
		return;
	for (titem **pp = &t->items; *pp;) {
		titem *it = *pp;
		if (it->token == token) {
			*pp = it->next;
			mt_dns_answer_free(it->ans);
			free(it);
		} else {
			pp = &it->next;
		}
	}
}

static mt_status test_process(void *impl, uint64_t now, mt_dns_deliver_fn deliver, void *arg)
{
	testres *t = impl;
	t->order_limit = t->order;
	for (;;) {
		/* The next item due: oldest first, or newest first with REVERSE.
		 * Only items queued before this call are considered. */
		titem **best = NULL;
		for (titem **pp = &t->items; *pp; pp = &(*pp)->next) {
			titem *it = *pp;
			if (it->at > now || it->order >= t->order_limit)
				continue;
			if (!best)
				best = pp;
			else if ((t->flags & MT_DNS_TEST_REVERSE) ? it->order > (*best)->order
			                                          : it->order < (*best)->order)
				best = pp;
		}
		if (!best)
			break;
		titem *it = *best;
		*best = it->next;
		deliver(arg, it->token, it->ans);
		mt_dns_answer_free(it->ans);
		free(it);
	}
	return MT_OK;
}

static uint64_t test_next_deadline(void *impl)
{
	testres *t = impl;
	uint64_t next = UINT64_MAX;
	for (titem *it = t->items; it; it = it->next)
		if (it->at < next)
			next = it->at;
	return next;
}

static void test_destroy(void *impl)
{
	testres *t = impl;
	if (!t)
		return;
	for (titem *it = t->items, *n; it; it = n) {
		n = it->next;
		mt_dns_answer_free(it->ans);
		free(it);
	}
	for (size_t i = 0; i < t->nrules; i++)
		free((char *)t->rules[i].name);
	free(t->rules);
	free(t);
}

static const mt_dns_resolver_ops test_ops = {
	.destroy = test_destroy,
	.submit = test_submit,
	.cancel = test_cancel,
	.process = test_process,
	.next_deadline = test_next_deadline,
};

mt_status mt_dns_test_resolver_new(mt_dns_resolver *inner, const mt_dns_test_rule *rules,
                                   size_t nrules, unsigned flags, unsigned timeout_ms,
                                   mt_dns_resolver **out, mt_error *err)
{
	testres *t;
	if (!out || !inner || (nrules && !rules))
		return mt_error_set(err, MT_EINVAL, "the test resolver needs a resolver behind it");
	*out = NULL;
	t = calloc(1, sizeof *t);
	if (!t)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	t->inner = inner;
	t->flags = flags;
	t->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
	if (nrules) {
		t->rules = calloc(nrules, sizeof *t->rules);
		if (!t->rules)
			goto nomem;
	}
	for (size_t i = 0; i < nrules; i++) {
		const char *n = rules[i].name ? rules[i].name : "*";
		size_t len = strlen(n);
		char *copy = malloc(len + 1);
		if (!copy)
			goto nomem;
		memcpy(copy, n, len + 1);
		t->rules[i] = rules[i];
		t->rules[i].name = copy;
		t->nrules++;
	}
	*out = mt_dns_resolver_new(&test_ops, t);
	if (!*out)
		goto nomem;
	return MT_OK;
nomem:
	test_destroy(t);
	return mt_error_set(err, MT_ENOMEM, "out of memory");
}

void mt_dns_test_resolver_counts(mt_dns_resolver *res, size_t *submitted, size_t *cancelled)
{
	testres *t = mt_dns_resolver_impl(res, &test_ops);
	if (submitted)
		*submitted = t ? t->submitted : 0;
	if (cancelled)
		*cancelled = t ? t->cancelled : 0;
}
