#include "pciaddr.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static int parse_hex_field(const char *s, size_t digits, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;

	for (size_t i = 0; i < digits; i++) {
		int c = (unsigned char)s[i];

		if (!isxdigit(c))
			return -1;
		v = v * 16 + (unsigned int)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int vsmmu_pci_addr_parse(const char *s, struct vsmmu_pci_addr *out)
{
	struct vsmmu_pci_addr a;

	if (!s || strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return -1;
	if (parse_hex_field(s, 4, 0xffff, &a.domain) < 0 ||
	    parse_hex_field(s + 5, 2, 0xff, &a.bus) < 0 ||
	    parse_hex_field(s + 8, 2, 0x1f, &a.slot) < 0 ||
	    parse_hex_field(s + 11, 1, 7, &a.func) < 0)
		return -1;
	*out = a;
	return 0;
}

void vsmmu_pci_addr_format(const struct vsmmu_pci_addr *a, char out[VSMMU_BDF_LEN])
{
	snprintf(out, VSMMU_BDF_LEN, "%04x:%02x:%02x.%x", a->domain & 0xffff, a->bus & 0xff,
		 a->slot & 0x1f, a->func & 7);
}

int vsmmu_pci_addr_cmp(const struct vsmmu_pci_addr *a, const struct vsmmu_pci_addr *b)
{
	unsigned long ka = ((unsigned long)a->domain << 16) | (a->bus << 8) | (a->slot << 3) | a->func;
	unsigned long kb = ((unsigned long)b->domain << 16) | (b->bus << 8) | (b->slot << 3) | b->func;

	return ka < kb ? -1 : ka > kb;
}

bool vsmmu_pci_addr_eq(const struct vsmmu_pci_addr *a, const struct vsmmu_pci_addr *b)
{
	return vsmmu_pci_addr_cmp(a, b) == 0;
}

void vsmmu_pci_id(int index, char out[VSMMU_PCI_ID_LEN])
{
	snprintf(out, VSMMU_PCI_ID_LEN, "pci.%d", index);
}

int vsmmu_pci_id_parse(const char *id, int *index)
{
	/* QEMU matches ids as strings: "pci.05" is not libvirt's "pci.5". */
	if (!vsmmu_has_prefix(id, "pci.") || id[4] == '0')
		return -1;
	return vsmmu_parse_int(id + 4, 1, 255, index);
}
