#include "virt.h"

#include <libvirt/virterror.h>

int cli_virt_error(const struct cli *cli, const char *what)
{
	const virError *e = virGetLastError();

	return cli_error(cli, "%s: %s", what, e && e->message ? e->message : "unknown error");
}

int cli_virt_domain(const struct cli *cli, const char *name, virConnectPtr *conn,
		    virDomainPtr *dom)
{
	*conn = virConnectOpen(cli->uri);
	if (!*conn)
		return cli_virt_error(cli, "cannot connect to libvirt");
	*dom = virDomainLookupByName(*conn, name);
	return *dom ? 0 : cli_virt_error(cli, name);
}

int cli_virt_version(const struct cli *cli, virConnectPtr conn, unsigned long *version)
{
	return virConnectGetLibVersion(conn, version) < 0
		? cli_virt_error(cli, "cannot read libvirt's version") : 0;
}
