/* The names and numbers vsmmu's parts agree on, in one place: what the
 * domain XML, the hook, the wrapper, the run dir and the installed files
 * are called. Bounds and tunables a single module owns stay in its header. */
#ifndef VSMMU_CONSTS_H
#define VSMMU_CONSTS_H

/* ---- Domain XML ---- */
#define VSMMU_NS_URI "urn:vsmmu:domain:1" /* our metadata's namespace */
#define VSMMU_NS_PREFIX "vsmmu"
#define VSMMU_QEMU_NS_URI "http://libvirt.org/schemas/domain/qemu/1.0"
#define VSMMU_MAX_SPARE_PORTS 31
/* Larger domain XML is refused (hook, vsmmuctl). */
#define VSMMU_XML_MAX (4u << 20)

/* ---- What the hook hands the wrapper ---- */
#define VSMMU_PLAN_ENV "VSMMU_PLAN" /* <qemu:env> of a persistent plan */
#define VSMMU_PLAN_VERSION 1
#define VSMMU_STATE_VERSION 1
#define VSMMU_STATE_FILE "state.json"
#define VSMMU_QEMUCAPS_FILE ".qemu-caps" /* in the run dir: no domain dir starts with . */

/* ---- QEMU ids the wrapper gives what it adds ---- */
#define VSMMU_ROOT_VSMMU_ID "vsmmu.0"
#define VSMMU_IOMMUFD_ID "iommufd0"

/* ---- Files and users on the host ---- */
#define VSMMU_WRAPPER_NAME "vsmmu-qemu" /* the <emulator> wrapper's file name */
#define VSMMU_CONF_DEFAULT VSMMU_SYSCONFDIR "/vsmmu/vsmmu.conf"
#define VSMMU_RUNDIR_DEFAULT "/run/vsmmu"
#define VSMMU_DEFAULT_QEMU_USER "libvirt-qemu" /* Debian's libvirt defaults */
#define VSMMU_DEFAULT_QEMU_GROUP "kvm"
/* libvirt's default emulator for an aarch64 domain with no <emulator>: the
 * first qemu-system-aarch64 on libvirtd's PATH (virQEMUCapsFindBinaryForArch
 * -> virQEMUCapsFindBinary("qemu-system-%s") -> virFindFileInPath, in
 * libvirt's src/qemu/qemu_capabilities.c); Debian's qemu-system-arm and
 * Ubuntu's qemu-system-arm install it here. Also vsmmu.conf's qemu default. */
#define VSMMU_EMULATOR_PATH "/usr/bin/qemu-system-aarch64"
/* Where vsmmuctl emulator install diverts QEMU, what it records, and the
 * qemu line it writes into vsmmu.conf. */
#define VSMMU_EMULATOR_REAL VSMMU_EMULATOR_PATH ".real"
#define VSMMU_EMULATOR_RECORD "/var/lib/vsmmu/emulator.json"
#define VSMMU_EMULATOR_CONF_LINE "qemu = " VSMMU_EMULATOR_REAL " # set by vsmmuctl emulator install"

/* ---- libvirt ---- */
/* libvirt's version number as virGetVersion gives it: 12001000 is 12.1.0. */
#define VSMMU_LIBVIRT_IOMMUFD_VERSION 12001000UL

#endif
