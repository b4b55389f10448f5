/* Which libvirt release first takes each part of the native form: the
 * version gate for `vsmmuctl rewrite --native` and `apply`. Versions are
 * virConnectGetLibVersion()'s: major * 1000000 + minor * 1000 + micro. */
#ifndef VSMMU_LIBVIRTVER_H
#define VSMMU_LIBVIRTVER_H

#include <stdbool.h>

#include "err.h"

#define VSMMU_LIBVIRT_VERSION(major, minor, micro) \
	((major) * 1000000UL + (minor) * 1000UL + (micro))

enum vsmmu_libvirt_feature {
	VSMMU_LV_IOMMU_PCI_BUS,   /* <iommu model='smmuv3'><driver pciBus='N'/> */
	VSMMU_LV_HOSTDEV_IOMMUFD, /* <hostdev><driver iommufd='yes'/> */
	VSMMU_LV_DOMAIN_IOMMUFD,  /* <iommufd enabled='yes'/> under <domain> */
	VSMMU_LV_SMMU_ACCEL,      /* <driver accel='on'/> of a per-bus smmuv3 */
	VSMMU_LV_SMMU_ATS,        /* the VSMMU_SMMU_PROPS, in their order */
	VSMMU_LV_SMMU_RIL,
	VSMMU_LV_SMMU_SSIDSIZE,
	VSMMU_LV_SMMU_OAS,
	VSMMU_LV_SMMU_CMDQV,
	VSMMU_LV_N_FEATURES
};

struct vsmmu_libvirt_gate {
	const char *what;    /* the XML, as a message names it */
	unsigned long since; /* first release that takes it */
};

const struct vsmmu_libvirt_gate *vsmmu_libvirt_gate(enum vsmmu_libvirt_feature f);
/* The gate of the i-th VSMMU_SMMU_PROPS property. */
enum vsmmu_libvirt_feature vsmmu_libvirt_prop_feature(unsigned int i);
bool vsmmu_libvirt_has(unsigned long version, enum vsmmu_libvirt_feature f);

/* "12.9.0" into buf. */
const char *vsmmu_libvirt_version_str(unsigned long version, char buf[32]);

#endif
