/* Helpers shared by the CLI's sub-commands: errors, colour, safe text. */
#include "cli.h"
#include "json.h"

#include <arpa/inet.h>
#include <errno.h>
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

bool cli_parse_uint(const char *opt, const char *arg, unsigned long min, unsigned long max,
                    unsigned long *out)
{
	char *end = NULL;
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
	cli_error("%s: '%s' is not a number from %lu to %lu", opt, arg, min, max);
	return false;
}

bool cli_parse_ip(const char *opt, const char *arg)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, arg, buf) == 1 || inet_pton(AF_INET6, arg, buf) == 1)
		return true;
	cli_error("%s: '%s' is not an IPv4 or IPv6 address", opt, arg);
	return false;
}

void cli_bad_option(int c, char **argv, const char *cmd)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':') {
		if (optopt)
			cli_error("option '-%c' needs an argument (see '%s --help')", optopt, cmd);
		else
			cli_error("option '%s' needs an argument (see '%s --help')", arg, cmd);
	} else {
		if (optopt)
			cli_error("unknown option '-%c' (see '%s --help')", optopt, cmd);
		else
			cli_error("unknown option '%s' (see '%s --help')", arg, cmd);
	}
}
