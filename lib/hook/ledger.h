/* The device-node ledger: one record per shared device node whose owner
 * and mode vsmmu changed (<rundir>/.nodes/<path escaped>, lib/hook/rundir.h),
 * holding the owner and mode it had before the first domain took it and
 * the domains that hold it now (the reference count). Every change to it
 * happens under the run dir lock (vsmmu_rundir_lock). */
#ifndef VSMMU_LEDGER_H
#define VSMMU_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "util.h"

/* A device node whose owner and mode vsmmu changed; uid/gid/mode are the
 * values before the first domain took it. */
struct vsmmu_state_node {
	char *path;
	uid_t uid;
	gid_t gid;
	mode_t mode;
};

/* {"path", "uid", "gid", "mode"}: a node in a record and in state.json. */
struct json_t; /* jansson's json_t */
struct json_t *vsmmu_node_json(const struct vsmmu_state_node *n); /* a new reference */
int vsmmu_node_from_json_value(struct json_t *j, struct vsmmu_state_node *n, vsmmu_err *err);

/* One node's record. */
struct vsmmu_node_ref {
	struct vsmmu_state_node node; /* original owner and mode */
	struct vsmmu_strlist holders; /* domain names, each once */
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
