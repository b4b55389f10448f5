/* The planner's routing (planner-internal.h): controller indexes and slots, one
 * expander per host SMMU (reusing recorded or <iommu>-named ones, retiring
 * those no hostdev needs), and a root port per hostdev plus the spares. */
#include "planner-internal.h"

#include <string.h>

#include "util.h"

/* The lowest free controller index for a new `what`. libvirt fills any gap
 * in PCI controller indexes with a pcie-root-port on pcie.0, so indexes
 * stay dense; a root port may have a lower index than its expander. */
static int alloc_index(struct planner *p, const char *what, vsmmu_err *err)
{
	char spare[64];

	for (int i = 1; i <= MAX_INDEX; i++)
		if (!p->used_index[i]) {
			p->used_index[i] = true;
			return i;
		}
	return vsmmu_fail(err, "no free PCI controller index for a new %s: the domain's "
			  "controllers, and the buses its devices name, take every index up to "
			  "%d; remove PCI controllers nothing is plugged into, or %sassign fewer "
			  "hostdevs", what, MAX_INDEX, planner_spare_advice(p->plan, spare));
}

static bool slot_taken(const struct planner *p, int bus, unsigned int slot)
{
	const struct vsmmu_domain *dom = p->dom;

	for (size_t i = 0; i < dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *c = &dom->ctrls[i];

		if (!p->removed[c->index] && c->addr.set && c->addr.domain == 0 &&
		    (int)c->addr.bus == bus && c->addr.slot == slot)
			return true;
	}
	for (size_t i = 0; i < dom->n_devs; i++)
		if (dom->devs[i].addr.domain == 0 && (int)dom->devs[i].addr.bus == bus &&
		    dom->devs[i].addr.slot == slot)
			return true;
	for (size_t i = 0; i < p->plan->n_expanders; i++)
		if (bus == 0 && p->plan->expanders[i].slot == slot)
			return true;
	for (size_t i = 0; i < p->plan->n_ports; i++)
		if (p->plan->ports[i].expander == bus && p->plan->ports[i].slot == slot)
			return true;
	return false;
}

/* The first free slot on bus from first on, or -1. */
static int alloc_slot(const struct planner *p, int bus, unsigned int first)
{
	for (unsigned int s = first; s <= MAX_SLOT; s++)
		if (!slot_taken(p, bus, s))
			return (int)s;
	return -1;
}

static size_t count_distinct_smmus(const struct vsmmu_plan *plan)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->n_hostdevs; i++) {
		size_t j = 0;

		while (j < i && !vsmmu_streq(plan->hostdevs[j].smmu, plan->hostdevs[i].smmu))
			j++;
		n += j == i;
	}
	return n;
}

/* pcie.0 is full: freeing a slot helps only if the SMMUs fit in its 31. */
static int no_expander_slot(const struct planner *p, const char *smmu, vsmmu_err *err)
{
	size_t n_smmus = count_distinct_smmus(p->plan);

	if (n_smmus > MAX_SLOT)
		return vsmmu_fail(err, "the hostdevs are behind %zu SMMUs and each needs a "
				  "pcie-expander-bus of its own on pcie.0, which has %d slots: "
				  "assign devices behind at most %d SMMUs to this domain",
				  n_smmus, MAX_SLOT, MAX_SLOT);
	return vsmmu_fail(err, "pcie.0 has no free slot for the pcie-expander-bus of %s: "
			  "other devices and controllers hold its slots 1-%d; move some behind "
			  "a pcie-root-port, or drop their <address> so libvirt places them",
			  smmu, MAX_SLOT);
}

/* An expander is full: 32 root ports, one a hostdev, plus the spares. */
static int no_port_slot(const struct planner *p, int expander, vsmmu_err *err)
{
	const struct vsmmu_plan_expander *e = vsmmu_plan_expander(p->plan, expander);
	unsigned int n_hostdevs = 0;

	for (size_t i = 0; i < p->plan->n_hostdevs; i++)
		n_hostdevs += p->plan->hostdevs[i].expander == expander;
	if (n_hostdevs > MAX_SLOT + 1)
		return vsmmu_fail(err, "expander pci.%d has no free slot for another root port: "
				  "%u hostdevs are behind %s and one expander takes %d root ports; "
				  "assign at most %d devices behind one SMMU to this domain",
				  expander, n_hostdevs, e ? e->smmu : "its SMMU", MAX_SLOT + 1,
				  MAX_SLOT + 1);
	if (p->plan->spare_ports > 0)
		return vsmmu_fail(err, "expander pci.%d has no free slot for another root port: "
				  "it takes %d, and its %u hostdevs and %u spare ports need one "
				  "each; lower spare-ports", expander, MAX_SLOT + 1, n_hostdevs,
				  p->plan->spare_ports);
	return vsmmu_fail(err, "expander pci.%d has no free slot for another root port: "
			  "other controllers or devices hold its slots; move them off bus pci.%d",
			  expander, expander);
}

static struct vsmmu_plan_expander *find_expander(struct vsmmu_plan *plan, const char *smmu)
{
	for (size_t i = 0; i < plan->n_expanders; i++)
		if (vsmmu_streq(plan->expanders[i].smmu, smmu))
			return &plan->expanders[i];
	return NULL;
}

/* The record of an expander for smmu, unless another SMMU's expander
 * already took that controller (hand-edited records naming one index
 * twice): one expander serves one SMMU. */
static const struct vsmmu_dom_record *find_record(const struct planner *p, const char *smmu)
{
	const struct vsmmu_dom_config *cfg = &p->dom->config;

	for (size_t i = 0; i < cfg->n_records; i++) {
		const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(p->dom, cfg->records[i].index);

		if (vsmmu_streq(cfg->records[i].smmu, smmu) && c &&
		    vsmmu_streq(c->model, "pcie-expander-bus") &&
		    !vsmmu_plan_expander(p->plan, c->index))
			return &cfg->records[i];
	}
	for (size_t i = 0; i < p->n_adopted; i++)
		if (vsmmu_streq(p->adopted[i].smmu, smmu))
			return &p->adopted[i];
	return NULL;
}

static bool index_recorded(const struct planner *p, int index)
{
	for (size_t i = 0; i < p->n_adopted; i++)
		if (p->adopted[i].index == index)
			return true;
	return vsmmu_domain_recorded_smmu(p->dom, index) != NULL;
}

/* The expander a hostdev's guest address puts it behind, or -1. */
static int hostdev_expander(const struct planner *p, size_t h)
{
	const struct vsmmu_guest_addr *a = &p->dom->hostdevs[h].addr;
	const struct vsmmu_dom_ctrl *port = a->set ? vsmmu_domain_ctrl(p->dom, (int)a->bus) : NULL;

	return port && port->addr.set && planner_is_expander_index(p, (int)port->addr.bus)
		? (int)port->addr.bus : -1;
}

static bool adopt(struct planner *p, int index, const char *smmu)
{
	if (find_record(p, smmu))
		return false;
	p->adopted[p->n_adopted++] = (struct vsmmu_dom_record){ .index = index,
								.smmu = (char *)smmu };
	return true;
}

/* An expander that an <iommu> names but our metadata does not record is
 * taken over rather than left empty beside a new one: for the SMMU of a
 * hostdev already behind it, else for an SMMU that has no expander yet. */
void planner_adopt_named_expanders(struct planner *p)
{
	const struct vsmmu_plan *plan = p->plan;

	for (size_t i = 0; i < p->n_named; i++)
		for (size_t h = 0; h < plan->n_hostdevs && !index_recorded(p, p->named[i]); h++)
			if (hostdev_expander(p, h) == p->named[i])
				adopt(p, p->named[i], plan->hostdevs[h].smmu);
	for (size_t i = 0; i < p->n_named; i++)
		for (size_t h = 0; h < plan->n_hostdevs && !index_recorded(p, p->named[i]); h++)
			adopt(p, p->named[i], plan->hostdevs[h].smmu);
}

static struct vsmmu_plan_expander *push_expander(struct planner *p)
{
	struct vsmmu_plan *plan = p->plan;

	vsmmu_grow(&plan->expanders, &p->cap_exp, plan->n_expanders, sizeof(*plan->expanders));
	return &plan->expanders[plan->n_expanders++];
}

static int add_expander_for(struct planner *p, const char *smmu, vsmmu_err *err)
{
	const struct vsmmu_dom_record *rec = find_record(p, smmu);
	struct vsmmu_plan_expander *e;
	int index, slot;

	if (rec) {
		const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(p->dom, rec->index);

		e = push_expander(p);
		*e = (struct vsmmu_plan_expander){ .index = c->index, .bus_nr = c->bus_nr,
			.numa_node = c->numa_node, .slot = c->addr.slot, .existing = true,
			.has_hostdevs = true, .smmu = vsmmu_xstrdup(smmu) };
		return 0;
	}
	index = alloc_index(p, "pcie-expander-bus", err);
	if (index < 0)
		return -1;
	slot = alloc_slot(p, 0, 1);
	if (slot < 0)
		return no_expander_slot(p, smmu, err);
	e = push_expander(p);
	*e = (struct vsmmu_plan_expander){ .index = index, .bus_nr = -1, .numa_node = -1,
		.slot = (unsigned int)slot, .has_hostdevs = true, .smmu = vsmmu_xstrdup(smmu) };
	return 0;
}

int planner_expanders(struct planner *p, vsmmu_err *err)
{
	for (size_t i = 0; i < p->plan->n_hostdevs; i++)
		if (!find_expander(p->plan, p->plan->hostdevs[i].smmu) &&
		    add_expander_for(p, p->plan->hostdevs[i].smmu, err) < 0)
			return -1;
	return 0;
}

/* Anything other than a planned hostdev sitting on bus index `bus`. */
static bool bus_has_devices(const struct planner *p, int bus)
{
	for (size_t i = 0; i < p->dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *c = &p->dom->ctrls[i];

		if (!p->removed[c->index] && c->addr.set && (int)c->addr.bus == bus)
			return true;
	}
	for (size_t i = 0; i < p->dom->n_devs; i++)
		if (p->dom->devs[i].addr.set && (int)p->dom->devs[i].addr.bus == bus)
			return true;
	return false;
}

static void mark_removed(struct planner *p, int index)
{
	struct vsmmu_plan *plan = p->plan;

	vsmmu_grow(&plan->remove, &p->cap_remove, plan->n_remove, sizeof(int));
	plan->remove[plan->n_remove++] = index;
	p->removed[index] = true;
	p->used_index[index] = false;
}

static bool is_root_port_on(const struct vsmmu_dom_ctrl *c, int expander)
{
	return vsmmu_streq(c->model, "pcie-root-port") && c->addr.set &&
	       (int)c->addr.bus == expander;
}

/* Does anything but its empty root ports hang from expander c? Controllers
 * removed already do not count. */
static bool retired_busy(const struct planner *p, const struct vsmmu_dom_ctrl *c)
{
	for (size_t i = 0; i < p->dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *child = &p->dom->ctrls[i];

		if (child->addr.set && (int)child->addr.bus == c->index && !p->removed[child->index] &&
		    (!is_root_port_on(child, c->index) || bus_has_devices(p, child->index)))
			return true;
	}
	return false;
}

/* The controller of a record whose SMMU serves no hostdev any more, or NULL. */
static const struct vsmmu_dom_ctrl *retired_ctrl(const struct planner *p,
						 const struct vsmmu_dom_record *rec)
{
	const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(p->dom, rec->index);
	const struct vsmmu_plan_expander *e = find_expander(p->plan, rec->smmu);

	if ((e && e->index == rec->index) || vsmmu_plan_expander(p->plan, rec->index) || !c ||
	    !vsmmu_streq(c->model, "pcie-expander-bus") || p->removed[c->index])
		return NULL;
	return c;
}

/* Drop a retired expander with its empty root ports; true if it went. */
static bool drop_retired(struct planner *p, const struct vsmmu_dom_ctrl *c)
{
	if (retired_busy(p, c))
		return false;
	for (size_t i = 0; i < p->dom->n_ctrls; i++)
		if (is_root_port_on(&p->dom->ctrls[i], c->index) && !p->removed[p->dom->ctrls[i].index])
			mark_removed(p, p->dom->ctrls[i].index);
	mark_removed(p, c->index);
	return true;
}

/* Recorded expanders whose SMMU serves no hostdev any more: drop each with
 * its empty root ports, or keep it untouched if something else is behind
 * it. Dropping one can free another (one hung from the other): repeat
 * until nothing more goes, so that a second rewrite finds nothing to do. */
void planner_retired_expanders(struct planner *p)
{
	const struct vsmmu_dom_config *cfg = &p->dom->config;
	bool dropped = true;

	while (dropped) {
		dropped = false;
		for (size_t i = 0; i < cfg->n_records; i++) {
			const struct vsmmu_dom_ctrl *c = retired_ctrl(p, &cfg->records[i]);

			dropped |= c && drop_retired(p, c);
		}
	}
	for (size_t i = 0; i < cfg->n_records; i++) {
		const struct vsmmu_dom_ctrl *c = retired_ctrl(p, &cfg->records[i]);
		struct vsmmu_plan_expander *e;

		if (!c)
			continue;
		e = push_expander(p);
		*e = (struct vsmmu_plan_expander){ .index = c->index, .bus_nr = c->bus_nr,
			.numa_node = c->numa_node, .slot = c->addr.slot, .existing = true,
			.smmu = vsmmu_xstrdup(cfg->records[i].smmu) };
	}
}

static struct vsmmu_plan_port *push_port(struct planner *p)
{
	struct vsmmu_plan *plan = p->plan;

	vsmmu_grow(&plan->ports, &p->cap_port, plan->n_ports, sizeof(*plan->ports));
	return &plan->ports[plan->n_ports++];
}

static void collect_existing_ports(struct planner *p, const struct vsmmu_plan_expander *e)
{
	for (size_t i = 0; i < p->dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *c = &p->dom->ctrls[i];

		if (is_root_port_on(c, e->index) && !p->removed[c->index])
			*push_port(p) = (struct vsmmu_plan_port){ .index = c->index,
				.expander = e->index, .slot = c->addr.slot, .existing = true,
				.hostdev = -1 };
	}
}

static bool port_free(const struct planner *p, const struct vsmmu_plan_port *port)
{
	return port->hostdev < 0 && !bus_has_devices(p, port->index);
}

/* Keep a hostdev where it is when it already sits at slot 0 of a free root
 * port of the right expander: only devices whose SMMU changed move. */
static void keep_in_place(struct planner *p, size_t h)
{
	const struct vsmmu_guest_addr *a = &p->dom->hostdevs[h].addr;
	struct vsmmu_plan_hostdev *ph = &p->plan->hostdevs[h];

	if (!a->set || a->domain != 0 || a->slot != 0 || a->func != 0)
		return;
	for (size_t i = 0; i < p->plan->n_ports; i++) {
		struct vsmmu_plan_port *port = &p->plan->ports[i];

		if (port->index == (int)a->bus && port->expander == ph->expander &&
		    port_free(p, port)) {
			port->hostdev = (int)h;
			ph->port = port->index;
			return;
		}
	}
}

static int new_port(struct planner *p, int expander, int hostdev, vsmmu_err *err)
{
	struct vsmmu_plan_port *port;
	int index = alloc_index(p, "pcie-root-port", err);
	int slot = index < 0 ? -1 : alloc_slot(p, expander, 0);

	if (index < 0)
		return -1;
	if (slot < 0)
		return no_port_slot(p, expander, err);
	port = push_port(p);
	*port = (struct vsmmu_plan_port){ .index = index, .expander = expander,
		.slot = (unsigned int)slot, .hostdev = hostdev };
	return index;
}

static int place_hostdev(struct planner *p, size_t h, vsmmu_err *err)
{
	struct vsmmu_plan_hostdev *ph = &p->plan->hostdevs[h];

	ph->moved = true;
	for (size_t i = 0; i < p->plan->n_ports; i++) {
		struct vsmmu_plan_port *port = &p->plan->ports[i];

		if (port->expander == ph->expander && port_free(p, port)) {
			port->hostdev = (int)h;
			ph->port = port->index;
			return 0;
		}
	}
	ph->port = new_port(p, ph->expander, (int)h, err);
	return ph->port < 0 ? -1 : 0;
}

/* Make the number of free root ports on expander e equal spare_ports. */
static int balance_spares(struct planner *p, int e, vsmmu_err *err)
{
	unsigned int free_ports = 0;

	for (size_t i = 0; i < p->plan->n_ports; i++)
		if (p->plan->ports[i].expander == e && port_free(p, &p->plan->ports[i]))
			free_ports++;
	for (; free_ports < p->plan->spare_ports; free_ports++)
		if (new_port(p, e, -1, err) < 0)
			return -1;
	for (size_t i = p->plan->n_ports; i-- > 0 && free_ports > p->plan->spare_ports;) {
		struct vsmmu_plan_port *port = &p->plan->ports[i];

		if (port->expander != e || !port_free(p, port))
			continue;
		if (port->existing)
			mark_removed(p, port->index);
		else
			p->used_index[port->index] = false;
		memmove(port, port + 1, (p->plan->n_ports - i - 1) * sizeof(*port));
		p->plan->n_ports--;
		free_ports--;
	}
	return 0;
}

/* libvirt puts a device that has no PCI address yet on the first free root
 * port, which would be a spare port behind an accelerated vSMMU, where QEMU
 * refuses emulated devices. Spares wait until every device has an address. */
static void hold_spares_for_addressless(struct planner *p)
{
	struct vsmmu_plan *plan = p->plan;
	char msg[256];

	if (plan->mode != VSMMU_MODE_ACCEL || plan->spare_ports == 0 || p->dom->n_addressless == 0)
		return;
	snprintf(msg, sizeof(msg), "no spare root ports yet: %zu device(s) have no PCI address "
		 "and libvirt would put them on a spare port behind an accelerated vSMMU; "
		 "define the domain, then run 'vsmmuctl apply'", p->dom->n_addressless);
	planner_note(plan, msg);
	plan->spare_ports = 0;
}

int planner_ports(struct planner *p, vsmmu_err *err)
{
	struct vsmmu_plan *plan = p->plan;

	hold_spares_for_addressless(p);
	for (size_t i = 0; i < plan->n_expanders; i++)
		if (plan->expanders[i].has_hostdevs)
			collect_existing_ports(p, &plan->expanders[i]);
	for (size_t h = 0; h < plan->n_hostdevs; h++) {
		plan->hostdevs[h].expander = find_expander(plan, plan->hostdevs[h].smmu)->index;
		keep_in_place(p, h);
	}
	for (size_t h = 0; h < plan->n_hostdevs; h++)
		if (plan->hostdevs[h].port < 0 && place_hostdev(p, h, err) < 0)
			return -1;
	for (size_t i = 0; i < plan->n_expanders; i++)
		if (plan->expanders[i].has_hostdevs &&
		    balance_spares(p, plan->expanders[i].index, err) < 0)
			return -1;
	return 0;
}
