/* Apply a plan to the domain XML in place. Idempotent, and it touches only
 * what vsmmu manages: its expanders and root ports, the hostdev addresses,
 * its own metadata and the VSMMU_PLAN <qemu:env>. */
#ifndef VSMMU_REWRITE_H
#define VSMMU_REWRITE_H

#include "domain.h"
#include "err.h"
#include "plan.h"

int vsmmu_rewrite(struct vsmmu_domain *dom, const struct vsmmu_plan *plan, vsmmu_err *err);

/* Parse, plan and rewrite in one go: *out is the new XML, or a copy of the
 * input when the domain is not managed. *plan_out (optional) gets the plan. */
int vsmmu_rewrite_xml(const char *xml, size_t len, const struct vsmmu_host *host,
		      const struct vsmmu_policy *policy, char **out, size_t *out_len,
		      struct vsmmu_plan **plan_out, vsmmu_err *err);

/* Make a parsed domain managed for `vsmmuctl apply`: add <vsmmu:config
 * mode='accel'/> when it has no vsmmu metadata (mode='emulated' when its
 * own per-bus vSMMUs have no accel). dom->config follows the edit. */
int vsmmu_adopt(struct vsmmu_domain *dom, vsmmu_err *err);

/* Two of rewrite's decisions, which rewritediff.h reads as well: does the
 * <iommu> m stay, and do the <vsmmu:expander> records already say what
 * the plan's expanders are. */
bool vsmmu_rewrite_keeps_iommu(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			       const struct vsmmu_dom_iommu *m);
bool vsmmu_rewrite_records_match(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan);

#endif
