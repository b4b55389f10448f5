/* The run dir: the lock excludes a second taker until the first closes it,
 * and its timeout says how to find the holder. */
#include <string.h>
#include <unistd.h>

#include "rundir.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

static void test_lock(const char *top)
{
	_cleanup_free_ char *rundir = vsmmu_xasprintf("%s/lock", top);
	_cleanup_close_ int fd = -1;
	int fd2 = -1;
	vsmmu_err err;

	CHECK(vsmmu_rundir_lock(rundir, 100, &fd, &err) == 0, "lock taken");
	/* flock is per open file description: a second open conflicts. */
	CHECK(vsmmu_rundir_lock(rundir, 50, &fd2, &err) < 0, "second lock times out");
	CHECK(strstr(err.msg, "still locked") != NULL, "timeout message says so: %s", err.msg);
	CHECK(strstr(err.msg, "after 50 ms: a running process holds it") &&
	      strstr(err.msg, "find it with 'fuser -v ") && strstr(err.msg, "/lock/.lock'") &&
	      !strstr(err.msg, "remove the file"), "and how to find the holder: %s", err.msg);
	close(fd);
	fd = -1;
	CHECK(vsmmu_rundir_lock(rundir, 50, &fd2, &err) == 0, "lock free again after close");
	if (fd2 >= 0)
		close(fd2);
}

int main(void)
{
	_cleanup_free_ char *top = test_tmpdir("rundir");

	test_lock(top);
	test_rm_rf(top);
	return tap_done();
}
