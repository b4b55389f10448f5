/* The plan as data: its names, storage and lookups. */
#include "plan.h"

#include <stdlib.h>

static const char *const smmu_props[VSMMU_N_SMMU_PROPS] = { VSMMU_SMMU_PROPS };

const char *vsmmu_smmu_prop_name(size_t i)
{
	return i < VSMMU_N_SMMU_PROPS ? smmu_props[i] : NULL;
}

const char *vsmmu_mode_name(enum vsmmu_mode mode)
{
	return mode == VSMMU_MODE_ACCEL ? "accel" : "emulated";
}

void vsmmu_plan_free(struct vsmmu_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_expanders; i++)
		free(plan->expanders[i].smmu);
	for (size_t i = 0; i < plan->n_hostdevs; i++) {
		free(plan->hostdevs[i].smmu);
		free(plan->hostdevs[i].qemu_id);
	}
	vsmmu_strlist_clear(&plan->warnings);
	vsmmu_strlist_clear(&plan->notes);
	vsmmu_strlist_clear(&plan->manual);
	free(plan->emulator);
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		free(plan->props[i]);
	free(plan->expanders);
	free(plan->ports);
	free(plan->hostdevs);
	free(plan->remove);
	free(plan);
}

const struct vsmmu_plan_expander *vsmmu_plan_expander(const struct vsmmu_plan *plan, int index)
{
	for (size_t i = 0; i < plan->n_expanders; i++)
		if (plan->expanders[i].index == index)
			return &plan->expanders[i];
	return NULL;
}

const struct vsmmu_plan_port *vsmmu_plan_port(const struct vsmmu_plan *plan, int index)
{
	for (size_t i = 0; i < plan->n_ports; i++)
		if (plan->ports[i].index == index)
			return &plan->ports[i];
	return NULL;
}

int vsmmu_plan_expander_last_bus(const struct vsmmu_plan_expander *e)
{
	return e->bus_nr + (int)e->n_buses - 1;
}
