/* vsmmuctl attach DOMAIN BDF [--live] [--config] [--managed] and
 * vsmmuctl detach DOMAIN BDF [--live] [--config]: lib/attach decides where
 * the device goes (or refuses), this file talks to libvirt. */
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "attach.h"
#include "cli.h"
#include "util.h"
#include "virt.h"

struct attach_args {
	const char *name;
	struct vsmmu_pci_addr bdf;
	char bdf_text[VSMMU_BDF_LEN];
	bool live, config, managed;
};

/* The running domain and its definition, as far as they exist. */
struct target {
	virConnectPtr conn;
	virDomainPtr dom;
	char *live_xml, *config_xml;
};

static void target_clear(struct target *t)
{
	free(t->live_xml);
	free(t->config_xml);
	if (t->dom)
		virDomainFree(t->dom);
	if (t->conn)
		virConnectClose(t->conn);
}
#define _cleanup_target_ __attribute__((cleanup(target_clear)))

static int parse_args(struct cli *cli, int argc, char **argv, bool with_managed,
		      struct attach_args *a)
{
	const char *bdf = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--live") == 0)
			a->live = true;
		else if (strcmp(argv[i], "--config") == 0)
			a->config = true;
		else if (with_managed && strcmp(argv[i], "--managed") == 0)
			a->managed = true;
		else if (argv[i][0] == '-' || (a->name && bdf))
			return cli_error(cli, "usage: vsmmuctl [-c URI] %s DOMAIN BDF [--live] "
					 "[--config]%s", argv[0], with_managed ? " [--managed]" : "");
		else if (!a->name)
			a->name = argv[i];
		else
			bdf = argv[i];
	}
	if (!bdf)
		return cli_error(cli, "%s needs a DOMAIN and a host PCI address (DDDD:BB:SS.F)",
				 argv[0]);
	if (vsmmu_pci_addr_parse(bdf, &a->bdf) < 0)
		return cli_error(cli, "'%s' is not a PCI address DDDD:BB:SS.F (e.g. 0009:01:00.0)",
				 bdf);
	vsmmu_pci_addr_format(&a->bdf, a->bdf_text);
	return 0;
}

/* Without --live or --config: the running domain if it runs, and the
 * definition if it has one (virsh attach-device --persistent). */
static int open_target(struct cli *cli, struct attach_args *a, struct target *t)
{
	bool active, persistent;

	if (cli_virt_domain(cli, a->name, &t->conn, &t->dom))
		return EXIT_ERROR;
	active = virDomainIsActive(t->dom) == 1;
	persistent = virDomainIsPersistent(t->dom) == 1;
	if (!a->live && !a->config) {
		a->live = active;
		a->config = persistent;
	}
	if (a->live && !active)
		return cli_error(cli, "domain '%s' is not running: --live needs a running domain "
				 "(--config changes its definition)", a->name);
	if (a->config && !persistent)
		return cli_error(cli, "domain '%s' is transient: it has no definition for "
				 "--config", a->name);
	if (a->live && !(t->live_xml = virDomainGetXMLDesc(t->dom, 0)))
		return cli_virt_error(cli, a->name);
	/* SECURE keeps passwords that a redefine would otherwise drop. */
	if (a->config && !(t->config_xml = virDomainGetXMLDesc(t->dom, VIR_DOMAIN_XML_INACTIVE |
								   VIR_DOMAIN_XML_SECURE)))
		return cli_virt_error(cli, a->name);
	return 0;
}

static void add_seen(struct vsmmu_seen_domain **seen, size_t *n, const char *name, bool live,
		     char *xml)
{
	*seen = vsmmu_xrealloc(*seen, *n + 1, sizeof(**seen));
	(*seen)[(*n)++] = (struct vsmmu_seen_domain){ vsmmu_xstrdup(name), live, xml,
						      strlen(xml) };
}

static void seen_free(struct vsmmu_seen_domain *seen, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)seen[i].name);
		free((char *)seen[i].xml);
	}
	free(seen);
}

/* Is the device a hostdev of any domain this connection shows? */
static int check_unassigned(struct cli *cli, const struct attach_args *a,
			    const struct target *t)
{
	virDomainPtr *doms = NULL;
	struct vsmmu_seen_domain *seen = NULL;
	size_t n_seen = 0;
	int n = virConnectListAllDomains(t->conn, &doms, 0), r = 0;
	vsmmu_err err;

	if (n < 0)
		return cli_virt_error(cli, "cannot list the domains");
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);
		char *x;

		if (virDomainIsActive(doms[i]) == 1 && (x = virDomainGetXMLDesc(doms[i], 0)))
			add_seen(&seen, &n_seen, name, true, x);
		if (virDomainIsPersistent(doms[i]) == 1 &&
		    (x = virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE)))
			add_seen(&seen, &n_seen, name, false, x);
		virDomainFree(doms[i]);
	}
	free(doms);
	if (vsmmu_attach_check_unassigned(seen, n_seen, a->name, a->live, a->config, &a->bdf,
					  &err) < 0)
		r = cli_error(cli, "%s", err.msg);
	seen_free(seen, n_seen);
	return r;
}

/* Define new; on failure nothing changed. */
static int define(struct cli *cli, const struct target *t, const char *xml, const char *what)
{
	virDomainPtr d = virDomainDefineXML(t->conn, xml);

	if (!d)
		return cli_virt_error(cli, what);
	virDomainFree(d);
	return 0;
}

/* The live change failed after the definition was changed: put it back. */
static int undo_config(struct cli *cli, const struct attach_args *a, const struct target *t,
		       const char *failed)
{
	int r = cli_virt_error(cli, failed);

	if (a->config && define(cli, t, t->config_xml, "cannot restore the definition"))
		return cli_error(cli, "the definition of '%s' keeps the change; undo it with "
				 "'vsmmuctl detach %s %s --config'", a->name, a->name, a->bdf_text);
	if (a->config)
		cli_report(cli, "the definition of '%s' is as it was", a->name);
	return r;
}

static void print_config_placement(const struct attach_args *a, const struct vsmmu_placement *p)
{
	if (p->port < 0 || p->expander < 0) {
		printf("%s: %s added to the definition; the next start routes it behind the vSMMU "
		       "for %s\n", a->name, a->bdf_text, p->smmu);
		return;
	}
	printf("%s: %s added to the definition on root port pci.%d of expander pci.%d "
	       "(mirrors %s)%s\n", a->name, a->bdf_text, p->port, p->expander, p->smmu,
	       p->new_expander ? "; expander and root port are new: the next start creates them"
	       : p->new_port ? "; the root port is new: the next start creates it" : "");
}

/* Where the device goes on each side, or the refusal. */
static int decide_attach(struct cli *cli, const struct attach_args *a, const struct target *t,
			 struct vsmmu_placement *live, struct vsmmu_placement *config,
			 char **new_config)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	size_t len;
	vsmmu_err err;

	if (cli_scan_host(cli, &host) || check_unassigned(cli, a, t))
		return EXIT_ERROR;
	if (a->live && vsmmu_attach_live(t->live_xml, strlen(t->live_xml), host, &a->bdf,
					 a->managed, live, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	if (a->config && vsmmu_attach_config(t->config_xml, strlen(t->config_xml), host, &a->bdf,
					     a->managed, new_config, &len, config, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	return 0;
}

/* Decide both sides first, then change the definition, then the running
 * domain (putting the definition back when that fails). */
static int attach(struct cli *cli, struct attach_args *a, struct target *t)
{
	_cleanup_placement_ struct vsmmu_placement live = { 0 }, config = { 0 };
	_cleanup_free_ char *new_config = NULL;

	if (decide_attach(cli, a, t, &live, &config, &new_config))
		return EXIT_ERROR;
	if (a->config && define(cli, t, new_config, "libvirt refused the new definition "
				"(unchanged)"))
		return EXIT_ERROR;
	if (a->live &&
	    virDomainAttachDeviceFlags(t->dom, live.device_xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return undo_config(cli, a, t, "libvirt could not hot-plug the device");
	if (a->live)
		printf("%s: %s attached on root port pci.%d of expander pci.%d (vSMMU vsmmu.%d, "
		       "mirrors %s)\n", a->name, a->bdf_text, live.port, live.expander,
		       live.expander, live.smmu);
	if (a->config)
		print_config_placement(a, &config);
	return EXIT_OK;
}

static int detach(struct cli *cli, struct attach_args *a, struct target *t)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	_cleanup_free_ char *new_config = NULL, *device = NULL;
	size_t len;
	vsmmu_err err;

	if (a->config && cli_scan_host(cli, &host))
		return EXIT_ERROR;
	if (a->live && vsmmu_detach_live(t->live_xml, strlen(t->live_xml), &a->bdf, &device,
					 &err) < 0)
		return cli_error(cli, "%s", err.msg);
	if (a->config && vsmmu_detach_config(t->config_xml, strlen(t->config_xml), host, &a->bdf,
					     &new_config, &len, &err) < 0)
		return cli_error(cli, "%s", err.msg);
	if (a->config && define(cli, t, new_config, "libvirt refused the new definition "
				"(unchanged)"))
		return EXIT_ERROR;
	if (a->live && virDomainDetachDeviceFlags(t->dom, device, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return undo_config(cli, a, t, "libvirt could not hot-unplug the device");
	if (a->live)
		printf("%s: %s detached from the running domain (libvirt completes it when the "
		       "guest releases the device)\n", a->name, a->bdf_text);
	if (a->config)
		printf("%s: %s removed from the definition; its root port is free again\n", a->name,
		       a->bdf_text);
	return EXIT_OK;
}

static int attach_or_detach(struct cli *cli, int argc, char **argv, bool is_attach)
{
	struct attach_args a = { 0 };
	_cleanup_target_ struct target t = { 0 };

	if (parse_args(cli, argc, argv, is_attach, &a) || open_target(cli, &a, &t))
		return EXIT_ERROR;
	return is_attach ? attach(cli, &a, &t) : detach(cli, &a, &t);
}

int cmd_attach(struct cli *cli, int argc, char **argv)
{
	return attach_or_detach(cli, argc, argv, true);
}

int cmd_detach(struct cli *cli, int argc, char **argv)
{
	return attach_or_detach(cli, argc, argv, false);
}
