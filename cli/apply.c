/* vsmmuctl apply DOMAIN [--dry-run] [--native|--wrapper]: rewrite a libvirt definition for this
 * host through the libvirt API, keeping a backup and showing a diff. */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "domain.h"
#include "plan.h"
#include "rewrite.h"
#include "util.h"
#include "virt.h"

static const char *backup_dir(void)
{
	const char *d = getenv("VSMMU_BACKUPDIR");

	return d && *d ? d : "/var/lib/vsmmu/backup";
}

/* Write old to the backup directory as NAME-YYYYmmddTHHMMSS.xml. */
static int write_backup(const struct cli *cli, const char *name, const char *xml)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	_cleanup_free_ char *path = NULL;
	vsmmu_err err;

	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", gmtime_r(&now, &tm));
	path = vsmmu_xasprintf("%s/%s-%s.xml", backup_dir(), name, stamp);
	if (mkdir(backup_dir(), 0700) < 0 && errno != EEXIST) {
		return cli_error(cli, "cannot create %s: %s; no change made", backup_dir(),
				 strerror(errno));
	}
	if (vsmmu_write_atomic(path, xml, strlen(xml), 0600, &err) < 0)
		return cli_error(cli, "%s; no change made", err.msg);
	fprintf(stderr, "%s: previous definition saved as %s\n", cli->prog, path);
	return 0;
}

/* Fill a mkstemp(3) template with text. */
static int write_temp(char *template, const char *text)
{
	_cleanup_close_ int fd = mkstemp(template);
	size_t len = strlen(text);

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len) {
		unlink(template);
		return -1;
	}
	return 0;
}

/* Unified diff of two texts through diff(1). */
static int print_diff(const struct cli *cli, const char *name, const char *old, const char *new)
{
	char a[] = "/tmp/vsmmu-old-XXXXXX", b[] = "/tmp/vsmmu-new-XXXXXX";
	_cleanup_free_ char *la = vsmmu_xasprintf("%s (libvirt)", name);
	_cleanup_free_ char *lb = vsmmu_xasprintf("%s (vsmmu)", name);
	int status = -1;
	pid_t pid;

	if (write_temp(a, old) < 0 || write_temp(b, new) < 0) {
		unlink(a);
		return cli_error(cli, "cannot write a temporary file for the diff: %s",
				 strerror(errno));
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execlp("diff", "diff", "-u", "--label", la, "--label", lb, a, b, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	unlink(a);
	unlink(b);
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) > 1)
		return cli_error(cli, "cannot run diff(1) to show the change; install diffutils");
	return 0;
}

/* What changed about <emulator>, when it did; old: the definition's, qemu:
 * the configured QEMU. */
static void note_emulator(const struct cli *cli, const char *old, const struct vsmmu_plan *plan,
			  const char *qemu)
{
	if (!plan->emulator || !old || strcmp(old, plan->emulator) == 0)
		return;
	if (plan->form == VSMMU_FORM_NATIVE)
		fprintf(stderr, "%s: note: <emulator> was the wrapper %s; the native form runs %s "
			"('qemu =' in vsmmu.conf)\n", cli->prog, old, plan->emulator);
	else if (!vsmmu_streq(old, qemu))
		fprintf(stderr, "%s: note: <emulator> was %s; the wrapper runs the QEMU named by "
			"'qemu =' in /etc/vsmmu/vsmmu.conf\n", cli->prog, old);
}

/* One parsed domain serves the whole command: *old_form is the definition
 * as it is, in the serialisation *new comes in (libvirt quotes with ',
 * libxml2 with "), and *new the definition adopted, planned and rewritten. */
static int rewrite_definition(struct cli *cli, const char *old, struct vsmmu_policy *policy,
			      char **old_form, char **new)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_plan_ struct vsmmu_plan *plan = NULL;
	_cleanup_free_ char *qemu = cli_real_qemu(cli, true), *old_emulator = NULL;
	size_t len;
	vsmmu_err err;

	if (vsmmu_domain_parse(old, strlen(old), &dom, &err) < 0 ||
	    vsmmu_domain_format(dom, old_form, &len, &err) < 0 || vsmmu_adopt(dom, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	if (cli_scan_host(cli, &host))
		return EXIT_ERROR;
	policy->wrapper = vsmmu_wrapper_path();
	policy->qemu = qemu;
	old_emulator = dom->emulator ? vsmmu_xstrdup(dom->emulator) : NULL;
	if (vsmmu_plan_build(dom, host, policy, &plan, &err) < 0 ||
	    vsmmu_rewrite(dom, plan, &err) < 0 || vsmmu_domain_format(dom, new, &len, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	cli_print_advice(cli, plan);
	note_emulator(cli, old_emulator, plan, qemu);
	return 0;
}

static const char usage[] = "usage: vsmmuctl [-c URI] apply DOMAIN [--dry-run] [--native|--wrapper]";

static int parse_apply_args(const struct cli *cli, int argc, char **argv, const char **name,
			    bool *dry_run, int *form)
{
	*name = NULL;
	*dry_run = false;
	*form = VSMMU_FORM_AUTO;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			*dry_run = true;
		else if (strcmp(argv[i], "--native") == 0 || strcmp(argv[i], "--wrapper") == 0) {
			int f = argv[i][2] == 'n' ? VSMMU_FORM_NATIVE : VSMMU_FORM_WRAPPER;

			if (*form != VSMMU_FORM_AUTO && *form != f)
				return cli_error(cli, "apply takes --native or --wrapper, not both");
			*form = f;
		} else if (argv[i][0] == '-' || *name)
			return cli_error(cli, "%s", usage);
		else
			*name = argv[i];
	}
	return *name ? 0 : cli_error(cli, "apply needs a DOMAIN name");
}

int cmd_apply(struct cli *cli, int argc, char **argv)
{
	_cleanup_virconn_ virConnectPtr conn = NULL;
	_cleanup_virdom_ virDomainPtr dom = NULL;
	_cleanup_free_ char *old = NULL, *old_form = NULL, *new = NULL;
	struct vsmmu_policy policy = VSMMU_POLICY_DEFAULT;
	const char *name;
	bool dry_run;

	if (parse_apply_args(cli, argc, argv, &name, &dry_run, &policy.form) ||
	    cli_virt_domain(cli, name, &conn, &dom) ||
	    cli_virt_version(cli, conn, &policy.libvirt))
		return EXIT_ERROR;
	/* SECURE keeps passwords that a redefine would otherwise drop. */
	old = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
	if (!old)
		return cli_virt_error(cli, name);
	if (rewrite_definition(cli, old, &policy, &old_form, &new))
		return EXIT_ERROR;
	if (strcmp(old_form, new) == 0) {
		printf("%s: definition already matches this host; nothing to do\n", name);
		return EXIT_OK;
	}
	if (print_diff(cli, name, old_form, new) || dry_run)
		return dry_run ? EXIT_OK : EXIT_ERROR;
	if (write_backup(cli, name, old))
		return EXIT_ERROR;
	virDomainFree(dom);
	dom = virDomainDefineXML(conn, new);
	if (!dom)
		return cli_virt_error(cli, "libvirt refused the rewritten definition (unchanged)");
	printf("%s: defined; the change applies at the next start\n", name);
	return EXIT_OK;
}
