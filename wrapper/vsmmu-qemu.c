/* vsmmu-qemu: the <emulator> of a managed domain. Without VSMMU_PLAN in the
 * environment it execs the real QEMU with the argv and environment as they
 * are (libvirt's capability probe, unmanaged domains). With VSMMU_PLAN, or
 * the state the hook left for a runtime-topology domain, vsmmu_wrap_start
 * (lib/qemu/wrap.h) checks the argv against the plan and the live host,
 * injects the iommufd object and the vSMMUs and checks the QEMU binary can
 * run the result; the wrapper logs one line to stderr (log_level info, the
 * default; debug adds the final argv) and execs QEMU. Started under its own
 * name without either, it refuses: the hook did not run.
 *
 * VSMMU_DRY_RUN=1 prints the final argv, one argument per line, instead of
 * exec. VSMMU_SKIP_CAPS=1 skips the QEMU capability check, for tests, and
 * only in a dry run. Exit: 1 when a check fails (QEMU is never started),
 * 127 when QEMU cannot be executed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "qemuargs.h"
#include "runtime.h"
#include "util.h"
#include "wrap.h"

#define PROG VSMMU_WRAPPER_NAME

static void conf_clearp(struct vsmmu_conf *conf) { vsmmu_conf_clear(conf); }
#define _cleanup_conf_ __attribute__((cleanup(conf_clearp)))
#define _cleanup_wrap_ __attribute__((cleanup(vsmmu_wrap_clear)))

static int exec_qemu(const char *qemu, char **argv)
{
	vsmmu_err err;

	if (vsmmu_wrap_check_qemu(qemu, &err) < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
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

/* The final argv, one argument a line, each after prefix. */
static void print_argv(FILE *out, const char *prefix, const char *qemu,
		       const struct vsmmu_qargs *args)
{
	vsmmu_err ignored;

	fprintf(out, "%s%s\n", prefix, qemu);
	for (size_t i = 1; i < vsmmu_qargs_count(args); i++) {
		struct vsmmu_qargs_arg *arg = vsmmu_qargs_at(args, i);
		const char *value = NULL;

		fprintf(out, "%s%s\n", prefix, vsmmu_qargs_arg_name(arg));
		if (vsmmu_qargs_arg_kind(arg) == VSMMU_QARGS_ARG_OPTION &&
		    vsmmu_qargs_arg_value(arg, &value, &ignored) == 0)
			fprintf(out, "%s%s\n", prefix, value);
	}
}

static int refused(const struct vsmmu_wrap *w)
{
	vsmmu_problems_print(&w->problems, stderr, PROG);
	if (w->reason)
		fprintf(stderr, PROG ": %s\n", w->reason);
	return 1;
}

/* A managed start: log, then print (dry run) or exec. */
static int run_managed(const struct vsmmu_conf *conf, struct vsmmu_wrap *w)
{
	char **argv = NULL;
	vsmmu_err err;

	if (conf->log_level >= VSMMU_LOG_INFO)
		fprintf(stderr, PROG ": %s\n", w->summary);
	if (env_set("VSMMU_DRY_RUN")) {
		print_argv(stdout, "", conf->qemu, w->args);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (conf->log_level >= VSMMU_LOG_DEBUG)
		print_argv(stderr, PROG ": exec: ", conf->qemu, w->args);
	if (vsmmu_qargs_argv(w->args, &argv, &err) < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 1;
	}
	return exec_qemu(conf->qemu, argv);
}

/* libvirt's probe (no VSMMU_PLAN, no -name) with VSMMU_QEMU set reads
 * nothing: it execs that QEMU at once. */
int main(int argc, char **argv)
{
	_cleanup_conf_ struct vsmmu_conf conf = { 0 };
	_cleanup_wrap_ struct vsmmu_wrap w = { 0 };
	_cleanup_free_ char *name = argc > 0 ? vsmmu_runtime_domain_name(argc, argv) : NULL;
	const char *qemu = getenv("VSMMU_QEMU");
	struct vsmmu_wrap_request req = {
		.argc = argc,
		.argv = argv,
		.plan_json = getenv(VSMMU_PLAN_ENV),
		.check_caps = !(env_set("VSMMU_DRY_RUN") && env_set("VSMMU_SKIP_CAPS")),
	};
	vsmmu_err err;

	if (argc < 1)
		return 1;
	if (!req.plan_json && !name && qemu && *qemu)
		return exec_qemu(qemu, argv);
	if (vsmmu_conf_load(&conf, &err) < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 1;
	}
	if (vsmmu_wrap_start(&conf, &req, &w) < 0)
		return refused(&w);
	return w.action == VSMMU_WRAP_MANAGED ? run_managed(&conf, &w) : exec_qemu(conf.qemu, argv);
}
