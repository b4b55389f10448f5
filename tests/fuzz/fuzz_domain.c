/* Domain XML -> plan -> rewrite against an in-memory host, and the plan
 * through its VSMMU_PLAN JSON and back: nothing may crash, leak or fail to
 * read back what vsmmu itself wrote, and a second rewrite must change
 * nothing. */
#include <stdio.h>

#include "fuzz.h"
#include "hookop.h"
#include "plan.h"
#include "prepare.h"
#include "rewrite.h"
#include "xmlutil.h"

static struct vsmmu_host *host;

static void check_json_roundtrip(const struct vsmmu_plan *plan)
{
	_cleanup_free_ char *json = NULL;
	_cleanup_plan_ struct vsmmu_plan *back = NULL;
	vsmmu_err err;

	if (!plan->managed)
		return;
	json = vsmmu_plan_to_json(plan);
	if (!json || vsmmu_plan_from_json(json, &back, &err) < 0) {
		fprintf(stderr, "plan JSON does not read back: %s\n%s\n",
			json ? err.msg : "(null)", json ? json : "");
		abort();
	}
}

/* A rewritten document must parse, plan and rewrite again, to itself:
 * rewrite(rewrite(x)) == rewrite(x). */
static void check_output(const char *out, size_t out_len)
{
	_cleanup_free_ char *again = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	size_t again_len;
	vsmmu_err err;

	if (vsmmu_rewrite_xml(out, out_len, host, &(struct vsmmu_policy)VSMMU_POLICY_DEFAULT,
			      &again, &again_len, &plan, &err) < 0) {
		fprintf(stderr, "rewritten XML does not rewrite again: %s\n%s\n", err.msg, out);
		abort();
	}
	if (again_len != out_len || memcmp(again, out, out_len) != 0) {
		fprintf(stderr, "rewrite is not idempotent:\n--- once\n%s\n--- twice\n%s\n", out,
			again);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	size_t out_len = 0;
	vsmmu_err err;

	if (!host)
		host = fuzz_grace_host();
	(void)vsmmu_xml_maybe_managed((const char *)data, size);
	if (vsmmu_rewrite_xml((const char *)data, size, host,
			      &(struct vsmmu_policy)VSMMU_POLICY_DEFAULT, &out, &out_len, &plan,
			      &err) < 0)
		return 0;
	if (plan) {
		check_json_roundtrip(plan);
		if (plan->managed)
			check_output(out, out_len);
	}
	return 0;
}
