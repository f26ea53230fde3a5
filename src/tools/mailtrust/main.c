/* mailtrust: the command-line tool.  mailtrust <area> <verb> [options] */
#include "cli.h"

#include <mailtrust/mailtrust.h>

#include <getopt.h>
#include <string.h>

static void usage(FILE *fp)
{
	fputs("Usage: mailtrust [--help] [--version] <area> <command> [options]\n"
	      "\n"
	      "Email sender authentication from the command line.\n"
	      "\n"
	      "Areas:\n"
	      "  spf        Sender Policy Framework (RFC 7208): check a host; parse,\n"
	      "             verify, merge and build records\n"
	      "  dkim       DomainKeys Identified Mail (RFC 6376, 8463): verify and sign\n"
	      "             messages, generate keys, check a published key\n"
	      "  dmarc      DMARC (RFC 9989): check a domain's policy record; build and\n"
	      "             parse records\n"
	      "  check      audit a domain's mail records: SPF, DMARC, DKIM and MX, with\n"
	      "             the fixes and the records to publish ('mailtrust check DOMAIN')\n"
	      "  verify     a receiver's verdict on a message: SPF (MAIL FROM and HELO),\n"
	      "             DKIM, DMARC and one Authentication-Results field\n"
	      "             ('mailtrust verify --ip IP [FILE]')\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help     show this help and exit\n"
	      "  -V, --version  show the tool's and the library's version and exit\n"
	      "\n"
	      "Run 'mailtrust <area> --help' for an area's commands; see mailtrust(1).\n"
	      "Exit status: 64 usage error, 70 internal error; 'spf check' exits with\n"
	      "its result (see 'mailtrust spf check --help'), 'verify' with the DMARC\n"
	      "result (see 'mailtrust verify --help').\n",
	      fp);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	/* '+': stop at the area name, its options are its own. */
	while ((c = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("mailtrust %s (libmailtrust %s)\n", MT_VERSION_STRING, mt_version());
			return 0;
		default:
			cli_bad_option(c, argv, "mailtrust");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("no area given (see 'mailtrust --help')");
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "spf") == 0)
		return cli_spf_main(argc - optind, argv + optind);
	if (strcmp(argv[optind], "dkim") == 0)
		return cli_dkim_main(argc - optind, argv + optind);
	if (strcmp(argv[optind], "dmarc") == 0)
		return cli_dmarc_main(argc - optind, argv + optind);
	if (strcmp(argv[optind], "check") == 0)
		return cli_check_main(argc - optind, argv + optind);
	if (strcmp(argv[optind], "verify") == 0)
		return cli_verify_main(argc - optind, argv + optind);
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return 0;
	}
	char q[CLI_QUOTE_BUF];
	cli_error("unknown area '%s' (see 'mailtrust --help')", cli_quote(q, argv[optind]));
	return CLI_EXIT_USAGE;
}
