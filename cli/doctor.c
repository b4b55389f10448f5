/* vsmmuctl doctor: host readiness report (being built; see issue 5). */
#include "cli.h"

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error(cli, "doctor is not available in this build");
}
