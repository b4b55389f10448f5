/* The runtime argv build (runtime.c), then check and inject, as the wrapper
 * runs them for a topology='runtime' domain. The input's first line is the
 * VSMMU_PLAN JSON, every further line one argument, argv[0] first. Nothing
 * may crash or leak; a build that reports no problem must leave an argv
 * that prints, keeps argv[0], parses again and holds every planned
 * expander and root port once, with each hostdev on its planned port. */
#include <stdio.h>

#include "fuzz.h"
#include "../unit/problemsfix.h"
#include "inject.h"
#include "plan.h"
#include "qemuargs.h"
#include "runtime.h"

#define MAX_ARGS 4096

static struct vsmmu_host *host;

static size_t split_lines(char *text, const char **argv)
{
	size_t n = 0;

	for (char *p = text; p && n < MAX_ARGS;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		argv[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	argv[n] = NULL;
	return n;
}

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "runtime build: %s: %s\n", what, detail);
	abort();
}

static void expect_device(struct vsmmu_qargs *args, int index, const char *bus)
{
	char id[16];
	const char *v = NULL;
	size_t at;
	vsmmu_err err;

	snprintf(id, sizeof(id), "pci.%d", index);
	if (vsmmu_qargs_find_device(args, id, &at, &err) <= 0)
		fail("a planned controller is missing or twice", id);
	if (bus && (vsmmu_qargs_get(vsmmu_qargs_at(args, at), "bus", &v, &err) <= 0 ||
		    strcmp(v, bus) != 0))
		fail("a planned controller is on the wrong bus", id);
}

static void expect_hostdevs(struct vsmmu_qargs *args, const struct vsmmu_plan *plan)
{
	_cleanup_lookup_ struct vsmmu_qargs_lookup *hostdevs = NULL;
	vsmmu_err err;

	if (vsmmu_inject_hostdevs(args, &hostdevs, &err) < 0)
		fail("the built argv has a vfio-pci that cannot be read", err.msg);
	for (size_t h = 0; h < plan->n_hostdevs; h++) {
		const char *v = NULL;
		char bus[16];
		size_t at;

		snprintf(bus, sizeof(bus), "pci.%d", plan->hostdevs[h].port);
		if (vsmmu_inject_hostdev_at(hostdevs, &plan->hostdevs[h].host, &at) != 1 ||
		    vsmmu_qargs_get(vsmmu_qargs_at(args, at), "bus", &v, &err) <= 0 ||
		    strcmp(v, bus) != 0)
			fail("a hostdev is not on its planned root port", plan->hostdevs[h].bdf);
	}
}

/* The built argv, printed and parsed again, holds the plan. */
static void check_built(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
			const char *argv0)
{
	_cleanup_qargs_ struct vsmmu_qargs *again = NULL;
	char **out = NULL;
	size_t n = 0;
	char bus[16];
	vsmmu_err err;

	if (vsmmu_qargs_argv(args, &out, &err) < 0)
		return; /* over the size caps: refusing is fine */
	if (strcmp(out[0], argv0) != 0)
		fail("argv[0] changed", out[0]);
	while (out[n])
		n++;
	if (vsmmu_qargs_parse((int)n, (const char *const *)out, &again, &err) < 0)
		fail("the built argv does not parse again", err.msg);
	for (size_t e = 0; e < plan->n_expanders; e++)
		expect_device(again, plan->expanders[e].index, "pcie.0");
	for (size_t p = 0; p < plan->n_ports; p++) {
		snprintf(bus, sizeof(bus), "pci.%d", plan->ports[p].expander);
		expect_device(again, plan->ports[p].index, bus);
	}
	expect_hostdevs(again, plan);
}

static void inject(struct vsmmu_qargs *args, const struct vsmmu_plan *plan)
{
	_cleanup_strlist_ struct vsmmu_strlist problems = { 0 };
	_cleanup_free_ char *summary = NULL;
	vsmmu_err err;

	if (vsmmu_inject_check(args, plan, host, &problems, &err) == 0)
		(void)vsmmu_inject_apply(args, plan, &summary, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_cstr(data, size);
	_cleanup_free_ const char **argv = vsmmu_xcalloc(MAX_ARGS + 1, sizeof(*argv));
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_strlist_ struct vsmmu_strlist problems = { 0 };
	char *nl = strchr(text, '\n');
	size_t argc;
	vsmmu_err err;

	if (!host)
		host = fuzz_grace_host();
	if (!nl)
		return 0;
	*nl = '\0';
	if (vsmmu_plan_from_json(text, &plan, &err) < 0)
		return 0;
	argc = split_lines(nl + 1, argv);
	if (vsmmu_qargs_parse((int)argc, argv, &args, &err) < 0)
		return 0;
	if (vsmmu_runtime_build(args, plan, &problems, &err) != 0)
		return 0;
	if (plan->topology == VSMMU_TOPO_RUNTIME && plan->n_hostdevs > 0)
		check_built(args, plan, argv[0]);
	inject(args, plan);
	return 0;
}
