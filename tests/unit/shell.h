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

/* A new directory /tmp/vsmmu-test-NAME.XXXXXX for a test's files; malloc'ed. */
static char *test_tmpdir(const char *name) __attribute__((unused));
static char *test_tmpdir(const char *name)
{
	_cleanup_free_ char *tmpl = vsmmu_xasprintf("/tmp/vsmmu-test-%s.XXXXXX", name);

	return vsmmu_xstrdup(mkdtemp(tmpl));
}

/* Remove a test's directory and all below it. */
static void test_rm_rf(const char *dir) __attribute__((unused));
static void test_rm_rf(const char *dir)
{
	if (shell("rm -rf '%s'", dir) != 0)
		printf("# could not remove %s\n", dir);
}

#endif
