#include "inject-internal.h"

#include <string.h>

#include "pciaddr.h"

/* Digits become integers (ssidsize, oas: QEMU's JSON input is typed),
 * anything else stays text ("on", "auto"). */
static struct vsmmu_qargs_pair feature_pair(const char *key, const char *value)
{
	unsigned long n;

	if (vsmmu_parse_ulong(value, 10, 0xffff, &n) == 0)
		return VSMMU_QARGS_PAIR_INT(key, (long long)n);
	return VSMMU_QARGS_PAIR_STR(key, value);
}

static int new_smmu(const struct vsmmu_plan *plan, enum vsmmu_qargs_syntax syntax,
		    const char *bus, const char *id, bool accel, bool features,
		    struct vsmmu_qargs_arg **out, vsmmu_err *err)
{
	struct vsmmu_qargs_pair pairs[4 + VSMMU_N_SMMU_PROPS];
	size_t n = 0;

	pairs[n++] = VSMMU_QARGS_PAIR_STR("driver", "arm-smmuv3");
	pairs[n++] = VSMMU_QARGS_PAIR_STR("primary-bus", bus);
	pairs[n++] = VSMMU_QARGS_PAIR_STR("id", id);
	if (accel)
		pairs[n++] = VSMMU_QARGS_PAIR_BOOL("accel", true);
	for (size_t i = 0; features && i < VSMMU_N_SMMU_PROPS; i++)
		if (plan->props[i])
			pairs[n++] = feature_pair(vsmmu_smmu_prop_name(i), plan->props[i]);
	return vsmmu_qargs_new_props(VSMMU_QARGS_OPT_DEVICE, syntax, pairs, n, out, err);
}

static int insert_new(struct vsmmu_qargs *args, size_t after, struct vsmmu_qargs_arg *arg,
		      vsmmu_err *err)
{
	return vsmmu_qargs_insert_after(args, after, arg, err);
}

static int find_id(const struct vsmmu_qargs *args, const char *id, size_t *idx, vsmmu_err *err)
{
	int r = vsmmu_qargs_find_device(args, id, idx, err);

	return r > 0 ? 0 : r < 0 ? -1 : vsmmu_fail(err, "%s: not in the QEMU command line", id);
}

/* arm-smmuv3 right after each planned expander; notes them in summary. */
static int inject_expander_smmus(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
				 struct vsmmu_buf *list, size_t *count, vsmmu_err *err)
{
	for (size_t i = 0; i < plan->n_expanders; i++) {
		const struct vsmmu_plan_expander *e = &plan->expanders[i];
		_cleanup_free_ char *id = vsmmu_xasprintf("vsmmu.%d", e->index);
		char bus[VSMMU_PCI_ID_LEN];
		struct vsmmu_qargs_arg *smmu = NULL;
		size_t idx;
		int declared;

		if (!e->has_hostdevs)
			continue;
		vsmmu_pci_id(e->index, bus);
		declared = inject_smmus_on(args, bus, &idx, err);
		if (declared < 0)
			return -1;
		if (declared > 0) { /* libvirt's own, checked to agree with the plan */
			const char *theirs = NULL;

			if (inject_prop_at(args, idx, "id", &theirs, err) <= 0)
				theirs = "(no id)";
			vsmmu_buf_printf(list, "%s%s on %s for %s (libvirt's)", (*count)++ ? ", " : "",
					 theirs, bus, e->smmu);
			continue;
		}
		if (find_id(args, bus, &idx, err) < 0 ||
		    new_smmu(plan, vsmmu_qargs_arg_syntax(vsmmu_qargs_at(args, idx)), bus, id,
			     plan->mode == VSMMU_MODE_ACCEL, true, &smmu, err) < 0 ||
		    insert_new(args, idx, smmu, err) < 0)
			return -1;
		vsmmu_buf_printf(list, "%s%s on %s for %s", (*count)++ ? ", " : "", id, bus,
				 e->smmu);
	}
	return 0;
}

/* The first -device on pcie.0, else VSMMU_QARGS_NONE. */
static size_t first_on_pcie0(const struct vsmmu_qargs *args)
{
	size_t i = 0;
	vsmmu_err ignored;

	for (; vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, NULL, &i, &ignored) > 0; i++) {
		const char *bus = NULL;

		if (inject_prop_at(args, i, "bus", &bus, &ignored) > 0 && !strcmp(bus, "pcie.0"))
			return i;
	}
	return VSMMU_QARGS_NONE;
}

static int inject_root_smmu(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
			    struct vsmmu_buf *list, size_t *count, vsmmu_err *err)
{
	size_t at = first_on_pcie0(args);
	enum vsmmu_qargs_syntax syntax = at == VSMMU_QARGS_NONE
		? VSMMU_QARGS_SYNTAX_KEYVAL : vsmmu_qargs_arg_syntax(vsmmu_qargs_at(args, at));
	struct vsmmu_qargs_arg *smmu = NULL;

	if (!plan->root_vsmmu)
		return 0;
	if (new_smmu(plan, syntax, "pcie.0", VSMMU_ROOT_VSMMU_ID, false, false, &smmu, err) < 0)
		return -1;
	if (at == VSMMU_QARGS_NONE)
		vsmmu_qargs_append(args, smmu);
	else if (insert_new(args, at - 1, smmu, err) < 0)
		return -1;
	vsmmu_buf_printf(list, "%s%s on pcie.0 (emulated)", (*count)++ ? ", " : "",
			 VSMMU_ROOT_VSMMU_ID);
	return 0;
}

/* -object iommufd before the first expander that gets an accel vSMMU. */
static int inject_iommufd(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
			  vsmmu_err *err)
{
	const struct vsmmu_qargs_pair pairs[] = {
		VSMMU_QARGS_PAIR_STR("qom-type", "iommufd"),
		VSMMU_QARGS_PAIR_STR("id", VSMMU_IOMMUFD_ID),
	};
	size_t first = VSMMU_QARGS_NONE;
	struct vsmmu_qargs_arg *obj = NULL;

	for (size_t i = 0; i < plan->n_expanders; i++) {
		char id[VSMMU_PCI_ID_LEN];
		size_t idx;

		vsmmu_pci_id(plan->expanders[i].index, id);
		if (plan->expanders[i].has_hostdevs && find_id(args, id, &idx, err) == 0 &&
		    idx < first)
			first = idx;
	}
	if (first == VSMMU_QARGS_NONE)
		return vsmmu_fail(err, "no expander to serve with " VSMMU_IOMMUFD_ID);
	if (vsmmu_qargs_new_props(VSMMU_QARGS_OPT_OBJECT,
				  vsmmu_qargs_arg_syntax(vsmmu_qargs_at(args, first)), pairs,
				  VSMMU_ARRAY_LEN(pairs), &obj, err) < 0)
		return -1;
	return insert_new(args, first - 1, obj, err);
}

static int set_iommufd(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
		       const char *iommufd, vsmmu_err *err)
{
	_cleanup_lookup_ struct vsmmu_qargs_lookup *hostdevs = NULL, *by_bus = NULL;

	if (vsmmu_inject_hostdevs(args, &hostdevs, err) < 0 || inject_vfio_by_bus(args, &by_bus, err) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_hostdevs; i++) {
		struct vsmmu_qargs_arg *arg;
		size_t idx = 0;
		int has;

		if (inject_planned_vfio(args, hostdevs, by_bus, &plan->hostdevs[i], &idx) == 0)
			return vsmmu_fail(err, "hostdev %s: no -device vfio-pci for it",
					  plan->hostdevs[i].bdf);
		arg = vsmmu_qargs_at(args, idx);
		/* libvirt's own iommufd= (with its fd=) stays as it is. */
		has = vsmmu_qargs_has(arg, "iommufd", err);
		if (has < 0 || (has == 0 && vsmmu_qargs_set_str(arg, "iommufd", iommufd, err) < 0))
			return -1;
		if (has > 0 && !vsmmu_qargs_has(arg, "fd", err) &&
		    vsmmu_qargs_set_str(arg, "iommufd", iommufd, err) < 0)
			return -1;
	}
	return 0;
}

int vsmmu_inject_apply(struct vsmmu_qargs *args, const struct vsmmu_plan *plan,
		       char **summary, vsmmu_err *err)
{
	_cleanup_buf_ struct vsmmu_buf list = { 0 };
	bool accel = plan->mode == VSMMU_MODE_ACCEL;
	const char *theirs = inject_existing_iommufd(args);
	_cleanup_free_ char *iommufd = vsmmu_xstrdup(theirs ? theirs : VSMMU_IOMMUFD_ID);
	size_t n = 0;

	if (accel && set_iommufd(args, plan, iommufd, err) < 0)
		return -1;
	if (inject_expander_smmus(args, plan, &list, &n, err) < 0 ||
	    inject_root_smmu(args, plan, &list, &n, err) < 0)
		return -1;
	if (accel && n > 0 && !theirs && inject_iommufd(args, plan, err) < 0)
		return -1;
	*summary = vsmmu_xasprintf("injected %s%s%zu vSMMU%s%s%s%s", accel ? iommufd : "",
				   accel ? (theirs ? " (libvirt's), " : ", ") : "",
				   n, n == 1 ? "" : "s", n ? " (" : "", n ? list.data : "",
				   n ? ")" : "");
	if (accel) {
		char *longer = vsmmu_xasprintf("%s, iommufd= on %zu vfio-pci device%s", *summary,
					       plan->n_hostdevs, plan->n_hostdevs == 1 ? "" : "s");

		free(*summary);
		*summary = longer;
	}
	return 0;
}
