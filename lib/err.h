/* Error reporting: every failing function fills a vsmmu_err and returns -1. */
#ifndef VSMMU_ERR_H
#define VSMMU_ERR_H

#define VSMMU_ERR_MAX 1024

typedef struct vsmmu_err {
	char msg[VSMMU_ERR_MAX];
} vsmmu_err;

/* Set the message (if err is not NULL) and return -1. */
int vsmmu_fail(vsmmu_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* As vsmmu_fail, with ": strerror(errno_value)" appended. */
int vsmmu_fail_errno(vsmmu_err *err, int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
