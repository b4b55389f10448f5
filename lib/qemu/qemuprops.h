/* qemuprops: the properties of one -device, -object or -machine argument
 * of a qemuargs list: read, set and removed in either syntax, and new
 * arguments built from them.
 *
 * The values of -device, -object and -machine (or -M) are property lists,
 * read only on first access (parsing is lazy). A value beginning with '{'
 * is JSON (as QEMU decides); otherwise it is key=value form
 * "type,key=value,key=value" where ",," is a comma inside a value and the
 * first element without '=' is the type: the -device driver, the -object
 * qom-type, the -machine type. Both forms answer to the same accessors; the
 * type is the property "driver", "qom-type" or "type" in both.
 *
 * Values read back as text: JSON strings as they are, integers in decimal,
 * booleans as "true"/"false", anything else (null, reals, arrays, objects)
 * as compact JSON. In key=value form every value is the text between '='
 * and the next separating comma, with ",," turned into ","; a later element
 * without '=' is a flag and reads as "on" (QEMU's deprecated "nofoo" meaning
 * foo=off is not interpreted: it is the flag "nofoo").
 *
 * Text ownership and error messages are as qemuargs.h says.
 */
#ifndef VSMMU_QEMUPROPS_H
#define VSMMU_QEMUPROPS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "qemuargs.h"

#define VSMMU_QARGS_MAX_PROPS 1024u /* properties in one value */

enum vsmmu_qargs_vtype {
	VSMMU_QARGS_VAL_STR,
	VSMMU_QARGS_VAL_INT,
	VSMMU_QARGS_VAL_BOOL,
};

/* One property of an argument being built; see the PAIR_ macros. */
struct vsmmu_qargs_pair {
	const char *key;
	enum vsmmu_qargs_vtype type;
	const char *str; /* VSMMU_QARGS_VAL_STR */
	long long num;   /* VSMMU_QARGS_VAL_INT */
	bool flag;       /* VSMMU_QARGS_VAL_BOOL */
};
#define VSMMU_QARGS_PAIR_STR(k, v) \
	((struct vsmmu_qargs_pair){ .key = (k), .type = VSMMU_QARGS_VAL_STR, .str = (v) })
#define VSMMU_QARGS_PAIR_INT(k, v) \
	((struct vsmmu_qargs_pair){ .key = (k), .type = VSMMU_QARGS_VAL_INT, .num = (v) })
#define VSMMU_QARGS_PAIR_BOOL(k, v) \
	((struct vsmmu_qargs_pair){ .key = (k), .type = VSMMU_QARGS_VAL_BOOL, .flag = (v) })

/* ---- Reading (parsed on first use) ---- */

/* 1 and *value set if present, 0 if absent, -1 on error (bad value). */
int vsmmu_qargs_get(struct vsmmu_qargs_arg *arg, const char *key, const char **value,
		    vsmmu_err *err);
/* 1 present, 0 absent, -1 error. */
int vsmmu_qargs_has(struct vsmmu_qargs_arg *arg, const char *key, vsmmu_err *err);
/* As vsmmu_qargs_get, reading on/off/true/false/yes/no (or a JSON bool). */
int vsmmu_qargs_get_bool(struct vsmmu_qargs_arg *arg, const char *key, bool *out,
			 vsmmu_err *err);
/* As vsmmu_qargs_get, reading a JSON integer or text in base 0 (0x.. hex)
 * no greater than max. */
int vsmmu_qargs_get_ulong(struct vsmmu_qargs_arg *arg, const char *key, unsigned long max,
			  unsigned long *out, vsmmu_err *err);
/* The driver, qom-type or machine type: 1, 0 (only a -machine may lack it), -1. */
int vsmmu_qargs_type(struct vsmmu_qargs_arg *arg, const char **type, vsmmu_err *err);

/* ---- Editing ---- */

/* Replace the property in place or append it. JSON gets a string, number or
 * boolean; key=value gets the text (bool as on/off), commas escaped as ",,".
 * Keys are [A-Za-z0-9_.-]+. 0 or -1. */
int vsmmu_qargs_set_str(struct vsmmu_qargs_arg *arg, const char *key, const char *value,
			vsmmu_err *err);
int vsmmu_qargs_set_int(struct vsmmu_qargs_arg *arg, const char *key, long long value,
			vsmmu_err *err);
int vsmmu_qargs_set_bool(struct vsmmu_qargs_arg *arg, const char *key, bool value,
			 vsmmu_err *err);
/* Remove a property: 1 removed, 0 absent, -1 error (the -device driver and
 * -object qom-type cannot be removed). */
int vsmmu_qargs_unset(struct vsmmu_qargs_arg *arg, const char *key, vsmmu_err *err);

/* ---- Building (owned by the caller until inserted) ---- */

/* A -device/-object/-machine from ordered pairs, in the requested syntax
 * (use the syntax of the argument it relates to: QEMU creates key=value
 * devices before JSON ones). A -device needs "driver", an -object
 * "qom-type"; in key=value form a first pair holding the type is written
 * bare ("arm-smmuv3,primary-bus=pci.1"). 0 or -1. */
int vsmmu_qargs_new_props(enum vsmmu_qargs_option option, enum vsmmu_qargs_syntax syntax,
			  const struct vsmmu_qargs_pair *pairs, size_t npairs,
			  struct vsmmu_qargs_arg **out, vsmmu_err *err);

#endif
