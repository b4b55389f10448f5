/* PCI addresses: strict parsing and formatting of DDDD:BB:SS.F, and of the
 * pci.N ids of libvirt's PCI controllers. */
#ifndef VSMMU_PCIADDR_H
#define VSMMU_PCIADDR_H

#include <stdbool.h>

#define VSMMU_BDF_LEN 13 /* "0000:00:00.0" + NUL */

struct vsmmu_pci_addr {
	unsigned int domain; /* 0..0xffff */
	unsigned int bus;    /* 0..0xff */
	unsigned int slot;   /* 0..0x1f */
	unsigned int func;   /* 0..7 */
};

/* Parse exactly "DDDD:BB:SS.F" (hex, lower or upper case). 0 or -1. */
int vsmmu_pci_addr_parse(const char *s, struct vsmmu_pci_addr *out);
void vsmmu_pci_addr_format(const struct vsmmu_pci_addr *a, char out[VSMMU_BDF_LEN]);
int vsmmu_pci_addr_cmp(const struct vsmmu_pci_addr *a, const struct vsmmu_pci_addr *b);
bool vsmmu_pci_addr_eq(const struct vsmmu_pci_addr *a, const struct vsmmu_pci_addr *b);

/* The id libvirt gives PCI controller <index> on QEMU's command line, and
 * the bus name its children name: "pci.<index>". The only place it is
 * built or parsed. */
#define VSMMU_PCI_ID_LEN 16 /* "pci." + any int + NUL */
void vsmmu_pci_id(int index, char out[VSMMU_PCI_ID_LEN]);
/* "pci.N" with N in 1..255, as vsmmu_pci_id writes it (no leading zero,
 * sign or blank) -> N; 0 or -1. */
int vsmmu_pci_id_parse(const char *id, int *index);

#endif
