/* mailtrust dkim check-key (placeholder, filled in below). */
#include "cli.h"
int cli_dkim_check_key_main(int argc, char **argv)
{
	(void)argc; (void)argv;
	cli_error("dkim check-key: not available yet");
	return CLI_EXIT_USAGE;
}
