/* Is the host ready for a managed domain to start: each hostdev bound to
 * vfio-pci and, in accel mode, its vfio cdev node and iommufd present.
 * Which checks apply depends on the hook phase. */
#ifndef VSMMU_READY_H
#define VSMMU_READY_H

#include "domain.h"
#include "host.h"
#include "util.h"

/* libvirt runs the prepare hook before it binds managed='yes' hostdevs to
 * vfio-pci (qemuProcessPrepareHost) and the start hook after, just before
 * QEMU runs. So prepare checks the topology and what libvirt will not
 * change; start checks every device and takes the device nodes. */
enum vsmmu_phase { VSMMU_PHASE_PREPARE, VSMMU_PHASE_START };

/* Readiness of the host for dom: one problem per failure, with its fix.
 * Devices missing from the host are left to the topology check. */
void vsmmu_prepare_check_ready(const struct vsmmu_domain *dom, enum vsmmu_mode mode,
			       enum vsmmu_phase phase, const struct vsmmu_host *host,
			       const char *devdir, struct vsmmu_strlist *out);

#endif
