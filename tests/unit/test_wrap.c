/* wrap: what vsmmu_wrap_start decides for one QEMU start, without root: the
 * probe and domains that are not ours pass, a start the hook did not see or
 * whose state is damaged is refused with what to do, a planned start is
 * checked and injected (a fake Grace sysfs from tests/fixtures/mkhost) or
 * refused with its problems. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "argvfix.h"
#include "conf.h"
#include "plan.h"
#include "qemulookup.h"
#include "shell.h"
#include "state.h"
#include "tap.h"
#include "wrap.h"

#define SMMU0 "smmu3.0x0000000016000000"
#define SMMU1 "smmu3.0x0000100016000000"
#define WRAPPER "/usr/libexec/vsmmu/vsmmu-qemu"

/* wrapper.bats's plan for the libvirt9-grace argv, GPU0 behind smmu0. */
#define PLAN_FMT "{\"version\":1,\"mode\":\"accel\",\"topology\":\"persistent\"," \
	"\"iommufd\":\"iommufd0\",\"expanders\":[" \
	"{\"id\":\"pci.1\",\"index\":1,\"bus_nr\":250,\"slot\":1,\"smmu\":\"%s\"," \
	"\"numa_node\":0,\"vsmmu\":{\"id\":\"vsmmu.1\",\"accel\":true}}," \
	"{\"id\":\"pci.3\",\"index\":3,\"bus_nr\":240,\"slot\":2,\"smmu\":\"" SMMU1 "\"," \
	"\"numa_node\":1,\"vsmmu\":{\"id\":\"vsmmu.3\",\"accel\":true}}]," \
	"\"root_ports\":[{\"id\":\"pci.2\",\"bus\":\"pci.1\",\"index\":2,\"slot\":0," \
	"\"chassis\":2,\"port\":0},{\"id\":\"pci.4\",\"bus\":\"pci.3\",\"index\":4," \
	"\"slot\":0,\"chassis\":4,\"port\":0}]," \
	"\"hostdevs\":[{\"host\":\"0009:01:00.0\",\"smmu\":\"%s\",\"bus\":\"pci.2\"," \
	"\"expander\":\"pci.1\"},{\"host\":\"0019:01:00.0\",\"smmu\":\"" SMMU1 "\"," \
	"\"bus\":\"pci.4\",\"expander\":\"pci.3\"}]}"

struct env {
	char *top;
	struct vsmmu_conf conf;
};

static void env_clear(struct env *e)
{
	if (e->top)
		shell("rm -rf '%s'", e->top);
	free(e->top);
	vsmmu_conf_clear(&e->conf);
}
#define _cleanup_env_ __attribute__((cleanup(env_clear)))
#define _cleanup_wrap_ __attribute__((cleanup(vsmmu_wrap_clear)))

/* A run dir and a Grace sysfs under a new temporary directory. */
static int env_make(struct env *e)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	*e = (struct env){ .top = vsmmu_xasprintf("%s/vsmmu-test-wrap-XXXXXX", tmp) };
	if (!mkdtemp(e->top)) {
		free(e->top);
		e->top = NULL;
		return -1;
	}
	e->conf.sysfs = vsmmu_xasprintf("%s/sys", e->top);
	e->conf.rundir = vsmmu_xasprintf("%s/run", e->top);
	e->conf.dev = vsmmu_xstrdup("/dev");
	e->conf.qemu = vsmmu_xstrdup("/usr/bin/qemu-system-aarch64");
	e->conf.log_level = VSMMU_LOG_INFO;
	e->conf.manage = VSMMU_MANAGE_MARKED;
	if (mkdir(e->conf.rundir, 0755) < 0)
		return -1;
	return shell("sh tests/fixtures/mkhost grace '%s' >/dev/null", e->conf.sysfs) == 0 ? 0 : -1;
}

static struct vsmmu_wrap_request request(int argc, char **argv, const char *plan)
{
	return (struct vsmmu_wrap_request){ .argc = argc, .argv = argv, .plan_json = plan };
}

static void test_pass(struct env *e)
{
	char *probe[] = { WRAPPER, "-S", "-no-user-config", "-machine", "none", NULL };
	char *other[] = { "/usr/bin/qemu-system-aarch64", "-name", "guest=vm0",
			  "-device", "vfio-pci,host=0009:01:00.0,id=hostdev0", NULL };
	char *plain[] = { "/usr/bin/qemu-system-aarch64", "-name", "guest=vm0", "-S", NULL };
	struct vsmmu_wrap_request req = request(5, probe, NULL);
	_cleanup_wrap_ struct vsmmu_wrap w = { 0 };

	CHECK(vsmmu_wrap_start(&e->conf, &req, &w) == 0 && w.action == VSMMU_WRAP_PASS && !w.args,
	      "libvirt's probe (no plan, no -name) passes, its argv unparsed");
	vsmmu_wrap_clear(&w);
	req = request(5, other, NULL);
	CHECK(vsmmu_wrap_start(&e->conf, &req, &w) == 0 && w.action == VSMMU_WRAP_PASS,
	      "manage = marked: a domain without state passes at the default QEMU path");
	vsmmu_wrap_clear(&w);
	e->conf.manage = VSMMU_MANAGE_HOSTDEVS;
	req = request(4, plain, NULL);
	CHECK(vsmmu_wrap_start(&e->conf, &req, &w) == 0 && w.action == VSMMU_WRAP_PASS,
	      "manage = hostdevs: a domain without a vfio-pci and without state passes");
	e->conf.manage = VSMMU_MANAGE_MARKED;
}

static void test_hook_did_not_run(struct env *e)
{
	char *own[] = { WRAPPER, "-name", "guest=vm1,debug-threads=on", "-S", NULL };
	char *other[] = { "/usr/bin/qemu-system-aarch64", "-name", "guest=vm1",
			  "-device", "vfio-pci,host=0009:01:00.0,id=hostdev0", NULL };
	struct vsmmu_wrap_request req = request(4, own, NULL);
	_cleanup_wrap_ struct vsmmu_wrap w = { 0 };
	_cleanup_free_ char *want = vsmmu_xasprintf(
		"vm1: the vsmmu hook did not run for this start (no state in %s): libvirt finds "
		"hooks when it starts, so restart libvirtd (systemctl restart libvirtd, or "
		"virtqemud) after installing vsmmu, then start the domain again", e->conf.rundir);

	CHECK(vsmmu_wrap_start(&e->conf, &req, &w) < 0 && w.action == VSMMU_WRAP_REFUSED &&
	      w.problems.n == 0, "started under its own name without state: refused");
	CHECK_STR(w.reason, want, "saying the hook did not run and to restart libvirtd");
	vsmmu_wrap_clear(&w);
	e->conf.manage = VSMMU_MANAGE_HOSTDEVS;
	req = request(5, other, NULL);
	CHECK(vsmmu_wrap_start(&e->conf, &req, &w) < 0 && vsmmu_streq(w.reason, want),
	      "manage = hostdevs: a vfio-pci start without the hook's verdict is refused alike");
	e->conf.manage = VSMMU_MANAGE_MARKED;
}

static void test_bad_plan(struct env *e)
{
	char *argv[] = { WRAPPER, "-S", NULL };
	struct vsmmu_wrap_request req = request(2, argv, "{\"version\":1");
	_cleanup_wrap_ struct vsmmu_wrap w = { 0 };
	int r = vsmmu_wrap_start(&e->conf, &req, &w);

	CHECK(r < 0 && w.action == VSMMU_WRAP_REFUSED && w.reason && w.problems.n == 0,
	      "a VSMMU_PLAN that does not parse is refused: %s", w.reason ? w.reason : "(none)");
}

static int write_state(struct env *e, const char *name, bool unmanaged, const char *plan_json)
{
	struct vsmmu_state st = { .name = (char *)name, .unmanaged = unmanaged };
	vsmmu_err err;
	int r;

	if (plan_json && vsmmu_plan_from_json(plan_json, &st.plan, &err) < 0)
		return -1;
	st.mode = plan_json ? "accel" : NULL;
	r = vsmmu_state_write(e->conf.rundir, &st, &err);
	vsmmu_plan_free(st.plan);
	return r;
}

static void test_state(struct env *e)
{
	char *argv[] = { WRAPPER, "-name", "guest=vm2", "-S", NULL };
	char *broken[] = { WRAPPER, "-name", "guest=vm3", "-S", NULL };
	struct vsmmu_wrap_request req = request(4, argv, NULL);
	_cleanup_wrap_ struct vsmmu_wrap w = { 0 };
	int r;

	CHECK(write_state(e, "vm2", true, NULL) == 0, "the hook's \"not ours\" verdict written");
	CHECK(vsmmu_wrap_start(&e->conf, &req, &w) == 0 && w.action == VSMMU_WRAP_PASS,
	      "with the hook's \"not ours\" verdict the start passes, even under its own name");
	vsmmu_wrap_clear(&w);
	shell("mkdir -p '%s/vm3' && echo '{' >'%s/vm3/state.json'", e->conf.rundir,
	      e->conf.rundir);
	req = request(4, broken, NULL);
	r = vsmmu_wrap_start(&e->conf, &req, &w);
	CHECK(r < 0 && w.reason &&
	      vsmmu_has_prefix(w.reason, "vm3: the state the vsmmu hook left for this start is "
				 "unusable (") &&
	      strstr(w.reason, "restart libvirtd after installing vsmmu"),
	      "a damaged state is refused as unusable: %s", w.reason ? w.reason : "(none)");
}

/* The libvirt9-grace fixture under plan (NULL: through the state of its
 * domain, grace-vm). */
static int start_fixture(struct env *e, const char *plan, struct vsmmu_wrap *w)
{
	_cleanup_fixture_ struct fixture f = { 0 };
	struct vsmmu_wrap_request req;

	if (fixture_load("libvirt9-grace.argv", &f) < 0)
		return -2;
	req = request(f.n, f.lines, plan);
	return vsmmu_wrap_start(&e->conf, &req, w);
}

static size_t count_smmus(const struct vsmmu_qargs *args)
{
	size_t i = 0, n = 0;
	vsmmu_err err;

	for (; vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, "arm-smmuv3", &i, &err) > 0; i++)
		n++;
	return n;
}

static void test_managed(struct env *e)
{
	_cleanup_free_ char *plan = vsmmu_xasprintf(PLAN_FMT, SMMU0, SMMU0);
	_cleanup_free_ char *wrong = vsmmu_xasprintf(PLAN_FMT, SMMU1, SMMU1);
	_cleanup_wrap_ struct vsmmu_wrap w = { 0 };
	int r = start_fixture(e, plan, &w);

	CHECK(r == 0 && w.action == VSMMU_WRAP_MANAGED && w.args, "VSMMU_PLAN that fits: managed (%s)",
	      w.reason ? w.reason : "no reason");
	CHECK(w.summary && vsmmu_has_prefix(w.summary, "injected iommufd0, 2 vSMMUs"),
	      "the log line says what was injected: %s", w.summary ? w.summary : "(none)");
	CHECK_INT(w.args ? count_smmus(w.args) : 0, 2, "one arm-smmuv3 per planned expander");
	vsmmu_wrap_clear(&w);
	r = start_fixture(e, wrong, &w);
	CHECK(r < 0 && w.action == VSMMU_WRAP_REFUSED && w.problems.n > 0 && !w.reason,
	      "a plan the host contradicts is refused with its problems, no other reason");
	CHECK(w.problems.n > 0 && strstr(w.problems.items[0], "hostdev 0009:01:00.0: is behind "
				      SMMU0 " on this host, the plan says " SMMU1),
	      "the problem names the device and the SMMU: %s",
	      w.problems.n ? w.problems.items[0] : "(none)");
	vsmmu_wrap_clear(&w);
	CHECK(write_state(e, "grace-vm", false, plan) == 0, "a state with the plan written");
	r = start_fixture(e, NULL, &w);
	CHECK(r == 0 && w.action == VSMMU_WRAP_MANAGED && w.args && count_smmus(w.args) == 2,
	      "without VSMMU_PLAN the plan in the hook's state serves (%s)",
	      w.reason ? w.reason : "no reason");
}

int main(void)
{
	_cleanup_env_ struct env e = { 0 };

	if (!CHECK(env_make(&e) == 0, "a run dir and a fake Grace sysfs"))
		return tap_done();
	test_pass(&e);
	test_hook_did_not_run(&e);
	test_bad_plan(&e);
	test_state(&e);
	test_managed(&e);
	return tap_done();
}
