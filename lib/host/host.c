/* Host scan: SMMUv3 instances from <sysfs>/class/iommu, PCI devices from
 * <sysfs>/bus/pci/devices, and which SMMU each device is behind.
 *
 * Everything under the sysfs root is untrusted input: names and numbers are
 * parsed strictly, and every link we follow must resolve inside the root. */
#include "host.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define SMMU3_PREFIX "smmu3.0x"
#define SMMU3_HEX_DIGITS 16
#define NUMA_NODE_MAX 65535

/* What one scan needs to know; lives on the stack of vsmmu_host_scan*. */
struct scan_ctx {
	const char *sysfs; /* the root as given, for messages and paths */
	char *root_real;   /* its realpath: every link must stay below it */
	size_t root_len;
};

/* "smmu3.0x" and exactly 16 lower-case hex digits, as the kernel prints. */
static bool is_smmu3_name(const char *name)
{
	const char *hex;

	if (!vsmmu_has_prefix(name, SMMU3_PREFIX))
		return false;
	hex = name + strlen(SMMU3_PREFIX);
	if (strlen(hex) != SMMU3_HEX_DIGITS)
		return false;
	for (; *hex; hex++)
		if (!isdigit((unsigned char)*hex) && !(*hex >= 'a' && *hex <= 'f'))
			return false;
	return true;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool inside_root(const struct scan_ctx *ctx, const char *real)
{
	if (ctx->root_len == 1) /* the root is "/" */
		return real[0] == '/';
	return strncmp(real, ctx->root_real, ctx->root_len) == 0 &&
	       (real[ctx->root_len] == '/' || real[ctx->root_len] == '\0');
}

/* realpath(path), which must stay inside the sysfs root. what names the
 * entry in messages. Returns 0, or -1 with errno set (ENOENT when path or
 * what it points at does not exist) and err filled. */
static int resolve_inside(const struct scan_ctx *ctx, const char *path, const char *what,
			  char **out, vsmmu_err *err)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	int saved = errno;

	if (!real) {
		vsmmu_fail_errno(err, saved, "%s: cannot resolve %s", what, path);
		errno = saved;
		return -1;
	}
	if (!inside_root(ctx, real)) {
		vsmmu_fail(err, "%s: %s resolves to %s, outside the sysfs root %s; "
			   "refusing to follow it (is the tree intact?)", what, path, real,
			   ctx->sysfs);
		errno = EXDEV;
		return -1;
	}
	*out = VSMMU_STEAL(real);
	return 0;
}

/* The target of a symlink. Returns 0, or -1 with errno set (ENOENT when
 * absent) and err filled. */
static int read_link(const char *path, char **out, vsmmu_err *err)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf));
	int saved = errno;

	if (n < 0) {
		vsmmu_fail_errno(err, saved, "cannot read the link %s", path);
		errno = saved;
		return -1;
	}
	if ((size_t)n >= sizeof(buf) || n == 0) {
		vsmmu_fail(err, "the link %s has an empty or overlong target", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	buf[n] = '\0';
	*out = vsmmu_xstrdup(buf);
	return 0;
}

/* A numa_node attribute: absent or -1 means unknown. */
static int read_numa_node(const char *path, const char *what, int *out, vsmmu_err *err)
{
	_cleanup_free_ char *s = NULL;
	vsmmu_err why;

	if (vsmmu_read_attr(path, &s, &why) < 0) {
		if (why.kind != VSMMU_ERR_ABSENT)
			return vsmmu_fail(err, "%s: %s", what, why.msg);
		*out = VSMMU_NODE_UNKNOWN;
		return 0;
	}
	if (vsmmu_parse_int(s, -1, NUMA_NODE_MAX, out) < 0)
		return vsmmu_fail(err, "%s: %s holds '%s', not a NUMA node number or -1", what,
				  path, s);
	if (*out < 0)
		*out = VSMMU_NODE_UNKNOWN;
	return 0;
}

/* ---- SMMUs ---------------------------------------------------------------- */

static void smmu_clear(struct vsmmu_smmu *s)
{
	free(s->name);
	free(s->platform_dev);
	s->name = s->platform_dev = NULL;
}

/* real is ".../<platform device>/iommu/<name>": return the platform
 * device's path, or NULL when real is not laid out like that. */
static char *platform_dir_of(const char *real, const char *name)
{
	size_t len = strlen(real), tail = strlen("/iommu/") + strlen(name);

	if (len <= tail || strncmp(real + len - tail, "/iommu/", strlen("/iommu/")) != 0 ||
	    strcmp(real + len - strlen(name), name) != 0)
		return NULL;
	return vsmmu_xasprintf("%.*s", (int)(len - tail), real);
}

static int read_smmu(const struct scan_ctx *ctx, const char *class_dir, const char *name,
		     struct vsmmu_smmu *out, vsmmu_err *err)
{
	_cleanup_free_ char *entry = vsmmu_xasprintf("%s/%s", class_dir, name);
	_cleanup_free_ char *what = vsmmu_xasprintf("IOMMU %s", name);
	_cleanup_free_ char *real = NULL;
	_cleanup_free_ char *plat = NULL;
	_cleanup_free_ char *numa_path = NULL;
	int node = VSMMU_NODE_UNKNOWN;

	if (resolve_inside(ctx, entry, what, &real, err) < 0)
		return -1;
	plat = platform_dir_of(real, name);
	if (!plat)
		return vsmmu_fail(err, "%s: %s resolves to %s, not to <platform device>/iommu/%s; "
				  "is %s a sysfs root?", what, entry, real, name, ctx->sysfs);
	numa_path = vsmmu_xasprintf("%s/numa_node", plat);
	if (read_numa_node(numa_path, what, &node, err) < 0)
		return -1;
	out->name = vsmmu_xstrdup(name);
	out->platform_dev = vsmmu_xstrdup(base_name(plat));
	out->numa_node = node;
	return 0;
}

static int cmp_smmu(const void *a, const void *b)
{
	return strcmp(((const struct vsmmu_smmu *)a)->name, ((const struct vsmmu_smmu *)b)->name);
}

static int scan_smmus(const struct scan_ctx *ctx, struct vsmmu_host *h, vsmmu_err *err)
{
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/class/iommu", ctx->sysfs);
	_cleanup_closedir_ DIR *d = opendir(dir);
	size_t cap = 0;
	const struct dirent *e;

	if (!d) {
		if (errno == ENOENT) /* no IOMMU driver registered anything */
			return 0;
		return vsmmu_fail_errno(err, errno, "cannot list %s", dir);
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (!is_smmu3_name(e->d_name))
			continue;
		vsmmu_grow(&h->smmus, &cap, h->n_smmus, sizeof(*h->smmus));
		if (read_smmu(ctx, dir, e->d_name, &h->smmus[h->n_smmus], err) < 0)
			return -1;
		h->n_smmus++;
	}
	if (errno)
		return vsmmu_fail_errno(err, errno, "cannot list %s", dir);
	if (h->n_smmus)
		qsort(h->smmus, h->n_smmus, sizeof(*h->smmus), cmp_smmu);
	return 0;
}

/* ---- PCI devices ---------------------------------------------------------- */

static void pcidev_clear(struct vsmmu_pcidev *d)
{
	free(d->driver);
	free(d->iommu_name);
	free(d->vfio_cdev);
	d->driver = d->iommu_name = d->vfio_cdev = NULL;
}

/* One device being read: where it lives and what we know so far. */
struct dev_scan {
	const struct scan_ctx *ctx;
	const struct vsmmu_host *host; /* for the SMMU table */
	char *dir;                     /* realpath of the device directory */
	struct vsmmu_pcidev *dev;      /* the slot being filled in host->devs */
};

static void dev_scan_clear(struct dev_scan *s)
{
	free(s->dir);
	s->dir = NULL;
}

static char *dev_path(const struct dev_scan *s, const char *file)
{
	return vsmmu_xasprintf("%s/%s", s->dir, file);
}

/* A device attribute we cannot do without: "0x" and hex digits. */
static int read_hex_attr(struct dev_scan *s, const char *file, unsigned long max,
			 unsigned int *out, vsmmu_err *err)
{
	_cleanup_free_ char *path = dev_path(s, file);
	_cleanup_free_ char *val = NULL;
	unsigned long v;
	const char *p;
	vsmmu_err why;

	if (vsmmu_read_attr(path, &val, &why) < 0)
		return vsmmu_fail(err, "PCI device %s: %s; is the sysfs tree intact?", s->dev->bdf,
				  why.msg);
	for (p = val + 2; vsmmu_has_prefix(val, "0x") && isxdigit((unsigned char)*p); p++)
		;
	if (!vsmmu_has_prefix(val, "0x") || p == val + 2 || *p ||
	    vsmmu_parse_ulong(val + 2, 16, max, &v) < 0)
		return vsmmu_fail(err, "PCI device %s: %s holds '%s', not a hex number no greater "
				  "than 0x%lx", s->dev->bdf, path, val, max);
	*out = (unsigned int)v;
	return 0;
}

static int read_driver(struct dev_scan *s, vsmmu_err *err)
{
	_cleanup_free_ char *path = dev_path(s, "driver");
	_cleanup_free_ char *target = NULL;
	vsmmu_err why;

	if (read_link(path, &target, &why) < 0)
		return errno == ENOENT ? 0
				       : vsmmu_fail(err, "PCI device %s: %s", s->dev->bdf, why.msg);
	if (!*base_name(target))
		return vsmmu_fail(err, "PCI device %s: %s points at '%s', not at a driver",
				  s->dev->bdf, path, target);
	s->dev->driver = vsmmu_xstrdup(base_name(target));
	return 0;
}

static int read_iommu_group(struct dev_scan *s, vsmmu_err *err)
{
	_cleanup_free_ char *path = dev_path(s, "iommu_group");
	_cleanup_free_ char *target = NULL;
	vsmmu_err why;

	s->dev->iommu_group = -1;
	if (read_link(path, &target, &why) < 0)
		return errno == ENOENT ? 0
				       : vsmmu_fail(err, "PCI device %s: %s", s->dev->bdf, why.msg);
	if (vsmmu_parse_int(base_name(target), 0, INT_MAX, &s->dev->iommu_group) < 0)
		return vsmmu_fail(err, "PCI device %s: %s points at '%s', not at an IOMMU group "
				  "number", s->dev->bdf, path, target);
	return 0;
}

static int cmp_smmu_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct vsmmu_smmu *)elem)->name);
}

static int read_iommu(struct dev_scan *s, vsmmu_err *err)
{
	_cleanup_free_ char *path = dev_path(s, "iommu");
	_cleanup_free_ char *what = vsmmu_xasprintf("PCI device %s", s->dev->bdf);
	_cleanup_free_ char *real = NULL;
	const char *name;
	int idx;
	struct stat st;

	s->dev->iommu_kind = VSMMU_IOMMU_NONE;
	s->dev->smmu = -1;
	if (resolve_inside(s->ctx, path, what, &real, err) < 0) {
		if (errno == ENOENT && lstat(path, &st) < 0 && errno == ENOENT)
			return 0; /* no iommu link: the device bypasses translation */
		return -1;
	}
	name = base_name(real);
	s->dev->iommu_name = vsmmu_xstrdup(name);
	if (!is_smmu3_name(name)) {
		s->dev->iommu_kind = VSMMU_IOMMU_OTHER;
		return 0;
	}
	idx = vsmmu_host_find_smmu(s->host, name);
	if (idx < 0)
		return vsmmu_fail(err, "PCI device %s is behind %s, which is not in "
				  "%s/class/iommu; is the sysfs tree intact?", s->dev->bdf, name,
				  s->ctx->sysfs);
	s->dev->iommu_kind = VSMMU_IOMMU_SMMUV3;
	s->dev->smmu = idx;
	return 0;
}

static bool is_vfio_cdev_name(const char *name)
{
	if (!vsmmu_has_prefix(name, "vfio") || !name[4])
		return false;
	for (name += 4; *name; name++)
		if (!isdigit((unsigned char)*name))
			return false;
	return true;
}

static int read_vfio_cdev(struct dev_scan *s, vsmmu_err *err)
{
	_cleanup_free_ char *path = dev_path(s, "vfio-dev");
	_cleanup_closedir_ DIR *d = opendir(path);
	const struct dirent *e;

	if (!d && errno == ENOENT)
		return 0;
	if (!d)
		return vsmmu_fail_errno(err, errno, "PCI device %s: cannot list %s", s->dev->bdf,
					path);
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!is_vfio_cdev_name(e->d_name))
			return vsmmu_fail(err, "PCI device %s: %s holds '%s', not a vfioN entry",
					  s->dev->bdf, path, e->d_name);
		if (s->dev->vfio_cdev)
			return vsmmu_fail(err, "PCI device %s: %s holds both %s and %s; a device "
					  "has one vfio cdev", s->dev->bdf, path,
					  s->dev->vfio_cdev, e->d_name);
		s->dev->vfio_cdev = vsmmu_xstrdup(e->d_name);
	}
	if (errno)
		return vsmmu_fail_errno(err, errno, "PCI device %s: cannot list %s", s->dev->bdf,
					path);
	return 0;
}

static int read_ids(struct dev_scan *s, vsmmu_err *err)
{
	_cleanup_free_ char *numa = dev_path(s, "numa_node");
	_cleanup_free_ char *what = vsmmu_xasprintf("PCI device %s", s->dev->bdf);

	if (read_hex_attr(s, "vendor", 0xffff, &s->dev->vendor, err) < 0 ||
	    read_hex_attr(s, "device", 0xffff, &s->dev->device, err) < 0 ||
	    read_hex_attr(s, "class", 0xffffff, &s->dev->class_code, err) < 0)
		return -1;
	return read_numa_node(numa, what, &s->dev->numa_node, err);
}

/* Read the device at <sysfs>/bus/pci/devices/<name>. Returns 1 when read,
 * 0 when it is absent (or vanished while we read it), -1 on error. */
static int read_dev(struct dev_scan *s, const char *name, vsmmu_err *err)
{
	_cleanup_free_ char *link = vsmmu_xasprintf("%s/bus/pci/devices/%s", s->ctx->sysfs, name);
	_cleanup_free_ char *what = vsmmu_xasprintf("PCI device %s", s->dev->bdf);
	struct stat st;

	if (resolve_inside(s->ctx, link, what, &s->dir, err) < 0)
		return errno == ENOENT ? 0 : -1;
	if (read_ids(s, err) < 0 || read_driver(s, err) < 0 || read_iommu_group(s, err) < 0 ||
	    read_iommu(s, err) < 0 || read_vfio_cdev(s, err) < 0)
		return stat(s->dir, &st) < 0 && errno == ENOENT ? 0 : -1;
	return 1;
}

/* Read one device and append it to h->devs. 0 (also when absent) or -1. */
static int add_dev(const struct scan_ctx *ctx, struct vsmmu_host *h, size_t *cap,
		   const struct vsmmu_pci_addr *addr, const char *name, vsmmu_err *err)
{
	__attribute__((cleanup(dev_scan_clear))) struct dev_scan s = { .ctx = ctx, .host = h };
	int r;

	vsmmu_grow(&h->devs, cap, h->n_devs, sizeof(*h->devs));
	s.dev = &h->devs[h->n_devs];
	*s.dev = (struct vsmmu_pcidev){ .addr = *addr };
	vsmmu_pci_addr_format(addr, s.dev->bdf);
	r = read_dev(&s, name, err);
	if (r <= 0) {
		pcidev_clear(s.dev);
		return r;
	}
	h->n_devs++;
	return 0;
}

static int scan_all_devs(const struct scan_ctx *ctx, struct vsmmu_host *h, vsmmu_err *err)
{
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/bus/pci/devices", ctx->sysfs);
	_cleanup_closedir_ DIR *d = opendir(dir);
	const struct dirent *e;
	struct vsmmu_pci_addr addr;
	size_t cap = 0;

	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return vsmmu_fail(err, "no PCI devices under %s (%s is missing): is %s a "
					  "sysfs root?", ctx->sysfs, dir, ctx->sysfs);
		return vsmmu_fail_errno(err, errno, "cannot list %s", dir);
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (vsmmu_pci_addr_parse(e->d_name, &addr) < 0)
			continue;
		if (add_dev(ctx, h, &cap, &addr, e->d_name, err) < 0)
			return -1;
	}
	if (errno)
		return vsmmu_fail_errno(err, errno, "cannot list %s", dir);
	return 0;
}

static int scan_listed_devs(const struct scan_ctx *ctx, struct vsmmu_host *h,
			    const struct vsmmu_pci_addr *only, size_t n_only, vsmmu_err *err)
{
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/bus/pci/devices", ctx->sysfs);
	char bdf[VSMMU_BDF_LEN];
	size_t cap = 0;
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return vsmmu_fail(err, "no PCI devices under %s (%s is missing): is %s a "
				  "sysfs root?", ctx->sysfs, dir, ctx->sysfs);
	for (size_t i = 0; i < n_only; i++) {
		vsmmu_pci_addr_format(&only[i], bdf);
		if (add_dev(ctx, h, &cap, &only[i], bdf, err) < 0)
			return -1;
	}
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return vsmmu_pci_addr_cmp(&((const struct vsmmu_pcidev *)a)->addr,
				  &((const struct vsmmu_pcidev *)b)->addr);
}

/* Sort by address and drop duplicates (a device listed twice in "only"). */
static void sort_devs(struct vsmmu_host *h)
{
	size_t kept = 0;

	if (h->n_devs == 0)
		return;
	qsort(h->devs, h->n_devs, sizeof(*h->devs), cmp_dev);
	for (size_t i = 1; i < h->n_devs; i++) {
		if (vsmmu_pci_addr_eq(&h->devs[i].addr, &h->devs[kept].addr))
			pcidev_clear(&h->devs[i]);
		else
			h->devs[++kept] = h->devs[i];
	}
	h->n_devs = kept + 1;
}

/* ---- entry points ---------------------------------------------------------- */

static int host_scan(const char *sysfs_root, bool all, const struct vsmmu_pci_addr *only,
		     size_t n_only, struct vsmmu_host **out, vsmmu_err *err)
{
	_cleanup_host_ struct vsmmu_host *h = NULL;
	_cleanup_free_ char *root_real = NULL;
	struct scan_ctx ctx;

	if (!sysfs_root || !*sysfs_root)
		return vsmmu_fail(err, "no sysfs root given");
	root_real = realpath(sysfs_root, NULL);
	if (!root_real)
		return vsmmu_fail_errno(err, errno, "cannot use %s as the sysfs root", sysfs_root);
	ctx = (struct scan_ctx){ .sysfs = sysfs_root, .root_real = root_real,
				 .root_len = strlen(root_real) };
	h = vsmmu_xcalloc(1, sizeof(*h));
	h->sysfs_root = vsmmu_xstrdup(sysfs_root);
	if (scan_smmus(&ctx, h, err) < 0)
		return -1;
	if ((all ? scan_all_devs(&ctx, h, err) : scan_listed_devs(&ctx, h, only, n_only, err)) < 0)
		return -1;
	sort_devs(h);
	*out = VSMMU_STEAL(h);
	return 0;
}

int vsmmu_host_scan(const char *sysfs_root, struct vsmmu_host **out, vsmmu_err *err)
{
	return host_scan(sysfs_root, true, NULL, 0, out, err);
}

int vsmmu_host_scan_some(const char *sysfs_root, const struct vsmmu_pci_addr *only,
			 size_t n_only, struct vsmmu_host **out, vsmmu_err *err)
{
	return host_scan(sysfs_root, false, only, n_only, out, err);
}

void vsmmu_host_free(struct vsmmu_host *host)
{
	if (!host)
		return;
	for (size_t i = 0; i < host->n_smmus; i++)
		smmu_clear(&host->smmus[i]);
	for (size_t i = 0; i < host->n_devs; i++)
		pcidev_clear(&host->devs[i]);
	free(host->smmus);
	free(host->devs);
	free(host->sysfs_root);
	free(host);
}

static int cmp_addr_key(const void *key, const void *elem)
{
	return vsmmu_pci_addr_cmp(key, &((const struct vsmmu_pcidev *)elem)->addr);
}

const struct vsmmu_pcidev *vsmmu_host_find_dev(const struct vsmmu_host *host,
					       const struct vsmmu_pci_addr *addr)
{
	if (!host || !addr || host->n_devs == 0)
		return NULL;
	return bsearch(addr, host->devs, host->n_devs, sizeof(*host->devs), cmp_addr_key);
}

int vsmmu_host_find_smmu(const struct vsmmu_host *host, const char *name)
{
	const struct vsmmu_smmu *s;

	if (!host || !name || host->n_smmus == 0)
		return -1;
	s = bsearch(name, host->smmus, host->n_smmus, sizeof(*host->smmus), cmp_smmu_key);
	return s ? (int)(s - host->smmus) : -1;
}

const struct vsmmu_smmu *vsmmu_host_dev_smmu(const struct vsmmu_host *host,
					     const struct vsmmu_pcidev *dev)
{
	if (!host || !dev || dev->iommu_kind != VSMMU_IOMMU_SMMUV3 || dev->smmu < 0 ||
	    (size_t)dev->smmu >= host->n_smmus)
		return NULL;
	return &host->smmus[dev->smmu];
}

bool vsmmu_driver_is_vfio(const char *driver)
{
	/* "vfio-pci", "nvgrace-gpu-vfio-pci", "hisi_acc_vfio_pci", "mlx5_vfio_pci" */
	return driver && (strstr(driver, "vfio-pci") || strstr(driver, "vfio_pci"));
}
