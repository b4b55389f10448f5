#include "report.h"

#include <jansson.h>
#include <string.h>

#include "pciaddr.h"

static const char *node_text(int node, char buf[16])
{
	if (node < 0)
		return "-";
	snprintf(buf, 16, "%d", node);
	return buf;
}

static size_t devices_behind(const struct vsmmu_host *host, int smmu)
{
	size_t n = 0;

	for (size_t i = 0; i < host->n_devs; i++)
		n += host->devs[i].smmu == smmu;
	return n;
}

void vsmmu_report_host_table(const struct vsmmu_host *host, struct vsmmu_buf *out)
{
	char node[16];

	vsmmu_buf_printf(out, "%-26s %-22s %-5s %s\n", "SMMU", "PLATFORM DEVICE", "NODE",
			 "PCI DEVICES");
	for (size_t i = 0; i < host->n_smmus; i++)
		vsmmu_buf_printf(out, "%-26s %-22s %-5s %zu\n", host->smmus[i].name,
				 host->smmus[i].platform_dev, node_text(host->smmus[i].numa_node, node),
				 devices_behind(host, (int)i));
	vsmmu_buf_printf(out, "\n%-13s %-10s %-7s %-22s %-5s %-6s %-26s %s\n", "PCI DEVICE",
			 "ID", "CLASS", "DRIVER", "NODE", "GROUP", "BEHIND", "VFIO CDEV");
	for (size_t i = 0; i < host->n_devs; i++) {
		const struct vsmmu_pcidev *d = &host->devs[i];
		const struct vsmmu_smmu *s = vsmmu_host_dev_smmu(host, d);
		char group[16];

		vsmmu_buf_printf(out, "%-13s %04x:%04x  %06x  %-22s %-5s %-6s %-26s %s\n", d->bdf,
				 d->vendor, d->device, d->class_code, d->driver ? d->driver : "-",
				 node_text(d->numa_node, node), node_text(d->iommu_group, group),
				 s ? s->name : d->iommu_kind == VSMMU_IOMMU_NONE ? "(no iommu)"
									 : d->iommu_name,
				 d->vfio_cdev ? d->vfio_cdev : "-");
	}
}

static json_t *node_json(int node)
{
	return node < 0 ? json_null() : json_integer(node);
}

static json_t *dev_json(const struct vsmmu_host *host, const struct vsmmu_pcidev *d)
{
	static const char *const kinds[] = { "none", "smmuv3", "other" };
	const struct vsmmu_smmu *s = vsmmu_host_dev_smmu(host, d);
	json_t *o = json_object();

	json_object_set_new(o, "bdf", json_string(d->bdf));
	json_object_set_new(o, "vendor", json_sprintf("0x%04x", d->vendor));
	json_object_set_new(o, "device", json_sprintf("0x%04x", d->device));
	json_object_set_new(o, "class", json_sprintf("0x%06x", d->class_code));
	json_object_set_new(o, "driver", d->driver ? json_string(d->driver) : json_null());
	json_object_set_new(o, "numa_node", node_json(d->numa_node));
	json_object_set_new(o, "iommu_group", node_json(d->iommu_group));
	json_object_set_new(o, "iommu", json_string(kinds[d->iommu_kind]));
	json_object_set_new(o, "smmu", s ? json_string(s->name) : json_null());
	json_object_set_new(o, "vfio_cdev", d->vfio_cdev ? json_string(d->vfio_cdev) : json_null());
	return o;
}

char *vsmmu_report_host_json(const struct vsmmu_host *host)
{
	json_auto_t *root = json_object();
	json_t *smmus = json_array(), *devs = json_array();

	for (size_t i = 0; i < host->n_smmus; i++)
		json_array_append_new(smmus, json_pack("{s:s, s:s, s:o}", "name", host->smmus[i].name,
						       "platform_device", host->smmus[i].platform_dev,
						       "numa_node", node_json(host->smmus[i].numa_node)));
	for (size_t i = 0; i < host->n_devs; i++)
		json_array_append_new(devs, dev_json(host, &host->devs[i]));
	json_object_set_new(root, "smmus", smmus);
	json_object_set_new(root, "pci_devices", devs);
	return json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

static const char *port_hostdev(const struct vsmmu_plan *plan, const struct vsmmu_plan_port *pt)
{
	return pt->hostdev >= 0 ? plan->hostdevs[pt->hostdev].bdf : "(spare)";
}

void vsmmu_report_plan_table(const struct vsmmu_plan *plan, struct vsmmu_buf *out)
{
	char node[16];

	if (!plan->managed) {
		vsmmu_buf_printf(out, "not managed by vsmmu: nothing to plan\n");
		return;
	}
	vsmmu_buf_printf(out, "mode %s%s, %zu hostdevs, pcie.0 keeps buses 0-%u%s\n\n",
			 vsmmu_mode_name(plan->mode),
			 plan->form == VSMMU_FORM_NATIVE ? " (native form: libvirt's vSMMUs)" : "",
			 plan->n_hostdevs, plan->pcie0_buses - 1,
			 plan->root_vsmmu ? ", emulated vSMMU vsmmu.0 on pcie.0" : "");
	vsmmu_buf_printf(out, "%-9s %-7s %-7s %-5s %-5s %-26s %s\n", "EXPANDER", "BUS_NR", "BUSES",
			 "NODE", "SLOT", "MIRRORS", "VSMMU");
	for (size_t i = 0; i < plan->n_expanders; i++) {
		const struct vsmmu_plan_expander *e = &plan->expanders[i];
		char id[16], range[16];

		snprintf(id, sizeof(id), "vsmmu.%d", e->index);
		snprintf(range, sizeof(range), "%d-%d", e->bus_nr, vsmmu_plan_expander_last_bus(e));
		vsmmu_buf_printf(out, "pci.%-5d %-7d %-7s %-5s 0x%02x  %-26s %s\n", e->index,
				 e->bus_nr, range, node_text(e->numa_node, node), e->slot, e->smmu,
				 e->has_hostdevs ? id : "-");
	}
	vsmmu_buf_printf(out, "\n%-10s %-9s %-5s %s\n", "ROOT PORT", "EXPANDER", "SLOT", "HOSTDEV");
	for (size_t i = 0; i < plan->n_ports; i++) {
		const struct vsmmu_plan_port *pt = &plan->ports[i];

		vsmmu_buf_printf(out, "pci.%-6d pci.%-5d 0x%02x  %s\n", pt->index, pt->expander,
				 pt->slot, port_hostdev(plan, pt));
	}
	for (size_t i = 0; i < plan->n_remove; i++)
		vsmmu_buf_printf(out, "remove pci.%d (no hostdev needs it)\n", plan->remove[i]);
}

/* Is any PCI hostdev in the hierarchy below bus? depth bounds cycles in
 * hand-written (bad) controller addresses. */
static bool bus_has_hostdev(const struct vsmmu_domain *dom, int bus, int depth)
{
	if (depth > 16)
		return false;
	for (size_t i = 0; i < dom->n_hostdevs; i++)
		if (dom->hostdevs[i].addr.set && (int)dom->hostdevs[i].addr.bus == bus)
			return true;
	for (size_t i = 0; i < dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *c = &dom->ctrls[i];

		if (c->addr.set && (int)c->addr.bus == bus && c->index != bus &&
		    bus_has_hostdev(dom, c->index, depth + 1))
			return true;
	}
	return false;
}

/* The vSMMU a bus gets: vsmmu.N on a recorded expander with hostdevs
 * (wrapper form), or libvirt's iommuK for the K-th <iommu> when a per-bus
 * one names the bus (native form, or libvirt's own). */
static bool vsmmu_label(const struct vsmmu_domain *dom, int index, struct vsmmu_buf *b)
{
	const struct vsmmu_dom_iommu *m = vsmmu_domain_bus_iommu(dom, index);

	if (m) {
		vsmmu_buf_printf(b, "iommu%zu%s", (size_t)(m - dom->iommus),
				 m->accel ? ", accel=on" : index == 0 ? ", emulated" : "");
		return true;
	}
	if (dom->config.form == VSMMU_FORM_NATIVE)
		return false;
	if (index == 0 && dom->config.root_iommu) {
		vsmmu_buf_printf(b, "vsmmu.0, emulated");
		return true;
	}
	if (!dom->config.node || !vsmmu_domain_recorded_smmu(dom, index) ||
	    !bus_has_hostdev(dom, index, 0))
		return false;
	vsmmu_buf_printf(b, "vsmmu.%d%s", index,
			 dom->config.mode == VSMMU_MODE_ACCEL ? ", accel=on" : "");
	return true;
}

static bool has_vsmmu(const struct vsmmu_domain *dom, const struct vsmmu_dom_ctrl *c)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 };

	return vsmmu_label(dom, c->index, &b);
}

struct tree_item {
	unsigned int slot, func;
	struct vsmmu_buf label;
	int bus; /* controller index to descend into, or -1 */
};

static void item_label_ctrl(const struct vsmmu_domain *dom, const struct vsmmu_dom_ctrl *c,
			    struct vsmmu_buf *b)
{
	const char *smmu = vsmmu_domain_recorded_smmu(dom, c->index);

	vsmmu_buf_printf(b, "pci.%d %s", c->index, c->model);
	if (c->bus_nr >= 0)
		vsmmu_buf_printf(b, " busNr %d", c->bus_nr);
	if (c->numa_node >= 0)
		vsmmu_buf_printf(b, " node %d", c->numa_node);
	if (smmu && dom->config.node)
		vsmmu_buf_printf(b, " mirrors %s", smmu);
	{
		_cleanup_buf_ struct vsmmu_buf label = { 0 };

		if (vsmmu_label(dom, c->index, &label))
			vsmmu_buf_printf(b, " [vSMMU %s]", label.data);
	}
}

static size_t collect_items(const struct vsmmu_domain *dom, int bus, struct tree_item *items)
{
	size_t n = 0;

	for (size_t i = 0; i < dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *c = &dom->ctrls[i];

		if (!c->addr.set || (int)c->addr.bus != bus || c->index == bus)
			continue;
		items[n] = (struct tree_item){ c->addr.slot, c->addr.func, { 0 }, c->index };
		item_label_ctrl(dom, c, &items[n++].label);
	}
	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		const struct vsmmu_dom_hostdev *h = &dom->hostdevs[i];
		char bdf[VSMMU_BDF_LEN];

		if (!h->addr.set || (int)h->addr.bus != bus)
			continue;
		vsmmu_pci_addr_format(&h->source, bdf);
		items[n] = (struct tree_item){ h->addr.slot, h->addr.func, { 0 }, -1 };
		vsmmu_buf_printf(&items[n++].label, "hostdev %s (vfio-pci)", bdf);
	}
	for (size_t i = 0; i < dom->n_devs; i++) {
		const struct vsmmu_dom_dev *d = &dom->devs[i];

		if ((int)d->addr.bus != bus)
			continue;
		items[n] = (struct tree_item){ d->addr.slot, d->addr.func, { 0 }, -1 };
		vsmmu_buf_printf(&items[n++].label, "%s (emulated)", (const char *)d->node->name);
	}
	return n;
}

static int compare_items(const void *a, const void *b)
{
	const struct tree_item *x = a, *y = b;

	return (int)(x->slot * 8 + x->func) - (int)(y->slot * 8 + y->func);
}

/* An empty root port on an expander with a vSMMU: `vsmmuctl attach` fills it. */
static bool is_free_slot(const struct vsmmu_domain *dom, int bus)
{
	const struct vsmmu_dom_ctrl *port = vsmmu_domain_ctrl(dom, bus);
	const struct vsmmu_dom_ctrl *exp = port && port->addr.set
		? vsmmu_domain_ctrl(dom, (int)port->addr.bus) : NULL;

	return port && vsmmu_streq(port->model, "pcie-root-port") && exp && has_vsmmu(dom, exp);
}

static void print_bus(const struct vsmmu_domain *dom, int bus, const char *prefix, int depth,
		      struct vsmmu_buf *out)
{
	size_t max = dom->n_ctrls + dom->n_hostdevs + dom->n_devs + 1;
	_cleanup_free_ struct tree_item *items = vsmmu_xcalloc(max, sizeof(*items));
	size_t n = collect_items(dom, bus, items);

	qsort(items, n, sizeof(*items), compare_items);
	if (n == 0 && is_free_slot(dom, bus))
		vsmmu_buf_printf(out, "%s`-- 00.0 free slot (vsmmuctl attach)\n", prefix);
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n;
		_cleanup_free_ char *sub = vsmmu_xasprintf("%s%s", prefix, last ? "    " : "|   ");

		vsmmu_buf_printf(out, "%s%s %02x.%x %s\n", prefix, last ? "`--" : "+--", items[i].slot,
				 items[i].func, items[i].label.data);
		if (items[i].bus >= 0 && depth < 16)
			print_bus(dom, items[i].bus, sub, depth + 1, out);
		vsmmu_buf_free(&items[i].label);
	}
}

void vsmmu_report_tree(const struct vsmmu_domain *dom, enum vsmmu_managed_by by,
		       struct vsmmu_buf *out)
{
	_cleanup_buf_ struct vsmmu_buf root = { 0 };
	const char *name = dom->name ? dom->name : "(unnamed)";

	if (by == VSMMU_MANAGED_METADATA)
		vsmmu_buf_printf(out, "domain %s, vsmmu mode %s%s\n", name,
				 vsmmu_mode_name(dom->config.mode),
				 dom->config.form == VSMMU_FORM_NATIVE ? ", native form" : "");
	else
		vsmmu_buf_printf(out, "domain %s, %s\n", name, vsmmu_managed_by_text(by));
	if (by == VSMMU_MANAGED_POLICY)
		vsmmu_buf_printf(out, "note: the definition stays as written; at each start the "
			      "hook plans and the wrapper builds the vSMMUs (vsmmuctl show %s "
			      "while it runs shows them)\n", name);
	vsmmu_buf_printf(out, "pcie.0 pcie-root");
	if (vsmmu_label(dom, 0, &root))
		vsmmu_buf_printf(out, " [vSMMU %s]", root.data);
	vsmmu_buf_printf(out, "\n");
	print_bus(dom, 0, "", 0, out);
}

static void dot_bus(const struct vsmmu_domain *dom, int bus, const char *parent,
		    struct vsmmu_buf *out, int depth)
{
	for (size_t i = 0; i < dom->n_ctrls && depth < 16; i++) {
		const struct vsmmu_dom_ctrl *c = &dom->ctrls[i];
		const char *smmu = vsmmu_domain_recorded_smmu(dom, c->index);
		char id[VSMMU_PCI_ID_LEN];

		if (!c->addr.set || (int)c->addr.bus != bus || c->index == bus)
			continue;
		vsmmu_pci_id(c->index, id);
		vsmmu_buf_printf(out, "  \"%s\" [label=\"%s\\n%s\"];\n  \"%s\" -> \"%s\";\n", id, id,
				 c->model, parent, id);
		if (has_vsmmu(dom, c)) {
			_cleanup_buf_ struct vsmmu_buf label = { 0 };
			size_t n;

			n = vsmmu_label(dom, c->index, &label) && label.data
				? strcspn(label.data, ",") : 0;
			vsmmu_buf_printf(out, "  \"%.*s\" [shape=hexagon];\n  \"%s\" -> \"%.*s\" "
					 "[style=dotted];\n", (int)n, label.data, id, (int)n,
					 label.data);
			if (smmu)
				vsmmu_buf_printf(out, "  \"%.*s\" -> \"%s\" [style=dashed, "
						 "label=\"mirrors\"];\n", (int)n, label.data, smmu);
		}
		dot_bus(dom, c->index, id, out, depth + 1);
	}
	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		char bdf[VSMMU_BDF_LEN];

		if (!dom->hostdevs[i].addr.set || (int)dom->hostdevs[i].addr.bus != bus)
			continue;
		vsmmu_pci_addr_format(&dom->hostdevs[i].source, bdf);
		vsmmu_buf_printf(out, "  \"%s\" [shape=box];\n  \"%s\" -> \"%s\";\n", bdf, parent, bdf);
	}
}

void vsmmu_report_dot(const struct vsmmu_domain *dom, struct vsmmu_buf *out)
{
	vsmmu_buf_printf(out, "digraph \"%s\" {\n  rankdir=LR;\n  \"pcie.0\" [shape=box3d];\n",
			 dom->name ? dom->name : "domain");
	for (size_t i = 0; i < dom->config.n_records; i++)
		vsmmu_buf_printf(out, "  \"%s\" [shape=octagon];\n", dom->config.records[i].smmu);
	dot_bus(dom, 0, "pcie.0", out, 0);
	vsmmu_buf_printf(out, "}\n");
}

static void plan_tree_ports(const struct vsmmu_plan *plan, int expander, const char *prefix,
			    struct vsmmu_buf *out)
{
	size_t n = 0, seen = 0;

	for (size_t i = 0; i < plan->n_ports; i++)
		n += plan->ports[i].expander == expander;
	for (size_t i = 0; i < plan->n_ports; i++) {
		const struct vsmmu_plan_port *pt = &plan->ports[i];
		bool last;

		if (pt->expander != expander)
			continue;
		last = ++seen == n;
		vsmmu_buf_printf(out, "%s%s %02x.0 pci.%d pcie-root-port\n", prefix,
				 last ? "`--" : "+--", pt->slot, pt->index);
		for (size_t h = 0; h < plan->n_hostdevs; h++)
			if (plan->hostdevs[h].port == pt->index)
				vsmmu_buf_printf(out, "%s%s`-- 00.0 hostdev %s (vfio-pci)\n", prefix,
						 last ? "    " : "|   ", plan->hostdevs[h].bdf);
	}
}

void vsmmu_report_plan_tree(const struct vsmmu_plan *plan, const char *name,
			    struct vsmmu_buf *out)
{
	char node[16];

	vsmmu_buf_printf(out, "domain %s, vsmmu mode %s, topology %s\n", name,
			 vsmmu_mode_name(plan->mode),
			 plan->topology == VSMMU_TOPO_RUNTIME ? "runtime" : "persistent");
	vsmmu_buf_printf(out, "pcie.0 pcie-root%s\n",
			 plan->root_vsmmu ? " [vSMMU vsmmu.0, emulated]" : "");
	for (size_t i = 0; i < plan->n_expanders; i++) {
		const struct vsmmu_plan_expander *e = &plan->expanders[i];
		bool last = i + 1 == plan->n_expanders;

		vsmmu_buf_printf(out, "%s %02x.0 pci.%d pcie-expander-bus busNr %d node %s mirrors %s",
				 last ? "`--" : "+--", e->slot, e->index, e->bus_nr,
				 node_text(e->numa_node, node), e->smmu);
		if (e->has_hostdevs)
			vsmmu_buf_printf(out, " [vSMMU vsmmu.%d%s]", e->index,
					 plan->mode == VSMMU_MODE_ACCEL ? ", accel=on" : "");
		vsmmu_buf_printf(out, "\n");
		plan_tree_ports(plan, e->index, last ? "    " : "|   ", out);
	}
}
