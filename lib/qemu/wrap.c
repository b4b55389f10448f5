/* wrap: see wrap.h. */
#include "wrap.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"
#include "inject.h"
#include "plan.h"
#include "qemucaps.h"
#include "runtime.h"
#include "state.h"

static bool is_self(const char *qemu)
{
	struct stat self;
	char real[PATH_MAX];
	const char *base;

	if (stat("/proc/self/exe", &self) == 0)
		return vsmmu_same_file("/proc/self/exe", qemu);
	if (!realpath(qemu, real))
		return false;
	base = strrchr(real, '/');
	return strcmp(base ? base + 1 : real, VSMMU_WRAPPER_NAME) == 0;
}

int vsmmu_wrap_check_qemu(const char *qemu, vsmmu_err *err)
{
	if (is_self(qemu))
		return vsmmu_fail(err, "%s is this wrapper, not QEMU; set 'qemu =' in vsmmu.conf "
				  "or VSMMU_QEMU to the real QEMU", qemu);
	return 0;
}

void vsmmu_wrap_clear(struct vsmmu_wrap *w)
{
	vsmmu_qargs_free(w->args);
	free(w->summary);
	vsmmu_strlist_clear(&w->problems);
	free(w->reason);
	*w = (struct vsmmu_wrap){ 0 };
}

/* Refuse with reason; -1. */
static int refuse(struct vsmmu_wrap *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int refuse(struct vsmmu_wrap *out, const char *fmt, ...)
{
	struct vsmmu_buf reason = { 0 };
	va_list ap;

	va_start(ap, fmt);
	vsmmu_buf_vprintf(&reason, fmt, ap);
	va_end(ap);
	out->action = VSMMU_WRAP_REFUSED;
	free(out->reason);
	out->reason = reason.data;
	return -1;
}

/* ---- A managed start: check, inject ---- */

static int scan_planned(const struct vsmmu_conf *conf, const struct vsmmu_plan *plan,
			struct vsmmu_host **host, vsmmu_err *err)
{
	_cleanup_free_ struct vsmmu_pci_addr *only =
		vsmmu_xcalloc(plan->n_hostdevs + 1, sizeof(*only));

	for (size_t i = 0; i < plan->n_hostdevs; i++)
		only[i] = plan->hostdevs[i].host;
	return vsmmu_host_scan_some(conf->sysfs, only, plan->n_hostdevs, host, err);
}

static int check_caps(const struct vsmmu_conf *conf, const struct vsmmu_plan *plan,
		      vsmmu_err *err)
{
	struct vsmmu_qemucaps caps = { 0 };
	struct vsmmu_qemu_need need;

	vsmmu_qemucaps_need(plan, &need);
	/* The hook filled the cache at prepare; it is stale only when QEMU
	 * changed since (an upgrade between prepare and this exec) or the hook
	 * could not write it. Probing then, rather than refusing, gives the
	 * same answer at the cost of two short QEMU runs, and a start never
	 * fails over a cache. The wrapper writes nothing: it cannot (root's run
	 * dir), and a confined QEMU must not try. */
	if (vsmmu_qemucaps_get(conf->rundir, conf->qemu, &caps, err) < 0)
		return -1;
	return vsmmu_qemucaps_check(conf->qemu, &caps, &need, err);
}

/* A problem quoting argv text may hold a newline: each line is shown (and
 * counted) as a problem of its own, as libvirt shows them. */
static void add_problem_lines(struct vsmmu_strlist *out, const struct vsmmu_strlist *found)
{
	for (size_t i = 0; i < found->n; i++)
		vsmmu_strlist_add_lines(out, found->items[i]);
}

/* Build (runtime topology), check and inject into out->args: 0, or 1 when
 * the checks found problems (in out->problems), or -1 on an error. */
static int check_and_inject(const struct vsmmu_conf *conf, const struct vsmmu_plan *plan,
			    bool caps, struct vsmmu_wrap *out, vsmmu_err *err)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	struct vsmmu_strlist found = { 0 };
	int n;

	if (scan_planned(conf, plan, &host, err) < 0)
		return -1;
	n = vsmmu_runtime_build(out->args, plan, &found, err);
	if (n == 0)
		n = vsmmu_inject_check(out->args, plan, host, &found, err);
	add_problem_lines(&out->problems, &found);
	vsmmu_strlist_clear(&found);
	if (n != 0)
		return n < 0 ? -1 : 1;
	if (vsmmu_inject_apply(out->args, plan, &out->summary, err) < 0)
		return -1;
	return caps ? check_caps(conf, plan, err) : 0;
}

static int managed(const struct vsmmu_conf *conf, const struct vsmmu_wrap_request *req,
		   const struct vsmmu_plan *plan, struct vsmmu_wrap *out)
{
	vsmmu_err err = { .msg = "" };
	int r;

	if (vsmmu_qargs_parse(req->argc, (const char *const *)req->argv, &out->args, &err) < 0)
		return refuse(out, "%s", err.msg);
	r = check_and_inject(conf, plan, req->check_caps, out, &err);
	if (r < 0)
		return refuse(out, "%s", err.msg);
	if (r > 0) {
		out->action = VSMMU_WRAP_REFUSED;
		return -1;
	}
	out->action = VSMMU_WRAP_MANAGED;
	return 0;
}

/* ---- Whose start it is ---- */

/* Started under its own name, as a domain's <emulator>: the hook refuses
 * such a domain at prepare unless it manages it, so every start of one
 * has the state the hook wrote at start begin. Under another name (the
 * wrapper installed as the default QEMU) it also runs domains that are
 * not ours. */
static bool run_as_emulator(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return strcmp(slash ? slash + 1 : argv0, VSMMU_WRAPPER_NAME) == 0;
}

static int refuse_state(struct vsmmu_wrap *out, const char *name, const vsmmu_err *why)
{
	if (why->kind == VSMMU_ERR_IO)
		return refuse(out, "%s: cannot read the state the vsmmu hook left for this start "
			      "(%s); the QEMU user must be able to read it: restart libvirtd so "
			      "that the installed hook (which writes it so) runs, and on a confined "
			      "host install vsmmu's AppArmor rules (INSTALL, 'Confined hosts'), then "
			      "start the domain again", name, why->msg);
	return refuse(out, "%s: the state the vsmmu hook left for this start is unusable (%s): "
		      "it is damaged or from another vsmmu version; restart libvirtd after "
		      "installing vsmmu, then start the domain again", name, why->msg);
}

static int hook_did_not_run(struct vsmmu_wrap *out, const struct vsmmu_conf *conf,
			    const char *name)
{
	return refuse(out, "%s: the vsmmu hook did not run for this start (no state in %s): "
		      "libvirt finds hooks when it starts, so restart libvirtd (systemctl restart "
		      "libvirtd, or virtqemud) after installing vsmmu, then start the domain "
		      "again", name, conf->rundir);
}

/* The hook's word on the start of domain name: 1 and *plan (ours), 0 (not
 * ours: pass it through), or -1 refused. */
static int hook_verdict(const struct vsmmu_conf *conf, const struct vsmmu_wrap_request *req,
			const char *name, struct vsmmu_plan **plan, struct vsmmu_wrap *out)
{
	_cleanup_state_ struct vsmmu_state *st = NULL;
	vsmmu_err why;
	int needed;

	if (vsmmu_state_read(conf->rundir, name, &st, &why) < 0)
		return refuse_state(out, name, &why);
	if (st && st->unmanaged)
		return 0;
	if (st && !st->plan) {
		vsmmu_fail(&why, "it holds no plan");
		return refuse_state(out, name, &why);
	}
	if (st) {
		*plan = VSMMU_STEAL(st->plan);
		return 1;
	}
	if (run_as_emulator(req->argv[0]))
		return hook_did_not_run(out, conf, name);
	needed = vsmmu_runtime_needs_verdict(conf->manage, req->argc, req->argv, &why);
	if (needed < 0)
		return refuse(out, "%s: %s", name, why.msg);
	return needed ? hook_did_not_run(out, conf, name) : 0;
}

/* The plan of this start: VSMMU_PLAN (persistent topology: libvirt passes
 * it from the definition), else the one the hook left in the run dir for
 * the domain named by "-name guest=NAME" (runtime topology). Without
 * either: libvirt's probe (no -name), or a domain that is not ours, both
 * passed through. */
int vsmmu_wrap_start(const struct vsmmu_conf *conf, const struct vsmmu_wrap_request *req,
		     struct vsmmu_wrap *out)
{
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_free_ char *name = NULL;
	vsmmu_err err;
	int r = 0;

	*out = (struct vsmmu_wrap){ .action = VSMMU_WRAP_PASS };
	if (req->argc < 1)
		return refuse(out, "no argv[0]");
	if (req->plan_json && vsmmu_plan_from_json(req->plan_json, &plan, &err) < 0)
		return refuse(out, "%s", err.msg);
	name = vsmmu_runtime_domain_name(req->argc, req->argv);
	if (!plan && name)
		r = hook_verdict(conf, req, name, &plan, out);
	if (r < 0)
		return -1;
	return plan ? managed(conf, req, plan, out) : 0;
}
