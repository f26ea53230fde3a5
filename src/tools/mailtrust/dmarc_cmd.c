/* mailtrust dmarc: "parse" reads a policy record offline, "build" makes
 * one from its parts; "check" (dmarc_check_cmd.c) checks a domain's.  The
 * library does the work (dmarc.h, dmarc_verify.h). */
#include "cli.h"
#include "json.h"

#include <mailtrust/mailtrust.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* ---- mailtrust dmarc --------------------------------------------------- */

static void dmarc_usage(FILE *fp)
{
	fputs("Usage: mailtrust dmarc <command> [options]\n"
	      "\n"
	      "Commands:\n"
	      "  check   check a domain's DMARC policy record, as its owner\n"
	      "  build   build a valid policy record and its zone-file line\n"
	      "  parse   parse a policy record offline: its tags and what is wrong\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help   show this help and exit\n"
	      "\n"
	      "Run 'mailtrust dmarc <command> --help' for a command's options; see\n"
	      "mailtrust-dmarc(1).\n",
	      fp);
}

static int dmarc_parse_main(int argc, char **argv);
static int dmarc_build_main(int argc, char **argv);

int cli_dmarc_main(int argc, char **argv)
{
	static const cli_command cmds[] = {
		{ "check", cli_dmarc_check_main },
		{ "build", dmarc_build_main },
		{ "parse", dmarc_parse_main },
	};
	return cli_area_main("dmarc", dmarc_usage, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}

/* ---- shared ------------------------------------------------------------ */

static cli_style sev_style(mt_dmarc_severity s)
{
	return s == MT_DMARC_ERROR ? CLI_RED : s == MT_DMARC_WARNING ? CLI_YELLOW : CLI_BLUE;
}

void cli_dmarc_caret(const cli_out *o, const char *rec, size_t len, size_t off, size_t n,
                     cli_style style)
{
	FILE *fp = o->fp;
	size_t col, w;

	if (off > len)
		off = len;
	if (n > len - off)
		n = len - off;
	col = cli_text_width(rec, off);
	w = n ? cli_text_width(rec + off, n) : 1;
	fputs("      ", fp);
	cli_text_print(fp, rec, len);
	fputs("\n      ", fp);
	for (size_t i = 0; i < col; i++)
		fputc(' ', fp);
	fprintf(fp, "%s^", cli_sgr(o, style));
	for (size_t i = 1; i < w; i++)
		fputc('~', fp);
	fprintf(fp, "%s\n", cli_sgr(o, CLI_RESET));
}

size_t cli_dmarc_spot_len(const char *rec, size_t len, size_t off)
{
	size_t e = off;
	while (e < len && rec[e] != ';' && rec[e] != ',')
		e++;
	while (e > off && (rec[e - 1] == ' ' || rec[e - 1] == '\t'))
		e--;
	return e > off ? e - off : 1;
}

/* ---- mailtrust dmarc parse --------------------------------------------- */

static void parse_usage(FILE *fp)
{
	fputs("Usage: mailtrust dmarc parse RECORD [--json]\n"
	      "\n"
	      "Parse a DMARC policy record (the text of the TXT record at _dmarc.DOMAIN)\n"
	      "as a receiver reads it (draft-ietf-dmarc-dmarcbis-41, RFC 9989): every tag\n"
	      "with its value or its default, the reporting URIs, whether receivers apply\n"
	      "the record, and the errors, warnings and notes with a caret under the\n"
	      "place.  No DNS question is asked.\n"
	      "\n"
	      "Options:\n"
	      "      --json   print one JSON object instead of text\n"
	      "  -h, --help   show this help and exit\n"
	      "\n"
	      "Exit status: 0 a DMARC record that receivers apply (warnings and notes may\n"
	      "be shown), 1 not a DMARC record, or one receivers do not apply, 2 applied\n"
	      "but a tag is in error (it is ignored), 64 usage error, 70 internal error.\n",
	      fp);
}

enum { OPT_JSON = 256, OPT_POLICY, OPT_RUA, OPT_RUF, OPT_SP, OPT_NP, OPT_ADKIM, OPT_ASPF,
       OPT_TESTING, OPT_PSD, OPT_FO, OPT_DOMAIN };

static const char *tag_value(const mt_dmarc_record *r, const char *tag, char *buf, size_t cap)
{
	if (strcmp(tag, "p") == 0) {
		mt_dmarc_policy p = mt_dmarc_record_p(r);
		return p == MT_DMARC_POLICY_ABSENT ? "none" : mt_dmarc_policy_name(p);
	}
	if (strcmp(tag, "sp") == 0) {
		mt_dmarc_policy p = mt_dmarc_record_sp(r);
		if (p != MT_DMARC_POLICY_ABSENT)
			return mt_dmarc_policy_name(p);
		p = mt_dmarc_record_p(r);
		snprintf(buf, cap, "%s", p == MT_DMARC_POLICY_ABSENT ? "none" : mt_dmarc_policy_name(p));
		return buf;
	}
	if (strcmp(tag, "np") == 0) {
		mt_dmarc_policy p = mt_dmarc_record_np(r);
		if (p == MT_DMARC_POLICY_ABSENT)
			p = mt_dmarc_record_sp(r);
		if (p == MT_DMARC_POLICY_ABSENT)
			p = mt_dmarc_record_p(r);
		return p == MT_DMARC_POLICY_ABSENT ? "none" : mt_dmarc_policy_name(p);
	}
	if (strcmp(tag, "adkim") == 0)
		return mt_dmarc_record_strict_dkim(r) ? "s" : "r";
	if (strcmp(tag, "aspf") == 0)
		return mt_dmarc_record_strict_spf(r) ? "s" : "r";
	if (strcmp(tag, "t") == 0)
		return mt_dmarc_record_testing(r) ? "y" : "n";
	if (strcmp(tag, "psd") == 0)
		return mt_dmarc_record_psd(r) == MT_DMARC_PSD_YES ? "y"
		       : mt_dmarc_record_psd(r) == MT_DMARC_PSD_NO ? "n" : "u";
	if (strcmp(tag, "fo") == 0)
		return mt_dmarc_record_fo(r);
	return "";
}

static const char *const TAGS[] = { "p", "sp", "np", "adkim", "aspf", "t", "psd", "fo" };

static int dmarc_parse_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const heads[3] = { "notes", "warnings", "errors" };
	mt_dmarc_record *r = NULL;
	bool json = false, applies = false, as_none = false;
	const char *text;
	size_t len, n[3] = { 0, 0, 0 };
	char q[CLI_QUOTE_BUF], buf[32];
	mt_error err;
	mt_status st;
	cli_out o;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			parse_usage(stdout);
			return 0;
		case OPT_JSON: json = true; break;
		default:
			cli_bad_option(c, argv, "mailtrust dmarc parse");
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		if (argc - optind < 1)
			cli_error("dmarc parse: give the RECORD (see 'mailtrust dmarc parse --help')");
		else
			cli_error("unexpected argument '%s' (see 'mailtrust dmarc parse --help')",
			          cli_quote(q, argv[optind + 1]));
		return CLI_EXIT_USAGE;
	}
	text = argv[optind];
	len = strlen(text);
	memset(&err, 0, sizeof err);
	st = mt_dmarc_record_parse(text, len, &r, &err);
	if (st == MT_ENOMEM) {
		cli_error("out of memory");
		return CLI_EXIT_SOFTWARE;
	}
	if (st != MT_OK) {
		/* not a DMARC record at all */
		if (json) {
			json_writer w;
			json_init(&w, stdout);
			json_begin_object(&w);
			json_key(&w, "record");
			json_string_n(&w, text, len);
			json_key(&w, "dmarc");
			json_bool(&w, false);
			json_key(&w, "error");
			json_string(&w, err.message);
			json_end_object(&w);
			json_finish(&w);
		} else {
			cli_out_init(&o, stdout);
			fputs(cli_sgr(&o, CLI_RED), stdout);
			cli_text_puts(stdout, err.message);
			fputs(cli_sgr(&o, CLI_RESET), stdout);
			fputc('\n', stdout);
			cli_dmarc_caret(&o, text, len, 0, cli_dmarc_spot_len(text, len, 0), CLI_RED);
			fputs("    fix: begin the record with exactly v=DMARC1; (upper case, the first "
			      "tag)\n", stdout);
		}
		return fflush(stdout) == 0 ? 1 : CLI_EXIT_SOFTWARE;
	}
	applies = mt_dmarc_record_applies(r, &as_none);
	for (size_t i = 0; i < mt_dmarc_record_finding_count(r); i++)
		n[mt_dmarc_record_finding(r, i)->severity]++;
	if (json) {
		json_writer w;
		json_init(&w, stdout);
		json_begin_object(&w);
		json_key(&w, "record");
		json_string_n(&w, text, len);
		json_key(&w, "dmarc");
		json_bool(&w, true);
		json_key(&w, "applies");
		json_bool(&w, applies);
		json_key(&w, "applies_as_none");
		json_bool(&w, as_none);
		json_key(&w, "tags");
		json_begin_object(&w);
		for (size_t i = 0; i < sizeof TAGS / sizeof TAGS[0]; i++) {
			json_key(&w, TAGS[i]);
			json_begin_object(&w);
			json_key(&w, "value");
			json_string(&w, tag_value(r, TAGS[i], buf, sizeof buf));
			json_key(&w, "given");
			json_bool(&w, mt_dmarc_record_has_tag(r, TAGS[i]));
			json_end_object(&w);
		}
		json_end_object(&w);
		for (int list = 0; list < 2; list++) {
			size_t cnt = list ? mt_dmarc_record_ruf_count(r) : mt_dmarc_record_rua_count(r);
			json_key(&w, list ? "ruf" : "rua");
			json_begin_array(&w);
			for (size_t i = 0; i < cnt; i++) {
				const mt_dmarc_uri *u = list ? mt_dmarc_record_ruf(r, i)
				                             : mt_dmarc_record_rua(r, i);
				json_begin_object(&w);
				json_key(&w, "uri");
				json_string(&w, u->uri);
				json_key(&w, "offset");
				json_int(&w, (long long)u->offset);
				json_key(&w, "valid");
				json_bool(&w, u->valid);
				json_key(&w, "mailto");
				json_bool(&w, u->mailto);
				json_key(&w, "domain");
				json_string(&w, u->domain);
				json_end_object(&w);
			}
			json_end_array(&w);
		}
		json_key(&w, "findings");
		json_begin_array(&w);
		for (size_t i = 0; i < mt_dmarc_record_finding_count(r); i++) {
			const mt_dmarc_finding *f = mt_dmarc_record_finding(r, i);
			json_begin_object(&w);
			json_key(&w, "severity");
			json_string(&w, mt_dmarc_severity_name(f->severity));
			json_key(&w, "tag");
			json_string(&w, f->tag);
			json_key(&w, "offset");
			json_int(&w, (long long)f->offset);
			json_key(&w, "length");
			json_int(&w, (long long)cli_dmarc_spot_len(text, len, f->offset));
			json_key(&w, "message");
			json_string(&w, f->message);
			json_end_object(&w);
		}
		json_end_array(&w);
		json_end_object(&w);
		json_finish(&w);
	} else {
		FILE *fp = stdout;
		cli_out_init(&o, fp);
		fputs("record: ", fp);
		cli_text_print(fp, text, len);
		fputc('\n', fp);
		fprintf(fp, "%s%s%s\n", cli_sgr(&o, applies ? CLI_GREEN : CLI_RED),
		        !applies ? "receivers do not apply this record (no valid p= and no valid rua=)"
		        : as_none ? "receivers apply it as p=none (a policy tag is not valid)"
		                  : "receivers apply this record",
		        cli_sgr(&o, CLI_RESET));
		for (size_t i = 0; i < sizeof TAGS / sizeof TAGS[0]; i++) {
			bool given = mt_dmarc_record_has_tag(r, TAGS[i]);
			fprintf(fp, "  %-6s %s", TAGS[i], tag_value(r, TAGS[i], buf, sizeof buf));
			if (!given)
				fprintf(fp, "  %s(default%s)%s", cli_sgr(&o, CLI_DIM),
				        strcmp(TAGS[i], "sp") == 0 ? ": p"
				        : strcmp(TAGS[i], "np") == 0 ? ": sp, then p" : "",
				        cli_sgr(&o, CLI_RESET));
			fputc('\n', fp);
		}
		for (int list = 0; list < 2; list++) {
			size_t cnt = list ? mt_dmarc_record_ruf_count(r) : mt_dmarc_record_rua_count(r);
			fprintf(fp, "  %-6s", list ? "ruf" : "rua");
			if (cnt == 0)
				fprintf(fp, " %s(none: no %s reports)%s", cli_sgr(&o, CLI_DIM),
				        list ? "failure" : "aggregate", cli_sgr(&o, CLI_RESET));
			for (size_t i = 0; i < cnt; i++) {
				const mt_dmarc_uri *u = list ? mt_dmarc_record_ruf(r, i)
				                             : mt_dmarc_record_rua(r, i);
				fputs(i ? ", " : " ", fp);
				cli_text_puts(fp, u->uri);
				if (!u->valid)
					fputs(" (invalid)", fp);
			}
			fputc('\n', fp);
		}
		for (int s = MT_DMARC_ERROR; s >= MT_DMARC_NOTE; s--) {
			size_t shown = 0;
			for (size_t i = 0; i < mt_dmarc_record_finding_count(r); i++) {
				const mt_dmarc_finding *f = mt_dmarc_record_finding(r, i);
				if ((int)f->severity != s)
					continue;
				if (shown++ == 0)
					fprintf(fp, "\n%s%s:%s\n", cli_sgr(&o, sev_style(f->severity)), heads[s],
					        cli_sgr(&o, CLI_RESET));
				fprintf(fp, "  %s[%s]%s ", cli_sgr(&o, sev_style(f->severity)),
				        f->tag && f->tag[0] ? f->tag : "record", cli_sgr(&o, CLI_RESET));
				cli_text_puts(fp, f->message);
				fputc('\n', fp);
				cli_dmarc_caret(&o, text, len, f->offset,
				                cli_dmarc_spot_len(text, len, f->offset),
				                sev_style(f->severity));
			}
		}
	}
	mt_dmarc_record_free(r);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		return CLI_EXIT_SOFTWARE;
	}
	rc = !applies ? 1 : n[MT_DMARC_ERROR] ? 2 : 0;
	return rc;
}

/* ---- mailtrust dmarc build --------------------------------------------- */

static void build_usage(FILE *fp)
{
	fputs("Usage: mailtrust dmarc build --policy none|quarantine|reject [options]\n"
	      "\n"
	      "Build one valid DMARC policy record (it is parsed back before it is\n"
	      "printed) and the zone-file line that publishes it at _dmarc.DOMAIN, its\n"
	      "text split into strings of at most 255 octets.\n"
	      "\n"
	      "Options:\n"
	      "      --policy P       p=: none (monitoring), quarantine or reject (required)\n"
	      "      --rua URI        where aggregate reports go (mailto:ADDRESS; a bare\n"
	      "                       ADDRESS gets mailto:); may be given several times\n"
	      "      --ruf URI        where failure reports go; may be given several times\n"
	      "      --sp P           sp=: the policy for subdomains (default: p)\n"
	      "      --np P           np=: the policy for subdomains that do not exist\n"
	      "      --adkim r|s      DKIM alignment: relaxed (default) or strict\n"
	      "      --aspf r|s       SPF alignment: relaxed (default) or strict\n"
	      "      --testing        t=y: receivers apply one policy level less\n"
	      "      --psd y|n        psd=: y only for a public suffix operator's record\n"
	      "      --fo OPTS        fo=: failure report options (0, 1, d, s joined by ':')\n"
	      "      --domain D       the domain for the zone-file line (default example.com)\n"
	      "      --json           print {\"record\", \"name\", \"zone_line\", \"strings\"}\n"
	      "  -h, --help           show this help and exit\n"
	      "\n"
	      "Exit status: 0 record printed, 64 usage error (a bad policy, URI or\n"
	      "option value), 70 internal error.\n",
	      fp);
}

static bool parse_policy(const char *opt, const char *arg, mt_dmarc_policy *out)
{
	char q[CLI_QUOTE_BUF];
	if (strcmp(arg, "none") == 0)
		*out = MT_DMARC_POLICY_NONE;
	else if (strcmp(arg, "quarantine") == 0)
		*out = MT_DMARC_POLICY_QUARANTINE;
	else if (strcmp(arg, "reject") == 0)
		*out = MT_DMARC_POLICY_REJECT;
	else {
		cli_error("%s: '%s' is not a policy: use none, quarantine or reject", opt,
		          cli_quote(q, arg));
		return false;
	}
	return true;
}

static bool parse_rs(const char *opt, const char *arg, char *out)
{
	char q[CLI_QUOTE_BUF];
	if (strcmp(arg, "r") == 0 || strcmp(arg, "s") == 0) {
		*out = arg[0];
		return true;
	}
	cli_error("%s: '%s' is not valid: use r (relaxed) or s (strict)", opt, cli_quote(q, arg));
	return false;
}

static int dmarc_build_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "rua", required_argument, NULL, OPT_RUA },
		{ "ruf", required_argument, NULL, OPT_RUF },
		{ "sp", required_argument, NULL, OPT_SP },
		{ "np", required_argument, NULL, OPT_NP },
		{ "adkim", required_argument, NULL, OPT_ADKIM },
		{ "aspf", required_argument, NULL, OPT_ASPF },
		{ "testing", no_argument, NULL, OPT_TESTING },
		{ "psd", required_argument, NULL, OPT_PSD },
		{ "fo", required_argument, NULL, OPT_FO },
		{ "domain", required_argument, NULL, OPT_DOMAIN },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	const char *rua[MT_DMARC_URIS_MAX], *ruf[MT_DMARC_URIS_MAX];
	const char *domain = "example.com";
	mt_dmarc_build_options bo;
	char *rec = NULL, *strings = NULL, *dom = NULL;
	char q[CLI_QUOTE_BUF];
	bool json = false;
	mt_error err;
	mt_status st;
	int c, rc = CLI_EXIT_SOFTWARE;
	size_t dl;

	memset(&bo, 0, sizeof bo);
	bo.rua = rua;
	bo.ruf = ruf;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			build_usage(stdout);
			return 0;
		case OPT_POLICY:
			if (!parse_policy("--policy", optarg, &bo.p))
				return CLI_EXIT_USAGE;
			break;
		case OPT_SP:
			if (!parse_policy("--sp", optarg, &bo.sp))
				return CLI_EXIT_USAGE;
			break;
		case OPT_NP:
			if (!parse_policy("--np", optarg, &bo.np))
				return CLI_EXIT_USAGE;
			break;
		case OPT_RUA:
		case OPT_RUF:
			if ((c == OPT_RUA ? bo.nrua : bo.nruf) >= MT_DMARC_URIS_MAX) {
				cli_error("%s: at most %d URIs", c == OPT_RUA ? "--rua" : "--ruf",
				          MT_DMARC_URIS_MAX);
				return CLI_EXIT_USAGE;
			}
			if (c == OPT_RUA)
				rua[bo.nrua++] = optarg;
			else
				ruf[bo.nruf++] = optarg;
			break;
		case OPT_ADKIM:
			if (!parse_rs("--adkim", optarg, &bo.adkim))
				return CLI_EXIT_USAGE;
			break;
		case OPT_ASPF:
			if (!parse_rs("--aspf", optarg, &bo.aspf))
				return CLI_EXIT_USAGE;
			break;
		case OPT_TESTING: bo.testing = true; break;
		case OPT_PSD:
			if (strcmp(optarg, "y") == 0)
				bo.psd = MT_DMARC_PSD_YES;
			else if (strcmp(optarg, "n") == 0)
				bo.psd = MT_DMARC_PSD_NO;
			else {
				cli_error("--psd: '%s' is not valid: use y or n", cli_quote(q, optarg));
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_FO: bo.fo = optarg; break;
		case OPT_DOMAIN: domain = optarg; break;
		case OPT_JSON: json = true; break;
		default:
			cli_bad_option(c, argv, "mailtrust dmarc build");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'mailtrust dmarc build --help')",
		          cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (bo.p == MT_DMARC_POLICY_ABSENT) {
		cli_error("dmarc build: --policy is required (none, quarantine or reject)");
		return CLI_EXIT_USAGE;
	}
	{
		char *names[MT_DMARC_WALK_MAX];
		size_t nn = 0;
		memset(&err, 0, sizeof err);
		if (mt_dmarc_walk_targets(domain, false, names, &nn, &err) != MT_OK) {
			cli_error("--domain: '%s' is not a domain name: %s", cli_quote(q, domain),
			          err.message);
			return CLI_EXIT_USAGE;
		}
		for (size_t i = 0; i < nn; i++)
			mt_free(names[i]);
	}
	memset(&err, 0, sizeof err);
	st = mt_dmarc_build(&bo, &rec, &err);
	if (st == MT_ESYNTAX || st == MT_EINVAL || st == MT_ERANGE) {
		cli_error("dmarc build: %s", err.message);
		return CLI_EXIT_USAGE;
	} else if (st != MT_OK) {
		cli_error("dmarc build failed: %s", err.message[0] ? err.message : mt_strerror(st));
		return CLI_EXIT_SOFTWARE;
	}
	if (mt_spf_zone_strings(rec, strlen(rec), &strings) != MT_OK) {
		cli_error("out of memory");
		goto out;
	}
	dl = strlen(domain);
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	dom = malloc(dl + 1);
	if (!dom) {
		cli_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < dl; i++)
		dom[i] = (domain[i] >= 'A' && domain[i] <= 'Z') ? (char)(domain[i] + 32) : domain[i];
	dom[dl] = '\0';
	if (json) {
		json_writer w;
		char name[300], line[8192];
		snprintf(name, sizeof name, "_dmarc.%s", dom);
		snprintf(line, sizeof line, "_dmarc.%s. IN TXT %s", dom, strings);
		json_init(&w, stdout);
		json_begin_object(&w);
		json_key(&w, "record");
		json_string(&w, rec);
		json_key(&w, "name");
		json_string(&w, name);
		json_key(&w, "zone_line");
		json_string(&w, line);
		json_key(&w, "strings");
		json_string(&w, strings);
		json_end_object(&w);
		json_finish(&w);
	} else {
		printf("%s\n_dmarc.%s. IN TXT %s\n", rec, dom, strings);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		goto out;
	}
	rc = 0;
out:
	free(dom);
	mt_free(strings);
	mt_free(rec);
	return rc;
}
