/* qemuargs: parse a QEMU command line once into a list of typed arguments,
 * inspect and edit it, print it once.
 *
 * Every argv element becomes part of one argument: argv[0] (the program),
 * a flag (an option QEMU takes without a value: -S, -no-shutdown, ...), an
 * option with its value (-device VALUE; every option not known to be a flag
 * takes the next element as its value, as QEMU does), or a positional word.
 * "-opt" and "--opt" are the same option. The exact strings are kept:
 * printing an unedited list gives back the very same argv, byte for byte.
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
 * Argument and property text is owned by the list: a returned string stays
 * valid until that argument is edited or freed. Errors go through
 * vsmmu_fail and name the argument as "argv[N] (-device)"; N is the index in
 * the argv that was parsed ("new -device argument" for built ones). Input is
 * untrusted: sizes are capped, duplicate keys, empty keys and stray commas
 * are refused. No global state.
 */
#ifndef VSMMU_QEMUARGS_H
#define VSMMU_QEMUARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define VSMMU_QARGS_MAX_TOTAL (1024u * 1024u) /* whole argv, NULs included */
#define VSMMU_QARGS_MAX_VALUE (256u * 1024u)  /* one argv element */
#define VSMMU_QARGS_MAX_PROPS 1024u           /* properties in one value */
#define VSMMU_QARGS_NONE SIZE_MAX             /* "no index" */

struct vsmmu_qargs;     /* the whole command line */
struct vsmmu_qargs_arg; /* one argument of it */

enum vsmmu_qargs_kind {
	VSMMU_QARGS_ARG_PROGRAM,    /* argv[0] */
	VSMMU_QARGS_ARG_FLAG,       /* an option without a value: -S */
	VSMMU_QARGS_ARG_OPTION,     /* an option with its value: -device VALUE */
	VSMMU_QARGS_ARG_POSITIONAL, /* a word not starting with '-' */
};

/* The options whose values are property lists. */
enum vsmmu_qargs_option {
	VSMMU_QARGS_OPT_OTHER,
	VSMMU_QARGS_OPT_DEVICE,  /* -device; type property "driver" */
	VSMMU_QARGS_OPT_OBJECT,  /* -object; type property "qom-type" */
	VSMMU_QARGS_OPT_MACHINE, /* -machine or -M; type property "type" */
};

enum vsmmu_qargs_syntax {
	VSMMU_QARGS_SYNTAX_NONE,   /* not a -device/-object/-machine value */
	VSMMU_QARGS_SYNTAX_KEYVAL, /* driver,key=value,... */
	VSMMU_QARGS_SYNTAX_JSON,   /* {"driver":...} */
};

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

/* ---- The list ---- */

/* Parse argv[0..argc-1]; the strings are copied. 0 or -1. */
int vsmmu_qargs_parse(int argc, const char *const *argv, struct vsmmu_qargs **out,
		      vsmmu_err *err);
void vsmmu_qargs_free(struct vsmmu_qargs *args); /* NULL is fine */
static inline void vsmmu_qargs_freep(struct vsmmu_qargs **args) { vsmmu_qargs_free(*args); }
#define _cleanup_qargs_ __attribute__((cleanup(vsmmu_qargs_freep)))

size_t vsmmu_qargs_count(const struct vsmmu_qargs *args);
/* The argument at index, or NULL past the end. */
struct vsmmu_qargs_arg *vsmmu_qargs_at(const struct vsmmu_qargs *args, size_t index);
/* The index of arg in args, or VSMMU_QARGS_NONE. */
size_t vsmmu_qargs_index_of(const struct vsmmu_qargs *args, const struct vsmmu_qargs_arg *arg);

/* ---- One argument, without parsing its value ---- */

enum vsmmu_qargs_kind vsmmu_qargs_arg_kind(const struct vsmmu_qargs_arg *arg);
enum vsmmu_qargs_option vsmmu_qargs_arg_option(const struct vsmmu_qargs_arg *arg);
/* From the value's first character: JSON if '{'. NONE for other options. */
enum vsmmu_qargs_syntax vsmmu_qargs_arg_syntax(const struct vsmmu_qargs_arg *arg);
/* The option as written ("-device", "--device"), the flag, argv[0] or the word. */
const char *vsmmu_qargs_arg_name(const struct vsmmu_qargs_arg *arg);
/* Whether arg is the option or flag name, given without dashes ("netdev"). */
bool vsmmu_qargs_arg_is(const struct vsmmu_qargs_arg *arg, const char *name);
/* Index in the parsed argv of the option's name, VSMMU_QARGS_NONE if built. */
size_t vsmmu_qargs_arg_position(const struct vsmmu_qargs_arg *arg);
/* The value as QEMU will get it: the original string while unedited, the
 * re-serialised properties after an edit. Fails for arguments without one. */
int vsmmu_qargs_arg_value(struct vsmmu_qargs_arg *arg, const char **value, vsmmu_err *err);

/* ---- Properties of -device, -object, -machine (parsed on first use) ---- */

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

/* ---- New arguments (owned by the caller until inserted) ---- */

/* A -device/-object/-machine from ordered pairs, in the requested syntax
 * (use the syntax of the argument it relates to: QEMU creates key=value
 * devices before JSON ones). A -device needs "driver", an -object
 * "qom-type"; in key=value form a first pair holding the type is written
 * bare ("arm-smmuv3,primary-bus=pci.1"). 0 or -1. */
int vsmmu_qargs_new_props(enum vsmmu_qargs_option option, enum vsmmu_qargs_syntax syntax,
			  const struct vsmmu_qargs_pair *pairs, size_t npairs,
			  struct vsmmu_qargs_arg **out, vsmmu_err *err);
/* Any option from its name ("-object" or "object") and value, classified as
 * parsing would; value NULL makes a flag, which must be a known flag. */
int vsmmu_qargs_new_option(const char *name, const char *value, struct vsmmu_qargs_arg **out,
			   vsmmu_err *err);
void vsmmu_qargs_arg_free(struct vsmmu_qargs_arg *arg); /* NULL is fine */
static inline void vsmmu_qargs_arg_freep(struct vsmmu_qargs_arg **arg)
{
	vsmmu_qargs_arg_free(*arg);
}
#define _cleanup_qargs_arg_ __attribute__((cleanup(vsmmu_qargs_arg_freep)))

/* ---- Editing the list; indexes of later arguments shift ---- */

/* Insert arg right after index (0 is argv[0]). Takes arg, even on failure. */
int vsmmu_qargs_insert_after(struct vsmmu_qargs *args, size_t index, struct vsmmu_qargs_arg *arg,
			     vsmmu_err *err);
/* Append arg at the end. Takes arg. */
void vsmmu_qargs_append(struct vsmmu_qargs *args, struct vsmmu_qargs_arg *arg);
/* Detach the argument at index and hand it to the caller (to move it);
 * NULL for argv[0] or past the end. */
struct vsmmu_qargs_arg *vsmmu_qargs_take(struct vsmmu_qargs *args, size_t index);
/* Remove and free the argument at index (not argv[0]). 0 or -1. */
int vsmmu_qargs_remove(struct vsmmu_qargs *args, size_t index, vsmmu_err *err);

/* ---- Lookups ---- */

/* From *index on, the next argument of that option whose type (driver,
 * qom-type, machine type) is type, any type if NULL: 1 and *index set, 0
 * none, -1 if a value on the way cannot be parsed (only when type is set).
 * Loop: for (i = 0; (r = next(...&i...)) > 0; i++). */
int vsmmu_qargs_next(const struct vsmmu_qargs *args, enum vsmmu_qargs_option option,
		     const char *type, size_t *index, vsmmu_err *err);
/* The -device whose id is id: 1 and *index set, 0 none, -1 on a value that
 * cannot be parsed or when two -device arguments share the id. */
int vsmmu_qargs_find_device(const struct vsmmu_qargs *args, const char *id, size_t *index,
			    vsmmu_err *err);

/* A table of the -device arguments (of one type, any if NULL) by the value
 * of one property, for many lookups in one pass instead of one scan each.
 * It holds positions: inserting or removing arguments invalidates it. */
struct vsmmu_qargs_lookup;
/* Writes value's key into key[size]; false leaves the argument out. NULL
 * keys on the value as it is. */
typedef bool (*vsmmu_qargs_keyfn)(const char *value, char *key, size_t size);
int vsmmu_qargs_lookup_new(const struct vsmmu_qargs *args, const char *type, const char *prop,
			   vsmmu_qargs_keyfn keyfn, struct vsmmu_qargs_lookup **lookup,
			   vsmmu_err *err);
/* How many arguments have that key; the positions of the first max of
 * them, in argv order, in at[]. */
size_t vsmmu_qargs_lookup_find(const struct vsmmu_qargs_lookup *lookup, const char *key,
			       size_t *at, size_t max);
void vsmmu_qargs_lookup_free(struct vsmmu_qargs_lookup *lookup);
void vsmmu_qargs_lookup_freep(struct vsmmu_qargs_lookup **lookup);
#define _cleanup_lookup_ __attribute__((cleanup(vsmmu_qargs_lookup_freep)))
/* vsmmu_qargs_find_device in a lookup of the -device ids of args. */
int vsmmu_qargs_device_by_id(const struct vsmmu_qargs *args,
			     const struct vsmmu_qargs_lookup *ids, const char *id, size_t *index,
			     vsmmu_err *err);

/* ---- Printing ---- */

/* The NULL-terminated argv for execv, owned by args, valid until the next
 * edit or free. Fails if the result would exceed the size caps. */
int vsmmu_qargs_argv(struct vsmmu_qargs *args, char ***argv, vsmmu_err *err);
/* Write one argument per line to out. 0 or -1. */
int vsmmu_qargs_print(struct vsmmu_qargs *args, FILE *out, vsmmu_err *err);

#endif
