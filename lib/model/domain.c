#include "domain.h"

#include <string.h>
#include <strings.h>

#include "hookop.h" /* VSMMU_NS_URI, VSMMU_WRAPPER_NAME */
#include "util.h"
#include "xmlutil.h"

static char *child_text(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = vsmmu_xml_child(parent, name);
	_cleanup_xmlstr_ xmlChar *txt = n ? xmlNodeGetContent(n) : NULL;

	return txt ? vsmmu_xstrdup((const char *)txt) : NULL;
}

static bool attr_is(xmlNodePtr node, const char *name, const char *value)
{
	_cleanup_free_ char *v = vsmmu_xml_attr(node, name);

	return vsmmu_streq(v, value);
}

static bool addr_as_written(xmlNodePtr a, unsigned int bus, unsigned int slot)
{
	char b[8], s[8];

	snprintf(b, sizeof(b), VSMMU_ADDR_BUS_FMT, bus);
	snprintf(s, sizeof(s), VSMMU_ADDR_BUS_FMT, slot);
	return attr_is(a, "domain", VSMMU_ADDR_DOMAIN) && attr_is(a, "bus", b) &&
	       attr_is(a, "slot", s) && attr_is(a, "function", VSMMU_ADDR_FUNCTION);
}

static int parse_guest_addr(xmlNodePtr owner, const char *elem, struct vsmmu_guest_addr *out,
			    vsmmu_err *err)
{
	xmlNodePtr a = vsmmu_xml_child(owner, "address");
	_cleanup_free_ char *type = a ? vsmmu_xml_attr(a, "type") : NULL;
	long d, b, s, f;

	memset(out, 0, sizeof(*out));
	if (!a || !vsmmu_streq(type, "pci"))
		return 0;
	if (vsmmu_xml_attr_uint(a, "domain", 0xffff, 0, &d, elem, err) < 0 ||
	    vsmmu_xml_attr_uint(a, "bus", 0xff, 0, &b, elem, err) < 0 ||
	    vsmmu_xml_attr_uint(a, "slot", 0x1f, 0, &s, elem, err) < 0 ||
	    vsmmu_xml_attr_uint(a, "function", 7, 0, &f, elem, err) < 0)
		return -1;
	if (d != 0) /* libvirt: "Only PCI domain 0 is available" */
		return vsmmu_fail(err, "%s <address type='pci' domain='0x%04lx'>: a guest has PCI "
				  "domain 0 only; set domain='0x0000'", elem, d);
	*out = (struct vsmmu_guest_addr){ true, (unsigned)d, (unsigned)b, (unsigned)s, (unsigned)f,
		addr_as_written(a, (unsigned)b, (unsigned)s) };
	return 0;
}

static int parse_controller(struct vsmmu_domain *dom, xmlNodePtr node, vsmmu_err *err)
{
	struct vsmmu_dom_ctrl c = { .node = node, .bus_nr = -1, .numa_node = -1 };
	xmlNodePtr target = vsmmu_xml_child(node, "target");
	xmlNodePtr numa = vsmmu_xml_child(target, "node");
	long v;
	int n;

	if (vsmmu_xml_attr_uint(node, "index", 255, -1, &v, "<controller type='pci'>", err) < 0)
		return -1;
	c.index = (int)v; /* -1: numbered once every controller is read */
	c.index_implied = v < 0;
	if (vsmmu_xml_attr_uint(target, "busNr", 255, -1, &v, "pci controller <target>", err) < 0)
		return -1;
	c.bus_nr = (int)v;
	if (numa) {
		_cleanup_xmlstr_ xmlChar *txt = xmlNodeGetContent(numa);

		if (vsmmu_parse_int((const char *)txt, 0, 4095, &n) < 0)
			return vsmmu_fail(err, "pci controller index %d: <node>%s</node> is not a "
					  "NUMA cell number", c.index, (const char *)txt);
		c.numa_node = n;
	}
	if (parse_guest_addr(node, "<controller type='pci'>", &c.addr, err) < 0)
		return -1;
	for (size_t i = 0; i < dom->n_ctrls && c.index >= 0; i++)
		if (dom->ctrls[i].index == c.index)
			return vsmmu_fail(err, "two PCI controllers have index %d; give each a "
					  "unique index", c.index);
	c.model = vsmmu_xml_attr(node, "model");
	c.bus_nr_text = vsmmu_xml_attr(target, "busNr");
	c.numa_text = child_text(target, "node");
	dom->ctrls = vsmmu_xrealloc(dom->ctrls, dom->n_ctrls + 1, sizeof(c));
	dom->ctrls[dom->n_ctrls++] = c;
	return 0;
}

/* What libvirt does at define (virDomainAssignControllerIndexes): a PCI
 * controller without an index gets, in document order, the lowest index
 * no other PCI controller has (virt-install --print-xml writes none). */
static int number_controllers(struct vsmmu_domain *dom, vsmmu_err *err)
{
	for (size_t i = 0; i < dom->n_ctrls; i++) {
		struct vsmmu_dom_ctrl *c = &dom->ctrls[i];

		for (int idx = 0; c->index < 0; idx++) {
			if (idx > 255)
				return vsmmu_fail(err, "more than 256 PCI controllers: libvirt allows "
						  "indexes 0 to 255; remove some");
			if (!vsmmu_domain_ctrl(dom, idx))
				c->index = idx;
		}
		if (!c->model)
			c->model = vsmmu_xstrdup(c->index == 0 ? "pcie-root" : "unknown");
	}
	return 0;
}

static int parse_hostdev_source(xmlNodePtr node, struct vsmmu_pci_addr *out, vsmmu_err *err)
{
	xmlNodePtr a = vsmmu_xml_child(vsmmu_xml_child(node, "source"), "address");
	const char *what = "<hostdev type='pci'> <source><address>";
	long d, b, s, f;

	if (!a)
		return vsmmu_fail(err, "<hostdev mode='subsystem' type='pci'> has no <source>"
				  "<address .../>: name the host PCI device");
	if (vsmmu_xml_attr_uint(a, "domain", 0xffff, 0, &d, what, err) < 0 ||
	    vsmmu_xml_attr_uint(a, "bus", 0xff, -1, &b, what, err) < 0 ||
	    vsmmu_xml_attr_uint(a, "slot", 0x1f, -1, &s, what, err) < 0 ||
	    vsmmu_xml_attr_uint(a, "function", 7, 0, &f, what, err) < 0)
		return -1;
	if (b < 0 || s < 0)
		return vsmmu_fail(err, "%s needs bus= and slot=", what);
	*out = (struct vsmmu_pci_addr){ (unsigned)d, (unsigned)b, (unsigned)s, (unsigned)f };
	return 0;
}

static int parse_hostdev(struct vsmmu_domain *dom, xmlNodePtr node, vsmmu_err *err)
{
	struct vsmmu_dom_hostdev h = { .node = node };
	_cleanup_free_ char *managed = vsmmu_xml_attr(node, "managed");
	char bdf[VSMMU_BDF_LEN];

	h.libvirt_managed = vsmmu_streq(managed, "yes");
	h.driver_named =
		xmlHasNsProp(vsmmu_xml_child(node, "driver"), BAD_CAST "name", NULL) != NULL;
	h.iommufd_id = vsmmu_xml_child(node, "iommufdId");
	if (parse_hostdev_source(node, &h.source, err) < 0 ||
	    parse_guest_addr(node, "<hostdev>", &h.addr, err) < 0)
		return -1;
	for (size_t i = 0; i < dom->n_hostdevs; i++)
		if (vsmmu_pci_addr_eq(&dom->hostdevs[i].source, &h.source)) {
			vsmmu_pci_addr_format(&h.source, bdf);
			return vsmmu_fail(err, "hostdev %s appears twice in the domain; remove one",
					  bdf);
		}
	dom->hostdevs = vsmmu_xrealloc(dom->hostdevs, dom->n_hostdevs + 1, sizeof(h));
	dom->hostdevs[dom->n_hostdevs++] = h;
	return 0;
}

static enum vsmmu_iommu_form iommu_form(const char *model, xmlNodePtr node)
{
	xmlNodePtr drv = vsmmu_xml_child(node, "driver");
	_cleanup_free_ char *pci_bus = drv ? vsmmu_xml_attr(drv, "pciBus") : NULL;

	if (vsmmu_streq(model, "smmuv3"))
		return pci_bus ? VSMMU_IOMMU_PER_BUS : VSMMU_IOMMU_MACHINE;
	/* The proposals spelt these in camel case; hand-written XML often not. */
	if (model && strcasecmp(model, "nestedSmmuv3") == 0)
		return VSMMU_IOMMU_NESTED;
	if (model && strcasecmp(model, "smmuv3Dev") == 0)
		return VSMMU_IOMMU_SMMUV3DEV;
	return VSMMU_IOMMU_OTHER_MODEL;
}

/* An attribute of <driver>, else of <iommu> itself (the smmuv3Dev RFC put
 * parentIdx and accel there). */
static char *iommu_attr(xmlNodePtr node, const char *name)
{
	xmlNodePtr drv = vsmmu_xml_child(node, "driver");
	char *v = drv ? vsmmu_xml_attr(drv, name) : NULL;

	return v ? v : vsmmu_xml_attr(node, name);
}

/* <cmdqv/> (nestedSmmuv3 proposal) means cmdqv on, unless it says
 * otherwise in state= or enabled=. */
static char *cmdqv_child(xmlNodePtr node)
{
	xmlNodePtr c = vsmmu_xml_child(node, "cmdqv");
	char *v;

	if (!c)
		return NULL;
	v = vsmmu_xml_attr(c, "state");
	if (!v)
		v = vsmmu_xml_attr(c, "enabled");
	if (vsmmu_streq(v, "yes") || vsmmu_streq(v, "no")) {
		char *onoff = vsmmu_xstrdup(v[0] == 'y' ? "on" : "off");

		free(v);
		return onoff;
	}
	return v ? v : vsmmu_xstrdup("on");
}

static void parse_iommu_driver(xmlNodePtr node, struct vsmmu_dom_iommu_driver *d)
{
	xmlNodePtr drv = vsmmu_xml_child(node, "driver");

	d->pci_bus = vsmmu_xml_attr(drv, "pciBus");
	d->accel = vsmmu_xml_attr(drv, "accel");
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		d->props[i] = vsmmu_xml_attr(drv, vsmmu_smmu_prop_name(i));
}

static int parse_iommu(struct vsmmu_domain *dom, xmlNodePtr node, vsmmu_err *err)
{
	struct vsmmu_dom_iommu m = { .node = node, .bus = -1 };
	const char *bus_attr;
	_cleanup_free_ char *accel = NULL, *bus = NULL;
	unsigned long idx;

	m.model = vsmmu_xml_attr(node, "model");
	m.form = iommu_form(m.model, node);
	accel = iommu_attr(node, "accel");
	m.accel = m.form == VSMMU_IOMMU_NESTED || vsmmu_streq(accel, "on") ||
		  vsmmu_streq(accel, "yes");
	bus_attr = m.form == VSMMU_IOMMU_SMMUV3DEV ? "parentIdx" : "pciBus";
	bus = m.form == VSMMU_IOMMU_OTHER_MODEL ? NULL : iommu_attr(node, bus_attr);
	if (bus && vsmmu_parse_ulong(bus, 0, 255, &idx) < 0) {
		vsmmu_fail(err, "<iommu model='%s'>: %s='%s' is not a PCI controller index from "
			   "0 to 255", m.model, bus_attr, bus);
		free(m.model);
		return -1;
	}
	m.bus = bus ? (int)idx : -1;
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS && m.form != VSMMU_IOMMU_OTHER_MODEL; i++)
		m.props[i] = iommu_attr(node, vsmmu_smmu_prop_name(i));
	if (!m.props[VSMMU_N_SMMU_PROPS - 1] && m.form == VSMMU_IOMMU_NESTED)
		m.props[VSMMU_N_SMMU_PROPS - 1] = cmdqv_child(node);
	parse_iommu_driver(node, &m.driver);
	dom->iommus = vsmmu_xrealloc(dom->iommus, dom->n_iommus + 1, sizeof(m));
	dom->iommus[dom->n_iommus++] = m;
	return 0;
}

/* Devices without an address that libvirt will place on a PCI bus at define
 * time, each possibly on a new root port of pcie.0: the planner keeps room. */
static bool gets_pci_address(xmlNodePtr node)
{
	static const char *const always[] = { "interface", "rng", "filesystem", "vsock",
					      "watchdog", "sound", "shmem", "memballoon" };
	_cleanup_free_ char *model = vsmmu_xml_attr(node, "model");
	_cleanup_free_ char *type = vsmmu_xml_attr(node, "type");
	_cleanup_free_ char *bus = NULL;

	if (vsmmu_streq(model, "none"))
		return false;
	for (size_t i = 0; i < VSMMU_ARRAY_LEN(always); i++)
		if (vsmmu_xml_is(node, always[i]))
			return true;
	if (vsmmu_xml_is(node, "disk") || vsmmu_xml_is(node, "input")) {
		bus = vsmmu_xml_attr(vsmmu_xml_is(node, "disk") ? vsmmu_xml_child(node, "target")
								: node, "bus");
		return vsmmu_streq(bus, "virtio");
	}
	if (vsmmu_xml_is(node, "controller"))
		return vsmmu_streq(type, "scsi") || vsmmu_streq(type, "virtio-serial") ||
		       vsmmu_streq(type, "usb");
	if (vsmmu_xml_is(node, "video"))
		return true;
	return false;
}

static int parse_other_device(struct vsmmu_domain *dom, xmlNodePtr node, vsmmu_err *err)
{
	struct vsmmu_dom_dev d = { .node = node };

	if (parse_guest_addr(node, (const char *)node->name, &d.addr, err) < 0)
		return -1;
	if (!d.addr.set) {
		if (gets_pci_address(node))
			dom->n_addressless++;
		return 0;
	}
	dom->devs = vsmmu_xrealloc(dom->devs, dom->n_devs + 1, sizeof(d));
	dom->devs[dom->n_devs++] = d;
	return 0;
}

static bool is_pci_hostdev(xmlNodePtr node)
{
	_cleanup_free_ char *mode = vsmmu_xml_attr(node, "mode");
	_cleanup_free_ char *type = vsmmu_xml_attr(node, "type");

	return vsmmu_xml_is(node, "hostdev") && vsmmu_streq(type, "pci") &&
	       (!mode || vsmmu_streq(mode, "subsystem"));
}

static bool is_pci_controller(xmlNodePtr node)
{
	_cleanup_free_ char *type = vsmmu_xml_attr(node, "type");

	return vsmmu_xml_is(node, "controller") && vsmmu_streq(type, "pci");
}

static int parse_devices(struct vsmmu_domain *dom, xmlNodePtr devices, vsmmu_err *err)
{
	for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
		int r = 0;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_pci_controller(n))
			r = parse_controller(dom, n, err);
		else if (is_pci_hostdev(n))
			r = parse_hostdev(dom, n, err);
		else if (vsmmu_xml_is(n, "iommu"))
			r = parse_iommu(dom, n, err);
		else
			r = parse_other_device(dom, n, err);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* <alias name=> of a device, NULL when it has none. */
static char *alias_of(xmlNodePtr node)
{
	return vsmmu_xml_attr(vsmmu_xml_child(node, "alias"), "name");
}

/* N of an alias "hostdevN", -1 for any other. */
static int hostdev_alias_index(const char *alias)
{
	int n;

	return alias && vsmmu_has_prefix(alias, "hostdev") &&
			       vsmmu_parse_int(alias + 7, 0, 1 << 20, &n) == 0
		       ? n
		       : -1;
}

static bool is_hostdev_net(xmlNodePtr node)
{
	_cleanup_free_ char *type = vsmmu_xml_attr(node, "type");

	return vsmmu_xml_is(node, "interface") && vsmmu_streq(type, "hostdev");
}

/* The ids libvirt's qemuAssignDeviceAliases gives: a device keeps its
 * alias; the others take hostdevN, N counting on from the highest hostdevN
 * alias there is, first every <interface type='hostdev'>, then every
 * <hostdev> of any type, each in document order. */
static void assign_hostdev_ids(struct vsmmu_domain *dom, xmlNodePtr devices)
{
	int next = 0;
	size_t k = 0;

	for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
		_cleanup_free_ char *alias = NULL;

		if (n->type != XML_ELEMENT_NODE ||
		    (!vsmmu_xml_is(n, "hostdev") && !is_hostdev_net(n)))
			continue;
		alias = alias_of(n);
		if (hostdev_alias_index(alias) >= next)
			next = hostdev_alias_index(alias) + 1;
	}
	for (int pass = 0; pass < 2; pass++)
		for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
			char *alias;

			if (n->type != XML_ELEMENT_NODE ||
			    !(pass == 0 ? is_hostdev_net(n) : vsmmu_xml_is(n, "hostdev")))
				continue;
			alias = alias_of(n);
			if (!alias)
				alias = vsmmu_xasprintf("hostdev%d", next++);
			if (k < dom->n_hostdevs && dom->hostdevs[k].node == n)
				dom->hostdevs[k++].qemu_id = alias;
			else
				free(alias);
		}
}

static int parse_numa(struct vsmmu_domain *dom, xmlNodePtr root, vsmmu_err *err)
{
	xmlNodePtr numa = vsmmu_xml_child(vsmmu_xml_child(root, "cpu"), "numa");
	xmlNodePtr tune = vsmmu_xml_child(root, "numatune");
	long id;

	for (xmlNodePtr c = numa ? numa->children : NULL; c; c = c->next)
		if (vsmmu_xml_is(c, "cell"))
			dom->n_cells++;
	for (xmlNodePtr m = tune ? tune->children : NULL; m; m = m->next) {
		struct vsmmu_dom_memnode mn;

		if (!vsmmu_xml_is(m, "memnode"))
			continue;
		if (vsmmu_xml_attr_uint(m, "cellid", 4095, -1, &id, "<numatune><memnode>", err) < 0)
			return -1;
		mn.cellid = (int)id;
		mn.nodeset = vsmmu_xml_attr(m, "nodeset");
		dom->memnodes = vsmmu_xrealloc(dom->memnodes, dom->n_memnodes + 1, sizeof(mn));
		dom->memnodes[dom->n_memnodes++] = mn;
	}
	return 0;
}

/* A two-valued attribute of <vsmmu:config>: *out 0 when absent or first,
 * 1 when second. */
static int config_choice(const struct vsmmu_dom_config *cfg, const char *attr, const char *first,
			 const char *second, int *out, vsmmu_err *err)
{
	_cleanup_free_ char *v = vsmmu_xml_attr(cfg->node, attr);

	if (!v || vsmmu_streq(v, first))
		*out = 0;
	else if (vsmmu_streq(v, second))
		*out = 1;
	else
		return vsmmu_fail(err, "<vsmmu:config %s='%s'>: %s must be '%s' or '%s'%s", attr, v,
				  attr, first, second,
				  strcmp(attr, "mode") == 0 ? " (or 'off' to opt out)" : "");
	return 0;
}

static int parse_mode(struct vsmmu_dom_config *cfg, vsmmu_err *err)
{
	_cleanup_free_ char *m = vsmmu_xml_attr(cfg->node, "mode");
	int mode, topo, form;

	if (vsmmu_streq(m, "off")) { /* the owner's word beats any host policy */
		cfg->opted_out = true;
		return 0;
	}
	if (config_choice(cfg, "mode", "accel", "emulated", &mode, err) < 0 ||
	    config_choice(cfg, "topology", "persistent", "runtime", &topo, err) < 0 ||
	    config_choice(cfg, "form", "wrapper", "native", &form, err) < 0)
		return -1;
	cfg->mode = mode ? VSMMU_MODE_EMULATED : VSMMU_MODE_ACCEL;
	cfg->mode_written = m != NULL;
	cfg->form_written = xmlHasNsProp(cfg->node, BAD_CAST "form", NULL) != NULL;
	cfg->topology = topo ? VSMMU_TOPO_RUNTIME : VSMMU_TOPO_PERSISTENT;
	cfg->form = form ? VSMMU_FORM_NATIVE : VSMMU_FORM_WRAPPER;
	return 0;
}

static int parse_record(struct vsmmu_dom_config *cfg, xmlNodePtr n, vsmmu_err *err)
{
	struct vsmmu_dom_record r;
	long idx;

	if (vsmmu_xml_attr_uint(n, "index", 255, -1, &idx, "<vsmmu:expander>", err) < 0)
		return -1;
	r.smmu = vsmmu_xml_attr(n, "smmu");
	if (idx < 1 || !r.smmu) {
		free(r.smmu);
		return vsmmu_fail(err, "<vsmmu:expander> needs index='N' (1-255) and "
				  "smmu='smmu3.0x...'");
	}
	r.index = (int)idx;
	cfg->records = vsmmu_xrealloc(cfg->records, cfg->n_records + 1, sizeof(r));
	cfg->records[cfg->n_records++] = r;
	return 0;
}

static int parse_config(struct vsmmu_domain *dom, xmlNodePtr root, vsmmu_err *err)
{
	struct vsmmu_dom_config *cfg = &dom->config;
	_cleanup_free_ char *root_iommu = NULL;
	long spare;

	cfg->node = vsmmu_xml_child_ns(vsmmu_xml_child(root, "metadata"), VSMMU_NS_URI, "config");
	if (!cfg->node)
		return 0;
	if (parse_mode(cfg, err) < 0)
		return -1;
	if (vsmmu_xml_attr_uint(cfg->node, "spare-ports", VSMMU_MAX_SPARE_PORTS, 0, &spare,
				"<vsmmu:config>", err) < 0)
		return -1;
	cfg->spare_ports = (unsigned int)spare;
	root_iommu = vsmmu_xml_attr(cfg->node, "root-iommu");
	cfg->root_iommu = vsmmu_streq(root_iommu, "smmuv3");
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		cfg->props[i] = vsmmu_xml_attr(cfg->node, vsmmu_smmu_prop_name(i));
	for (xmlNodePtr n = cfg->node->children; n; n = n->next)
		if (vsmmu_xml_is_ns(n, VSMMU_NS_URI, "expander") && parse_record(cfg, n, err) < 0)
			return -1;
	return 0;
}

static void clear_config(struct vsmmu_dom_config *cfg)
{
	for (size_t i = 0; i < cfg->n_records; i++)
		free(cfg->records[i].smmu);
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		free(cfg->props[i]);
	free(cfg->records);
	memset(cfg, 0, sizeof(*cfg));
}

int vsmmu_domain_reread_config(struct vsmmu_domain *dom, vsmmu_err *err)
{
	clear_config(&dom->config);
	return parse_config(dom, xmlDocGetRootElement(dom->doc), err);
}

static void parse_os(struct vsmmu_domain *dom, xmlNodePtr root)
{
	xmlNodePtr os = vsmmu_xml_child(root, "os");
	xmlNodePtr type = vsmmu_xml_child(os, "type");
	const char *firmware;

	dom->firmware = os ? vsmmu_xml_attr(os, "firmware") : NULL;
	firmware = dom->firmware;
	dom->has_os = os != NULL;
	dom->iommufd = vsmmu_xml_child(root, "iommufd");
	dom->iommufd_enabled = vsmmu_xml_attr(dom->iommufd, "enabled");
	dom->iommufd_fdgroup = xmlHasNsProp(dom->iommufd, BAD_CAST "fdgroup", NULL) != NULL;
	dom->arch = type ? vsmmu_xml_attr(type, "arch") : NULL;
	dom->machine = type ? vsmmu_xml_attr(type, "machine") : NULL;
	dom->uefi = vsmmu_streq(firmware, "efi") || vsmmu_xml_child(os, "loader") != NULL;
	dom->acpi = vsmmu_xml_child(vsmmu_xml_child(root, "features"), "acpi") != NULL;
}

static bool is_plan_env(xmlNodePtr n)
{
	return vsmmu_xml_is_ns(n, VSMMU_QEMU_NS_URI, "env") && attr_is(n, "name", VSMMU_PLAN_ENV);
}

static void parse_qemu(struct vsmmu_dom_qemu *q, xmlNodePtr root)
{
	xmlNodePtr cmdline = vsmmu_xml_child_ns(root, VSMMU_QEMU_NS_URI, "commandline");
	xmlNsPtr prefix = xmlSearchNs(root->doc, root, BAD_CAST "qemu");

	if (!xmlSearchNsByHref(root->doc, root, BAD_CAST VSMMU_QEMU_NS_URI) && prefix)
		q->ns_clash = vsmmu_xstrdup(prefix->href ? (const char *)prefix->href : "");
	q->empty_cmdline = cmdline && !xmlFirstElementChild(cmdline);
	for (xmlNodePtr n = cmdline ? cmdline->children : NULL; n && !q->has_plan; n = n->next)
		if (is_plan_env(n)) {
			q->has_plan = true;
			q->plan = vsmmu_xml_attr(n, "value");
		}
}

int vsmmu_domain_qemu_ns_check(const struct vsmmu_domain *dom, vsmmu_err *err)
{
	if (!dom->qemu.ns_clash)
		return 0;
	return vsmmu_fail(err, "<domain xmlns:qemu='%.200s'>: the prefix qemu names another "
			  "namespace than libvirt's %s, so libvirt ignores <qemu:...> elements; "
			  "fix the xmlns:qemu URI", dom->qemu.ns_clash, VSMMU_QEMU_NS_URI);
}

static int read_model(struct vsmmu_domain *dom, xmlNodePtr root, vsmmu_err *err)
{
	dom->name = child_text(root, "name");
	dom->emulator = child_text(vsmmu_xml_child(root, "devices"), "emulator");
	dom->has_devices = vsmmu_xml_child(root, "devices") != NULL;
	parse_os(dom, root);
	parse_qemu(&dom->qemu, root);
	if (parse_numa(dom, root, err) < 0 || parse_config(dom, root, err) < 0 ||
	    parse_devices(dom, vsmmu_xml_child(root, "devices"), err) < 0 ||
	    number_controllers(dom, err) < 0)
		return -1;
	assign_hostdev_ids(dom, vsmmu_xml_child(root, "devices"));
	return 0;
}

static void clear_model(struct vsmmu_domain *dom);

int vsmmu_domain_parse(const char *xml, size_t len, struct vsmmu_domain **out, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = vsmmu_xcalloc(1, sizeof(*dom));
	xmlNodePtr root;

	if (vsmmu_xml_parse(xml, len, "domain XML", &dom->doc, err) < 0)
		return -1;
	dom->had_decl = len >= 5 && strncmp(xml, "<?xml", 5) == 0;
	root = xmlDocGetRootElement(dom->doc);
	if (!vsmmu_xml_is(root, "domain"))
		return vsmmu_fail(err, "domain XML: the root element is <%s>, not <domain>",
				  (const char *)root->name);
	if (read_model(dom, root, err) < 0)
		return -1;
	*out = VSMMU_STEAL(dom);
	return 0;
}

int vsmmu_domain_reread(struct vsmmu_domain *dom, vsmmu_err *err)
{
	clear_model(dom);
	return read_model(dom, xmlDocGetRootElement(dom->doc), err);
}

static void clear_iommu(struct vsmmu_dom_iommu *m)
{
	free(m->model);
	free(m->driver.pci_bus);
	free(m->driver.accel);
	for (size_t p = 0; p < VSMMU_N_SMMU_PROPS; p++) {
		free(m->props[p]);
		free(m->driver.props[p]);
	}
}

/* Everything but the document. */
static void clear_model(struct vsmmu_domain *dom)
{
	xmlDocPtr doc = dom->doc;
	bool had_decl = dom->had_decl;

	for (size_t i = 0; i < dom->n_ctrls; i++) {
		free(dom->ctrls[i].model);
		free(dom->ctrls[i].bus_nr_text);
		free(dom->ctrls[i].numa_text);
	}
	for (size_t i = 0; i < dom->n_iommus; i++)
		clear_iommu(&dom->iommus[i]);
	for (size_t i = 0; i < dom->n_memnodes; i++)
		free(dom->memnodes[i].nodeset);
	for (size_t i = 0; i < dom->n_hostdevs; i++)
		free(dom->hostdevs[i].qemu_id);
	clear_config(&dom->config);
	free(dom->ctrls);
	free(dom->hostdevs);
	free(dom->devs);
	free(dom->iommus);
	free(dom->memnodes);
	free(dom->name);
	free(dom->arch);
	free(dom->machine);
	free(dom->emulator);
	free(dom->firmware);
	free(dom->iommufd_enabled);
	free(dom->qemu.ns_clash);
	free(dom->qemu.plan);
	memset(dom, 0, sizeof(*dom));
	dom->doc = doc;
	dom->had_decl = had_decl;
}

void vsmmu_domain_free(struct vsmmu_domain *dom)
{
	if (!dom)
		return;
	clear_model(dom);
	if (dom->doc)
		xmlFreeDoc(dom->doc);
	free(dom);
}

int vsmmu_domain_format(const struct vsmmu_domain *dom, char **out, size_t *len,
			vsmmu_err *err)
{
	return vsmmu_xml_format(dom->doc, dom->had_decl, out, len, err);
}

struct vsmmu_pci_addr *vsmmu_domain_hostdev_addrs(const struct vsmmu_domain *dom)
{
	struct vsmmu_pci_addr *a = vsmmu_xcalloc(dom->n_hostdevs, sizeof(*a));

	for (size_t i = 0; i < dom->n_hostdevs; i++)
		a[i] = dom->hostdevs[i].source;
	return a;
}

bool vsmmu_domain_is_managed(const struct vsmmu_domain *dom)
{
	if (dom->config.opted_out)
		return false;
	if (dom->config.node || dom->config.by_policy)
		return true;
	for (size_t i = 0; i < dom->n_iommus; i++)
		if (dom->iommus[i].form == VSMMU_IOMMU_NESTED ||
		    dom->iommus[i].form == VSMMU_IOMMU_SMMUV3DEV)
			return true;
	return false;
}

bool vsmmu_domain_uses_wrapper(const struct vsmmu_domain *dom)
{
	const char *slash = dom->emulator ? strrchr(dom->emulator, '/') : NULL;

	return dom->emulator && strcmp(slash ? slash + 1 : dom->emulator, VSMMU_WRAPPER_NAME) == 0;
}

const struct vsmmu_dom_ctrl *vsmmu_domain_ctrl(const struct vsmmu_domain *dom, int index)
{
	for (size_t i = 0; i < dom->n_ctrls; i++)
		if (dom->ctrls[i].index == index)
			return &dom->ctrls[i];
	return NULL;
}

const struct vsmmu_dom_iommu *vsmmu_domain_bus_iommu(const struct vsmmu_domain *dom, int index)
{
	for (size_t i = 0; i < dom->n_iommus; i++)
		if (dom->iommus[i].form == VSMMU_IOMMU_PER_BUS && dom->iommus[i].bus == index &&
		    dom->iommus[i].node)
			return &dom->iommus[i];
	return NULL;
}

const char *vsmmu_domain_recorded_smmu(const struct vsmmu_domain *dom, int index)
{
	for (size_t i = 0; i < dom->config.n_records; i++)
		if (dom->config.records[i].index == index)
			return dom->config.records[i].smmu;
	return NULL;
}

static int nodeset_range(const char *tok, int *lo, int *hi)
{
	const char *dash = strchr(tok, '-');
	char first[16];

	if (!dash)
		return vsmmu_parse_int(tok, 0, 65535, lo) < 0 ? -1 : (*hi = *lo, 0);
	if ((size_t)(dash - tok) >= sizeof(first))
		return -1;
	memcpy(first, tok, (size_t)(dash - tok));
	first[dash - tok] = '\0';
	if (vsmmu_parse_int(first, 0, 65535, lo) < 0 || vsmmu_parse_int(dash + 1, 0, 65535, hi) < 0 ||
	    *hi < *lo)
		return -1;
	return 0;
}

int vsmmu_nodeset_contains(const char *nodeset, int node)
{
	_cleanup_free_ char *copy = vsmmu_xstrdup(nodeset);
	char *save = NULL;
	bool in = false;

	if (!copy || !*copy)
		return -1;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool negate = tok[0] == '^';
		int lo, hi;

		if (nodeset_range(tok + negate, &lo, &hi) < 0)
			return -1;
		if (node >= lo && node <= hi)
			in = !negate;
	}
	return in;
}
