/* qemuargs-internal: the layout of the argument list and of one argument,
 * shared by the three files that implement qemuargs.h, qemuprops.h and
 * qemulookup.h. Only they include it; everyone else goes through those
 * headers. */
#ifndef VSMMU_QEMUARGS_INTERNAL_H
#define VSMMU_QEMUARGS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "qemuargs.h"

struct qargs_prop; /* one property; qemuprops.c alone knows its layout */

struct vsmmu_qargs_arg {
	enum vsmmu_qargs_kind kind;
	enum vsmmu_qargs_option option;
	enum vsmmu_qargs_syntax syntax;
	size_t position;
	char *name;
	char *value;    /* as given; NULL for built arguments and non-options */
	char *rendered; /* value after an edit; NULL until asked for or when stale */
	struct qargs_prop *props;
	size_t nprops;
	size_t props_cap;
	bool props_ready;
	bool edited;
};

struct vsmmu_qargs {
	struct vsmmu_qargs_arg **items;
	size_t count;
	size_t cap;
	char **argv; /* the last vsmmu_qargs_argv() result */
	size_t argv_cap;
};

/* qemuargs.c: a new argument (name and value copied), classified as
 * parsing does; position VSMMU_QARGS_NONE for a built one. */
struct vsmmu_qargs_arg *qargs_arg_new(enum vsmmu_qargs_kind kind, const char *name,
				      const char *value, size_t position);
/* qemuargs.c: "argv[N] (-device)" or "new -device argument"; free the result. */
char *qargs_describe(const struct vsmmu_qargs_arg *arg);
/* qemuargs.c: fill err with "where: what". */
void qargs_report_at(const struct vsmmu_qargs_arg *arg, vsmmu_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* qargs_report_at evaluating to -1 (a macro so that the static analyzer
 * sees the -1). */
#define qargs_fail_at(arg, err, ...) (qargs_report_at((arg), (err), __VA_ARGS__), -1)

/* qemuprops.c: drop the parsed properties (they are parsed again on use). */
void qargs_props_clear(struct vsmmu_qargs_arg *arg);
/* qemuprops.c: the value QEMU gets: the original, or the properties
 * serialised again after an edit. */
int qargs_current_value(struct vsmmu_qargs_arg *arg, char **value, vsmmu_err *err);

#endif
