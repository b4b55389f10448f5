#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages are formatted into a copy first: callers may wrap an earlier
 * message, passing err->msg itself as an argument. */
int vsmmu_fail(vsmmu_err *err, const char *fmt, ...)
{
	char msg[VSMMU_ERR_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(err->msg, msg, sizeof(msg));
	return -1;
}

int vsmmu_fail_errno(vsmmu_err *err, int errno_value, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (!err)
		return -1;
	char msg[VSMMU_ERR_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = strlen(msg);
	snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(errno_value));
	memcpy(err->msg, msg, sizeof(msg));
	return -1;
}
