/* One verdict on one message: SPF (MAIL FROM and HELO), every DKIM
 * signature, DMARC, and one Authentication-Results field, as a job of the
 * driver whose sub-jobs are the existing checks (their questions are
 * relayed under the verdict's own ids). */
#include <mailtrust/verdict.h>
#include <mailtrust/msg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres/authres_int.h"
#include "dkim/dkim_int.h"
#include "util/util.h"

enum { SUB_SPF_MF = 0, SUB_SPF_HELO, SUB_DKIM, SUB_DMARC, SUB_N };

/* One relayed question: the verdict's id is its index in the table. */
typedef struct relay {
	int sub;
	uint32_t sub_id;
	bool pending;
} relay;

struct mt_verdict {
	mt_verdict_options o;
	mt_dmarc_psl *own_psl;      /* PSL mode without opts.psl: loaded here */
	char *ip, *helo, *mail_from;
	bool have_conn;

	mt_spf_check *spf_mf, *spf_helo;
	mt_dkim_verify *dkim;
	mt_dmarc_check *dmarc;
	void *sub[SUB_N];
	const mt_run_job_ops *ops[SUB_N];
	bool sub_done[SUB_N];

	bool finished;           /* mt_verdict_finish() called */
	bool header_error;       /* the header is over the limits */
	char header_why[256];
	bool started, done;
	int64_t clock;           /* the driver's wall-clock time (set_time) */

	mt_dmarc_from from;      /* the Author Domain */
	bool from_read;
	char dmarc_why[320];     /* a permerror decided here, not by the check */

	relay *relays;
	size_t nrelays, caprelays;
	mt_dns_question *qs;
	size_t capqs;

	mt_verdict_outcome out;
};

void mt_verdict_options_init(mt_verdict_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
	opts->org_mode = MT_DMARC_ORG_TREEWALK;
	opts->timeout_ms = 30000;
}

mt_status mt_verdict_new(const mt_verdict_options *opts, mt_verdict **out, mt_error *err)
{
	mt_verdict *v;
	mt_dkim_verify_options dko;
	mt_spf_options so;
	mt_status st;

	if (!out)
		return mt_error_set(err, MT_EINVAL, "mt_verdict_new: out is NULL");
	*out = NULL;
	if (opts && opts->size < offsetof(mt_verdict_options, psl_file))
		return mt_error_set(err, MT_EINVAL, "mt_verdict_options: size not set (call init)");
	v = calloc(1, sizeof *v);
	if (!v)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	mt_verdict_options_init(&v->o);
	if (opts) {
		memcpy(&v->o, opts, opts->size < sizeof v->o ? opts->size : sizeof v->o);
		v->o.size = sizeof v->o;
	}
	if (v->o.timeout_ms == 0)
		v->o.timeout_ms = 30000;
	mt_spf_options_init(&so);
	so.receiver = v->o.receiver; /* the SPF checks keep their own copies */
	if ((st = mt_spf_check_new(&so, &v->spf_mf, err)) != MT_OK ||
	    (st = mt_spf_check_new(&so, &v->spf_helo, err)) != MT_OK)
		goto fail;
	mt_dkim_verify_options_init(&dko);
	dko.now = v->o.now;
	if (v->o.max_signatures)
		dko.max_signatures = v->o.max_signatures;
	dko.max_header_bytes = v->o.max_header_bytes;
	dko.max_fields = v->o.max_fields;
	if ((st = mt_dkim_verify_new(&dko, &v->dkim, err)) != MT_OK)
		goto fail;
	/* the DMARC check is made once the From domain is known; in PSL mode
	 * the list is loaded here, once per verdict, unless the caller shares
	 * one (opts.psl); a list that cannot be loaded is an error of this call
	 * (fields past the caller's opts.size are the defaults: NULL) */
	if (v->o.org_mode != MT_DMARC_ORG_TREEWALK && !v->o.psl) {
		if ((st = mt_dmarc_psl_load(v->o.psl_file, &v->own_psl, err)) != MT_OK)
			goto fail;
		v->o.psl = v->own_psl;
	}
	/* borrowed strings are not kept past this call */
	v->o.psl_file = NULL;
	v->o.receiver = NULL;
	v->sub[SUB_SPF_MF] = v->spf_mf;
	v->sub[SUB_SPF_HELO] = v->spf_helo;
	v->sub[SUB_DKIM] = v->dkim;
	v->ops[SUB_SPF_MF] = v->ops[SUB_SPF_HELO] = mt_spf_check_job_ops();
	v->ops[SUB_DKIM] = mt_dkim_verify_job_ops();
	v->ops[SUB_DMARC] = mt_dmarc_check_job_ops();
	*out = v;
	return MT_OK;
fail:
	mt_verdict_free(v);
	return st;
}

void mt_verdict_free(mt_verdict *v)
{
	if (!v)
		return;
	mt_spf_check_free(v->spf_mf);
	mt_spf_check_free(v->spf_helo);
	mt_dkim_verify_free(v->dkim);
	mt_dmarc_check_free(v->dmarc);
	mt_dmarc_psl_free(v->own_psl);
	free(v->ip);
	free(v->helo);
	free(v->mail_from);
	free(v->relays);
	free(v->qs);
	free(v);
}

static mt_status set_str(char **dst, const char *s)
{
	char *d = NULL;
	if (s && *s && !(d = strdup(s)))
		return MT_ENOMEM;
	free(*dst);
	*dst = d;
	return MT_OK;
}

/* Start one SPF check: the MAIL FROM identity (the sender, or
 * postmaster@HELO for the null reverse-path) or the HELO identity. */
static mt_status start_spf(mt_verdict *v, mt_spf_identity identity, mt_error *err)
{
	mt_spf_request rq;
	memset(&rq, 0, sizeof rq);
	rq.ip = v->ip;
	rq.helo = v->helo;
	rq.sender = identity == MT_SPF_MAILFROM ? v->mail_from : NULL;
	rq.identity = identity;
	rq.now = v->o.now ? v->o.now : v->clock;
	return mt_spf_check_start(identity == MT_SPF_MAILFROM ? v->spf_mf : v->spf_helo, &rq, err);
}

mt_status mt_verdict_set_connection(mt_verdict *v, const char *ip, const char *helo,
                                    mt_error *err)
{
	mt_status st;
	if (!v || !ip)
		return mt_error_set(err, MT_EINVAL, "mt_verdict_set_connection: NULL argument");
	if (v->started)
		return mt_error_set(err, MT_ESTATE, "the verdict has started");
	if (set_str(&v->ip, ip) != MT_OK || set_str(&v->helo, helo) != MT_OK)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	v->have_conn = false;
	/* started here to judge the address now; started again, with the MAIL
	 * FROM address and the clock, when the job starts */
	if ((st = start_spf(v, MT_SPF_MAILFROM, err)) != MT_OK)
		return st;
	v->have_conn = true;
	return MT_OK;
}

mt_status mt_verdict_set_mail_from(mt_verdict *v, const char *mail_from, mt_error *err)
{
	if (!v)
		return mt_error_set(err, MT_EINVAL, "mt_verdict_set_mail_from: NULL argument");
	if (v->started)
		return mt_error_set(err, MT_ESTATE, "the verdict has started");
	if (set_str(&v->mail_from, mail_from) != MT_OK)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	return MT_OK;
}

mt_status mt_verdict_feed(mt_verdict *v, const void *data, size_t len, mt_error *err)
{
	mt_error e;
	mt_status st;
	if (!v || (!data && len))
		return mt_error_set(err, MT_EINVAL, "mt_verdict_feed: NULL argument");
	if (v->finished)
		return mt_error_set(err, MT_ESTATE, "mt_verdict_feed: after finish");
	if (v->header_error)
		return MT_OK; /* the rest of a message that cannot be read */
	memset(&e, 0, sizeof e);
	st = mt_dkim_verify_feed(v->dkim, data, len, &e);
	if (st == MT_ERANGE) {
		v->header_error = true;
		snprintf(v->header_why, sizeof v->header_why, "%s", e.message);
		return MT_OK;
	}
	if (st != MT_OK)
		return mt_error_set(err, st, "%s", e.message[0] ? e.message : mt_strerror(st));
	return MT_OK;
}

mt_status mt_verdict_finish(mt_verdict *v, mt_error *err)
{
	mt_error e;
	mt_status st = MT_OK;
	if (!v)
		return mt_error_set(err, MT_EINVAL, "mt_verdict_finish: NULL argument");
	if (v->finished)
		return mt_error_set(err, MT_ESTATE, "mt_verdict_finish: called twice");
	memset(&e, 0, sizeof e);
	if (!v->header_error) {
		st = mt_dkim_verify_finish(v->dkim, &e);
		if (st == MT_ERANGE) {
			v->header_error = true;
			snprintf(v->header_why, sizeof v->header_why, "%s", e.message);
			st = MT_OK;
		}
	}
	if (st != MT_OK)
		return mt_error_set(err, st, "%s", e.message[0] ? e.message : mt_strerror(st));
	v->finished = true;
	return MT_OK;
}

/* ---- the job ------------------------------------------------------------ */
static mt_status relay_id(mt_verdict *v, int sub, uint32_t sub_id, uint32_t *id)
{
	for (size_t i = v->nrelays; i-- > 0;)
		if (v->relays[i].pending && v->relays[i].sub == sub && v->relays[i].sub_id == sub_id) {
			*id = (uint32_t)i;
			return MT_OK;
		}
	if (v->nrelays >= UINT32_MAX)
		return MT_ERANGE;
	if (v->nrelays == v->caprelays) {
		size_t cap = v->caprelays ? v->caprelays * 2 : 32;
		relay *r = realloc(v->relays, cap * sizeof *r);
		if (!r)
			return MT_ENOMEM;
		v->relays = r;
		v->caprelays = cap;
	}
	v->relays[v->nrelays] = (relay){ sub, sub_id, true };
	*id = (uint32_t)v->nrelays++;
	return MT_OK;
}

static mt_status qs_reserve(mt_verdict *v, size_t n)
{
	if (n <= v->capqs)
		return MT_OK;
	size_t cap = v->capqs ? v->capqs : 16;
	while (cap < n)
		cap *= 2;
	mt_dns_question *q = realloc(v->qs, cap * sizeof *q);
	if (!q)
		return MT_ENOMEM;
	v->qs = q;
	v->capqs = cap;
	return MT_OK;
}

/* Step one sub-job; its questions are appended to v->qs under the
 * verdict's ids.  A sub-job that fails is aborted with the reason. */
static mt_status step_sub(mt_verdict *v, int sub, size_t *nq)
{
	const mt_dns_question *qs = NULL;
	size_t n = 0;
	mt_status st;
	if (!v->sub[sub] || v->sub_done[sub])
		return MT_OK;
	st = v->ops[sub]->step(v->sub[sub], &qs, &n);
	if (st != MT_OK) {
		if (st == MT_ENOMEM)
			return st;
		v->ops[sub]->abort(v->sub[sub], mt_strerror(st));
		v->sub_done[sub] = true;
		return MT_OK;
	}
	if (n == 0) {
		v->sub_done[sub] = true;
		return MT_OK;
	}
	if ((st = qs_reserve(v, *nq + n)) != MT_OK)
		return st;
	for (size_t i = 0; i < n; i++) {
		uint32_t id;
		if ((st = relay_id(v, sub, qs[i].id, &id)) != MT_OK)
			return st;
		v->qs[*nq] = qs[i];
		v->qs[*nq].id = id;
		(*nq)++;
	}
	return MT_OK;
}

/* The SPF-authenticated identifier for DMARC (draft 4.4.2): the MAIL FROM
 * domain; for the null reverse-path the HELO identity's check. */
static const mt_spf_outcome *spf_identity(const mt_verdict *v)
{
	const mt_spf_outcome *o;
	if (v->mail_from)
		o = mt_spf_check_outcome(v->spf_mf);
	else if (v->helo)
		o = mt_spf_check_outcome(v->spf_helo);
	else
		o = NULL;
	if (!o || o->malformed_domain || !o->domain || !*o->domain)
		return NULL;
	return o;
}

static void permerror(mt_verdict *v, const char *what, const char *detail)
{
	snprintf(v->dmarc_why, sizeof v->dmarc_why, "%s%s", what, detail);
}

/* Make the DMARC check from the From domain and the SPF/DKIM results.
 * Leaves v->dmarc NULL when DMARC is a permerror decided here. */
static mt_status start_dmarc(mt_verdict *v)
{
	mt_dmarc_options dmo;
	mt_error e;
	mt_status st;

	if (v->header_error) {
		permerror(v, "the message header could not be read: ", v->header_why);
		return MT_OK;
	}
	mt_dmarc_from_message(mt_dkim_verify_msg(v->dkim), &v->from);
	v->from_read = true;
	if (v->from.status != MT_DMARC_FROM_OK) {
		snprintf(v->dmarc_why, sizeof v->dmarc_why, "%s: %s",
		         mt_dmarc_from_status_name(v->from.status), v->from.reason);
		return MT_OK;
	}
	mt_dmarc_options_init(&dmo);
	dmo.org_mode = v->o.org_mode;
	dmo.psl = v->o.psl;
	memset(&e, 0, sizeof e);
	st = mt_dmarc_check_new(&dmo, v->from.domain, &v->dmarc, &e);
	if (st == MT_ENOMEM)
		return st;
	if (st != MT_OK) {
		permerror(v, "the From domain cannot be checked: ", e.message);
		return MT_OK;
	}
	const mt_spf_outcome *so = spf_identity(v);
	if (so)
		(void)mt_dmarc_check_set_spf(v->dmarc, so->result == MT_SPF_PASS, so->domain, NULL);
	size_t n = mt_dkim_verify_count(v->dkim);
	for (size_t i = 0; i < n; i++) {
		const mt_dkim_sig_result *r = mt_dkim_verify_result(v->dkim, i);
		if (!r || !r->evaluated || !*r->d)
			continue;
		if (mt_dmarc_check_add_dkim(v->dmarc, r->d, r->result == MT_DKIM_PASS, NULL) ==
		    MT_ERANGE)
			break;
	}
	v->sub[SUB_DMARC] = v->dmarc;
	return MT_OK;
}

static void conclude(mt_verdict *v)
{
	mt_verdict_outcome *o = &v->out;
	const mt_spf_outcome *so;
	memset(o, 0, sizeof *o);
	v->done = true;
	o->from_domain = "";
	o->header_error = v->header_error;
	o->from_status = v->from_read ? v->from.status : MT_DMARC_FROM_ABSENT;
	if (v->from_read && v->from.status == MT_DMARC_FROM_OK)
		o->from_domain = v->from.domain;
	so = mt_spf_check_outcome(v->spf_mf);
	o->spf_mailfrom = so ? so->result : MT_SPF_TEMPERROR;
	o->helo_checked = v->helo != NULL;
	so = v->helo ? mt_spf_check_outcome(v->spf_helo) : NULL;
	o->spf_helo = so ? so->result : MT_SPF_NONE;
	if (!v->header_error && mt_dkim_verify_done(v->dkim)) {
		o->dkim_signatures = mt_dkim_verify_count(v->dkim);
		for (size_t i = 0; i < o->dkim_signatures; i++) {
			const mt_dkim_sig_result *r = mt_dkim_verify_result(v->dkim, i);
			o->dkim_pass += r && r->result == MT_DKIM_PASS;
		}
	}
	const mt_dmarc_outcome *d = v->dmarc ? mt_dmarc_check_outcome(v->dmarc) : NULL;
	if (d) {
		o->dmarc = d->result;
		o->policy = d->policy;
		o->disposition = d->disposition;
		o->reason = d->reason;
	} else {
		o->dmarc = MT_DMARC_RESULT_PERMERROR;
		o->policy = o->disposition = MT_DMARC_POLICY_ABSENT;
		o->reason = v->dmarc_why[0] ? v->dmarc_why : "DMARC did not run";
	}
}

static mt_status job_step(void *job, const mt_dns_question **qs, size_t *n)
{
	mt_verdict *v = job;
	size_t nq = 0;
	mt_status st;

	*qs = v->qs;
	*n = 0;
	if (v->done)
		return MT_OK;
	if (!v->finished || !v->have_conn)
		return MT_ESTATE;
	if (!v->started) {
		v->started = true;
		if ((st = start_spf(v, MT_SPF_MAILFROM, NULL)) != MT_OK)
			return st;
		if (v->helo) {
			if ((st = start_spf(v, MT_SPF_HELO, NULL)) != MT_OK)
				return st;
		} else {
			v->sub_done[SUB_SPF_HELO] = true;
		}
		if (v->header_error)
			v->sub_done[SUB_DKIM] = true;
	}
	for (int s = SUB_SPF_MF; s <= SUB_DKIM; s++)
		if ((st = step_sub(v, s, &nq)) != MT_OK)
			return st;
	if (nq == 0 && !v->sub[SUB_DMARC] && !v->dmarc_why[0]) {
		if ((st = start_dmarc(v)) != MT_OK)
			return st;
	}
	if (nq == 0 && (st = step_sub(v, SUB_DMARC, &nq)) != MT_OK)
		return st;
	if (nq == 0) {
		conclude(v);
		return MT_OK;
	}
	*qs = v->qs; /* after the table may have grown */
	*n = nq;
	return MT_OK;
}

static mt_status job_answer(void *job, uint32_t id, const mt_dns_answer *ans)
{
	mt_verdict *v = job;
	if (!ans || id >= v->nrelays)
		return MT_EINVAL;
	relay *r = &v->relays[id];
	if (!r->pending)
		return MT_OK;
	r->pending = false;
	if (v->sub_done[r->sub])
		return MT_OK;
	return v->ops[r->sub]->answer(v->sub[r->sub], r->sub_id, ans);
}

static void job_abort(void *job, const char *reason)
{
	mt_verdict *v = job;
	if (v->done)
		return;
	if (!reason)
		reason = "aborted";
	if (!v->started) {
		/* never stepped: nothing to say but that it did not run */
		snprintf(v->dmarc_why, sizeof v->dmarc_why, "the verdict did not run: %s", reason);
		conclude(v);
		return;
	}
	for (int s = SUB_SPF_MF; s <= SUB_DKIM; s++)
		if (v->sub[s] && !v->sub_done[s]) {
			v->ops[s]->abort(v->sub[s], reason);
			v->sub_done[s] = true;
		}
	if (!v->sub[SUB_DMARC] && !v->dmarc_why[0] && start_dmarc(v) != MT_OK)
		snprintf(v->dmarc_why, sizeof v->dmarc_why, "out of memory");
	if (v->sub[SUB_DMARC] && !v->sub_done[SUB_DMARC]) {
		v->ops[SUB_DMARC]->abort(v->sub[SUB_DMARC], reason);
		v->sub_done[SUB_DMARC] = true;
	}
	conclude(v);
}

static unsigned job_timeout(void *job)
{
	return ((mt_verdict *)job)->o.timeout_ms;
}

static void job_set_time(void *job, int64_t now)
{
	mt_verdict *v = job;
	if (v->o.now)
		return;
	v->clock = now; /* the SPF checks are (re)started with it */
	if (v->ops[SUB_DKIM]->set_time)
		v->ops[SUB_DKIM]->set_time(v->sub[SUB_DKIM], now);
}

static const mt_run_job_ops verdict_job_ops = {
	.step = job_step,
	.answer = job_answer,
	.abort = job_abort,
	.timeout_ms = job_timeout,
	.set_time = job_set_time,
};

const mt_run_job_ops *mt_verdict_job_ops(void)
{
	return &verdict_job_ops;
}

mt_status mt_verdict_run(mt_verdict *v, mt_dns_resolver *res)
{
	mt_status st;

	if (!v || !res)
		return MT_EINVAL;
	if (!v->finished || !v->have_conn)
		return MT_ESTATE;
	st = mt_run_one(res, &verdict_job_ops, v);
	if (!v->done)
		job_abort(v, "the driver failed");
	return st;
}

bool mt_verdict_done(const mt_verdict *v)
{
	return v && v->done;
}

const mt_verdict_outcome *mt_verdict_result(const mt_verdict *v)
{
	return v && v->done ? &v->out : NULL;
}

const mt_spf_outcome *mt_verdict_spf_mailfrom(const mt_verdict *v)
{
	return v && v->done ? mt_spf_check_outcome(v->spf_mf) : NULL;
}

const mt_spf_outcome *mt_verdict_spf_helo(const mt_verdict *v)
{
	return v && v->done && v->helo ? mt_spf_check_outcome(v->spf_helo) : NULL;
}

const mt_dkim_verify *mt_verdict_dkim(const mt_verdict *v)
{
	return v && v->done && !v->header_error && mt_dkim_verify_done(v->dkim) ? v->dkim : NULL;
}

const mt_dmarc_outcome *mt_verdict_dmarc(const mt_verdict *v)
{
	return v && v->done && v->dmarc ? mt_dmarc_check_outcome(v->dmarc) : NULL;
}

mt_status mt_verdict_authres(const mt_verdict *v, mt_authres *ar, mt_error *err)
{
	mt_status st;
	char why[320];
	if (!v || !ar)
		return mt_error_set(err, MT_EINVAL, "mt_verdict_authres: NULL argument");
	if (!v->done)
		return mt_error_set(err, MT_ESTATE, "the verdict is not done");
	if (mt_spf_check_outcome(v->spf_mf) &&
	    (st = mt_spf_check_authres(v->spf_mf, ar, err)) != MT_OK)
		return st;
	if (v->helo && mt_spf_check_outcome(v->spf_helo) &&
	    (st = mt_spf_check_authres(v->spf_helo, ar, err)) != MT_OK)
		return st;
	if (mt_verdict_dkim(v)) {
		size_t n = mt_dkim_verify_count(v->dkim);
		if (n + 3 <= MT_AUTHRES_MAX_METHODS) {
			if ((st = mt_dkim_verify_authres(v->dkim, ar, err)) != MT_OK)
				return st;
		} else {
			/* more signatures than a field holds: the evaluated ones
			 * (at most MT_DKIM_MAX_SIGNATURES) */
			for (size_t i = 0; i < n; i++) {
				const mt_dkim_sig_result *r = mt_dkim_verify_result(v->dkim, i);
				if (r && r->evaluated && (st = mt_dkim_sig_authres(ar, r, err)) != MT_OK)
					return st;
			}
		}
	} else if (v->header_error) {
		mt_authres_method m = { 0 };
		m.method = "dkim";
		m.result = "permerror";
		m.reason = mt_ar_clean(why, sizeof why, v->dmarc_why);
		if ((st = mt_authres_add(ar, &m, err)) != MT_OK)
			return st;
	}
	if (v->dmarc && mt_dmarc_check_outcome(v->dmarc))
		return mt_dmarc_check_authres(v->dmarc, ar, err);
	mt_authres_method m = { 0 };
	m.method = "dmarc";
	m.result = mt_dmarc_result_name(v->out.dmarc);
	m.reason = mt_ar_clean(why, sizeof why, v->out.reason);
	return mt_authres_add(ar, &m, err);
}

mt_status mt_verdict_authres_field(const mt_verdict *v, const char *authserv_id, unsigned flags,
                                   char **out, mt_error *err)
{
	mt_authres *ar = NULL;
	mt_status st;
	if (!out)
		return mt_error_set(err, MT_EINVAL, "mt_verdict_authres_field: out is NULL");
	*out = NULL;
	if (!v || !authserv_id)
		return mt_error_set(err, MT_EINVAL, "mt_verdict_authres_field: NULL argument");
	if (!v->done)
		return mt_error_set(err, MT_ESTATE, "the verdict is not done");
	if ((st = mt_authres_new(authserv_id, &ar, err)) == MT_OK &&
	    (st = mt_verdict_authres(v, ar, err)) == MT_OK)
		st = mt_authres_render(ar, flags, 0, out, err);
	mt_authres_free(ar);
	return st;
}
