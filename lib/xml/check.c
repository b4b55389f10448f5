#include "check.h"

#include <string.h>

#include "domain.h"
#include "plan.h"
#include "rewritediff.h"
#include "util.h"

/* The expander a hostdev's current root port hangs from, or -1. */
static int current_expander(const struct vsmmu_domain *dom, const struct vsmmu_dom_hostdev *h)
{
	const struct vsmmu_dom_ctrl *port = h->addr.set ? vsmmu_domain_ctrl(dom, (int)h->addr.bus)
						       : NULL;
	const struct vsmmu_dom_ctrl *exp = port && port->addr.set
		? vsmmu_domain_ctrl(dom, (int)port->addr.bus) : NULL;

	return exp && vsmmu_streq(exp->model, "pcie-expander-bus") ? exp->index : -1;
}

static void check_hostdevs(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			   struct vsmmu_check *c)
{
	for (size_t i = 0; i < plan->n_hostdevs; i++) {
		const struct vsmmu_plan_hostdev *ph = &plan->hostdevs[i];
		int exp = current_expander(dom, &dom->hostdevs[i]);
		const char *mirrors = exp >= 0 ? vsmmu_domain_recorded_smmu(dom, exp) : NULL;

		if (!ph->moved)
			continue;
		if (mirrors && !vsmmu_streq(mirrors, ph->smmu))
			vsmmu_strlist_addf(&c->problems, "hostdev %s is behind %s on this host, but is routed to "
				    "expander pci.%d, which mirrors %s", ph->bdf, ph->smmu, exp,
				    mirrors);
		else
			vsmmu_strlist_addf(&c->problems, "hostdev %s is not on a root port of an expander for %s, the "
				    "SMMU it is behind on this host", ph->bdf, ph->smmu);
	}
}

static void check_expanders(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			    struct vsmmu_check *c)
{
	for (size_t i = 0; i < plan->n_expanders; i++) {
		const struct vsmmu_plan_expander *e = &plan->expanders[i];
		const struct vsmmu_dom_ctrl *ctrl = vsmmu_domain_ctrl(dom, e->index);

		if (!ctrl || !e->has_hostdevs)
			continue;
		if (ctrl->bus_nr != e->bus_nr)
			vsmmu_strlist_addf(&c->problems, "expander pci.%d has busNr %d but needs %u buses clear of "
				    "pcie.0 and the other expanders (busNr %d)", e->index,
				    ctrl->bus_nr, e->n_buses, e->bus_nr);
		if (ctrl->numa_node != e->numa_node)
			vsmmu_strlist_addf(&c->problems, "expander pci.%d has NUMA node %d, but %s maps to guest "
				    "cell %d", e->index, ctrl->numa_node, e->smmu, e->numa_node);
	}
	for (size_t i = 0; i < plan->n_remove; i++)
		vsmmu_strlist_addf(&c->problems, "controller pci.%d serves no hostdev any more", plan->remove[i]);
}

static int check_plan(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
		      struct vsmmu_check *c, vsmmu_err *err)
{
	int differs;

	for (size_t i = 0; i < plan->warnings.n; i++)
		vsmmu_strlist_addf(&c->problems, "%s", plan->warnings.items[i]);
	for (size_t i = 0; i < plan->manual.n; i++)
		vsmmu_strlist_addf(&c->manual, "%s", plan->manual.items[i]);
	/* Runtime topology: the wrapper builds it at every start; the
	 * definition only has to be plannable on this host. */
	if (plan->topology == VSMMU_TOPO_RUNTIME)
		return 0;
	check_hostdevs(dom, plan, c);
	check_expanders(dom, plan, c);
	/* What the lines above do not name: anything else a rewrite would change. */
	differs = vsmmu_rewrite_would_change(dom, plan, err);
	if (differs < 0)
		return -1;
	if (c->problems.n == 0 && differs)
		vsmmu_strlist_addf(&c->problems, "the definition differs from what vsmmu writes for "
				   "this host (topology, metadata or VSMMU_PLAN out of date)");
	return 0;
}

int vsmmu_check_domain(struct vsmmu_domain *dom, const struct vsmmu_host *host,
		       struct vsmmu_plan **plan_out, struct vsmmu_check *out, vsmmu_err *err)
{
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	vsmmu_err plan_err;

	memset(out, 0, sizeof(*out));
	out->managed = vsmmu_domain_is_managed(dom);
	if (!out->managed)
		return 0;
	/* No plan, no rewrite: apply would fail the same way. */
	if (vsmmu_plan_build(dom, host, NULL, &plan, &plan_err) < 0) {
		vsmmu_strlist_addf(&out->manual, "%s", plan_err.msg);
		return 0;
	}
	if (check_plan(dom, plan, out, err) < 0) {
		vsmmu_check_clear(out); /* a failure leaves the caller nothing to free */
		return -1;
	}
	if (plan_out)
		*plan_out = VSMMU_STEAL(plan);
	return 0;
}

int vsmmu_check_xml(const char *xml, size_t len, const struct vsmmu_host *host,
		    struct vsmmu_check *out, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;

	memset(out, 0, sizeof(*out));
	if (vsmmu_domain_parse(xml, len, &dom, err) < 0)
		return -1;
	return vsmmu_check_domain(dom, host, NULL, out, err);
}

void vsmmu_check_clear(struct vsmmu_check *c)
{
	vsmmu_strlist_clear(&c->problems);
	vsmmu_strlist_clear(&c->manual);
	c->managed = false;
}
