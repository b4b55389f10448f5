/* The planner: a pure function of (domain, host, policy) that decides the
 * plan (plan.h). */
#include "plan.h"

#include <string.h>

#include "domain.h"
#include "host.h"
#include "libvirtver.h"
#include "util.h"

#define MAX_INDEX 255
#define MAX_SLOT 31

struct planner {
	const struct vsmmu_domain *dom;
	const struct vsmmu_host *host;
	struct vsmmu_plan *plan;
	bool used_index[MAX_INDEX + 1];
	bool removed[MAX_INDEX + 1];
	int named[MAX_INDEX + 1];   /* expanders a per-bus or smmuv3Dev <iommu> names */
	size_t n_named;
	struct vsmmu_dom_record adopted[MAX_INDEX + 1]; /* those taken over for an SMMU */
	size_t n_adopted;
	size_t cap_exp, cap_port, cap_remove;
};

static void add_line(char ***lines, size_t *n, const char *msg)
{
	*lines = vsmmu_xrealloc(*lines, *n + 1, sizeof(char *));
	(*lines)[(*n)++] = vsmmu_xstrdup(msg);
}

static void add_warning(struct vsmmu_plan *plan, const char *msg)
{
	add_line(&plan->warnings, &plan->n_warnings, msg);
}

static void add_note(struct vsmmu_plan *plan, const char *msg)
{
	add_line(&plan->notes, &plan->n_notes, msg);
}

static bool is_expander_model(const char *model)
{
	return vsmmu_streq(model, "pcie-expander-bus") || vsmmu_streq(model, "pci-expander-bus");
}

/* Controllers that open a bus of their own and so take a bus number. */
static bool takes_bus_number(const char *model)
{
	return !vsmmu_streq(model, "pcie-root") && !vsmmu_streq(model, "pci-root") &&
	       !is_expander_model(model);
}

/* Expanders work only with UEFI and ACPI boot: rewrite adds what is missing
 * (check reports it until then), except a firmware the user chose. */
static void check_firmware(struct planner *p)
{
	const struct vsmmu_domain *dom = p->dom;
	struct vsmmu_plan *plan = p->plan;

	if (!dom->acpi) {
		plan->add_acpi = true;
		add_warning(plan, "the domain has no <features><acpi/>: guests see nothing "
			    "behind a pcie-expander-bus under device-tree boot; add <acpi/>");
		add_note(plan, "added <features><acpi/>: guests see expanders only under ACPI");
	}
	if (dom->uefi)
		return;
	if (dom->firmware) {
		char msg[256];

		snprintf(msg, sizeof(msg), "the domain boots with <os firmware='%s'>: expanders "
			 "need UEFI and ACPI; set <os firmware='efi'>", dom->firmware);
		add_line(&plan->manual, &plan->n_manual, msg);
		return;
	}
	plan->add_uefi = true;
	add_warning(plan, "the domain boots without UEFI firmware: expanders need UEFI and ACPI; "
		    "set <os firmware='efi'> or a <loader>");
	add_note(plan, "set <os firmware='efi'>: guests see expanders only under UEFI");
}

static int check_domain_kind(struct planner *p, vsmmu_err *err)
{
	const struct vsmmu_domain *dom = p->dom;

	if (!vsmmu_streq(dom->arch, "aarch64"))
		return vsmmu_fail(err, "domain '%s' is <type arch='%s'>: vsmmu manages aarch64 "
				  "domains only", dom->name ? dom->name : "?",
				  dom->arch ? dom->arch : "(none)");
	if (dom->machine && !vsmmu_has_prefix(dom->machine, "virt"))
		return vsmmu_fail(err, "domain uses machine '%s': vsmmu needs the aarch64 'virt' "
				  "machine", dom->machine);
	for (size_t i = 0; i < dom->n_ctrls; i++)
		if (dom->ctrls[i].index == 0 && !vsmmu_streq(dom->ctrls[i].model, "pcie-root"))
			return vsmmu_fail(err, "PCI controller index 0 is a %s: index 0 is the "
					  "pcie-root; renumber that controller",
					  dom->ctrls[i].model ? dom->ctrls[i].model : "(no model)");
	check_firmware(p);
	return 0;
}

static bool is_expander_index(const struct planner *p, int index)
{
	const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(p->dom, index);

	return c && is_expander_model(c->model);
}

static void name_expander(struct planner *p, int index)
{
	for (size_t i = 0; i < p->n_named; i++)
		if (p->named[i] == index)
			return;
	p->named[p->n_named++] = index;
}

/* The settings the <iommu> elements carry override <vsmmu:config>'s: they
 * are what the user sees and edits. One policy serves every vSMMU, so the
 * elements must agree. */
static int take_iommu_props(struct planner *p, vsmmu_err *err)
{
	struct vsmmu_plan *plan = p->plan;

	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++) {
		const struct vsmmu_dom_iommu *from = NULL;

		for (size_t m = 0; m < p->dom->n_iommus; m++) {
			const struct vsmmu_dom_iommu *it = &p->dom->iommus[m];

			if (!it->props[i] || it->form == VSMMU_IOMMU_MACHINE)
				continue;
			if (from && !vsmmu_streq(from->props[i], it->props[i]))
				return vsmmu_fail(err, "the <iommu> elements disagree on %s ('%s' and "
						  "'%s'): vsmmu gives every vSMMU the same settings; "
						  "make them agree", vsmmu_smmu_prop_name(i),
						  from->props[i], it->props[i]);
			from = it;
		}
		if (from) {
			free(plan->props[i]);
			plan->props[i] = vsmmu_xstrdup(from->props[i]);
		}
	}
	return 0;
}

/* Legacy proposal forms, libvirt's own per-bus form and a machine-wide
 * smmuv3 become our own policy. */
static int apply_iommus(struct planner *p, vsmmu_err *err)
{
	struct vsmmu_plan *plan = p->plan;
	bool any_form = false, any_accel = false;

	for (size_t i = 0; i < p->dom->n_iommus; i++) {
		const struct vsmmu_dom_iommu *m = &p->dom->iommus[i];

		switch (m->form) {
		case VSMMU_IOMMU_MACHINE:
			plan->root_vsmmu = true;
			break;
		case VSMMU_IOMMU_PER_BUS:
			if (m->bus == 0) { /* a vSMMU on pcie.0 itself */
				plan->root_vsmmu = true;
				break;
			}
			if (!is_expander_index(p, m->bus))
				return vsmmu_fail(err, "<iommu model='smmuv3'><driver pciBus='%d'/>: "
						  "controller index %d is not a pcie-expander-bus; "
						  "name an expander's index, or 0 for pcie.0", m->bus,
						  m->bus);
			name_expander(p, m->bus);
			any_form = true;
			any_accel |= m->accel;
			break;
		case VSMMU_IOMMU_NESTED:
		case VSMMU_IOMMU_SMMUV3DEV:
			if (m->bus > 0 && is_expander_index(p, m->bus))
				name_expander(p, m->bus);
			any_form = true;
			any_accel |= m->accel;
			break;
		case VSMMU_IOMMU_OTHER_MODEL:
			return vsmmu_fail(err, "<iommu model='%s'> cannot be combined with per-SMMU "
					  "vSMMUs: remove it", m->model ? m->model : "?");
		}
	}
	if (!p->dom->config.node && any_form)
		plan->mode = any_accel ? VSMMU_MODE_ACCEL : VSMMU_MODE_EMULATED;
	return take_iommu_props(p, err);
}

static void apply_config(struct planner *p, const struct vsmmu_policy *policy)
{
	const struct vsmmu_dom_config *cfg = &p->dom->config;
	struct vsmmu_plan *plan = p->plan;

	plan->mode = cfg->mode;
	plan->topology = cfg->topology;
	plan->spare_ports = cfg->spare_ports;
	plan->root_vsmmu = cfg->root_iommu;
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		plan->props[i] = vsmmu_xstrdup(cfg->props[i]);
	if (policy && policy->mode >= 0)
		plan->mode = (enum vsmmu_mode)policy->mode;
	if (policy && policy->spare_ports >= 0)
		plan->spare_ports = (unsigned int)policy->spare_ports;
}

static int resolve_hostdev(struct planner *p, size_t i, vsmmu_err *err)
{
	const struct vsmmu_dom_hostdev *h = &p->dom->hostdevs[i];
	struct vsmmu_plan_hostdev *ph = &p->plan->hostdevs[i];
	const struct vsmmu_pcidev *dev = vsmmu_host_find_dev(p->host, &h->source);

	ph->host = h->source;
	vsmmu_pci_addr_format(&h->source, ph->bdf);
	ph->qemu_id = h->qemu_id ? vsmmu_xstrdup(h->qemu_id) : NULL;
	ph->port = ph->expander = -1;
	if (!dev)
		return vsmmu_fail(err, "hostdev %s: no such PCI device under %s/bus/pci/devices; "
				  "fix the <source> address", ph->bdf, p->host->sysfs_root);
	if (dev->iommu_kind == VSMMU_IOMMU_NONE)
		return vsmmu_fail(err, "hostdev %s has no iommu link in sysfs: it bypasses "
				  "translation and cannot be passed through nested; remove it",
				  ph->bdf);
	if (dev->iommu_kind == VSMMU_IOMMU_OTHER)
		return vsmmu_fail(err, "hostdev %s is behind IOMMU '%s', which is not an SMMUv3; "
				  "vsmmu cannot route it", ph->bdf,
				  dev->iommu_name ? dev->iommu_name : "?");
	if ((dev->class_code >> 8) == 0x0604)
		return vsmmu_fail(err, "hostdev %s is a PCI bridge (class 0x%06x); vfio-pci cannot "
				  "pass a bridge through: name the endpoint behind it", ph->bdf,
				  dev->class_code);
	ph->smmu = vsmmu_xstrdup(p->host->smmus[dev->smmu].name);
	return 0;
}

/* "lower spare-ports (now N) or " when spare ports take room, else "". */
static const char *spare_advice(const struct vsmmu_plan *plan, char buf[64])
{
	if (plan->spare_ports == 0)
		return "";
	snprintf(buf, 64, "lower spare-ports (now %u) or ", plan->spare_ports);
	return buf;
}

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
			  "hostdevs", what, MAX_INDEX, spare_advice(p->plan, spare));
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

	return port && port->addr.set && is_expander_index(p, (int)port->addr.bus)
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
static void adopt_named_expanders(struct planner *p)
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

static int plan_expanders(struct planner *p, vsmmu_err *err)
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
static void plan_retired(struct planner *p)
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
	add_line(&plan->notes, &plan->n_notes, msg);
	plan->spare_ports = 0;
}

static int plan_ports(struct planner *p, vsmmu_err *err)
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

/* The root bus a controller's hierarchy hangs from: 0 for pcie.0, or the
 * index of its expander. */
static int hierarchy_root(const struct planner *p, int bus)
{
	for (int depth = 0; depth <= MAX_INDEX && bus > 0; depth++) {
		const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(p->dom, bus);
		const struct vsmmu_plan_port *port = vsmmu_plan_port(p->plan, bus);

		if (port)
			return port->expander;
		if (!c || is_expander_model(c->model) || !c->addr.set)
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
			count[hierarchy_root(p, (int)c->addr.bus)]++;
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

		if (!is_expander_model(c->model) || vsmmu_plan_expander(p->plan, c->index) ||
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

static int plan_bus_numbers(struct planner *p, vsmmu_err *err)
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
		if (e->bus_nr > 0 && range_fits(&r, e->bus_nr, e->bus_nr + (int)e->n_buses - 1))
			range_add(&r, e->bus_nr, e->bus_nr + (int)e->n_buses - 1);
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
					  plan->pcie0_buses, spare_advice(plan, spare));
		range_add(&r, e->bus_nr, e->bus_nr + (int)e->n_buses - 1);
	}
	return 0;
}

/* The host NUMA node of an SMMU, or, when sysfs does not say, that of its
 * hostdevs if they all agree. */
static int smmu_host_node(const struct planner *p, const char *smmu)
{
	int idx = vsmmu_host_find_smmu(p->host, smmu);
	int node = VSMMU_NODE_UNKNOWN;

	if (idx >= 0 && p->host->smmus[idx].numa_node != VSMMU_NODE_UNKNOWN)
		return p->host->smmus[idx].numa_node;
	for (size_t i = 0; i < p->plan->n_hostdevs; i++) {
		const struct vsmmu_plan_hostdev *h = &p->plan->hostdevs[i];
		const struct vsmmu_pcidev *dev = vsmmu_host_find_dev(p->host, &h->host);

		if (!vsmmu_streq(h->smmu, smmu) || !dev)
			continue;
		if (dev->numa_node == VSMMU_NODE_UNKNOWN ||
		    (node != VSMMU_NODE_UNKNOWN && node != dev->numa_node))
			return VSMMU_NODE_UNKNOWN;
		node = dev->numa_node;
	}
	return node;
}

static int plan_numa(struct planner *p, vsmmu_err *err)
{
	for (size_t i = 0; i < p->plan->n_expanders; i++) {
		struct vsmmu_plan_expander *e = &p->plan->expanders[i];
		int host_node = smmu_host_node(p, e->smmu);
		int cell = -1;

		if (!e->has_hostdevs)
			continue;
		for (size_t m = 0; m < p->dom->n_memnodes && host_node >= 0; m++) {
			const struct vsmmu_dom_memnode *mn = &p->dom->memnodes[m];
			int in = vsmmu_nodeset_contains(mn->nodeset, host_node);

			if (in < 0)
				return vsmmu_fail(err, "<numatune><memnode cellid='%d' nodeset='%s'>: "
						  "malformed nodeset", mn->cellid,
						  mn->nodeset ? mn->nodeset : "");
			if (in && mn->cellid < (int)p->dom->n_cells && (cell < 0 || mn->cellid < cell))
				cell = mn->cellid;
		}
		e->numa_node = cell;
	}
	return 0;
}

static const char *device_label(xmlNodePtr node)
{
	return (const char *)node->name;
}

/* accel=on admits only vfio-pci endpoints (and bridges) behind it. */
static int check_no_emulated_behind_accel(const struct planner *p, vsmmu_err *err)
{
	if (p->plan->mode != VSMMU_MODE_ACCEL)
		return 0;
	for (size_t i = 0; i < p->dom->n_devs; i++) {
		const struct vsmmu_dom_dev *d = &p->dom->devs[i];
		int root = hierarchy_root(p, (int)d->addr.bus);
		const struct vsmmu_plan_expander *e = vsmmu_plan_expander(p->plan, root);

		if (d->addr.bus != 0 && e && e->has_hostdevs)
			return vsmmu_fail(err, "<%s> at guest bus 0x%02x is behind expander pci.%d, "
					  "whose vSMMU is accelerated: QEMU allows only vfio-pci "
					  "devices there; move it to pcie.0 or set mode='emulated'",
					  device_label(d->node), d->addr.bus, root);
	}
	return 0;
}

static int compare_expanders(const void *a, const void *b)
{
	return ((const struct vsmmu_plan_expander *)a)->index -
	       ((const struct vsmmu_plan_expander *)b)->index;
}

static int compare_ports(const void *a, const void *b)
{
	return ((const struct vsmmu_plan_port *)a)->index -
	       ((const struct vsmmu_plan_port *)b)->index;
}

/* Controller indexes are taken by the controllers, and by every bus a
 * device or controller address names without a controller of that index:
 * libvirt adds one there, and a root port of ours at that index would
 * find the device already behind it on the next rewrite. A hostdev's
 * address is ours to rewrite, so it reserves nothing. */
static void mark_used_indexes(struct planner *p)
{
	const struct vsmmu_domain *dom = p->dom;

	for (size_t i = 0; i < dom->n_ctrls; i++) {
		p->used_index[dom->ctrls[i].index] = true;
		if (dom->ctrls[i].addr.set && dom->ctrls[i].addr.domain == 0)
			p->used_index[dom->ctrls[i].addr.bus] = true;
	}
	for (size_t i = 0; i < dom->n_devs; i++)
		if (dom->devs[i].addr.set && dom->devs[i].addr.domain == 0)
			p->used_index[dom->devs[i].addr.bus] = true;
}

static int run_planner(struct planner *p, const struct vsmmu_policy *policy, vsmmu_err *err)
{
	struct vsmmu_plan *plan = p->plan;

	mark_used_indexes(p);
	apply_config(p, policy);
	if (check_domain_kind(p, err) < 0 || apply_iommus(p, err) < 0)
		return -1;
	plan->n_hostdevs = p->dom->n_hostdevs;
	plan->hostdevs = vsmmu_xcalloc(plan->n_hostdevs, sizeof(*plan->hostdevs));
	for (size_t i = 0; i < plan->n_hostdevs; i++)
		if (resolve_hostdev(p, i, err) < 0)
			return -1;
	adopt_named_expanders(p);
	if (plan_expanders(p, err) < 0)
		return -1;
	plan_retired(p);
	if (plan_ports(p, err) < 0 || plan_bus_numbers(p, err) < 0 || plan_numa(p, err) < 0 ||
	    check_no_emulated_behind_accel(p, err) < 0)
		return -1;
	if (plan->n_expanders) /* qsort(NULL, 0, ...) is undefined */
		qsort(plan->expanders, plan->n_expanders, sizeof(*plan->expanders),
		      compare_expanders);
	if (plan->n_ports)
		qsort(plan->ports, plan->n_ports, sizeof(*plan->ports), compare_ports);
	return 0;
}

/* The libvirt that can hold the plan in native form, and the feature that
 * needs the newest one. */
static unsigned long native_needs(const struct vsmmu_plan *plan, enum vsmmu_libvirt_feature *why)
{
	enum vsmmu_libvirt_feature need[2 + VSMMU_N_SMMU_PROPS];
	size_t n = 0;
	unsigned long max = 0;

	need[n++] = VSMMU_LV_IOMMU_PCI_BUS;
	if (plan->mode == VSMMU_MODE_ACCEL) {
		need[n++] = VSMMU_LV_SMMU_ACCEL;
		need[n++] = VSMMU_LV_DOMAIN_IOMMUFD;
	}
	for (unsigned int i = 0; i < VSMMU_N_SMMU_PROPS && plan->mode == VSMMU_MODE_ACCEL; i++)
		if (plan->props[i])
			need[n++] = vsmmu_libvirt_prop_feature(i);
	for (size_t i = 0; i < n; i++)
		if (vsmmu_libvirt_gate(need[i])->since > max) {
			max = vsmmu_libvirt_gate(need[i])->since;
			*why = need[i];
		}
	return max;
}

static void note_form(struct vsmmu_plan *plan, unsigned long have, unsigned long needs,
		      enum vsmmu_libvirt_feature why)
{
	char h[32], n[32], msg[320];

	vsmmu_libvirt_version_str(have, h);
	vsmmu_libvirt_version_str(needs, n);
	if (!have)
		snprintf(msg, sizeof(msg), "native form: it needs libvirt >= %s (for %s)", n,
			 vsmmu_libvirt_gate(why)->what);
	else if (plan->form == VSMMU_FORM_NATIVE)
		snprintf(msg, sizeof(msg), "native form: libvirt %s holds the vSMMUs and iommufd "
			 "itself; no wrapper", h);
	else
		snprintf(msg, sizeof(msg), "wrapper form: libvirt %s is older than the %s the "
			 "native form needs (for %s)", h, n, vsmmu_libvirt_gate(why)->what);
	add_note(plan, msg);
}

/* libvirt 12.9 takes ats, ... only with accel='on' (rewrite.c). */
static void note_props_without_accel(struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS && plan->mode == VSMMU_MODE_EMULATED; i++)
		if (plan->props[i]) {
			add_note(plan, "native form without accel: libvirt takes ats, ril, ssidsize, "
				 "oas and cmdqv only with accel='on'; they stay in <vsmmu:config>");
			return;
		}
}

/* The wrapper form runs the wrapper when the caller names it; the native
 * form runs the real QEMU where <emulator> named the wrapper. */
static void plan_emulator(struct planner *p, const struct vsmmu_policy *policy)
{
	const char *to = NULL;

	if (!policy)
		return;
	if (p->plan->form == VSMMU_FORM_WRAPPER)
		to = policy->wrapper;
	else if (vsmmu_domain_uses_wrapper(p->dom))
		to = policy->qemu;
	p->plan->emulator = to ? vsmmu_xstrdup(to) : NULL;
}

static int plan_form(struct planner *p, const struct vsmmu_policy *policy, vsmmu_err *err)
{
	struct vsmmu_plan *plan = p->plan;
	int want = policy ? policy->form : VSMMU_FORM_KEEP;
	unsigned long have = policy ? policy->libvirt : 0;
	enum vsmmu_libvirt_feature why = VSMMU_LV_IOMMU_PCI_BUS;
	unsigned long needs = native_needs(plan, &why);

	plan->form = want >= 0 ? (enum vsmmu_form)want : p->dom->config.form;
	if (want == VSMMU_FORM_AUTO && have) {
		plan->form = have >= needs && plan->topology == VSMMU_TOPO_PERSISTENT
			? VSMMU_FORM_NATIVE : VSMMU_FORM_WRAPPER;
		/* Said once: when the form changes, or at the first rewrite. */
		if (plan->topology == VSMMU_TOPO_PERSISTENT &&
		    (plan->form != p->dom->config.form || p->dom->config.n_records == 0))
			note_form(plan, have, needs, why);
	}
	if (plan->form == VSMMU_FORM_NATIVE && plan->topology == VSMMU_TOPO_RUNTIME)
		return vsmmu_fail(err, "topology='runtime' is built by the wrapper at every start "
				  "and has no native form; use the wrapper form or "
				  "topology='persistent'");
	if (plan->form == VSMMU_FORM_NATIVE && have && have < needs) {
		char h[32], n[32];

		return vsmmu_fail(err, "libvirt %s cannot hold this domain in native form: %s "
				  "needs libvirt >= %s; upgrade libvirt or use the wrapper form",
				  vsmmu_libvirt_version_str(have, h), vsmmu_libvirt_gate(why)->what,
				  vsmmu_libvirt_version_str(needs, n));
	}
	if (plan->form == VSMMU_FORM_NATIVE && policy && !have && want == VSMMU_FORM_NATIVE)
		note_form(plan, 0, needs, why);
	if (plan->form == VSMMU_FORM_NATIVE)
		note_props_without_accel(plan);
	plan_emulator(p, policy);
	return 0;
}

int vsmmu_plan_build(const struct vsmmu_domain *dom, const struct vsmmu_host *host,
		     const struct vsmmu_policy *policy, struct vsmmu_plan **out, vsmmu_err *err)
{
	_cleanup_plan_ struct vsmmu_plan *plan = vsmmu_xcalloc(1, sizeof(*plan));
	_cleanup_free_ struct planner *p = vsmmu_xcalloc(1, sizeof(*p));

	plan->managed = vsmmu_domain_is_managed(dom);
	if (plan->managed) {
		*p = (struct planner){ .dom = dom, .host = host, .plan = plan };
		if (run_planner(p, policy, err) < 0 || plan_form(p, policy, err) < 0)
			return -1;
	}
	*out = VSMMU_STEAL(plan);
	return 0;
}
