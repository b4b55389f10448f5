/* Planner and rewrite: grouping, bus ranges, NUMA, spare ports, re-plan
 * after a host change, idempotence, preservation and bad input. */
#include <string.h>

#include "fakehost.h"
#include "plan.h"
#include "rewrite.h"
#include "tap.h"
#include "xmlutil.h"

static const char *const grace_smmus[] = {
	"smmu3.0x0000000011000000", "smmu3.0x0000000012000000", "smmu3.0x0000000016000000",
	"smmu3.0x0000100011000000", "smmu3.0x0000100016000000",
};
static const int grace_nodes[] = { 0, 0, 0, 1, 1 };
static const struct fake_dev grace_devs[] = {
	{ "0000:01:00.0", 0, 0 }, { "0000:01:00.1", 0, 0 }, { "0002:01:00.0", 1, 0 },
	{ "0009:01:00.0", 2, 0 }, { "0010:01:00.0", 3, 1 }, { "0019:01:00.0", 4, 1 },
	{ "0020:01:00.0", -1, 0 }, { "0021:01:00.0", -2, 0 },
};

static struct vsmmu_host *grace(void)
{
	return fake_host(grace_smmus, grace_nodes, 5, grace_devs, VSMMU_ARRAY_LEN(grace_devs));
}

struct dom_opts {
	const char *config;     /* attributes of <vsmmu:config>, NULL for unmanaged */
	const char *hostdevs[8];
	bool numa;
	const char *extra;      /* more <devices> children */
	const char *iommu;      /* an <iommu> element */
};

static char *hostdev_xml(const char *bdf)
{
	struct vsmmu_pci_addr a;

	vsmmu_pci_addr_parse(bdf, &a);
	return vsmmu_xasprintf("    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
			       "      <source>\n"
			       "        <address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
			       "function='0x%x'/>\n      </source>\n    </hostdev>\n",
			       a.domain, a.bus, a.slot, a.func);
}

static char *domain_xml(const struct dom_opts *o)
{
	struct vsmmu_buf b = { 0 };

	vsmmu_buf_printf(&b, "<domain type='kvm'>\n  <name>t</name>\n");
	if (o->config)
		vsmmu_buf_printf(&b, "  <metadata>\n    <vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1'"
				 " %s/>\n  </metadata>\n", o->config);
	if (o->numa)
		vsmmu_buf_printf(&b, "  <numatune>\n    <memnode cellid='0' mode='strict' "
				 "nodeset='0'/>\n    <memnode cellid='1' mode='strict' "
				 "nodeset='1-3'/>\n  </numatune>\n");
	vsmmu_buf_printf(&b, "  <os firmware='efi'>\n    <type arch='aarch64' machine='virt'>hvm"
			 "</type>\n  </os>\n  <features>\n    <acpi/>\n  </features>\n");
	if (o->numa)
		vsmmu_buf_printf(&b, "  <cpu>\n    <numa>\n      <cell id='0' cpus='0' memory='1'/>\n"
				 "      <cell id='1' cpus='1' memory='1'/>\n    </numa>\n  </cpu>\n");
	vsmmu_buf_printf(&b, "  <devices>\n");
	for (size_t i = 0; i < 8 && o->hostdevs[i]; i++) {
		_cleanup_free_ char *h = hostdev_xml(o->hostdevs[i]);

		vsmmu_buf_printf(&b, "%s", h);
	}
	vsmmu_buf_printf(&b, "%s%s  </devices>\n</domain>\n", o->extra ? o->extra : "",
			 o->iommu ? o->iommu : "");
	return b.data;
}

static struct vsmmu_plan *plan_of(const char *xml, const struct vsmmu_host *host, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	struct vsmmu_plan *plan = NULL;

	if (vsmmu_domain_parse(xml, strlen(xml), &dom, err) < 0 ||
	    vsmmu_plan_build(dom, host, NULL, &plan, err) < 0)
		return NULL;
	return plan;
}

static char *rewrite_of(const char *xml, const struct vsmmu_host *host, vsmmu_err *err)
{
	char *out = NULL;
	size_t len;

	if (vsmmu_rewrite_xml(xml, strlen(xml), host, NULL, &out, &len, NULL, err) < 0)
		return NULL;
	return out;
}

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

static const struct vsmmu_plan_hostdev *hostdev(const struct vsmmu_plan *p, const char *bdf)
{
	for (size_t i = 0; i < p->n_hostdevs; i++)
		if (strcmp(p->hostdevs[i].bdf, bdf) == 0)
			return &p->hostdevs[i];
	return NULL;
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

static void test_rewrite_idempotent(const struct vsmmu_host *host)
{
	struct dom_opts o = { .config = "spare-ports='1'", .numa = true,
			      .hostdevs = { "0000:01:00.0", "0009:01:00.0", "0019:01:00.0" },
			      .extra = "    <interface type='network'>\n      <source network="
				       "'default'/>\n      <model type='virtio'/>\n    </interface>\n" };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_free_ char *once = rewrite_of(xml, host, &err);
	_cleanup_free_ char *twice = once ? rewrite_of(once, host, &err) : NULL;

	CHECK(once && twice && strcmp(once, twice) == 0,
	      "rewriting its own output gives byte-identical XML");
	CHECK(once && strstr(once, "model='pcie-expander-bus'") == NULL &&
	      strstr(once, "model=\"pcie-expander-bus\""), "expanders are written");
	CHECK(once && strstr(once, "<qemu:env name=\"VSMMU_PLAN\""), "the plan env is written");
	CHECK(once && strstr(once, "xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\""),
	      "the qemu namespace is declared on the root");
	CHECK(once && strstr(once, "<vsmmu:expander index="), "expander records are kept");
}

static void test_preservation(const struct vsmmu_host *host)
{
	const char *xml =
		"<domain type='kvm' xmlns:foo='urn:foo' foo:x='1'>\n  <name>p</name>\n"
		"  <!-- keep me -->\n  <metadata>\n    <foo:bar a='b'>text</foo:bar>\n"
		"    <vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1'/>\n  </metadata>\n"
		"  <os firmware='efi'>\n    <type arch='aarch64' machine='virt'>hvm</type>\n  </os>\n"
		"  <features>\n    <acpi/>\n  </features>\n  <unknown-thing z='1'/>\n"
		"  <devices>\n    <hostdev mode='subsystem' type='pci' managed='yes' future='x'>\n"
		"      <source>\n        <address domain='0x0009' bus='0x01' slot='0x00' "
		"function='0x0'/>\n      </source>\n    </hostdev>\n"
		"    <disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>\n"
		"  </devices>\n</domain>\n";
	vsmmu_err err;
	_cleanup_free_ char *out = rewrite_of(xml, host, &err);

	if (!CHECK(out, "rewrite succeeds on a domain with foreign content"))
		return printf("# %s\n", err.msg), (void)0;
	CHECK(strstr(out, "<!-- keep me -->") != NULL, "comments survive");
	CHECK(strstr(out, "<foo:bar a=\"b\">text</foo:bar>") != NULL, "other metadata survives");
	CHECK(strstr(out, "<unknown-thing z=\"1\"/>") != NULL, "unknown elements survive");
	CHECK(strstr(out, "future=\"x\"") != NULL, "unknown attributes survive");
	CHECK(strstr(out, "foo:x=\"1\"") != NULL, "foreign namespaced attributes survive");
	CHECK(strstr(out, "<target dev=\"vda\" bus=\"virtio\"/>") != NULL, "other devices survive");
}

static void test_unmanaged(const struct vsmmu_host *host)
{
	struct dom_opts o = { .hostdevs = { "0009:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_free_ char *out = rewrite_of(xml, host, &err);

	CHECK(out && strcmp(out, xml) == 0, "an unmanaged domain comes back unchanged");
}

static void test_iommu_forms(const struct vsmmu_host *host)
{
	struct dom_opts nested = { .hostdevs = { "0009:01:00.0" },
				   .iommu = "    <iommu model='nestedSmmuv3'/>\n" };
	struct dom_opts dev = { .hostdevs = { "0009:01:00.0" },
				.iommu = "    <iommu model='smmuv3Dev' parentIdx='1'/>\n" };
	struct dom_opts machine = { .config = "", .hostdevs = { "0009:01:00.0" },
				    .iommu = "    <iommu model='smmuv3'/>\n" };
	struct dom_opts virtio = { .config = "", .hostdevs = { "0009:01:00.0" },
				   .iommu = "    <iommu model='virtio'/>\n" };
	_cleanup_free_ char *x1 = domain_xml(&nested), *x2 = domain_xml(&dev);
	_cleanup_free_ char *x3 = domain_xml(&machine), *x4 = domain_xml(&virtio);
	vsmmu_err err;
	_cleanup_free_ char *o1 = rewrite_of(x1, host, &err), *o2 = rewrite_of(x2, host, &err);
	_cleanup_free_ char *o3 = rewrite_of(x3, host, &err), *o4 = rewrite_of(x4, host, &err);

	CHECK(o1 && !strstr(o1, "nestedSmmuv3") && strstr(o1, "mode=\"accel\""),
	      "<iommu model='nestedSmmuv3'/> opts in: converted to accel metadata");
	CHECK(o2 && !strstr(o2, "smmuv3Dev") && strstr(o2, "mode=\"emulated\""),
	      "<iommu model='smmuv3Dev'> without accel converts to emulated mode");
	CHECK(o3 && !strstr(o3, "<iommu") && strstr(o3, "root-iommu=\"smmuv3\"") &&
	      strstr(o3, "root_vsmmu"), "a machine-wide smmuv3 becomes an emulated vSMMU on pcie.0");
	CHECK(!o4 && strstr(err.msg, "iommu model='virtio'"), "a virtio iommu is refused: %s",
	      err.msg);
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
	struct dom_opts dup = { .config = "", .hostdevs = { "0009:01:00.0", "0009:01:00.0" } };
	struct dom_opts mode = { .config = "mode='fast'", .hostdevs = { "0009:01:00.0" } };

	expect_error(host, &missing, "0005:01:00.0: no such PCI device", "absent device refused");
	expect_error(host, &none, "has no iommu link", "device without iommu link refused");
	expect_error(host, &other, "not an SMMUv3", "device behind a non-SMMUv3 IOMMU refused");
	expect_error(host, &dup, "appears twice", "duplicate hostdev refused");
	expect_error(host, &mode, "mode must be 'accel' or 'emulated'", "bad mode refused");
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

	test_grouping(host);
	test_numa(host);
	test_numa_fallback();
	test_spares(host);
	test_foreign_expander(host);
	test_replan();
	test_rewrite_idempotent(host);
	test_preservation(host);
	test_unmanaged(host);
	test_iommu_forms(host);
	test_bad_input(host);
	test_emulated_behind_accel(host);
	test_bus_exhaustion();
	test_json_roundtrip(host);
	return tap_done();
}
