/* dmarc_probe: drives the DMARC library for the vector runner and the
 * differential (run_vectors.py, differential.py).  It reads commands, one
 * per line, fields separated by TAB; arguments may escape \\, \t, \n and
 * \xHH.  Each query command prints one line: the case id, then TAB-separated
 * key=value pairs (values escaped the same way).
 *
 *   mode tree|psl          organizational domains for the next checks
 *   psl FILE|-             the list PSL mode loads (-: the system's, the
 *                          default); loaded once and shared by the checks
 *   zone TEXT              one master-file line for the next check's zone
 *   author DOMAIN          the next check's Author Domain
 *   from RAW               ... read from a From field value instead
 *   spf pass|fail DOMAIN   the MAIL FROM identity
 *   dkim pass|fail DOMAIN  one DKIM signature (repeatable)
 *   resolver ADDR@PORT MS  ask that server through libunbound (forwarding,
 *                          MS ms per question) instead of a zone, for the
 *                          following checks ("resolver -" goes back)
 *   check ID               run the check; prints its outcome, the names
 *                          asked in order and the time taken (ms); then
 *                          forgets zone/author/spf/dkim
 *   record ID TXT          parse a record
 *   fromparse ID RAW       parse a From field value
 *   walk ID DOMAIN         the tree walk's targets
 */
#include <mailtrust/dmarc.h>
#include <mailtrust/dns.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
	char *p;
	size_t len, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 256) + n;
		char *p = realloc(b->p, cap);
		if (!p) {
			fprintf(stderr, "dmarc_probe: out of memory\n");
			exit(70);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode an argument in place; returns its length (it may hold NULs). */
static size_t unescape(char *s)
{
	size_t o = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] != '\\' || !s[i + 1]) {
			s[o++] = s[i];
			continue;
		}
		char c = s[++i];
		if (c == 't')
			s[o++] = '\t';
		else if (c == 'n')
			s[o++] = '\n';
		else if (c == 'x' && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			s[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else
			s[o++] = c;
	}
	s[o] = '\0';
	return o;
}

static void out_kv(const char *key, const char *val)
{
	fputc('\t', stdout);
	fputs(key, stdout);
	fputc('=', stdout);
	for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p < 0x20)
			printf("\\x%02x", *p);
		else
			fputc(*p, stdout);
	}
}

static void out_int(const char *key, long v)
{
	char s[32];
	snprintf(s, sizeof s, "%ld", v);
	out_kv(key, s);
}

/* A resolver that records the questions asked, then asks the zone. */
typedef struct logres {
	mt_dns_resolver *inner;
	buf log;
} logres;

static mt_status log_resolve(void *impl, const char *name, uint16_t type, unsigned timeout_ms,
                             mt_dns_answer **out)
{
	logres *l = impl;
	if (l->log.len)
		buf_str(&l->log, ",");
	buf_str(&l->log, mt_dns_type_name(type));
	buf_str(&l->log, ":");
	buf_str(&l->log, name);
	return mt_dns_resolve(l->inner, name, type, timeout_ms, out);
}

static const mt_dns_resolver_ops log_ops = { .resolve = log_resolve };

typedef struct state {
	mt_dmarc_org_mode mode;
	char *server;           /* "ADDR@PORT" or NULL: the zone */
	mt_dmarc_psl *psl;      /* loaded once for psl_file (mt_dmarc_psl_load) */
	unsigned timeout_ms;
	char *psl_file;
	buf zone;
	char *author;
	char *from_status;  /* set when "from" did not give a domain */
	bool spf_set, spf_pass;
	char *spf;
	size_t ndkim;
	char *dkim[MT_DMARC_DKIM_MAX];
	bool dkim_pass[MT_DMARC_DKIM_MAX];
} state;

static void reset(state *s)
{
	s->zone.len = 0;
	if (s->zone.p)
		s->zone.p[0] = '\0';
	free(s->author);
	free(s->from_status);
	free(s->spf);
	s->author = s->from_status = s->spf = NULL;
	s->spf_set = false;
	for (size_t i = 0; i < s->ndkim; i++)
		free(s->dkim[i]);
	s->ndkim = 0;
}

static void do_check(state *s, const char *id)
{
	fputs(id, stdout);
	mt_error err;
	mt_dns_zone *zone = mt_dns_zone_new();
	mt_dns_resolver *zres = NULL, *res = NULL;
	mt_dmarc_check *chk = NULL;
	logres lr = { 0 };
	if (s->from_status) {
		out_kv("from", s->from_status);
		goto out;
	}
	if (!zone || mt_dns_zone_load_text(zone, s->zone.p ? s->zone.p : "", s->zone.len, NULL,
	                                   "zone", &err) != MT_OK) {
		out_kv("error", zone ? err.message : "out of memory");
		goto out;
	}
	mt_dmarc_options o;
	mt_dmarc_options_init(&o);
	o.org_mode = s->mode;
	o.psl_file = s->psl_file;
	if (s->mode == MT_DMARC_ORG_PSL) {
		if (!s->psl && mt_dmarc_psl_load(s->psl_file, &s->psl, &err) != MT_OK) {
			out_kv("error", err.message);
			goto out;
		}
		o.psl = s->psl;
	}
	if (mt_dmarc_check_new(&o, s->author ? s->author : "", &chk, &err) != MT_OK) {
		out_kv("error", err.message);
		goto out;
	}
	if (s->spf_set && mt_dmarc_check_set_spf(chk, s->spf_pass, s->spf, &err) != MT_OK) {
		out_kv("error", err.message);
		goto out;
	}
	for (size_t i = 0; i < s->ndkim; i++)
		if (mt_dmarc_check_add_dkim(chk, s->dkim[i], s->dkim_pass[i], &err) != MT_OK) {
			out_kv("error", err.message);
			goto out;
		}
	if (s->server) {
		mt_dns_unbound_options uo;
		mt_dns_unbound_options_init(&uo);
		uo.forwarder = s->server;
		uo.timeout_ms = s->timeout_ms;
		if (mt_dns_unbound_resolver_new(&uo, &zres, &err) != MT_OK) {
			out_kv("error", err.message);
			goto out;
		}
	} else
		zres = mt_dns_zone_resolver_new(zone);
	lr.inner = zres;
	uint64_t t0 = mt_dns_now_ms();
	res = zres ? mt_dns_resolver_new(&log_ops, &lr) : NULL;
	if (!res || mt_dmarc_check_run(chk, res) != MT_OK) {
		out_kv("error", "check failed to run");
		goto out;
	}
	uint64_t t1 = mt_dns_now_ms();
	const mt_dmarc_outcome *oc = mt_dmarc_check_outcome(chk);
	out_int("ms", (long)(t1 - t0));
	out_kv("author", oc->author_domain);
	out_kv("result", mt_dmarc_result_name(oc->result));
	out_kv("policy", mt_dmarc_policy_name(oc->policy));
	out_kv("disposition", mt_dmarc_policy_name(oc->disposition));
	out_kv("tag", oc->policy_tag);
	out_kv("pdomain", oc->policy_domain);
	out_kv("org", oc->org_domain);
	out_int("spf_aligned", oc->spf_aligned);
	out_int("dkim_aligned", oc->dkim_aligned);
	out_kv("dkim_domain", oc->dkim_domain);
	out_int("testing", oc->testing);
	out_int("exists", oc->author_exists);
	out_int("queries", oc->queries);
	out_kv("record", oc->record);
	const mt_dmarc_record *rec = mt_dmarc_check_record(chk);
	out_kv("adkim", !rec ? "" : mt_dmarc_record_strict_dkim(rec) ? "s" : "r");
	out_kv("aspf", !rec ? "" : mt_dmarc_record_strict_spf(rec) ? "s" : "r");
	out_kv("asked", lr.log.p ? lr.log.p : "");
	out_kv("reason", oc->reason);
out:
	fputc('\n', stdout);
	mt_dmarc_check_free(chk);
	mt_dns_resolver_free(res);
	mt_dns_resolver_free(zres);
	mt_dns_zone_free(zone);
	free(lr.log.p);
	reset(s);
}

static const char *psd_name(mt_dmarc_psd p)
{
	return p == MT_DMARC_PSD_YES ? "y" : p == MT_DMARC_PSD_NO ? "n" : "u";
}

static void uris(buf *b, size_t n, const mt_dmarc_uri *(*get)(const mt_dmarc_record *, size_t),
                 const mt_dmarc_record *rec)
{
	for (size_t i = 0; i < n; i++) {
		const mt_dmarc_uri *u = get(rec, i);
		if (i)
			buf_str(b, " ");
		buf_str(b, u->uri);
		if (!u->valid)
			buf_str(b, "(invalid)");
	}
}

static void do_record(const char *id, const char *txt, size_t len)
{
	fputs(id, stdout);
	mt_dmarc_record *rec = NULL;
	mt_error err;
	mt_status st = mt_dmarc_record_parse(txt, len, &rec, &err);
	if (st != MT_OK) {
		out_kv("status", mt_strerror(st));
		out_kv("why", err.message);
		fputc('\n', stdout);
		return;
	}
	out_kv("status", "ok");
	out_kv("p", mt_dmarc_policy_name(mt_dmarc_record_p(rec)));
	out_kv("sp", mt_dmarc_policy_name(mt_dmarc_record_sp(rec)));
	out_kv("np", mt_dmarc_policy_name(mt_dmarc_record_np(rec)));
	out_kv("adkim", mt_dmarc_record_strict_dkim(rec) ? "s" : "r");
	out_kv("aspf", mt_dmarc_record_strict_spf(rec) ? "s" : "r");
	out_kv("fo", mt_dmarc_record_fo(rec));
	out_kv("psd", psd_name(mt_dmarc_record_psd(rec)));
	out_int("t", mt_dmarc_record_testing(rec));
	bool as_none = false;
	out_int("applies", mt_dmarc_record_applies(rec, &as_none));
	out_int("as_none", as_none);
	buf b = { 0 };
	uris(&b, mt_dmarc_record_rua_count(rec), mt_dmarc_record_rua, rec);
	out_kv("rua", b.p ? b.p : "");
	b.len = 0;
	if (b.p)
		b.p[0] = '\0';
	uris(&b, mt_dmarc_record_ruf_count(rec), mt_dmarc_record_ruf, rec);
	out_kv("ruf", b.p ? b.p : "");
	b.len = 0;
	if (b.p)
		b.p[0] = '\0';
	for (size_t i = 0; i < mt_dmarc_record_finding_count(rec); i++) {
		const mt_dmarc_finding *f = mt_dmarc_record_finding(rec, i);
		char s[64];
		snprintf(s, sizeof s, "%s%s:%s@%zu", i ? " " : "", mt_dmarc_severity_name(f->severity),
		         f->tag, f->offset);
		buf_str(&b, s);
	}
	out_kv("findings", b.p ? b.p : "");
	free(b.p);
	fputc('\n', stdout);
	mt_dmarc_record_free(rec);
}

static void do_fromparse(const char *id, const char *raw, size_t len)
{
	fputs(id, stdout);
	mt_dmarc_from f;
	if (mt_dmarc_from_parse(raw, len, &f) != MT_OK) {
		out_kv("status", "call-failed");
	} else {
		out_kv("status", mt_dmarc_from_status_name(f.status));
		out_kv("domain", f.status == MT_DMARC_FROM_OK ? f.domain : "");
		buf b = { 0 };
		for (size_t i = 0; i < f.ndomains && i < MT_DMARC_FROM_DOMAINS_MAX; i++) {
			if (i)
				buf_str(&b, " ");
			buf_str(&b, f.domains[i]);
		}
		out_kv("domains", b.p ? b.p : "");
		free(b.p);
		out_kv("reason", f.reason);
	}
	fputc('\n', stdout);
}

static void do_walk(const char *id, const char *domain)
{
	fputs(id, stdout);
	char *names[MT_DMARC_WALK_MAX];
	size_t n = 0;
	mt_error err;
	if (mt_dmarc_walk_targets(domain, false, names, &n, &err) != MT_OK) {
		out_kv("error", err.message);
	} else {
		buf b = { 0 };
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_str(&b, ",");
			buf_str(&b, names[i]);
			mt_free(names[i]);
		}
		out_kv("targets", b.p ? b.p : "");
		free(b.p);
	}
	fputc('\n', stdout);
}

int main(void)
{
	state s = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		char *cmd = line, *a1 = NULL, *a2 = NULL;
		char *tab = strchr(cmd, '\t');
		if (tab) {
			*tab = '\0';
			a1 = tab + 1;
			tab = strchr(a1, '\t');
			if (tab) {
				*tab = '\0';
				a2 = tab + 1;
			}
		}
		size_t l1 = a1 ? unescape(a1) : 0, l2 = a2 ? unescape(a2) : 0;
		if (strcmp(cmd, "mode") == 0 && a1)
			s.mode = strcmp(a1, "psl") == 0 ? MT_DMARC_ORG_PSL : MT_DMARC_ORG_TREEWALK;
		else if (strcmp(cmd, "resolver") == 0 && a1) {
			free(s.server);
			s.server = strcmp(a1, "-") == 0 ? NULL : strdup(a1);
			s.timeout_ms = a2 ? (unsigned)strtoul(a2, NULL, 10) : 0;
		} else if (strcmp(cmd, "psl") == 0 && a1) {
			const char *f = strcmp(a1, "-") == 0 ? NULL : a1;
			if (!f != !s.psl_file || (f && strcmp(f, s.psl_file) != 0)) {
				free(s.psl_file);
				s.psl_file = f ? strdup(f) : NULL;
				mt_dmarc_psl_free(s.psl);
				s.psl = NULL;
			}
		} else if (strcmp(cmd, "zone") == 0 && a1) {
			buf_add(&s.zone, a1, l1);
			buf_add(&s.zone, "\n", 1);
		} else if (strcmp(cmd, "author") == 0 && a1) {
			free(s.author);
			s.author = strdup(a1);
		} else if (strcmp(cmd, "from") == 0 && a1) {
			mt_dmarc_from f;
			free(s.author);
			free(s.from_status);
			s.author = s.from_status = NULL;
			if (mt_dmarc_from_parse(a1, l1, &f) == MT_OK && f.status == MT_DMARC_FROM_OK)
				s.author = strdup(f.domain);
			else
				s.from_status = strdup(mt_dmarc_from_status_name(f.status));
		} else if (strcmp(cmd, "spf") == 0 && a1 && a2) {
			s.spf_set = true;
			s.spf_pass = strcmp(a1, "pass") == 0;
			free(s.spf);
			s.spf = strdup(a2);
		} else if (strcmp(cmd, "dkim") == 0 && a1 && a2 && s.ndkim < MT_DMARC_DKIM_MAX) {
			s.dkim_pass[s.ndkim] = strcmp(a1, "pass") == 0;
			s.dkim[s.ndkim++] = strdup(a2);
		} else if (strcmp(cmd, "check") == 0 && a1)
			do_check(&s, a1);
		else if (strcmp(cmd, "record") == 0 && a1 && a2)
			do_record(a1, a2, l2);
		else if (strcmp(cmd, "fromparse") == 0 && a1 && a2)
			do_fromparse(a1, a2, l2);
		else if (strcmp(cmd, "walk") == 0 && a1 && a2)
			do_walk(a1, a2);
		else if (n > 0) {
			fprintf(stderr, "dmarc_probe: bad command line: %s\n", cmd);
			rc = 64;
			break;
		}
		fflush(stdout);
	}
	reset(&s);
	free(s.zone.p);
	free(s.psl_file);
	mt_dmarc_psl_free(s.psl);
	free(s.server);
	free(line);
	return rc;
}
