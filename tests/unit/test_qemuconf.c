/* libvirt's qemu.conf read the way libvirt reads it (lib/conf/qemuconf.h):
 * strings, lists across lines, comments, the last setting winning, and
 * the string list the reader fills. */
#include <stdlib.h>
#include <string.h>

#include "qemuconf.h"
#include "tap.h"
#include "util.h"

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

static void test_qemu_conf_values(void)
{
	static const char text[] = "# user = \"root\"\n#group = \"root\"\nuser = \"qemu\"\n"
				   "  group=\"+107\"\nuser_ns = \"x\"\n";
	_cleanup_free_ char *user = vsmmu_qemu_conf_value(text, "user");
	_cleanup_free_ char *group = vsmmu_qemu_conf_value(text, "group");
	_cleanup_free_ char *none = vsmmu_qemu_conf_value("# only comments\n", "user");

	CHECK_STR(user, "qemu", "user read, comments ignored");
	CHECK_STR(group, "+107", "group read with odd spacing");
	CHECK(none == NULL, "no setting: NULL");
}

int main(void)
{
	test_qemu_conf_reader();
	test_qemu_conf_values();
	return tap_done();
}
