/* qemuargs: parse a QEMU command line once into a list of typed arguments,
 * edit the list, print it once. What is inside a -device, -object or
 * -machine value is qemuprops.h's; finding arguments is qemulookup.h's.
 *
 * Every argv element becomes part of one argument: argv[0] (the program),
 * a flag (an option QEMU takes without a value: -S, -no-shutdown, ...), an
 * option with its value (-device VALUE; every option not known to be a flag
 * takes the next element as its value, as QEMU does), or a positional word.
 * "-opt" and "--opt" are the same option. The exact strings are kept:
 * printing an unedited list gives back the very same argv, byte for byte.
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

/* ---- New arguments (owned by the caller until inserted) ---- */

/* Any option from its name ("-object" or "object") and value, classified as
 * parsing would; value NULL makes a flag, which must be a known flag. A
 * -device, -object or -machine from properties is vsmmu_qargs_new_props
 * (qemuprops.h). */
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

/* ---- Printing ---- */

/* The NULL-terminated argv for execv, owned by args, valid until the next
 * edit or free. Fails if the result would exceed the size caps. */
int vsmmu_qargs_argv(struct vsmmu_qargs *args, char ***argv, vsmmu_err *err);
/* Write one argument per line to out. 0 or -1. */
int vsmmu_qargs_print(struct vsmmu_qargs *args, FILE *out, vsmmu_err *err);

#endif
