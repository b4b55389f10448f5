/* Fixtures for the planner, rewrite and plan JSON tests: a Grace-like host
 * with five SMMUs, and libvirt domains built from a few options. */
#ifndef VSMMU_PLANDOMS_H
#define VSMMU_PLANDOMS_H

#include <stdbool.h>
#include <string.h>

#include "domain.h"
#include "fakehost.h"
#include "plan.h"
#include "rewrite.h"
#include "util.h"

static const char *const grace_smmus[] = {
	"smmu3.0x0000000011000000", "smmu3.0x0000000012000000", "smmu3.0x0000000016000000",
	"smmu3.0x0000100011000000", "smmu3.0x0000100016000000",
};

static const int grace_nodes[] = { 0, 0, 0, 1, 1 };
static const struct fake_dev grace_devs[] = {
	{ "0000:01:00.0", 0, 0 }, { "0000:01:00.1", 0, 0 }, { "0002:01:00.0", 1, 0 },
	{ "0009:01:00.0", 2, 0 }, { "0010:01:00.0", 3, 1 }, { "0019:01:00.0", 4, 1 },
	{ "0020:01:00.0", -1, 0 }, { "0021:01:00.0", -2, 0 },
};

static inline struct vsmmu_host *grace(void)
{
	return fake_host(grace_smmus, grace_nodes, 5, grace_devs, VSMMU_ARRAY_LEN(grace_devs));
}

struct dom_opts {
	const char *config;     /* attributes of <vsmmu:config>, NULL for unmanaged */
	const char *hostdevs[8];
	bool numa;
	const char *extra;      /* more <devices> children */
	const char *iommu;      /* an <iommu> element */
};

static inline char *hostdev_xml(const char *bdf)
{
	struct vsmmu_pci_addr a;

	vsmmu_pci_addr_parse(bdf, &a);
	return vsmmu_xasprintf("    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
			       "      <source>\n"
			       "        <address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
			       "function='0x%x'/>\n      </source>\n    </hostdev>\n",
			       a.domain, a.bus, a.slot, a.func);
}

static inline char *domain_xml(const struct dom_opts *o)
{
	struct vsmmu_buf b = { 0 };

	vsmmu_buf_printf(&b, "<domain type='kvm'>\n  <name>t</name>\n");
	if (o->config)
		vsmmu_buf_printf(&b, "  <metadata>\n    <vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1'"
				 " %s/>\n  </metadata>\n", o->config);
	if (o->numa)
		vsmmu_buf_printf(&b, "  <numatune>\n    <memnode cellid='0' mode='strict' "
				 "nodeset='0'/>\n    <memnode cellid='1' mode='strict' "
				 "nodeset='1-3'/>\n  </numatune>\n");
	vsmmu_buf_printf(&b, "  <os firmware='efi'>\n    <type arch='aarch64' machine='virt'>hvm"
			 "</type>\n  </os>\n  <features>\n    <acpi/>\n  </features>\n");
	if (o->numa)
		vsmmu_buf_printf(&b, "  <cpu>\n    <numa>\n      <cell id='0' cpus='0' memory='1'/>\n"
				 "      <cell id='1' cpus='1' memory='1'/>\n    </numa>\n  </cpu>\n");
	vsmmu_buf_printf(&b, "  <devices>\n");
	for (size_t i = 0; i < 8 && o->hostdevs[i]; i++) {
		_cleanup_free_ char *h = hostdev_xml(o->hostdevs[i]);

		vsmmu_buf_printf(&b, "%s", h);
	}
	vsmmu_buf_printf(&b, "%s%s  </devices>\n</domain>\n", o->extra ? o->extra : "",
			 o->iommu ? o->iommu : "");
	return b.data;
}

static inline struct vsmmu_plan *plan_of(const char *xml, const struct vsmmu_host *host, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	struct vsmmu_plan *plan = NULL;

	if (vsmmu_domain_parse(xml, strlen(xml), &dom, err) < 0 ||
	    vsmmu_plan_build(dom, host, NULL, &plan, err) < 0)
		return NULL;
	return plan;
}

static inline char *rewrite_of(const char *xml, const struct vsmmu_host *host, vsmmu_err *err)
{
	char *out = NULL;
	size_t len;

	if (vsmmu_rewrite_xml(xml, strlen(xml), host, NULL, &out, &len, NULL, err) < 0)
		return NULL;
	return out;
}

static inline const struct vsmmu_plan_hostdev *hostdev(const struct vsmmu_plan *p, const char *bdf)
{
	for (size_t i = 0; i < p->n_hostdevs; i++)
		if (strcmp(p->hostdevs[i].bdf, bdf) == 0)
			return &p->hostdevs[i];
	return NULL;
}

#endif
