/* confine: which Linux security module confines libvirt's QEMU on this
 * host, and whether the wrapper path can work under it (docs/confinement.md).
 *
 * - AppArmor (Debian, Ubuntu): enabled when <sysfs>/module/apparmor/
 *   parameters/enabled is "Y". Every libvirt domain profile includes
 *   abstractions/libvirt-qemu, which allows none of what the wrapper needs;
 *   vsmmu's rules (apparmor/, make install) must be in place: the domain
 *   rules (abstractions/libvirt-qemu.d/vsmmu, included by libvirt's
 *   abstraction directly or through local/abstractions/libvirt-qemu) and
 *   the daemon rule (abstractions/vsmmu-libvirtd, from the daemon's local/
 *   file) that lets libvirt probe the wrapper.
 * - SELinux (RHEL, Fedora): present when <sysfs>/fs/selinux/enforce exists,
 *   enforcing when it reads 1. libvirt execs the <emulator> into svirt_t,
 *   which only an entrypoint type (qemu_exec_t) allows: a wrapper not
 *   labelled so cannot start, and the rest of what it reads needs local
 *   policy. The native form (libvirt >= 12.1) opens and labels the device
 *   fds itself and needs no wrapper.
 * - libvirt's qemu.conf security_driver picks among them: "none" turns
 *   confinement off; unset, libvirt takes SELinux when present, else
 *   AppArmor when enabled. */
#ifndef VSMMU_CONFINE_H
#define VSMMU_CONFINE_H

#include <stdbool.h>

#include "err.h"

enum vsmmu_lsm { VSMMU_LSM_NONE, VSMMU_LSM_APPARMOR, VSMMU_LSM_SELINUX };

/* The SELinux type a wrapper must carry to be an svirt_t entrypoint. */
#define VSMMU_SELINUX_EXEC_TYPE "qemu_exec_t"

struct vsmmu_confine {
	bool apparmor_enabled;
	bool selinux_present;
	bool selinux_enforcing;
	char *security_driver; /* qemu.conf's value ("a, b" for a list), NULL unset */
	enum vsmmu_lsm lsm;    /* what confines libvirt's QEMU */
	bool aa_domain_rules;  /* vsmmu's domain rules installed and included */
	bool aa_daemon_rules;  /* vsmmu's daemon rule installed and included */
	char *aa_rules_path;   /* <etc>/apparmor.d/abstractions/libvirt-qemu.d/vsmmu */
};

/* Look at <sysfs>, libvirt's qemu.conf (absent: defaults) and
 * <etc>/apparmor.d. 0, or -1 when qemu.conf exists but cannot be read. */
int vsmmu_confine_detect(const char *sysfs, const char *etc, const char *qemu_conf,
			 struct vsmmu_confine *out, vsmmu_err *err);
void vsmmu_confine_clear(struct vsmmu_confine *c);

const char *vsmmu_lsm_name(enum vsmmu_lsm lsm); /* "AppArmor", "SELinux", "none" */

/* qemu.conf text -> security_driver as above, NULL when unset (exposed
 * for tests). */
char *vsmmu_confine_security_driver(const char *qemu_conf_text);

/* The type field of path's security.selinux label ("qemu_exec_t"), or
 * NULL when it has none. */
char *vsmmu_selinux_file_type(const char *path);

/* Why a domain whose <emulator> is the wrapper at wrapper cannot start
 * under c, with the remedy, as one line the caller frees; NULL when it can.
 * name is the domain's. */
char *vsmmu_confine_refusal(const struct vsmmu_confine *c, const char *wrapper,
			    const char *name);

/* What doctor says: 0 PASS, 1 WARN, 2 FAIL, *detail what was found and
 * *remedy what to do (NULL for PASS); the caller frees both. qemu is the
 * real QEMU vsmmu.conf names (AppArmor: libvirt's abstraction lets a
 * domain execute only the stock QEMU paths). */
int vsmmu_confine_report(const struct vsmmu_confine *c, const char *wrapper, const char *qemu,
			 char **detail, char **remedy);

#endif
