/* mailtrust dkim check-key: render the library's check of a published key
 * (mailtrust/dkim_check.h). */
#include "cli.h"
#include "json.h"

#include <mailtrust/mailtrust.h>
#include <mailtrust/dkim_check.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FILE_MAX (1u << 20)

static void check_usage(FILE *fp)
{
	fputs("Usage: mailtrust dkim check-key SELECTOR DOMAIN [options]\n"
	      "\n"
	      "Check the DKIM key published at SELECTOR._domainkey.DOMAIN as its owner\n"
	      "needs it checked: present, syntax (a caret under the bad tag), key size\n"
	      "(RSA under 1024 bits: error, under 2048: warning), revoked (empty p=),\n"
	      "testing (t=y), t=s, a CNAME delegation (name -> target), several TXT\n"
	      "records at the name, the strings and the answer's size (over 512\n"
	      "octets); and, like 'spf verify', what each authoritative server serves.\n"
	      "\n"
	      "Options:\n"
	      "      --expect RECORD       the key record you meant to publish\n"
	      "                            ('v=DKIM1; k=rsa; p=...'): report whether the\n"
	      "                            domain's DNS servers serve it\n"
	      "      --key FILE            a private key (PEM): check that it matches the\n"
	      "                            published public key\n"
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
	      "  3 could not check (the key's DNS lookup failed),\n"
	      "  64 usage error, 65 malformed zone file or --key file,\n"
	      "  66 unreadable zone file or --key file, 69 the DNS resolver cannot be\n"
	      "  set up, 70 internal error.\n",
	      fp);
}

enum {
	OPT_EXPECT = 256,
	OPT_KEY,
	OPT_ZONE,
	OPT_RESOLVER,
	OPT_NS_PORT,
	OPT_TIMEOUT,
	OPT_JSON,
};

typedef struct ck_args {
	const char *selector, *domain;
	const char *expect;
	const char *key_file;
	cli_dns dns;
	unsigned long ns_port;
	unsigned long timeout_ms;
	bool json;
} ck_args;

static int parse_args(int argc, char **argv, ck_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "key", required_argument, NULL, OPT_KEY },
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
		case OPT_KEY: a->key_file = optarg; break;
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
			cli_bad_option(c, argv, "mailtrust dkim check-key");
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		cli_error("dkim check-key: give SELECTOR and DOMAIN (see 'mailtrust dkim check-key "
		          "--help')");
		return CLI_EXIT_USAGE;
	}
	a->selector = argv[optind++];
	a->domain = argv[optind++];
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'mailtrust dkim check-key --help')",
		          cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (a->dns.zone && a->dns.resolver) {
		cli_error("--zone cannot be combined with --resolver");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* server_resolver: an unbound resolver forwarding to one server. */
static mt_status server_resolver(void *ctx, const char *address, unsigned port,
                                 mt_dns_resolver **out)
{
	const ck_args *a = ctx;
	mt_dns_unbound_options uo;
	mt_error err;
	char fwd[80];

	snprintf(fwd, sizeof fwd, "%s@%u", address, port);
	mt_dns_unbound_options_init(&uo);
	uo.forwarder = fwd;
	if (a && a->timeout_ms)
		uo.timeout_ms = (unsigned)a->timeout_ms;
	memset(&err, 0, sizeof err);
	return mt_dns_unbound_resolver_new(&uo, out, &err);
}

/* Read the --key file (at most KEY_FILE_MAX octets).  0 or an exit status. */
static int read_key(const char *path, char **buf, size_t *len)
{
	char q[CLI_QUOTE_BUF];
	FILE *fp = fopen(path, "rb");
	size_t n;

	*buf = NULL;
	*len = 0;
	if (!fp) {
		cli_error("--key: cannot open '%s': %s", cli_quote(q, path), strerror(errno));
		return CLI_EXIT_NOINPUT;
	}
	*buf = malloc(KEY_FILE_MAX + 1);
	if (!*buf) {
		fclose(fp);
		cli_error("out of memory");
		return CLI_EXIT_SOFTWARE;
	}
	n = fread(*buf, 1, KEY_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		fclose(fp);
		cli_error("--key: cannot read '%s': %s", cli_quote(q, path), strerror(errno));
		return CLI_EXIT_NOINPUT;
	}
	fclose(fp);
	if (n > KEY_FILE_MAX) {
		cli_error("--key: '%s' is larger than %u octets: not a key file", cli_quote(q, path),
		          KEY_FILE_MAX);
		return CLI_EXIT_DATAERR;
	}
	*len = n;
	return 0;
}

static cli_style sev_style(mt_dkim_check_severity s)
{
	return s == MT_DKIM_CHECK_ERROR ? CLI_RED : s == MT_DKIM_CHECK_WARNING ? CLI_YELLOW : CLI_BLUE;
}

static void print_caret(const cli_out *o, const mt_dkim_check_finding *f)
{
	FILE *fp = o->fp;
	size_t off = (size_t)f->offset, col, w;

	col = cli_text_width(f->record, off);
	w = cli_text_width(f->record + off, f->length);
	fputs("      ", fp);
	cli_text_print(fp, f->record, f->record_len);
	fputs("\n      ", fp);
	for (size_t i = 0; i < col; i++)
		fputc(' ', fp);
	fprintf(fp, "%s^", cli_sgr(o, sev_style(f->severity)));
	for (size_t i = 1; i < w; i++)
		fputc('~', fp);
	fprintf(fp, "%s\n", cli_sgr(o, CLI_RESET));
}

static void print_text(const cli_out *o, const mt_dkim_check *c)
{
	static const char *const heads[3] = { "infos", "warnings", "errors" };
	FILE *fp = o->fp;
	const mt_dkim_check_key *k = mt_dkim_check_key_info(c);
	size_t n[3] = { 0, 0, 0 };

	for (size_t i = 0; i < mt_dkim_check_finding_count(c); i++)
		n[mt_dkim_check_finding_at(c, i)->severity]++;
	fputs(cli_sgr(o, CLI_BOLD), fp);
	cli_text_puts(fp, mt_dkim_check_name(c));
	fprintf(fp, "%s: %s%zu error%s, %zu warning%s, %zu info%s\n", cli_sgr(o, CLI_RESET),
	        mt_dkim_check_checked(c) ? "" : "could not be checked, ", n[2], n[2] == 1 ? "" : "s",
	        n[1], n[1] == 1 ? "" : "s", n[0], n[0] == 1 ? "" : "s");
	if (mt_dkim_check_cname(c)) {
		fputs("cname: ", fp);
		cli_text_puts(fp, mt_dkim_check_name(c));
		fputs(" -> ", fp);
		cli_text_puts(fp, mt_dkim_check_cname(c));
		fputc('\n', fp);
	}
	if (mt_dkim_check_record(c)) {
		fputs("record: ", fp);
		cli_text_print(fp, mt_dkim_check_record(c), mt_dkim_check_record_len(c));
		fputc('\n', fp);
	}
	if (k->type)
		fprintf(fp, "key: %s, %d bits%s%s\n", k->type, k->bits,
		        k->testing ? ", testing (t=y)" : "", k->strict ? ", strict (t=s)" : "");
	for (int s = MT_DKIM_CHECK_ERROR; s >= MT_DKIM_CHECK_INFO; s--) {
		size_t shown = 0;
		for (size_t i = 0; i < mt_dkim_check_finding_count(c); i++) {
			const mt_dkim_check_finding *f = mt_dkim_check_finding_at(c, i);
			if ((int)f->severity != s)
				continue;
			if (shown++ == 0)
				fprintf(fp, "\n%s%s:%s\n", cli_sgr(o, sev_style(f->severity)), heads[s],
				        cli_sgr(o, CLI_RESET));
			fprintf(fp, "  %s[%s]%s ", cli_sgr(o, sev_style(f->severity)), f->code,
			        cli_sgr(o, CLI_RESET));
			cli_text_puts(fp, f->message);
			fputc('\n', fp);
			if (f->record && f->offset >= 0)
				print_caret(o, f);
			if (f->fix) {
				fprintf(fp, "    %sfix:%s ", cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
				cli_text_puts(fp, f->fix);
				fputc('\n', fp);
			}
		}
	}
	if (mt_dkim_check_ns_count(c) > 0) {
		fprintf(fp, "\n%sauthoritative servers:%s\n", cli_sgr(o, CLI_BOLD), cli_sgr(o, CLI_RESET));
		for (size_t i = 0; i < mt_dkim_check_ns_count(c); i++) {
			const mt_dkim_check_ns *a = mt_dkim_check_ns_at(c, i);
			fputs("  ", fp);
			cli_text_puts(fp, a->server);
			fputs(" (", fp);
			cli_text_puts(fp, a->address);
			fputs(") ", fp);
			cli_text_puts(fp, a->name);
			fprintf(fp, "  %s", mt_dns_rcode_name(a->rcode));
			if (a->rcode == MT_DNS_NOERROR || a->rcode == MT_DNS_NXDOMAIN) {
				fprintf(fp, "  %s%s%s  ", cli_sgr(o, a->agrees ? CLI_GREEN : CLI_YELLOW),
				        a->agrees ? "agrees" : "differs", cli_sgr(o, CLI_RESET));
				if (a->cname) {
					fputs("CNAME ", fp);
					cli_text_puts(fp, a->cname);
				} else if (a->record) {
					cli_text_print(fp, a->record, a->record_len);
					if (a->ntxt > 1)
						fprintf(fp, " (+%zu more)", a->ntxt - 1);
				} else {
					fputs("(no key record)", fp);
				}
			} else if (a->why) {
				fputs("  ", fp);
				cli_text_puts(fp, a->why);
			}
			fputc('\n', fp);
		}
	}
}

static void print_json(const mt_dkim_check *c)
{
	json_writer w;
	const mt_dkim_check_key *k = mt_dkim_check_key_info(c);
	size_t n[3] = { 0, 0, 0 };

	for (size_t i = 0; i < mt_dkim_check_finding_count(c); i++)
		n[mt_dkim_check_finding_at(c, i)->severity]++;
	json_init(&w, stdout);
	json_begin_object(&w);
	json_key(&w, "name");
	json_string(&w, mt_dkim_check_name(c));
	json_key(&w, "checked");
	json_bool(&w, mt_dkim_check_checked(c));
	json_key(&w, "cname");
	json_string(&w, mt_dkim_check_cname(c));
	json_key(&w, "record");
	if (mt_dkim_check_record(c))
		json_string_n(&w, mt_dkim_check_record(c), mt_dkim_check_record_len(c));
	else
		json_null(&w);
	json_key(&w, "key");
	json_begin_object(&w);
	json_key(&w, "type");
	json_string(&w, k->type);
	json_key(&w, "bits");
	json_int(&w, k->bits);
	json_key(&w, "revoked");
	json_bool(&w, k->revoked);
	json_key(&w, "testing");
	json_bool(&w, k->testing);
	json_key(&w, "strict");
	json_bool(&w, k->strict);
	json_key(&w, "strings");
	json_int(&w, (long long)k->strings);
	json_key(&w, "txt_records");
	json_int(&w, (long long)k->ntxt);
	json_key(&w, "ttl");
	json_int(&w, k->ttl);
	json_key(&w, "answer_octets");
	json_int(&w, (long long)k->answer_octets);
	json_key(&w, "private_key_matches");
	if (k->private_key_matches < 0)
		json_null(&w);
	else
		json_bool(&w, k->private_key_matches == 1);
	json_end_object(&w);
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
	json_begin_array(&w);
	for (size_t i = 0; i < mt_dkim_check_finding_count(c); i++) {
		const mt_dkim_check_finding *f = mt_dkim_check_finding_at(c, i);
		json_begin_object(&w);
		json_key(&w, "code");
		json_string(&w, f->code);
		json_key(&w, "severity");
		json_string(&w, mt_dkim_check_severity_name(f->severity));
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
		if (f->offset >= 0)
			json_int(&w, f->offset);
		else
			json_null(&w);
		json_key(&w, "length");
		json_int(&w, (long long)f->length);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "nameservers");
	json_begin_array(&w);
	for (size_t i = 0; i < mt_dkim_check_ns_count(c); i++) {
		const mt_dkim_check_ns *a = mt_dkim_check_ns_at(c, i);
		json_begin_object(&w);
		json_key(&w, "server");
		json_string(&w, a->server);
		json_key(&w, "address");
		json_string(&w, a->address);
		json_key(&w, "name");
		json_string(&w, a->name);
		json_key(&w, "rcode");
		json_string(&w, mt_dns_rcode_name(a->rcode));
		json_key(&w, "why");
		json_string(&w, a->why);
		json_key(&w, "cname");
		json_string(&w, a->cname);
		json_key(&w, "record");
		if (a->record)
			json_string_n(&w, a->record, a->record_len);
		else
			json_null(&w);
		json_key(&w, "txt_records");
		json_int(&w, (long long)a->ntxt);
		json_key(&w, "agrees");
		json_bool(&w, a->agrees);
		json_key(&w, "serves_expect");
		json_bool(&w, a->serves_expect);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_end_object(&w);
	json_finish(&w);
}

int cli_dkim_check_key_main(int argc, char **argv)
{
	ck_args a;
	mt_dkim_check_options opts;
	mt_dkim_check *c = NULL;
	mt_dns_zone *zone = NULL;
	mt_dns_resolver *res = NULL;
	char *key = NULL;
	size_t key_len = 0;
	mt_error err;
	mt_status st;
	cli_out out;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc != 0) {
		rc = rc < 0 ? 0 : rc;
		goto out;
	}
	if (a.key_file && (rc = read_key(a.key_file, &key, &key_len)) != 0)
		goto out;
	rc = cli_open_resolver(&a.dns, &zone, &res);
	if (rc != 0)
		goto out;
	mt_dkim_check_options_init(&opts);
	opts.expect = a.expect;
	opts.private_key_pem = key;
	opts.private_key_len = key_len;
	opts.timeout_ms = (unsigned)a.timeout_ms;
	if (!a.dns.zone) {
		opts.server_resolver = server_resolver;
		opts.server_ctx = &a;
		opts.server_port = (unsigned)a.ns_port;
	}
	memset(&err, 0, sizeof err);
	st = mt_dkim_check_run(a.selector, a.domain, res, &opts, &c, &err);
	if (st == MT_EINVAL) {
		cli_error("dkim check-key: %s", err.message[0] ? err.message : mt_strerror(st));
		rc = CLI_EXIT_USAGE;
		goto out;
	} else if (st == MT_ESYNTAX) {
		char q[CLI_QUOTE_BUF];
		cli_error("--key: '%s': %s", cli_quote(q, a.key_file), err.message);
		rc = CLI_EXIT_DATAERR;
		goto out;
	} else if (st != MT_OK) {
		cli_error("dkim check-key failed: %s", err.message[0] ? err.message : mt_strerror(st));
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (a.json) {
		print_json(c);
	} else {
		cli_out_init(&out, stdout);
		print_text(&out, c);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (!mt_dkim_check_checked(c))
		rc = 3;
	else
		switch (mt_dkim_check_worst(c)) {
		case MT_DKIM_CHECK_ERROR: rc = 2; break;
		case MT_DKIM_CHECK_WARNING: rc = 1; break;
		default: rc = 0; break;
		}
out:
	if (key) {
		memset(key, 0, key_len);
		free(key);
	}
	mt_dkim_check_free(c);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return rc;
}
