/* A DMARC check of one Author Domain as a job of the driver: policy
 * discovery, Organizational Domains (DNS Tree Walk or PSL), alignment, the
 * np= existence question, and the outcome (draft sections 4.10, 5.3). */
#include <mailtrust/dmarc.h>

#include <libpsl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define WALKS_MAX (2 + MT_DMARC_DKIM_MAX)
/* Every walk asks at most MT_DMARC_WALK_MAX names, plus the existence
 * question: the table of names never grows past this. */
#define NAMES_MAX (WALKS_MAX * MT_DMARC_WALK_MAX + 1)
#define DEFAULT_PSL "/usr/share/publicsuffix/public_suffix_list.dat"

typedef enum { Q_UNASKED = 0, Q_ASKED, Q_NONE, Q_FOUND, Q_ERROR } qstate;

typedef struct qname {
	char *name;             /* "_dmarc.<domain>", or the domain for EXIST */
	uint16_t type;
	qstate state;
	mt_dmarc_record *rec;   /* Q_FOUND: the one DMARC record */
	bool nxdomain;
	unsigned dmarc_records; /* how many TXT records were DMARC records */
	char *why;              /* Q_ERROR */
} qname;

/* One Organizational Domain search: the walk's targets, asked in order. */
typedef struct walk {
	char domain[256];
	char *targets[MT_DMARC_WALK_MAX];
	size_t ntargets;
	size_t pos;             /* next target to look at */
	size_t limit;           /* targets that may be asked for now */
	size_t qidx[MT_DMARC_WALK_MAX]; /* names[] index of each target looked at */
	bool started, finished, error;
	bool partial;           /* stopped early: org is not the Org Domain */
	char org[256];          /* when finished without error */
} walk;

typedef struct ident {
	char d[256];
	bool pass;
	int walk;               /* walks[] index, -1 none */
} ident;

struct mt_dmarc_psl {
	psl_ctx_t *ctx;
};

struct mt_dmarc_check {
	mt_dmarc_options o;
	const psl_ctx_t *psl;   /* o.psl's, or owned_psl */
	mt_dmarc_psl *owned_psl; /* loaded for this check from psl_file */
	mt_arena *arena;
	char author[256];

	ident spf;
	bool spf_set;
	ident dkim[MT_DMARC_DKIM_MAX];
	size_t ndkim;

	qname names[NAMES_MAX];
	size_t nnames;
	mt_dns_question qs[NAMES_MAX];

	walk walks[WALKS_MAX];  /* walks[0]: the Author Domain's */
	size_t nwalks;

	int phase;              /* 0 discovery, 1 alignment, 2 done */
	bool started, done, aborted;
	char abort_reason[160];

	/* discovery's result */
	bool disc_error;
	const char *disc_why;
	mt_dmarc_record *rec;   /* borrowed from names[] */
	char policy_domain[256];
	int exist_q;            /* names[] index of the existence question, -1 */

	mt_dmarc_outcome out;
};

static bool name_eq(const char *a, const char *b)
{
	return mt_strcaseeq(a, strlen(a), b, strlen(b));
}

/* Normalise a domain: lowercase, no trailing dot, checked.  false when it
 * is not a domain name. */
static bool norm(const char *in, char *out, size_t cap)
{
	size_t n = in ? strlen(in) : 0;
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n + 1 > cap)
		return false;
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || in[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			label = 0;
			continue;
		}
		unsigned char c = (unsigned char)in[i];
		if (!mt_is_alnum(c) && c != '-' && c != '_')
			return false;
		out[i] = mt_lower((char)c);
		label++;
	}
	for (size_t i = 0; i < n; i++)
		if (in[i] == '.')
			out[i] = '.';
	out[n] = '\0';
	return true;
}

mt_status mt_dmarc_psl_load(const char *file, mt_dmarc_psl **out, mt_error *err)
{
	if (!out)
		return mt_error_set(err, MT_EINVAL, "mt_dmarc_psl_load: NULL argument");
	*out = NULL;
	if (!file)
		file = DEFAULT_PSL;
	mt_dmarc_psl *p = calloc(1, sizeof *p);
	if (!p)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	p->ctx = psl_load_file(file);
	if (!p->ctx) {
		free(p);
		return mt_error_set(err, MT_EIO,
		                    "cannot load the Public Suffix List %s (Debian: publicsuffix)", file);
	}
	*out = p;
	return MT_OK;
}

void mt_dmarc_psl_free(mt_dmarc_psl *psl)
{
	if (!psl)
		return;
	psl_free(psl->ctx);
	free(psl);
}

void mt_dmarc_options_init(mt_dmarc_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
}

mt_status mt_dmarc_check_new(const mt_dmarc_options *opts, const char *author_domain,
                             mt_dmarc_check **out, mt_error *err)
{
	if (!out || !author_domain)
		return mt_error_set(err, MT_EINVAL, "mt_dmarc_check_new: NULL argument");
	*out = NULL;
	mt_dmarc_check *c = calloc(1, sizeof *c);
	if (!c)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	mt_dmarc_options_init(&c->o);
	if (opts) {
		if (opts->size < offsetof(mt_dmarc_options, org_mode) + sizeof opts->org_mode) {
			free(c);
			return mt_error_set(err, MT_EINVAL, "mt_dmarc_options: size not set (call init)");
		}
		memcpy(&c->o, opts, opts->size < sizeof c->o ? opts->size : sizeof c->o);
		c->o.size = sizeof c->o;
	}
	c->exist_q = -1;
	c->spf.walk = -1;
	c->arena = mt_arena_new(2048);
	if (!c->arena) {
		free(c);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	if (!norm(author_domain, c->author, sizeof c->author)) {
		mt_dmarc_check_free(c);
		return mt_error_set(err, MT_EINVAL, "\"%.64s\" is not a domain name", author_domain);
	}
	if (c->o.org_mode == MT_DMARC_ORG_PSL && c->o.psl) {
		c->psl = c->o.psl->ctx;
	} else if (c->o.org_mode == MT_DMARC_ORG_PSL) {
		mt_status st = mt_dmarc_psl_load(c->o.psl_file, &c->owned_psl, err);
		if (st != MT_OK) {
			mt_dmarc_check_free(c);
			return st;
		}
		c->psl = c->owned_psl->ctx;
	} else if (c->o.org_mode != MT_DMARC_ORG_TREEWALK) {
		mt_dmarc_check_free(c);
		return mt_error_set(err, MT_EINVAL, "unknown org_mode %d", (int)c->o.org_mode);
	}
	*out = c;
	return MT_OK;
}

void mt_dmarc_check_free(mt_dmarc_check *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nnames; i++)
		mt_dmarc_record_free(c->names[i].rec);
	mt_dmarc_psl_free(c->owned_psl);
	mt_arena_free(c->arena);
	free(c);
}

mt_status mt_dmarc_check_set_spf(mt_dmarc_check *c, bool pass, const char *domain, mt_error *err)
{
	if (!c)
		return mt_error_set(err, MT_EINVAL, "NULL check");
	if (c->started)
		return mt_error_set(err, MT_ESTATE, "the check has started");
	c->spf.pass = false;
	c->spf_set = false;
	if (!domain || !*domain)
		return MT_OK; /* no SPF identity */
	if (!norm(domain, c->spf.d, sizeof c->spf.d))
		return mt_error_set(err, MT_EINVAL, "SPF domain \"%.64s\" is not a domain name", domain);
	c->spf.pass = pass;
	c->spf_set = true;
	return MT_OK;
}

mt_status mt_dmarc_check_add_dkim(mt_dmarc_check *c, const char *d, bool pass, mt_error *err)
{
	if (!c || !d)
		return mt_error_set(err, MT_EINVAL, "NULL argument");
	if (c->started)
		return mt_error_set(err, MT_ESTATE, "the check has started");
	if (c->ndkim >= MT_DMARC_DKIM_MAX)
		return mt_error_set(err, MT_ERANGE, "more than %d DKIM results", MT_DMARC_DKIM_MAX);
	ident *id = &c->dkim[c->ndkim];
	if (!norm(d, id->d, sizeof id->d)) {
		/* a d= that is no domain name cannot align; keep it as failed */
		snprintf(id->d, sizeof id->d, "%.200s", d);
		pass = false;
	}
	id->pass = pass;
	id->walk = -1;
	c->ndkim++;
	return MT_OK;
}

/* ---- names ------------------------------------------------------------ */
static int name_index(mt_dmarc_check *c, const char *name, uint16_t type)
{
	for (size_t i = 0; i < c->nnames; i++)
		if (c->names[i].type == type && name_eq(c->names[i].name, name))
			return (int)i;
	if (c->nnames >= NAMES_MAX)
		return -1;
	char *copy = mt_arena_strdup(c->arena, name);
	if (!copy)
		return -1;
	qname *q = &c->names[c->nnames];
	memset(q, 0, sizeof *q);
	q->name = copy;
	q->type = type;
	return (int)c->nnames++;
}

/* ---- walks ------------------------------------------------------------ */
static int walk_add(mt_dmarc_check *c, const char *domain)
{
	for (size_t i = 0; i < c->nwalks; i++)
		if (strcmp(c->walks[i].domain, domain) == 0)
			return (int)i;
	if (c->nwalks >= WALKS_MAX)
		return -1;
	walk *w = &c->walks[c->nwalks];
	memset(w, 0, sizeof *w);
	snprintf(w->domain, sizeof w->domain, "%s", domain);
	if (c->o.org_mode == MT_DMARC_ORG_PSL) {
		/* no DNS: the registrable domain by the list */
		const char *reg = psl_registrable_domain(c->psl, domain);
		snprintf(w->org, sizeof w->org, "%s", reg ? reg : domain);
		w->finished = true;
		return (int)c->nwalks++;
	}
	char *names[MT_DMARC_WALK_MAX];
	size_t n = 0;
	if (mt_dmarc_walk_targets(domain, false, names, &n, NULL) != MT_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		w->targets[i] = mt_arena_strdup(c->arena, names[i]);
		free(names[i]);
		if (!w->targets[i])
			return -1;
	}
	w->ntargets = n;
	w->limit = n;
	return (int)c->nwalks++;
}

/* The walk's Organizational Domain from what it found (4.10.2). */
static void walk_finish(mt_dmarc_check *c, walk *w)
{
	const char *doms[MT_DMARC_WALK_MAX];
	int psd[MT_DMARC_WALK_MAX];
	for (size_t i = 0; i < w->pos; i++) {
		const qname *q = &c->names[w->qidx[i]];
		doms[i] = q->name + 7;
		psd[i] = q->state == Q_FOUND ? (int)mt_dmarc_record_psd(q->rec) : -1;
	}
	if (mt_dmarc_org_domain(w->domain, doms, psd, w->pos, w->org, sizeof w->org) != MT_OK)
		snprintf(w->org, sizeof w->org, "%s", w->domain);
	w->finished = true;
}

/* Move a walk on through the answers it has; questions it still needs go
 * to c->qs.  Stops at a psd=n or psd=y record (4.10 steps 2 and 6). */
static void walk_advance(mt_dmarc_check *c, walk *w, size_t *nq)
{
	while (!w->finished && w->pos < w->limit) {
		int qi = name_index(c, w->targets[w->pos], MT_DNS_TXT);
		if (qi < 0) {
			w->error = true;
			w->finished = true;
			return;
		}
		qname *q = &c->names[qi];
		if (q->state == Q_UNASKED || q->state == Q_ASKED) {
			q->state = Q_ASKED;
			c->qs[*nq].id = (uint32_t)qi;
			c->qs[*nq].name = q->name;
			c->qs[*nq].type = MT_DNS_TXT;
			(*nq)++;
			return;
		}
		if (q->state == Q_ERROR) {
			w->error = true;
			w->finished = true;
			return;
		}
		w->qidx[w->pos++] = (size_t)qi;
		if (q->state == Q_FOUND && mt_dmarc_record_psd(q->rec) != MT_DMARC_PSD_UNKNOWN) {
			walk_finish(c, w);
			return;
		}
		if (w->pos == w->ntargets) {
			walk_finish(c, w);
			return;
		}
	}
}

/* ---- the answer ------------------------------------------------------- */
static mt_status on_answer(mt_dmarc_check *c, qname *q, const mt_dns_answer *ans)
{
	if (q->type != MT_DNS_TXT) { /* the existence question */
		q->state = ans->rcode == MT_DNS_NXDOMAIN ? Q_NONE
		         : ans->rcode == MT_DNS_NOERROR ? Q_FOUND : Q_ERROR;
		q->nxdomain = ans->rcode == MT_DNS_NXDOMAIN;
		return MT_OK;
	}
	if (ans->rcode == MT_DNS_NXDOMAIN || ans->rcode == MT_DNS_NOERROR) {
		q->nxdomain = ans->rcode == MT_DNS_NXDOMAIN;
		mt_dmarc_record *found = NULL;
		char *txt = malloc(65536);
		if (!txt)
			return MT_ENOMEM;
		for (size_t i = 0; i < ans->count; i++) {
			const mt_dns_rr *rr = &ans->rr[i];
			if (rr->type != MT_DNS_TXT)
				continue;
			size_t n = mt_dns_txt_join(rr->data, rr->len, txt, 65536);
			mt_dmarc_record *r = NULL;
			if (mt_dmarc_record_parse(txt, n, &r, NULL) != MT_OK)
				continue; /* not a DMARC record: discarded */
			q->dmarc_records++;
			if (found)
				mt_dmarc_record_free(r);
			else
				found = r;
		}
		free(txt);
		if (q->dmarc_records == 1) {
			q->rec = found;
			q->state = Q_FOUND;
		} else {
			/* several records: all discarded (4.10 step 2) */
			mt_dmarc_record_free(found);
			q->state = Q_NONE;
		}
		return MT_OK;
	}
	q->state = Q_ERROR;
	q->why = mt_arena_printf(c->arena, "%s%s%s", mt_dns_rcode_name(ans->rcode),
	                         ans->why ? ": " : "", ans->why ? ans->why : "");
	return MT_OK;
}

/* ---- phases ----------------------------------------------------------- */
static bool aligned_identical(const mt_dmarc_check *c, const char *d)
{
	return strcmp(c->author, d) == 0;
}

/* Do two domains share at least their top label?  Without that their
 * Organizational Domains cannot be equal, and no walk is needed. */
static bool share_top(const char *a, const char *b)
{
	const char *ta = strrchr(a, '.'), *tb = strrchr(b, '.');
	ta = ta ? ta + 1 : a;
	tb = tb ? tb + 1 : b;
	return strcmp(ta, tb) == 0;
}

/* Identifiers that need relaxed alignment by Organizational Domain. */
static bool needs_org(const mt_dmarc_check *c, const ident *id, bool strict)
{
	return id->pass && !strict && !aligned_identical(c, id->d) && share_top(c->author, id->d);
}

static void choose_policy_record(mt_dmarc_check *c)
{
	walk *w = &c->walks[0];
	if (c->o.org_mode == MT_DMARC_ORG_PSL) {
		/* RFC 7489 6.6.3: the Author Domain, then its Organizational Domain */
		for (size_t i = 0; i < c->nnames; i++) {
			qname *q = &c->names[i];
			if (q->type != MT_DNS_TXT)
				continue;
			if (q->state == Q_ERROR) {
				c->disc_error = true;
				c->disc_why = mt_arena_printf(c->arena, "%s: %s", q->name, q->why);
				return;
			}
			if (q->state == Q_FOUND) {
				c->rec = q->rec;
				snprintf(c->policy_domain, sizeof c->policy_domain, "%s", q->name + 7);
				return;
			}
		}
		return;
	}
	if (w->error) {
		for (size_t i = 0; i < c->nnames; i++)
			if (c->names[i].state == Q_ERROR) {
				c->disc_error = true;
				c->disc_why = mt_arena_printf(c->arena, "%s: %s", c->names[i].name,
				                              c->names[i].why);
				return;
			}
		c->disc_error = true;
		c->disc_why = "the policy walk could not go on";
		return;
	}
	/* the Author Domain's own record */
	if (w->pos > 0 && c->names[w->qidx[0]].state == Q_FOUND) {
		c->rec = c->names[w->qidx[0]].rec;
		snprintf(c->policy_domain, sizeof c->policy_domain, "%s", c->author);
		return;
	}
	/* else the Organizational Domain's, else the PSD's (4.10.1) */
	const qname *psd = NULL;
	for (size_t i = 0; i < w->pos; i++) {
		const qname *q = &c->names[w->qidx[i]];
		if (q->state != Q_FOUND)
			continue;
		if (name_eq(q->name + 7, w->org)) {
			c->rec = q->rec;
			snprintf(c->policy_domain, sizeof c->policy_domain, "%s", q->name + 7);
			return;
		}
		if (mt_dmarc_record_psd(q->rec) == MT_DMARC_PSD_YES)
			psd = q;
	}
	if (psd) {
		c->rec = psd->rec;
		snprintf(c->policy_domain, sizeof c->policy_domain, "%s", psd->name + 7);
	}
}

/* Start what alignment and np= need, once the policy record is known. */
static void start_alignment(mt_dmarc_check *c)
{
	bool strict_spf = mt_dmarc_record_strict_spf(c->rec);
	bool strict_dkim = mt_dmarc_record_strict_dkim(c->rec);
	bool need_author = false;
	if (c->spf_set && needs_org(c, &c->spf, strict_spf)) {
		c->spf.walk = walk_add(c, c->spf.d);
		need_author = true;
	}
	for (size_t i = 0; i < c->ndkim; i++) {
		if (needs_org(c, &c->dkim[i], strict_dkim)) {
			c->dkim[i].walk = walk_add(c, c->dkim[i].d);
			need_author = true;
		}
	}
	walk *w = &c->walks[0];
	if (need_author && !w->finished)
		w->limit = w->ntargets; /* the Author Domain's walk goes on */
	else if (!w->finished && w->pos >= w->limit) {
		walk_finish(c, w); /* not needed further: not an answer to report */
		w->partial = true;
	}
	/* np=: does the Author Domain exist?  Only asked when it matters. */
	if (!name_eq(c->policy_domain, c->author) && mt_dmarc_record_has_tag(c->rec, "np")) {
		int qi = name_index(c, c->author, MT_DNS_A);
		c->exist_q = qi;
	}
}

static void finish(mt_dmarc_check *c);

static mt_status job_step(void *job, const mt_dns_question **qs, size_t *n)
{
	mt_dmarc_check *c = job;
	size_t nq = 0;
	*qs = c->qs;
	*n = 0;
	if (c->done)
		return MT_OK;
	if (!c->started) {
		c->started = true;
		if (walk_add(c, c->author) != 0)
			return MT_ENOMEM;
		if (c->o.org_mode == MT_DMARC_ORG_TREEWALK)
			c->walks[0].limit = 1; /* the Author Domain's own record first */
	}
	if (c->phase == 0) {
		if (c->o.org_mode == MT_DMARC_ORG_PSL) {
			/* _dmarc.author, then _dmarc.<registrable domain> */
			char name[300];
			snprintf(name, sizeof name, "_dmarc.%s", c->author);
			int a = name_index(c, name, MT_DNS_TXT);
			if (a < 0)
				return MT_ENOMEM;
			int b = -1;
			if (c->names[a].state == Q_NONE && strcmp(c->walks[0].org, c->author) != 0) {
				snprintf(name, sizeof name, "_dmarc.%s", c->walks[0].org);
				b = name_index(c, name, MT_DNS_TXT);
				if (b < 0)
					return MT_ENOMEM;
			}
			int pend = c->names[a].state <= Q_ASKED ? a : (b >= 0 && c->names[b].state <= Q_ASKED) ? b : -1;
			if (pend >= 0) {
				c->names[pend].state = Q_ASKED;
				c->qs[0] = (mt_dns_question){ (uint32_t)pend, c->names[pend].name, MT_DNS_TXT };
				*n = 1;
				return MT_OK;
			}
		} else {
			walk *w = &c->walks[0];
			walk_advance(c, w, &nq);
			if (nq > 0) {
				*n = nq;
				return MT_OK;
			}
			/* the Author Domain's own record answered: is it the policy? */
			if (!w->finished && !(w->pos > 0 && c->names[w->qidx[0]].state == Q_FOUND)) {
				w->limit = w->ntargets; /* no: walk on for the Org Domain / PSD */
				walk_advance(c, w, &nq);
				if (nq > 0) {
					*n = nq;
					return MT_OK;
				}
			}
			if (!w->finished && !(w->pos > 0 && c->names[w->qidx[0]].state == Q_FOUND))
				return MT_ESTATE; /* cannot happen: the walk either asks or ends */
		}
		choose_policy_record(c);
		if (c->disc_error || !c->rec) {
			finish(c);
			return MT_OK;
		}
		c->phase = 1;
		start_alignment(c);
	}
	/* phase 1: the walks alignment needs, and the existence question */
	for (size_t i = 0; i < c->nwalks; i++)
		walk_advance(c, &c->walks[i], &nq);
	if (c->exist_q >= 0 && c->names[c->exist_q].state <= Q_ASKED) {
		qname *q = &c->names[c->exist_q];
		q->state = Q_ASKED;
		c->qs[nq++] = (mt_dns_question){ (uint32_t)c->exist_q, q->name, MT_DNS_A };
	}
	if (nq > 0) {
		*n = nq;
		return MT_OK;
	}
	finish(c);
	return MT_OK;
}

static mt_status job_answer(void *job, uint32_t id, const mt_dns_answer *ans)
{
	mt_dmarc_check *c = job;
	if (id >= c->nnames || !ans)
		return MT_EINVAL;
	qname *q = &c->names[id];
	if (q->state != Q_ASKED)
		return MT_OK;
	return on_answer(c, q, ans);
}

static void job_abort(void *job, const char *reason)
{
	mt_dmarc_check *c = job;
	c->aborted = true;
	snprintf(c->abort_reason, sizeof c->abort_reason, "%s", reason ? reason : "aborted");
	for (size_t i = 0; i < c->nnames; i++)
		if (c->names[i].state == Q_ASKED) {
			c->names[i].state = Q_ERROR;
			c->names[i].why = c->abort_reason;
		}
	/* a walk not finished now never will be */
	for (size_t i = 0; i < c->nwalks; i++) {
		if (!c->walks[i].finished) {
			c->walks[i].error = true;
			c->walks[i].finished = true;
		}
	}
	if (c->phase == 0) {
		choose_policy_record(c);
		if (!c->disc_error && !c->rec && !c->walks[0].finished) {
			c->disc_error = true;
			c->disc_why = c->abort_reason;
		}
	}
	finish(c);
}

static const mt_run_job_ops dmarc_job_ops = {
	.step = job_step,
	.answer = job_answer,
	.abort = job_abort,
	.timeout_ms = NULL,
	.set_time = NULL,
};

const mt_run_job_ops *mt_dmarc_check_job_ops(void)
{
	return &dmarc_job_ops;
}

mt_status mt_dmarc_check_run(mt_dmarc_check *c, mt_dns_resolver *res)
{
	if (!c || !res)
		return MT_EINVAL;
	mt_status st = mt_run_one(res, &dmarc_job_ops, c);
	if (!c->done)
		job_abort(c, "the driver failed");
	return st;
}

/* ---- the outcome ------------------------------------------------------ */
typedef enum { AL_NO, AL_YES, AL_UNKNOWN } align;

static align aligned(mt_dmarc_check *c, const ident *id, bool strict)
{
	if (!id->pass)
		return AL_NO;
	if (aligned_identical(c, id->d))
		return AL_YES;
	if (strict || !share_top(c->author, id->d))
		return AL_NO;
	if (id->walk < 0)
		return AL_NO;
	const walk *wa = &c->walks[0], *wi = &c->walks[id->walk];
	if (wa->error || wi->error || !wa->finished || !wi->finished)
		return AL_UNKNOWN;
	return strcmp(wa->org, wi->org) == 0 ? AL_YES : AL_NO;
}

static mt_dmarc_policy lower(mt_dmarc_policy p)
{
	return p == MT_DMARC_POLICY_REJECT ? MT_DMARC_POLICY_QUARANTINE
	     : p == MT_DMARC_POLICY_QUARANTINE ? MT_DMARC_POLICY_NONE : p;
}

static void finish(mt_dmarc_check *c)
{
	mt_dmarc_outcome *o = &c->out;
	if (c->done)
		return;
	c->done = true;
	c->phase = 2;
	memset(o, 0, sizeof *o);
	o->author_domain = c->author;
	o->policy_tag = o->policy_domain = o->org_domain = o->record = o->dkim_domain = "";
	o->author_exists = true;
	o->queries = 0;
	for (size_t i = 0; i < c->nnames; i++)
		o->queries += c->names[i].state != Q_UNASKED;
	o->disposition = MT_DMARC_POLICY_ABSENT;
	if (c->walks[0].finished && !c->walks[0].error && !c->walks[0].partial)
		o->org_domain = c->walks[0].org;
	if (c->disc_error) {
		o->result = MT_DMARC_RESULT_TEMPERROR;
		o->reason = mt_arena_printf(c->arena, "policy discovery failed: %s", c->disc_why);
		return;
	}
	if (!c->rec) {
		o->result = MT_DMARC_RESULT_NONE;
		o->reason = mt_arena_printf(c->arena,
		                            "no DMARC policy record for %s or its organizational domain",
		                            c->author);
		return;
	}
	o->policy_domain = c->policy_domain;
	o->record = mt_dmarc_record_text(c->rec, NULL);
	o->testing = mt_dmarc_record_testing(c->rec);
	bool as_none = false;
	if (!mt_dmarc_record_applies(c->rec, &as_none)) {
		o->result = MT_DMARC_RESULT_NONE;
		o->reason = mt_arena_printf(c->arena,
		                            "the record at _dmarc.%s has no valid p= (or a bad sp=/np=) "
		                            "and no valid rua=: no DMARC processing (section 4.10.1)",
		                            c->policy_domain);
		return;
	}
	/* the policy for this Author Domain */
	if (c->exist_q >= 0 && c->names[c->exist_q].state == Q_NONE && c->names[c->exist_q].nxdomain)
		o->author_exists = false;
	mt_dmarc_policy p = as_none ? MT_DMARC_POLICY_NONE : mt_dmarc_record_p(c->rec);
	o->policy_tag = "p";
	if (!name_eq(c->policy_domain, c->author) && !as_none) {
		mt_dmarc_policy sp = mt_dmarc_record_sp(c->rec), np = mt_dmarc_record_np(c->rec);
		if (!o->author_exists && np != MT_DMARC_POLICY_ABSENT) {
			p = np;
			o->policy_tag = "np";
		} else if (sp != MT_DMARC_POLICY_ABSENT) {
			p = sp;
			o->policy_tag = "sp";
		}
	}
	o->policy = p;
	/* alignment */
	align spf = c->spf_set ? aligned(c, &c->spf, mt_dmarc_record_strict_spf(c->rec)) : AL_NO;
	align dkim = AL_NO;
	for (size_t i = 0; i < c->ndkim; i++) {
		align a = aligned(c, &c->dkim[i], mt_dmarc_record_strict_dkim(c->rec));
		if (a == AL_YES) {
			dkim = AL_YES;
			o->dkim_domain = c->dkim[i].d;
			break;
		}
		if (a == AL_UNKNOWN)
			dkim = AL_UNKNOWN;
	}
	o->spf_aligned = spf == AL_YES;
	o->dkim_aligned = dkim == AL_YES;
	if (o->spf_aligned || o->dkim_aligned) {
		o->result = MT_DMARC_RESULT_PASS;
		o->disposition = MT_DMARC_POLICY_NONE;
		o->reason = mt_arena_printf(c->arena, "%s%s%s aligned with %s",
		                            o->spf_aligned ? "SPF (" : "",
		                            o->spf_aligned ? c->spf.d : "",
		                            o->spf_aligned ? ")" : "", c->author);
		if (!o->spf_aligned)
			o->reason = mt_arena_printf(c->arena, "DKIM (d=%s) aligned with %s", o->dkim_domain,
			                            c->author);
		return;
	}
	if (spf == AL_UNKNOWN || dkim == AL_UNKNOWN) {
		o->result = MT_DMARC_RESULT_TEMPERROR;
		o->reason = mt_arena_printf(c->arena,
		                            "alignment undecided: an organizational domain lookup failed%s%s",
		                            c->aborted ? ": " : "", c->aborted ? c->abort_reason : "");
		return;
	}
	o->result = MT_DMARC_RESULT_FAIL;
	o->disposition = o->testing ? lower(p) : p;
	bool any_pass = (c->spf_set && c->spf.pass);
	for (size_t i = 0; i < c->ndkim; i++)
		any_pass = any_pass || c->dkim[i].pass;
	o->reason = mt_arena_printf(c->arena, "%s; policy %s=%s%s",
	                            any_pass ? "no passing SPF or DKIM identifier is aligned"
	                                     : "neither SPF nor DKIM passed",
	                            o->policy_tag, mt_dmarc_policy_name(p),
	                            o->testing ? " with t=y (testing: applied one level lower)" : "");
}

const mt_dmarc_outcome *mt_dmarc_check_outcome(const mt_dmarc_check *c)
{
	return c && c->done ? &c->out : NULL;
}

const mt_dmarc_record *mt_dmarc_check_record(const mt_dmarc_check *c)
{
	return c ? c->rec : NULL;
}

const char *mt_dmarc_result_name(mt_dmarc_result r)
{
	switch (r) {
	case MT_DMARC_RESULT_NONE: return "none";
	case MT_DMARC_RESULT_PASS: return "pass";
	case MT_DMARC_RESULT_FAIL: return "fail";
	case MT_DMARC_RESULT_TEMPERROR: return "temperror";
	case MT_DMARC_RESULT_PERMERROR: return "permerror";
	}
	return "none";
}

mt_status mt_dmarc_check_authres(const mt_dmarc_check *c, mt_authres *ar, mt_error *err)
{
	if (!c || !ar)
		return mt_error_set(err, MT_EINVAL, "NULL argument");
	if (!c->done)
		return mt_error_set(err, MT_ESTATE, "the check is not done");
	const mt_dmarc_outcome *o = &c->out;
	mt_authres_prop props[2];
	size_t np = 0;
	props[np++] = (mt_authres_prop){ "header", "from", o->author_domain };
	/* RFC 9989 IANA: "the evaluated DMARC policy applied/to be applied after
	 * policy options have been processed": the p=, sp= or np= that governs
	 * this Author Domain, also on pass (the disposition is the outcome's). */
	if (o->policy != MT_DMARC_POLICY_ABSENT)
		props[np++] = (mt_authres_prop){ "policy", "dmarc", mt_dmarc_policy_name(o->policy) };
	mt_authres_method m = { 0 };
	m.method = "dmarc";
	m.result = mt_dmarc_result_name(o->result);
	m.reason = o->result == MT_DMARC_RESULT_PASS ? NULL : o->reason;
	m.props = props;
	m.prop_count = np;
	return mt_authres_add(ar, &m, err);
}
