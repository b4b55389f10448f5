/* qemulookup: finding arguments in a qemuargs list: the next -device,
 * -object or -machine of a type, the -device with an id, and tables of the
 * -device arguments by one property for many lookups in one pass. */
#ifndef VSMMU_QEMULOOKUP_H
#define VSMMU_QEMULOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "qemuargs.h"

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

#endif
