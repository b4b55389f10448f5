/* The QEMU capability output parser (qemucaps.c): the input is what
 * `QEMU -version` printed, a NUL byte, then what `QEMU -device
 * arm-smmuv3,help` printed. Then the check against what each kind of plan
 * needs. Nothing may crash or leak; a parsed version is one QEMU could
 * print, properties are found only where the help text lists them, and a
 * check that passes means the version really is new enough. */
#include <stdio.h>

#include "fuzz.h"
#include "qemucaps.h"

static void fail(const char *what)
{
	fprintf(stderr, "qemucaps: %s\n", what);
	abort();
}

/* Plans of each kind the check distinguishes. */
static void check_against_plans(const struct vsmmu_qemucaps *caps)
{
	static struct vsmmu_plan_expander expander = { .index = 1, .has_hostdevs = true };
	struct vsmmu_plan plan = { .managed = true, .n_expanders = 1, .expanders = &expander };
	static const char *const props[] = { NULL, "auto", "on" };

	for (int mode = 0; mode < 2; mode++)
		for (size_t p = 0; p < VSMMU_ARRAY_LEN(props); p++) {
			struct vsmmu_qemu_need need;
			struct vsmmu_qemu_version v = caps->version;
			vsmmu_err err;

			plan.mode = mode ? VSMMU_MODE_EMULATED : VSMMU_MODE_ACCEL;
			plan.props[4] = (char *)props[p]; /* cmdqv */
			vsmmu_qemucaps_need(&plan, &need);
			if (vsmmu_qemucaps_check("qemu", caps, &need, &err) < 0)
				continue;
			/* X.Y.50+ snapshots count as the next release */
			if (v.micro >= 50)
				v = v.minor >= 2 ? (struct vsmmu_qemu_version){ v.major + 1, 0, 0 }
						 : (struct vsmmu_qemu_version){ v.major, v.minor + 1, 0 };
			if (vsmmu_qemu_version_cmp(&v, &need.version) < 0)
				fail("a QEMU older than the plan needs passes the check");
			if ((need.primary_bus && !caps->smmu_primary_bus) ||
			    (need.accel && !caps->smmu_accel))
				fail("a QEMU without a property the plan uses passes the check");
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_cstr(data, size);
	size_t vlen = strlen(text);
	const char *help = vlen < size ? text + vlen + 1 : "";
	struct vsmmu_qemucaps caps = { 0 };
	vsmmu_err err;

	if (vsmmu_qemucaps_parse_version(text, &caps.version, &err) < 0)
		return 0;
	if (caps.version.major < 0 || caps.version.major > 9999 || caps.version.minor < 0 ||
	    caps.version.minor > 9999 || caps.version.micro < 0 || caps.version.micro > 9999)
		fail("a version part out of 0-9999");
	vsmmu_qemucaps_parse_smmu_help(help, &caps);
	if ((caps.smmu_primary_bus && !strstr(help, "primary-bus=")) ||
	    (caps.smmu_accel && !strstr(help, "accel=")))
		fail("a property found that the help text does not list");
	check_against_plans(&caps);
	return 0;
}
