/* The run dir (default /run/vsmmu) as a whole: where each file lies, the
 * names files get in it, the directories vsmmu trusts in it, and the lock
 * that every hook run holds while it changes anything under it, domain
 * states (state.h) and node records (ledger.h) alike:
 *
 *   <rundir>/.lock            flock'ed by every hook run that changes state
 *   <rundir>/.nodes/<esc>     one record per shared device node vsmmu
 *                             changed (ledger.h)
 *   <rundir>/.qemu-caps       the QEMU capability cache (lib/qemu/qemucaps.h)
 *   <rundir>/<dir>/state.json per domain: what the wrapper and release read
 *                             (state.h)
 *
 * Every name vsmmu makes from a domain name or a path is escaped
 * (vsmmu_rundir_escape): it never starts with '.', so none can collide
 * with an internal file. Directories get explicit modes; everything read
 * back must pass vsmmu_check_trusted. */
#ifndef VSMMU_RUNDIR_H
#define VSMMU_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define VSMMU_LOCK_TIMEOUT_MS 10000

/* Create the run dir (0755, root's: the wrapper reads it as the QEMU
 * user), or accept a trusted one. 0 or -1. */
int vsmmu_rundir_make(const char *rundir, vsmmu_err *err);

/* Exclusive lock on <rundir>/.lock, polled for up to timeout_ms. *fd gets
 * the descriptor; closing it releases the lock. */
int vsmmu_rundir_lock(const char *rundir, int timeout_ms, int *fd, vsmmu_err *err);

/* Create the directory path with exactly mode (whatever the umask), or
 * accept it when it is already one vsmmu can trust, setting mode on it. A
 * symlink or file planted there is refused, so nothing is ever written
 * through one. */
int vsmmu_rundir_make_dir(const char *path, mode_t mode, vsmmu_err *err);
/* A directory vsmmu created, before it reads what is inside: 0, or -1
 * with kind VSMMU_ERR_ABSENT when it is not there. */
int vsmmu_rundir_check_dir(const char *path, vsmmu_err *err);

/* s as one file name: every byte but [A-Za-z0-9_-] (and '.' after the
 * first, when dots) as %XX; cut after max bytes with a hash of the whole,
 * when max > 0. */
char *vsmmu_rundir_escape(const char *s, bool dots, size_t max);
/* The inverse of vsmmu_rundir_escape(s, false, 0); NULL for a name it
 * cannot have produced (a temporary file's). */
char *vsmmu_rundir_unescape(const char *name);

#endif
