/* vsmmuctl emulator install|remove|status [--root DIR]: lib/emulator does
 * the deciding and the work; this parses arguments and prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "emulator.h"
#include "util.h"

static const char usage[] = "usage: vsmmuctl emulator install|remove|status [--root DIR]";

static inline void facts_clearp(struct vsmmu_emulator_facts *f) { vsmmu_emulator_facts_clear(f); }

/* DIR without trailing slashes; "/" is "". */
static char *root_of(const char *dir)
{
	char *r = vsmmu_xstrdup(dir);
	size_t n = strlen(r);

	while (n > 0 && r[n - 1] == '/')
		r[--n] = '\0';
	return r;
}

static int act(struct cli *cli, const char *op, struct vsmmu_emulator_facts *f)
{
	_cleanup_free_ char *msg = NULL;
	vsmmu_err err;
	int rc;

	if (strcmp(op, "status") == 0) {
		int code;

		msg = vsmmu_emulator_describe(f, &code);
		fputs(msg, stdout);
		return code;
	}
	rc = strcmp(op, "install") == 0 ? vsmmu_emulator_may_install(f, &err)
					 : vsmmu_emulator_may_remove(f, &err);
	if (rc < 0)
		return cli_error(cli, "emulator %s: %s", op, err.msg);
	if (rc > 0) {
		printf("%s\n", strcmp(op, "install") == 0 ? "emulator: installed already"
							  : "emulator: not installed; nothing to do");
		return EXIT_OK;
	}
	rc = strcmp(op, "install") == 0 ? vsmmu_emulator_install(f, &msg, &err)
					: vsmmu_emulator_remove(f, &msg, &err);
	if (rc < 0)
		return cli_error(cli, "emulator %s: %s", op, err.msg);
	printf("emulator: %s\n", msg);
	return EXIT_OK;
}

int cmd_emulator(struct cli *cli, int argc, char **argv)
{
	__attribute__((cleanup(facts_clearp))) struct vsmmu_emulator_facts f = { 0 };
	_cleanup_free_ char *root = NULL;
	const char *op = NULL;
	vsmmu_err err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc && !root)
			root = root_of(argv[++i]);
		else if (!op && (strcmp(argv[i], "install") == 0 || strcmp(argv[i], "remove") == 0 ||
				 strcmp(argv[i], "status") == 0))
			op = argv[i];
		else
			return cli_error(cli, "emulator: unexpected argument '%s'; %s", argv[i], usage);
	}
	if (!op)
		return cli_error(cli, "emulator: install, remove or status is missing; %s", usage);
	if (vsmmu_emulator_gather(root ? root : "", vsmmu_wrapper_path(), &f, &err) < 0)
		return cli_error(cli, "emulator %s: %s", op, err.msg);
	return act(cli, op, &f);
}
