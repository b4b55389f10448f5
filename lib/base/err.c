#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages are formatted into a copy first: callers may wrap an earlier
 * message, passing err->msg itself as an argument. */
static int set(vsmmu_err *err, enum vsmmu_err_kind kind, const char *suffix, const char *fmt,
	       va_list ap) __attribute__((format(printf, 4, 0)));
static int set(vsmmu_err *err, enum vsmmu_err_kind kind, const char *suffix, const char *fmt,
	       va_list ap)
{
	char msg[VSMMU_ERR_MAX];
	size_t len;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	if (suffix)
		snprintf(msg + len, sizeof(msg) - len, ": %s", suffix);
	memcpy(err->msg, msg, sizeof(msg));
	err->kind = kind;
	return -1;
}

int vsmmu_fail(vsmmu_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	set(err, VSMMU_ERR_INVALID, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int vsmmu_fail_kind(vsmmu_err *err, enum vsmmu_err_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	set(err, kind, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

static enum vsmmu_err_kind kind_of(int errno_value)
{
	if (errno_value == ENOENT || errno_value == ENOTDIR)
		return VSMMU_ERR_ABSENT;
	return errno_value == EFBIG ? VSMMU_ERR_TOO_BIG : VSMMU_ERR_IO;
}

int vsmmu_fail_errno(vsmmu_err *err, int errno_value, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	set(err, kind_of(errno_value), strerror(errno_value), fmt, ap);
	va_end(ap);
	return -1;
}

int vsmmu_wrap(vsmmu_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	set(err, err->kind, NULL, fmt, ap);
	va_end(ap);
	return -1;
}
