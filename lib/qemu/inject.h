/* inject: check a QEMU argv against a vsmmu plan and the live host, then
 * add what libvirt cannot express: the iommufd object, iommufd= on the
 * planned vfio-pci devices and one arm-smmuv3 per planned expander.
 *
 * With a topology='persistent' plan libvirt already generated the
 * expanders, root ports and hostdev addresses, and the wrapper only adds.
 * A topology='runtime' plan is first built into the argv by
 * vsmmu_runtime_build (lib/qemu/runtime.h); the same checks then apply.
 * No global state. */
#ifndef VSMMU_INJECT_H
#define VSMMU_INJECT_H

#include "err.h"
#include "host.h"
#include "plan.h"
#include "qemuargs.h"
#include "qemulookup.h"
#include "qemuprops.h"
#include "util.h"

/* Every problem of args against plan and host added to problems, one line
 * each: "<device or what>: <problem>; <what to do>". host is the
 * live host scanned for at least the planned BDFs. Returns the number of
 * problems (0: safe to inject), -1 on an error that stops checking. */
int vsmmu_inject_check(const struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
		       const struct vsmmu_host *host, struct vsmmu_strlist *problems,
		       vsmmu_err *err);

/* Edit args: -object iommufd (accel mode), iommufd= on each planned
 * vfio-pci device, arm-smmuv3 after each planned expander (and on pcie.0
 * for root_vsmmu), each in the syntax of the device it relates to. Call
 * only after vsmmu_inject_check found no problem. *summary (freed by the
 * caller) is one line "injected ...". 0 or -1. */
int vsmmu_inject_apply(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
		       char **summary, vsmmu_err *err);

/* The -device vfio-pci arguments by host address, for vsmmu_inject_hostdev_at
 * (a vsmmu_qargs_lookup: valid until an argument is inserted or removed). */
int vsmmu_inject_hostdevs(const struct vsmmu_qargs *args, struct vsmmu_qargs_lookup **hostdevs,
			  vsmmu_err *err);
/* How many of them have host=addr; *index is the first. */
size_t vsmmu_inject_hostdev_at(const struct vsmmu_qargs_lookup *hostdevs,
			       const struct vsmmu_pci_addr *addr, size_t *index);

#endif
