/* The hook's operations on a managed domain, in the order libvirt runs
 * them: prepare and start (check the topology and the host, then at start
 * hand over the device nodes and write the state), the "not ours" verdict,
 * release (undo it all), and the migrate/restore filter (the XML rewritten
 * in flight). The parts live in ready.h, nodes.h, state.h and ledger.h. */
#ifndef VSMMU_PREPARE_H
#define VSMMU_PREPARE_H

#include <stddef.h>

#include "conf.h"
#include "domain.h"
#include "err.h"
#include "ready.h"
#include "util.h"

/* prepare begin and start begin. Returns -1 on an error (err), else 0: when
 * problems->n > 0 the domain must not start and nothing was changed. Only
 * the start phase takes device nodes and writes the state; the prepare
 * phase of a domain that runs the wrapper fills the QEMU capability cache
 * (lib/qemu/qemucaps.h), which the wrapper cannot write. The topology
 * check (vsmmu_check_domain) compares dom with the plan and leaves it as
 * parsed. */
int vsmmu_prepare(const struct vsmmu_conf *conf, const char *name, struct vsmmu_domain *dom,
		  enum vsmmu_phase phase, struct vsmmu_strlist *problems, vsmmu_err *err);
/* start begin of a domain with PCI hostdevs that manage = hostdevs leaves
 * alone (opted out, or no hostdev behind an SMMUv3): the "not ours"
 * verdict the wrapper at the default QEMU path needs (lib/hook/state.h).
 * release end removes it with the rest. */
int vsmmu_record_unmanaged(const struct vsmmu_conf *conf, const char *name, vsmmu_err *err);
/* release end: gives back what the domain's records say, whatever the
 * live XML or vsmmu.conf hold now. Safe to run twice and without a
 * prepare. */
int vsmmu_release(const struct vsmmu_conf *conf, const char *name, vsmmu_err *err);
/* migrate/restore begin: *out is xml, the document dom was parsed from,
 * rewritten for this host, or NULL when nothing changes. dom is planned
 * and rewritten in place (by its metadata, as the policy never changes a
 * definition in flight), so the XML is parsed once. */
int vsmmu_filter(const struct vsmmu_conf *conf, struct vsmmu_domain *dom, const char *xml,
		 size_t len, char **out, size_t *out_len, vsmmu_err *err);

#endif
