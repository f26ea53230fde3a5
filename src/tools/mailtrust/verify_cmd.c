/* mailtrust verify: one receiver's verdict on a message (verdict.h): SPF
 * for MAIL FROM and HELO, every DKIM signature, DMARC, and the one
 * Authentication-Results field, printed or prepended to the message. */
#include "cli.h"
#include "json.h"

#include <mailtrust/mailtrust.h>
#include <mailtrust/verdict.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 65536

/* Exit statuses: the DMARC result. */
enum {
	VF_EXIT_PASS = 0,
	VF_EXIT_FAIL = 1,
	VF_EXIT_NONE = 4,
	VF_EXIT_TEMPERROR = 5,
	VF_EXIT_PERMERROR = 6,
};

static void verify_usage(FILE *fp)
{
	fputs("Usage: mailtrust verify --ip IP [options] [FILE|-]\n"
	      "\n"
	      "A receiver's verdict on the message in FILE (default: standard input):\n"
	      "SPF (RFC 7208) for the MAIL FROM identity and, apart from it, for the HELO\n"
	      "name; every DKIM-Signature (RFC 6376); DMARC (RFC 9989) for the From\n"
	      "domain, with its policy and disposition.  Prints the one\n"
	      "Authentication-Results field (RFC 8601) with all of them, or the message\n"
	      "with that field on top (--add-header).\n"
	      "\n"
	      "Options:\n"
	      "      --ip IP               the SMTP client's address (required)\n"
	      "      --helo NAME           the name it gave in HELO/EHLO; checked by SPF on\n"
	      "                            its own, and DMARC's SPF identity when MAIL FROM\n"
	      "                            is null\n"
	      "      --mail-from ADDR      the MAIL FROM address (<> around it are taken off);\n"
	      "                            absent, '' or '<>' is the null reverse-path (a bounce)\n"
	      "      --authserv-id ID      the field's authserv-id (default: this host's name)\n"
	      "      --zone FILE           answer DNS questions from this zone file (offline)\n"
	      "      --resolver ADDR[@PORT]\n"
	      "                            forward DNS questions to this server instead of\n"
	      "                            the ones in /etc/resolv.conf\n"
	      "      --psl                 find Organizational Domains with the Public Suffix\n"
	      "                            List as RFC 7489 did (default: the DNS Tree Walk)\n"
	      "      --now EPOCH           the time for DKIM x=/t= and SPF %{t}, in seconds\n"
	      "                            since 1970 (default: the system clock)\n"
	      "      --timeout MS          time for all DNS lookups (default 30000)\n"
	      "      --add-header          write the message with the field prepended\n"
	      "  -o, --output FILE         write to FILE (created under a temporary name and\n"
	      "                            renamed when complete) instead of standard output\n"
	      "      --json                print one JSON object instead (with --add-header,\n"
	      "                            the message goes to --output)\n"
	      "  -h, --help                show this help and exit\n"
	      "\n"
	      "Exit status (the DMARC result):\n"
	      "  0 pass, 1 fail, 4 none (no DMARC policy applies), 5 temperror (a DNS\n"
	      "  lookup failed; try again later), 6 permerror (no single From domain: no,\n"
	      "  several or unreadable From fields, or a header over the limits),\n"
	      "  64 usage error, 65 malformed zone file, 66 unreadable zone or message\n"
	      "  file, 69 the DNS resolver cannot be set up, 70 internal error, 73 the\n"
	      "  output file cannot be created, 74 reading or writing failed.\n",
	      fp);
}

enum {
	OPT_IP = 256,
	OPT_HELO,
	OPT_MAIL_FROM,
	OPT_AUTHSERV,
	OPT_ZONE,
	OPT_RESOLVER,
	OPT_PSL,
	OPT_NOW,
	OPT_TIMEOUT,
	OPT_ADD_HEADER,
	OPT_JSON,
};

typedef struct vf_args {
	const char *file;
	const char *ip, *helo, *mail_from, *authserv_id, *out;
	char *mail_from_buf;
	cli_dns dns;
	bool psl, add_header, json;
	unsigned long long now;
	unsigned long timeout_ms;
} vf_args;

static int parse_args(int argc, char **argv, vf_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "ip", required_argument, NULL, OPT_IP },
		{ "helo", required_argument, NULL, OPT_HELO },
		{ "mail-from", required_argument, NULL, OPT_MAIL_FROM },
		{ "authserv-id", required_argument, NULL, OPT_AUTHSERV },
		{ "zone", required_argument, NULL, OPT_ZONE },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "psl", no_argument, NULL, OPT_PSL },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "add-header", no_argument, NULL, OPT_ADD_HEADER },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;
	char q[CLI_QUOTE_BUF];

	memset(a, 0, sizeof *a);
	a->timeout_ms = 30000;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			verify_usage(stdout);
			return -1;
		case OPT_IP:
			if (!cli_parse_ip("--ip", optarg))
				return CLI_EXIT_USAGE;
			a->ip = optarg;
			break;
		case OPT_HELO: a->helo = optarg; break;
		case OPT_MAIL_FROM: a->mail_from = optarg; break;
		case OPT_AUTHSERV: a->authserv_id = optarg; break;
		case OPT_ZONE: a->dns.zone = optarg; break;
		case OPT_RESOLVER: a->dns.resolver = optarg; break;
		case OPT_PSL: a->psl = true; break;
		case OPT_ADD_HEADER: a->add_header = true; break;
		case OPT_JSON: a->json = true; break;
		case 'o': a->out = optarg; break;
		case OPT_NOW:
			if (!cli_parse_uint("--now", optarg, 1, 253402300799UL, &v))
				return CLI_EXIT_USAGE;
			a->now = v;
			break;
		case OPT_TIMEOUT:
			if (!cli_parse_uint("--timeout", optarg, 1, 3600000, &a->timeout_ms))
				return CLI_EXIT_USAGE;
			break;
		default:
			cli_bad_option(c, argv, "mailtrust verify");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'mailtrust verify --help')",
		          cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (!a->ip) {
		cli_error("--ip is required: the SMTP client's address (see 'mailtrust verify --help')");
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
	if (a->json && a->add_header && !a->out) {
		cli_error("--json with --add-header needs --output for the message");
		return CLI_EXIT_USAGE;
	}
	if (a->helo && a->helo[0] == '\0')
		a->helo = NULL;
	/* "<>" is the null reverse-path; "<addr>" is addr, as SMTP writes it */
	if (a->mail_from) {
		size_t n = strlen(a->mail_from);
		if (n >= 2 && a->mail_from[0] == '<' && a->mail_from[n - 1] == '>') {
			a->mail_from_buf = strndup(a->mail_from + 1, n - 2);
			if (!a->mail_from_buf) {
				cli_error("out of memory");
				return CLI_EXIT_SOFTWARE;
			}
			a->mail_from = a->mail_from_buf;
		}
	}
	return 0;
}

typedef struct msgbuf {
	char *data;     /* one chunk */
	bool crlf;      /* the first line ends in CRLF (or there is no line end) */
	bool seen_lf;
	char last;      /* the last octet read before the first LF */
	FILE *spool;    /* --add-header: the message as read, to copy out again */
} msgbuf;

/* Read all of fd, feeding the verdict chunk by chunk as it comes; memory
 * stays flat.  With keep (--add-header) the message is spooled to a
 * temporary file (unlinked at once) to be written out after the field.
 * 0 or an exit status. */
static int read_message(int fd, const char *fname, mt_verdict *v, msgbuf *m, bool keep)
{
	mt_error err;
	char q[CLI_QUOTE_BUF];

	m->crlf = true;
	if (!(m->data = malloc(READ_CHUNK))) {
		cli_error("out of memory");
		return CLI_EXIT_SOFTWARE;
	}
	if (keep && !(m->spool = tmpfile())) {
		cli_error("cannot make a temporary file for the message: %s", strerror(errno));
		return CLI_EXIT_CANTCREAT;
	}
	for (;;) {
		ssize_t got = read(fd, m->data, READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cli_error("reading %s failed: %s", cli_quote(q, fname), strerror(errno));
			return CLI_EXIT_IOERR;
		}
		memset(&err, 0, sizeof err);
		mt_status st = got == 0 ? mt_verdict_finish(v, &err)
		                        : mt_verdict_feed(v, m->data, (size_t)got, &err);
		if (st != MT_OK) {
			cli_error("%s: %s", cli_quote(q, fname),
			          err.message[0] ? err.message : mt_strerror(st));
			return CLI_EXIT_SOFTWARE;
		}
		if (got == 0)
			return 0;
		if (!m->seen_lf) {
			const char *nl = memchr(m->data, '\n', (size_t)got);
			if (nl) {
				m->seen_lf = true;
				m->crlf = (nl > m->data ? nl[-1] : m->last) == '\r';
			}
			m->last = m->data[got - 1];
		}
		if (m->spool && fwrite(m->data, 1, (size_t)got, m->spool) != (size_t)got) {
			cli_error("writing the temporary copy of the message failed: %s", strerror(errno));
			return CLI_EXIT_IOERR;
		}
	}
}

/* Copy the spooled message to ofd. */
static bool copy_spool(FILE *spool, int ofd, char *buf)
{
	size_t n;
	if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0)
		return false;
	while ((n = fread(buf, 1, READ_CHUNK, spool)) > 0)
		if (!cli_write_all(ofd, buf, n))
			return false;
	return !ferror(spool);
}

/* The folded field with the message's line ends (CRLF when its first line
 * has one, else LF), and a final line end. */
static char *field_for_message(const char *field, const msgbuf *m, size_t *len)
{
	bool crlf = m->crlf;
	size_t n = strlen(field);
	char *out = malloc(n + 3);
	size_t k = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!crlf && field[i] == '\r' && i + 1 < n && field[i + 1] == '\n')
			continue;
		out[k++] = field[i];
	}
	if (crlf)
		out[k++] = '\r';
	out[k++] = '\n';
	*len = k;
	return out;
}

static void json_spf(json_writer *w, const mt_spf_outcome *o)
{
	if (!o) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_key(w, "result");
	json_string(w, mt_spf_result_name(o->result));
	json_key(w, "domain");
	json_string(w, o->domain ? o->domain : "");
	json_key(w, "sender");
	json_string(w, o->sender ? o->sender : "");
	json_key(w, "mechanism");
	if (o->mechanism)
		json_string(w, o->mechanism);
	else
		json_null(w);
	json_key(w, "problem");
	if (o->problem)
		json_string(w, o->problem);
	else
		json_null(w);
	json_end_object(w);
}

static void print_json(FILE *fp, const mt_verdict *v, const char *field)
{
	const mt_verdict_outcome *o = mt_verdict_result(v);
	const mt_dmarc_outcome *d = mt_verdict_dmarc(v);
	const mt_dkim_verify *dk = mt_verdict_dkim(v);
	json_writer w;

	json_init(&w, fp);
	json_begin_object(&w);
	json_key(&w, "dmarc");
	json_begin_object(&w);
	json_key(&w, "result");
	json_string(&w, mt_dmarc_result_name(o->dmarc));
	json_key(&w, "policy");
	if (o->policy != MT_DMARC_POLICY_ABSENT)
		json_string(&w, mt_dmarc_policy_name(o->policy));
	else
		json_null(&w);
	json_key(&w, "disposition");
	if (o->disposition != MT_DMARC_POLICY_ABSENT)
		json_string(&w, mt_dmarc_policy_name(o->disposition));
	else
		json_null(&w);
	json_key(&w, "policy_tag");
	json_string(&w, d ? d->policy_tag : "");
	json_key(&w, "policy_domain");
	json_string(&w, d ? d->policy_domain : "");
	json_key(&w, "testing");
	json_bool(&w, d && d->testing);
	json_key(&w, "spf_aligned");
	json_bool(&w, d && d->spf_aligned);
	json_key(&w, "dkim_aligned");
	json_bool(&w, d && d->dkim_aligned);
	json_key(&w, "reason");
	json_string(&w, o->reason);
	json_end_object(&w);
	json_key(&w, "from");
	json_begin_object(&w);
	json_key(&w, "status");
	json_string(&w, mt_dmarc_from_status_name(o->from_status));
	json_key(&w, "domain");
	json_string(&w, o->from_domain);
	json_end_object(&w);
	json_key(&w, "header_error");
	json_bool(&w, o->header_error);
	json_key(&w, "spf");
	json_begin_object(&w);
	json_key(&w, "mailfrom");
	json_spf(&w, mt_verdict_spf_mailfrom(v));
	json_key(&w, "helo");
	json_spf(&w, mt_verdict_spf_helo(v));
	json_end_object(&w);
	json_key(&w, "dkim");
	json_begin_array(&w);
	for (size_t k = 0; dk && k < mt_dkim_verify_count(dk); k++) {
		const mt_dkim_sig_result *r = mt_dkim_verify_result(dk, k);
		json_begin_object(&w);
		json_key(&w, "result");
		json_string(&w, mt_dkim_result_name(r->result));
		json_key(&w, "reason");
		json_string(&w, r->reason);
		json_key(&w, "d");
		json_string(&w, r->d);
		json_key(&w, "s");
		json_string(&w, r->s);
		json_key(&w, "a");
		json_string(&w, r->a);
		json_key(&w, "b");
		json_string(&w, r->b);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "authentication_results");
	json_string(&w, field);
	json_end_object(&w);
	json_finish(&w);
}

static int exit_status(mt_dmarc_result r)
{
	switch (r) {
	case MT_DMARC_RESULT_PASS: return VF_EXIT_PASS;
	case MT_DMARC_RESULT_FAIL: return VF_EXIT_FAIL;
	case MT_DMARC_RESULT_NONE: return VF_EXIT_NONE;
	case MT_DMARC_RESULT_TEMPERROR: return VF_EXIT_TEMPERROR;
	case MT_DMARC_RESULT_PERMERROR: return VF_EXIT_PERMERROR;
	}
	return CLI_EXIT_SOFTWARE;
}

int cli_verify_main(int argc, char **argv)
{
	vf_args a;
	mt_verdict_options vo;
	mt_verdict *v = NULL;
	mt_dns_zone *zone = NULL;
	mt_dns_resolver *res = NULL;
	msgbuf m = { 0 };
	mt_authres *ar = NULL;
	char *field = NULL, *mfield = NULL;
	const char *fname = "standard input";
	char host[HOST_NAME_MAX + 1], q[CLI_QUOTE_BUF], tmp[PATH_MAX];
	bool tmp_made = false;
	mt_error err;
	mt_status st;
	int fd = -1, out_fd = -1, rc;
	size_t mflen = 0;

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
	/* a bad authserv-id is a usage error, found before any lookup */
	if ((rc = cli_authres_new(&a.authserv_id, host, sizeof host, &ar)) != 0)
		goto out;
	memset(&err, 0, sizeof err);
	rc = cli_open_resolver(&a.dns, &zone, &res);
	if (rc != 0)
		goto out;
	memset(&err, 0, sizeof err);
	mt_verdict_options_init(&vo);
	vo.now = (int64_t)a.now;
	vo.timeout_ms = (unsigned)a.timeout_ms;
	vo.org_mode = a.psl ? MT_DMARC_ORG_PSL : MT_DMARC_ORG_TREEWALK;
	vo.receiver = a.authserv_id;
	if ((st = mt_verdict_new(&vo, &v, &err)) != MT_OK) {
		cli_error("%s", err.message[0] ? err.message : mt_strerror(st));
		rc = st == MT_EIO ? CLI_EXIT_NOINPUT : CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (mt_verdict_set_connection(v, a.ip, a.helo, &err) != MT_OK) {
		cli_error("--ip: %s", err.message);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (mt_verdict_set_mail_from(v, a.mail_from, &err) != MT_OK) {
		cli_error("%s", err.message);
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	rc = read_message(fd >= 0 ? fd : STDIN_FILENO, fname, v, &m, a.add_header);
	if (rc != 0)
		goto out;
	st = mt_verdict_run(v, res);
	if (st != MT_OK && !mt_verdict_done(v)) {
		cli_error("DNS resolver failed: %s", mt_strerror(st));
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (mt_verdict_authres_field(v, a.authserv_id, MT_AUTHRES_PREFIX, &field, &err) != MT_OK) {
		cli_error("cannot build the Authentication-Results field: %s", err.message);
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	if (a.add_header) {
		char *folded = NULL;
		if (mt_verdict_authres_field(v, a.authserv_id, MT_AUTHRES_PREFIX | MT_AUTHRES_FOLD,
		                             &folded, &err) != MT_OK ||
		    !(mfield = field_for_message(folded, &m, &mflen))) {
			mt_free(folded);
			cli_error("cannot build the field: %s", err.message);
			rc = CLI_EXIT_SOFTWARE;
			goto out;
		}
		mt_free(folded);
	}
	if (a.out) {
		rc = cli_outfile_open(a.out, tmp, &out_fd, "");
		tmp_made = tmp[0] != '\0';
		if (rc != 0)
			goto out;
	}
	if (a.add_header) {
		int ofd = out_fd >= 0 ? out_fd : STDOUT_FILENO;
		if (!cli_write_all(ofd, mfield, mflen) || !copy_spool(m.spool, ofd, m.data))
			goto write_error;
	} else if (!a.json) {
		int ofd = out_fd >= 0 ? out_fd : STDOUT_FILENO;
		if (!cli_write_all(ofd, field, strlen(field)) || !cli_write_all(ofd, "\n", 1))
			goto write_error;
	}
	if (a.json) {
		if (a.out && !a.add_header) {
			FILE *fp = fdopen(out_fd, "w");
			if (!fp)
				goto write_error;
			print_json(fp, v, field);
			out_fd = -1;
			if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
				fclose(fp);
				goto write_error;
			}
			if (fclose(fp) != 0)
				goto write_error;
		} else {
			print_json(stdout, v, field);
		}
	}
	if (a.out) {
		if ((rc = cli_outfile_commit(&out_fd, tmp, a.out, "")) != 0)
			goto out;
		tmp_made = false;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_IOERR;
		goto out;
	}
	rc = exit_status(mt_verdict_result(v)->dmarc);
	goto out;

write_error:
	cli_error("writing %s failed: %s", a.out ? cli_quote(q, a.out) : "standard output",
	          strerror(errno));
	rc = CLI_EXIT_IOERR;
out:
	if (out_fd >= 0)
		close(out_fd);
	if (tmp_made)
		unlink(tmp);
	if (fd >= 0)
		close(fd);
	free(m.data);
	if (m.spool)
		fclose(m.spool);
	free(mfield);
	free(a.mail_from_buf);
	mt_free(field);
	mt_authres_free(ar);
	mt_verdict_free(v);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return rc;
}
