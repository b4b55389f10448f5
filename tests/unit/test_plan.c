/* The planner: grouping, bus ranges, NUMA, spare ports, re-plan after a
 * host change, and the input it refuses. */
#include <string.h>

#include "plandoms.h"
#include "tap.h"

static bool ranges_disjoint(const struct vsmmu_plan *p)
{
	for (size_t i = 0; i < p->n_expanders; i++) {
		const struct vsmmu_plan_expander *a = &p->expanders[i];

		if (a->bus_nr < (int)p->pcie0_buses || a->bus_nr + (int)a->n_buses - 1 > 255)
			return false;
		for (size_t j = i + 1; j < p->n_expanders; j++) {
			const struct vsmmu_plan_expander *b = &p->expanders[j];

			if (a->bus_nr <= b->bus_nr + (int)b->n_buses - 1 &&
			    b->bus_nr <= a->bus_nr + (int)a->n_buses - 1)
				return false;
		}
	}
	return true;
}

static void test_grouping(const struct vsmmu_host *host)
{
	struct dom_opts o = { .config = "mode='accel'",
			      .hostdevs = { "0000:01:00.0", "0009:01:00.0", "0000:01:00.1",
					    "0019:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_plan_ struct vsmmu_plan *p = plan_of(xml, host, &err);
	const struct vsmmu_plan_hostdev *a, *b, *c;

	if (!CHECK(p, "plan builds for 4 hostdevs on 3 SMMUs"))
		return printf("# %s\n", err.msg), (void)0;
	CHECK_INT(p->n_expanders, 3, "one expander per SMMU in use");
	CHECK_INT(p->n_ports, 4, "one root port per hostdev, no spares by default");
	a = hostdev(p, "0000:01:00.0");
	b = hostdev(p, "0000:01:00.1");
	c = hostdev(p, "0009:01:00.0");
	CHECK(a && b && a->expander == b->expander && a->port != b->port,
	      "two functions behind one SMMU share an expander on separate root ports");
	CHECK(c && c->expander != a->expander, "a device behind another SMMU gets its own expander");
	CHECK_STR(vsmmu_plan_expander(p, c->expander)->smmu, "smmu3.0x0000000016000000",
		  "the GPU's expander mirrors the GPU's SMMU");
	CHECK(ranges_disjoint(p), "bus ranges are disjoint and above pcie.0");
	for (size_t i = 0; i < p->n_expanders; i++)
		CHECK(p->expanders[i].n_buses == 1 + (p->expanders[i].index == a->expander ? 2u : 1u),
		      "expander pci.%d reserves its root bus plus one per root port",
		      p->expanders[i].index);
	CHECK_INT(p->expanders[0].numa_node, -1, "no guest NUMA: no <node>");
	{
		bool seen[256] = { false }, dense = true;
		int max = 0;

		for (size_t i = 0; i < p->n_expanders; i++)
			seen[p->expanders[i].index] = true;
		for (size_t i = 0; i < p->n_ports; i++)
			seen[p->ports[i].index] = true;
		for (int i = 1; i < 256; i++)
			max = seen[i] ? i : max;
		for (int i = 1; i <= max; i++)
			dense &= seen[i];
		CHECK(dense && max == 7, "controller indexes 1..7 leave no gap (libvirt would "
		      "fill one with a root port on pcie.0)");
	}
}

static void test_numa(const struct vsmmu_host *host)
{
	struct dom_opts o = { .config = "", .numa = true,
			      .hostdevs = { "0009:01:00.0", "0019:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_plan_ struct vsmmu_plan *p = plan_of(xml, host, &err);

	if (!CHECK(p, "plan builds with guest NUMA"))
		return;
	CHECK_INT(vsmmu_plan_expander(p, hostdev(p, "0009:01:00.0")->expander)->numa_node, 0,
		  "SMMU on host node 0 -> guest cell 0 (memnode nodeset 0)");
	CHECK_INT(vsmmu_plan_expander(p, hostdev(p, "0019:01:00.0")->expander)->numa_node, 1,
		  "SMMU on host node 1 -> guest cell 1 (memnode nodeset 1-3)");
}

static void test_numa_fallback(void)
{
	static const char *const smmus[] = { "smmu3.0x0000000100000000" };
	static const struct fake_dev devs[] = { { "0000:7d:00.0", 0, 1 } };
	_cleanup_host_ struct vsmmu_host *host = fake_host(smmus, NULL, 1, devs, 1);
	struct dom_opts o = { .config = "", .numa = true, .hostdevs = { "0000:7d:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_plan_ struct vsmmu_plan *p = plan_of(xml, host, &err);

	CHECK(p && p->expanders[0].numa_node == 1,
	      "SMMU without numa_node: the node of its devices decides (cell 1)");
}

static void test_spares(const struct vsmmu_host *host)
{
	struct dom_opts o = { .config = "spare-ports='2'", .hostdevs = { "0009:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_plan_ struct vsmmu_plan *p = plan_of(xml, host, &err);
	size_t spare = 0;

	if (!CHECK(p, "plan builds with spare ports"))
		return;
	for (size_t i = 0; i < p->n_ports; i++)
		spare += p->ports[i].hostdev < 0;
	CHECK_INT(spare, 2, "spare-ports='2' adds two empty root ports");
	CHECK_INT(p->expanders[0].n_buses, 4, "the expander's range covers them (1 + 3 ports)");
}

static void test_foreign_expander(const struct vsmmu_host *host)
{
	struct dom_opts o = {
		.config = "", .hostdevs = { "0009:01:00.0", "0019:01:00.0" },
		.extra = "    <controller type='pci' index='1' model='pcie-expander-bus'>\n"
			 "      <target busNr='252'/>\n"
			 "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' "
			 "function='0x0'/>\n    </controller>\n"
			 "    <controller type='pci' index='2' model='pcie-root-port'>\n"
			 "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' "
			 "function='0x0'/>\n    </controller>\n",
	};
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_plan_ struct vsmmu_plan *p = plan_of(xml, host, &err);

	if (!CHECK(p, "plan builds beside a user's own expander"))
		return printf("# %s\n", err.msg), (void)0;
	for (size_t i = 0; i < p->n_expanders; i++) {
		const struct vsmmu_plan_expander *e = &p->expanders[i];

		CHECK(e->index != 1 && (e->bus_nr + (int)e->n_buses - 1 < 252 || e->bus_nr > 253),
		      "expander pci.%d (busNr %d) keeps clear of the user's 252-253 and slot 1",
		      e->index, e->bus_nr);
		CHECK(e->slot != 1, "expander pci.%d is not on the user's slot", e->index);
	}
}

static void test_replan(void)
{
	static const struct fake_dev moved[] = {
		{ "0000:01:00.0", 0, 0 }, { "0009:01:00.0", 1, 0 }, { "0019:01:00.0", 4, 1 },
	};
	_cleanup_host_ struct vsmmu_host *before = grace();
	_cleanup_host_ struct vsmmu_host *after = fake_host(grace_smmus, grace_nodes, 5, moved, 3);
	struct dom_opts o = { .config = "", .hostdevs = { "0000:01:00.0", "0009:01:00.0",
							 "0019:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_free_ char *first = rewrite_of(xml, before, &err);
	_cleanup_plan_ struct vsmmu_plan *p = first ? plan_of(first, after, &err) : NULL;

	if (!CHECK(p, "re-plan of a rewritten domain on a changed host"))
		return printf("# %s\n", err.msg), (void)0;
	CHECK(!hostdev(p, "0000:01:00.0")->moved && !hostdev(p, "0019:01:00.0")->moved,
	      "hostdevs whose SMMU did not change stay where they are");
	CHECK(hostdev(p, "0009:01:00.0")->moved, "the hostdev whose SMMU changed moves");
	CHECK_STR(vsmmu_plan_expander(p, hostdev(p, "0009:01:00.0")->expander)->smmu,
		  "smmu3.0x0000000012000000", "onto the expander of its new SMMU");
	CHECK_INT(p->n_remove, 2, "the expander of the SMMU no longer used goes, with its port");
}

static void expect_error(const struct vsmmu_host *host, const struct dom_opts *o,
			 const char *needle, const char *what)
{
	_cleanup_free_ char *xml = domain_xml(o);
	vsmmu_err err = { .msg = "" };
	_cleanup_free_ char *out = rewrite_of(xml, host, &err);

	if (!CHECK(!out && strstr(err.msg, needle), "%s", what))
		printf("#   message: %s\n", err.msg);
}

static void test_bad_input(const struct vsmmu_host *host)
{
	struct dom_opts missing = { .config = "", .hostdevs = { "0005:01:00.0" } };
	struct dom_opts none = { .config = "", .hostdevs = { "0020:01:00.0" } };
	struct dom_opts other = { .config = "", .hostdevs = { "0021:01:00.0" } };

	expect_error(host, &missing, "0005:01:00.0: no such PCI device", "absent device refused");
	expect_error(host, &none, "has no iommu link", "device without iommu link refused");
	expect_error(host, &other, "not an SMMUv3", "device behind a non-SMMUv3 IOMMU refused");
}

static void test_emulated_behind_accel(const struct vsmmu_host *host)
{
#define XML_FMT \
		"<domain type='kvm'><name>e</name><metadata><vsmmu:config " \
		"xmlns:vsmmu='urn:vsmmu:domain:1' mode='%s'><vsmmu:expander index='1' " \
		"smmu='smmu3.0x0000000016000000'/></vsmmu:config></metadata><os><type arch='aarch64' " \
		"machine='virt'>hvm</type></os><devices>" \
		"<controller type='pci' index='1' model='pcie-expander-bus'><target busNr='200'/>" \
		"<address type='pci' bus='0x00' slot='0x05'/></controller>" \
		"<controller type='pci' index='2' model='pcie-root-port'><address type='pci' " \
		"bus='0x01' slot='0x00'/></controller>" \
		"<controller type='pci' index='3' model='pcie-root-port'><address type='pci' " \
		"bus='0x01' slot='0x01'/></controller>" \
		"<hostdev mode='subsystem' type='pci'><source><address domain='0x0009' bus='0x01' " \
		"slot='0x00' function='0x0'/></source><address type='pci' bus='0x02' slot='0x00'/>" \
		"</hostdev><interface type='network'><address type='pci' bus='0x03' slot='0x00'/>" \
		"</interface></devices></domain>"
	_cleanup_free_ char *accel = vsmmu_xasprintf(XML_FMT, "accel");
	_cleanup_free_ char *emul = vsmmu_xasprintf(XML_FMT, "emulated");
	vsmmu_err err = { .msg = "" };
	_cleanup_plan_ struct vsmmu_plan *pa = plan_of(accel, host, &err);
	_cleanup_plan_ struct vsmmu_plan *pe = NULL;

	CHECK(!pa && strstr(err.msg, "<interface> at guest bus 0x03 is behind expander pci.1"),
	      "an emulated NIC behind an accelerated expander is refused: %s", err.msg);
	pe = plan_of(emul, host, &err);
	CHECK(pe && !hostdev(pe, "0009:01:00.0")->moved,
	      "in emulated mode it may stay; the hostdev keeps its port");
}

static void test_bus_exhaustion(void)
{
	enum { N = 25 };
	char *names[N];
	struct fake_dev devs[N];
	char bdfs[N][VSMMU_BDF_LEN];
	struct vsmmu_buf xml = { 0 };
	struct vsmmu_host *host;
	vsmmu_err err = { .msg = "" };
	_cleanup_free_ char *out = NULL;

	for (int i = 0; i < N; i++) {
		names[i] = vsmmu_xasprintf("smmu3.0x%016x", 0x1000000 * (i + 1));
		snprintf(bdfs[i], sizeof(bdfs[i]), "%04x:01:00.0", i + 1);
		devs[i] = (struct fake_dev){ bdfs[i], i, 0 };
	}
	host = fake_host((const char *const *)names, NULL, N, devs, N);
	vsmmu_buf_printf(&xml, "<domain><name>big</name><metadata><vsmmu:config xmlns:vsmmu="
			 "'urn:vsmmu:domain:1' spare-ports='8'/></metadata><os><type arch='aarch64'"
			 " machine='virt'>hvm</type></os><devices>");
	for (int i = 0; i < N; i++)
		vsmmu_buf_printf(&xml, "<hostdev mode='subsystem' type='pci'><source><address "
				 "domain='0x%04x' bus='0x01' slot='0x00'/></source></hostdev>", i + 1);
	vsmmu_buf_printf(&xml, "</devices></domain>");
	out = rewrite_of(xml.data, host, &err);
	CHECK(!out && strstr(err.msg, "not enough PCI bus numbers"),
	      "25 SMMUs with 9 root ports each (250 buses) do not fit above pcie.0: %s", err.msg);
	vsmmu_buf_free(&xml);
	vsmmu_host_free(host);
	for (int i = 0; i < N; i++)
		free(names[i]);
}

int main(void)
{
	_cleanup_host_ struct vsmmu_host *host = grace();

	test_grouping(host);
	test_numa(host);
	test_numa_fallback();
	test_spares(host);
	test_foreign_expander(host);
	test_replan();
	test_bad_input(host);
	test_emulated_behind_accel(host);
	test_bus_exhaustion();
	return tap_done();
}
