#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define PROC_STAT_MAX (64u << 10)

int vsmmu_proc_start_ticks(const char *proc, const char *pid, unsigned long long *ticks)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/%s/stat", proc, pid);
	_cleanup_free_ char *text = NULL;
	const char *p;
	char *end = NULL;
	vsmmu_err ignored;

	if (vsmmu_read_file(path, PROC_STAT_MAX, &text, NULL, &ignored) < 0)
		return -1;
	p = strrchr(text, ')');
	/* after "pid (comm)": field 3 (state) ... field 22 (starttime) */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	errno = 0;
	*ticks = strtoull(p + 1, &end, 10);
	return errno || end == p + 1 || (*end != ' ' && *end != '\n' && *end) ? -1 : 0;
}

int vsmmu_proc_boot_time(const char *proc, long long *btime)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/stat", proc);
	_cleanup_free_ char *text = NULL;
	vsmmu_err ignored;

	if (vsmmu_read_file(path, PROC_STAT_MAX, &text, NULL, &ignored) < 0)
		return -1;
	for (char *line = text; line; line = strchr(line, '\n')) {
		char *end = NULL;

		if (*line == '\n')
			line++;
		if (!vsmmu_has_prefix(line, "btime "))
			continue;
		errno = 0;
		*btime = strtoll(line + strlen("btime "), &end, 10);
		return errno || end == line + strlen("btime ") || (*end && *end != '\n') ? -1 : 0;
	}
	return -1;
}

static bool is_pid(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

char *vsmmu_proc_find_daemon(const char *proc, long long *start)
{
	_cleanup_closedir_ DIR *d = opendir(proc);
	const struct dirent *e;
	long long btime;
	long hz = sysconf(_SC_CLK_TCK);

	if (!d || vsmmu_proc_boot_time(proc, &btime) < 0 || hz <= 0)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		_cleanup_free_ char *path = NULL, *comm = NULL;
		unsigned long long ticks;
		vsmmu_err ignored;

		if (!is_pid(e->d_name))
			continue;
		path = vsmmu_xasprintf("%s/%s/comm", proc, e->d_name);
		if (vsmmu_read_attr(path, &comm, &ignored) < 0 ||
		    (strcmp(comm, "libvirtd") != 0 && strcmp(comm, "virtqemud") != 0) ||
		    vsmmu_proc_start_ticks(proc, e->d_name, &ticks) < 0)
			continue;
		*start = btime + (long long)(ticks / (unsigned long long)hz);
		return vsmmu_xasprintf("%s (pid %s)", comm, e->d_name);
	}
	return NULL;
}
