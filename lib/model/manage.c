#include "manage.h"

#include <string.h>

#include "hookop.h"
#include "util.h"

bool vsmmu_manage_maybe(const char *xml, size_t len)
{
	return vsmmu_xml_maybe_managed(xml, len) || memmem(xml, len, "<hostdev", 8);
}

static bool has_smmuv3_hostdev(const struct vsmmu_domain *dom, const struct vsmmu_host *host)
{
	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		const struct vsmmu_pcidev *dev = vsmmu_host_find_dev(host, &dom->hostdevs[i].source);

		if (dev && dev->iommu_kind == VSMMU_IOMMU_SMMUV3)
			return true;
	}
	return false;
}

static void adopt(struct vsmmu_domain *dom)
{
	dom->config.by_policy = true;
	dom->config.mode = VSMMU_MODE_ACCEL;
	dom->config.topology = VSMMU_TOPO_RUNTIME;
	dom->config.form = VSMMU_FORM_WRAPPER;
}

/* Only what the policy may take: an aarch64 domain (another arch on this
 * host is none of ours), no metadata of ours, no earlier form. */
static bool policy_applies(const struct vsmmu_domain *dom, enum vsmmu_manage_policy policy)
{
	return policy == VSMMU_MANAGE_HOSTDEVS && !dom->config.node && dom->n_hostdevs > 0 &&
	       vsmmu_streq(dom->arch, "aarch64") && !vsmmu_domain_is_managed(dom);
}

enum vsmmu_managed_by vsmmu_manage_decide(struct vsmmu_domain *dom,
					  enum vsmmu_manage_policy policy,
					  const struct vsmmu_host *host)
{
	if (dom->config.opted_out)
		return VSMMU_MANAGED_OPTED_OUT;
	if (dom->config.by_policy)
		return VSMMU_MANAGED_POLICY;
	if (vsmmu_domain_is_managed(dom))
		return VSMMU_MANAGED_METADATA;
	if (!policy_applies(dom, policy) || !host || !has_smmuv3_hostdev(dom, host))
		return VSMMU_MANAGED_NO;
	adopt(dom);
	return VSMMU_MANAGED_POLICY;
}

int vsmmu_manage_domain(struct vsmmu_domain *dom, const struct vsmmu_conf *conf,
			enum vsmmu_managed_by *by, vsmmu_err *err)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_free_ struct vsmmu_pci_addr *addrs = NULL;

	if (policy_applies(dom, conf->manage)) {
		addrs = vsmmu_domain_hostdev_addrs(dom);
		if (vsmmu_host_scan_some(conf->sysfs, addrs, dom->n_hostdevs, &host, err) < 0)
			return -1;
	}
	*by = vsmmu_manage_decide(dom, conf->manage, host);
	return 0;
}

const char *vsmmu_managed_by_text(enum vsmmu_managed_by by)
{
	switch (by) {
	case VSMMU_MANAGED_OPTED_OUT:
		return "not managed by vsmmu: opted out by <vsmmu:config mode='off'/>";
	case VSMMU_MANAGED_METADATA:
		return "managed by vsmmu: its vsmmu metadata";
	case VSMMU_MANAGED_POLICY:
		return "managed by vsmmu: host policy manage = hostdevs (a PCI hostdev behind "
		       "an SMMUv3), runtime topology, accel mode";
	case VSMMU_MANAGED_NO:
		break;
	}
	return "not managed by vsmmu: no vsmmu metadata";
}
