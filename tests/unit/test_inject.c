/* inject: libvirt 9.0-style argv (JSON -device) and key=value argv against
 * VSMMU_PLAN and an in-memory host: every refusal, injection order and form. */
#include <stdlib.h>
#include <string.h>

#include "fakehost.h"
#include "inject.h"
#include "plan.h"
#include "problemsfix.h"
#include "qemuargs.h"
#include "tap.h"

#define SMMU0 "smmu3.0x0000000016000000"
#define SMMU1 "smmu3.0x0000100016000000"

#define HEAD "/usr/libexec/vsmmu/vsmmu-qemu", "-machine", \
	"virt-7.2,usb=off,gic-version=3,dump-guest-core=off", "-accel", "kvm"
#define PXB_J "-device", "{\"driver\":\"pxb-pcie\",\"bus_nr\":250,\"id\":\"pci.1\"," \
	"\"numa_node\":0,\"bus\":\"pcie.0\",\"addr\":\"0x1\"}"
#define RP_J "-device", "{\"driver\":\"pcie-root-port\",\"port\":0,\"chassis\":2," \
	"\"id\":\"pci.2\",\"bus\":\"pci.1\",\"addr\":\"0x0\"}"
#define VFIO_J "-device", "{\"driver\":\"vfio-pci\",\"host\":\"0009:01:00.0\"," \
	"\"id\":\"hostdev0\",\"bus\":\"pci.2\",\"addr\":\"0x0\"}"
#define NET_J "-device", "{\"driver\":\"virtio-net-pci\",\"id\":\"net0\",\"bus\":\"pci.3\"," \
	"\"addr\":\"0x0\"}"
#define RP3_J "-device", "{\"driver\":\"pcie-root-port\",\"port\":8,\"chassis\":3," \
	"\"id\":\"pci.3\",\"bus\":\"pcie.0\",\"addr\":\"0x2\"}"
#define TAIL "-msg", "timestamp=on"

#define PXB_K "-device", "pxb-pcie,bus_nr=250,id=pci.1,numa_node=0,bus=pcie.0,addr=0x1"
#define RP_K "-device", "pcie-root-port,port=0x0,chassis=2,id=pci.2,bus=pci.1,addr=0x0"
#define VFIO_K "-device", "vfio-pci,host=0009:01:00.0,id=hostdev0,bus=pci.2,addr=0x0"

#define PLAN_FMT "{\"version\":1,\"mode\":\"%s\",\"topology\":\"%s\",%s" \
	"\"expanders\":[{\"id\":\"pci.1\",\"index\":1,\"bus_nr\":250,\"slot\":1," \
	"\"smmu\":\"" SMMU0 "\",\"numa_node\":0,\"vsmmu\":{\"id\":\"vsmmu.1\"," \
	"\"accel\":true%s}}]," \
	"\"root_ports\":[{\"id\":\"pci.2\",\"bus\":\"pci.1\",\"index\":2,\"slot\":0," \
	"\"chassis\":2,\"port\":0}]," \
	"\"hostdevs\":[{\"host\":\"0009:01:00.0\",\"smmu\":\"" SMMU0 "\",\"bus\":\"pci.2\"," \
	"\"expander\":\"pci.1\"}]}"

struct result {
	int problems;       /* -1: error */
	char *text;         /* problem lines or the error */
	char *summary;
	struct vsmmu_qargs *args;
};

static void result_clear(struct result *r)
{
	free(r->text);
	free(r->summary);
	vsmmu_qargs_free(r->args);
}

static struct vsmmu_host *grace(int smmu_of_gpu0)
{
	static const char *const smmus[] = { SMMU0, SMMU1 };
	const struct fake_dev devs[] = { { "0009:01:00.0", smmu_of_gpu0, 0 },
					 { "0019:01:00.0", 1, 1 } };

	return fake_host(smmus, NULL, 2, devs, smmu_of_gpu0 == -3 ? 0 : 2);
}

static char *plan_text(const char *mode, const char *topo, const char *extra_root,
		       const char *vsmmu_props)
{
	return vsmmu_xasprintf(PLAN_FMT, mode, topo, extra_root, vsmmu_props);
}

static int argc_of(const char *const *v)
{
	int n = 0;

	while (v[n])
		n++;
	return n;
}

/* Check argv against plan on a host (GPU0 behind SMMU index gpu0_smmu),
 * and inject when nothing is wrong. */
static struct result run_host(const char *const *argv, const char *plan_json, int gpu0_smmu)
{
	_cleanup_host_ struct vsmmu_host *host = grace(gpu0_smmu);
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_strlist_ struct vsmmu_strlist out = { 0 };
	struct result r = { 0 };
	vsmmu_err err = { .msg = "" };

	if (vsmmu_plan_from_json(plan_json, &plan, &err) < 0 ||
	    vsmmu_qargs_parse(argc_of(argv), argv, &r.args, &err) < 0) {
		r.problems = -1;
		r.text = vsmmu_xstrdup(err.msg);
		return r;
	}
	r.problems = vsmmu_inject_check(r.args, plan, host, &out, &err);
	r.text = r.problems < 0 ? vsmmu_xstrdup(err.msg) : problems_join(&out);
	if (r.problems == 0 && vsmmu_inject_apply(r.args, plan, &r.summary, &err) < 0) {
		r.problems = -1;
		free(r.text);
		r.text = vsmmu_xstrdup(err.msg);
	}
	return r;
}

static struct result run(const char *const *argv, const char *plan_json)
{
	return run_host(argv, plan_json, 0);
}

static const char *value_at(struct result *r, size_t i)
{
	const char *v = NULL;
	vsmmu_err err;

	if (!r->args || vsmmu_qargs_arg_kind(vsmmu_qargs_at(r->args, i)) != VSMMU_QARGS_ARG_OPTION ||
	    vsmmu_qargs_arg_value(vsmmu_qargs_at(r->args, i), &v, &err) < 0)
		return NULL;
	return v;
}

/* Index of the first argument whose value contains needle, or -1. */
static long find_value(struct result *r, const char *needle)
{
	for (size_t i = 0; r->args && i < vsmmu_qargs_count(r->args); i++) {
		const char *v = value_at(r, i);

		if (v && strstr(v, needle))
			return (long)i;
	}
	return -1;
}

static void expect_refused(const char *const *argv, const char *plan_json, int gpu0_smmu,
			   const char *needle, const char *what)
{
	struct result r = run_host(argv, plan_json, gpu0_smmu);

	if (!CHECK(r.problems > 0 && strstr(r.text, needle), "refused: %s", what))
		printf("#   problems %d: %s#   want: %s\n", r.problems, r.text, needle);
	result_clear(&r);
}

static void test_json_accel(void)
{
	static const char *const argv[] = { HEAD, PXB_J, RP_J, RP3_J, NET_J, VFIO_J, TAIL, NULL };
	_cleanup_free_ char *plan = plan_text("accel", "persistent", "\"iommufd\":\"iommufd0\",", "");
	struct result r = run(argv, plan);

	CHECK_INT(r.problems, 0, "libvirt 9.0 JSON argv: no problems (%s)", r.text);
	CHECK_STR(value_at(&r, 3), "{\"qom-type\":\"iommufd\",\"id\":\"iommufd0\"}",
		  "iommufd object in JSON right before the expander");
	CHECK(value_at(&r, 4) && strstr(value_at(&r, 4), "pxb-pcie"), "expander follows");
	CHECK_STR(value_at(&r, 5),
		  "{\"driver\":\"arm-smmuv3\",\"primary-bus\":\"pci.1\",\"id\":\"vsmmu.1\","
		  "\"accel\":true}", "arm-smmuv3 right after its expander, JSON");
	CHECK_STR(value_at(&r, 9),
		  "{\"driver\":\"vfio-pci\",\"host\":\"0009:01:00.0\",\"id\":\"hostdev0\","
		  "\"bus\":\"pci.2\",\"addr\":\"0x0\",\"iommufd\":\"iommufd0\"}",
		  "iommufd= on the planned vfio-pci");
	CHECK_INT(find_value(&r, "\"iommufd\":\"iommufd0\"}"), 9, "iommufd= nowhere else");
	CHECK_STR(r.summary, "injected iommufd0, 1 vSMMU (vsmmu.1 on pci.1 for " SMMU0
		  "), iommufd= on 1 vfio-pci device", "summary line");
	CHECK_INT(vsmmu_qargs_count(r.args), 11, "two arguments added, nothing else");
	result_clear(&r);
}

static void test_keyval_accel_props(void)
{
	static const char *const argv[] = { HEAD, PXB_K, RP_K, VFIO_K, TAIL, NULL };
	_cleanup_free_ char *plan = plan_text("accel", "persistent", "\"iommufd\":\"iommufd0\",",
					      ",\"ats\":\"on\",\"ssidsize\":\"20\",\"oas\":\"48\"");
	struct result r = run(argv, plan);

	CHECK_INT(r.problems, 0, "key=value argv: no problems (%s)", r.text);
	CHECK_STR(vsmmu_qargs_arg_name(vsmmu_qargs_at(r.args, 3)), "-object", "-object first");
	CHECK_STR(value_at(&r, 3), "iommufd,id=iommufd0", "iommufd object in key=value form");
	CHECK_STR(value_at(&r, 5), "arm-smmuv3,primary-bus=pci.1,id=vsmmu.1,accel=on,ats=on,"
		  "ssidsize=20,oas=48", "arm-smmuv3 key=value with the plan's properties");
	CHECK_STR(value_at(&r, 7), "vfio-pci,host=0009:01:00.0,id=hostdev0,bus=pci.2,addr=0x0,"
		  "iommufd=iommufd0", "iommufd= appended in key=value form");
	result_clear(&r);
}

static void test_json_props_typed(void)
{
	static const char *const argv[] = { HEAD, PXB_J, RP_J, VFIO_J, NULL };
	_cleanup_free_ char *plan = plan_text("accel", "persistent", "",
					      ",\"ril\":\"off\",\"ssidsize\":\"20\"");
	struct result r = run(argv, plan);

	CHECK_STR(value_at(&r, 5), "{\"driver\":\"arm-smmuv3\",\"primary-bus\":\"pci.1\","
		  "\"id\":\"vsmmu.1\",\"accel\":true,\"ril\":\"off\",\"ssidsize\":20}",
		  "JSON: numbers as integers, words as strings");
	result_clear(&r);
}

static void test_emulated_root(void)
{
	static const char *const argv[] = { HEAD, RP3_J, PXB_J, RP_J, NET_J, VFIO_J, NULL };
	_cleanup_free_ char *plan = plan_text("emulated", "persistent",
					      "\"root_vsmmu\":\"vsmmu.0\",", "");
	struct result r = run(argv, plan);

	CHECK_INT(r.problems, 0, "emulated mode: emulated endpoints are fine (%s)", r.text);
	CHECK_STR(value_at(&r, 3), "{\"driver\":\"arm-smmuv3\",\"primary-bus\":\"pcie.0\","
		  "\"id\":\"vsmmu.0\"}", "root vSMMU before the first device on pcie.0");
	CHECK_STR(value_at(&r, 6), "{\"driver\":\"arm-smmuv3\",\"primary-bus\":\"pci.1\","
		  "\"id\":\"vsmmu.1\"}", "no accel in emulated mode");
	CHECK_INT(find_value(&r, "iommufd"), -1, "no iommufd in emulated mode");
	CHECK_STR(r.summary, "injected 2 vSMMUs (vsmmu.1 on pci.1 for " SMMU0
		  ", vsmmu.0 on pcie.0 (emulated))", "emulated summary");
	result_clear(&r);
}

static void test_refusals_topology(void)
{
	static const char *const no_pxb[] = { HEAD, RP_J, VFIO_J, NULL };
	static const char *const bad_nr[] = { HEAD, "-device",
		"{\"driver\":\"pxb-pcie\",\"bus_nr\":200,\"id\":\"pci.1\",\"bus\":\"pcie.0\"}",
		RP_J, VFIO_J, NULL };
	static const char *const not_pxb[] = { HEAD, "-device",
		"{\"driver\":\"pcie-root-port\",\"id\":\"pci.1\",\"bus\":\"pcie.0\"}", RP_J,
		VFIO_J, NULL };
	static const char *const no_rp[] = { HEAD, PXB_J, VFIO_J, NULL };
	static const char *const no_vfio[] = { HEAD, PXB_J, RP_J, NULL };
	static const char *const wrong_rp[] = { HEAD, PXB_J, RP_J, RP3_J, "-device",
		"{\"driver\":\"vfio-pci\",\"host\":\"0009:01:00.0\",\"id\":\"hostdev0\","
		"\"bus\":\"pci.3\"}", NULL };
	static const char *const on_pxb[] = { HEAD, PXB_J, RP_J, "-device",
		"vfio-pci,host=0009:01:00.0,id=hostdev0,bus=pci.1", NULL };
	_cleanup_free_ char *plan = plan_text("accel", "persistent", "", "");

	expect_refused(no_pxb, plan, 0, "expander pci.1 (for " SMMU0 "): no -device with id pci.1",
		       "expander missing from argv");
	expect_refused(bad_nr, plan, 0, "expander pci.1: bus_nr is 200, the plan says 250",
		       "expander bus_nr differs");
	expect_refused(not_pxb, plan, 0, "expander pci.1: is a pcie-root-port", "not a pxb-pcie");
	expect_refused(no_rp, plan, 0, "root port pci.2: no -device with id pci.2",
		       "root port missing");
	expect_refused(no_vfio, plan, 0, "hostdev 0009:01:00.0: no -device vfio-pci with host=",
		       "hostdev missing from argv");
	expect_refused(wrong_rp, plan, 0, "hostdev 0009:01:00.0: its root port pci.3 is on pcie.0",
		       "hostdev behind the wrong expander");
	expect_refused(on_pxb, plan, 0, "is on bus pci.1, which is not a pcie-root-port",
		       "hostdev directly on the expander");
}

static void test_refusals_devices(void)
{
	static const char *const endpoint[] = { HEAD, PXB_J, RP_J, VFIO_J, "-device",
		"{\"driver\":\"pcie-root-port\",\"id\":\"pci.3\",\"bus\":\"pci.1\",\"addr\":\"0x1\"}",
		NET_J, NULL };
	static const char *const stray_vfio[] = { HEAD, PXB_J, RP_J, VFIO_J, "-device",
		"pcie-root-port,id=pci.3,bus=pci.1,addr=0x1", "-device",
		"vfio-pci,host=0019:01:00.0,id=hostdev1,bus=pci.3", NULL };
	static const char *const machine[] = { "/x", "-machine", "virt,iommu=smmuv3", PXB_J, RP_J,
		VFIO_J, NULL };
	static const char *const dup_smmu[] = { HEAD, PXB_J, "-device",
		"arm-smmuv3,primary-bus=pci.1,id=mine", RP_J, VFIO_J, NULL };
	static const char *const taken_id[] = { HEAD, PXB_J, RP_J, VFIO_J, "-device",
		"virtio-rng-pci,id=vsmmu.1,bus=pcie.0", NULL };
	_cleanup_free_ char *plan = plan_text("accel", "persistent", "", "");

	expect_refused(endpoint, plan, 0, "-device virtio-net-pci (net0): emulated endpoint behind "
		       "pci.1", "emulated endpoint behind an accelerated expander");
	expect_refused(stray_vfio, plan, 0, "-device vfio-pci (hostdev1, host 0019:01:00.0): behind "
		       "pci.1 but not in the plan", "unplanned vfio-pci behind an accelerated expander");
	expect_refused(machine, plan, 0, "-machine: iommu=smmuv3", "-machine iommu=smmuv3");
	expect_refused(dup_smmu, plan, 0, "-device arm-smmuv3 on pci.1: the plan puts its own vSMMU",
		       "second vSMMU on a planned root complex");
	expect_refused(taken_id, plan, 0, "-device vsmmu.1 (virtio-rng-pci): the id",
		       "vSMMU id already taken");
}

static void test_refusals_set_global(void)
{
	static const char *const set_host[] = { HEAD, PXB_J, RP_J, VFIO_J, "-set",
		"device.hostdev0.host=0019:01:00.0", NULL };
	static const char *const set_pxb[] = { HEAD, PXB_J, RP_J, VFIO_J, "-set",
		"device.pci.1.bus_nr=3", NULL };
	static const char *const global_dot[] = { HEAD, PXB_J, RP_J, VFIO_J, "-global",
		"vfio-pci.x-no-mmap=on", NULL };
	static const char *const global_kv[] = { HEAD, PXB_J, RP_J, VFIO_J, "-global",
		"driver=arm-smmuv3,property=accel,value=off", NULL };
	static const char *const harmless[] = { HEAD, PXB_J, RP_J, VFIO_J, "-set",
		"device.net0.mac=52:54:00:00:00:01", "-global", "ICH9-LPC.disable_s3=1", NULL };
	_cleanup_free_ char *plan = plan_text("accel", "persistent", "", "");
	struct result r;

	expect_refused(set_host, plan, 0, "-set device.hostdev0.host=0019:01:00.0: changes a "
		       "vfio-pci, pxb-pcie or arm-smmuv3", "-set on a vfio-pci");
	expect_refused(set_pxb, plan, 0, "-set device.pci.1.bus_nr=3", "-set on the expander");
	expect_refused(global_dot, plan, 0, "-global vfio-pci.x-no-mmap=on: changes every vfio-pci",
		       "-global vfio-pci.prop");
	expect_refused(global_kv, plan, 0, "changes every arm-smmuv3", "-global driver=arm-smmuv3");
	r = run(harmless, plan);
	CHECK_INT(r.problems, 0, "-set/-global on other devices pass (%s)", r.text);
	result_clear(&r);
}

static void test_refusals_host(void)
{
	static const char *const ok[] = { HEAD, PXB_J, RP_J, VFIO_J, NULL };
	_cleanup_free_ char *plan = plan_text("accel", "persistent", "", "");
	struct result r;

	expect_refused(ok, plan, 1, "hostdev 0009:01:00.0: is behind " SMMU1 " on this host, the "
		       "plan says " SMMU0, "device moved to another SMMU");
	expect_refused(ok, plan, -1, "hostdev 0009:01:00.0: is not behind an SMMUv3",
		       "device lost its iommu link");
	expect_refused(ok, plan, -3, "hostdev 0009:01:00.0: not found on this host",
		       "device absent from the host");
	r = run(ok, plan);
	CHECK_INT(r.problems, 0, "the same argv on the right host passes");
	result_clear(&r);
}

static void test_several_problems(void)
{
	static const char *const argv[] = { "/x", "-machine", "virt,iommu=smmuv3", RP_J, NULL };
	_cleanup_free_ char *plan = plan_text("accel", "persistent", "", "");
	struct result r = run_host(argv, plan, 1);
	size_t lines = 0;

	for (const char *p = r.text; p && (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_INT(r.problems, 4, "every problem found, not only the first");
	CHECK_INT(lines, 4, "one line per problem");
	result_clear(&r);
}

/* libvirt >= 12.1 with its own iommufd: -object iommufd0 by fd, vfio-pci
 * with fd= and no host=, and (native per-bus <iommu>) its own arm-smmuv3.
 * Shaped after DESIGN.md's measured 12.9 argv, not taken from the stack. */
static void test_libvirt12_iommufd(void)
{
	static const char *const argv[] = { HEAD, PXB_J, RP_J, "-object",
		"{\"qom-type\":\"iommufd\",\"id\":\"iommufd0\",\"fd\":\"23\"}", "-device",
		"{\"driver\":\"vfio-pci\",\"id\":\"hostdev0\",\"iommufd\":\"iommufd0\","
		"\"fd\":\"24\",\"bus\":\"pci.2\",\"addr\":\"0x0\"}", NULL };
	static const char *const with_smmu[] = { HEAD, PXB_J, RP_J, "-device",
		"{\"driver\":\"arm-smmuv3\",\"primary-bus\":\"pci.1\",\"id\":\"iommu0\","
		"\"accel\":true}", "-object",
		"{\"qom-type\":\"iommufd\",\"id\":\"iommufd0\",\"fd\":\"23\"}", "-device",
		"{\"driver\":\"vfio-pci\",\"id\":\"hostdev0\",\"iommufd\":\"iommufd0\","
		"\"fd\":\"24\",\"bus\":\"pci.2\",\"addr\":\"0x0\"}", NULL };
	_cleanup_free_ char *plan = plan_text("accel", "persistent", "\"iommufd\":\"iommufd0\",", "");
	struct result r = run(argv, plan);

	CHECK_INT(r.problems, 0, "libvirt 12 iommufd argv: no problems (%s)", r.text);
	CHECK_INT(vsmmu_qargs_count(r.args), 8, "only the arm-smmuv3 added: no second iommufd");
	CHECK_INT(find_value(&r, "\"primary-bus\":\"pci.1\""), 4, "vSMMU right after its expander (argv index 3)");
	result_clear(&r);
	r = run(with_smmu, plan);
	CHECK_INT(r.problems, 0, "libvirt's own accel arm-smmuv3 is used (%s)", r.text);
	CHECK_INT(vsmmu_qargs_count(r.args), 8, "nothing added to libvirt's native argv");
	result_clear(&r);
}

int main(void)
{
	test_libvirt12_iommufd();
	test_json_accel();
	test_keyval_accel_props();
	test_json_props_typed();
	test_emulated_root();
	test_refusals_topology();
	test_refusals_devices();
	test_refusals_set_global();
	test_refusals_host();
	test_several_problems();
	return tap_done();
}
