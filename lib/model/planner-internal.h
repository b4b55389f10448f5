/* Internal to the planner (planner.c, planroute.c, planbus.c): the state
 * one vsmmu_plan_build() call works on, and the stages each file runs.
 * The public interface is plan.h. */
#ifndef VSMMU_PLANNER_INTERNAL_H
#define VSMMU_PLANNER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"
#include "err.h"
#include "plan.h"

#define MAX_INDEX 255
#define MAX_SLOT 31

struct planner {
	const struct vsmmu_domain *dom;
	const struct vsmmu_host *host;
	struct vsmmu_plan *plan;
	bool used_index[MAX_INDEX + 1];
	bool removed[MAX_INDEX + 1];
	int named[MAX_INDEX + 1];   /* expanders a per-bus or smmuv3Dev <iommu> names */
	size_t n_named;
	struct vsmmu_dom_record adopted[MAX_INDEX + 1]; /* those taken over for an SMMU */
	size_t n_adopted;
	size_t cap_exp, cap_port, cap_remove;
};

/* planner.c: shared helpers. */
void planner_note(struct vsmmu_plan *plan, const char *msg);
bool planner_is_expander_model(const char *model);
bool planner_is_expander_index(const struct planner *p, int index);
/* "lower spare-ports (now N) or " when spare ports take room, else "". */
const char *planner_spare_advice(const struct vsmmu_plan *plan, char buf[64]);

/* planroute.c, in the order the planner runs them. */
void planner_adopt_named_expanders(struct planner *p);
int planner_expanders(struct planner *p, vsmmu_err *err);
void planner_retired_expanders(struct planner *p);
int planner_ports(struct planner *p, vsmmu_err *err);

/* planbus.c. */
int planner_bus_numbers(struct planner *p, vsmmu_err *err);
/* The root bus a controller's hierarchy hangs from: 0 for pcie.0, or the
 * index of its expander. */
int planner_hierarchy_root(const struct planner *p, int bus);

#endif
