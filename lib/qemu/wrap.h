/* wrap: what the <emulator> wrapper (vsmmu-qemu) makes of one QEMU start,
 * as vsmmu_prepare (lib/hook/prepare.h) is what the hook makes of one
 * operation: whose start it is (VSMMU_PLAN, or the state the hook left in
 * the run dir, found through "-name guest=NAME"), the runtime build, the
 * checks against the plan and the live host, the injection, the QEMU
 * capability check, and the refusals with what to do about them. The
 * program loads the configuration, reads its environment, prints and
 * execs (docs/design-handoff.md: how the cases are told apart). */
#ifndef VSMMU_WRAP_H
#define VSMMU_WRAP_H

#include <stdbool.h>

#include "conf.h"
#include "err.h"
#include "qemuargs.h"
#include "util.h"

/* One start as the wrapper got it. */
struct vsmmu_wrap_request {
	int argc;
	char **argv;           /* argv[0] is how the wrapper was started */
	const char *plan_json; /* VSMMU_PLAN, NULL when unset */
	bool check_caps;       /* check the QEMU binary can run the result */
};

enum vsmmu_wrap_action {
	VSMMU_WRAP_PASS,    /* not ours: exec QEMU with the argv as it is */
	VSMMU_WRAP_MANAGED, /* ours: exec QEMU with args, checked and injected */
	VSMMU_WRAP_REFUSED, /* QEMU must not start: print problems, then reason */
};

struct vsmmu_wrap {
	enum vsmmu_wrap_action action;
	struct vsmmu_qargs *args; /* MANAGED: the final command line */
	char *summary;            /* MANAGED: one line "injected ..." for the log */
	struct vsmmu_strlist problems; /* REFUSED: what the checks found, one line each */
	char *reason;             /* REFUSED: why, or what failed; NULL when the
				   * problems say it all */
};

/* Decide what to do with req under conf (loaded once by the caller). 0 with
 * out->action PASS or MANAGED, or -1 with out->action REFUSED. Clear out
 * with vsmmu_wrap_clear in every case. */
int vsmmu_wrap_start(const struct vsmmu_conf *conf, const struct vsmmu_wrap_request *req,
		     struct vsmmu_wrap *out);
void vsmmu_wrap_clear(struct vsmmu_wrap *w);

/* Whether qemu may be exec'ed: not this wrapper itself, which a 'qemu ='
 * pointing back at it would exec forever (without /proc, a chroot, judged
 * by the name qemu resolves to). 0, or -1 with err saying what to set. */
int vsmmu_wrap_check_qemu(const char *qemu, vsmmu_err *err);

#endif
