#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define STATE_MAX (1u << 20)
#define NODE_REC_MAX (64u << 10)
/* Escaped domain names longer than this are cut and given a hash. */
#define DIR_NAME_KEEP 200
#define NODES_DIR ".nodes"
#define LOCK_FILE ".lock"
#define LOCK_POLL_MS 10

int vsmmu_state_name_check(const char *name, vsmmu_err *err)
{
	json_t *utf8;

	if (!name || !*name)
		return vsmmu_fail(err, "empty domain name");
	utf8 = json_string(name); /* state.json and node records hold it */
	if (!utf8)
		return vsmmu_fail(err, "domain name '%.40s' is not valid UTF-8", name);
	json_decref(utf8);
	return 0;
}

/* 64-bit FNV-1a: tells apart long names that share their first bytes. */
static unsigned long long fnv1a(const char *s)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

/* s with every byte but [A-Za-z0-9_-] (and '.' after the first, when dots)
 * as %XX; cut after max bytes with a hash of the whole, when max > 0. */
static char *escape(const char *s, bool dots, size_t max)
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

char *vsmmu_state_dir_name(const char *name)
{
	return escape(name, true, DIR_NAME_KEEP);
}

static void free_hostdev(struct vsmmu_state_hostdev *h)
{
	free(h->bdf);
	free(h->cdev);
	free(h->cdev_path);
	free(h->smmu);
}

void vsmmu_state_free(struct vsmmu_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_hostdevs; i++)
		free_hostdev(&st->hostdevs[i]);
	for (size_t i = 0; i < st->n_expanders; i++)
		free(st->expanders[i].smmu);
	for (size_t i = 0; i < st->n_nodes; i++)
		free(st->nodes[i].path);
	free(st->hostdevs);
	free(st->expanders);
	free(st->nodes);
	free(st->name);
	free(st->mode);
	free(st->iommufd);
	free(st->dev);
	vsmmu_plan_free(st->plan);
	free(st);
}

/* ---- JSON ---- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *node_to_json(const struct vsmmu_state_node *n)
{
	return json_pack("{s:s, s:I, s:I, s:I}", "path", n->path, "uid", (json_int_t)n->uid,
			 "gid", (json_int_t)n->gid, "mode", (json_int_t)(n->mode & 0777));
}

static json_t *hostdevs_to_json(const struct vsmmu_state *st)
{
	json_t *a = json_array();

	for (size_t i = 0; i < st->n_hostdevs; i++) {
		const struct vsmmu_state_hostdev *h = &st->hostdevs[i];

		json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o, s:i}", "bdf", h->bdf,
						   "cdev", str_or_null(h->cdev), "cdev_path",
						   str_or_null(h->cdev_path), "smmu",
						   str_or_null(h->smmu), "expander", h->expander));
	}
	return a;
}

static json_t *expanders_to_json(const struct vsmmu_state *st)
{
	json_t *a = json_array();

	for (size_t i = 0; i < st->n_expanders; i++)
		json_array_append_new(a, json_pack("{s:i, s:s}", "index", st->expanders[i].index,
						   "smmu", st->expanders[i].smmu));
	return a;
}

char *vsmmu_state_to_json(const struct vsmmu_state *st)
{
	json_auto_t *root = NULL;
	json_t *nodes = json_array();
	json_t *plan = st->plan ? vsmmu_plan_json(st->plan) : json_null();

	for (size_t i = 0; i < st->n_nodes; i++)
		json_array_append_new(nodes, node_to_json(&st->nodes[i]));
	root = json_pack("{s:i, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "version",
			 VSMMU_STATE_VERSION, "domain", st->name, "managed", !st->unmanaged,
			 "mode", str_or_null(st->mode),
			 "dev", str_or_null(st->dev),
			 "iommufd", str_or_null(st->iommufd), "hostdevs", hostdevs_to_json(st),
			 "expanders", expanders_to_json(st), "nodes", nodes, "plan", plan);
	return root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
}

static char *opt_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? vsmmu_xstrdup(s) : NULL;
}

static int node_from_json(json_t *j, struct vsmmu_state_node *n, vsmmu_err *err)
{
	const char *path = NULL;
	json_int_t uid, gid, mode;
	json_error_t je;

	if (json_unpack_ex(j, &je, 0, "{s:s, s:I, s:I, s:I}", "path", &path, "uid", &uid,
			   "gid", &gid, "mode", &mode) < 0)
		return vsmmu_fail(err, "node record: %s", je.text);
	if (path[0] != '/')
		return vsmmu_fail(err, "node record for '%s': not an absolute path", path);
	/* vsmmu records only permission bits: setuid, setgid or sticky is not ours */
	if (uid < 0 || gid < 0 || mode < 0 || mode > 0777 || uid > (json_int_t)UINT32_MAX ||
	    gid > (json_int_t)UINT32_MAX)
		return vsmmu_fail(err, "node record for %s: owner or mode out of range", path);
	n->path = vsmmu_xstrdup(path);
	n->uid = (uid_t)uid;
	n->gid = (gid_t)gid;
	n->mode = (mode_t)mode;
	return 0;
}

static int hostdev_from_json(json_t *j, struct vsmmu_state_hostdev *h, vsmmu_err *err)
{
	json_t *exp = json_object_get(j, "expander");

	h->bdf = opt_str(j, "bdf");
	if (!h->bdf)
		return vsmmu_fail(err, "state: a hostdev has no \"bdf\"");
	h->cdev = opt_str(j, "cdev");
	h->cdev_path = opt_str(j, "cdev_path");
	h->smmu = opt_str(j, "smmu");
	h->expander = json_is_integer(exp) ? (int)json_integer_value(exp) : -1;
	return 0;
}

static int expander_from_json(json_t *j, struct vsmmu_state_expander *e, vsmmu_err *err)
{
	json_t *index = json_object_get(j, "index");

	e->smmu = opt_str(j, "smmu");
	if (!json_is_integer(index) || !e->smmu)
		return vsmmu_fail(err, "state: an expander lacks \"index\" or \"smmu\"");
	e->index = (int)json_integer_value(index);
	return 0;
}

static int arrays_from_json(json_t *root, struct vsmmu_state *st, vsmmu_err *err)
{
	json_t *hd = json_object_get(root, "hostdevs"), *ex = json_object_get(root, "expanders");
	json_t *nodes = json_object_get(root, "nodes");

	/* Each entry is counted before it is filled: whatever a failed entry
	 * holds is freed with the state. */
	st->hostdevs = vsmmu_xcalloc(json_array_size(hd), sizeof(*st->hostdevs));
	while (st->n_hostdevs < json_array_size(hd)) {
		size_t i = st->n_hostdevs++;

		if (hostdev_from_json(json_array_get(hd, i), &st->hostdevs[i], err) < 0)
			return -1;
	}
	st->expanders = vsmmu_xcalloc(json_array_size(ex), sizeof(*st->expanders));
	while (st->n_expanders < json_array_size(ex)) {
		size_t i = st->n_expanders++;

		if (expander_from_json(json_array_get(ex, i), &st->expanders[i], err) < 0)
			return -1;
	}
	st->nodes = vsmmu_xcalloc(json_array_size(nodes), sizeof(*st->nodes));
	while (st->n_nodes < json_array_size(nodes)) {
		size_t i = st->n_nodes++;

		if (node_from_json(json_array_get(nodes, i), &st->nodes[i], err) < 0)
			return -1;
	}
	return 0;
}

int vsmmu_state_from_json(const char *json, struct vsmmu_state **out, vsmmu_err *err)
{
	json_auto_t *root = NULL;
	_cleanup_state_ struct vsmmu_state *st = vsmmu_xcalloc(1, sizeof(*st));
	json_t *plan, *version, *managed;
	json_error_t je;

	root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return vsmmu_fail(err, "state: line %d: %s", je.line, je.text);
	version = json_object_get(root, "version");
	if (!json_is_integer(version))
		return vsmmu_fail(err, "state: no \"version\"");
	if (json_integer_value(version) != VSMMU_STATE_VERSION)
		return vsmmu_fail(err, "state: version %lld, this vsmmu reads version %d",
				  (long long)json_integer_value(version), VSMMU_STATE_VERSION);
	st->name = opt_str(root, "domain");
	if (!st->name)
		return vsmmu_fail(err, "state: no \"domain\"");
	managed = json_object_get(root, "managed");
	if (managed && !json_is_boolean(managed))
		return vsmmu_fail(err, "state: \"managed\" is not true or false");
	st->unmanaged = json_is_false(managed);
	st->mode = opt_str(root, "mode");
	st->iommufd = opt_str(root, "iommufd");
	st->dev = opt_str(root, "dev");
	plan = json_object_get(root, "plan");
	if (plan && !json_is_null(plan) && vsmmu_plan_from_json_value(plan, &st->plan, err) < 0)
		return vsmmu_wrap(err, "state: \"plan\": %.900s", err->msg);
	if (arrays_from_json(root, st, err) < 0)
		return -1;
	*out = VSMMU_STEAL(st);
	return 0;
}

/* ---- files ---- */

static char *domain_dir(const char *rundir, const char *name)
{
	_cleanup_free_ char *base = vsmmu_state_dir_name(name);

	return vsmmu_xasprintf("%s/%s", rundir, base);
}

/* Create path with exactly mode (whatever the umask), or accept it when it
 * is already a directory vsmmu can trust (vsmmu_check_trusted), setting
 * mode on it. A symlink or file planted there is refused, so state is
 * never written through one. */
static int make_dir(const char *path, mode_t mode, vsmmu_err *err)
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

/* A directory vsmmu created, before it reads what is inside: 0, -1 with
 * kind VSMMU_ERR_ABSENT when it is not there. */
static int check_dir(const char *path, vsmmu_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return vsmmu_fail_errno(err, errno, "cannot inspect %s", path);
	if (!S_ISDIR(st.st_mode))
		return vsmmu_fail(err, "%s is not a directory (a symlink or a file); remove it",
				  path);
	return vsmmu_check_trusted(path, &st, err);
}

/* The run dir is read by the wrapper as the QEMU user: world-readable,
 * written by root alone. */
static int make_rundir(const char *rundir, vsmmu_err *err)
{
	return make_dir(rundir, 0755, err);
}

int vsmmu_state_make_rundir(const char *rundir, vsmmu_err *err)
{
	return make_rundir(rundir, err);
}

int vsmmu_state_write(const char *rundir, const struct vsmmu_state *st, vsmmu_err *err)
{
	_cleanup_free_ char *dir = NULL, *path = NULL, *json = NULL;

	if (vsmmu_state_name_check(st->name, err) < 0)
		return -1;
	dir = domain_dir(rundir, st->name);
	path = vsmmu_xasprintf("%s/" VSMMU_STATE_FILE, dir);
	json = vsmmu_state_to_json(st);
	if (!json)
		return vsmmu_fail(err, "cannot serialise the state of %s", st->name);
	/* The wrapper reads it as the QEMU user: world-readable, root-writable. */
	if (make_rundir(rundir, err) < 0 || make_dir(dir, 0755, err) < 0)
		return -1;
	return vsmmu_write_atomic(path, json, strlen(json), 0644, err);
}

int vsmmu_state_read(const char *rundir, const char *name, struct vsmmu_state **out,
		     vsmmu_err *err)
{
	_cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;

	*out = NULL;
	if (vsmmu_state_name_check(name, err) < 0)
		return -1;
	dir = domain_dir(rundir, name);
	path = vsmmu_xasprintf("%s/" VSMMU_STATE_FILE, dir);
	if (check_dir(rundir, err) < 0 || check_dir(dir, err) < 0 ||
	    vsmmu_read_trusted(path, STATE_MAX, &text, err) < 0)
		return err->kind == VSMMU_ERR_ABSENT ? 0 : -1;
	if (vsmmu_state_from_json(text, out, err) < 0 || !*out)
		return vsmmu_fail(err, "%s: %.900s", path, err->msg);
	if (strcmp((*out)->name, name) != 0) { /* two long names that escape alike */
		_cleanup_state_ struct vsmmu_state *other = VSMMU_STEAL(*out);

		return vsmmu_fail(err, "%s holds the state of domain '%.100s', not of '%.100s'",
				  path, other->name, name);
	}
	return 0;
}

bool vsmmu_state_exists(const char *rundir, const char *name)
{
	_cleanup_free_ char *dir = NULL;
	struct stat st;

	if (vsmmu_state_name_check(name, NULL) < 0)
		return false;
	dir = domain_dir(rundir, name);
	return lstat(dir, &st) == 0;
}

/* Temporary files a killed writer left behind in dir. */
static void remove_temps(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (vsmmu_has_prefix(e->d_name, VSMMU_STATE_FILE ".tmp"))
			unlinkat(dirfd(d), e->d_name, 0);
}

int vsmmu_state_remove(const char *rundir, const char *name, vsmmu_err *err)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;

	if (vsmmu_state_name_check(name, err) < 0)
		return -1;
	dir = domain_dir(rundir, name);
	path = vsmmu_xasprintf("%s/" VSMMU_STATE_FILE, dir);
	if (unlink(path) < 0 && errno != ENOENT)
		return vsmmu_fail_errno(err, errno, "cannot remove %s", path);
	remove_temps(dir);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return vsmmu_fail_errno(err, errno, "cannot remove %s", dir);
	return 0;
}

static int steal_fd(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int vsmmu_state_lock(const char *rundir, int timeout_ms, int *fd, vsmmu_err *err)
{
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/" LOCK_FILE, rundir);
	_cleanup_close_ int lfd = -1;
	struct stat st;

	if (make_rundir(rundir, err) < 0)
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
	*fd = steal_fd(&lfd);
	return 0;
}

/* ---- shared node records ---- */

static char *node_rec_path(const char *rundir, const char *path)
{
	_cleanup_free_ char *esc = escape(path, false, 0);

	return vsmmu_xasprintf("%s/" NODES_DIR "/%s", rundir, esc);
}

void vsmmu_node_ref_clear(struct vsmmu_node_ref *ref)
{
	free(ref->node.path);
	for (size_t i = 0; i < ref->n_holders; i++)
		free(ref->holders[i]);
	free(ref->holders);
	*ref = (struct vsmmu_node_ref){ 0 };
}

static int holders_from_json(json_t *a, struct vsmmu_node_ref *ref, vsmmu_err *err)
{
	if (!json_is_array(a))
		return vsmmu_fail(err, "no \"holders\" array");
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *name = json_string_value(json_array_get(a, i));

		if (!name)
			return vsmmu_fail(err, "\"holders\" holds a non-string");
		vsmmu_node_ref_add(ref, name);
	}
	return 0;
}

int vsmmu_node_ref_from_json(const char *json, struct vsmmu_node_ref *ref, vsmmu_err *err)
{
	json_auto_t *root = NULL;
	json_error_t je;

	*ref = (struct vsmmu_node_ref){ 0 };
	root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return vsmmu_fail(err, "line %d: %s", je.line, je.text);
	if (node_from_json(root, &ref->node, err) < 0 ||
	    holders_from_json(json_object_get(root, "holders"), ref, err) < 0) {
		vsmmu_node_ref_clear(ref);
		return -1;
	}
	return 0;
}

int vsmmu_node_ref_read(const char *rundir, const char *path, struct vsmmu_node_ref *ref,
			bool *found, vsmmu_err *err)
{
	_cleanup_free_ char *file = node_rec_path(rundir, path), *text = NULL;
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/" NODES_DIR, rundir);

	*ref = (struct vsmmu_node_ref){ 0 };
	*found = false;
	if (check_dir(dir, err) < 0 || vsmmu_read_trusted(file, NODE_REC_MAX, &text, err) < 0)
		return err->kind == VSMMU_ERR_ABSENT ? 0 : -1;
	if (vsmmu_node_ref_from_json(text, ref, err) < 0)
		return vsmmu_fail(err, "%s: %.900s; remove it and fix the owner of %s by hand",
				  file, err->msg, path);
	*found = true;
	return 0;
}

char *vsmmu_node_ref_to_json(const struct vsmmu_node_ref *ref)
{
	json_auto_t *root = node_to_json(&ref->node);
	json_t *holders = json_array();

	for (size_t i = 0; i < ref->n_holders; i++)
		json_array_append_new(holders, json_string(ref->holders[i]));
	if (!root) {
		json_decref(holders);
		return NULL;
	}
	json_object_set_new(root, "holders", holders);
	return json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

int vsmmu_node_ref_write(const char *rundir, const struct vsmmu_node_ref *ref, vsmmu_err *err)
{
	_cleanup_free_ char *file = node_rec_path(rundir, ref->node.path);
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/" NODES_DIR, rundir);
	_cleanup_free_ char *text = NULL;

	if (ref->n_holders == 0) {
		if (unlink(file) < 0 && errno != ENOENT)
			return vsmmu_fail_errno(err, errno, "cannot remove %s", file);
		return 0;
	}
	text = vsmmu_node_ref_to_json(ref);
	if (!text)
		return vsmmu_fail(err, "cannot serialise %s", file);
	if (make_rundir(rundir, err) < 0 || make_dir(dir, 0700, err) < 0)
		return -1;
	return vsmmu_write_atomic(file, text, strlen(text), 0600, err);
}

bool vsmmu_node_ref_held_by(const struct vsmmu_node_ref *ref, const char *name)
{
	for (size_t i = 0; i < ref->n_holders; i++)
		if (strcmp(ref->holders[i], name) == 0)
			return true;
	return false;
}

void vsmmu_node_ref_add(struct vsmmu_node_ref *ref, const char *name)
{
	if (vsmmu_node_ref_held_by(ref, name))
		return;
	ref->holders = vsmmu_xrealloc(ref->holders, ref->n_holders + 1, sizeof(char *));
	ref->holders[ref->n_holders++] = vsmmu_xstrdup(name);
}

void vsmmu_node_ref_drop(struct vsmmu_node_ref *ref, const char *name)
{
	for (size_t i = 0; i < ref->n_holders; i++) {
		if (strcmp(ref->holders[i], name) != 0)
			continue;
		free(ref->holders[i]);
		for (size_t j = i + 1; j < ref->n_holders; j++)
			ref->holders[j - 1] = ref->holders[j];
		ref->n_holders--;
		return;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* NULL for names that escape() cannot have produced (temporary files). */
static char *unescape_path(const char *name)
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

int vsmmu_node_ref_list(const char *rundir, char ***paths, size_t *n, vsmmu_err *err)
{
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/" NODES_DIR, rundir);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	size_t cap = 0;

	*paths = NULL;
	*n = 0;
	if (check_dir(dir, err) < 0)
		return err->kind == VSMMU_ERR_ABSENT ? 0 : -1;
	d = opendir(dir);
	if (!d)
		return vsmmu_fail_errno(err, errno, "cannot list %s", dir);
	while ((e = readdir(d))) {
		char *path = e->d_name[0] == '%' ? unescape_path(e->d_name) : NULL;

		if (!path) {
			/* a temporary record of a writer killed mid-way (callers hold the lock) */
			if (e->d_name[0] == '%' && strstr(e->d_name, ".tmp"))
				unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		vsmmu_grow(paths, &cap, *n, sizeof(char *));
		(*paths)[(*n)++] = path;
	}
	return 0;
}
