#include "qemucaps.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define PROBE_OUTPUT_MAX (64u << 10)
#define CACHE_MAX 4096u

static const struct vsmmu_qemu_version v9_0 = { 9, 0, 0 }, v10_2 = { 10, 2, 0 },
				       v11_0 = { 11, 0, 0 }, v11_1 = { 11, 1, 0 };

int vsmmu_qemu_version_cmp(const struct vsmmu_qemu_version *a,
			   const struct vsmmu_qemu_version *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->micro != b->micro)
		return a->micro < b->micro ? -1 : 1;
	return 0;
}

/* "X.Y.Z" at s, each part 0..9999: 0 and *end past it, or -1. */
static int parse_xyz(const char *s, struct vsmmu_qemu_version *v, const char **end)
{
	int *parts[] = { &v->major, &v->minor, &v->micro };

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(parts); i++) {
		char *e = NULL;
		long n;

		if (i > 0 && *s++ != '.')
			return -1;
		if (*s < '0' || *s > '9')
			return -1;
		n = strtol(s, &e, 10);
		if (n > 9999)
			return -1;
		*parts[i] = (int)n;
		s = e;
	}
	*end = s;
	return 0;
}

int vsmmu_qemucaps_parse_version(const char *text, struct vsmmu_qemu_version *out,
				 vsmmu_err *err)
{
	static const char marker[] = "QEMU emulator version ";
	const char *p = text ? strstr(text, marker) : NULL;
	struct vsmmu_qemu_version v = { 0, 0, 0 };
	const char *end = NULL;

	if (!p || parse_xyz(p + strlen(marker), &v, &end) < 0)
		return vsmmu_fail(err, "no \"%sX.Y.Z\" in its -version output", marker);
	*out = v;
	return 0;
}

/* A property line of `-device X,help`: two spaces, the name, '='. */
static bool help_has_prop(const char *text, const char *name)
{
	size_t len = strlen(name);

	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		while (*line == ' ')
			line++;
		if (strncmp(line, name, len) == 0 && line[len] == '=')
			return true;
	}
	return false;
}

void vsmmu_qemucaps_parse_smmu_help(const char *text, struct vsmmu_qemucaps *caps)
{
	bool listed = text && strstr(text, "arm-smmuv3 options:") != NULL;

	caps->smmu_primary_bus = listed && help_has_prop(text, "primary-bus");
	caps->smmu_accel = listed && help_has_prop(text, "accel");
}

static void need_at_least(struct vsmmu_qemu_need *need, const struct vsmmu_qemu_version *v,
			  const char *why)
{
	if (vsmmu_qemu_version_cmp(&need->version, v) < 0) {
		need->version = *v;
		need->why = why;
	}
}

static bool plan_has_auto(const struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		if (vsmmu_streq(plan->props[i], "auto"))
			return true;
	return false;
}

static bool plan_has_vsmmu(const struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < plan->n_expanders; i++)
		if (plan->expanders[i].has_hostdevs)
			return true;
	return plan->root_vsmmu;
}

void vsmmu_qemucaps_need(const struct vsmmu_plan *plan, struct vsmmu_qemu_need *need)
{
	static const size_t cmdqv = 4; /* index of "cmdqv" in VSMMU_SMMU_PROPS */

	*need = (struct vsmmu_qemu_need){ .why = "nothing" };
	if (plan->mode == VSMMU_MODE_ACCEL)
		need_at_least(need, &v9_0, "-object iommufd");
	if (plan_has_vsmmu(plan)) {
		need->primary_bus = true;
		need_at_least(need, &v10_2, "user-creatable arm-smmuv3 with primary-bus");
	}
	if (plan->mode == VSMMU_MODE_ACCEL && plan_has_vsmmu(plan)) {
		need->accel = true;
		need_at_least(need, &v11_0, "arm-smmuv3 accel=on");
	}
	if (plan_has_auto(plan))
		need_at_least(need, &v11_1, "arm-smmuv3 property value 'auto'");
	if (plan->props[cmdqv] && !vsmmu_streq(plan->props[cmdqv], "off"))
		need_at_least(need, &v11_1, "arm-smmuv3 cmdqv");
}

/* X.Y.50 and later are development snapshots of the release after X.Y. */
static struct vsmmu_qemu_version effective_version(const struct vsmmu_qemu_version *v)
{
	if (v->micro < 50)
		return *v;
	return v->minor >= 2 ? (struct vsmmu_qemu_version){ v->major + 1, 0, 0 }
			     : (struct vsmmu_qemu_version){ v->major, v->minor + 1, 0 };
}

int vsmmu_qemucaps_check(const char *binary, const struct vsmmu_qemucaps *caps,
			 const struct vsmmu_qemu_need *need, vsmmu_err *err)
{
	struct vsmmu_qemu_version eff = effective_version(&caps->version);
	const char *missing = need->primary_bus && !caps->smmu_primary_bus ? "primary-bus"
			    : need->accel && !caps->smmu_accel ? "accel" : NULL;

	if (vsmmu_qemu_version_cmp(&eff, &need->version) >= 0 && !missing)
		return 0;
	return vsmmu_fail(err, "%s: QEMU %d.%d.%d cannot run this plan, it needs QEMU %d.%d or "
			  "newer (%s)%s%s; install a newer QEMU or set 'qemu =' in vsmmu.conf",
			  binary, caps->version.major, caps->version.minor, caps->version.micro,
			  need->version.major, need->version.minor, need->why,
			  missing ? " and its arm-smmuv3 has no " : "", missing ? missing : "");
}

/* ---- Probing ---- */

/* Root (the hook) runs the probe as the QEMU user: QEMU never runs as root
 * on vsmmu's account, and it sees what it will see when libvirt starts it. */
static void probe_child(int out_fd, const char *binary, char *const *argv,
			const struct vsmmu_qemu_ids *as)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(out_fd, STDERR_FILENO) < 0)
		_exit(126);
	if (as && geteuid() == 0 &&
	    (setgroups(0, NULL) < 0 || setgid(as->gid) < 0 || setuid(as->uid) < 0))
		_exit(126);
	execv(binary, argv);
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read fd into buf until EOF or the deadline: 0 EOF, 1 timed out. */
static int read_until(int fd, struct vsmmu_buf *buf, long long deadline)
{
	char chunk[4096];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return 1;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return 1;
		n = read(fd, chunk, sizeof(chunk));
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return 0;
		if (n > 0 && buf->len + (size_t)n <= PROBE_OUTPUT_MAX)
			vsmmu_buf_printf(buf, "%.*s", (int)n, chunk);
	}
}

static int run_probe(const char *binary, const struct vsmmu_qemu_ids *as, const char *arg1,
		     const char *arg2, char **out, vsmmu_err *err)
{
	char *const argv[] = { (char *)binary, (char *)arg1, (char *)arg2, NULL };
	_cleanup_buf_ struct vsmmu_buf buf = { 0 };
	int fds[2], status = 0, timed_out;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return vsmmu_fail_errno(err, errno, "cannot probe %s", binary);
	pid = fork();
	if (pid == 0)
		probe_child(fds[1], binary, argv, as);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return vsmmu_fail_errno(err, errno, "cannot probe %s", binary);
	}
	timed_out = read_until(fds[0], &buf, now_ms() + VSMMU_QEMUCAPS_TIMEOUT_MS);
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		return vsmmu_fail(err, "%s %s %s: no answer within %d ms, killed", binary, arg1,
				  arg2 ? arg2 : "", VSMMU_QEMUCAPS_TIMEOUT_MS);
	*out = buf.data ? VSMMU_STEAL(buf.data) : vsmmu_xstrdup("");
	return 0;
}

static int probe_as(const char *binary, const struct vsmmu_qemu_ids *as,
		    struct vsmmu_qemucaps *caps, vsmmu_err *err)
{
	_cleanup_free_ char *version = NULL, *help = NULL;
	vsmmu_err why;

	if (run_probe(binary, as, "-version", NULL, &version, err) < 0)
		return -1;
	if (vsmmu_qemucaps_parse_version(version, &caps->version, &why) < 0)
		return vsmmu_fail(err, "%s: %s; is it a QEMU binary?", binary, why.msg);
	if (run_probe(binary, as, "-device", "arm-smmuv3,help", &help, err) < 0)
		return -1;
	vsmmu_qemucaps_parse_smmu_help(help, caps);
	return 0;
}

int vsmmu_qemucaps_probe(const char *binary, struct vsmmu_qemucaps *caps, vsmmu_err *err)
{
	return probe_as(binary, NULL, caps, err);
}

/* ---- Cache ---- */

static char *cache_key(const char *binary, vsmmu_err *err)
{
	struct stat st;

	if (stat(binary, &st) < 0) {
		vsmmu_fail_errno(err, errno, "cannot stat %s", binary);
		return NULL;
	}
	return vsmmu_xasprintf("path=%s\nsize=%lld\nmtime=%lld.%09ld\n", binary,
			       (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			       st.st_mtim.tv_nsec);
}

/* "0" or "1" after prefix at *s, then a newline. */
static int parse_flag(const char **s, const char *prefix, bool *out)
{
	const char *p = *s;

	if (!vsmmu_has_prefix(p, prefix))
		return -1;
	p += strlen(prefix);
	if ((p[0] != '0' && p[0] != '1') || p[1] != '\n')
		return -1;
	*out = p[0] == '1';
	*s = p + 2;
	return 0;
}

static int parse_cache_body(const char *body, struct vsmmu_qemucaps *caps)
{
	struct vsmmu_qemucaps c = { 0 };
	const char *p = body;

	if (!vsmmu_has_prefix(p, "version=") || parse_xyz(p + strlen("version="), &c.version, &p) < 0 ||
	    *p++ != '\n' || parse_flag(&p, "primary_bus=", &c.smmu_primary_bus) < 0 ||
	    parse_flag(&p, "accel=", &c.smmu_accel) < 0 || *p)
		return -1;
	*caps = c;
	return 0;
}

/* What the cache at path says about binary: 1 and caps, or 0 and why not. */
static int read_cache(const char *rundir, const char *path, const char *key,
		      struct vsmmu_qemucaps *caps, vsmmu_err *err)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;

	/* Only what root wrote, in a run dir only root writes (the hook's
	 * trust rules, docs/design-handoff.md); anything else is no cache. */
	if (lstat(rundir, &st) < 0) {
		vsmmu_fail_errno(err, errno, "cannot inspect %s", rundir);
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		vsmmu_fail(err, "%s is not a directory", rundir);
		return 0;
	}
	if (vsmmu_check_trusted(rundir, &st, err) < 0 ||
	    vsmmu_read_trusted(path, CACHE_MAX, &text, err) < 0)
		return 0;
	if (!vsmmu_has_prefix(text, key)) {
		vsmmu_fail(err, "%s is for another QEMU binary or an older one", path);
		return 0;
	}
	if (parse_cache_body(text + strlen(key), caps) < 0) {
		vsmmu_fail(err, "%s is malformed", path);
		return 0;
	}
	return 1;
}

int vsmmu_qemucaps_load(const char *rundir, const char *binary, struct vsmmu_qemucaps *caps,
			vsmmu_err *err)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/%s", rundir, VSMMU_QEMUCAPS_FILE);
	_cleanup_free_ char *key = cache_key(binary, err);

	return key ? read_cache(rundir, path, key, caps, err) : -1;
}

int vsmmu_qemucaps_save(const char *rundir, const char *binary,
			const struct vsmmu_qemucaps *caps, vsmmu_err *err)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/%s", rundir, VSMMU_QEMUCAPS_FILE);
	_cleanup_free_ char *key = cache_key(binary, err);
	_cleanup_free_ char *text = NULL;

	if (!key)
		return -1;
	text = vsmmu_xasprintf("%sversion=%d.%d.%d\nprimary_bus=%d\naccel=%d\n", key,
			       caps->version.major, caps->version.minor, caps->version.micro,
			       caps->smmu_primary_bus, caps->smmu_accel);
	/* 0644 whatever the umask: the wrapper reads it as the QEMU user */
	return vsmmu_write_atomic(path, text, strlen(text), 0644, err);
}

int vsmmu_qemucaps_get(const char *rundir, const char *binary, struct vsmmu_qemucaps *caps,
		       vsmmu_err *err)
{
	vsmmu_err ignored;

	if (vsmmu_qemucaps_load(rundir, binary, caps, &ignored) > 0)
		return 0;
	return vsmmu_qemucaps_probe(binary, caps, err);
}

int vsmmu_qemucaps_refresh(const char *rundir, const char *binary,
			   const struct vsmmu_qemu_ids *as, vsmmu_err *err)
{
	struct vsmmu_qemucaps caps = { 0 };
	vsmmu_err stale;
	int r = vsmmu_qemucaps_load(rundir, binary, &caps, &stale);

	if (r != 0)
		return r < 0 ? vsmmu_wrap(err, "%s", stale.msg) : 0;
	if (probe_as(binary, as, &caps, err) < 0)
		return -1;
	return vsmmu_qemucaps_save(rundir, binary, &caps, err);
}
