/* vsmmuctl check (lib/xml/check.c): a definition against the host, with
 * what a rewrite fixes apart from what the user must. */
#include <string.h>

#include "check.h"
#include "plandoms.h"
#include "tap.h"

static bool check_of(const char *xml, const struct vsmmu_host *host, struct vsmmu_check *c)
{
	vsmmu_err err = { .msg = "" };

	if (xml && vsmmu_check_xml(xml, strlen(xml), host, c, &err) == 0)
		return true;
	printf("# check: %s\n", err.msg);
	return false;
}

static bool has_line(const struct vsmmu_strlist *p, const char *needle)
{
	for (size_t i = 0; i < p->n; i++)
		if (strstr(p->items[i], needle))
			return true;
	return false;
}

static void test_matches(const struct vsmmu_host *host)
{
	struct dom_opts o = { .config = "", .hostdevs = { "0000:01:00.0", "0009:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_free_ char *applied = rewrite_of(xml, host, &err);
	struct vsmmu_check c;

	if (!CHECK(check_of(applied, host, &c), "a rewritten definition checks"))
		return;
	CHECK(c.managed && c.problems.n == 0 && c.manual.n == 0,
	      "a rewritten definition matches the host it was written for");
	vsmmu_check_clear(&c);
	if (!CHECK(check_of(xml, host, &c), "a definition not yet rewritten checks"))
		return;
	CHECK(has_line(&c.problems, "is not on a root port of an expander for"),
	      "before the rewrite, each hostdev is reported off its expander");
	vsmmu_check_clear(&c);
}

static void test_unmanaged(const struct vsmmu_host *host)
{
	struct dom_opts o = { .hostdevs = { "0009:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	struct vsmmu_check c;

	CHECK(check_of(xml, host, &c) && !c.managed && c.problems.n == 0,
	      "an unmanaged domain is not checked");
	vsmmu_check_clear(&c);
}

static void test_host_changed(const struct vsmmu_host *before)
{
	static const struct fake_dev moved[] = {
		{ "0000:01:00.0", 0, 0 }, { "0009:01:00.0", 1, 0 },
	};
	_cleanup_host_ struct vsmmu_host *after = fake_host(grace_smmus, grace_nodes, 5, moved, 2);
	struct dom_opts o = { .config = "", .hostdevs = { "0000:01:00.0", "0009:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_free_ char *applied = rewrite_of(xml, before, &err);
	struct vsmmu_check c;

	if (!CHECK(check_of(applied, after, &c), "a definition checks on a changed host"))
		return;
	CHECK(has_line(&c.problems, "hostdev 0009:01:00.0 is behind smmu3.0x0000000012000000 on "
		       "this host, but is routed to expander"),
	      "a hostdev whose SMMU changed is reported with the SMMU it is behind now");
	CHECK(has_line(&c.problems, "serves no hostdev any more"),
	      "the expander of the SMMU no longer used is reported");
	vsmmu_check_clear(&c);
}

static void test_unplannable(const struct vsmmu_host *host)
{
	struct dom_opts o = { .config = "", .hostdevs = { "0005:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	struct vsmmu_check c;

	CHECK(check_of(xml, host, &c) && c.managed && c.problems.n == 0 &&
	      has_line(&c.manual, "0005:01:00.0: no such PCI device"),
	      "a definition that cannot be planned is a manual problem, not a failure");
	vsmmu_check_clear(&c);
}

int main(void)
{
	_cleanup_host_ struct vsmmu_host *host = grace();

	test_matches(host);
	test_unmanaged(host);
	test_host_changed(host);
	test_unplannable(host);
	return tap_done();
}
