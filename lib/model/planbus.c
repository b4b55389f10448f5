/* The planner's bus numbers (planner-internal.h): how many buses each hierarchy
 * takes, pcie.0's share with its headroom, and a range for each expander
 * clear of every other, reserved in blocks. */
#include "planner-internal.h"

#include "util.h"

/* Controllers that open a bus of their own and so take a bus number. */
static bool takes_bus_number(const char *model)
{
	return !vsmmu_streq(model, "pcie-root") && !vsmmu_streq(model, "pci-root") &&
	       !planner_is_expander_model(model);
}

int planner_hierarchy_root(const struct planner *p, int bus)
{
	for (int depth = 0; depth <= MAX_INDEX && bus > 0; depth++) {
		const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(p->dom, bus);
		const struct vsmmu_plan_port *port = vsmmu_plan_port(p->plan, bus);

		if (port)
			return port->expander;
		if (!c || planner_is_expander_model(c->model) || !c->addr.set)
			return bus;
		bus = (int)c->addr.bus;
	}
	return bus;
}

static void count_buses(struct planner *p, unsigned int count[MAX_INDEX + 1])
{
	for (size_t i = 0; i < p->dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *c = &p->dom->ctrls[i];

		if (!p->removed[c->index] && takes_bus_number(c->model) && c->addr.set &&
		    !vsmmu_plan_port(p->plan, c->index))
			count[planner_hierarchy_root(p, (int)c->addr.bus)]++;
	}
	for (size_t i = 0; i < p->plan->n_ports; i++)
		count[p->plan->ports[i].expander]++;
}

struct bus_ranges {
	int lo[MAX_INDEX + 2];
	int hi[MAX_INDEX + 2];
	size_t n;
	int floor; /* first bus number above pcie.0's hierarchy */
};

static bool range_fits(const struct bus_ranges *r, int lo, int hi)
{
	if (lo < r->floor || lo > 254 || hi > 255)
		return false;
	for (size_t i = 0; i < r->n; i++)
		if (lo <= r->hi[i] && hi >= r->lo[i])
			return false;
	return true;
}

static void range_add(struct bus_ranges *r, int lo, int hi)
{
	r->lo[r->n] = lo;
	r->hi[r->n++] = hi;
}

static int add_foreign_expanders(struct planner *p, const unsigned int *count,
				 struct bus_ranges *r, vsmmu_err *err)
{
	for (size_t i = 0; i < p->dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *c = &p->dom->ctrls[i];

		if (!planner_is_expander_model(c->model) || vsmmu_plan_expander(p->plan, c->index) ||
		    p->removed[c->index])
			continue;
		if (c->bus_nr < 0)
			return vsmmu_fail(err, "pcie-expander-bus index %d has no busNr: give it "
					  "<target busNr='N'/> so vsmmu can keep clear of it",
					  c->index);
		range_add(r, c->bus_nr, c->bus_nr + (int)count[c->index]);
	}
	return 0;
}

static int alloc_bus_range(const struct bus_ranges *r, unsigned int need)
{
	unsigned int block = (need + VSMMU_BUS_BLOCK - 1) / VSMMU_BUS_BLOCK * VSMMU_BUS_BLOCK;

	for (int hi = 255; hi - (int)block + 1 >= r->floor; hi--)
		if (range_fits(r, hi - (int)block + 1, hi))
			return hi - (int)block + 1;
	for (int hi = 255; hi - (int)need + 1 >= r->floor; hi--)
		if (range_fits(r, hi - (int)need + 1, hi))
			return hi - (int)need + 1;
	return -1;
}

int planner_bus_numbers(struct planner *p, vsmmu_err *err)
{
	unsigned int count[MAX_INDEX + 1] = { 0 };
	struct bus_ranges r = { .n = 0 };
	struct vsmmu_plan *plan = p->plan;
	char spare[64];

	count_buses(p, count);
	plan->pcie0_buses = 1 + count[0] + (unsigned int)p->dom->n_addressless +
			    VSMMU_PCIE0_HEADROOM;
	r.floor = (int)plan->pcie0_buses;
	if (add_foreign_expanders(p, count, &r, err) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_expanders; i++) {
		struct vsmmu_plan_expander *e = &plan->expanders[i];

		e->n_buses = 1 + count[e->index];
		if (e->bus_nr > 0 && range_fits(&r, e->bus_nr, vsmmu_plan_expander_last_bus(e)))
			range_add(&r, e->bus_nr, vsmmu_plan_expander_last_bus(e));
		else
			e->bus_nr = -1;
	}
	for (size_t i = 0; i < plan->n_expanders; i++) {
		struct vsmmu_plan_expander *e = &plan->expanders[i];

		if (e->bus_nr > 0)
			continue;
		e->bus_nr = alloc_bus_range(&r, e->n_buses);
		if (e->bus_nr < 0)
			return vsmmu_fail(err, "not enough PCI bus numbers: expander pci.%d needs %u "
					  "buses above the %u kept for pcie.0 and the other "
					  "expanders; %sassign fewer devices", e->index, e->n_buses,
					  plan->pcie0_buses, planner_spare_advice(plan, spare));
		range_add(&r, e->bus_nr, vsmmu_plan_expander_last_bus(e));
	}
	return 0;
}
