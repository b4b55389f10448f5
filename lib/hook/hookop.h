/* What the hook decides before parsing: which libvirt hook operations it
 * acts on, and the cheap test that lets unmanaged domains go without
 * parsing anything. */
#ifndef VSMMU_HOOKOP_H
#define VSMMU_HOOKOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "consts.h"
#include "err.h"

enum vsmmu_hook_op { VSMMU_OP_OTHER, VSMMU_OP_PREPARE, VSMMU_OP_START, VSMMU_OP_RELEASE,
		     VSMMU_OP_FILTER };

/* prepare begin, start begin, release end, migrate/restore begin; the rest
 * (started, stopped, reconnect, attach, ...) are VSMMU_OP_OTHER. */
enum vsmmu_hook_op vsmmu_hook_op(const char *op, const char *subop);

/* Cheap test on the raw XML: false means it cannot be a managed domain
 * (no vsmmu namespace, no earlier-proposal iommu model) nor one that runs
 * the wrapper, so the hook can leave without parsing it. */
bool vsmmu_xml_maybe_managed(const char *xml, size_t len);

/* The domain XML libvirt writes on in, read for every op (so that libvirt
 * never writes into a closed pipe), at most max bytes. 1: go on with *xml
 * (NULL for release when it cannot be read: release needs none); 0: an op
 * the hook ignores, exit quietly; -1: the XML of an op that needs it
 * cannot be read (err). */
int vsmmu_hook_read(enum vsmmu_hook_op op, FILE *in, size_t max, char **xml, size_t *len,
		    vsmmu_err *err);

#endif
