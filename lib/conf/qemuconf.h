/* libvirt's qemu.conf, read the way libvirt's config parser reads it for
 * what vsmmu needs: `key = "string"` or `key = [ "a", "b" ]` (a list may
 * span lines), '#' outside quotes starting a comment, the last setting of
 * a key winning. Used for the QEMU user and group (hook, doctor), the
 * device ACL, cgroup controllers and namespaces (doctor) and the security
 * driver (hook, doctor). */
#ifndef VSMMU_QEMUCONF_H
#define VSMMU_QEMUCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define VSMMU_QEMU_CONF_MAX (1u << 20)

/* key's strings (a string counts as a list of one): 1 and *out filled,
 * 0 when key is not set (or its last setting does not parse). */
int vsmmu_qemu_conf_list(const char *text, const char *key, struct vsmmu_strlist *out);
/* key's value when it is one non-empty string, else NULL; malloc'ed. */
char *vsmmu_qemu_conf_value(const char *text, const char *key);

#endif
