/* mailtrust dkim: "keygen" makes a signing key and the record to publish
 * (the library does the work: dkim_key.h). */
#define _GNU_SOURCE /* renameat2 */
#include "cli.h"
#include "json.h"

#include <mailtrust/mailtrust.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- mailtrust dkim ---------------------------------------------------- */

static void dkim_usage(FILE *fp)
{
	fputs("Usage: mailtrust dkim <command> [options]\n"
	      "\n"
	      "Commands:\n"
	      "  keygen     generate a DKIM signing key; print the DNS record to publish\n"
	      "  verify     verify the DKIM signatures of a message\n"
	      "  sign       sign a message with one or more keys\n"
	      "  check-key  check a key published in DNS, as its domain's owner\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help   show this help and exit\n"
	      "\n"
	      "Run 'mailtrust dkim <command> --help' for a command's options; see mailtrust-dkim(1).\n",
	      fp);
}

static int dkim_keygen_main(int argc, char **argv);

int cli_dkim_main(int argc, char **argv)
{
	static const cli_command cmds[] = {
		{ "keygen", dkim_keygen_main },
		{ "verify", cli_dkim_verify_main },
		{ "sign", cli_dkim_sign_main },
		{ "check-key", cli_dkim_check_key_main },
	};
	return cli_area_main("dkim", dkim_usage, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}

/* ---- mailtrust dkim keygen --------------------------------------------- */

enum {
	OPT_DOMAIN = 256,
	OPT_SELECTOR,
	OPT_TYPE,
	OPT_BITS,
	OPT_OUT,
	OPT_JSON,
};

static void keygen_usage(FILE *fp)
{
	fputs("Usage: mailtrust dkim keygen --domain DOMAIN --selector SELECTOR\n"
	      "                             [--type rsa|ed25519] [--bits N] [--out FILE] [--json]\n"
	      "\n"
	      "Generate a DKIM signing key.  The private key is written to FILE (PKCS#8\n"
	      "PEM, mode 0600); an existing file is never overwritten, and the file is\n"
	      "written completely or not at all.  The key record to publish as a TXT\n"
	      "record at SELECTOR._domainkey.DOMAIN is printed on stdout, split into\n"
	      "strings of at most 255 octets, followed by the zone-file line (its last\n"
	      "line).\n"
	      "\n"
	      "Options:\n"
	      "      --domain DOMAIN      the signing domain (d=), such as example.com\n"
	      "      --selector SELECTOR  the selector (s=): letters, digits, inner '-',\n"
	      "                           labels separated by '.'\n"
	      "      --type rsa|ed25519   key type (default rsa; ed25519 is RFC 8463, which\n"
	      "                           not every receiver verifies yet)\n"
	      "      --bits N             RSA key size, 1024 to 8192 (default 2048); below\n"
	      "                           1024 is refused (RFC 8301); above 4096 warns, as\n"
	      "                           many DNS hosts limit TXT record sizes\n"
	      "      --out FILE           where to write the private key (default\n"
	      "                           SELECTOR.DOMAIN.private.pem in the current directory)\n"
	      "      --json               print {\"domain\", \"selector\", \"name\", \"type\", \"bits\",\n"
	      "                           \"record\", \"strings\", \"zone_line\", \"key_file\",\n"
	      "                           \"warning\"} as JSON\n"
	      "  -h, --help               show this help and exit\n"
	      "\n"
	      "Exit status: 0 key written, 64 usage error (also a bad domain, selector or\n"
	      "size), 70 internal error, 73 the key file exists or cannot be created,\n"
	      "74 writing the key file failed.\n",
	      fp);
}

/*
 * Write the len octets of data to path, mode 0600, all or nothing, never
 * replacing an existing file: a temporary file beside it, then link() (or
 * renameat2 RENAME_NOREPLACE where the file system has no hard links).
 * Returns 0 or an exit status after one line on stderr.
 */
static int write_new_file(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX], q[CLI_QUOTE_BUF], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	size_t off = 0;
	int fd = -1, rc = CLI_EXIT_CANTCREAT, n;

	if (dlen >= sizeof dir) {
		cli_error("dkim keygen: the key file name '%s' is too long", cli_quote(q, path));
		return CLI_EXIT_CANTCREAT;
	}
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	n = snprintf(tmp, sizeof tmp, "%s.%s.tmpXXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		cli_error("dkim keygen: the key file name '%s' is too long", cli_quote(q, path));
		return CLI_EXIT_CANTCREAT;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		cli_error("dkim keygen: cannot create a file in '%s': %s", cli_quote(q, dlen ? dir : "."),
		          strerror(errno));
		return CLI_EXIT_CANTCREAT;
	}
	rc = CLI_EXIT_IOERR;
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0)
		goto io_error;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto io_error;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto io_error;
	if (close(fd) != 0) {
		fd = -1;
		goto io_error;
	}
	fd = -1;
	if (link(tmp, path) != 0) {
		int e = errno;
		if (e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == ENOSYS) {
			/* no hard links here: rename, still never over a file */
			if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
				return 0;
			e = errno;
		}
		if (e == EEXIST)
			cli_error("dkim keygen: '%s' exists; not overwriting it (choose another --out or "
			          "move it away)", cli_quote(q, path));
		else
			cli_error("dkim keygen: cannot create '%s': %s", cli_quote(q, path), strerror(e));
		unlink(tmp);
		return CLI_EXIT_CANTCREAT;
	}
	unlink(tmp);
	return 0;
io_error:
	n = errno;
	cli_error("dkim keygen: writing the key for '%s' failed: %s", cli_quote(q, path), strerror(n));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

static int dkim_keygen_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "domain", required_argument, NULL, OPT_DOMAIN },
		{ "selector", required_argument, NULL, OPT_SELECTOR },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "bits", required_argument, NULL, OPT_BITS },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	const char *domain = NULL, *selector = NULL, *out_path = NULL;
	mt_dkim_keygen_type type = MT_DKIM_KEYGEN_RSA;
	unsigned long bits = 0;
	bool json = false;
	char *default_out = NULL, *zone_line = NULL;
	char **strings = NULL;
	size_t nstrings = 0, i, dlen;
	mt_dkim_keygen *key = NULL;
	mt_error err = { 0 };
	char q[CLI_QUOTE_BUF], msg[512];
	struct stat st;
	int rc = CLI_EXIT_SOFTWARE, c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			keygen_usage(stdout);
			return 0;
		case OPT_DOMAIN:
			domain = optarg;
			break;
		case OPT_SELECTOR:
			selector = optarg;
			break;
		case OPT_TYPE:
			if (strcmp(optarg, "rsa") == 0) {
				type = MT_DKIM_KEYGEN_RSA;
			} else if (strcmp(optarg, "ed25519") == 0) {
				type = MT_DKIM_KEYGEN_ED25519;
			} else {
				cli_error("dkim keygen: --type: '%s' is not rsa or ed25519", cli_quote(q, optarg));
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_BITS:
			if (!cli_parse_uint("dkim keygen: --bits", optarg, 1, 1UL << 20, &bits))
				return CLI_EXIT_USAGE;
			break;
		case OPT_OUT:
			out_path = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			cli_bad_option(c, argv, "mailtrust dkim keygen");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("dkim keygen: unexpected argument '%s' (see 'mailtrust dkim keygen --help')",
		          cli_quote(q, argv[optind]));
		return CLI_EXIT_USAGE;
	}
	if (!domain || !selector) {
		cli_error("dkim keygen: %s is required (see 'mailtrust dkim keygen --help')",
		          !domain ? "--domain" : "--selector");
		return CLI_EXIT_USAGE;
	}
	if (mt_dkim_record_check_names(selector, domain, &err) != MT_OK) {
		cli_error("dkim keygen: %s", cli_escape(msg, sizeof msg, err.message, sizeof err.message));
		return CLI_EXIT_USAGE;
	}
	if (mt_dkim_keygen_check_bits(type, (unsigned)bits, &err) != MT_OK) {
		cli_error("dkim keygen: --bits: %s", err.message);
		return CLI_EXIT_USAGE;
	}
	dlen = strlen(domain);
	if (domain[dlen - 1] == '.')
		dlen--;
	if (!out_path) {
		size_t n = strlen(selector) + dlen + 16;
		default_out = malloc(n);
		if (!default_out) {
			cli_error("dkim keygen: out of memory");
			goto out;
		}
		snprintf(default_out, n, "%s.%.*s.private.pem", selector, (int)dlen, domain);
		out_path = default_out;
	}
	if (strcmp(out_path, "-") == 0 || *out_path == '\0') {
		cli_error("dkim keygen: --out: give a file name (the private key is not written to "
		          "standard output)");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	/* before the work (an 8192-bit key takes a while); write_new_file
	 * checks again, atomically */
	if (lstat(out_path, &st) == 0) {
		cli_error("dkim keygen: '%s' exists; not overwriting it (choose another --out or move "
		          "it away)", cli_quote(q, out_path));
		rc = CLI_EXIT_CANTCREAT;
		goto out;
	}

	if (mt_dkim_keygen_generate(type, (unsigned)bits, &key, &err) != MT_OK) {
		cli_error("dkim keygen: %s", err.message);
		goto out;
	}
	if (mt_dkim_keygen_warning(key))
		cli_error("dkim keygen: warning: %s", mt_dkim_keygen_warning(key));
	{
		const char *rec = mt_dkim_keygen_record(key);
		if (mt_dkim_record_split(rec, strlen(rec), &strings, &nstrings) != MT_OK ||
		    mt_dkim_record_zone_line(selector, domain, rec, strlen(rec), &zone_line, &err) != MT_OK) {
			cli_error("dkim keygen: %s", err.message[0] ? err.message : "out of memory");
			goto out;
		}
	}
	rc = write_new_file(out_path, mt_dkim_keygen_pem(key), strlen(mt_dkim_keygen_pem(key)));
	if (rc != 0)
		goto out;

	if (json) {
		json_writer w;
		char name[600];

		snprintf(name, sizeof name, "%s._domainkey.%.*s", selector, (int)dlen, domain);
		json_init(&w, stdout);
		json_begin_object(&w);
		json_key(&w, "domain");
		json_string_n(&w, domain, dlen);
		json_key(&w, "selector");
		json_string(&w, selector);
		json_key(&w, "name");
		json_string(&w, name);
		json_key(&w, "type");
		json_string(&w, mt_dkim_keygen_type_name(mt_dkim_keygen_get_type(key)));
		json_key(&w, "bits");
		json_int(&w, mt_dkim_keygen_bits(key));
		json_key(&w, "record");
		json_string(&w, mt_dkim_keygen_record(key));
		json_key(&w, "strings");
		json_begin_array(&w);
		for (i = 0; i < nstrings; i++)
			json_string(&w, strings[i]);
		json_end_array(&w);
		json_key(&w, "zone_line");
		json_string(&w, zone_line);
		json_key(&w, "key_file");
		json_string(&w, out_path);
		json_key(&w, "warning");
		json_string(&w, mt_dkim_keygen_warning(key));
		json_end_object(&w);
		json_finish(&w);
	} else {
		printf("Private key: ");
		cli_text_puts(stdout, out_path);
		printf(" (%s, %u bits, mode 0600; keep it secret)\n",
		       mt_dkim_keygen_type_name(mt_dkim_keygen_get_type(key)), mt_dkim_keygen_bits(key));
		printf("Publish a TXT record at %s._domainkey.%.*s with %s:\n", selector, (int)dlen, domain,
		       nstrings == 1 ? "this string" : "these strings (joined without spaces)");
		for (i = 0; i < nstrings; i++)
			printf("\"%s\"\n", strings[i]);
		printf("Zone-file line:\n%s\n", zone_line);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("dkim keygen: writing to standard output failed (the key is in '%s')",
		          cli_quote(q, out_path));
		rc = CLI_EXIT_IOERR;
		goto out;
	}
	rc = 0;
out:
	mt_dkim_record_strings_free(strings, nstrings);
	mt_free(zone_line);
	mt_dkim_keygen_free(key);
	free(default_out);
	return rc;
}
