#include "inject-internal.h"

#include <string.h>

#include "pciaddr.h"

#define APPLY_HINT "run 'vsmmuctl apply DOMAIN' to plan again"
#define MAX_BUS_DEPTH 32

struct checker {
	const struct vsmmu_qargs *args;
	const struct vsmmu_qargs_lookup *ids;      /* -device by id */
	const struct vsmmu_qargs_lookup *hostdevs; /* -device vfio-pci by host */
	const struct vsmmu_qargs_lookup *by_bus;   /* -device vfio-pci by bus */
	const struct vsmmu_plan *plan;
	const struct vsmmu_host *host;
	struct vsmmu_strlist *out;
	vsmmu_err *err;
};

/* The qom-type of the -object at index, "" when unreadable. */
static const char *driver_of_object(const struct vsmmu_qargs *args, size_t index)
{
	return inject_driver_at(args, index);
}
static bool expander_is_accel(const struct vsmmu_plan *plan, const struct vsmmu_plan_expander *e)
{
	return e && e->has_hostdevs && plan->mode == VSMMU_MODE_ACCEL;
}
static const struct vsmmu_plan_expander *plan_expander_by_id(const struct vsmmu_plan *plan,
							     const char *id)
{
	int index;

	if (vsmmu_pci_id_parse(id, &index) < 0)
		return NULL;
	return vsmmu_plan_expander(plan, index);
}

/* The -device with that id: as vsmmu_qargs_find_device, a duplicate id
 * becoming a problem (returned as 0). */
static int find_device(struct checker *c, const char *id, size_t *index)
{
	vsmmu_err why;
	int r = vsmmu_qargs_device_by_id(c->args, c->ids, id, index, &why);

	if (r < 0)
		vsmmu_strlist_addf(c->out, "%s: %s; give every device its own id", id, why.msg);
	return r < 0 ? 0 : r;
}

/* ---- Checks ---- */

static void check_plan_expander(struct checker *c, const struct vsmmu_plan_expander *e)
{
	char id[VSMMU_PCI_ID_LEN];
	unsigned long bus_nr = 0;
	size_t idx;
	vsmmu_err why;
	int r;

	vsmmu_pci_id(e->index, id);
	if (!find_device(c, id, &idx)) {
		vsmmu_strlist_addf(c->out, "expander %s (for %s): no -device with id %s in the "
					   "QEMU command line; " APPLY_HINT, id, e->smmu, id);
		return;
	}
	if (strcmp(inject_driver_at(c->args, idx), "pxb-pcie") != 0) {
		vsmmu_strlist_addf(c->out, "expander %s: is a %s, the plan needs a pxb-pcie; "
					   APPLY_HINT, id, inject_driver_at(c->args, idx));
		return;
	}
	r = vsmmu_qargs_get_ulong(vsmmu_qargs_at(c->args, idx), "bus_nr", 255, &bus_nr, &why);
	if (r <= 0 || bus_nr != (unsigned long)e->bus_nr)
		vsmmu_strlist_addf(c->out, "expander %s: bus_nr is %s%lu, the plan says %d; "
					   APPLY_HINT, id, r < 0 ? "invalid " : "",
					   r > 0 ? bus_nr : 0, e->bus_nr);
}

static void check_plan_port(struct checker *c, const struct vsmmu_plan_port *pt)
{
	char id[VSMMU_PCI_ID_LEN], want[VSMMU_PCI_ID_LEN];
	const char *bus = NULL;
	vsmmu_err why;
	size_t idx;

	vsmmu_pci_id(pt->index, id);
	vsmmu_pci_id(pt->expander, want);
	if (!find_device(c, id, &idx)) {
		vsmmu_strlist_addf(c->out, "root port %s: no -device with id %s in the QEMU "
					   "command line; " APPLY_HINT, id, id);
		return;
	}
	if (strcmp(inject_driver_at(c->args, idx), "pcie-root-port") != 0)
		vsmmu_strlist_addf(c->out, "root port %s: is a %s, the plan needs a "
					   "pcie-root-port; " APPLY_HINT, id,
					   inject_driver_at(c->args, idx));
	else if (inject_prop_at(c->args, idx, "bus", &bus, &why) <= 0 || strcmp(bus, want) != 0)
		vsmmu_strlist_addf(c->out, "root port %s: is on bus %s, the plan puts it on %s; "
					   APPLY_HINT, id, bus ? bus : "(none)", want);
}

/* The host SMMU dev is behind, NULL if none (inline: host.c may be absent). */
static const char *live_smmu(const struct vsmmu_host *host, const struct vsmmu_pci_addr *addr,
			     bool *present)
{
	for (size_t i = 0; i < host->n_devs; i++) {
		const struct vsmmu_pcidev *d = &host->devs[i];

		if (!vsmmu_pci_addr_eq(&d->addr, addr))
			continue;
		*present = true;
		if (d->iommu_kind != VSMMU_IOMMU_SMMUV3 || d->smmu < 0 ||
		    (size_t)d->smmu >= host->n_smmus)
			return NULL;
		return host->smmus[d->smmu].name;
	}
	*present = false;
	return NULL;
}

static void check_hostdev_live(struct checker *c, const struct vsmmu_plan_hostdev *h)
{
	bool present = false;
	const char *smmu = live_smmu(c->host, &h->host, &present);

	if (!present)
		vsmmu_strlist_addf(c->out, "hostdev %s: not found on this host under "
					   "%s/bus/pci/devices; check the device is present or "
					   "remove it from the domain", h->bdf,
					   c->host->sysfs_root);
	else if (!smmu)
		vsmmu_strlist_addf(c->out, "hostdev %s: is not behind an SMMUv3 on this host, the "
					   "plan says %s; " APPLY_HINT, h->bdf, h->smmu);
	else if (strcmp(smmu, h->smmu) != 0)
		vsmmu_strlist_addf(c->out, "hostdev %s: is behind %s on this host, the plan says "
					   "%s; " APPLY_HINT, h->bdf, smmu, h->smmu);
}

static void check_hostdev_route(struct checker *c, const struct vsmmu_plan_hostdev *h,
				size_t idx)
{
	char want[VSMMU_PCI_ID_LEN], planned[VSMMU_PCI_ID_LEN];
	const char *bus = NULL, *port_bus = NULL;
	vsmmu_err why;
	size_t port;

	vsmmu_pci_id(h->expander, want);
	vsmmu_pci_id(h->port, planned);
	if (inject_prop_at(c->args, idx, "bus", &bus, &why) <= 0) {
		vsmmu_strlist_addf(c->out, "hostdev %s: its -device vfio-pci has no bus; it must "
					   "sit on a root port of expander %s; " APPLY_HINT, h->bdf,
					   want);
		return;
	}
	if (!find_device(c, bus, &port) || strcmp(inject_driver_at(c->args, port), "pcie-root-port")) {
		vsmmu_strlist_addf(c->out, "hostdev %s: is on bus %s, which is not a "
					   "pcie-root-port; it must sit on a root port of expander "
					   "%s; " APPLY_HINT, h->bdf, bus, want);
		return;
	}
	if (inject_prop_at(c->args, port, "bus", &port_bus, &why) <= 0 || strcmp(port_bus, want) != 0)
		vsmmu_strlist_addf(c->out, "hostdev %s: its root port %s is on %s, but %s belongs "
					   "behind expander %s; " APPLY_HINT, h->bdf, bus,
					   port_bus ? port_bus : "(none)", h->smmu, want);
	else if (strcmp(bus, planned) != 0)
		vsmmu_strlist_addf(c->out, "hostdev %s: is on root port %s, the plan puts it on "
					   "%s; " APPLY_HINT, h->bdf, bus, planned);
}

static void check_hostdev(struct checker *c, const struct vsmmu_plan_hostdev *h)
{
	const struct vsmmu_plan_expander *e = vsmmu_plan_expander(c->plan, h->expander);
	size_t idx = 0;
	size_t count = inject_planned_vfio(c->args, c->hostdevs, c->by_bus, h, &idx);

	if (!e || !e->has_hostdevs || !vsmmu_streq(e->smmu, h->smmu))
		vsmmu_strlist_addf(c->out, "VSMMU_PLAN: hostdev %s is routed to pci.%d, which is "
					   "not the expander of %s in the plan; " APPLY_HINT,
					   h->bdf, h->expander, h->smmu);
	if (count == 0)
		vsmmu_strlist_addf(c->out, "hostdev %s: no -device vfio-pci with host=%s in the "
					   "QEMU command line; " APPLY_HINT, h->bdf, h->bdf);
	else if (count > 1)
		vsmmu_strlist_addf(c->out, "hostdev %s: %zu -device vfio-pci with host=%s; assign "
					   "it once", h->bdf, count, h->bdf);
	else
		check_hostdev_route(c, h, idx);
	check_hostdev_live(c, h);
}

static int check_machine(struct checker *c)
{
	size_t i = 0;
	int r;

	for (; (r = vsmmu_qargs_next(c->args, VSMMU_QARGS_OPT_MACHINE, NULL, &i, c->err)) > 0;
	     i++) {
		const char *iommu = NULL;
		int got = inject_prop_at(c->args, i, "iommu", &iommu, c->err);

		if (got < 0)
			return -1;
		if (got > 0 && strcmp(iommu, "smmuv3") == 0)
			vsmmu_strlist_addf(c->out, "-machine: iommu=smmuv3 adds a vSMMU that "
						   "conflicts with the per-root-complex vSMMUs; "
						   "remove <iommu model='smmuv3'/> from the domain "
						   "(" APPLY_HINT ")");
	}
	return r;
}

static bool smmu_accel(const struct vsmmu_qargs *args, size_t index)
{
	bool accel = false;
	vsmmu_err ignored;

	return vsmmu_qargs_get_bool(vsmmu_qargs_at(args, index), "accel", &accel, &ignored) > 0 &&
	       accel;
}

/* libvirt >= 11.10 declares a vSMMU per bus itself (<iommu model='smmuv3'>
 * <driver pciBus=/>): one on a planned expander that agrees with the
 * plan's mode is used as it is, and the wrapper adds none there. Two on
 * one root complex, or one whose accel differs from the plan's, is a real
 * conflict. */
static int check_existing_smmus(struct checker *c)
{
	size_t i = 0;
	int r;

	for (; (r = vsmmu_qargs_next(c->args, VSMMU_QARGS_OPT_DEVICE, "arm-smmuv3", &i, c->err)) >
	       0; i++) {
		const char *bus = inject_smmu_bus_at(c->args, i, c->err);
		const struct vsmmu_plan_expander *e;
		size_t first = 0;
		int n;

		if (!bus)
			return -1;
		e = plan_expander_by_id(c->plan, bus);
		if (c->plan->root_vsmmu && !strcmp(bus, "pcie.0"))
			vsmmu_strlist_addf(c->out, "-device arm-smmuv3 on %s: the plan puts its "
						   "own vSMMU there and one root complex takes one "
						   "vSMMU; remove the extra arm-smmuv3 (<iommu> or "
						   "<qemu:arg>) from the domain", bus);
		if (!e || !e->has_hostdevs)
			continue;
		n = inject_smmus_on(c->args, bus, &first, c->err);
		if (n < 0)
			return -1;
		if (first != i)
			continue; /* reported with the first */
		if (n > 1)
			vsmmu_strlist_addf(c->out, "-device arm-smmuv3 on %s: %d of them, and one "
						   "root complex takes one vSMMU; remove the extra "
						   "arm-smmuv3 (<iommu> or <qemu:arg>) from the "
						   "domain", bus, n);
		else if (smmu_accel(c->args, i) != expander_is_accel(c->plan, e))
			vsmmu_strlist_addf(c->out, "-device arm-smmuv3 on %s: the plan puts its "
						   "own vSMMU there and one root complex takes one "
						   "vSMMU; remove the extra arm-smmuv3 (<iommu> or "
						   "<qemu:arg>) from the domain", bus);
	}
	return r;
}

/* Whether the len bytes at driver name a device the plan steers. */
static bool guarded_driver_n(const char *driver, size_t len)
{
	static const char *const guarded[] = { "vfio-pci", "pxb-pcie", "arm-smmuv3" };

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(guarded); i++)
		if (strlen(guarded[i]) == len && strncmp(driver, guarded[i], len) == 0)
			return true;
	return false;
}

static bool guarded_driver(const char *driver)
{
	return guarded_driver_n(driver, strlen(driver));
}

/* Whether "-set device.<id>..." can reach a guarded device: QEMU splits
 * the id at the first '.', so "pci" reaches "pci.1". */
static bool set_touches_guarded(const struct vsmmu_qargs *args, const char *target, size_t len)
{
	size_t i = 0;
	vsmmu_err ignored;

	for (; vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, NULL, &i, &ignored) > 0; i++) {
		const char *id = NULL;

		if (inject_prop_at(args, i, "id", &id, &ignored) > 0 && guarded_driver(inject_driver_at(args, i)) &&
		    strncmp(id, target, len) == 0 && (id[len] == '\0' || id[len] == '.'))
			return true;
	}
	return false;
}

static void check_set_global_arg(struct checker *c, struct vsmmu_qargs_arg *arg)
{
	const char *v = NULL;
	vsmmu_err ignored;

	if (vsmmu_qargs_arg_value(arg, &v, &ignored) < 0)
		return;
	if (vsmmu_qargs_arg_is(arg, "set") && vsmmu_has_prefix(v, "device.")) {
		const char *t = v + strlen("device.");

		if (set_touches_guarded(c->args, t, strcspn(t, ".=")))
			vsmmu_strlist_addf(c->out, "-set %s: changes a vfio-pci, pxb-pcie or "
						   "arm-smmuv3 device behind the plan's back; "
						   "remove it from the domain's <qemu:commandline>",
						   v);
	} else if (vsmmu_qargs_arg_is(arg, "global")) {
		bool kv = vsmmu_has_prefix(v, "driver=");
		const char *d = kv ? v + strlen("driver=") : v;
		size_t len = strcspn(d, kv ? "," : ".");

		if (guarded_driver_n(d, len))
			vsmmu_strlist_addf(c->out, "-global %s: changes every %.*s behind the "
						   "plan's back; remove it from the domain's "
						   "<qemu:commandline>", v, (int)len, d);
	}
}

static void check_set_global(struct checker *c)
{
	for (size_t i = 0; i < vsmmu_qargs_count(c->args); i++) {
		struct vsmmu_qargs_arg *arg = vsmmu_qargs_at(c->args, i);

		if (vsmmu_qargs_arg_kind(arg) == VSMMU_QARGS_ARG_OPTION)
			check_set_global_arg(c, arg);
	}
}

static bool allowed_behind_accel(const char *driver)
{
	static const char *const ok[] = { "vfio-pci", "pcie-root-port", "ioh3420",
		"x3130-upstream", "xio3130-downstream", "pcie-pci-bridge", "pci-bridge" };

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(ok); i++)
		if (strcmp(driver, ok[i]) == 0)
			return true;
	return false;
}

/* The accelerated expander the -device at index sits behind, or NULL. */
static const char *accel_expander_of(const struct checker *c, size_t index)
{
	const char *bus = NULL;
	vsmmu_err ignored;

	for (int depth = 0; depth < MAX_BUS_DEPTH; depth++) {
		if (inject_prop_at(c->args, index, "bus", &bus, &ignored) <= 0)
			return NULL;
		if (expander_is_accel(c->plan, plan_expander_by_id(c->plan, bus)))
			return bus;
		if (vsmmu_qargs_device_by_id(c->args, c->ids, bus, &index, &ignored) <= 0)
			return NULL;
	}
	return NULL;
}

static bool planned_bdf(const struct vsmmu_plan *plan, const char *host)
{
	struct vsmmu_pci_addr a;

	if (!host || vsmmu_pci_addr_parse(host, &a) < 0)
		return false;
	for (size_t i = 0; i < plan->n_hostdevs; i++)
		if (vsmmu_pci_addr_eq(&a, &plan->hostdevs[i].host))
			return true;
	return false;
}

/* A vfio-pci without host= (libvirt's own iommufd) on the root port of
 * a planned hostdev is that hostdev. */
static bool planned_port(const struct vsmmu_plan *plan, const char *bus)
{
	for (size_t i = 0; bus && i < plan->n_hostdevs; i++) {
		char id[VSMMU_PCI_ID_LEN];

		vsmmu_pci_id(plan->hostdevs[i].port, id);
		if (strcmp(id, bus) == 0)
			return true;
	}
	return false;
}

static bool planned_vfio_at(const struct checker *c, size_t index, const char **host)
{
	const char *bus = NULL;
	vsmmu_err ignored;

	if (inject_prop_at(c->args, index, "host", host, &ignored) > 0)
		return planned_bdf(c->plan, *host);
	return inject_prop_at(c->args, index, "bus", &bus, &ignored) > 0 && planned_port(c->plan, bus);
}

static void check_endpoints(struct checker *c)
{
	size_t i = 0;
	vsmmu_err ignored;

	for (; vsmmu_qargs_next(c->args, VSMMU_QARGS_OPT_DEVICE, NULL, &i, &ignored) > 0; i++) {
		const char *driver = inject_driver_at(c->args, i), *id = NULL, *host = NULL;
		const char *exp = accel_expander_of(c, i);

		if (!exp)
			continue;
		if (inject_prop_at(c->args, i, "id", &id, &ignored) <= 0)
			id = "(no id)";
		if (!allowed_behind_accel(driver))
			vsmmu_strlist_addf(c->out, "-device %s (%s): emulated endpoint behind %s, "
						   "whose vSMMU has accel=on, which QEMU refuses; "
						   "move it to a root port on pcie.0", driver, id,
						   exp);
		else if (!strcmp(driver, "vfio-pci") && !planned_vfio_at(c, i, &host))
			vsmmu_strlist_addf(c->out, "-device vfio-pci (%s, host %s): behind %s but "
						   "not in the plan; " APPLY_HINT, id,
						   host ? host : "(none)", exp);
	}
}

static void check_ids_free(struct checker *c)
{
	size_t idx, i = 0;
	vsmmu_err ignored;

	for (size_t k = 0; k < c->plan->n_expanders; k++) {
		_cleanup_free_ char *id = vsmmu_xasprintf("vsmmu.%d", c->plan->expanders[k].index);

		if (c->plan->expanders[k].has_hostdevs && find_device(c, id, &idx))
			vsmmu_strlist_addf(c->out, "-device %s (%s): the id the plan gives its "
						   "vSMMU is taken; rename that device", id,
						   inject_driver_at(c->args, idx));
	}
	for (; c->plan->mode == VSMMU_MODE_ACCEL &&
	       vsmmu_qargs_next(c->args, VSMMU_QARGS_OPT_OBJECT, NULL, &i, &ignored) > 0; i++) {
		const char *id = NULL;

		if (inject_prop_at(c->args, i, "id", &id, &ignored) > 0 && !strcmp(id, VSMMU_IOMMUFD_ID) &&
		    strcmp(driver_of_object(c->args, i), "iommufd") != 0)
			vsmmu_strlist_addf(c->out, "-object %s: the id of the iommufd object the "
						   "plan adds is taken; remove or rename that "
						   "object", id);
	}
}

int vsmmu_inject_check(const struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
		       const struct vsmmu_host *host, struct vsmmu_strlist *problems,
		       vsmmu_err *err)
{
	size_t before = problems->n;
	_cleanup_lookup_ struct vsmmu_qargs_lookup *ids = NULL, *hostdevs = NULL, *by_bus = NULL;
	struct checker c = { .args = args, .plan = plan, .host = host, .out = problems,
			     .err = err };

	if (vsmmu_qargs_lookup_new(args, NULL, "id", NULL, &ids, err) < 0 ||
	    vsmmu_inject_hostdevs(args, &hostdevs, err) < 0 || inject_vfio_by_bus(args, &by_bus, err) < 0)
		return -1;
	c.ids = ids;
	c.hostdevs = hostdevs;
	c.by_bus = by_bus;
	for (size_t i = 0; i < plan->n_expanders; i++)
		check_plan_expander(&c, &plan->expanders[i]);
	for (size_t i = 0; i < plan->n_ports; i++)
		check_plan_port(&c, &plan->ports[i]);
	for (size_t i = 0; i < plan->n_hostdevs; i++)
		check_hostdev(&c, &plan->hostdevs[i]);
	if (check_machine(&c) < 0 || check_existing_smmus(&c) < 0)
		return -1;
	check_set_global(&c);
	check_endpoints(&c);
	check_ids_free(&c);
	return (int)(problems->n - before);
}
