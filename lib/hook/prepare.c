#include "prepare.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ledger.h"
#include "plan.h"
#include "qemucaps.h"
#include "qemuconf.h"
#include "rewrite.h"
#include "rundir.h"
#include "util.h"

static inline void check_clearp(struct vsmmu_check *c) { vsmmu_check_clear(c); }

bool vsmmu_driver_is_vfio(const char *driver)
{
	/* "vfio-pci", "nvgrace-gpu-vfio-pci", "hisi_acc_vfio_pci", "mlx5_vfio_pci" */
	return driver && (strstr(driver, "vfio-pci") || strstr(driver, "vfio_pci"));
}

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

/* ---- readiness ---- */

static void check_driver(const struct vsmmu_host *host, const struct vsmmu_pcidev *dev,
			 struct vsmmu_problems *out)
{
	const char *sys = host->sysfs_root, *bdf = dev->bdf;

	if (!dev->driver)
		vsmmu_problems_add(out, "hostdev %s is not bound to any driver; bind it to "
				   "vfio-pci: echo vfio-pci > %s/bus/pci/devices/%s/driver_override "
				   "&& echo %s > %s/bus/pci/drivers_probe", bdf, sys, bdf, bdf, sys);
	else if (!vsmmu_driver_is_vfio(dev->driver))
		vsmmu_problems_add(out, "hostdev %s is bound to %s, not vfio-pci; bind it to "
				   "vfio-pci: echo %s > %s/bus/pci/devices/%s/driver/unbind && "
				   "echo vfio-pci > %s/bus/pci/devices/%s/driver_override && "
				   "echo %s > %s/bus/pci/drivers_probe", bdf, dev->driver, bdf, sys,
				   bdf, sys, bdf, bdf, sys);
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void check_cdev(const struct vsmmu_host *host, const struct vsmmu_pcidev *dev,
		       const char *devdir, struct vsmmu_problems *out)
{
	_cleanup_free_ char *node = NULL;

	if (!dev->vfio_cdev) {
		vsmmu_problems_add(out, "hostdev %s has no vfio cdev (no %s/bus/pci/devices/%s/"
				   "vfio-dev/); boot a kernel with CONFIG_VFIO_DEVICE_CDEV=y "
				   "(Linux 6.6+), or set mode='emulated' in <vsmmu:config>",
				   dev->bdf, host->sysfs_root, dev->bdf);
		return;
	}
	node = vsmmu_xasprintf("%s/vfio/devices/%s", devdir, dev->vfio_cdev);
	if (!path_exists(node))
		vsmmu_problems_add(out, "hostdev %s: its vfio cdev node %s is missing; create it: "
				   "udevadm trigger --action=add %s/bus/pci/devices/%s/vfio-dev/%s",
				   dev->bdf, node, host->sysfs_root, dev->bdf, dev->vfio_cdev);
}

void vsmmu_prepare_check_ready(const struct vsmmu_domain *dom, enum vsmmu_mode mode,
			       enum vsmmu_phase phase, const struct vsmmu_host *host,
			       const char *devdir, struct vsmmu_problems *out)
{
	_cleanup_free_ char *iommu = vsmmu_xasprintf("%s/iommu", devdir);
	bool accel = mode == VSMMU_MODE_ACCEL;

	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		const struct vsmmu_pcidev *dev = vsmmu_host_find_dev(host, &dom->hostdevs[i].source);
		size_t before = out->n;

		if (!dev) /* vsmmu_check_xml reports devices missing from the host */
			continue;
		if (phase == VSMMU_PHASE_PREPARE && dom->hostdevs[i].libvirt_managed)
			continue; /* libvirt binds it to vfio-pci after prepare */
		check_driver(host, dev, out);
		if (accel && out->n == before)
			check_cdev(host, dev, devdir, out);
	}
	if (accel && !path_exists(iommu))
		vsmmu_problems_add(out, "%s is missing: mode 'accel' needs iommufd; load it: "
				   "modprobe iommufd (or set mode='emulated' in <vsmmu:config>)",
				   iommu);
}

/* ---- device node ownership ---- */

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
	if (ref.n_holders == 0 && restore(devs, &ref.node, err) < 0) {
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

/* ---- the hook operations ---- */

static int scan_hostdevs(const struct vsmmu_conf *conf, const struct vsmmu_domain *dom,
			 struct vsmmu_host **host, vsmmu_err *err)
{
	_cleanup_free_ struct vsmmu_pci_addr *addrs = vsmmu_domain_hostdev_addrs(dom);

	return vsmmu_host_scan_some(conf->sysfs, addrs, dom->n_hostdevs, host, err);
}

/* The topology check, with the remedy on each line; *plan when buildable. */
static int check_topology(const char *name, struct vsmmu_domain *dom,
			  const struct vsmmu_host *host, struct vsmmu_plan **plan,
			  struct vsmmu_problems *problems, vsmmu_err *err)
{
	__attribute__((cleanup(check_clearp))) struct vsmmu_check check = { 0 };

	if (vsmmu_check_domain(dom, host, plan, &check, err) < 0)
		return -1;
	for (size_t i = 0; i < check.problems.n; i++)
		if (dom->config.by_policy) /* apply would opt it in for good: not the fix */
			vsmmu_problems_add(problems, "%s in the XML that writes this domain, or opt "
					   "it out with <vsmmu:config mode='off'/>",
					   check.problems.lines[i]);
		else
			vsmmu_problems_add(problems, "%s; run 'vsmmuctl apply %s'",
					   check.problems.lines[i], name);
	for (size_t i = 0; i < check.manual.n; i++) /* apply cannot fix these */
		vsmmu_problems_add(problems, "%s", check.manual.lines[i]);
	return 0;
}

static struct vsmmu_state *build_state(const char *name, const struct vsmmu_plan *plan,
				       const struct vsmmu_host *host, const char *devdir)
{
	struct vsmmu_state *st = vsmmu_xcalloc(1, sizeof(*st));

	st->name = vsmmu_xstrdup(name);
	st->mode = vsmmu_xstrdup(vsmmu_mode_name(plan->mode));
	st->dev = vsmmu_xstrdup(devdir);
	if (plan->mode == VSMMU_MODE_ACCEL)
		st->iommufd = vsmmu_xasprintf("%s/iommu", devdir);
	st->hostdevs = vsmmu_xcalloc(plan->n_hostdevs, sizeof(*st->hostdevs));
	for (; st->n_hostdevs < plan->n_hostdevs; st->n_hostdevs++) {
		const struct vsmmu_plan_hostdev *ph = &plan->hostdevs[st->n_hostdevs];
		const struct vsmmu_pcidev *dev = vsmmu_host_find_dev(host, &ph->host);
		struct vsmmu_state_hostdev *h = &st->hostdevs[st->n_hostdevs];

		h->bdf = vsmmu_xstrdup(ph->bdf);
		h->smmu = vsmmu_xstrdup(ph->smmu);
		h->expander = ph->expander;
		h->cdev = dev ? vsmmu_xstrdup(dev->vfio_cdev) : NULL;
		if (h->cdev)
			h->cdev_path = vsmmu_xasprintf("%s/vfio/devices/%s", devdir, h->cdev);
	}
	st->expanders = vsmmu_xcalloc(plan->n_expanders, sizeof(*st->expanders));
	for (size_t i = 0; i < plan->n_expanders; i++) {
		if (!plan->expanders[i].has_hostdevs)
			continue;
		st->expanders[st->n_expanders].index = plan->expanders[i].index;
		st->expanders[st->n_expanders++].smmu = vsmmu_xstrdup(plan->expanders[i].smmu);
	}
	return st;
}

/* The nodes QEMU opens itself in accel mode: /dev/iommu and the cdevs. */
static char **accel_nodes(const struct vsmmu_state *st, size_t *n)
{
	char **paths = vsmmu_xcalloc(st->n_hostdevs + 1, sizeof(char *));

	*n = 0;
	if (!st->iommufd)
		return paths;
	paths[(*n)++] = st->iommufd;
	for (size_t i = 0; i < st->n_hostdevs; i++)
		if (st->hostdevs[i].cdev_path)
			paths[(*n)++] = st->hostdevs[i].cdev_path;
	return paths;
}

static int commit_state(const struct vsmmu_conf *conf, struct vsmmu_state *st, uid_t uid,
			gid_t gid, vsmmu_err *err)
{
	_cleanup_close_ int lock = -1;
	size_t n;
	_cleanup_free_ char **paths = accel_nodes(st, &n);
	vsmmu_err ignored;

	if (vsmmu_rundir_lock(conf->rundir, VSMMU_LOCK_TIMEOUT_MS, &lock, err) < 0 ||
	    vsmmu_nodes_take(conf->rundir, conf->dev, st->name, paths, n, uid, gid, st, err) < 0)
		return -1;
	if (vsmmu_state_write(conf->rundir, st, err) == 0)
		return 0;
	vsmmu_nodes_release(conf->rundir, conf->dev, NULL, st->name, &ignored);
	vsmmu_state_remove(conf->rundir, st->name, &ignored);
	return -1;
}

/* Fill the QEMU capability cache, as root, for the wrapper that runs next
 * as the QEMU user and can only read it. A failure costs nothing but
 * speed (the wrapper then probes QEMU itself, and reports what it finds),
 * so it never fails the start. */
static void fill_caps(const struct vsmmu_conf *conf)
{
	struct vsmmu_qemu_ids as;
	vsmmu_err ignored;

	if (vsmmu_qemu_ids(conf, &as.uid, &as.gid, &ignored) == 0 &&
	    vsmmu_rundir_make(conf->rundir, &ignored) == 0)
		(void)vsmmu_qemucaps_refresh(conf->rundir, conf->qemu, &as, &ignored);
}

int vsmmu_prepare(const struct vsmmu_conf *conf, const char *name, struct vsmmu_domain *dom,
		  enum vsmmu_phase phase, struct vsmmu_problems *problems, vsmmu_err *err)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_state_ struct vsmmu_state *st = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (vsmmu_state_name_check(name, err) < 0 || scan_hostdevs(conf, dom, &host, err) < 0 ||
	    check_topology(name, dom, host, &plan, problems, err) < 0)
		return -1;
	vsmmu_prepare_check_ready(dom, plan ? plan->mode : dom->config.mode, phase, host,
				  conf->dev, problems);
	if (problems->n > 0 || !plan)
		return 0;
	if (phase == VSMMU_PHASE_PREPARE) {
		if (vsmmu_domain_uses_wrapper(dom))
			fill_caps(conf);
		return 0;
	}
	if (vsmmu_qemu_ids(conf, &uid, &gid, err) < 0)
		return -1;
	st = build_state(name, plan, host, conf->dev);
	st->plan = VSMMU_STEAL(plan);
	return commit_state(conf, st, uid, gid, err);
}

int vsmmu_record_unmanaged(const struct vsmmu_conf *conf, const char *name, vsmmu_err *err)
{
	_cleanup_close_ int lock = -1;
	struct vsmmu_state st = { .name = (char *)name, .unmanaged = true };

	if (vsmmu_state_name_check(name, err) < 0 || vsmmu_rundir_make(conf->rundir, err) < 0 ||
	    vsmmu_rundir_lock(conf->rundir, VSMMU_LOCK_TIMEOUT_MS, &lock, err) < 0)
		return -1;
	return vsmmu_state_write(conf->rundir, &st, err);
}

/* The dev dir the domain's state says it had at start, or NULL: release
 * goes on without it whatever is wrong with the state. */
static char *start_devdir(const struct vsmmu_conf *conf, const char *name)
{
	_cleanup_state_ struct vsmmu_state *st = NULL;
	vsmmu_err ignored;

	if (vsmmu_state_read(conf->rundir, name, &st, &ignored) < 0 || !st)
		return NULL;
	return VSMMU_STEAL(st->dev);
}

int vsmmu_release(const struct vsmmu_conf *conf, const char *name, vsmmu_err *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *devdir = NULL;
	struct stat st;

	if (vsmmu_state_name_check(name, err) < 0)
		return -1;
	if (stat(conf->rundir, &st) < 0 && errno == ENOENT)
		return 0; /* nothing was ever prepared */
	if (vsmmu_rundir_lock(conf->rundir, VSMMU_LOCK_TIMEOUT_MS, &lock, err) < 0)
		return -1;
	devdir = start_devdir(conf, name);
	if (vsmmu_nodes_release(conf->rundir, conf->dev, devdir, name, err) < 0)
		return -1;
	return vsmmu_state_remove(conf->rundir, name, err);
}

int vsmmu_filter(const struct vsmmu_conf *conf, const struct vsmmu_domain *dom,
		 const char *xml, size_t len, char **out, size_t *out_len, vsmmu_err *err)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_free_ char *rewritten = NULL;
	size_t n = 0;

	*out = NULL;
	*out_len = 0;
	if (scan_hostdevs(conf, dom, &host, err) < 0 ||
	    vsmmu_rewrite_xml(xml, len, host, NULL, &rewritten, &n, NULL, err) < 0)
		return -1;
	if (n == len && memcmp(rewritten, xml, len) == 0)
		return 0;
	*out = VSMMU_STEAL(rewritten);
	*out_len = n;
	return 0;
}
