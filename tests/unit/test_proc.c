/* The /proc scanner against a fake /proc tree: boot time, a process's
 * start, and the libvirt daemon found among other processes. */
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

static void put(const char *top, const char *rel, const char *text)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/%s", top, rel);
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0)
		printf("# cannot write %s\n", path);
	if (f)
		fclose(f);
}

/* pid in <proc> named comm, started start_s seconds after boot. */
static void fake_pid(const char *proc, const char *pid, const char *comm, long start_s)
{
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/%s", proc, pid);
	_cleanup_free_ char *stat = vsmmu_xasprintf(
		"%s (%s) S 1 %s %s 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 17 0 %ld 1 2 3\n", pid,
		comm, pid, pid, start_s * sysconf(_SC_CLK_TCK));
	_cleanup_free_ char *comm_line = vsmmu_xasprintf("%s\n", comm);
	_cleanup_free_ char *stat_rel = vsmmu_xasprintf("%s/stat", pid);
	_cleanup_free_ char *comm_rel = vsmmu_xasprintf("%s/comm", pid);

	shell("mkdir -p '%s'", dir);
	put(proc, stat_rel, stat);
	put(proc, comm_rel, comm_line);
}

static void test_boot_time(const char *proc)
{
	long long btime = 0;

	CHECK(vsmmu_proc_boot_time(proc, &btime) < 0, "no <proc>/stat: no boot time");
	put(proc, "stat", "cpu 1 2 3\nbtime 1000\nprocesses 5\n");
	CHECK(vsmmu_proc_boot_time(proc, &btime) == 0 && btime == 1000,
	      "btime read from the middle of <proc>/stat");
	put(proc, "stat", "cpu 1 2 3\nbtime 10x\n");
	CHECK(vsmmu_proc_boot_time(proc, &btime) < 0, "a btime that is no number is refused");
	put(proc, "stat", "cpu 1 2 3\n");
	CHECK(vsmmu_proc_boot_time(proc, &btime) < 0, "no btime line: no boot time");
}

static void test_start_ticks(const char *proc)
{
	unsigned long long ticks = 0;
	long hz = sysconf(_SC_CLK_TCK);

	fake_pid(proc, "77", "a (tricky) name", 5);
	CHECK(vsmmu_proc_start_ticks(proc, "77", &ticks) == 0 &&
	      ticks == (unsigned long long)(5 * hz),
	      "field 22 counted after the last ')': a comm with spaces and parentheses");
	put(proc, "77/stat", "77 (short) S 1 2\n");
	CHECK(vsmmu_proc_start_ticks(proc, "77", &ticks) < 0, "a stat line too short is refused");
	CHECK(vsmmu_proc_start_ticks(proc, "78", &ticks) < 0, "no such pid");
}

static void test_find_daemon(const char *proc)
{
	_cleanup_free_ char *none = NULL, *found = NULL, *qemud = NULL;
	long long start = 0;

	put(proc, "stat", "cpu 1 2 3\nbtime 1000\n");
	shell("rm -rf '%s/77'", proc);
	fake_pid(proc, "10", "sshd", 3);
	none = vsmmu_proc_find_daemon(proc, &start);
	CHECK(none == NULL, "no libvirt daemon among the processes");
	fake_pid(proc, "4242", "libvirtd", 100);
	found = vsmmu_proc_find_daemon(proc, &start);
	CHECK_STR(found, "libvirtd (pid 4242)", "libvirtd found by its comm");
	CHECK_INT(start, 1100, "its start: boot time plus its start ticks, in seconds");
	shell("rm -rf '%s/4242'", proc);
	fake_pid(proc, "99", "virtqemud", 7);
	qemud = vsmmu_proc_find_daemon(proc, &start);
	CHECK(qemud && strstr(qemud, "virtqemud (pid 99)") && start == 1007,
	      "virtqemud is a libvirt daemon too");
	CHECK(vsmmu_proc_find_daemon("/nonexistent-proc", &start) == NULL, "no /proc: none");
}

int main(void)
{
	char tmpl[] = "/tmp/vsmmu-test-proc.XXXXXX";
	const char *top = mkdtemp(tmpl);

	test_boot_time(top);
	test_start_ticks(top);
	test_find_daemon(top);
	shell("rm -rf '%s'", top);
	return tap_done();
}
