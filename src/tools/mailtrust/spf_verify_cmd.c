/* mailtrust spf verify: render the library's verification report. */
#include "cli.h"
#include "json.h"

#include <mailtrust/mailtrust.h>
#include <mailtrust/spf_verify.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_MAX_IPS 64

static void verify_usage(FILE *fp)
{
	fputs("Usage: mailtrust spf verify DOMAIN [options]\n"
	      "\n"
	      "Find what is wrong with a domain's SPF setup and say how to fix it:\n"
	      "presence (none, several or broken records), syntax, DNS lookup limits\n"
	      "over the include/redirect tree, policy, size, publication on the\n"
	      "domain's authoritative servers, and which addresses may send.\n"
	      "\n"
	      "Options:\n"
	      "      --expect RECORD       the record you meant to publish: report whether the\n"
	      "                            domain's DNS servers serve it\n"
	      "      --ip IP               also show whether IP may send (repeatable)\n"
	      "      --resolver ADDR[@PORT]\n"
	      "                            forward DNS questions to this server instead of\n"
	      "                            the ones in /etc/resolv.conf\n"
	      "      --zone FILE           answer DNS questions from this zone file (offline;\n"
	      "                            the authoritative servers are then not asked)\n"
	      "      --ns-port PORT        port of the authoritative servers (default 53)\n"
	      "      --timeout MS          wait at most MS milliseconds for each DNS answer\n"
	      "                            (resolver and authoritative servers; default\n"
	      "                            5000) and for each --ip check (default 20000)\n"
	      "      --json                print one JSON object instead of text\n"
	      "  -h, --help                show this help and exit\n"
	      "\n"
	      "Exit status:\n"
	      "  0 no problem found, 1 warnings only, 2 errors,\n"
	      "  3 could not check (the domain's DNS lookup failed),\n"
	      "  64 usage error, 65 malformed zone file, 66 unreadable zone file,\n"
	      "  69 the DNS resolver cannot be set up, 70 internal error.\n",
	      fp);
}

enum {
	OPT_EXPECT = 256,
	OPT_IP,
	OPT_RESOLVER,
	OPT_ZONE,
	OPT_NS_PORT,
	OPT_JSON,
	OPT_TIMEOUT,
};

typedef struct verify_args {
	const char *domain;
	const char *expect;
	const char *ips[VERIFY_MAX_IPS];
	size_t nips;
	cli_dns dns;                /* --zone or --resolver */
	unsigned long ns_port;
	unsigned long timeout_ms;   /* 0: the defaults */
	bool json;
} verify_args;

static int parse_args(int argc, char **argv, verify_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "ip", required_argument, NULL, OPT_IP },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "zone", required_argument, NULL, OPT_ZONE },
		{ "ns-port", required_argument, NULL, OPT_NS_PORT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			verify_usage(stdout);
			return -1;
		case OPT_EXPECT: a->expect = optarg; break;
		case OPT_RESOLVER: a->dns.resolver = optarg; break;
		case OPT_ZONE: a->dns.zone = optarg; break;
		case OPT_JSON: a->json = true; break;
		case OPT_IP:
			if (!cli_parse_ip("--ip", optarg))
				return CLI_EXIT_USAGE;
			if (a->nips >= VERIFY_MAX_IPS) {
				cli_error("--ip: at most %d addresses", VERIFY_MAX_IPS);
				return CLI_EXIT_USAGE;
			}
			a->ips[a->nips++] = optarg;
			break;
		case OPT_NS_PORT:
			if (!cli_parse_uint("--ns-port", optarg, 1, 65535, &a->ns_port))
				return CLI_EXIT_USAGE;
			break;
		case OPT_TIMEOUT: /* as spf check parses it */
			if (!cli_parse_uint("--timeout", optarg, 1, 3600000, &a->timeout_ms))
				return CLI_EXIT_USAGE;
			break;
		default:
			cli_bad_option(c, argv, "mailtrust spf verify");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("spf verify: no domain given (see 'mailtrust spf verify --help')");
		return CLI_EXIT_USAGE;
	}
	a->domain = argv[optind++];
	if (optind < argc) {
		char q[CLI_QUOTE_BUF];
		cli_error("unexpected argument '%s' (see 'mailtrust spf verify --help')",
		          cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (a->dns.zone && a->dns.resolver) {
		cli_error("--zone cannot be combined with --resolver");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* server_resolver: an unbound resolver forwarding to one server; ctx is
 * the verify_args (its --timeout). */
static mt_status server_resolver(void *ctx, const char *address, unsigned port,
                                 mt_dns_resolver **out)
{
	const verify_args *a = ctx;
	mt_dns_unbound_options uo;
	mt_error err;
	char fwd[80];

	snprintf(fwd, sizeof(fwd), "%s@%u", address, port);
	mt_dns_unbound_options_init(&uo);
	uo.forwarder = fwd;
	if (a && a->timeout_ms)
		uo.timeout_ms = (unsigned)a->timeout_ms;
	memset(&err, 0, sizeof(err));
	return mt_dns_unbound_resolver_new(&uo, out, &err);
}

static void counts(const mt_spf_verify *v, size_t n[3])
{
	n[0] = n[1] = n[2] = 0;
	for (size_t i = 0; i < mt_spf_verify_finding_count(v); i++)
		n[mt_spf_verify_finding(v, i)->severity]++;
}

static void plural(FILE *fp, size_t n, const char *word)
{
	fprintf(fp, "%zu %s%s", n, word, n == 1 ? "" : "s");
}

static cli_style sev_style(mt_spf_severity s)
{
	return s == MT_SPF_ERROR ? CLI_RED : s == MT_SPF_WARNING ? CLI_YELLOW : CLI_BLUE;
}

static void print_caret(const cli_out *o, const mt_spf_finding *f)
{
	FILE *fp = o->fp;
	size_t len = f->record_len, off, elen, col, w, i;

	if (f->offset < 0)
		return;
	off = (size_t)f->offset <= len ? (size_t)f->offset : len;
	elen = f->length <= len - off ? f->length : len - off;
	col = cli_text_width(f->record, off);
	w = cli_text_width(f->record + off, elen);
	fputs("      ", fp);
	cli_text_print(fp, f->record, len);
	fputs("\n      ", fp);
	for (i = 0; i < col; i++)
		fputc(' ', fp);
	fprintf(fp, "%s^", cli_sgr(o, sev_style(f->severity)));
	for (i = 1; i < w; i++)
		fputc('~', fp);
	fprintf(fp, "%s\n", cli_sgr(o, CLI_RESET));
}

/* Is code one of the NULL-terminated list skip? */
static bool skipped(const char *const *skip, const char *code)
{
	for (size_t k = 0; skip && skip[k]; k++)
		if (strcmp(skip[k], code) == 0)
			return true;
	return false;
}

void cli_print_findings(const cli_out *o, const mt_spf_verify *v, int min,
                        const char *const *skip)
{
	static const char *const heads[3] = { "infos", "warnings", "errors" };
	FILE *fp = o->fp;
	const char *dom = mt_spf_verify_domain(v);
	size_t i;
	int s;

	for (s = MT_SPF_ERROR; s >= min && s >= MT_SPF_INFO; s--) {
		size_t shown = 0;
		for (i = 0; i < mt_spf_verify_finding_count(v); i++) {
			const mt_spf_finding *f = mt_spf_verify_finding(v, i);
			if ((int)f->severity != s || skipped(skip, f->code))
				continue;
			if (shown++ == 0)
				fprintf(fp, "\n%s%s:%s\n", cli_sgr(o, sev_style((mt_spf_severity)s)),
				        heads[s], cli_sgr(o, CLI_RESET));
			fprintf(fp, "  %s[%s]%s ", cli_sgr(o, sev_style(f->severity)), f->code,
			        cli_sgr(o, CLI_RESET));
			cli_text_puts(fp, f->message);
			fputc('\n', fp);
			if (f->domain && (!dom || strcmp(f->domain, dom) != 0)) {
				fputs("    in: ", fp);
				cli_text_puts(fp, f->domain);
				fputc('\n', fp);
			}
			if (f->record && f->offset >= 0)
				print_caret(o, f);
			if (f->fix) {
				fprintf(fp, "    %sfix:%s ", cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
				cli_text_puts(fp, f->fix);
				fputc('\n', fp);
			}
		}
	}
}

void cli_json_findings(json_writer *wp, const mt_spf_verify *v)
{
	json_begin_array(wp);
	for (size_t i = 0; i < mt_spf_verify_finding_count(v); i++) {
		const mt_spf_finding *f = mt_spf_verify_finding(v, i);
		json_begin_object(wp);
		json_key(wp, "code");
		json_string(wp, f->code);
		json_key(wp, "severity");
		json_string(wp, mt_spf_severity_name(f->severity));
		json_key(wp, "message");
		json_string(wp, f->message);
		json_key(wp, "fix");
		json_string(wp, f->fix);
		json_key(wp, "location");
		json_begin_object(wp);
		json_key(wp, "domain");
		json_string(wp, f->domain);
		json_key(wp, "record");
		if (f->record)
			json_string_n(wp, f->record, f->record_len);
		else
			json_null(wp);
		json_key(wp, "offset");
		if (f->offset >= 0)
			json_int(wp, f->offset);
		else
			json_null(wp);
		json_key(wp, "length");
		json_int(wp, (long long)f->length);
		json_key(wp, "term");
		json_string(wp, f->term);
		json_end_object(wp);
		json_end_object(wp);
	}
	json_end_array(wp);
}

static void print_text(const cli_out *o, const mt_spf_verify *v, unsigned limit)
{
	FILE *fp = o->fp;
	size_t n[3], i, k;

	counts(v, n);
	fputs(cli_sgr(o, CLI_BOLD), fp);
	cli_text_puts(fp, mt_spf_verify_domain(v));
	fprintf(fp, "%s: ", cli_sgr(o, CLI_RESET));
	if (!mt_spf_verify_checked(v))
		fputs("could not be checked, ", fp);
	plural(fp, n[2], "error");
	fputs(", ", fp);
	plural(fp, n[1], "warning");
	fputs(", ", fp);
	plural(fp, n[0], "info");
	fputc('\n', fp);
	if (mt_spf_verify_record(v)) {
		fputs("record: ", fp);
		cli_text_print(fp, mt_spf_verify_record(v), mt_spf_verify_record_len(v));
		fputc('\n', fp);
	}
	cli_print_findings(o, v, MT_SPF_INFO, NULL);
	if (mt_spf_verify_tree_count(v) > 0) {
		fprintf(fp, "\n%sinclude tree%s (DNS lookups each costs, with what it includes):\n",
		        cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
		for (i = 0; i < mt_spf_verify_tree_count(v); i++) {
			const mt_spf_tree_node *t = mt_spf_verify_tree(v, i);
			fputs("  ", fp);
			for (k = 0; k < t->depth && k < 20; k++)
				fputs("  ", fp);
			if (t->depth > 0)
				fprintf(fp, "%s:", t->via);
			cli_text_puts(fp, t->domain);
			fprintf(fp, "  %u lookup%s", t->cost, t->cost == 1 ? "" : "s");
			if (t->void_lookups)
				fprintf(fp, ", %u void", t->void_lookups);
			if (t->status != MT_SPF_PASS)
				fprintf(fp, "  [%s]", t->status == MT_SPF_NONE ? "no SPF record"
				                                               : mt_spf_result_name(t->status));
			fputc('\n', fp);
		}
		fprintf(fp, "  %u of %u DNS lookups, %u void lookup%s\n", mt_spf_verify_total_lookups(v),
		        limit, mt_spf_verify_total_void(v), mt_spf_verify_total_void(v) == 1 ? "" : "s");
	}
	if (mt_spf_verify_ns_count(v) > 0) {
		fprintf(fp, "\n%sauthoritative servers:%s\n", cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
		for (i = 0; i < mt_spf_verify_ns_count(v); i++) {
			const mt_spf_ns_answer *a = mt_spf_verify_ns(v, i);
			fputs("  ", fp);
			cli_text_puts(fp, a->server);
			fputs(" (", fp);
			cli_text_puts(fp, a->address);
			fprintf(fp, ")  %s", mt_dns_rcode_name(a->rcode));
			if (a->rcode == MT_DNS_NOERROR || a->rcode == MT_DNS_NXDOMAIN) {
				fprintf(fp, "  ttl %lu  %s%s%s  ", (unsigned long)a->ttl,
				        cli_sgr(o, a->agrees ? CLI_GREEN : CLI_YELLOW),
				        a->agrees ? "agrees" : "differs", cli_sgr(o, CLI_RESET));
				cli_text_puts(fp, a->spf_record ? a->spf_record : "(no SPF record)");
			} else if (a->why) {
				fputs("  ", fp);
				cli_text_puts(fp, a->why);
			}
			fputc('\n', fp);
		}
	}
	if (mt_spf_verify_authz_count(v) > 0) {
		fprintf(fp, "\n%sauthorization:%s\n", cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
		for (i = 0; i < mt_spf_verify_authz_count(v); i++) {
			const mt_spf_authz *a = mt_spf_verify_authz(v, i);
			fputs("  ", fp);
			cli_text_puts(fp, a->ip);
			fprintf(fp, ": %s", mt_spf_result_name(a->result));
			for (k = 0; k < a->chain_count; k++) {
				fputs(k ? " > " : " via ", fp);
				cli_text_puts(fp, a->chain[k].term);
			}
			if (a->problem) {
				fputs(" (", fp);
				cli_text_puts(fp, a->problem);
				fputc(')', fp);
			}
			fputc('\n', fp);
		}
	}
}

static void print_json(const mt_spf_verify *v, unsigned limit)
{
	json_writer w;
	size_t n[3], i, k;

	counts(v, n);
	json_init(&w, stdout);
	json_begin_object(&w);
	json_key(&w, "domain");
	json_string(&w, mt_spf_verify_domain(v));
	json_key(&w, "checked");
	json_bool(&w, mt_spf_verify_checked(v));
	json_key(&w, "record");
	if (mt_spf_verify_record(v))
		json_string_n(&w, mt_spf_verify_record(v), mt_spf_verify_record_len(v));
	else
		json_null(&w);
	json_key(&w, "summary");
	json_begin_object(&w);
	json_key(&w, "errors");
	json_int(&w, (long long)n[2]);
	json_key(&w, "warnings");
	json_int(&w, (long long)n[1]);
	json_key(&w, "infos");
	json_int(&w, (long long)n[0]);
	json_end_object(&w);
	json_key(&w, "findings");
	cli_json_findings(&w, v);
	json_key(&w, "tree");
	json_begin_array(&w);
	for (i = 0; i < mt_spf_verify_tree_count(v); i++) {
		const mt_spf_tree_node *t = mt_spf_verify_tree(v, i);
		json_begin_object(&w);
		json_key(&w, "domain");
		json_string(&w, t->domain);
		json_key(&w, "via");
		json_string(&w, t->via);
		json_key(&w, "depth");
		json_int(&w, t->depth);
		json_key(&w, "record");
		if (t->record)
			json_string_n(&w, t->record, t->record_len);
		else
			json_null(&w);
		json_key(&w, "status");
		json_string(&w, mt_spf_result_name(t->status));
		json_key(&w, "lookups");
		json_int(&w, t->lookups);
		json_key(&w, "subtree_lookups");
		json_int(&w, t->subtree_lookups);
		json_key(&w, "cost");
		json_int(&w, t->cost);
		json_key(&w, "void_lookups");
		json_int(&w, t->void_lookups);
		json_key(&w, "mx_names_max");
		json_int(&w, t->mx_names_max);
		json_key(&w, "ttl");
		json_int(&w, t->ttl);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "lookups");
	json_begin_object(&w);
	json_key(&w, "total");
	json_int(&w, mt_spf_verify_total_lookups(v));
	json_key(&w, "limit");
	json_int(&w, limit);
	json_end_object(&w);
	json_key(&w, "void_lookups");
	json_int(&w, mt_spf_verify_total_void(v));
	json_key(&w, "nameservers");
	json_begin_array(&w);
	for (i = 0; i < mt_spf_verify_ns_count(v); i++) {
		const mt_spf_ns_answer *a = mt_spf_verify_ns(v, i);
		json_begin_object(&w);
		json_key(&w, "server");
		json_string(&w, a->server);
		json_key(&w, "address");
		json_string(&w, a->address);
		json_key(&w, "rcode");
		json_string(&w, mt_dns_rcode_name(a->rcode));
		json_key(&w, "why");
		json_string(&w, a->why);
		json_key(&w, "spf_record");
		json_string(&w, a->spf_record);
		json_key(&w, "spf_count");
		json_int(&w, (long long)a->spf_count);
		json_key(&w, "ttl");
		json_int(&w, a->ttl);
		json_key(&w, "agrees");
		json_bool(&w, a->agrees);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "authorization");
	json_begin_array(&w);
	for (i = 0; i < mt_spf_verify_authz_count(v); i++) {
		const mt_spf_authz *a = mt_spf_verify_authz(v, i);
		json_begin_object(&w);
		json_key(&w, "ip");
		json_string(&w, a->ip);
		json_key(&w, "result");
		json_string(&w, mt_spf_result_name(a->result));
		json_key(&w, "explanation");
		json_string(&w, a->explanation);
		json_key(&w, "problem");
		json_string(&w, a->problem);
		json_key(&w, "chain");
		json_begin_array(&w);
		for (k = 0; k < a->chain_count; k++) {
			json_begin_object(&w);
			json_key(&w, "domain");
			json_string(&w, a->chain[k].domain);
			json_key(&w, "term");
			json_string(&w, a->chain[k].term);
			json_end_object(&w);
		}
		json_end_array(&w);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_end_object(&w);
	json_finish(&w);
}

int cli_spf_verify_main(int argc, char **argv)
{
	verify_args a;
	mt_spf_verify_options opts;
	mt_spf_verify *v = NULL;
	mt_dns_zone *zone = NULL;
	mt_dns_resolver *res = NULL;
	mt_error err;
	mt_status st;
	cli_out out;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc != 0) {
		rc = rc < 0 ? 0 : rc;
		goto out;
	}
	rc = cli_open_resolver(&a.dns, &zone, &res);
	if (rc != 0)
		goto out;
	mt_spf_verify_options_init(&opts);
	opts.expect = a.expect;
	opts.ips = a.ips;
	opts.nips = a.nips;
	if (!a.dns.zone) {
		opts.server_resolver = server_resolver;
		opts.server_ctx = &a;
		opts.server_port = (unsigned)a.ns_port;
	}
	if (a.timeout_ms) {
		opts.timeout_ms = (unsigned)a.timeout_ms;
		opts.spf.timeout_ms = (unsigned)a.timeout_ms;
	}
	memset(&err, 0, sizeof(err));
	st = mt_spf_verify_run(a.domain, res, &opts, &v, &err);
	if (st == MT_EINVAL) {
		cli_error("spf verify: %s", err.message[0] ? err.message : mt_strerror(st));
		rc = CLI_EXIT_USAGE;
		goto out;
	} else if (st != MT_OK) {
		cli_error("spf verify failed: %s", err.message[0] ? err.message : mt_strerror(st));
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (a.json) {
		print_json(v, opts.spf.max_dns_mechanisms);
	} else {
		cli_out_init(&out, stdout);
		print_text(&out, v, opts.spf.max_dns_mechanisms);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (!mt_spf_verify_checked(v))
		rc = 3;
	else
		switch (mt_spf_verify_worst(v)) {
		case MT_SPF_ERROR: rc = 2; break;
		case MT_SPF_WARNING: rc = 1; break;
		default: rc = 0; break;
		}
out:
	mt_spf_verify_free(v);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return rc;
}
