/* Runtime topology: planning from libvirt 9.0's own live-style XML and
 * argv surgery on libvirt 9.0's own argv for it (both captured from a real
 * daemon: tests/fixtures/libvirt9-runtime.xml and argv/libvirt9-runtime.argv,
 * where libvirt put the four hostdevs on root ports pci.3-pci.6 of pcie.0). */
#include <string.h>

#include "argvfix.h"
#include "domain.h"
#include "fakehost.h"
#include "inject.h"
#include "pciaddr.h"
#include "plan.h"
#include "problemsfix.h"
#include "runtime.h"
#include "tap.h"

static const char *const smmus[] = { "smmu3.0x0000000011000000", "smmu3.0x0000000016000000",
				     "smmu3.0x0000100011000000" };
static const int nodes[] = { 0, 0, 1 };
static const struct fake_dev devs[] = {
	{ "0000:01:00.0", 0, 0 }, { "0000:01:00.1", 0, 0 }, { "0009:01:00.0", 1, 0 },
	{ "0010:01:00.0", 2, 1 },
};

static struct vsmmu_plan *runtime_plan(const struct vsmmu_host *host)
{
	_cleanup_free_ char *xml = NULL;
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	struct vsmmu_plan *plan = NULL;
	vsmmu_err err;
	size_t len;

	if (vsmmu_read_file("tests/fixtures/libvirt9-runtime.xml", 1 << 20, &xml, &len, &err) < 0 ||
	    vsmmu_domain_parse(xml, len, &dom, &err) < 0 ||
	    vsmmu_plan_build(dom, host, NULL, &plan, &err) < 0) {
		printf("# %s\n", err.msg);
		return NULL;
	}
	return plan;
}

static const char *device_prop(struct vsmmu_qargs *args, const char *id, const char *key)
{
	const char *v = NULL;
	size_t at;
	vsmmu_err err;

	if (vsmmu_qargs_find_device(args, id, &at, &err) <= 0 ||
	    vsmmu_qargs_get(vsmmu_qargs_at(args, at), key, &v, &err) <= 0)
		return NULL;
	return v;
}

static void test_plan(const struct vsmmu_plan *p)
{
	CHECK(p->topology == VSMMU_TOPO_RUNTIME, "the domain's metadata asks for runtime topology");
	CHECK_INT(p->n_expanders, 3, "three SMMUs in use: three expanders");
	CHECK_INT(p->n_ports, 4, "one root port per hostdev");
	CHECK_INT(p->expanders[0].index, 8, "new controllers take the lowest free indexes (pci.8...)");
	for (size_t i = 0; i < p->n_expanders; i++)
		CHECK(p->expanders[i].index > 7 && p->expanders[i].bus_nr > 8,
		      "pci.%d (bus_nr %d) is clear of libvirt's pci.1-pci.7 and their buses",
		      p->expanders[i].index, p->expanders[i].bus_nr);
}

static size_t index_of_device(struct vsmmu_qargs *args, const char *id)
{
	size_t at = VSMMU_QARGS_NONE;
	vsmmu_err err;

	vsmmu_qargs_find_device(args, id, &at, &err);
	return at;
}

/* Each planned hostdev's vfio-pci (libvirt's hostdevN, N its order) on
 * its root port, whose bus is the expander of its SMMU. */
static void check_routed(struct vsmmu_qargs *args, const struct vsmmu_plan *p)
{
	for (size_t h = 0; h < p->n_hostdevs; h++) {
		const struct vsmmu_plan_hostdev *ph = &p->hostdevs[h];
		char port[VSMMU_PCI_ID_LEN], exp[VSMMU_PCI_ID_LEN], hostdev[32];

		vsmmu_pci_id(ph->port, port);
		vsmmu_pci_id(ph->expander, exp);
		snprintf(hostdev, sizeof(hostdev), "hostdev%zu", h);
		CHECK_STR(ph->qemu_id, hostdev, "the plan has libvirt's id of %s", ph->bdf);
		CHECK_STR(device_prop(args, hostdev, "bus"), port, "%s moved onto its root port", ph->bdf);
		CHECK_STR(device_prop(args, port, "bus"), exp, "whose bus is the expander of %s",
			  ph->smmu);
	}
}

static void test_build(const struct vsmmu_plan *p, const struct vsmmu_host *host)
{
	_cleanup_fixture_ struct fixture f = { 0 };
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_strlist_ struct vsmmu_strlist problems = { 0 };
	_cleanup_free_ char *summary = NULL;
	vsmmu_err err = { .msg = "" };
	size_t first_vfio;

	if (fixture_load("libvirt9-runtime.argv", &f) < 0 ||
	    vsmmu_qargs_parse(f.n, (const char *const *)f.lines, &args, &err) < 0)
		return (void)CHECK(0, "fixture parses: %s", err.msg);
	CHECK_INT(vsmmu_runtime_build(args, p, &problems, &err), 0,
		  "the plan fits libvirt's argv: %s", problems_first(&problems, err.msg));
	first_vfio = index_of_device(args, "hostdev0");
	for (size_t i = 0; i < p->n_expanders; i++) {
		char id[VSMMU_PCI_ID_LEN];

		vsmmu_pci_id(p->expanders[i].index, id);
		CHECK_STR(device_prop(args, id, "driver"), "pxb-pcie", "%s is a pxb-pcie", id);
		CHECK(index_of_device(args, id) < first_vfio, "%s comes before the vfio-pci devices", id);
		CHECK(vsmmu_qargs_arg_syntax(vsmmu_qargs_at(args, index_of_device(args, id))) ==
		      VSMMU_QARGS_SYNTAX_JSON, "%s is JSON like libvirt's devices", id);
	}
	check_routed(args, p);
	for (int i = 1; i <= 7; i++) {
		char id[VSMMU_PCI_ID_LEN];

		vsmmu_pci_id(i, id);
		CHECK_STR(device_prop(args, id, "bus"), "pcie.0", "libvirt's root port %s stays", id);
	}
	CHECK_INT(vsmmu_inject_check(args, p, host, &problems, &err), 0,
		  "the built argv passes the persistent-mode checks");
	CHECK(vsmmu_inject_apply(args, p, &summary, &err) == 0 && strstr(summary, "3 vSMMUs"),
	      "and gets one vSMMU per expander: %s", summary ? summary : err.msg);
}

static void test_refusals(const struct vsmmu_plan *p)
{
	_cleanup_fixture_ struct fixture f = { 0 };
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_strlist_ struct vsmmu_strlist problems = { 0 };
	vsmmu_err err = { .msg = "" };

	if (fixture_load("libvirt9-runtime.argv", &f) < 0)
		return;
	/* Drop hostdev1 (0010:01:00.0) and rename a root port to a planned id. */
	for (int i = 0; i < f.n; i++)
		if (strstr(f.lines[i], "\"host\":\"0010:01:00.0\""))
			f.lines[i] = "{\"driver\":\"virtio-rng-pci\",\"id\":\"rng0\",\"bus\":\"pci.7\"}";
	for (int i = 0; i < f.n; i++)
		if (strstr(f.lines[i], "\"id\":\"pci.7\""))
			f.lines[i] = "{\"driver\":\"pcie-root-port\",\"port\":14,\"chassis\":7,"
				     "\"id\":\"pci.8\",\"bus\":\"pcie.0\",\"addr\":\"0x1.0x6\"}";
	if (vsmmu_qargs_parse(f.n, (const char *const *)f.lines, &args, &err) < 0)
		return (void)CHECK(0, "fixture parses");
	CHECK(vsmmu_runtime_build(args, p, &problems, &err) >= 1 &&
	      problems_has(&problems, "hostdev 0010:01:00.0: 0 -device vfio-pci"),
	      "a planned hostdev missing from the argv is refused");
	CHECK(problems_has(&problems, "pci.8: the runtime plan adds"),
	      "an id libvirt already uses is refused");
	CHECK_INT(index_of_device(args, "pci.9"), VSMMU_QARGS_NONE, "nothing was inserted");
}

/* Runtime build on the fixture argv: the problems, with nothing inserted. */
static void expect_refused(const struct vsmmu_plan *p, const char *needle, const char *what)
{
	_cleanup_fixture_ struct fixture f = { 0 };
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_strlist_ struct vsmmu_strlist problems = { 0 };
	vsmmu_err err = { .msg = "" };
	char id[VSMMU_PCI_ID_LEN];
	int n;

	if (fixture_load("libvirt9-runtime.argv", &f) < 0 ||
	    vsmmu_qargs_parse(f.n, (const char *const *)f.lines, &args, &err) < 0)
		return (void)CHECK(0, "fixture parses");
	n = vsmmu_runtime_build(args, p, &problems, &err);

	CHECK(n >= 1 && problems_has(&problems, needle), "%s: %s", what,
	      problems_first(&problems, err.msg));
	vsmmu_pci_id(p->expanders[0].index, id);
	CHECK_INT(index_of_device(args, id), VSMMU_QARGS_NONE, "%s: nothing was inserted", what);
}

/* A plan from a damaged state: refused before anything is built. */
static void test_damaged_plan(struct vsmmu_plan *p)
{
	int expander = p->ports[0].expander, port = p->hostdevs[0].port;
	int index = p->ports[1].index;
	struct vsmmu_pci_addr host;
	char needle[128];

	p->ports[0].expander = 54;
	snprintf(needle, sizeof(needle), "root port pci.%d: the runtime plan puts it on pci.54, "
		 "which it does not build", p->ports[0].index);
	expect_refused(p, needle, "a root port on an expander the plan does not build");
	p->ports[0].expander = expander;
	p->hostdevs[0].port = 54;
	snprintf(needle, sizeof(needle), "hostdev %s: the runtime plan puts it on pci.54",
		 p->hostdevs[0].bdf);
	expect_refused(p, needle, "a hostdev on a root port the plan does not build");
	p->hostdevs[0].port = port;
	p->ports[1].index = p->expanders[0].index;
	snprintf(needle, sizeof(needle), "pci.%d: the runtime plan adds two controllers",
		 p->expanders[0].index);
	expect_refused(p, needle, "one controller index twice in the plan");
	p->ports[1].index = index;
	host = p->hostdevs[1].host;
	p->hostdevs[1].host = p->hostdevs[0].host;
	snprintf(needle, sizeof(needle), "the runtime plan routes it twice");
	expect_refused(p, needle, "one hostdev twice in the plan");
	p->hostdevs[1].host = host;
}

/* libvirt's ids, as qemuAssignDeviceAliases gives them: hostdevN over
 * <interface type='hostdev'> first, then every <hostdev> of any type, in
 * order, after the highest hostdevN alias; an <alias> is kept. */
static void test_hostdev_ids(void)
{
	static const char xml[] =
		"<domain type='kvm'><name>ids</name><devices>"
		"<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/>"
		"<product id='0x2'/></source></hostdev>"
		"<hostdev mode='subsystem' type='pci'><source><address domain='0x0009' bus='0x01' "
		"slot='0x00' function='0x0'/></source></hostdev>"
		"<hostdev mode='subsystem' type='pci'><alias name='ua-gpu'/><source><address "
		"domain='0x0019' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
		"<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x01' "
		"slot='0x00' function='0x0'/></source></hostdev>"
		"<interface type='hostdev'><source><address type='pci' domain='0x0000' "
		"bus='0x02' slot='0x00' function='0x0'/></source></interface>"
		"</devices></domain>";
	static const char live[] =
		"<domain type='kvm'><name>ids</name><devices>"
		"<hostdev mode='subsystem' type='pci'><source><address domain='0x0009' bus='0x01' "
		"slot='0x00' function='0x0'/></source></hostdev>"
		"<hostdev mode='subsystem' type='pci'><alias name='hostdev4'/><source><address "
		"domain='0x0019' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
		"</devices></domain>";
	_cleanup_domain_ struct vsmmu_domain *dom = NULL, *dom2 = NULL;
	vsmmu_err err = { .msg = "" };

	if (!CHECK(vsmmu_domain_parse(xml, sizeof(xml) - 1, &dom, &err) == 0 && dom->n_hostdevs == 3,
		   "a domain with USB, PCI and network hostdevs parses: %s", err.msg))
		return;
	CHECK_STR(dom->hostdevs[0].qemu_id, "hostdev2",
		  "the interface takes hostdev0, the USB hostdev hostdev1, the first PCI one hostdev2");
	CHECK_STR(dom->hostdevs[1].qemu_id, "ua-gpu", "a user alias is the id");
	CHECK_STR(dom->hostdevs[2].qemu_id, "hostdev3", "an aliased hostdev takes no number");
	if (!CHECK(vsmmu_domain_parse(live, sizeof(live) - 1, &dom2, &err) == 0, "parses: %s",
		   err.msg))
		return;
	CHECK_STR(dom2->hostdevs[0].qemu_id, "hostdev5", "numbers go on after the highest hostdevN");
	CHECK_STR(dom2->hostdevs[1].qemu_id, "hostdev4", "and a hostdevN alias is kept");
}

/* The fixture argv as libvirt >= 12.1 writes it with its own iommufd:
 * -object iommufd before the first vfio-pci, every vfio-pci by fd= with
 * iommufd= and no host=. ids[i], when set, replaces hostdev<i>'s id. */
struct owned_argv {
	struct fixture f;
	char **lines;
	char *own[16];
	size_t n_own;
	int n;
};

static void owned_argv_free(struct owned_argv *a)
{
	for (size_t i = 0; i < a->n_own; i++)
		free(a->own[i]);
	free(a->lines);
	fixture_free(&a->f);
}
#define _cleanup_owned_argv_ __attribute__((cleanup(owned_argv_free)))

static int libvirt12_argv(struct owned_argv *a, const char *const ids[4])
{
	size_t cap = 0;

	if (fixture_load("libvirt9-runtime.argv", &a->f) < 0)
		return -1;
	for (int i = 0; i < a->f.n; i++) {
		char id[32], bus[16];
		const char *line = a->f.lines[i];
		int k;

		if (sscanf(line, "{\"driver\":\"vfio-pci\",\"host\":\"%*[^\"]\",\"id\":\"hostdev%d\","
				 "\"bus\":\"%15[^\"]\"", &k, bus) == 2 && k >= 0 && k < 4) {
			if (k == 0) {
				vsmmu_grow(&a->lines, &cap, (size_t)a->n + 2, sizeof(*a->lines));
				a->lines[a->n - 1] = "-object"; /* over its -device */
				a->lines[a->n++] = "{\"qom-type\":\"iommufd\",\"id\":\"iommufd0\",\"fd\":\"40\"}";
				a->lines[a->n++] = "-device";
			}
			snprintf(id, sizeof(id), "%s", ids && ids[k] ? ids[k] : "");
			if (!*id)
				snprintf(id, sizeof(id), "hostdev%d", k);
			line = a->own[a->n_own++] = vsmmu_xasprintf(
				"{\"driver\":\"vfio-pci\",\"id\":\"%s\",\"iommufd\":\"iommufd0\","
				"\"fd\":\"%d\",\"bus\":\"%s\",\"addr\":\"0x0\"}", id, 41 + k, bus);
		}
		vsmmu_grow(&a->lines, &cap, (size_t)a->n + 2, sizeof(*a->lines));
		a->lines[a->n++] = (char *)line;
	}
	a->lines[a->n] = NULL;
	return 0;
}

static size_t count_args(struct vsmmu_qargs *args, const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < vsmmu_qargs_count(args); i++) {
		const char *v = NULL;
		vsmmu_err err;

		if (vsmmu_qargs_arg_value(vsmmu_qargs_at(args, i), &v, &err) == 0)
			for (const char *s = v; (s = strstr(s, needle)); s++)
				n++;
	}
	return n;
}

/* The runtime topology on libvirt 12's argv with its own iommufd: each
 * vfio-pci found by its id, moved behind its expander, on libvirt's
 * iommufd object, which stays the only one. */
static void test_libvirt12(const struct vsmmu_plan *p, const struct vsmmu_host *host)
{
	_cleanup_owned_argv_ struct owned_argv a = { 0 };
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_strlist_ struct vsmmu_strlist problems = { 0 };
	_cleanup_free_ char *summary = NULL;
	vsmmu_err err = { .msg = "" };

	if (libvirt12_argv(&a, NULL) < 0 ||
	    vsmmu_qargs_parse(a.n, (const char *const *)a.lines, &args, &err) < 0)
		return (void)CHECK(0, "libvirt 12 argv parses: %s", err.msg);
	CHECK_INT(vsmmu_runtime_build(args, p, &problems, &err), 0,
		  "libvirt 12's argv: the plan finds every vfio-pci by its id: %s",
		  problems_first(&problems, err.msg));
	check_routed(args, p);
	for (size_t h = 0; h < p->n_hostdevs; h++)
		CHECK(device_prop(args, p->hostdevs[h].qemu_id, "fd") != NULL &&
		      device_prop(args, p->hostdevs[h].qemu_id, "host") == NULL,
		      "%s keeps libvirt's fd and gets no host=", p->hostdevs[h].bdf);
	CHECK_INT(vsmmu_inject_check(args, p, host, &problems, &err), 0,
		  "the built argv passes the wrapper's checks: %s",
		  problems_first(&problems, err.msg));
	CHECK(vsmmu_inject_apply(args, p, &summary, &err) == 0 && strstr(summary, "3 vSMMUs"),
	      "and gets one vSMMU per expander: %s", summary ? summary : err.msg);
	CHECK_INT(count_args(args, "\"qom-type\":\"iommufd\""), 1,
		  "libvirt's iommufd object stays the only one");
	CHECK_INT(count_args(args, "\"iommufd\":\"iommufd0\""), 4,
		  "every vfio-pci on it, once");
	CHECK_INT(count_args(args, "\"driver\":\"arm-smmuv3\""), 3, "one arm-smmuv3 per expander");
}

/* A ua- alias is the id; a vfio-pci whose id the plan does not know is
 * not taken for a planned hostdev. */
static void test_libvirt12_ids(struct vsmmu_plan *p)
{
	static const char *const ua[4] = { "ua-gpu0", NULL, NULL, NULL };
	static const char *const wrong[4] = { NULL, "hostdev7", NULL, NULL };
	char *was = p->hostdevs[0].qemu_id;

	p->hostdevs[0].qemu_id = "ua-gpu0";
	{
		_cleanup_owned_argv_ struct owned_argv a = { 0 };
		_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
		_cleanup_strlist_ struct vsmmu_strlist problems = { 0 };
		vsmmu_err err = { .msg = "" };

		if (libvirt12_argv(&a, ua) == 0 &&
		    vsmmu_qargs_parse(a.n, (const char *const *)a.lines, &args, &err) == 0)
			CHECK(vsmmu_runtime_build(args, p, &problems, &err) == 0 &&
			      device_prop(args, "ua-gpu0", "bus") &&
			      strcmp(device_prop(args, "ua-gpu0", "bus"), "pci.3") != 0,
			      "a hostdev with a ua- alias is found by it and moved: %s",
			      problems_first(&problems, err.msg));
	}
	p->hostdevs[0].qemu_id = was;
	{
		_cleanup_owned_argv_ struct owned_argv a = { 0 };
		_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
		_cleanup_strlist_ struct vsmmu_strlist problems = { 0 };
		vsmmu_err err = { .msg = "" };

		if (libvirt12_argv(&a, wrong) == 0 &&
		    vsmmu_qargs_parse(a.n, (const char *const *)a.lines, &args, &err) == 0)
			CHECK(vsmmu_runtime_build(args, p, &problems, &err) >= 1 &&
			      problems_has(&problems, "hostdev 0010:01:00.0: 0 -device vfio-pci "
					   "with host=0010:01:00.0 or, without host=, id=hostdev1"),
			      "a vfio-pci without host= under an id the plan does not give is "
			      "refused: %s", problems_first(&problems, err.msg));
	}
}

/* The runtime plan carries the ids through state.json / VSMMU_PLAN; a
 * persistent plan does not (it outlives the definition it came from). */
static void test_ids_json(struct vsmmu_plan *p)
{
	_cleanup_free_ char *json = vsmmu_plan_to_json(p);
	_cleanup_plan_ struct vsmmu_plan *back = NULL;
	_cleanup_free_ char *persistent = NULL;
	vsmmu_err err = { .msg = "" };

	if (CHECK(vsmmu_plan_from_json(json, &back, &err) == 0, "round trip: %s", err.msg))
		CHECK_STR(back->hostdevs[3].qemu_id, "hostdev3", "the runtime plan keeps the ids");
	p->topology = VSMMU_TOPO_PERSISTENT;
	persistent = vsmmu_plan_to_json(p);
	p->topology = VSMMU_TOPO_RUNTIME;
	CHECK(strstr(persistent, "\"id\":\"hostdev") == NULL, "a persistent plan has none");
}

static void test_names(void)
{
	char *a[] = { "qemu", "-name", "guest=a,,b,debug-threads=on", NULL };
	char *b[] = { "qemu", "-S", "-name", "plain", NULL };
	char *c[] = { "qemu", "-S", "-no-user-config", NULL };
	_cleanup_free_ char *na = vsmmu_runtime_domain_name(3, a);
	_cleanup_free_ char *nb = vsmmu_runtime_domain_name(4, b);
	_cleanup_free_ char *nc = vsmmu_runtime_domain_name(3, c);

	CHECK_STR(na, "a,b", "-name guest=: libvirt's ,, escape undone");
	CHECK_STR(nb, "plain", "-name NAME");
	CHECK(nc == NULL, "the probe argv has no name");
}

static void test_needs_verdict(void)
{
	char *hostdev[] = { "/usr/bin/qemu-system-aarch64", "-name", "guest=nova-1",
			    "-device", "{\"driver\":\"vfio-pci\",\"host\":\"0009:01:00.0\",\"id\":\"hostdev0\"}",
			    NULL };
	char *plain[] = { "/usr/bin/qemu-system-aarch64", "-name", "guest=plain", "-device",
			  "virtio-blk-pci,id=virtio-disk0", NULL };
	vsmmu_err err;

	CHECK_INT(vsmmu_runtime_needs_verdict(VSMMU_MANAGE_HOSTDEVS, 5, hostdev, &err), 1,
		  "manage = hostdevs: a start with a vfio-pci needs the hook's verdict");
	CHECK_INT(vsmmu_runtime_needs_verdict(VSMMU_MANAGE_HOSTDEVS, 5, plain, &err), 0,
		  "manage = hostdevs: a start without one does not");
	CHECK_INT(vsmmu_runtime_needs_verdict(VSMMU_MANAGE_MARKED, 5, hostdev, &err), 0,
		  "manage = marked: a domain without state is not ours");
}

int main(void)
{
	_cleanup_host_ struct vsmmu_host *host = fake_host(smmus, nodes, 3, devs, 4);
	_cleanup_plan_ struct vsmmu_plan *plan = runtime_plan(host);

	if (CHECK(plan, "the runtime domain plans on the host")) {
		test_plan(plan);
		test_build(plan, host);
		test_refusals(plan);
		test_damaged_plan(plan);
		test_libvirt12(plan, host);
		test_libvirt12_ids(plan);
		test_ids_json(plan);
	}
	test_hostdev_ids();
	test_names();
	test_needs_verdict();
	return tap_done();
}
