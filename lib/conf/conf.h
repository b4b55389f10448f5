/* /etc/vsmmu/vsmmu.conf and the VSMMU_* environment overrides. The file is
 * optional: a missing file means defaults. Format: "key = value" lines,
 * unknown keys refused (a typo must not pass silently); a '#' at the start
 * of a line or after a blank starts a comment, except inside a "quoted"
 * value; a leading UTF-8 byte order mark is skipped. */
#ifndef VSMMU_CONF_H
#define VSMMU_CONF_H

#include "consts.h"
#include "err.h"

enum vsmmu_log_level { VSMMU_LOG_ERROR, VSMMU_LOG_WARN, VSMMU_LOG_INFO, VSMMU_LOG_DEBUG };
/* manage = marked (only domains with vsmmu metadata) | hostdevs (also every
 * domain with a PCI hostdev behind an SMMUv3; lib/model/manage.h). */
enum vsmmu_manage_policy { VSMMU_MANAGE_MARKED, VSMMU_MANAGE_HOSTDEVS };

struct vsmmu_conf {
	char *path;       /* the file read (or that would have been read) */
	char *sysfs;      /* VSMMU_SYSFS > sysfs = > /sys */
	char *dev;        /* VSMMU_DEV > dev = > /dev; absolute */
	char *rundir;     /* VSMMU_RUNDIR > rundir = > /run/vsmmu; absolute, and
			   * from vsmmu.conf not below a world-writable directory */
	char *qemu;       /* VSMMU_QEMU > qemu = > /usr/bin/qemu-system-aarch64 */
	char *qemu_user;  /* qemu_user = ; NULL: take libvirt's qemu.conf / default */
	char *qemu_group; /* qemu_group = */
	char *libvirt_qemu_conf; /* libvirt_qemu_conf = > /etc/libvirt/qemu.conf */
	enum vsmmu_log_level log_level; /* log_level = error|warn|info|debug */
	enum vsmmu_manage_policy manage; /* manage = marked|hostdevs */
};

/* Load from VSMMU_CONF or the default path, then apply the environment. */
int vsmmu_conf_load(struct vsmmu_conf *conf, vsmmu_err *err);
/* The same for what must run whatever the file holds (release): a line or
 * setting that is wrong is skipped, its default applies, the rest is used.
 * 0, or -1 with err naming the first problem; conf is complete either way
 * (clear it in both cases). */
int vsmmu_conf_load_lenient(struct vsmmu_conf *conf, vsmmu_err *err);
/* Parse config text (for tests and fuzzing); path names it in messages. */
int vsmmu_conf_parse(struct vsmmu_conf *conf, const char *text, const char *path,
		     vsmmu_err *err);
void vsmmu_conf_clear(struct vsmmu_conf *conf);
/* One line of vsmmu.conf, edited in place: *key and *value point into it
 * (both NULL for a blank or comment line). -1 for a line the parser would
 * refuse, err naming where. */
int vsmmu_conf_split_line(char *line, const char *where, char **key, char **value,
			  vsmmu_err *err);

/* "marked" or "hostdevs". */
const char *vsmmu_manage_policy_name(enum vsmmu_manage_policy policy);

/* The installed <emulator> wrapper: VSMMU_WRAPPER, else LIBEXECDIR's. */
const char *vsmmu_wrapper_path(void);

/* A path the environment may override for tests (doctor's VSMMU_ETC,
 * VSMMU_PROC): the variable's value when set and not empty, else dflt;
 * malloc'ed. Every environment read of lib/ is in conf.c. */
char *vsmmu_conf_env_path(const char *name, const char *dflt);

#endif
