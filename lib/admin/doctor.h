/* doctor: is this host ready for vsmmu? One check a function, each giving
 * a result {name, PASS/WARN/FAIL, detail, remedy}, in the manner of
 * virt-host-validate. Every path comes from the context, so tests point the
 * checks at fake sysfs, /dev, /etc and /proc trees. No global state.
 *
 * Decisions:
 * - A missing /dev/iommu is a WARN, not a FAIL: mode='emulated' domains run
 *   without iommufd; only accelerated vSMMUs need it. For the same reason a
 *   vfio-pci device without a cdev is a WARN. What no mode can use is a FAIL:
 *   no SMMUv3 at all, a vfio-pci device behind no IOMMU or a non-SMMUv3 one,
 *   a missing hook or wrapper, a QEMU older than 10.2.
 * - qemu.conf (libvirt < 12.1): QEMU sees a device node only when the cgroup
 *   device controller allows it and it is in QEMU's private /dev. Both come
 *   from cgroup_device_acl; `namespaces = []` lifts only the second and a
 *   cgroup_controllers list without "devices" only the first. A gap is a
 *   FAIL when /dev/iommu exists (the host is otherwise ready for accel mode,
 *   so accelerated starts would fail) and a WARN when it does not.
 * - The wrapper access check uses the mode bits of the wrapper and of every
 *   directory above it against the QEMU user's uid, gid and supplementary
 *   groups; ACLs and capabilities other than root's are not considered. */
#ifndef VSMMU_DOCTOR_H
#define VSMMU_DOCTOR_H

#include <stddef.h>

#include "consts.h"
#include "conf.h"
#include "err.h"
#include "host.h"

enum vsmmu_doctor_status { VSMMU_DOCTOR_PASS, VSMMU_DOCTOR_WARN, VSMMU_DOCTOR_FAIL };

struct vsmmu_doctor_result {
	char *name;   /* "SMMUv3 instances", "vfio-pci device 0009:01:00.0" */
	enum vsmmu_doctor_status status;
	char *detail; /* what was found */
	char *remedy; /* what to do; NULL for PASS */
};

struct vsmmu_doctor_report {
	struct vsmmu_doctor_result *results;
	size_t n;
};

struct vsmmu_doctor_ctx {
	/* vsmmu.conf as the hook and the wrapper read it (sysfs: the caller's
	 * when given; libvirt_qemu_conf: under etc when left at its default). */
	struct vsmmu_conf conf;
	char *etc;       /* /etc: libvirt/hooks/, libvirt/qemu.conf */
	char *proc;      /* /proc */
	char *wrapper;   /* VSMMU_LIBEXECDIR/vsmmu-qemu */
	char *emulator;  /* libvirt's default aarch64 QEMU (lib/admin/emulator.h) */
	unsigned long libvirt_version; /* 0 when unknown (taken as < 12.1) */
};
/* vsmmu.conf and the environment: VSMMU_SYSFS (or sysfs when not NULL),
 * VSMMU_DEV, VSMMU_RUNDIR, VSMMU_QEMU, VSMMU_CONF, VSMMU_ETC, VSMMU_PROC,
 * VSMMU_WRAPPER. libvirt's qemu.conf is <etc>/libvirt/qemu.conf unless
 * vsmmu.conf names another. 0 or -1 (a broken vsmmu.conf). */
int vsmmu_doctor_ctx_load(struct vsmmu_doctor_ctx *ctx, const char *sysfs, vsmmu_err *err);
void vsmmu_doctor_ctx_clear(struct vsmmu_doctor_ctx *ctx);

/* The checks. host may be NULL where the scan failed. */
struct vsmmu_doctor_result vsmmu_doctor_smmus(const struct vsmmu_doctor_ctx *ctx,
					      const struct vsmmu_host *host,
					      const char *scan_error);
struct vsmmu_doctor_result vsmmu_doctor_iommufd(const struct vsmmu_doctor_ctx *ctx);
struct vsmmu_doctor_result vsmmu_doctor_vfio_cdev(const struct vsmmu_doctor_ctx *ctx,
						  const struct vsmmu_host *host);
struct vsmmu_doctor_result vsmmu_doctor_vfio_device(const struct vsmmu_doctor_ctx *ctx,
						    const struct vsmmu_host *host,
						    const struct vsmmu_pcidev *dev);
struct vsmmu_doctor_result vsmmu_doctor_hook(const struct vsmmu_doctor_ctx *ctx);
struct vsmmu_doctor_result vsmmu_doctor_wrapper(const struct vsmmu_doctor_ctx *ctx);
struct vsmmu_doctor_result vsmmu_doctor_qemu(const struct vsmmu_doctor_ctx *ctx);
struct vsmmu_doctor_result vsmmu_doctor_qemu_conf(const struct vsmmu_doctor_ctx *ctx,
						  const struct vsmmu_host *host);
/* AppArmor, SELinux or none, vsmmu's rules, libvirt's security_driver
 * (lib/confine): FAIL when a managed domain could not start. */
struct vsmmu_doctor_result vsmmu_doctor_confinement(const struct vsmmu_doctor_ctx *ctx);
/* vsmmu.conf's manage policy; under manage = hostdevs the wrapper must be
 * at libvirt's default QEMU path (vsmmuctl emulator install) and qemu =
 * must name another QEMU, or no domain of the policy gets its vSMMUs. */
struct vsmmu_doctor_result vsmmu_doctor_policy(const struct vsmmu_doctor_ctx *ctx);

/* Every check, in report order (one vfio-pci device line per device). */
void vsmmu_doctor_run(const struct vsmmu_doctor_ctx *ctx, struct vsmmu_doctor_report *out);
/* The worst status in the report. */
enum vsmmu_doctor_status vsmmu_doctor_worst(const struct vsmmu_doctor_report *r);
const char *vsmmu_doctor_status_name(enum vsmmu_doctor_status s);
/* [{"check", "status", "detail", "remedy"}], as text the caller frees. */
char *vsmmu_doctor_to_json(const struct vsmmu_doctor_report *r);

void vsmmu_doctor_result_clear(struct vsmmu_doctor_result *r);
void vsmmu_doctor_report_clear(struct vsmmu_doctor_report *r);
static inline void vsmmu_doctor_result_clearp(struct vsmmu_doctor_result *r)
{
	vsmmu_doctor_result_clear(r);
}
static inline void vsmmu_doctor_report_clearp(struct vsmmu_doctor_report *r)
{
	vsmmu_doctor_report_clear(r);
}
#define _cleanup_doctor_result_ __attribute__((cleanup(vsmmu_doctor_result_clearp)))
#define _cleanup_doctor_report_ __attribute__((cleanup(vsmmu_doctor_report_clearp)))

#endif
