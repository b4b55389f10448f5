/* vsmmuctl check (lib/xml/check.c): a definition against the host, with
 * what a rewrite fixes apart from what the user must. */
#include <glob.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "host.h"
#include "plandoms.h"
#include "rewrite.h"
#include "rewritediff.h"
#include "tap.h"
#include "xmlutil.h"

static bool check_of(const char *xml, const struct vsmmu_host *host, struct vsmmu_check *c)
{
	vsmmu_err err = { .msg = "" };

	if (xml && vsmmu_check_xml(xml, strlen(xml), host, c, &err) == 0)
		return true;
	printf("# check: %s\n", err.msg);
	return false;
}

static bool has_line(const struct vsmmu_strlist *p, const char *needle)
{
	for (size_t i = 0; i < p->n; i++)
		if (strstr(p->items[i], needle))
			return true;
	return false;
}

static void test_matches(const struct vsmmu_host *host)
{
	struct dom_opts o = { .config = "", .hostdevs = { "0000:01:00.0", "0009:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_free_ char *applied = rewrite_of(xml, host, &err);
	struct vsmmu_check c;

	if (!CHECK(check_of(applied, host, &c), "a rewritten definition checks"))
		return;
	CHECK(c.managed && c.problems.n == 0 && c.manual.n == 0,
	      "a rewritten definition matches the host it was written for");
	vsmmu_check_clear(&c);
	if (!CHECK(check_of(xml, host, &c), "a definition not yet rewritten checks"))
		return;
	CHECK(has_line(&c.problems, "is not on a root port of an expander for"),
	      "before the rewrite, each hostdev is reported off its expander");
	vsmmu_check_clear(&c);
}

static void test_unmanaged(const struct vsmmu_host *host)
{
	struct dom_opts o = { .hostdevs = { "0009:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	struct vsmmu_check c;

	CHECK(check_of(xml, host, &c) && !c.managed && c.problems.n == 0,
	      "an unmanaged domain is not checked");
	vsmmu_check_clear(&c);
}

static void test_host_changed(const struct vsmmu_host *before)
{
	static const struct fake_dev moved[] = {
		{ "0000:01:00.0", 0, 0 }, { "0009:01:00.0", 1, 0 },
	};
	_cleanup_host_ struct vsmmu_host *after = fake_host(grace_smmus, grace_nodes, 5, moved, 2);
	struct dom_opts o = { .config = "", .hostdevs = { "0000:01:00.0", "0009:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	vsmmu_err err;
	_cleanup_free_ char *applied = rewrite_of(xml, before, &err);
	struct vsmmu_check c;

	if (!CHECK(check_of(applied, after, &c), "a definition checks on a changed host"))
		return;
	CHECK(has_line(&c.problems, "hostdev 0009:01:00.0 is behind smmu3.0x0000000012000000 on "
		       "this host, but is routed to expander"),
	      "a hostdev whose SMMU changed is reported with the SMMU it is behind now");
	CHECK(has_line(&c.problems, "serves no hostdev any more"),
	      "the expander of the SMMU no longer used is reported");
	vsmmu_check_clear(&c);
}

static void test_unplannable(const struct vsmmu_host *host)
{
	struct dom_opts o = { .config = "", .hostdevs = { "0005:01:00.0" } };
	_cleanup_free_ char *xml = domain_xml(&o);
	struct vsmmu_check c;

	CHECK(check_of(xml, host, &c) && c.managed && c.problems.n == 0 &&
	      has_line(&c.manual, "0005:01:00.0: no such PCI device"),
	      "a definition that cannot be planned is a manual problem, not a failure");
	vsmmu_check_clear(&c);
}

/* ---- the differential test: the model comparison against the rewrite ----
 * Until the model comparison, check answered "differs from what vsmmu
 * writes" by rewriting the domain and asking whether the document changed.
 * That answer is kept here, verbatim, as the reference: every input below
 * must get the same return, lines and verdict from both. */

static int ref_expander(const struct vsmmu_domain *dom, const struct vsmmu_dom_hostdev *h)
{
	const struct vsmmu_dom_ctrl *port = h->addr.set ? vsmmu_domain_ctrl(dom, (int)h->addr.bus)
						       : NULL;
	const struct vsmmu_dom_ctrl *exp = port && port->addr.set
		? vsmmu_domain_ctrl(dom, (int)port->addr.bus) : NULL;

	return exp && vsmmu_streq(exp->model, "pcie-expander-bus") ? exp->index : -1;
}

static void ref_hostdevs(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			 struct vsmmu_check *c)
{
	for (size_t i = 0; i < plan->n_hostdevs; i++) {
		const struct vsmmu_plan_hostdev *ph = &plan->hostdevs[i];
		int exp = ref_expander(dom, &dom->hostdevs[i]);
		const char *mirrors = exp >= 0 ? vsmmu_domain_recorded_smmu(dom, exp) : NULL;

		if (!ph->moved)
			continue;
		if (mirrors && !vsmmu_streq(mirrors, ph->smmu))
			vsmmu_strlist_addf(&c->problems, "hostdev %s is behind %s on this host, but is routed to "
				    "expander pci.%d, which mirrors %s", ph->bdf, ph->smmu, exp,
				    mirrors);
		else
			vsmmu_strlist_addf(&c->problems, "hostdev %s is not on a root port of an expander for %s, the "
				    "SMMU it is behind on this host", ph->bdf, ph->smmu);
	}
}

static void ref_expanders(const struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			  struct vsmmu_check *c)
{
	for (size_t i = 0; i < plan->n_expanders; i++) {
		const struct vsmmu_plan_expander *e = &plan->expanders[i];
		const struct vsmmu_dom_ctrl *ctrl = vsmmu_domain_ctrl(dom, e->index);

		if (!ctrl || !e->has_hostdevs)
			continue;
		if (ctrl->bus_nr != e->bus_nr)
			vsmmu_strlist_addf(&c->problems, "expander pci.%d has busNr %d but needs %u buses clear of "
				    "pcie.0 and the other expanders (busNr %d)", e->index,
				    ctrl->bus_nr, e->n_buses, e->bus_nr);
		if (ctrl->numa_node != e->numa_node)
			vsmmu_strlist_addf(&c->problems, "expander pci.%d has NUMA node %d, but %s maps to guest "
				    "cell %d", e->index, ctrl->numa_node, e->smmu, e->numa_node);
	}
	for (size_t i = 0; i < plan->n_remove; i++)
		vsmmu_strlist_addf(&c->problems, "controller pci.%d serves no hostdev any more", plan->remove[i]);
}

/* Did the rewrite change the document? 1, 0, or -1 when it failed. */
static int ref_rewrite_changes(struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			       vsmmu_err *err)
{
	vsmmu_xml_clear_changed(dom->doc);
	if (vsmmu_rewrite(dom, plan, err) < 0)
		return -1;
	return vsmmu_xml_changed(dom->doc);
}

static int ref_check_plan(struct vsmmu_domain *dom, const struct vsmmu_plan *plan,
			  struct vsmmu_check *c, vsmmu_err *err)
{
	int changed;

	for (size_t i = 0; i < plan->warnings.n; i++)
		vsmmu_strlist_addf(&c->problems, "%s", plan->warnings.items[i]);
	for (size_t i = 0; i < plan->manual.n; i++)
		vsmmu_strlist_addf(&c->manual, "%s", plan->manual.items[i]);
	if (plan->topology == VSMMU_TOPO_RUNTIME)
		return 0;
	ref_hostdevs(dom, plan, c);
	ref_expanders(dom, plan, c);
	changed = ref_rewrite_changes(dom, plan, err);
	if (changed < 0)
		return -1;
	if (c->problems.n == 0 && changed)
		vsmmu_strlist_addf(&c->problems, "the definition differs from what vsmmu writes for "
				   "this host (topology, metadata or VSMMU_PLAN out of date)");
	return 0;
}

static int ref_check_xml(const char *xml, size_t len, const struct vsmmu_host *host,
			 struct vsmmu_check *out, vsmmu_err *err)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	vsmmu_err plan_err;

	memset(out, 0, sizeof(*out));
	if (vsmmu_domain_parse(xml, len, &dom, err) < 0)
		return -1;
	out->managed = vsmmu_domain_is_managed(dom);
	if (!out->managed)
		return 0;
	if (vsmmu_plan_build(dom, host, NULL, &plan, &plan_err) < 0) {
		vsmmu_strlist_addf(&out->manual, "%s", plan_err.msg);
		return 0;
	}
	if (ref_check_plan(dom, plan, out, err) < 0) {
		vsmmu_check_clear(out);
		return -1;
	}
	return 0;
}

struct diff_stats {
	size_t inputs, refused, unmanaged, clean, differs, other, mismatches;
	size_t pred_inputs, pred_changed, pred_mismatches;
};

static bool same_lines(const struct vsmmu_strlist *a, const struct vsmmu_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
}

static const char differs_line[] = "the definition differs from what vsmmu writes";

static void count_verdict(struct diff_stats *st, int rc, const struct vsmmu_check *c)
{
	if (rc < 0)
		st->refused++;
	else if (!c->managed)
		st->unmanaged++;
	else if (c->problems.n == 0 && c->manual.n == 0)
		st->clean++;
	else if (has_line(&c->problems, differs_line))
		st->differs++;
	else
		st->other++;
}

static void report_mismatch(struct diff_stats *st, const char *what, const char *xml)
{
	if (st->mismatches + st->pred_mismatches < 4)
		printf("# %s differs on:\n# %.3000s\n", what, xml);
}

/* The verdict: return, error text, managed, and every line, in order. */
static void diff_verdict(const char *xml, size_t len, const struct vsmmu_host *host,
			 struct diff_stats *st)
{
	struct vsmmu_check ref, now;
	vsmmu_err ref_err = { .msg = "" }, now_err = { .msg = "" };
	int ref_rc = ref_check_xml(xml, len, host, &ref, &ref_err);
	int now_rc = vsmmu_check_xml(xml, len, host, &now, &now_err);
	bool same = ref_rc == now_rc &&
		    (ref_rc < 0 ? strcmp(ref_err.msg, now_err.msg) == 0
				: ref.managed == now.managed &&
					  same_lines(&ref.problems, &now.problems) &&
					  same_lines(&ref.manual, &now.manual));

	st->inputs++;
	count_verdict(st, now_rc, &now);
	if (!same) {
		report_mismatch(st, "check's verdict", xml);
		st->mismatches++;
	}
	if (ref_rc == 0)
		vsmmu_check_clear(&ref);
	if (now_rc == 0)
		vsmmu_check_clear(&now);
}

/* The policies of vsmmuctl apply: none (check's), the native form, emulated
 * native, the wrapper with its path and a spare port. */
static void test_policies(struct vsmmu_policy p[4])
{
	for (size_t i = 0; i < 4; i++)
		p[i] = (struct vsmmu_policy)VSMMU_POLICY_DEFAULT;
	p[1].form = VSMMU_FORM_NATIVE;
	p[1].qemu = "/usr/bin/qemu-system-aarch64";
	p[2].mode = VSMMU_MODE_EMULATED;
	p[2].form = VSMMU_FORM_NATIVE;
	p[3].form = VSMMU_FORM_WRAPPER;
	p[3].wrapper = "/usr/libexec/vsmmu/vsmmu-qemu";
	p[3].spare_ports = 1;
}

/* Stronger than the verdict, which the specific lines can mask: for every
 * plannable persistent domain, under each policy, the model says "would
 * change" exactly when the rewrite changes the document, and fails exactly
 * when it fails. */
static void diff_predicate(const char *xml, size_t len, const struct vsmmu_host *host,
			   const struct vsmmu_policy *policy, struct diff_stats *st)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	vsmmu_err err = { .msg = "" }, ref_err = { .msg = "" };
	int model, ref;

	if (vsmmu_domain_parse(xml, len, &dom, &err) < 0 || !vsmmu_domain_is_managed(dom) ||
	    vsmmu_plan_build(dom, host, policy, &plan, &err) < 0 ||
	    plan->topology == VSMMU_TOPO_RUNTIME)
		return;
	model = vsmmu_rewrite_would_change(dom, plan, &err);
	ref = ref_rewrite_changes(dom, plan, &ref_err);
	st->pred_inputs++;
	st->pred_changed += ref == 1;
	if (model != ref || (ref < 0 && strcmp(err.msg, ref_err.msg) != 0)) {
		printf("# model says %d, rewrite %d\n", model, ref);
		report_mismatch(st, "would-change", xml);
		st->pred_mismatches++;
	}
}

/* Edits that each touch one thing a rewrite decides, applied in turn to
 * every occurrence (up to MAX_AT) in an input: a rewritten definition with
 * one detail off is the case the catch-all line exists for. */
static const char *const edits[][2] = {
	{ "function=\"0x0\"", "function=\"0\"" },
	{ "domain=\"0x0000\"", "domain=\"0\"" },
	{ "slot=\"0x00\"", "slot=\"0x0\"" },
	{ "bus=\"0x0", "bus=\"0x" },
	{ " bus=\"", " bus=\"0x0" },
	{ "busNr=\"", "data-busNr=\"" },
	{ "busNr=\"", "busNr=\"0" },
	{ "<target ", "<target data-x=\"1\" " },
	{ "<node>", "<node>0" },
	{ "<node>", "<node-x>" },
	{ "<target busNr=\"", "<target><node>0</node></target><target-x busNr=\"" },
	{ "<devices>", "<devices><controller type=\"pci\" model=\"pcie-root\"/>" },
	{ "<driver name=\"vfio\"/>", "<driver/>" },
	{ "<driver name=\"vfio\"", "<driver" },
	{ "<driver name=\"vfio\"/>", "" },
	{ "<driver name=\"vfio\"/>", "<driver name=\"vfio\" iommufd=\"yes\"/>" },
	{ "<source>", "<iommufdId>1</iommufdId><source>" },
	{ "<address type=\"pci\"", "<address type=\"drive\"" },
	{ "<iommufd enabled=\"yes\"/>", "<iommufd enabled=\"yes\" fdgroup=\"g\"/>" },
	{ "<iommufd enabled=\"yes\"/>", "<iommufd enabled=\"on\"/>" },
	{ "<iommufd enabled=\"yes\"/>", "" },
	{ "</os>", "</os><iommufd enabled=\"yes\"/>" },
	{ " mode=\"accel\"", "" },
	{ "mode=\"accel\"", "mode=\"emulated\"" },
	{ "mode=\"emulated\"", "mode=\"accel\"" },
	{ "<vsmmu:config ", "<vsmmu:config form=\"wrapper\" " },
	{ "<vsmmu:config ", "<vsmmu:config form=\"native\" " },
	{ " form=\"native\"", "" },
	{ "<vsmmu:config ", "<vsmmu:config ats=\"on\" " },
	{ "<vsmmu:config ", "<vsmmu:config topology=\"runtime\" " },
	{ "<vsmmu:config ", "<vsmmu:config spare-ports=\"1\" " },
	{ " ats=\"on\"", "" },
	{ " oas=\"48\"", " oas=\"44\"" },
	{ " root-iommu=\"smmuv3\"", "" },
	{ "<vsmmu:config ", "<vsmmu:config root-iommu=\"smmuv3\" " },
	{ "<vsmmu:expander ", "<vsmmu:expander data-x=\"1\" " },
	{ "smmu=\"smmu3.0x0000000016000000\"", "smmu=\"smmu3.0x0000100016000000\"" },
	{ "/></vsmmu:config>", "/><vsmmu:expander index=\"9\" smmu=\"s\"/></vsmmu:config>" },
	{ "name=\"VSMMU_PLAN\"", "name=\"VSMMU_PLAN2\"" },
	{ "value=\"{", "value=\" {" },
	{ "<qemu:env name=\"VSMMU_PLAN\"",
	  "<qemu:env name=\"X\" value=\"1\"/><qemu:env name=\"VSMMU_PLAN\"" },
	{ "</devices>", "</devices><qemu:commandline xmlns:qemu=\"" VSMMU_QEMU_NS_URI "\"/>" },
	{ "</devices>", "</devices><q:commandline xmlns:q=\"" VSMMU_QEMU_NS_URI "\">"
			"<q:env name=\"VSMMU_PLAN\"/></q:commandline>" },
	{ "xmlns:qemu=\"" VSMMU_QEMU_NS_URI "\"", "xmlns:qemu=\"urn:other\"" },
	{ "<domain ", "<domain xmlns:qemu=\"urn:other\" " },
	{ "<domain ", "<domain xmlns:qemu=\"urn:other\" xmlns:q=\"" VSMMU_QEMU_NS_URI "\" " },
	{ "<emulator>", "<emulator>/x" },
	{ "<emulator>", "<emulator-x>" },
	{ "<acpi/>", "" },
	{ " firmware=\"efi\"", "" },
	{ "<os>", "<os firmware=\"bios\">" },
	{ "<iommu model=\"smmuv3\">", "<iommu model=\"smmuv3\" accel=\"on\">" },
	{ "accel=\"on\"", "accel=\"yes\"" },
	{ " accel=\"on\"", "" },
	{ "pciBus=\"", "pciBus=\"0" },
	{ "<driver pciBus=\"", "<driver ats=\"on\" pciBus=\"" },
	{ " ats=\"on\"/>", "/>" },
	{ "</devices>", "<iommu model=\"smmuv3\"><driver pciBus=\"1\"/></iommu></devices>" },
	{ "</devices>", "<iommu model=\"smmuv3\"><driver pciBus=\"0\"/></iommu></devices>" },
	{ "</devices>", "<iommu model=\"smmuv3\"/></devices>" },
	{ "</devices>", "<iommu model=\"virtio\"/></devices>" },
	{ "<iommu model=\"smmuv3\"><driver",
	  "<iommu model=\"smmuv3\"/><iommu model=\"smmuv3\"><driver" },
	{ " index=\"0\"", "" },
	{ " index=\"1\"", "" },
	{ "</devices>", "<controller type=\"pci\" model=\"pcie-root-port\"/></devices>" },
	{ "<devices>", "<devices-x>" },
	{ "model=\"pcie-root-port\"", "model=\"pcie-switch-upstream-port\"" },
};
#define MAX_AT 3

/* xml with the at'th occurrence of from replaced by to, NULL when fewer. */
static char *edited(const char *xml, const char *from, const char *to, int at)
{
	const char *p = xml;

	for (int i = 0; p && (p = strstr(p, from)) && i < at; i++)
		p += strlen(from);
	if (!p)
		return NULL;
	return vsmmu_xasprintf("%.*s%s%s", (int)(p - xml), xml, to, p + strlen(from));
}

static void diff_one(const char *xml, struct vsmmu_host *const *hosts, size_t n_hosts,
		     struct diff_stats *st)
{
	struct vsmmu_policy policies[4];

	test_policies(policies);
	for (size_t h = 0; h < n_hosts; h++) {
		diff_verdict(xml, strlen(xml), hosts[h], st);
		diff_predicate(xml, strlen(xml), hosts[h], NULL, st);
	}
	for (size_t p = 1; p < VSMMU_ARRAY_LEN(policies); p++) /* apply's: on one host */
		diff_predicate(xml, strlen(xml), hosts[0], &policies[p], st);
}

/* An input, each of its edits, and each policy's rewrite of it with its
 * edits: the rewritten ones are where a single detail off matters. */
static void diff_family(const char *xml, struct vsmmu_host *const *hosts, size_t n_hosts,
			struct diff_stats *st);

/* Edits that keep part of what they match: each \1 in to is the
 * pattern's group. */
static const char *const regex_edits[][2] = {
	{ "busNr=\"([0-9]+)\"/>", "busNr=\"\\1\"><node>0</node></target>" },
	{ "<node>([0-9]+)</node>", "<node>0\\1</node>" },
	{ "bus=\"0x([0-9a-f]+)\"", "bus=\"0X\\1\"" },
	{ "(<vsmmu:expander [^>]*/>)", "\\1<vsmmu:expander index=\"9\" smmu=\"s\"/>" },
	{ "<vsmmu:expander [^>]*(/)>", "" },
	{ "<devices>.*</devices>()", "" },
	{ "<os.*</os>()", "" },
};

static char *regex_edited(const char *xml, const char *pattern, const char *to)
{
	regex_t re;
	regmatch_t m[2];
	_cleanup_free_ char *group = NULL;
	struct vsmmu_buf b = { 0 };

	if (regcomp(&re, pattern, REG_EXTENDED) != 0)
		return NULL;
	if (regexec(&re, xml, 2, m, 0) != 0) {
		regfree(&re);
		return NULL;
	}
	regfree(&re);
	group = vsmmu_xasprintf("%.*s", (int)(m[1].rm_eo - m[1].rm_so), xml + m[1].rm_so);
	vsmmu_buf_printf(&b, "%.*s", (int)m[0].rm_so, xml);
	for (const char *t = to; *t; t++)
		if (t[0] == '\\' && t[1] == '1') {
			vsmmu_buf_printf(&b, "%s", group);
			t++;
		} else {
			vsmmu_buf_printf(&b, "%c", *t);
		}
	vsmmu_buf_printf(&b, "%s", xml + m[0].rm_eo);
	return b.data;
}

static void diff_with_edits(const char *xml, struct vsmmu_host *const *hosts, size_t n_hosts,
			    struct diff_stats *st)
{
	diff_one(xml, hosts, n_hosts, st);
	for (size_t e = 0; e < VSMMU_ARRAY_LEN(regex_edits); e++) {
		_cleanup_free_ char *x = regex_edited(xml, regex_edits[e][0], regex_edits[e][1]);

		if (x)
			diff_one(x, hosts, n_hosts, st);
	}
	for (size_t e = 0; e < VSMMU_ARRAY_LEN(edits); e++)
		for (int at = 0; at < MAX_AT; at++) {
			_cleanup_free_ char *x = edited(xml, edits[e][0], edits[e][1], at);

			if (!x)
				break;
			diff_one(x, hosts, n_hosts, st);
		}
}

static void diff_family(const char *xml, struct vsmmu_host *const *hosts, size_t n_hosts,
			struct diff_stats *st)
{
	struct vsmmu_policy policies[4];

	test_policies(policies);
	diff_with_edits(xml, hosts, n_hosts, st);
	for (size_t h = 0; h < n_hosts; h++)
		for (size_t p = 0; p < VSMMU_ARRAY_LEN(policies); p++) {
			_cleanup_free_ char *out = NULL;
			size_t len;
			vsmmu_err err;

			if (vsmmu_rewrite_xml(xml, strlen(xml), hosts[h], &policies[p], &out, &len,
					      NULL, &err) == 0)
				diff_with_edits(out, hosts, n_hosts, st);
		}
}

static const char *const seeds[] = {
	"mode='accel'", "mode='emulated'", "mode='accel' ats='on' oas='48'",
	"mode='accel' form='native'", "mode='emulated' form='native'",
	"mode='accel' topology='runtime'", "mode='off'", "spare-ports='2'",
};

static void diff_seeds(struct vsmmu_host *const *hosts, size_t n_hosts, struct diff_stats *st)
{
	static const char *const iommus[] = {
		NULL, "    <iommu model='smmuv3'/>\n", "    <iommu model='nestedSmmuv3'/>\n",
		"    <iommu model='smmuv3Dev' parentIdx='1' accel='on'/>\n",
		"    <iommu model='smmuv3'><driver pciBus='1' accel='on'/></iommu>\n",
		"    <iommu model='virtio'/>\n",
	};

	for (size_t s = 0; s < VSMMU_ARRAY_LEN(seeds); s++)
		for (size_t m = 0; m < VSMMU_ARRAY_LEN(iommus); m++) {
			struct dom_opts o = { .config = seeds[s], .numa = s % 2 == 1,
					      .hostdevs = { "0000:01:00.0", "0009:01:00.0",
							    "0019:01:00.0" },
					      .iommu = iommus[m] };
			_cleanup_free_ char *xml = domain_xml(&o);

			diff_family(xml, hosts, n_hosts, st);
		}
	{
		struct dom_opts o = { .iommu = "    <iommu model='nestedSmmuv3'/>\n",
				      .hostdevs = { "0009:01:00.0" } };
		struct dom_opts none = { .config = "mode='accel'" };
		_cleanup_free_ char *xml = domain_xml(&o);
		_cleanup_free_ char *bare = domain_xml(&none);

		diff_family(xml, hosts, n_hosts, st);
		diff_family(bare, hosts, n_hosts, st);
	}
}

static void diff_files(const char *pattern, struct vsmmu_host *const *hosts, size_t n_hosts,
		       struct diff_stats *st, size_t *n_files)
{
	const char *src = getenv("VSMMU_SRCDIR") ? getenv("VSMMU_SRCDIR") : ".";
	_cleanup_free_ char *full = vsmmu_xasprintf("%s/%s", src, pattern);
	glob_t g;

	if (glob(full, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		_cleanup_free_ char *xml = NULL;
		vsmmu_err err;

		if (vsmmu_read_file(g.gl_pathv[i], 1 << 22, &xml, NULL, &err) < 0)
			continue;
		(*n_files)++;
		diff_family(xml, hosts, n_hosts, st);
	}
	globfree(&g);
}

static struct vsmmu_host *example_host(const char *name)
{
	const char *src = getenv("VSMMU_SRCDIR") ? getenv("VSMMU_SRCDIR") : ".";
	_cleanup_free_ char *root = vsmmu_xasprintf("%s/examples/hosts/%s", src, name);
	struct vsmmu_host *h = NULL;
	vsmmu_err err;

	return vsmmu_host_scan(root, &h, &err) == 0 ? h : NULL;
}

static void test_differential(struct vsmmu_host *grace_host)
{
	_cleanup_host_ struct vsmmu_host *g = example_host("grace");
	_cleanup_host_ struct vsmmu_host *k = example_host("kunpeng");
	struct vsmmu_host *hosts[3] = { grace_host, g, k };
	size_t n_hosts = g && k ? 3 : 1, n_files = 0;
	struct diff_stats st = { 0 };

	CHECK(n_hosts == 3, "the example hosts scan (examples/hosts/grace, kunpeng)");
	diff_files("tests/fixtures/*.xml", hosts, n_hosts, &st, &n_files);
	diff_files("examples/domains/*.xml", hosts, n_hosts, &st, &n_files);
	diff_files("tests/fuzz/corpus/fuzz_check/*", hosts, n_hosts, &st, &n_files);
	diff_files("tests/fuzz/regress/fuzz_check/*", hosts, n_hosts, &st, &n_files);
	CHECK(n_files >= 9, "the fixture domains are found (%zu files)", n_files);
	diff_seeds(hosts, n_hosts < 2 ? n_hosts : 2, &st); /* grace devices: not kunpeng */
	printf("# %zu inputs: %zu refused, %zu unmanaged, %zu clean, %zu differ, %zu other "
	       "problems\n", st.inputs, st.refused, st.unmanaged, st.clean, st.differs, st.other);
	printf("# would-change: %zu persistent plans, %zu changed by the rewrite\n",
	       st.pred_inputs, st.pred_changed);
	CHECK(st.mismatches == 0, "check by model comparison gives the rewrite's verdict on all "
	      "%zu inputs (%zu do not)", st.inputs, st.mismatches);
	CHECK(st.pred_mismatches == 0, "the model predicts every change a rewrite makes, on %zu "
	      "plans (%zu not)", st.pred_inputs, st.pred_mismatches);
	CHECK(st.differs > 50 && st.clean > 50 && st.refused > 0,
	      "the inputs reach both verdicts and a refusal");
}

int main(void)
{
	_cleanup_host_ struct vsmmu_host *host = grace();

	test_matches(host);
	test_unmanaged(host);
	test_host_changed(host);
	test_unplannable(host);
	test_differential(host);
	return tap_done();
}
