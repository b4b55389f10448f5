/* vsmmuctl attach/detach decisions (lib/attach): the device XML in every
 * iommufd form, the port it takes, every refusal, and the definitions
 * --config writes (which check, and so the hook's prepare, must accept). */
#include <string.h>

#include "attach.h"
#include "check.h"
#include "fakehost.h"
#include "rewrite.h"
#include "tap.h"
#include "xmlutil.h"

#define SMMU_A "smmu3.0x0000000011000000"
#define SMMU_B "smmu3.0x0000000016000000"

static const char *const smmus[] = { SMMU_A, SMMU_B };
static const struct fake_dev devs[] = {
	{ "0009:00:00.0", 0, 0 }, /* a root port (bridge) behind A */
	{ "0009:01:00.0", 0, 0 }, { "0009:01:00.1", 0, 0 }, { "0009:02:00.0", 0, 0 },
	{ "0019:01:00.0", 1, 0 }, /* behind B */
	{ "0020:01:00.0", -1, 0 }, /* no iommu link */
	{ "0021:01:00.0", -2, 0 }, /* behind a non-SMMUv3 IOMMU */
};

static struct vsmmu_host *host_new(void)
{
	struct vsmmu_host *h = fake_host(smmus, NULL, 2, devs, VSMMU_ARRAY_LEN(devs));

	h->devs[0].class_code = 0x060400;
	return h;
}

static struct vsmmu_pci_addr addr(const char *bdf)
{
	struct vsmmu_pci_addr a;

	vsmmu_pci_addr_parse(bdf, &a);
	return a;
}

/* A managed domain with hostdev 0009:01:00.0 as `vsmmuctl apply` leaves it. */
static char *applied(const struct vsmmu_host *host, const char *config, const char *root_extra)
{
	_cleanup_free_ char *xml = vsmmu_xasprintf(
		"<domain type='kvm'>\n  <name>g</name>\n  <metadata>\n"
		"    <vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' %s/>\n  </metadata>\n"
		"  <os firmware='efi'>\n    <type arch='aarch64' machine='virt'>hvm</type>\n"
		"  </os>\n  <features>\n    <acpi/>\n  </features>\n%s  <devices>\n"
		"    <hostdev mode='subsystem' type='pci' managed='no'>\n"
		"      <driver name='vfio'/>\n      <source>\n"
		"        <address domain='0x0009' bus='0x01' slot='0x00' function='0x0'/>\n"
		"      </source>\n    </hostdev>\n  </devices>\n</domain>\n",
		config, root_extra);
	char *out = NULL;
	size_t len;
	vsmmu_err err;

	if (vsmmu_rewrite_xml(xml, strlen(xml), host, NULL, &out, &len, NULL, &err) < 0)
		printf("# rewrite: %s\n", err.msg);
	return out;
}

/* s with the first occurrence of old replaced by new. */
static char *replaced(const char *s, const char *old, const char *new)
{
	const char *at = s ? strstr(s, old) : NULL;

	if (!at)
		return NULL;
	return vsmmu_xasprintf("%.*s%s%s", (int)(at - s), s, new, at + strlen(old));
}

/* s without the text from `from` through the end of `to`. */
static char *cut(const char *s, const char *from, const char *to)
{
	const char *a = s ? strstr(s, from) : NULL;
	const char *b = a ? strstr(a, to) : NULL;

	if (!b)
		return NULL;
	return vsmmu_xasprintf("%.*s%s", (int)(a - s), s, b + strlen(to));
}

static struct vsmmu_domain *parsed(const char *xml)
{
	struct vsmmu_domain *dom = NULL;
	vsmmu_err err;

	if (xml && vsmmu_domain_parse(xml, strlen(xml), &dom, &err) < 0)
		printf("# parse: %s\n", err.msg);
	return dom;
}

/* The expander of SMMU A, the root port of 0009:01:00.0 and the other
 * (free) root port on that expander, read from the XML itself. */
struct layout {
	int expander, used_port, spare_port;
	size_t n_ports;
};

static struct layout layout_of(const char *xml)
{
	_cleanup_domain_ struct vsmmu_domain *dom = parsed(xml);
	struct layout l = { -1, -1, -1, 0 };

	if (!dom || !dom->config.n_records || !dom->n_hostdevs)
		return l;
	l.expander = dom->config.records[0].index;
	l.used_port = (int)dom->hostdevs[0].addr.bus;
	for (size_t i = 0; i < dom->n_ctrls; i++) {
		const struct vsmmu_dom_ctrl *c = &dom->ctrls[i];

		if (!vsmmu_streq(c->model, "pcie-root-port") || (int)c->addr.bus != l.expander)
			continue;
		l.n_ports++;
		if (c->index != l.used_port && l.spare_port < 0)
			l.spare_port = c->index;
	}
	return l;
}

/* The wrapper-form definition in native form: libvirt's per-bus <iommu>
 * on the expander, no <qemu:commandline>. */
static char *native_of(const char *xml, int expander, const char *hostdev_driver)
{
	_cleanup_free_ char *iommu = vsmmu_xasprintf(
		"<iommu model='smmuv3'><driver pciBus='%d' accel='on'/></iommu>\n  </devices>",
		expander);
	_cleanup_free_ char *nocmd = cut(xml, "<qemu:commandline>", "</qemu:commandline>");
	_cleanup_free_ char *with_iommu = replaced(nocmd, "</devices>", iommu);

	if (!hostdev_driver)
		return VSMMU_STEAL(with_iommu);
	return replaced(with_iommu, "<driver name=\"vfio\"/>", hostdev_driver);
}

static int check_problems(const char *xml, const struct vsmmu_host *host)
{
	struct vsmmu_check c;
	vsmmu_err err;
	int n;

	if (!xml || vsmmu_check_xml(xml, strlen(xml), host, &c, &err) < 0)
		return -1;
	for (size_t i = 0; i < c.problems.n; i++)
		printf("# check: %s\n", c.problems.items[i]);
	n = (int)c.problems.n;
	vsmmu_check_clear(&c);
	return n;
}

static void test_device_xml(void)
{
	struct vsmmu_hostdev_spec s = { .source = addr("0009:01:00.1"), .port = 5,
					.iommufd = VSMMU_IOMMUFD_DOMAIN };
	_cleanup_free_ char *plain = vsmmu_hostdev_xml(&s);
	_cleanup_free_ char *per = NULL, *unplaced = NULL;

	CHECK_STR(plain,
		  "<hostdev mode='subsystem' type='pci' managed='no'>\n"
		  "  <driver name='vfio'/>\n"
		  "  <source>\n"
		  "    <address domain='0x0009' bus='0x01' slot='0x00' function='0x1'/>\n"
		  "  </source>\n"
		  "  <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>\n"
		  "</hostdev>\n",
		  "domain-wide iommufd: the hostdev needs only <driver name='vfio'/>, at slot 0 "
		  "of its port");
	s.iommufd = VSMMU_IOMMUFD_PER_HOSTDEV;
	s.managed = true;
	per = vsmmu_hostdev_xml(&s);
	CHECK(per && strstr(per, "<driver name='vfio' iommufd='yes'/>") &&
	      strstr(per, "managed='yes'"),
	      "per-hostdev iommufd: <driver name='vfio' iommufd='yes'/>; --managed: managed='yes'");
	s.iommufd = VSMMU_IOMMUFD_BY_WRAPPER;
	s.port = -1;
	unplaced = vsmmu_hostdev_xml(&s);
	CHECK(unplaced && !strstr(unplaced, "iommufd") && !strstr(unplaced, "type='pci' domain"),
	      "wrapper form: no iommufd in the XML (the wrapper adds it); no port: no address");
}

static void test_forms(const struct vsmmu_host *host)
{
	_cleanup_free_ char *wrapper = applied(host, "spare-ports='1'", "");
	_cleanup_free_ char *emulated = applied(host, "mode='emulated' spare-ports='1'", "");
	_cleanup_free_ char *dom_fd = applied(host, "spare-ports='1'", "  <iommufd enabled='yes'/>\n");
	struct layout l = layout_of(wrapper);
	_cleanup_free_ char *native = native_of(wrapper, l.expander, NULL);
	_cleanup_free_ char *native_per = native_of(wrapper, l.expander,
						    "<driver name='vfio' iommufd='yes'/>");
	_cleanup_domain_ struct vsmmu_domain *w = parsed(wrapper), *e = parsed(emulated),
		*d = parsed(dom_fd), *n = parsed(native), *np = parsed(native_per);

	if (!CHECK(w && e && d && n && np, "the five test domains parse"))
		return;
	CHECK(vsmmu_domain_form(w) == VSMMU_FORM_WRAPPER &&
	      vsmmu_domain_iommufd_form(w) == VSMMU_IOMMUFD_BY_WRAPPER,
	      "applied accel domain: wrapper form, iommufd from the wrapper");
	CHECK_INT(vsmmu_domain_iommufd_form(e), VSMMU_IOMMUFD_NONE,
		  "emulated mode in the wrapper form: no iommufd");
	CHECK_INT(vsmmu_domain_iommufd_form(d), VSMMU_IOMMUFD_DOMAIN,
		  "<iommufd enabled='yes'/> under <domain>: libvirt's domain-wide iommufd");
	CHECK(vsmmu_domain_form(n) == VSMMU_FORM_NATIVE &&
	      vsmmu_domain_iommufd_form(n) == VSMMU_IOMMUFD_PER_HOSTDEV,
	      "per-bus <iommu model='smmuv3'><driver pciBus=/>: native form, accel needs "
	      "iommufd per hostdev");
	CHECK_INT(vsmmu_domain_iommufd_form(np), VSMMU_IOMMUFD_PER_HOSTDEV,
		  "a hostdev with <driver iommufd='yes'/>: per-hostdev iommufd");
}

static void test_live_lands_on_spare(const struct vsmmu_host *host)
{
	_cleanup_free_ char *xml = applied(host, "spare-ports='1'", "  <iommufd enabled='yes'/>\n");
	struct layout l = layout_of(xml);
	struct vsmmu_pci_addr a = addr("0009:01:00.1");
	_cleanup_placement_ struct vsmmu_placement p = { 0 };
	_cleanup_free_ char *want = NULL;
	vsmmu_err err;

	if (!CHECK(l.spare_port > 0 && l.n_ports == 2, "applied domain: one used, one spare port"))
		return;
	if (!CHECK(vsmmu_attach_live(xml, strlen(xml), host, &a, false, &p, &err) == 0,
		   "live attach behind the SMMU of an expander with a spare port"))
		return (void)printf("# %s\n", err.msg);
	CHECK_INT(p.expander, l.expander, "the expander that mirrors the device's SMMU");
	CHECK_INT(p.port, l.spare_port, "its free root port");
	CHECK_STR(p.smmu, SMMU_A, "placement names the SMMU");
	want = vsmmu_xasprintf("<address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' "
			       "function='0x0'/>", l.spare_port);
	CHECK(p.device_xml && strstr(p.device_xml, want) &&
	      strstr(p.device_xml, "<address domain='0x0009' bus='0x01' slot='0x00' "
				   "function='0x1'/>") &&
	      strstr(p.device_xml, "<driver name='vfio'/>"),
	      "device XML: source, <driver name='vfio'/>, bus = the port's index, slot 0");
}

static void test_live_native(const struct vsmmu_host *host)
{
	_cleanup_free_ char *wrapper = applied(host, "spare-ports='1'", "");
	struct layout l = layout_of(wrapper);
	_cleanup_free_ char *native = native_of(wrapper, l.expander, NULL);
	_cleanup_free_ char *other_bus = native_of(wrapper, l.expander + 50, NULL);
	struct vsmmu_pci_addr a = addr("0009:01:00.1");
	_cleanup_placement_ struct vsmmu_placement p = { 0 }, q = { 0 };
	vsmmu_err err;

	if (!CHECK(vsmmu_attach_live(native, strlen(native), host, &a, false, &p, &err) == 0,
		   "native form: live attach onto the expander libvirt's <iommu pciBus> names"))
		return (void)printf("# %s\n", err.msg);
	CHECK(p.port == l.spare_port && strstr(p.device_xml, "<driver name='vfio' iommufd='yes'/>"),
	      "native accel: the hot-plugged hostdev asks libvirt for iommufd itself");
	CHECK(vsmmu_attach_live(other_bus, strlen(other_bus), host, &a, false, &q, &err) < 0 &&
	      strstr(err.msg, "without a vSMMU on it"),
	      "native form, no <iommu> on that expander: refused, QEMU has no vSMMU there");
}

/* One refusal: attach_live fails and the message holds want. */
static void refused_live(const char *xml, const struct vsmmu_host *host, const char *bdf,
			 bool managed, const char *want, const char *what)
{
	struct vsmmu_pci_addr a = addr(bdf);
	_cleanup_placement_ struct vsmmu_placement p = { 0 };
	vsmmu_err err = { .msg = "" };
	int r = xml ? vsmmu_attach_live(xml, strlen(xml), host, &a, managed, &p, &err) : 0;

	if (!CHECK(r < 0 && strstr(err.msg, want), "refused: %s", what))
		printf("# got: %s\n#  want: ...%s...\n", r < 0 ? err.msg : "(attached)", want);
}

static void test_live_refusals(struct vsmmu_host *host)
{
	_cleanup_free_ char *fd = applied(host, "spare-ports='1'", "  <iommufd enabled='yes'/>\n");
	_cleanup_free_ char *wrapper = applied(host, "spare-ports='1'", "");
	_cleanup_free_ char *emulated = applied(host, "mode='emulated' spare-ports='1'", "");
	_cleanup_free_ char *full = applied(host, "", "  <iommufd enabled='yes'/>\n");
	_cleanup_free_ char *runtime = applied(host, "topology='runtime'", "");
	_cleanup_free_ char *unmanaged = cut(fd, "<metadata>", "</metadata>");
	_cleanup_free_ char *noplan = cut(fd, "<qemu:commandline>", "</qemu:commandline>");

	refused_live(unmanaged, host, "0009:01:00.1", false, "is not managed by vsmmu",
		     "a domain without vsmmu metadata");
	refused_live(runtime, host, "0009:01:00.1", false,
		     "uses topology='runtime': its expanders exist only in QEMU's command line",
		     "runtime topology, with what is possible there");
	refused_live(runtime, host, "0009:01:00.1", false, "vsmmuctl attach g 0009:01:00.1 --config",
		     "runtime topology: the --config remedy names the device");
	refused_live(fd, host, "0009:05:00.0", false, "no such PCI device", "a device not on the host");
	refused_live(fd, host, "0020:01:00.0", false, "has no SMMUv3: it has no iommu link",
		     "a device that bypasses translation");
	refused_live(fd, host, "0021:01:00.0", false, "has no SMMUv3: it is behind IOMMU 'ipmmu_mm'",
		     "a device behind another kind of IOMMU");
	refused_live(fd, host, "0009:00:00.0", false, "is a PCI bridge", "a bridge");
	refused_live(fd, host, "0009:01:00.0", false, "already assigned to domain 'g' (running)",
		     "a device the running domain already has");
	free(host->devs[2].driver);
	host->devs[2].driver = vsmmu_xstrdup("mlx5_core");
	refused_live(fd, host, "0009:01:00.1", false, "bound to the host driver mlx5_core",
		     "a device in use by a host driver, without --managed");
	refused_live(full, host, "0009:01:00.1", true, "has no free root port",
		     "--managed lets libvirt take it from the host driver: the next check decides");
	free(host->devs[2].driver);
	host->devs[2].driver = NULL;
	refused_live(fd, host, "0009:01:00.1", false, "bound to no driver",
		     "an unbound device without --managed");
	host->devs[2].driver = vsmmu_xstrdup("vfio-pci");
	refused_live(fd, host, "0019:01:00.0", false,
		     "no expander of running domain 'g' mirrors " SMMU_B,
		     "no expander mirrors the device's SMMU (vSMMUs are not hot-pluggable)");
	refused_live(fd, host, "0019:01:00.0", false, "vsmmuctl attach g 0019:01:00.0 --config",
		     "no expander: the remedy is --config (apply) plus a restart");
	refused_live(noplan, host, "0009:01:00.1", false, "started without a vSMMU on it",
		     "wrapper form: the plan QEMU got has no vSMMU on that expander");
	refused_live(full, host, "0009:01:00.1", false, "has no free root port (1 in use; "
		     "spare-ports='0'): raise spare-ports", "no spare port is free");
	refused_live(wrapper, host, "0009:01:00.1", false,
		     "gets iommufd from the vsmmu wrapper, which adds iommufd= to vfio-pci only at "
		     "start", "wrapper form, accel: a hot-plugged vfio-pci would have no iommufd");
	refused_live(emulated, host, "0009:01:00.1", false, "emulated SMMUv3 cannot translate",
		     "emulated vSMMUs: QEMU cannot translate a VFIO device without iommufd");
}

static int hostdev_bus(const char *xml, const char *bdf)
{
	_cleanup_domain_ struct vsmmu_domain *dom = parsed(xml);
	struct vsmmu_pci_addr a = addr(bdf);

	for (size_t i = 0; dom && i < dom->n_hostdevs; i++)
		if (vsmmu_pci_addr_eq(&dom->hostdevs[i].source, &a))
			return dom->hostdevs[i].addr.set ? (int)dom->hostdevs[i].addr.bus : -2;
	return -1;
}

static void test_config_spare(const struct vsmmu_host *host)
{
	_cleanup_free_ char *xml = applied(host, "spare-ports='1'", "");
	_cleanup_free_ char *out = NULL, *back = NULL;
	_cleanup_placement_ struct vsmmu_placement p = { 0 };
	struct layout before = layout_of(xml), after;
	struct vsmmu_pci_addr a = addr("0009:01:00.1");
	size_t len;
	vsmmu_err err;

	if (!CHECK(vsmmu_attach_config(xml, strlen(xml), host, &a, false, &out, &len, &p, &err) == 0,
		   "--config on a wrapper-form definition (accel: no hot-plug needed)"))
		return (void)printf("# %s\n", err.msg);
	CHECK_INT(hostdev_bus(out, "0009:01:00.1"), before.spare_port,
		  "the device takes the spare root port of its SMMU's expander");
	CHECK(p.port == before.spare_port && p.expander == before.expander && !p.new_port &&
	      !p.new_expander, "placement: that port and expander, both already defined");
	after = layout_of(out);
	CHECK_INT(after.n_ports, 3, "the plan keeps spare-ports='1': a new spare port for the "
		  "next start");
	CHECK_INT(check_problems(out, host), 0, "check (and so the hook's prepare) accepts it");
	CHECK(out && strstr(out, "&quot;host&quot;:&quot;0009:01:00.1&quot;"), "VSMMU_PLAN routes the new device");
	if (!CHECK(vsmmu_detach_config(out, len, host, &a, &back, &len, &err) == 0,
		   "detach --config of the attached device"))
		return (void)printf("# %s\n", err.msg);
	CHECK_STR(back, xml, "attach then detach gives back the definition as it was");
}

static void test_config_new_expander(const struct vsmmu_host *host)
{
	_cleanup_free_ char *xml = applied(host, "", "");
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	_cleanup_placement_ struct vsmmu_placement p = { 0 }, q = { 0 };
	struct vsmmu_pci_addr b = addr("0019:01:00.0"), a = addr("0009:01:00.1");
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	size_t len;
	vsmmu_err err;

	if (!CHECK(vsmmu_attach_config(xml, strlen(xml), host, &b, true, &out, &len, &p, &err) == 0,
		   "--config for a device behind an SMMU no expander mirrors"))
		return (void)printf("# %s\n", err.msg);
	dom = parsed(out);
	CHECK(dom && dom->config.n_records == 2 && p.new_expander && p.new_port &&
	      vsmmu_streq(vsmmu_domain_recorded_smmu(dom, p.expander), SMMU_B),
	      "the next start gets a new expander mirroring its SMMU (what apply gives)");
	CHECK_INT(hostdev_bus(out, "0019:01:00.0"), p.port, "the device sits on the new port");
	CHECK(out && strstr(out, "managed=\"yes\""), "--managed: managed='yes'");
	CHECK_INT(check_problems(out, host), 0, "check accepts the definition");
	CHECK(vsmmu_attach_config(xml, strlen(xml), host, &a, false, &out2, &len, &q, &err) == 0 &&
	      q.new_port && !q.new_expander && check_problems(out2, host) == 0,
	      "--config with no spare port: the plan adds a root port on its expander");
}

/* One refusal of attach --config. */
static void refused_config(const char *xml, const struct vsmmu_host *host, const char *bdf,
			   const char *want, const char *what)
{
	struct vsmmu_pci_addr a = addr(bdf);
	_cleanup_placement_ struct vsmmu_placement p = { 0 };
	_cleanup_free_ char *out = NULL;
	vsmmu_err err = { .msg = "" };
	size_t len;
	int r = xml ? vsmmu_attach_config(xml, strlen(xml), host, &a, false, &out, &len, &p, &err) : 0;

	if (!CHECK(r < 0 && strstr(err.msg, want) && !out, "--config refused: %s", what))
		printf("# got: %s\n#  want: ...%s...\n", r < 0 ? err.msg : "(attached)", want);
}

static void test_config_refusals(const struct vsmmu_host *host)
{
	_cleanup_free_ char *xml = applied(host, "spare-ports='1'", "");
	struct layout l = layout_of(xml);
	/* The policy changed after apply: the plan wants another spare port. */
	_cleanup_free_ char *stale = replaced(xml, "spare-ports=\"1\"", "spare-ports=\"2\"");
	_cleanup_free_ char *native_elsewhere = native_of(xml, l.expander + 50, NULL);

	refused_config(xml, host, "0009:01:00.0", "already assigned to domain 'g' (in its "
		       "definition)", "a device the definition already has");
	refused_config(xml, host, "0020:01:00.0", "has no SMMUv3", "a device without an SMMUv3");
	refused_config(stale, host, "0009:01:00.1", "does not match this host",
		       "a stale definition: adding a device must not re-route the others");
	refused_config(stale, host, "0009:01:00.1", "run 'vsmmuctl apply g' first",
		       "a stale definition: apply first");
	refused_config(native_elsewhere, host, "0009:01:00.1", "controller index 51 is not a "
		       "pcie-expander-bus",
		       "native form naming a bus that is no expander: out of date, apply first");
}

static int count(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s ? strstr(s, what) : NULL; p; p = strstr(p + 1, what))
		n++;
	return n;
}

/* --config on the native form `vsmmuctl rewrite --native` writes: re-planned
 * as apply would, per-bus <iommu> included, and check accepts it. */
static void test_config_native_replan(const struct vsmmu_host *host)
{
	_cleanup_free_ char *xml = applied(host, "form='native' spare-ports='1'", "");
	struct layout l = layout_of(xml);
	struct vsmmu_pci_addr a = addr("0009:01:00.1"), b = addr("0019:01:00.0");
	_cleanup_free_ char *out = NULL, *out2 = NULL, *back = NULL, *want = NULL;
	_cleanup_placement_ struct vsmmu_placement p = { 0 }, q = { 0 };
	_cleanup_domain_ struct vsmmu_domain *dom = parsed(xml);
	size_t len, len2, blen;
	vsmmu_err err;

	if (!CHECK(dom && vsmmu_domain_form(dom) == VSMMU_FORM_NATIVE &&
		   vsmmu_domain_iommufd_form(dom) == VSMMU_IOMMUFD_DOMAIN && count(xml, "<iommu ") == 1,
		   "rewrite with form='native': one per-bus <iommu>, domain-wide iommufd"))
		return;
	if (!CHECK(vsmmu_attach_config(xml, strlen(xml), host, &a, false, &out, &len, &p, &err) == 0,
		   "native --config, the device's SMMU has an expander with a spare port"))
		return (void)printf("# %s\n", err.msg);
	CHECK(hostdev_bus(out, "0009:01:00.1") == l.spare_port && p.port == l.spare_port &&
	      !p.new_port && !p.new_expander, "it takes the spare port");
	CHECK(count(out, "<iommu ") == 1 && !strstr(out, "iommufd=\"yes\"") &&
	      !strstr(out, "VSMMU_PLAN") && strstr(out, "form=\"native\""),
	      "still native: one <iommu>, domain-wide iommufd, no VSMMU_PLAN");
	CHECK_INT((int)layout_of(out).n_ports, 3, "and a new spare port for the next one "
		  "(spare-ports='1' after the device, as apply writes it)");
	CHECK_INT(check_problems(out, host), 0, "check (and the hook's prepare) accept it");
	if (!CHECK(vsmmu_attach_config(out, len, host, &b, false, &out2, &len2, &q, &err) == 0,
		   "native --config of a device behind an SMMU no expander mirrors yet"))
		return (void)printf("# %s\n", err.msg);
	want = vsmmu_xasprintf("<driver pciBus=\"%d\" accel=\"on\"/>", q.expander);
	CHECK(q.new_expander && q.new_port && vsmmu_streq(q.smmu, SMMU_B) &&
	      count(out2, "<iommu ") == 2 && strstr(out2, want) &&
	      hostdev_bus(out2, "0019:01:00.0") == q.port,
	      "a new expander with its own per-bus <iommu pciBus=INDEX accel='on'> and a port");
	CHECK_INT(check_problems(out2, host), 0, "check accepts that too");
	if (!CHECK(vsmmu_detach_config(out2, len2, host, &b, &back, &blen, &err) == 0,
		   "native detach --config"))
		return (void)printf("# %s\n", err.msg);
	CHECK(count(back, "<iommu ") == 1 && hostdev_bus(back, "0019:01:00.0") == -1,
	      "detach takes the expander and its <iommu> away again");
	CHECK_INT(check_problems(back, host), 0, "check accepts what detach leaves");
}

/* --live on the native form rewrite --native writes (libvirt 12.9's
 * domain-wide <iommufd enabled='yes'/>): libvirt opens iommufd for the
 * hot-plugged vfio-pci itself, so the element asks for nothing more. */
static void test_live_native_rewritten(const struct vsmmu_host *host)
{
	_cleanup_free_ char *xml = applied(host, "form='native' spare-ports='1'", "");
	_cleanup_free_ char *want = NULL;
	struct layout l = layout_of(xml);
	struct vsmmu_pci_addr a = addr("0009:01:00.1");
	_cleanup_placement_ struct vsmmu_placement p = { 0 };
	vsmmu_err err;

	if (!CHECK(vsmmu_attach_live(xml, strlen(xml), host, &a, true, &p, &err) == 0,
		   "native (rewrite --native) --live: onto the expander of the device's SMMU"))
		return (void)printf("# %s\n", err.msg);
	want = vsmmu_xasprintf("<address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' "
			       "function='0x0'/>", l.spare_port);
	CHECK(p.port == l.spare_port && p.expander == l.expander && p.device_xml &&
	      strstr(p.device_xml, want) && strstr(p.device_xml, "<driver name='vfio'/>") &&
	      !strstr(p.device_xml, "iommufd") && strstr(p.device_xml, "managed='yes'"),
	      "its spare port, <driver name='vfio'/> (domain-wide iommufd), --managed kept");
}

static void test_config_runtime(const struct vsmmu_host *host)
{
	_cleanup_free_ char *runtime = applied(host, "topology='runtime'", "");
	_cleanup_free_ char *rout = NULL;
	_cleanup_placement_ struct vsmmu_placement q = { 0 };
	struct vsmmu_pci_addr a = addr("0009:01:00.1");
	size_t len;
	vsmmu_err err;

	if (!CHECK(vsmmu_attach_config(runtime, strlen(runtime), host, &a, false, &rout, &len, &q,
				       &err) == 0, "--config on a runtime-topology definition"))
		return (void)printf("# %s\n", err.msg);
	CHECK(hostdev_bus(rout, "0009:01:00.1") == -2 && q.port < 0 && vsmmu_streq(q.smmu, SMMU_A),
	      "runtime: no guest address and no port to name (the start routes it behind the "
	      "vSMMU for its SMMU)");
	CHECK_INT(check_problems(rout, host), 0, "check accepts the runtime definition");
}

static void test_detach(const struct vsmmu_host *host)
{
	_cleanup_free_ char *xml = applied(host, "spare-ports='1'", "");
	_cleanup_free_ char *dev = NULL, *out = NULL;
	struct vsmmu_pci_addr a = addr("0009:01:00.0"), other = addr("0009:01:00.1");
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	size_t len;
	vsmmu_err err;

	CHECK(vsmmu_detach_live(xml, strlen(xml), &a, &dev, &err) == 0 && dev &&
	      strncmp(dev, "<hostdev", 8) == 0 &&
	      strstr(dev, "<address domain=\"0x0009\" bus=\"0x01\" slot=\"0x00\" function=\"0x0\"/>"),
	      "detach --live hands libvirt the domain's own <hostdev> of that source");
	CHECK(vsmmu_detach_live(xml, strlen(xml), &other, &out, &err) < 0 &&
	      strstr(err.msg, "0009:01:00.1 is not assigned to domain 'g' (running)"),
	      "detach of a device the domain does not have: refused");
	if (!CHECK(vsmmu_detach_config(xml, strlen(xml), host, &a, &out, &len, &err) == 0,
		   "detach --config of the only hostdev"))
		return (void)printf("# %s\n", err.msg);
	dom = parsed(out);
	CHECK(dom && dom->n_hostdevs == 0 && dom->config.n_records == 0 &&
	      !strstr(out, "pcie-expander-bus"),
	      "its expander and ports serve nothing any more: gone, as apply would do");
	CHECK_INT(check_problems(out, host), 0, "check accepts it");
}

static void test_unassigned(void)
{
	static const char with[] =
		"<domain><name>x</name><devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0x0009' bus='0x01' slot='0x00' function='0x1'/></source>"
		"</hostdev></devices></domain>";
	static const char without[] = "<domain><name>x</name><devices/></domain>";
	struct vsmmu_pci_addr a = addr("0009:01:00.1");
	struct vsmmu_seen_domain other[] = { { "g", true, without, sizeof(without) - 1 },
					     { "h", false, with, sizeof(with) - 1 } };
	struct vsmmu_seen_domain self_live[] = { { "g", true, with, sizeof(with) - 1 },
						 { "g", false, without, sizeof(without) - 1 } };
	vsmmu_err err;

	CHECK(vsmmu_attach_check_unassigned(other, 2, "g", true, true, &a, &err) < 0 &&
	      strstr(err.msg, "already assigned to domain 'h' (in its definition): detach it there "
			      "first ('vsmmuctl detach h 0009:01:00.1 --config')"),
	      "a device in another domain's definition: refused, naming it");
	CHECK(vsmmu_attach_check_unassigned(self_live, 2, "g", false, true, &a, &err) == 0,
	      "--config for a device the running domain already has: allowed");
	CHECK(vsmmu_attach_check_unassigned(self_live, 2, "g", true, false, &a, &err) < 0 &&
	      strstr(err.msg, "already assigned to domain 'g' (running)"),
	      "--live for a device the running domain has: refused");
	CHECK(vsmmu_attach_check_unassigned(other, 1, "g", true, true, &a, &err) == 0,
	      "no domain has it: allowed");
}

int main(void)
{
	_cleanup_host_ struct vsmmu_host *host = host_new();

	test_device_xml();
	test_forms(host);
	test_live_lands_on_spare(host);
	test_live_native(host);
	test_live_refusals(host);
	test_config_spare(host);
	test_config_new_expander(host);
	test_config_refusals(host);
	test_config_runtime(host);
	test_config_native_replan(host);
	test_live_native_rewritten(host);
	test_detach(host);
	test_unassigned();
	return tap_done();
}
