#include "host.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

struct scanner {
	const char *root;  /* as given */
	char *real_root;   /* realpath of root: every link must stay inside */
	struct vsmmu_host *host;
	size_t cap_devs;
};

static bool is_smmu_name(const char *name)
{
	static const char prefix[] = "smmu3.0x";
	size_t n = strlen(prefix);

	if (strncmp(name, prefix, n) != 0 || strlen(name) != n + 16)
		return false;
	for (size_t i = n; name[i]; i++)
		if (!strchr("0123456789abcdefABCDEF", name[i]))
			return false;
	return true;
}

/* realpath(path), refused when it leaves the sysfs root. NULL with errno
 * ENOENT when the path does not exist. */
static char *resolve_inside(const struct scanner *s, const char *path, vsmmu_err *err)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	size_t n = strlen(s->real_root);

	if (!real) {
		int saved = errno;

		vsmmu_fail_errno(err, saved, "cannot resolve %s", path);
		errno = saved;
		return NULL;
	}
	if (strncmp(real, s->real_root, n) != 0 || (real[n] != '/' && real[n] != '\0')) {
		vsmmu_fail(err, "%s points to %s, outside the sysfs root %s; refusing it", path, real,
			   s->real_root);
		errno = EXDEV;
		return NULL;
	}
	return VSMMU_STEAL(real);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "<...>/platform/PLATDEV/iommu/NAME" -> PLATDEV */
static char *platform_dev_of(const char *real)
{
	const char *iommu = strstr(real, "/iommu/");
	const char *start = iommu;

	if (!iommu)
		return vsmmu_xstrdup("?");
	while (start > real && start[-1] != '/')
		start--;
	return vsmmu_xasprintf("%.*s", (int)(iommu - start), start);
}

static int read_node(const char *dir, int *node)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/numa_node", dir);
	_cleanup_free_ char *text = NULL;

	*node = VSMMU_NODE_UNKNOWN;
	if (vsmmu_read_attr(path, &text, NULL) < 0)
		return errno == ENOENT ? 0 : -1;
	if (vsmmu_parse_int(text, -1, 65535, node) < 0)
		return -1;
	if (*node < 0)
		*node = VSMMU_NODE_UNKNOWN;
	return 0;
}

static int add_smmu(struct scanner *s, const char *name, size_t *cap, vsmmu_err *err)
{
	_cleanup_free_ char *link = vsmmu_xasprintf("%s/class/iommu/%s", s->root, name);
	_cleanup_free_ char *real = resolve_inside(s, link, err);
	_cleanup_free_ char *platdir = NULL;
	struct vsmmu_smmu *smmu;

	if (!real)
		return -1;
	vsmmu_grow(&s->host->smmus, cap, s->host->n_smmus, sizeof(*smmu));
	smmu = &s->host->smmus[s->host->n_smmus];
	smmu->name = vsmmu_xstrdup(name);
	smmu->platform_dev = platform_dev_of(real);
	s->host->n_smmus++;
	platdir = vsmmu_xstrdup(real);
	if (strstr(platdir, "/iommu/"))
		*strstr(platdir, "/iommu/") = '\0';
	if (read_node(platdir, &smmu->numa_node) < 0)
		return vsmmu_fail(err, "%s/numa_node is not a number; is %s a sysfs root?", platdir,
				  s->root);
	return 0;
}

static int compare_smmus(const void *a, const void *b)
{
	return strcmp(((const struct vsmmu_smmu *)a)->name, ((const struct vsmmu_smmu *)b)->name);
}

static int scan_smmus(struct scanner *s, vsmmu_err *err)
{
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/class/iommu", s->root);
	_cleanup_closedir_ DIR *d = opendir(dir);
	size_t cap = 0;
	struct dirent *e;

	if (!d)
		return errno == ENOENT ? 0 : vsmmu_fail_errno(err, errno, "cannot list %s", dir);
	while ((e = readdir(d)))
		if (is_smmu_name(e->d_name) && add_smmu(s, e->d_name, &cap, err) < 0)
			return -1;
	qsort(s->host->smmus, s->host->n_smmus, sizeof(*s->host->smmus), compare_smmus);
	return 0;
}

static int read_hex(const char *dir, const char *attr, unsigned long max, unsigned int *out,
		    const char *bdf, vsmmu_err *err)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/%s", dir, attr);
	_cleanup_free_ char *text = NULL;
	unsigned long v;

	if (vsmmu_read_attr(path, &text, err) < 0)
		return -1;
	if (vsmmu_parse_ulong(text, 16, max, &v) < 0)
		return vsmmu_fail(err, "PCI device %s: %s holds '%s', not a hex number", bdf, path,
				  text);
	*out = (unsigned int)v;
	return 0;
}

/* Basename of the link target at dir/name, NULL when there is no link. */
static char *link_base(const char *dir, const char *name)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/%s", dir, name);
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return NULL;
	target[n] = '\0';
	return vsmmu_xstrdup(base_name(target));
}

static char *vfio_cdev_of(const char *dir)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/vfio-dev", dir);
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (vsmmu_has_prefix(e->d_name, "vfio"))
			return vsmmu_xstrdup(e->d_name);
	return NULL;
}

static int resolve_iommu(struct scanner *s, const char *dir, struct vsmmu_pcidev *dev,
			 vsmmu_err *err)
{
	_cleanup_free_ char *link = vsmmu_xasprintf("%s/iommu", dir);
	_cleanup_free_ char *real = resolve_inside(s, link, err);

	dev->smmu = -1;
	if (!real) {
		if (errno != ENOENT)
			return vsmmu_fail(err, "PCI device %s: %s", dev->bdf, err->msg);
		dev->iommu_kind = VSMMU_IOMMU_NONE;
		return 0;
	}
	dev->iommu_name = vsmmu_xstrdup(base_name(real));
	dev->smmu = vsmmu_host_find_smmu(s->host, dev->iommu_name);
	dev->iommu_kind = dev->smmu >= 0 ? VSMMU_IOMMU_SMMUV3 : VSMMU_IOMMU_OTHER;
	return 0;
}

static int read_device(struct scanner *s, const char *dir, struct vsmmu_pcidev *dev,
		       vsmmu_err *err)
{
	_cleanup_free_ char *group = link_base(dir, "iommu_group");

	if (read_hex(dir, "vendor", 0xffff, &dev->vendor, dev->bdf, err) < 0 ||
	    read_hex(dir, "device", 0xffff, &dev->device, dev->bdf, err) < 0 ||
	    read_hex(dir, "class", 0xffffff, &dev->class_code, dev->bdf, err) < 0)
		return -1;
	if (read_node(dir, &dev->numa_node) < 0)
		return vsmmu_fail(err, "PCI device %s: numa_node is not a number", dev->bdf);
	if (!group || vsmmu_parse_int(group, 0, INT_MAX, &dev->iommu_group) < 0)
		dev->iommu_group = -1;
	dev->driver = link_base(dir, "driver");
	dev->vfio_cdev = vfio_cdev_of(dir);
	return resolve_iommu(s, dir, dev, err);
}

static void clear_device(struct vsmmu_pcidev *dev)
{
	free(dev->driver);
	free(dev->iommu_name);
	free(dev->vfio_cdev);
}

/* Add the device at addr. A device that vanished (its directory is gone)
 * is skipped, not an error: devices come and go under a running host. */
static int add_device(struct scanner *s, const struct vsmmu_pci_addr *addr, vsmmu_err *err)
{
	struct vsmmu_pcidev dev = { .addr = *addr };
	_cleanup_free_ char *dir = NULL;

	vsmmu_pci_addr_format(addr, dev.bdf);
	dir = vsmmu_xasprintf("%s/bus/pci/devices/%s", s->root, dev.bdf);
	if (access(dir, F_OK) < 0)
		return 0;
	if (read_device(s, dir, &dev, err) < 0) {
		clear_device(&dev);
		return access(dir, F_OK) < 0 ? 0 : -1;
	}
	vsmmu_grow(&s->host->devs, &s->cap_devs, s->host->n_devs, sizeof(dev));
	s->host->devs[s->host->n_devs++] = dev;
	return 0;
}

static int compare_devs(const void *a, const void *b)
{
	return vsmmu_pci_addr_cmp(&((const struct vsmmu_pcidev *)a)->addr,
				  &((const struct vsmmu_pcidev *)b)->addr);
}

static int scan_all_devices(struct scanner *s, vsmmu_err *err)
{
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/bus/pci/devices", s->root);
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct vsmmu_pci_addr addr;
	struct dirent *e;

	if (!d)
		return vsmmu_fail(err, "no PCI devices under %s: is %s a sysfs root?", dir, s->root);
	while ((e = readdir(d)))
		if (vsmmu_pci_addr_parse(e->d_name, &addr) == 0 && add_device(s, &addr, err) < 0)
			return -1;
	return 0;
}

static int scan(const char *root, const struct vsmmu_pci_addr *only, size_t n_only, bool all,
		struct vsmmu_host **out, vsmmu_err *err)
{
	struct vsmmu_host *host = vsmmu_xcalloc(1, sizeof(*host));
	struct scanner s = { .root = root, .host = host };
	int r = -1;

	host->sysfs_root = vsmmu_xstrdup(root);
	s.real_root = realpath(root, NULL);
	if (!s.real_root) {
		vsmmu_fail_errno(err, errno, "sysfs root %s", root);
		goto out;
	}
	if (scan_smmus(&s, err) < 0 || (all && scan_all_devices(&s, err) < 0))
		goto out;
	for (size_t i = 0; i < n_only; i++)
		if (!vsmmu_host_find_dev(host, &only[i]) && add_device(&s, &only[i], err) < 0)
			goto out;
	qsort(host->devs, host->n_devs, sizeof(*host->devs), compare_devs);
	*out = VSMMU_STEAL(host);
	r = 0;
out:
	free(s.real_root);
	vsmmu_host_free(host);
	return r;
}

int vsmmu_host_scan(const char *sysfs_root, struct vsmmu_host **out, vsmmu_err *err)
{
	return scan(sysfs_root, NULL, 0, true, out, err);
}

int vsmmu_host_scan_some(const char *sysfs_root, const struct vsmmu_pci_addr *only,
			 size_t n_only, struct vsmmu_host **out, vsmmu_err *err)
{
	return scan(sysfs_root, only, n_only, false, out, err);
}

void vsmmu_host_free(struct vsmmu_host *host)
{
	if (!host)
		return;
	for (size_t i = 0; i < host->n_smmus; i++) {
		free(host->smmus[i].name);
		free(host->smmus[i].platform_dev);
	}
	for (size_t i = 0; i < host->n_devs; i++)
		clear_device(&host->devs[i]);
	free(host->smmus);
	free(host->devs);
	free(host->sysfs_root);
	free(host);
}

const struct vsmmu_pcidev *vsmmu_host_find_dev(const struct vsmmu_host *host,
					       const struct vsmmu_pci_addr *addr)
{
	struct vsmmu_pcidev key = { .addr = *addr };

	return bsearch(&key, host->devs, host->n_devs, sizeof(key), compare_devs);
}

int vsmmu_host_find_smmu(const struct vsmmu_host *host, const char *name)
{
	struct vsmmu_smmu key = { .name = (char *)name };
	const struct vsmmu_smmu *found =
		bsearch(&key, host->smmus, host->n_smmus, sizeof(key), compare_smmus);

	return found ? (int)(found - host->smmus) : -1;
}

const struct vsmmu_smmu *vsmmu_host_dev_smmu(const struct vsmmu_host *host,
					     const struct vsmmu_pcidev *dev)
{
	return dev->smmu >= 0 ? &host->smmus[dev->smmu] : NULL;
}
