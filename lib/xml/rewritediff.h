/* Would vsmmu_rewrite (rewrite.h) change a domain? Answered from the parsed
 * model alone, one comparison per rewrite decision, without editing or
 * serialising the document: what check (check.h) reports as "differs from
 * what vsmmu writes". tests/unit/test_check.c holds it to the rewrite. */
#ifndef VSMMU_REWRITEDIFF_H
#define VSMMU_REWRITEDIFF_H

#include "domain.h"
#include "err.h"
#include "plan.h"

/* 1 when the rewrite would change the definition, 0 when not, -1 (err)
 * when the rewrite would fail. */
int vsmmu_rewrite_would_change(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			       vsmmu_err *err);

#endif
