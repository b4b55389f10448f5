#include "ready.h"

#include "nodes.h"
#include "util.h"

static void check_driver(const struct vsmmu_host *host, const struct vsmmu_pcidev *dev,
			 struct vsmmu_strlist *out)
{
	const char *sys = host->sysfs_root, *bdf = dev->bdf;

	if (!dev->driver)
		vsmmu_strlist_addf(out, "hostdev %s is not bound to any driver; bind it to "
				   "vfio-pci: echo vfio-pci > %s/bus/pci/devices/%s/driver_override "
				   "&& echo %s > %s/bus/pci/drivers_probe", bdf, sys, bdf, bdf, sys);
	else if (!vsmmu_driver_is_vfio(dev->driver))
		vsmmu_strlist_addf(out, "hostdev %s is bound to %s, not vfio-pci; bind it to "
				   "vfio-pci: echo %s > %s/bus/pci/devices/%s/driver/unbind && "
				   "echo vfio-pci > %s/bus/pci/devices/%s/driver_override && "
				   "echo %s > %s/bus/pci/drivers_probe", bdf, dev->driver, bdf, sys,
				   bdf, sys, bdf, bdf, sys);
}

static void check_cdev(const struct vsmmu_host *host, const struct vsmmu_pcidev *dev,
		       const char *devdir, struct vsmmu_strlist *out)
{
	_cleanup_free_ char *node = NULL;

	if (!dev->vfio_cdev) {
		vsmmu_strlist_addf(out, "hostdev %s has no vfio cdev (no %s/bus/pci/devices/%s/"
				   "vfio-dev/); boot a kernel with CONFIG_VFIO_DEVICE_CDEV=y "
				   "(Linux 6.6+), or set mode='emulated' in <vsmmu:config>",
				   dev->bdf, host->sysfs_root, dev->bdf);
		return;
	}
	node = vsmmu_xasprintf("%s/vfio/devices/%s", devdir, dev->vfio_cdev);
	if (!vsmmu_node_present(node))
		vsmmu_strlist_addf(out, "hostdev %s: its vfio cdev node %s is missing; create it: "
				   "udevadm trigger --action=add %s/bus/pci/devices/%s/vfio-dev/%s",
				   dev->bdf, node, host->sysfs_root, dev->bdf, dev->vfio_cdev);
}

void vsmmu_prepare_check_ready(const struct vsmmu_domain *dom, enum vsmmu_mode mode,
			       enum vsmmu_phase phase, const struct vsmmu_host *host,
			       const char *devdir, struct vsmmu_strlist *out)
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
	if (accel && !vsmmu_node_present(iommu))
		vsmmu_strlist_addf(out, "%s is missing: mode 'accel' needs iommufd; load it: "
				   "modprobe iommufd (or set mode='emulated' in <vsmmu:config>)",
				   iommu);
}

