/* The plan as data: what the planner (planner.c) decides for a domain and
 * the wrapper reads back from JSON (planjson.c). The guest PCIe topology:
 * one pcie-expander-bus per host SMMUv3 in use, a pcie-root-port per
 * hostdev, bus number ranges, NUMA nodes and vSMMUs. No libxml2 here: the
 * wrapper links this module and the JSON, never the domain parser. */
#ifndef VSMMU_PLAN_H
#define VSMMU_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "consts.h"
#include "err.h"
#include "pciaddr.h"
#include "util.h"

enum vsmmu_mode { VSMMU_MODE_ACCEL, VSMMU_MODE_EMULATED };
enum vsmmu_topology { VSMMU_TOPO_PERSISTENT, VSMMU_TOPO_RUNTIME };
/* How the definition hands the vSMMUs to QEMU: through the wrapper
 * (<qemu:env> VSMMU_PLAN), or as libvirt >= 11.10's own per-bus <iommu>. */
enum vsmmu_form { VSMMU_FORM_WRAPPER, VSMMU_FORM_NATIVE };

const char *vsmmu_mode_name(enum vsmmu_mode mode);

/* Optional arm-smmuv3 feature properties the plan passes to the wrapper. */
#define VSMMU_SMMU_PROPS "ats", "ril", "ssidsize", "oas", "cmdqv"
#define VSMMU_N_SMMU_PROPS 5

const char *vsmmu_smmu_prop_name(size_t i);

/* Bus numbers kept free above pcie.0's hierarchy for devices added later. */
#define VSMMU_PCIE0_HEADROOM 8
/* Expander bus ranges are reserved in blocks of this many buses, so one
 * more root port rarely forces an expander to move. */
#define VSMMU_BUS_BLOCK 4

struct vsmmu_plan_expander {
	int index;          /* libvirt controller index; QEMU id pci.<index> */
	int bus_nr;
	int numa_node;      /* guest NUMA cell, -1 for none */
	unsigned int slot;  /* on pcie.0 */
	bool existing;      /* already in the definition */
	bool has_hostdevs;  /* gets a vSMMU */
	char *smmu;         /* host SMMU it mirrors */
	unsigned int n_buses; /* buses it needs: its root bus plus one per bridge behind it */
};

struct vsmmu_plan_port {
	int index;          /* QEMU id pci.<index> */
	int expander;       /* controller index of its expander */
	unsigned int slot;  /* on the expander's bus */
	bool existing;
	int hostdev;        /* index into plan->hostdevs, -1 for a spare port */
};

struct vsmmu_plan_hostdev {
	struct vsmmu_pci_addr host;
	char bdf[VSMMU_BDF_LEN];
	int port;           /* controller index of its root port */
	int expander;
	char *smmu;
	char *qemu_id;      /* libvirt's -device id for it (hostdevN, ua-...), NULL
			     * unknown; "id" in a runtime plan's JSON only */
	bool moved;         /* its guest address changes */
};

#define VSMMU_FORM_KEEP -1 /* policy.form: the form the domain records */
#define VSMMU_FORM_AUTO -2 /* native when policy.libvirt can hold it, else wrapper */

struct vsmmu_policy {
	int mode;        /* enum vsmmu_mode, or -1 to take the domain's */
	int spare_ports; /* or -1 to take the domain's */
	int form;        /* enum vsmmu_form, VSMMU_FORM_KEEP or VSMMU_FORM_AUTO */
	unsigned long libvirt; /* the target libvirt's version, 0 when unknown */
	const char *wrapper;   /* wrapper form: the <emulator> to set, NULL: leave it */
	const char *qemu;      /* native form: the QEMU that replaces an <emulator>
				* naming the wrapper, NULL: leave it */
};
#define VSMMU_POLICY_DEFAULT { .mode = -1, .spare_ports = -1, .form = VSMMU_FORM_KEEP }

struct vsmmu_plan {
	bool managed;       /* false: nothing to do, the input stays as it is */
	enum vsmmu_mode mode;
	enum vsmmu_topology topology;
	enum vsmmu_form form;
	unsigned int spare_ports;
	char *props[VSMMU_N_SMMU_PROPS];
	bool root_vsmmu;    /* an emulated vSMMU on pcie.0 replaces <iommu model='smmuv3'/> */
	bool add_acpi;      /* rewrite adds <features><acpi/> */
	bool add_uefi;      /* rewrite sets <os firmware='efi'> */
	char *emulator;     /* the <emulator> rewrite sets, NULL: leave it */
	unsigned int pcie0_buses; /* buses reserved for pcie.0's hierarchy */
	struct vsmmu_plan_expander *expanders;
	size_t n_expanders;
	struct vsmmu_plan_port *ports;
	size_t n_ports;
	struct vsmmu_plan_hostdev *hostdevs;
	size_t n_hostdevs;
	int *remove;        /* indexes of managed controllers no longer needed */
	size_t n_remove;
	struct vsmmu_strlist warnings; /* the domain will not work as it is: check reports these */
	struct vsmmu_strlist manual;   /* nor will it after a rewrite: the user must fix these */
	struct vsmmu_strlist notes;    /* advice for whoever rewrites it; not a mismatch */
};

/* The planner (planner.c): a pure function of (domain, host, policy). Its
 * inputs come from domain.h and host.h; this header only names them. */
struct vsmmu_domain;
struct vsmmu_host;
int vsmmu_plan_build(const struct vsmmu_domain *dom, const struct vsmmu_host *host,
		     const struct vsmmu_policy *policy, struct vsmmu_plan **out, vsmmu_err *err);

void vsmmu_plan_free(struct vsmmu_plan *plan);
static inline void vsmmu_plan_freep(struct vsmmu_plan **p) { vsmmu_plan_free(*p); }
#define _cleanup_plan_ __attribute__((cleanup(vsmmu_plan_freep)))

const struct vsmmu_plan_expander *vsmmu_plan_expander(const struct vsmmu_plan *plan, int index);
const struct vsmmu_plan_port *vsmmu_plan_port(const struct vsmmu_plan *plan, int index);
/* The bus range an expander owns is bus_nr to this, its last bus: its root
 * bus and one per bridge behind it (n_buses in all). The one statement of
 * the rule for the planner and for whoever checks a command line. */
int vsmmu_plan_expander_last_bus(const struct vsmmu_plan_expander *e);

/* Plan <-> the versioned JSON the wrapper reads: the text of VSMMU_PLAN,
 * and the same object as the value of "plan" in the hook's state.json
 * (lib/hook/state.c embeds it; nothing decodes it twice). Each expander's bus
 * range ("buses", written when it is not 1 + its root ports) round-trips. */
char *vsmmu_plan_to_json(const struct vsmmu_plan *plan);
int vsmmu_plan_from_json(const char *json, struct vsmmu_plan **out, vsmmu_err *err);
struct json_t; /* jansson's json_t */
struct json_t *vsmmu_plan_json(const struct vsmmu_plan *plan); /* a new reference */
int vsmmu_plan_from_json_value(struct json_t *root, struct vsmmu_plan **out, vsmmu_err *err);

#endif
