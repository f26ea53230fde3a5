/*
 * check_host() (RFC 7208 sections 4 to 6) as a resumable state machine.
 *
 * The check keeps a stack of frames, one per record being evaluated
 * (include pushes, redirect replaces the top).  advance() runs until the
 * check needs DNS answers (a batch of questions) or has a result; answers
 * are stored in slots and, once the batch is complete, resume() hands them
 * to the step that asked.  No I/O, no clock.
 */
#include "spf/spf_int.h"
#include "dns/dns_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUESTIONS 1000 /* per check; the RFC limits keep real checks far below */
#define MAX_NAMED_RECORDS 5 /* SPF records quoted when a domain has several */
#define MAX_NAMED_LEN 120   /* octets of each that are quoted */

enum wait_kind {
	W_NONE = 0,
	W_RECORD,   /* TXT of the top frame's domain */
	W_A,        /* a mechanism */
	W_MX,       /* MX of an mx mechanism */
	W_MX_ADDR,  /* addresses of the MX names */
	W_PTR,      /* PTR of the client (for ptr and %{p}) */
	W_PTR_ADDR, /* addresses of the PTR names */
	W_EXISTS,
	W_EXP,      /* TXT of the exp= domain */
};

enum frame_how { HOW_TOP, HOW_INCLUDE, HOW_REDIRECT };

typedef struct frame {
	const char *domain;
	mt_spf_record *rec;
	size_t next;      /* index of the term being evaluated */
	int how;
	int matched;      /* index of the term that matched, -1 */
} frame;

typedef struct stored_answer {
	mt_dns_rcode rcode;
	size_t count;
	mt_dns_rr *rr;
} stored_answer;

/*
 * What a TXT answer holds for SPF, worked out once per answer and kept
 * with it (in the DNS cache, for as long as the answer): the SPF records
 * among its strings, joined, and the parsed record when there is exactly
 * one.  Shared by the checks that hold a reference.
 */
typedef struct spf_txt {
	unsigned refs;
	size_t nspf;
	char **texts;              /* nspf joined records, NUL-terminated */
	size_t *lens;
	mt_spf_record *rec;        /* nspf == 1 and it parsed, else NULL */
	mt_status st;              /* the parse: MT_OK, MT_ESYNTAX (syn), ... */
	mt_spf_syntax_error syn;
} spf_txt;

typedef struct slot {
	mt_spf_question q;
	bool answered;
	stored_answer ans;
	size_t trace;
	spf_txt *txt;              /* W_RECORD: the answer's SPF records */
} slot;

struct mt_spf_check {
	mt_spf_options opts;
	char *default_exp;
	char *receiver;
	mt_arena *arena;
	bool started, done;

	/* the request */
	mt_ip ip;
	char ipstr[64];
	const char *sender, *local, *sender_domain, *helo, *domain;
	size_t local_len;
	mt_spf_identity identity;
	int64_t now;
	bool used_local; /* an l or s macro was expanded: A-R keeps the local-part */

	frame *frames;
	size_t nframes, maxframes;
	bool term_counted;  /* the current term was counted against the limit */
	const char *target; /* current mechanism's target name */

	/* validated names of the client address (ptr, %{p}), computed once */
	int validated_state; /* 0 not yet, 1 done */
	const char **ptr_names;
	size_t nptr;
	const char **validated;
	size_t nvalidated;

	/* MX names of the current mx mechanism */
	const char **mx_names;
	size_t nmx;

	/* the batch of questions being waited for */
	enum wait_kind wait;
	slot *slots;
	size_t nslots, slots_cap;
	mt_spf_question *qview;
	size_t nqview;
	uint32_t next_id;
	size_t asked;

	/* references to the SPF records of answers, released at restart */
	spf_txt **held;
	size_t nheld, held_cap;
	/* answers kept by reference instead of copied, released at restart */
	mt_dns_answer **kept;
	size_t nkept, kept_cap;

	/* the outcome */
	mt_spf_outcome out;
	mt_spf_trace_entry *trace;
	size_t ntrace, trace_cap;
	mt_spf_chain_link *chain; /* maxframes links: the path of the last match */
	size_t nchain;
	/* After a top-level fail: frames[0] holds the record that failed and
	 * explain() is re-entered until the explanation is set (section 6.2). */
	bool explaining;
	char *exp_text;               /* explanation text waiting for %{p} */
	size_t exp_text_len;
};

/* ---- options ---- */

void mt_spf_options_init(mt_spf_options *opts)
{
	memset(opts, 0, sizeof *opts);
	opts->max_dns_mechanisms = 10;
	opts->max_mx_names = 10;
	opts->max_ptr_names = 10;
	opts->max_void_lookups = 2;
	opts->timeout_ms = 20000;
}

/* A limit from 1 (0 for the void lookups) to 1000, or a message in err. */
static bool limit_ok(unsigned v, unsigned min, const char *what, mt_error *err)
{
	if (v >= min && v <= 1000)
		return true;
	mt_error_set(err, MT_EINVAL, "%s is %u, not from %u to 1000", what, v, min);
	return false;
}

mt_status mt_spf_check_new(const mt_spf_options *opts, mt_spf_check **out, mt_error *err)
{
	mt_spf_check *chk;
	mt_spf_options def;
	const char *dexp;
	size_t off, len;
	const char *msg;

	if (!out)
		return mt_error_set(err, MT_EINVAL, "no place for the new check given");
	*out = NULL;
	if (!opts) {
		mt_spf_options_init(&def);
		opts = &def;
	}
	if (!limit_ok(opts->max_dns_mechanisms, 1, "the limit of DNS-querying terms", err) ||
	    !limit_ok(opts->max_mx_names, 1, "the limit of MX names", err) ||
	    !limit_ok(opts->max_ptr_names, 1, "the limit of PTR names", err) ||
	    !limit_ok(opts->max_void_lookups, 0, "the limit of void lookups", err))
		return MT_EINVAL;
	dexp = opts->default_explanation ? opts->default_explanation : MT_SPF_DEFAULT_EXPLANATION;
	len = strlen(dexp);
	if (len > MT_SPF_MAX_RECORD)
		return mt_error_set(err, MT_EINVAL, "the default explanation is %zu octets long, more than %u",
		                    len, MT_SPF_MAX_RECORD);
	if (!mt_spf_macro_valid(dexp, len, true, &off, &msg, NULL))
		return mt_error_set(err, MT_EINVAL,
		                    "the default explanation is not a valid macro-string: %s at offset %zu",
		                    msg, off);
	if (opts->receiver && (len = strlen(opts->receiver)) > 255)
		return mt_error_set(err, MT_EINVAL, "the receiver name is %zu octets long, more than 255",
		                    len);
	chk = calloc(1, sizeof *chk);
	if (!chk)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	chk->opts = *opts;
	chk->default_exp = strdup(dexp);
	chk->receiver = strdup(opts->receiver ? opts->receiver : "unknown");
	chk->arena = mt_arena_new(1024);
	chk->maxframes = opts->max_dns_mechanisms + 2;
	chk->frames = calloc(chk->maxframes, sizeof *chk->frames);
	chk->chain = calloc(chk->maxframes, sizeof *chk->chain);
	if (!chk->default_exp || !chk->receiver || !chk->arena || !chk->frames || !chk->chain) {
		mt_spf_check_free(chk);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	/* Everything one check allocates is bounded by the limits; the cap
	 * stops hostile data from growing it further. */
	mt_arena_set_limit(chk->arena, 16u << 20);
	chk->opts.default_explanation = chk->default_exp;
	chk->opts.receiver = chk->receiver;
	*out = chk;
	return MT_OK;
}

static void spf_txt_release(void *p)
{
	spf_txt *t = p;
	if (!t || --t->refs > 0)
		return;
	for (size_t i = 0; i < t->nspf; i++)
		free(t->texts[i]);
	free(t->texts);
	free(t->lens);
	mt_spf_record_free(t->rec);
	free(t);
}

static void release_held(mt_spf_check *chk)
{
	for (size_t i = 0; i < chk->nheld; i++)
		spf_txt_release(chk->held[i]);
	chk->nheld = 0;
	for (size_t i = 0; i < chk->nkept; i++)
		mt_dns_answer_free(chk->kept[i]);
	chk->nkept = 0;
}

void mt_spf_check_free(mt_spf_check *chk)
{
	if (!chk)
		return;
	release_held(chk);
	free(chk->held);
	free(chk->kept);
	free(chk->default_exp);
	free(chk->receiver);
	mt_arena_free(chk->arena);
	free(chk->frames);
	free(chk->chain);
	free(chk->slots);
	free(chk->qview);
	free(chk->trace);
	free(chk);
}

/* ---- ending the check ---- */

static const char *term_text(mt_spf_check *chk, const mt_spf_record *rec, const mt_spf_term *t)
{
	return mt_arena_strndup(chk->arena, rec->text + t->offset, t->length);
}

static void finish(mt_spf_check *chk, mt_spf_result r)
{
	chk->out.result = r;
	chk->done = true;
	chk->wait = W_NONE;
	chk->nslots = 0;
}

/* End the whole check with temperror/permerror/none; the current frame
 * (if any) and its current term are where it happened. */
static void fail_check(mt_spf_check *chk, mt_spf_result r, bool at_term, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail_check(mt_spf_check *chk, mt_spf_result r, bool at_term, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	chk->out.problem = mt_arena_strdup(chk->arena, msg);
	chk->nchain = 0;
	if (chk->nframes) {
		frame *f = &chk->frames[chk->nframes - 1];
		chk->out.problem_domain = f->domain;
		if (at_term && f->rec && f->next < f->rec->nterms) {
			const mt_spf_term *t = &f->rec->terms[f->next];
			chk->out.problem_term = term_text(chk, f->rec, t);
			chk->out.problem_offset = (long)t->offset;
		}
	}
	finish(chk, r);
}

static void fail_syntax(mt_spf_check *chk, const char *domain, const char *text,
                        const mt_spf_syntax_error *syn)
{
	chk->out.problem = mt_arena_printf(chk->arena, "syntax error in the SPF record of %s: %s",
	                                   domain, syn->message);
	chk->out.problem_domain = domain;
	chk->out.problem_offset = (long)syn->offset;
	chk->out.problem_term = mt_arena_strndup(chk->arena, text + syn->offset, syn->length);
	finish(chk, MT_SPF_PERMERROR);
}

/* ---- questions and answers ---- */

static mt_status trace_add(mt_spf_check *chk, const char *name, uint16_t type, size_t *idx)
{
	if (chk->ntrace == chk->trace_cap) {
		size_t ncap = chk->trace_cap ? chk->trace_cap * 2 : 8;
		mt_spf_trace_entry *t = realloc(chk->trace, ncap * sizeof *t);
		if (!t)
			return MT_ENOMEM;
		chk->trace = t;
		chk->trace_cap = ncap;
	}
	mt_spf_trace_entry *e = &chk->trace[chk->ntrace];
	memset(e, 0, sizeof *e);
	e->name = name;
	e->type = type;
	e->rcode = MT_DNS_TIMEOUT;
	e->why = "not answered";
	e->depth = chk->nframes ? (unsigned)chk->nframes - 1 : 0;
	*idx = chk->ntrace++;
	return MT_OK;
}

/* Start a batch: clear the slots. */
static void batch_begin(mt_spf_check *chk, enum wait_kind w)
{
	chk->nslots = 0;
	chk->wait = w;
}

static bool ask(mt_spf_check *chk, const char *name, uint16_t type)
{
	if (chk->asked >= MAX_QUESTIONS) {
		fail_check(chk, MT_SPF_PERMERROR, true, "too many DNS questions in one check");
		return false;
	}
	if (chk->nslots == chk->slots_cap) {
		size_t ncap = chk->slots_cap ? chk->slots_cap * 2 : 2;
		slot *s = realloc(chk->slots, ncap * sizeof *s);
		mt_spf_question *qv = realloc(chk->qview, ncap * sizeof *qv);
		if (s)
			chk->slots = s;
		if (qv)
			chk->qview = qv;
		if (!s || !qv) {
			fail_check(chk, MT_SPF_TEMPERROR, false, "out of memory");
			return false;
		}
		chk->slots_cap = ncap;
	}
	slot *s = &chk->slots[chk->nslots];
	memset(s, 0, sizeof *s);
	s->q.id = ++chk->next_id;
	s->q.name = mt_arena_strdup(chk->arena, name);
	s->q.type = type;
	if (!s->q.name || trace_add(chk, s->q.name, type, &s->trace) != MT_OK) {
		fail_check(chk, MT_SPF_TEMPERROR, false, "out of memory");
		return false;
	}
	chk->nslots++;
	chk->asked++;
	return true;
}

static const char *rcode_problem(mt_dns_rcode rc)
{
	switch (rc) {
	case MT_DNS_TIMEOUT: return "timed out";
	case MT_DNS_SERVFAIL: return "SERVFAIL";
	case MT_DNS_REFUSED: return "REFUSED";
	default: return "failed";
	}
}

static bool dns_error(mt_dns_rcode rc)
{
	return rc != MT_DNS_NOERROR && rc != MT_DNS_NXDOMAIN;
}

static void temperror_for(mt_spf_check *chk, const slot *s, bool at_term)
{
	const mt_spf_trace_entry *e = &chk->trace[s->trace];
	fail_check(chk, MT_SPF_TEMPERROR, at_term, "DNS lookup of %s %s %s%s%s", s->q.name,
	           mt_dns_type_name(s->q.type) ? mt_dns_type_name(s->q.type) : "?",
	           rcode_problem(s->ans.rcode), e->why ? ": " : "", e->why ? e->why : "");
}

/* A term's lookup returned nothing: count it (section 4.6.4). */
static bool count_void(mt_spf_check *chk, slot *s)
{
	chk->trace[s->trace].void_lookup = true;
	chk->out.void_lookups++;
	if (chk->out.void_lookups > chk->opts.max_void_lookups) {
		fail_check(chk, MT_SPF_PERMERROR, true,
		           "more than %u void lookups (DNS answers with no records); the last was %s",
		           chk->opts.max_void_lookups, s->q.name);
		return false;
	}
	return true;
}

/* ---- macros ---- */

static void macro_ctx(const mt_spf_check *chk, const char *domain, mt_spf_macro_ctx *mc)
{
	memset(mc, 0, sizeof *mc);
	mc->sender = chk->sender;
	mc->local = chk->local;
	mc->local_len = chk->local_len;
	mc->sender_domain = chk->sender_domain;
	mc->domain = domain;
	mc->helo = chk->helo ? chk->helo : "";
	mc->receiver = chk->receiver;
	mc->ip = &chk->ip;
	mc->now = chk->now;
	mc->validated = "unknown";
	/* %{p}: the domain itself if validated, else a subdomain of it, else any (section 7.3). */
	if (chk->nvalidated) {
		size_t dl = strlen(domain);
		const char *best = chk->validated[0];
		for (size_t i = 0; i < chk->nvalidated; i++) {
			const char *v = chk->validated[i];
			size_t vl = strlen(v);
			if (mt_strcaseeq(v, vl, domain, dl)) {
				best = v;
				break;
			}
			if (vl > dl && v[vl - dl - 1] == '.' && mt_strcaseeq(v + vl - dl, dl, domain, dl) &&
			    best == chk->validated[0])
				best = v;
		}
		mc->validated = best;
	}
}

/* Expand spec for the frame's domain into the arena; NULL on failure (check ended). */
static const char *expand_domain(mt_spf_check *chk, const char *domain, const char *spec, size_t len)
{
	char buf[MT_SPF_MAX_EXPANSION];
	mt_spf_macro_ctx mc;
	size_t n;
	macro_ctx(chk, domain, &mc);
	if (mt_spf_macro_uses(spec, len, "sl"))
		chk->used_local = true;
	mt_status st = mt_spf_macro_expand(&mc, spec, len, false, buf, sizeof buf, &n);
	if (st != MT_OK) {
		fail_check(chk, MT_SPF_PERMERROR, true, "macro expansion of '%.*s' failed: %s",
		           (int)(len > 100 ? 100 : len), spec, st == MT_ERANGE ? "result too long" : "syntax");
		return NULL;
	}
	const char *r = mt_arena_strndup(chk->arena, buf, n);
	if (!r)
		fail_check(chk, MT_SPF_TEMPERROR, false, "out of memory");
	return r;
}

/* ---- the validated names of the client (section 5.5) ---- */

static bool names_equal_or_sub(const char *name, const char *dom)
{
	size_t nl = strlen(name), dl = strlen(dom);
	if (nl && name[nl - 1] == '.')
		nl--;
	if (dl && dom[dl - 1] == '.')
		dl--;
	if (mt_strcaseeq(name, nl, dom, dl))
		return true;
	return nl > dl && name[nl - dl - 1] == '.' && mt_strcaseeq(name + nl - dl, dl, dom, dl);
}

static void start_validation(mt_spf_check *chk)
{
	char rev[96];
	mt_spf_reverse_name(&chk->ip, rev, sizeof rev);
	batch_begin(chk, W_PTR);
	ask(chk, rev, MT_DNS_PTR);
}

static void on_ptr(mt_spf_check *chk)
{
	slot *s = &chk->slots[0];
	size_t n = 0;
	chk->nptr = 0;
	if (s->ans.rcode == MT_DNS_NOERROR) {
		n = s->ans.count < chk->opts.max_ptr_names ? s->ans.count : chk->opts.max_ptr_names;
		chk->ptr_names = mt_arena_alloc(chk->arena, (n + 1) * sizeof(char *));
		if (!chk->ptr_names) {
			fail_check(chk, MT_SPF_TEMPERROR, false, "out of memory");
			return;
		}
		for (size_t i = 0; i < n; i++)
			chk->ptr_names[chk->nptr++] = (const char *)s->ans.rr[i].data;
	}
	if (chk->nptr == 0) {
		/* A DNS error or no PTR: nothing validated (section 5.5). */
		chk->validated_state = 1;
		chk->wait = W_NONE;
		return;
	}
	batch_begin(chk, W_PTR_ADDR);
	for (size_t i = 0; i < chk->nptr; i++)
		if (!ask(chk, chk->ptr_names[i], chk->ip.family == 4 ? MT_DNS_A : MT_DNS_AAAA))
			return;
}

static bool answer_has_ip(const mt_spf_check *chk, const stored_answer *a, int prefix)
{
	uint16_t want = chk->ip.family == 4 ? MT_DNS_A : MT_DNS_AAAA;
	for (size_t i = 0; i < a->count; i++)
		if (a->rr[i].type == want && mt_ip_match(&chk->ip, a->rr[i].data, chk->ip.family, prefix))
			return true;
	return false;
}

static void on_ptr_addr(mt_spf_check *chk)
{
	chk->validated = mt_arena_alloc(chk->arena, (chk->nslots + 1) * sizeof(char *));
	if (!chk->validated) {
		fail_check(chk, MT_SPF_TEMPERROR, false, "out of memory");
		return;
	}
	chk->nvalidated = 0;
	for (size_t i = 0; i < chk->nslots; i++) {
		slot *s = &chk->slots[i];
		/* An error on one name skips that name (section 5.5). */
		if (s->ans.rcode == MT_DNS_NOERROR && answer_has_ip(chk, &s->ans, chk->ip.family == 4 ? 32 : 128))
			chk->validated[chk->nvalidated++] = chk->ptr_names[i];
	}
	chk->validated_state = 1;
	chk->wait = W_NONE;
}

/* ---- frames ---- */

static frame *top(mt_spf_check *chk)
{
	return &chk->frames[chk->nframes - 1];
}

static bool push_frame(mt_spf_check *chk, const char *domain, int how)
{
	if (chk->nframes >= chk->maxframes) {
		fail_check(chk, MT_SPF_PERMERROR, true, "include nesting too deep");
		return false;
	}
	frame *f = &chk->frames[chk->nframes++];
	memset(f, 0, sizeof *f);
	f->domain = domain;
	f->how = how;
	f->matched = -1;
	chk->term_counted = false;
	return true;
}

static void finalize(mt_spf_check *chk, mt_spf_result r, const frame *f);

/* The top frame ended with r (not an error: those end the check at once). */
static void frame_done(mt_spf_check *chk, mt_spf_result r)
{
	for (;;) {
		frame f = *top(chk);
		chk->nframes--;
		if (chk->nframes == 0) {
			finalize(chk, r, &f);
			return;
		}
		frame *p = top(chk);
		const mt_spf_term *t = &p->rec->terms[p->next];
		chk->term_counted = false;
		if (r == MT_SPF_NONE) {
			fail_check(chk, MT_SPF_PERMERROR, true, "include:%s has no SPF record", f.domain);
			return;
		}
		if (r != MT_SPF_PASS) { /* fail, softfail, neutral: not a match */
			chk->nchain = 0;
			p->next++;
			return;
		}
		p->matched = (int)p->next;
		switch (t->qualifier) {
		case '-': r = MT_SPF_FAIL; break;
		case '~': r = MT_SPF_SOFTFAIL; break;
		case '?': r = MT_SPF_NEUTRAL; break;
		default: r = MT_SPF_PASS; break;
		}
	}
}

/* Remember the path from the top record to the term that just matched. */
static void record_chain(mt_spf_check *chk)
{
	chk->nchain = 0;
	for (size_t i = 0; i < chk->nframes && i < chk->maxframes; i++) {
		const frame *fr = &chk->frames[i];
		if (!fr->rec || fr->next >= fr->rec->nterms)
			break;
		chk->chain[chk->nchain].domain = fr->domain;
		chk->chain[chk->nchain].term = term_text(chk, fr->rec, &fr->rec->terms[fr->next]);
		chk->nchain++;
	}
}

static void matched(mt_spf_check *chk)
{
	frame *f = top(chk);
	const mt_spf_term *t = &f->rec->terms[f->next];
	record_chain(chk);
	f->matched = (int)f->next;
	switch (t->qualifier) {
	case '-': frame_done(chk, MT_SPF_FAIL); break;
	case '~': frame_done(chk, MT_SPF_SOFTFAIL); break;
	case '?': frame_done(chk, MT_SPF_NEUTRAL); break;
	default: frame_done(chk, MT_SPF_PASS); break;
	}
}

static void no_match(mt_spf_check *chk)
{
	top(chk)->next++;
	chk->term_counted = false;
}

/* ---- explanation (section 6.2) ---- */

static void set_explanation(mt_spf_check *chk, const char *text, size_t len, const char *domain)
{
	char buf[MT_SPF_MAX_EXPANSION];
	mt_spf_macro_ctx mc;
	size_t n, off;
	const char *msg;
	macro_ctx(chk, domain, &mc);
	/* An explanation that is not a valid explain-string, or does not fit,
	 * gives way to the default (section 6.2). */
	if (!mt_spf_macro_valid(text, len, true, &off, &msg, NULL) ||
	    mt_spf_macro_expand(&mc, text, len, true, buf, sizeof buf, &n) != MT_OK) {
		text = chk->default_exp;
		if (mt_spf_macro_expand(&mc, text, strlen(text), true, buf, sizeof buf, &n) != MT_OK)
			n = 0;
	}
	chk->out.explanation = mt_arena_strndup(chk->arena, buf, n);
}

static void default_explanation(mt_spf_check *chk, const char *domain)
{
	set_explanation(chk, chk->default_exp, strlen(chk->default_exp), domain);
}

/*
 * One step of the explanation of a top-level fail: the exp= domain's TXT
 * record, expanded; the default when there is none or it is unusable.
 * Either finishes the check or waits (for %{p} or the TXT answer).
 */
static void explain(mt_spf_check *chk)
{
	const frame *f = &chk->frames[0];
	char buf[MT_SPF_MAX_EXPANSION];
	mt_spf_macro_ctx mc;
	size_t n;

	if (chk->exp_text) { /* the TXT answer came; %{p} is known now */
		set_explanation(chk, chk->exp_text, chk->exp_text_len, f->domain);
		finish(chk, MT_SPF_FAIL);
		return;
	}
	if (!f->rec || f->rec->exp < 0) {
		default_explanation(chk, f->domain);
		finish(chk, MT_SPF_FAIL);
		return;
	}
	const mt_spf_term *t = &f->rec->terms[f->rec->exp];
	if (mt_spf_macro_uses(t->domain, t->domain_len, "p") && chk->validated_state == 0) {
		start_validation(chk);
		return;
	}
	macro_ctx(chk, f->domain, &mc);
	if (mt_spf_macro_expand(&mc, t->domain, t->domain_len, false, buf, sizeof buf, &n) != MT_OK ||
	    !mt_spf_domain_ok(buf, n, false)) {
		default_explanation(chk, f->domain);
		finish(chk, MT_SPF_FAIL);
		return;
	}
	batch_begin(chk, W_EXP);
	ask(chk, buf, MT_DNS_TXT);
}

static void finalize(mt_spf_check *chk, mt_spf_result r, const frame *f)
{
	if (f->matched < 0)
		chk->nchain = 0;
	if (f->matched >= 0) {
		chk->out.mechanism = term_text(chk, f->rec, &f->rec->terms[f->matched]);
		chk->out.mechanism_domain = f->domain;
	}
	if (r == MT_SPF_NONE && !chk->out.problem) {
		chk->out.problem = mt_arena_printf(chk->arena, "%s has no SPF record", f->domain);
		chk->out.problem_domain = f->domain;
	}
	if (r != MT_SPF_FAIL) {
		finish(chk, r);
		return;
	}
	/* Only the record that produced the top-level fail explains it: after
	 * a redirect that is the target's record, never an included one. */
	chk->frames[0] = *f;
	chk->nframes = 1;
	chk->explaining = true;
	explain(chk);
}

static void on_exp(mt_spf_check *chk)
{
	slot *s = &chk->slots[0];
	const frame *f = &chk->frames[0];
	char text[MT_SPF_MAX_RECORD + 1];
	size_t n;

	chk->wait = W_NONE;
	if (s->ans.rcode != MT_DNS_NOERROR || s->ans.count != 1) {
		default_explanation(chk, f->domain);
		finish(chk, MT_SPF_FAIL);
		return;
	}
	n = mt_dns_txt_join(s->ans.rr[0].data, s->ans.rr[0].len, text, sizeof text);
	if (n >= sizeof text)
		n = sizeof text - 1;
	chk->exp_text = mt_arena_strndup(chk->arena, text, n);
	chk->exp_text_len = n;
	if (!chk->exp_text) {
		fail_check(chk, MT_SPF_TEMPERROR, false, "out of memory");
		return;
	}
	if (mt_spf_macro_uses(text, n, "p") && chk->validated_state == 0)
		start_validation(chk); /* explain() finishes once %{p} is known */
	else
		explain(chk);
}

/* ---- records ---- */

static void on_record(mt_spf_check *chk)
{
	slot *s = &chk->slots[0];
	frame *f = top(chk);
	const spf_txt *t = s->txt;

	chk->wait = W_NONE;
	if (dns_error(s->ans.rcode)) {
		temperror_for(chk, s, false);
		return;
	}
	if (!t || t->nspf == 0) {
		if (f->how == HOW_REDIRECT) {
			fail_check(chk, MT_SPF_PERMERROR, false, "redirect=%s: that domain has no SPF record",
			           f->domain);
			return;
		}
		frame_done(chk, MT_SPF_NONE);
		return;
	}
	if (t->nspf > 1) {
		/* Section 4.5: more than one record is a permerror; name them all
		 * (the first few, each cut short, when there are many). */
		char msg[1024];
		size_t found = t->nspf;
		size_t len = (size_t)snprintf(msg, sizeof msg, "%s has %zu SPF records (", f->domain, found);
		size_t nshown = found < MAX_NAMED_RECORDS ? found : MAX_NAMED_RECORDS;
		for (size_t k = 0; k < nshown && len < sizeof msg; k++) {
			size_t rl = strlen(t->texts[k]);
			const char *sep = k == 0 ? "" : (k == nshown - 1 && nshown == found) ? " and " : ", ";
			len += (size_t)snprintf(msg + len, sizeof msg - len, "%s\"%.*s%s\"", sep,
			                        (int)(rl > MAX_NAMED_LEN ? MAX_NAMED_LEN : rl), t->texts[k],
			                        rl > MAX_NAMED_LEN ? "..." : "");
		}
		if (len < sizeof msg && found > nshown)
			len += (size_t)snprintf(msg + len, sizeof msg - len, " and %zu more", found - nshown);
		if (len < sizeof msg)
			snprintf(msg + len, sizeof msg - len, "); a domain may publish only one");
		fail_check(chk, MT_SPF_PERMERROR, false, "%s", msg);
		return;
	}
	if (chk->nframes == 1 && !chk->out.record) {
		chk->out.record = t->texts[0];
		chk->out.record_len = t->lens[0];
	}
	if (t->st == MT_ESYNTAX) {
		fail_syntax(chk, f->domain, t->texts[0], &t->syn);
		return;
	}
	if (t->st != MT_OK || !t->rec) {
		fail_check(chk, t->st == MT_ENOMEM ? MT_SPF_TEMPERROR : MT_SPF_PERMERROR, false,
		           "cannot parse the SPF record of %s: %s", f->domain, mt_strerror(t->st));
		return;
	}
	f->rec = t->rec;
	f->next = 0;
}

/* ---- mechanisms ---- */

/* Count a DNS-querying term (section 4.6.4); false when over the limit. */
static bool count_term(mt_spf_check *chk)
{
	if (chk->term_counted)
		return true;
	chk->term_counted = true;
	chk->out.dns_mechanisms++;
	if (chk->out.dns_mechanisms > chk->opts.max_dns_mechanisms) {
		fail_check(chk, MT_SPF_PERMERROR, true,
		           "more than %u DNS-querying mechanisms and redirects (include, a, mx, ptr, exists, redirect)",
		           chk->opts.max_dns_mechanisms);
		return false;
	}
	return true;
}

/*
 * The target name of the current term: its expanded domain-spec or the
 * current domain.  NULL when the check ended or the term does not match
 * (*skip set: a macro produced a name that cannot be looked up, which is
 * treated as no match, RFC 7208 section 4.8).
 */
static const char *term_target(mt_spf_check *chk, const mt_spf_term *t, bool *skip, bool *need_p)
{
	frame *f = top(chk);
	*skip = false;
	*need_p = false;
	if (!t->domain)
		return f->domain;
	if (mt_spf_macro_uses(t->domain, t->domain_len, "p") && chk->validated_state == 0) {
		*need_p = true;
		return NULL;
	}
	const char *name = expand_domain(chk, f->domain, t->domain, t->domain_len);
	if (!name)
		return NULL;
	if (!mt_spf_domain_ok(name, strlen(name), false)) {
		bool has_macro = memchr(t->domain, '%', t->domain_len) != NULL;
		if (has_macro && t->kind != MT_SPF_INCLUDE && t->kind != MT_SPF_REDIRECT) {
			*skip = true;
			return NULL;
		}
		fail_check(chk, MT_SPF_PERMERROR, true, "'%s' is not a valid domain name", name);
		return NULL;
	}
	return name;
}

static int default_prefix(const mt_spf_check *chk, const mt_spf_term *t)
{
	if (chk->ip.family == 4)
		return t->cidr4 >= 0 ? t->cidr4 : 32;
	return t->cidr6 >= 0 ? t->cidr6 : 128;
}

static void eval_term(mt_spf_check *chk)
{
	frame *f = top(chk);
	const mt_spf_term *t = &f->rec->terms[f->next];
	bool skip, need_p;
	const char *name;

	switch (t->kind) {
	case MT_SPF_ALL:
		matched(chk);
		return;
	case MT_SPF_IP4:
		if (chk->ip.family == 4 && mt_ip_match(&chk->ip, t->addr, 4, t->cidr4 >= 0 ? t->cidr4 : 32))
			matched(chk);
		else
			no_match(chk);
		return;
	case MT_SPF_IP6:
		if (chk->ip.family == 6 && mt_ip_match(&chk->ip, t->addr, 6, t->cidr6 >= 0 ? t->cidr6 : 128))
			matched(chk);
		else
			no_match(chk);
		return;
	case MT_SPF_REDIRECT:
	case MT_SPF_EXP:
	case MT_SPF_UNKNOWN_MODIFIER:
		no_match(chk);
		return;
	default:
		break;
	}

	/* include a mx ptr exists: DNS-querying terms */
	if (!count_term(chk))
		return;
	name = term_target(chk, t, &skip, &need_p);
	if (need_p) {
		start_validation(chk);
		return;
	}
	if (skip) {
		no_match(chk);
		return;
	}
	if (!name)
		return;
	chk->target = name;
	switch (t->kind) {
	case MT_SPF_INCLUDE:
		push_frame(chk, name, HOW_INCLUDE);
		return;
	case MT_SPF_A:
		batch_begin(chk, W_A);
		ask(chk, name, chk->ip.family == 4 ? MT_DNS_A : MT_DNS_AAAA);
		return;
	case MT_SPF_MX:
		batch_begin(chk, W_MX);
		ask(chk, name, MT_DNS_MX);
		return;
	case MT_SPF_EXISTS:
		batch_begin(chk, W_EXISTS);
		ask(chk, name, MT_DNS_A);
		return;
	case MT_SPF_PTR:
		if (chk->validated_state == 0) {
			start_validation(chk);
			return;
		}
		for (size_t i = 0; i < chk->nvalidated; i++)
			if (names_equal_or_sub(chk->validated[i], name)) {
				matched(chk);
				return;
			}
		no_match(chk);
		return;
	default:
		no_match(chk);
		return;
	}
}

/*
 * The common start of a mechanism's answer: a DNS error ends the check
 * with temperror; no records is a void lookup and no match.  Returns the
 * slot when there are records to look at, NULL when already handled.
 */
static slot *term_answer(mt_spf_check *chk)
{
	slot *s = &chk->slots[0];
	chk->wait = W_NONE;
	if (dns_error(s->ans.rcode)) {
		temperror_for(chk, s, true);
		return NULL;
	}
	if (s->ans.count == 0) {
		if (count_void(chk, s))
			no_match(chk);
		return NULL;
	}
	return s;
}

static void on_a(mt_spf_check *chk)
{
	const mt_spf_term *t = &top(chk)->rec->terms[top(chk)->next];
	slot *s = term_answer(chk);
	if (!s)
		return;
	if (answer_has_ip(chk, &s->ans, default_prefix(chk, t)))
		matched(chk);
	else
		no_match(chk);
}

static void on_exists(mt_spf_check *chk)
{
	slot *s = term_answer(chk);
	if (!s)
		return;
	matched(chk);
}

static void on_mx(mt_spf_check *chk)
{
	slot *s = term_answer(chk);
	if (!s)
		return;
	if (s->ans.count > chk->opts.max_mx_names) {
		fail_check(chk, MT_SPF_PERMERROR, true, "%s has %zu MX records, more than the limit of %u",
		           s->q.name, s->ans.count, chk->opts.max_mx_names);
		return;
	}
	chk->mx_names = mt_arena_alloc(chk->arena, s->ans.count * sizeof(char *));
	if (!chk->mx_names) {
		fail_check(chk, MT_SPF_TEMPERROR, false, "out of memory");
		return;
	}
	chk->nmx = 0;
	for (size_t i = 0; i < s->ans.count; i++) {
		const char *n = (const char *)s->ans.rr[i].data;
		/* A null MX (RFC 7505, exchange ".") names no host. */
		if (s->ans.rr[i].len == 0 || (s->ans.rr[i].len == 1 && n[0] == '.'))
			continue;
		chk->mx_names[chk->nmx++] = n;
	}
	if (chk->nmx == 0) {
		no_match(chk);
		return;
	}
	const char **names = chk->mx_names;
	size_t count = chk->nmx;
	batch_begin(chk, W_MX_ADDR);
	for (size_t i = 0; i < count; i++)
		if (!ask(chk, names[i], chk->ip.family == 4 ? MT_DNS_A : MT_DNS_AAAA))
			return;
}

static void on_mx_addr(mt_spf_check *chk)
{
	const mt_spf_term *t = &top(chk)->rec->terms[top(chk)->next];
	chk->wait = W_NONE;
	for (size_t i = 0; i < chk->nslots; i++) {
		slot *s = &chk->slots[i];
		if (dns_error(s->ans.rcode)) {
			temperror_for(chk, s, true);
			return;
		}
		if (answer_has_ip(chk, &s->ans, default_prefix(chk, t))) {
			matched(chk);
			return;
		}
	}
	no_match(chk);
}

/* End of a record's terms: redirect (section 6.1) or the default neutral. */
static void end_of_terms(mt_spf_check *chk)
{
	frame *f = top(chk);
	const mt_spf_record *rec = f->rec;
	if (rec->redirect < 0 || rec->has_all) {
		frame_done(chk, MT_SPF_NEUTRAL);
		return;
	}
	f->next = (size_t)rec->redirect;
	if (!count_term(chk))
		return;
	bool skip, need_p;
	const char *name = term_target(chk, &rec->terms[rec->redirect], &skip, &need_p);
	if (need_p) {
		/* come back here after validation; the term stays counted */
		start_validation(chk);
		f->next = rec->nterms;
		return;
	}
	if (!name) /* the check ended: term_target() never skips a redirect */
		return;
	f->domain = name;
	f->rec = NULL;
	f->next = 0;
	f->how = HOW_REDIRECT;
	f->matched = -1;
	chk->term_counted = false;
}

/* ---- the engine ---- */

static void advance(mt_spf_check *chk)
{
	/* Every pass either finishes, waits, or moves a term index forward,
	 * pushes a frame (bounded by the lookup limit) or replaces one by a
	 * redirect (counted against the same limit). */
	while (!chk->done && chk->wait == W_NONE) {
		if (chk->explaining) {
			explain(chk);
			continue;
		}
		frame *f = top(chk);
		if (!f->rec) {
			batch_begin(chk, W_RECORD);
			ask(chk, f->domain, MT_DNS_TXT);
			return;
		}
		if (f->next < f->rec->nterms) {
			eval_term(chk);
			continue;
		}
		end_of_terms(chk);
	}
}

static void resume(mt_spf_check *chk)
{
	enum wait_kind w = chk->wait;
	chk->wait = W_NONE;
	switch (w) {
	case W_RECORD: on_record(chk); break;
	case W_A: on_a(chk); break;
	case W_MX: on_mx(chk); break;
	case W_MX_ADDR: on_mx_addr(chk); break;
	case W_PTR: on_ptr(chk); break;
	case W_PTR_ADDR: on_ptr_addr(chk); break;
	case W_EXISTS: on_exists(chk); break;
	case W_EXP: on_exp(chk); break;
	case W_NONE: break;
	}
}

/* ---- public API ---- */

/* s in quotes for a message: at most 64 octets, then "..." and its length. */
static const char *quote_short(mt_spf_check *chk, const char *s)
{
	size_t n = strlen(s);
	if (n <= 64)
		return mt_arena_printf(chk->arena, "'%s'", s);
	return mt_arena_printf(chk->arena, "'%.64s...' (%zu octets)", s, n);
}

/* Why name is not a domain check_host() can look up (section 4.3), as the
 * end of a sentence, or NULL when it is one. */
static const char *domain_problem(const char *name)
{
	size_t n = strlen(name), i, label = 0;

	if (mt_spf_host_name_ok(name, n, true))
		return NULL;
	if (n == 0)
		return "is empty";
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f)
			return "holds a control character";
		if (c >= 0x80)
			return "holds octets that are not ASCII (a domain name is written in A-labels)";
		if (!mt_is_alnum(name[i]) && !strchr("-_.", name[i]))
			return "holds characters other than letters, digits, '-', '_' and dots";
	}
	if (n > 254 || (n == 254 && name[253] != '.'))
		return "is longer than 253 octets";
	for (i = 0; i < n; i++) {
		if (name[i] != '.') {
			if (++label > 63)
				return "has a label longer than 63 octets";
			continue;
		}
		if (label == 0)
			return "has an empty label";
		label = 0;
	}
	if (!memchr(name, '.', n - (name[n - 1] == '.')))
		return "is not a multi-label domain name";
	return "is not a valid domain name";
}

/*
 * The client address: IPv4 or IPv6 text.  An IPv6 zone id ("%eth0",
 * RFC 4007 section 11) names a link of the receiving host and means
 * nothing to SPF: it is dropped.
 */
static bool parse_client_ip(const char *s, mt_ip *ip)
{
	size_t len = strlen(s);
	const char *pct = memchr(s, '%', len);

	if (pct && pct[1] != '\0' && memchr(s, ':', (size_t)(pct - s)))
		len = (size_t)(pct - s);
	return mt_ip_parse(s, len, ip);
}

mt_status mt_spf_check_start(mt_spf_check *chk, const mt_spf_request *req, mt_error *err)
{
	const char *sender, *at, *subject, *why;
	size_t local_len;
	bool null_sender;

	if (!chk || !req || !req->ip)
		return mt_error_set(err, MT_EINVAL, "no client address given");

	release_held(chk);
	mt_arena_reset(chk->arena);
	memset(&chk->out, 0, sizeof chk->out);
	chk->out.problem_offset = -1;
	chk->ntrace = 0;
	chk->nchain = 0;
	chk->nframes = 0;
	chk->nslots = 0;
	chk->wait = W_NONE;
	chk->asked = 0;
	chk->validated_state = 0;
	chk->nvalidated = chk->nptr = chk->nmx = 0;
	chk->validated = chk->ptr_names = chk->mx_names = NULL;
	chk->used_local = false;
	chk->explaining = false;
	chk->exp_text = NULL;
	chk->exp_text_len = 0;
	chk->term_counted = false;
	chk->target = NULL;
	chk->started = chk->done = false;

	if (!parse_client_ip(req->ip, &chk->ip))
		return mt_error_set(err, MT_EINVAL, "'%.64s%s' is not an IPv4 or IPv6 address", req->ip,
		                    strlen(req->ip) > 64 ? "..." : "");
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (chk->ip.family == 6 && memcmp(chk->ip.addr, mapped, 12) == 0) {
		memmove(chk->ip.addr, chk->ip.addr + 12, 4);
		memset(chk->ip.addr + 4, 0, 12);
		chk->ip.family = 4;
	}
	mt_ip_format(&chk->ip, chk->ipstr, sizeof chk->ipstr);

	/*
	 * HELO and MAIL FROM are what the client sent: any text.  The sender
	 * is <sender> of check_host() with "postmaster" for a missing
	 * local-part (section 4.3): postmaster@HELO for the HELO identity and
	 * the null reverse-path (sections 2.3, 2.4), and postmaster@S for a
	 * sender S without '@' (all of it is the domain part).
	 */
	chk->helo = req->helo ? mt_arena_strdup(chk->arena, req->helo) : NULL;
	chk->identity = req->identity;
	null_sender = !req->sender || !req->sender[0];
	at = null_sender ? NULL : strrchr(req->sender, '@');
	local_len = 10; /* "postmaster" */
	if (req->identity == MT_SPF_HELO || null_sender)
		sender = mt_arena_printf(chk->arena, "postmaster@%s", req->helo ? req->helo : "");
	else if (!at)
		sender = mt_arena_printf(chk->arena, "postmaster@%s", req->sender);
	else if (at == req->sender)
		sender = mt_arena_printf(chk->arena, "postmaster%s", req->sender);
	else {
		sender = mt_arena_strdup(chk->arena, req->sender);
		local_len = (size_t)(at - req->sender);
	}
	if (!sender || !chk->helo != !req->helo)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	chk->sender = sender;
	chk->local = sender;
	chk->local_len = local_len;
	chk->sender_domain = sender + local_len + 1;
	chk->domain = req->domain ? mt_arena_strdup(chk->arena, req->domain) : chk->sender_domain;
	chk->now = req->now;
	if (!chk->domain)
		return mt_error_set(err, MT_ENOMEM, "out of memory");

	chk->out.identity = chk->identity;
	chk->out.ip = chk->ipstr;
	chk->out.sender = chk->sender;
	chk->out.helo = chk->helo;
	chk->out.domain = chk->domain;

	if (!(why = domain_problem(chk->domain))) {
		chk->started = true;
		chk->nframes = 1;
		memset(&chk->frames[0], 0, sizeof chk->frames[0]);
		chk->frames[0].domain = chk->domain;
		chk->frames[0].how = HOW_TOP;
		chk->frames[0].matched = -1;
		return MT_OK;
	}
	/* Section 4.3: a malformed or absent domain gives "none". */
	if (!req->domain && (req->identity == MT_SPF_HELO || null_sender) &&
	    (!req->helo || !req->helo[0]))
		chk->out.problem = req->identity == MT_SPF_HELO
		        ? "no HELO name was given: nothing to check under RFC 7208 section 4.3"
		        : "the sender is empty (the null reverse-path) and no HELO name was given: "
		          "nothing to check under RFC 7208 section 4.3";
	else {
		if (req->domain)
			subject = mt_arena_printf(chk->arena, "the domain %s", quote_short(chk, chk->domain));
		else if (req->identity == MT_SPF_HELO)
			subject = mt_arena_printf(chk->arena, "the HELO name %s", quote_short(chk, req->helo));
		else if (null_sender)
			subject = mt_arena_printf(chk->arena, "the HELO name %s (the sender is empty)",
			                          quote_short(chk, req->helo));
		else if (!at)
			subject = mt_arena_printf(chk->arena, "the sender %s has no '@'; taken as a domain, it",
			                          quote_short(chk, req->sender));
		else
			subject = mt_arena_printf(chk->arena, "the domain of the sender %s",
			                          quote_short(chk, req->sender));
		chk->out.problem = !subject ? NULL
		        : mt_arena_printf(chk->arena, "%s %s: nothing to check under RFC 7208 section 4.3",
		                          subject, why);
	}
	if (!chk->out.problem)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	chk->out.problem_domain = chk->domain[0] ? chk->domain : NULL;
	chk->out.malformed_domain = true;
	chk->started = true;
	finish(chk, MT_SPF_NONE);
	return MT_OK;
}

mt_status mt_spf_check_set_now(mt_spf_check *chk, int64_t now)
{
	if (!chk)
		return MT_EINVAL;
	if (!chk->started)
		return MT_ESTATE;
	chk->now = now;
	return MT_OK;
}

int64_t mt_spf_check_now(const mt_spf_check *chk)
{
	return chk->now;
}

mt_status mt_spf_step(mt_spf_check *chk, const mt_spf_question **qs, size_t *n)
{
	if (!chk || !qs || !n)
		return MT_EINVAL;
	*qs = NULL;
	*n = 0;
	if (!chk->started)
		return MT_ESTATE;
	if (!chk->done && chk->wait == W_NONE)
		advance(chk);
	if (chk->done)
		return MT_OK;
	chk->nqview = 0;
	for (size_t i = 0; i < chk->nslots; i++)
		if (!chk->slots[i].answered)
			chk->qview[chk->nqview++] = chk->slots[i].q;
	*qs = chk->qview;
	*n = chk->nqview;
	return MT_OK;
}

static mt_status store_answer(mt_spf_check *chk, slot *s, const mt_dns_answer *ans)
{
	mt_spf_trace_entry *e = &chk->trace[s->trace];
	size_t n = 0;
	bool all = true;
	s->ans.rcode = ans->rcode;
	s->ans.count = 0;
	s->ans.rr = NULL;
	e->rcode = ans->rcode;
	e->dnssec = ans->dnssec;
	for (size_t i = 0; i < ans->count; i++)
		if (ans->rr[i].type != s->q.type)
			all = false;
	if (all) {
		/* The usual case: keep the answer itself (shared with the DNS
		 * cache), no copy. */
		mt_dns_answer *h;
		if (chk->nkept == chk->kept_cap) {
			size_t cap = chk->kept_cap ? chk->kept_cap * 2 : 8;
			mt_dns_answer **k = realloc(chk->kept, cap * sizeof *k);
			if (!k)
				return MT_ENOMEM;
			chk->kept = k;
			chk->kept_cap = cap;
		}
		h = mt_dns_answer_hold(ans);
		if (!h)
			return MT_ENOMEM;
		chk->kept[chk->nkept++] = h;
		s->ans.rr = (mt_dns_rr *)h->rr;
		s->ans.count = h->count;
		e->why = h->why;
		e->records = h->rr;
		e->count = h->count;
		return MT_OK;
	}
	e->why = ans->why ? mt_arena_strdup(chk->arena, ans->why) : NULL;
	if (ans->count) {
		s->ans.rr = mt_arena_alloc(chk->arena, ans->count * sizeof(mt_dns_rr));
		if (!s->ans.rr)
			return MT_ENOMEM;
		for (size_t i = 0; i < ans->count; i++) {
			const mt_dns_rr *rr = &ans->rr[i];
			/* Only records of the asked type matter (after CNAMEs). */
			if (rr->type != s->q.type)
				continue;
			mt_dns_rr *c = &s->ans.rr[n];
			*c = *rr;
			uint8_t *d = mt_arena_alloc(chk->arena, rr->len + 1);
			if (!d)
				return MT_ENOMEM;
			if (rr->len)
				memcpy(d, rr->data, rr->len);
			d[rr->len] = 0;
			c->data = d;
			n++;
		}
	}
	/* The trace shows the stored records; rendering them is the reader's job. */
	e->records = s->ans.rr;
	s->ans.count = n;
	e->count = n;
	return MT_OK;
}

/* Is rr a TXT record holding an SPF record?  "v=spf1" and the octet after
 * it decide; the rest is joined only for the records that are. */
static bool spf_rr(const mt_dns_rr *rr)
{
	char head[8];
	size_t hl;
	if (rr->type != MT_DNS_TXT)
		return false;
	hl = mt_dns_txt_join(rr->data, rr->len, head, sizeof head);
	return mt_spf_is_record(head, hl < 7 ? hl : 7);
}

/* The SPF records of a TXT answer: built once, then kept with the answer. */
static spf_txt *spf_txt_build(const mt_dns_answer *ans)
{
	spf_txt *t = calloc(1, sizeof *t);
	size_t n = 0;
	if (!t)
		return NULL;
	for (size_t i = 0; i < ans->count; i++)
		n += spf_rr(&ans->rr[i]);
	t->refs = 1;
	t->st = MT_OK;
	if (n == 0)
		return t;
	t->texts = calloc(n, sizeof *t->texts);
	t->lens = calloc(n, sizeof *t->lens);
	if (!t->texts || !t->lens)
		goto nomem;
	for (size_t i = 0; i < ans->count; i++) {
		const mt_dns_rr *rr = &ans->rr[i];
		if (!spf_rr(rr))
			continue;
		char *buf = malloc(rr->len + 1);
		if (!buf)
			goto nomem;
		size_t hl = mt_dns_txt_join(rr->data, rr->len, buf, rr->len + 1);
		t->texts[t->nspf] = buf;
		t->lens[t->nspf++] = hl > rr->len ? rr->len : hl;
	}
	if (t->nspf == 1)
		t->st = mt_spf_record_parse_in(NULL, t->texts[0], t->lens[0], &t->rec, &t->syn);
	return t;
nomem:
	spf_txt_release(t);
	return NULL;
}

static mt_status hold_txt(mt_spf_check *chk, slot *s, const mt_dns_answer *ans)
{
	spf_txt *t = mt_dns_answer_derived(ans, spf_txt_release);
	if (chk->nheld == chk->held_cap) {
		size_t cap = chk->held_cap ? chk->held_cap * 2 : 8;
		spf_txt **h = realloc(chk->held, cap * sizeof *h);
		if (!h)
			return MT_ENOMEM;
		chk->held = h;
		chk->held_cap = cap;
	}
	if (t) {
		t->refs++;
	} else {
		t = spf_txt_build(ans);
		if (!t)
			return MT_ENOMEM;
		/* One reference for the answer (dropped at once when the
		 * answer cannot keep it), one for this check. */
		t->refs = 2;
		mt_dns_answer_set_derived(ans, t, spf_txt_release);
	}
	chk->held[chk->nheld++] = t;
	s->txt = t;
	return MT_OK;
}

mt_status mt_spf_answer(mt_spf_check *chk, uint32_t id, const mt_dns_answer *ans)
{
	size_t i;
	if (!chk || !ans)
		return MT_EINVAL;
	if (chk->done || chk->wait == W_NONE)
		return MT_ENOTFOUND;
	for (i = 0; i < chk->nslots; i++)
		if (chk->slots[i].q.id == id && !chk->slots[i].answered)
			break;
	if (i == chk->nslots)
		return MT_ENOTFOUND;
	slot *s = &chk->slots[i];
	s->answered = true;
	s->txt = NULL;
	if (store_answer(chk, s, ans) != MT_OK ||
	    (chk->wait == W_RECORD && s->q.type == MT_DNS_TXT && ans->rcode == MT_DNS_NOERROR &&
	     hold_txt(chk, s, ans) != MT_OK)) {
		fail_check(chk, MT_SPF_TEMPERROR, false, "out of memory");
		return MT_OK;
	}
	for (i = 0; i < chk->nslots; i++)
		if (!chk->slots[i].answered)
			return MT_OK;
	resume(chk);
	return MT_OK;
}

void mt_spf_abort(mt_spf_check *chk, const char *reason)
{
	if (!chk || !chk->started || chk->done)
		return;
	fail_check(chk, MT_SPF_TEMPERROR, false, "%s", reason ? reason : "the check was aborted");
}

bool mt_spf_check_done(const mt_spf_check *chk)
{
	return chk && chk->started && chk->done;
}

const mt_spf_outcome *mt_spf_check_outcome(const mt_spf_check *chk)
{
	if (!chk || !chk->done)
		return NULL;
	mt_spf_check *c = (mt_spf_check *)chk;
	c->out.trace = c->trace;
	c->out.trace_count = c->ntrace;
	c->out.dnssec = MT_DNSSEC_UNCHECKED;
	if (c->ntrace) {
		bool bogus = false, all_secure = true, insecure = false;
		for (size_t i = 0; i < c->ntrace; i++) {
			bogus |= c->trace[i].dnssec == MT_DNSSEC_BOGUS;
			insecure |= c->trace[i].dnssec == MT_DNSSEC_INSECURE;
			all_secure &= c->trace[i].dnssec == MT_DNSSEC_SECURE;
		}
		c->out.dnssec = bogus ? MT_DNSSEC_BOGUS : all_secure ? MT_DNSSEC_SECURE
		              : insecure ? MT_DNSSEC_INSECURE : MT_DNSSEC_UNCHECKED;
	}
	c->out.chain = c->chain;
	c->out.chain_count = c->nchain;
	return &c->out;
}

mt_status mt_spf_expand(const mt_spf_check *chk, const char *macro, size_t len, bool exp_context,
                        char *out, size_t cap, size_t *outlen, mt_spf_syntax_error *syn)
{
	size_t off;
	const char *msg;
	mt_spf_macro_ctx mc;
	if (!chk || !chk->started || !macro || !out)
		return MT_EINVAL;
	if (!mt_spf_macro_valid(macro, len, exp_context, &off, &msg, NULL)) {
		if (syn) {
			syn->offset = off;
			syn->length = len - off;
			snprintf(syn->message, sizeof syn->message, "%s", msg);
		}
		return MT_ESYNTAX;
	}
	macro_ctx(chk, chk->domain, &mc);
	return mt_spf_macro_expand(&mc, macro, len, exp_context, out, cap, outlen);
}

bool mt_spf_check_used_local(const mt_spf_check *chk)
{
	return chk->used_local;
}

const char *mt_spf_check_receiver(const mt_spf_check *chk)
{
	return chk->receiver;
}

unsigned mt_spf_check_timeout(const mt_spf_check *chk)
{
	return chk->opts.timeout_ms ? chk->opts.timeout_ms : 20000;
}
