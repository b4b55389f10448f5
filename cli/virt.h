/* The libvirt client calls vsmmuctl makes. */
#ifndef VSMMU_CLI_VIRT_H
#define VSMMU_CLI_VIRT_H

#include <libvirt/libvirt.h>

#include "cli.h"

static inline void cli_virt_closep(virConnectPtr *c) { if (*c) virConnectClose(*c); }
static inline void cli_virt_freep(virDomainPtr *d) { if (*d) virDomainFree(*d); }
#define _cleanup_virconn_ __attribute__((cleanup(cli_virt_closep)))
#define _cleanup_virdom_ __attribute__((cleanup(cli_virt_freep)))

/* Print libvirt's last error after what; returns EXIT_ERROR. */
int cli_virt_error(const struct cli *cli, const char *what);
/* Connect (cli->uri) and look the domain up; EXIT_ERROR after a message. */
int cli_virt_domain(const struct cli *cli, const char *name, virConnectPtr *conn,
		    virDomainPtr *dom);

/* The daemon's libvirt version (virConnectGetLibVersion). */
int cli_virt_version(const struct cli *cli, virConnectPtr conn, unsigned long *version);

#endif
