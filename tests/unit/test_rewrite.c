/* The rewrite of a definition: idempotence, what it keeps, what it
 * converts, and adoption for vsmmuctl apply. */
#include <string.h>

#include "plandoms.h"
#include "tap.h"

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

/* Adopting a parsed domain leaves the model that parsing its text gives. */
static void test_adopt(void)
{
	struct dom_opts o = { .hostdevs = { "0009:01:00.0" },
			      .iommu = "    <iommu model='smmuv3'><driver pciBus='1'/></iommu>\n" };
	_cleanup_free_ char *xml = domain_xml(&o), *text = NULL;
	_cleanup_domain_ struct vsmmu_domain *dom = NULL, *again = NULL;
	size_t len;
	vsmmu_err err = { .msg = "" };

	if (!CHECK(vsmmu_domain_parse(xml, strlen(xml), &dom, &err) == 0 &&
		   !vsmmu_domain_is_managed(dom), "an unmanaged domain parses"))
		return printf("# %s\n", err.msg), (void)0;
	if (!CHECK(vsmmu_adopt(dom, &err) == 0 && vsmmu_domain_format(dom, &text, &len, &err) == 0 &&
		   vsmmu_domain_parse(text, len, &again, &err) == 0,
		   "adopted, its text parses again"))
		return printf("# %s\n", err.msg), (void)0;
	CHECK(strstr(text, "<vsmmu:config xmlns:vsmmu=\"urn:vsmmu:domain:1\" mode=\"emulated\"/>"),
	      "per-bus vSMMUs without accel are adopted in emulated mode");
	CHECK(vsmmu_domain_is_managed(dom) && dom->config.node &&
	      dom->config.mode == again->config.mode && dom->config.form == again->config.form &&
	      dom->config.topology == again->config.topology &&
	      dom->config.spare_ports == again->config.spare_ports,
	      "the adopted model is the one its text parses to");
}

int main(void)
{
	_cleanup_host_ struct vsmmu_host *host = grace();

	test_rewrite_idempotent(host);
	test_preservation(host);
	test_unmanaged(host);
	test_iommu_forms(host);
	test_adopt();
	return tap_done();
}
