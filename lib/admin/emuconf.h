/* vsmmu.conf's qemu = line as vsmmuctl emulator install sets it and remove
 * undoes it: text in, text out, every other byte kept. lib/admin/emulator.c
 * reads and writes the files. */
#ifndef VSMMU_EMUCONF_H
#define VSMMU_EMUCONF_H

#include <stdbool.h>

#include "err.h"

struct vsmmu_emulator_record;

/* How install changed vsmmu.conf, so that remove can undo exactly that. */
enum vsmmu_conf_edit_kind {
	VSMMU_CONF_EDIT_REPLACED, /* an active qemu line was replaced */
	VSMMU_CONF_EDIT_INSERTED, /* a line was inserted */
	VSMMU_CONF_EDIT_CREATED,  /* the file did not exist */
};

/* vsmmu.conf text (NULL: no file) with qemu = VSMMU_EMULATOR_REAL, in *out;
 * every other byte kept. An active qemu line is replaced; else the line
 * goes after the commented "# qemu =" example, or at the end. Refused
 * (-1): qemu = names another QEMU than the default or the diverted one, or
 * is set twice, or a line the parser would refuse. */
int vsmmu_emulator_conf_set(const char *text, const char *path, char **out,
			    enum vsmmu_conf_edit_kind *edit, char **old_line, vsmmu_err *err);
/* The inverse: vsmmu.conf text with install's line undone, in *out (NULL:
 * delete the file: install created it and it holds nothing else). When
 * the admin changed the line since, *out is NULL, *keep true and *note
 * says what was left as it is. */
int vsmmu_emulator_conf_restore(const char *text, const char *path,
				const struct vsmmu_emulator_record *r, char **out, bool *keep,
				char **note);
/* Whether a qemu = value names the default QEMU or the diverted one. */
bool vsmmu_emulator_qemu_is_ours(const char *value);
/* The value of the active qemu line in text, malloc'ed; NULL if none. */
char *vsmmu_emulator_conf_qemu(const char *text);

#endif
