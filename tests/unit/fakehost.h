/* In-memory hosts for planner tests: no sysfs needed. */
#ifndef VSMMU_FAKEHOST_H
#define VSMMU_FAKEHOST_H

#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "util.h"

struct fake_dev {
	const char *bdf;
	int smmu;          /* index into the smmu list, -1 none, -2 other iommu */
	int numa_node;
};

/* smmus must be given sorted by name and devs by BDF, as host.c keeps them. */
static inline struct vsmmu_host *fake_host(const char *const *smmus, const int *smmu_nodes,
					   size_t n_smmus, const struct fake_dev *devs,
					   size_t n_devs)
{
	struct vsmmu_host *h = vsmmu_xcalloc(1, sizeof(*h));

	h->sysfs_root = vsmmu_xstrdup("/fake/sys");
	h->smmus = vsmmu_xcalloc(n_smmus, sizeof(*h->smmus));
	h->n_smmus = n_smmus;
	for (size_t i = 0; i < n_smmus; i++) {
		h->smmus[i].name = vsmmu_xstrdup(smmus[i]);
		h->smmus[i].platform_dev = vsmmu_xasprintf("arm-smmu-v3.%zu.auto", i);
		h->smmus[i].numa_node = smmu_nodes ? smmu_nodes[i] : VSMMU_NODE_UNKNOWN;
	}
	h->devs = vsmmu_xcalloc(n_devs, sizeof(*h->devs));
	h->n_devs = n_devs;
	for (size_t i = 0; i < n_devs; i++) {
		struct vsmmu_pcidev *d = &h->devs[i];

		vsmmu_pci_addr_parse(devs[i].bdf, &d->addr);
		vsmmu_pci_addr_format(&d->addr, d->bdf);
		d->numa_node = devs[i].numa_node;
		d->iommu_group = (int)i;
		d->smmu = devs[i].smmu >= 0 ? devs[i].smmu : -1;
		d->iommu_kind = devs[i].smmu >= 0 ? VSMMU_IOMMU_SMMUV3
			      : devs[i].smmu == -1 ? VSMMU_IOMMU_NONE : VSMMU_IOMMU_OTHER;
		d->iommu_name = devs[i].smmu >= 0 ? vsmmu_xstrdup(smmus[devs[i].smmu])
			      : devs[i].smmu == -2 ? vsmmu_xstrdup("ipmmu_mm") : NULL;
		d->driver = vsmmu_xstrdup("vfio-pci");
	}
	return h;
}

#endif
