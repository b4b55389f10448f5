/* The prepare-time check (check.c) on domain XML against an in-memory
 * host, as the hook runs it at every start. Nothing may crash or leak, and
 * check and rewrite must agree: what rewrite writes for this host, check
 * accepts with no problem other than the plan's own warnings. */
#include <stdio.h>

#include "check.h"
#include "fuzz.h"
#include "plan.h"
#include "rewrite.h"

static struct vsmmu_host *host;

static bool is_warning(const struct vsmmu_plan *plan, const char *line)
{
	for (size_t i = 0; i < plan->warnings.n; i++)
		if (strcmp(plan->warnings.items[i], line) == 0)
			return true;
	return false;
}

/* check(rewrite(x)): managed, and every problem one of the plan's warnings. */
static void check_rewritten(const char *out, size_t out_len, const struct vsmmu_plan *plan)
{
	struct vsmmu_check c;
	vsmmu_err err;

	if (vsmmu_check_xml(out, out_len, host, &c, &err) < 0) {
		fprintf(stderr, "check cannot read what rewrite wrote: %s\n%s\n", err.msg, out);
		abort();
	}
	if (!c.managed) {
		fprintf(stderr, "check calls a rewritten managed domain unmanaged\n%s\n", out);
		abort();
	}
	for (size_t i = 0; i < c.problems.n; i++)
		if (!is_warning(plan, c.problems.items[i])) {
			fprintf(stderr, "check refuses what rewrite wrote: %s\n%s\n",
				c.problems.items[i], out);
			abort();
		}
	vsmmu_check_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	struct vsmmu_check c;
	size_t out_len = 0;
	vsmmu_err err;

	if (!host)
		host = fuzz_grace_host();
	if (vsmmu_check_xml((const char *)data, size, host, &c, &err) == 0)
		vsmmu_check_clear(&c);
	if (vsmmu_rewrite_xml((const char *)data, size, host,
			      &(struct vsmmu_policy)VSMMU_POLICY_DEFAULT, &out, &out_len, &plan,
			      &err) < 0 || !plan->managed)
		return 0;
	check_rewritten(out, out_len, plan);
	return 0;
}
