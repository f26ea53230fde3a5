/* Helpers shared by the CLI's sub-commands: errors, colour, safe text. */
#include "cli.h"
#include "json.h"

#include <mailtrust/authres.h>

#include <arpa/inet.h>
#include <limits.h>
#include <sys/stat.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_out_init(cli_out *o, FILE *fp)
{
	o->fp = fp;
	o->color = getenv("NO_COLOR") == NULL && isatty(fileno(fp));
}

const char *cli_sgr(const cli_out *o, cli_style style)
{
	static const char *const codes[] = {
		[CLI_RESET] = "\033[0m",   [CLI_BOLD] = "\033[1m",    [CLI_DIM] = "\033[2m",
		[CLI_GREEN] = "\033[32m",  [CLI_RED] = "\033[31m",    [CLI_YELLOW] = "\033[33m",
		[CLI_BLUE] = "\033[34m",   [CLI_MAGENTA] = "\033[35m",
	};
	if (!o->color || (unsigned)style >= sizeof(codes) / sizeof(codes[0]))
		return "";
	return codes[style];
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	char small[512], *msg = small;
	int n;

	fflush(stdout);
	fputs(CLI_NAME ": ", stderr);
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(small) && (msg = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	} else if (n >= (int)sizeof(small)) {
		msg = small;
		n = (int)sizeof(small) - 1;
	}
	/* messages quote arguments and DNS data: escaped like all output */
	if (n > 0)
		cli_text_print(stderr, msg, (size_t)n);
	if (msg != small)
		free(msg);
	fputc('\n', stderr);
}

/* Is this code point safe to show on a terminal as it is? */
static bool printable(uint32_t cp)
{
	return cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F);
}

void cli_text_print(FILE *fp, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		bool valid;
		size_t n = utf8_next(p + i, len - i, &cp, &valid), k;

		if (valid && printable(cp))
			fwrite(p + i, 1, n, fp);
		else
			for (k = 0; k < n; k++)
				fprintf(fp, "\\x%02X", (unsigned)p[i + k]);
		i += n;
	}
}

void cli_text_puts(FILE *fp, const char *s)
{
	if (s)
		cli_text_print(fp, s, strlen(s));
}

size_t cli_text_width(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, w = 0;

	while (i < len) {
		uint32_t cp;
		bool valid;
		size_t n = utf8_next(p + i, len - i, &cp, &valid);

		w += (valid && printable(cp)) ? 1 : 4 * n;
		i += n;
	}
	return w;
}

const char *cli_escape(char *buf, size_t cap, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = s ? strlen(s) : 0, i = 0, o = 0;

	/* Room for one more code point (4 octets, escaped 16), "..." and NUL. */
	while (i < len && i < max && o + 16 + 4 <= cap) {
		uint32_t cp;
		bool valid;
		size_t n = utf8_next(p + i, len - i, &cp, &valid), k;

		if (valid && printable(cp)) {
			memcpy(buf + o, p + i, n);
			o += n;
		} else {
			for (k = 0; k < n; k++) {
				snprintf(buf + o, 5, "\\x%02X", (unsigned)p[i + k]);
				o += 4;
			}
		}
		i += n;
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

const char *cli_quote(char buf[CLI_QUOTE_BUF], const char *s)
{
	return cli_escape(buf, CLI_QUOTE_BUF, s, CLI_QUOTE_MAX);
}

bool cli_parse_uint(const char *opt, const char *arg, unsigned long min, unsigned long max,
                    unsigned long *out)
{
	char *end = NULL;
	char q[CLI_QUOTE_BUF];
	unsigned long v;

	if (arg[0] < '0' || arg[0] > '9')
		goto bad;
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return true;
bad:
	cli_error("%s: '%s' is not a number from %lu to %lu", opt, cli_quote(q, arg), min, max);
	return false;
}

bool cli_parse_ip(const char *opt, const char *arg)
{
	unsigned char buf[16];
	char q[CLI_QUOTE_BUF];
	const char *pct = strchr(arg, '%');

	if (inet_pton(AF_INET, arg, buf) == 1 || inet_pton(AF_INET6, arg, buf) == 1)
		return true;
	if (pct && pct > arg && pct[1] != '\0' && (size_t)(pct - arg) < 64) {
		/* An IPv6 zone id (fe80::1%eth0): the library drops it. */
		char addr[64];
		memcpy(addr, arg, (size_t)(pct - arg));
		addr[pct - arg] = '\0';
		if (inet_pton(AF_INET6, addr, buf) == 1)
			return true;
	}
	cli_error("%s: '%s' is not an IPv4 or IPv6 address", opt, cli_quote(q, arg));
	return false;
}

void cli_bad_option(int c, char **argv, const char *cmd)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;
	char q[CLI_QUOTE_BUF], name[CLI_QUOTE_MAX + 2];

	/*
	 * getopt_long() sets optopt to a long option's code (not a character)
	 * when its argument is missing or it was given one it does not take,
	 * and to 0 for an unknown long option:
	 * name a long option as it was written, without any "=VALUE".
	 */
	if (arg && strncmp(arg, "--", 2) == 0) {
		size_t n = strcspn(arg, "=");
		if (n > CLI_QUOTE_MAX + 1)
			n = CLI_QUOTE_MAX + 1; /* cli_quote() marks it as cut */
		memcpy(name, arg, n);
		name[n] = '\0';
		cli_quote(q, name);
	} else if (optopt > 0x20 && optopt < 0x7f) {
		q[0] = '-';
		q[1] = (char)optopt;
		q[2] = '\0';
	} else {
		cli_quote(q, arg ? arg : "?");
	}
	if (c == ':')
		cli_error("option '%s' needs an argument (see '%s --help')", q, cmd);
	else if (optopt != 0 && arg && strncmp(arg, "--", 2) == 0 && strchr(arg, '='))
		/* glibc: a known long option without arguments, given "=VALUE" */
		cli_error("option '%s' takes no argument (see '%s --help')", q, cmd);
	else
		cli_error("unknown option '%s' (see '%s --help')", q, cmd);
}

int cli_area_main(const char *area, void (*usage)(FILE *fp), const cli_command *cmds,
                  size_t ncmds, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char where[32], q[CLI_QUOTE_BUF];
	int c;

	snprintf(where, sizeof where, CLI_NAME " %s", area);
	optind = 0; /* re-initialise getopt for this argument vector */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		cli_bad_option(c, argv, where);
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc) {
		cli_error("%s: no command given (see '%s --help')", area, where);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < ncmds; i++) {
		if (strcmp(argv[optind], cmds[i].name) != 0)
			continue;
		if (cmds[i].main)
			return cmds[i].main(argc - optind, argv + optind);
		cli_error("%s: '%s' is not available yet (see '%s --help')", area, cmds[i].name, where);
		return CLI_EXIT_USAGE;
	}
	cli_error("%s: unknown command '%s' (see '%s --help')", area, cli_quote(q, argv[optind]), where);
	return CLI_EXIT_USAGE;
}

bool cli_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	return true;
}

int cli_outfile_open(const char *path, char *tmp, int *fd, const char *who)
{
	char q[CLI_QUOTE_BUF];
	const char *slash = strrchr(path, '/');
	int n = snprintf(tmp, PATH_MAX, "%.*s.%s.tmpXXXXXX", slash ? (int)(slash - path + 1) : 0,
	                 path, slash ? slash + 1 : path);
	mode_t um;

	*fd = -1;
	if (n < 0 || n >= PATH_MAX) {
		tmp[0] = '\0';
		cli_error("%sthe output file name '%s' is too long", who, cli_quote(q, path));
		return CLI_EXIT_CANTCREAT;
	}
	*fd = mkstemp(tmp);
	if (*fd < 0) {
		cli_error("%scannot create the output file '%s': %s", who, cli_quote(q, path),
		          strerror(errno));
		tmp[0] = '\0';
		return CLI_EXIT_CANTCREAT;
	}
	um = umask(0);
	umask(um);
	if (fchmod(*fd, 0666 & ~um) != 0) {
		cli_error("%swriting %s failed: %s", who, cli_quote(q, path), strerror(errno));
		return CLI_EXIT_IOERR;
	}
	return 0;
}

int cli_outfile_commit(int *fd, const char *tmp, const char *path, const char *who)
{
	char q[CLI_QUOTE_BUF];
	int f = *fd;

	*fd = -1;
	if (f >= 0 && (fsync(f) != 0) + (close(f) != 0)) {
		cli_error("%swriting %s failed: %s", who, cli_quote(q, path), strerror(errno));
		return CLI_EXIT_IOERR;
	}
	if (rename(tmp, path) != 0) {
		cli_error("%scannot create the output file '%s': %s", who, cli_quote(q, path),
		          strerror(errno));
		return CLI_EXIT_CANTCREAT;
	}
	return 0;
}

int cli_authres_new(const char **id, char *host, size_t hostcap, struct mt_authres **ar)
{
	mt_error err;

	if (!*id) {
		if (gethostname(host, hostcap) != 0 || host[0] == '\0')
			snprintf(host, hostcap, "localhost");
		host[hostcap - 1] = '\0';
		*id = host;
	}
	memset(&err, 0, sizeof err);
	if (mt_authres_new(*id, ar, &err) != MT_OK) {
		cli_error("--authserv-id: %s", err.message);
		return err.status == MT_ENOMEM ? CLI_EXIT_SOFTWARE : CLI_EXIT_USAGE;
	}
	return 0;
}
