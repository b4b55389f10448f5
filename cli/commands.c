/* vsmmuctl host, plan, rewrite, check, show. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "domain.h"
#include "plan.h"
#include "report.h"
#include "rewrite.h"
#include "util.h"

/* Parse "CMD [FILE] [--flag]": at most one file and one optional flag. */
static int parse_args(struct cli *cli, int argc, char **argv, const char *flag,
		      bool need_file, const char **file, bool *flag_set)
{
	*file = NULL;
	*flag_set = false;
	for (int i = 1; i < argc; i++) {
		if (flag && strcmp(argv[i], flag) == 0)
			*flag_set = true;
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

int cmd_rewrite(struct cli *cli, int argc, char **argv)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_free_ char *xml = NULL, *out = NULL;
	size_t len, out_len;
	const char *file;
	bool unused;
	vsmmu_err err;

	if (parse_args(cli, argc, argv, NULL, true, &file, &unused) ||
	    cli_read_input(cli, file, &xml, &len) || cli_scan_host(cli, &host))
		return EXIT_ERROR;
	if (vsmmu_rewrite_xml(xml, len, host, NULL, &out, &out_len, &plan, &err) < 0)
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
	for (size_t i = 0; i < result.n_problems; i++)
		printf("%s: fix: vsmmuctl apply DOMAIN (or vsmmuctl rewrite)\n", result.problems[i]);
	if (!result.managed)
		printf("not managed by vsmmu: nothing to check\n");
	rc = result.n_problems ? EXIT_MISMATCH : EXIT_OK;
	vsmmu_check_clear(&result);
	return rc;
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	_cleanup_buf_ struct vsmmu_buf out = { 0 };
	_cleanup_free_ char *xml = NULL;
	const char *file;
	bool dot;
	size_t len;
	vsmmu_err err;

	if (parse_args(cli, argc, argv, "--dot", true, &file, &dot) ||
	    cli_read_input(cli, file, &xml, &len))
		return EXIT_ERROR;
	if (vsmmu_domain_parse(xml, len, &dom, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	if (dot)
		vsmmu_report_dot(dom, &out);
	else
		vsmmu_report_tree(dom, &out);
	print_buf(&out);
	return EXIT_OK;
}
