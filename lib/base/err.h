/* Error reporting: every failing function fills a vsmmu_err and returns -1.
 * The kind says what sort of failure it was, so that a caller can tell
 * "there is nothing" from "there is something we cannot use" without
 * looking at errno, which later calls may have changed. */
#ifndef VSMMU_ERR_H
#define VSMMU_ERR_H

#define VSMMU_ERR_MAX 1024

enum vsmmu_err_kind {
	VSMMU_ERR_INVALID, /* the input is wrong (the kind vsmmu_fail sets) */
	VSMMU_ERR_ABSENT,  /* the file or object does not exist */
	VSMMU_ERR_TOO_BIG, /* larger than the bound we read */
	VSMMU_ERR_IO,      /* it exists but cannot be read or written */
};

typedef struct vsmmu_err {
	char msg[VSMMU_ERR_MAX]; /* first: `vsmmu_err e = { "" }` stays valid */
	enum vsmmu_err_kind kind;
} vsmmu_err;

/* Set the message (if err is not NULL), kind VSMMU_ERR_INVALID; return -1. */
int vsmmu_fail(vsmmu_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* As vsmmu_fail with the given kind. */
int vsmmu_fail_kind(vsmmu_err *err, enum vsmmu_err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* As vsmmu_fail, with ": strerror(errno_value)" appended; the kind follows
 * errno_value: ENOENT and ENOTDIR are VSMMU_ERR_ABSENT, EFBIG is
 * VSMMU_ERR_TOO_BIG, anything else VSMMU_ERR_IO. */
int vsmmu_fail_errno(vsmmu_err *err, int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Replace the message (which may quote err->msg itself) and keep the kind:
 * for callers that add where the error happened. */
int vsmmu_wrap(vsmmu_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
