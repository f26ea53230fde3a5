/* mailtrust spf: "check" evaluates check_host(), "parse" shows a record. */
#include "cli.h"
#include "json.h"
#include "spf_batch_cmd.h"

#include <mailtrust/mailtrust.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- mailtrust spf ----------------------------------------------------- */

static void spf_usage(FILE *fp)
{
	fputs("Usage: mailtrust spf <command> [options]\n"
	      "\n"
	      "Commands:\n"
	      "  check   evaluate the SPF policy for a client address (RFC 7208 check_host)\n"
	      "  parse   parse an SPF record and show it term by term\n"
	      "  verify  find what is wrong with a domain's SPF setup and how to fix it\n"
	      "  merge   merge several SPF records into one valid record\n"
	      "  build   build a valid SPF record from addresses, includes and a policy\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help   show this help and exit\n"
	      "\n"
	      "Run 'mailtrust spf <command> --help' for a command's options; see mailtrust-spf(1).\n",
	      fp);
}

static int spf_check_main(int argc, char **argv);
static int spf_parse_main(int argc, char **argv);

int cli_spf_main(int argc, char **argv)
{
	static const cli_command cmds[] = {
		{ "check", spf_check_main },
		{ "parse", spf_parse_main },
		{ "verify", cli_spf_verify_main },
		{ "merge", cli_spf_merge_main },
		{ "build", cli_spf_build_main },
	};
	return cli_area_main("spf", spf_usage, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}

/* ---- mailtrust spf check ---------------------------------------------- */

static void check_usage(FILE *fp)
{
	fputs("Usage: mailtrust spf check [DOMAIN] --ip IP [options]\n"
	      "       mailtrust spf check --batch FILE|- [options]\n"
	      "\n"
	      "Evaluate the SPF policy (RFC 7208 check_host) for a client address and\n"
	      "print the result, the header fields a receiver would add and, on request,\n"
	      "every DNS question asked.  DOMAIN, when given, is checked instead of the\n"
	      "domain of the identity (the sender is then postmaster@DOMAIN unless\n"
	      "--sender is given).\n"
	      "\n"
	      "Options:\n"
	      "      --ip IP               client address, IPv4 or IPv6 (required; an IPv6\n"
	      "                            zone id, as in fe80::1%eth0, is dropped)\n"
	      "      --batch FILE|-        check every line 'IP SENDER HELO' of FILE ('-':\n"
	      "                            standard input; SENDER '<>' or '-' for the null\n"
	      "                            reverse-path), one result line per input line\n"
	      "                            in input order: 'LINE: RESULT IP SENDER HELO\n"
	      "                            DOMAIN [mechanism TERM [of D] | problem TEXT]'\n"
	      "                            (--json: one object per line with \"line\")\n"
	      "      --sender ADDR         MAIL FROM address as the client gave it; '' for\n"
	      "                            the null reverse-path (a malformed domain, as in\n"
	      "                            'a@', gives none, RFC 7208 section 4.3)\n"
	      "      --helo NAME           HELO/EHLO name\n"
	      "      --identity ID         mailfrom (default) or helo: which identity to check\n"
	      "      --zone FILE           answer DNS questions from this zone file\n"
	      "                            (RFC 1035 master-file format) instead of the DNS\n"
	      "      --resolver ADDR[@PORT]\n"
	      "                            forward DNS questions to this server instead of\n"
	      "                            the ones in /etc/resolv.conf\n"
	      "      --recursive           resolve from the root servers (full recursion)\n"
	      "      --dnssec              validate DNSSEC (root trust anchor of the system)\n"
	      "      --trust-anchor FILE   with --dnssec: trust the DS or DNSKEY records of\n"
	      "                            FILE instead of the system's root trust anchor\n"
	      "      --cache-size MIB      size of the in-process DNS cache in front of the\n"
	      "                            resolver (default 64; 0: no cache)\n"
	      "      --unbound-option 'KEY: VALUE'\n"
	      "                            set an unbound.conf(5) server option of\n"
	      "                            libunbound (repeatable)\n"
	      "      --receiver NAME       this host's name, for %{r} and the header fields\n"
	      "      --default-explanation TEXT\n"
	      "                            macro-string explaining a fail when the domain\n"
	      "                            gives none\n"
	      "      --timeout MS          DNS time for the whole check (default 20000)\n"
	      "      --max-lookups N       DNS-querying terms allowed (default 10)\n"
	      "      --max-void N          void lookups allowed (default 2)\n"
	      "      --json                print one JSON object instead of text\n"
	      "      --trace               also print every DNS question and answer (text)\n"
	      "  -h, --help                show this help and exit\n"
	      "\n"
	      "Exit status:\n"
	      "  0 pass, 1 fail, 2 softfail, 3 neutral, 4 none, 5 temperror, 6 permerror,\n"
	      "  64 usage error (unknown option, missing --ip, malformed address),\n"
	      "  65 malformed zone file, 66 unreadable zone file,\n"
	      "  69 the DNS resolver cannot be set up, 70 internal error.\n"
	      "  With --batch: 0 every line was checked (whatever the results), 65 some\n"
	      "  line was malformed (reported with its number, the batch goes on),\n"
	      "  66 the batch file cannot be read, 64, 69 and 70 as above.\n",
	      fp);
}

enum {
	OPT_IP = 256,
	OPT_SENDER,
	OPT_HELO,
	OPT_IDENTITY,
	OPT_ZONE,
	OPT_RECEIVER,
	OPT_DEFAULT_EXP,
	OPT_TIMEOUT,
	OPT_MAX_LOOKUPS,
	OPT_MAX_VOID,
	OPT_JSON,
	OPT_TRACE,
	OPT_SERVER,
	OPT_DNSSEC,
	OPT_RECURSIVE,
	OPT_BATCH,
	OPT_TRUST_ANCHOR,
	OPT_CACHE_SIZE,
	OPT_UNBOUND_OPTION,
};

typedef struct check_args {
	const char *domain;
	const char *ip;
	const char *sender;
	const char *helo;
	const char *receiver;
	const char *default_exp;
	cli_dns dns;                /* --zone, --resolver, --recursive, --dnssec, --trust-anchor */
	mt_spf_identity identity;
	unsigned long timeout_ms;   /* 0: library default */
	unsigned long max_lookups;  /* 0: library default */
	unsigned long max_void;     /* 0: library default */
	bool json;
	bool trace;
	const char *batch;          /* --batch FILE|- */
} check_args;

static int result_exit_code(mt_spf_result r)
{
	switch (r) {
	case MT_SPF_PASS: return CLI_EXIT_PASS;
	case MT_SPF_FAIL: return CLI_EXIT_FAIL;
	case MT_SPF_SOFTFAIL: return CLI_EXIT_SOFTFAIL;
	case MT_SPF_NEUTRAL: return CLI_EXIT_NEUTRAL;
	case MT_SPF_NONE: return CLI_EXIT_NONE;
	case MT_SPF_TEMPERROR: return CLI_EXIT_TEMPERROR;
	case MT_SPF_PERMERROR: return CLI_EXIT_PERMERROR;
	}
	return CLI_EXIT_SOFTWARE;
}

static cli_style result_style(mt_spf_result r)
{
	switch (r) {
	case MT_SPF_PASS: return CLI_GREEN;
	case MT_SPF_FAIL: return CLI_RED;
	case MT_SPF_SOFTFAIL: return CLI_YELLOW;
	case MT_SPF_TEMPERROR: return CLI_MAGENTA;
	case MT_SPF_PERMERROR: return CLI_MAGENTA;
	default: return CLI_BOLD;
	}
}

static const char *identity_name(mt_spf_identity id)
{
	return id == MT_SPF_HELO ? "helo" : "mailfrom";
}

/* Parse and validate the options; returns 0 or an exit code. */
static int check_parse_args(int argc, char **argv, check_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "ip", required_argument, NULL, OPT_IP },
		{ "sender", required_argument, NULL, OPT_SENDER },
		{ "helo", required_argument, NULL, OPT_HELO },
		{ "identity", required_argument, NULL, OPT_IDENTITY },
		{ "zone", required_argument, NULL, OPT_ZONE },
		{ "receiver", required_argument, NULL, OPT_RECEIVER },
		{ "default-explanation", required_argument, NULL, OPT_DEFAULT_EXP },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "max-lookups", required_argument, NULL, OPT_MAX_LOOKUPS },
		{ "max-void", required_argument, NULL, OPT_MAX_VOID },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "trace", no_argument, NULL, OPT_TRACE },
		{ "resolver", required_argument, NULL, OPT_SERVER },
		{ "dnssec", no_argument, NULL, OPT_DNSSEC },
		{ "recursive", no_argument, NULL, OPT_RECURSIVE },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR },
		{ "cache-size", required_argument, NULL, OPT_CACHE_SIZE },
		{ "unbound-option", required_argument, NULL, OPT_UNBOUND_OPTION },
		{ NULL, 0, NULL, 0 },
	};
	char q[CLI_QUOTE_BUF];
	int c;

	memset(a, 0, sizeof(*a));
	a->identity = MT_SPF_MAILFROM;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			check_usage(stdout);
			return -1;
		case OPT_IP: a->ip = optarg; break;
		case OPT_SENDER: a->sender = optarg; break;
		case OPT_HELO: a->helo = optarg; break;
		case OPT_ZONE: a->dns.zone = optarg; break;
		case OPT_RECEIVER: a->receiver = optarg; break;
		case OPT_DEFAULT_EXP: a->default_exp = optarg; break;
		case OPT_JSON: a->json = true; break;
		case OPT_TRACE: a->trace = true; break;
		case OPT_SERVER: a->dns.resolver = optarg; break;
		case OPT_DNSSEC: a->dns.dnssec = true; break;
		case OPT_RECURSIVE: a->dns.recursive = true; break;
		case OPT_BATCH: a->batch = optarg; break;
		case OPT_TRUST_ANCHOR: a->dns.trust_anchor = optarg; break;
		case OPT_CACHE_SIZE: {
			unsigned long mb;
			if (!cli_parse_uint("--cache-size", optarg, 0, 65536, &mb))
				return CLI_EXIT_USAGE;
			a->dns.cache_mb = mb;
			a->dns.no_cache = mb == 0;
			break;
		}
		case OPT_UNBOUND_OPTION:
			if (a->dns.n_unbound_options == CLI_UNBOUND_OPTIONS_MAX) {
				cli_error("--unbound-option: at most %d", CLI_UNBOUND_OPTIONS_MAX);
				return CLI_EXIT_USAGE;
			}
			a->dns.unbound_options[a->dns.n_unbound_options++] = optarg;
			break;
		case OPT_IDENTITY:
			if (strcmp(optarg, "mailfrom") == 0) {
				a->identity = MT_SPF_MAILFROM;
			} else if (strcmp(optarg, "helo") == 0) {
				a->identity = MT_SPF_HELO;
			} else {
				cli_error("--identity: '%s' is neither 'mailfrom' nor 'helo'",
				          cli_quote(q, optarg));
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_TIMEOUT:
			if (!cli_parse_uint("--timeout", optarg, 1, 3600000, &a->timeout_ms))
				return CLI_EXIT_USAGE;
			break;
		case OPT_MAX_LOOKUPS:
			if (!cli_parse_uint("--max-lookups", optarg, 1, 1000, &a->max_lookups))
				return CLI_EXIT_USAGE;
			break;
		case OPT_MAX_VOID:
			if (!cli_parse_uint("--max-void", optarg, 1, 1000, &a->max_void))
				return CLI_EXIT_USAGE;
			break;
		default:
			cli_bad_option(c, argv, "mailtrust spf check");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->domain = argv[optind++];
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'mailtrust spf check --help')",
		          cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (a->dns.zone && (a->dns.resolver || a->dns.dnssec || a->dns.recursive ||
	                    a->dns.n_unbound_options)) {
		cli_error("--zone cannot be combined with --resolver, --recursive, --dnssec or "
		          "--unbound-option");
		return CLI_EXIT_USAGE;
	}
	if (a->dns.trust_anchor && !a->dns.dnssec) {
		cli_error("--trust-anchor needs --dnssec");
		return CLI_EXIT_USAGE;
	}
	if (a->dns.trust_anchor && access(a->dns.trust_anchor, R_OK) != 0) {
		cli_error("--trust-anchor: cannot read '%s': %s", cli_quote(q, a->dns.trust_anchor),
		          strerror(errno));
		return CLI_EXIT_NOINPUT;
	}
	if (a->batch) {
		if (a->domain || a->ip || a->sender || a->helo || a->trace) {
			cli_error("--batch takes the addresses and names from its lines: "
			          "DOMAIN, --ip, --sender, --helo and --trace cannot be given");
			return CLI_EXIT_USAGE;
		}
		return 0;
	}
	if (!a->ip) {
		cli_error("--ip is required (see 'mailtrust spf check --help')");
		return CLI_EXIT_USAGE;
	}
	if (!cli_parse_ip("--ip", a->ip))
		return CLI_EXIT_USAGE;
	if (a->identity == MT_SPF_HELO && !a->helo && !a->domain) {
		cli_error("--identity helo needs --helo or DOMAIN");
		return CLI_EXIT_USAGE;
	}
	if (a->identity == MT_SPF_MAILFROM && !a->domain && !a->helo &&
	    (!a->sender || !a->sender[0])) {
		cli_error("nothing to check: give DOMAIN, --sender or --helo");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static const char *type_name(uint16_t type, char *buf, size_t cap)
{
	const char *n = mt_dns_type_name(type);

	if (n)
		return n;
	snprintf(buf, cap, "TYPE%u", (unsigned)type);
	return buf;
}

/* The first line: "pass: 192.0.2.10 is authorized by example.com (...)". */
static void print_summary(const cli_out *o, const mt_spf_outcome *oc)
{
	FILE *fp = o->fp;
	const char *dom = oc->domain ? oc->domain : "(no domain)";
	char q[CLI_QUOTE_BUF];

	fprintf(fp, "%s%s%s: ", cli_sgr(o, result_style(oc->result)),
	        mt_spf_result_name(oc->result), cli_sgr(o, CLI_RESET));
	if (oc->malformed_domain) {
		/* RFC 7208 section 4.3; the problem line says why. */
		fputs("no valid domain to check", fp);
		if (oc->domain && oc->domain[0])
			fprintf(fp, " (\"%s\")", cli_quote(q, oc->domain));
		fputc('\n', fp);
		return;
	}
	switch (oc->result) {
	case MT_SPF_PASS:
		cli_text_puts(fp, oc->ip);
		fputs(" is authorized by ", fp);
		break;
	case MT_SPF_FAIL:
		cli_text_puts(fp, oc->ip);
		fputs(" is not authorized by ", fp);
		break;
	case MT_SPF_SOFTFAIL:
		cli_text_puts(fp, oc->ip);
		fputs(" is probably not authorized by ", fp);
		break;
	case MT_SPF_NEUTRAL:
		cli_text_puts(fp, oc->ip);
		fputs(" is neither authorized nor forbidden by ", fp);
		break;
	case MT_SPF_NONE:
		fputs("no SPF policy for ", fp);
		break;
	case MT_SPF_TEMPERROR:
		fputs("temporary DNS error while checking ", fp);
		break;
	case MT_SPF_PERMERROR:
		fputs("the SPF policy cannot be evaluated for ", fp);
		break;
	}
	fputs(cli_sgr(o, CLI_BOLD), fp);
	cli_text_puts(fp, dom);
	fputs(cli_sgr(o, CLI_RESET), fp);
	if (oc->mechanism) {
		fputs(" (mechanism \"", fp);
		cli_text_puts(fp, oc->mechanism);
		fputc('"', fp);
		if (oc->mechanism_domain && oc->domain &&
		    strcmp(oc->mechanism_domain, oc->domain) != 0) {
			fputs(" of ", fp);
			cli_text_puts(fp, oc->mechanism_domain);
		}
		fputc(')', fp);
	} else if (oc->result == MT_SPF_NEUTRAL) {
		fputs(" (no mechanism matched)", fp);
	}
	fputc('\n', fp);
}

static void print_label(const cli_out *o, const char *label)
{
	fprintf(o->fp, "%s%s:%s ", cli_sgr(o, CLI_BOLD), label, cli_sgr(o, CLI_RESET));
}

static void print_trace(const cli_out *o, const mt_spf_outcome *oc)
{
	FILE *fp = o->fp;
	size_t i, j;
	char tbuf[16];

	print_label(o, "trace");
	fprintf(fp, "%zu DNS question%s\n", oc->trace_count, oc->trace_count == 1 ? "" : "s");
	for (i = 0; i < oc->trace_count; i++) {
		const mt_spf_trace_entry *t = &oc->trace[i];
		unsigned d, depth = t->depth < 10 ? t->depth : 10;

		fputs("  ", fp);
		for (d = 0; d < depth; d++)
			fputs("  ", fp);
		cli_text_puts(fp, t->name);
		fprintf(fp, " %s %s%s%s", type_name(t->type, tbuf, sizeof(tbuf)),
		        cli_sgr(o, t->rcode == MT_DNS_NOERROR ? CLI_GREEN : CLI_RED),
		        mt_dns_rcode_name(t->rcode), cli_sgr(o, CLI_RESET));
		if (t->dnssec != MT_DNSSEC_UNCHECKED)
			fprintf(fp, " dnssec=%s", mt_dnssec_state_name(t->dnssec));
		if (t->void_lookup)
			fputs(" (void lookup)", fp);
		if (t->why) {
			fputs(" (", fp);
			cli_text_puts(fp, t->why);
			fputc(')', fp);
		}
		fputc('\n', fp);
		for (j = 0; j < t->count; j++) {
			fputs("    ", fp);
			for (d = 0; d < depth; d++)
				fputs("  ", fp);
			fputs(cli_sgr(o, CLI_DIM), fp);
			char *txt = mt_dns_rr_to_text(&t->records[j]);
			cli_text_puts(fp, txt ? txt : "?");
			mt_free(txt);
			fputs(cli_sgr(o, CLI_RESET), fp);
			fputc('\n', fp);
		}
	}
}

static void print_text(const cli_out *o, const check_args *a, const mt_spf_options *opts,
                       const mt_spf_outcome *oc, const char *rspf, const char *ar)
{
	FILE *fp = o->fp;

	print_summary(o, oc);
	if (oc->explanation) {
		print_label(o, "explanation");
		cli_text_puts(fp, oc->explanation);
		fputc('\n', fp);
	}
	if (oc->problem) {
		print_label(o, "problem");
		cli_text_puts(fp, oc->problem);
		if (!oc->malformed_domain && (oc->problem_domain || oc->problem_term)) {
			const char *sep = " (";
			if (oc->problem_domain) {
				fputs(" (in ", fp);
				cli_text_puts(fp, oc->problem_domain);
				sep = ", ";
			}
			if (oc->problem_term) {
				fprintf(fp, "%sterm \"", sep);
				cli_text_puts(fp, oc->problem_term);
				fputc('"', fp);
				if (oc->problem_offset >= 0)
					fprintf(fp, " at offset %ld", oc->problem_offset);
			}
			fputc(')', fp);
		}
		fputc('\n', fp);
	}
	if (oc->record) {
		print_label(o, "record");
		cli_text_print(fp, oc->record, oc->record_len);
		fputc('\n', fp);
	}
	if (oc->chain_count > 1) {
		print_label(o, "matched via");
		for (size_t k = 0; k < oc->chain_count; k++) {
			if (k)
				fputs(" > ", fp);
			cli_text_puts(fp, oc->chain[k].term);
			fputs(" (", fp);
			cli_text_puts(fp, oc->chain[k].domain);
			fputc(')', fp);
		}
		fputc('\n', fp);
	}
	print_label(o, "lookups");
	fprintf(fp, "%u of %u DNS-querying terms, %u of %u void lookups\n", oc->dns_mechanisms,
	        opts->max_dns_mechanisms, oc->void_lookups, opts->max_void_lookups);
	cli_text_puts(fp, rspf);
	fputc('\n', fp);
	cli_text_puts(fp, ar);
	fputc('\n', fp);
	if (a->trace)
		print_trace(o, oc);
}

static void print_json(const mt_spf_options *opts, const mt_spf_outcome *oc, const char *rspf,
                       const char *ar)
{
	json_writer w;

	json_init(&w, stdout);
	json_begin_object(&w);
	spf_check_json_fields(&w, opts, oc, rspf, ar);
	json_end_object(&w);
	json_finish(&w);
}

void spf_check_json_fields(json_writer *wp, const mt_spf_options *opts,
                           const mt_spf_outcome *oc, const char *rspf, const char *ar)
{
	json_writer w = *wp; /* written back at the end */
	size_t i, j;
	char tbuf[16];

	json_key(&w, "result");
	json_string(&w, mt_spf_result_name(oc->result));
	json_key(&w, "exit_code");
	json_int(&w, result_exit_code(oc->result));
	json_key(&w, "domain"); /* null, never "", when there is none (as for 'a@') */
	json_string(&w, oc->domain && oc->domain[0] ? oc->domain : NULL);
	json_key(&w, "ip");
	json_string(&w, oc->ip);
	json_key(&w, "sender");
	json_string(&w, oc->sender);
	json_key(&w, "helo");
	json_string(&w, oc->helo);
	json_key(&w, "identity");
	json_string(&w, identity_name(oc->identity));
	json_key(&w, "record");
	json_string_n(&w, oc->record, oc->record_len);
	json_key(&w, "explanation");
	json_string(&w, oc->explanation);
	json_key(&w, "mechanism");
	json_string(&w, oc->mechanism);
	json_key(&w, "mechanism_domain");
	json_string(&w, oc->mechanism_domain);
	json_key(&w, "problem");
	if (oc->problem) {
		json_begin_object(&w);
		json_key(&w, "message");
		json_string(&w, oc->problem);
		json_key(&w, "domain");
		json_string(&w, oc->problem_domain);
		json_key(&w, "term");
		json_string(&w, oc->problem_term);
		json_key(&w, "offset");
		if (oc->problem_offset >= 0)
			json_int(&w, oc->problem_offset);
		else
			json_null(&w);
		json_end_object(&w);
	} else {
		json_null(&w);
	}
	json_key(&w, "lookups");
	json_int(&w, oc->dns_mechanisms);
	json_key(&w, "void_lookups");
	json_int(&w, oc->void_lookups);
	json_key(&w, "dnssec");
	json_string(&w, mt_dnssec_state_name(oc->dnssec));
	json_key(&w, "chain");
	json_begin_array(&w);
	for (size_t k = 0; k < oc->chain_count; k++) {
		json_begin_object(&w);
		json_key(&w, "domain");
		json_string(&w, oc->chain[k].domain);
		json_key(&w, "term");
		json_string(&w, oc->chain[k].term);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "limits");
	json_begin_object(&w);
	json_key(&w, "lookups");
	json_int(&w, opts->max_dns_mechanisms);
	json_key(&w, "void_lookups");
	json_int(&w, opts->max_void_lookups);
	json_key(&w, "mx_names");
	json_int(&w, opts->max_mx_names);
	json_key(&w, "ptr_names");
	json_int(&w, opts->max_ptr_names);
	json_key(&w, "timeout_ms");
	json_int(&w, opts->timeout_ms);
	json_end_object(&w);
	json_key(&w, "received_spf");
	json_string(&w, rspf);
	json_key(&w, "authentication_results");
	json_string(&w, ar);
	json_key(&w, "trace");
	json_begin_array(&w);
	for (i = 0; i < oc->trace_count; i++) {
		const mt_spf_trace_entry *t = &oc->trace[i];
		json_begin_object(&w);
		json_key(&w, "name");
		json_string(&w, t->name);
		json_key(&w, "type");
		json_string(&w, type_name(t->type, tbuf, sizeof(tbuf)));
		json_key(&w, "rcode");
		json_string(&w, mt_dns_rcode_name(t->rcode));
		json_key(&w, "dnssec");
		json_string(&w, mt_dnssec_state_name(t->dnssec));
		json_key(&w, "void");
		json_bool(&w, t->void_lookup);
		json_key(&w, "depth");
		json_int(&w, t->depth);
		json_key(&w, "why");
		json_string(&w, t->why);
		json_key(&w, "answers");
		json_begin_array(&w);
		for (j = 0; j < t->count; j++) {
			char *txt = mt_dns_rr_to_text(&t->records[j]);
			json_string(&w, txt);
			mt_free(txt);
		}
		json_end_array(&w);
		json_end_object(&w);
	}
	json_end_array(&w);
	*wp = w;
}

static int spf_check_main(int argc, char **argv)
{
	check_args a;
	mt_spf_options opts;
	mt_spf_request req;
	mt_spf_check *chk = NULL;
	mt_dns_zone *zone = NULL;
	mt_dns_resolver *res = NULL;
	const mt_spf_outcome *oc;
	char *rspf = NULL, *ar = NULL, *sender_buf = NULL;
	mt_error err;
	mt_status st;
	cli_out out;
	int rc;

	rc = check_parse_args(argc, argv, &a);
	if (rc != 0) {
		rc = rc < 0 ? 0 : rc;
		goto out;
	}

	mt_spf_options_init(&opts);
	if (a.timeout_ms)
		opts.timeout_ms = (unsigned)a.timeout_ms;
	if (a.max_lookups)
		opts.max_dns_mechanisms = (unsigned)a.max_lookups;
	if (a.max_void)
		opts.max_void_lookups = (unsigned)a.max_void;
	if (a.default_exp)
		opts.default_explanation = a.default_exp;
	if (a.receiver)
		opts.receiver = a.receiver;
	memset(&err, 0, sizeof(err));
	st = mt_spf_check_new(&opts, &chk, &err);
	if (st != MT_OK) {
		/* The library names the option that is wrong. */
		cli_error("%s", err.message[0] ? err.message : mt_strerror(st));
		rc = st == MT_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_SOFTWARE;
		goto out;
	}

	if (a.batch) {
		spf_batch_params bp = {
			.path = a.batch, .opts = &opts, .identity = a.identity, .json = a.json,
		};
		rc = cli_open_resolver(&a.dns, &zone, &res);
		if (rc != 0)
			goto out;
		bp.res = res;
		rc = spf_batch_main(&bp);
		goto out;
	}

	memset(&req, 0, sizeof(req));
	req.ip = a.ip;
	req.sender = a.sender;
	req.helo = a.helo;
	req.identity = a.identity;
	req.domain = a.domain;
	if (a.domain && a.identity == MT_SPF_MAILFROM && !a.sender && !a.helo) {
		/* RFC 7208 section 4.3: a sender without local-part is postmaster@. */
		size_t n = strlen(a.domain) + sizeof("postmaster@");
		sender_buf = malloc(n);
		if (!sender_buf) {
			cli_error("out of memory");
			rc = CLI_EXIT_SOFTWARE;
			goto out;
		}
		snprintf(sender_buf, n, "postmaster@%s", a.domain);
		req.sender = sender_buf;
	}
	memset(&err, 0, sizeof(err));
	st = mt_spf_check_start(chk, &req, &err);
	if (st != MT_OK) {
		cli_error("%s", err.message[0] ? err.message : mt_strerror(st));
		rc = st == MT_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_SOFTWARE;
		goto out;
	}

	rc = cli_open_resolver(&a.dns, &zone, &res);
	if (rc != 0)
		goto out;
	st = mt_spf_check_run(chk, res);
	if (st != MT_OK) {
		cli_error("the check failed: %s", mt_strerror(st));
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	oc = mt_spf_check_outcome(chk);
	if (!oc) {
		cli_error("the check did not finish");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (mt_spf_received_spf(chk, &rspf) != MT_OK ||
	    mt_spf_authres_header(chk, NULL, &ar) != MT_OK) {
		cli_error("cannot build the header fields");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}

	if (a.json) {
		print_json(&opts, oc, rspf, ar);
	} else {
		cli_out_init(&out, stdout);
		print_text(&out, &a, &opts, oc, rspf, ar);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	rc = result_exit_code(oc->result);
out:
	mt_free(rspf);
	mt_free(ar);
	free(sender_buf);
	mt_spf_check_free(chk);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return rc;
}

/* ---- mailtrust spf parse ---------------------------------------------- */

static void parse_usage(FILE *fp)
{
	fputs("Usage: mailtrust spf parse [--json] 'v=spf1 ...'\n"
	      "\n"
	      "Parse an SPF record (RFC 7208 sections 4.6 and 12) and show it term by\n"
	      "term: qualifier, kind, domain-spec, CIDR prefix lengths and address.  For\n"
	      "an invalid record, show where it goes wrong and why.  Then run the\n"
	      "offline checks of 'spf verify' on it and show what they find\n"
	      "(glued or misspelled terms, terms after all, redirect ignored, host bits,\n"
	      "a record over 450 octets, a look-alike with the record it should be).\n"
	      "\n"
	      "Options:\n"
	      "      --json    print one JSON object instead of text (with every finding)\n"
	      "  -h, --help    show this help and exit\n"
	      "\n"
	      "Exit status: 0 valid (warnings may be shown), 1 invalid, 2 valid but the\n"
	      "checks found an error, 64 usage error, 70 internal error.\n",
	      fp);
}

enum { COL_NUM, COL_OFFSET, COL_TERM, COL_QUAL, COL_KIND, COL_DOMAIN, COL_CIDR4, COL_CIDR6,
       COL_ADDR, NCOLS };

/* One table cell: untrusted text (pointer, length). */
typedef struct cell {
	const char *s;
	size_t len;
} cell;

/* Fill the cells of term t; small numbers are formatted into buf. */
static void term_cells(const mt_spf_term *t, size_t index, char buf[][48], cell *c)
{
	int k;

	for (k = 0; k < NCOLS; k++) {
		c[k].s = "";
		c[k].len = 0;
	}
	snprintf(buf[COL_NUM], 48, "%zu", index + 1);
	snprintf(buf[COL_OFFSET], 48, "%zu", t->offset);
	c[COL_NUM].s = buf[COL_NUM];
	c[COL_OFFSET].s = buf[COL_OFFSET];
	if (t->qualifier) {
		buf[COL_QUAL][0] = t->qualifier;
		buf[COL_QUAL][1] = '\0';
		c[COL_QUAL].s = buf[COL_QUAL];
	}
	c[COL_KIND].s = mt_spf_term_kind_name(t->kind);
	if (t->kind == MT_SPF_UNKNOWN_MODIFIER) {
		c[COL_DOMAIN].s = t->value;
		c[COL_DOMAIN].len = t->value_len;
	} else if (t->domain) {
		c[COL_DOMAIN].s = t->domain;
		c[COL_DOMAIN].len = t->domain_len;
	}
	if (t->cidr4 >= 0) {
		snprintf(buf[COL_CIDR4], 48, "/%d", t->cidr4);
		c[COL_CIDR4].s = buf[COL_CIDR4];
	}
	if (t->cidr6 >= 0) {
		snprintf(buf[COL_CIDR6], 48, "//%d", t->cidr6);
		c[COL_CIDR6].s = buf[COL_CIDR6];
	}
	if (t->kind == MT_SPF_IP4 || t->kind == MT_SPF_IP6) {
		if (!inet_ntop(t->kind == MT_SPF_IP4 ? AF_INET : AF_INET6, t->addr, buf[COL_ADDR], 48))
			buf[COL_ADDR][0] = '\0';
		c[COL_ADDR].s = buf[COL_ADDR];
	}
	for (k = 0; k < NCOLS; k++)
		if (c[k].s && c[k].len == 0 && k != COL_DOMAIN && k != COL_TERM)
			c[k].len = strlen(c[k].s);
}

/* One row, columns padded to width, no trailing blanks. */
static void print_cells(FILE *fp, const cell *c, const size_t *width)
{
	int k, last = 0;
	size_t w;

	for (k = 0; k < NCOLS; k++)
		if (c[k].len > 0)
			last = k;
	for (k = 0; k <= last; k++) {
		cli_text_print(fp, c[k].s, c[k].len);
		if (k == last)
			break;
		for (w = cli_text_width(c[k].s, c[k].len); w < width[k] + 2; w++)
			fputc(' ', fp);
	}
	fputc('\n', fp);
}

static void parse_print_text(const cli_out *o, const mt_spf_record *rec)
{
	static const char *const head[NCOLS] = {
		"#", "offset", "term", "qualifier", "kind", "domain-spec", "cidr4", "cidr6", "address",
	};
	FILE *fp = o->fp;
	const char *text = mt_spf_record_text(rec);
	size_t n = mt_spf_record_term_count(rec), i, width[NCOLS];
	char buf[NCOLS][48];
	cell c[NCOLS];
	int k;

	print_label(o, "record");
	cli_text_puts(fp, text);
	fputc('\n', fp);
	fprintf(fp, "%svalid%s: %zu term%s\n", cli_sgr(o, CLI_GREEN), cli_sgr(o, CLI_RESET), n,
	        n == 1 ? "" : "s");
	if (n == 0)
		return;
	for (k = 0; k < NCOLS; k++)
		width[k] = strlen(head[k]);
	for (i = 0; i < n; i++) {
		const mt_spf_term *t = mt_spf_record_term(rec, i);
		term_cells(t, i, buf, c);
		c[COL_TERM].s = text + t->offset;
		c[COL_TERM].len = t->length;
		for (k = 0; k < NCOLS; k++) {
			size_t w = cli_text_width(c[k].s, c[k].len);
			if (w > width[k])
				width[k] = w;
		}
	}
	fputc('\n', fp);
	fputs(cli_sgr(o, CLI_BOLD), fp);
	for (k = 0; k < NCOLS; k++) {
		c[k].s = head[k];
		c[k].len = strlen(head[k]);
	}
	print_cells(fp, c, width);
	fputs(cli_sgr(o, CLI_RESET), fp);
	for (i = 0; i < n; i++) {
		const mt_spf_term *t = mt_spf_record_term(rec, i);
		term_cells(t, i, buf, c);
		c[COL_TERM].s = text + t->offset;
		c[COL_TERM].len = t->length;
		print_cells(fp, c, width);
	}
}

static void parse_print_json(const mt_spf_record *rec, const mt_spf_verify *lint)
{
	json_writer w;
	const char *text = mt_spf_record_text(rec);
	size_t n = mt_spf_record_term_count(rec), i;
	char abuf[48];

	json_init(&w, stdout);
	json_begin_object(&w);
	json_key(&w, "valid");
	json_bool(&w, true);
	json_key(&w, "record");
	json_string(&w, text);
	json_key(&w, "terms");
	json_begin_array(&w);
	for (i = 0; i < n; i++) {
		const mt_spf_term *t = mt_spf_record_term(rec, i);
		json_begin_object(&w);
		json_key(&w, "offset");
		json_int(&w, (long long)t->offset);
		json_key(&w, "length");
		json_int(&w, (long long)t->length);
		json_key(&w, "text");
		json_string_n(&w, text + t->offset, t->length);
		json_key(&w, "kind");
		json_string(&w, mt_spf_term_kind_name(t->kind));
		json_key(&w, "qualifier");
		if (t->qualifier)
			json_string_n(&w, &t->qualifier, 1);
		else
			json_null(&w);
		json_key(&w, "domain_spec");
		json_string_n(&w, t->domain, t->domain_len);
		json_key(&w, "cidr4");
		if (t->cidr4 >= 0)
			json_int(&w, t->cidr4);
		else
			json_null(&w);
		json_key(&w, "cidr6");
		if (t->cidr6 >= 0)
			json_int(&w, t->cidr6);
		else
			json_null(&w);
		json_key(&w, "address");
		if ((t->kind == MT_SPF_IP4 || t->kind == MT_SPF_IP6) &&
		    inet_ntop(t->kind == MT_SPF_IP4 ? AF_INET : AF_INET6, t->addr, abuf, sizeof(abuf)))
			json_string(&w, abuf);
		else
			json_null(&w);
		if (t->kind == MT_SPF_UNKNOWN_MODIFIER) {
			json_key(&w, "name");
			json_string_n(&w, t->name, t->name_len);
			json_key(&w, "value");
			json_string_n(&w, t->value, t->value_len);
		}
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "findings");
	cli_json_findings(&w, lint);
	json_end_object(&w);
	json_finish(&w);
}

/* The record, a caret line under the bad part, and the message. */
static void parse_print_error(const cli_out *o, const char *text, size_t len,
                              const mt_spf_syntax_error *syn)
{
	FILE *fp = o->fp;
	size_t off = syn->offset <= len ? syn->offset : len;
	size_t elen = syn->length <= len - off ? syn->length : len - off;
	size_t col = cli_text_width(text, off), w = cli_text_width(text + off, elen), i;

	cli_text_print(fp, text, len);
	fputc('\n', fp);
	for (i = 0; i < col; i++)
		fputc(' ', fp);
	fprintf(fp, "%s^", cli_sgr(o, CLI_RED));
	for (i = 1; i < w; i++)
		fputc('~', fp);
	fprintf(fp, "%s\n", cli_sgr(o, CLI_RESET));
	fprintf(fp, "%sinvalid%s: ", cli_sgr(o, CLI_RED), cli_sgr(o, CLI_RESET));
	cli_text_puts(fp, syn->message);
	fprintf(fp, " (offset %zu)\n", syn->offset);
}

/*
 * Findings of the offline checks that parse leaves out of its text (they
 * are in --json): what -all and ~all mean, said of nearly every record;
 * for an invalid record, the syntax error the parser's message already
 * gives.
 */
static const char *const parse_skip[] = { "fail-all", "softfail-all", NULL };
static const char *const parse_skip_invalid[] = { "fail-all", "softfail-all", "syntax-error",
                                                  NULL };

static int spf_parse_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	const char *text;
	size_t len;
	mt_spf_record *rec = NULL;
	mt_spf_verify *lint = NULL;
	mt_error err;
	mt_spf_syntax_error syn;
	mt_status st;
	cli_out out;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			parse_usage(stdout);
			return 0;
		case OPT_JSON:
			json = true;
			break;
		default:
			cli_bad_option(c, argv, "mailtrust spf parse");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("spf parse: no record given (see 'mailtrust spf parse --help')");
		return CLI_EXIT_USAGE;
	}
	if (argc - optind > 1) {
		cli_error("spf parse: give the record as one argument, in quotes");
		return CLI_EXIT_USAGE;
	}
	text = argv[optind];
	len = strlen(text);
	cli_out_init(&out, stdout);

	/* the offline checks of spf verify, shown after the parse */
	memset(&err, 0, sizeof(err));
	st = len <= 65535 ? mt_spf_lint(text, len, &lint, &err) : MT_OK;
	if (st != MT_OK) {
		cli_error("spf parse: %s", err.message[0] ? err.message : mt_strerror(st));
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	memset(&syn, 0, sizeof(syn));
	st = mt_spf_record_parse(text, len, &rec, &syn);
	if (st == MT_ERANGE) {
		syn.offset = 0;
		syn.length = 0;
		snprintf(syn.message, sizeof(syn.message), "the record is longer than 65535 octets");
		st = MT_ESYNTAX;
	}
	if (st == MT_ESYNTAX) {
		if (json) {
			json_writer w;
			json_init(&w, stdout);
			json_begin_object(&w);
			json_key(&w, "valid");
			json_bool(&w, false);
			json_key(&w, "record");
			json_string_n(&w, text, len);
			json_key(&w, "error");
			json_begin_object(&w);
			json_key(&w, "message");
			json_string(&w, syn.message);
			json_key(&w, "offset");
			json_int(&w, (long long)syn.offset);
			json_key(&w, "length");
			json_int(&w, (long long)syn.length);
			json_end_object(&w);
			json_key(&w, "findings");
			cli_json_findings(&w, lint);
			json_end_object(&w);
			json_finish(&w);
		} else {
			parse_print_error(&out, text, len, &syn);
			/* the parser's message is the syntax error; add the suggestions */
			if (lint)
				cli_print_findings(&out, lint, MT_SPF_INFO, parse_skip_invalid);
		}
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (st != MT_OK) {
		cli_error("spf parse: %s", mt_strerror(st));
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (json) {
		parse_print_json(rec, lint);
	} else {
		parse_print_text(&out, rec);
		cli_print_findings(&out, lint, MT_SPF_INFO, parse_skip);
	}
	rc = mt_spf_verify_worst(lint) == MT_SPF_ERROR ? 2 : 0;
out:
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_SOFTWARE;
	}
	mt_spf_record_free(rec);
	mt_spf_verify_free(lint);
	return rc;
}
