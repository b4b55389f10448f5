/* A temporary /dev for the hook's tests: vfio cdevs (real character
 * devices when root can make them, else plain files) and helpers to plant
 * nodes and files in it. */
#ifndef VSMMU_FAKEDEV_H
#define VSMMU_FAKEDEV_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util.h"

/* A device node (root only: mknod) standing in for /dev/iommu or a cdev;
 * /dev/null's numbers, so nothing can go wrong if anything opened it. */
static inline void make_node(const char *path, mode_t mode)
{
	unlink(path);
	if (mknod(path, S_IFCHR | mode, makedev(1, 3)) < 0 || chmod(path, mode) < 0)
		printf("# mknod %s failed\n", path);
}

static inline void touch(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode);

	if (fd >= 0)
		close(fd);
	if (chmod(path, mode) < 0)
		printf("# chmod %s failed\n", path);
}

static inline void run_cmd(const char *cmd)
{
	if (system(cmd) != 0)
		printf("# '%s' failed\n", cmd);
}

/* <top>/dev with vfio/devices/vfio0..3, each 0600. */
static inline char *make_dev_tree(const char *top)
{
	_cleanup_free_ char *cmd = vsmmu_xasprintf("mkdir -p %s/dev/vfio/devices", top);
	char *dev = vsmmu_xasprintf("%s/dev", top);

	run_cmd(cmd);
	for (int i = 0; i < 4; i++) {
		_cleanup_free_ char *p = vsmmu_xasprintf("%s/vfio/devices/vfio%d", dev, i);

		if (geteuid() == 0)
			make_node(p, 0600);
		else
			touch(p, 0600);
	}
	return dev;
}

#endif
