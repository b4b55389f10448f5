/* Facts about the running host from /proc: the boot time, when a process
 * started, and which libvirt daemon runs. The /proc root is a parameter,
 * so tests point it at a fake tree. */
#ifndef VSMMU_PROC_H
#define VSMMU_PROC_H

/* "btime N" from <proc>/stat: boot time, epoch seconds. 0 or -1. */
int vsmmu_proc_boot_time(const char *proc, long long *btime);
/* The start time of pid (clock ticks since boot), field 22 of
 * <proc>/<pid>/stat. 0 or -1. */
int vsmmu_proc_start_ticks(const char *proc, const char *pid, unsigned long long *ticks);
/* The running libvirtd or virtqemud: "name (pid N)" and its start (epoch
 * seconds), or NULL when none runs or <proc> cannot tell. */
char *vsmmu_proc_find_daemon(const char *proc, long long *start);

#endif
