#include "nodes.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"
#include "qemuconf.h"
#include "util.h"

/* ---- the QEMU user and group ---- */

static int numeric_id(const char *s, unsigned long *id)
{
	return s[0] == '+' ? vsmmu_parse_ulong(s + 1, 10, 0xfffffffeUL, id) : -1;
}

static int resolve_user(const char *user, uid_t *uid, vsmmu_err *err)
{
	unsigned long id;
	const struct passwd *pw;

	if (numeric_id(user, &id) == 0) {
		*uid = (uid_t)id;
		return 0;
	}
	pw = getpwnam(user);
	if (!pw)
		return vsmmu_fail(err, "QEMU user '%s' does not exist; set qemu_user in vsmmu.conf "
				  "or user in libvirt's qemu.conf", user);
	*uid = pw->pw_uid;
	return 0;
}

static int resolve_group(const char *group, gid_t *gid, vsmmu_err *err)
{
	unsigned long id;
	const struct group *gr;

	if (numeric_id(group, &id) == 0) {
		*gid = (gid_t)id;
		return 0;
	}
	gr = getgrnam(group);
	if (!gr)
		return vsmmu_fail(err, "QEMU group '%s' does not exist; set qemu_group in "
				  "vsmmu.conf or group in libvirt's qemu.conf", group);
	*gid = gr->gr_gid;
	return 0;
}

int vsmmu_qemu_ids(const struct vsmmu_conf *conf, uid_t *uid, gid_t *gid, vsmmu_err *err)
{
	_cleanup_free_ char *text = NULL, *user = NULL, *group = NULL;

	if (!conf->qemu_user || !conf->qemu_group) {
		if (vsmmu_read_file(conf->libvirt_qemu_conf, VSMMU_QEMU_CONF_MAX, &text, NULL, err) < 0 &&
		    err->kind != VSMMU_ERR_ABSENT)
			return -1;
	}
	user = vsmmu_xstrdup(conf->qemu_user);
	if (!user && text)
		user = vsmmu_qemu_conf_value(text, "user");
	group = vsmmu_xstrdup(conf->qemu_group);
	if (!group && text)
		group = vsmmu_qemu_conf_value(text, "group");
	return resolve_user(user ? user : VSMMU_DEFAULT_QEMU_USER, uid, err) < 0 ||
	       resolve_group(group ? group : VSMMU_DEFAULT_QEMU_GROUP, gid, err) < 0 ? -1 : 0;
}

/* ---- device node ownership ---- */

bool vsmmu_node_present(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The part of path below devdir ("vfio/devices/vfio0"), or NULL when path
 * does not lie strictly inside it or takes a "." or ".." step. */
static const char *below(const char *devdir, const char *path)
{
	size_t len = strlen(devdir);
	const char *rel;

	while (len > 1 && devdir[len - 1] == '/')
		len--;
	if (strncmp(path, devdir, len) != 0 || (len > 1 && path[len] != '/'))
		return NULL;
	rel = path + len + (len > 1);
	for (const char *c = rel; *c; c += strcspn(c, "/") + (c[strcspn(c, "/")] == '/')) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return NULL;
	}
	return *rel ? rel : NULL;
}

/* The device directories a node may lie in: the configured one, and at
 * release also the one the domain's state says it had at start. */
struct devdirs {
	const char *dir[2];
	size_t n;
};

/* Open path for a change of owner, following no symlink on the way: it
 * must lie inside one of devs and be a character device. *fd is an O_PATH
 * descriptor, *st what it names. Kind VSMMU_ERR_ABSENT when it is gone. */
static int open_node(const struct devdirs *devs, const char *path, int *fd, struct stat *st,
		     vsmmu_err *err)
{
	const char *devdir = devs->dir[0], *rel = NULL;

	for (size_t i = 0; i < devs->n && !rel; i++)
		if ((rel = below(devs->dir[i], path)))
			devdir = devs->dir[i];
	_cleanup_free_ char *copy = NULL;
	_cleanup_close_ int dir = -1;
	char *save = NULL;

	if (!rel)
		return vsmmu_fail(err, "%s is not inside the device directory %s (dev = in "
				  "vsmmu.conf); refusing to change its owner", path, devdir);
	dir = open(devdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return vsmmu_fail_errno(err, errno, "cannot open %s", devdir);
	copy = vsmmu_xstrdup(rel);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		bool last = !save || !*save;
		int next = openat(dir, c, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));

		if (next < 0 && (errno == ENOTDIR || errno == ELOOP))
			return vsmmu_fail(err, "%s: a directory on the way is a symbolic link or a "
					  "file; refusing to change its owner", path);
		if (next < 0)
			return vsmmu_fail_errno(err, errno, "cannot stat %s", path);
		close(dir);
		dir = next;
	}
	if (fstat(dir, st) < 0)
		return vsmmu_fail_errno(err, errno, "cannot stat %s", path);
	if (S_ISLNK(st->st_mode))
		return vsmmu_fail(err, "%s is a symbolic link, not a device node; refusing to "
				  "change its owner", path);
	if (!S_ISCHR(st->st_mode))
		return vsmmu_fail(err, "%s is not a character device; refusing to change its owner",
				  path);
	*fd = VSMMU_STEAL_FD(dir);
	return 0;
}

/* chown and chmod the node fd (from open_node) names, never a path. */
static int set_owner(int fd, const char *path, uid_t uid, gid_t gid, mode_t mode,
		     vsmmu_err *err)
{
	char proc[64];

	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		return vsmmu_fail_errno(err, errno, "cannot chown %s to %u:%u", path,
					(unsigned int)uid, (unsigned int)gid);
	/* fchmod refuses an O_PATH descriptor; its /proc link names the inode */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, mode) < 0)
		return vsmmu_fail_errno(err, errno, "cannot chmod %s to %04o", path,
					(unsigned int)mode);
	return 0;
}

/* Give the node its recorded owner back; a node that is gone needs none. */
static int restore(const struct devdirs *devs, const struct vsmmu_state_node *n,
		   vsmmu_err *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (open_node(devs, n->path, &fd, &st, err) < 0)
		return err->kind == VSMMU_ERR_ABSENT ? 0 : -1;
	return set_owner(fd, n->path, n->uid, n->gid, n->mode, err);
}

/* Drop name's hold on path; the last holder restores the original owner.
 * On a failed restore the record keeps the holder so a retry can finish. */
static int give_back(const char *rundir, const struct devdirs *devs, const char *name,
		     const char *path, vsmmu_err *err)
{
	struct vsmmu_node_ref ref;
	bool found;
	int r = 0;

	if (vsmmu_node_ref_read(rundir, path, &ref, &found, err) < 0)
		return -1;
	if (!found || !vsmmu_node_ref_held_by(&ref, name))
		goto out;
	vsmmu_node_ref_drop(&ref, name);
	if (ref.holders.n == 0 && restore(devs, &ref.node, err) < 0) {
		vsmmu_wrap(err, "%.700s; then remove its record in %s/.nodes", err->msg, rundir);
		r = -1;
		goto out;
	}
	r = vsmmu_node_ref_write(rundir, &ref, err);
out:
	vsmmu_node_ref_clear(&ref);
	return r;
}

/* Take path for name; saved gets the owner and mode it had before vsmmu.
 * The node is checked before anything is recorded: a record exists only
 * for a character device whose owner and mode vsmmu read from it. */
static int take_one(const char *rundir, const struct devdirs *devs, const char *name,
		    const char *path, uid_t uid, gid_t gid, struct vsmmu_state_node *saved,
		    vsmmu_err *err)
{
	_cleanup_close_ int fd = -1;
	struct vsmmu_node_ref ref;
	struct stat st;
	bool found;
	int r;

	if (open_node(devs, path, &fd, &st, err) < 0 ||
	    vsmmu_node_ref_read(rundir, path, &ref, &found, err) < 0)
		return -1;
	if (!found)
		ref.node = (struct vsmmu_state_node){ vsmmu_xstrdup(path), st.st_uid, st.st_gid,
						       st.st_mode & 0777 };
	vsmmu_node_ref_add(&ref, name);
	/* The record goes first: a hook killed after the chown still leaves
	 * what release needs to put the node back. */
	r = vsmmu_node_ref_write(rundir, &ref, err);
	if (r == 0)
		r = set_owner(fd, path, uid, gid, VSMMU_NODE_MODE, err);
	*saved = ref.node;
	saved->path = vsmmu_xstrdup(path);
	vsmmu_node_ref_clear(&ref);
	if (r < 0) {
		vsmmu_err ignored;

		give_back(rundir, devs, name, path, &ignored);
		free(saved->path);
		saved->path = NULL;
	}
	return r;
}

int vsmmu_nodes_take(const char *rundir, const char *devdir, const char *name,
		     char *const *paths, size_t n, uid_t uid, gid_t gid, struct vsmmu_state *st,
		     vsmmu_err *err)
{
	const struct devdirs devs = { { devdir }, 1 };
	size_t start = st->n_nodes;

	st->nodes = vsmmu_xrealloc(st->nodes, st->n_nodes + n, sizeof(*st->nodes));
	for (size_t i = 0; i < n; i++) {
		if (take_one(rundir, &devs, name, paths[i], uid, gid, &st->nodes[st->n_nodes],
			     err) < 0) {
			vsmmu_err ignored;

			for (size_t j = 0; j < i; j++)
				give_back(rundir, &devs, name, paths[j], &ignored);
			while (st->n_nodes > start)
				free(st->nodes[--st->n_nodes].path);
			return -1;
		}
		st->n_nodes++;
	}
	return 0;
}

int vsmmu_nodes_release(const char *rundir, const char *devdir, const char *start_devdir,
			const char *name, vsmmu_err *err)
{
	struct devdirs devs = { { devdir, start_devdir }, start_devdir ? 2 : 1 };
	char **paths = NULL;
	size_t n = 0;
	int r = 0;
	vsmmu_err one;

	if (vsmmu_node_ref_list(rundir, &paths, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (give_back(rundir, &devs, name, paths[i], &one) < 0 && r == 0) {
			*err = one;
			r = -1;
		}
		free(paths[i]);
	}
	free(paths);
	return r;
}

