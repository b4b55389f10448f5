/* Does a managed domain definition still match the host? Used by
 * `vsmmuctl check` and by the hook at every start. */
#ifndef VSMMU_CHECK_H
#define VSMMU_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "host.h"
#include "util.h"

struct vsmmu_check {
	bool managed;
	struct vsmmu_strlist problems; /* one line each, without the remedy: a
					 * rewrite (vsmmuctl apply) fixes them */
	struct vsmmu_strlist manual;   /* a rewrite cannot: each line says what to do */
};

/* Fails (-1) only on input that cannot be read; a definition that does not
 * fit the host is a success with problems listed. */
int vsmmu_check_xml(const char *xml, size_t len, const struct vsmmu_host *host,
		    struct vsmmu_check *out, vsmmu_err *err);
/* The same on a parsed domain, which it reads and leaves as it is: the
 * plan is compared with the model (rewritediff.h), nothing is rewritten.
 * *plan_out (optional) gets the plan when one could be built. */
struct vsmmu_domain;
struct vsmmu_plan;
int vsmmu_check_domain(struct vsmmu_domain *dom, const struct vsmmu_host *host,
		       struct vsmmu_plan **plan_out, struct vsmmu_check *out, vsmmu_err *err);
void vsmmu_check_clear(struct vsmmu_check *c);

#endif
