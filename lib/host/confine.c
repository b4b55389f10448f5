#include "confine.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "qemuconf.h"
#include "util.h"

#define AA_FILE_MAX (1u << 20)
#define AA_DIR "apparmor.d"
#define AA_DOMAIN_RULES "abstractions/libvirt-qemu.d/vsmmu"
#define AA_DAEMON_RULES "abstractions/vsmmu-libvirtd"
#define LABEL_MAX 256

const char *vsmmu_lsm_name(enum vsmmu_lsm lsm)
{
	return lsm == VSMMU_LSM_APPARMOR ? "AppArmor" : lsm == VSMMU_LSM_SELINUX ? "SELinux" : "none";
}

void vsmmu_confine_clear(struct vsmmu_confine *c)
{
	free(c->security_driver);
	free(c->aa_rules_path);
	*c = (struct vsmmu_confine){ 0 };
}

/* ---- sysfs ---- */

static bool attr_is(const char *sysfs, const char *rel, const char *want)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/%s", sysfs, rel);
	_cleanup_free_ char *value = NULL;
	vsmmu_err ignored;

	return vsmmu_read_attr(path, &value, &ignored) == 0 && strcmp(value, want) == 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- qemu.conf ---- */

char *vsmmu_confine_security_driver(const char *text)
{
	_cleanup_strlist_ struct vsmmu_strlist l = { 0 };

	return vsmmu_qemu_conf_list(text, "security_driver", &l) == 1 ? vsmmu_strlist_join(&l)
								     : NULL;
}

static bool driver_has(const char *driver, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = driver; p && (p = strstr(p, name)) != NULL; p += len)
		if ((p == driver || p[-1] == ' ') && (p[len] == '\0' || p[len] == ','))
			return true;
	return false;
}

static enum vsmmu_lsm pick_lsm(const struct vsmmu_confine *c)
{
	const char *d = c->security_driver;

	if (!d) /* libvirt probes SELinux first, then AppArmor */
		return c->selinux_present ? VSMMU_LSM_SELINUX
		     : c->apparmor_enabled ? VSMMU_LSM_APPARMOR : VSMMU_LSM_NONE;
	if (driver_has(d, "selinux") && c->selinux_present)
		return VSMMU_LSM_SELINUX;
	if (driver_has(d, "apparmor") && c->apparmor_enabled)
		return VSMMU_LSM_APPARMOR;
	return VSMMU_LSM_NONE;
}

/* ---- AppArmor files ---- */

/* Does the AppArmor file at path include <target>, in any of the forms
 * "#include <t>", "include <t>", "[#]include if exists <t>"? A line that
 * starts with '#' otherwise is a comment. */
static bool aa_includes(const char *path, const char *target)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *want = vsmmu_xasprintf("<%s>", target);
	vsmmu_err ignored;

	if (vsmmu_read_file(path, AA_FILE_MAX, &text, NULL, &ignored) < 0)
		return false;
	for (char *line = text; line && *line; line = strchr(line, '\n')) {
		line += *line == '\n';
		line += strspn(line, " \t");
		if (*line == '#' && !vsmmu_has_prefix(line, "#include"))
			continue;
		line += *line == '#';
		if (!vsmmu_has_prefix(line, "include"))
			continue;
		line += strlen("include");
		line += strspn(line, " \t");
		if (vsmmu_has_prefix(line, "if exists"))
			line += strlen("if exists") + strspn(line + strlen("if exists"), " \t");
		if (vsmmu_has_prefix(line, want))
			return true;
	}
	return false;
}

static bool aa_domain_rules(const char *aa)
{
	_cleanup_free_ char *rules = vsmmu_xasprintf("%s/" AA_DOMAIN_RULES, aa);
	_cleanup_free_ char *libvirt = vsmmu_xasprintf("%s/abstractions/libvirt-qemu", aa);
	_cleanup_free_ char *local = vsmmu_xasprintf("%s/local/abstractions/libvirt-qemu", aa);

	if (!exists(rules))
		return false;
	return aa_includes(libvirt, "abstractions/libvirt-qemu.d") ||
	       (aa_includes(libvirt, "local/abstractions/libvirt-qemu") &&
		aa_includes(local, AA_DOMAIN_RULES));
}

static bool aa_daemon_rules(const char *aa)
{
	_cleanup_free_ char *rules = vsmmu_xasprintf("%s/" AA_DAEMON_RULES, aa);
	_cleanup_free_ char *libvirtd = vsmmu_xasprintf("%s/local/usr.sbin.libvirtd", aa);
	_cleanup_free_ char *virtqemud = vsmmu_xasprintf("%s/local/usr.sbin.virtqemud", aa);

	return exists(rules) &&
	       (aa_includes(libvirtd, AA_DAEMON_RULES) || aa_includes(virtqemud, AA_DAEMON_RULES));
}

int vsmmu_confine_detect(const char *sysfs, const char *etc, const char *qemu_conf,
			 struct vsmmu_confine *out, vsmmu_err *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *aa = vsmmu_xasprintf("%s/" AA_DIR, etc);
	_cleanup_free_ char *enforce = vsmmu_xasprintf("%s/fs/selinux/enforce", sysfs);

	*out = (struct vsmmu_confine){ 0 };
	if (vsmmu_read_file(qemu_conf, VSMMU_QEMU_CONF_MAX, &text, NULL, err) < 0 && err->kind != VSMMU_ERR_ABSENT)
		return -1;
	out->apparmor_enabled = attr_is(sysfs, "module/apparmor/parameters/enabled", "Y");
	out->selinux_present = exists(enforce);
	out->selinux_enforcing = attr_is(sysfs, "fs/selinux/enforce", "1");
	out->security_driver = text ? vsmmu_confine_security_driver(text) : NULL;
	out->lsm = pick_lsm(out);
	out->aa_domain_rules = aa_domain_rules(aa);
	out->aa_daemon_rules = aa_daemon_rules(aa);
	out->aa_rules_path = vsmmu_xasprintf("%s/" AA_DOMAIN_RULES, aa);
	return 0;
}

/* ---- SELinux labels ---- */

char *vsmmu_selinux_file_type(const char *path)
{
	char label[LABEL_MAX];
	ssize_t n = getxattr(path, "security.selinux", label, sizeof(label) - 1);
	char *type, *end;

	if (n <= 0)
		return NULL;
	label[n] = '\0'; /* user:role:type:level, NUL-terminated or not */
	type = strchr(label, ':');
	type = type ? strchr(type + 1, ':') : NULL;
	if (!type)
		return NULL;
	end = strchr(++type, ':');
	return end ? vsmmu_xasprintf("%.*s", (int)(end - type), type) : vsmmu_xstrdup(type);
}

/* ---- the verdict ---- */

static char *apparmor_refusal(const struct vsmmu_confine *c)
{
	return vsmmu_xasprintf("AppArmor confines libvirt's QEMU and vsmmu's AppArmor rules "
			       "(%s, included from local/abstractions/libvirt-qemu) are not "
			       "installed, so the wrapper could not read its plan, the host or the "
			       "device nodes; install them (make install, or the vsmmu package; "
			       "INSTALL, 'Confined hosts'), or set security_driver = \"none\" in "
			       "qemu.conf", c->aa_rules_path);
}

static char *selinux_refusal(const char *wrapper, const char *type, const char *name)
{
	return vsmmu_xasprintf("SELinux is enforcing and libvirt runs QEMU as svirt_t, which can "
			       "only be entered through a file of type " VSMMU_SELINUX_EXEC_TYPE
			       "; the wrapper %s is %s; on libvirt >= 12.1 use the native form, "
			       "which needs no wrapper (vsmmuctl apply --native %s), or add the "
			       "policy in docs/confinement.md and label the wrapper: semanage "
			       "fcontext -a -t " VSMMU_SELINUX_EXEC_TYPE " '%s' && restorecon -v "
			       "'%s'", wrapper, type ? type : "not labelled", name, wrapper, wrapper);
}

char *vsmmu_confine_refusal(const struct vsmmu_confine *c, const char *wrapper,
			    const char *name)
{
	_cleanup_free_ char *type = NULL;

	if (c->lsm == VSMMU_LSM_APPARMOR && !c->aa_domain_rules)
		return apparmor_refusal(c);
	if (c->lsm != VSMMU_LSM_SELINUX || !c->selinux_enforcing)
		return NULL;
	type = vsmmu_selinux_file_type(wrapper);
	if (vsmmu_streq(type, VSMMU_SELINUX_EXEC_TYPE))
		return NULL;
	return selinux_refusal(wrapper, type, name);
}

/* ---- doctor ---- */

static char *state_text(const struct vsmmu_confine *c)
{
	return vsmmu_xasprintf("AppArmor %s, SELinux %s, libvirt security_driver %s",
			       c->apparmor_enabled ? "enabled" : "not enabled",
			       !c->selinux_present ? "absent"
			       : c->selinux_enforcing ? "enforcing" : "permissive",
			       c->security_driver ? c->security_driver : "unset (libvirt's choice)");
}

static int apparmor_report(const struct vsmmu_confine *c, const char *qemu, char *state,
			   char **detail, char **remedy)
{
	if (!c->aa_domain_rules || !c->aa_daemon_rules) {
		*detail = vsmmu_xasprintf("%s: AppArmor confines QEMU, and vsmmu's %s rules are not "
					  "installed: managed domains cannot start", state,
					  !c->aa_domain_rules ? "domain" : "daemon");
		*remedy = vsmmu_xstrdup("install them (make install, or the vsmmu package), then "
					"apparmor_parser -r /etc/apparmor.d/usr.sbin.libvirtd (or "
					"usr.sbin.virtqemud); INSTALL, 'Confined hosts'");
		return 2;
	}
	if (!vsmmu_streq(qemu, VSMMU_EMULATOR_PATH)) { /* the QEMU libvirt's abstraction names */
		*detail = vsmmu_xasprintf("%s: vsmmu's rules installed; libvirt's AppArmor "
					  "abstraction does not let a domain execute %s", state, qemu);
		*remedy = vsmmu_xasprintf("add the line '  \"%s\" rmix,' to "
					  "/etc/apparmor.d/local/abstractions/libvirt-qemu", qemu);
		return 1;
	}
	*detail = vsmmu_xasprintf("%s: AppArmor confines QEMU; vsmmu's rules installed", state);
	return 0;
}

int vsmmu_confine_report(const struct vsmmu_confine *c, const char *wrapper, const char *qemu,
			 char **detail, char **remedy)
{
	_cleanup_free_ char *state = state_text(c);
	_cleanup_free_ char *type = NULL;

	*detail = *remedy = NULL;
	if (c->lsm == VSMMU_LSM_APPARMOR)
		return apparmor_report(c, qemu, state, detail, remedy);
	if (c->lsm == VSMMU_LSM_NONE) {
		*detail = vsmmu_xasprintf("%s: no security module confines QEMU", state);
		return 0;
	}
	*remedy = vsmmu_confine_refusal(c, wrapper, "DOMAIN");
	if (*remedy) {
		*detail = vsmmu_xasprintf("%s: the hook refuses every managed domain that runs "
					  "the wrapper", state);
		return 2;
	}
	type = vsmmu_selinux_file_type(wrapper);
	*detail = vsmmu_xasprintf("%s: the wrapper %s is %s", state, wrapper,
				  type ? type : "not labelled");
	*remedy = vsmmu_xstrdup(c->selinux_enforcing
				? "the rest of the SELinux policy the wrapper needs is the admin's "
				  "(docs/confinement.md); on libvirt >= 12.1 the native form needs none"
				: "SELinux is permissive: it only logs; when it enforces, the wrapper "
				  "needs the policy in docs/confinement.md, or use the native form "
				  "(libvirt >= 12.1)");
	return 1;
}
