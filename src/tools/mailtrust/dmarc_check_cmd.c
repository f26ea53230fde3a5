/* mailtrust dmarc check: render the library's check of a domain's DMARC
 * policy record (mailtrust/dmarc_verify.h). */
#include "cli.h"
#include "json.h"

#include <mailtrust/mailtrust.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void check_usage(FILE *fp)
{
	fputs("Usage: mailtrust dmarc check DOMAIN [options]\n"
	      "\n"
	      "Check the DMARC policy record of DOMAIN as its owner needs it checked:\n"
	      "present at _dmarc.DOMAIN, or inherited from the Organizational Domain\n"
	      "(found with the DNS tree walk; said which, and through sp= or np=);\n"
	      "its syntax (a caret under the bad tag); p=none (monitoring only: what\n"
	      "moving to quarantine or reject needs); sp=, np=, t=y, the obsolete pct,\n"
	      "rf and ri; the rua/ruf URIs, and for a destination outside the domain\n"
	      "the authorization record DOMAIN._report._dmarc.DEST; several records at\n"
	      "the name (then none applies); the TTL; and, like 'spf verify', what each\n"
	      "authoritative server serves.\n"
	      "\n"
	      "Options:\n"
	      "      --expect RECORD       the record you meant to publish: report whether\n"
	      "                            the domain's DNS servers serve it\n"
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
	      "  3 could not check (the record's DNS lookup failed),\n"
	      "  64 usage error, 65 malformed zone file, 66 unreadable zone file,\n"
	      "  69 the DNS resolver cannot be set up, 70 internal error.\n",
	      fp);
}

enum {
	OPT_EXPECT = 256,
	OPT_ZONE,
	OPT_RESOLVER,
	OPT_NS_PORT,
	OPT_TIMEOUT,
	OPT_JSON,
};

typedef struct dc_args {
	const char *domain;
	const char *expect;
	cli_dns dns;
	unsigned long ns_port;
	unsigned long timeout_ms;
	bool json;
} dc_args;

static int parse_args(int argc, char **argv, dc_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "expect", required_argument, NULL, OPT_EXPECT },
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
		case OPT_EXPECT: a->expect = optarg; break;
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
			cli_bad_option(c, argv, "mailtrust dmarc check");
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind < 1) {
		cli_error("dmarc check: give the DOMAIN (see 'mailtrust dmarc check --help')");
		return CLI_EXIT_USAGE;
	}
	a->domain = argv[optind++];
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'mailtrust dmarc check --help')",
		          cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (a->dns.zone && a->dns.resolver) {
		cli_error("--zone cannot be combined with --resolver");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

mt_status cli_server_resolver(void *ctx, const char *address, unsigned port,
                              mt_dns_resolver **out)
{
	const unsigned long *timeout_ms = ctx;
	mt_dns_unbound_options uo;
	mt_error err;
	char fwd[80];

	snprintf(fwd, sizeof fwd, "%s@%u", address, port);
	mt_dns_unbound_options_init(&uo);
	uo.forwarder = fwd;
	if (timeout_ms && *timeout_ms)
		uo.timeout_ms = (unsigned)*timeout_ms;
	memset(&err, 0, sizeof err);
	return mt_dns_unbound_resolver_new(&uo, out, &err);
}


static cli_style sev_style(mt_dmarc_verify_severity s)
{
	return s == MT_DMARC_VERIFY_ERROR ? CLI_RED : s == MT_DMARC_VERIFY_WARNING ? CLI_YELLOW
	                                                                           : CLI_BLUE;
}

void cli_dmarc_print_finding(const cli_out *o, const mt_dmarc_verify_finding *f)
{
	FILE *fp = o->fp;
	fprintf(fp, "  %s[%s]%s ", cli_sgr(o, sev_style(f->severity)), f->code,
	        cli_sgr(o, CLI_RESET));
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

static void print_text(const cli_out *o, const mt_dmarc_verify *v)
{
	static const char *const heads[3] = { "infos", "warnings", "errors" };
	FILE *fp = o->fp;
	size_t n[3] = { 0, 0, 0 };

	for (size_t i = 0; i < mt_dmarc_verify_finding_count(v); i++)
		n[mt_dmarc_verify_finding_at(v, i)->severity]++;
	fputs(cli_sgr(o, CLI_BOLD), fp);
	cli_text_puts(fp, mt_dmarc_verify_name(v));
	fprintf(fp, "%s: %s%zu error%s, %zu warning%s, %zu info%s\n", cli_sgr(o, CLI_RESET),
	        mt_dmarc_verify_checked(v) ? "" : "could not be checked, ", n[2], n[2] == 1 ? "" : "s",
	        n[1], n[1] == 1 ? "" : "s", n[0], n[0] == 1 ? "" : "s");
	switch (mt_dmarc_verify_source_of(v)) {
	case MT_DMARC_SOURCE_DOMAIN:
		fputs("policy record: at the domain (", fp);
		cli_text_puts(fp, mt_dmarc_verify_name(v));
		fputs(")\n", fp);
		break;
	case MT_DMARC_SOURCE_INHERITED:
		fputs("policy record: inherited from ", fp);
		cli_text_puts(fp, mt_dmarc_verify_policy_domain(v));
		fprintf(fp, " (through %s=)\n", mt_dmarc_verify_policy_tag(v));
		break;
	default:
		fputs("policy record: none\n", fp);
		break;
	}
	if (mt_dmarc_verify_record(v)) {
		fputs("record: ", fp);
		cli_text_print(fp, mt_dmarc_verify_record(v), mt_dmarc_verify_record_len(v));
		fprintf(fp, "\nttl: %u\n", (unsigned)mt_dmarc_verify_ttl(v));
	}
	if (mt_dmarc_verify_org_domain(v)[0]) {
		fputs("organizational domain: ", fp);
		cli_text_puts(fp, mt_dmarc_verify_org_domain(v));
		fputc('\n', fp);
	}
	if (mt_dmarc_verify_policy(v) != MT_DMARC_POLICY_ABSENT)
		fprintf(fp, "policy: %s\n", mt_dmarc_policy_name(mt_dmarc_verify_policy(v)));
	for (int s = MT_DMARC_VERIFY_ERROR; s >= MT_DMARC_VERIFY_INFO; s--) {
		size_t shown = 0;
		for (size_t i = 0; i < mt_dmarc_verify_finding_count(v); i++) {
			const mt_dmarc_verify_finding *f = mt_dmarc_verify_finding_at(v, i);
			if ((int)f->severity != s)
				continue;
			if (shown++ == 0)
				fprintf(fp, "\n%s%s:%s\n", cli_sgr(o, sev_style(f->severity)), heads[s],
				        cli_sgr(o, CLI_RESET));
			cli_dmarc_print_finding(o, f);
		}
	}
	if (mt_dmarc_verify_ns_count(v) > 0) {
		fprintf(fp, "\n%sauthoritative servers:%s\n", cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
		for (size_t i = 0; i < mt_dmarc_verify_ns_count(v); i++) {
			const mt_dmarc_verify_ns *a = mt_dmarc_verify_ns_at(v, i);
			fputs("  ", fp);
			cli_text_puts(fp, a->server);
			fputs(" (", fp);
			cli_text_puts(fp, a->address);
			fprintf(fp, ")  %s", mt_dns_rcode_name(a->rcode));
			if (a->rcode == MT_DNS_NOERROR || a->rcode == MT_DNS_NXDOMAIN) {
				fprintf(fp, "  %s%s%s  ", cli_sgr(o, a->agrees ? CLI_GREEN : CLI_YELLOW),
				        a->agrees ? "agrees" : "differs", cli_sgr(o, CLI_RESET));
				if (a->record) {
					cli_text_print(fp, a->record, a->record_len);
					if (a->nrecords > 1)
						fprintf(fp, " (+%zu more)", a->nrecords - 1);
				} else {
					fputs("(no DMARC record)", fp);
				}
			} else if (a->why) {
				fputs("  ", fp);
				cli_text_puts(fp, a->why);
			}
			fputc('\n', fp);
		}
	}
}

static const char *auth_state_name(mt_dmarc_verify_auth_state s)
{
	switch (s) {
	case MT_DMARC_AUTH_AUTHORIZED: return "authorized";
	case MT_DMARC_AUTH_MISSING: return "missing";
	case MT_DMARC_AUTH_UNKNOWN: return "unknown";
	}
	return "?";
}

void cli_dmarc_json_finding(json_writer *w, const mt_dmarc_verify_finding *f)
{
	json_begin_object(w);
	json_key(w, "code");
	json_string(w, f->code);
	json_key(w, "severity");
	json_string(w, mt_dmarc_verify_severity_name(f->severity));
	json_key(w, "message");
	json_string(w, f->message);
	json_key(w, "fix");
	json_string(w, f->fix);
	json_key(w, "record");
	if (f->record)
		json_string_n(w, f->record, f->record_len);
	else
		json_null(w);
	json_key(w, "offset");
	if (f->offset >= 0)
		json_int(w, f->offset);
	else
		json_null(w);
	json_key(w, "length");
	json_int(w, (long long)f->length);
	json_end_object(w);
}

void cli_dmarc_json_report(json_writer *w, const mt_dmarc_verify *v)
{
	size_t n[3] = { 0, 0, 0 };

	for (size_t i = 0; i < mt_dmarc_verify_finding_count(v); i++)
		n[mt_dmarc_verify_finding_at(v, i)->severity]++;
	json_begin_object(w);
	json_key(w, "domain");
	json_string(w, mt_dmarc_verify_domain(v));
	json_key(w, "name");
	json_string(w, mt_dmarc_verify_name(v));
	json_key(w, "checked");
	json_bool(w, mt_dmarc_verify_checked(v));
	json_key(w, "source");
	json_string(w, mt_dmarc_verify_source_name(mt_dmarc_verify_source_of(v)));
	json_key(w, "policy_domain");
	json_string(w, mt_dmarc_verify_policy_domain(v));
	json_key(w, "policy_tag");
	json_string(w, mt_dmarc_verify_policy_tag(v));
	json_key(w, "org_domain");
	json_string(w, mt_dmarc_verify_org_domain(v));
	json_key(w, "policy");
	if (mt_dmarc_verify_policy(v) != MT_DMARC_POLICY_ABSENT)
		json_string(w, mt_dmarc_policy_name(mt_dmarc_verify_policy(v)));
	else
		json_null(w);
	json_key(w, "record");
	if (mt_dmarc_verify_record(v))
		json_string_n(w, mt_dmarc_verify_record(v), mt_dmarc_verify_record_len(v));
	else
		json_null(w);
	json_key(w, "records_at_name");
	json_int(w, (long long)mt_dmarc_verify_record_count(v));
	json_key(w, "ttl");
	json_int(w, mt_dmarc_verify_ttl(v));
	json_key(w, "summary");
	json_begin_object(w);
	json_key(w, "errors");
	json_int(w, (long long)n[2]);
	json_key(w, "warnings");
	json_int(w, (long long)n[1]);
	json_key(w, "infos");
	json_int(w, (long long)n[0]);
	json_end_object(w);
	json_key(w, "findings");
	json_begin_array(w);
	for (size_t i = 0; i < mt_dmarc_verify_finding_count(v); i++)
		cli_dmarc_json_finding(w, mt_dmarc_verify_finding_at(v, i));
	json_end_array(w);
	json_key(w, "report_destinations");
	json_begin_array(w);
	for (size_t i = 0; i < mt_dmarc_verify_dest_count(v); i++) {
		const mt_dmarc_verify_report_dest *d = mt_dmarc_verify_dest_at(v, i);
		json_begin_object(w);
		json_key(w, "tag");
		json_string(w, d->tag);
		json_key(w, "uri");
		json_string(w, d->uri);
		json_key(w, "domain");
		json_string(w, d->domain);
		json_key(w, "authorization_name");
		json_string(w, d->name);
		json_key(w, "authorization");
		json_string(w, auth_state_name(d->state));
		json_end_object(w);
	}
	json_end_array(w);
	json_key(w, "nameservers");
	json_begin_array(w);
	for (size_t i = 0; i < mt_dmarc_verify_ns_count(v); i++) {
		const mt_dmarc_verify_ns *a = mt_dmarc_verify_ns_at(v, i);
		json_begin_object(w);
		json_key(w, "server");
		json_string(w, a->server);
		json_key(w, "address");
		json_string(w, a->address);
		json_key(w, "rcode");
		json_string(w, mt_dns_rcode_name(a->rcode));
		json_key(w, "why");
		json_string(w, a->why);
		json_key(w, "record");
		if (a->record)
			json_string_n(w, a->record, a->record_len);
		else
			json_null(w);
		json_key(w, "dmarc_records");
		json_int(w, (long long)a->nrecords);
		json_key(w, "agrees");
		json_bool(w, a->agrees);
		json_key(w, "serves_expect");
		json_bool(w, a->serves_expect);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
}

int cli_dmarc_check_main(int argc, char **argv)
{
	dc_args a;
	mt_dmarc_verify_options opts;
	mt_dmarc_verify *v = NULL;
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
	mt_dmarc_verify_options_init(&opts);
	opts.expect = a.expect;
	opts.timeout_ms = (unsigned)a.timeout_ms;
	if (!a.dns.zone) {
		opts.server_resolver = cli_server_resolver;
		opts.server_ctx = &a.timeout_ms;
		opts.server_port = (unsigned)a.ns_port;
	}
	memset(&err, 0, sizeof err);
	st = mt_dmarc_verify_run(a.domain, res, &opts, &v, &err);
	if (st == MT_EINVAL) {
		char q[CLI_QUOTE_BUF];
		cli_error("dmarc check: '%s' is not a domain name: %s", cli_quote(q, a.domain),
		          err.message[0] ? err.message : mt_strerror(st));
		rc = CLI_EXIT_USAGE;
		goto out;
	} else if (st != MT_OK) {
		cli_error("dmarc check failed: %s", err.message[0] ? err.message : mt_strerror(st));
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (a.json) {
		json_writer w;
		json_init(&w, stdout);
		cli_dmarc_json_report(&w, v);
		json_finish(&w);
	} else {
		cli_out_init(&out, stdout);
		print_text(&out, v);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (!mt_dmarc_verify_checked(v))
		rc = 3;
	else
		switch (mt_dmarc_verify_worst(v)) {
		case MT_DMARC_VERIFY_ERROR: rc = 2; break;
		case MT_DMARC_VERIFY_WARNING: rc = 1; break;
		default: rc = 0; break;
		}
out:
	mt_dmarc_verify_free(v);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return rc;
}
