/* Internal to inject (inject.c: the checks; injectapply.c: the edits;
 * injectfind.c: what both look up in the argv). The public interface is
 * inject.h. */
#ifndef VSMMU_INJECT_INTERNAL_H
#define VSMMU_INJECT_INTERNAL_H

#include "inject.h"

/* A property of the argument at index: 1 present, 0 absent, -1 error. */
int inject_prop_at(const struct vsmmu_qargs *args, size_t index, const char *key,
		   const char **value, vsmmu_err *err);
/* The driver of the -device at index, "" when it has none. */
const char *inject_driver_at(const struct vsmmu_qargs *args, size_t index);
/* The -device vfio-pci of planned hostdev h, by host= or else by its
 * planned root port: how many match; *index is the first. */
size_t inject_planned_vfio(const struct vsmmu_qargs *args, const struct vsmmu_qargs_lookup *by_host,
			   const struct vsmmu_qargs_lookup *by_bus,
			   const struct vsmmu_plan_hostdev *h, size_t *index);
/* The -device vfio-pci arguments by bus=. */
int inject_vfio_by_bus(const struct vsmmu_qargs *args, struct vsmmu_qargs_lookup **by_bus,
		       vsmmu_err *err);
/* The id of the first -object iommufd, NULL when there is none. */
const char *inject_existing_iommufd(const struct vsmmu_qargs *args);
/* The bus of the arm-smmuv3 at index (pcie.0 when it names none); NULL on error. */
const char *inject_smmu_bus_at(const struct vsmmu_qargs *args, size_t index, vsmmu_err *err);
/* How many -device arm-smmuv3 are on bus; *index is the first. -1 on error. */
int inject_smmus_on(const struct vsmmu_qargs *args, const char *bus, size_t *index,
		    vsmmu_err *err);

#endif
