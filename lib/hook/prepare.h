/* What the hook does for a managed domain: check the host is ready for it
 * at prepare, hand the device nodes QEMU opens to the QEMU user and write
 * the runtime state; undo all of it at release; rewrite the XML in flight
 * at migrate and restore. */
#ifndef VSMMU_PREPARE_H
#define VSMMU_PREPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "domain.h"
#include "err.h"
#include "host.h"
#include "state.h"
#include "util.h"

#define VSMMU_DEFAULT_QEMU_USER "libvirt-qemu" /* Debian's libvirt defaults */
#define VSMMU_DEFAULT_QEMU_GROUP "kvm"
#define VSMMU_NODE_MODE 0660

#include "hookop.h"

/* A vfio-pci driver or a variant of it ("nvgrace-gpu-vfio-pci"). */
bool vsmmu_driver_is_vfio(const char *driver);

/* The QEMU user and group: vsmmu.conf, else libvirt's qemu.conf, else the
 * defaults. "+N" is a numeric id, as in qemu.conf. */
int vsmmu_qemu_ids(const struct vsmmu_conf *conf, uid_t *uid, gid_t *gid, vsmmu_err *err);

/* libvirt runs the prepare hook before it binds managed='yes' hostdevs to
 * vfio-pci (qemuProcessPrepareHost) and the start hook after, just before
 * QEMU runs. So prepare checks the topology and what libvirt will not
 * change; start checks every device and takes the device nodes. */
enum vsmmu_phase { VSMMU_PHASE_PREPARE, VSMMU_PHASE_START };

/* Readiness of the host for dom: one problem per failure. */
void vsmmu_prepare_check_ready(const struct vsmmu_domain *dom, enum vsmmu_mode mode,
			       enum vsmmu_phase phase, const struct vsmmu_host *host,
			       const char *devdir, struct vsmmu_problems *out);

/* Under the run dir lock: take each node for domain name (recording its
 * original owner and mode the first time), chown/chmod it to uid:gid 0660
 * and append it to st->nodes. On failure every node taken is given back.
 * A node must be a character device inside devdir, reached without
 * following a symlink; vsmmu acts on the descriptor it checked, never on
 * the path again. */
int vsmmu_nodes_take(const char *rundir, const char *devdir, const char *name,
		     char *const *paths, size_t n, uid_t uid, gid_t gid, struct vsmmu_state *st,
		     vsmmu_err *err);
/* Under the lock: drop name from every node record; a node nobody holds
 * any more gets its original owner and mode back, under the same rules,
 * inside devdir or start_devdir (the dev dir at start, NULL if unknown).
 * Idempotent. A record that fails them is reported, kept, and left alone;
 * the others are still given back. */
int vsmmu_nodes_release(const char *rundir, const char *devdir, const char *start_devdir,
			const char *name, vsmmu_err *err);

/* prepare begin and start begin. Returns -1 on an error (err), else 0: when
 * problems->n > 0 the domain must not start and nothing was changed. Only
 * the start phase takes device nodes and writes the state; the prepare
 * phase of a domain that runs the wrapper fills the QEMU capability cache
 * (lib/qemu/qemucaps.h), which the wrapper cannot write. dom is
 * rewritten in place by the topology check (see vsmmu_check_domain). */
int vsmmu_prepare(const struct vsmmu_conf *conf, const char *name, struct vsmmu_domain *dom,
		  enum vsmmu_phase phase, struct vsmmu_problems *problems, vsmmu_err *err);
/* start begin of a domain with PCI hostdevs that manage = hostdevs leaves
 * alone (opted out, or no hostdev behind an SMMUv3): the "not ours"
 * verdict the wrapper at the default QEMU path needs (lib/hook/state.h).
 * release end removes it with the rest. */
int vsmmu_record_unmanaged(const struct vsmmu_conf *conf, const char *name, vsmmu_err *err);
/* release end: gives back what the domain's records say, whatever the
 * live XML or vsmmu.conf hold now. Safe to run twice and without a
 * prepare. */
int vsmmu_release(const struct vsmmu_conf *conf, const char *name, vsmmu_err *err);
/* migrate/restore begin: *out is the XML rewritten for this host, or NULL
 * when nothing changes. */
int vsmmu_filter(const struct vsmmu_conf *conf, const struct vsmmu_domain *dom,
		 const char *xml, size_t len, char **out, size_t *out_len, vsmmu_err *err);

#endif
