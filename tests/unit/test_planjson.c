/* The plan's JSON: round trip and the versions it refuses. */
#include <string.h>

#include "plandoms.h"
#include "tap.h"

static void test_json_roundtrip(const struct vsmmu_host *host)
{
	struct dom_opts o = { .config = "spare-ports='1' ats='on'", .numa = true,
			      .hostdevs = { "0000:01:00.0", "0019:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_plan_ struct vsmmu_plan *p = plan_of(xml, host, &err);
	_cleanup_free_ char *j1 = p ? vsmmu_plan_to_json(p) : NULL;
	_cleanup_plan_ struct vsmmu_plan *q = NULL;
	_cleanup_free_ char *j2 = NULL;

	if (!CHECK(j1 && vsmmu_plan_from_json(j1, &q, &err) == 0, "plan JSON parses back"))
		return;
	j2 = vsmmu_plan_to_json(q);
	CHECK_STR(j2, j1, "JSON -> plan -> JSON is stable");
	CHECK(strstr(j1, "\"ats\":\"on\"") != NULL, "feature properties reach the vSMMU entries");
	CHECK(vsmmu_plan_from_json("{\"version\":2,\"mode\":\"accel\",\"topology\":\"persistent\"}",
				   &q, &err) < 0 && strstr(err.msg, "version 2"),
	      "an unknown plan version is refused");
}

int main(void)
{
	_cleanup_host_ struct vsmmu_host *host = grace();

	test_json_roundtrip(host);
	return tap_done();
}
