#include "emulator.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

#define RECORD_MAX (64u << 10)
#define CONF_TEXT_MAX (64u << 10)
#define RUN_OUTPUT_MAX 4096

/* ---- The record ---- */

static const char *const edit_names[] = { "replaced", "inserted", "created" };

void vsmmu_emulator_record_clear(struct vsmmu_emulator_record *r)
{
	free(r->old_line);
	free(r->wrapper);
	memset(r, 0, sizeof(*r));
}

char *vsmmu_emulator_record_to_json(const struct vsmmu_emulator_record *r)
{
	json_t *o = json_pack("{s:s, s:s}", "edit", edit_names[r->edit], "wrapper", r->wrapper);
	char *s;

	if (r->old_line)
		json_object_set_new(o, "old_line", json_string(r->old_line));
	s = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

int vsmmu_emulator_record_parse(const char *text, const char *path,
				struct vsmmu_emulator_record *r, vsmmu_err *err)
{
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	const char *edit = NULL, *wrapper = NULL, *old_line = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (o && json_unpack(o, "{s:s, s:s, s?:s}", "edit", &edit, "wrapper", &wrapper,
			     "old_line", &old_line) == 0) {
		for (size_t i = 0; i < VSMMU_ARRAY_LEN(edit_names); i++)
			if (strcmp(edit, edit_names[i]) == 0) {
				r->edit = (enum vsmmu_conf_edit_kind)i;
				rc = 0;
			}
	}
	if (rc == 0 && r->edit == VSMMU_CONF_EDIT_REPLACED && !old_line)
		rc = -1;
	if (rc == 0) {
		r->wrapper = vsmmu_xstrdup(wrapper);
		r->old_line = old_line ? vsmmu_xstrdup(old_line) : NULL;
	}
	json_decref(o);
	if (rc < 0)
		return vsmmu_fail(err, "%s is not a record vsmmuctl emulator install wrote; undo the "
				  "install by hand (see vsmmuctl(1))", path);
	return 0;
}

/* ---- Decisions ---- */

void vsmmu_emulator_facts_clear(struct vsmmu_emulator_facts *f)
{
	free(f->diverted_by);
	free(f->divert_to);
	free(f->path_target);
	free(f->conf_qemu);
	free(f->recorded_wrapper);
	f->diverted_by = f->divert_to = f->path_target = f->conf_qemu = f->recorded_wrapper = NULL;
}

/* Diverted the way install diverts: a local diversion to the .real. */
static bool diverted_by_us(const struct vsmmu_emulator_facts *f)
{
	return vsmmu_streq(f->diverted_by, "LOCAL") && vsmmu_streq(f->divert_to, VSMMU_EMULATOR_REAL);
}

static bool all_in_place(const struct vsmmu_emulator_facts *f)
{
	return f->recorded && f->at_path == VSMMU_EMU_WRAPPER && diverted_by_us(f) &&
	       f->real_present && f->wrapper_present && vsmmu_streq(f->conf_qemu, VSMMU_EMULATOR_REAL);
}

static bool any_in_place(const struct vsmmu_emulator_facts *f)
{
	return f->recorded || f->at_path == VSMMU_EMU_WRAPPER || diverted_by_us(f) ||
	       vsmmu_streq(f->conf_qemu, VSMMU_EMULATOR_REAL);
}

bool vsmmu_emulator_consistent(const struct vsmmu_emulator_facts *f, bool *installed, char **why)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 };

	*installed = all_in_place(f);
	*why = NULL;
	if (*installed || !any_in_place(f))
		return true;
	if (!f->recorded)
		vsmmu_buf_printf(&b, "no record %s\n", VSMMU_EMULATOR_RECORD);
	if (f->at_path != VSMMU_EMU_WRAPPER)
		vsmmu_buf_printf(&b, "%s is not a symlink to the wrapper %s\n", VSMMU_EMULATOR_PATH,
				 f->wrapper);
	else if (!f->wrapper_present)
		vsmmu_buf_printf(&b, "%s links to %s, which is not installed\n", VSMMU_EMULATOR_PATH,
				 f->wrapper);
	if (!diverted_by_us(f))
		vsmmu_buf_printf(&b, "%s is not diverted locally to %s\n", VSMMU_EMULATOR_PATH,
				 VSMMU_EMULATOR_REAL);
	if (!f->real_present)
		vsmmu_buf_printf(&b, "%s is absent: no QEMU for the wrapper to run\n",
				 VSMMU_EMULATOR_REAL);
	if (!vsmmu_streq(f->conf_qemu, VSMMU_EMULATOR_REAL))
		vsmmu_buf_printf(&b, "vsmmu.conf's qemu is %s, not %s\n",
				 f->conf_qemu ? f->conf_qemu : "not set", VSMMU_EMULATOR_REAL);
	*why = VSMMU_STEAL(b.data);
	return false;
}

int vsmmu_emulator_may_install(const struct vsmmu_emulator_facts *f, vsmmu_err *err)
{
	if (!f->have_divert)
		return vsmmu_fail(err, "dpkg-divert is not available: emulator install works on Debian "
				  "and Ubuntu only; elsewhere point each domain's <emulator> at the "
				  "wrapper (vsmmuctl apply)");
	if (all_in_place(f))
		return 1;
	if (f->recorded)
		return vsmmu_fail(err, "an earlier emulator install is recorded in %s%s but is not all "
				  "in place; see 'vsmmuctl emulator status', then run 'vsmmuctl "
				  "emulator remove'", f->root, VSMMU_EMULATOR_RECORD);
	if (!f->wrapper_present)
		return vsmmu_fail(err, "the wrapper %s%s is not installed; install vsmmu first",
				  f->root, f->wrapper);
	if (f->diverted_by)
		return vsmmu_fail(err, "%s is already diverted (by %s, to %s); vsmmu does not divert "
				  "it a second time: remove that diversion first (dpkg-divert --list)",
				  VSMMU_EMULATOR_PATH, f->diverted_by,
				  f->divert_to ? f->divert_to : "?");
	if (f->at_path == VSMMU_EMU_ABSENT)
		return vsmmu_fail(err, "no QEMU at %s%s: install qemu-system-arm first", f->root,
				  VSMMU_EMULATOR_PATH);
	if (f->at_path != VSMMU_EMU_REGULAR)
		return vsmmu_fail(err, "%s%s is not a regular file%s%s: not QEMU as its package "
				  "installed it; vsmmu leaves it alone", f->root, VSMMU_EMULATOR_PATH,
				  f->path_target ? " but a symlink to " : "",
				  f->path_target ? f->path_target : "");
	if (f->real_present)
		return vsmmu_fail(err, "%s%s exists already; move it away first", f->root,
				  VSMMU_EMULATOR_REAL);
	if (f->conf_qemu && !vsmmu_emulator_qemu_is_ours(f->conf_qemu))
		return vsmmu_fail(err, "vsmmu.conf sets qemu = %s, not the default %s; set it back "
				  "to the default first, or keep using <emulator>", f->conf_qemu,
				  VSMMU_EMULATOR_PATH);
	return 0;
}

int vsmmu_emulator_may_remove(const struct vsmmu_emulator_facts *f, vsmmu_err *err)
{
	if (!f->recorded) {
		if (f->at_path == VSMMU_EMU_WRAPPER || diverted_by_us(f))
			return vsmmu_fail(err, "%s%s is missing, so vsmmu cannot tell what was there "
					  "before: undo by hand (rm %s; dpkg-divert --rename --remove "
					  "%s; restore qemu = in vsmmu.conf)", f->root,
					  VSMMU_EMULATOR_RECORD, VSMMU_EMULATOR_PATH,
					  VSMMU_EMULATOR_PATH);
		return 1;
	}
	if (f->diverted_by && !diverted_by_us(f))
		return vsmmu_fail(err, "%s is now diverted by %s to %s, not by vsmmu; remove that "
				  "diversion first", VSMMU_EMULATOR_PATH, f->diverted_by,
				  f->divert_to ? f->divert_to : "?");
	if (f->at_path == VSMMU_EMU_OTHER || (f->at_path == VSMMU_EMU_REGULAR && f->real_present))
		return vsmmu_fail(err, "%s%s is no longer the wrapper's symlink and %s is there too; "
				  "vsmmu cannot tell which is QEMU: put one of them away by hand",
				  f->root, VSMMU_EMULATOR_PATH, VSMMU_EMULATOR_REAL);
	return 0;
}

/* ---- Looking and acting ---- */

/* Run argv[0] from PATH. Exit status (127: not found), or -1 after a
 * message; stdout (bounded, trailing newline cut) in *out, the first line
 * of stderr in *why. */
static int run(char *const *argv, char **out, char **why, vsmmu_err *err)
{
	_cleanup_close_ int out_fd = memfd_create("vsmmu-out", MFD_CLOEXEC);
	_cleanup_close_ int err_fd = memfd_create("vsmmu-err", MFD_CLOEXEC);
	char buf[RUN_OUTPUT_MAX];
	int status = 0;
	ssize_t n;
	pid_t pid;

	if (out_fd < 0 || err_fd < 0)
		return vsmmu_fail_errno(err, errno, "cannot run %s", argv[0]);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return vsmmu_fail_errno(err, errno, "cannot run %s", argv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	n = pread(out_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	*out = vsmmu_xstrdup(buf);
	n = pread(err_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	*why = vsmmu_xstrdup(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* dpkg-divert [--root ROOT] ARGS...: stdout in *out (may be NULL). */
static int divert(const char *root, const char *const *args, char **out, vsmmu_err *err)
{
	const char *argv[12] = { "dpkg-divert" };
	_cleanup_free_ char *o = NULL, *why = NULL;
	size_t n = 1;
	int rc;

	if (*root) {
		argv[n++] = "--root";
		argv[n++] = root;
	}
	while (*args && n < VSMMU_ARRAY_LEN(argv) - 1)
		argv[n++] = *args++;
	rc = run((char *const *)argv, &o, &why, err);
	if (rc < 0)
		return -1;
	if (rc != 0) {
		_cleanup_buf_ struct vsmmu_buf cmd = { 0 };

		for (size_t i = 0; i < n; i++)
			vsmmu_buf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
		return vsmmu_fail(err, "'%s' exited %d%s%s", cmd.data, rc, *why ? ": " : "", why);
	}
	if (out)
		*out = *o ? VSMMU_STEAL(o) : NULL;
	return 0;
}

static char *in_root(const char *root, const char *path)
{
	return vsmmu_xasprintf("%s%s", root, path);
}

static void look_at_path(struct vsmmu_emulator_facts *f)
{
	_cleanup_free_ char *p = in_root(f->root, VSMMU_EMULATOR_PATH);
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;

	f->at_path = VSMMU_EMU_OTHER;
	if (lstat(p, &st) < 0) {
		if (errno == ENOENT)
			f->at_path = VSMMU_EMU_ABSENT;
		return;
	}
	if (S_ISREG(st.st_mode)) {
		f->at_path = VSMMU_EMU_REGULAR;
		return;
	}
	if (!S_ISLNK(st.st_mode) || (n = readlink(p, target, sizeof(target) - 1)) < 0)
		return;
	target[n] = '\0';
	f->path_target = vsmmu_xstrdup(target);
	if (strcmp(target, f->wrapper) == 0 || vsmmu_streq(target, f->recorded_wrapper))
		f->at_path = VSMMU_EMU_WRAPPER;
}

/* The wrapper install linked to, when its record says (the wrapper may
 * have moved since: another prefix). */
static char *recorded_wrapper(const char *root)
{
	_cleanup_free_ char *path = in_root(root, VSMMU_EMULATOR_RECORD), *text = NULL;
	struct vsmmu_emulator_record r;
	char *wrapper;

	if (vsmmu_read_trusted(path, RECORD_MAX, &text, NULL) < 0 ||
	    vsmmu_emulator_record_parse(text, path, &r, NULL) < 0)
		return NULL;
	wrapper = VSMMU_STEAL(r.wrapper);
	vsmmu_emulator_record_clear(&r);
	return wrapper;
}

static bool exists(const char *root, const char *path)
{
	_cleanup_free_ char *p = in_root(root, path);
	struct stat st;

	return lstat(p, &st) == 0;
}

static int read_optional(const char *path, size_t max, char **text, vsmmu_err *err)
{
	*text = NULL;
	if (vsmmu_read_file(path, max, text, NULL, err) == 0)
		return 0;
	return err->kind == VSMMU_ERR_ABSENT ? 0 : -1;
}

int vsmmu_emulator_gather(const char *root, const char *wrapper,
			  struct vsmmu_emulator_facts *f, vsmmu_err *err)
{
	static const char *const version[] = { "--version", NULL };
	const char *const listpackage[] = { "--listpackage", VSMMU_EMULATOR_PATH, NULL };
	const char *const truename[] = { "--truename", VSMMU_EMULATOR_PATH, NULL };
	_cleanup_free_ char *w = in_root(root, wrapper), *conf = in_root(root, VSMMU_CONF_DEFAULT);
	_cleanup_free_ char *text = NULL;
	struct stat st;
	vsmmu_err ignored;

	memset(f, 0, sizeof(*f));
	f->root = root;
	f->wrapper = wrapper;
	if (*root && (root[0] != '/' || stat(root, &st) < 0 || !S_ISDIR(st.st_mode)))
		return vsmmu_fail(err, "--root %s is not an absolute path to a directory", root);
	if (wrapper[0] != '/')
		return vsmmu_fail(err, "the wrapper path %s is not absolute; set VSMMU_WRAPPER to an "
				  "absolute path", wrapper);
	f->wrapper_present = stat(w, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
	f->have_divert = divert(root, (const char *const *)version, NULL, &ignored) == 0;
	if (f->have_divert && (divert(root, listpackage, &f->diverted_by, err) < 0 ||
			       (f->diverted_by && divert(root, truename, &f->divert_to, err) < 0)))
		return -1;
	f->recorded = exists(root, VSMMU_EMULATOR_RECORD);
	f->recorded_wrapper = f->recorded ? recorded_wrapper(root) : NULL;
	look_at_path(f);
	f->real_present = exists(root, VSMMU_EMULATOR_REAL);
	if (read_optional(conf, CONF_TEXT_MAX, &text, err) < 0)
		return -1;
	f->conf_present = text != NULL;
	f->conf_qemu = vsmmu_emulator_conf_qemu(text);
	return 0;
}

static int mkdir_p(const char *root, const char *dir, vsmmu_err *err)
{
	_cleanup_free_ char *p = in_root(root, dir);

	for (char *s = p + strlen(root) + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return vsmmu_fail_errno(err, errno, "cannot create %s", p);
		*s = c;
		if (c == '\0')
			return 0;
	}
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
}

/* The wrapper's symlink in place of what is at path, in one rename: the
 * path names QEMU or the wrapper at every moment, never nothing. */
static int put_symlink(const char *wrapper, const char *path, vsmmu_err *err)
{
	_cleanup_free_ char *tmp = vsmmu_xasprintf("%s.vsmmu-new", path);

	unlink(tmp);
	if (symlink(wrapper, tmp) < 0)
		return vsmmu_fail_errno(err, errno, "cannot create %s", tmp);
	if (rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		return vsmmu_fail_errno(err, saved, "cannot replace %s", path);
	}
	return 0;
}

struct paths {
	char *path, *real, *record, *conf;
};

static void paths_init(struct paths *p, const char *root)
{
	p->path = in_root(root, VSMMU_EMULATOR_PATH);
	p->real = in_root(root, VSMMU_EMULATOR_REAL);
	p->record = in_root(root, VSMMU_EMULATOR_RECORD);
	p->conf = in_root(root, VSMMU_CONF_DEFAULT);
}

static void paths_clear(struct paths *p)
{
	free(p->path);
	free(p->real);
	free(p->record);
	free(p->conf);
}

#define _cleanup_paths_ __attribute__((cleanup(paths_clear)))
#define _cleanup_record_ __attribute__((cleanup(vsmmu_emulator_record_clear)))

static const char *const add_args[] = { "--local", "--no-rename", "--divert", VSMMU_EMULATOR_REAL,
					"--add", VSMMU_EMULATOR_PATH, NULL };
static const char *const remove_args[] = { "--no-rename", "--remove", VSMMU_EMULATOR_PATH, NULL };

static int write_record(const struct paths *p, const char *root,
			const struct vsmmu_emulator_record *r, vsmmu_err *err)
{
	_cleanup_free_ char *json = vsmmu_emulator_record_to_json(r);

	if (mkdir_p(root, "/var/lib/vsmmu", err) < 0)
		return -1;
	return vsmmu_write_atomic(p->record, json, strlen(json), 0644, err);
}

/* The conf text for install, read and edited (nothing written yet), and
 * what the edit was in *r. */
static int edited_conf(const struct paths *p, char **out, struct vsmmu_emulator_record *r,
		       vsmmu_err *err)
{
	_cleanup_free_ char *text = NULL;

	if (read_optional(p->conf, CONF_TEXT_MAX, &text, err) < 0)
		return -1;
	return vsmmu_emulator_conf_set(text, p->conf, out, &r->edit, &r->old_line, err);
}

/* The record gone, and vsmmu's own directory with it unless something
 * else of vsmmu's is in it (apply's backups). */
static int drop_record(const char *root, const char *record)
{
	_cleanup_free_ char *dir = in_root(root, "/var/lib/vsmmu");

	if (unlink(record) < 0)
		return -1;
	rmdir(dir);
	return 0;
}

/* Steps install does, in order; undone from the last done back. */
enum install_step { DID_NOTHING, DID_RECORD, DID_LINK, DID_DIVERT, DID_SYMLINK };

static void undo_install(const struct vsmmu_emulator_facts *f, const struct paths *p,
			 enum install_step done)
{
	vsmmu_err ignored;

	if (done >= DID_SYMLINK)
		rename(p->real, p->path); /* QEMU back at its name, in one step */
	else if (done >= DID_LINK)
		unlink(p->real);
	if (done >= DID_DIVERT)
		divert(f->root, remove_args, NULL, &ignored);
	if (done >= DID_RECORD)
		drop_record(f->root, p->record);
}

int vsmmu_emulator_install(const struct vsmmu_emulator_facts *f, char **msg, vsmmu_err *err)
{
	_cleanup_paths_ struct paths p;
	_cleanup_record_ struct vsmmu_emulator_record r = { .wrapper = vsmmu_xstrdup(f->wrapper) };
	_cleanup_free_ char *conf = NULL;
	enum install_step done = DID_NOTHING;

	paths_init(&p, f->root);
	if (edited_conf(&p, &conf, &r, err) < 0)
		return -1;
	/* The record first: whatever happens later, remove knows what to undo. */
	if (write_record(&p, f->root, &r, err) < 0)
		return -1;
	done = DID_RECORD;
	/* A second name for QEMU, so that the diversion needs no rename and
	 * the default path never goes missing for a domain starting now. */
	if (link(p.path, p.real) < 0) {
		vsmmu_fail_errno(err, errno, "cannot link %s to %s", p.path, p.real);
		goto fail;
	}
	done = DID_LINK;
	if (divert(f->root, add_args, NULL, err) < 0)
		goto fail;
	done = DID_DIVERT;
	if (put_symlink(f->wrapper, p.path, err) < 0)
		goto fail;
	done = DID_SYMLINK;
	if (vsmmu_write_atomic(p.conf, conf, strlen(conf), mode_of(p.conf), err) < 0)
		goto fail;
	*msg = vsmmu_xasprintf("%s is the wrapper %s now; QEMU is diverted to %s, and vsmmu.conf "
			       "says qemu = %s", VSMMU_EMULATOR_PATH, f->wrapper,
			       VSMMU_EMULATOR_REAL, VSMMU_EMULATOR_REAL);
	return 0;
fail:
	undo_install(f, &p, done);
	return vsmmu_wrap(err, "%s; nothing was changed", err->msg);
}

/* vsmmu.conf as it was before install: written, deleted, or left. */
static int restore_conf(const struct paths *p, const struct vsmmu_emulator_record *r, char **note,
			vsmmu_err *err)
{
	_cleanup_free_ char *text = NULL, *out = NULL;
	bool keep;

	if (read_optional(p->conf, CONF_TEXT_MAX, &text, err) < 0)
		return -1;
	vsmmu_emulator_conf_restore(text, p->conf, r, &out, &keep, note);
	if (keep)
		return 0;
	if (!out)
		return unlink(p->conf) == 0 || errno == ENOENT
			       ? 0 : vsmmu_fail_errno(err, errno, "cannot remove %s", p->conf);
	return vsmmu_write_atomic(p->conf, out, strlen(out), mode_of(p->conf), err);
}

static int read_record(const struct paths *p, struct vsmmu_emulator_record *r, vsmmu_err *err)
{
	_cleanup_free_ char *text = NULL;

	if (vsmmu_read_trusted(p->record, RECORD_MAX, &text, err) < 0)
		return -1;
	return vsmmu_emulator_record_parse(text, p->record, r, err);
}

int vsmmu_emulator_remove(const struct vsmmu_emulator_facts *f, char **msg, vsmmu_err *err)
{
	_cleanup_paths_ struct paths p;
	_cleanup_free_ char *note = NULL;
	_cleanup_record_ struct vsmmu_emulator_record r = { .wrapper = NULL };
	int rc;

	paths_init(&p, f->root);
	if (read_record(&p, &r, err) < 0)
		return -1;
	/* QEMU back at its name over the symlink in one rename (the inverse of
	 * install's link), then the diversion goes without a rename. */
	if (f->at_path != VSMMU_EMU_REGULAR && f->real_present && rename(p.real, p.path) < 0)
		return vsmmu_fail_errno(err, errno, "cannot move %s back to %s", p.real, p.path);
	if (f->at_path == VSMMU_EMU_WRAPPER && !f->real_present && unlink(p.path) < 0)
		return vsmmu_fail_errno(err, errno, "cannot remove %s", p.path);
	if (f->diverted_by && divert(f->root, remove_args, NULL, err) < 0) {
		if (f->at_path == VSMMU_EMU_WRAPPER && f->real_present &&
		    link(p.path, p.real) == 0)
			put_symlink(r.wrapper, p.path, NULL);
		return -1;
	}
	/* QEMU is back: what is left to undo is undone by running remove again. */
	if (restore_conf(&p, &r, &note, err) < 0)
		return vsmmu_wrap(err, "%s; QEMU is back at %s: fix that, then run 'vsmmuctl "
				  "emulator remove' again", err->msg, VSMMU_EMULATOR_PATH);
	rc = drop_record(f->root, p.record);
	*msg = vsmmu_xasprintf("%s is %s again%s%s%s", VSMMU_EMULATOR_PATH,
			       f->real_present ? "QEMU" : "absent (QEMU was removed meanwhile)",
			       note ? "; " : "", note ? note : "",
			       rc < 0 ? "; could not remove the record" : "");
	return 0;
}

static const char *describe_path(const struct vsmmu_emulator_facts *f)
{
	switch (f->at_path) {
	case VSMMU_EMU_ABSENT: return "absent";
	case VSMMU_EMU_REGULAR: return "a regular file (QEMU)";
	case VSMMU_EMU_WRAPPER: return "a symlink to the wrapper";
	case VSMMU_EMU_OTHER: break;
	}
	return f->path_target ? "a symlink elsewhere" : "not a regular file";
}

char *vsmmu_emulator_describe(const struct vsmmu_emulator_facts *f, int *code)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 };
	_cleanup_free_ char *why = NULL;
	bool installed, ok = vsmmu_emulator_consistent(f, &installed, &why);

	vsmmu_buf_printf(&b, "emulator: %s\n", installed ? "installed" : ok ? "not installed"
						: "inconsistent");
	vsmmu_buf_printf(&b, "%s: %s%s%s\n", VSMMU_EMULATOR_PATH, describe_path(f),
			 f->path_target ? " " : "", f->path_target ? f->path_target : "");
	if (!f->have_divert)
		vsmmu_buf_printf(&b, "diversion: dpkg-divert is not available\n");
	else if (!f->diverted_by)
		vsmmu_buf_printf(&b, "diversion: none\n");
	else
		vsmmu_buf_printf(&b, "diversion: %s, to %s\n",
				 strcmp(f->diverted_by, "LOCAL") == 0 ? "local" : f->diverted_by,
				 f->divert_to ? f->divert_to : "?");
	vsmmu_buf_printf(&b, "vsmmu.conf: qemu = %s%s\n",
			 f->conf_qemu ? f->conf_qemu : VSMMU_EMULATOR_PATH,
			 f->conf_qemu ? "" : " (not set: the default)");
	for (char *line = why, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		vsmmu_buf_printf(&b, "inconsistent: %s\n", line);
	}
	*code = installed ? 0 : ok ? 1 : 2;
	return VSMMU_STEAL(b.data);
}
