#include "ledger.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "rundir.h"
#include "util.h"

#define NODE_REC_MAX (64u << 10)
#define NODES_DIR ".nodes"

/* ---- a node's owner and mode ---- */

json_t *vsmmu_node_json(const struct vsmmu_state_node *n)
{
	return json_pack("{s:s, s:I, s:I, s:I}", "path", n->path, "uid", (json_int_t)n->uid,
			 "gid", (json_int_t)n->gid, "mode", (json_int_t)(n->mode & 0777));
}

int vsmmu_node_from_json_value(json_t *j, struct vsmmu_state_node *n, vsmmu_err *err)
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

/* ---- records ---- */

static char *node_rec_path(const char *rundir, const char *path)
{
	_cleanup_free_ char *esc = vsmmu_rundir_escape(path, false, 0);

	return vsmmu_xasprintf("%s/" NODES_DIR "/%s", rundir, esc);
}

void vsmmu_node_ref_clear(struct vsmmu_node_ref *ref)
{
	free(ref->node.path);
	vsmmu_strlist_clear(&ref->holders);
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
	if (vsmmu_node_from_json_value(root, &ref->node, err) < 0 ||
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
	if (vsmmu_rundir_check_dir(dir, err) < 0 ||
	    vsmmu_read_trusted(file, NODE_REC_MAX, &text, err) < 0)
		return err->kind == VSMMU_ERR_ABSENT ? 0 : -1;
	if (vsmmu_node_ref_from_json(text, ref, err) < 0)
		return vsmmu_fail(err, "%s: %.900s; remove it and fix the owner of %s by hand",
				  file, err->msg, path);
	*found = true;
	return 0;
}

char *vsmmu_node_ref_to_json(const struct vsmmu_node_ref *ref)
{
	json_auto_t *root = vsmmu_node_json(&ref->node);
	json_t *holders = json_array();

	for (size_t i = 0; i < ref->holders.n; i++)
		json_array_append_new(holders, json_string(ref->holders.items[i]));
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

	if (ref->holders.n == 0) {
		if (unlink(file) < 0 && errno != ENOENT)
			return vsmmu_fail_errno(err, errno, "cannot remove %s", file);
		return 0;
	}
	text = vsmmu_node_ref_to_json(ref);
	if (!text)
		return vsmmu_fail(err, "cannot serialise %s", file);
	if (vsmmu_rundir_make(rundir, err) < 0 || vsmmu_rundir_make_dir(dir, 0700, err) < 0)
		return -1;
	return vsmmu_write_atomic(file, text, strlen(text), 0600, err);
}

/* ---- holders ---- */

bool vsmmu_node_ref_held_by(const struct vsmmu_node_ref *ref, const char *name)
{
	return vsmmu_strlist_has(&ref->holders, name);
}

void vsmmu_node_ref_add(struct vsmmu_node_ref *ref, const char *name)
{
	if (vsmmu_node_ref_held_by(ref, name))
		return;
	vsmmu_strlist_add(&ref->holders, name);
}

void vsmmu_node_ref_drop(struct vsmmu_node_ref *ref, const char *name)
{
	for (size_t i = 0; i < ref->holders.n; i++)
		if (strcmp(ref->holders.items[i], name) == 0) {
			vsmmu_strlist_remove(&ref->holders, i);
			return;
		}
}

/* ---- every record ---- */

int vsmmu_node_ref_list(const char *rundir, char ***paths, size_t *n, vsmmu_err *err)
{
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/" NODES_DIR, rundir);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	size_t cap = 0;

	*paths = NULL;
	*n = 0;
	if (vsmmu_rundir_check_dir(dir, err) < 0)
		return err->kind == VSMMU_ERR_ABSENT ? 0 : -1;
	d = opendir(dir);
	if (!d)
		return vsmmu_fail_errno(err, errno, "cannot list %s", dir);
	while ((e = readdir(d))) {
		char *path = e->d_name[0] == '%' ? vsmmu_rundir_unescape(e->d_name) : NULL;

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
