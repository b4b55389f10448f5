/* The plan as versioned JSON: what the wrapper reads from VSMMU_PLAN and the
 * hook leaves in the runtime state. Deterministic (sorted keys) so a
 * rewrite of unchanged input gives byte-identical XML. */
#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "plan.h"
#include "util.h"

#define PLAN_JSON_MAX (256u << 10)


static void set_bus_id(json_t *o, const char *key, int index)
{
	char id[VSMMU_PCI_ID_LEN];

	vsmmu_pci_id(index, id);
	json_object_set_new(o, key, json_string(id));
}

static json_t *vsmmu_to_json(const struct vsmmu_plan *plan, int index)
{
	json_t *v = json_object();

	json_object_set_new(v, "id", json_sprintf("vsmmu.%d", index));
	json_object_set_new(v, "accel", json_boolean(plan->mode == VSMMU_MODE_ACCEL));
	for (size_t i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		if (plan->props[i])
			json_object_set_new(v, vsmmu_smmu_prop_name(i), json_string(plan->props[i]));
	return v;
}

/* Root ports the plan puts on expander index. */
static unsigned int ports_on(const struct vsmmu_plan *plan, int index)
{
	unsigned int n = 0;

	for (size_t i = 0; i < plan->n_ports; i++)
		n += plan->ports[i].expander == index;
	return n;
}

static json_t *expander_to_json(const struct vsmmu_plan *plan, const struct vsmmu_plan_expander *e)
{
	json_t *o = json_object();

	/* Only when other bridges widen it: VSMMU_PLAN stays as it was for
	 * the usual expander whose range is its root bus and one per port. */
	if (e->n_buses != 1 + ports_on(plan, e->index))
		json_object_set_new(o, "buses", json_integer(e->n_buses));

	set_bus_id(o, "id", e->index);
	json_object_set_new(o, "index", json_integer(e->index));
	json_object_set_new(o, "bus_nr", json_integer(e->bus_nr));
	json_object_set_new(o, "slot", json_integer(e->slot));
	json_object_set_new(o, "smmu", json_string(e->smmu));
	if (e->numa_node >= 0)
		json_object_set_new(o, "numa_node", json_integer(e->numa_node));
	if (e->has_hostdevs)
		json_object_set_new(o, "vsmmu", vsmmu_to_json(plan, e->index));
	return o;
}

static json_t *port_to_json(const struct vsmmu_plan_port *pt)
{
	json_t *o = json_object();

	set_bus_id(o, "id", pt->index);
	set_bus_id(o, "bus", pt->expander);
	json_object_set_new(o, "index", json_integer(pt->index));
	json_object_set_new(o, "slot", json_integer(pt->slot));
	/* What libvirt fills in for a root port it is given no target for. */
	json_object_set_new(o, "chassis", json_integer(pt->index));
	json_object_set_new(o, "port", json_integer(pt->slot << 3));
	return o;
}

/* Only a runtime plan, made from the live XML at each start, carries
 * libvirt's id for a hostdev: a persistent plan outlives the definition it
 * was made from, and a hostdev added before this one would renumber it. */
static json_t *hostdev_to_json(const struct vsmmu_plan *plan, const struct vsmmu_plan_hostdev *h)
{
	json_t *o = json_object();

	json_object_set_new(o, "host", json_string(h->bdf));
	if (plan->topology == VSMMU_TOPO_RUNTIME && h->qemu_id)
		json_object_set_new(o, "id", json_string(h->qemu_id));
	json_object_set_new(o, "smmu", json_string(h->smmu));
	set_bus_id(o, "bus", h->port);
	set_bus_id(o, "expander", h->expander);
	return o;
}

json_t *vsmmu_plan_json(const struct vsmmu_plan *plan)
{
	json_t *root = json_object();
	json_t *exps = json_array(), *ports = json_array(), *hds = json_array();

	json_object_set_new(root, "version", json_integer(VSMMU_PLAN_VERSION));
	json_object_set_new(root, "mode", json_string(vsmmu_mode_name(plan->mode)));
	json_object_set_new(root, "topology",
			    json_string(plan->topology == VSMMU_TOPO_RUNTIME ? "runtime"
									      : "persistent"));
	if (plan->mode == VSMMU_MODE_ACCEL)
		json_object_set_new(root, "iommufd", json_string(VSMMU_IOMMUFD_ID));
	if (plan->root_vsmmu)
		json_object_set_new(root, "root_vsmmu", json_string(VSMMU_ROOT_VSMMU_ID));
	for (size_t i = 0; i < plan->n_expanders; i++)
		json_array_append_new(exps, expander_to_json(plan, &plan->expanders[i]));
	for (size_t i = 0; i < plan->n_ports; i++)
		json_array_append_new(ports, port_to_json(&plan->ports[i]));
	for (size_t i = 0; i < plan->n_hostdevs; i++)
		json_array_append_new(hds, hostdev_to_json(plan, &plan->hostdevs[i]));
	json_object_set_new(root, "expanders", exps);
	json_object_set_new(root, "root_ports", ports);
	json_object_set_new(root, "hostdevs", hds);
	return root;
}

char *vsmmu_plan_to_json(const struct vsmmu_plan *plan)
{
	json_auto_t *root = vsmmu_plan_json(plan);

	return json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
}

static int expander_from_json(struct vsmmu_plan *plan, json_t *o, struct vsmmu_plan_expander *e,
			      vsmmu_err *err)
{
	json_t *v = json_object_get(o, "vsmmu");
	const char *smmu = NULL;
	json_int_t index = 0, bus_nr = 0, slot = 0, node = -1, buses = -1;

	if (json_unpack(o, "{s:I, s:I, s:I, s:s, s?I, s?I}", "index", &index, "bus_nr", &bus_nr,
			"slot", &slot, "smmu", &smmu, "numa_node", &node, "buses", &buses) < 0 ||
	    index < 1 || index > 255 || bus_nr < 1 || bus_nr > 255 || slot < 0 || slot > 31 ||
	    (buses != -1 && (buses < 1 || buses > 256 - bus_nr)))
		return vsmmu_fail(err, "VSMMU_PLAN: malformed expander entry");
	for (size_t i = 0; v && i < VSMMU_N_SMMU_PROPS; i++) {
		json_t *p = json_object_get(v, vsmmu_smmu_prop_name(i));

		if (p && !json_is_string(p))
			return vsmmu_fail(err, "VSMMU_PLAN: vSMMU property %s must be a string",
					  vsmmu_smmu_prop_name(i));
		if (p && !plan->props[i])
			plan->props[i] = vsmmu_xstrdup(json_string_value(p));
	}
	/* only now: a failed entry is not counted, so it must own nothing */
	*e = (struct vsmmu_plan_expander){ .index = (int)index, .bus_nr = (int)bus_nr,
		.slot = (unsigned int)slot, .numa_node = (int)node, .existing = true,
		.has_hostdevs = v != NULL, .smmu = vsmmu_xstrdup(smmu),
		.n_buses = buses > 0 ? (unsigned int)buses : 0 };
	return 0;
}

static int port_from_json(json_t *o, struct vsmmu_plan_port *pt, vsmmu_err *err)
{
	json_int_t index = 0, slot = 0;
	const char *bus = NULL;
	int expander;

	if (json_unpack(o, "{s:I, s:I, s:s}", "index", &index, "slot", &slot, "bus", &bus) < 0 ||
	    index < 1 || index > 255 || slot < 0 || slot > 31 || vsmmu_pci_id_parse(bus, &expander) < 0)
		return vsmmu_fail(err, "VSMMU_PLAN: malformed root_ports entry");
	*pt = (struct vsmmu_plan_port){ .index = (int)index, .expander = expander,
		.slot = (unsigned int)slot, .existing = true, .hostdev = -1 };
	return 0;
}

/* What QEMU takes as a device id (qdev_id_check: a letter, then letters,
 * digits, '-', '.', '_'), bounded. */
static bool valid_qemu_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 128 || !isalpha((unsigned char)id[0]))
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == n;
}

static int hostdev_from_json(json_t *o, struct vsmmu_plan_hostdev *h, vsmmu_err *err)
{
	const char *host = NULL, *smmu = NULL, *bus = NULL, *exp = NULL, *id = NULL;

	if (json_unpack(o, "{s:s, s:s, s:s, s:s, s?s}", "host", &host, "smmu", &smmu, "bus", &bus,
			"expander", &exp, "id", &id) < 0 ||
	    (id && !valid_qemu_id(id)) ||
	    vsmmu_pci_addr_parse(host, &h->host) < 0 || vsmmu_pci_id_parse(bus, &h->port) < 0 ||
	    vsmmu_pci_id_parse(exp, &h->expander) < 0)
		return vsmmu_fail(err, "VSMMU_PLAN: malformed hostdevs entry");
	vsmmu_pci_addr_format(&h->host, h->bdf);
	h->smmu = vsmmu_xstrdup(smmu);
	h->qemu_id = id ? vsmmu_xstrdup(id) : NULL;
	return 0;
}

static int header_from_json(json_t *root, struct vsmmu_plan *plan, vsmmu_err *err)
{
	const char *mode = NULL, *topo = NULL, *root_vsmmu = NULL;
	json_int_t version = 0;

	if (json_unpack(root, "{s:I, s:s, s:s, s?s}", "version", &version, "mode", &mode,
			"topology", &topo, "root_vsmmu", &root_vsmmu) < 0)
		return vsmmu_fail(err, "VSMMU_PLAN: missing version, mode or topology");
	if (version != VSMMU_PLAN_VERSION)
		return vsmmu_fail(err, "VSMMU_PLAN has version %lld, this vsmmu reads version %d: "
				  "run 'vsmmuctl apply' with this vsmmu", (long long)version,
				  VSMMU_PLAN_VERSION);
	if (!vsmmu_streq(mode, "accel") && !vsmmu_streq(mode, "emulated"))
		return vsmmu_fail(err, "VSMMU_PLAN: unknown mode '%s'", mode);
	if (!vsmmu_streq(topo, "persistent") && !vsmmu_streq(topo, "runtime"))
		return vsmmu_fail(err, "VSMMU_PLAN: unknown topology '%s'", topo);
	plan->managed = true;
	plan->mode = vsmmu_streq(mode, "accel") ? VSMMU_MODE_ACCEL : VSMMU_MODE_EMULATED;
	plan->topology = vsmmu_streq(topo, "runtime") ? VSMMU_TOPO_RUNTIME : VSMMU_TOPO_PERSISTENT;
	plan->root_vsmmu = root_vsmmu != NULL;
	return 0;
}

static json_t *get_array(json_t *root, const char *key, vsmmu_err *err)
{
	json_t *a = json_object_get(root, key);

	if (!json_is_array(a))
		vsmmu_fail(err, "VSMMU_PLAN: '%s' must be an array", key);
	return json_is_array(a) ? a : NULL;
}

static int arrays_from_json(json_t *root, struct vsmmu_plan *plan, vsmmu_err *err)
{
	json_t *exps = get_array(root, "expanders", err);
	json_t *ports = exps ? get_array(root, "root_ports", err) : NULL;
	json_t *hds = ports ? get_array(root, "hostdevs", err) : NULL;
	json_t *o;
	size_t i;

	if (!hds)
		return -1;
	plan->expanders = vsmmu_xcalloc(json_array_size(exps), sizeof(*plan->expanders));
	plan->ports = vsmmu_xcalloc(json_array_size(ports), sizeof(*plan->ports));
	plan->hostdevs = vsmmu_xcalloc(json_array_size(hds), sizeof(*plan->hostdevs));
	json_array_foreach(exps, i, o) {
		if (expander_from_json(plan, o, &plan->expanders[i], err) < 0)
			return -1;
		plan->n_expanders++;
	}
	json_array_foreach(ports, i, o) {
		if (port_from_json(o, &plan->ports[i], err) < 0)
			return -1;
		plan->n_ports++;
	}
	json_array_foreach(hds, i, o) {
		if (hostdev_from_json(o, &plan->hostdevs[i], err) < 0)
			return -1;
		plan->n_hostdevs++;
	}
	for (i = 0; i < plan->n_expanders; i++) /* "buses" omitted: the usual range */
		if (plan->expanders[i].n_buses == 0)
			plan->expanders[i].n_buses = 1 + ports_on(plan, plan->expanders[i].index);
	return 0;
}

int vsmmu_plan_from_json_value(json_t *root, struct vsmmu_plan **out, vsmmu_err *err)
{
	_cleanup_plan_ struct vsmmu_plan *plan = vsmmu_xcalloc(1, sizeof(*plan));

	if (!json_is_object(root))
		return vsmmu_fail(err, "the plan is not a JSON object");
	if (header_from_json(root, plan, err) < 0 || arrays_from_json(root, plan, err) < 0)
		return -1;
	*out = VSMMU_STEAL(plan);
	return 0;
}

int vsmmu_plan_from_json(const char *text, struct vsmmu_plan **out, vsmmu_err *err)
{
	json_auto_t *root = NULL;
	json_error_t jerr;

	if (strlen(text) > PLAN_JSON_MAX)
		return vsmmu_fail_kind(err, VSMMU_ERR_TOO_BIG, "VSMMU_PLAN is larger than %u bytes",
				       PLAN_JSON_MAX);
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root))
		return vsmmu_fail(err, "VSMMU_PLAN is not a JSON object: %s (column %d)",
				  root ? "wrong type" : jerr.text, jerr.column);
	return vsmmu_plan_from_json_value(root, out, err);
}
