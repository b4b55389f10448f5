/* Runtime topology (topology='runtime'): libvirt's definition has no
 * expanders; the hook planned them at start from the live XML, and the
 * wrapper builds them into libvirt's QEMU argv before the usual checks and
 * injection: the pxb-pcie expanders and their root ports, placed before the
 * first vfio-pci device in its syntax, and each planned vfio-pci device
 * moved onto its root port. libvirt's own (now empty) root ports stay. */
#ifndef VSMMU_RUNTIME_H
#define VSMMU_RUNTIME_H

#include "err.h"
#include "plan.h"
#include "qemuargs.h"
#include "util.h"

/* Nothing for a persistent plan. Otherwise check the plan fits args (one
 * line per problem appended to problems, as vsmmu_inject_check does) and,
 * when it does, build it. Returns the number of problems, -1 on error. */
int vsmmu_runtime_build(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
			struct vsmmu_buf *problems, vsmmu_err *err);

/* The domain name from "-name guest=NAME,..." (or "-name NAME"), without
 * parsing the rest of argv: the wrapper uses it to find the hook's state.
 * NULL when absent; the caller frees the result. */
char *vsmmu_runtime_domain_name(int argc, char **argv);

#endif
