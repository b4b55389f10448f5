/* Host readiness at prepare and start against an in-memory host and a
 * temp /dev: driver binding, vfio cdevs and their nodes, iommufd. */
#include <string.h>
#include <unistd.h>

#include "fakedev.h"
#include "fakehost.h"
#include "ready.h"
#include "tap.h"
#include "util.h"

static const char *const smmus[] = { "smmu3.0x0000000011000000", "smmu3.0x0000000016000000" };
static const struct fake_dev devs[] = {
	{ "0000:01:00.0", 0, 0 }, { "0000:01:00.1", 0, 0 }, { "0009:01:00.0", 1, 0 },
	{ "0010:01:00.0", 1, 0 }, { "0019:01:00.0", 1, 0 },
};

static struct vsmmu_domain *domain_of(const char *const *bdfs, size_t n)
{
	struct vsmmu_domain *dom = vsmmu_xcalloc(1, sizeof(*dom));

	dom->hostdevs = vsmmu_xcalloc(n, sizeof(*dom->hostdevs));
	dom->n_hostdevs = n;
	for (size_t i = 0; i < n; i++)
		vsmmu_pci_addr_parse(bdfs[i], &dom->hostdevs[i].source);
	return dom;
}

static bool any_line(const struct vsmmu_strlist *p, const char *a, const char *b)
{
	for (size_t i = 0; i < p->n; i++)
		if (strstr(p->items[i], a) && (!b || strstr(p->items[i], b)))
			return true;
	return false;
}

static void set_dev(struct vsmmu_host *h, size_t i, const char *driver, const char *cdev)
{
	free(h->devs[i].driver);
	h->devs[i].driver = vsmmu_xstrdup(driver);
	free(h->devs[i].vfio_cdev);
	h->devs[i].vfio_cdev = vsmmu_xstrdup(cdev);
}

static void test_ready(const char *dev)
{
	static const char *const bdfs[] = { "0000:01:00.0", "0000:01:00.1", "0009:01:00.0",
					    "0010:01:00.0", "0019:01:00.0", "0030:01:00.0" };
	_cleanup_host_ struct vsmmu_host *h = fake_host(smmus, NULL, 2, devs, 5);
	struct vsmmu_domain *dom = domain_of(bdfs, VSMMU_ARRAY_LEN(bdfs));
	_cleanup_free_ char *iommu = vsmmu_xasprintf("%s/iommu", dev);
	struct vsmmu_strlist p = { 0 };

	set_dev(h, 0, "vfio-pci", "vfio1");
	set_dev(h, 1, NULL, NULL);
	set_dev(h, 2, "nvgrace-gpu-vfio-pci", "vfio0");
	set_dev(h, 3, "vfio-pci", NULL);
	set_dev(h, 4, "nvidia", NULL);
	unlink(iommu);
	vsmmu_prepare_check_ready(dom, VSMMU_MODE_ACCEL, VSMMU_PHASE_START, h, dev, &p);
	CHECK_INT(p.n, 4, "accel: four problems");
	CHECK(any_line(&p, "0000:01:00.1 is not bound", "driver_override"),
	      "unbound device: bind command");
	CHECK(any_line(&p, "0019:01:00.0 is bound to nvidia", "driver/unbind"),
	      "nvidia device: unbind and bind to vfio-pci");
	CHECK(any_line(&p, "0010:01:00.0 has no vfio cdev", NULL), "missing cdev named");
	CHECK(any_line(&p, "/iommu is missing", "modprobe iommufd"), "missing /dev/iommu named");
	CHECK(!any_line(&p, "0030:01:00.0", NULL), "absent devices are left to the topology check");
	CHECK(!any_line(&p, "0009:01:00.0", NULL), "a vfio-pci variant driver passes");
	vsmmu_strlist_clear(&p);

	vsmmu_prepare_check_ready(dom, VSMMU_MODE_EMULATED, VSMMU_PHASE_START, h, dev, &p);
	CHECK_INT(p.n, 2, "emulated: only the driver problems");
	vsmmu_strlist_clear(&p);

	dom->hostdevs[4].libvirt_managed = true;
	vsmmu_prepare_check_ready(dom, VSMMU_MODE_ACCEL, VSMMU_PHASE_PREPARE, h, dev, &p);
	CHECK(p.n == 3 && !any_line(&p, "0019:01:00.0", NULL),
	      "at prepare a managed='yes' device on nvidia passes: libvirt binds it later");
	vsmmu_strlist_clear(&p);
	vsmmu_prepare_check_ready(dom, VSMMU_MODE_ACCEL, VSMMU_PHASE_START, h, dev, &p);
	CHECK(any_line(&p, "0019:01:00.0 is bound to nvidia", NULL),
	      "at start the same device is refused: libvirt should have bound it");
	vsmmu_strlist_clear(&p);
	dom->hostdevs[4].libvirt_managed = false;

	touch(iommu, 0600);
	set_dev(h, 0, "vfio-pci", "vfio7");
	dom->n_hostdevs = 1;
	vsmmu_prepare_check_ready(dom, VSMMU_MODE_ACCEL, VSMMU_PHASE_START, h, dev, &p);
	CHECK(p.n == 1 && any_line(&p, "vfio7 is missing", "udevadm"), "missing cdev node named");
	vsmmu_strlist_clear(&p);
	dom->n_hostdevs = VSMMU_ARRAY_LEN(bdfs);
	vsmmu_domain_free(dom);
}

int main(void)
{
	char tmpl[] = "/tmp/vsmmu-test-ready.XXXXXX";
	const char *top = mkdtemp(tmpl);
	_cleanup_free_ char *dev = make_dev_tree(top);
	_cleanup_free_ char *rm = vsmmu_xasprintf("rm -rf '%s'", top);

	test_ready(dev);
	run_cmd(rm);
	return tap_done();
}
