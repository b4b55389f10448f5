#include "rewrite.h"

#include <string.h>

#include "hookop.h" /* VSMMU_NS_URI */
#include "util.h"
#include "xmlutil.h"

static void set_pci_address(xmlNodePtr addr, unsigned int bus, unsigned int slot)
{
	vsmmu_xml_set_attr(addr, "type", "pci");
	vsmmu_xml_set_attr(addr, "domain", VSMMU_ADDR_DOMAIN);
	vsmmu_xml_set_attr_fmt(addr, "bus", VSMMU_ADDR_BUS_FMT, bus);
	vsmmu_xml_set_attr_fmt(addr, "slot", VSMMU_ADDR_BUS_FMT, slot);
	vsmmu_xml_set_attr(addr, "function", VSMMU_ADDR_FUNCTION);
}

static xmlNodePtr devices_node(struct vsmmu_domain *dom)
{
	xmlNodePtr root = xmlDocGetRootElement(dom->doc);
	xmlNodePtr devices = vsmmu_xml_child(root, "devices");

	return devices ? devices : vsmmu_xml_add(root, NULL, "devices");
}

/* New controllers go after the last existing one, in plan order. */
static xmlNodePtr insert_controller(xmlNodePtr devices, xmlNodePtr ctrl)
{
	xmlNodePtr last = NULL;

	for (xmlNodePtr n = devices->children; n; n = n->next)
		if (vsmmu_xml_is(n, "controller"))
			last = n;
	return last ? vsmmu_xml_insert_after(last, ctrl) : vsmmu_xml_append(devices, ctrl);
}

static xmlNodePtr new_controller(xmlNodePtr devices, int index, const char *model,
				 const char *model_name)
{
	xmlNodePtr c = insert_controller(devices, xmlNewNode(NULL, BAD_CAST "controller"));

	xmlSetProp(c, BAD_CAST "type", BAD_CAST "pci");
	vsmmu_xml_set_attr_fmt(c, "index", "%d", index);
	xmlSetProp(c, BAD_CAST "model", BAD_CAST model);
	xmlSetProp(vsmmu_xml_add(c, NULL, "model"), BAD_CAST "name", BAD_CAST model_name);
	return c;
}

static void set_expander_target(xmlNodePtr ctrl, const struct vsmmu_plan_expander *e)
{
	xmlNodePtr target = vsmmu_xml_child(ctrl, "target");
	xmlNodePtr node;

	if (!target) {
		xmlNodePtr model = vsmmu_xml_child(ctrl, "model");

		target = xmlNewNode(NULL, BAD_CAST "target");
		if (model)
			vsmmu_xml_insert_after(model, target);
		else
			vsmmu_xml_append(ctrl, target);
	}
	vsmmu_xml_set_attr_fmt(target, "busNr", "%d", e->bus_nr);
	node = vsmmu_xml_child(target, "node");
	if (e->numa_node < 0) {
		if (node)
			vsmmu_xml_remove(node);
		return;
	}
	if (!node)
		node = vsmmu_xml_add(target, NULL, "node");
	{
		char text[16];
		_cleanup_xmlstr_ xmlChar *old = xmlNodeGetContent(node);

		snprintf(text, sizeof(text), "%d", e->numa_node);
		if (!old || strcmp((const char *)old, text) != 0) {
			xmlNodeSetContent(node, BAD_CAST text);
			vsmmu_xml_mark_changed(node);
		}
	}
}

static xmlNodePtr ctrl_node(const struct vsmmu_domain *dom, int index)
{
	const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(dom, index);

	return c ? c->node : NULL;
}

/* A removed index may be reused by a new controller of the plan. */
static void remove_controller(struct vsmmu_domain *dom, int index)
{
	for (size_t i = 0; i < dom->n_ctrls; i++)
		if (dom->ctrls[i].index == index && dom->ctrls[i].node) {
			vsmmu_xml_remove(dom->ctrls[i].node);
			dom->ctrls[i].node = NULL;
		}
}

static void apply_expander(struct vsmmu_domain *dom, xmlNodePtr devices,
			   const struct vsmmu_plan_expander *e)
{
	xmlNodePtr ctrl = ctrl_node(dom, e->index);

	if (!ctrl) {
		ctrl = new_controller(devices, e->index, "pcie-expander-bus", "pxb-pcie");
		set_expander_target(ctrl, e);
		set_pci_address(vsmmu_xml_add(ctrl, NULL, "address"), 0, e->slot);
		return;
	}
	if (e->has_hostdevs)
		set_expander_target(ctrl, e);
}

static void apply_port(struct vsmmu_domain *dom, xmlNodePtr devices,
		       const struct vsmmu_plan_port *pt)
{
	xmlNodePtr ctrl, target;

	if (ctrl_node(dom, pt->index))
		return;
	ctrl = new_controller(devices, pt->index, "pcie-root-port", "pcie-root-port");
	target = vsmmu_xml_add(ctrl, NULL, "target");
	vsmmu_xml_set_attr_fmt(target, "chassis", "%d", pt->index);
	vsmmu_xml_set_attr_fmt(target, "port", "0x%x", pt->slot << 3);
	set_pci_address(vsmmu_xml_add(ctrl, NULL, "address"), (unsigned int)pt->expander,
			pt->slot);
}

/* libvirt 9.0's domxml-to-native, and starts on hosts where the backend
 * is not resolved, need name='vfio': a <driver iommufd='yes'/> without a
 * name gets it, as does a hostdev without <driver>. */
static void apply_hostdev(struct vsmmu_dom_hostdev *h, const struct vsmmu_plan_hostdev *ph)
{
	xmlNodePtr addr = vsmmu_xml_child(h->node, "address");
	xmlNodePtr source = vsmmu_xml_child(h->node, "source");
	xmlNodePtr driver = vsmmu_xml_child(h->node, "driver");
	_cleanup_free_ char *name = driver ? vsmmu_xml_attr(driver, "name") : NULL;

	if (h->iommufd_id) { /* the smmuv3Dev proposal's; iommufd is ours or libvirt's */
		vsmmu_xml_remove(h->iommufd_id);
		h->iommufd_id = NULL;
	}
	if (driver && !name)
		vsmmu_xml_set_attr(driver, "name", "vfio");
	if (!driver) {
		xmlNodePtr drv = xmlNewNode(NULL, BAD_CAST "driver");

		xmlSetProp(drv, BAD_CAST "name", BAD_CAST "vfio");
		if (source)
			vsmmu_xml_insert_before(source, drv);
		else
			vsmmu_xml_append(h->node, drv);
	}
	if (!addr)
		addr = vsmmu_xml_add(h->node, NULL, "address");
	set_pci_address(addr, (unsigned int)ph->port, 0);
}

static bool is_removed(const struct vsmmu_plan *plan, int index)
{
	for (size_t i = 0; i < plan->n_remove; i++)
		if (plan->remove[i] == index)
			return true;
	return false;
}

/* A per-bus <iommu> on one of our expanders (or on pcie.0 for the root
 * vSMMU) is ours to rewrite: kept in the native form, dropped in the
 * wrapper form. One on another expander stays. */
static bool per_bus_stays(const struct vsmmu_plan *plan, const struct vsmmu_dom_iommu *m,
			  const struct vsmmu_dom_iommu *first_on_bus)
{
	const struct vsmmu_plan_expander *e = vsmmu_plan_expander(plan, m->bus);
	bool ours = m->bus == 0 ? plan->root_vsmmu : e && e->has_hostdevs;

	if (is_removed(plan, m->bus))
		return false;
	if (!ours)
		return true;
	return plan->form == VSMMU_FORM_NATIVE && first_on_bus == m;
}

bool vsmmu_rewrite_keeps_iommu(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			       const struct vsmmu_dom_iommu *m)
{
	if (m->form == VSMMU_IOMMU_PER_BUS)
		return per_bus_stays(plan, m, vsmmu_domain_bus_iommu(dom, m->bus));
	return m->form == VSMMU_IOMMU_OTHER_MODEL;
}

static void remove_replaced_iommus(struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < dom->n_iommus; i++) {
		struct vsmmu_dom_iommu *m = &dom->iommus[i];

		if (!vsmmu_rewrite_keeps_iommu(dom, plan, m) && m->node) {
			vsmmu_xml_remove(m->node);
			m->node = NULL;
		}
	}
}

static xmlNodePtr metadata_node(xmlNodePtr root)
{
	static const char *const before[] = { "name", "uuid", "genid", "title", "description" };
	xmlNodePtr meta = vsmmu_xml_child(root, "metadata");
	xmlNodePtr anchor = NULL;

	if (meta)
		return meta;
	for (size_t i = 0; i < VSMMU_ARRAY_LEN(before); i++)
		if (vsmmu_xml_child(root, before[i]))
			anchor = vsmmu_xml_child(root, before[i]);
	meta = xmlNewNode(NULL, BAD_CAST "metadata");
	return anchor ? vsmmu_xml_insert_after(anchor, meta) : vsmmu_xml_append(root, meta);
}

static xmlNodePtr config_node(struct vsmmu_domain *dom)
{
	xmlNodePtr meta, cfg;
	xmlNsPtr ns;

	if (dom->config.node)
		return dom->config.node;
	meta = metadata_node(xmlDocGetRootElement(dom->doc));
	cfg = xmlNewNode(NULL, BAD_CAST "config");
	ns = xmlNewNs(cfg, BAD_CAST VSMMU_NS_URI, BAD_CAST VSMMU_NS_PREFIX);
	xmlSetNs(cfg, ns);
	dom->config.node = vsmmu_xml_append(meta, cfg);
	return cfg;
}

bool vsmmu_rewrite_records_match(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	const struct vsmmu_dom_config *cfg = &dom->config;

	if (cfg->n_records != plan->n_expanders)
		return false;
	for (size_t i = 0; i < cfg->n_records; i++)
		if (cfg->records[i].index != plan->expanders[i].index ||
		    !vsmmu_streq(cfg->records[i].smmu, plan->expanders[i].smmu))
			return false;
	return true;
}

static void apply_config(struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	xmlNodePtr cfg = config_node(dom);
	xmlNodePtr next;

	vsmmu_xml_set_attr(cfg, "mode", vsmmu_mode_name(plan->mode));
	if (plan->form == VSMMU_FORM_NATIVE)
		vsmmu_xml_set_attr(cfg, "form", "native");
	else
		vsmmu_xml_unset_attr(cfg, "form");
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		if (plan->props[i]) /* those of <iommu> elements outlive them */
			vsmmu_xml_set_attr(cfg, vsmmu_smmu_prop_name(i), plan->props[i]);
	if (plan->root_vsmmu)
		vsmmu_xml_set_attr(cfg, "root-iommu", "smmuv3");
	if (vsmmu_rewrite_records_match(dom, plan))
		return;
	for (xmlNodePtr n = cfg->children; n; n = next) {
		next = n->next;
		if (vsmmu_xml_is_ns(n, VSMMU_NS_URI, "expander"))
			vsmmu_xml_remove(n);
	}
	for (size_t i = 0; i < plan->n_expanders; i++) {
		xmlNodePtr rec = vsmmu_xml_add(cfg, cfg->ns, "expander");

		vsmmu_xml_set_attr_fmt(rec, "index", "%d", plan->expanders[i].index);
		vsmmu_xml_set_attr(rec, "smmu", plan->expanders[i].smmu);
	}
}

/* libvirt's QEMU namespace on the root, declared as xmlns:qemu if need be
 * (unless the prefix is taken: vsmmu_domain_qemu_ns_check). */
static xmlNsPtr qemu_ns(const struct vsmmu_domain *dom, vsmmu_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement(dom->doc);
	xmlNsPtr ns = xmlSearchNsByHref(root->doc, root, BAD_CAST VSMMU_QEMU_NS_URI);

	if (ns)
		return ns;
	if (vsmmu_domain_qemu_ns_check(dom, err) < 0)
		return NULL;
	return xmlNewNs(root, BAD_CAST VSMMU_QEMU_NS_URI, BAD_CAST "qemu");
}

static xmlNodePtr plan_env(xmlNodePtr cmdline)
{
	for (xmlNodePtr n = cmdline ? cmdline->children : NULL; n; n = n->next) {
		_cleanup_free_ char *name = vsmmu_xml_attr(n, "name");

		if (vsmmu_xml_is_ns(n, VSMMU_QEMU_NS_URI, "env") && vsmmu_streq(name, VSMMU_PLAN_ENV))
			return n;
	}
	return NULL;
}

static int apply_plan_env(struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			  vsmmu_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement(dom->doc);
	xmlNsPtr ns = qemu_ns(dom, err);
	xmlNodePtr cmdline = vsmmu_xml_child_ns(root, VSMMU_QEMU_NS_URI, "commandline");
	_cleanup_free_ char *json = NULL;
	xmlNodePtr env;

	if (!ns)
		return -1;
	json = vsmmu_plan_to_json(plan);

	if (!cmdline)
		cmdline = vsmmu_xml_add(root, ns, "commandline");
	env = plan_env(cmdline);
	if (!env) {
		env = vsmmu_xml_add(cmdline, ns, "env");
		xmlSetProp(env, BAD_CAST "name", BAD_CAST VSMMU_PLAN_ENV);
	}
	vsmmu_xml_set_attr(env, "value", json);
	return 0;
}

/* The native form has no VSMMU_PLAN, and no <qemu:commandline> when that
 * was all it held. */
static void remove_plan_env(struct vsmmu_domain *dom)
{
	xmlNodePtr root = xmlDocGetRootElement(dom->doc);
	xmlNodePtr cmdline = vsmmu_xml_child_ns(root, VSMMU_QEMU_NS_URI, "commandline");
	xmlNodePtr env = plan_env(cmdline);

	if (env)
		vsmmu_xml_remove(env);
	if (cmdline && !xmlFirstElementChild(cmdline))
		vsmmu_xml_remove(cmdline);
}

static xmlNodePtr new_bus_iommu(xmlNodePtr devices, xmlNodePtr *after)
{
	xmlNodePtr m = xmlNewNode(NULL, BAD_CAST "iommu");

	if (!*after)
		for (xmlNodePtr n = devices->children; n; n = n->next)
			if (vsmmu_xml_is(n, "iommu"))
				*after = n;
	*after = *after ? vsmmu_xml_insert_after(*after, m) : vsmmu_xml_append(devices, m);
	xmlSetProp(m, BAD_CAST "model", BAD_CAST "smmuv3");
	return m;
}

/* <iommu model='smmuv3'><driver pciBus='INDEX' accel='on' ats=.../>: the
 * controller index, not busNr; accel and the policy's settings where the
 * plan has them, nothing else. */
static void set_bus_iommu(xmlNodePtr iommu, int index, bool accel, const struct vsmmu_plan *plan)
{
	xmlNodePtr drv = vsmmu_xml_child(iommu, "driver");

	if (!drv)
		drv = vsmmu_xml_add(iommu, NULL, "driver");
	vsmmu_xml_set_attr_fmt(drv, "pciBus", "%d", index);
	if (accel)
		vsmmu_xml_set_attr(drv, "accel", "on");
	else
		vsmmu_xml_unset_attr(drv, "accel");
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++) {
		/* libvirt 12.9 takes them only with accel='on' (measured: "accel
		 * must be enabled for iommu model 'smmuv3' when setting ats, ...");
		 * without accel they stay in <vsmmu:config>. */
		if (plan->props[i] && accel)
			vsmmu_xml_set_attr(drv, vsmmu_smmu_prop_name(i), plan->props[i]);
		else
			vsmmu_xml_unset_attr(drv, vsmmu_smmu_prop_name(i));
	}
}

static void apply_native_iommus(struct vsmmu_domain *dom, xmlNodePtr devices,
				const struct vsmmu_plan *plan)
{
	xmlNodePtr after = NULL;
	bool accel = plan->mode == VSMMU_MODE_ACCEL;

	for (size_t i = 0; i <= plan->n_expanders; i++) {
		int index = i < plan->n_expanders ? plan->expanders[i].index : 0;
		const struct vsmmu_dom_iommu *m;

		if (i < plan->n_expanders ? !plan->expanders[i].has_hostdevs : !plan->root_vsmmu)
			continue;
		m = vsmmu_domain_bus_iommu(dom, index);
		set_bus_iommu(m ? m->node : new_bus_iommu(devices, &after), index, accel && index > 0,
			      plan);
	}
}

/* libvirt >= 12.2 opens /dev/iommu and each vfio cdev itself. */
static void apply_native_iommufd(struct vsmmu_domain *dom, xmlNodePtr devices)
{
	if (!dom->iommufd)
		dom->iommufd = vsmmu_xml_insert_before(devices, xmlNewNode(NULL, BAD_CAST "iommufd"));
	vsmmu_xml_set_attr(dom->iommufd, "enabled", "yes");
}

static void set_emulator(xmlNodePtr devices, const char *path)
{
	xmlNodePtr emu = vsmmu_xml_child(devices, "emulator");
	_cleanup_xmlstr_ xmlChar *text = emu ? xmlNodeGetContent(emu) : NULL;

	if (text && strcmp((const char *)text, path) == 0)
		return;
	if (!emu) {
		emu = xmlNewNode(NULL, BAD_CAST "emulator");
		if (xmlFirstElementChild(devices))
			vsmmu_xml_insert_before(xmlFirstElementChild(devices), emu);
		else
			vsmmu_xml_append(devices, emu);
	}
	xmlNodeSetContent(emu, BAD_CAST path);
	vsmmu_xml_mark_changed(emu);
}

/* Back from the native form: the <iommufd enabled='yes'/> it added goes
 * with it (one with an fdgroup is a management application's). */
static void drop_native_iommufd(struct vsmmu_domain *dom)
{
	_cleanup_free_ char *enabled = dom->iommufd ? vsmmu_xml_attr(dom->iommufd, "enabled") : NULL;
	_cleanup_free_ char *group = dom->iommufd ? vsmmu_xml_attr(dom->iommufd, "fdgroup") : NULL;

	if (dom->config.form != VSMMU_FORM_NATIVE || !vsmmu_streq(enabled, "yes") || group)
		return;
	vsmmu_xml_remove(dom->iommufd);
	dom->iommufd = NULL;
}

/* <features><acpi/> and <os firmware='efi'>, which expanders need. */
static void apply_firmware(struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
{
	xmlNodePtr root = xmlDocGetRootElement(dom->doc);
	xmlNodePtr os = vsmmu_xml_child(root, "os");
	xmlNodePtr features = vsmmu_xml_child(root, "features");

	if (plan->add_acpi && !dom->acpi) {
		if (!features)
			features = os ? vsmmu_xml_insert_after(os, xmlNewNode(NULL, BAD_CAST "features"))
				      : vsmmu_xml_add(root, NULL, "features");
		vsmmu_xml_add(features, NULL, "acpi");
		dom->acpi = true;
	}
	if (plan->add_uefi && !dom->uefi && os) {
		vsmmu_xml_set_attr(os, "firmware", "efi");
		dom->uefi = true;
	}
}

/* Controllers libvirt would number get that number written down, so the
 * addresses that refer to them stay right whatever is added. */
static void write_implied_indexes(struct vsmmu_domain *dom)
{
	for (size_t i = 0; i < dom->n_ctrls; i++)
		if (dom->ctrls[i].index_implied && dom->ctrls[i].node)
			vsmmu_xml_set_attr_fmt(dom->ctrls[i].node, "index", "%d", dom->ctrls[i].index);
}

int vsmmu_rewrite(struct vsmmu_domain *dom, const struct vsmmu_plan *plan, vsmmu_err *err)
{
	xmlNodePtr devices;

	if (!plan->managed)
		return 0;
	/* Only the persistent wrapper form writes <qemu:...> elements. */
	if (plan->topology != VSMMU_TOPO_RUNTIME && plan->form != VSMMU_FORM_NATIVE &&
	    !qemu_ns(dom, err))
		return -1;
	devices = devices_node(dom);
	apply_firmware(dom, plan);
	if (plan->emulator)
		set_emulator(devices, plan->emulator);
	if (plan->topology == VSMMU_TOPO_RUNTIME) /* the wrapper builds the rest */
		return 0;
	write_implied_indexes(dom);
	remove_replaced_iommus(dom, plan);
	for (size_t i = 0; i < plan->n_remove; i++)
		remove_controller(dom, plan->remove[i]);
	for (size_t i = 0; i < plan->n_expanders; i++)
		apply_expander(dom, devices, &plan->expanders[i]);
	for (size_t i = 0; i < plan->n_ports; i++)
		apply_port(dom, devices, &plan->ports[i]);
	for (size_t i = 0; i < plan->n_hostdevs; i++)
		apply_hostdev(&dom->hostdevs[i], &plan->hostdevs[i]);
	apply_config(dom, plan);
	if (plan->form == VSMMU_FORM_NATIVE) {
		apply_native_iommus(dom, devices, plan);
		if (plan->mode == VSMMU_MODE_ACCEL)
			apply_native_iommufd(dom, devices);
		remove_plan_env(dom);
		return 0;
	}
	drop_native_iommufd(dom);
	return apply_plan_env(dom, plan, err);
}

int vsmmu_rewrite_xml(const char *xml, size_t len, const struct vsmmu_host *host,
		      const struct vsmmu_policy *policy, char **out, size_t *out_len,
		      struct vsmmu_plan **plan_out, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;

	if (vsmmu_domain_parse(xml, len, &dom, err) < 0 ||
	    vsmmu_plan_build(dom, host, policy, &plan, err) < 0)
		return -1;
	if (!plan->managed) { /* xml need not be NUL-terminated: copy len bytes */
		*out = vsmmu_xcalloc(len + 1, 1);
		memcpy(*out, xml, len);
		*out_len = len;
	} else if (vsmmu_rewrite(dom, plan, err) < 0 ||
		   vsmmu_domain_format(dom, out, out_len, err) < 0) {
		return -1;
	}
	if (plan_out)
		*plan_out = VSMMU_STEAL(plan);
	return 0;
}

/* accel, unless the domain's own per-bus vSMMUs are all without accel. */
static enum vsmmu_mode adopted_mode(const struct vsmmu_domain *dom)
{
	bool per_bus = false;

	for (size_t i = 0; i < dom->n_iommus; i++) {
		if (dom->iommus[i].form != VSMMU_IOMMU_PER_BUS || dom->iommus[i].bus == 0)
			continue;
		if (dom->iommus[i].accel)
			return VSMMU_MODE_ACCEL;
		per_bus = true;
	}
	return per_bus ? VSMMU_MODE_EMULATED : VSMMU_MODE_ACCEL;
}

int vsmmu_adopt(struct vsmmu_domain *dom, vsmmu_err *err)
{
	if (vsmmu_domain_is_managed(dom))
		return 0;
	vsmmu_xml_set_attr(config_node(dom), "mode", vsmmu_mode_name(adopted_mode(dom)));
	return vsmmu_domain_reread_config(dom, err);
}
