/* Argv fixtures for the unit tests: tests/fixtures/argv/NAME holds one
 * argument per line (tests run from the top of the tree). */
#ifndef VSMMU_ARGVFIX_H
#define VSMMU_ARGVFIX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define FIXTURES "tests/fixtures/argv/"

struct fixture {
	char *data;
	char **lines;
	int n;
};

static inline void fixture_free(struct fixture *f)
{
	free(f->data);
	free(f->lines);
}
#define _cleanup_fixture_ __attribute__((cleanup(fixture_free)))

/* Split the file into lines; each line is one argv element. */
static inline int fixture_load(const char *name, struct fixture *f)
{
	_cleanup_free_ char *path = vsmmu_xasprintf(FIXTURES "%s", name);
	vsmmu_err err = { .msg = "" };
	size_t len = 0, cap = 0;

	*f = (struct fixture){ 0 };
	if (vsmmu_read_file(path, 4u << 20, &f->data, &len, &err) < 0) {
		printf("# %s (run from the top of the tree)\n", err.msg);
		return -1;
	}
	for (char *s = f->data; *s;) {
		char *nl = strchr(s, '\n');

		vsmmu_grow(&f->lines, &cap, (size_t)f->n + 1, sizeof(*f->lines));
		f->lines[f->n++] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	vsmmu_grow(&f->lines, &cap, (size_t)f->n + 1, sizeof(*f->lines));
	f->lines[f->n] = NULL;
	return 0;
}

#endif
