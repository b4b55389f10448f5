/* The device nodes QEMU opens itself in accel mode (/dev/iommu, the vfio
 * cdevs): who QEMU runs as, handing each node to that user at start and
 * giving it back at release, with the shared count kept in the ledger
 * (ledger.h). Callers hold the run dir lock (vsmmu_rundir_lock). */
#ifndef VSMMU_NODES_H
#define VSMMU_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "consts.h"
#include "conf.h"
#include "err.h"
#include "state.h"

#define VSMMU_NODE_MODE 0660

/* The QEMU user and group: vsmmu.conf, else libvirt's qemu.conf, else the
 * defaults. "+N" is a numeric id, as in qemu.conf. */
int vsmmu_qemu_ids(const struct vsmmu_conf *conf, uid_t *uid, gid_t *gid, vsmmu_err *err);

/* Whether path names a directory entry, without following a symlink:
 * readiness reports a missing node by it, while a symlink standing there
 * counts as present and vsmmu_nodes_take refuses it with its reason. */
bool vsmmu_node_present(const char *path);

/* Under the run dir lock: take each node for domain name (recording its
 * original owner and mode the first time), chown/chmod it to uid:gid 0660
 * and append it to st->nodes. On failure every node taken is given back.
 * A node must be a character device inside devdir, reached without
 * following a symlink; vsmmu acts on the descriptor it checked, never on
 * the path again. */
int vsmmu_nodes_take(const char *rundir, const char *devdir, const char *name,
		     char *const *paths, size_t n, uid_t uid, gid_t gid, struct vsmmu_state *st,
		     vsmmu_err *err);
/* Under the lock: drop name from every node record; a node nobody holds
 * any more gets its original owner and mode back, under the same rules,
 * inside devdir or start_devdir (the dev dir at start, NULL if unknown).
 * Idempotent. A record that fails them is reported, kept, and left alone;
 * the others are still given back. */
int vsmmu_nodes_release(const char *rundir, const char *devdir, const char *start_devdir,
			const char *name, vsmmu_err *err);

#endif
