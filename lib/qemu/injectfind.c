#include "inject-internal.h"

#include <string.h>

#include "pciaddr.h"

/* A property of the argument at index: 1 present, 0 absent, -1 error. */
int inject_prop_at(const struct vsmmu_qargs *args, size_t index, const char *key,
		   const char **value, vsmmu_err *err)
{
	return vsmmu_qargs_get(vsmmu_qargs_at(args, index), key, value, err);
}

/* The driver of the -device at index, "" when it has none. */
const char *inject_driver_at(const struct vsmmu_qargs *args, size_t index)
{
	const char *type = NULL;
	vsmmu_err ignored;

	return vsmmu_qargs_type(vsmmu_qargs_at(args, index), &type, &ignored) > 0 ? type : "";
}

/* host= values that are no PCI address match no planned hostdev. */
static bool bdf_key(const char *value, char *key, size_t size)
{
	struct vsmmu_pci_addr a;

	if (size < VSMMU_BDF_LEN || vsmmu_pci_addr_parse(value, &a) < 0)
		return false;
	vsmmu_pci_addr_format(&a, key);
	return true;
}

int vsmmu_inject_hostdevs(const struct vsmmu_qargs *args, struct vsmmu_qargs_lookup **hostdevs,
			  vsmmu_err *err)
{
	return vsmmu_qargs_lookup_new(args, "vfio-pci", "host", bdf_key, hostdevs, err);
}

size_t vsmmu_inject_hostdev_at(const struct vsmmu_qargs_lookup *hostdevs,
			       const struct vsmmu_pci_addr *addr, size_t *index)
{
	char key[VSMMU_BDF_LEN];

	vsmmu_pci_addr_format(addr, key);
	return vsmmu_qargs_lookup_find(hostdevs, key, index, 1);
}

static bool has_host(const struct vsmmu_qargs *args, size_t index)
{
	vsmmu_err ignored;

	return vsmmu_qargs_has(vsmmu_qargs_at(args, index), "host", &ignored) != 0;
}

/* The -device vfio-pci of planned hostdev h: by host=, or else, as libvirt
 * >= 12.1 writes a hostdev whose iommufd it opens itself (fd=, no host=),
 * by the root port the plan gives it: every planned hostdev has a root
 * port of its own, so the port names it as surely as libvirt's hostdevN
 * id would (which the plan does not record). How many match; *index is
 * the first. */
size_t inject_planned_vfio(const struct vsmmu_qargs *args, const struct vsmmu_qargs_lookup *by_host,
			   const struct vsmmu_qargs_lookup *by_bus,
			   const struct vsmmu_plan_hostdev *h, size_t *index)
{
	size_t at[8], found = 0, n = vsmmu_inject_hostdev_at(by_host, &h->host, index);
	char bus[VSMMU_PCI_ID_LEN];

	if (n > 0)
		return n;
	vsmmu_pci_id(h->port, bus);
	n = vsmmu_qargs_lookup_find(by_bus, bus, at, VSMMU_ARRAY_LEN(at));
	for (size_t i = 0; i < n && i < VSMMU_ARRAY_LEN(at); i++)
		if (!has_host(args, at[i]) && found++ == 0)
			*index = at[i];
	return found;
}

int inject_vfio_by_bus(const struct vsmmu_qargs *args, struct vsmmu_qargs_lookup **by_bus,
		       vsmmu_err *err)
{
	return vsmmu_qargs_lookup_new(args, "vfio-pci", "bus", NULL, by_bus, err);
}

/* The id of the first -object iommufd in args (libvirt >= 12.1 declares
 * its own when it opens /dev/iommu), NULL when there is none. */
const char *inject_existing_iommufd(const struct vsmmu_qargs *args)
{
	size_t i = 0;
	vsmmu_err ignored;
	const char *id = NULL;

	if (vsmmu_qargs_next(args, VSMMU_QARGS_OPT_OBJECT, "iommufd", &i, &ignored) > 0 &&
	    inject_prop_at(args, i, "id", &id, &ignored) > 0)
		return id;
	return NULL;
}

/* The bus an arm-smmuv3 -device is on when it names none is pcie.0. */
const char *inject_smmu_bus_at(const struct vsmmu_qargs *args, size_t index, vsmmu_err *err)
{
	const char *bus = "pcie.0";

	return inject_prop_at(args, index, "primary-bus", &bus, err) < 0 ? NULL : bus;
}

/* How many -device arm-smmuv3 are on bus; *index is the first. */
int inject_smmus_on(const struct vsmmu_qargs *args, const char *bus, size_t *index,
		    vsmmu_err *err)
{
	size_t i = 0;
	int r, n = 0;

	for (; (r = vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, "arm-smmuv3", &i, err)) > 0;
	     i++) {
		const char *b = inject_smmu_bus_at(args, i, err);

		if (!b)
			return -1;
		if (strcmp(b, bus) == 0 && n++ == 0)
			*index = i;
	}
	return r < 0 ? -1 : n;
}
