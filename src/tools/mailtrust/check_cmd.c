/* mailtrust check DOMAIN: the audit of a domain's mail records - spf
 * verify, dmarc check and dkim check-key (the three libraries' owner
 * checks) and the MX records, one report worst first, then the records to
 * publish. */
#include "cli.h"
#include "json.h"

#include <mailtrust/mailtrust.h>

#include <getopt.h>
#include <stdarg.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

/* Selectors tried when none is given: those that mail providers and
 * signing software use by default (mailtrust(1) lists them). */
static const char *const COMMON_SELECTORS[] = {
	"default", "dkim", "mail", "google", "selector1", "selector2", "k1", "k2", "k3",
	"s1", "s2", "smtp", "mx", "key1", "key2", "dkim1", "sig1", "fm1", "fm2", "fm3",
	"protonmail", "protonmail2", "protonmail3", "mandrill", "zendesk1", "zendesk2",
};
#define N_COMMON (sizeof COMMON_SELECTORS / sizeof COMMON_SELECTORS[0])
#define MAX_SELECTORS 32
#define MAX_MX 32

static void check_usage(FILE *fp)
{
	fputs("Usage: mailtrust check DOMAIN [--dkim-selector S]... [options]\n"
	      "\n"
	      "Audit DOMAIN's mail records in one report: 'spf verify', 'dmarc check'\n"
	      "and 'dkim check-key' for each selector given (without --dkim-selector,\n"
	      "the commonly used selectors listed in mailtrust(1) are tried, and the\n"
	      "report says which were found), and the MX records.  All findings,\n"
	      "worst first, each with its fix; then the records to publish (one SPF\n"
	      "record, the DMARC record, the DKIM keys found) as zone-file lines and\n"
	      "as the name/type/value rows a DNS host's web form asks for.\n"
	      "\n"
	      "Options:\n"
	      "      --dkim-selector S     a DKIM selector to check (repeatable, at most 32)\n"
	      "      --zone FILE           answer DNS questions from this zone file (offline;\n"
	      "                            the authoritative servers are then not asked)\n"
	      "      --resolver ADDR[@PORT]\n"
	      "                            forward DNS questions to this server instead of\n"
	      "                            the ones in /etc/resolv.conf\n"
	      "      --ns-port PORT        port of the authoritative servers (default 53)\n"
	      "      --timeout MS          wait at most MS milliseconds for each DNS answer\n"
	      "                            (default 5000)\n"
	      "      --json                print one JSON object instead of text\n"
	      "  -h, --help                show this help and exit\n"
	      "\n"
	      "Exit status:\n"
	      "  0 no problem found, 1 warnings only, 2 errors,\n"
	      "  3 could not check (a DNS lookup of SPF, DMARC or a given selector failed),\n"
	      "  64 usage error, 65 malformed zone file, 66 unreadable zone file,\n"
	      "  69 the DNS resolver cannot be set up, 70 internal error.\n",
	      fp);
}

enum {
	OPT_SELECTOR = 256,
	OPT_ZONE,
	OPT_RESOLVER,
	OPT_NS_PORT,
	OPT_TIMEOUT,
	OPT_JSON,
};

typedef struct ck_args {
	const char *domain;
	const char *selectors[MAX_SELECTORS];
	size_t nselectors;
	cli_dns dns;
	unsigned long ns_port;
	unsigned long timeout_ms;
	bool json;
} ck_args;

/* One finding of any of the checks; severity 0 info, 1 warning, 2 error
 * (the three libraries' enums agree). */
typedef struct audit_finding {
	const char *area;   /* "spf", "dmarc", "dkim", "mx" */
	const char *where;  /* the name checked */
	const char *code;
	int severity;
	const char *message;
	const char *fix;
	const char *record;
	size_t record_len;
	long offset;
	size_t length;
} audit_finding;

/* A record to publish. */
typedef struct publish_row {
	char *name;         /* fully qualified, no trailing dot */
	const char *host;   /* name relative to the domain: "@", "_dmarc", ... */
	const char *type;   /* "TXT", "CNAME" */
	char *value;        /* the text (TXT) or the target (CNAME) */
	const char *note;
} publish_row;

typedef struct audit {
	audit_finding *f;
	size_t nf, capf;
	publish_row rows[4 + MAX_SELECTORS];
	size_t nrows;
	bool oom;
	bool unchecked;
	const char *tried[MAX_SELECTORS + N_COMMON];
	size_t ntried;
	const char *found[MAX_SELECTORS + N_COMMON];
	size_t nfound;
	struct {
		unsigned pref;
		char *exchange;
	} mx[MAX_MX];
	size_t nmx;
	char **strs;        /* strings the findings and rows point to */
	size_t nstrs, capstrs;
} audit;

static int parse_args(int argc, char **argv, ck_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "dkim-selector", required_argument, NULL, OPT_SELECTOR },
		{ "zone", required_argument, NULL, OPT_ZONE },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "ns-port", required_argument, NULL, OPT_NS_PORT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	char q[CLI_QUOTE_BUF];
	int c;

	memset(a, 0, sizeof *a);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			check_usage(stdout);
			return -1;
		case OPT_SELECTOR:
			if (a->nselectors >= MAX_SELECTORS) {
				cli_error("--dkim-selector: at most %d selectors", MAX_SELECTORS);
				return CLI_EXIT_USAGE;
			}
			a->selectors[a->nselectors++] = optarg;
			break;
		case OPT_ZONE: a->dns.zone = optarg; break;
		case OPT_RESOLVER: a->dns.resolver = optarg; break;
		case OPT_JSON: a->json = true; break;
		case OPT_NS_PORT:
			if (!cli_parse_uint("--ns-port", optarg, 1, 65535, &a->ns_port))
				return CLI_EXIT_USAGE;
			break;
		case OPT_TIMEOUT:
			if (!cli_parse_uint("--timeout", optarg, 1, 3600000, &a->timeout_ms))
				return CLI_EXIT_USAGE;
			break;
		default:
			cli_bad_option(c, argv, "mailtrust check");
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind < 1) {
		cli_error("check: give the DOMAIN (see 'mailtrust check --help')");
		return CLI_EXIT_USAGE;
	}
	a->domain = argv[optind++];
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'mailtrust check --help')",
		          cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (a->dns.zone && a->dns.resolver) {
		cli_error("--zone cannot be combined with --resolver");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static void add_finding(audit *au, const audit_finding *f)
{
	if (au->nf == au->capf) {
		size_t cap = au->capf ? au->capf * 2 : 64;
		audit_finding *n = realloc(au->f, cap * sizeof *n);
		if (!n) {
			au->oom = true;
			return;
		}
		au->f = n;
		au->capf = cap;
	}
	au->f[au->nf++] = *f;
}

static void add_simple(audit *au, const char *area, const char *where, const char *code, int sev,
                       const char *message, const char *fix)
{
	audit_finding f;
	memset(&f, 0, sizeof f);
	f.area = area;
	f.where = where;
	f.code = code;
	f.severity = sev;
	f.message = message;
	f.fix = fix;
	f.offset = -1;
	add_finding(au, &f);
}

static char *xstrdup(audit *au, const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		au->oom = true;
	return p;
}

static char *xprintf(audit *au, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *xprintf(audit *au, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(p = malloc((size_t)n + 1))) {
		au->oom = true;
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* Keep p until the audit ends (NULL stays NULL). */
static char *own(audit *au, char *p)
{
	if (!p)
		return NULL;
	if (au->nstrs == au->capstrs) {
		size_t cap = au->capstrs ? au->capstrs * 2 : 32;
		char **n = realloc(au->strs, cap * sizeof *n);
		if (!n) {
			free(p);
			au->oom = true;
			return NULL;
		}
		au->strs = n;
		au->capstrs = cap;
	}
	au->strs[au->nstrs++] = p;
	return p;
}

static void add_row(audit *au, const char *name, const char *host, const char *type,
                    const char *value, size_t value_len, const char *note)
{
	publish_row *r;
	if (au->nrows >= sizeof au->rows / sizeof au->rows[0])
		return;
	r = &au->rows[au->nrows++];
	r->name = xstrdup(au, name);
	r->host = host;
	r->type = type;
	r->value = malloc(value_len + 1);
	if (r->value) {
		memcpy(r->value, value, value_len);
		r->value[value_len] = '\0';
	} else {
		au->oom = true;
	}
	r->note = note;
}

/* ---- the three checks -------------------------------------------------- */

static void do_spf(audit *au, const ck_args *a, const char *domain, mt_dns_resolver *res,
                   mt_spf_verify **out)
{
	mt_spf_verify_options o;
	mt_error err;

	mt_spf_verify_options_init(&o);
	if (!a->dns.zone) {
		o.server_resolver = cli_server_resolver;
		o.server_ctx = (void *)&a->timeout_ms;
		o.server_port = (unsigned)a->ns_port;
	}
	if (a->timeout_ms) {
		o.timeout_ms = (unsigned)a->timeout_ms;
		o.spf.timeout_ms = (unsigned)a->timeout_ms;
	}
	memset(&err, 0, sizeof err);
	if (mt_spf_verify_run(domain, res, &o, out, &err) != MT_OK) {
		au->oom = true;
		return;
	}
	if (!mt_spf_verify_checked(*out))
		au->unchecked = true;
	for (size_t i = 0; i < mt_spf_verify_finding_count(*out); i++) {
		const mt_spf_finding *s = mt_spf_verify_finding(*out, i);
		audit_finding f;
		f.area = "spf";
		f.where = s->domain ? s->domain : domain;
		f.code = s->code;
		f.severity = (int)s->severity;
		f.message = s->message;
		f.fix = s->fix;
		f.record = s->record;
		f.record_len = s->record ? s->record_len : 0;
		f.offset = s->record ? s->offset : -1;
		f.length = s->length;
		add_finding(au, &f);
	}
}

static void do_dmarc(audit *au, const ck_args *a, const char *domain, mt_dns_resolver *res,
                     mt_dmarc_verify **out)
{
	mt_dmarc_verify_options o;
	mt_error err;

	mt_dmarc_verify_options_init(&o);
	if (!a->dns.zone) {
		o.server_resolver = cli_server_resolver;
		o.server_ctx = (void *)&a->timeout_ms;
		o.server_port = (unsigned)a->ns_port;
	}
	o.timeout_ms = (unsigned)a->timeout_ms;
	memset(&err, 0, sizeof err);
	if (mt_dmarc_verify_run(domain, res, &o, out, &err) != MT_OK) {
		au->oom = true;
		return;
	}
	if (!mt_dmarc_verify_checked(*out))
		au->unchecked = true;
	for (size_t i = 0; i < mt_dmarc_verify_finding_count(*out); i++) {
		const mt_dmarc_verify_finding *d = mt_dmarc_verify_finding_at(*out, i);
		audit_finding f;
		f.area = "dmarc";
		f.where = mt_dmarc_verify_name(*out);
		f.code = d->code;
		f.severity = (int)d->severity;
		f.message = d->message;
		f.fix = d->fix;
		f.record = d->record;
		f.record_len = d->record_len;
		f.offset = d->offset;
		f.length = d->length;
		add_finding(au, &f);
	}
}

/* Is there anything at SELECTOR._domainkey.DOMAIN (a TXT record, or a
 * CNAME)?  -1 when the question failed. */
static int selector_exists(const ck_args *a, mt_dns_resolver *res, const char *sel,
                           const char *domain)
{
	char name[600];
	mt_dns_answer *ans = NULL;
	int found = 0;

	snprintf(name, sizeof name, "%s._domainkey.%s", sel, domain);
	if (mt_dns_resolve(res, name, MT_DNS_TXT, (unsigned)a->timeout_ms, &ans) != MT_OK)
		return -1;
	if (ans->rcode != MT_DNS_NOERROR && ans->rcode != MT_DNS_NXDOMAIN)
		found = -1;
	else
		found = ans->count > 0 || ans->canonical_name != NULL;
	mt_dns_answer_free(ans);
	return found;
}

static void do_dkim(audit *au, const ck_args *a, const char *domain, mt_dns_resolver *res,
                    mt_dkim_check **checks, size_t *nchecks)
{
	bool given = a->nselectors > 0;
	const char *const *list = given ? a->selectors : COMMON_SELECTORS;
	size_t n = given ? a->nselectors : N_COMMON;
	size_t failed = 0;

	*nchecks = 0;
	for (size_t i = 0; i < n; i++) {
		mt_dkim_check_options o;
		mt_dkim_check *c = NULL;
		mt_error err;
		mt_status st;

		au->tried[au->ntried++] = list[i];
		if (!given) {
			int e = selector_exists(a, res, list[i], domain);
			if (e < 0)
				failed++;
			if (e <= 0)
				continue;
		}
		mt_dkim_check_options_init(&o);
		if (!a->dns.zone) {
			o.server_resolver = cli_server_resolver;
			o.server_ctx = (void *)&a->timeout_ms;
			o.server_port = (unsigned)a->ns_port;
		}
		o.timeout_ms = (unsigned)a->timeout_ms;
		memset(&err, 0, sizeof err);
		st = mt_dkim_check_run(list[i], domain, res, &o, &c, &err);
		if (st == MT_EINVAL) {
			add_simple(au, "dkim", list[i], "bad-selector", 2,
			           own(au, xprintf(au, "the selector '%s' is not valid: %s", list[i], err.message)),
			           "give the selector as it appears in s= of the signatures");
			continue;
		}
		if (st != MT_OK) {
			au->oom = true;
			return;
		}
		checks[(*nchecks)++] = c;
		if (!mt_dkim_check_checked(c))
			au->unchecked = true;
		if (mt_dkim_check_record(c) || mt_dkim_check_cname(c))
			au->found[au->nfound++] = list[i];
		for (size_t k = 0; k < mt_dkim_check_finding_count(c); k++) {
			const mt_dkim_check_finding *d = mt_dkim_check_finding_at(c, k);
			audit_finding f;
			f.area = "dkim";
			f.where = mt_dkim_check_name(c);
			f.code = d->code;
			f.severity = (int)d->severity;
			f.message = d->message;
			f.fix = d->fix;
			f.record = d->record;
			f.record_len = d->record_len;
			f.offset = d->offset;
			f.length = d->length;
			add_finding(au, &f);
		}
	}
	if (!given && au->nfound == 0)
		add_simple(au, "dkim", domain, "dkim-not-found", 1,
		           own(au, xprintf(au, "no DKIM key was found under the %zu commonly used selectors "
		                       "tried%s: either the domain's mail is not signed (then DMARC "
		                       "rests on SPF alone, which forwarding breaks), or its selector "
		                       "has another name",
		                   n, failed ? " (some lookups failed)" : "")),
		           "give the selector (s= in a signed message's DKIM-Signature) with "
		           "--dkim-selector; to sign, 'mailtrust dkim keygen' makes a key and its "
		           "record");
}

static void do_mx(audit *au, const ck_args *a, const char *domain, mt_dns_resolver *res)
{
	mt_dns_answer *ans = NULL;

	if (mt_dns_resolve(res, domain, MT_DNS_MX, (unsigned)a->timeout_ms, &ans) != MT_OK) {
		au->oom = true;
		return;
	}
	if (ans->rcode != MT_DNS_NOERROR && ans->rcode != MT_DNS_NXDOMAIN) {
		add_simple(au, "mx", domain, "mx-lookup-failed", 1,
		           own(au, xprintf(au, "the MX lookup of %s failed: %s", domain,
		                            mt_dns_rcode_name(ans->rcode))),
		           "check the domain's DNS servers");
	} else {
		for (size_t i = 0; i < ans->count && au->nmx < MAX_MX; i++) {
			if (ans->rr[i].type != MT_DNS_MX)
				continue;
			au->mx[au->nmx].pref = ans->rr[i].pref;
			au->mx[au->nmx].exchange = xstrdup(au, (const char *)ans->rr[i].data);
			au->nmx++;
		}
		if (au->nmx == 0)
			add_simple(au, "mx", domain, "no-mx", 1,
			           own(au, xprintf(au, "%s has no MX records: mail to it (bounces, "
			                                "replies, DMARC reports to addresses in it) goes "
			                                "to its address record, if any, or nowhere",
			                            domain)),
			           own(au, xprintf(au, "publish the MX records of your mail provider; a "
			                                "domain that receives no mail publishes the null "
			                                "MX \"%s. IN MX 0 .\" (RFC 7505)", domain)));
		else if (au->nmx == 1 && (au->mx[0].exchange[0] == '\0' ||
		                          strcmp(au->mx[0].exchange, ".") == 0))
			add_simple(au, "mx", domain, "null-mx", 0,
			           own(au, xprintf(au, "%s publishes the null MX (RFC 7505): it receives "
			                                "no mail", domain)),
			           NULL);
		else
			add_simple(au, "mx", domain, "mx", 0,
			           own(au, xprintf(au, "%s has %zu MX record%s", domain, au->nmx,
			                            au->nmx == 1 ? "" : "s")),
			           NULL);
	}
	mt_dns_answer_free(ans);
}

/* ---- the records to publish -------------------------------------------- */

static void spf_row(audit *au, const ck_args *a, const char *domain, mt_dns_resolver *res,
                    const mt_spf_verify *v)
{
	mt_dns_answer *ans = NULL;
	const char *recs[16];
	char *texts[16];
	size_t n = 0;
	char *merged = NULL;

	if (mt_spf_verify_record(v) && mt_spf_verify_worst(v) < MT_SPF_ERROR) {
		add_row(au, domain, "@", "TXT", mt_spf_verify_record(v), mt_spf_verify_record_len(v),
		        "the published SPF record");
		return;
	}
	/* several records: one merged record */
	if (mt_dns_resolve(res, domain, MT_DNS_TXT, (unsigned)a->timeout_ms, &ans) == MT_OK &&
	    ans->rcode == MT_DNS_NOERROR) {
		for (size_t i = 0; i < ans->count && n < 16; i++) {
			size_t need;
			if (ans->rr[i].type != MT_DNS_TXT)
				continue;
			need = mt_dns_txt_join(ans->rr[i].data, ans->rr[i].len, NULL, 0);
			texts[n] = malloc(need + 1);
			if (!texts[n]) {
				au->oom = true;
				break;
			}
			mt_dns_txt_join(ans->rr[i].data, ans->rr[i].len, texts[n], need + 1);
			if (need >= 6 && strncasecmp(texts[n], "v=spf1", 6) == 0 &&
			    (need == 6 || texts[n][6] == ' ')) {
				recs[n] = texts[n];
				n++;
			} else {
				free(texts[n]);
			}
		}
	}
	mt_dns_answer_free(ans);
	if (n > 1 && mt_spf_merge(recs, n, 0, &merged, NULL) == MT_OK) {
		add_row(au, domain, "@", "TXT", merged, strlen(merged),
		        "the SPF records merged into one (replace all of them with it)");
		mt_free(merged);
	} else if (mt_spf_verify_record(v)) {
		add_row(au, domain, "@", "TXT", mt_spf_verify_record(v), mt_spf_verify_record_len(v),
		        "the published SPF record: correct it as the findings say");
	} else if (n >= 1) {
		add_row(au, domain, "@", "TXT", recs[0], strlen(recs[0]),
		        "the first SPF record: publish one record, with what every one of them "
		        "allowed");
	} else {
		const char *s = au->nmx > 0 ? "v=spf1 mx -all" : "v=spf1 -all";
		add_row(au, domain, "@", "TXT", s, strlen(s),
		        au->nmx > 0 ? "suggested: only the MX hosts send; add include: of every "
		                      "provider that sends for the domain"
		                    : "suggested: the domain sends no mail");
	}
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
}

static void dmarc_row(audit *au, const char *domain, const mt_dmarc_verify *v)
{
	const mt_dmarc_record *r = mt_dmarc_verify_parsed(v);
	char *name = xprintf(au, "_dmarc.%s", domain);
	bool clean = true;

	if (!name)
		return;
	if (mt_dmarc_verify_source_of(v) == MT_DMARC_SOURCE_DOMAIN && r) {
		for (size_t i = 0; i < mt_dmarc_verify_finding_count(v); i++) {
			const char *c = mt_dmarc_verify_finding_at(v, i)->code;
			if (strcmp(c, "syntax-error") == 0 || strcmp(c, "record-warning") == 0 ||
			    strcmp(c, "obsolete-tag") == 0 || strcmp(c, "multiple-records") == 0 ||
			    strcmp(c, "not-applied") == 0 || strcmp(c, "applied-as-none") == 0)
				clean = false;
		}
		if (clean) {
			add_row(au, name, "_dmarc", "TXT", mt_dmarc_verify_record(v),
			        mt_dmarc_verify_record_len(v), "the published DMARC record");
		} else {
			/* the record rebuilt from its valid tags */
			mt_dmarc_build_options bo;
			const char *rua[MT_DMARC_URIS_MAX], *ruf[MT_DMARC_URIS_MAX];
			char *rec = NULL;
			memset(&bo, 0, sizeof bo);
			bo.p = mt_dmarc_record_p(r) ? mt_dmarc_record_p(r) : MT_DMARC_POLICY_NONE;
			bo.sp = mt_dmarc_record_sp(r);
			bo.np = mt_dmarc_record_np(r);
			bo.adkim = mt_dmarc_record_strict_dkim(r) ? 's' : 0;
			bo.aspf = mt_dmarc_record_strict_spf(r) ? 's' : 0;
			bo.testing = mt_dmarc_record_testing(r);
			bo.rua = rua;
			bo.ruf = ruf;
			for (size_t i = 0; i < mt_dmarc_record_rua_count(r) && bo.nrua < MT_DMARC_URIS_MAX; i++)
				if (mt_dmarc_record_rua(r, i)->valid)
					rua[bo.nrua++] = mt_dmarc_record_rua(r, i)->uri;
			for (size_t i = 0; i < mt_dmarc_record_ruf_count(r) && bo.nruf < MT_DMARC_URIS_MAX; i++)
				if (mt_dmarc_record_ruf(r, i)->valid)
					ruf[bo.nruf++] = mt_dmarc_record_ruf(r, i)->uri;
			if (mt_dmarc_build(&bo, &rec, NULL) == MT_OK) {
				add_row(au, name, "_dmarc", "TXT", rec, strlen(rec),
				        "the published record corrected: its valid tags kept, the rest "
				        "dropped");
				mt_free(rec);
			} else {
				add_row(au, name, "_dmarc", "TXT", mt_dmarc_verify_record(v),
				        mt_dmarc_verify_record_len(v),
				        "the published DMARC record: correct it as the findings say");
			}
		}
	} else if (mt_dmarc_verify_source_of(v) == MT_DMARC_SOURCE_INHERITED) {
		/* nothing to publish at the name: the parent's record applies */
	} else {
		char *rec = xprintf(au, "v=DMARC1; p=none; rua=mailto:dmarc-reports@%s", domain);
		if (rec)
			add_row(au, name, "_dmarc", "TXT", rec, strlen(rec),
			        "suggested: monitoring (p=none) with aggregate reports to a mailbox "
			        "you create; raise p= once the reports show all your mail passes");
		free(rec);
	}
	free(name);
}

static void dkim_rows(audit *au, const char *domain, mt_dkim_check **checks, size_t n)
{
	size_t dl = strlen(domain);
	for (size_t i = 0; i < n; i++) {
		const char *name = mt_dkim_check_name(checks[i]);
		size_t nl = strlen(name);
		char *host = nl > dl + 1 ? own(au, xprintf(au, "%.*s", (int)(nl - dl - 1), name))
		                         : NULL;
		if (!host)
			continue;
		if (mt_dkim_check_cname(checks[i]))
			add_row(au, name, host, "CNAME", mt_dkim_check_cname(checks[i]),
			        strlen(mt_dkim_check_cname(checks[i])),
			        "the published delegation to the mail provider's key");
		else if (mt_dkim_check_record(checks[i]))
			add_row(au, name, host, "TXT", mt_dkim_check_record(checks[i]),
			        mt_dkim_check_record_len(checks[i]), "the published DKIM key");
	}
}

/* ---- output ------------------------------------------------------------ */

static int cmp_sev(const void *x, const void *y)
{
	const audit_finding *a = x, *b = y;
	if (a->severity != b->severity)
		return b->severity - a->severity;
	return 0;
}

static cli_style sev_style(int s)
{
	return s == 2 ? CLI_RED : s == 1 ? CLI_YELLOW : CLI_BLUE;
}

static const char *sev_name(int s)
{
	return s == 2 ? "error" : s == 1 ? "warning" : "info";
}

static char *zone_line(audit *au, const publish_row *r)
{
	char *strings = NULL, *line;
	if (strcmp(r->type, "CNAME") == 0)
		return xprintf(au, "%s. IN CNAME %s.", r->name, r->value);
	if (mt_spf_zone_strings(r->value, strlen(r->value), &strings) != MT_OK) {
		au->oom = true;
		return NULL;
	}
	line = xprintf(au, "%s. IN TXT %s", r->name, strings);
	mt_free(strings);
	return line;
}

static void print_text(const cli_out *o, audit *au, const char *domain)
{
	FILE *fp = o->fp;
	size_t n[3] = { 0, 0, 0 };

	for (size_t i = 0; i < au->nf; i++)
		n[au->f[i].severity]++;
	fprintf(fp, "%s", cli_sgr(o, CLI_BOLD));
	cli_text_puts(fp, domain);
	fprintf(fp, "%s: %s%zu error%s, %zu warning%s, %zu info%s\n", cli_sgr(o, CLI_RESET),
	        au->unchecked ? "not everything could be checked, " : "", n[2],
	        n[2] == 1 ? "" : "s", n[1], n[1] == 1 ? "" : "s", n[0], n[0] == 1 ? "" : "s");
	fputs("MX: ", fp);
	if (au->nmx == 0)
		fputs("none", fp);
	for (size_t i = 0; i < au->nmx; i++) {
		fprintf(fp, "%s%u ", i ? ", " : "", au->mx[i].pref);
		cli_text_puts(fp, au->mx[i].exchange[0] ? au->mx[i].exchange : ".");
	}
	fputs("\nDKIM selectors ", fp);
	fputs(au->ntried && au->tried[0] == COMMON_SELECTORS[0] ? "tried (common names): "
	                                                       : "checked: ", fp);
	for (size_t i = 0; i < au->ntried; i++) {
		fputs(i ? ", " : "", fp);
		cli_text_puts(fp, au->tried[i]);
	}
	fputs("\nDKIM selectors found: ", fp);
	if (au->nfound == 0)
		fputs("none", fp);
	for (size_t i = 0; i < au->nfound; i++) {
		fputs(i ? ", " : "", fp);
		cli_text_puts(fp, au->found[i]);
	}
	fputc('\n', fp);
	fprintf(fp, "\n%sfindings, worst first:%s\n", cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
	for (size_t i = 0; i < au->nf; i++) {
		const audit_finding *f = &au->f[i];
		fprintf(fp, "  %s%-7s %s/%s%s ", cli_sgr(o, sev_style(f->severity)),
		        sev_name(f->severity), f->area, f->code, cli_sgr(o, CLI_RESET));
		fputc('(', fp);
		cli_text_puts(fp, f->where);
		fputs(") ", fp);
		cli_text_puts(fp, f->message);
		fputc('\n', fp);
		if (f->record && f->offset >= 0)
			cli_dmarc_caret(o, f->record, f->record_len, (size_t)f->offset, f->length,
			                sev_style(f->severity));
		if (f->fix) {
			fprintf(fp, "    %sfix:%s ", cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
			cli_text_puts(fp, f->fix);
			fputc('\n', fp);
		}
	}
	fprintf(fp, "\n%srecords to publish (zone file):%s\n", cli_sgr(o, CLI_BOLD),
	        cli_sgr(o, CLI_RESET));
	for (size_t i = 0; i < au->nrows; i++) {
		char *line = zone_line(au, &au->rows[i]);
		fputs("  ; ", fp);
		cli_text_puts(fp, au->rows[i].note);
		fputs("\n  ", fp);
		cli_text_puts(fp, line ? line : "");
		fputc('\n', fp);
		free(line);
	}
	fprintf(fp, "\n%srecords to publish (a DNS host's form: name, type, value):%s\n",
	        cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
	for (size_t i = 0; i < au->nrows; i++) {
		fputs("  name: ", fp);
		cli_text_puts(fp, au->rows[i].host);
		fprintf(fp, "  (%s)\n  type: %s\n  value: ", au->rows[i].name, au->rows[i].type);
		cli_text_puts(fp, au->rows[i].value);
		fputs("\n\n", fp);
	}
}

static void print_json(audit *au, const char *domain)
{
	json_writer w;
	size_t n[3] = { 0, 0, 0 };

	for (size_t i = 0; i < au->nf; i++)
		n[au->f[i].severity]++;
	json_init(&w, stdout);
	json_begin_object(&w);
	json_key(&w, "domain");
	json_string(&w, domain);
	json_key(&w, "checked");
	json_bool(&w, !au->unchecked);
	json_key(&w, "summary");
	json_begin_object(&w);
	json_key(&w, "errors");
	json_int(&w, (long long)n[2]);
	json_key(&w, "warnings");
	json_int(&w, (long long)n[1]);
	json_key(&w, "infos");
	json_int(&w, (long long)n[0]);
	json_end_object(&w);
	json_key(&w, "mx");
	json_begin_array(&w);
	for (size_t i = 0; i < au->nmx; i++) {
		json_begin_object(&w);
		json_key(&w, "preference");
		json_int(&w, au->mx[i].pref);
		json_key(&w, "exchange");
		json_string(&w, au->mx[i].exchange);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "dkim_selectors_tried");
	json_begin_array(&w);
	for (size_t i = 0; i < au->ntried; i++)
		json_string(&w, au->tried[i]);
	json_end_array(&w);
	json_key(&w, "dkim_selectors_found");
	json_begin_array(&w);
	for (size_t i = 0; i < au->nfound; i++)
		json_string(&w, au->found[i]);
	json_end_array(&w);
	json_key(&w, "findings");
	json_begin_array(&w);
	for (size_t i = 0; i < au->nf; i++) {
		const audit_finding *f = &au->f[i];
		json_begin_object(&w);
		json_key(&w, "area");
		json_string(&w, f->area);
		json_key(&w, "name");
		json_string(&w, f->where);
		json_key(&w, "code");
		json_string(&w, f->code);
		json_key(&w, "severity");
		json_string(&w, sev_name(f->severity));
		json_key(&w, "message");
		json_string(&w, f->message);
		json_key(&w, "fix");
		json_string(&w, f->fix);
		json_key(&w, "record");
		if (f->record)
			json_string_n(&w, f->record, f->record_len);
		else
			json_null(&w);
		json_key(&w, "offset");
		if (f->record && f->offset >= 0)
			json_int(&w, f->offset);
		else
			json_null(&w);
		json_key(&w, "length");
		json_int(&w, (long long)f->length);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "publish");
	json_begin_array(&w);
	for (size_t i = 0; i < au->nrows; i++) {
		char *line = zone_line(au, &au->rows[i]);
		json_begin_object(&w);
		json_key(&w, "name");
		json_string(&w, au->rows[i].name);
		json_key(&w, "host");
		json_string(&w, au->rows[i].host);
		json_key(&w, "type");
		json_string(&w, au->rows[i].type);
		json_key(&w, "value");
		json_string(&w, au->rows[i].value);
		json_key(&w, "zone_line");
		json_string(&w, line);
		json_key(&w, "note");
		json_string(&w, au->rows[i].note);
		json_end_object(&w);
		free(line);
	}
	json_end_array(&w);
	json_end_object(&w);
	json_finish(&w);
}

int cli_check_main(int argc, char **argv)
{
	ck_args a;
	audit au;
	mt_spf_verify *spf = NULL;
	mt_dmarc_verify *dmarc = NULL;
	mt_dkim_check *dkim[MAX_SELECTORS + N_COMMON];
	size_t ndkim = 0;
	mt_dns_zone *zone = NULL;
	mt_dns_resolver *res = NULL;
	char *names[MT_DMARC_WALK_MAX];
	char domain[256], q[CLI_QUOTE_BUF];
	size_t nn = 0, dl;
	mt_error err;
	cli_out out;
	int rc, worst = 0;

	memset(&au, 0, sizeof au);
	rc = parse_args(argc, argv, &a);
	if (rc != 0) {
		rc = rc < 0 ? 0 : rc;
		goto out;
	}
	memset(&err, 0, sizeof err);
	if (mt_dmarc_walk_targets(a.domain, false, names, &nn, &err) != MT_OK) {
		cli_error("check: '%s' is not a domain name: %s", cli_quote(q, a.domain), err.message);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < nn; i++)
		mt_free(names[i]);
	dl = strlen(a.domain);
	if (dl > 0 && a.domain[dl - 1] == '.')
		dl--;
	for (size_t i = 0; i < dl && i < sizeof domain - 1; i++)
		domain[i] = (a.domain[i] >= 'A' && a.domain[i] <= 'Z') ? (char)(a.domain[i] + 32)
		                                                      : a.domain[i];
	domain[dl < sizeof domain ? dl : sizeof domain - 1] = '\0';
	rc = cli_open_resolver(&a.dns, &zone, &res);
	if (rc != 0)
		goto out;

	do_mx(&au, &a, domain, res);
	do_spf(&au, &a, domain, res, &spf);
	if (!au.oom)
		do_dmarc(&au, &a, domain, res, &dmarc);
	if (!au.oom)
		do_dkim(&au, &a, domain, res, dkim, &ndkim);
	if (!au.oom && spf)
		spf_row(&au, &a, domain, res, spf);
	if (!au.oom && dmarc)
		dmarc_row(&au, domain, dmarc);
	if (!au.oom)
		dkim_rows(&au, domain, dkim, ndkim);
	if (au.oom) {
		cli_error("check failed: out of memory");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	/* worst first; the order within a severity is the checks' own */
	for (size_t i = 1; i < au.nf; i++) {
		audit_finding t = au.f[i];
		size_t j = i;
		while (j > 0 && cmp_sev(&au.f[j - 1], &t) > 0) {
			au.f[j] = au.f[j - 1];
			j--;
		}
		au.f[j] = t;
	}
	for (size_t i = 0; i < au.nf; i++)
		if (au.f[i].severity > worst)
			worst = au.f[i].severity;
	if (a.json) {
		print_json(&au, domain);
	} else {
		cli_out_init(&out, stdout);
		print_text(&out, &au, domain);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	rc = au.unchecked ? 3 : worst;
out:
	for (size_t i = 0; i < au.nrows; i++) {
		free(au.rows[i].name);
		free(au.rows[i].value);
	}
	for (size_t i = 0; i < au.nstrs; i++)
		free(au.strs[i]);
	free(au.strs);
	for (size_t i = 0; i < au.nmx; i++)
		free(au.mx[i].exchange);
	free(au.f);
	for (size_t i = 0; i < ndkim; i++)
		mt_dkim_check_free(dkim[i]);
	mt_dmarc_verify_free(dmarc);
	mt_spf_verify_free(spf);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return rc;
}
