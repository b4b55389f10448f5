/* Shared helpers for the libFuzzer targets: the in-memory Grace-like host
 * the planner runs against, and NUL-terminated copies of the input. */
#ifndef VSMMU_FUZZ_H
#define VSMMU_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fakehost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SMMU0 "smmu3.0x0000000016000000"
#define FUZZ_SMMU1 "smmu3.0x0000100016000000"

/* Two sockets, five SMMUs, devices behind each, one without an IOMMU and
 * one behind another IOMMU: the fixtures' grace host in memory. */
static inline struct vsmmu_host *fuzz_grace_host(void)
{
	static const char *const smmus[] = {
		"smmu3.0x0000000011000000", "smmu3.0x0000000012000000", FUZZ_SMMU0,
		"smmu3.0x0000100011000000", FUZZ_SMMU1,
	};
	static const int nodes[] = { 0, 0, 0, 1, 1 };
	static const struct fake_dev devs[] = {
		{ "0000:01:00.0", 0, 0 }, { "0000:01:00.1", 0, 0 }, { "0002:01:00.0", 1, 0 },
		{ "0009:01:00.0", 2, 0 }, { "0010:01:00.0", 3, 1 }, { "0019:01:00.0", 4, 1 },
		{ "0020:01:00.0", -1, 0 }, { "0021:01:00.0", -2, 0 },
	};

	return fake_host(smmus, nodes, VSMMU_ARRAY_LEN(smmus), devs, VSMMU_ARRAY_LEN(devs));
}

/* The input as a NUL-terminated string (embedded NULs cut it short). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = vsmmu_xcalloc(size + 1, 1);

	memcpy(s, data, size);
	return s;
}

#endif
