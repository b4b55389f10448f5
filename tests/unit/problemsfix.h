/* Reading a list of problems (struct vsmmu_strlist) in tests: search,
 * first line, joined text. */
#ifndef VSMMU_PROBLEMSFIX_H
#define VSMMU_PROBLEMSFIX_H

#include <stdbool.h>
#include <string.h>

#include "util.h"

/* Whether a line contains needle. */
static inline bool problems_has(const struct vsmmu_strlist *p, const char *needle)
{
	for (size_t i = 0; i < p->n; i++)
		if (strstr(p->items[i], needle))
			return true;
	return false;
}

/* The first line, or dflt when there is none. */
static inline const char *problems_first(const struct vsmmu_strlist *p, const char *dflt)
{
	return p->n ? p->items[0] : dflt;
}

/* Every line followed by '\n', as one string ("" when none); free it. */
static inline char *problems_join(const struct vsmmu_strlist *p)
{
	struct vsmmu_buf b = { 0 };

	for (size_t i = 0; i < p->n; i++)
		vsmmu_buf_printf(&b, "%s\n", p->items[i]);
	return b.data ? b.data : vsmmu_xstrdup("");
}

#endif
