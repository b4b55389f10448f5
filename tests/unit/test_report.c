/* vsmmuctl's views (lib/admin/report.h) of an in-memory host, a plan and
 * a rewritten domain: the host table and JSON, the plan table, the
 * definition's tree with its "managed" line, the Graphviz digraph, and the
 * plan's runtime tree. Each asserted line is one a user reads. */
#include <jansson.h>
#include <string.h>

#include "fakehost.h"
#include "plan.h"
#include "report.h"
#include "rewrite.h"
#include "tap.h"

static const char *const smmus[] = { "smmu3.0x0000000011000000", "smmu3.0x0000000016000000" };
static const int smmu_nodes[] = { 0, 1 };
static const struct fake_dev devs[] = { { "0000:01:00.0", 0, 0 }, { "0009:01:00.0", 1, 1 },
					{ "0020:01:00.0", -1, 0 } };

/* One GPU behind the second SMMU, managed by its metadata. */
static const char domain_xml[] =
	"<domain type='kvm'>\n  <name>t</name>\n  <metadata>\n    <vsmmu:config "
	"xmlns:vsmmu='urn:vsmmu:domain:1' mode='accel'/>\n  </metadata>\n"
	"  <os firmware='efi'>\n    <type arch='aarch64' machine='virt'>hvm</type>\n  </os>\n"
	"  <features>\n    <acpi/>\n  </features>\n  <devices>\n"
	"    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n"
	"        <address domain='0x0009' bus='0x01' slot='0x00' function='0x0'/>\n"
	"      </source>\n    </hostdev>\n  </devices>\n</domain>\n";

static bool has_line(const struct vsmmu_buf *b, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = b->data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

struct fixture {
	struct vsmmu_host *host;
	struct vsmmu_plan *plan;   /* for domain_xml */
	struct vsmmu_domain *done; /* domain_xml rewritten, parsed again */
};

static bool fixture_make(struct fixture *f)
{
	_cleanup_free_ char *out = NULL;
	size_t n = 0;
	vsmmu_err err;

	f->host = fake_host(smmus, smmu_nodes, 2, devs, VSMMU_ARRAY_LEN(devs));
	if (vsmmu_rewrite_xml(domain_xml, strlen(domain_xml), f->host, NULL, &out, &n, &f->plan,
			      &err) == 0 &&
	    vsmmu_domain_parse(out, n, &f->done, &err) == 0)
		return true;
	printf("# fixture: %s\n", err.msg);
	return false;
}

static void fixture_clear(struct fixture *f)
{
	vsmmu_host_free(f->host);
	vsmmu_plan_free(f->plan);
	vsmmu_domain_free(f->done);
}

static void test_host_table(const struct fixture *f)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 };

	vsmmu_report_host_table(f->host, &b);
	CHECK(has_line(&b, "SMMU                       PLATFORM DEVICE        NODE  PCI DEVICES"),
	      "host table: the SMMU header");
	CHECK(has_line(&b, "smmu3.0x0000000016000000   arm-smmu-v3.1.auto     1     1"),
	      "host table: an SMMU, its platform device, node and device count");
	CHECK(has_line(&b, "0009:01:00.0  0000:0000  000000  vfio-pci               1     1      "
			   "smmu3.0x0000000016000000   -"), "host table: a device behind an SMMU");
	CHECK(has_line(&b, "0020:01:00.0  0000:0000  000000  vfio-pci               0     2      "
			   "(no iommu)                 -"), "host table: a device behind none");
}

static void test_host_json(const struct fixture *f)
{
	_cleanup_free_ char *text = vsmmu_report_host_json(f->host);
	json_auto_t *root = text ? json_loads(text, 0, NULL) : NULL;
	json_t *smmus_j = json_object_get(root, "smmus");
	json_t *devs_j = json_object_get(root, "pci_devices");
	json_t *gpu = json_array_get(devs_j, 1), *bypass = json_array_get(devs_j, 2);

	CHECK(root && json_array_size(smmus_j) == 2 && json_array_size(devs_j) == 3,
	      "host JSON: every SMMU and device");
	CHECK_STR(json_string_value(json_object_get(json_array_get(smmus_j, 0), "platform_device")),
		  "arm-smmu-v3.0.auto", "host JSON: an SMMU's platform device");
	CHECK(json_integer_value(json_object_get(json_array_get(smmus_j, 1), "numa_node")) == 1,
	      "host JSON: an SMMU's node as a number");
	CHECK_STR(json_string_value(json_object_get(gpu, "smmu")), "smmu3.0x0000000016000000",
		  "host JSON: the SMMU a device is behind");
	CHECK_STR(json_string_value(json_object_get(gpu, "class")), "0x000000",
		  "host JSON: ids as hex strings");
	CHECK(json_is_null(json_object_get(gpu, "vfio_cdev")), "host JSON: no cdev is null");
	CHECK_STR(json_string_value(json_object_get(bypass, "iommu")), "none",
		  "host JSON: a device behind no IOMMU");
	CHECK(json_is_null(json_object_get(bypass, "smmu")), "host JSON: and so no SMMU");
}

static void test_plan_table(const struct fixture *f)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 }, none = { 0 };
	struct vsmmu_plan unmanaged = { .managed = false };

	vsmmu_report_plan_table(f->plan, &b);
	CHECK(has_line(&b, "mode accel, 1 hostdevs, pcie.0 keeps buses 0-8"),
	      "plan table: mode, hostdevs and what pcie.0 keeps");
	CHECK(has_line(&b, "pci.1     252     252-253 -     0x01  smmu3.0x0000000016000000   "
			   "vsmmu.1"), "plan table: the expander, its buses and its vSMMU");
	CHECK(has_line(&b, "pci.2      pci.1     0x00  0009:01:00.0"),
	      "plan table: the root port and its hostdev");
	vsmmu_report_plan_table(&unmanaged, &none);
	CHECK_STR(none.data, "not managed by vsmmu: nothing to plan\n",
		  "plan table: an unmanaged domain has nothing to plan");
}

static void test_tree(const struct fixture *f)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 }, policy = { 0 }, no = { 0 };

	vsmmu_report_tree(f->done, VSMMU_MANAGED_METADATA, &b);
	CHECK(has_line(&b, "domain t, vsmmu mode accel"), "tree: managed by its metadata");
	CHECK(has_line(&b, "pcie.0 pcie-root"), "tree: the root complex");
	CHECK(has_line(&b, "`-- 01.0 pci.1 pcie-expander-bus busNr 252 mirrors "
			   "smmu3.0x0000000016000000 [vSMMU vsmmu.1, accel=on]"),
	      "tree: the expander with the SMMU it mirrors and its vSMMU");
	CHECK(has_line(&b, "    `-- 00.0 pci.2 pcie-root-port"), "tree: the root port below it");
	CHECK(has_line(&b, "        `-- 00.0 hostdev 0009:01:00.0 (vfio-pci)"),
	      "tree: the hostdev below that");
	vsmmu_report_tree(f->done, VSMMU_MANAGED_POLICY, &policy);
	CHECK(strstr(policy.data, "domain t, managed by vsmmu: host policy manage = hostdevs") ==
	      policy.data && has_line(&policy, "note: the definition stays as written; at each "
				      "start the hook plans and the wrapper builds the vSMMUs "
				      "(vsmmuctl show t while it runs shows them)"),
	      "tree: a policy domain says why and where its vSMMUs come from");
	vsmmu_report_tree(f->done, VSMMU_MANAGED_NO, &no);
	CHECK(has_line(&no, "domain t, not managed by vsmmu: no vsmmu metadata"),
	      "tree: an unmanaged domain says so");
}

static void test_dot(const struct fixture *f)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 };

	vsmmu_report_dot(f->done, &b);
	CHECK(has_line(&b, "digraph \"t\" {") && has_line(&b, "}"), "dot: one digraph");
	CHECK(has_line(&b, "  \"pci.1\" [label=\"pci.1\\npcie-expander-bus\"];") &&
	      has_line(&b, "  \"pcie.0\" -> \"pci.1\";"), "dot: the expander on pcie.0");
	CHECK(has_line(&b, "  \"vsmmu.1\" -> \"smmu3.0x0000000016000000\" [style=dashed, "
			   "label=\"mirrors\"];"), "dot: the vSMMU mirrors its host SMMU");
	CHECK(has_line(&b, "  \"pci.2\" -> \"0009:01:00.0\";"), "dot: the hostdev on its port");
}

static void test_plan_tree(const struct fixture *f)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 };

	vsmmu_report_plan_tree(f->plan, "t", &b);
	CHECK(has_line(&b, "domain t, vsmmu mode accel, topology persistent"),
	      "plan tree: mode and topology");
	CHECK(has_line(&b, "`-- 01.0 pci.1 pcie-expander-bus busNr 252 node - mirrors "
			   "smmu3.0x0000000016000000 [vSMMU vsmmu.1, accel=on]"),
	      "plan tree: the expander QEMU gets");
	CHECK(has_line(&b, "        `-- 00.0 hostdev 0009:01:00.0 (vfio-pci)"),
	      "plan tree: the hostdev on its port");
}

int main(void)
{
	struct fixture f = { 0 };

	if (CHECK(fixture_make(&f), "a host, a plan and a rewritten domain")) {
		test_host_table(&f);
		test_host_json(&f);
		test_plan_table(&f);
		test_tree(&f);
		test_dot(&f);
		test_plan_tree(&f);
	}
	fixture_clear(&f);
	return tap_done();
}
