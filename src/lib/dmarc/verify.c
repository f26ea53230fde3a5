/* A domain's DMARC policy record checked for its owner (dmarc_verify.h):
 * the record read with the receiver's own parser (mt_dmarc_record_parse),
 * policy discovery by the check job (mt_dmarc_check), and the
 * authoritative servers asked as spf verify and dkim check-key do
 * (dns/authns.h). */
#include <mailtrust/dmarc_verify.h>
#include <mailtrust/spf_verify.h>
#include "dns/authns.h"
#include "util/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V_MAX_FINDINGS 96u
#define V_MAX_NS MT_AUTHNS_MAX_ADDRS
#define V_MAX_TXT 16u
#define V_MAX_DESTS (2u * MT_DMARC_URIS_MAX)
#define V_ARENA_LIMIT (4u << 20)
/* A TTL above this makes a correction slow to reach receivers. */
#define V_TTL_LONG 86400u

struct mt_dmarc_verify {
	mt_arena *arena;
	bool oom, checked;
	const char *domain;
	const char *name;
	mt_dmarc_verify_source source;
	const char *policy_domain;
	const char *org_domain;
	const char *policy_tag;
	mt_dmarc_policy policy;
	const char *record;
	size_t record_len;
	uint32_t ttl;
	size_t nrecords;
	mt_dmarc_record *parsed;
	mt_dmarc_verify_finding findings[V_MAX_FINDINGS];
	size_t nfindings;
	mt_dmarc_verify_ns ns[V_MAX_NS];
	size_t nns;
	mt_dmarc_verify_report_dest dests[V_MAX_DESTS];
	size_t ndests;
	const mt_dmarc_verify_options *o;
	mt_dns_resolver *res;
};

/* The TXT records of one answer, joined; dmarc[i]: starts with v=DMARC1. */
typedef struct txts {
	size_t n;
	const char *rec[V_MAX_TXT];
	size_t len[V_MAX_TXT];
	bool dmarc[V_MAX_TXT];
	size_t ndmarc;
	uint32_t ttl;
} txts;

const char *mt_dmarc_verify_severity_name(mt_dmarc_verify_severity sev)
{
	switch (sev) {
	case MT_DMARC_VERIFY_INFO: return "info";
	case MT_DMARC_VERIFY_WARNING: return "warning";
	case MT_DMARC_VERIFY_ERROR: return "error";
	}
	return "?";
}

const char *mt_dmarc_verify_source_name(mt_dmarc_verify_source s)
{
	switch (s) {
	case MT_DMARC_SOURCE_NONE: return "none";
	case MT_DMARC_SOURCE_DOMAIN: return "domain";
	case MT_DMARC_SOURCE_INHERITED: return "inherited";
	}
	return "?";
}

void mt_dmarc_verify_options_init(mt_dmarc_verify_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
}

static const char *vstr(mt_dmarc_verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *vstr(mt_dmarc_verify *v, const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	char tmp[2048];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return "";
	if ((size_t)n < sizeof tmp) {
		p = mt_arena_strndup(v->arena, tmp, (size_t)n);
	} else {
		p = mt_arena_alloc(v->arena, (size_t)n + 1);
		if (p) {
			va_start(ap, fmt);
			vsnprintf(p, (size_t)n + 1, fmt, ap);
			va_end(ap);
		}
	}
	if (!p) {
		v->oom = true;
		return "";
	}
	return p;
}

static const char *vdup(mt_dmarc_verify *v, const char *s, size_t len)
{
	char *p = mt_arena_strndup(v->arena, s, len);
	if (!p) {
		v->oom = true;
		return "";
	}
	return p;
}

static void add(mt_dmarc_verify *v, const char *code, mt_dmarc_verify_severity sev,
                const char *message, const char *fix, const char *record, size_t record_len,
                long offset, size_t length)
{
	mt_dmarc_verify_finding *f;
	if (v->nfindings >= V_MAX_FINDINGS)
		return;
	f = &v->findings[v->nfindings++];
	f->code = code;
	f->severity = sev;
	f->message = message;
	f->fix = fix;
	f->record = record;
	f->record_len = record ? record_len : 0;
	f->offset = record && offset >= 0 && (size_t)offset <= record_len ? offset : -1;
	f->length = f->offset >= 0 ? (length <= record_len - (size_t)f->offset
	                              ? length : record_len - (size_t)f->offset) : 0;
}

static bool dns_failure(mt_dns_rcode rc)
{
	return rc != MT_DNS_NOERROR && rc != MT_DNS_NXDOMAIN;
}

/* Does the text begin with "v=DMARC1" as the draft requires (4.7)? */
static bool is_dmarc(const char *s, size_t len)
{
	mt_dmarc_record *r = NULL;
	mt_status st = mt_dmarc_record_parse(s, len, &r, NULL);
	mt_dmarc_record_free(r);
	return st == MT_OK;
}

/* Copy the TXT records of ans (at most V_MAX_TXT of them). */
static void read_txts(mt_dmarc_verify *v, const mt_dns_answer *ans, txts *t)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < ans->count && t->n < V_MAX_TXT; i++) {
		const mt_dns_rr *rr = &ans->rr[i];
		size_t need;
		char *text;
		if (rr->type != MT_DNS_TXT)
			continue;
		need = mt_dns_txt_join(rr->data, rr->len, NULL, 0);
		text = mt_arena_alloc(v->arena, need + 1);
		if (!text) {
			v->oom = true;
			return;
		}
		mt_dns_txt_join(rr->data, rr->len, text, need + 1);
		if (t->n == 0 || rr->ttl < t->ttl)
			t->ttl = rr->ttl;
		t->rec[t->n] = text;
		t->len[t->n] = need;
		t->dmarc[t->n] = is_dmarc(text, need);
		t->ndmarc += t->dmarc[t->n];
		t->n++;
	}
}

/* Two records the same but for white space and a final ';'?  Tag names
 * and values are compared as written: DMARC1 and URIs are case-sensitive. */
static bool same_record(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i = 0, j = 0;
	while (al > 0 && (a[al - 1] == ' ' || a[al - 1] == '\t' || a[al - 1] == ';'))
		al--;
	while (bl > 0 && (b[bl - 1] == ' ' || b[bl - 1] == '\t' || b[bl - 1] == ';'))
		bl--;
	for (;;) {
		while (i < al && (a[i] == ' ' || a[i] == '\t'))
			i++;
		while (j < bl && (b[j] == ' ' || b[j] == '\t'))
			j++;
		if (i >= al || j >= bl)
			return i >= al && j >= bl;
		if (a[i++] != b[j++])
			return false;
	}
}

static bool txts_have(const txts *t, const char *r, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->dmarc[i] && same_record(t->rec[i], t->len[i], r, len))
			return true;
	return false;
}

static bool same_dmarc(const txts *a, const txts *b)
{
	if (a->ndmarc != b->ndmarc)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->dmarc[i] && !txts_have(b, a->rec[i], a->len[i]))
			return false;
	return true;
}

/* The length of the bad spot at off: up to the next ';' or ',' (a URI
 * list's separator), white space at its end left out; at least 1. */
static size_t spot_len(const char *rec, size_t len, size_t off)
{
	size_t e = off;
	while (e < len && rec[e] != ';' && rec[e] != ',')
		e++;
	while (e > off && (rec[e - 1] == ' ' || rec[e - 1] == '\t'))
		e--;
	return e > off ? e - off : 1;
}

/* Does s hold "dmarc" in any case? */
static bool has_dmarc(const char *s, size_t len)
{
	for (size_t i = 0; i + 5 <= len; i++)
		if (mt_strcaseeq(s + i, 5, "dmarc", 5))
			return true;
	return false;
}

static bool ieq(const char *a, const char *b)
{
	return mt_strcaseeq(a, strlen(a), b, strlen(b));
}

/* Is d the domain org or one of its subdomains? */
static bool within(const char *d, const char *org)
{
	size_t dl = strlen(d), ol = strlen(org);
	if (ol == 0)
		return false;
	if (dl == ol)
		return ieq(d, org);
	return dl > ol && d[dl - ol - 1] == '.' && mt_strcaseeq(d + dl - ol, ol, org, ol);
}

static const char *suggested(mt_dmarc_verify *v, const char *domain)
{
	return vstr(v, "v=DMARC1; p=none; rua=mailto:dmarc-reports@%s", domain);
}

/* ---- the record -------------------------------------------------------- */

static void record_findings(mt_dmarc_verify *v, const mt_dmarc_record *r, const char *rec,
                            size_t len)
{
	for (size_t i = 0; i < mt_dmarc_record_finding_count(r); i++) {
		const mt_dmarc_finding *f = mt_dmarc_record_finding(r, i);
		const char *tag = f->tag ? f->tag : "";
		size_t sl = spot_len(rec, len, f->offset);
		if (f->severity == MT_DMARC_NOTE &&
		    (ieq(tag, "pct") || ieq(tag, "rf") || ieq(tag, "ri"))) {
			add(v, "obsolete-tag", MT_DMARC_VERIFY_WARNING,
			    vdup(v, f->message, strlen(f->message)),
			    ieq(tag, "pct")
			        ? "remove pct=: the policy now applies to all failing mail; to try a "
			          "policy first, publish t=y with it"
			        : vstr(v, "remove %s=", tag),
			    rec, len, (long)f->offset, sl);
		} else if (f->severity == MT_DMARC_NOTE) {
			add(v, "record-note", MT_DMARC_VERIFY_INFO, vdup(v, f->message, strlen(f->message)),
			    NULL, rec, len, (long)f->offset, sl);
		} else if (f->severity == MT_DMARC_WARNING) {
			add(v, "record-warning", MT_DMARC_VERIFY_WARNING,
			    vdup(v, f->message, strlen(f->message)),
			    "correct the record ('mailtrust dmarc build' prints a valid one)", rec, len,
			    (long)f->offset, sl);
		} else {
			add(v, "syntax-error", MT_DMARC_VERIFY_ERROR,
			    vstr(v, "%s", f->message),
			    "correct the tag ('mailtrust dmarc build' prints a valid record)", rec, len,
			    (long)f->offset, sl);
		}
	}
}

/* The authorization of an external report destination. */
static void check_dest(mt_dmarc_verify *v, const char *tag, const mt_dmarc_uri *u,
                       const char *policy_domain)
{
	mt_dmarc_verify_report_dest *d;
	mt_dns_answer *ans = NULL;
	const char *name;
	txts t;

	for (size_t i = 0; i < v->ndests; i++)
		if (ieq(v->dests[i].domain, u->domain))
			return; /* asked already */
	if (v->ndests >= V_MAX_DESTS)
		return;
	name = vstr(v, "%s._report._dmarc.%s", policy_domain, u->domain);
	d = &v->dests[v->ndests++];
	d->tag = tag;
	d->uri = vdup(v, u->uri, strlen(u->uri));
	d->domain = vdup(v, u->domain, strlen(u->domain));
	d->name = name;
	if (mt_dns_resolve(v->res, name, MT_DNS_TXT, v->o->timeout_ms, &ans) != MT_OK) {
		v->oom = true;
		return;
	}
	if (dns_failure(ans->rcode)) {
		d->state = MT_DMARC_AUTH_UNKNOWN;
		add(v, "report-auth-unknown", MT_DMARC_VERIFY_WARNING,
		    vstr(v, "%s reports go to %s, outside %s; whether %s authorizes them could not be "
		            "looked up at %s: %s", tag, u->domain, policy_domain, u->domain, name,
		         mt_dns_rcode_name(ans->rcode)),
		    "check again later", NULL, 0, -1, 0);
		mt_dns_answer_free(ans);
		return;
	}
	read_txts(v, ans, &t);
	mt_dns_answer_free(ans);
	if (t.ndmarc > 0) {
		d->state = MT_DMARC_AUTH_AUTHORIZED;
		add(v, "report-authorized", MT_DMARC_VERIFY_INFO,
		    vstr(v, "%s reports go to %s, outside %s: %s authorizes them (%s has a v=DMARC1 "
		            "record)", tag, u->domain, policy_domain, u->domain, name),
		    NULL, NULL, 0, -1, 0);
		return;
	}
	d->state = MT_DMARC_AUTH_MISSING;
	add(v, "report-not-authorized", MT_DMARC_VERIFY_WARNING,
	    vstr(v, "%s reports go to %s, a domain outside %s, but %s has no TXT record starting "
	            "with v=DMARC1: receivers do not send reports to a destination that has not "
	            "agreed to take them", tag, u->domain, policy_domain, name),
	    vstr(v, "the operator of %s publishes %s. IN TXT \"v=DMARC1;\" (ask your report "
	            "provider), or send the reports to an address in %s", u->domain, name,
	         policy_domain),
	    NULL, 0, -1, 0);
}

static void judge_record(mt_dmarc_verify *v, const mt_dmarc_record *r, const char *rec, size_t len,
                         const char *org)
{
	bool as_none = false, applies = mt_dmarc_record_applies(r, &as_none);
	bool inherited = v->source == MT_DMARC_SOURCE_INHERITED;
	mt_dmarc_policy p = mt_dmarc_record_p(r), sp = mt_dmarc_record_sp(r);
	mt_dmarc_policy np = mt_dmarc_record_np(r);
	size_t valid_rua = 0;

	record_findings(v, r, rec, len);
	if (!applies) {
		add(v, "not-applied", MT_DMARC_VERIFY_ERROR,
		    "the record has no valid p= (nor sp=/np=) and no valid rua=: receivers apply no "
		    "DMARC policy at all (draft section 4.10.1)",
		    vstr(v, "give p=none, p=quarantine or p=reject; for example: %s",
		         suggested(v, v->policy_domain)),
		    rec, len, -1, 0);
		return;
	}
	if (as_none)
		add(v, "applied-as-none", MT_DMARC_VERIFY_WARNING,
		    "a policy tag is not valid: receivers treat the record as p=none (draft section "
		    "4.10.1)", "correct the policy tag", rec, len, -1, 0);
	for (size_t i = 0; i < mt_dmarc_record_rua_count(r); i++)
		valid_rua += mt_dmarc_record_rua(r, i)->valid;
	if (!inherited && (!mt_dmarc_record_has_tag(r, "p") || as_none))
		p = MT_DMARC_POLICY_NONE;
	if (inherited && v->policy == MT_DMARC_POLICY_NONE && strcmp(v->policy_tag, "np") == 0) {
		add(v, "np-none", MT_DMARC_VERIFY_WARNING,
		    vstr(v, "%s does not exist, and the policy for names under %s that do not exist "
		            "is none (np=, or sp=/p= without it): anyone can send mail from made-up "
		            "subdomains", v->domain, v->policy_domain),
		    vstr(v, "add np=reject to the record at _dmarc.%s: names that do not exist send "
		            "no legitimate mail", v->policy_domain),
		    rec, len, -1, 0);
	} else if (v->policy == MT_DMARC_POLICY_NONE || (!inherited && p == MT_DMARC_POLICY_NONE)) {
		add(v, "monitoring-only", MT_DMARC_VERIFY_WARNING,
		    vstr(v, "the policy for %s is none: monitoring only, receivers deliver mail that "
		            "fails DMARC as if there were no policy, so the domain is not protected "
		            "from spoofing", v->domain),
		    vstr(v, "move to %s=quarantine, then %s=reject%s%s, once the aggregate (rua) "
		            "reports show that all legitimate mail passes: every source that sends as "
		            "the domain needs SPF (MAIL FROM in the domain) or DKIM (d= in the domain) "
		            "aligned with the From domain; review the reports for a few weeks first",
		         inherited ? v->policy_tag : "p", inherited ? v->policy_tag : "p",
		         inherited ? " in the record at _dmarc." : "",
		         inherited ? v->policy_domain : ""),
		    NULL, 0, -1, 0);
	} else {
		mt_dmarc_policy eff = v->policy != MT_DMARC_POLICY_ABSENT ? v->policy : p;
		add(v, "policy", MT_DMARC_VERIFY_INFO,
		    vstr(v, "the policy for %s is %s (%s=): receivers %s mail that fails DMARC",
		         v->domain, mt_dmarc_policy_name(eff), v->policy_tag[0] ? v->policy_tag : "p",
		         eff == MT_DMARC_POLICY_REJECT ? "reject" : "quarantine (junk)"),
		    NULL, NULL, 0, -1, 0);
	}
	if (valid_rua == 0)
		add(v, "no-rua", MT_DMARC_VERIFY_WARNING,
		    p == MT_DMARC_POLICY_NONE
		        ? "no rua= (aggregate reports): with p=none nobody sees what fails, so the "
		          "monitoring shows nothing and the policy can never safely be raised"
		        : "no rua= (aggregate reports): mail that fails DMARC, legitimate or not, "
		          "goes unnoticed",
		    vstr(v, "add rua=mailto:ADDRESS with a mailbox (in %s, or a report provider's) "
		            "whose reports someone reads", org[0] ? org : v->domain),
		    rec, len, -1, 0);
	if (!inherited && mt_dmarc_record_has_tag(r, "sp") && sp != MT_DMARC_POLICY_ABSENT &&
	    sp < p)
		add(v, "sp-weaker", MT_DMARC_VERIFY_WARNING,
		    vstr(v, "sp=%s is weaker than p=%s: mail from subdomains of %s is less protected "
		            "than mail from the domain itself", mt_dmarc_policy_name(sp),
		         mt_dmarc_policy_name(p), v->domain),
		    vstr(v, "remove sp= (p= then applies to subdomains) unless a subdomain still "
		            "sends unaligned mail"), rec, len, -1, 0);
	if (!inherited && p != MT_DMARC_POLICY_NONE) {
		mt_dmarc_policy eff_np = np != MT_DMARC_POLICY_ABSENT ? np
		                         : sp != MT_DMARC_POLICY_ABSENT ? sp : p;
		if (eff_np != MT_DMARC_POLICY_REJECT)
			add(v, "np-suggested", MT_DMARC_VERIFY_INFO,
			    vstr(v, "mail from subdomains of %s that do not exist gets %s; such names "
			            "send no legitimate mail", v->domain, mt_dmarc_policy_name(eff_np)),
			    "add np=reject", NULL, 0, -1, 0);
	}
	if (mt_dmarc_record_testing(r))
		add(v, "testing", MT_DMARC_VERIFY_WARNING,
		    "t=y: the domain is testing its policy, and receivers apply one level less "
		    "(reject as quarantine, quarantine as none) (draft section 4.7)",
		    "remove t=y once the reports show that legitimate mail passes", rec, len, -1, 0);
	if (!inherited && mt_dmarc_record_psd(r) == MT_DMARC_PSD_YES)
		add(v, "psd-yes", MT_DMARC_VERIFY_WARNING,
		    vstr(v, "psd=y declares %s a public suffix domain (one under which unrelated "
		            "organizations register names); receivers then take its subdomains as "
		            "Organizational Domains of their own", v->domain),
		    "remove psd=y unless a public suffix operator publishes this record", rec, len,
		    -1, 0);
	/* reporting URIs */
	for (int list = 0; list < 2; list++) {
		const char *tag = list == 0 ? "rua" : "ruf";
		size_t n = list == 0 ? mt_dmarc_record_rua_count(r) : mt_dmarc_record_ruf_count(r);
		for (size_t i = 0; i < n; i++) {
			const mt_dmarc_uri *u = list == 0 ? mt_dmarc_record_rua(r, i)
			                                  : mt_dmarc_record_ruf(r, i);
			if (!u->valid)
				continue; /* the parser's finding says why */
			if (!u->mailto) {
				add(v, "uri-not-mailto", MT_DMARC_VERIFY_WARNING,
				    vstr(v, "%s URI \"%s\" is not mailto:: receivers need only support "
				            "mailto, and ignore schemes they do not support", tag, u->uri),
				    "give a mailto: address as well", rec, len, (long)u->offset,
				    spot_len(rec, len, u->offset));
				continue;
			}
			if (!u->domain[0] || within(u->domain, org[0] ? org : v->policy_domain))
				continue;
			check_dest(v, tag, u, v->policy_domain);
		}
	}
}

/* ---- expected record --------------------------------------------------- */

static void check_expect(mt_dmarc_verify *v)
{
	const char *e = v->o->expect;
	size_t len = strlen(e);
	mt_dmarc_record *r = NULL;
	mt_error err;
	mt_status st;
	const char *copy = vdup(v, e, len);

	memset(&err, 0, sizeof err);
	st = mt_dmarc_record_parse(e, len, &r, &err);
	if (st == MT_ENOMEM) {
		v->oom = true;
		return;
	}
	if (st != MT_OK) {
		add(v, "expect-invalid", MT_DMARC_VERIFY_ERROR,
		    vstr(v, "the expected record is not a DMARC record: %s", err.message),
		    "begin it with v=DMARC1; ('mailtrust dmarc build' prints a valid record)", copy,
		    len, 0, 1);
		return;
	}
	for (size_t i = 0; i < mt_dmarc_record_finding_count(r); i++) {
		const mt_dmarc_finding *f = mt_dmarc_record_finding(r, i);
		if (f->severity != MT_DMARC_ERROR)
			continue;
		add(v, "expect-invalid", MT_DMARC_VERIFY_ERROR,
		    vstr(v, "the expected record itself has an error: %s", f->message),
		    "correct it before publishing it", copy, len, (long)f->offset,
		    spot_len(e, len, f->offset));
	}
	mt_dmarc_record_free(r);
	if (len > 255) {
		char *strings = NULL;
		if (mt_spf_zone_strings(e, len, &strings) != MT_OK)
			strings = NULL;
		add(v, "expect-needs-split", MT_DMARC_VERIFY_INFO,
		    vstr(v, "the expected record is %zu octets, more than one DNS character-string "
		            "holds (255): it must be published as several strings, which receivers "
		            "join without spaces", len),
		    strings ? vstr(v, "in a zone file: %s. IN TXT %s", v->name, strings)
		            : "enter it in strings of at most 255 octets",
		    NULL, 0, -1, 0);
		mt_free(strings);
	}
}

/* ---- authoritative servers --------------------------------------------- */

static const char *servers_list(mt_dmarc_verify *v, const mt_authns *ns)
{
	mt_buf b;
	const char *s;
	if (ns->nnames == 0)
		return "(none found)";
	mt_buf_init(&b, 1u << 14);
	for (size_t i = 0; i < ns->nnames; i++)
		mt_buf_printf(&b, "%s%s", i ? ", " : "", ns->names[i]);
	s = b.err == MT_OK && b.data ? vdup(v, b.data, b.len) : "";
	mt_buf_free(&b);
	return s;
}

static void publication(mt_dmarc_verify *v, const txts *rec)
{
	const mt_dmarc_verify_options *o = v->o;
	size_t answered = 0, with_expect = 0;
	const char *hosts;
	mt_authns ns;
	mt_buf b;

	if (!o->server_resolver) {
		add(v, "publication-not-checked", MT_DMARC_VERIFY_INFO,
		    "publication was not checked: the authoritative servers were not asked directly",
		    NULL, NULL, 0, -1, 0);
		return;
	}
	if (mt_authns_find(&ns, v->res, v->name, o->timeout_ms) == MT_ENOMEM)
		v->oom = true;
	if (ns.nnames == 0)
		add(v, "ns-not-found", MT_DMARC_VERIFY_WARNING,
		    vstr(v, "no NS records were found for %s or its parent domains, so its "
		            "authoritative servers could not be asked", v->name),
		    "check the domain's delegation at its registrar", NULL, 0, -1, 0);
	else if (ns.naddrs == 0)
		add(v, "ns-unreachable", MT_DMARC_VERIFY_WARNING,
		    vstr(v, "no address was found for the name servers of %s (%s)", v->name,
		         servers_list(v, &ns)),
		    "check the A/AAAA records of the name servers", NULL, 0, -1, 0);
	mt_buf_init(&b, 1u << 16);
	for (size_t k = 0; k < ns.naddrs && v->nns < V_MAX_NS; k++) {
		mt_dmarc_verify_ns *na = &v->ns[v->nns++];
		mt_dns_answer *ans = NULL;
		txts t;
		memset(na, 0, sizeof *na);
		na->server = vdup(v, ns.names[ns.addrs[k].ns], strlen(ns.names[ns.addrs[k].ns]));
		na->address = vdup(v, ns.addrs[k].address, strlen(ns.addrs[k].address));
		if (mt_authns_ask(o->server_resolver, o->server_ctx, ns.addrs[k].address,
		                  o->server_port, v->name, MT_DNS_TXT, o->timeout_ms, &ans) != MT_OK) {
			v->oom = true;
			break;
		}
		na->rcode = ans->rcode;
		na->why = ans->why ? vdup(v, ans->why, strlen(ans->why)) : NULL;
		if (dns_failure(ans->rcode)) {
			mt_dns_answer_free(ans);
			add(v, "ns-unreachable", MT_DMARC_VERIFY_WARNING,
			    vstr(v, "the authoritative server %s (%s) did not answer for %s: %s%s%s",
			         na->server, na->address, v->name, mt_dns_rcode_name(na->rcode),
			         na->why ? ", " : "", na->why ? na->why : ""),
			    "check that server, or remove it from the NS records", NULL, 0, -1, 0);
			continue;
		}
		read_txts(v, ans, &t);
		mt_dns_answer_free(ans);
		answered++;
		na->nrecords = t.ndmarc;
		for (size_t i = 0; i < t.n; i++)
			if (t.dmarc[i]) {
				na->record = t.rec[i];
				na->record_len = t.len[i];
				break;
			}
		na->agrees = same_dmarc(&t, rec);
		if (o->expect) {
			na->serves_expect = txts_have(&t, o->expect, strlen(o->expect));
			with_expect += na->serves_expect;
		}
		if (!na->agrees)
			mt_buf_printf(&b, "%s%s (%s) serves %s%s%s", b.len ? "; " : "", na->server,
			              na->address, na->record ? "\"" : "",
			              na->record ? na->record : "no DMARC record", na->record ? "\"" : "");
	}
	if (b.len > 0)
		add(v, "ns-disagree", MT_DMARC_VERIFY_WARNING,
		    vstr(v, "the authoritative servers do not all serve what recursive resolvers "
		            "return: %s. A change has not reached every server (or every cache) yet, "
		            "or the servers are not kept in sync", b.data),
		    "wait for the change to reach every server; if it persists, correct the zone on "
		    "the servers that differ", NULL, 0, -1, 0);
	if (b.err != MT_OK)
		v->oom = true;
	mt_buf_free(&b);
	hosts = servers_list(v, &ns);
	if (o->expect) {
		bool in_recursive = txts_have(rec, o->expect, strlen(o->expect));
		if (answered > 0 && with_expect == 0)
			add(v, "expect-not-published", MT_DMARC_VERIFY_ERROR,
			    vstr(v, "the expected record is not served by any of the authoritative servers "
			            "of %s (%s): it was probably added at a provider that is not the DNS "
			            "host of the domain (often the registrar's DNS, while the NS records "
			            "point elsewhere)", v->name, hosts),
			    vstr(v, "add the record at the DNS provider that operates %s (or change the "
			            "NS records at the registrar to the provider where you added it)",
			         hosts),
			    NULL, 0, -1, 0);
		else if (answered > 0 && with_expect < answered)
			add(v, "expect-partial", MT_DMARC_VERIFY_WARNING,
			    vstr(v, "the expected record is served by %zu of %zu authoritative servers: "
			            "the change has not reached every server yet", with_expect, answered),
			    "wait for the servers to synchronise, then check again", NULL, 0, -1, 0);
		else if (answered > 0 && !in_recursive)
			add(v, "expect-not-cached", MT_DMARC_VERIFY_WARNING,
			    vstr(v, "every authoritative server serves the expected record, but the "
			            "recursive resolver still returns the old answer: cached copies "
			            "expire within the TTL"),
			    "wait; nothing needs to change", NULL, 0, -1, 0);
		else if (answered == 0 && !in_recursive)
			add(v, "expect-not-published", MT_DMARC_VERIFY_ERROR,
			    vstr(v, "the DNS answer does not hold the expected record, and none of the "
			            "authoritative servers (%s) answered: it was probably added at a "
			            "provider that is not the DNS host, or not saved", hosts),
			    vstr(v, "add the record at the DNS provider that operates %s", hosts), NULL,
			    0, -1, 0);
	}
	mt_authns_clear(&ns);
}

/* ---- the run ----------------------------------------------------------- */

/* Is there a DMARC record at a near-miss name (dmarc.DOMAIN, without the
 * underscore)?  One finding when so. */
static void wrong_name(mt_dmarc_verify *v)
{
	mt_dns_answer *ans = NULL;
	const char *name = vstr(v, "dmarc.%s", v->domain);
	txts t;

	if (mt_dns_resolve(v->res, name, MT_DNS_TXT, v->o->timeout_ms, &ans) != MT_OK) {
		v->oom = true;
		return;
	}
	if (!dns_failure(ans->rcode)) {
		read_txts(v, ans, &t);
		for (size_t i = 0; i < t.n; i++)
			if (t.dmarc[i]) {
				add(v, "wrong-name", MT_DMARC_VERIFY_ERROR,
				    vstr(v, "a DMARC record is published at %s, where receivers never look: "
				            "the name is _dmarc.%s (with the underscore)", name, v->domain),
				    vstr(v, "publish it at _dmarc.%s and delete the one at %s", v->domain,
				         name),
				    t.rec[i], t.len[i], -1, 0);
				break;
			}
	}
	mt_dns_answer_free(ans);
}

mt_status mt_dmarc_verify_run(const char *domain, mt_dns_resolver *res,
                              const mt_dmarc_verify_options *opts, mt_dmarc_verify **out,
                              mt_error *err)
{
	mt_dmarc_verify_options defaults;
	mt_dmarc_verify *v = NULL;
	mt_dns_answer *ans = NULL;
	mt_dmarc_check *chk = NULL;
	const mt_dmarc_outcome *oc = NULL;
	char *names[MT_DMARC_WALK_MAX];
	size_t nnames = 0, dl, own = (size_t)-1;
	mt_status st = MT_OK;
	txts rec;
	char *d;

	if (!out || !domain || !res)
		return mt_error_set(err, MT_EINVAL, "mt_dmarc_verify_run: NULL argument");
	*out = NULL;
	if (mt_dmarc_walk_targets(domain, false, names, &nnames, err) != MT_OK)
		return MT_EINVAL;
	for (size_t i = 0; i < nnames; i++)
		mt_free(names[i]);
	if (!opts) {
		mt_dmarc_verify_options_init(&defaults);
		opts = &defaults;
	}
	v = calloc(1, sizeof *v);
	if (!v || !(v->arena = mt_arena_new(8192))) {
		free(v);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	mt_arena_set_limit(v->arena, V_ARENA_LIMIT);
	v->o = opts;
	v->res = res;
	v->policy_domain = "";
	v->org_domain = "";
	v->policy_tag = "";
	dl = strlen(domain);
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	d = (char *)vdup(v, domain, dl);
	for (char *p = d; *p; p++)
		*p = mt_lower(*p);
	v->domain = d;
	v->name = vstr(v, "_dmarc.%s", d);
	memset(&rec, 0, sizeof rec);

	if (opts->expect)
		check_expect(v);
	st = mt_dns_resolve(res, v->name, MT_DNS_TXT, opts->timeout_ms, &ans);
	if (st != MT_OK) {
		if (st == MT_ENOMEM)
			goto out;
		add(v, "lookup-failed", MT_DMARC_VERIFY_ERROR,
		    vstr(v, "the lookup of %s could not be made: %s", v->name, mt_strerror(st)), NULL,
		    NULL, 0, -1, 0);
		st = MT_OK;
		goto done;
	}
	if (dns_failure(ans->rcode)) {
		add(v, "lookup-failed", MT_DMARC_VERIFY_ERROR,
		    vstr(v, "the lookup of %s failed: %s%s%s; receivers get temperror for mail from "
		            "%s", v->name, mt_dns_rcode_name(ans->rcode), ans->why ? ", " : "",
		         ans->why ? ans->why : "", v->domain),
		    "check the domain's DNS servers", NULL, 0, -1, 0);
		goto done;
	}
	read_txts(v, ans, &rec);
	if (v->oom)
		goto done;
	v->nrecords = rec.ndmarc;
	/* TXT records meant as DMARC records that are not ones */
	for (size_t i = 0; i < rec.n; i++) {
		mt_error e2;
		if (rec.dmarc[i])
			continue;
		if (!has_dmarc(rec.rec[i], rec.len[i]) &&
		    !(rec.len[i] > 2 && (rec.rec[i][0] == 'p' || rec.rec[i][0] == 'P') &&
		      rec.rec[i][1] == '='))
			continue;
		memset(&e2, 0, sizeof e2);
		{
			mt_dmarc_record *x = NULL;
			(void)mt_dmarc_record_parse(rec.rec[i], rec.len[i], &x, &e2);
			mt_dmarc_record_free(x);
		}
		add(v, "not-dmarc-record", MT_DMARC_VERIFY_ERROR,
		    vstr(v, "a TXT record at %s looks meant as a DMARC record but is not one (%s): "
		            "receivers ignore it", v->name, e2.message),
		    "begin the record with exactly v=DMARC1; (upper case, first tag), e.g. "
		    "'v=DMARC1; p=none; rua=mailto:...'",
		    rec.rec[i], rec.len[i], 0, spot_len(rec.rec[i], rec.len[i], 0));
	}
	if (rec.ndmarc > 1)
		add(v, "multiple-records", MT_DMARC_VERIFY_ERROR,
		    vstr(v, "%s has %zu DMARC records: receivers apply none of them (draft section "
		            "4.10: a name with more than one record has no policy)", v->name,
		         rec.ndmarc),
		    "publish exactly one record at the name: merge the tags you need into one",
		    NULL, 0, -1, 0);
	for (size_t i = 0; i < rec.n && own == (size_t)-1; i++)
		if (rec.dmarc[i] && rec.ndmarc == 1)
			own = i;

	/* policy discovery as a receiver does it: the tree walk */
	{
		mt_error e2;
		memset(&e2, 0, sizeof e2);
		st = mt_dmarc_check_new(NULL, v->domain, &chk, &e2);
		if (st == MT_OK)
			st = mt_dmarc_check_run(chk, res);
		if (st == MT_ENOMEM)
			goto out;
		st = MT_OK;
		oc = chk ? mt_dmarc_check_outcome(chk) : NULL;
	}
	if (oc && oc->org_domain[0])
		v->org_domain = vdup(v, oc->org_domain, strlen(oc->org_domain));
	v->checked = true;
	if (own != (size_t)-1) {
		mt_error e2;
		memset(&e2, 0, sizeof e2);
		v->source = MT_DMARC_SOURCE_DOMAIN;
		v->policy_domain = v->domain;
		v->policy_tag = "p";
		v->record = rec.rec[own];
		v->record_len = rec.len[own];
		v->ttl = rec.ttl;
		st = mt_dmarc_record_parse(v->record, v->record_len, &v->parsed, &e2);
		if (st != MT_OK)
			goto out;
		v->policy = mt_dmarc_record_p(v->parsed);
		{
			bool as_none = false;
			if (!mt_dmarc_record_applies(v->parsed, &as_none))
				v->policy = MT_DMARC_POLICY_ABSENT;
			else if (as_none || v->policy == MT_DMARC_POLICY_ABSENT)
				v->policy = MT_DMARC_POLICY_NONE;
		}
	} else if (oc && oc->result == MT_DMARC_RESULT_TEMPERROR) {
		v->checked = false;
		add(v, "lookup-failed", MT_DMARC_VERIFY_ERROR,
		    vstr(v, "%s has no DMARC record of its own, and the search for the "
		            "Organizational Domain's failed: %s", v->domain, oc->reason),
		    "check the DNS servers of the domain and its parents", NULL, 0, -1, 0);
	} else if (oc && oc->policy_domain[0] && !ieq(oc->policy_domain, v->domain)) {
		mt_dns_answer *a2 = NULL;
		mt_error e2;
		memset(&e2, 0, sizeof e2);
		v->source = MT_DMARC_SOURCE_INHERITED;
		v->policy_domain = vdup(v, oc->policy_domain, strlen(oc->policy_domain));
		v->policy_tag = vdup(v, oc->policy_tag, strlen(oc->policy_tag));
		v->policy = oc->policy;
		v->record = vdup(v, oc->record, strlen(oc->record));
		v->record_len = strlen(oc->record);
		st = mt_dmarc_record_parse(v->record, v->record_len, &v->parsed, &e2);
		if (st != MT_OK)
			goto out;
		/* the TTL of the inherited record */
		st = mt_dns_resolve(res, vstr(v, "_dmarc.%s", v->policy_domain), MT_DNS_TXT,
		                    opts->timeout_ms, &a2);
		if (st == MT_ENOMEM)
			goto out;
		st = MT_OK;
		if (a2) {
			for (size_t i = 0; i < a2->count; i++)
				if (a2->rr[i].type == MT_DNS_TXT && (i == 0 || a2->rr[i].ttl < v->ttl))
					v->ttl = a2->rr[i].ttl;
			mt_dns_answer_free(a2);
		}
		add(v, "inherited", MT_DMARC_VERIFY_INFO,
		    vstr(v, "%s has no DMARC record of its own: the record at _dmarc.%s (its "
		            "Organizational Domain's, found by the DNS tree walk) applies to it "
		            "through %s=, giving policy %s", v->domain, v->policy_domain,
		         v->policy_tag, mt_dmarc_policy_name(v->policy)),
		    vstr(v, "nothing needs to change; to give %s a policy of its own, publish a "
		            "record at %s", v->domain, v->name),
		    NULL, 0, -1, 0);
	} else {
		v->source = MT_DMARC_SOURCE_NONE;
		add(v, "no-record", MT_DMARC_VERIFY_ERROR,
		    vstr(v, "no DMARC policy record applies to %s: none at %s%s%s; receivers apply "
		            "no DMARC policy, and anyone can send mail with From: ...@%s", v->domain,
		         v->name, v->org_domain[0] && !ieq(v->org_domain, v->domain)
		                      ? " nor at the Organizational Domain's _dmarc."
		                      : "",
		         v->org_domain[0] && !ieq(v->org_domain, v->domain) ? v->org_domain : "",
		         v->domain),
		    vstr(v, "publish %s. IN TXT \"%s\" (monitoring first; read the reports, then "
		            "raise p=)", v->name, suggested(v, v->domain)),
		    NULL, 0, -1, 0);
		wrong_name(v);
	}
	if (v->parsed) {
		judge_record(v, v->parsed, v->record, v->record_len, v->org_domain);
		add(v, "ttl", v->ttl > V_TTL_LONG ? MT_DMARC_VERIFY_WARNING : MT_DMARC_VERIFY_INFO,
		    vstr(v, "the record's TTL is %u seconds%s", (unsigned)v->ttl,
		         v->ttl > V_TTL_LONG ? ": a correction takes more than a day to reach "
		                               "every receiver" : ""),
		    v->ttl > V_TTL_LONG ? "lower the TTL to 3600 (an hour) while the policy changes"
		                        : NULL,
		    NULL, 0, -1, 0);
	}
	if (opts->expect && own != (size_t)-1 && !txts_have(&rec, opts->expect, strlen(opts->expect)))
		add(v, "expect-differs", MT_DMARC_VERIFY_ERROR,
		    "the published record is not the expected one",
		    vstr(v, "replace it with \"%s\"", opts->expect), v->record, v->record_len, -1, 0);
	else if (opts->expect && own == (size_t)-1 && rec.ndmarc == 0)
		add(v, "expect-differs", MT_DMARC_VERIFY_ERROR,
		    vstr(v, "the expected record is not published at %s", v->name),
		    vstr(v, "publish %s. IN TXT \"%s\"", v->name, opts->expect), NULL, 0, -1, 0);
	publication(v, &rec);
done:
	if (v->oom)
		st = MT_ENOMEM;
out:
	mt_dmarc_check_free(chk);
	mt_dns_answer_free(ans);
	if (st != MT_OK) {
		mt_dmarc_verify_free(v);
		return mt_error_set(err, st, "%s", st == MT_ENOMEM ? "out of memory" : mt_strerror(st));
	}
	*out = v;
	return MT_OK;
}

void mt_dmarc_verify_free(mt_dmarc_verify *v)
{
	if (!v)
		return;
	mt_dmarc_record_free(v->parsed);
	mt_arena_free(v->arena);
	free(v);
}

bool mt_dmarc_verify_checked(const mt_dmarc_verify *v) { return v && v->checked; }

mt_dmarc_verify_severity mt_dmarc_verify_worst(const mt_dmarc_verify *v)
{
	mt_dmarc_verify_severity w = MT_DMARC_VERIFY_INFO;
	for (size_t i = 0; v && i < v->nfindings; i++)
		if (v->findings[i].severity > w)
			w = v->findings[i].severity;
	return w;
}

const char *mt_dmarc_verify_domain(const mt_dmarc_verify *v) { return v ? v->domain : NULL; }
const char *mt_dmarc_verify_name(const mt_dmarc_verify *v) { return v ? v->name : NULL; }
mt_dmarc_verify_source mt_dmarc_verify_source_of(const mt_dmarc_verify *v)
{
	return v ? v->source : MT_DMARC_SOURCE_NONE;
}
const char *mt_dmarc_verify_policy_domain(const mt_dmarc_verify *v) { return v ? v->policy_domain : ""; }
const char *mt_dmarc_verify_org_domain(const mt_dmarc_verify *v) { return v ? v->org_domain : ""; }
const char *mt_dmarc_verify_policy_tag(const mt_dmarc_verify *v) { return v ? v->policy_tag : ""; }
mt_dmarc_policy mt_dmarc_verify_policy(const mt_dmarc_verify *v)
{
	return v ? v->policy : MT_DMARC_POLICY_ABSENT;
}
const char *mt_dmarc_verify_record(const mt_dmarc_verify *v) { return v ? v->record : NULL; }
size_t mt_dmarc_verify_record_len(const mt_dmarc_verify *v) { return v && v->record ? v->record_len : 0; }
uint32_t mt_dmarc_verify_ttl(const mt_dmarc_verify *v) { return v ? v->ttl : 0; }
const mt_dmarc_record *mt_dmarc_verify_parsed(const mt_dmarc_verify *v) { return v ? v->parsed : NULL; }
size_t mt_dmarc_verify_record_count(const mt_dmarc_verify *v) { return v ? v->nrecords : 0; }
size_t mt_dmarc_verify_finding_count(const mt_dmarc_verify *v) { return v ? v->nfindings : 0; }

const mt_dmarc_verify_finding *mt_dmarc_verify_finding_at(const mt_dmarc_verify *v, size_t i)
{
	return v && i < v->nfindings ? &v->findings[i] : NULL;
}

size_t mt_dmarc_verify_ns_count(const mt_dmarc_verify *v) { return v ? v->nns : 0; }

const mt_dmarc_verify_ns *mt_dmarc_verify_ns_at(const mt_dmarc_verify *v, size_t i)
{
	return v && i < v->nns ? &v->ns[i] : NULL;
}

size_t mt_dmarc_verify_dest_count(const mt_dmarc_verify *v) { return v ? v->ndests : 0; }

const mt_dmarc_verify_report_dest *mt_dmarc_verify_dest_at(const mt_dmarc_verify *v, size_t i)
{
	return v && i < v->ndests ? &v->dests[i] : NULL;
}

/* ---- build ------------------------------------------------------------- */

static void put_uris(mt_buf *b, const char *tag, const char *const *uris, size_t n)
{
	if (n == 0)
		return;
	mt_buf_printf(b, "; %s=", tag);
	for (size_t i = 0; i < n; i++) {
		const char *u = uris[i];
		bool bare = !strchr(u, ':') && strchr(u, '@');
		mt_buf_printf(b, "%s%s%s", i ? "," : "", bare ? "mailto:" : "", u);
	}
}

mt_status mt_dmarc_build(const mt_dmarc_build_options *o, char **out, mt_error *err)
{
	mt_dmarc_record *r = NULL;
	mt_error e2;
	mt_status st;
	mt_buf b;

	if (!o || !out || (o->nrua && !o->rua) || (o->nruf && !o->ruf))
		return mt_error_set(err, MT_EINVAL, "mt_dmarc_build: NULL argument");
	*out = NULL;
	if (o->p == MT_DMARC_POLICY_ABSENT)
		return mt_error_set(err, MT_EINVAL, "a policy (p=) is required: none, quarantine or "
		                                    "reject");
	if ((o->adkim && o->adkim != 'r' && o->adkim != 's') ||
	    (o->aspf && o->aspf != 'r' && o->aspf != 's'))
		return mt_error_set(err, MT_EINVAL, "adkim and aspf are r or s");
	if (o->nrua > MT_DMARC_URIS_MAX || o->nruf > MT_DMARC_URIS_MAX)
		return mt_error_set(err, MT_ESYNTAX, "at most %d URIs in rua= and in ruf=",
		                    MT_DMARC_URIS_MAX);
	for (int list = 0; list < 2; list++) {
		const char *const *u = list ? o->ruf : o->rua;
		size_t n = list ? o->nruf : o->nrua;
		for (size_t i = 0; i < n; i++)
			if (!u[i] || !u[i][0] || strpbrk(u[i], ";, \t\"\\"))
				return mt_error_set(err, MT_ESYNTAX,
				                    "%s URI %zu is empty or holds ';', ',', a space, '\"' or "
				                    "'\\' (percent-encode it: ',' is %%2C)",
				                    list ? "ruf" : "rua", i + 1);
	}
	if (o->fo && (!o->fo[0] || strpbrk(o->fo, "; \t\"\\")))
		return mt_error_set(err, MT_ESYNTAX, "fo= must be 0, 1, d or s, separated by ':'");
	mt_buf_init(&b, MT_DMARC_RECORD_MAX);
	mt_buf_printf(&b, "v=DMARC1; p=%s", mt_dmarc_policy_name(o->p));
	if (o->sp != MT_DMARC_POLICY_ABSENT)
		mt_buf_printf(&b, "; sp=%s", mt_dmarc_policy_name(o->sp));
	if (o->np != MT_DMARC_POLICY_ABSENT)
		mt_buf_printf(&b, "; np=%s", mt_dmarc_policy_name(o->np));
	if (o->adkim)
		mt_buf_printf(&b, "; adkim=%c", o->adkim);
	if (o->aspf)
		mt_buf_printf(&b, "; aspf=%c", o->aspf);
	if (o->testing)
		mt_buf_puts(&b, "; t=y");
	if (o->psd != MT_DMARC_PSD_UNKNOWN)
		mt_buf_printf(&b, "; psd=%c", o->psd == MT_DMARC_PSD_YES ? 'y' : 'n');
	if (o->fo)
		mt_buf_printf(&b, "; fo=%s", o->fo);
	put_uris(&b, "rua", o->rua, o->nrua);
	put_uris(&b, "ruf", o->ruf, o->nruf);
	if (b.err != MT_OK) {
		st = b.err == MT_ENOMEM ? MT_ENOMEM : MT_ERANGE;
		mt_buf_free(&b);
		return mt_error_set(err, st, st == MT_ENOMEM ? "out of memory"
		                                             : "the record would be longer than %d octets",
		                    MT_DMARC_RECORD_MAX);
	}
	/* parsed back: the record must be valid as receivers read it */
	memset(&e2, 0, sizeof e2);
	st = mt_dmarc_record_parse(b.data, b.len, &r, &e2);
	if (st != MT_OK) {
		mt_buf_free(&b);
		return mt_error_set(err, st == MT_ENOMEM ? MT_ENOMEM : MT_ESYNTAX, "%s", e2.message);
	}
	for (size_t i = 0; i < mt_dmarc_record_finding_count(r); i++) {
		const mt_dmarc_finding *f = mt_dmarc_record_finding(r, i);
		if (f->severity == MT_DMARC_ERROR || f->severity == MT_DMARC_WARNING) {
			st = mt_error_set(err, MT_ESYNTAX, "%s", f->message);
			mt_dmarc_record_free(r);
			mt_buf_free(&b);
			return st;
		}
	}
	mt_dmarc_record_free(r);
	*out = mt_buf_take(&b);
	if (!*out)
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	return MT_OK;
}
