/* Run a formatted shell command from a unit test (fixture set-up). */
#ifndef VSMMU_TEST_SHELL_H
#define VSMMU_TEST_SHELL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static int shell(const char *fmt, ...)
{
	_cleanup_free_ char *cmd = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	return r < 0 ? -1 : system(cmd);
}

#endif
