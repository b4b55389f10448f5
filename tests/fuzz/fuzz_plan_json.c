/* VSMMU_PLAN JSON -> plan -> check and inject into a fixed libvirt 9.0
 * argv (tests/fixtures/argv/libvirt9-grace.argv) on an in-memory host.
 * Whatever the plan says, the result must still print as an argv whose
 * argv[0] is the one given. */
#include <stdio.h>

#include "fuzz.h"
#include "../unit/problemsfix.h"
#include "inject.h"
#include "plan.h"
#include "qemuargs.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif
#define ARGV_FIXTURE FUZZ_TOP "/tests/fixtures/argv/libvirt9-grace.argv"

static struct vsmmu_host *host;
static char *argv_text;
static const char *argv_lines[256];
static int argc_fixed;

static void load_argv(void)
{
	vsmmu_err err;

	if (vsmmu_read_file(ARGV_FIXTURE, 1u << 20, &argv_text, NULL, &err) < 0) {
		fprintf(stderr, "fuzz_plan_json: %s\n", err.msg);
		abort();
	}
	for (char *p = argv_text; *p && argc_fixed < 255;) {
		char *nl = strchr(p, '\n');

		argv_lines[argc_fixed++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
}

static void inject(struct vsmmu_plan *plan)
{
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_strlist_ struct vsmmu_strlist problems = { 0 };
	_cleanup_free_ char *summary = NULL;
	char **out = NULL;
	vsmmu_err err;

	if (vsmmu_qargs_parse(argc_fixed, argv_lines, &args, &err) < 0)
		abort();
	if (vsmmu_inject_check(args, plan, host, &problems, &err) != 0)
		return;
	if (vsmmu_inject_apply(args, plan, &summary, &err) < 0)
		return;
	if (vsmmu_qargs_argv(args, &out, &err) < 0)
		return;
	if (strcmp(out[0], argv_lines[0]) != 0) {
		fprintf(stderr, "the plan changed argv[0] to %s\n", out[0]);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_cstr(data, size);
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_free_ char *again = NULL;
	vsmmu_err err;

	if (!host) {
		host = fuzz_grace_host();
		load_argv();
	}
	if (vsmmu_plan_from_json(text, &plan, &err) < 0)
		return 0;
	again = vsmmu_plan_to_json(plan);
	inject(plan);
	return 0;
}
