/* Reading a struct vsmmu_problems in tests: cleanup, search, joined text. */
#ifndef VSMMU_PROBLEMSFIX_H
#define VSMMU_PROBLEMSFIX_H

#include <stdbool.h>
#include <string.h>

#include "util.h"

static inline void problems_clearp(struct vsmmu_problems *p) { vsmmu_problems_clear(p); }
#define _cleanup_problems_ __attribute__((cleanup(problems_clearp)))

/* Whether a line contains needle. */
static inline bool problems_has(const struct vsmmu_problems *p, const char *needle)
{
	for (size_t i = 0; i < p->n; i++)
		if (strstr(p->lines[i], needle))
			return true;
	return false;
}

/* The first line, or dflt when there is none. */
static inline const char *problems_first(const struct vsmmu_problems *p, const char *dflt)
{
	return p->n ? p->lines[0] : dflt;
}

/* Every line followed by '\n', as one string ("" when none); free it. */
static inline char *problems_join(const struct vsmmu_problems *p)
{
	struct vsmmu_buf b = { 0 };

	for (size_t i = 0; i < p->n; i++)
		vsmmu_buf_printf(&b, "%s\n", p->lines[i]);
	return b.data ? b.data : vsmmu_xstrdup("");
}

#endif
