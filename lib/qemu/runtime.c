#include "runtime.h"

#include <string.h>

#include "inject.h"
#include "pciaddr.h"
#include "qemulookup.h"
#include "qemuprops.h"

static int check_id_free(const struct vsmmu_qargs *args, const struct vsmmu_qargs_lookup *ids,
			 int index, struct vsmmu_strlist *out, vsmmu_err *err)
{
	char id[VSMMU_PCI_ID_LEN];
	size_t at;
	int r;

	vsmmu_pci_id(index, id);
	r = vsmmu_qargs_device_by_id(args, ids, id, &at, err);
	if (r > 0)
		vsmmu_strlist_addf(out, "%s: the runtime plan adds a controller with this id but "
			    "libvirt's command line has one; the definition changed since the hook "
			    "planned it: start the domain again", id);
	return r < 0 ? -1 : 0;
}

static void mark_index(bool seen[256], int index, struct vsmmu_strlist *out)
{
	if (index < 0 || index > 255)
		return;
	if (seen[index])
		vsmmu_strlist_addf(out, "pci.%d: the runtime plan adds two controllers with this "
					"id; start the domain again", index);
	seen[index] = true;
}

static bool hostdev_twice(const struct vsmmu_plan *plan, size_t h)
{
	for (size_t i = 0; i < h; i++)
		if (vsmmu_pci_addr_eq(&plan->hostdevs[i].host, &plan->hostdevs[h].host))
			return true;
	return false;
}

/* The plan must be whole before it is built: every controller index and
 * hostdev once, every root port on a planned expander, every hostdev on a
 * planned root port. A plan from a damaged state could say otherwise. */
static void check_plan_whole(const struct vsmmu_plan *plan, struct vsmmu_strlist *out)
{
	bool seen[256] = { false };

	for (size_t e = 0; e < plan->n_expanders; e++)
		mark_index(seen, plan->expanders[e].index, out);
	for (size_t p = 0; p < plan->n_ports; p++) {
		const struct vsmmu_plan_port *pt = &plan->ports[p];

		mark_index(seen, pt->index, out);
		if (!vsmmu_plan_expander(plan, pt->expander))
			vsmmu_strlist_addf(out, "root port pci.%d: the runtime plan puts it on "
						"pci.%d, which it does not build; start the domain "
						"again", pt->index, pt->expander);
	}
	for (size_t h = 0; h < plan->n_hostdevs; h++) {
		if (!vsmmu_plan_port(plan, plan->hostdevs[h].port))
			vsmmu_strlist_addf(out, "hostdev %s: the runtime plan puts it on pci.%d, "
						"which it does not build; start the domain again",
						plan->hostdevs[h].bdf, plan->hostdevs[h].port);
		if (hostdev_twice(plan, h))
			vsmmu_strlist_addf(out, "hostdev %s: the runtime plan routes it twice; "
						"start the domain again", plan->hostdevs[h].bdf);
	}
}

/* libvirt's own expanders must keep clear of the planned bus ranges. */
static int check_foreign_expanders(const struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
				   struct vsmmu_strlist *out, vsmmu_err *err)
{
	size_t i = 0;
	int r;

	while ((r = vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, "pxb-pcie", &i, err)) > 0) {
		unsigned long bus_nr;

		if (vsmmu_qargs_get_ulong(vsmmu_qargs_at(args, i), "bus_nr", 255, &bus_nr, err) < 0)
			return -1;
		for (size_t e = 0; e < plan->n_expanders; e++) {
			const struct vsmmu_plan_expander *x = &plan->expanders[e];

			if ((int)bus_nr >= x->bus_nr && (int)bus_nr <= vsmmu_plan_expander_last_bus(x))
				vsmmu_strlist_addf(out, "pxb-pcie bus_nr %lu in libvirt's command "
							"line falls in the range planned for "
							"pci.%d; start the domain again", bus_nr,
							x->index);
		}
		i++;
	}
	return r < 0 ? -1 : 0;
}

/* libvirt's -device vfio-pci arguments by host= and by id. */
struct vfio_lookups {
	struct vsmmu_qargs_lookup *by_host, *by_id;
};

/* The vfio-pci of planned hostdev h: by host=, or else by the id libvirt
 * gives it (the runtime plan has it from the live XML): libvirt >= 12.1,
 * opening the vfio cdev itself, passes it by fd= without host=. One with
 * that id but another host= is not this hostdev. How many match; *at is
 * the first. */
static size_t runtime_vfio(const struct vsmmu_qargs *args, const struct vfio_lookups *l,
			   const struct vsmmu_plan_hostdev *h, size_t *at)
{
	size_t n = vsmmu_inject_hostdev_at(l->by_host, &h->host, at);
	vsmmu_err ignored;

	if (n > 0 || !h->qemu_id)
		return n;
	n = vsmmu_qargs_lookup_find(l->by_id, h->qemu_id, at, 1);
	if (n == 1 && vsmmu_qargs_has(vsmmu_qargs_at(args, *at), "host", &ignored) != 0)
		return 0;
	return n;
}

static int vfio_lookups_new(const struct vsmmu_qargs *args, struct vfio_lookups *l,
			    vsmmu_err *err)
{
	return vsmmu_inject_hostdevs(args, &l->by_host, err) < 0 ||
			       vsmmu_qargs_lookup_new(args, "vfio-pci", "id", NULL, &l->by_id, err) < 0
		       ? -1
		       : 0;
}

static void vfio_lookups_clear(struct vfio_lookups *l)
{
	vsmmu_qargs_lookup_freep(&l->by_host);
	vsmmu_qargs_lookup_freep(&l->by_id);
}
#define _cleanup_vfio_lookups_ __attribute__((cleanup(vfio_lookups_clear)))

/* Every planned hostdev once as vfio-pci; *first is the lowest index. */
static void find_hostdevs(const struct vsmmu_qargs *args, const struct vfio_lookups *l,
			  const struct vsmmu_plan *plan, size_t *first, struct vsmmu_strlist *out)
{
	*first = VSMMU_QARGS_NONE;
	for (size_t h = 0; h < plan->n_hostdevs; h++) {
		const struct vsmmu_plan_hostdev *ph = &plan->hostdevs[h];
		size_t at = VSMMU_QARGS_NONE;
		size_t count = runtime_vfio(args, l, ph, &at);

		if (count != 1 && ph->qemu_id)
			vsmmu_strlist_addf(out, "hostdev %s: %zu -device vfio-pci with host=%s or, "
				    "without host=, id=%s in libvirt's command line, the runtime "
				    "plan needs exactly one", ph->bdf, count, ph->bdf, ph->qemu_id);
		else if (count != 1)
			vsmmu_strlist_addf(out, "hostdev %s: %zu -device vfio-pci with host=%s in "
						"libvirt's command line, the runtime plan needs "
						"exactly one", ph->bdf, count, ph->bdf);
		else if (at < *first)
			*first = at;
	}
}

static int insert_device(struct vsmmu_qargs *args, size_t *after, enum vsmmu_qargs_syntax syntax,
			 const struct vsmmu_qargs_pair *pairs, size_t n, vsmmu_err *err)
{
	struct vsmmu_qargs_arg *arg = NULL;

	if (vsmmu_qargs_new_props(VSMMU_QARGS_OPT_DEVICE, syntax, pairs, n, &arg, err) < 0 ||
	    vsmmu_qargs_insert_after(args, *after, arg, err) < 0)
		return -1;
	(*after)++;
	return 0;
}

static int insert_expander(struct vsmmu_qargs *args, size_t *after, enum vsmmu_qargs_syntax syntax,
			   const struct vsmmu_plan_expander *e, vsmmu_err *err)
{
	char id[VSMMU_PCI_ID_LEN], addr[8];
	struct vsmmu_qargs_pair pairs[6];
	size_t n = 0;

	vsmmu_pci_id(e->index, id);
	snprintf(addr, sizeof(addr), "0x%x", e->slot);
	pairs[n++] = (struct vsmmu_qargs_pair)VSMMU_QARGS_PAIR_STR("driver", "pxb-pcie");
	pairs[n++] = (struct vsmmu_qargs_pair)VSMMU_QARGS_PAIR_INT("bus_nr", e->bus_nr);
	pairs[n++] = (struct vsmmu_qargs_pair)VSMMU_QARGS_PAIR_STR("id", id);
	if (e->numa_node >= 0)
		pairs[n++] = (struct vsmmu_qargs_pair)VSMMU_QARGS_PAIR_INT("numa_node", e->numa_node);
	pairs[n++] = (struct vsmmu_qargs_pair)VSMMU_QARGS_PAIR_STR("bus", "pcie.0");
	pairs[n++] = (struct vsmmu_qargs_pair)VSMMU_QARGS_PAIR_STR("addr", addr);
	return insert_device(args, after, syntax, pairs, n, err);
}

/* What libvirt gives a root port it is told nothing about: chassis = index,
 * port = slot << 3. Indexes are unique, so no chassis collides. */
static int insert_port(struct vsmmu_qargs *args, size_t *after, enum vsmmu_qargs_syntax syntax,
		       const struct vsmmu_plan_port *pt, vsmmu_err *err)
{
	char id[VSMMU_PCI_ID_LEN], bus[VSMMU_PCI_ID_LEN], addr[8];

	vsmmu_pci_id(pt->index, id);
	vsmmu_pci_id(pt->expander, bus);
	snprintf(addr, sizeof(addr), "0x%x", pt->slot);
	{
		const struct vsmmu_qargs_pair pairs[] = {
			VSMMU_QARGS_PAIR_STR("driver", "pcie-root-port"),
			VSMMU_QARGS_PAIR_INT("port", (long long)(pt->slot << 3)),
			VSMMU_QARGS_PAIR_INT("chassis", pt->index),
			VSMMU_QARGS_PAIR_STR("id", id),
			VSMMU_QARGS_PAIR_STR("bus", bus),
			VSMMU_QARGS_PAIR_STR("addr", addr),
		};

		return insert_device(args, after, syntax, pairs, VSMMU_ARRAY_LEN(pairs), err);
	}
}

static int move_hostdev(struct vsmmu_qargs *args, const struct vfio_lookups *l,
			const struct vsmmu_plan_hostdev *h, vsmmu_err *err)
{
	struct vsmmu_qargs_arg *arg;
	size_t at;
	char bus[VSMMU_PCI_ID_LEN];

	if (runtime_vfio(args, l, h, &at) == 0)
		return vsmmu_fail(err, "hostdev %s: no -device vfio-pci for it", h->bdf);
	arg = vsmmu_qargs_at(args, at);
	vsmmu_pci_id(h->port, bus);
	if (vsmmu_qargs_set_str(arg, "bus", bus, err) < 0 ||
	    vsmmu_qargs_set_str(arg, "addr", "0x0", err) < 0 ||
	    vsmmu_qargs_unset(arg, "multifunction", err) < 0)
		return -1;
	return 0;
}

/* A machine-wide <iommu model='smmuv3'/> left in the definition (a runtime
 * domain's is never rewritten) reaches QEMU as -machine iommu=smmuv3; the
 * plan replaces it with its own emulated vSMMU on pcie.0 (root_vsmmu), as
 * the persistent rewrite does, so the machine's must go. */
static int drop_machine_smmu(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
			     vsmmu_err *err)
{
	size_t i = 0;
	int r;

	if (!plan->root_vsmmu)
		return 0;
	for (; (r = vsmmu_qargs_next(args, VSMMU_QARGS_OPT_MACHINE, NULL, &i, err)) > 0; i++) {
		struct vsmmu_qargs_arg *m = vsmmu_qargs_at(args, i);
		const char *iommu = NULL;
		int got = vsmmu_qargs_get(m, "iommu", &iommu, err);

		if (got < 0 || (got > 0 && strcmp(iommu, "smmuv3") == 0 &&
				vsmmu_qargs_unset(m, "iommu", err) < 0))
			return -1;
	}
	return r;
}

static int build(struct vsmmu_qargs *args, const struct vsmmu_plan *plan, size_t first,
		 vsmmu_err *err)
{
	enum vsmmu_qargs_syntax syntax = vsmmu_qargs_arg_syntax(vsmmu_qargs_at(args, first));
	_cleanup_vfio_lookups_ struct vfio_lookups vfio = { 0 };
	size_t after = first - 1;

	for (size_t e = 0; e < plan->n_expanders; e++) {
		if (insert_expander(args, &after, syntax, &plan->expanders[e], err) < 0)
			return -1;
		for (size_t p = 0; p < plan->n_ports; p++)
			if (plan->ports[p].expander == plan->expanders[e].index &&
			    insert_port(args, &after, syntax, &plan->ports[p], err) < 0)
				return -1;
	}
	/* After the inserts, which move the hostdevs' positions. */
	if (drop_machine_smmu(args, plan, err) < 0 || vfio_lookups_new(args, &vfio, err) < 0)
		return -1;
	for (size_t h = 0; h < plan->n_hostdevs; h++)
		if (move_hostdev(args, &vfio, &plan->hostdevs[h], err) < 0)
			return -1;
	return 0;
}

int vsmmu_runtime_build(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
			struct vsmmu_strlist *problems, vsmmu_err *err)
{
	_cleanup_lookup_ struct vsmmu_qargs_lookup *ids = NULL;
	_cleanup_vfio_lookups_ struct vfio_lookups vfio = { 0 };
	size_t first, before = problems->n;

	if (plan->topology != VSMMU_TOPO_RUNTIME || plan->n_hostdevs == 0)
		return 0;
	if (vsmmu_qargs_lookup_new(args, NULL, "id", NULL, &ids, err) < 0 ||
	    vfio_lookups_new(args, &vfio, err) < 0)
		return -1;
	for (size_t e = 0; e < plan->n_expanders; e++)
		if (check_id_free(args, ids, plan->expanders[e].index, problems, err) < 0)
			return -1;
	for (size_t p = 0; p < plan->n_ports; p++)
		if (check_id_free(args, ids, plan->ports[p].index, problems, err) < 0)
			return -1;
	if (check_foreign_expanders(args, plan, problems, err) < 0)
		return -1;
	check_plan_whole(plan, problems);
	find_hostdevs(args, &vfio, plan, &first, problems);
	if (problems->n > before || first == VSMMU_QARGS_NONE)
		return (int)(problems->n - before);
	return build(args, plan, first, err) < 0 ? -1 : 0;
}

/* "guest=NAME,debug-threads=on" -> NAME, with libvirt's ",," escapes undone. */
static char *name_of(const char *value)
{
	const char *p = strncmp(value, "guest=", 6) == 0 ? value + 6 : value;
	struct vsmmu_buf name = { 0 };

	for (; *p && (*p != ',' || p[1] == ','); p++) {
		vsmmu_buf_printf(&name, "%c", *p);
		p += *p == ',';
	}
	return name.data;
}

char *vsmmu_runtime_domain_name(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-name") == 0 || strcmp(argv[i], "--name") == 0)
			return name_of(argv[i + 1]);
	return NULL;
}

int vsmmu_runtime_needs_verdict(enum vsmmu_manage_policy policy, int argc, char **argv,
				vsmmu_err *err)
{
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	size_t at = 0;

	if (policy != VSMMU_MANAGE_HOSTDEVS)
		return 0;
	if (vsmmu_qargs_parse(argc, (const char *const *)argv, &args, err) < 0)
		return -1;
	return vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, "vfio-pci", &at, err);
}
