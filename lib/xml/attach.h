/* Hot-plug onto the right vSMMU: where `vsmmuctl attach` puts a host PCI
 * device in a managed domain, the <hostdev> it hands libvirt, the
 * definition `--config` writes, and the same for detach. Pure functions of
 * (domain XML, host scan, device): every refusal is decided here, before
 * anything is changed; the CLI only talks to libvirt. */
#ifndef VSMMU_ATTACH_H
#define VSMMU_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"
#include "err.h"
#include "host.h"
#include "pciaddr.h"

/* How a hostdev's vfio-pci gets its iommufd backend. */
enum vsmmu_iommufd_form {
	VSMMU_IOMMUFD_NONE,        /* none: emulated vSMMUs, legacy VFIO container */
	VSMMU_IOMMUFD_BY_WRAPPER,  /* the wrapper adds iommufd= at start only */
	VSMMU_IOMMUFD_DOMAIN,      /* libvirt's <iommufd enabled='yes'/> (12.2) */
	VSMMU_IOMMUFD_PER_HOSTDEV, /* <driver name='vfio' iommufd='yes'/> (12.1) */
};

/* Who builds its vSMMUs: the wrapper, or libvirt (per-bus <iommu>). */
enum vsmmu_form vsmmu_domain_form(const struct vsmmu_domain *dom);
enum vsmmu_iommufd_form vsmmu_domain_iommufd_form(const struct vsmmu_domain *dom);

struct vsmmu_hostdev_spec {
	struct vsmmu_pci_addr source;
	bool managed;                    /* managed='yes': libvirt binds it to vfio-pci */
	int port;                        /* controller index of its root port, -1: no address */
	enum vsmmu_iommufd_form iommufd; /* PER_HOSTDEV adds iommufd='yes' to <driver> */
};

/* <hostdev mode='subsystem' type='pci'> with <driver name='vfio'/>, the
 * source and (port >= 0) the guest address bus=port slot 0. */
char *vsmmu_hostdev_xml(const struct vsmmu_hostdev_spec *spec);

struct vsmmu_placement {
	char bdf[VSMMU_BDF_LEN];
	char *smmu;         /* the host SMMU the device is behind */
	int expander;       /* the expander that mirrors it */
	int port;           /* the root port the device sits on */
	bool new_expander;  /* --config: not in the definition yet; the next start has it */
	bool new_port;
	char *device_xml;   /* live: what goes to virDomainAttachDeviceFlags */
};
void vsmmu_placement_clear(struct vsmmu_placement *p);
#define _cleanup_placement_ __attribute__((cleanup(vsmmu_placement_clear)))

/* Where the device goes in the running domain (its live XML): a free root
 * port of the expander whose vSMMU mirrors the device's SMMU. Fails, with
 * the remedy, when that cannot work. managed: --managed. */
int vsmmu_attach_live(const char *xml, size_t len, const struct vsmmu_host *host,
		      const struct vsmmu_pci_addr *bdf, bool managed, struct vsmmu_placement *out,
		      vsmmu_err *err);

/* The definition (inactive XML) with the device added, as `vsmmuctl apply`
 * would write it: on a free root port of its expander when there is one,
 * else on the port (and expander) the plan adds for the next start. */
int vsmmu_attach_config(const char *xml, size_t len, const struct vsmmu_host *host,
			const struct vsmmu_pci_addr *bdf, bool managed, char **out,
			size_t *out_len, struct vsmmu_placement *placed, vsmmu_err *err);

/* The running domain's <hostdev> of bdf, for virDomainDetachDeviceFlags. */
int vsmmu_detach_live(const char *xml, size_t len, const struct vsmmu_pci_addr *bdf,
		      char **device_xml, vsmmu_err *err);

/* The definition without the device, re-planned (its port becomes a spare
 * again, surplus spares and expanders go, as apply would do). */
int vsmmu_detach_config(const char *xml, size_t len, const struct vsmmu_host *host,
			const struct vsmmu_pci_addr *bdf, char **out, size_t *out_len,
			vsmmu_err *err);

/* A domain XML that can hold the device: every definition and running
 * domain the connection shows. */
struct vsmmu_seen_domain {
	const char *name;
	bool live;       /* the running domain's XML, else its definition */
	const char *xml;
	size_t len;
};

/* Fail when bdf is a hostdev of another domain in seen, or of domain self
 * on a side being changed (live, config). */
int vsmmu_attach_check_unassigned(const struct vsmmu_seen_domain *seen, size_t n,
				  const char *self, bool live, bool config,
				  const struct vsmmu_pci_addr *bdf, vsmmu_err *err);

#endif
