/* vsmmuctl attach/detach: the decisions. See attach.h. */
#include "attach.h"

#include <string.h>

#include "check.h"
#include "plan.h"
#include "prepare.h"
#include "rewrite.h"
#include "util.h"
#include "xmlutil.h"

/* ---- the <hostdev> element ---- */

/* The whole element as text: it goes to libvirt as it is, and into a
 * definition as a copy (see insert_hostdev). The guest address has the
 * form rewrite.c writes, so a re-plan leaves it as it is. */
char *vsmmu_hostdev_xml(const struct vsmmu_hostdev_spec *s)
{
	const struct vsmmu_pci_addr *a = &s->source;
	_cleanup_free_ char *guest = s->port < 0 ? vsmmu_xstrdup("") : vsmmu_xasprintf(
		"  <address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' "
		"function='0x0'/>\n", (unsigned int)s->port);

	return vsmmu_xasprintf("<hostdev mode='subsystem' type='pci' managed='%s'>\n"
			       "  <driver name='vfio'%s/>\n"
			       "  <source>\n"
			       "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
			       "function='0x%x'/>\n"
			       "  </source>\n%s</hostdev>\n",
			       s->managed ? "yes" : "no",
			       s->iommufd == VSMMU_IOMMUFD_PER_HOSTDEV ? " iommufd='yes'" : "",
			       a->domain, a->bus, a->slot, a->func, guest);
}

void vsmmu_placement_clear(struct vsmmu_placement *p)
{
	free(p->smmu);
	free(p->device_xml);
	memset(p, 0, sizeof(*p));
}

/* ---- the forms ---- */

static bool is_per_bus_iommu(const struct vsmmu_dom_iommu *m)
{
	return m->node && m->form == VSMMU_IOMMU_PER_BUS;
}

enum vsmmu_form vsmmu_domain_form(const struct vsmmu_domain *dom)
{
	for (size_t i = 0; i < dom->n_iommus; i++)
		if (is_per_bus_iommu(&dom->iommus[i]))
			return VSMMU_FORM_NATIVE;
	return VSMMU_FORM_WRAPPER;
}

static bool attr_is_yes(xmlNodePtr n, const char *name)
{
	_cleanup_free_ char *v = n ? vsmmu_xml_attr(n, name) : NULL;

	return vsmmu_streq(v, "yes") || vsmmu_streq(v, "on");
}

static bool native_accel(const struct vsmmu_domain *dom)
{
	if (dom->config.node)
		return dom->config.mode == VSMMU_MODE_ACCEL;
	for (size_t i = 0; i < dom->n_iommus; i++)
		if (is_per_bus_iommu(&dom->iommus[i]) &&
		    attr_is_yes(vsmmu_xml_child(dom->iommus[i].node, "driver"), "accel"))
			return true;
	return false;
}

enum vsmmu_iommufd_form vsmmu_domain_iommufd_form(const struct vsmmu_domain *dom)
{
	xmlNodePtr root = xmlDocGetRootElement(dom->doc);

	if (attr_is_yes(vsmmu_xml_child(root, "iommufd"), "enabled"))
		return VSMMU_IOMMUFD_DOMAIN;
	for (size_t i = 0; i < dom->n_hostdevs; i++)
		if (attr_is_yes(vsmmu_xml_child(dom->hostdevs[i].node, "driver"), "iommufd"))
			return VSMMU_IOMMUFD_PER_HOSTDEV;
	if (vsmmu_domain_form(dom) == VSMMU_FORM_NATIVE)
		return native_accel(dom) ? VSMMU_IOMMUFD_PER_HOSTDEV : VSMMU_IOMMUFD_NONE;
	return dom->config.mode == VSMMU_MODE_ACCEL ? VSMMU_IOMMUFD_BY_WRAPPER
						    : VSMMU_IOMMUFD_NONE;
}

/* ---- the device on the host ---- */

static const char *dom_name(const struct vsmmu_domain *dom)
{
	return dom->name ? dom->name : "?";
}

/* The device, behind an SMMUv3 (host->smmus[dev->smmu]); NULL after a
 * refusal. */
static const struct vsmmu_pcidev *device_behind_smmu(const struct vsmmu_host *host,
						     const struct vsmmu_pci_addr *bdf,
						     vsmmu_err *err)
{
	const struct vsmmu_pcidev *dev = vsmmu_host_find_dev(host, bdf);
	char b[VSMMU_BDF_LEN];

	vsmmu_pci_addr_format(bdf, b);
	if (!dev)
		vsmmu_fail(err, "%s: no such PCI device under %s/bus/pci/devices; 'vsmmuctl host' "
			   "lists the devices", b, host->sysfs_root);
	else if (dev->iommu_kind == VSMMU_IOMMU_NONE)
		vsmmu_fail(err, "%s has no SMMUv3: it has no iommu link in sysfs and bypasses "
			   "translation, so no vSMMU can translate it; it cannot be passed "
			   "through nested", b);
	else if (dev->iommu_kind == VSMMU_IOMMU_OTHER)
		vsmmu_fail(err, "%s has no SMMUv3: it is behind IOMMU '%s'; vsmmu routes only "
			   "devices behind an SMMUv3 (use virsh attach-device)", b,
			   dev->iommu_name ? dev->iommu_name : "?");
	else if ((dev->class_code >> 8) == 0x0604)
		vsmmu_fail(err, "%s is a PCI bridge (class 0x%06x); vfio-pci cannot pass a bridge "
			   "through: name the endpoint behind it", b, dev->class_code);
	else
		return dev;
	return NULL;
}

/* libvirt binds a managed='yes' device itself; any other must be on
 * vfio-pci already, not in use by a host driver. */
static int check_driver(const struct vsmmu_pcidev *dev, bool managed, vsmmu_err *err)
{
	if (managed || vsmmu_driver_is_vfio(dev->driver))
		return 0;
	if (!dev->driver)
		return vsmmu_fail(err, "%s is bound to no driver: bind it to vfio-pci (virsh "
				  "nodedev-detach pci_%04x_%02x_%02x_%x) or pass --managed so "
				  "libvirt binds it", dev->bdf, dev->addr.domain, dev->addr.bus,
				  dev->addr.slot, dev->addr.func);
	return vsmmu_fail(err, "%s is bound to the host driver %s, in use by the host: bind it "
			  "to vfio-pci (virsh nodedev-detach pci_%04x_%02x_%02x_%x) or pass "
			  "--managed so libvirt takes it from the host", dev->bdf, dev->driver,
			  dev->addr.domain, dev->addr.bus, dev->addr.slot, dev->addr.func);
}

/* ---- where it goes ---- */

static const struct vsmmu_dom_hostdev *find_hostdev(const struct vsmmu_domain *dom,
						    const struct vsmmu_pci_addr *bdf)
{
	for (size_t i = 0; i < dom->n_hostdevs; i++)
		if (vsmmu_pci_addr_eq(&dom->hostdevs[i].source, bdf))
			return &dom->hostdevs[i];
	return NULL;
}

/* The expander our metadata records for smmu, or -1. */
static int mirroring_expander(const struct vsmmu_domain *dom, const char *smmu)
{
	for (size_t i = 0; i < dom->config.n_records; i++) {
		const struct vsmmu_dom_record *r = &dom->config.records[i];
		const struct vsmmu_dom_ctrl *c = vsmmu_domain_ctrl(dom, r->index);

		if (vsmmu_streq(r->smmu, smmu) && c && vsmmu_streq(c->model, "pcie-expander-bus"))
			return r->index;
	}
	return -1;
}

static bool bus_empty(const struct vsmmu_domain *dom, int bus)
{
	for (size_t i = 0; i < dom->n_hostdevs; i++)
		if (dom->hostdevs[i].addr.set && (int)dom->hostdevs[i].addr.bus == bus)
			return false;
	for (size_t i = 0; i < dom->n_devs; i++)
		if ((int)dom->devs[i].addr.bus == bus)
			return false;
	for (size_t i = 0; i < dom->n_ctrls; i++)
		if (dom->ctrls[i].addr.set && (int)dom->ctrls[i].addr.bus == bus &&
		    dom->ctrls[i].index != bus)
			return false;
	return true;
}

/* The free root port with the lowest index on the expander, or -1. */
static int free_port(const struct vsmmu_domain *dom, int expander, unsigned int *n_ports)
{
	int best = -1;

	*n_ports = 0;
	for (size_t i = 0; i < dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *c = &dom->ctrls[i];

		if (!vsmmu_streq(c->model, "pcie-root-port") || !c->addr.set ||
		    (int)c->addr.bus != expander)
			continue;
		(*n_ports)++;
		if (bus_empty(dom, c->index) && (best < 0 || c->index < best))
			best = c->index;
	}
	return best;
}

/* The value of <qemu:env name='VSMMU_PLAN'>, or NULL. */
static char *plan_env(const struct vsmmu_domain *dom)
{
	xmlNodePtr root = xmlDocGetRootElement(dom->doc);
	xmlNodePtr cmdline = vsmmu_xml_child_ns(root, VSMMU_QEMU_NS_URI, "commandline");

	for (xmlNodePtr n = cmdline ? cmdline->children : NULL; n; n = n->next) {
		_cleanup_free_ char *name = vsmmu_xml_attr(n, "name");

		if (vsmmu_xml_is_ns(n, VSMMU_QEMU_NS_URI, "env") && vsmmu_streq(name, VSMMU_PLAN_ENV))
			return vsmmu_xml_attr(n, "value");
	}
	return NULL;
}

/* Did QEMU get a vSMMU on the expander? Native: libvirt's per-bus <iommu>
 * names it; wrapper: the plan QEMU was started with has one there. */
static bool has_vsmmu(const struct vsmmu_domain *dom, enum vsmmu_form form, int expander)
{
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_free_ char *json = NULL;
	const struct vsmmu_plan_expander *e;

	if (form == VSMMU_FORM_NATIVE) {
		for (size_t i = 0; i < dom->n_iommus; i++) {
			xmlNodePtr drv = is_per_bus_iommu(&dom->iommus[i])
				? vsmmu_xml_child(dom->iommus[i].node, "driver") : NULL;
			long bus;

			if (drv && vsmmu_xml_attr_uint(drv, "pciBus", 255, -1, &bus, "", NULL) == 0 &&
			    bus == expander)
				return true;
		}
		return false;
	}
	json = plan_env(dom);
	if (!json || vsmmu_plan_from_json(json, &plan, NULL) < 0)
		return false;
	e = vsmmu_plan_expander(plan, expander);
	return e && e->has_hostdevs;
}

/* ---- live ---- */

static int parse_managed(const char *xml, size_t len, struct vsmmu_domain **dom, vsmmu_err *err)
{
	if (vsmmu_domain_parse(xml, len, dom, err) < 0)
		return -1;
	if (!vsmmu_domain_is_managed(*dom))
		return vsmmu_fail(err, "domain '%s' is not managed by vsmmu (no <vsmmu:config> in "
				  "its metadata): use virsh attach-device or detach-device, or "
				  "opt it in with 'vsmmuctl apply %s'", dom_name(*dom),
				  dom_name(*dom));
	return 0;
}

static int refuse_present(const struct vsmmu_domain *dom, const struct vsmmu_pci_addr *bdf,
			  const char *side, vsmmu_err *err)
{
	char b[VSMMU_BDF_LEN];

	if (!find_hostdev(dom, bdf))
		return 0;
	vsmmu_pci_addr_format(bdf, b);
	return vsmmu_fail(err, "%s is already assigned to domain '%s' (%s)", b, dom_name(dom),
			  side);
}

static int refuse_runtime(const struct vsmmu_domain *dom, const char *bdf, vsmmu_err *err)
{
	const char *n = dom_name(dom);

	return vsmmu_fail(err, "domain '%s' uses topology='runtime': its expanders exist only "
			  "in QEMU's command line, not in libvirt's definition, so libvirt cannot "
			  "hot-plug behind them; add the device for the next start with "
			  "'vsmmuctl attach %s %s --config' and restart the domain (the start "
			  "routes it behind its vSMMU), or switch to topology='persistent' with "
			  "spare-ports and run 'vsmmuctl apply %s'", n, n, bdf, n);
}

static int refuse_no_expander(const struct vsmmu_domain *dom, const char *bdf, const char *smmu,
			      int expander, vsmmu_err *err)
{
	const char *n = dom_name(dom);

	if (expander < 0)
		return vsmmu_fail(err, "no expander of running domain '%s' mirrors %s, the SMMU "
				  "%s is behind, and vSMMUs cannot be hot-plugged: 'vsmmuctl "
				  "attach %s %s --config' (what 'vsmmuctl apply' does with the "
				  "device in the definition) and a restart give it an expander "
				  "with its own vSMMU for %s", n, smmu, bdf, n, bdf, smmu);
	return vsmmu_fail(err, "expander pci.%d of running domain '%s' mirrors %s, but QEMU "
			  "was started without a vSMMU on it (it had no hostdevs then), and "
			  "vSMMUs cannot be hot-plugged: 'vsmmuctl attach %s %s --config' and a "
			  "restart give it one", expander, n, smmu, n, bdf);
}

static int refuse_no_port(const struct vsmmu_domain *dom, const char *bdf, int expander,
			  unsigned int n_ports, vsmmu_err *err)
{
	const char *n = dom_name(dom);

	return vsmmu_fail(err, "expander pci.%d of running domain '%s' has no free root port "
			  "(%u in use; spare-ports='%u'): raise spare-ports in "
			  "<vsmmu:config>, run 'vsmmuctl apply %s' and restart the domain; or "
			  "add %s for the next start with 'vsmmuctl attach %s %s --config'",
			  expander, n, n_ports, dom->config.spare_ports, n, bdf, n, bdf);
}

/* libvirt hot-plugs vfio-pci with an iommufd backend only when it opens
 * iommufd itself (12.1 per hostdev, 12.2 domain-wide). */
static int refuse_no_iommufd(const struct vsmmu_domain *dom, enum vsmmu_iommufd_form f,
			     const char *bdf, vsmmu_err *err)
{
	const char *n = dom_name(dom);

	if (f == VSMMU_IOMMUFD_BY_WRAPPER)
		return vsmmu_fail(err, "domain '%s' gets iommufd from the vsmmu wrapper, which adds "
				  "iommufd= to vfio-pci only at start: a hot-plugged vfio-pci has "
				  "no iommufd backend, and arm-smmuv3,accel=on refuses it; add %s "
				  "with 'vsmmuctl attach %s %s --config' and restart the domain (or "
				  "use libvirt >= 12.1's native form, where libvirt passes iommufd "
				  "at hot-plug)", n, bdf, n, bdf);
	return vsmmu_fail(err, "domain '%s' has emulated vSMMUs (mode='emulated'): QEMU's "
			  "emulated SMMUv3 cannot translate a vfio-pci device without iommufd "
			  "(\"requires iommu MAP notifier\"), hot-plugged or not; set "
			  "mode='accel' and run 'vsmmuctl apply %s'", n, n);
}

static bool iommufd_hotpluggable(enum vsmmu_iommufd_form f)
{
	return f == VSMMU_IOMMUFD_DOMAIN || f == VSMMU_IOMMUFD_PER_HOSTDEV;
}

/* The spare port for the device, or a refusal. */
static int live_port(const struct vsmmu_domain *dom, const char *bdf, const char *smmu,
		     struct vsmmu_placement *out, vsmmu_err *err)
{
	enum vsmmu_form form = vsmmu_domain_form(dom);
	int expander = mirroring_expander(dom, smmu);
	unsigned int n_ports;

	if (expander < 0 || !has_vsmmu(dom, form, expander))
		return refuse_no_expander(dom, bdf, smmu, expander, err);
	out->expander = expander;
	out->port = free_port(dom, expander, &n_ports);
	if (out->port < 0)
		return refuse_no_port(dom, bdf, expander, n_ports, err);
	return 0;
}

int vsmmu_attach_live(const char *xml, size_t len, const struct vsmmu_host *host,
		      const struct vsmmu_pci_addr *bdf, bool managed, struct vsmmu_placement *out,
		      vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	const struct vsmmu_pcidev *dev;
	const char *smmu;
	enum vsmmu_iommufd_form fd_form;
	struct vsmmu_hostdev_spec spec = { .source = *bdf, .managed = managed };

	memset(out, 0, sizeof(*out));
	vsmmu_pci_addr_format(bdf, out->bdf);
	if (parse_managed(xml, len, &dom, err) < 0)
		return -1;
	if (dom->config.topology == VSMMU_TOPO_RUNTIME)
		return refuse_runtime(dom, out->bdf, err);
	dev = device_behind_smmu(host, bdf, err);
	if (!dev)
		return -1;
	smmu = host->smmus[dev->smmu].name;
	if (refuse_present(dom, bdf, "running", err) < 0 || check_driver(dev, managed, err) < 0 ||
	    live_port(dom, out->bdf, smmu, out, err) < 0)
		return -1;
	fd_form = vsmmu_domain_iommufd_form(dom);
	if (!iommufd_hotpluggable(fd_form))
		return refuse_no_iommufd(dom, fd_form, out->bdf, err);
	spec.port = out->port;
	spec.iommufd = fd_form;
	out->smmu = vsmmu_xstrdup(smmu);
	out->device_xml = vsmmu_hostdev_xml(&spec);
	return 0;
}

/* ---- config ---- */

static xmlNodePtr devices_node(const struct vsmmu_domain *dom)
{
	return vsmmu_xml_child(xmlDocGetRootElement(dom->doc), "devices");
}

/* The <hostdev> of spec after the last one (or last in <devices>). */
static int insert_hostdev(struct vsmmu_domain *dom, const struct vsmmu_hostdev_spec *spec,
			  vsmmu_err *err)
{
	_cleanup_free_ char *text = vsmmu_hostdev_xml(spec);
	_cleanup_xmldoc_ xmlDocPtr one = NULL;
	xmlNodePtr devices = devices_node(dom), h;

	if (vsmmu_xml_parse(text, strlen(text), "the new <hostdev>", &one, err) < 0)
		return -1;
	h = xmlDocCopyNode(xmlDocGetRootElement(one), dom->doc, 1);
	if (!devices)
		devices = vsmmu_xml_add(xmlDocGetRootElement(dom->doc), NULL, "devices");
	if (dom->n_hostdevs)
		vsmmu_xml_insert_after(dom->hostdevs[dom->n_hostdevs - 1].node, h);
	else
		vsmmu_xml_append(devices, h);
	return 0;
}

/* A definition that vsmmu would rewrite is out of date: adding a device
 * must not silently re-route the others. */
static int refuse_stale(struct vsmmu_domain *dom, const struct vsmmu_host *host,
			const char *name, vsmmu_err *err)
{
	struct vsmmu_check c;
	int r = 0;

	if (vsmmu_check_domain(dom, host, NULL, &c, err) < 0)
		return -1;
	if (c.problems.n)
		r = vsmmu_fail(err, "the definition of '%s' does not match this host (%s): run "
			       "'vsmmuctl apply %s' first", name, c.problems.items[0], name);
	vsmmu_check_clear(&c);
	return r;
}

/* Where the plan put the device. */
static void placement_from_plan(const struct vsmmu_plan *plan, struct vsmmu_placement *p)
{
	for (size_t i = 0; i < plan->n_hostdevs; i++) {
		const struct vsmmu_plan_hostdev *h = &plan->hostdevs[i];
		const struct vsmmu_plan_port *pt = vsmmu_plan_port(plan, h->port);
		const struct vsmmu_plan_expander *e = vsmmu_plan_expander(plan, h->expander);

		if (strcmp(h->bdf, p->bdf) != 0)
			continue;
		p->port = h->port;
		p->expander = h->expander;
		p->new_port = !pt || !pt->existing;
		p->new_expander = !e || !e->existing;
	}
}

/* Plan and rewrite the edited document as apply would, in the form it has
 * (a native definition keeps libvirt's per-bus <iommu>, whether or not our
 * metadata says form='native'); the result must pass the check the hook
 * makes at prepare. The model is read again from the document after each
 * edit: the document is never formatted and parsed in between. */
static int replan(struct vsmmu_domain *dom, const struct vsmmu_host *host, char **out,
		  size_t *out_len, struct vsmmu_placement *p, vsmmu_err *err)
{
	struct vsmmu_policy policy = VSMMU_POLICY_DEFAULT;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;

	policy.form = (int)vsmmu_domain_form(dom);
	if (vsmmu_domain_reread(dom, err) < 0 ||
	    vsmmu_plan_build(dom, host, &policy, &plan, err) < 0 ||
	    vsmmu_rewrite(dom, plan, err) < 0)
		return -1;
	if (p)
		placement_from_plan(plan, p);
	if (vsmmu_domain_reread(dom, err) < 0 || refuse_stale(dom, host, dom_name(dom), err) < 0)
		return -1;
	return vsmmu_domain_format(dom, out, out_len, err);
}

/* The port the device takes in the definition: a free spare of its
 * expander, or -1 (the re-plan adds a port, and an expander when none
 * mirrors its SMMU, for the next start). */
static void config_port(const struct vsmmu_domain *dom, const char *smmu,
			struct vsmmu_placement *p)
{
	unsigned int n_ports;

	p->expander = mirroring_expander(dom, smmu);
	p->port = p->expander < 0 ? -1 : free_port(dom, p->expander, &n_ports);
}

int vsmmu_attach_config(const char *xml, size_t len, const struct vsmmu_host *host,
			const struct vsmmu_pci_addr *bdf, bool managed, char **out,
			size_t *out_len, struct vsmmu_placement *placed, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	struct vsmmu_hostdev_spec spec = { .source = *bdf, .managed = managed };
	const struct vsmmu_pcidev *dev;
	const char *smmu;

	memset(placed, 0, sizeof(*placed));
	vsmmu_pci_addr_format(bdf, placed->bdf);
	if (parse_managed(xml, len, &dom, err) < 0 || !(dev = device_behind_smmu(host, bdf, err)))
		return -1;
	smmu = host->smmus[dev->smmu].name;
	if (refuse_present(dom, bdf, "in its definition", err) < 0)
		return -1;
	if (refuse_stale(dom, host, dom_name(dom), err) < 0)
		return -1;
	config_port(dom, smmu, placed);
	placed->smmu = vsmmu_xstrdup(smmu);
	spec.port = dom->config.topology == VSMMU_TOPO_RUNTIME ? -1 : placed->port;
	spec.iommufd = vsmmu_domain_iommufd_form(dom);
	if (insert_hostdev(dom, &spec, err) < 0 || replan(dom, host, out, out_len, placed, err) < 0)
		return -1;
	if (dom->config.topology == VSMMU_TOPO_RUNTIME) /* the plan's ports are QEMU's only */
		placed->expander = placed->port = -1;
	return 0;
}

/* ---- detach ---- */

static int find_assigned(const struct vsmmu_domain *dom, const struct vsmmu_pci_addr *bdf,
			 const char *side, const struct vsmmu_dom_hostdev **h, vsmmu_err *err)
{
	char b[VSMMU_BDF_LEN];

	*h = find_hostdev(dom, bdf);
	if (*h)
		return 0;
	vsmmu_pci_addr_format(bdf, b);
	return vsmmu_fail(err, "%s is not assigned to domain '%s' (%s): nothing to detach", b,
			  dom_name(dom), side);
}

int vsmmu_detach_live(const char *xml, size_t len, const struct vsmmu_pci_addr *bdf,
		      char **device_xml, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	const struct vsmmu_dom_hostdev *h;
	xmlBufferPtr buf;

	if (vsmmu_domain_parse(xml, len, &dom, err) < 0 ||
	    find_assigned(dom, bdf, "running", &h, err) < 0)
		return -1;
	/* libvirt's own element: it matches a hostdev by its source. */
	buf = xmlBufferCreate();
	if (!buf || xmlNodeDump(buf, dom->doc, h->node, 0, 0) < 0) {
		xmlBufferFree(buf);
		return vsmmu_fail(err, "cannot format the <hostdev> to detach");
	}
	*device_xml = vsmmu_xstrdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return 0;
}

int vsmmu_detach_config(const char *xml, size_t len, const struct vsmmu_host *host,
			const struct vsmmu_pci_addr *bdf, char **out, size_t *out_len,
			vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	const struct vsmmu_dom_hostdev *h;

	if (parse_managed(xml, len, &dom, err) < 0 ||
	    find_assigned(dom, bdf, "in its definition", &h, err) < 0)
		return -1;
	/* From here on only the document is used: dom->hostdevs is stale. */
	vsmmu_xml_remove(h->node);
	return replan(dom, host, out, out_len, NULL, err);
}

/* ---- already assigned? ---- */

/* Does the domain XML have a PCI hostdev with source bdf? Malformed
 * entries are no match; unreadable XML is an error. */
static int xml_has_hostdev(const struct vsmmu_seen_domain *d, const struct vsmmu_pci_addr *bdf,
			   bool *found, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	vsmmu_err why;

	*found = false;
	if (vsmmu_domain_parse(d->xml, d->len, &dom, &why) < 0)
		return vsmmu_fail(err, "cannot tell whether domain '%s' uses the device: %s",
				  d->name, why.msg);
	*found = find_hostdev(dom, bdf) != NULL;
	return 0;
}

int vsmmu_attach_check_unassigned(const struct vsmmu_seen_domain *seen, size_t n,
				  const char *self, bool live, bool config,
				  const struct vsmmu_pci_addr *bdf, vsmmu_err *err)
{
	char b[VSMMU_BDF_LEN];

	vsmmu_pci_addr_format(bdf, b);
	for (size_t i = 0; i < n; i++) {
		const struct vsmmu_seen_domain *d = &seen[i];
		bool mine = vsmmu_streq(d->name, self), found;
		const char *side = d->live ? "running" : "in its definition";

		if (xml_has_hostdev(d, bdf, &found, err) < 0)
			return -1;
		if (!found || (mine && !(d->live ? live : config)))
			continue;
		if (mine)
			return vsmmu_fail(err, "%s is already assigned to domain '%s' (%s)", b,
					  d->name, side);
		return vsmmu_fail(err, "%s is already assigned to domain '%s' (%s): detach it "
				  "there first ('vsmmuctl detach %s %s%s')", b, d->name, side,
				  d->name, b, d->live ? " --live" : " --config");
	}
	return 0;
}
