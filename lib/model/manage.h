/* Which domains vsmmu manages, decided in one place for the hook, the
 * wrapper's installer, `vsmmuctl show` and `doctor`:
 *   - <vsmmu:config mode='off'/> in the metadata: never (the owner's word
 *     beats the host policy);
 *   - <vsmmu:config> (or an earlier proposal's <iommu>): always, as the
 *     metadata says;
 *   - otherwise, under vsmmu.conf `manage = hostdevs`, every domain with a
 *     PCI hostdev behind an SMMUv3 (what a stack such as OpenStack Nova
 *     writes: no metadata, no <emulator>), in runtime topology, accel mode:
 *     the definition is never changed, the hook plans at every start and
 *     the wrapper, installed as the default QEMU, builds the topology. */
#ifndef VSMMU_MANAGE_H
#define VSMMU_MANAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "domain.h"
#include "err.h"
#include "host.h"

enum vsmmu_managed_by {
	VSMMU_MANAGED_NO,        /* no metadata, and the policy does not take it */
	VSMMU_MANAGED_OPTED_OUT, /* <vsmmu:config mode='off'/> */
	VSMMU_MANAGED_METADATA,  /* its own metadata */
	VSMMU_MANAGED_POLICY,    /* manage = hostdevs */
};

/* Cheap test on the raw XML for the hook: false means no policy can make
 * it managed (nor is it one that runs the wrapper), so it can go unparsed. */
bool vsmmu_manage_maybe(const char *xml, size_t len);

/* The decision for dom on host (which must hold dom's hostdevs: a scan of
 * them is enough). Under VSMMU_MANAGED_POLICY dom is adopted in memory
 * (config.by_policy, runtime topology, accel mode) so that the planner,
 * the checks and the reports treat it as managed. */
enum vsmmu_managed_by vsmmu_manage_decide(struct vsmmu_domain *dom,
					  enum vsmmu_manage_policy policy,
					  const struct vsmmu_host *host);

/* The same, scanning dom's hostdevs under conf->sysfs only when the policy
 * needs them. */
int vsmmu_manage_domain(struct vsmmu_domain *dom, const struct vsmmu_conf *conf,
			enum vsmmu_managed_by *by, vsmmu_err *err);

/* One line for people: "managed by vsmmu: its vsmmu metadata", ... */
const char *vsmmu_managed_by_text(enum vsmmu_managed_by by);

#endif
