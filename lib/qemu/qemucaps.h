/* qemucaps: what a QEMU binary can do for a plan, and the version a plan
 * needs. Capabilities come from `QEMU -version` ("QEMU emulator version
 * X.Y.Z") and `QEMU -device arm-smmuv3,help` (its property list), cached in
 * a small text file under the run dir keyed by the binary's path, size and
 * mtime. The hook (root) fills the cache at prepare; the wrapper (the QEMU
 * user) only reads it. No global state. */
#ifndef VSMMU_QEMUCAPS_H
#define VSMMU_QEMUCAPS_H

#include <stdbool.h>
#include <sys/types.h>

#include "consts.h"
#include "err.h"
#include "plan.h"

#define VSMMU_QEMUCAPS_TIMEOUT_MS 5000    /* a probe is killed after this */

struct vsmmu_qemu_version {
	int major, minor, micro;
};

struct vsmmu_qemucaps {
	struct vsmmu_qemu_version version;
	bool smmu_primary_bus; /* arm-smmuv3 lists primary-bus */
	bool smmu_accel;       /* arm-smmuv3 lists accel */
};

/* What a plan needs: the lowest QEMU release and why. */
struct vsmmu_qemu_need {
	struct vsmmu_qemu_version version; /* 0.0.0: nothing */
	const char *why;                   /* "arm-smmuv3 accel=on", ... */
	bool primary_bus;                  /* -device arm-smmuv3,primary-bus= */
	bool accel;                        /* accel=on */
};

/* "QEMU emulator version 10.2.50 (v10.2.0-123-gabc)" -> 10.2.50. 0 or -1. */
int vsmmu_qemucaps_parse_version(const char *text, struct vsmmu_qemu_version *out,
				 vsmmu_err *err);
/* Read the property list `-device arm-smmuv3,help` printed. */
void vsmmu_qemucaps_parse_smmu_help(const char *text, struct vsmmu_qemucaps *caps);
/* <0, 0, >0 as a is older, the same, newer than b. */
int vsmmu_qemu_version_cmp(const struct vsmmu_qemu_version *a,
			   const struct vsmmu_qemu_version *b);

/* The release a plan needs: iommufd object 9.0, arm-smmuv3 with primary-bus
 * 10.2, accel=on 11.0, an `auto` property value or cmdqv 11.1. */
void vsmmu_qemucaps_need(const struct vsmmu_plan *plan, struct vsmmu_qemu_need *need);
/* 0 if caps satisfy need, else -1 and one line naming binary, its version
 * and the version needed. A development snapshot X.Y.50+ counts as the next
 * release when its arm-smmuv3 lists the properties the plan uses. */
int vsmmu_qemucaps_check(const char *binary, const struct vsmmu_qemucaps *caps,
			 const struct vsmmu_qemu_need *need, vsmmu_err *err);

/* Run binary (-version, then -device arm-smmuv3,help), each killed after
 * VSMMU_QEMUCAPS_TIMEOUT_MS. 0 or -1. */
int vsmmu_qemucaps_probe(const char *binary, struct vsmmu_qemucaps *caps, vsmmu_err *err);
/* The cache file rundir/.qemu-caps: 1 and caps set when it holds this
 * binary's current path, size and mtime, and root alone wrote it and its
 * directory (vsmmu_check_trusted); 0 when it does not (err says why), -1
 * when the binary cannot be stat'ed. */
int vsmmu_qemucaps_load(const char *rundir, const char *binary, struct vsmmu_qemucaps *caps,
			vsmmu_err *err);
/* Write it, mode 0644 whatever the umask; rundir must exist. */
int vsmmu_qemucaps_save(const char *rundir, const char *binary,
			const struct vsmmu_qemucaps *caps, vsmmu_err *err);
/* The wrapper's way: the cache when fresh, else a probe. Writes nothing.
 * 0 or -1. */
int vsmmu_qemucaps_get(const char *rundir, const char *binary, struct vsmmu_qemucaps *caps,
		       vsmmu_err *err);

/* Whom the hook's probe runs as. */
struct vsmmu_qemu_ids {
	uid_t uid;
	gid_t gid;
};
/* The hook's way, at prepare: nothing when the cache is fresh, else probe
 * (as `as` when running as root and as is not NULL) and save. rundir must
 * exist. 0 or -1. */
int vsmmu_qemucaps_refresh(const char *rundir, const char *binary,
			   const struct vsmmu_qemu_ids *as, vsmmu_err *err);

#endif
