/* The runtime state of a started domain: <rundir>/<dir>/state.json
 * (lib/hook/rundir.h), the resolved host facts the wrapper reads, the
 * device nodes the domain holds and its plan. Also what names a domain may
 * have and the directory each gets.
 *
 * <dir> is the domain name escaped (vsmmu_state_dir_name), so any name
 * libvirt accepts has a directory and none collides with an internal file.
 * The file is written to a temporary name and renamed; it and its
 * directory get explicit modes. Hook runs write and remove it under the run
 * dir lock (vsmmu_rundir_lock); the wrapper reads it without. */
#ifndef VSMMU_STATE_H
#define VSMMU_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "consts.h"
#include "err.h"
#include "ledger.h"
#include "plan.h"

struct vsmmu_state_hostdev {
	char *bdf;       /* "0009:01:00.0" */
	char *cdev;      /* "vfio0", NULL when none */
	char *cdev_path; /* "<dev>/vfio/devices/vfio0", NULL when none */
	char *smmu;      /* host SMMU it is behind, NULL when unknown */
	int expander;    /* guest expander controller index, -1 when none */
};

struct vsmmu_state_expander {
	int index;  /* pcie-expander-bus controller index: QEMU id pci.<index> */
	char *smmu; /* the host SMMUv3 it mirrors */
};

struct vsmmu_state {
	char *name;
	char *mode;    /* "accel" or "emulated" */
	char *iommufd; /* "<dev>/iommu" in accel mode, else NULL */
	char *dev;     /* the dev dir at start: release restores inside it */
	struct vsmmu_state_hostdev *hostdevs;
	size_t n_hostdevs;
	struct vsmmu_state_expander *expanders;
	size_t n_expanders;
	struct vsmmu_state_node *nodes;
	size_t n_nodes;
	struct vsmmu_plan *plan; /* the plan the hook checked, NULL when none; in
				  * state.json the VSMMU_PLAN object itself */
	/* The hook's verdict "not ours" on a start with PCI hostdevs under
	 * manage = hostdevs ("managed": false; no plan, nothing held): with
	 * it the wrapper at the default QEMU path tells a domain the policy
	 * leaves alone from one whose hook never ran. */
	bool unmanaged;
};

void vsmmu_state_free(struct vsmmu_state *st);
static inline void vsmmu_state_freep(struct vsmmu_state **s) { vsmmu_state_free(*s); }
#define _cleanup_state_ __attribute__((cleanup(vsmmu_state_freep)))

/* 0 when vsmmu can keep state for a domain of that name: any non-empty
 * UTF-8 string (what libvirt accepts). */
int vsmmu_state_name_check(const char *name, vsmmu_err *err);
/* The name of its directory under the run dir: [A-Za-z0-9_-] and '.' (not
 * first) kept, every other byte as %XX, cut with a hash when long. */
char *vsmmu_state_dir_name(const char *name);

/* Serialise / parse the state JSON (exposed for tests). */
char *vsmmu_state_to_json(const struct vsmmu_state *st);
int vsmmu_state_from_json(const char *json, struct vsmmu_state **out, vsmmu_err *err);

/* Write <rundir>/<name>/state.json atomically (creating the directories). */
int vsmmu_state_write(const char *rundir, const struct vsmmu_state *st, vsmmu_err *err);
/* Read it back; 0 with *out NULL when there is no state for name. */
int vsmmu_state_read(const char *rundir, const char *name, struct vsmmu_state **out,
		     vsmmu_err *err);
/* Whether name has a state directory (written at start, until release). */
bool vsmmu_state_exists(const char *rundir, const char *name);
/* Remove the state file and directory; absent state is not an error. */
int vsmmu_state_remove(const char *rundir, const char *name, vsmmu_err *err);

#endif
