/* Runtime state of a started domain under <rundir> (default /run/vsmmu):
 *
 *   <rundir>/.lock            flock'ed by every hook run that changes state
 *   <rundir>/.nodes/<esc>     one JSON record per shared device node vsmmu
 *                             changed: its original owner and mode and the
 *                             domains holding it (the reference count)
 *   <rundir>/.qemu-caps       the QEMU capability cache (lib/qemu/qemucaps.h)
 *   <rundir>/<dir>/state.json per domain: resolved host facts for the
 *                             wrapper, the nodes it holds and its plan
 *
 * <dir> is the domain name escaped (vsmmu_state_dir_name): it never starts
 * with '.', so no domain name can collide with an internal file, and any
 * name libvirt accepts has a directory. Every file is written to a
 * temporary name and renamed; directories and files get explicit modes.
 * Everything read back must pass vsmmu_check_trusted. */
#ifndef VSMMU_STATE_H
#define VSMMU_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "plan.h"

#define VSMMU_STATE_VERSION 1
#define VSMMU_STATE_FILE "state.json"
#define VSMMU_LOCK_TIMEOUT_MS 10000

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

/* A device node whose owner and mode vsmmu changed; uid/gid/mode are the
 * values before the first domain took it. */
struct vsmmu_state_node {
	char *path;
	uid_t uid;
	gid_t gid;
	mode_t mode;
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

/* Create the run dir (0755, root's: the wrapper reads it as the QEMU
 * user), or accept a trusted one. 0 or -1. */
int vsmmu_state_make_rundir(const char *rundir, vsmmu_err *err);

/* Exclusive lock on <rundir>/.lock, polled for up to timeout_ms. *fd gets
 * the descriptor; closing it releases the lock. */
int vsmmu_state_lock(const char *rundir, int timeout_ms, int *fd, vsmmu_err *err);

/* Shared device node records, to be used under the lock. */
struct vsmmu_node_ref {
	struct vsmmu_state_node node; /* original owner and mode */
	char **holders;               /* domain names */
	size_t n_holders;
};

void vsmmu_node_ref_clear(struct vsmmu_node_ref *ref);
/* Parse one record's JSON (exposed for tests); on failure *ref is empty. */
int vsmmu_node_ref_from_json(const char *json, struct vsmmu_node_ref *ref, vsmmu_err *err);
/* Its JSON, as vsmmu_node_ref_write writes it (holders included). */
char *vsmmu_node_ref_to_json(const struct vsmmu_node_ref *ref);
/* 0 and *found false when the node has no record. */
int vsmmu_node_ref_read(const char *rundir, const char *path, struct vsmmu_node_ref *ref,
			bool *found, vsmmu_err *err);
/* Write the record, or remove it when it has no holders left. */
int vsmmu_node_ref_write(const char *rundir, const struct vsmmu_node_ref *ref, vsmmu_err *err);
bool vsmmu_node_ref_held_by(const struct vsmmu_node_ref *ref, const char *name);
void vsmmu_node_ref_add(struct vsmmu_node_ref *ref, const char *name);
void vsmmu_node_ref_drop(struct vsmmu_node_ref *ref, const char *name);
/* Paths of every node with a record (for release, which must not depend on
 * a domain state that a failed prepare never wrote). Removes the temporary
 * records of writers killed mid-way: call it with the lock held. */
int vsmmu_node_ref_list(const char *rundir, char ***paths, size_t *n, vsmmu_err *err);

#endif
