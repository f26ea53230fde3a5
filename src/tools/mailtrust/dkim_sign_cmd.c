/* mailtrust dkim sign: sign a message with one or more keys (the library
 * does the work: dkim_sign.h) and write the signature fields followed by
 * the message as it was read. */
#include "cli.h"

#include <mailtrust/mailtrust.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Exit statuses of dkim sign besides the common ones (cli.h). */
enum {
	SIGN_EXIT_UNPUBLISHED = 3, /* --check-published: not the published key */
	SIGN_EXIT_DNS = 5,         /* --check-published: the key could not be looked up */
};

#define SIGN_CHUNK 65536
#define KEY_FILE_MAX (64 * 1024)

enum {
	OPT_DOMAIN = 256,
	OPT_SELECTOR,
	OPT_KEY,
	OPT_CANON,
	OPT_HEADERS,
	OPT_OVERSIGN,
	OPT_EXPIRE,
	OPT_TIMESTAMP,
	OPT_BODY_LENGTH,
	OPT_IDENTITY,
	OPT_CHECK,
	OPT_ZONE,
	OPT_RESOLVER,
	OPT_TIMEOUT,
};

static void sign_usage(FILE *fp)
{
	fputs("Usage: mailtrust dkim sign --domain DOMAIN --selector SELECTOR --key FILE\n"
	      "                           [--selector S2 --key FILE2 ...] [options] [FILE|-]\n"
	      "\n"
	      "Sign the message in FILE (default: standard input) and write the\n"
	      "DKIM-Signature fields followed by the message, unchanged, to standard\n"
	      "output or to --output.  Several keys (an RSA and an ed25519 key, say) sign\n"
	      "in one pass; the n-th --key goes with the n-th --selector.  The fields end\n"
	      "their lines as the message's first line does (CRLF or LF).\n"
	      "\n"
	      "Options:\n"
	      "      --domain DOMAIN      the signing domain (d=): once for all keys, or once\n"
	      "                           per key, in order\n"
	      "      --selector SELECTOR  the selector (s=) of the next key\n"
	      "      --key FILE           a private key: PEM (PKCS#8 or \"RSA PRIVATE KEY\"),\n"
	      "                           RSA of 1024 to 8192 bits or ed25519, unencrypted\n"
	      "      --identity ID        the agent or user identifier (i=), \"[local]@domain\"\n"
	      "                           with domain the signing domain or a subdomain of it:\n"
	      "                           once for all keys, or once per key\n"
	      "      --canon HDR/BODY     canonicalization (c=): simple or relaxed for each\n"
	      "                           (default relaxed/relaxed; \"relaxed\" alone means\n"
	      "                           relaxed/simple, as c= reads)\n"
	      "      --headers A:B:C      the fields to sign (default: From, Reply-To, Subject,\n"
	      "                           Date, To, Cc, Resent-*, In-Reply-To, References,\n"
	      "                           Message-ID, MIME and List-* fields, Sender); must\n"
	      "                           name From; each name is signed once per field\n"
	      "                           present\n"
	      "      --oversign A:B       names signed once more than present, so that such\n"
	      "                           a field added later breaks the signature (default\n"
	      "                           From; \"\" for none)\n"
	      "      --expire SECONDS     write x= that many seconds after t=\n"
	      "      --timestamp T        t= (seconds since the Epoch) instead of the current\n"
	      "                           time; 0 writes no t= (and allows no --expire)\n"
	      "      --body-length        write l= (warned: anyone may then append text to\n"
	      "                           the body that still verifies)\n"
	      "  -o, --output FILE        write to FILE (through a temporary file beside it,\n"
	      "                           renamed when complete; never the input file)\n"
	      "      --check-published    refuse a key whose public key is not the one\n"
	      "                           published at SELECTOR._domainkey.DOMAIN\n"
	      "      --zone FILE          with --check-published: answer from this zone file\n"
	      "      --resolver ADDR[@PORT] with --check-published: forward DNS questions to\n"
	      "                           this server (default: /etc/resolv.conf)\n"
	      "      --timeout MS         with --check-published: time for each key lookup\n"
	      "                           (default 20000)\n"
	      "  -h, --help               show this help and exit\n"
	      "\n"
	      "Exit status: 0 signed, 3 a key is not the published one (--check-published),\n"
	      "5 a published key could not be looked up, 64 usage error, 65 the message\n"
	      "cannot be signed or a key file holds no usable key (or a malformed zone),\n"
	      "66 the message or a key file cannot be read, 69 no DNS resolver, 70 internal\n"
	      "error, 73 the output file cannot be created, 74 writing the output failed.\n",
	      fp);
}

#define MAX_ARGS MT_DKIM_SIGN_MAX_KEYS

typedef struct sign_args {
	const char *domains[MAX_ARGS], *selectors[MAX_ARGS], *keys[MAX_ARGS], *ids[MAX_ARGS];
	size_t nd, ns, nk, ni;
	const char *canon, *headers, *oversign, *out, *in;
	unsigned long expire, timestamp, timeout_ms;
	bool has_timestamp, body_length, check;
	cli_dns dns;
} sign_args;

static bool push(const char **list, size_t *n, const char *opt, const char *v)
{
	if (*n >= MAX_ARGS) {
		cli_error("dkim sign: %s: at most %d", opt, MAX_ARGS);
		return false;
	}
	list[(*n)++] = v;
	return true;
}

static int parse_args(int argc, char **argv, sign_args *a)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "domain", required_argument, NULL, OPT_DOMAIN },
		{ "selector", required_argument, NULL, OPT_SELECTOR },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "identity", required_argument, NULL, OPT_IDENTITY },
		{ "canon", required_argument, NULL, OPT_CANON },
		{ "headers", required_argument, NULL, OPT_HEADERS },
		{ "oversign", required_argument, NULL, OPT_OVERSIGN },
		{ "expire", required_argument, NULL, OPT_EXPIRE },
		{ "timestamp", required_argument, NULL, OPT_TIMESTAMP },
		{ "body-length", no_argument, NULL, OPT_BODY_LENGTH },
		{ "output", required_argument, NULL, 'o' },
		{ "check-published", no_argument, NULL, OPT_CHECK },
		{ "zone", required_argument, NULL, OPT_ZONE },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	char q[CLI_QUOTE_BUF];
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			sign_usage(stdout);
			return -1;
		case OPT_DOMAIN:
			if (!push(a->domains, &a->nd, "--domain", optarg))
				return CLI_EXIT_USAGE;
			break;
		case OPT_SELECTOR:
			if (!push(a->selectors, &a->ns, "--selector", optarg))
				return CLI_EXIT_USAGE;
			break;
		case OPT_KEY:
			if (!push(a->keys, &a->nk, "--key", optarg))
				return CLI_EXIT_USAGE;
			break;
		case OPT_IDENTITY:
			if (!push(a->ids, &a->ni, "--identity", optarg))
				return CLI_EXIT_USAGE;
			break;
		case OPT_CANON: a->canon = optarg; break;
		case OPT_HEADERS: a->headers = optarg; break;
		case OPT_OVERSIGN: a->oversign = optarg; break;
		case OPT_EXPIRE:
			if (!cli_parse_uint("dkim sign: --expire", optarg, 1, 1UL << 32, &a->expire))
				return CLI_EXIT_USAGE;
			break;
		case OPT_TIMESTAMP:
			if (!cli_parse_uint("dkim sign: --timestamp", optarg, 0, 1UL << 40, &a->timestamp))
				return CLI_EXIT_USAGE;
			a->has_timestamp = true;
			break;
		case OPT_BODY_LENGTH: a->body_length = true; break;
		case 'o': a->out = optarg; break;
		case OPT_CHECK: a->check = true; break;
		case OPT_ZONE: a->dns.zone = optarg; break;
		case OPT_RESOLVER: a->dns.resolver = optarg; break;
		case OPT_TIMEOUT:
			if (!cli_parse_uint("dkim sign: --timeout", optarg, 1, 3600000, &a->timeout_ms))
				return CLI_EXIT_USAGE;
			break;
		default:
			cli_bad_option(c, argv, "mailtrust dkim sign");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->in = argv[optind++];
	if (optind < argc) {
		cli_error("dkim sign: unexpected argument '%s' (one message at a time; see "
		          "'mailtrust dkim sign --help')", cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (a->nk == 0 || a->nd == 0 || a->ns == 0) {
		cli_error("dkim sign: %s is required (see 'mailtrust dkim sign --help')",
		          a->nd == 0 ? "--domain" : a->ns == 0 ? "--selector" : "--key");
		return CLI_EXIT_USAGE;
	}
	if (a->ns != a->nk) {
		cli_error("dkim sign: %zu --key and %zu --selector: give one selector per key, in "
		          "the same order", a->nk, a->ns);
		return CLI_EXIT_USAGE;
	}
	if (a->nd != 1 && a->nd != a->nk) {
		cli_error("dkim sign: %zu --domain for %zu keys: give one for all, or one per key",
		          a->nd, a->nk);
		return CLI_EXIT_USAGE;
	}
	if (a->ni > 1 && a->ni != a->nk) {
		cli_error("dkim sign: %zu --identity for %zu keys: give one for all, or one per key",
		          a->ni, a->nk);
		return CLI_EXIT_USAGE;
	}
	if (a->dns.zone && a->dns.resolver) {
		cli_error("dkim sign: --zone cannot be combined with --resolver");
		return CLI_EXIT_USAGE;
	}
	if ((a->dns.zone || a->dns.resolver || a->timeout_ms) && !a->check) {
		cli_error("dkim sign: --%s is only used with --check-published",
		          a->dns.zone ? "zone" : a->dns.resolver ? "resolver" : "timeout");
		return CLI_EXIT_USAGE;
	}
	if (a->has_timestamp && a->timestamp == 0 && a->expire) {
		cli_error("dkim sign: --expire needs a timestamp (--timestamp 0 writes none)");
		return CLI_EXIT_USAGE;
	}
	if (a->out && (*a->out == '\0' || strcmp(a->out, "-") == 0))
		a->out = NULL; /* standard output */
	return 0;
}

/* Read a whole key file (at most KEY_FILE_MAX octets) and load it. */
static int load_key(const char *path, mt_dkim_keygen **out)
{
	char *buf = NULL, q[CLI_QUOTE_BUF], esc[600];
	size_t len = 0;
	mt_error err = { 0 };
	int fd, rc = CLI_EXIT_NOINPUT;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_error("dkim sign: cannot read the key file '%s': %s", cli_quote(q, path),
		          strerror(errno));
		return CLI_EXIT_NOINPUT;
	}
	buf = malloc(KEY_FILE_MAX + 1);
	if (!buf) {
		rc = CLI_EXIT_SOFTWARE;
		cli_error("dkim sign: out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, KEY_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("dkim sign: cannot read the key file '%s': %s", cli_quote(q, path),
			          strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > KEY_FILE_MAX) {
			cli_error("dkim sign: the key file '%s' is larger than %d octets: not a key",
			          cli_quote(q, path), KEY_FILE_MAX);
			rc = CLI_EXIT_DATAERR;
			goto out;
		}
	}
	if (mt_dkim_keygen_from_pem(buf, len, out, &err) != MT_OK) {
		cli_error("dkim sign: the key file '%s' holds no usable key: %s", cli_quote(q, path),
		          cli_escape(esc, sizeof esc, err.message, sizeof err.message));
		rc = err.status == MT_ENOMEM ? CLI_EXIT_SOFTWARE : CLI_EXIT_DATAERR;
		goto out;
	}
	rc = 0;
out:
	if (buf) {
		memset(buf, 0, len);
		free(buf);
	}
	close(fd);
	return rc;
}

/* Is the key published at selector._domainkey.domain? 0, or an exit status. */
static int check_published(mt_dns_resolver *res, unsigned timeout_ms, const mt_dkim_keygen *key,
                           const char *keyfile, const char *domain, const char *selector)
{
	char name[600], q[CLI_QUOTE_BUF], why[512], best[512];
	mt_dns_answer *ans = NULL;
	mt_dkim_key_match best_m = MT_DKIM_KEY_UNUSABLE;
	char *txt = NULL;
	size_t nkeys = 0;
	int rc = SIGN_EXIT_UNPUBLISHED;
	mt_status st;

	snprintf(name, sizeof name, "%s._domainkey.%s", selector, domain);
	st = mt_dns_resolve(res, name, MT_DNS_TXT, timeout_ms, &ans);
	if (st != MT_OK) {
		cli_error("dkim sign: looking up the key at %s failed: %s", name, mt_strerror(st));
		return SIGN_EXIT_DNS;
	}
	if (ans->rcode == MT_DNS_NXDOMAIN) {
		cli_error("dkim sign: no key is published at %s (NXDOMAIN); publish the record "
		          "that 'mailtrust dkim keygen' printed for '%s'", name, cli_quote(q, keyfile));
		goto out;
	}
	if (ans->rcode != MT_DNS_NOERROR) {
		cli_error("dkim sign: looking up the key at %s failed: %s%s%s", name,
		          mt_dns_rcode_name(ans->rcode), ans->why ? ", " : "", ans->why ? ans->why : "");
		rc = SIGN_EXIT_DNS;
		goto out;
	}
	txt = malloc(65536);
	if (!txt) {
		cli_error("dkim sign: out of memory");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	best[0] = '\0';
	for (size_t r = 0; r < ans->count; r++) {
		mt_dkim_key_match m;
		size_t len;
		if (ans->rr[r].type != MT_DNS_TXT)
			continue;
		nkeys++;
		len = mt_dns_txt_join(ans->rr[r].data, ans->rr[r].len, txt, 65536);
		if (len >= 65536)
			len = 65535;
		if (mt_dkim_key_match_record(key, txt, len, &m, why, sizeof why) != MT_OK) {
			cli_error("dkim sign: out of memory");
			rc = CLI_EXIT_SOFTWARE;
			goto out;
		}
		if (m == MT_DKIM_KEY_MATCH) {
			rc = 0;
			goto out;
		}
		/* report the most telling reason: another key, then revoked, then unusable */
		if (best[0] == '\0' || m < best_m) {
			best_m = m;
			snprintf(best, sizeof best, "%s", why);
		}
	}
	if (nkeys == 0)
		cli_error("dkim sign: no key is published at %s (no TXT record)", name);
	else
		cli_error("dkim sign: the key in '%s' is not the one published at %s: %s",
		          cli_quote(q, keyfile), name, best);
out:
	free(txt);
	mt_dns_answer_free(ans);
	return rc;
}

/*
 * The line (from 1) of the input offset a library message names ("offset
 * N"), counting the LFs before it in fd (read again from start into buf,
 * SIGN_CHUNK octets); 0 when the message names none or fd cannot be read
 * again.
 */
static unsigned long offset_line(const char *msg, int fd, off_t start, char *buf)
{
	const char *p = strstr(msg, "offset ");
	unsigned long long off = 0, done = 0;
	unsigned long line = 1;

	if (!p || !buf || p[7] < '0' || p[7] > '9')
		return 0;
	for (p += 7; *p >= '0' && *p <= '9' && off < (1ULL << 50); p++)
		off = off * 10 + (unsigned long long)(*p - '0');
	if (lseek(fd, start, SEEK_SET) != start)
		return 0;
	while (done < off) {
		size_t want = off - done < SIGN_CHUNK ? (size_t)(off - done) : SIGN_CHUNK;
		ssize_t n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		for (ssize_t k = 0; k < n; k++)
			line += buf[k] == '\n';
		done += (unsigned long long)n;
	}
	return line;
}

/* A name for messages: the input file or "standard input". */
static const char *in_name(const sign_args *a, char q[CLI_QUOTE_BUF])
{
	return a->in ? cli_quote(q, a->in) : "standard input";
}

int cli_dkim_sign_main(int argc, char **argv)
{
	sign_args a;
	mt_dkim_keygen *keys[MAX_ARGS] = { 0 };
	mt_dkim_sign_options o;
	mt_dkim_sign *s = NULL;
	mt_dns_zone *zone = NULL;
	mt_dns_resolver *res = NULL;
	mt_error err = { 0 };
	char q[CLI_QUOTE_BUF], q2[CLI_QUOTE_BUF], esc[600], tmp[PATH_MAX];
	char *buf = NULL, *lf_fields = NULL;
	const char *fields;
	size_t flen = 0;
	uint64_t total = 0, copied = 0;
	struct stat in_st;
	off_t in_start = -1;
	int in_fd = -1, spool_fd = -1, src_fd, out_fd = -1, rc;
	bool tmp_made = false, first = true, lf = false;

	memset(&a, 0, sizeof a);
	rc = parse_args(argc, argv, &a);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = CLI_EXIT_SOFTWARE;

	mt_dkim_sign_options_init(&o);
	if (a.canon && mt_dkim_sign_parse_canon(a.canon, &o.canon_header, &o.canon_body, &err) != MT_OK) {
		cli_error("dkim sign: --canon: %s", err.message);
		return CLI_EXIT_USAGE;
	}
	o.headers = a.headers;
	o.oversign = a.oversign;
	o.now = a.has_timestamp ? (int64_t)a.timestamp : (int64_t)time(NULL);
	o.expire = a.expire;
	o.body_length = a.body_length;
	if (a.body_length)
		cli_error("dkim sign: warning: --body-length writes l=; text appended to the body "
		          "later still verifies (RFC 6376 8.2)");

	/* the input, and that the output is not it */
	if (a.in && strcmp(a.in, "-") != 0) {
		in_fd = open(a.in, O_RDONLY | O_CLOEXEC);
		if (in_fd < 0) {
			cli_error("dkim sign: cannot read '%s': %s", cli_quote(q, a.in), strerror(errno));
			return CLI_EXIT_NOINPUT;
		}
	} else {
		a.in = NULL;
		in_fd = STDIN_FILENO;
	}
	if (fstat(in_fd, &in_st) != 0) {
		cli_error("dkim sign: cannot read %s: %s", in_name(&a, q), strerror(errno));
		rc = CLI_EXIT_NOINPUT;
		goto out;
	}
	if (a.out) {
		struct stat ost;
		if (stat(a.out, &ost) == 0 && ost.st_dev == in_st.st_dev && ost.st_ino == in_st.st_ino) {
			cli_error("dkim sign: --output '%s' is the input file; not overwriting it",
			          cli_quote(q, a.out));
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}

	for (size_t k = 0; k < a.nk; k++) {
		rc = load_key(a.keys[k], &keys[k]);
		if (rc != 0)
			goto out;
	}
	rc = CLI_EXIT_SOFTWARE;
	if (mt_dkim_sign_new(&o, &s, &err) != MT_OK) {
		cli_error("dkim sign: %s", cli_escape(esc, sizeof esc, err.message, sizeof err.message));
		rc = err.status == MT_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_SOFTWARE;
		goto out;
	}
	for (size_t k = 0; k < a.nk; k++) {
		const char *d = a.domains[a.nd == 1 ? 0 : k];
		const char *id = a.ni == 0 ? NULL : a.ids[a.ni == 1 ? 0 : k];
		if (mt_dkim_sign_add(s, keys[k], d, a.selectors[k], id, &err) != MT_OK) {
			cli_error("dkim sign: key %zu ('%s'): %s", k + 1, cli_quote(q, a.keys[k]),
			          cli_escape(esc, sizeof esc, err.message, sizeof err.message));
			rc = err.status == MT_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_SOFTWARE;
			goto out;
		}
	}
	if (a.check) {
		rc = cli_open_resolver(&a.dns, &zone, &res);
		if (rc != 0)
			goto out;
		for (size_t k = 0; k < a.nk; k++) {
			char d[300];
			size_t dl;
			snprintf(d, sizeof d, "%s", a.domains[a.nd == 1 ? 0 : k]);
			dl = strlen(d);
			if (dl > 1 && d[dl - 1] == '.')
				d[dl - 1] = '\0';
			rc = check_published(res, a.timeout_ms ? (unsigned)a.timeout_ms : 20000, keys[k],
			                     a.keys[k], d, a.selectors[k]);
			if (rc != 0)
				goto out;
		}
		rc = CLI_EXIT_SOFTWARE;
	}

	/* A pipe or terminal is kept in an unlinked temporary file to be
	 * copied after the fields; a regular file is read again. */
	if (S_ISREG(in_st.st_mode))
		in_start = lseek(in_fd, 0, SEEK_CUR); /* standard input may be part read */
	if (!S_ISREG(in_st.st_mode) || in_start < 0) {
		FILE *tf = tmpfile();
		in_start = 0;
		if (!tf || (spool_fd = dup(fileno(tf))) < 0) {
			cli_error("dkim sign: cannot create a temporary file for the message: %s",
			          strerror(errno));
			if (tf)
				fclose(tf);
			rc = CLI_EXIT_CANTCREAT;
			goto out;
		}
		fclose(tf);
	}
	buf = malloc(SIGN_CHUNK);
	if (!buf) {
		cli_error("dkim sign: out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(in_fd, buf, SIGN_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("dkim sign: reading %s failed: %s", in_name(&a, q), strerror(errno));
			rc = CLI_EXIT_NOINPUT;
			goto out;
		}
		if (n == 0)
			break;
		if (first) {
			/* the fields end their lines as the first line does */
			const char *nl = memchr(buf, '\n', (size_t)n);
			first = false;
			lf = nl && (nl == buf || nl[-1] != '\r');
		}
		if (spool_fd >= 0 && !cli_write_all(spool_fd, buf, (size_t)n)) {
			cli_error("dkim sign: writing the temporary copy of the message failed: %s",
			          strerror(errno));
			rc = CLI_EXIT_IOERR;
			goto out;
		}
		if (mt_dkim_sign_feed(s, buf, (size_t)n, &err) != MT_OK)
			goto sign_error;
		total += (uint64_t)n;
	}
	if (mt_dkim_sign_finish(s, &err) != MT_OK)
		goto sign_error;
	fields = mt_dkim_sign_fields(s, &flen);
	if (lf) {
		/* the library signs the fields as returned with either line end */
		size_t w = 0;
		lf_fields = malloc(flen + 1);
		if (!lf_fields) {
			cli_error("dkim sign: out of memory");
			goto out;
		}
		for (size_t k = 0; k < flen; k++)
			if (!(fields[k] == '\r' && k + 1 < flen && fields[k + 1] == '\n'))
				lf_fields[w++] = fields[k];
		fields = lf_fields;
		flen = w;
	}

	/* the output */
	if (a.out) {
		rc = cli_outfile_open(a.out, tmp, &out_fd, "dkim sign: ");
		tmp_made = tmp[0] != '\0';
		if (rc != 0)
			goto out;
	} else {
		out_fd = STDOUT_FILENO;
	}
	src_fd = spool_fd >= 0 ? spool_fd : in_fd;
	if (lseek(src_fd, spool_fd >= 0 ? 0 : in_start, SEEK_SET) != (spool_fd >= 0 ? 0 : in_start)) {
		cli_error("dkim sign: cannot read %s again: %s", in_name(&a, q), strerror(errno));
		rc = CLI_EXIT_NOINPUT;
		goto out;
	}
	if (!cli_write_all(out_fd, fields, flen))
		goto write_error;
	for (;;) {
		ssize_t n = read(src_fd, buf, SIGN_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("dkim sign: reading %s again failed: %s", in_name(&a, q), strerror(errno));
			rc = CLI_EXIT_NOINPUT;
			goto out;
		}
		if (n == 0)
			break;
		copied += (uint64_t)n;
		if (copied > total)
			break;
		if (!cli_write_all(out_fd, buf, (size_t)n))
			goto write_error;
	}
	if (copied != total) {
		cli_error("dkim sign: %s changed while it was signed (%llu octets signed, %llu read "
		          "after); nothing written", in_name(&a, q), (unsigned long long)total,
		          (unsigned long long)copied);
		rc = CLI_EXIT_IOERR;
		goto out;
	}
	if (a.out) {
		if ((rc = cli_outfile_commit(&out_fd, tmp, a.out, "dkim sign: ")) != 0)
			goto out;
		tmp_made = false;
	}
	rc = 0;
	goto out;

sign_error:
	{
		/* the library's messages give the octet offset in the input;
		 * say which line that is, as FILE:LINE */
		unsigned long line = offset_line(err.message, spool_fd >= 0 ? spool_fd : in_fd,
		                                 spool_fd >= 0 ? 0 : in_start, buf);
		if (line)
			cli_error("dkim sign: %s:%lu: cannot be signed: %s", a.in ? cli_quote(q, a.in) : "-",
			          line, cli_escape(esc, sizeof esc, err.message, sizeof err.message));
		else
			cli_error("dkim sign: %s cannot be signed: %s", in_name(&a, q),
			          cli_escape(esc, sizeof esc, err.message, sizeof err.message));
	}
	rc = err.status == MT_ENOMEM ? CLI_EXIT_SOFTWARE
	     : err.status == MT_EIO ? CLI_EXIT_SOFTWARE : CLI_EXIT_DATAERR;
	goto out;
write_error:
	cli_error("dkim sign: writing %s failed: %s",
	          a.out ? cli_quote(q2, a.out) : "standard output", strerror(errno));
	rc = CLI_EXIT_IOERR;
out:
	if (out_fd >= 0 && out_fd != STDOUT_FILENO)
		close(out_fd);
	if (tmp_made)
		unlink(tmp);
	if (spool_fd >= 0)
		close(spool_fd);
	if (in_fd >= 0 && in_fd != STDIN_FILENO)
		close(in_fd);
	free(buf);
	free(lf_fields);
	mt_dkim_sign_free(s);
	for (size_t k = 0; k < a.nk && k < MAX_ARGS; k++)
		mt_dkim_keygen_free(keys[k]);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return rc;
}
