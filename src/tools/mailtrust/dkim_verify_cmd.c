/* mailtrust dkim verify: stream a message into the library's verifier,
 * fetch the keys through the driver, print each signature's result and
 * the Authentication-Results field (mailtrust/dkim.h, authres.h). */
#include "cli.h"
#include "json.h"

#include <mailtrust/mailtrust.h>
#include <mailtrust/dkim.h>
#include <mailtrust/authres.h>
#include <mailtrust/run.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERIFY_CHUNK 65536

/* Exit statuses of dkim verify: the best result over the signatures (as
 * spf check numbers its results). */
enum {
	DV_EXIT_PASS = CLI_EXIT_PASS,           /* 0: a signature passes */
	DV_EXIT_FAIL = CLI_EXIT_FAIL,           /* 1: one fails (body hash, signature) */
	DV_EXIT_NEUTRAL = CLI_EXIT_NEUTRAL,     /* 3: only signatures not evaluated */
	DV_EXIT_NONE = CLI_EXIT_NONE,           /* 4: no signature */
	DV_EXIT_TEMPERROR = CLI_EXIT_TEMPERROR, /* 5: a key lookup failed (DNS) */
	DV_EXIT_PERMERROR = CLI_EXIT_PERMERROR, /* 6: only permerrors */
};

static void verify_usage(FILE *fp)
{
	fputs("Usage: mailtrust dkim verify [options] [FILE|-]\n"
	      "\n"
	      "Verify every DKIM-Signature of a message (RFC 6376, RFC 8301, RFC 8463)\n"
	      "read from FILE or standard input ('-' or no FILE).  The message is read\n"
	      "as a stream, never whole; bare LF line ends are taken as CRLF.  Prints\n"
	      "each signature's result with its reason, d= s= a=, the key's details\n"
	      "(bits, t=y testing, t=s strict) and the l= risk, then the\n"
	      "Authentication-Results field (RFC 8601) a receiver would add.\n"
	      "\n"
	      "Options:\n"
	      "      --zone FILE           answer DNS questions from this zone file (offline)\n"
	      "      --resolver ADDR[@PORT]\n"
	      "                            forward DNS questions to this server instead of\n"
	      "                            the ones in /etc/resolv.conf\n"
	      "      --now EPOCH           check x= (expiry) and t= (not in the future, 300 s\n"
	      "                            allowed) against this time, in seconds since 1970\n"
	      "                            (default: the system clock)\n"
	      "      --authserv-id ID      the Authentication-Results field's authserv-id\n"
	      "                            (default: this host's name)\n"
	      "      --timeout MS          time for all key lookups (default 20000)\n"
	      "      --json                print one JSON object instead of text\n"
	      "  -h, --help                show this help and exit\n"
	      "\n"
	      "Exit status (the best result of the signatures, in this order):\n"
	      "  0 a signature passes, 5 temperror (a key lookup failed; try again later),\n"
	      "  1 fail (a body hash or signature does not verify), 6 permerror (malformed\n"
	      "  signature, missing or revoked key, bad algorithm, expired), 3 neutral (no\n"
	      "  signature was evaluated), 4 none (no DKIM-Signature), 64 usage error,\n"
	      "  65 malformed zone file or message (header over the limits), 66 unreadable\n"
	      "  zone file or message file, 69 the DNS resolver cannot be set up,\n"
	      "  70 internal error, 74 reading the message failed.\n",
	      fp);
}

enum {
	OPT_ZONE = 256,
	OPT_RESOLVER,
	OPT_NOW,
	OPT_AUTHSERV,
	OPT_TIMEOUT,
	OPT_JSON,
};

typedef struct dv_args {
	const char *file;           /* NULL or "-": standard input */
	cli_dns dns;
	unsigned long long now;     /* 0: the system clock */
	const char *authserv_id;
	unsigned long timeout_ms;
	bool json;
} dv_args;

static int parse_args(int argc, char **argv, dv_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "zone", required_argument, NULL, OPT_ZONE },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "authserv-id", required_argument, NULL, OPT_AUTHSERV },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	memset(a, 0, sizeof *a);
	a->timeout_ms = 20000;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			verify_usage(stdout);
			return -1;
		case OPT_ZONE: a->dns.zone = optarg; break;
		case OPT_RESOLVER: a->dns.resolver = optarg; break;
		case OPT_JSON: a->json = true; break;
		case OPT_AUTHSERV: a->authserv_id = optarg; break;
		case OPT_NOW:
			/* up to 9999-12-31: x= and t= are at most 12 digits */
			if (!cli_parse_uint("--now", optarg, 1, 253402300799UL, &v))
				return CLI_EXIT_USAGE;
			a->now = v;
			break;
		case OPT_TIMEOUT:
			if (!cli_parse_uint("--timeout", optarg, 1, 3600000, &a->timeout_ms))
				return CLI_EXIT_USAGE;
			break;
		default:
			cli_bad_option(c, argv, "mailtrust dkim verify");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc) {
		char q[CLI_QUOTE_BUF];
		cli_error("unexpected argument '%s' (see 'mailtrust dkim verify --help')",
		          cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (a->dns.zone && a->dns.resolver) {
		cli_error("--zone cannot be combined with --resolver");
		return CLI_EXIT_USAGE;
	}
	if (a->authserv_id && a->authserv_id[0] == '\0') {
		cli_error("--authserv-id: must not be empty");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* The overall result: the best one in the order of the exit statuses. */
static int overall(const mt_dkim_verify *v, const char **name)
{
	static const struct { mt_dkim_result r; int rc; const char *name; } order[] = {
		{ MT_DKIM_PASS, DV_EXIT_PASS, "pass" },
		{ MT_DKIM_TEMPERROR, DV_EXIT_TEMPERROR, "temperror" },
		{ MT_DKIM_FAIL, DV_EXIT_FAIL, "fail" },
		{ MT_DKIM_PERMERROR, DV_EXIT_PERMERROR, "permerror" },
		{ MT_DKIM_NEUTRAL, DV_EXIT_NEUTRAL, "neutral" },
		{ MT_DKIM_POLICY, DV_EXIT_NEUTRAL, "neutral" },
	};
	size_t n = mt_dkim_verify_count(v);
	for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
		for (size_t k = 0; k < n; k++) {
			const mt_dkim_sig_result *r = mt_dkim_verify_result(v, k);
			if (r && r->result == order[o].r) {
				*name = order[o].name;
				return order[o].rc;
			}
		}
	*name = "none";
	return DV_EXIT_NONE;
}

static const char *fail_name(mt_dkim_fail f)
{
	return f == MT_DKIM_FAIL_BODY_HASH ? "body-hash" : f == MT_DKIM_FAIL_SIGNATURE ? "signature"
	                                                                            : NULL;
}

static const char *key_type(const mt_dkim_sig_result *r)
{
	return strncmp(r->a, "ed25519", 7) == 0 ? "ed25519" : "rsa";
}

static cli_style result_style(mt_dkim_result r)
{
	switch (r) {
	case MT_DKIM_PASS: return CLI_GREEN;
	case MT_DKIM_FAIL: return CLI_RED;
	case MT_DKIM_PERMERROR: return CLI_RED;
	case MT_DKIM_TEMPERROR: return CLI_YELLOW;
	default: return CLI_BLUE;
	}
}

static void print_text(const cli_out *o, const mt_dkim_verify *v, const char *result,
                       const char *field)
{
	FILE *fp = o->fp;
	size_t n = mt_dkim_verify_count(v), passed = 0;

	for (size_t k = 0; k < n; k++)
		if (mt_dkim_verify_result(v, k)->result == MT_DKIM_PASS)
			passed++;
	fprintf(fp, "dkim: %s%s%s", cli_sgr(o, CLI_BOLD), result, cli_sgr(o, CLI_RESET));
	if (n == 0)
		fputs(" (the message has no DKIM-Signature)\n", fp);
	else
		fprintf(fp, " (%zu of %zu signature%s pass%s)\n", passed, n, n == 1 ? "" : "s",
		        passed == 1 ? "es" : "");
	for (size_t k = 0; k < n; k++) {
		const mt_dkim_sig_result *r = mt_dkim_verify_result(v, k);
		fprintf(fp, "\nsignature %zu: %s%s%s", k + 1, cli_sgr(o, result_style(r->result)),
		        mt_dkim_result_name(r->result), cli_sgr(o, CLI_RESET));
		if (r->fail != MT_DKIM_FAIL_NONE)
			fprintf(fp, " (%s)", fail_name(r->fail));
		fputc('\n', fp);
		if (*r->reason) {
			fputs("  reason: ", fp);
			cli_text_puts(fp, r->reason);
			fputc('\n', fp);
		}
		fputs("  d=", fp);
		cli_text_puts(fp, r->d);
		fputs(" s=", fp);
		cli_text_puts(fp, r->s);
		fputs(" a=", fp);
		cli_text_puts(fp, r->a);
		fputs(" i=", fp);
		cli_text_puts(fp, r->i);
		fputs(" b=", fp);
		cli_text_puts(fp, r->b);
		fputc('\n', fp);
		if (r->key_bits > 0) {
			fprintf(fp, "  key: %s, %d bits", key_type(r), r->key_bits);
			if (r->testing)
				fputs(", testing (t=y: the domain is testing DKIM, receivers treat the "
				      "result as unsigned)", fp);
			if (r->strict)
				fputs(", strict (t=s: i= must be in d= itself)", fp);
			fputc('\n', fp);
		}
		if (r->has_l) {
			fprintf(fp, "  l=%llu: ", (unsigned long long)r->l);
			if (r->l_risk)
				fprintf(fp, "%sthe body has %llu octets, %llu of them after the signed "
				            "part and not covered by the signature (content can be "
				            "appended)%s\n", cli_sgr(o, CLI_YELLOW),
				        (unsigned long long)r->body_length,
				        (unsigned long long)(r->body_length - r->l), cli_sgr(o, CLI_RESET));
			else
				fprintf(fp, "only the first %llu octets of the body are signed: content "
				            "could be appended without breaking the signature\n",
				        (unsigned long long)r->l);
		}
		if (!r->evaluated)
			fputs("  not evaluated\n", fp);
	}
	fputc('\n', fp);
	/* the folded field, one line per CRLF */
	for (const char *p = field, *e; *p; p = e + (*e ? 2 : 0)) {
		e = strstr(p, "\r\n");
		if (!e)
			e = p + strlen(p);
		if (*p == '\t') { /* the fold's own TAB */
			fputc('\t', fp);
			p++;
		}
		cli_text_print(fp, p, (size_t)(e - p));
		fputc('\n', fp);
	}
}

static void print_json(const mt_dkim_verify *v, const char *result, const char *field)
{
	json_writer w;
	size_t n = mt_dkim_verify_count(v);

	json_init(&w, stdout);
	json_begin_object(&w);
	json_key(&w, "result");
	json_string(&w, result);
	json_key(&w, "signatures");
	json_begin_array(&w);
	for (size_t k = 0; k < n; k++) {
		const mt_dkim_sig_result *r = mt_dkim_verify_result(v, k);
		json_begin_object(&w);
		json_key(&w, "result");
		json_string(&w, mt_dkim_result_name(r->result));
		json_key(&w, "fail");
		json_string(&w, fail_name(r->fail));
		json_key(&w, "reason");
		json_string(&w, r->reason);
		json_key(&w, "evaluated");
		json_bool(&w, r->evaluated);
		json_key(&w, "d");
		json_string(&w, r->d);
		json_key(&w, "s");
		json_string(&w, r->s);
		json_key(&w, "i");
		json_string(&w, r->i);
		json_key(&w, "a");
		json_string(&w, r->a);
		json_key(&w, "b");
		json_string(&w, r->b);
		json_key(&w, "field");
		json_int(&w, (long long)r->field);
		json_key(&w, "key");
		if (r->key_bits > 0) {
			json_begin_object(&w);
			json_key(&w, "type");
			json_string(&w, key_type(r));
			json_key(&w, "bits");
			json_int(&w, r->key_bits);
			json_key(&w, "testing");
			json_bool(&w, r->testing);
			json_key(&w, "strict");
			json_bool(&w, r->strict);
			json_end_object(&w);
		} else {
			json_null(&w);
		}
		json_key(&w, "l");
		if (r->has_l)
			json_int(&w, (long long)r->l);
		else
			json_null(&w);
		json_key(&w, "l_risk");
		json_bool(&w, r->l_risk);
		json_key(&w, "body_length");
		json_int(&w, (long long)r->body_length);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "authentication_results");
	json_string(&w, field);
	json_end_object(&w);
	json_finish(&w);
}

/* Feed the message in chunks; the key lookups start as soon as the header
 * is read and run while the body streams.  Returns 0 or an exit status. */
static int feed_message(const dv_args *a, int fd, const char *fname, mt_dkim_verify *v,
                        mt_run *run, bool *added)
{
	char *buf = malloc(VERIFY_CHUNK);
	mt_error err;
	int rc = 0;
	char q[CLI_QUOTE_BUF];

	if (!buf) {
		cli_error("out of memory");
		return CLI_EXIT_SOFTWARE;
	}
	memset(&err, 0, sizeof err);
	for (;;) {
		ssize_t got = read(fd, buf, VERIFY_CHUNK);
		mt_status st;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cli_error("reading %s failed: %s", cli_quote(q, fname), strerror(errno));
			rc = CLI_EXIT_IOERR;
			break;
		}
		st = got == 0 ? mt_dkim_verify_finish(v, &err)
		              : mt_dkim_verify_feed(v, buf, (size_t)got, &err);
		if (st != MT_OK) {
			cli_error("%s: %s", cli_quote(q, fname),
			          err.message[0] ? err.message : mt_strerror(st));
			rc = st == MT_ERANGE ? CLI_EXIT_DATAERR : CLI_EXIT_SOFTWARE;
			break;
		}
		if (!*added && mt_dkim_verify_header_done(v)) {
			st = mt_run_add(run, mt_dkim_verify_job_ops(), v, (unsigned)a->timeout_ms, NULL);
			if (st != MT_OK) {
				cli_error("cannot start the key lookups: %s", mt_strerror(st));
				rc = CLI_EXIT_SOFTWARE;
				break;
			}
			*added = true;
		}
		if (*added && mt_run_process(run) == MT_ENOMEM) {
			cli_error("out of memory");
			rc = CLI_EXIT_SOFTWARE;
			break;
		}
		if (got == 0)
			break;
	}
	free(buf);
	return rc;
}

int cli_dkim_verify_main(int argc, char **argv)
{
	dv_args a;
	mt_dkim_verify_options vo;
	mt_dkim_verify *v = NULL;
	mt_dns_zone *zone = NULL;
	mt_dns_resolver *res = NULL;
	mt_run *run = NULL;
	mt_authres *ar = NULL;
	char *field = NULL;
	const char *result = "none", *fname = "standard input";
	char host[HOST_NAME_MAX + 1], q[CLI_QUOTE_BUF];
	bool added = false;
	mt_error err;
	mt_status st;
	cli_out out;
	int fd = -1, rc;

	rc = parse_args(argc, argv, &a);
	if (rc != 0) {
		rc = rc < 0 ? 0 : rc;
		goto out;
	}
	if (a.file && strcmp(a.file, "-") != 0) {
		fname = a.file;
		fd = open(a.file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("cannot open '%s': %s", cli_quote(q, a.file), strerror(errno));
			rc = CLI_EXIT_NOINPUT;
			goto out;
		}
	}
	rc = cli_open_resolver(&a.dns, &zone, &res);
	if (rc != 0)
		goto out;
	memset(&err, 0, sizeof err);
	mt_dkim_verify_options_init(&vo);
	vo.now = (int64_t)a.now;
	if (mt_dkim_verify_new(&vo, &v, &err) != MT_OK || mt_run_new(res, NULL, &run, &err) != MT_OK) {
		cli_error("%s", err.message[0] ? err.message : "out of memory");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	rc = feed_message(&a, fd >= 0 ? fd : STDIN_FILENO, fname, v, run, &added);
	if (rc != 0)
		goto out;
	if (!added) { /* the header never ended: finish made it complete */
		st = mt_run_add(run, mt_dkim_verify_job_ops(), v, (unsigned)a.timeout_ms, NULL);
		if (st != MT_OK) {
			cli_error("cannot start the key lookups: %s", mt_strerror(st));
			rc = CLI_EXIT_SOFTWARE;
			goto out;
		}
	}
	while (!mt_dkim_verify_done(v) && mt_run_jobs(run) > 0) {
		st = mt_run_wait(run, -1);
		while (mt_run_next(run, NULL, NULL))
			;
		if (st != MT_OK) {
			cli_error("DNS resolver failed: %s", mt_strerror(st));
			rc = CLI_EXIT_SOFTWARE;
			goto out;
		}
	}
	if (!mt_dkim_verify_done(v)) {
		cli_error("internal error: the verification did not finish");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}

	if ((rc = cli_authres_new(&a.authserv_id, host, sizeof host, &ar)) != 0)
		goto out;
	if (mt_dkim_verify_authres(v, ar, &err) != MT_OK ||
	    mt_authres_render(ar, MT_AUTHRES_PREFIX | (a.json ? 0 : MT_AUTHRES_FOLD), 0, &field,
	                      &err) != MT_OK) {
		cli_error("cannot build the Authentication-Results field: %s", err.message);
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	rc = overall(v, &result);
	if (a.json) {
		print_json(v, result, field);
	} else {
		cli_out_init(&out, stdout);
		print_text(&out, v, result, field);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_IOERR;
	}
out:
	if (fd >= 0)
		close(fd);
	mt_free(field);
	mt_authres_free(ar);
	mt_run_free(run);
	mt_dkim_verify_free(v);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return rc;
}
