/* vsmmuctl emulator install|remove|status: the wrapper at the path where
 * libvirt finds its default aarch64 emulator, so that domains without
 * <emulator> (OpenStack Nova's) run through it. On Debian and Ubuntu the
 * packaged QEMU is moved aside with a local dpkg diversion, so QEMU package
 * upgrades land at the diverted name, which vsmmu.conf's qemu = names.
 *
 * The decisions (what the facts allow, the vsmmu.conf edit and its undo,
 * the record remove reads) are pure functions; vsmmu_emulator_gather and
 * vsmmu_emulator_install/remove do the file system and dpkg-divert work. */
#ifndef VSMMU_EMULATOR_H
#define VSMMU_EMULATOR_H

#include <stdbool.h>

#include "consts.h"
#include "emuconf.h"
#include "err.h"

struct vsmmu_emulator_record {
	enum vsmmu_conf_edit_kind edit;
	char *old_line; /* REPLACED: the line as it was */
	char *wrapper;  /* the symlink's target */
};
void vsmmu_emulator_record_clear(struct vsmmu_emulator_record *r);
char *vsmmu_emulator_record_to_json(const struct vsmmu_emulator_record *r);
int vsmmu_emulator_record_parse(const char *text, const char *path,
				struct vsmmu_emulator_record *r, vsmmu_err *err);

/* What is at VSMMU_EMULATOR_PATH. */
enum vsmmu_emulator_file {
	VSMMU_EMU_ABSENT,
	VSMMU_EMU_REGULAR, /* a regular file: QEMU as its package put it */
	VSMMU_EMU_WRAPPER, /* a symlink to the wrapper (or the one recorded) */
	VSMMU_EMU_OTHER,   /* a symlink elsewhere, or not a regular file */
};

/* The machine as install, remove and status see it. */
struct vsmmu_emulator_facts {
	const char *root;      /* "" for /, else the --root directory */
	const char *wrapper;   /* the wrapper, as seen from inside root */
	bool wrapper_present;  /* root + wrapper is an executable file */
	bool have_divert;      /* dpkg-divert runs */
	char *diverted_by;     /* NULL: not diverted; "LOCAL" or a package */
	char *divert_to;       /* where, when diverted */
	enum vsmmu_emulator_file at_path;
	char *path_target;     /* its symlink target, if a symlink */
	bool real_present;     /* root + VSMMU_EMULATOR_REAL exists */
	bool recorded;         /* root + VSMMU_EMULATOR_RECORD exists */
	char *recorded_wrapper; /* the wrapper it names, if it reads */
	bool conf_present;
	char *conf_qemu;       /* vsmmu.conf's qemu value; NULL: not set */
};
void vsmmu_emulator_facts_clear(struct vsmmu_emulator_facts *f);

/* Decisions. install: 0 go on, 1 installed already (nothing to do), -1
 * refused with a one-line reason. remove: 0 go on, 1 not installed, -1
 * refused. */
int vsmmu_emulator_may_install(const struct vsmmu_emulator_facts *f, vsmmu_err *err);
int vsmmu_emulator_may_remove(const struct vsmmu_emulator_facts *f, vsmmu_err *err);
/* Whether the pieces agree: installed (all in place) or not installed
 * (none); else false with one line per piece that disagrees in *why. */
bool vsmmu_emulator_consistent(const struct vsmmu_emulator_facts *f, bool *installed,
			       char **why);

/* What status prints: one "what: state" line each, and every
 * inconsistency; *code 0 installed, 1 not installed, 2 inconsistent. */
char *vsmmu_emulator_describe(const struct vsmmu_emulator_facts *f, int *code);

/* Look at root ("" or a directory): files, dpkg-divert, vsmmu.conf. */
int vsmmu_emulator_gather(const char *root, const char *wrapper,
			  struct vsmmu_emulator_facts *f, vsmmu_err *err);
/* Do it. 0 done (*msg says what), -1 with nothing changed (what had been
 * done is rolled back), err saying why. */
int vsmmu_emulator_install(const struct vsmmu_emulator_facts *f, char **msg, vsmmu_err *err);
int vsmmu_emulator_remove(const struct vsmmu_emulator_facts *f, char **msg, vsmmu_err *err);

#endif
