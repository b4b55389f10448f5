#include "rewrite.h"

#include <string.h>

#include "util.h"
#include "xmlutil.h"

static void set_pci_address(xmlNodePtr addr, unsigned int bus, unsigned int slot)
{
	vsmmu_xml_set_attr(addr, "type", "pci");
	vsmmu_xml_set_attr(addr, "domain", "0x0000");
	vsmmu_xml_set_attr_fmt(addr, "bus", "0x%02x", bus);
	vsmmu_xml_set_attr_fmt(addr, "slot", "0x%02x", slot);
	vsmmu_xml_set_attr(addr, "function", "0x0");
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

static void apply_hostdev(const struct vsmmu_dom_hostdev *h, const struct vsmmu_plan_hostdev *ph)
{
	xmlNodePtr addr = vsmmu_xml_child(h->node, "address");
	xmlNodePtr source = vsmmu_xml_child(h->node, "source");

	if (!vsmmu_xml_child(h->node, "driver")) {
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

static void remove_replaced_iommus(struct vsmmu_domain *dom)
{
	for (size_t i = 0; i < dom->n_iommus; i++) {
		enum vsmmu_iommu_form f = dom->iommus[i].form;

		if (f == VSMMU_IOMMU_MACHINE || f == VSMMU_IOMMU_NESTED ||
		    f == VSMMU_IOMMU_SMMUV3DEV) {
			vsmmu_xml_remove(dom->iommus[i].node);
			dom->iommus[i].node = NULL;
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

static bool records_match(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan)
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
	if (plan->root_vsmmu)
		vsmmu_xml_set_attr(cfg, "root-iommu", "smmuv3");
	if (records_match(dom, plan))
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

/* libvirt's QEMU namespace on the root, declared as xmlns:qemu if need be.
 * A root that binds the prefix qemu to another URI is refused: libvirt
 * would ignore its <qemu:commandline>, and ours could not be declared. */
static xmlNsPtr qemu_ns(xmlNodePtr root, vsmmu_err *err)
{
	xmlNsPtr ns = xmlSearchNsByHref(root->doc, root, BAD_CAST VSMMU_QEMU_NS_URI);

	if (ns)
		return ns;
	ns = xmlSearchNs(root->doc, root, BAD_CAST "qemu");
	if (ns) {
		vsmmu_fail(err, "<domain xmlns:qemu='%.200s'>: the prefix qemu names another "
			   "namespace than libvirt's %s, so libvirt ignores <qemu:...> elements; "
			   "fix the xmlns:qemu URI", ns->href ? (const char *)ns->href : "",
			   VSMMU_QEMU_NS_URI);
		return NULL;
	}
	return xmlNewNs(root, BAD_CAST VSMMU_QEMU_NS_URI, BAD_CAST "qemu");
}

static int apply_plan_env(struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			  vsmmu_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement(dom->doc);
	xmlNsPtr ns = qemu_ns(root, err);
	xmlNodePtr cmdline = vsmmu_xml_child_ns(root, VSMMU_QEMU_NS_URI, "commandline");
	_cleanup_free_ char *json = NULL;
	xmlNodePtr env = NULL;

	if (!ns)
		return -1;
	json = vsmmu_plan_to_json(plan);

	if (!cmdline)
		cmdline = vsmmu_xml_add(root, ns, "commandline");
	for (xmlNodePtr n = cmdline->children; n && !env; n = n->next) {
		_cleanup_free_ char *name = vsmmu_xml_attr(n, "name");

		if (vsmmu_xml_is_ns(n, VSMMU_QEMU_NS_URI, "env") && vsmmu_streq(name, VSMMU_PLAN_ENV))
			env = n;
	}
	if (!env) {
		env = vsmmu_xml_add(cmdline, ns, "env");
		xmlSetProp(env, BAD_CAST "name", BAD_CAST VSMMU_PLAN_ENV);
	}
	vsmmu_xml_set_attr(env, "value", json);
	return 0;
}

int vsmmu_rewrite(struct vsmmu_domain *dom, const struct vsmmu_plan *plan, vsmmu_err *err)
{
	xmlNodePtr devices;

	if (!plan->managed || plan->topology == VSMMU_TOPO_RUNTIME)
		return 0;
	if (!qemu_ns(xmlDocGetRootElement(dom->doc), err))
		return -1;
	devices = devices_node(dom);
	remove_replaced_iommus(dom);
	for (size_t i = 0; i < plan->n_remove; i++)
		remove_controller(dom, plan->remove[i]);
	for (size_t i = 0; i < plan->n_expanders; i++)
		apply_expander(dom, devices, &plan->expanders[i]);
	for (size_t i = 0; i < plan->n_ports; i++)
		apply_port(dom, devices, &plan->ports[i]);
	for (size_t i = 0; i < plan->n_hostdevs; i++)
		apply_hostdev(&dom->hostdevs[i], &plan->hostdevs[i]);
	apply_config(dom, plan);
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

static void set_emulator(xmlNodePtr devices, const char *wrapper, char **old)
{
	xmlNodePtr emu = vsmmu_xml_child(devices, "emulator");
	_cleanup_xmlstr_ xmlChar *text = emu ? xmlNodeGetContent(emu) : NULL;

	if (text && strcmp((const char *)text, wrapper) == 0)
		return;
	if (old && text)
		*old = vsmmu_xstrdup((const char *)text);
	if (!emu) {
		emu = xmlNewNode(NULL, BAD_CAST "emulator");
		if (devices->children && vsmmu_xml_is(xmlFirstElementChild(devices), "emulator"))
			vsmmu_xml_append(devices, emu);
		else if (xmlFirstElementChild(devices))
			vsmmu_xml_insert_before(xmlFirstElementChild(devices), emu);
		else
			vsmmu_xml_append(devices, emu);
	}
	xmlNodeSetContent(emu, BAD_CAST wrapper);
}

int vsmmu_adopt_xml(const char *xml, size_t len, const char *wrapper, char **out,
		    size_t *out_len, char **old_emulator, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;

	if (vsmmu_domain_parse(xml, len, &dom, err) < 0)
		return -1;
	if (!vsmmu_domain_is_managed(dom))
		vsmmu_xml_set_attr(config_node(dom), "mode", "accel");
	set_emulator(devices_node(dom), wrapper, old_emulator);
	return vsmmu_domain_format(dom, out, out_len, err);
}
