/* The planner: a pure function of (domain, host, policy) that decides the
 * plan (plan.h). This part runs the stages, takes the policy from the
 * domain's metadata, its <iommu> elements and the caller, resolves the
 * hostdevs on the host, and chooses the form; the expanders and root ports
 * are planroute.c's, the bus numbers planbus.c's. */
#include "planner-internal.h"

#include <string.h>

#include "host.h"
#include "libvirtver.h"
#include "util.h"

static void add_warning(struct vsmmu_plan *plan, const char *msg)
{
	vsmmu_strlist_add(&plan->warnings, msg);
}

void planner_note(struct vsmmu_plan *plan, const char *msg)
{
	vsmmu_strlist_add(&plan->notes, msg);
}

bool planner_is_expander_model(const char *model)
{
	return vsmmu_streq(model, "pcie-expander-bus") || vsmmu_streq(model, "pci-expander-bus");
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
		planner_note(plan, "added <features><acpi/>: guests see expanders only under ACPI");
	}
	if (dom->uefi)
		return;
	if (dom->firmware) {
		vsmmu_strlist_addf(&plan->manual, "the domain boots with <os firmware='%s'>: "
				   "expanders need UEFI and ACPI; set <os firmware='efi'>",
				   dom->firmware);
		return;
	}
	plan->add_uefi = true;
	add_warning(plan, "the domain boots without UEFI firmware: expanders need UEFI and ACPI; "
		    "set <os firmware='efi'> or a <loader>");
	planner_note(plan, "set <os firmware='efi'>: guests see expanders only under UEFI");
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

bool planner_is_expander_index(const struct planner *p, int index)
{
	const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(p->dom, index);

	return c && planner_is_expander_model(c->model);
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
			if (!planner_is_expander_index(p, m->bus))
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
			if (m->bus > 0 && planner_is_expander_index(p, m->bus))
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

const char *planner_spare_advice(const struct vsmmu_plan *plan, char buf[64])
{
	if (plan->spare_ports == 0)
		return "";
	snprintf(buf, 64, "lower spare-ports (now %u) or ", plan->spare_ports);
	return buf;
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
		int root = planner_hierarchy_root(p, (int)d->addr.bus);
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
	planner_adopt_named_expanders(p);
	if (planner_expanders(p, err) < 0)
		return -1;
	planner_retired_expanders(p);
	if (planner_ports(p, err) < 0 || planner_bus_numbers(p, err) < 0 || plan_numa(p, err) < 0 ||
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
	planner_note(plan, msg);
}

/* libvirt 12.9 takes ats, ... only with accel='on' (rewrite.c). */
static void note_props_without_accel(struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS && plan->mode == VSMMU_MODE_EMULATED; i++)
		if (plan->props[i]) {
			planner_note(plan, "native form without accel: libvirt takes ats, ril, ssidsize, "
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
