/* Host scan: the SMMUv3 instances under <sysfs>/class/iommu and the PCI
 * devices under <sysfs>/bus/pci/devices, with which SMMU each is behind. */
#ifndef VSMMU_HOST_H
#define VSMMU_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "pciaddr.h"

#define VSMMU_NODE_UNKNOWN (-1)

struct vsmmu_smmu {
	char *name;         /* "smmu3.0x0000000011000000": the stable key */
	char *platform_dev; /* "arm-smmu-v3.3.auto" or "9050000.smmuv3" */
	int numa_node;      /* VSMMU_NODE_UNKNOWN when the attribute is absent or -1 */
};

enum vsmmu_iommu_kind {
	VSMMU_IOMMU_NONE,   /* no iommu link: bypasses translation */
	VSMMU_IOMMU_SMMUV3, /* behind host->smmus[smmu] */
	VSMMU_IOMMU_OTHER,  /* behind an IOMMU that is not an SMMUv3 (iommu_name) */
};

struct vsmmu_pcidev {
	struct vsmmu_pci_addr addr;
	char bdf[VSMMU_BDF_LEN];
	unsigned int vendor;
	unsigned int device;
	unsigned int class_code; /* 24-bit class, e.g. 0x030200 */
	char *driver;            /* bound driver name, NULL when unbound */
	int numa_node;           /* VSMMU_NODE_UNKNOWN when -1 or absent */
	int iommu_group;         /* -1 when none */
	enum vsmmu_iommu_kind iommu_kind;
	int smmu;                /* index into host->smmus, -1 unless SMMUV3 */
	char *iommu_name;        /* basename of the iommu link target, NULL if none */
	char *vfio_cdev;         /* "vfio3" from vfio-dev/, NULL when absent */
};

struct vsmmu_host {
	char *sysfs_root;
	struct vsmmu_smmu *smmus; /* sorted by name */
	size_t n_smmus;
	struct vsmmu_pcidev *devs; /* sorted by address */
	size_t n_devs;
};

/* Scan the SMMUs and every PCI device under sysfs_root ("/sys"). */
int vsmmu_host_scan(const char *sysfs_root, struct vsmmu_host **out, vsmmu_err *err);

/* Scan the SMMUs and only the listed PCI devices (those absent from sysfs
 * are simply not in the result): the start path uses this so its cost does
 * not grow with the number of devices on the host. */
int vsmmu_host_scan_some(const char *sysfs_root, const struct vsmmu_pci_addr *only,
			 size_t n_only, struct vsmmu_host **out, vsmmu_err *err);

void vsmmu_host_free(struct vsmmu_host *host);
static inline void vsmmu_host_freep(struct vsmmu_host **h) { vsmmu_host_free(*h); }
#define _cleanup_host_ __attribute__((cleanup(vsmmu_host_freep)))

/* Binary searches; NULL / -1 when not found. */
const struct vsmmu_pcidev *vsmmu_host_find_dev(const struct vsmmu_host *host,
					       const struct vsmmu_pci_addr *addr);
int vsmmu_host_find_smmu(const struct vsmmu_host *host, const char *name);

/* The SMMU a device is behind, or NULL. */
const struct vsmmu_smmu *vsmmu_host_dev_smmu(const struct vsmmu_host *host,
					     const struct vsmmu_pcidev *dev);

/* A vfio-pci driver or a variant of it ("nvgrace-gpu-vfio-pci"). */
bool vsmmu_driver_is_vfio(const char *driver);

#endif
