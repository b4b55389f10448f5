/* vsmmuctl host, plan, rewrite, check, show. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "domain.h"
#include "manage.h"
#include "plan.h"
#include "report.h"
#include "rewrite.h"
#include "util.h"
#include "virt.h"
#include "conf.h"
#include "state.h"
#include <unistd.h>

/* Parse "CMD [FILE] [--flag...]": at most one file; set[i] tells whether
 * flags[i] (a NULL-terminated list) was given. */
static int parse_args_flags(struct cli *cli, int argc, char **argv, const char *const *flags,
			    bool need_file, const char **file, bool *set)
{
	*file = NULL;
	for (size_t f = 0; flags[f]; f++)
		set[f] = false;
	for (int i = 1; i < argc; i++) {
		size_t f = 0;

		while (flags[f] && strcmp(argv[i], flags[f]) != 0)
			f++;
		if (flags[f])
			set[f] = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_error(cli, "%s: unknown option '%s'; see 'vsmmuctl --help'",
					 argv[0], argv[i]);
		else if (*file)
			return cli_error(cli, "%s takes one FILE, got '%s' and '%s'", argv[0], *file,
					 argv[i]);
		else
			*file = argv[i];
	}
	if (need_file && !*file)
		return cli_error(cli, "%s needs a domain XML FILE (or - for stdin)", argv[0]);
	return 0;
}

/* Parse "CMD [FILE] [--flag]": at most one file and one optional flag. */
static int parse_args(struct cli *cli, int argc, char **argv, const char *flag,
		      bool need_file, const char **file, bool *flag_set)
{
	const char *const flags[] = { flag, NULL };

	return parse_args_flags(cli, argc, argv, flag ? flags : flags + 1, need_file, file,
				flag_set);
}

static void print_buf(struct vsmmu_buf *b)
{
	if (b->data)
		fputs(b->data, stdout);
}

int cmd_host(struct cli *cli, int argc, char **argv)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_buf_ struct vsmmu_buf out = { 0 };
	const char *file;
	bool json;

	if (parse_args(cli, argc, argv, "--json", false, &file, &json) ||
	    (file && cli_error(cli, "host takes no FILE")) || cli_scan_host(cli, &host))
		return EXIT_ERROR;
	if (json) {
		_cleanup_free_ char *text = vsmmu_report_host_json(host);

		puts(text);
		return EXIT_OK;
	}
	vsmmu_report_host_table(host, &out);
	print_buf(&out);
	return EXIT_OK;
}

/* Read, parse and plan the domain in FILE against the scanned host. */
static int load_and_plan(struct cli *cli, const char *file, struct vsmmu_domain **dom,
			 struct vsmmu_plan **plan)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_free_ char *xml = NULL;
	size_t len;
	vsmmu_err err;

	if (cli_read_input(cli, file, &xml, &len) || cli_scan_host(cli, &host))
		return EXIT_ERROR;
	if (vsmmu_domain_parse(xml, len, dom, &err) < 0 ||
	    vsmmu_plan_build(*dom, host, NULL, plan, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	cli_print_advice(cli, *plan);
	return 0;
}

int cmd_plan(struct cli *cli, int argc, char **argv)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_buf_ struct vsmmu_buf out = { 0 };
	const char *file;
	bool json;

	if (parse_args(cli, argc, argv, "--json", true, &file, &json) ||
	    load_and_plan(cli, file, &dom, &plan))
		return EXIT_ERROR;
	if (json) {
		_cleanup_free_ char *text = vsmmu_plan_to_json(plan);

		puts(plan->managed ? text : "null");
		return EXIT_OK;
	}
	vsmmu_report_plan_table(plan, &out);
	print_buf(&out);
	return EXIT_OK;
}

/* --native with -c URI: that daemon's libvirt decides what it can hold. */
static int target_libvirt(struct cli *cli, bool native, unsigned long *version)
{
	_cleanup_virconn_ virConnectPtr conn = NULL;

	*version = 0;
	if (!native || !cli->uri)
		return 0;
	conn = virConnectOpen(cli->uri);
	if (!conn)
		return cli_virt_error(cli, "cannot connect to libvirt");
	return cli_virt_version(cli, conn, version);
}

int cmd_rewrite(struct cli *cli, int argc, char **argv)
{
	static const char *const flags[] = { "--native", "--wrapper", NULL };
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_free_ char *xml = NULL, *out = NULL, *qemu = NULL;
	struct vsmmu_policy policy = VSMMU_POLICY_DEFAULT;
	size_t len, out_len;
	const char *file;
	bool set[2];
	vsmmu_err err;

	if (parse_args_flags(cli, argc, argv, flags, true, &file, set))
		return EXIT_ERROR;
	if (set[0] && set[1])
		return cli_error(cli, "rewrite takes --native or --wrapper, not both");
	policy.form = set[0] ? VSMMU_FORM_NATIVE : set[1] ? VSMMU_FORM_WRAPPER : VSMMU_FORM_KEEP;
	/* An <emulator> naming the wrapper goes back to the real QEMU in the
	 * native form; a broken vsmmu.conf matters only when asked for it. */
	qemu = cli_real_qemu(cli, !set[0]);
	if ((set[0] && !qemu) || target_libvirt(cli, set[0], &policy.libvirt) ||
	    cli_read_input(cli, file, &xml, &len) || cli_scan_host(cli, &host))
		return EXIT_ERROR;
	policy.qemu = qemu;
	if (vsmmu_rewrite_xml(xml, len, host, &policy, &out, &out_len, &plan, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	cli_print_advice(cli, plan);
	if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0)
		return cli_error(cli, "cannot write the rewritten XML to standard output");
	return EXIT_OK;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_free_ char *xml = NULL;
	struct vsmmu_check result;
	const char *file;
	bool unused;
	size_t len;
	vsmmu_err err;
	int rc;

	if (parse_args(cli, argc, argv, NULL, true, &file, &unused) ||
	    cli_read_input(cli, file, &xml, &len) || cli_scan_host(cli, &host))
		return EXIT_ERROR;
	if (vsmmu_check_xml(xml, len, host, &result, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	for (size_t i = 0; i < result.problems.n; i++)
		printf("%s: fix: vsmmuctl apply DOMAIN (or vsmmuctl rewrite)\n",
		       result.problems.items[i]);
	for (size_t i = 0; i < result.manual.n; i++) /* apply cannot fix these */
		printf("%s\n", result.manual.items[i]);
	if (!result.managed)
		printf("not managed by vsmmu: nothing to check\n");
	rc = result.problems.n || result.manual.n ? EXIT_MISMATCH : EXIT_OK;
	vsmmu_check_clear(&result);
	return rc;
}

/* show NAME of a running runtime-topology domain: what QEMU was given. */
static int show_runtime(const struct cli *cli, const char *name, bool *shown)
{
	struct vsmmu_conf conf;
	_cleanup_state_ struct vsmmu_state *st = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_buf_ struct vsmmu_buf out = { 0 };
	vsmmu_err err;
	int r = 0;

	*shown = false;
	if (vsmmu_state_name_check(name, &err) < 0)
		return 0;
	if (vsmmu_conf_load(&conf, &err) < 0)
		r = cli_error(cli, "%s", err.msg);
	else if (vsmmu_state_read(conf.rundir, name, &st, &err) < 0)
		r = cli_error(cli, "%s", err.msg);
	vsmmu_conf_clear(&conf);
	if (r || !st || !st->plan || st->plan->topology != VSMMU_TOPO_RUNTIME)
		return r;
	plan = VSMMU_STEAL(st->plan);
	vsmmu_report_plan_tree(plan, name, &out);
	print_buf(&out);
	printf("note: this is the topology QEMU was given at start; libvirt's own view "
	       "(virsh dumpxml %s) differs: it shows the hostdevs where libvirt placed them\n",
	       name);
	*shown = true;
	return 0;
}

/* Whether vsmmu manages dom under this host's policy (vsmmu.conf manage =). */
static int show_managed_by(const struct cli *cli, struct vsmmu_domain *dom,
			   enum vsmmu_managed_by *by)
{
	struct vsmmu_conf conf;
	vsmmu_err err;
	int r = 0;

	if (vsmmu_conf_load(&conf, &err) < 0)
		r = cli_error(cli, "%s", err.msg);
	else {
		if (cli->sysfs) {
			free(conf.sysfs);
			conf.sysfs = vsmmu_xstrdup(cli->sysfs);
		}
		if (vsmmu_manage_domain(dom, &conf, by, &err) < 0)
			r = cli_error(cli, "%s", err.msg);
	}
	vsmmu_conf_clear(&conf);
	return r;
}

/* The XML to show: FILE, stdin, or the named libvirt domain (live when it
 * runs). */
static int show_source(struct cli *cli, const char *what, char **xml, size_t *len)
{
	_cleanup_virconn_ virConnectPtr conn = NULL;
	_cleanup_virdom_ virDomainPtr dom = NULL;

	if (strcmp(what, "-") == 0 || strchr(what, '/') || access(what, F_OK) == 0)
		return cli_read_input(cli, what, xml, len);
	if (cli_virt_domain(cli, what, &conn, &dom))
		return EXIT_ERROR;
	*xml = virDomainGetXMLDesc(dom, 0);
	if (!*xml)
		return cli_virt_error(cli, what);
	*len = strlen(*xml);
	return 0;
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	_cleanup_buf_ struct vsmmu_buf out = { 0 };
	_cleanup_free_ char *xml = NULL;
	enum vsmmu_managed_by by;
	const char *what;
	bool dot, shown;
	size_t len = 0;
	vsmmu_err err;

	if (parse_args(cli, argc, argv, "--dot", true, &what, &dot))
		return EXIT_ERROR;
	if (!dot && access(what, F_OK) != 0 && strcmp(what, "-") != 0 &&
	    (show_runtime(cli, what, &shown) || shown))
		return shown ? EXIT_OK : EXIT_ERROR;
	if (show_source(cli, what, &xml, &len))
		return EXIT_ERROR;
	if (vsmmu_domain_parse(xml, len, &dom, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	if (dot)
		vsmmu_report_dot(dom, &out);
	else if (show_managed_by(cli, dom, &by) == 0)
		vsmmu_report_tree(dom, by, &out);
	else
		return EXIT_ERROR;
	print_buf(&out);
	return EXIT_OK;
}
