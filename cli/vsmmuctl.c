/* vsmmuctl: scan the host, plan and rewrite libvirt domains for per-SMMU
 * vSMMUs. A thin shell over lib/: arguments, I/O and exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "util.h"
#include "xmlutil.h"

static const char usage_text[] =
	"usage: vsmmuctl [--sysfs DIR] [-c URI] COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  host [--json]          the host's SMMUv3 instances and PCI devices\n"
	"  plan FILE|- [--json]   the topology vsmmu would give a domain on this host\n"
	"  rewrite FILE|- [--native|--wrapper]\n"
	"                         the domain XML rewritten for this host, on stdout;\n"
	"                         --native: as libvirt >= 11.10 per-bus <iommu> (with\n"
	"                         -c URI, for that daemon's libvirt), no wrapper\n"
	"  check FILE|-           exit 0 if the domain matches this host, 1 with one\n"
	"                         line per mismatch, 2 on error\n"
	"  show FILE|-|DOMAIN [--dot]\n"
	"                         the guest PCI topology: of a file, or of a libvirt\n"
	"                         domain (for a running topology='runtime' domain, the\n"
	"                         one QEMU was given)\n"
	"  apply DOMAIN [--dry-run] [--native|--wrapper]\n"
	"                         rewrite a libvirt domain for this host: opt it in,\n"
	"                         define it, print the diff; native form when the\n"
	"                         daemon's libvirt can hold it, else <emulator> set\n"
	"                         to the wrapper\n"
	"  attach DOMAIN BDF [--live] [--config] [--managed]\n"
	"                         hot-plug a host PCI device onto a free root port of the\n"
	"                         expander whose vSMMU mirrors its SMMU (default: the\n"
	"                         running domain if it runs, and its definition)\n"
	"  detach DOMAIN BDF [--live] [--config]\n"
	"                         take it away again: its root port is free again\n"
	"  emulator install|remove|status [--root DIR]\n"
	"                         the wrapper at libvirt's default emulator path\n"
	"                         /usr/bin/qemu-system-aarch64, QEMU diverted (dpkg-divert)\n"
	"                         to its .real; remove restores what was there\n"
	"  doctor [--json]        what this host still lacks: PASS/WARN/FAIL per check;\n"
	"                         exit 0 all pass, 1 warnings only, 2 a failure\n"
	"\n"
	"options:\n"
	"  --sysfs DIR   sysfs root to scan (default $VSMMU_SYSFS or /sys)\n"
	"  -c URI        libvirt connection URI (apply, rewrite --native, attach,\n"
	"                detach, show DOMAIN, doctor)\n"
	"  -h, --help    this text\n"
	"  -V, --version the version\n";

void cli_report(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* FILE opened without waiting: open(2) of a FIFO blocks until a writer
 * comes, maybe forever. Once open, reads block as usual, so a FIFO that
 * has a writer (bash's <(virsh dumpxml d)) is read to its end, and one
 * that has none reads as empty at once. */
static FILE *open_input(const struct cli *cli, const char *file, bool *fifo)
{
	int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0) {
		cli_report(cli, "cannot open %s: %s", file, strerror(errno));
		return NULL;
	}
	*fifo = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
	f = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		cli_report(cli, "cannot read %s: %s", file, strerror(errno));
		close(fd);
	}
	return f;
}

int cli_read_input(const struct cli *cli, const char *file, char **data, size_t *len)
{
	_cleanup_fclose_ FILE *f = NULL;
	bool fifo = false;
	vsmmu_err err;

	if (strcmp(file, "-") == 0) {
		if (vsmmu_read_stream(stdin, "standard input", VSMMU_XML_MAX, data, len, &err) < 0)
			return cli_error(cli, "%s", err.msg);
		return 0;
	}
	f = open_input(cli, file, &fifo);
	if (!f)
		return EXIT_ERROR;
	if (vsmmu_read_stream(f, file, VSMMU_XML_MAX, data, len, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	if (fifo && *len == 0)
		return cli_error(cli, "%s is a FIFO and nothing was written to it: start its writer "
				 "first, or pipe the XML into vsmmuctl and give '-' as FILE", file);
	return 0;
}

int cli_scan_host(const struct cli *cli, struct vsmmu_host **host)
{
	vsmmu_err err;

	if (vsmmu_host_scan(cli->sysfs, host, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	return 0;
}

char *cli_real_qemu(const struct cli *cli, bool quiet)
{
	struct vsmmu_conf conf;
	vsmmu_err err;
	char *qemu;

	if (vsmmu_conf_load(&conf, &err) < 0) {
		if (!quiet)
			cli_report(cli, "%s", err.msg);
		return NULL;
	}
	qemu = vsmmu_xstrdup(conf.qemu);
	vsmmu_conf_clear(&conf);
	return qemu;
}

void cli_print_advice(const struct cli *cli, const struct vsmmu_plan *plan)
{
	for (size_t i = 0; i < plan->warnings.n; i++)
		fprintf(stderr, "%s: warning: %s\n", cli->prog, plan->warnings.items[i]);
	for (size_t i = 0; i < plan->notes.n; i++)
		fprintf(stderr, "%s: note: %s\n", cli->prog, plan->notes.items[i]);
}

static const struct {
	const char *name;
	int (*run)(struct cli *, int, char **);
} commands[] = {
	{ "host", cmd_host }, { "plan", cmd_plan }, { "rewrite", cmd_rewrite },
	{ "check", cmd_check }, { "show", cmd_show }, { "apply", cmd_apply },
	{ "doctor", cmd_doctor }, { "attach", cmd_attach }, { "detach", cmd_detach },
	{ "emulator", cmd_emulator },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs", required_argument, NULL, 's' }, { "connect", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .prog = "vsmmuctl", .sysfs = getenv("VSMMU_SYSFS") };
	int c;

	if (!cli.sysfs || !*cli.sysfs)
		cli.sysfs = "/sys";
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's': cli.sysfs = optarg; break;
		case 'c': cli.uri = optarg; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case 'V': printf("vsmmuctl %s\n", VSMMU_VERSION); return EXIT_OK;
		default: fputs(usage_text, stderr); return EXIT_ERROR;
		}
	}
	if (optind >= argc)
		return cli_error(&cli, "no command given; see 'vsmmuctl --help'");
	for (size_t i = 0; i < VSMMU_ARRAY_LEN(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].run(&cli, argc - optind, argv + optind);
	return cli_error(&cli, "unknown command '%s'; see 'vsmmuctl --help'", argv[optind]);
}
