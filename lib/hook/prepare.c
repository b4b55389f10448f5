#include "prepare.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "host.h"
#include "nodes.h"
#include "plan.h"
#include "qemucaps.h"
#include "rewrite.h"
#include "rundir.h"
#include "state.h"
#include "util.h"

static inline void check_clearp(struct vsmmu_check *c) { vsmmu_check_clear(c); }

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
			  struct vsmmu_strlist *problems, vsmmu_err *err)
{
	__attribute__((cleanup(check_clearp))) struct vsmmu_check check = { 0 };

	if (vsmmu_check_domain(dom, host, plan, &check, err) < 0)
		return -1;
	for (size_t i = 0; i < check.problems.n; i++)
		if (dom->config.by_policy) /* apply would opt it in for good: not the fix */
			vsmmu_strlist_addf(problems, "%s in the XML that writes this domain, or opt "
					   "it out with <vsmmu:config mode='off'/>",
					   check.problems.items[i]);
		else
			vsmmu_strlist_addf(problems, "%s; run 'vsmmuctl apply %s'",
					   check.problems.items[i], name);
	for (size_t i = 0; i < check.manual.n; i++) /* apply cannot fix these */
		vsmmu_strlist_addf(problems, "%s", check.manual.items[i]);
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
		  enum vsmmu_phase phase, struct vsmmu_strlist *problems, vsmmu_err *err)
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

int vsmmu_filter(const struct vsmmu_conf *conf, struct vsmmu_domain *dom, const char *xml,
		 size_t len, char **out, size_t *out_len, vsmmu_err *err)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_free_ char *rewritten = NULL;
	size_t n = 0;

	*out = NULL;
	*out_len = 0;
	if (scan_hostdevs(conf, dom, &host, err) < 0 ||
	    vsmmu_plan_build(dom, host, NULL, &plan, err) < 0)
		return -1;
	if (!plan->managed)
		return 0;
	if (vsmmu_rewrite(dom, plan, err) < 0 || vsmmu_domain_format(dom, &rewritten, &n, err) < 0)
		return -1;
	if (n == len && memcmp(rewritten, xml, len) == 0)
		return 0;
	*out = VSMMU_STEAL(rewritten);
	*out_len = n;
	return 0;
}
