#include "perm.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "nodes.h"
#include "util.h"

int vsmmu_perm_qemu_ids(const struct vsmmu_conf *conf, struct vsmmu_perm_ids *ids,
			vsmmu_err *err)
{
	const struct passwd *pw;
	gid_t gid;

	if (vsmmu_qemu_ids(conf, &ids->uid, &gid, err) < 0)
		return -1;
	ids->groups[0] = gid;
	ids->n_groups = 1;
	pw = getpwuid(ids->uid);
	if (pw) {
		int n = VSMMU_PERM_MAX_GROUPS;

		if (getgrouplist(pw->pw_name, gid, ids->groups, &n) < 0)
			ids->n_groups = 1;
		else
			ids->n_groups = n;
	}
	return 0;
}

bool vsmmu_perm_in_groups(const struct vsmmu_perm_ids *ids, gid_t gid)
{
	for (int i = 0; i < ids->n_groups; i++)
		if (ids->groups[i] == gid)
			return true;
	return false;
}

bool vsmmu_perm_may_exec(const struct vsmmu_perm_ids *ids, const struct stat *st)
{
	if (ids->uid == 0)
		return S_ISDIR(st->st_mode) || (st->st_mode & 0111);
	if (st->st_uid == ids->uid)
		return st->st_mode & S_IXUSR;
	if (vsmmu_perm_in_groups(ids, st->st_gid))
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

char *vsmmu_perm_unsearchable_parent(const struct vsmmu_perm_ids *ids, const char *path)
{
	_cleanup_free_ char *dir = vsmmu_xstrdup(path);
	struct stat st;

	if (stat("/", &st) < 0 || !vsmmu_perm_may_exec(ids, &st))
		return vsmmu_xstrdup("/");
	for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (stat(dir, &st) < 0 || !vsmmu_perm_may_exec(ids, &st))
			return vsmmu_xstrdup(dir);
		*slash = '/';
	}
	return NULL;
}
