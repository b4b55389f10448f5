/* vsmmuctl: shared option state and command entry points. */
#ifndef VSMMU_CLI_H
#define VSMMU_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "host.h"
#include "plan.h"

enum { EXIT_OK = 0, EXIT_MISMATCH = 1, EXIT_ERROR = 2 };

struct cli {
	const char *prog;
	const char *sysfs;
	const char *uri;
};

/* Print "vsmmuctl: msg" to stderr. */
void cli_report(const struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cli_report, then EXIT_ERROR, visibly so to the reader and the analyzer. */
#define cli_error(cli, ...) (cli_report((cli), __VA_ARGS__), EXIT_ERROR)
/* Read FILE, or stdin for "-", bounded. */
int cli_read_input(const struct cli *cli, const char *file, char **data, size_t *len);
int cli_scan_host(const struct cli *cli, struct vsmmu_host **host);
/* The real QEMU (vsmmu.conf 'qemu ='), malloc'ed; NULL after a message
 * when vsmmu.conf cannot be read and quiet is false. */
char *cli_real_qemu(const struct cli *cli, bool quiet);
/* The plan's warnings and notes on stderr. */
void cli_print_advice(const struct cli *cli, const struct vsmmu_plan *plan);

int cmd_host(struct cli *cli, int argc, char **argv);
int cmd_plan(struct cli *cli, int argc, char **argv);
int cmd_rewrite(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_apply(struct cli *cli, int argc, char **argv);
int cmd_doctor(struct cli *cli, int argc, char **argv);
int cmd_attach(struct cli *cli, int argc, char **argv);
int cmd_detach(struct cli *cli, int argc, char **argv);
int cmd_emulator(struct cli *cli, int argc, char **argv);

#endif
