/* The permission model doctor checks the wrapper with: the QEMU user's
 * uid and groups, and whether the mode bits of a file and of every
 * directory above it let that user reach and execute it. ACLs and
 * capabilities other than root's are not considered. */
#ifndef VSMMU_PERM_H
#define VSMMU_PERM_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"

#define VSMMU_PERM_MAX_GROUPS 256

struct vsmmu_perm_ids {
	uid_t uid;
	gid_t groups[VSMMU_PERM_MAX_GROUPS]; /* primary first */
	int n_groups;
};

/* The QEMU user (vsmmu_qemu_ids) with its primary and supplementary
 * groups; only the primary one when the uid has no passwd entry. */
int vsmmu_perm_qemu_ids(const struct vsmmu_conf *conf, struct vsmmu_perm_ids *ids,
			vsmmu_err *err);
bool vsmmu_perm_in_groups(const struct vsmmu_perm_ids *ids, gid_t gid);
/* May ids search st (a directory) or execute it (a file), by its mode
 * bits? root may search any directory and execute anything with an x bit. */
bool vsmmu_perm_may_exec(const struct vsmmu_perm_ids *ids, const struct stat *st);
/* The first directory above path (canonical) ids cannot search, or NULL. */
char *vsmmu_perm_unsearchable_parent(const struct vsmmu_perm_ids *ids, const char *path);

#endif
