/* vsmmu-hook: what libvirt runs, at every operation of every domain. It
 * links only libc, so an unmanaged domain costs little more than an exec:
 * it reads the XML, and only when it may be managed hands it, on a memfd as
 * stdin, to vsmmu-hook-full (libxml2, jansson), which does the work. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hookop.h"
#include "util.h"

#define FULL_NAME "vsmmu-hook-full"

/* stdin for the full hook: the XML already read, from the start. */
static int xml_as_stdin(const char *xml, size_t len)
{
	int fd = memfd_create("vsmmu-domain-xml", 0);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, xml + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return close(fd), -1;
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, STDIN_FILENO) < 0)
		return close(fd), -1;
	return close(fd);
}

/* VSMMU_HOOK_FULL; else beside this binary (a build tree); else the
 * installed one. Never in qemu.d itself: libvirt would run it as a hook. */
static void exec_full(char **argv)
{
	const char *env = getenv("VSMMU_HOOK_FULL");
	char self[PATH_MAX], sibling[PATH_MAX + sizeof(FULL_NAME)];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (env && *env)
		execv(env, argv);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			snprintf(sibling, sizeof(sibling), "%.*s/%s", (int)(slash - self), self,
				 FULL_NAME);
			if (access(sibling, X_OK) == 0)
				execv(sibling, argv);
		}
	}
	execv(VSMMU_LIBEXECDIR "/" FULL_NAME, argv);
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *xml = NULL;
	enum vsmmu_hook_op op;
	size_t len = 0;
	int rc = vsmmu_hook_begin(argc, argv, VSMMU_XML_MAX, &op, &xml, &len);

	if (rc >= 0)
		return rc;
	if (!vsmmu_xml_maybe_managed(xml, len))
		return 0;
	if (xml_as_stdin(xml, len) < 0) {
		fprintf(stderr, "vsmmu: %s: cannot pass the domain XML on: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	exec_full(argv);
	fprintf(stderr, "vsmmu: %s: cannot run %s/%s: %s; reinstall vsmmu\n", argv[1],
		VSMMU_LIBEXECDIR, FULL_NAME, strerror(errno));
	return 1;
}
