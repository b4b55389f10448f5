#include "libvirtver.h"

#include <stdio.h>

#include "domain.h"

/* Each entry names the release that first has it and where that is
 * written down. libvirt's NEWS.rst lists the iommufd ones; the per-bus
 * smmuv3 and its accel attributes are not in NEWS. */
static const struct vsmmu_libvirt_gate gates[VSMMU_LV_N_FEATURES] = {
	/* docs/formatdomain.rst: pciBus ":since:`Since 11.10.0`" (libvirt
	 * commit "Update formatdomain doc to mention IOMMU pciBus attribute
	 * was introduced in Libvirt v11.10.0"); libvirt-go-xml-module's
	 * DomainIOMMUDriver.PCIBus is first in its v1.11010.0. */
	[VSMMU_LV_IOMMU_PCI_BUS] = { "<iommu model='smmuv3'><driver pciBus=.../>",
				     VSMMU_LIBVIRT_VERSION(11, 10, 0) },
	/* NEWS v12.2.0, bug fixes: "Introduced in v12.1.0 by implementing
	 * IOMMUFD backend support for host devices"; go-xml v1.12001.0. */
	[VSMMU_LV_HOSTDEV_IOMMUFD] = { "<hostdev><driver iommufd='yes'/>",
				       VSMMU_LIBVIRT_VERSION(12, 1, 0) },
	/* NEWS v12.2.0: "qemu: Add support to configure IOMMUFD backend for
	 * whole VM ... the new <iommufd> element"; go-xml v1.12002.0. */
	[VSMMU_LV_DOMAIN_IOMMUFD] = { "<iommufd enabled='yes'/>",
				      VSMMU_LIBVIRT_VERSION(12, 2, 0) },
	/* accel, ats, ril, ssidsize, oas and cmdqv on the per-bus <driver>:
	 * in no libvirt NEWS up to v12.5.0 (2026-07-01) nor in go-xml up to
	 * v1.12004; measured present in 12.9.0 (DESIGN.md, "The modern
	 * stack"; libvirt tests/qemuxmlconfdata/iommu-smmuv3-pci-bus-accel).
	 * 12.9.0 is the first release known to have them. */
	[VSMMU_LV_SMMU_ACCEL] = { "<iommu model='smmuv3'><driver accel='on'/>",
				  VSMMU_LIBVIRT_VERSION(12, 9, 0) },
	[VSMMU_LV_SMMU_ATS] = { "<iommu model='smmuv3'><driver ats=.../>",
				VSMMU_LIBVIRT_VERSION(12, 9, 0) },
	[VSMMU_LV_SMMU_RIL] = { "<iommu model='smmuv3'><driver ril=.../>",
				VSMMU_LIBVIRT_VERSION(12, 9, 0) },
	[VSMMU_LV_SMMU_SSIDSIZE] = { "<iommu model='smmuv3'><driver ssidsize=.../>",
				     VSMMU_LIBVIRT_VERSION(12, 9, 0) },
	[VSMMU_LV_SMMU_OAS] = { "<iommu model='smmuv3'><driver oas=.../>",
				VSMMU_LIBVIRT_VERSION(12, 9, 0) },
	[VSMMU_LV_SMMU_CMDQV] = { "<iommu model='smmuv3'><driver cmdqv=.../>",
				  VSMMU_LIBVIRT_VERSION(12, 9, 0) },
};

const struct vsmmu_libvirt_gate *vsmmu_libvirt_gate(enum vsmmu_libvirt_feature f)
{
	return &gates[f < VSMMU_LV_N_FEATURES ? f : VSMMU_LV_IOMMU_PCI_BUS];
}

enum vsmmu_libvirt_feature vsmmu_libvirt_prop_feature(unsigned int i)
{
	_Static_assert(VSMMU_LV_SMMU_CMDQV - VSMMU_LV_SMMU_ATS + 1 == VSMMU_N_SMMU_PROPS,
		       "one gate per arm-smmuv3 property");
	return (enum vsmmu_libvirt_feature)(VSMMU_LV_SMMU_ATS + i);
}

bool vsmmu_libvirt_has(unsigned long version, enum vsmmu_libvirt_feature f)
{
	return version >= vsmmu_libvirt_gate(f)->since;
}

const char *vsmmu_libvirt_version_str(unsigned long version, char buf[32])
{
	snprintf(buf, 32, "%lu.%lu.%lu", version / 1000000, version / 1000 % 1000,
		 version % 1000);
	return buf;
}
