#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define LOCK_FILE ".lock"
#define LOCK_POLL_MS 10

/* ---- names ---- */

/* 64-bit FNV-1a: tells apart long names that share their first bytes. */
static unsigned long long fnv1a(const char *s)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

char *vsmmu_rundir_escape(const char *s, bool dots, size_t max)
{
	struct vsmmu_buf b = { 0 };

	vsmmu_buf_printf(&b, "%s", "");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			    (dots && *p == '.' && p != (const unsigned char *)s);

		if (max && b.len > max) {
			b.len = max;
			b.data[b.len] = '\0';
			vsmmu_buf_printf(&b, "~%016llx", fnv1a(s));
			break;
		}
		vsmmu_buf_printf(&b, keep ? "%c" : "%%%02X", *p);
	}
	return b.data;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *vsmmu_rundir_unescape(const char *name)
{
	_cleanup_free_ char *out = vsmmu_xcalloc(strlen(name) + 1, 1);
	size_t n = 0;

	for (const char *p = name; *p; p++) {
		if (*p != '%') {
			if (*p == '.')
				return NULL;
			out[n++] = *p;
			continue;
		}
		if (hexval(p[1]) < 0 || hexval(p[2]) < 0)
			return NULL;
		out[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
		p += 2;
	}
	return VSMMU_STEAL(out);
}

/* ---- directories ---- */

int vsmmu_rundir_make_dir(const char *path, mode_t mode, vsmmu_err *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return vsmmu_fail_errno(err, errno, "cannot create %s", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return vsmmu_fail(err, "%s is not a directory (a symlink or a file); remove it",
				  path);
	if (fd < 0 || fstat(fd, &st) < 0)
		return vsmmu_fail_errno(err, errno, "cannot inspect %s", path);
	if (vsmmu_check_trusted(path, &st, err) < 0)
		return -1;
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
		return vsmmu_fail_errno(err, errno, "cannot chmod %s to %04o", path,
					(unsigned int)mode);
	return 0;
}

int vsmmu_rundir_check_dir(const char *path, vsmmu_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return vsmmu_fail_errno(err, errno, "cannot inspect %s", path);
	if (!S_ISDIR(st.st_mode))
		return vsmmu_fail(err, "%s is not a directory (a symlink or a file); remove it",
				  path);
	return vsmmu_check_trusted(path, &st, err);
}

/* The wrapper reads the run dir as the QEMU user: world-readable, written
 * by root alone. */
int vsmmu_rundir_make(const char *rundir, vsmmu_err *err)
{
	return vsmmu_rundir_make_dir(rundir, 0755, err);
}

/* ---- the lock ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int vsmmu_rundir_lock(const char *rundir, int timeout_ms, int *fd, vsmmu_err *err)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/" LOCK_FILE, rundir);
	_cleanup_close_ int lfd = -1;
	struct stat st;

	if (vsmmu_rundir_make(rundir, err) < 0)
		return -1;
	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0)
		return vsmmu_fail_errno(err, errno, "cannot open the lock %s", path);
	if (fstat(lfd, &st) < 0)
		return vsmmu_fail_errno(err, errno, "cannot inspect the lock %s", path);
	if (!S_ISREG(st.st_mode))
		return vsmmu_fail(err, "the lock %s is not a regular file; remove it", path);
	if (vsmmu_check_trusted(path, &st, err) < 0)
		return -1;
	for (int waited = 0; flock(lfd, LOCK_EX | LOCK_NB) < 0; waited += LOCK_POLL_MS) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return vsmmu_fail_errno(err, errno, "cannot lock %s", path);
		if (waited >= timeout_ms)
			return vsmmu_fail(err, "%s is still locked after %d ms: a running process "
					  "holds it (the lock ends with its holder, removing the "
					  "file does not help); find it with 'fuser -v %s'", path,
					  timeout_ms, path);
		sleep_ms(LOCK_POLL_MS);
	}
	*fd = VSMMU_STEAL_FD(lfd);
	return 0;
}
