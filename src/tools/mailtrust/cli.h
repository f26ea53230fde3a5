/* The mailtrust command-line tool: shared helpers (not a library API). */
#ifndef MAILTRUST_CLI_H
#define MAILTRUST_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <mailtrust/dns.h>

/*
 * Exit codes.  0..6 are SPF results (spf check); the rest follow
 * sysexits.h so that scripts can tell a bad invocation from a DNS outcome.
 */
enum {
	CLI_EXIT_PASS = 0,
	CLI_EXIT_FAIL = 1,
	CLI_EXIT_SOFTFAIL = 2,
	CLI_EXIT_NEUTRAL = 3,
	CLI_EXIT_NONE = 4,
	CLI_EXIT_TEMPERROR = 5,
	CLI_EXIT_PERMERROR = 6,
	CLI_EXIT_USAGE = 64,       /* EX_USAGE: bad option or argument */
	CLI_EXIT_DATAERR = 65,     /* EX_DATAERR: malformed zone file */
	CLI_EXIT_NOINPUT = 66,     /* EX_NOINPUT: zone file cannot be read */
	CLI_EXIT_UNAVAILABLE = 69, /* EX_UNAVAILABLE: the DNS resolver cannot be set up */
	CLI_EXIT_SOFTWARE = 70,    /* EX_SOFTWARE: internal error, out of memory */
	CLI_EXIT_CANTCREAT = 73,   /* EX_CANTCREAT: an output file exists or cannot be created */
	CLI_EXIT_IOERR = 74,       /* EX_IOERR: writing an output file failed */
};

#define CLI_NAME "mailtrust"

/* Styles for terminal output; each maps to "" when colour is off. */
typedef enum cli_style {
	CLI_RESET = 0,
	CLI_BOLD,
	CLI_DIM,
	CLI_GREEN,
	CLI_RED,
	CLI_YELLOW,
	CLI_BLUE,
	CLI_MAGENTA,
} cli_style;

typedef struct cli_out {
	FILE *fp;
	bool color;
} cli_out;

/* Colour when fp is a terminal and NO_COLOR is not set. */
void cli_out_init(cli_out *o, FILE *fp);
const char *cli_sgr(const cli_out *o, cli_style style);

/* One line on stderr: "mailtrust: <message>". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Untrusted text (DNS data, records given by the user) for a terminal:
 * printable ASCII and well-formed UTF-8 are written as they are; control
 * characters (C0, DEL, C1) and invalid UTF-8 octets are written as \xHH,
 * so DNS data cannot send escape sequences to the terminal.
 * cli_text_width() is the number of columns that
 * cli_text_print() uses for the same bytes (one per code point).
 */
void cli_text_print(FILE *fp, const char *s, size_t len);
void cli_text_puts(FILE *fp, const char *s);
size_t cli_text_width(const char *s, size_t len);

/*
 * An argument or other user-given text to quote inside an error message:
 * at most its first CLI_QUOTE_MAX octets, escaped like cli_text_print()
 * (\xHH for control characters and invalid UTF-8), and "..." when it was
 * cut.  Writes into buf and returns it, so that a 100 KB argument gives a
 * one-line message.  s may be NULL (the empty string).
 */
#define CLI_QUOTE_MAX 64
#define CLI_QUOTE_BUF ((CLI_QUOTE_MAX + 4) * 4 + 4)
const char *cli_quote(char buf[CLI_QUOTE_BUF], const char *s);

/*
 * Output files written completely or not at all: cli_outfile_open() makes
 * a temporary file beside PATH (".NAME.tmpXXXXXX", mode 0666 & ~umask)
 * and names it in tmp (PATH_MAX octets); cli_outfile_commit() syncs and
 * closes *fd, then renames tmp to PATH.  Each prints its error, prefixed
 * by who ("dkim sign: " or ""), and returns 0 or the exit status
 * (CLI_EXIT_CANTCREAT, CLI_EXIT_IOERR); *fd is -1 after a commit.  On
 * failure the caller closes *fd (when >= 0) and unlinks tmp.
 * cli_write_all() writes all of data, retrying after EINTR.
 */
/*
 * The Authentication-Results field of a command with --authserv-id: id, or
 * this host's name (host, HOST_NAME_MAX + 1 octets; "localhost" without
 * one) when id is NULL; *ar is a new field for it.  0, or the exit status
 * after the error was printed (64 a bad id, 70 out of memory).
 */
struct mt_authres;
int cli_authres_new(const char **id, char *host, size_t hostcap, struct mt_authres **ar);

int cli_outfile_open(const char *path, char *tmp, int *fd, const char *who);
int cli_outfile_commit(int *fd, const char *tmp, const char *path, const char *who);
bool cli_write_all(int fd, const void *data, size_t len);

/*
 * The same for longer text, such as a library's error message that
 * quotes a file name: at most max octets of s, and what fits in cap
 * (at least 24) octets of buf.
 */
const char *cli_escape(char *buf, size_t cap, const char *s, size_t max);

/*
 * Parse a decimal unsigned number for option opt in [min, max]; on error
 * prints one line and returns false.
 */
bool cli_parse_uint(const char *opt, const char *arg, unsigned long min, unsigned long max,
                    unsigned long *out);

/*
 * Is arg (the value of option opt) an IPv4 or IPv6 address (an IPv6
 * address may carry a zone id, "fe80::1%eth0", which the library drops
 * as meaningless for SPF)?  On error prints "OPT: 'ARG' is not an IPv4 or IPv6 address" (ARG quoted with
 * cli_quote()) and returns false.
 * The library judges the address again when it is used; this check only
 * names the option, before any DNS set-up.
 */
bool cli_parse_ip(const char *opt, const char *arg);

/*
 * Report a getopt_long failure (opterr = 0, optstring starting with ':'):
 * a missing argument or an unknown option, named as written ("--ip",
 * "-x"), never by getopt's optopt code.
 */
void cli_bad_option(int c, char **argv, const char *cmd);

/*
 * An area's commands ("spf check", "dkim keygen"): the name and its main
 * (argv[0] is the command's name).  main NULL: planned, not available yet.
 */
typedef struct cli_command {
	const char *name;
	int (*main)(int argc, char **argv);
} cli_command;

/*
 * Run "mailtrust AREA [--help] COMMAND ...": --help and "help" print the
 * area's usage, a known command runs, anything else is a usage error
 * (64) with one line naming the area.
 */
int cli_area_main(const char *area, void (*usage)(FILE *fp), const cli_command *cmds,
                  size_t ncmds, int argc, char **argv);

/* Where DNS answers come from (--zone, --resolver, --recursive, --dnssec). */
#define CLI_UNBOUND_OPTIONS_MAX 64
typedef struct cli_dns {
	const char *zone;      /* a zone file: offline; NULL: libunbound */
	const char *resolver;  /* ADDR[@PORT] to forward to; NULL: /etc/resolv.conf */
	bool recursive;
	bool dnssec;
	const char *trust_anchor; /* with dnssec: DS/DNSKEY file; NULL: the system's */
	size_t cache_mb;       /* libunbound: our cache's size in MiB (0: the default) */
	bool no_cache;         /* --cache-size 0 */
	const char *unbound_options[CLI_UNBOUND_OPTIONS_MAX]; /* --unbound-option */
	size_t n_unbound_options;
} cli_dns;

/*
 * Open the resolver d describes.  Returns 0, or an exit status after one
 * line on stderr (64 bad --resolver, 65 malformed zone or trust anchor,
 * 66 unreadable zone or trust anchor, 69 no resolver, 70 out of memory).  The caller frees *resp and
 * *zonep (either may be NULL).
 */
int cli_open_resolver(const cli_dns *d, mt_dns_zone **zonep, mt_dns_resolver **resp);

/*
 * The findings of a verify report (or of mt_spf_lint, merge or build
 * notes), grouped by severity from errors down to min (an
 * mt_spf_severity), each with its record and caret and its fix; findings
 * whose code is in skip (a NULL-terminated list, or NULL) are left out.  The JSON form is the array of
 * "spf verify --json" (spf_verify_cmd.c).
 */
struct mt_spf_verify;
struct json_writer;
void cli_print_findings(const cli_out *o, const struct mt_spf_verify *v, int min,
                        const char *const *skip);
void cli_json_findings(struct json_writer *w, const struct mt_spf_verify *v);

/* Sub-commands: spf (spf_cmd.c) dispatches to verify, merge and build. */
int cli_spf_main(int argc, char **argv);
int cli_spf_verify_main(int argc, char **argv); /* spf_verify_cmd.c */
int cli_spf_merge_main(int argc, char **argv);  /* spf_merge_cmd.c */
int cli_spf_build_main(int argc, char **argv);  /* spf_merge_cmd.c */
/* dkim (dkim_cmd.c) dispatches to keygen. */
int cli_dkim_main(int argc, char **argv);
int cli_dkim_sign_main(int argc, char **argv);  /* dkim_sign_cmd.c */
int cli_dkim_verify_main(int argc, char **argv);    /* dkim_verify_cmd.c */
int cli_dkim_check_key_main(int argc, char **argv); /* dkim_check_cmd.c */

/* dmarc (dmarc_cmd.c) dispatches to check, build and parse. */
int cli_dmarc_main(int argc, char **argv);
int cli_dmarc_check_main(int argc, char **argv); /* dmarc_check_cmd.c */
/* The record rec[0..len) with a caret under [off, off+n) in style. */
void cli_dmarc_caret(const cli_out *o, const char *rec, size_t len, size_t off, size_t n,
                     cli_style style);
/* The length of the spot at off: to the next ';' or ','; at least 1. */
size_t cli_dmarc_spot_len(const char *rec, size_t len, size_t off);
struct mt_dmarc_verify;
struct mt_dmarc_verify_finding;
void cli_dmarc_print_finding(const cli_out *o, const struct mt_dmarc_verify_finding *f);
void cli_dmarc_json_finding(struct json_writer *w, const struct mt_dmarc_verify_finding *f);
void cli_dmarc_json_report(struct json_writer *w, const struct mt_dmarc_verify *v);
/* An owner check's server_resolver: libunbound forwarding to one server;
 * ctx points to the --timeout value (unsigned long, 0: the default). */
mt_status cli_server_resolver(void *ctx, const char *address, unsigned port,
                              mt_dns_resolver **out);
/* mailtrust check DOMAIN: the audit (check_cmd.c). */
int cli_check_main(int argc, char **argv);
/* mailtrust verify: a receiver's verdict on a message (verify_cmd.c). */
int cli_verify_main(int argc, char **argv);

#endif
