/* lib/confine: AppArmor, SELinux and none told apart from fake sysfs, /etc
 * and qemu.conf trees laid out like the real ones (Debian 12's libvirt 9.0
 * abstraction includes only local/abstractions/libvirt-qemu; libvirt >= 8
 * upstream includes abstractions/libvirt-qemu.d). */
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "confine.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

struct tree {
	char top[64];
	char *sys, *etc, *qemu_conf, *wrapper;
};

static void tree_init(struct tree *t)
{
	strcpy(t->top, "/tmp/vsmmu-confine-XXXXXX");
	if (!mkdtemp(t->top))
		abort();
	t->sys = vsmmu_xasprintf("%s/sys", t->top);
	t->etc = vsmmu_xasprintf("%s/etc", t->top);
	t->qemu_conf = vsmmu_xasprintf("%s/etc/libvirt/qemu.conf", t->top);
	t->wrapper = vsmmu_xasprintf("%s/vsmmu-qemu", t->top);
	shell("mkdir -p %s/module %s/fs %s/libvirt %s/apparmor.d/abstractions %s/apparmor.d/local/abstractions"
	      " && : >%s", t->sys, t->sys, t->etc, t->etc, t->etc, t->wrapper);
}

static void tree_clear(struct tree *t)
{
	shell("rm -rf %s", t->top);
	free(t->sys);
	free(t->etc);
	free(t->qemu_conf);
	free(t->wrapper);
}

static void apparmor_on(const struct tree *t, const char *value)
{
	shell("mkdir -p %s/module/apparmor/parameters && echo %s >%s/module/apparmor/parameters/enabled",
	      t->sys, value, t->sys);
}

static void selinux_on(const struct tree *t, int enforcing)
{
	shell("mkdir -p %s/fs/selinux && echo %d >%s/fs/selinux/enforce", t->sys, enforcing, t->sys);
}

/* libvirt 9.0's abstraction: includes only the local file. */
static void libvirt9_abstraction(const struct tree *t)
{
	shell("printf '  /dev/kvm rw,\\n  #include <local/abstractions/libvirt-qemu>\\n' "
	      ">%s/apparmor.d/abstractions/libvirt-qemu", t->etc);
}

static void install_rules(const struct tree *t, bool include)
{
	shell("mkdir -p %s/apparmor.d/abstractions/libvirt-qemu.d && : >%s/apparmor.d/abstractions/libvirt-qemu.d/vsmmu"
	      " && : >%s/apparmor.d/abstractions/vsmmu-libvirtd", t->etc, t->etc, t->etc);
	if (include)
		shell("echo 'include if exists <abstractions/libvirt-qemu.d/vsmmu>' >>%s/apparmor.d/local/abstractions/libvirt-qemu"
		      " && echo 'include if exists <abstractions/vsmmu-libvirtd>' >>%s/apparmor.d/local/usr.sbin.libvirtd",
		      t->etc, t->etc);
}

static void detect(const struct tree *t, struct vsmmu_confine *c)
{
	vsmmu_err err;

	if (vsmmu_confine_detect(t->sys, t->etc, t->qemu_conf, c, &err) < 0) {
		CHECK(0, "detect: %s", err.msg);
		abort();
	}
}

static void test_security_driver(void)
{
	char *d;

	CHECK(vsmmu_confine_security_driver("#security_driver = \"selinux\"\n") == NULL,
	      "a commented security_driver is unset");
	d = vsmmu_confine_security_driver("user = \"x\"\nsecurity_driver = \"none\"\n");
	CHECK_STR(d, "none", "a string value");
	free(d);
	d = vsmmu_confine_security_driver("security_driver = [ \"selinux\",\n  \"apparmor\" ]\n");
	CHECK_STR(d, "selinux, apparmor", "a list over two lines");
	free(d);
	d = vsmmu_confine_security_driver("security_driver = \"apparmor\"\nsecurity_driver = \"none\"\n");
	CHECK_STR(d, "none", "the last setting wins");
	free(d);
}

static void test_none(void)
{
	struct tree t;
	struct vsmmu_confine c;

	tree_init(&t);
	detect(&t, &c);
	CHECK(c.lsm == VSMMU_LSM_NONE && !c.apparmor_enabled && !c.selinux_present,
	      "no LSM in sysfs: none");
	CHECK(vsmmu_confine_refusal(&c, t.wrapper, "d") == NULL, "none: the wrapper may run");
	vsmmu_confine_clear(&c);
	apparmor_on(&t, "N");
	detect(&t, &c);
	CHECK(c.lsm == VSMMU_LSM_NONE, "apparmor/parameters/enabled N: none");
	vsmmu_confine_clear(&c);
	apparmor_on(&t, "Y");
	shell("echo 'security_driver = \"none\"' >%s", t.qemu_conf);
	detect(&t, &c);
	CHECK(c.apparmor_enabled && c.lsm == VSMMU_LSM_NONE,
	      "AppArmor enabled but security_driver none: none");
	CHECK_STR(c.security_driver, "none", "security_driver reported");
	vsmmu_confine_clear(&c);
	tree_clear(&t);
}

static void test_apparmor(void)
{
	struct tree t;
	struct vsmmu_confine c;
	char *why;

	tree_init(&t);
	apparmor_on(&t, "Y");
	libvirt9_abstraction(&t);
	detect(&t, &c);
	CHECK(c.lsm == VSMMU_LSM_APPARMOR && !c.aa_domain_rules && !c.aa_daemon_rules,
	      "AppArmor, default driver, no vsmmu rules");
	why = vsmmu_confine_refusal(&c, t.wrapper, "d");
	CHECK(why && strstr(why, "AppArmor confines libvirt's QEMU") &&
	      strstr(why, "abstractions/libvirt-qemu.d/vsmmu") && strstr(why, "'Confined hosts'"),
	      "refused with the rules file and where INSTALL says more");
	free(why);
	vsmmu_confine_clear(&c);

	install_rules(&t, false);
	detect(&t, &c);
	CHECK(!c.aa_domain_rules && !c.aa_daemon_rules,
	      "rules files present but not included: not installed");
	vsmmu_confine_clear(&c);

	install_rules(&t, true);
	detect(&t, &c);
	CHECK(c.aa_domain_rules && c.aa_daemon_rules, "included from the local files: installed");
	CHECK(vsmmu_confine_refusal(&c, t.wrapper, "d") == NULL, "installed: the wrapper may run");
	vsmmu_confine_clear(&c);

	shell("sed -i 's/^include/# include/' %s/apparmor.d/local/abstractions/libvirt-qemu", t.etc);
	detect(&t, &c);
	CHECK(!c.aa_domain_rules, "a commented-out include does not count");
	vsmmu_confine_clear(&c);

	/* libvirt >= 8 upstream: the abstraction includes the .d directory. */
	shell("echo '  include if exists <abstractions/libvirt-qemu.d>' >%s/apparmor.d/abstractions/libvirt-qemu",
	      t.etc);
	detect(&t, &c);
	CHECK(c.aa_domain_rules, "libvirt-qemu.d included by libvirt's abstraction: installed");
	vsmmu_confine_clear(&c);
	tree_clear(&t);
}

static void test_selinux(void)
{
	struct tree t;
	struct vsmmu_confine c;
	char *why, *type;
	static const char label[] = "system_u:object_r:qemu_exec_t:s0";

	tree_init(&t);
	apparmor_on(&t, "Y");
	selinux_on(&t, 0);
	detect(&t, &c);
	CHECK(c.lsm == VSMMU_LSM_SELINUX && !c.selinux_enforcing,
	      "SELinux present wins over AppArmor by default (libvirt probes it first)");
	CHECK(vsmmu_confine_refusal(&c, t.wrapper, "d") == NULL, "permissive: not refused");
	vsmmu_confine_clear(&c);

	selinux_on(&t, 1);
	detect(&t, &c);
	CHECK(c.lsm == VSMMU_LSM_SELINUX && c.selinux_enforcing, "enforcing SELinux");
	why = vsmmu_confine_refusal(&c, t.wrapper, "dom1");
	CHECK(why && strstr(why, "SELinux is enforcing") && strstr(why, "not labelled") &&
	      strstr(why, "vsmmuctl apply --native dom1") &&
	      strstr(why, "semanage fcontext -a -t qemu_exec_t"),
	      "enforcing, unlabelled wrapper: refused with the native form and the policy");
	free(why);

	if (setxattr(t.wrapper, "security.selinux", label, sizeof(label), 0) == 0) {
		type = vsmmu_selinux_file_type(t.wrapper);
		CHECK_STR(type, "qemu_exec_t", "the type field of the label");
		free(type);
		CHECK(vsmmu_confine_refusal(&c, t.wrapper, "d") == NULL,
		      "a wrapper labelled qemu_exec_t: the admin's policy is in place");
	} else {
		printf("# skipped: setting security.selinux needs root on a filesystem with xattrs\n");
	}
	vsmmu_confine_clear(&c);

	shell("echo 'security_driver = \"apparmor\"' >%s", t.qemu_conf);
	detect(&t, &c);
	CHECK(c.lsm == VSMMU_LSM_APPARMOR, "security_driver apparmor picks AppArmor over SELinux");
	vsmmu_confine_clear(&c);
	tree_clear(&t);
}

static int report(const struct tree *t, const char *qemu, char **detail, char **remedy)
{
	struct vsmmu_confine c;
	int status;

	detect(t, &c);
	status = vsmmu_confine_report(&c, t->wrapper, qemu, detail, remedy);
	vsmmu_confine_clear(&c);
	return status;
}

static void test_report(void)
{
	struct tree t;
	char *detail, *remedy;

	tree_init(&t);
	CHECK_INT(report(&t, "/usr/bin/qemu-system-aarch64", &detail, &remedy), 0, "none: PASS");
	CHECK(strstr(detail, "AppArmor not enabled, SELinux absent") && !remedy,
	      "none: the state in the detail, no remedy");
	free(detail);
	apparmor_on(&t, "Y");
	libvirt9_abstraction(&t);
	CHECK_INT(report(&t, "/usr/bin/qemu-system-aarch64", &detail, &remedy), 2,
		  "AppArmor without vsmmu's rules: FAIL");
	CHECK(strstr(detail, "cannot start") && strstr(remedy, "apparmor_parser -r"),
	      "the FAIL says what to do");
	free(detail);
	free(remedy);
	install_rules(&t, true);
	CHECK_INT(report(&t, "/usr/bin/qemu-system-aarch64", &detail, &remedy), 0,
		  "AppArmor with the rules: PASS");
	free(detail);
	CHECK_INT(report(&t, "/usr/local/bin/qemu-system-aarch64", &detail, &remedy), 1,
		  "a QEMU outside libvirt's abstraction: WARN");
	CHECK_STR(remedy, "add the line '  \"/usr/local/bin/qemu-system-aarch64\" rmix,' to "
		  "/etc/apparmor.d/local/abstractions/libvirt-qemu", "with the rule to add");
	free(detail);
	free(remedy);
	selinux_on(&t, 1);
	CHECK_INT(report(&t, "/usr/bin/qemu-system-aarch64", &detail, &remedy), 2,
		  "enforcing SELinux, unlabelled wrapper: FAIL");
	CHECK(strstr(detail, "SELinux enforcing") && strstr(remedy, "--native"),
	      "told apart from AppArmor, with the native form");
	free(detail);
	free(remedy);
	tree_clear(&t);
}

int main(void)
{
	test_security_driver();
	test_none();
	test_apparmor();
	test_selinux();
	test_report();
	return tap_done();
}
