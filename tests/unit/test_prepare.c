/* Hook preparation: the cheap managed test, vfio driver names, the QEMU
 * user and group, host readiness against an in-memory host and a temp /dev,
 * and device node ownership with holder counts across domains. */
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakehost.h"
#include "prepare.h"
#include "qemuconf.h"
#include "tap.h"
#include "util.h"

static const char *const smmus[] = { "smmu3.0x0000000011000000", "smmu3.0x0000000016000000" };
static const struct fake_dev devs[] = {
	{ "0000:01:00.0", 0, 0 }, { "0000:01:00.1", 0, 0 }, { "0009:01:00.0", 1, 0 },
	{ "0010:01:00.0", 1, 0 }, { "0019:01:00.0", 1, 0 },
};

/* A device node (root only: mknod) standing in for /dev/iommu or a cdev;
 * /dev/null's numbers, so nothing can go wrong if anything opened it. */
static void make_node(const char *path, mode_t mode)
{
	unlink(path);
	if (mknod(path, S_IFCHR | mode, makedev(1, 3)) < 0 || chmod(path, mode) < 0)
		printf("# mknod %s failed\n", path);
}

static void touch(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode);

	if (fd >= 0)
		close(fd);
	if (chmod(path, mode) < 0)
		printf("# chmod %s failed\n", path);
}

static void run_cmd(const char *cmd)
{
	if (system(cmd) != 0)
		printf("# '%s' failed\n", cmd);
}

static char *make_dev_tree(const char *top)
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

static void test_cheap_tests(void)
{
	static const char managed[] = "<domain><metadata><vsmmu:config xmlns:vsmmu="
				      "'urn:vsmmu:domain:1'/></metadata></domain>";
	static const char plain[] = "<domain><name>x</name></domain>";
	static const char legacy[] = "<domain><devices><iommu model='nestedSmmuv3'/></devices></domain>";

	CHECK(vsmmu_xml_maybe_managed(managed, strlen(managed)), "vsmmu namespace: maybe managed");
	CHECK(vsmmu_xml_maybe_managed(legacy, strlen(legacy)), "nestedSmmuv3: maybe managed");
	CHECK(!vsmmu_xml_maybe_managed(plain, strlen(plain)), "plain domain: not managed");
	CHECK(vsmmu_driver_is_vfio("vfio-pci"), "vfio-pci is vfio");
	CHECK(vsmmu_driver_is_vfio("nvgrace-gpu-vfio-pci"), "nvgrace-gpu-vfio-pci is vfio");
	CHECK(vsmmu_driver_is_vfio("mlx5_vfio_pci"), "mlx5_vfio_pci is (the kernel spells it so)");
	CHECK(vsmmu_driver_is_vfio("hisi_acc_vfio_pci"), "hisi_acc_vfio_pci is");
	CHECK(!vsmmu_driver_is_vfio("vfio"), "plain 'vfio' is not a PCI driver");
	CHECK(!vsmmu_driver_is_vfio("nvidia") && !vsmmu_driver_is_vfio(NULL),
	      "nvidia and no driver are not vfio");
}

/* One reader for every qemu.conf setting vsmmu looks at (lib/conf/qemuconf.h). */
static void test_qemu_conf_reader(void)
{
	static const char text[] = "cgroup_device_acl = [\n    \"/dev/null\", # the null\n"
				   "    \"/dev/iommu\"\n]\nsecurity_driver = \"apparmor\"\n"
				   "user = [ \"a\" ]\ngroup = \"#1\" # a comment\nnamespaces = [ ]\n"
				   "security_driver = [ \"selinux\", \"dac\" ]\nbroken = [ \"x\"\n";
	_cleanup_strlist_ struct vsmmu_strlist acl = { 0 }, sd = { 0 }, ns = { 0 }, bad = { 0 };
	_cleanup_free_ char *user = vsmmu_qemu_conf_value(text, "user");
	_cleanup_free_ char *group = vsmmu_qemu_conf_value(text, "group");
	_cleanup_free_ char *joined = NULL;

	CHECK(vsmmu_qemu_conf_list(text, "cgroup_device_acl", &acl) == 1 && acl.n == 2 &&
	      vsmmu_strlist_has(&acl, "/dev/iommu"), "a list across lines, a comment inside");
	CHECK(vsmmu_qemu_conf_list(text, "security_driver", &sd) == 1 && sd.n == 2,
	      "the last setting wins");
	joined = vsmmu_strlist_join(&sd);
	CHECK_STR(joined, "selinux, dac", "joined as people read it");
	CHECK(vsmmu_qemu_conf_list(text, "namespaces", &ns) == 1 && ns.n == 0,
	      "an empty list is set, with nothing in it");
	CHECK(vsmmu_qemu_conf_list(text, "broken", &bad) == 0, "an unterminated list is not set");
	CHECK(user == NULL, "a list is no user name");
	CHECK_STR(group, "#1", "a '#' inside quotes is kept");
}

static void test_qemu_conf(const char *top)
{
	static const char text[] = "# user = \"root\"\n#group = \"root\"\nuser = \"qemu\"\n"
				   "  group=\"+107\"\nuser_ns = \"x\"\n";
	_cleanup_free_ char *user = vsmmu_qemu_conf_value(text, "user");
	_cleanup_free_ char *group = vsmmu_qemu_conf_value(text, "group");
	_cleanup_free_ char *none = vsmmu_qemu_conf_value("# only comments\n", "user");
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/qemu.conf", top);
	_cleanup_free_ char *cmd = vsmmu_xasprintf("printf 'user = \"+42\"\\ngroup = \"+43\"\\n' > %s",
						   path);
	struct vsmmu_conf conf = { .libvirt_qemu_conf = path };
	uid_t uid = 0;
	gid_t gid = 0;
	vsmmu_err err;

	CHECK_STR(user, "qemu", "user read, comments ignored");
	CHECK_STR(group, "+107", "group read with odd spacing");
	CHECK(none == NULL, "no setting: NULL");
	run_cmd(cmd);
	CHECK(vsmmu_qemu_ids(&conf, &uid, &gid, &err) == 0 && uid == 42 && gid == 43,
	      "numeric ids from libvirt's qemu.conf");
	conf.qemu_user = "+1234";
	conf.qemu_group = "+5678";
	CHECK(vsmmu_qemu_ids(&conf, &uid, &gid, &err) == 0 && uid == 1234 && gid == 5678,
	      "vsmmu.conf overrides qemu.conf");
	conf.qemu_user = "no-such-user-vsmmu";
	CHECK(vsmmu_qemu_ids(&conf, &uid, &gid, &err) < 0 && strstr(err.msg, "no-such-user-vsmmu"),
	      "an unknown user is an error naming it");
	conf.qemu_user = "+12x";
	CHECK(vsmmu_qemu_ids(&conf, &uid, &gid, &err) < 0, "a malformed numeric id is refused");
}

static struct vsmmu_domain *domain_of(const char *const *bdfs, size_t n)
{
	struct vsmmu_domain *dom = vsmmu_xcalloc(1, sizeof(*dom));

	dom->hostdevs = vsmmu_xcalloc(n, sizeof(*dom->hostdevs));
	dom->n_hostdevs = n;
	for (size_t i = 0; i < n; i++)
		vsmmu_pci_addr_parse(bdfs[i], &dom->hostdevs[i].source);
	return dom;
}

static bool any_line(const struct vsmmu_problems *p, const char *a, const char *b)
{
	for (size_t i = 0; i < p->n; i++)
		if (strstr(p->lines[i], a) && (!b || strstr(p->lines[i], b)))
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
	struct vsmmu_problems p = { 0 };

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
	vsmmu_problems_clear(&p);

	vsmmu_prepare_check_ready(dom, VSMMU_MODE_EMULATED, VSMMU_PHASE_START, h, dev, &p);
	CHECK_INT(p.n, 2, "emulated: only the driver problems");
	vsmmu_problems_clear(&p);

	dom->hostdevs[4].libvirt_managed = true;
	vsmmu_prepare_check_ready(dom, VSMMU_MODE_ACCEL, VSMMU_PHASE_PREPARE, h, dev, &p);
	CHECK(p.n == 3 && !any_line(&p, "0019:01:00.0", NULL),
	      "at prepare a managed='yes' device on nvidia passes: libvirt binds it later");
	vsmmu_problems_clear(&p);
	vsmmu_prepare_check_ready(dom, VSMMU_MODE_ACCEL, VSMMU_PHASE_START, h, dev, &p);
	CHECK(any_line(&p, "0019:01:00.0 is bound to nvidia", NULL),
	      "at start the same device is refused: libvirt should have bound it");
	vsmmu_problems_clear(&p);
	dom->hostdevs[4].libvirt_managed = false;

	touch(iommu, 0600);
	set_dev(h, 0, "vfio-pci", "vfio7");
	dom->n_hostdevs = 1;
	vsmmu_prepare_check_ready(dom, VSMMU_MODE_ACCEL, VSMMU_PHASE_START, h, dev, &p);
	CHECK(p.n == 1 && any_line(&p, "vfio7 is missing", "udevadm"), "missing cdev node named");
	vsmmu_problems_clear(&p);
	dom->n_hostdevs = VSMMU_ARRAY_LEN(bdfs);
	vsmmu_domain_free(dom);
}

static bool owned(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_uid == uid && st.st_gid == gid &&
	       (st.st_mode & 07777) == mode;
}

static void test_nodes(const char *top, const char *dev)
{
	_cleanup_free_ char *rundir = vsmmu_xasprintf("%s/run", top);
	_cleanup_free_ char *iommu = vsmmu_xasprintf("%s/iommu", dev);
	_cleanup_free_ char *cdev0 = vsmmu_xasprintf("%s/vfio/devices/vfio0", dev);
	_cleanup_free_ char *cdev1 = vsmmu_xasprintf("%s/vfio/devices/vfio1", dev);
	_cleanup_free_ char *gone = vsmmu_xasprintf("%s/vfio/devices/vfio99", dev);
	char *a_paths[] = { iommu, cdev0 }, *b_paths[] = { iommu, cdev1 };
	char *bad_paths[] = { cdev1, gone };
	bool root = geteuid() == 0;
	uid_t uid = root ? 1234 : getuid(), u0 = getuid();
	gid_t gid = root ? 5678 : getgid(), g0 = getgid();
	struct vsmmu_state a = { .name = "a" }, b = { .name = "b" }, c = { .name = "c" };
	vsmmu_err err;

	make_node(iommu, 0600);
	CHECK(vsmmu_nodes_take(rundir, dev, "a", a_paths, 2, uid, gid, &a, &err) == 0,
	      "a takes its nodes");
	CHECK(owned(iommu, uid, gid, 0660) && owned(cdev0, uid, gid, 0660), "a's nodes handed over");
	CHECK(a.n_nodes == 2 && a.nodes[0].mode == 0600 && a.nodes[0].uid == u0,
	      "a remembers the original owner and mode");
	CHECK(vsmmu_nodes_take(rundir, dev, "b", b_paths, 2, uid, gid, &b, &err) == 0,
	      "b takes its nodes");
	CHECK(b.nodes[0].mode == 0600, "b sees the original mode of the shared node, not a's");
	CHECK(vsmmu_nodes_release(rundir, dev, NULL, "a", &err) == 0, "a released");
	CHECK(owned(cdev0, u0, g0, 0600), "a's cdev restored");
	CHECK(owned(iommu, uid, gid, 0660), "shared /dev/iommu stays with b");
	CHECK(vsmmu_nodes_release(rundir, dev, NULL, "a", &err) == 0, "a released twice");
	CHECK(owned(iommu, uid, gid, 0660), "still with b after a second release of a");
	CHECK(vsmmu_nodes_release(rundir, "/elsewhere", NULL, "b", &err) < 0 &&
	      owned(iommu, uid, gid, 0660), "a dev dir changed since the start: not given back");
	CHECK(vsmmu_nodes_release(rundir, "/elsewhere", dev, "b", &err) == 0,
	      "b released inside the dev dir its state had at start");
	CHECK(owned(iommu, u0, g0, 0600) && owned(cdev1, u0, g0, 0600), "everything restored");
	CHECK(vsmmu_nodes_release(rundir, dev, NULL, "never", &err) == 0, "release without take is fine");

	CHECK(vsmmu_nodes_take(rundir, dev, "c", bad_paths, 2, uid, gid, &c, &err) < 0,
	      "taking a missing node fails");
	CHECK(strstr(err.msg, "vfio99") != NULL, "the error names the node: %s", err.msg);
	CHECK(owned(cdev1, u0, g0, 0600) && c.n_nodes == 0, "a failed take undoes what it did");
	{
		char **left = NULL;
		size_t n = 9;

		CHECK(vsmmu_node_ref_list(rundir, &left, &n, &err) == 0 && n == 0,
		      "no node records left");
		free(left);
	}
	for (size_t i = 0; i < a.n_nodes; i++)
		free(a.nodes[i].path);
	for (size_t i = 0; i < b.n_nodes; i++)
		free(b.nodes[i].path);
	free(a.nodes);
	free(b.nodes);
	free(c.nodes);
}

static bool has_record(const char *rundir, const char *path)
{
	struct vsmmu_node_ref ref;
	bool found = false;
	vsmmu_err err;

	if (vsmmu_node_ref_read(rundir, path, &ref, &found, &err) == 0)
		vsmmu_node_ref_clear(&ref);
	return found;
}

/* What a node must be before its owner changes, and what a record must be
 * before release acts on it (root: it makes device nodes). */
static void test_nodes_refused(const char *top, const char *dev)
{
	_cleanup_free_ char *rundir = vsmmu_xasprintf("%s/run-refused", top);
	_cleanup_free_ char *real = vsmmu_xasprintf("%s/real-node", top);
	_cleanup_free_ char *cdev = vsmmu_xasprintf("%s/vfio/devices/vfio2", dev);
	_cleanup_free_ char *file = vsmmu_xasprintf("%s/vfio/devices/vfio3", dev);
	_cleanup_free_ char *dotdot = vsmmu_xasprintf("%s/vfio/../../real-node", dev);
	_cleanup_free_ char *nodes = vsmmu_xasprintf("%s/.nodes", rundir);
	char *link_paths[] = { cdev }, *file_paths[] = { file }, *out_paths[] = { real };
	char *dotdot_paths[] = { dotdot };
	struct vsmmu_state st = { .name = "d" };
	struct vsmmu_node_ref planted = { 0 };
	vsmmu_err err;

	make_node(real, 0600);
	unlink(cdev);
	CHECK(symlink(real, cdev) == 0, "a symlink stands where a cdev belongs");
	CHECK(vsmmu_nodes_take(rundir, dev, "d", link_paths, 1, 1234, 5678, &st, &err) < 0 &&
	      strstr(err.msg, "symbolic link"), "taking a symlinked cdev is refused: %s", err.msg);
	CHECK(!has_record(rundir, cdev), "the refused take leaves no record");
	CHECK(owned(real, 0, 0, 0600), "the node behind the symlink is untouched");
	unlink(cdev);
	make_node(cdev, 0600);
	CHECK(vsmmu_nodes_release(rundir, dev, NULL, "d", &err) == 0 && owned(cdev, 0, 0, 0600),
	      "a later release changes nothing on the real node (it stays 0600)");

	unlink(file);
	touch(file, 0600);
	CHECK(vsmmu_nodes_take(rundir, dev, "d", file_paths, 1, 1234, 5678, &st, &err) < 0 &&
	      strstr(err.msg, "not a character device"), "a regular file is refused: %s", err.msg);
	CHECK(vsmmu_nodes_take(rundir, dev, "d", out_paths, 1, 1234, 5678, &st, &err) < 0 &&
	      strstr(err.msg, "not inside the device directory"),
	      "a node outside the dev dir is refused: %s", err.msg);
	CHECK(vsmmu_nodes_take(rundir, dev, "d", dotdot_paths, 1, 1234, 5678, &st, &err) < 0,
	      "a path that climbs out with .. is refused");
	CHECK(owned(real, 0, 0, 0600) && owned(file, 0, 0, 0600), "nothing changed");

	/* A record root wrote, naming a node outside the dev dir. */
	planted.node = (struct vsmmu_state_node){ vsmmu_xstrdup(real), 0, 0, 0777 };
	vsmmu_node_ref_add(&planted, "x");
	CHECK(vsmmu_node_ref_write(rundir, &planted, &err) == 0, "record for an outside path");
	CHECK(vsmmu_nodes_release(rundir, dev, NULL, "x", &err) < 0 && strstr(err.msg, real),
	      "release refuses to act on it and says which: %s", err.msg);
	CHECK(owned(real, 0, 0, 0600) && has_record(rundir, real), "node untouched, record kept");
	CHECK(chown(nodes, 65534, 65534) == 0, ".nodes handed to nobody");
	CHECK(vsmmu_nodes_release(rundir, dev, NULL, "x", &err) < 0 &&
	      strstr(err.msg, "owned by uid 65534"), "a .nodes not owned by root is refused: %s",
	      err.msg);
	CHECK(chown(nodes, 0, 0) == 0 && chmod(nodes, 0770) == 0, ".nodes made group-writable");
	CHECK(vsmmu_nodes_release(rundir, dev, NULL, "x", &err) < 0 &&
	      strstr(err.msg, "written by group or others"), "a writable .nodes is refused: %s",
	      err.msg);
	vsmmu_node_ref_clear(&planted);
	free(st.nodes);
}

int main(void)
{
	char tmpl[] = "/tmp/vsmmu-test-prepare.XXXXXX";
	const char *top = mkdtemp(tmpl);
	_cleanup_free_ char *dev = make_dev_tree(top);
	_cleanup_free_ char *rm = vsmmu_xasprintf("rm -rf '%s'", top);

	test_cheap_tests();
	test_qemu_conf_reader();
	test_qemu_conf(top);
	test_ready(dev);
	if (geteuid() == 0) {
		test_nodes(top, dev);
		test_nodes_refused(top, dev);
	} else {
		printf("# node tests skipped: making device nodes needs root\n");
	}
	run_cmd(rm);
	return tap_done();
}
