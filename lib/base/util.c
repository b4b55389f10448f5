#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void vsmmu_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static void oom(void)
{
	fputs("vsmmu: out of memory\n", stderr);
	abort();
}

void *vsmmu_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *vsmmu_xrealloc(void *p, size_t n, size_t size)
{
	void *q;

	if (size && n > SIZE_MAX / size)
		oom();
	q = realloc(p, (n * size) > 0 ? n * size : 1);
	if (!q)
		oom();
	return q;
}

char *vsmmu_xstrdup(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		oom();
	return d;
}

char *vsmmu_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return s;
}

void vsmmu_grow(void *array_ptr, size_t *cap, size_t n, size_t size)
{
	void **array = array_ptr;
	size_t new_cap;

	if (n < *cap)
		return;
	new_cap = *cap ? *cap * 2 : 8;
	while (new_cap <= n)
		new_cap *= 2;
	*array = vsmmu_xrealloc(*array, new_cap, size);
	memset((char *)*array + *cap * size, 0, (new_cap - *cap) * size);
	*cap = new_cap;
}

int vsmmu_read_stream(FILE *f, const char *what, size_t max, char **out, size_t *len,
		      vsmmu_err *err)
{
	_cleanup_free_ char *data = NULL;
	size_t used = 0, cap = 0;

	for (;;) {
		size_t got;

		/* Small steps: most reads are sysfs attributes of a few bytes, and
		 * vsmmu_grow zeroes what it adds. */
		vsmmu_grow(&data, &cap, used + 512, 1);
		got = fread(data + used, 1, cap - used - 1, f);
		used += got;
		if (used > max)
			return vsmmu_fail_kind(err, VSMMU_ERR_TOO_BIG, "%s is larger than %zu bytes; "
					       "refusing to read it", what, max);
		if (got == 0)
			break;
	}
	if (ferror(f))
		return vsmmu_fail_errno(err, errno, "cannot read %s", what);
	data[used] = '\0';
	if (len)
		*len = used;
	*out = VSMMU_STEAL(data);
	return 0;
}

int vsmmu_read_file(const char *path, size_t max, char **out, size_t *len, vsmmu_err *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");

	if (!f) /* err->kind tells an absent file from an unreadable one */
		return vsmmu_fail_errno(err, errno, "cannot open %s", path);
	return vsmmu_read_stream(f, path, max, out, len, err);
}

int vsmmu_check_trusted(const char *path, const struct stat *st, vsmmu_err *err)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return vsmmu_fail(err, "%s is owned by uid %u, not by root; vsmmu trusts only what "
				  "root created: remove it (rm -rf %s)", path, (unsigned int)st->st_uid,
				  path);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return vsmmu_fail(err, "%s can be written by group or others (mode %04o); vsmmu "
				  "trusts only what root alone can write: chmod go-w %s, or remove it",
				  path, (unsigned int)(st->st_mode & 07777), path);
	return 0;
}

int vsmmu_read_trusted(const char *path, size_t max, char **out, vsmmu_err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	_cleanup_fclose_ FILE *f = NULL;
	struct stat st;

	if (fd < 0 && errno == ELOOP)
		return vsmmu_fail(err, "%s is a symbolic link; vsmmu wrote a file there: remove it",
				  path);
	if (fd < 0)
		return vsmmu_fail_errno(err, errno, "cannot open %s", path);
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return vsmmu_fail_errno(err, errno, "cannot read %s", path);
	}
	if (fstat(fd, &st) < 0)
		return vsmmu_fail_errno(err, errno, "cannot inspect %s", path);
	if (!S_ISREG(st.st_mode))
		return vsmmu_fail(err, "%s is not a regular file; vsmmu wrote a file there: remove it",
				  path);
	if (vsmmu_check_trusted(path, &st, err) < 0)
		return -1;
	return vsmmu_read_stream(f, path, max, out, NULL, err);
}

/* sysfs attributes are regular files. Anything else is refused unread: a
 * FIFO in their place would block the hook, and libvirtd with it, forever. */
static FILE *open_attr(const char *path, vsmmu_err *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;
	int saved = errno;

	if (fd < 0) {
		vsmmu_fail_errno(err, saved, "cannot open %s", path);
		return NULL;
	}
	saved = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR
				   : !S_ISREG(st.st_mode) ? EINVAL : 0;
	f = saved ? NULL : fdopen(fd, "r");
	if (!f) {
		saved = saved ? saved : errno;
		close(fd);
		vsmmu_fail(err, "cannot read %s: %s", path,
			   saved == EINVAL ? "not a regular file" : strerror(saved));
	}
	return f;
}

int vsmmu_read_attr(const char *path, char **out, vsmmu_err *err)
{
	_cleanup_fclose_ FILE *f = open_attr(path, err);
	char *data = NULL;
	size_t len = 0;

	if (!f)
		return -1;
	if (vsmmu_read_stream(f, path, VSMMU_SYSFS_ATTR_MAX, &data, &len, err) < 0)
		return -1;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
		data[--len] = '\0';
	if (strcspn(data, "\n") != len) { /* a value, not lines: keeps messages on one line */
		free(data);
		return vsmmu_fail(err, "%s holds more than one line, not a single value", path);
	}
	*out = data;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int vsmmu_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
		       vsmmu_err *err)
{
	_cleanup_free_ char *tmp = vsmmu_xasprintf("%s.tmpXXXXXX", path);
	_cleanup_close_ int fd = mkstemp(tmp);
	int saved;

	if (fd < 0)
		return vsmmu_fail_errno(err, errno, "cannot create a temporary file for %s", path);
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	saved = errno ? errno : EIO;
	unlink(tmp);
	return vsmmu_fail_errno(err, saved, "cannot write %s", path);
}

int vsmmu_parse_ulong(const char *s, int base, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || !end || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int vsmmu_parse_int(const char *s, long min, long max, int *out)
{
	char *end = NULL;
	long v;

	if (!s || !*s || *s == ' ' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !end || *end || v < min || v > max || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

bool vsmmu_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool vsmmu_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

bool vsmmu_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

bool vsmmu_has_prefix(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

void vsmmu_buf_vprintf(struct vsmmu_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		oom();
	vsmmu_grow(&b->data, &b->cap, b->len + (size_t)n + 1, 1);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	b->len += (size_t)n;
}

void vsmmu_buf_printf(struct vsmmu_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsmmu_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void vsmmu_buf_free(struct vsmmu_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void vsmmu_strlist_add(struct vsmmu_strlist *l, const char *s)
{
	l->items = vsmmu_xrealloc(l->items, l->n + 1, sizeof(char *));
	l->items[l->n++] = vsmmu_xstrdup(s);
}

void vsmmu_strlist_addf(struct vsmmu_strlist *l, const char *fmt, ...)
{
	struct vsmmu_buf b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	vsmmu_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	l->items = vsmmu_xrealloc(l->items, l->n + 1, sizeof(char *));
	l->items[l->n++] = b.data;
}

void vsmmu_strlist_add_lines(struct vsmmu_strlist *l, const char *text)
{
	for (const char *line = text; line && *line;) {
		size_t len = strcspn(line, "\n");

		vsmmu_strlist_addf(l, "%.*s", (int)len, line);
		line += len + (line[len] == '\n');
	}
}

void vsmmu_strlist_remove(struct vsmmu_strlist *l, size_t i)
{
	free(l->items[i]);
	memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(char *));
	l->n--;
}

bool vsmmu_strlist_has(const struct vsmmu_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

char *vsmmu_strlist_join(const struct vsmmu_strlist *l)
{
	struct vsmmu_buf b = { 0 };

	for (size_t i = 0; i < l->n; i++)
		vsmmu_buf_printf(&b, "%s%s", i ? ", " : "", l->items[i]);
	return b.data;
}

void vsmmu_strlist_clear(struct vsmmu_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void vsmmu_problems_print(const struct vsmmu_strlist *p, FILE *out, const char *prefix)
{
	for (size_t i = 0; i < p->n && i < VSMMU_PROBLEMS_SHOWN; i++)
		fprintf(out, "%s: %s\n", prefix, p->items[i]);
	if (p->n > VSMMU_PROBLEMS_SHOWN)
		fprintf(out, "%s: ... and %zu more problems not shown (%zu in all)\n", prefix,
			p->n - VSMMU_PROBLEMS_SHOWN, p->n);
}
