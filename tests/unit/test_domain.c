/* The domain parser: the input it refuses, and the model read again from
 * an edited document. */
#include <string.h>

#include "plandoms.h"
#include "tap.h"

static void expect_parse_error(const struct dom_opts *o, const char *needle, const char *what)
{
	_cleanup_free_ char *xml = domain_xml(o);
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	vsmmu_err err = { .msg = "" };

	if (!CHECK(vsmmu_domain_parse(xml, strlen(xml), &dom, &err) < 0 && strstr(err.msg, needle),
		   "%s", what))
		printf("#   message: %s\n", err.msg);
}

static void test_bad_input(void)
{
	struct dom_opts dup = { .config = "", .hostdevs = { "0009:01:00.0", "0009:01:00.0" } };
	struct dom_opts mode = { .config = "mode='fast'", .hostdevs = { "0009:01:00.0" } };

	expect_parse_error(&dup, "appears twice", "duplicate hostdev refused");
	expect_parse_error(&mode, "mode must be 'accel' or 'emulated'", "bad mode refused");
}

/* After a rewrite, vsmmu_domain_reread() sees what parsing the rewritten
 * text sees: the new controllers, hostdev addresses and metadata. */
static void test_reread(void)
{
	_cleanup_host_ struct vsmmu_host *host = grace();
	struct dom_opts o = { .config = "mode='accel'",
			      .hostdevs = { "0000:01:00.0", "0009:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o), *text = NULL;
	_cleanup_domain_ struct vsmmu_domain *dom = NULL, *again = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	vsmmu_err err = { .msg = "" };
	size_t len;
	bool same;

	if (!CHECK(vsmmu_domain_parse(xml, strlen(xml), &dom, &err) == 0 &&
		   vsmmu_plan_build(dom, host, NULL, &plan, &err) == 0 &&
		   vsmmu_rewrite(dom, plan, &err) == 0 && vsmmu_domain_reread(dom, &err) == 0 &&
		   vsmmu_domain_format(dom, &text, &len, &err) == 0 &&
		   vsmmu_domain_parse(text, len, &again, &err) == 0,
		   "a rewritten document is read again") || !again)
		return;
	same = dom->n_ctrls == again->n_ctrls && dom->n_hostdevs == again->n_hostdevs &&
	       dom->config.n_records == again->config.n_records &&
	       vsmmu_streq(dom->qemu.plan, again->qemu.plan) && dom->qemu.plan;
	for (size_t i = 0; same && i < dom->n_ctrls; i++)
		same = dom->ctrls[i].index == again->ctrls[i].index &&
		       vsmmu_streq(dom->ctrls[i].bus_nr_text, again->ctrls[i].bus_nr_text);
	for (size_t i = 0; same && i < dom->n_hostdevs; i++)
		same = dom->hostdevs[i].addr.bus == again->hostdevs[i].addr.bus &&
		       dom->hostdevs[i].addr.as_written && dom->hostdevs[i].driver_named;
	CHECK(same && dom->n_ctrls > 0, "the model read again equals the rewritten text's");
}

int main(void)
{
	test_bad_input();
	test_reread();
	return tap_done();
}
