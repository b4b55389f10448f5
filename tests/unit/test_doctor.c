/* vsmmuctl doctor's checks against fake trees: sysfs from tests/fixtures/
 * mkhost, /dev, /etc, /proc and stand-in QEMU scripts made here. Every check
 * is driven to each of its outcomes. */
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "fakehost.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

#define P VSMMU_DOCTOR_PASS
#define W VSMMU_DOCTOR_WARN
#define F VSMMU_DOCTOR_FAIL

/* A scratch tree: <top>/{sys,dev,etc,proc,run}, and a context on it. */
struct tree {
	char *top;
	struct vsmmu_doctor_ctx ctx;
};

static void tree_free(struct tree *t)
{
	if (t->top)
		shell("chmod -R u+rwx '%s'; rm -rf '%s'", t->top, t->top);
	free(t->top);
	vsmmu_doctor_ctx_clear(&t->ctx);
}
#define _cleanup_tree_ __attribute__((cleanup(tree_free)))

static char *at(const struct tree *t, const char *rel)
{
	return vsmmu_xasprintf("%s/%s", t->top, rel);
}

/* kind: a mkhost kind, or NULL for an empty sysfs. */
static struct tree make_tree(const char *kind)
{
	const char *src = getenv("VSMMU_SRCDIR") ? getenv("VSMMU_SRCDIR") : ".";
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct tree t = { .top = vsmmu_xasprintf("%s/vsmmu-test-doctor-XXXXXX", tmp) };

	if (!mkdtemp(t.top))
		abort();
	shell("mkdir -p '%s/dev' '%s/etc/libvirt/hooks/qemu.d' '%s/proc' '%s/run' '%s/libexec'",
	      t.top, t.top, t.top, t.top, t.top);
	if (kind)
		shell("sh '%s/tests/fixtures/mkhost' %s '%s/sys' >/dev/null", src, kind, t.top);
	else
		shell("mkdir -p '%s/sys/class/iommu' '%s/sys/bus/pci/devices'", t.top, t.top);
	t.ctx.conf.sysfs = at(&t, "sys");
	t.ctx.conf.dev = at(&t, "dev");
	t.ctx.etc = at(&t, "etc");
	t.ctx.proc = at(&t, "proc");
	t.ctx.conf.rundir = at(&t, "run");
	t.ctx.wrapper = at(&t, "libexec/vsmmu-qemu");
	t.ctx.emulator = at(&t, "usr/bin/qemu-system-aarch64");
	t.ctx.conf.qemu = at(&t, "qemu");
	t.ctx.conf.libvirt_qemu_conf = at(&t, "etc/libvirt/qemu.conf");
	t.ctx.conf.qemu_user = vsmmu_xstrdup("+0");
	t.ctx.conf.qemu_group = vsmmu_xstrdup("+0");
	return t;
}

static void put(const struct tree *t, const char *rel, const char *text, mode_t mode)
{
	_cleanup_free_ char *path = at(t, rel);
	_cleanup_fclose_ FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fputs(text, f);
	fchmod(fileno(f), mode);
}

static void set_mtime(const struct tree *t, const char *rel, time_t when)
{
	_cleanup_free_ char *path = at(t, rel);
	const struct timespec ts[2] = { { .tv_sec = when }, { .tv_sec = when } };

	utimensat(AT_FDCWD, path, ts, 0);
}

/* Run a check into r, compare its status, print detail and remedy. */
#define EXPECT(res, want, what)                                                          \
	do {                                                                             \
		_cleanup_doctor_result_ struct vsmmu_doctor_result r_ = (res);           \
		CHECK_INT(r_.status, want, "%s: %s", what,                               \
			  vsmmu_doctor_status_name(want));                               \
		printf("#   %s | %s\n", r_.detail ? r_.detail : "-",                     \
		       r_.remedy ? r_.remedy : "-");                                    \
		CHECK((want == P) == (r_.remedy == NULL), "%s: remedy iff not PASS", what); \
	} while (0)

/* As EXPECT, and the detail or remedy contains needle. */
static void expect_text(struct vsmmu_doctor_result res, enum vsmmu_doctor_status want,
			const char *needle, const char *what)
{
	_cleanup_doctor_result_ struct vsmmu_doctor_result r = res;
	bool found = (r.detail && strstr(r.detail, needle)) || (r.remedy && strstr(r.remedy, needle));

	CHECK_INT(r.status, want, "%s: %s", what, vsmmu_doctor_status_name(want));
	if (!CHECK(found, "%s: says '%s'", what, needle))
		printf("#   %s | %s\n", r.detail ? r.detail : "-", r.remedy ? r.remedy : "-");
}

static const struct vsmmu_pcidev *dev_of(const struct vsmmu_host *h, const char *bdf)
{
	struct vsmmu_pci_addr a = { 0 };

	vsmmu_pci_addr_parse(bdf, &a);
	return vsmmu_host_find_dev(h, &a);
}

static void test_smmus(void)
{
	_cleanup_tree_ struct tree t = make_tree("grace");
	_cleanup_host_ struct vsmmu_host *host = NULL, *none = fake_host(NULL, NULL, 0, NULL, 0);
	vsmmu_err err;

	CHECK(vsmmu_host_scan(t.ctx.conf.sysfs, &host, &err) == 0, "grace tree scans");
	expect_text(vsmmu_doctor_smmus(&t.ctx, host, NULL), P, "10 found", "smmus on grace");
	expect_text(vsmmu_doctor_smmus(&t.ctx, none, NULL), F, "class/iommu", "no smmus");
	expect_text(vsmmu_doctor_smmus(&t.ctx, NULL, "no such directory"), F,
		    "no such directory", "sysfs scan failed");
}

static void test_iommufd(void)
{
	_cleanup_tree_ struct tree t = make_tree(NULL);

	EXPECT(vsmmu_doctor_iommufd(&t.ctx), W, "iommufd absent");
	put(&t, "dev/iommu", "", 0600);
	EXPECT(vsmmu_doctor_iommufd(&t.ctx), P, "iommufd present");
}

static void test_vfio_cdev(void)
{
	_cleanup_tree_ struct tree g = make_tree("grace");
	_cleanup_tree_ struct tree e = make_tree(NULL);
	static const char *const smmus[] = { "smmu3.0x0000000011000000" };
	static const struct fake_dev devs[] = { { "0000:01:00.0", 0, 0 } };
	_cleanup_host_ struct vsmmu_host *host = NULL, *nocdev = fake_host(smmus, NULL, 1, devs, 1);
	_cleanup_host_ struct vsmmu_host *empty = fake_host(smmus, NULL, 1, NULL, 0);
	vsmmu_err err;

	vsmmu_host_scan(g.ctx.conf.sysfs, &host, &err);
	expect_text(vsmmu_doctor_vfio_cdev(&g.ctx, host), P, "5 of 5", "cdevs on grace");
	expect_text(vsmmu_doctor_vfio_cdev(&e.ctx, nocdev), W, "CONFIG_VFIO_DEVICE_CDEV",
		    "vfio-pci devices without cdevs");
	expect_text(vsmmu_doctor_vfio_cdev(&e.ctx, empty), W, "cannot tell", "no vfio devices");
	shell("mkdir -p '%s/sys/class/vfio-dev/vfio7' && echo 511:7 > "
	      "'%s/sys/class/vfio-dev/vfio7/dev'", e.top, e.top);
	EXPECT(vsmmu_doctor_vfio_cdev(&e.ctx, empty), P, "class/vfio-dev holds a cdev");
}

static void test_vfio_device(void)
{
	_cleanup_tree_ struct tree g = make_tree("grace");
	_cleanup_tree_ struct tree o = make_tree("other-iommu");
	static const char *const smmus[] = { "smmu3.0x0000000011000000" };
	static const struct fake_dev devs[] = { { "0000:01:00.0", 0, 0 },
						{ "0000:02:00.0", -1, 0 } };
	_cleanup_host_ struct vsmmu_host *grace = NULL, *other = NULL;
	_cleanup_host_ struct vsmmu_host *fake = fake_host(smmus, NULL, 1, devs, 2);
	const struct vsmmu_pcidev *gpu;
	vsmmu_err err;

	vsmmu_host_scan(g.ctx.conf.sysfs, &grace, &err);
	vsmmu_host_scan(o.ctx.conf.sysfs, &other, &err);
	gpu = dev_of(grace, "0009:01:00.0");
	expect_text(vsmmu_doctor_vfio_device(&g.ctx, grace, gpu), W, "/vfio/devices/vfio0",
		    "cdev in sysfs, no node");
	shell("mkdir -p '%s/dev/vfio/devices' && touch '%s/dev/vfio/devices/vfio0'", g.top, g.top);
	expect_text(vsmmu_doctor_vfio_device(&g.ctx, grace, gpu), P,
		    "smmu3.0x0000000016000000", "device with cdev and node");
	expect_text(vsmmu_doctor_vfio_device(&g.ctx, fake, &fake->devs[0]), W, "vfio-dev/",
		    "device without a cdev");
	expect_text(vsmmu_doctor_vfio_device(&g.ctx, fake, &fake->devs[1]), F, "no iommu link",
		    "device without an iommu");
	expect_text(vsmmu_doctor_vfio_device(&o.ctx, other, dev_of(other, "0000:02:00.0")), F,
		    "smmu.0x00000000e0a00000", "device behind an SMMUv2");
}

/* <proc>/stat boots at 1000; pid 4242 is comm, started start_s after boot. */
static void fake_daemon(const struct tree *t, const char *comm, long start_s)
{
	_cleanup_free_ char *stat = vsmmu_xasprintf(
		"4242 (%s) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 17 0 %ld 1 2 3\n",
		comm, start_s * sysconf(_SC_CLK_TCK));
	_cleanup_free_ char *line = vsmmu_xasprintf("%s\n", comm);

	shell("mkdir -p '%s/proc/4242'", t->top);
	put(t, "proc/stat", "cpu 1 2 3\nbtime 1000\nprocesses 5\n", 0644);
	put(t, "proc/4242/comm", line, 0644);
	put(t, "proc/4242/stat", stat, 0644);
}

static void test_hook(void)
{
	_cleanup_tree_ struct tree t = make_tree(NULL);
	_cleanup_tree_ struct tree m = make_tree(NULL);

	expect_text(vsmmu_doctor_hook(&t.ctx), F, "make install", "no hook");
	put(&t, "etc/libvirt/hooks/qemu.d/vsmmu", "#!/bin/sh\n", 0644);
	expect_text(vsmmu_doctor_hook(&t.ctx), F, "chmod 0755", "hook not executable");
	put(&t, "etc/libvirt/hooks/qemu.d/vsmmu", "#!/bin/sh\n", 0755);
	expect_text(vsmmu_doctor_hook(&t.ctx), P, "no libvirt daemon", "hook, no daemon");
	set_mtime(&t, "etc/libvirt/hooks/qemu.d/vsmmu", 1050);
	fake_daemon(&t, "libvirtd", 100);
	expect_text(vsmmu_doctor_hook(&t.ctx), P, "libvirtd (pid 4242)", "daemon newer than hook");
	fake_daemon(&t, "virtqemud", 10);
	expect_text(vsmmu_doctor_hook(&t.ctx), W, "restart libvirtd", "hook newer than daemon");
	fake_daemon(&t, "sshd", 10);
	EXPECT(vsmmu_doctor_hook(&t.ctx), P, "another process is no libvirt daemon");

	put(&m, "etc/libvirt/hooks/qemu", "#!/bin/sh\necho someone else's hook\n", 0755);
	EXPECT(vsmmu_doctor_hook(&m.ctx), F, "a foreign hooks/qemu");
	put(&m, "etc/libvirt/hooks/qemu", "#!/bin/sh\nexec /usr/libexec/vsmmu-hook \"$@\"\n", 0755);
	expect_text(vsmmu_doctor_hook(&m.ctx), P, "hooks/qemu", "our hook as hooks/qemu");
}

static void set_user(struct tree *t, const char *user, const char *group)
{
	free(t->ctx.conf.qemu_user);
	free(t->ctx.conf.qemu_group);
	t->ctx.conf.qemu_user = vsmmu_xstrdup(user);
	t->ctx.conf.qemu_group = vsmmu_xstrdup(group);
}

static void test_wrapper(void)
{
	_cleanup_tree_ struct tree t = make_tree(NULL);
	_cleanup_free_ char *libexec = at(&t, "libexec");
	/* A user and group other than the test's own, and the group of the
	 * files the test creates (0 as root; the caller's otherwise, e.g. in
	 * a package build as an ordinary user). */
	_cleanup_free_ char *other_uid = vsmmu_xasprintf("+%u", getuid() == 65534 ? 65533u : 65534u);
	_cleanup_free_ char *other_gid = vsmmu_xasprintf("+%u", getgid() == 65534 ? 65533u : 65534u);
	_cleanup_free_ char *own_gid = vsmmu_xasprintf("+%u", (unsigned)getgid());

	expect_text(vsmmu_doctor_wrapper(&t.ctx), F, "make install", "no wrapper");
	put(&t, "libexec/vsmmu-qemu", "#!/bin/sh\n", 0755);
	chmod(t.top, 0755);
	EXPECT(vsmmu_doctor_wrapper(&t.ctx), P, "wrapper 0755, root");
	set_user(&t, other_uid, other_gid);
	EXPECT(vsmmu_doctor_wrapper(&t.ctx), P, "wrapper 0755, another user");
	put(&t, "libexec/vsmmu-qemu", "#!/bin/sh\n", 0750);
	expect_text(vsmmu_doctor_wrapper(&t.ctx), F, "cannot execute", "wrapper 0750, other user");
	set_user(&t, other_uid, own_gid);
	EXPECT(vsmmu_doctor_wrapper(&t.ctx), P, "wrapper 0750, user in its group");
	set_user(&t, other_uid, other_gid);
	put(&t, "libexec/vsmmu-qemu", "#!/bin/sh\n", 0755);
	chmod(libexec, 0700);
	expect_text(vsmmu_doctor_wrapper(&t.ctx), F, "cannot search", "directory not searchable");
	chmod(libexec, 0755);
	set_user(&t, "no-such-user-vsmmu", "+0");
	expect_text(vsmmu_doctor_wrapper(&t.ctx), F, "no-such-user-vsmmu", "unknown QEMU user");
}

/* manage = hostdevs needs the wrapper where libvirt finds its default QEMU. */
static void test_policy(void)
{
	_cleanup_tree_ struct tree t = make_tree(NULL);
	_cleanup_free_ char *real = at(&t, "usr/bin/qemu-system-aarch64.real");

	expect_text(vsmmu_doctor_policy(&t.ctx), P, "manage = marked", "the default policy");
	t.ctx.conf.manage = VSMMU_MANAGE_HOSTDEVS;
	put(&t, "libexec/vsmmu-qemu", "#!/bin/sh\n", 0755);
	shell("mkdir -p '%s/usr/bin'", t.top);
	put(&t, "usr/bin/qemu-system-aarch64", "#!/bin/sh\n", 0755);
	expect_text(vsmmu_doctor_policy(&t.ctx), F, "start without their vSMMUs",
		    "hostdevs, QEMU itself at the default path");
	expect_text(vsmmu_doctor_policy(&t.ctx), F, "vsmmuctl emulator install",
		    "hostdevs, the remedy");
	shell("cd '%s/usr/bin' && mv qemu-system-aarch64 qemu-system-aarch64.real && "
	      "ln -s ../../libexec/vsmmu-qemu qemu-system-aarch64", t.top);
	free(t.ctx.conf.qemu);
	t.ctx.conf.qemu = vsmmu_xstrdup(t.ctx.emulator);
	expect_text(vsmmu_doctor_policy(&t.ctx), F, "is the wrapper itself",
		    "hostdevs, qemu = still the default path: the wrapper");
	free(t.ctx.conf.qemu);
	t.ctx.conf.qemu = vsmmu_xstrdup(real);
	expect_text(vsmmu_doctor_policy(&t.ctx), P, "manage = hostdevs",
		    "hostdevs, wrapper installed, qemu = the diverted QEMU");
}

static void standin(const struct tree *t, const char *version, const char *props)
{
	_cleanup_free_ char *script = vsmmu_xasprintf(
		"#!/bin/sh\n"
		"if [ \"$1\" = -version ]; then echo 'QEMU emulator version %s'; exit 0; fi\n"
		"printf 'arm-smmuv3 options:\\n%s'\n", version, props);

	put(t, "qemu", script, 0755);
}

static void test_qemu(void)
{
	_cleanup_tree_ struct tree t = make_tree(NULL);

	expect_text(vsmmu_doctor_qemu(&t.ctx), F, "qemu", "no QEMU");
	standin(&t, "11.1.0", "  accel=<bool>\\n  primary-bus=<link<PCI>>\\n");
	expect_text(vsmmu_doctor_qemu(&t.ctx), P, "11.1.0", "QEMU 11.1");
	standin(&t, "10.2.1", "  primary-bus=<link<PCI>>\\n");
	expect_text(vsmmu_doctor_qemu(&t.ctx), W, "emulated vSMMUs only", "QEMU 10.2");
	standin(&t, "7.2.22", "  bus_num=<uint8>\\n");
	expect_text(vsmmu_doctor_qemu(&t.ctx), F, "7.2.22", "QEMU 7.2");
	put(&t, "qemu", "#!/bin/sh\necho not a qemu\n", 0755);
	expect_text(vsmmu_doctor_qemu(&t.ctx), F, "is it a QEMU binary", "not a QEMU");
}

static void test_qemu_conf(void)
{
	_cleanup_tree_ struct tree t = make_tree("virt-dt");
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_free_ char *full = NULL;
	vsmmu_err err;

	vsmmu_host_scan(t.ctx.conf.sysfs, &host, &err);
	t.ctx.libvirt_version = 12001000;
	expect_text(vsmmu_doctor_qemu_conf(&t.ctx, host), P, "libvirt 12.1", "libvirt 12.1");
	t.ctx.libvirt_version = 9000000;
	expect_text(vsmmu_doctor_qemu_conf(&t.ctx, host), W, "\"/dev/kvm\"",
		    "no qemu.conf, no /dev/iommu");
	put(&t, "dev/iommu", "", 0600);
	expect_text(vsmmu_doctor_qemu_conf(&t.ctx, host), F, "/vfio/devices/vfio0\" ]",
		    "no qemu.conf, /dev/iommu present");
	put(&t, "etc/libvirt/qemu.conf", "user = \"+0\"\ncgroup_device_acl = [ \"/dev/null\",\n"
	    "  \"/dev/kvm\" ]\n", 0644);
	expect_text(vsmmu_doctor_qemu_conf(&t.ctx, host), F, "[ \"/dev/null\", \"/dev/kvm\", \"",
		    "acl set without the nodes: keep its entries");
	full = vsmmu_xasprintf("# cgroup_device_acl = [ \"/dev/null\" ]\n"
			       "cgroup_device_acl = [\n  \"/dev/null\", # the null device\n"
			       "  \"%s/iommu\",\n  \"%s/vfio/devices/vfio0\"\n]\n"
			       "#cgroup_device_acl = [ ]\n", t.ctx.conf.dev, t.ctx.conf.dev);
	put(&t, "etc/libvirt/qemu.conf", full, 0644);
	EXPECT(vsmmu_doctor_qemu_conf(&t.ctx, host), P, "acl lists every node, with comments");
	put(&t, "etc/libvirt/qemu.conf", "namespaces = [ ]\n", 0644);
	expect_text(vsmmu_doctor_qemu_conf(&t.ctx, host), F, "namespaces = [] is not enough",
		    "namespaces off, devices cgroup on");
	put(&t, "etc/libvirt/qemu.conf", "namespaces = []\ncgroup_controllers = [ \"cpu\" ]\n",
	    0644);
	EXPECT(vsmmu_doctor_qemu_conf(&t.ctx, host), P, "namespaces and devices cgroup off");
	put(&t, "etc/libvirt/qemu.conf", "cgroup_device_acl = [ \"/dev/null\"\n", 0644);
	EXPECT(vsmmu_doctor_qemu_conf(&t.ctx, host), F, "unterminated list counts as unset");
}

static void test_run_and_json(void)
{
	_cleanup_tree_ struct tree t = make_tree("kunpeng");
	_cleanup_doctor_report_ struct vsmmu_doctor_report r = { 0 };
	_cleanup_free_ char *text = NULL;
	json_auto_t *arr = NULL;
	json_error_t jerr;
	size_t n_dev = 0;

	vsmmu_doctor_run(&t.ctx, &r);
	for (size_t i = 0; i < r.n; i++)
		n_dev += vsmmu_has_prefix(r.results[i].name, "vfio-pci device ");
	/* 0000:76:00.1 on hisi_acc_vfio_pci, a variant driver, is counted too. */
	CHECK_INT(n_dev, 6, "kunpeng: one line per vfio-pci (or variant) device");
	CHECK_INT(r.n, 9 + 6, "kunpeng: nine checks plus the devices");
	CHECK_STR(r.results[r.n - 1].name, "QEMU confinement (AppArmor, SELinux)",
		  "kunpeng: confinement is the last check");
	CHECK_INT(vsmmu_doctor_worst(&r), F, "kunpeng without hook: worst is FAIL");
	text = vsmmu_doctor_to_json(&r);
	arr = json_loads(text, 0, &jerr);
	CHECK(json_is_array(arr) && json_array_size(arr) == r.n, "json: one object per check");
	CHECK_STR(json_string_value(json_object_get(json_array_get(arr, 0), "check")),
		  "SMMUv3 instances", "json: first check");
	CHECK_STR(json_string_value(json_object_get(json_array_get(arr, 0), "status")), "PASS",
		  "json: status name");
	CHECK(json_is_null(json_object_get(json_array_get(arr, 0), "remedy")),
	      "json: no remedy for PASS");
}

static void test_ctx_load(void)
{
	struct vsmmu_doctor_ctx ctx;
	vsmmu_err err;

	setenv("VSMMU_CONF", "/nonexistent/vsmmu.conf", 1);
	setenv("VSMMU_ETC", "/fake/etc", 1);
	setenv("VSMMU_PROC", "/fake/proc", 1);
	unsetenv("VSMMU_WRAPPER");
	CHECK(vsmmu_doctor_ctx_load(&ctx, "/fake/sys", &err) == 0, "ctx loads without vsmmu.conf");
	CHECK_STR(ctx.conf.sysfs, "/fake/sys", "ctx: sysfs from the caller");
	CHECK_STR(ctx.conf.libvirt_qemu_conf, "/fake/etc/libvirt/qemu.conf", "ctx: qemu.conf under VSMMU_ETC");
	CHECK_STR(ctx.proc, "/fake/proc", "ctx: VSMMU_PROC");
	CHECK_STR(ctx.wrapper, VSMMU_LIBEXECDIR "/vsmmu-qemu", "ctx: default wrapper");
	vsmmu_doctor_ctx_clear(&ctx);
}

int main(void)
{
	test_smmus();
	test_iommufd();
	test_vfio_cdev();
	test_vfio_device();
	test_hook();
	test_wrapper();
	test_policy();
	test_qemu();
	test_qemu_conf();
	test_run_and_json();
	test_ctx_load();
	return tap_done();
}
