/* The parts of a libvirt domain definition vsmmu reads and manages. The
 * model keeps pointers into the libxml2 document so rewrite edits in place,
 * and, as written, what rewrite would set or remove, so that check can tell
 * whether a rewrite would change anything without making one. */
#ifndef VSMMU_DOMAIN_H
#define VSMMU_DOMAIN_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "consts.h"
#include "err.h"
#include "pciaddr.h"
#include "plan.h"

/* How rewrite writes a guest <address type='pci'>. */
#define VSMMU_ADDR_DOMAIN "0x0000"
#define VSMMU_ADDR_BUS_FMT "0x%02x" /* also the slot */
#define VSMMU_ADDR_FUNCTION "0x0"

/* A guest <address type='pci'>; set is false when absent or not PCI. */
struct vsmmu_guest_addr {
	bool set;
	unsigned int domain, bus, slot, func;
	bool as_written; /* spelt as rewrite writes it: domain, bus, slot and function
			  * each present, in the VSMMU_ADDR_* form */
};

struct vsmmu_dom_ctrl { /* <controller type='pci'> */
	xmlNodePtr node;
	int index;
	bool index_implied; /* no index= in the XML: numbered as libvirt would */
	char *model;   /* "pcie-root", "pcie-root-port", "pcie-expander-bus", ... */
	int bus_nr;    /* <target busNr>, -1 when absent */
	int numa_node; /* <target><node>, -1 when absent */
	struct vsmmu_guest_addr addr;
	char *bus_nr_text;   /* <target busNr=> as written, NULL when absent */
	char *numa_text;     /* the text of <target><node>, NULL when absent */
};

struct vsmmu_dom_hostdev { /* <hostdev mode='subsystem' type='pci'> */
	xmlNodePtr node;
	bool libvirt_managed; /* managed='yes': libvirt binds it to vfio-pci at start */
	bool driver_named;    /* has <driver name=...>: rewrite leaves its <driver> */
	xmlNodePtr iommufd_id; /* earlier proposal's <iommufdId>, or NULL */
	struct vsmmu_pci_addr source;
	struct vsmmu_guest_addr addr;
	char *qemu_id; /* the -device id libvirt gives it: its <alias> (a user's
			* ua- one at prepare) or else hostdevN */
};

struct vsmmu_dom_dev { /* any other device that sits at a guest PCI address */
	xmlNodePtr node;
	struct vsmmu_guest_addr addr;
};

struct vsmmu_dom_memnode {
	int cellid;
	char *nodeset;
};

struct vsmmu_dom_record { /* <vsmmu:expander index= smmu=>: which expander serves which SMMU */
	int index;
	char *smmu;
};

struct vsmmu_dom_config { /* <vsmmu:config> */
	xmlNodePtr node;       /* NULL when the domain has no <vsmmu:config> */
	bool opted_out;        /* mode='off': never managed, whatever the policy */
	bool by_policy;        /* managed by vsmmu.conf's policy (lib/model/manage.h):
				* no node, runtime topology, nothing written */
	enum vsmmu_mode mode;
	bool mode_written;     /* mode= is present, not defaulted */
	enum vsmmu_topology topology;
	enum vsmmu_form form;  /* form= */
	bool form_written;
	unsigned int spare_ports;
	char *props[VSMMU_N_SMMU_PROPS];
	bool root_iommu;       /* a machine-wide <iommu model='smmuv3'/> was replaced */
	struct vsmmu_dom_record *records;
	size_t n_records;
};

enum vsmmu_iommu_form {
	VSMMU_IOMMU_MACHINE,   /* <iommu model='smmuv3'/>: -machine virt,iommu=smmuv3 */
	VSMMU_IOMMU_PER_BUS,   /* libvirt >= 11.10 <iommu model='smmuv3'><driver pciBus=/> */
	VSMMU_IOMMU_NESTED,    /* earlier proposal: <iommu model='nestedSmmuv3'/> */
	VSMMU_IOMMU_SMMUV3DEV, /* earlier proposal: <iommu model='smmuv3Dev' .../> */
	VSMMU_IOMMU_OTHER_MODEL,
};

struct vsmmu_dom_iommu {
	xmlNodePtr node;
	enum vsmmu_iommu_form form;
	char *model;
	bool accel;  /* accel='on' (on <iommu> or <driver>), or nestedSmmuv3 */
	int bus;     /* pciBus= or smmuv3Dev's parentIdx=: a controller index, -1 */
	char *props[VSMMU_N_SMMU_PROPS]; /* ats=, ... on <driver> (or <iommu>), <cmdqv> */
	struct vsmmu_dom_iommu_driver { /* <driver>'s own attributes, as written */
		char *pci_bus;
		char *accel;
		char *props[VSMMU_N_SMMU_PROPS];
	} driver;
};

/* libvirt's QEMU namespace, where the wrapper form keeps VSMMU_PLAN. */
struct vsmmu_dom_qemu {
	char *ns_clash;     /* the URI the root binds the prefix qemu to when that is
			     * not libvirt's and libvirt's is not declared, else NULL */
	bool has_plan;      /* a <qemu:commandline><qemu:env name='VSMMU_PLAN'> */
	char *plan;         /* the first one's value=, NULL when absent */
	bool empty_cmdline; /* a <qemu:commandline> without elements */
};

struct vsmmu_domain {
	xmlDocPtr doc;
	bool had_decl;
	char *name;
	char *arch;
	char *machine;
	char *emulator; /* <devices><emulator> */
	bool acpi;
	bool uefi;
	char *firmware; /* <os firmware=> */
	bool has_os;
	bool has_devices;
	xmlNodePtr iommufd; /* <iommufd> under <domain> (libvirt >= 12.2) */
	char *iommufd_enabled; /* its enabled=, NULL when absent */
	bool iommufd_fdgroup;  /* it has fdgroup=: a management application's */
	struct vsmmu_dom_ctrl *ctrls;
	size_t n_ctrls;
	struct vsmmu_dom_hostdev *hostdevs;
	size_t n_hostdevs;
	struct vsmmu_dom_dev *devs;
	size_t n_devs;
	struct vsmmu_dom_iommu *iommus;
	size_t n_iommus;
	size_t n_cells;
	struct vsmmu_dom_memnode *memnodes;
	size_t n_memnodes;
	size_t n_addressless; /* devices libvirt will still give a PCI address */
	struct vsmmu_dom_config config;
	struct vsmmu_dom_qemu qemu;
};

int vsmmu_domain_parse(const char *xml, size_t len, struct vsmmu_domain **out,
		       vsmmu_err *err);
void vsmmu_domain_free(struct vsmmu_domain *dom);
static inline void vsmmu_domain_freep(struct vsmmu_domain **d) { vsmmu_domain_free(*d); }
#define _cleanup_domain_ __attribute__((cleanup(vsmmu_domain_freep)))

int vsmmu_domain_format(const struct vsmmu_domain *dom, char **out, size_t *len,
			vsmmu_err *err);
/* Read the whole model again from dom->doc after an edit of the document
 * (attach's new <hostdev>, a rewrite), as vsmmu_domain_parse() reads it:
 * one parse serves every step. The host policy's adoption (manage.h) is
 * not kept. */
int vsmmu_domain_reread(struct vsmmu_domain *dom, vsmmu_err *err);
/* Read <vsmmu:config> into dom->config again, as vsmmu_domain_parse()
 * would, after an edit of the document changed it. */
int vsmmu_domain_reread_config(struct vsmmu_domain *dom, vsmmu_err *err);

/* The source addresses of dom's hostdevs, n_hostdevs of them (free()). */
struct vsmmu_pci_addr *vsmmu_domain_hostdev_addrs(const struct vsmmu_domain *dom);
/* Managed: not opted out, and has <vsmmu:config> (or an earlier proposal's
 * iommu model) or was adopted by the host policy (lib/model/manage.h). */
bool vsmmu_domain_is_managed(const struct vsmmu_domain *dom);

/* Fails when the root binds the prefix qemu to another namespace than
 * libvirt's (dom->qemu.ns_clash): libvirt would ignore <qemu:...> elements,
 * and vsmmu's could not be declared. */
int vsmmu_domain_qemu_ns_check(const struct vsmmu_domain *dom, vsmmu_err *err);

/* <emulator> is the vsmmu wrapper (by its file name). */
bool vsmmu_domain_uses_wrapper(const struct vsmmu_domain *dom);

const struct vsmmu_dom_ctrl *vsmmu_domain_ctrl(const struct vsmmu_domain *dom, int index);
/* The host SMMU our metadata records for expander index, or NULL. */
const char *vsmmu_domain_recorded_smmu(const struct vsmmu_domain *dom, int index);

/* Does the host NUMA node set string ("0-3,^2,8") contain node? -1 on a
 * malformed set. */
int vsmmu_nodeset_contains(const char *nodeset, int node);

/* The per-bus <iommu> on controller index, or NULL. */
const struct vsmmu_dom_iommu *vsmmu_domain_bus_iommu(const struct vsmmu_domain *dom, int index);

#endif
