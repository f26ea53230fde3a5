/* mailtrust check DOMAIN: the audit of a domain's mail records. */
#include "cli.h"

int cli_check_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("check: not available yet");
	return CLI_EXIT_USAGE;
}
