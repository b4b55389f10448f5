/* Names shared by the XML side and the wrapper; kept apart from domain.c so
 * the wrapper links no libxml2. */
#include "domain.h"

static const char *const smmu_props[VSMMU_N_SMMU_PROPS] = { VSMMU_SMMU_PROPS };

const char *vsmmu_smmu_prop_name(size_t i)
{
	return i < VSMMU_N_SMMU_PROPS ? smmu_props[i] : NULL;
}

const char *vsmmu_mode_name(enum vsmmu_mode mode)
{
	return mode == VSMMU_MODE_ACCEL ? "accel" : "emulated";
}
