/* vsmmu-qemu: the <emulator> of a managed domain. Without VSMMU_PLAN in the
 * environment it execs the real QEMU with the argv and environment as they
 * are (libvirt's capability probe, unmanaged domains). With VSMMU_PLAN it
 * checks the argv against the plan and the live host, injects the iommufd
 * object and the vSMMUs (lib/qemu/inject.c), checks the QEMU binary can run the
 * result (lib/qemu/qemucaps.c), logs one line to stderr (log_level info, the
 * default; debug adds the final argv) and execs QEMU.
 *
 * A runtime-topology domain (topology='runtime') has no VSMMU_PLAN: its
 * hook leaves the plan in <rundir>/<name>/state.json, found through
 * "-name guest=NAME", and the wrapper first builds the expanders and root
 * ports into the argv (lib/qemu/runtime.c). Started under its own name without
 * VSMMU_PLAN and without that state, it refuses: the hook did not run
 * (docs/design-handoff.md: how the wrapper tells the cases apart).
 *
 * VSMMU_DRY_RUN=1 prints the final argv, one argument per line, instead of
 * exec. VSMMU_SKIP_CAPS=1 skips the QEMU capability check, for tests, and
 * only in a dry run. Exit: 1 when a check fails (QEMU is never started),
 * 127 when QEMU cannot be executed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "hookop.h"
#include "host.h"
#include "inject.h"
#include "plan.h"
#include "qemucaps.h"
#include "qemuargs.h"
#include "runtime.h"
#include "state.h"
#include "util.h"

#define PROG "vsmmu-qemu"

static void conf_clearp(struct vsmmu_conf *conf) { vsmmu_conf_clear(conf); }
#define _cleanup_conf_ __attribute__((cleanup(conf_clearp)))

/* A 'qemu =' pointing back at this wrapper would exec it forever. Without
 * /proc (a chroot) the wrapper goes by the name qemu resolves to. */
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

static int exec_qemu(const char *qemu, char **argv)
{
	if (is_self(qemu)) {
		fprintf(stderr, PROG ": %s is this wrapper, not QEMU; set 'qemu =' in vsmmu.conf "
			"or VSMMU_QEMU to the real QEMU\n", qemu);
		return 127;
	}
	argv[0] = (char *)qemu;
	execv(qemu, argv);
	fprintf(stderr, PROG ": cannot execute %s: %s; set 'qemu =' in vsmmu.conf or "
		"VSMMU_QEMU to the real QEMU\n", qemu, strerror(errno));
	return 127;
}


static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && strcmp(v, "1") == 0;
}

/* A problem quoting argv text may hold a newline: each line is shown (and
 * counted) as a problem of its own, as libvirt shows them. */
static void print_problems(const struct vsmmu_problems *found)
{
	struct vsmmu_problems p = { 0 };

	for (size_t i = 0; i < found->n; i++)
		vsmmu_problems_add_lines(&p, found->lines[i]);
	vsmmu_problems_print(&p, stderr, PROG);
	vsmmu_problems_clear(&p);
}

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

/* Check and inject; 0 with *args edited, or 1 after printing why not. */
static int prepare(const struct vsmmu_conf *conf, const struct vsmmu_plan *plan,
		   struct vsmmu_qargs *args, char **summary, vsmmu_err *err)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	struct vsmmu_problems problems = { 0 };
	int n;

	if (scan_planned(conf, plan, &host, err) < 0)
		return -1;
	n = vsmmu_runtime_build(args, plan, &problems, err);
	if (n == 0)
		n = vsmmu_inject_check(args, plan, host, &problems, err);
	if (n != 0)
		print_problems(&problems);
	vsmmu_problems_clear(&problems);
	if (n != 0)
		return n < 0 ? -1 : 1;
	if (vsmmu_inject_apply(args, plan, summary, err) < 0)
		return -1;
	if (!(env_set("VSMMU_DRY_RUN") && env_set("VSMMU_SKIP_CAPS")))
		return check_caps(conf, plan, err);
	return 0;
}

/* The final argv, one argument a line, each after prefix. */
static void print_argv(FILE *out, const char *prefix, const char *qemu,
		       const struct vsmmu_qargs *args, vsmmu_err *err)
{
	fprintf(out, "%s%s\n", prefix, qemu);
	for (size_t i = 1; i < vsmmu_qargs_count(args); i++) {
		struct vsmmu_qargs_arg *arg = vsmmu_qargs_at(args, i);
		const char *value = NULL;

		fprintf(out, "%s%s\n", prefix, vsmmu_qargs_arg_name(arg));
		if (vsmmu_qargs_arg_kind(arg) == VSMMU_QARGS_ARG_OPTION &&
		    vsmmu_qargs_arg_value(arg, &value, err) == 0)
			fprintf(out, "%s%s\n", prefix, value);
	}
}

static int finish(const struct vsmmu_conf *conf, struct vsmmu_qargs *args, vsmmu_err *err)
{
	char **argv = NULL;

	if (env_set("VSMMU_DRY_RUN")) {
		print_argv(stdout, "", conf->qemu, args, err);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (conf->log_level >= VSMMU_LOG_DEBUG)
		print_argv(stderr, PROG ": exec: ", conf->qemu, args, err);
	if (vsmmu_qargs_argv(args, &argv, err) < 0)
		return -1;
	return exec_qemu(conf->qemu, argv);
}

/* A managed start: check, inject, exec. */
static int managed(const struct vsmmu_conf *conf, int argc, char **argv,
		   const struct vsmmu_plan *plan)
{
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_free_ char *summary = NULL;
	vsmmu_err err = { .msg = "" };
	int r;

	if (vsmmu_qargs_parse(argc, (const char *const *)argv, &args, &err) < 0)
		r = -1;
	else
		r = prepare(conf, plan, args, &summary, &err);
	if (r == 0) {
		if (conf->log_level >= VSMMU_LOG_INFO)
			fprintf(stderr, PROG ": %s\n", summary);
		r = finish(conf, args, &err);
	}
	if (r < 0)
		fprintf(stderr, PROG ": %s\n", err.msg);
	return r < 0 ? 1 : r;
}

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

static int refuse_state(const char *name, const vsmmu_err *err)
{
	if (err->kind == VSMMU_ERR_IO)
		fprintf(stderr, PROG ": %s: cannot read the state the vsmmu hook left for this "
			"start (%s); the QEMU user must be able to read it: restart libvirtd so "
			"that the installed hook (which writes it so) runs, and on a confined host "
			"install vsmmu's AppArmor rules (INSTALL, 'Confined hosts'), then start the "
			"domain again\n", name, err->msg);
	else
		fprintf(stderr, PROG ": %s: the state the vsmmu hook left for this start is "
			"unusable (%s): it is damaged or from another vsmmu version; restart "
			"libvirtd after installing vsmmu, then start the domain again\n", name,
			err->msg);
	return 1;
}

static int hook_did_not_run(const struct vsmmu_conf *conf, const char *name)
{
	fprintf(stderr, PROG ": %s: the vsmmu hook did not run for this start (no state in %s): "
		"libvirt finds hooks when it starts, so restart libvirtd (systemctl restart "
		"libvirtd, or virtqemud) after installing vsmmu, then start the domain again\n",
		name, conf->rundir);
	return 1;
}

/* The hook's word on this start: 1 and *plan (ours), 0 (not ours: pass it
 * through), or the exit status after saying why the start is refused. */
static int hook_verdict(const struct vsmmu_conf *conf, const char *name, int argc, char **argv,
			struct vsmmu_plan **plan)
{
	_cleanup_state_ struct vsmmu_state *st = NULL;
	vsmmu_err err;
	int needed;

	if (vsmmu_state_read(conf->rundir, name, &st, &err) < 0)
		return -refuse_state(name, &err);
	if (st && st->unmanaged)
		return 0;
	if (st && !st->plan) {
		vsmmu_fail(&err, "it holds no plan");
		return -refuse_state(name, &err);
	}
	if (st) {
		*plan = VSMMU_STEAL(st->plan);
		return 1;
	}
	if (run_as_emulator(argv[0]))
		return -hook_did_not_run(conf, name);
	needed = vsmmu_runtime_needs_verdict(conf->manage, argc, argv, &err);
	if (needed < 0)
		fprintf(stderr, PROG ": %s: %s\n", name, err.msg);
	return needed < 0 ? -1 : needed ? -hook_did_not_run(conf, name) : 0;
}

/* The plan of this start: VSMMU_PLAN (persistent topology: libvirt passes
 * it from the definition), else the one the hook left in the run dir for
 * the domain named by "-name guest=NAME" (runtime topology). Without
 * either: libvirt's probe (no -name), or a domain that is not ours, both
 * passed through; nothing is read for the probe when VSMMU_QEMU is set. */
int main(int argc, char **argv)
{
	_cleanup_conf_ struct vsmmu_conf conf = { 0 };
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_free_ char *name = argc > 0 ? vsmmu_runtime_domain_name(argc, argv) : NULL;
	const char *plan_text = getenv("VSMMU_PLAN"), *qemu = getenv("VSMMU_QEMU");
	vsmmu_err err;
	int r = 0;

	if (argc < 1)
		return 1;
	if (!plan_text && !name && qemu && *qemu)
		return exec_qemu(qemu, argv);
	if (vsmmu_conf_load(&conf, &err) < 0 ||
	    (plan_text && vsmmu_plan_from_json(plan_text, &plan, &err) < 0)) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 1;
	}
	if (!plan && name)
		r = hook_verdict(&conf, name, argc, argv, &plan);
	if (r < 0)
		return -r;
	return plan ? managed(&conf, argc, argv, plan) : exec_qemu(conf.qemu, argv);
}
