/* sysfs link targets: a tiny tree with one SMMU and one PCI device whose
 * iommu, driver and iommu_group links, class/iommu and bus/pci/devices
 * links, numa_node text and vfio-dev entry are fuzzer-chosen, then both
 * scans. The input is NUL-separated fields in that order; an empty field
 * leaves the entry out. Whatever the links say, a scan must not crash, leak
 * or report a device behind an SMMU it does not list. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "host.h"

#define SMMU "smmu3.0x0000000016000000"
#define PLAT "devices/platform/arm-smmu-v3.0.auto"
#define DEVDIR "devices/pci0009:00/0009:00:00.0/0009:01:00.0"
#define BDF "0009:01:00.0"
#define N_FIELDS 7
#define FIELD_MAX 512
#define PATH_BUF 4096

static char root[1024];

static void must(int r, const char *what)
{
	if (r < 0 && errno != EEXIST) {
		perror(what);
		abort();
	}
}

static void put(const char *rel, const char *text)
{
	char path[PATH_BUF];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	must(fd, path);
	if (write(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
}

static void mkdirs(const char *rel)
{
	char path[PATH_BUF];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		must(mkdir(path, 0755), path);
		*p = '/';
	}
	must(mkdir(path, 0755), path);
}

static void build_fixed(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/vsmmu-fuzz-sysfs.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		abort();
	mkdirs(PLAT "/iommu/" SMMU);
	mkdirs(DEVDIR "/vfio-dev");
	mkdirs("class/iommu");
	mkdirs("bus/pci/devices");
	mkdirs("kernel/iommu_groups/7");
	mkdirs("bus/pci/drivers/vfio-pci");
	put(PLAT "/numa_node", "0\n");
	put(DEVDIR "/vendor", "0x10de\n");
	put(DEVDIR "/device", "0x2342\n");
	put(DEVDIR "/class", "0x030200\n");
}

/* Replace the entry at rel by a symlink to target, or remove it. */
static void relink(const char *rel, const char *target)
{
	char path[PATH_BUF];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	if (*target && symlink(target, path) < 0 && errno != ENAMETOOLONG)
		must(-1, path);
}

static void set_vfio_entry(const char *name)
{
	char dir[PATH_BUF], path[PATH_BUF];
	_cleanup_closedir_ DIR *d = NULL;
	const struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/" DEVDIR "/vfio-dev", root);
	d = opendir(dir);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			must(rmdir(path), path);
		}
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (mkdir(path, 0755) < 0 && errno != ENAMETOOLONG)
		must(-1, path);
}

static void check(const struct vsmmu_host *h)
{
	for (size_t i = 0; i < h->n_devs; i++) {
		const struct vsmmu_pcidev *d = &h->devs[i];

		if ((d->iommu_kind == VSMMU_IOMMU_SMMUV3) != (d->smmu >= 0) ||
		    (d->smmu >= 0 && (size_t)d->smmu >= h->n_smmus)) {
			fprintf(stderr, "%s: smmu index %d of %zu\n", d->bdf, d->smmu, h->n_smmus);
			abort();
		}
	}
}

static void scan(void)
{
	_cleanup_host_ struct vsmmu_host *all = NULL;
	_cleanup_host_ struct vsmmu_host *some = NULL;
	struct vsmmu_pci_addr only[2];
	vsmmu_err err;

	vsmmu_pci_addr_parse(BDF, &only[0]);
	vsmmu_pci_addr_parse("0009:01:00.1", &only[1]);
	if (vsmmu_host_scan(root, &all, &err) == 0)
		check(all);
	if (vsmmu_host_scan_some(root, only, 2, &some, &err) == 0)
		check(some);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char fields[N_FIELDS][FIELD_MAX] = { { 0 } };
	size_t f = 0, at = 0;

	if (!root[0])
		build_fixed();
	for (size_t i = 0; i < size && f < N_FIELDS; i++) {
		if (data[i] == '\0') {
			f++, at = 0;
			continue;
		}
		if (at < FIELD_MAX - 1)
			fields[f][at++] = (char)data[i];
	}
	relink(DEVDIR "/iommu", fields[0]);
	relink(DEVDIR "/driver", fields[1]);
	relink(DEVDIR "/iommu_group", fields[2]);
	relink("class/iommu/" SMMU, fields[3]);
	relink("bus/pci/devices/" BDF, fields[4]);
	put(DEVDIR "/numa_node", fields[5]);
	set_vfio_entry(fields[6]);
	scan();
	return 0;
}
