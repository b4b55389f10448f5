/* Host scan against fake sysfs trees built by tests/fixtures/mkhost:
 * SMMU keys and NUMA nodes, device attributes and routing, targeted scans,
 * and the refusals (escaping links, missing trees, garbage attributes). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

/* A temporary directory holding a fake sysfs root at <top>/sys. */
struct tree {
	char *top;
	char *sys;
};

static void tree_free(struct tree *t)
{
	if (t->top)
		shell("rm -rf '%s'", t->top);
	free(t->top);
	free(t->sys);
	t->top = t->sys = NULL;
}
#define _cleanup_tree_ __attribute__((cleanup(tree_free)))

/* mkhost KIND <top>/sys ARGS; on failure t->sys stays NULL. */
static struct tree make_tree(const char *kind_and_args)
{
	const char *src = getenv("VSMMU_SRCDIR") ? getenv("VSMMU_SRCDIR") : ".";
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct tree t = { 0 };
	char *top = vsmmu_xasprintf("%s/vsmmu-test-host-XXXXXX", tmp);
	char *kind = vsmmu_xstrdup(kind_and_args);
	char *args = strchr(kind, ' ');

	if (args)
		*args++ = '\0';
	if (!mkdtemp(top)) {
		free(top);
		free(kind);
		return t;
	}
	t.top = top;
	if (shell("sh '%s/tests/fixtures/mkhost' %s '%s/sys' %s", src, kind, top,
		  args ? args : "") == 0)
		t.sys = vsmmu_xasprintf("%s/sys", top);
	free(kind);
	return t;
}

static struct vsmmu_pci_addr addr_of(const char *bdf)
{
	struct vsmmu_pci_addr a = { 0 };

	vsmmu_pci_addr_parse(bdf, &a);
	return a;
}

static const struct vsmmu_pcidev *dev_of(const struct vsmmu_host *h, const char *bdf)
{
	struct vsmmu_pci_addr a = addr_of(bdf);

	return vsmmu_host_find_dev(h, &a);
}

/* The name of the SMMU bdf is behind, or "(none)". */
static const char *smmu_of(const struct vsmmu_host *h, const char *bdf)
{
	const struct vsmmu_pcidev *d = dev_of(h, bdf);
	const struct vsmmu_smmu *s = d ? vsmmu_host_dev_smmu(h, d) : NULL;

	return s ? s->name : "(none)";
}

static int smmu_node(const struct vsmmu_host *h, const char *name)
{
	int i = vsmmu_host_find_smmu(h, name);

	return i < 0 ? -100 : h->smmus[i].numa_node;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static bool sorted_and_distinct_groups(const struct vsmmu_host *h)
{
	_cleanup_free_ int *groups = vsmmu_xcalloc(h->n_devs, sizeof(int));
	size_t n = 0;

	for (size_t i = 0; i < h->n_devs; i++) {
		if (i > 0 && vsmmu_pci_addr_cmp(&h->devs[i - 1].addr, &h->devs[i].addr) >= 0)
			return false;
		if (h->devs[i].iommu_group >= 0)
			groups[n++] = h->devs[i].iommu_group;
	}
	qsort(groups, n, sizeof(int), cmp_int);
	for (size_t i = 1; i < n; i++)
		if (groups[i] == groups[i - 1])
			return false;
	return true;
}

static void test_grace_smmus(const struct vsmmu_host *h)
{
	static const char *const socket0[] = {
		"smmu3.0x0000000005000000", "smmu3.0x0000000011000000", "smmu3.0x0000000012000000",
		"smmu3.0x0000000015000000", "smmu3.0x0000000016000000",
	};
	bool sorted = true;

	CHECK_INT(h->n_smmus, 10, "grace: 10 SMMUs");
	for (size_t i = 1; i < h->n_smmus; i++)
		sorted = sorted && strcmp(h->smmus[i - 1].name, h->smmus[i].name) < 0;
	CHECK(sorted, "grace: SMMUs sorted by name");
	for (size_t i = 0; i < VSMMU_ARRAY_LEN(socket0); i++) {
		_cleanup_free_ char *s1 = vsmmu_xasprintf("smmu3.0x00001%s", socket0[i] + 13);

		CHECK_STR(h->smmus[i].name, socket0[i], "grace: SMMU %zu is %s", i, socket0[i]);
		CHECK_INT(smmu_node(h, socket0[i]), 0, "grace: %s on node 0", socket0[i]);
		CHECK_INT(smmu_node(h, s1), 1, "grace: %s on node 1", s1);
	}
	CHECK_STR(h->smmus[vsmmu_host_find_smmu(h, "smmu3.0x0000000011000000")].platform_dev,
		  "arm-smmu-v3.3.auto", "grace: platform device is read, not derived from order");
	CHECK_INT(vsmmu_host_find_smmu(h, "smmu3.0x0000000099000000"), -1,
		  "grace: unknown SMMU name not found");
}

static void test_grace_devices(const struct vsmmu_host *h)
{
	static const char *const per_seg[] = { "11", "11", "12", "12", "15",
					       "15", "05", "05", "16", "16" };
	const struct vsmmu_pcidev *gpu = dev_of(h, "0009:01:00.0");
	const struct vsmmu_pcidev *gpu1 = dev_of(h, "0019:01:00.0");
	const struct vsmmu_pcidev *nvme = dev_of(h, "0002:01:00.0");
	bool routed = true;

	CHECK_INT(h->n_devs, 27, "grace: 20 root ports and 7 endpoints");
	CHECK(sorted_and_distinct_groups(h), "grace: devices sorted, iommu groups distinct");
	for (unsigned int seg = 0; seg < 20; seg++) {
		_cleanup_free_ char *rp = vsmmu_xasprintf("00%02u:00:00.0", seg);
		_cleanup_free_ char *want = vsmmu_xasprintf("smmu3.0x0000%s%s000000",
							    seg < 10 ? "0000" : "1000",
							    per_seg[seg % 10]);

		routed = routed && strcmp(smmu_of(h, rp), want) == 0;
	}
	CHECK(routed, "grace: every root port behind its segment's SMMU");
	if (!CHECK(gpu && gpu1 && nvme, "grace: GPUs and NVMe found"))
		return;
	CHECK_STR(smmu_of(h, "0009:01:00.0"), "smmu3.0x0000000016000000", "grace: GPU 0 SMMU");
	CHECK_INT(gpu->iommu_kind, VSMMU_IOMMU_SMMUV3, "grace: GPU 0 behind an SMMUv3");
	CHECK_STR(gpu->iommu_name, "smmu3.0x0000000016000000", "grace: GPU 0 iommu_name");
	CHECK_STR(gpu->driver, "vfio-pci", "grace: GPU 0 driver");
	CHECK_STR(gpu->vfio_cdev, "vfio0", "grace: GPU 0 cdev");
	CHECK(gpu->vendor == 0x10de && gpu->device == 0x2342 && gpu->class_code == 0x030200,
	      "grace: GPU 0 ids and class");
	CHECK_INT(gpu->numa_node, 0, "grace: GPU 0 node");
	CHECK(gpu->iommu_group >= 0, "grace: GPU 0 has a group");
	CHECK_STR(gpu->bdf, "0009:01:00.0", "grace: bdf formatted");
	CHECK_STR(smmu_of(h, "0019:01:00.0"), "smmu3.0x0000100016000000", "grace: GPU 1 SMMU");
	CHECK_STR(gpu1->driver, "nvidia", "grace: GPU 1 driver");
	CHECK(gpu1->vfio_cdev == NULL, "grace: GPU 1 has no cdev");
	CHECK_INT(gpu1->numa_node, 1, "grace: GPU 1 node");
	CHECK_STR(nvme->driver, "nvme", "grace: NVMe driver");
	CHECK_STR(dev_of(h, "0000:01:00.1")->vfio_cdev, "vfio2", "grace: NIC function 1 cdev");
	CHECK_STR(smmu_of(h, "0012:01:00.0"), "smmu3.0x0000100012000000", "grace: NVMe 1 SMMU");
	CHECK(dev_of(h, "0009:02:00.0") == NULL, "grace: find_dev of an absent address is NULL");
	CHECK(dev_of(h, "0020:01:00.0") == NULL, "grace: find_dev past the end is NULL");
}

static void test_grace(void)
{
	_cleanup_tree_ struct tree t = make_tree("grace");
	_cleanup_host_ struct vsmmu_host *h = NULL;
	vsmmu_err err = { .msg = "" };

	if (!CHECK(t.sys, "mkhost grace"))
		return;
	if (!CHECK(vsmmu_host_scan(t.sys, &h, &err) == 0, "grace: scan (%s)", err.msg))
		return;
	CHECK_STR(h->sysfs_root, t.sys, "grace: sysfs_root kept as given");
	test_grace_smmus(h);
	test_grace_devices(h);
}

static void test_kunpeng(void)
{
	_cleanup_tree_ struct tree t = make_tree("kunpeng");
	_cleanup_host_ struct vsmmu_host *h = NULL;
	vsmmu_err err = { .msg = "" };
	const struct vsmmu_pcidev *sata;
	bool seg0 = true;

	if (!CHECK(t.sys, "mkhost kunpeng"))
		return;
	if (!CHECK(vsmmu_host_scan(t.sys, &h, &err) == 0, "kunpeng: scan (%s)", err.msg))
		return;
	CHECK_INT(h->n_smmus, 6, "kunpeng: 6 SMMUs");
	CHECK_INT(smmu_node(h, "smmu3.0x0000000200100000"), VSMMU_NODE_UNKNOWN,
		  "kunpeng: SMMU without numa_node is unknown");
	CHECK_INT(smmu_node(h, "smmu3.0x0000000140000000"), 0, "kunpeng: socket 0 SMMU node");
	CHECK_INT(smmu_node(h, "smmu3.0x0000200140000000"), 1, "kunpeng: socket 1 SMMU node");
	CHECK_INT(h->n_devs, 16, "kunpeng: 16 devices");
	for (size_t i = 0; i < h->n_devs; i++)
		seg0 = seg0 && h->devs[i].addr.domain == 0;
	CHECK(seg0, "kunpeng: every device in segment 0000");
	CHECK(sorted_and_distinct_groups(h), "kunpeng: devices sorted, groups distinct");
	sata = dev_of(h, "0000:74:02.0");
	if (CHECK(sata, "kunpeng: SATA controller found")) {
		CHECK_INT(sata->iommu_kind, VSMMU_IOMMU_NONE, "kunpeng: SATA has no iommu");
		CHECK_INT(sata->smmu, -1, "kunpeng: SATA smmu index -1");
		CHECK(sata->iommu_name == NULL, "kunpeng: SATA iommu_name NULL");
		CHECK_INT(sata->iommu_group, -1, "kunpeng: SATA has no group");
		CHECK(vsmmu_host_dev_smmu(h, sata) == NULL, "kunpeng: SATA dev_smmu NULL");
		CHECK_STR(sata->driver, "ahci", "kunpeng: SATA driver");
	}
	CHECK_STR(smmu_of(h, "0000:7d:00.2"), "smmu3.0x0000000140000000", "kunpeng: HNS3 SMMU");
	CHECK_STR(dev_of(h, "0000:7d:00.2")->vfio_cdev, "vfio2", "kunpeng: HNS3 cdev");
	CHECK(dev_of(h, "0000:7d:00.0")->vfio_cdev == NULL, "kunpeng: hns3-bound NIC no cdev");
	CHECK_STR(smmu_of(h, "0000:76:00.0"), "smmu3.0x0000000200100000", "kunpeng: SEC SMMU");
	CHECK_STR(dev_of(h, "0000:76:00.1")->driver, "hisi_acc_vfio_pci",
		  "kunpeng: vfio variant driver");
	CHECK_STR(dev_of(h, "0000:76:00.1")->vfio_cdev, "vfio1", "kunpeng: variant driver cdev");
	CHECK_STR(smmu_of(h, "0000:81:00.0"), "smmu3.0x0000200100000000", "kunpeng: NVMe SMMU");
	CHECK_INT(dev_of(h, "0000:81:00.0")->numa_node, 1, "kunpeng: NVMe node 1");
	CHECK_STR(smmu_of(h, "0000:bd:00.0"), "smmu3.0x0000200140000000", "kunpeng: NIC SMMU");
}

static void test_virt_dt(void)
{
	_cleanup_tree_ struct tree t = make_tree("virt-dt");
	_cleanup_host_ struct vsmmu_host *h = NULL;
	vsmmu_err err = { .msg = "" };

	if (!CHECK(t.sys, "mkhost virt-dt"))
		return;
	if (!CHECK(vsmmu_host_scan(t.sys, &h, &err) == 0, "virt-dt: scan (%s)", err.msg))
		return;
	CHECK_INT(h->n_smmus, 1, "virt-dt: one SMMU");
	CHECK_STR(h->smmus[0].name, "smmu3.0x0000000009050000", "virt-dt: SMMU name");
	CHECK_STR(h->smmus[0].platform_dev, "9050000.smmuv3", "virt-dt: DT platform device");
	CHECK_INT(h->smmus[0].numa_node, VSMMU_NODE_UNKNOWN, "virt-dt: SMMU node unknown");
	CHECK_INT(h->n_devs, 3, "virt-dt: 3 devices");
	CHECK_INT(dev_of(h, "0000:01:00.0")->numa_node, VSMMU_NODE_UNKNOWN,
		  "virt-dt: numa_node -1 is unknown");
	CHECK_STR(dev_of(h, "0000:01:00.0")->vfio_cdev, "vfio0", "virt-dt: cdev");
	CHECK(dev_of(h, "0000:00:00.0")->driver == NULL, "virt-dt: unbound host bridge");
	CHECK_STR(smmu_of(h, "0000:00:00.0"), "smmu3.0x0000000009050000",
		  "virt-dt: host bridge behind the SMMU too");
}

static void test_other_iommu(void)
{
	_cleanup_tree_ struct tree t = make_tree("other-iommu");
	_cleanup_host_ struct vsmmu_host *h = NULL;
	vsmmu_err err = { .msg = "" };
	const struct vsmmu_pcidev *d;

	if (!CHECK(t.sys, "mkhost other-iommu"))
		return;
	if (!CHECK(vsmmu_host_scan(t.sys, &h, &err) == 0, "other-iommu: scan (%s)", err.msg))
		return;
	CHECK_INT(h->n_smmus, 1, "other-iommu: an SMMUv2 is not an SMMU here");
	d = dev_of(h, "0000:02:00.0");
	if (!CHECK(d, "other-iommu: device found"))
		return;
	CHECK_INT(d->iommu_kind, VSMMU_IOMMU_OTHER, "other-iommu: kind OTHER");
	CHECK_STR(d->iommu_name, "smmu.0x00000000e0a00000", "other-iommu: iommu name");
	CHECK_INT(d->smmu, -1, "other-iommu: no SMMU index");
	CHECK(vsmmu_host_dev_smmu(h, d) == NULL, "other-iommu: dev_smmu NULL");
	CHECK_STR(d->vfio_cdev, "vfio1", "other-iommu: still has its cdev");
	CHECK_INT(dev_of(h, "0000:01:00.0")->iommu_kind, VSMMU_IOMMU_SMMUV3,
		  "other-iommu: the other device is behind the SMMUv3");
}

static void test_scan_some(void)
{
	_cleanup_tree_ struct tree t = make_tree("grace");
	_cleanup_host_ struct vsmmu_host *h = NULL;
	_cleanup_host_ struct vsmmu_host *none = NULL;
	_cleanup_host_ struct vsmmu_host *full = NULL;
	const struct vsmmu_pci_addr only[] = {
		addr_of("0019:01:00.0"), addr_of("0005:01:00.0"), addr_of("0009:01:00.0"),
		addr_of("0019:01:00.0"),
	};
	vsmmu_err err = { .msg = "" };

	if (!CHECK(t.sys, "mkhost grace (scan_some)"))
		return;
	/* A broken device elsewhere: the targeted scan must not even read it. */
	shell("echo garbage > '%s/bus/pci/devices/0002:01:00.0/vendor'", t.sys);
	CHECK(vsmmu_host_scan(t.sys, &full, &err) < 0, "scan_some: full scan sees the garbage");
	if (!CHECK(vsmmu_host_scan_some(t.sys, only, VSMMU_ARRAY_LEN(only), &h, &err) == 0,
		   "scan_some: scan (%s)", err.msg))
		return;
	CHECK_INT(h->n_smmus, 10, "scan_some: all SMMUs");
	CHECK_INT(h->n_devs, 2, "scan_some: only the listed devices, absent and duplicate dropped");
	CHECK_STR(h->devs[0].bdf, "0009:01:00.0", "scan_some: sorted, first");
	CHECK_STR(h->devs[1].bdf, "0019:01:00.0", "scan_some: sorted, second");
	CHECK_STR(smmu_of(h, "0019:01:00.0"), "smmu3.0x0000100016000000", "scan_some: routed");
	CHECK(dev_of(h, "0005:01:00.0") == NULL, "scan_some: absent device not there");
	CHECK(vsmmu_host_scan_some(t.sys, NULL, 0, &none, &err) == 0 && none->n_devs == 0,
	      "scan_some: empty list gives no devices");
}

static void expect_scan_error(const char *sys, bool some, const char *want1, const char *want2,
			      const char *what)
{
	_cleanup_host_ struct vsmmu_host *h = NULL;
	const struct vsmmu_pci_addr only[] = { addr_of("0000:01:00.0") };
	vsmmu_err err = { .msg = "" };
	int r = some ? vsmmu_host_scan_some(sys, only, 1, &h, &err)
		     : vsmmu_host_scan(sys, &h, &err);

	CHECK(r < 0 && h == NULL, "%s: refused", what);
	if (!CHECK(strstr(err.msg, want1) && strstr(err.msg, want2), "%s: message names %s, %s",
		   what, want1, want2))
		printf("#   message: %s\n", err.msg);
}

static void test_escaping_links(void)
{
	_cleanup_tree_ struct tree t = make_tree("virt-dt");
	const char *ep = "devices/pci0000:00/0000:00:01.0/0000:01:00.0";

	if (!CHECK(t.sys, "mkhost virt-dt (escapes)"))
		return;
	/* a look-alike SMMU node outside the root */
	shell("mkdir -p '%s/outside/iommu/smmu3.0x0000000009050000' '%s/outside/dev' && "
	      "cd '%s/sys/class/iommu' && rm smmu3.0x0000000009050000 && "
	      "ln -s ../../../outside/iommu/smmu3.0x0000000009050000 .", t.top, t.top, t.top);
	expect_scan_error(t.sys, false, "smmu3.0x0000000009050000", "outside the sysfs root",
			  "class/iommu link escaping the root");
	shell("cd '%s/sys/class/iommu' && rm smmu3.0x0000000009050000 && ln -s "
	      "../../devices/platform/9050000.smmuv3/iommu/smmu3.0x0000000009050000 .", t.top);
	shell("cd '%s/sys/%s' && rm iommu && ln -s ../../../../../outside/iommu/"
	      "smmu3.0x0000000009050000 iommu", t.top, ep);
	expect_scan_error(t.sys, true, "0000:01:00.0", "outside the sysfs root",
			  "device iommu link escaping the root");
	shell("cd '%s/sys/%s' && rm iommu && ln -s ../../../platform/9050000.smmuv3/iommu/"
	      "smmu3.0x0000000009050000 iommu", t.top, ep);
	shell("cp -r '%s/sys/%s/.' '%s/outside/dev' && cd '%s/sys/bus/pci/devices' && "
	      "rm 0000:01:00.0 && ln -s ../../../../outside/dev 0000:01:00.0", t.top, ep, t.top,
	      t.top);
	expect_scan_error(t.sys, false, "0000:01:00.0", "outside the sysfs root",
			  "bus/pci/devices link escaping the root");
}

static void test_missing_trees(void)
{
	_cleanup_tree_ struct tree t = make_tree("virt-dt");
	_cleanup_host_ struct vsmmu_host *h = NULL;
	vsmmu_err err = { .msg = "" };

	if (!CHECK(t.sys, "mkhost virt-dt (missing)"))
		return;
	expect_scan_error(t.top, false, "no PCI devices under", "is", "not a sysfs root");
	expect_scan_error(t.top, true, "no PCI devices under", "sysfs root",
			  "not a sysfs root (scan_some)");
	expect_scan_error("/nonexistent/vsmmu/sys", false, "/nonexistent/vsmmu/sys", "sysfs root",
			  "nonexistent root");
	expect_scan_error("", false, "sysfs root", "", "empty root");
	/* no class/iommu and no links to SMMUs: zero SMMUs, not an error */
	shell("cd '%s/sys' && rm -r class devices/platform && "
	      "find devices -name iommu -type l -delete", t.top);
	CHECK(vsmmu_host_scan(t.sys, &h, &err) == 0, "no class/iommu: scan (%s)", err.msg);
	CHECK(h && h->n_smmus == 0 && h->n_devs == 3, "no class/iommu: zero SMMUs, 3 devices");
	CHECK(h && h->devs[2].iommu_kind == VSMMU_IOMMU_NONE, "no class/iommu: devices bypass");
}

static void test_bad_attributes(void)
{
	_cleanup_tree_ struct tree t = make_tree("virt-dt");
	_cleanup_host_ struct vsmmu_host *h = NULL;
	vsmmu_err err = { .msg = "" };
	const char *ep = "devices/pci0000:00/0000:00:01.0/0000:01:00.0";

	if (!CHECK(t.sys, "mkhost virt-dt (attributes)"))
		return;
	shell("echo 0xzz > '%s/%s/vendor'", t.sys, ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "vendor", "garbage vendor");
	shell("echo 1af4 > '%s/%s/vendor'", t.sys, ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "vendor", "vendor without 0x");
	shell("echo 0x0x1af4 > '%s/%s/vendor'", t.sys, ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "vendor", "vendor with two 0x");
	shell("rm '%s/%s/vendor' && mkdir '%s/%s/vendor'", t.sys, ep, t.sys, ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "vendor", "unreadable vendor");
	shell("rmdir '%s/%s/vendor'", t.sys, ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "vendor", "missing vendor");
	shell("echo 0x1af4 > '%s/%s/vendor' && echo 0x1000000 > '%s/%s/class'", t.sys, ep, t.sys,
	      ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "class", "class out of range");
	shell("echo 0x020000 > '%s/%s/class' && echo two > '%s/%s/numa_node'", t.sys, ep, t.sys,
	      ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "numa_node", "garbage numa_node");
	shell("echo -1 > '%s/%s/numa_node' && ln -s ../../../../kernel/iommu_groups/x '%s/%s/g'"
	      " && rm '%s/%s/iommu_group' && mv '%s/%s/g' '%s/%s/iommu_group'",
	      t.sys, ep, t.sys, ep, t.sys, ep, t.sys, ep, t.sys, ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "iommu_group", "iommu_group not a number");
	shell("cd '%s/%s' && rm iommu_group && ln -s ../../../../kernel/iommu_groups/2 iommu_group"
	      " && mkdir vfio-dev/vfio7", t.sys, ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "vfio-dev", "two vfio cdevs");
	shell("cd '%s/%s' && rm -r vfio-dev/vfio7 && rm iommu && ln -s ../../../platform/nothing"
	      " iommu", t.sys, ep);
	expect_scan_error(t.sys, false, "0000:01:00.0", "iommu", "dangling iommu link");
	shell("cd '%s/%s' && rm iommu && ln -s ../../../platform/9050000.smmuv3/iommu/"
	      "smmu3.0x0000000009050000 iommu", t.sys, ep);
	CHECK(vsmmu_host_scan(t.sys, &h, &err) == 0, "attributes restored: scan (%s)", err.msg);
}

static void test_names_and_vanished(void)
{
	_cleanup_tree_ struct tree t = make_tree("virt-dt");
	_cleanup_host_ struct vsmmu_host *h = NULL;
	vsmmu_err err = { .msg = "" };

	if (!CHECK(t.sys, "mkhost virt-dt (names)"))
		return;
	/* look-alike names are not SMMUv3 instances; junk in bus/pci/devices is skipped */
	shell("cd '%s/class/iommu' && for n in smmu3.0x123 smmu3.0x00000000090500000 "
	      "smmu3.0X0000000009050000 smmu3.0x000000000905000G smmu3.0x00000000090500AB; do "
	      "ln -s ../../devices/platform/9050000.smmuv3/iommu/smmu3.0x0000000009050000 $n; "
	      "done && mkdir ../../bus/pci/devices/junk", t.sys);
	/* a device that vanished between readdir and reading it */
	shell("rm -r '%s/devices/pci0000:00/0000:00:01.0/0000:01:00.0'", t.sys);
	if (!CHECK(vsmmu_host_scan(t.sys, &h, &err) == 0, "names: scan (%s)", err.msg))
		return;
	CHECK_INT(h->n_smmus, 1, "names: only the strictly named SMMU");
	CHECK_INT(h->n_devs, 2, "names: junk and the vanished device skipped");
	CHECK(dev_of(h, "0000:01:00.0") == NULL, "names: vanished device absent");
}

static void test_synthetic(void)
{
	_cleanup_tree_ struct tree t = make_tree("synthetic 4 64 8");
	_cleanup_host_ struct vsmmu_host *h = NULL;
	vsmmu_err err = { .msg = "" };
	size_t cdevs = 0;
	bool routed = true;

	if (!CHECK(t.sys, "mkhost synthetic 4 64 8"))
		return;
	if (!CHECK(vsmmu_host_scan(t.sys, &h, &err) == 0, "synthetic: scan (%s)", err.msg))
		return;
	CHECK_INT(h->n_smmus, 4, "synthetic: 4 SMMUs");
	CHECK_INT(h->n_devs, 68, "synthetic: 64 endpoints and 4 root ports");
	CHECK(h->smmus[1].numa_node == 0 && h->smmus[2].numa_node == 1,
	      "synthetic: half the SMMUs on each node");
	for (size_t i = 0; i < h->n_devs; i++) {
		const struct vsmmu_smmu *s = vsmmu_host_dev_smmu(h, &h->devs[i]);

		routed = routed && s == &h->smmus[h->devs[i].addr.domain] &&
			 h->devs[i].numa_node == s->numa_node;
		cdevs += h->devs[i].vfio_cdev != NULL;
	}
	CHECK(routed, "synthetic: segment i behind SMMU i, on its node");
	CHECK_INT(cdevs, 8, "synthetic: 8 vfio cdevs");
	CHECK(sorted_and_distinct_groups(h), "synthetic: sorted, distinct groups");
}

/* Which bound drivers are vfio-pci: the plain one and its variants. */
static void test_vfio_drivers(void)
{
	CHECK(vsmmu_driver_is_vfio("vfio-pci"), "vfio-pci is vfio");
	CHECK(vsmmu_driver_is_vfio("nvgrace-gpu-vfio-pci"), "nvgrace-gpu-vfio-pci is vfio");
	CHECK(vsmmu_driver_is_vfio("mlx5_vfio_pci"), "mlx5_vfio_pci is (the kernel spells it so)");
	CHECK(vsmmu_driver_is_vfio("hisi_acc_vfio_pci"), "hisi_acc_vfio_pci is");
	CHECK(!vsmmu_driver_is_vfio("vfio"), "plain 'vfio' is not a PCI driver");
	CHECK(!vsmmu_driver_is_vfio("nvidia") && !vsmmu_driver_is_vfio(NULL),
	      "nvidia and no driver are not vfio");
}

int main(void)
{
	test_grace();
	test_kunpeng();
	test_virt_dt();
	test_other_iommu();
	test_scan_some();
	test_escaping_links();
	test_missing_trees();
	test_bad_attributes();
	test_names_and_vanished();
	test_synthetic();
	test_vfio_drivers();
	return tap_done();
}
