/* Human and machine views of a host, a plan and a domain's topology. */
#ifndef VSMMU_REPORT_H
#define VSMMU_REPORT_H

#include <stdbool.h>

#include "domain.h"
#include "host.h"
#include "manage.h"
#include "plan.h"
#include "util.h"

void vsmmu_report_host_table(const struct vsmmu_host *host, struct vsmmu_buf *out);
char *vsmmu_report_host_json(const struct vsmmu_host *host);
void vsmmu_report_plan_table(const struct vsmmu_plan *plan, struct vsmmu_buf *out);
/* The topology the definition describes, as a tree like `lspci -tv`, or as
 * a Graphviz digraph. The tree's first line says whether and why vsmmu
 * manages the domain (by: lib/model/manage.h's decision). */
void vsmmu_report_tree(const struct vsmmu_domain *dom, enum vsmmu_managed_by by,
		       struct vsmmu_buf *out);
void vsmmu_report_dot(const struct vsmmu_domain *dom, struct vsmmu_buf *out);
/* The topology a plan gives QEMU (runtime mode: what the wrapper built). */
void vsmmu_report_plan_tree(const struct vsmmu_plan *plan, const char *name,
			    struct vsmmu_buf *out);

#endif
