#include "rewritediff.h"

#include <stdio.h>

#include "rewrite.h"
#include "util.h"

/* written is n as rewrite writes a number: "%d". */
static bool written_as(const char *written, int n)
{
	char text[16];

	snprintf(text, sizeof(text), "%d", n);
	return vsmmu_streq(written, text);
}

/* apply_firmware, set_emulator and devices_node. */
static bool domain_differs(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	return !dom->has_devices || (plan->add_acpi && !dom->acpi) ||
	       (plan->add_uefi && !dom->uefi && dom->has_os) ||
	       (plan->emulator && !vsmmu_streq(dom->emulator, plan->emulator));
}

/* write_implied_indexes and remove_controller. */
static bool ctrls_differ(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < dom->n_ctrls; i++)
		if (dom->ctrls[i].index_implied)
			return true;
	for (size_t i = 0; i < plan->n_remove; i++)
		if (vsmmu_domain_ctrl(dom, plan->remove[i]))
			return true;
	return false;
}

/* remove_replaced_iommus. */
static bool iommus_dropped(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < dom->n_iommus; i++)
		if (!vsmmu_rewrite_keeps_iommu(dom, plan, &dom->iommus[i]))
			return true;
	return false;
}

/* set_expander_target. */
static bool target_differs(const struct vsmmu_dom_ctrl *c, const struct vsmmu_plan_expander *e)
{
	if (!written_as(c->bus_nr_text, e->bus_nr))
		return true;
	if (e->numa_node < 0)
		return c->numa_text != NULL;
	return !written_as(c->numa_text, e->numa_node);
}

/* apply_expander and apply_port: new controllers, and the target of each
 * expander that serves hostdevs. */
static bool topology_differs(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < plan->n_expanders; i++) {
		const struct vsmmu_plan_expander *e = &plan->expanders[i];
		const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(dom, e->index);

		if (!c || (e->has_hostdevs && target_differs(c, e)))
			return true;
	}
	for (size_t i = 0; i < plan->n_ports; i++)
		if (!vsmmu_domain_ctrl(dom, plan->ports[i].index))
			return true;
	return false;
}

/* apply_hostdev: slot 0 of its port, <driver name=>, no <iommufdId>. */
static bool hostdevs_differ(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < plan->n_hostdevs; i++) {
		const struct vsmmu_dom_hostdev *h = &dom->hostdevs[i];
		const struct vsmmu_guest_addr *a = &h->addr;

		if (h->iommufd_id || !h->driver_named || !a->set || !a->as_written ||
		    (int)a->bus != plan->hostdevs[i].port || a->slot != 0)
			return true;
	}
	return false;
}

/* apply_config: <vsmmu:config>'s attributes and records. */
static bool config_differs(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	const struct vsmmu_dom_config *cfg = &dom->config;
	bool native = plan->form == VSMMU_FORM_NATIVE;

	if (!cfg->node || !cfg->mode_written || cfg->mode != plan->mode)
		return true;
	if (native ? cfg->form != VSMMU_FORM_NATIVE : cfg->form_written)
		return true;
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		if (plan->props[i] && !vsmmu_streq(cfg->props[i], plan->props[i]))
			return true;
	if (plan->root_vsmmu && !cfg->root_iommu)
		return true;
	return !vsmmu_rewrite_records_match(dom, plan);
}

/* set_bus_iommu on an existing per-bus <iommu>, whose <driver> holds pciBus=. */
static bool bus_iommu_differs(const struct vsmmu_dom_iommu *m, int index, bool accel,
			      const struct vsmmu_plan *plan)
{
	const struct vsmmu_dom_iommu_driver *d = &m->driver;

	if (!written_as(d->pci_bus, index))
		return true;
	if (accel ? !vsmmu_streq(d->accel, "on") : d->accel != NULL)
		return true;
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		if (!vsmmu_streq(d->props[i], accel ? plan->props[i] : NULL))
			return true;
	return false;
}

/* The native form: apply_native_iommus, apply_native_iommufd and
 * remove_plan_env. */
static bool native_differs(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	bool accel = plan->mode == VSMMU_MODE_ACCEL;

	for (size_t i = 0; i <= plan->n_expanders; i++) {
		int index = i < plan->n_expanders ? plan->expanders[i].index : 0;
		const struct vsmmu_dom_iommu *m = vsmmu_domain_bus_iommu(dom, index);

		if (i < plan->n_expanders ? !plan->expanders[i].has_hostdevs : !plan->root_vsmmu)
			continue;
		if (!m || bus_iommu_differs(m, index, accel && index > 0, plan))
			return true;
	}
	if (accel && !vsmmu_streq(dom->iommufd_enabled, "yes")) /* or there is no <iommufd> */
		return true;
	return dom->qemu.has_plan || dom->qemu.empty_cmdline;
}

/* The wrapper form: drop_native_iommufd and apply_plan_env. */
static bool wrapper_differs(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	_cleanup_free_ char *json = NULL;

	if (dom->config.form == VSMMU_FORM_NATIVE && vsmmu_streq(dom->iommufd_enabled, "yes") &&
	    !dom->iommufd_fdgroup)
		return true;
	json = vsmmu_plan_to_json(plan);
	return !vsmmu_streq(dom->qemu.plan, json);
}

int vsmmu_rewrite_would_change(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			       vsmmu_err *err)
{
	bool native = plan->form == VSMMU_FORM_NATIVE;

	if (!plan->managed)
		return 0;
	if (plan->topology != VSMMU_TOPO_RUNTIME && !native &&
	    vsmmu_domain_qemu_ns_check(dom, err) < 0)
		return -1;
	if (domain_differs(dom, plan))
		return 1;
	if (plan->topology == VSMMU_TOPO_RUNTIME)
		return 0;
	return ctrls_differ(dom, plan) || iommus_dropped(dom, plan) ||
	       topology_differs(dom, plan) || hostdevs_differ(dom, plan) ||
	       config_differs(dom, plan) || (native ? native_differs(dom, plan)
						    : wrapper_differs(dom, plan));
}
