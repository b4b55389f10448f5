/* vsmmuctl doctor [--json]: is this host ready for vsmmu? The checks live in
 * lib/doctor; this prints them and maps the worst status to the exit code:
 * 0 all pass, 1 warnings only, 2 a failure (or an error). */
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "doctor.h"
#include "util.h"

#define NAME_WIDTH 40

static inline void ctx_clearp(struct vsmmu_doctor_ctx *c) { vsmmu_doctor_ctx_clear(c); }

static void print_text(const struct vsmmu_doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct vsmmu_doctor_result *res = &r->results[i];

		printf("vsmmu: %-*s: %s", NAME_WIDTH, res->name,
		       vsmmu_doctor_status_name(res->status));
		if (res->detail)
			printf(" (%s)", res->detail);
		putchar('\n');
		if (res->status != VSMMU_DOCTOR_PASS && res->remedy)
			printf("       %s\n", res->remedy);
	}
}

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
	__attribute__((cleanup(ctx_clearp))) struct vsmmu_doctor_ctx ctx = { 0 };
	_cleanup_doctor_report_ struct vsmmu_doctor_report report = { 0 };
	unsigned long libvirt_version = 0;
	bool json = false;
	vsmmu_err err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0)
			return cli_error(cli, "doctor: unknown argument '%s'; usage: vsmmuctl "
					 "doctor [--json]", argv[i]);
		json = true;
	}
	if (vsmmu_doctor_ctx_load(&ctx, cli->sysfs, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	if (virGetVersion(&libvirt_version, NULL, NULL) == 0)
		ctx.libvirt_version = libvirt_version;
	vsmmu_doctor_run(&ctx, &report);
	if (json) {
		_cleanup_free_ char *text = vsmmu_doctor_to_json(&report);

		if (!text)
			return cli_error(cli, "cannot encode the report as JSON");
		puts(text);
	} else {
		print_text(&report);
	}
	switch (vsmmu_doctor_worst(&report)) {
	case VSMMU_DOCTOR_PASS: return EXIT_OK;
	case VSMMU_DOCTOR_WARN: return EXIT_MISMATCH;
	default: return EXIT_ERROR;
	}
}
