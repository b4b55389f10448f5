/* Runtime topology: planning from libvirt 9.0's own live-style XML and
 * argv surgery on libvirt 9.0's own argv for it (both captured from a real
 * daemon: tests/fixtures/libvirt9-runtime.xml and argv/libvirt9-runtime.argv,
 * where libvirt put the four hostdevs on root ports pci.3-pci.6 of pcie.0). */
#include <string.h>

#include "argvfix.h"
#include "fakehost.h"
#include "inject.h"
#include "plan.h"
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

static void test_build(const struct vsmmu_plan *p, const struct vsmmu_host *host)
{
	_cleanup_fixture_ struct fixture f = { 0 };
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_buf_ struct vsmmu_buf problems = { 0 };
	_cleanup_free_ char *summary = NULL;
	vsmmu_err err = { .msg = "" };
	size_t first_vfio;

	if (fixture_load("libvirt9-runtime.argv", &f) < 0 ||
	    vsmmu_qargs_parse(f.n, (const char *const *)f.lines, &args, &err) < 0)
		return (void)CHECK(0, "fixture parses: %s", err.msg);
	CHECK_INT(vsmmu_runtime_build(args, p, &problems, &err), 0,
		  "the plan fits libvirt's argv: %s", problems.data ? problems.data : err.msg);
	first_vfio = index_of_device(args, "hostdev0");
	for (size_t i = 0; i < p->n_expanders; i++) {
		char id[16];

		snprintf(id, sizeof(id), "pci.%d", p->expanders[i].index);
		CHECK_STR(device_prop(args, id, "driver"), "pxb-pcie", "%s is a pxb-pcie", id);
		CHECK(index_of_device(args, id) < first_vfio, "%s comes before the vfio-pci devices", id);
		CHECK(vsmmu_qargs_arg_syntax(vsmmu_qargs_at(args, index_of_device(args, id))) ==
		      VSMMU_QARGS_SYNTAX_JSON, "%s is JSON like libvirt's devices", id);
	}
	for (size_t h = 0; h < p->n_hostdevs; h++) {
		const struct vsmmu_plan_hostdev *ph = &p->hostdevs[h];
		char port[16], exp[16], hostdev[32];

		snprintf(port, sizeof(port), "pci.%d", ph->port);
		snprintf(exp, sizeof(exp), "pci.%d", ph->expander);
		snprintf(hostdev, sizeof(hostdev), "hostdev%zu", h);
		CHECK_STR(device_prop(args, hostdev, "bus"), port, "%s moved onto its root port", ph->bdf);
		CHECK_STR(device_prop(args, port, "bus"), exp, "whose bus is the expander of %s",
			  ph->smmu);
	}
	for (int i = 1; i <= 7; i++) {
		char id[16];

		snprintf(id, sizeof(id), "pci.%d", i);
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
	_cleanup_buf_ struct vsmmu_buf problems = { 0 };
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
	      strstr(problems.data, "hostdev 0010:01:00.0: 0 -device vfio-pci"),
	      "a planned hostdev missing from the argv is refused");
	CHECK(strstr(problems.data, "pci.8: the runtime plan adds") != NULL,
	      "an id libvirt already uses is refused");
	CHECK_INT(index_of_device(args, "pci.9"), VSMMU_QARGS_NONE, "nothing was inserted");
}

/* Runtime build on the fixture argv: the problems, with nothing inserted. */
static void expect_refused(const struct vsmmu_plan *p, const char *needle, const char *what)
{
	_cleanup_fixture_ struct fixture f = { 0 };
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_buf_ struct vsmmu_buf problems = { 0 };
	vsmmu_err err = { .msg = "" };
	char id[16];
	int n;

	if (fixture_load("libvirt9-runtime.argv", &f) < 0 ||
	    vsmmu_qargs_parse(f.n, (const char *const *)f.lines, &args, &err) < 0)
		return (void)CHECK(0, "fixture parses");
	n = vsmmu_runtime_build(args, p, &problems, &err);

	CHECK(n >= 1 && problems.data && strstr(problems.data, needle), "%s: %.*s", what,
	      problems.data ? (int)strcspn(problems.data, "\n") : 200,
	      problems.data ? problems.data : err.msg);
	snprintf(id, sizeof(id), "pci.%d", p->expanders[0].index);
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
	}
	test_names();
	test_needs_verdict();
	return tap_done();
}
