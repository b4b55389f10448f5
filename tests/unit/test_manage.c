/* Which domains vsmmu manages (lib/model/manage.c): metadata, the owner's
 * opt-out, and the host policy manage = hostdevs. */
#include <string.h>

#include "domain.h"
#include "fakehost.h"
#include "manage.h"
#include "tap.h"

static const char *const smmus[] = { "smmu3.0x0000000011000000" };
static const struct fake_dev devs[] = {
	{ "0000:01:00.0", 0, 0 }, /* behind the SMMUv3 */
	{ "0000:02:00.0", -1, 0 }, /* no IOMMU */
	{ "0000:03:00.0", -2, 0 }, /* another IOMMU */
};

/* A domain of arch with one hostdev at 0000:BUS:00.0 (none for BUS < 0)
 * and meta inside its <metadata>. */
static struct vsmmu_domain *dom_of(const char *arch, int bus, const char *meta)
{
	_cleanup_free_ char *hostdev =
		bus < 0 ? vsmmu_xstrdup("")
			: vsmmu_xasprintf("<hostdev mode='subsystem' type='pci' managed='yes'>"
					  "<source><address domain='0' bus='0x0%d' slot='0' "
					  "function='0'/></source></hostdev>", bus);
	_cleanup_free_ char *xml = vsmmu_xasprintf(
		"<domain type='kvm'><name>n</name><metadata>%s</metadata>"
		"<os firmware='efi'><type arch='%s' machine='virt'>hvm</type></os>"
		"<features><acpi/></features><devices>%s</devices></domain>",
		meta ? meta : "", arch, hostdev);
	struct vsmmu_domain *dom = NULL;
	vsmmu_err err = { .msg = "" };

	if (vsmmu_domain_parse(xml, strlen(xml), &dom, &err) < 0)
		printf("# %s\n", err.msg);
	return dom;
}

static enum vsmmu_managed_by decide(const char *arch, int bus, const char *meta,
				    enum vsmmu_manage_policy policy)
{
	_cleanup_host_ struct vsmmu_host *host = fake_host(smmus, NULL, 1, devs, 3);
	_cleanup_domain_ struct vsmmu_domain *dom = dom_of(arch, bus, meta);

	return dom ? vsmmu_manage_decide(dom, policy, host) : (enum vsmmu_managed_by)-1;
}

static const char OFF[] = "<vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='off'/>";
static const char ACCEL[] = "<vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='accel'/>";

int main(void)
{
	CHECK_INT(decide("aarch64", 1, NULL, VSMMU_MANAGE_MARKED), VSMMU_MANAGED_NO,
		  "marked: a hostdev behind an SMMUv3 without metadata is not ours");
	CHECK_INT(decide("aarch64", 1, NULL, VSMMU_MANAGE_HOSTDEVS), VSMMU_MANAGED_POLICY,
		  "hostdevs: the same domain is taken by the policy");
	CHECK_INT(decide("aarch64", 2, NULL, VSMMU_MANAGE_HOSTDEVS), VSMMU_MANAGED_NO,
		  "hostdevs: a hostdev with no IOMMU is not ours");
	CHECK_INT(decide("aarch64", 3, NULL, VSMMU_MANAGE_HOSTDEVS), VSMMU_MANAGED_NO,
		  "hostdevs: a hostdev behind another IOMMU is not ours");
	CHECK_INT(decide("aarch64", -1, NULL, VSMMU_MANAGE_HOSTDEVS), VSMMU_MANAGED_NO,
		  "hostdevs: no hostdev, not ours");
	CHECK_INT(decide("x86_64", 1, NULL, VSMMU_MANAGE_HOSTDEVS), VSMMU_MANAGED_NO,
		  "hostdevs: a domain of another arch is not ours");
	CHECK_INT(decide("aarch64", 1, OFF, VSMMU_MANAGE_HOSTDEVS), VSMMU_MANAGED_OPTED_OUT,
		  "mode='off' beats the policy");
	CHECK_INT(decide("aarch64", 1, ACCEL, VSMMU_MANAGE_MARKED), VSMMU_MANAGED_METADATA,
		  "metadata: managed under either policy");
	CHECK_INT(decide("aarch64", 1, ACCEL, VSMMU_MANAGE_HOSTDEVS), VSMMU_MANAGED_METADATA,
		  "metadata wins over the policy's defaults");
	{
		_cleanup_host_ struct vsmmu_host *host = fake_host(smmus, NULL, 1, devs, 3);
		_cleanup_domain_ struct vsmmu_domain *dom = dom_of("aarch64", 1, NULL);

		vsmmu_manage_decide(dom, VSMMU_MANAGE_HOSTDEVS, host);
		CHECK(dom->config.topology == VSMMU_TOPO_RUNTIME &&
			      dom->config.mode == VSMMU_MODE_ACCEL,
		      "the policy adopts the domain in runtime topology, accel mode");
	}
	CHECK(vsmmu_manage_maybe("<domain><hostdev/></domain>", 27),
	      "the cheap test lets a domain with a hostdev through");
	CHECK(!vsmmu_manage_maybe("<domain><disk/></domain>", 24),
	      "the cheap test skips a domain with neither metadata nor hostdev");
	return tap_done();
}
