/* mailtrust spf merge / spf build: one valid SPF record from several, or
 * from its parts (the library does the work: mt_spf_merge, mt_spf_build). */
#include "cli.h"
#include "json.h"

#include <mailtrust/mailtrust.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_MAX_LOOKUPS = 256,
	OPT_JSON,
	OPT_IP4,
	OPT_IP6,
	OPT_INCLUDE,
	OPT_A,
	OPT_MX,
	OPT_ALL,
};

/* Exit codes of both commands. */
enum { EXIT_MERGED = 0, EXIT_REFUSED = 1 };

/* DNS-querying terms of a record (include, a, mx, ptr, exists, redirect). */
static long count_lookups(const char *record)
{
	mt_spf_record *rec = NULL;
	long n;

	if (mt_spf_record_parse(record, strlen(record), &rec, NULL) != MT_OK)
		return -1;
	n = (long)mt_spf_record_lookups(rec);
	mt_spf_record_free(rec);
	return n;
}

/* The result: the record (or null and the error), its lookups, the inputs,
 * the notes and the zone-file strings. */
static void print_json(const char *record, const char *error, char **inputs, size_t ninputs,
                       const mt_spf_verify *notes)
{
	char *z = NULL;

	json_writer w;

	json_init(&w, stdout);
	json_begin_object(&w);
	json_key(&w, "record");
	json_string(&w, record);
	json_key(&w, "lookups");
	if (record)
		json_int(&w, count_lookups(record));
	else
		json_null(&w);
	if (error) {
		json_key(&w, "error");
		json_string(&w, error);
	}
	if (inputs) {
		json_key(&w, "inputs");
		json_begin_array(&w);
		for (size_t i = 0; i < ninputs; i++)
			json_string(&w, inputs[i]);
		json_end_array(&w);
	}
	if (record) {
		json_key(&w, "octets");
		json_int(&w, (long long)strlen(record));
		json_key(&w, "zone_strings");
		if (mt_spf_zone_strings(record, strlen(record), &z) == MT_OK)
			json_string(&w, z);
		else
			json_null(&w);
		mt_free(z);
		json_key(&w, "notes");
		cli_json_findings(&w, notes);
	}
	json_end_object(&w);
	json_finish(&w);
}

/*
 * Notes on standard error, one "mailtrust: CMD: note|warning: ..." line
 * each and its fix on the next, so that standard output stays the record.
 */
static void print_notes(const char *cmd, const mt_spf_verify *notes)
{
	for (size_t i = 0; i < mt_spf_verify_finding_count(notes); i++) {
		const mt_spf_finding *f = mt_spf_verify_finding(notes, i);
		fflush(stdout);
		fprintf(stderr, "%s: %s: %s: ", CLI_NAME, cmd,
		        f->severity == MT_SPF_INFO ? "note" : mt_spf_severity_name(f->severity));
		cli_text_puts(stderr, f->message);
		fputc('\n', stderr);
		if (f->fix) {
			fprintf(stderr, "%s: %s:   ", CLI_NAME, cmd);
			cli_text_puts(stderr, f->fix);
			fputc('\n', stderr);
		}
	}
}

/* Print the outcome of mt_spf_merge/mt_spf_build and give the exit code. */
static int finish(const char *cmd, mt_status st, const mt_error *err, const char *record,
                  bool json, char **inputs, size_t ninputs, const mt_spf_verify *notes)
{
	const char *msg = err->message[0] ? err->message : mt_strerror(st);
	int rc;

	if (st == MT_OK) {
		if (json) {
			print_json(record, NULL, inputs, ninputs, notes);
		} else {
			cli_text_puts(stdout, record);
			fputc('\n', stdout);
			print_notes(cmd, notes);
		}
		rc = EXIT_MERGED;
	} else if (st == MT_ESYNTAX) {
		cli_error("%s: refused: %s", cmd, msg);
		if (json)
			print_json(NULL, msg, inputs, ninputs, NULL);
		rc = EXIT_REFUSED;
	} else if (st == MT_EINVAL) {
		cli_error("%s: %s", cmd, msg);
		rc = CLI_EXIT_USAGE;
	} else {
		cli_error("%s: %s", cmd, msg);
		rc = CLI_EXIT_SOFTWARE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_SOFTWARE;
	}
	return rc;
}

/* ---- mailtrust spf merge ---------------------------------------------- */

static void merge_usage(FILE *fp)
{
	fputs("Usage: mailtrust spf merge [--max-lookups N] [--json] 'v=spf1 ...' 'v=spf1 ...'...\n"
	      "\n"
	      "Merge several SPF records into the one record a domain must publish (two\n"
	      "or more SPF records are a permerror for every receiver).  Each ip4, ip6,\n"
	      "a, mx, ptr, include and exists term appears once (names compared without\n"
	      "case, addresses by network), in the order ip4, ip6, a, mx, ptr, include,\n"
	      "exists, modifiers, all.  The least strict 'all' wins (?all over ~all over\n"
	      "-all); a warning says when a record had a stricter all.  An ip4/ip6 term\n"
	      "inside another listed network is dropped when all of that family pass.\n"
	      "Notes go to stderr (host bits ignored, terms dropped, a record over 450\n"
	      "octets with its zone-file strings).  Refused, with the reason: a record\n"
	      "that does not parse, +all, the same term with different qualifiers, two\n"
	      "different redirect= or exp=, a redirect= beside an all, a reordering that\n"
	      "would change what a record says, or more DNS lookups than the limit.\n"
	      "\n"
	      "Options:\n"
	      "      --max-lookups N   DNS-querying terms allowed in the result (default 10;\n"
	      "                        what included records cost is not counted)\n"
	      "      --json            print {\"record\", \"lookups\", \"inputs\", \"octets\",\n"
	      "                        \"zone_strings\", \"notes\"} as JSON\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Exit status: 0 merged, 1 refused (the reason on stderr), 64 usage error,\n"
	      "70 internal error.\n",
	      fp);
}

int cli_spf_merge_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "max-lookups", required_argument, NULL, OPT_MAX_LOOKUPS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long max_lookups = 0;
	bool json = false;
	char *record = NULL;
	mt_spf_verify *notes = NULL;
	mt_error err;
	mt_status st;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			merge_usage(stdout);
			return 0;
		case OPT_JSON:
			json = true;
			break;
		case OPT_MAX_LOOKUPS:
			if (!cli_parse_uint("--max-lookups", optarg, 1, 1000, &max_lookups))
				return CLI_EXIT_USAGE;
			break;
		default:
			cli_bad_option(c, argv, "mailtrust spf merge");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("spf merge: no record given (see 'mailtrust spf merge --help')");
		return CLI_EXIT_USAGE;
	}
	memset(&err, 0, sizeof(err));
	st = mt_spf_merge_notes((const char *const *)(argv + optind), (size_t)(argc - optind),
	                        (unsigned)max_lookups, &record, &notes, &err);
	c = finish("spf merge", st, &err, record, json, argv + optind, (size_t)(argc - optind),
	           notes);
	mt_free(record);
	mt_spf_verify_free(notes);
	return c;
}

/* ---- mailtrust spf build ---------------------------------------------- */

static void build_usage(FILE *fp)
{
	fputs("Usage: mailtrust spf build [--ip4 NET]... [--ip6 NET]... [--include DOMAIN]...\n"
	      "                           [--a] [--mx] [--all fail|softfail|neutral]\n"
	      "                           [--max-lookups N] [--json]\n"
	      "\n"
	      "Build a valid SPF record from its parts, in the order ip4, ip6, a, mx,\n"
	      "include, all.  Each input is written once; an address or network inside\n"
	      "another listed network is dropped (notes on stderr say what was dropped,\n"
	      "host bits ignored, a record over 450 octets with its zone-file strings).\n"
	      "Refused, with the reason: an invalid address, prefix or domain, or more\n"
	      "DNS lookups than the limit (each include, a, mx costs one).\n"
	      "\n"
	      "Options:\n"
	      "      --ip4 NET          IPv4 address or network (192.0.2.0/24); repeatable\n"
	      "      --ip6 NET          IPv6 address or network (2001:db8::/32); repeatable\n"
	      "      --include DOMAIN   authorize what DOMAIN's SPF record authorizes\n"
	      "                         (a mail provider's); repeatable\n"
	      "      --a                authorize the domain's own A/AAAA addresses\n"
	      "      --mx               authorize the domain's mail servers (MX)\n"
	      "      --all RESULT       for every other sender: fail (-all, the default),\n"
	      "                         softfail (~all) or neutral (?all)\n"
	      "      --max-lookups N    DNS-querying terms allowed (default 10)\n"
	      "      --json             print {\"record\", \"lookups\", \"octets\",\n"
	      "                         \"zone_strings\", \"notes\"} as JSON\n"
	      "  -h, --help             show this help and exit\n"
	      "\n"
	      "Exit status: 0 built, 1 refused (the reason on stderr), 64 usage error,\n"
	      "70 internal error.\n",
	      fp);
}

int cli_spf_build_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "ip4", required_argument, NULL, OPT_IP4 },
		{ "ip6", required_argument, NULL, OPT_IP6 },
		{ "include", required_argument, NULL, OPT_INCLUDE },
		{ "a", no_argument, NULL, OPT_A },
		{ "mx", no_argument, NULL, OPT_MX },
		{ "all", required_argument, NULL, OPT_ALL },
		{ "max-lookups", required_argument, NULL, OPT_MAX_LOOKUPS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	mt_spf_build_options o;
	const char **ip4 = NULL, **ip6 = NULL, **inc = NULL;
	unsigned long max_lookups = 0;
	bool json = false;
	char *record = NULL;
	mt_spf_verify *notes = NULL;
	mt_error err;
	mt_status st;
	int c, rc;

	memset(&o, 0, sizeof(o));
	/* every list holds at most one entry per argument */
	ip4 = calloc((size_t)argc, sizeof(*ip4));
	ip6 = calloc((size_t)argc, sizeof(*ip6));
	inc = calloc((size_t)argc, sizeof(*inc));
	if (!ip4 || !ip6 || !inc) {
		cli_error("out of memory");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			build_usage(stdout);
			rc = 0;
			goto out;
		case OPT_IP4: ip4[o.nip4++] = optarg; break;
		case OPT_IP6: ip6[o.nip6++] = optarg; break;
		case OPT_INCLUDE: inc[o.ninclude++] = optarg; break;
		case OPT_A: o.a = true; break;
		case OPT_MX: o.mx = true; break;
		case OPT_JSON: json = true; break;
		case OPT_ALL:
			if (strcmp(optarg, "fail") == 0) {
				o.all = '-';
			} else if (strcmp(optarg, "softfail") == 0) {
				o.all = '~';
			} else if (strcmp(optarg, "neutral") == 0) {
				o.all = '?';
			} else {
				char q[CLI_QUOTE_BUF];
				cli_error("--all: '%s' is not fail, softfail or neutral", cli_quote(q, optarg));
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_MAX_LOOKUPS:
			if (!cli_parse_uint("--max-lookups", optarg, 1, 1000, &max_lookups)) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			break;
		default:
			cli_bad_option(c, argv, "mailtrust spf build");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		char q[CLI_QUOTE_BUF];
		cli_error("spf build: unexpected argument '%s' (see 'mailtrust spf build --help')",
		          cli_quote(q, argv[optind]));
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	o.ip4 = ip4;
	o.ip6 = ip6;
	o.include = inc;
	o.max_lookups = (unsigned)max_lookups;
	memset(&err, 0, sizeof(err));
	st = mt_spf_build_notes(&o, &record, &notes, &err);
	rc = finish("spf build", st, &err, record, json, NULL, 0, notes);
out:
	mt_free(record);
	mt_spf_verify_free(notes);
	free(ip4);
	free(ip6);
	free(inc);
	return rc;
}
