/* The native form (libvirt >= 11.10 per-bus <iommu>), its version gates,
 * and the forms users write: libvirt's own per-bus XML, the proposals'
 * smmuv3Dev and nestedSmmuv3, nameless <driver iommufd='yes'/>,
 * controllers without an index, domains without ACPI or UEFI. Each input
 * is the exact XML a user would hand vsmmuctl. */
#include <string.h>

#include "check.h"
#include "fakehost.h"
#include "libvirtver.h"
#include "plan.h"
#include "rewrite.h"
#include "tap.h"
#include "xmlutil.h"

#define V(a, b, c) VSMMU_LIBVIRT_VERSION(a, b, c)

static const char *const smmus[] = {
	"smmu3.0x0000000016000000", "smmu3.0x0000100016000000",
};
static const int smmu_nodes[] = { 0, 1 };
static const struct fake_dev devs[] = {
	{ "0000:06:00.0", 0, 0 }, { "0000:06:01.0", 1, 1 },
	{ "0009:01:00.0", 0, 0 }, { "0019:01:00.0", 1, 1 },
};

#define HEAD "<domain type='kvm'>\n  <name>n</name>\n"
#define OS_EFI "  <os firmware='efi'>\n    <type arch='aarch64' machine='virt'>hvm</type>\n" \
	       "  </os>\n  <features>\n    <acpi/>\n  </features>\n"
#define CONFIG(attrs) "  <metadata>\n    <vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' " \
		      attrs "/>\n  </metadata>\n"
#define HOSTDEV(d, b, s) "    <hostdev mode='subsystem' type='pci' managed='no'>\n" \
	"      <source>\n        <address domain='" d "' bus='" b "' slot='" s \
	"' function='0x0'/>\n      </source>\n    </hostdev>\n"

#define EXPANDER(idx, bus_nr, slot) \
	"    <controller type='pci' index='" idx "' model='pcie-expander-bus'>\n" \
	"      <model name='pxb-pcie'/>\n      <target busNr='" bus_nr "'/>\n" \
	"      <address type='pci' domain='0x0000' bus='0x00' slot='" slot "' function='0x0'/>\n" \
	"    </controller>\n"
#define ROOT_PORT(idx, chassis, port, bus) \
	"    <controller type='pci' index='" idx "' model='pcie-root-port'>\n" \
	"      <model name='pcie-root-port'/>\n      <target chassis='" chassis "' port='" port \
	"'/>\n      <address type='pci' domain='0x0000' bus='" bus "' slot='0x00' " \
	"function='0x0'/>\n    </controller>\n"

/* A fresh domain: two GPUs behind two SMMUs. */
static const char fresh[] = HEAD CONFIG("mode='accel' ats='on' oas='48'") OS_EFI
	"  <devices>\n    <emulator>/usr/local/libexec/vsmmu/vsmmu-qemu</emulator>\n"
	HOSTDEV("0x0009", "0x01", "0x00") HOSTDEV("0x0019", "0x01", "0x00")
	"  </devices>\n</domain>\n";

static struct vsmmu_host *host(void)
{
	return fake_host(smmus, smmu_nodes, 2, devs, VSMMU_ARRAY_LEN(devs));
}

static char *rewrite(const char *xml, const struct vsmmu_host *h, struct vsmmu_policy *policy,
		     struct vsmmu_plan **plan, vsmmu_err *err)
{
	char *out = NULL;
	size_t len;

	if (vsmmu_rewrite_xml(xml, strlen(xml), h, policy, &out, &len, plan, err) < 0)
		return NULL;
	return out;
}

static char *native(const char *xml, const struct vsmmu_host *h, vsmmu_err *err)
{
	struct vsmmu_policy policy = VSMMU_POLICY_DEFAULT;

	policy.form = VSMMU_FORM_NATIVE;
	policy.qemu = "/usr/bin/qemu-system-aarch64";
	return rewrite(xml, h, &policy, NULL, err);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static bool fits(const char *xml, const struct vsmmu_host *h)
{
	struct vsmmu_check c;
	vsmmu_err err;
	bool ok = vsmmu_check_xml(xml, strlen(xml), h, &c, &err) == 0 && c.problems.n == 0 &&
		  c.manual.n == 0;

	for (size_t i = 0; i < c.problems.n; i++)
		printf("#   problem: %s\n", c.problems.items[i]);
	vsmmu_check_clear(&c);
	return ok;
}

static void test_gates(void)
{
	char buf[32];

	CHECK(!vsmmu_libvirt_has(V(11, 9, 0), VSMMU_LV_IOMMU_PCI_BUS) &&
	      vsmmu_libvirt_has(V(11, 10, 0), VSMMU_LV_IOMMU_PCI_BUS),
	      "per-bus <iommu> from libvirt 11.10.0");
	CHECK(!vsmmu_libvirt_has(V(12, 0, 0), VSMMU_LV_HOSTDEV_IOMMUFD) &&
	      vsmmu_libvirt_has(V(12, 1, 0), VSMMU_LV_HOSTDEV_IOMMUFD),
	      "<driver iommufd='yes'/> from 12.1.0");
	CHECK(!vsmmu_libvirt_has(V(12, 1, 0), VSMMU_LV_DOMAIN_IOMMUFD) &&
	      vsmmu_libvirt_has(V(12, 2, 0), VSMMU_LV_DOMAIN_IOMMUFD),
	      "<iommufd enabled='yes'/> from 12.2.0");
	CHECK(!vsmmu_libvirt_has(V(12, 8, 0), VSMMU_LV_SMMU_ACCEL) &&
	      vsmmu_libvirt_has(V(12, 9, 0), VSMMU_LV_SMMU_ACCEL), "accel from 12.9.0");
	for (unsigned int i = 0; i < VSMMU_N_SMMU_PROPS; i++)
		CHECK(vsmmu_libvirt_has(V(12, 9, 0), vsmmu_libvirt_prop_feature(i)) &&
		      !vsmmu_libvirt_has(V(11, 10, 0), vsmmu_libvirt_prop_feature(i)) &&
		      strstr(vsmmu_libvirt_gate(vsmmu_libvirt_prop_feature(i))->what,
			     vsmmu_smmu_prop_name(i)),
		      "the %s gate names %s", vsmmu_smmu_prop_name(i), vsmmu_smmu_prop_name(i));
	CHECK_STR(vsmmu_libvirt_version_str(V(11, 10, 0), buf), "11.10.0", "version text");
}

static void test_native_output(const struct vsmmu_host *h)
{
	vsmmu_err err;
	_cleanup_free_ char *out = native(fresh, h, &err);
	_cleanup_free_ char *again = out ? rewrite(out, h, NULL, NULL, &err) : NULL;

	if (!CHECK(out, "native rewrite of a fresh domain"))
		return (void)printf("# %s\n", err.msg);
	CHECK_INT(count(out, "<iommu model=\"smmuv3\">"), 2, "one per-bus <iommu> per expander");
	CHECK(strstr(out, "<driver pciBus=\"1\" accel=\"on\" ats=\"on\" oas=\"48\"/>") &&
	      strstr(out, "<driver pciBus=\"2\" accel=\"on\" ats=\"on\" oas=\"48\"/>"),
	      "pciBus is the controller index (busNr is 252/248), with accel and the policy");
	CHECK(strstr(out, "<target busNr=\"252\"/>"), "the expander keeps our busNr");
	CHECK(strstr(out, "  <iommufd enabled=\"yes\"/>\n  <devices>"),
	      "libvirt's domain-wide iommufd, a child of <domain>");
	CHECK(!strstr(out, "qemu:") && !strstr(out, "VSMMU_PLAN"), "no <qemu:commandline>");
	CHECK(strstr(out, "<emulator>/usr/bin/qemu-system-aarch64</emulator>"),
	      "an <emulator> naming the wrapper goes back to the real QEMU");
	CHECK(strstr(out, "form=\"native\""), "the metadata records the form");
	CHECK(strstr(out, "<address type=\"pci\" domain=\"0x0000\" bus=\"0x03\""),
	      "hostdevs sit on the root ports, as in the wrapper form");
	CHECK(again && strcmp(out, again) == 0, "a plain rewrite of the output keeps the form, "
	      "byte-identical");
	CHECK(fits(out, h), "check passes on the native output");
	CHECK(!fits(fresh, h), "and fails on the input");
}

static bool has_note(const struct vsmmu_plan *p, const char *needle)
{
	for (size_t i = 0; p && i < p->notes.n; i++)
		if (strstr(p->notes.items[i], needle))
			return true;
	return false;
}

static void test_native_emulated(const struct vsmmu_host *h)
{
	static const char xml[] = HEAD CONFIG("mode='emulated' ats='on'") OS_EFI "  <devices>\n"
		HOSTDEV("0x0009", "0x01", "0x00") "  </devices>\n</domain>\n";
	vsmmu_err err;
	struct vsmmu_policy policy = VSMMU_POLICY_DEFAULT;
	struct vsmmu_plan *p = NULL;
	_cleanup_free_ char *out = NULL;

	policy.form = VSMMU_FORM_NATIVE;
	policy.libvirt = V(11, 10, 0);
	out = rewrite(xml, h, &policy, &p, &err);
	CHECK(out && strstr(out, "<driver pciBus=\"1\"/>") && !strstr(out, "accel") &&
	      !strstr(out, "<iommufd"), "emulated mode: plain per-bus vSMMU, no iommufd, and "
	      "11.10.0 is enough");
	CHECK(out && strstr(out, "mode=\"emulated\" ats=\"on\"") &&
	      has_note(p, "only with accel='on'"), "ats stays in <vsmmu:config>: libvirt takes it "
	      "only with accel, and a note says so");
	vsmmu_plan_free(p);
}

static int plan_for(const char *xml, const struct vsmmu_host *h, int form, unsigned long lv,
		    struct vsmmu_plan **plan, vsmmu_err *err)
{
	struct vsmmu_policy policy = VSMMU_POLICY_DEFAULT;
	_cleanup_free_ char *out = NULL;

	policy.form = form;
	policy.libvirt = lv;
	out = rewrite(xml, h, &policy, plan, err);
	return out ? 0 : -1;
}

static void test_version_choice(const struct vsmmu_host *h)
{
	static const char emul[] = HEAD CONFIG("mode='emulated'") OS_EFI "  <devices>\n"
		HOSTDEV("0x0009", "0x01", "0x00") "  </devices>\n</domain>\n";
	vsmmu_err err = { .msg = "" };
	struct vsmmu_plan *p = NULL;

	CHECK(plan_for(fresh, h, VSMMU_FORM_NATIVE, V(9, 0, 0), &p, &err) < 0 &&
	      strstr(err.msg, "libvirt 9.0.0 cannot hold this domain in native form") &&
	      strstr(err.msg, "needs libvirt >= 12.9.0"), "--native on 9.0 is refused, naming "
	      "the version: %s", err.msg);
	CHECK(plan_for(fresh, h, VSMMU_FORM_NATIVE, V(12, 2, 0), &p, &err) < 0 &&
	      strstr(err.msg, "accel='on'") && strstr(err.msg, ">= 12.9.0"),
	      "accel needs 12.9.0: %s", err.msg);
	CHECK(plan_for(emul, h, VSMMU_FORM_NATIVE, V(11, 9, 0), &p, &err) < 0 &&
	      strstr(err.msg, ">= 11.10.0"), "emulated needs only 11.10.0: %s", err.msg);
	CHECK(plan_for(emul, h, VSMMU_FORM_NATIVE, V(11, 10, 0), &p, &err) == 0 &&
	      p->form == VSMMU_FORM_NATIVE, "emulated on 11.10.0: native");
	vsmmu_plan_free(p);
	p = NULL;
	CHECK(plan_for(fresh, h, VSMMU_FORM_AUTO, V(9, 0, 0), &p, &err) == 0 &&
	      p->form == VSMMU_FORM_WRAPPER && has_note(p, "wrapper form: libvirt 9.0.0"),
	      "auto on 9.0: the wrapper form, and a note why");
	vsmmu_plan_free(p);
	p = NULL;
	CHECK(plan_for(fresh, h, VSMMU_FORM_AUTO, V(12, 9, 0), &p, &err) == 0 &&
	      p->form == VSMMU_FORM_NATIVE && has_note(p, "native form: libvirt 12.9.0"),
	      "auto on 12.9: the native form");
	vsmmu_plan_free(p);
	p = NULL;
	{
		static const char runtime[] = HEAD CONFIG("topology='runtime'") OS_EFI
			"  <devices>\n" HOSTDEV("0x0009", "0x01", "0x00") "  </devices>\n</domain>\n";

		CHECK(plan_for(runtime, h, VSMMU_FORM_AUTO, V(12, 9, 0), &p, &err) == 0 &&
		      p->form == VSMMU_FORM_WRAPPER, "auto keeps a runtime topology on the wrapper");
		vsmmu_plan_free(p);
		p = NULL;
		CHECK(plan_for(runtime, h, VSMMU_FORM_NATIVE, 0, &p, &err) < 0 &&
		      strstr(err.msg, "no native form"), "--native refuses a runtime topology");
		{
			struct vsmmu_policy policy = VSMMU_POLICY_DEFAULT;
			_cleanup_free_ char *out = NULL;

			policy.form = VSMMU_FORM_AUTO;
			policy.libvirt = V(12, 9, 0);
			policy.wrapper = "/usr/libexec/vsmmu/vsmmu-qemu";
			out = rewrite(runtime, h, &policy, NULL, &err);
			CHECK(out && strstr(out, "<emulator>/usr/libexec/vsmmu/vsmmu-qemu</emulator>") &&
			      !strstr(out, "pcie-expander-bus"), "apply on a runtime topology: "
			      "<emulator> is the wrapper, the definition gets no topology");
		}
	}
}

/* libvirt's tests/qemuxmlconfdata/iommu-smmuv3-pci-bus-accel.xml with our
 * metadata: the host's SMMUs match its expanders except 0000:06:01.0,
 * which it routes to pci.1 but sits behind the second SMMU here. */
static const char libvirt_accel[] =
	"<domain type='qemu'>\n  <name>guest</name>\n"
	CONFIG("") OS_EFI
	"  <devices>\n"
	"    <emulator>/usr/bin/qemu-system-aarch64</emulator>\n"
	"    <controller type='usb' model='none'/>\n"
	"    <memballoon model='none'/>\n"
	"    <controller type='pci' index='0' model='pcie-root'/>\n"
	EXPANDER("1", "252", "0x01") EXPANDER("2", "248", "0x02")
	ROOT_PORT("3", "21", "0x0", "0x01") ROOT_PORT("4", "22", "0xa8", "0x02")
	"    <hostdev mode='subsystem' type='pci' managed='no'>\n"
	"      <source>\n        <address domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>\n"
	"      </source>\n"
	"      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>\n"
	"    </hostdev>\n"
	"    <hostdev mode='subsystem' type='pci' managed='no'>\n"
	"      <source>\n        <address domain='0x0000' bus='0x06' slot='0x01' function='0x0'/>\n"
	"      </source>\n"
	"      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x1'/>\n"
	"    </hostdev>\n"
	"    <iommu model='smmuv3'>\n"
	"      <driver pciBus='1' accel='on' ats='on' ril='off' ssidsize='20' oas='44'/>\n"
	"    </iommu>\n"
	"    <iommu model='smmuv3'>\n"
	"      <driver pciBus='2' accel='on' ats='on' ril='off' ssidsize='20' oas='44'/>\n"
	"    </iommu>\n"
	"  </devices>\n</domain>\n";

static const struct vsmmu_plan_hostdev *hostdev(const struct vsmmu_plan *p, const char *bdf)
{
	for (size_t i = 0; i < p->n_hostdevs; i++)
		if (strcmp(p->hostdevs[i].bdf, bdf) == 0)
			return &p->hostdevs[i];
	return NULL;
}

static void test_adopt_per_bus(const struct vsmmu_host *h)
{
	vsmmu_err err;
	struct vsmmu_plan *p = NULL;
	_cleanup_free_ char *wrap = rewrite(libvirt_accel, h, NULL, &p, &err);
	_cleanup_free_ char *nat = native(libvirt_accel, h, &err);

	if (!CHECK(wrap && p, "libvirt's per-bus accel domain is adopted, not refused"))
		return (void)printf("# %s\n", err.msg);
	CHECK(p->n_expanders == 2 && p->expanders[0].index == 1 && p->expanders[1].index == 2 &&
	      p->expanders[0].existing && p->expanders[1].existing,
	      "each <iommu> is matched to the expander it names");
	CHECK(!hostdev(p, "0000:06:00.0")->moved && hostdev(p, "0000:06:01.0")->moved &&
	      hostdev(p, "0000:06:01.0")->expander == 2,
	      "routing repaired where the host disagrees: 06:01.0 moves to pci.2");
	CHECK(p->mode == VSMMU_MODE_ACCEL && vsmmu_streq(p->props[0], "on") &&
	      vsmmu_streq(p->props[1], "off") && vsmmu_streq(p->props[2], "20") &&
	      vsmmu_streq(p->props[3], "44"), "accel, ats, ril, ssidsize, oas kept as the policy");
	CHECK(!strstr(wrap, "<iommu") && strstr(wrap, "ats=\"on\" ril=\"off\" ssidsize=\"20\" "
						       "oas=\"44\""),
	      "wrapper form: the per-bus <iommu> go, their settings stay in <vsmmu:config>");
	CHECK(strstr(wrap, "<vsmmu:expander index=\"1\" smmu=\"smmu3.0x0000000016000000\"/>"),
	      "our metadata now records pci.1");
	CHECK(nat && count(nat, "<iommu model=\"smmuv3\">") == 2 &&
	      count(nat, "accel=\"on\" ats=\"on\" ril=\"off\" ssidsize=\"20\" oas=\"44\"/>") == 2,
	      "native form: the same two <iommu>, settings kept");
	CHECK(nat && strstr(nat, "<driver pciBus='1'") == NULL &&
	      strstr(nat, "<driver pciBus=\"1\" accel"), "rewritten in place, not duplicated");
	vsmmu_plan_free(p);
}

static void test_per_bus_disagree(const struct vsmmu_host *h)
{
	_cleanup_free_ char *xml = vsmmu_xstrdup(libvirt_accel);
	char *second = strstr(strstr(xml, "pciBus='2'"), "ats='on'");
	vsmmu_err err = { .msg = "" };
	_cleanup_free_ char *out = NULL;

	memcpy(second, "ats='of'", 8);
	out = rewrite(xml, h, NULL, NULL, &err);
	CHECK(!out && strstr(err.msg, "disagree on ats ('on' and 'of')"),
	      "<iommu> elements with different settings are refused: %s", err.msg);
}

static void test_smmuv3dev_driver(const struct vsmmu_host *h)
{
	static const char xml[] = HEAD OS_EFI "  <devices>\n"
		EXPANDER("1", "252", "0x01")
		"    <hostdev mode='subsystem' type='pci' managed='no'>\n"
		"      <source>\n        <address domain='0x0009' bus='0x01' slot='0x00' "
		"function='0x0'/>\n      </source>\n      <iommufdId>iommufd0</iommufdId>\n"
		"    </hostdev>\n"
		"    <iommu model='smmuv3Dev'><driver parentIdx='1' accel='on' ats='on' ril='on' "
		"oas='44'/></iommu>\n"
		"  </devices>\n</domain>\n";
	vsmmu_err err;
	struct vsmmu_plan *p = NULL;
	_cleanup_free_ char *out = rewrite(xml, h, NULL, &p, &err);
	_cleanup_free_ char *nat = native(xml, h, &err);

	if (!CHECK(out && p, "smmuv3Dev with its settings on <driver> converts"))
		return (void)printf("# %s\n", err.msg);
	CHECK(p->n_expanders == 1 && p->expanders[0].index == 1,
	      "the expander parentIdx names is reused, not left empty beside a new one");
	CHECK(strstr(out, "mode=\"accel\" ats=\"on\" ril=\"on\" oas=\"44\""),
	      "accel and every setting kept");
	CHECK(!strstr(out, "smmuv3Dev") && !strstr(out, "iommufdId"),
	      "smmuv3Dev and <iommufdId> dropped");
	CHECK(nat && strstr(nat, "<driver pciBus=\"1\" accel=\"on\" ats=\"on\" ril=\"on\" "
				 "oas=\"44\"/>"), "native form: the same settings on pciBus='1'");
	vsmmu_plan_free(p);
}

/* The second RFC's form: parentIdx and accel on <iommu>, one per expander. */
static void test_smmuv3dev_rfc(const struct vsmmu_host *h)
{
	static const char xml[] = HEAD OS_EFI "  <devices>\n"
		EXPANDER("1", "252", "0x01") EXPANDER("2", "248", "0x02")
		ROOT_PORT("21", "21", "0x0", "0x01") ROOT_PORT("22", "22", "0xa8", "0x02")
		"    <hostdev mode='subsystem' type='pci' managed='no'>\n"
		"      <source>\n        <address domain='0x0009' bus='0x01' slot='0x00' "
		"function='0x0'/>\n      </source>\n      <iommufdId>iommufd0</iommufdId>\n"
		"      <address type='pci' domain='0x0000' bus='0x15' slot='0x00' function='0x0'/>\n"
		"    </hostdev>\n"
		"    <hostdev mode='subsystem' type='pci' managed='no'>\n"
		"      <source>\n        <address domain='0x0019' bus='0x01' slot='0x00' "
		"function='0x0'/>\n      </source>\n      <iommufdId>iommufd0</iommufdId>\n"
		"      <address type='pci' domain='0x0000' bus='0x16' slot='0x00' function='0x0'/>\n"
		"    </hostdev>\n"
		"    <iommu model='smmuv3Dev' parentIdx='1' accel='on'/>\n"
		"    <iommu model='smmuv3Dev' parentIdx='2' accel='on'/>\n"
		"  </devices>\n</domain>\n";
	vsmmu_err err;
	struct vsmmu_plan *p = NULL;
	_cleanup_free_ char *out = rewrite(xml, h, NULL, &p, &err);

	if (!CHECK(out && p, "the RFC's smmuv3Dev parentIdx='N' accel='on' converts"))
		return (void)printf("# %s\n", err.msg);
	CHECK(p->mode == VSMMU_MODE_ACCEL && p->n_expanders == 2 && p->n_ports == 2 &&
	      !hostdev(p, "0009:01:00.0")->moved && !hostdev(p, "0019:01:00.0")->moved,
	      "both expanders, root ports and hostdev addresses kept as written");
	CHECK(!strstr(out, "iommufdId") && !strstr(out, "smmuv3Dev"), "nothing of the RFC left");
	vsmmu_plan_free(p);
}

static void test_nested(const struct vsmmu_host *h)
{
	static const char cmdqv[] = HEAD OS_EFI "  <devices>\n" HOSTDEV("0x0009", "0x01", "0x00")
		"    <iommu model='nestedSmmuv3'>\n      <cmdqv/>\n    </iommu>\n"
		"  </devices>\n</domain>\n";
	static const char lower[] = HEAD OS_EFI "  <devices>\n" HOSTDEV("0x0009", "0x01", "0x00")
		"    <iommu model='nestedsmmuv3'/>\n  </devices>\n</domain>\n";
	vsmmu_err err;
	_cleanup_free_ char *o1 = rewrite(cmdqv, h, NULL, NULL, &err);
	_cleanup_free_ char *o2 = rewrite(lower, h, NULL, NULL, &err);
	_cleanup_free_ char *n1 = native(cmdqv, h, &err);

	CHECK(o1 && strstr(o1, "mode=\"accel\" cmdqv=\"on\"") && !strstr(o1, "nestedSmmuv3"),
	      "nestedSmmuv3 with <cmdqv/>: cmdqv kept");
	CHECK(n1 && strstr(n1, "<driver pciBus=\"1\" accel=\"on\" cmdqv=\"on\"/>"),
	      "and carried onto the native <driver>");
	CHECK(o2 && strstr(o2, "mode=\"accel\"") && !strstr(o2, "nestedsmmuv3"),
	      "model='nestedsmmuv3' in lower case is the same model");
}

static void test_nameless_iommufd_driver(const struct vsmmu_host *h)
{
	static const char xml[] = HEAD CONFIG("") OS_EFI "  <devices>\n"
		"    <hostdev mode='subsystem' type='pci' managed='no'>\n"
		"      <driver iommufd='yes'/>\n"
		"      <source>\n        <address domain='0x0009' bus='0x01' slot='0x00' "
		"function='0x0'/>\n      </source>\n    </hostdev>\n  </devices>\n</domain>\n";
	vsmmu_err err;
	_cleanup_free_ char *out = rewrite(xml, h, NULL, NULL, &err);
	_cleanup_free_ char *nat = native(xml, h, &err);

	CHECK(out && strstr(out, "<driver iommufd=\"yes\" name=\"vfio\"/>"),
	      "<driver iommufd='yes'/> without a name gets name='vfio', iommufd kept");
	CHECK(nat && strstr(nat, "<driver iommufd=\"yes\" name=\"vfio\"/>"), "in both forms");
}

/* virt-install --print-xml writes PCI controllers without index=. */
static void test_unindexed(const struct vsmmu_host *h)
{
	static const char xml[] = HEAD CONFIG("") OS_EFI "  <devices>\n"
		"    <controller type=\"pci\" model=\"pcie-root\"/>\n"
		"    <controller type=\"pci\" index=\"2\" model=\"pcie-root-port\"/>\n"
		"    <controller type=\"pci\" model=\"pcie-root-port\"/>\n"
		"    <controller type=\"pci\" model=\"pcie-root-port\"/>\n"
		HOSTDEV("0x0009", "0x01", "0x00") "  </devices>\n</domain>\n";
	vsmmu_err err;
	struct vsmmu_plan *p = NULL;
	_cleanup_free_ char *out = rewrite(xml, h, NULL, &p, &err);

	if (!CHECK(out && p, "PCI controllers without an index are accepted"))
		return (void)printf("# %s\n", err.msg);
	CHECK(strstr(out, "<controller type=\"pci\" model=\"pcie-root\" index=\"0\"/>") &&
	      strstr(out, "<controller type=\"pci\" model=\"pcie-root-port\" index=\"1\"/>") &&
	      strstr(out, "<controller type=\"pci\" model=\"pcie-root-port\" index=\"3\"/>"),
	      "numbered as libvirt does: lowest free index, in document order (0, 1, 3)");
	CHECK(p->n_expanders == 1 && p->expanders[0].index == 4 && p->n_ports == 1 &&
	      p->ports[0].index == 5, "new controllers take the indexes after them");
	CHECK(fits(out, h), "check passes on the output");
	vsmmu_plan_free(p);
	{
		struct vsmmu_buf many = { 0 };
		_cleanup_free_ char *refused = NULL;

		vsmmu_buf_printf(&many, HEAD CONFIG("") OS_EFI "  <devices>\n");
		for (int i = 0; i < 257; i++)
			vsmmu_buf_printf(&many, "    <controller type='pci' model='pcie-root-port'/>\n");
		vsmmu_buf_printf(&many, "  </devices>\n</domain>\n");
		refused = rewrite(many.data, h, NULL, NULL, &err);
		CHECK(!refused && strstr(err.msg, "more than 256 PCI controllers"),
		      "257 controllers without an index cannot all be numbered: %s", err.msg);
		vsmmu_buf_free(&many);
	}
}

static bool has_line(const struct vsmmu_strlist *pr, const char *needle)
{
	for (size_t i = 0; i < pr->n; i++)
		if (strstr(pr->items[i], needle))
			return true;
	return false;
}

static void test_firmware(const struct vsmmu_host *h)
{
	static const char bare[] = HEAD CONFIG("") "  <os>\n"
		"    <type arch='aarch64' machine='virt'>hvm</type>\n  </os>\n"
		"  <devices>\n" HOSTDEV("0x0009", "0x01", "0x00") "  </devices>\n</domain>\n";
	static const char bios[] = HEAD CONFIG("") "  <os firmware='bios'>\n"
		"    <type arch='aarch64' machine='virt'>hvm</type>\n  </os>\n"
		"  <features>\n    <gic version='3'/>\n  </features>\n"
		"  <devices>\n" HOSTDEV("0x0009", "0x01", "0x00") "  </devices>\n</domain>\n";
	vsmmu_err err;
	struct vsmmu_plan *p = NULL;
	_cleanup_free_ char *out = rewrite(bare, h, NULL, &p, &err);
	_cleanup_free_ char *fixed = rewrite(bios, h, NULL, NULL, &err);
	struct vsmmu_check c;

	if (!CHECK(out && p, "a domain without ACPI and UEFI is rewritten"))
		return (void)printf("# %s\n", err.msg);
	CHECK(strstr(out, "  <os firmware=\"efi\">\n") &&
	      strstr(out, "  </os>\n  <features>\n    <acpi/>\n  </features>\n"),
	      "rewrite sets firmware='efi' and adds <features><acpi/> after <os>");
	CHECK(has_note(p, "<acpi/>") && has_note(p, "firmware='efi'"), "and says so in notes");
	CHECK(fits(out, h), "check passes once rewritten");
	vsmmu_check_xml(bare, strlen(bare), h, &c, &err);
	CHECK(has_line(&c.problems, "<acpi/>") && c.manual.n == 0,
	      "check of the input: apply can fix it, so it is a problem for apply");
	vsmmu_check_clear(&c);
	CHECK(fixed && strstr(fixed, "<gic version=\"3\"/>\n    <acpi/>\n  </features>") &&
	      strstr(fixed, "firmware=\"bios\""), "ACPI is added beside <gic>; the user's "
	      "firmware is not overridden");
	vsmmu_check_xml(fixed, strlen(fixed), h, &c, &err);
	CHECK(c.problems.n == 0 && has_line(&c.manual, "firmware='bios'"),
	      "check: firmware='bios' is for the user to fix, not apply");
	vsmmu_check_clear(&c);
	vsmmu_plan_free(p);
}

static void test_back_to_wrapper(const struct vsmmu_host *h)
{
	vsmmu_err err;
	struct vsmmu_policy policy = VSMMU_POLICY_DEFAULT;
	_cleanup_free_ char *nat = native(fresh, h, &err);
	_cleanup_free_ char *wrap = NULL, *direct = rewrite(fresh, h, NULL, NULL, &err);

	policy.form = VSMMU_FORM_WRAPPER;
	wrap = nat ? rewrite(nat, h, &policy, NULL, &err) : NULL;
	CHECK(wrap && !strstr(wrap, "<iommu") && !strstr(wrap, "<iommufd") &&
	      !strstr(wrap, "form=") && strstr(wrap, "VSMMU_PLAN"),
	      "native -> wrapper: per-bus <iommu>, our iommufd and form= go, VSMMU_PLAN back");
	CHECK(wrap && direct && count(wrap, "\n") == count(direct, "\n"),
	      "and the result has the shape of a direct wrapper rewrite");
}

int main(void)
{
	_cleanup_host_ struct vsmmu_host *h = host();

	test_gates();
	test_native_output(h);
	test_native_emulated(h);
	test_version_choice(h);
	test_adopt_per_bus(h);
	test_per_bus_disagree(h);
	test_smmuv3dev_driver(h);
	test_smmuv3dev_rfc(h);
	test_nested(h);
	test_nameless_iommufd_driver(h);
	test_unindexed(h);
	test_firmware(h);
	test_back_to_wrapper(h);
	return tap_done();
}
