/* qemulookup: see qemulookup.h. */
#include "qemulookup.h"

#include <stdlib.h>
#include <string.h>

#include "qemuargs-internal.h"
#include "qemuprops.h"
#include "util.h"

/* ---- Lookups ---- */

int vsmmu_qargs_next(const struct vsmmu_qargs *args, enum vsmmu_qargs_option option,
		     const char *type, size_t *index, vsmmu_err *err)
{
	for (size_t i = *index; i < args->count; i++) {
		struct vsmmu_qargs_arg *arg = args->items[i];
		const char *t = NULL;

		if (arg->kind != VSMMU_QARGS_ARG_OPTION || arg->option != option)
			continue;
		if (type) {
			int r = vsmmu_qargs_type(arg, &t, err);

			if (r < 0)
				return -1;
			if (r == 0 || strcmp(t, type) != 0)
				continue;
		}
		*index = i;
		return 1;
	}
	return 0;
}

struct lookup_entry {
	char *key;
	size_t at;
};

struct vsmmu_qargs_lookup {
	struct lookup_entry *entries;
	size_t n;
};

static int lookup_entry_cmp(const void *a, const void *b)
{
	const struct lookup_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

int vsmmu_qargs_lookup_new(const struct vsmmu_qargs *args, const char *type, const char *prop,
			   vsmmu_qargs_keyfn keyfn, struct vsmmu_qargs_lookup **lookup,
			   vsmmu_err *err)
{
	_cleanup_lookup_ struct vsmmu_qargs_lookup *lk = vsmmu_xcalloc(1, sizeof(*lk));
	size_t i = 0, cap = 0;
	int r;

	for (; (r = vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, type, &i, err)) > 0; i++) {
		const char *value = NULL;
		char key[64];
		int got = vsmmu_qargs_get(args->items[i], prop, &value, err);

		if (got < 0)
			return -1;
		if (got == 0 || (keyfn && !keyfn(value, key, sizeof(key))))
			continue;
		vsmmu_grow(&lk->entries, &cap, lk->n, sizeof(*lk->entries));
		lk->entries[lk->n].key = vsmmu_xstrdup(keyfn ? key : value);
		lk->entries[lk->n++].at = i;
	}
	if (r < 0)
		return -1;
	if (lk->n > 1)
		qsort(lk->entries, lk->n, sizeof(*lk->entries), lookup_entry_cmp);
	*lookup = VSMMU_STEAL(lk);
	return 0;
}

size_t vsmmu_qargs_lookup_find(const struct vsmmu_qargs_lookup *lookup, const char *key,
			       size_t *at, size_t max)
{
	size_t lo = 0, hi = lookup->n, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(lookup->entries[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < lookup->n && strcmp(lookup->entries[lo].key, key) == 0; lo++, n++)
		if (n < max)
			at[n] = lookup->entries[lo].at;
	return n;
}

void vsmmu_qargs_lookup_free(struct vsmmu_qargs_lookup *lookup)
{
	if (!lookup)
		return;
	for (size_t i = 0; i < lookup->n; i++)
		free(lookup->entries[i].key);
	free(lookup->entries);
	free(lookup);
}

void vsmmu_qargs_lookup_freep(struct vsmmu_qargs_lookup **lookup)
{
	vsmmu_qargs_lookup_free(*lookup);
}

static int duplicate_id(const struct vsmmu_qargs *args, size_t first, size_t second,
			const char *id, vsmmu_err *err)
{
	_cleanup_free_ char *where = qargs_describe(args->items[first]);

	return qargs_fail_at(args->items[second], err, "id '%.64s' is already used by %s", id, where);
}

int vsmmu_qargs_device_by_id(const struct vsmmu_qargs *args,
			     const struct vsmmu_qargs_lookup *ids, const char *id, size_t *index,
			     vsmmu_err *err)
{
	size_t at[2];
	size_t n = vsmmu_qargs_lookup_find(ids, id, at, 2);

	if (n > 1)
		return duplicate_id(args, at[0], at[1], id, err);
	if (n == 1)
		*index = at[0];
	return (int)n;
}

/* One scan: cheaper than a lookup table for a single id. */
int vsmmu_qargs_find_device(const struct vsmmu_qargs *args, const char *id, size_t *index,
			    vsmmu_err *err)
{
	size_t found = VSMMU_QARGS_NONE;
	size_t i = 0;
	int r;

	for (; (r = vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, NULL, &i, err)) > 0; i++) {
		const char *v = NULL;
		int got = vsmmu_qargs_get(args->items[i], "id", &v, err);

		if (got < 0)
			return -1;
		if (got == 0 || strcmp(v, id) != 0)
			continue;
		if (found != VSMMU_QARGS_NONE)
			return duplicate_id(args, found, i, id, err);
		found = i;
	}
	if (r < 0 || found == VSMMU_QARGS_NONE)
		return r;
	*index = found;
	return 1;
}
