#include "state.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"
#include "util.h"

#define STATE_MAX (1u << 20)
/* Escaped domain names longer than this are cut and given a hash. */
#define DIR_NAME_KEEP 200

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

char *vsmmu_state_dir_name(const char *name)
{
	return vsmmu_rundir_escape(name, true, DIR_NAME_KEEP);
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
		json_array_append_new(nodes, vsmmu_node_json(&st->nodes[i]));
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

		if (vsmmu_node_from_json_value(json_array_get(nodes, i), &st->nodes[i], err) < 0)
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
	if (vsmmu_rundir_make(rundir, err) < 0 || vsmmu_rundir_make_dir(dir, 0755, err) < 0)
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
	if (vsmmu_rundir_check_dir(rundir, err) < 0 || vsmmu_rundir_check_dir(dir, err) < 0 ||
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
