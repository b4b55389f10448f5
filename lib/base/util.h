/* Small helpers shared by every module: cleanup attributes, bounded file
 * I/O, strict number parsing, a growable string buffer. */
#ifndef VSMMU_UTIL_H
#define VSMMU_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "consts.h"
#include "err.h"

static inline void vsmmu_freep(void *p) { free(*(void **)p); }
static inline void vsmmu_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void vsmmu_closedirp(DIR **d) { if (*d) closedir(*d); }
void vsmmu_closep(int *fd);

#define _cleanup_free_ __attribute__((cleanup(vsmmu_freep)))
#define _cleanup_fclose_ __attribute__((cleanup(vsmmu_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(vsmmu_closedirp)))
#define _cleanup_close_ __attribute__((cleanup(vsmmu_closep)))

/* Hand a pointer over to the caller so cleanup does not free it. */
#define VSMMU_STEAL(p) ({ __typeof__(p) _stolen = (p); (p) = NULL; _stolen; })
/* The same for a descriptor held by _cleanup_close_. */
#define VSMMU_STEAL_FD(fd) ({ int _stolen = (fd); (fd) = -1; _stolen; })

#define VSMMU_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Upper bound for any single sysfs attribute we read. */
#define VSMMU_SYSFS_ATTR_MAX 4096

void *vsmmu_xcalloc(size_t n, size_t size);
void *vsmmu_xrealloc(void *p, size_t n, size_t size);
char *vsmmu_xstrdup(const char *s);
char *vsmmu_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *array (of *cap elements of size) so that index n fits. */
void vsmmu_grow(void *array_ptr, size_t *cap, size_t n, size_t size);

/* Read a whole file or stream, failing if it is larger than max bytes
 * (kind VSMMU_ERR_TOO_BIG; a missing file is VSMMU_ERR_ABSENT).
 * The result is NUL-terminated; *len (if not NULL) excludes the NUL. */
int vsmmu_read_file(const char *path, size_t max, char **out, size_t *len, vsmmu_err *err);
int vsmmu_read_stream(FILE *f, const char *what, size_t max, char **out, size_t *len,
		      vsmmu_err *err);

/* What vsmmu trusts in its run dir: owned by root or by the calling user,
 * and writable by no one else. 0, or -1 with a message naming path and the
 * fix. */
int vsmmu_check_trusted(const char *path, const struct stat *st, vsmmu_err *err);
/* vsmmu_read_file for files vsmmu wrote itself: a symlink, anything but a
 * regular file, or a file vsmmu_check_trusted refuses is an error
 * (VSMMU_ERR_INVALID); absent is VSMMU_ERR_ABSENT, unreadable VSMMU_ERR_IO. */
int vsmmu_read_trusted(const char *path, size_t max, char **out, vsmmu_err *err);

/* Read a one-line sysfs attribute with the trailing newline stripped.
 * Returns 0, or -1 with err filled (kind VSMMU_ERR_ABSENT when absent). */
int vsmmu_read_attr(const char *path, char **out, vsmmu_err *err);

/* Write data to path through a temporary file in the same directory,
 * fsync and rename, so readers see the old or the new file, never a part. */
int vsmmu_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
		       vsmmu_err *err);

/* Strict unsigned parsing: the whole string must be a number in base
 * (0 accepts 0x prefixes) and no greater than max. Returns 0 or -1. */
int vsmmu_parse_ulong(const char *s, int base, unsigned long max, unsigned long *out);
/* Same for a signed int in [min, max]. */
int vsmmu_parse_int(const char *s, long min, long max, int *out);

bool vsmmu_streq(const char *a, const char *b);  /* NULL-safe */
bool vsmmu_has_prefix(const char *s, const char *prefix);
/* Whether both paths (symlinks followed) name one file; false if either is missing. */
bool vsmmu_same_file(const char *a, const char *b);
/* Whether path leads to a file of any type, symlinks followed. */
bool vsmmu_path_exists(const char *path);

/* A list of malloc'ed strings: a qemu.conf list, the domains holding a
 * device node, a plan's warnings, one-line problems ("what is wrong; what
 * fixes it"). */
struct vsmmu_strlist {
	char **items;
	size_t n;
};
void vsmmu_strlist_add(struct vsmmu_strlist *l, const char *s);
void vsmmu_strlist_addf(struct vsmmu_strlist *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Add each line of text (lines separated by '\n'). */
void vsmmu_strlist_add_lines(struct vsmmu_strlist *l, const char *text);
void vsmmu_strlist_remove(struct vsmmu_strlist *l, size_t i);
bool vsmmu_strlist_has(const struct vsmmu_strlist *l, const char *s);
/* "a, b, c"; NULL when empty. */
char *vsmmu_strlist_join(const struct vsmmu_strlist *l);
void vsmmu_strlist_clear(struct vsmmu_strlist *l);
#define _cleanup_strlist_ __attribute__((cleanup(vsmmu_strlist_clear)))

/* What libvirt shows of a refusal stays readable: the first this many. */
#define VSMMU_PROBLEMS_SHOWN 10
/* Print "prefix: problem" lines to out, the first VSMMU_PROBLEMS_SHOWN of
 * them, then one line counting the rest. */
void vsmmu_problems_print(const struct vsmmu_strlist *p, FILE *out, const char *prefix);

/* Growable NUL-terminated string. */
struct vsmmu_buf {
	char *data;
	size_t len;
	size_t cap;
};
void vsmmu_buf_printf(struct vsmmu_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vsmmu_buf_vprintf(struct vsmmu_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void vsmmu_buf_free(struct vsmmu_buf *b);
#define _cleanup_buf_ __attribute__((cleanup(vsmmu_buf_free)))

#endif
