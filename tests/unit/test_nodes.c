/* Device node ownership: the QEMU user and group, nodes taken and given
 * back with holder counts across domains, and what a node or a record must
 * be before vsmmu acts on it (root: it makes device nodes). */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakedev.h"
#include "ledger.h"
#include "nodes.h"
#include "tap.h"
#include "util.h"

/* Who QEMU runs as: vsmmu.conf, else libvirt's qemu.conf. */
static void test_qemu_ids(const char *top)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/qemu.conf", top);
	_cleanup_free_ char *cmd = vsmmu_xasprintf("printf 'user = \"+42\"\\ngroup = \"+43\"\\n' > %s",
						   path);
	struct vsmmu_conf conf = { .libvirt_qemu_conf = path };
	uid_t uid = 0;
	gid_t gid = 0;
	vsmmu_err err;

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

/* Present is about the entry, exists about what it leads to. */
static void test_present(const char *top)
{
	_cleanup_free_ char *dangling = vsmmu_xasprintf("%s/dangling", top);
	_cleanup_free_ char *missing = vsmmu_xasprintf("%s/missing", top);

	CHECK(symlink(missing, dangling) == 0, "a dangling symlink planted");
	CHECK(vsmmu_node_present(dangling) && !vsmmu_path_exists(dangling),
	      "a dangling symlink is a present node (take refuses it) but no existing path");
	CHECK(!vsmmu_node_present(missing) && !vsmmu_path_exists(missing), "a missing path is neither");
	CHECK(vsmmu_node_present(top) && vsmmu_path_exists(top), "a directory is both");
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
	char tmpl[] = "/tmp/vsmmu-test-nodes.XXXXXX";
	const char *top = mkdtemp(tmpl);
	_cleanup_free_ char *dev = make_dev_tree(top);
	_cleanup_free_ char *rm = vsmmu_xasprintf("rm -rf '%s'", top);

	test_qemu_ids(top);
	test_present(top);
	if (geteuid() == 0) {
		test_nodes(top, dev);
		test_nodes_refused(top, dev);
	} else {
		printf("# node tests skipped: making device nodes needs root\n");
	}
	run_cmd(rm);
	return tap_done();
}
