/* Runtime topology (topology='runtime'): libvirt's definition has no
 * expanders; the hook planned them at start from the live XML, and the
 * wrapper builds them into libvirt's QEMU argv before the usual checks and
 * injection: the pxb-pcie expanders and their root ports, placed before the
 * first vfio-pci device in its syntax, and each planned vfio-pci device
 * moved onto its root port. libvirt's own (now empty) root ports stay. */
#ifndef VSMMU_RUNTIME_H
#define VSMMU_RUNTIME_H

#include "conf.h"
#include "err.h"
#include "plan.h"
#include "qemuargs.h"
#include "util.h"

/* Nothing for a persistent plan. Otherwise check the plan fits args (one
 * line per problem appended to problems, as vsmmu_inject_check does) and,
 * when it does, build it. Returns the number of problems, -1 on error. */
int vsmmu_runtime_build(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
			struct vsmmu_strlist *problems, vsmmu_err *err);

/* The domain name from "-name guest=NAME,..." (or "-name NAME"), without
 * parsing the rest of argv: the wrapper uses it to find the hook's state.
 * NULL when absent; the caller frees the result. */
char *vsmmu_runtime_domain_name(int argc, char **argv);

/* Whether a start of argv must carry the hook's verdict (a plan, or "not
 * ours"; lib/hook/state.h) although the wrapper runs at the default QEMU path:
 * under manage = hostdevs the hook gives one to every start with PCI
 * hostdevs, so a -device vfio-pci without it means the hook did not run.
 * 1, 0, or -1 when argv cannot be parsed. */
int vsmmu_runtime_needs_verdict(enum vsmmu_manage_policy policy, int argc, char **argv,
				vsmmu_err *err);

#endif
