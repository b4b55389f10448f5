#include "doctor.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "confine.h"
#include "emulator.h"
#include "perm.h"
#include "proc.h"
#include "qemucaps.h"
#include "qemuconf.h"
#include "util.h"

#define HOOK_MAX (64u << 20)
#define HOOK_MARKER "vsmmu-hook"

/* libvirt's default cgroup_device_acl: setting the key replaces it. */
static const char *const default_acl[] = {
	"/dev/null", "/dev/full", "/dev/zero", "/dev/random", "/dev/urandom",
	"/dev/ptmx", "/dev/kvm", "/dev/userfaultfd",
};

/* ---- results ---- */

static struct vsmmu_doctor_result result(const char *name, enum vsmmu_doctor_status status,
					 char *detail, char *remedy)
{
	return (struct vsmmu_doctor_result){ .name = vsmmu_xstrdup(name), .status = status,
					     .detail = detail, .remedy = remedy };
}

static struct vsmmu_doctor_result pass(const char *name, char *detail)
{
	return result(name, VSMMU_DOCTOR_PASS, detail, NULL);
}

void vsmmu_doctor_result_clear(struct vsmmu_doctor_result *r)
{
	free(r->name);
	free(r->detail);
	free(r->remedy);
	r->name = r->detail = r->remedy = NULL;
}

void vsmmu_doctor_report_clear(struct vsmmu_doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		vsmmu_doctor_result_clear(&r->results[i]);
	free(r->results);
	r->results = NULL;
	r->n = 0;
}

static void report_add(struct vsmmu_doctor_report *r, struct vsmmu_doctor_result res)
{
	r->results = vsmmu_xrealloc(r->results, r->n + 1, sizeof(*r->results));
	r->results[r->n++] = res;
}

const char *vsmmu_doctor_status_name(enum vsmmu_doctor_status s)
{
	return s == VSMMU_DOCTOR_PASS ? "PASS" : s == VSMMU_DOCTOR_WARN ? "WARN" : "FAIL";
}

enum vsmmu_doctor_status vsmmu_doctor_worst(const struct vsmmu_doctor_report *r)
{
	enum vsmmu_doctor_status worst = VSMMU_DOCTOR_PASS;

	for (size_t i = 0; i < r->n; i++)
		if (r->results[i].status > worst)
			worst = r->results[i].status;
	return worst;
}

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *vsmmu_doctor_to_json(const struct vsmmu_doctor_report *r)
{
	json_auto_t *arr = json_array();

	for (size_t i = 0; i < r->n; i++) {
		const struct vsmmu_doctor_result *res = &r->results[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:o}", "check", res->name,
						     "status", vsmmu_doctor_status_name(res->status),
						     "detail", json_str_or_null(res->detail),
						     "remedy", json_str_or_null(res->remedy)));
	}
	return json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

/* ---- context ---- */

int vsmmu_doctor_ctx_load(struct vsmmu_doctor_ctx *ctx, const char *sysfs, vsmmu_err *err)
{
	*ctx = (struct vsmmu_doctor_ctx){ 0 };
	if (vsmmu_conf_load(&ctx->conf, err) < 0)
		return -1;
	if (sysfs) {
		free(ctx->conf.sysfs);
		ctx->conf.sysfs = vsmmu_xstrdup(sysfs);
	}
	ctx->etc = vsmmu_conf_env_path("VSMMU_ETC", "/etc");
	ctx->proc = vsmmu_conf_env_path("VSMMU_PROC", "/proc");
	ctx->wrapper = vsmmu_xstrdup(vsmmu_wrapper_path());
	ctx->emulator = vsmmu_xstrdup(VSMMU_EMULATOR_PATH);
	/* conf defaults libvirt_qemu_conf to /etc/...: follow VSMMU_ETC then. */
	if (vsmmu_streq(ctx->conf.libvirt_qemu_conf, "/etc/libvirt/qemu.conf")) {
		free(ctx->conf.libvirt_qemu_conf);
		ctx->conf.libvirt_qemu_conf = vsmmu_xasprintf("%s/libvirt/qemu.conf", ctx->etc);
	}
	return 0;
}

void vsmmu_doctor_ctx_clear(struct vsmmu_doctor_ctx *ctx)
{
	vsmmu_conf_clear(&ctx->conf);
	free(ctx->etc);
	free(ctx->proc);
	free(ctx->wrapper);
	free(ctx->emulator);
	*ctx = (struct vsmmu_doctor_ctx){ 0 };
}

/* ---- SMMUv3 instances ---- */

static const char smmus_name[] = "SMMUv3 instances";

struct vsmmu_doctor_result vsmmu_doctor_smmus(const struct vsmmu_doctor_ctx *ctx,
					      const struct vsmmu_host *host,
					      const char *scan_error)
{
	_cleanup_buf_ struct vsmmu_buf names = { 0 };

	if (!host)
		return result(smmus_name, VSMMU_DOCTOR_FAIL,
			      vsmmu_xasprintf("cannot scan %s: %s", ctx->conf.sysfs, scan_error),
			      vsmmu_xasprintf("check that %s is a sysfs tree (VSMMU_SYSFS, "
					      "--sysfs)", ctx->conf.sysfs));
	if (host->n_smmus == 0)
		return result(smmus_name, VSMMU_DOCTOR_FAIL,
			      vsmmu_xasprintf("no smmu3.* entry in %s/class/iommu", ctx->conf.sysfs),
			      vsmmu_xstrdup("enable the SMMUv3 in the firmware (ACPI IORT) and "
					    "boot a kernel with CONFIG_ARM_SMMU_V3=y, without "
					    "iommu.passthrough=1"));
	for (size_t i = 0; i < host->n_smmus; i++)
		vsmmu_buf_printf(&names, "%s%s", i ? ", " : "", host->smmus[i].name);
	return pass(smmus_name, vsmmu_xasprintf("%zu found: %s", host->n_smmus, names.data));
}

/* ---- iommufd ---- */

struct vsmmu_doctor_result vsmmu_doctor_iommufd(const struct vsmmu_doctor_ctx *ctx)
{
	static const char name[] = "iommufd";
	_cleanup_free_ char *node = vsmmu_xasprintf("%s/iommu", ctx->conf.dev);

	if (vsmmu_path_exists(node))
		return pass(name, vsmmu_xasprintf("%s present", node));
	return result(name, VSMMU_DOCTOR_WARN,
		      vsmmu_xasprintf("no %s: only mode='emulated' domains can start", node),
		      vsmmu_xstrdup("load iommufd (modprobe iommufd; CONFIG_IOMMUFD=y) for "
				    "accelerated vSMMUs"));
}

/* ---- VFIO cdev support ---- */

static bool dev_is_vfio(const struct vsmmu_pcidev *d)
{
	return vsmmu_driver_is_vfio(d->driver);
}

/* An entry of <sysfs>/class/vfio-dev with a dev attribute (a cdev). */
static bool class_has_cdev(const char *sysfs)
{
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/class/vfio-dev", sysfs);
	_cleanup_closedir_ DIR *d = opendir(dir);
	const struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		_cleanup_free_ char *attr = NULL;

		if (e->d_name[0] == '.')
			continue;
		attr = vsmmu_xasprintf("%s/%s/dev", dir, e->d_name);
		if (vsmmu_path_exists(attr))
			return true;
	}
	return false;
}

struct vsmmu_doctor_result vsmmu_doctor_vfio_cdev(const struct vsmmu_doctor_ctx *ctx,
						  const struct vsmmu_host *host)
{
	static const char name[] = "VFIO cdev support";
	size_t n_vfio = 0, n_cdev = 0;

	for (size_t i = 0; host && i < host->n_devs; i++) {
		n_vfio += dev_is_vfio(&host->devs[i]);
		n_cdev += dev_is_vfio(&host->devs[i]) && host->devs[i].vfio_cdev;
	}
	if (n_cdev > 0 || class_has_cdev(ctx->conf.sysfs))
		return pass(name, vsmmu_xasprintf("%zu of %zu vfio-pci devices have a cdev",
						  n_cdev, n_vfio));
	if (n_vfio > 0)
		return result(name, VSMMU_DOCTOR_WARN,
			      vsmmu_xasprintf("none of %zu vfio-pci devices has a vfio-dev/ cdev",
					      n_vfio),
			      vsmmu_xstrdup("boot a kernel with CONFIG_VFIO_DEVICE_CDEV=y (Linux "
					    "6.6+) for accelerated vSMMUs"));
	return result(name, VSMMU_DOCTOR_WARN,
		      vsmmu_xasprintf("no device is bound to vfio-pci and %s/class/vfio-dev "
				      "holds no cdev: cannot tell", ctx->conf.sysfs),
		      vsmmu_xstrdup("bind the devices to pass through to vfio-pci and run "
				    "vsmmuctl doctor again"));
}

/* ---- each vfio-pci device ---- */

static struct vsmmu_doctor_result device_iommu_fail(const char *name,
						    const struct vsmmu_pcidev *dev)
{
	if (dev->iommu_kind == VSMMU_IOMMU_NONE)
		return result(name, VSMMU_DOCTOR_FAIL,
			      vsmmu_xasprintf("%s has no iommu link: it bypasses translation",
					      dev->bdf),
			      vsmmu_xasprintf("%s cannot be passed through nested; use a device "
					      "behind an SMMUv3, or check the firmware's IORT "
					      "mapping for it", dev->bdf));
	return result(name, VSMMU_DOCTOR_FAIL,
		      vsmmu_xasprintf("%s is behind %s, not an SMMUv3", dev->bdf,
				      dev->iommu_name ? dev->iommu_name : "an unknown IOMMU"),
		      vsmmu_xasprintf("vsmmu needs devices behind an SMMUv3; do not pass %s "
				      "through a vsmmu-managed domain", dev->bdf));
}

struct vsmmu_doctor_result vsmmu_doctor_vfio_device(const struct vsmmu_doctor_ctx *ctx,
						    const struct vsmmu_host *host,
						    const struct vsmmu_pcidev *dev)
{
	_cleanup_free_ char *name = vsmmu_xasprintf("vfio-pci device %s", dev->bdf);
	_cleanup_free_ char *node = NULL;
	const struct vsmmu_smmu *smmu = vsmmu_host_dev_smmu(host, dev);

	if (dev->iommu_kind != VSMMU_IOMMU_SMMUV3 || !smmu)
		return device_iommu_fail(name, dev);
	if (!dev->vfio_cdev)
		return result(name, VSMMU_DOCTOR_WARN,
			      vsmmu_xasprintf("behind %s, no cdev in %s/bus/pci/devices/%s/"
					      "vfio-dev/: emulated mode only", smmu->name,
					      ctx->conf.sysfs, dev->bdf),
			      vsmmu_xstrdup("boot a kernel with CONFIG_VFIO_DEVICE_CDEV=y "
					    "(Linux 6.6+) for accelerated vSMMUs"));
	node = vsmmu_xasprintf("%s/vfio/devices/%s", ctx->conf.dev, dev->vfio_cdev);
	if (!vsmmu_path_exists(node))
		return result(name, VSMMU_DOCTOR_WARN,
			      vsmmu_xasprintf("behind %s, cdev %s in sysfs but no %s", smmu->name,
					      dev->vfio_cdev, node),
			      vsmmu_xasprintf("create the node (devtmpfs or udev should: "
					      "udevadm trigger %s/bus/pci/devices/%s/vfio-dev/%s)",
					      ctx->conf.sysfs, dev->bdf, dev->vfio_cdev));
	return pass(name, vsmmu_xasprintf("%s, behind %s, cdev %s", dev->driver, smmu->name,
					  node));
}

/* ---- the libvirt hook ---- */

static bool is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

static bool file_has_marker(const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	vsmmu_err ignored;

	if (vsmmu_read_file(path, HOOK_MAX, &data, &len, &ignored) < 0)
		return false;
	return memmem(data, len, HOOK_MARKER, strlen(HOOK_MARKER)) != NULL;
}

/* The hook file libvirt runs for us, or NULL. */
static char *find_hook(const struct vsmmu_doctor_ctx *ctx)
{
	char *dropin = vsmmu_xasprintf("%s/libvirt/hooks/qemu.d/vsmmu", ctx->etc);
	char *main_hook;

	if (vsmmu_path_exists(dropin))
		return dropin;
	free(dropin);
	main_hook = vsmmu_xasprintf("%s/libvirt/hooks/qemu", ctx->etc);
	if (file_has_marker(main_hook))
		return main_hook;
	free(main_hook);
	return NULL;
}

static struct vsmmu_doctor_result hook_freshness(const struct vsmmu_doctor_ctx *ctx,
						 const char *name, const char *hook)
{
	_cleanup_free_ char *daemon = NULL;
	struct stat st;
	long long start = 0;

	if (stat(hook, &st) == 0)
		daemon = vsmmu_proc_find_daemon(ctx->proc, &start);
	if (!daemon)
		return pass(name, vsmmu_xasprintf("%s (no libvirt daemon running; it will "
						  "find the hook when it starts)", hook));
	if ((long long)st.st_mtim.tv_sec > start)
		return result(name, VSMMU_DOCTOR_WARN,
			      vsmmu_xasprintf("%s is newer than the running %s", hook, daemon),
			      vsmmu_xstrdup("restart libvirtd so it finds the hook (systemctl "
					    "restart libvirtd, or virtqemud)"));
	return pass(name, vsmmu_xasprintf("%s, found by the running %s", hook, daemon));
}

struct vsmmu_doctor_result vsmmu_doctor_hook(const struct vsmmu_doctor_ctx *ctx)
{
	static const char name[] = "libvirt hook";
	_cleanup_free_ char *hook = find_hook(ctx);

	if (!hook)
		return result(name, VSMMU_DOCTOR_FAIL,
			      vsmmu_xasprintf("neither %s/libvirt/hooks/qemu.d/vsmmu nor a vsmmu "
					      "%s/libvirt/hooks/qemu", ctx->etc, ctx->etc),
			      vsmmu_xasprintf("install the hook (make install puts vsmmu-hook at "
					      "%s/libvirt/hooks/qemu.d/vsmmu), then restart "
					      "libvirtd", ctx->etc));
	if (!is_executable_file(hook))
		return result(name, VSMMU_DOCTOR_FAIL,
			      vsmmu_xasprintf("%s is not an executable file", hook),
			      vsmmu_xasprintf("chmod 0755 %s", hook));
	return hook_freshness(ctx, name, hook);
}

/* ---- the wrapper, as the QEMU user ---- */

static struct vsmmu_doctor_result wrapper_fail(const char *name, char *detail, char *remedy)
{
	return result(name, VSMMU_DOCTOR_FAIL, detail, remedy);
}

struct vsmmu_doctor_result vsmmu_doctor_wrapper(const struct vsmmu_doctor_ctx *ctx)
{
	static const char name[] = "wrapper executable by the QEMU user";
	char real[PATH_MAX];
	_cleanup_free_ char *dir = NULL;
	struct vsmmu_perm_ids ids;
	struct stat st;
	vsmmu_err err;

	if (!realpath(ctx->wrapper, real) || stat(real, &st) < 0)
		return wrapper_fail(name, vsmmu_xasprintf("no %s", ctx->wrapper),
				    vsmmu_xstrdup("install vsmmu (make install), or point "
						  "VSMMU_WRAPPER at vsmmu-qemu"));
	if (vsmmu_perm_qemu_ids(&ctx->conf, &ids, &err) < 0)
		return wrapper_fail(name, vsmmu_xstrdup(err.msg),
				    vsmmu_xstrdup("set qemu_user and qemu_group in vsmmu.conf"));
	dir = vsmmu_perm_unsearchable_parent(&ids, real);
	if (dir)
		return wrapper_fail(name, vsmmu_xasprintf("uid %u cannot search %s, above %s",
							  (unsigned)ids.uid, dir, real),
				    vsmmu_xasprintf("chmod o+x %s", dir));
	if (!S_ISREG(st.st_mode) || !vsmmu_perm_may_exec(&ids, &st))
		return wrapper_fail(name, vsmmu_xasprintf("uid %u gid %u cannot execute %s "
							  "(mode %04o)", (unsigned)ids.uid,
							  (unsigned)ids.groups[0], real,
							  (unsigned)(st.st_mode & 07777)),
				    vsmmu_xasprintf("chmod 0755 %s", real));
	return pass(name, vsmmu_xasprintf("%s, uid %u gid %u", real, (unsigned)ids.uid,
					  (unsigned)ids.groups[0]));
}

/* ---- the real QEMU ---- */

static bool caps_serve(const struct vsmmu_doctor_ctx *ctx, const struct vsmmu_qemucaps *caps,
		       int major, int minor, bool accel)
{
	struct vsmmu_qemu_need need = { .version = { major, minor, 0 }, .why = "doctor",
					.primary_bus = true, .accel = accel };
	vsmmu_err ignored;

	return vsmmu_qemucaps_check(ctx->conf.qemu, caps, &need, &ignored) == 0;
}

struct vsmmu_doctor_result vsmmu_doctor_qemu(const struct vsmmu_doctor_ctx *ctx)
{
	static const char name[] = "QEMU arm-smmuv3 support";
	struct vsmmu_qemucaps caps = { 0 };
	const struct vsmmu_qemu_version *v = &caps.version;
	vsmmu_err err;

	if (vsmmu_qemucaps_get(ctx->conf.rundir, ctx->conf.qemu, &caps, &err) < 0)
		return result(name, VSMMU_DOCTOR_FAIL, vsmmu_xstrdup(err.msg),
			      vsmmu_xstrdup("install qemu-system-aarch64 11.0 or newer, or set "
					    "'qemu =' in vsmmu.conf"));
	if (caps_serve(ctx, &caps, 11, 0, true))
		return pass(name, vsmmu_xasprintf("%s %d.%d.%d: user-creatable and accelerated "
						  "arm-smmuv3", ctx->conf.qemu, v->major, v->minor,
						  v->micro));
	if (caps_serve(ctx, &caps, 10, 2, false))
		return result(name, VSMMU_DOCTOR_WARN,
			      vsmmu_xasprintf("%s %d.%d.%d: user-creatable arm-smmuv3 without "
					      "accel: emulated vSMMUs only", ctx->conf.qemu, v->major,
					      v->minor, v->micro),
			      vsmmu_xstrdup("install QEMU 11.0 or newer for accelerated vSMMUs"));
	return result(name, VSMMU_DOCTOR_FAIL,
		      vsmmu_xasprintf("%s %d.%d.%d: no user-creatable arm-smmuv3 with "
				      "primary-bus (QEMU 10.2+)", ctx->conf.qemu, v->major, v->minor,
				      v->micro),
		      vsmmu_xstrdup("install QEMU 11.0 or newer (10.2 for emulated vSMMUs only), "
				    "or set 'qemu =' in vsmmu.conf"));
}

/* ---- qemu.conf ---- */

/* The nodes QEMU must open: <dev>/iommu and every vfio-pci device's cdev. */
static void needed_nodes(const struct vsmmu_doctor_ctx *ctx, const struct vsmmu_host *host,
			 struct vsmmu_strlist *out)
{
	_cleanup_free_ char *iommu = vsmmu_xasprintf("%s/iommu", ctx->conf.dev);

	vsmmu_strlist_add(out, iommu);
	for (size_t i = 0; host && i < host->n_devs; i++) {
		_cleanup_free_ char *node = NULL;

		if (!dev_is_vfio(&host->devs[i]) || !host->devs[i].vfio_cdev)
			continue;
		node = vsmmu_xasprintf("%s/vfio/devices/%s", ctx->conf.dev, host->devs[i].vfio_cdev);
		vsmmu_strlist_add(out, node);
	}
}

/* "cgroup_device_acl = [ ... ]": the list set (or libvirt's default) plus
 * the missing nodes. */
static char *acl_line(const struct vsmmu_strlist *acl, bool acl_set,
		      const struct vsmmu_strlist *missing)
{
	struct vsmmu_buf b = { 0 };
	size_t k = 0;

	vsmmu_buf_printf(&b, "cgroup_device_acl = [ ");
	for (size_t i = 0; acl_set && i < acl->n; i++)
		vsmmu_buf_printf(&b, "%s\"%s\"", k++ ? ", " : "", acl->items[i]);
	for (size_t i = 0; !acl_set && i < VSMMU_ARRAY_LEN(default_acl); i++)
		vsmmu_buf_printf(&b, "%s\"%s\"", k++ ? ", " : "", default_acl[i]);
	for (size_t i = 0; i < missing->n; i++)
		vsmmu_buf_printf(&b, "%s\"%s\"", k++ ? ", " : "", missing->items[i]);
	vsmmu_buf_printf(&b, " ]");
	return b.data;
}

static bool cgroup_devices_off(const char *text)
{
	_cleanup_strlist_ struct vsmmu_strlist ctl = { 0 };

	return vsmmu_qemu_conf_list(text, "cgroup_controllers", &ctl) == 1 &&
	       !vsmmu_strlist_has(&ctl, "devices");
}

static bool namespaces_off(const char *text)
{
	_cleanup_strlist_ struct vsmmu_strlist ns = { 0 };

	return vsmmu_qemu_conf_list(text, "namespaces", &ns) == 1 && ns.n == 0;
}

static struct vsmmu_doctor_result qemu_conf_gap(const struct vsmmu_doctor_ctx *ctx,
						const char *name, const struct vsmmu_strlist *acl,
						bool acl_set, const struct vsmmu_strlist *missing,
						bool ns_off)
{
	_cleanup_free_ char *iommu = vsmmu_xasprintf("%s/iommu", ctx->conf.dev);
	_cleanup_free_ char *list = vsmmu_strlist_join(missing);
	_cleanup_free_ char *line = acl_line(acl, acl_set, missing);

	return result(name, vsmmu_path_exists(iommu) ? VSMMU_DOCTOR_FAIL : VSMMU_DOCTOR_WARN,
		      vsmmu_xasprintf("%s: cgroup_device_acl %s %s%s", ctx->conf.libvirt_qemu_conf,
				      acl_set ? "lacks" : "is not set, so QEMU cannot open", list,
				      ns_off ? " (namespaces = [] is not enough: the cgroup "
					       "device controller still blocks them)" : ""),
		      vsmmu_xasprintf("set in %s: %s; then restart libvirtd", ctx->conf.libvirt_qemu_conf,
				      line));
}

struct vsmmu_doctor_result vsmmu_doctor_qemu_conf(const struct vsmmu_doctor_ctx *ctx,
						  const struct vsmmu_host *host)
{
	static const char name[] = "qemu.conf device access";
	_cleanup_strlist_ struct vsmmu_strlist acl = { 0 }, needed = { 0 }, missing = { 0 };
	_cleanup_free_ char *text = NULL;
	unsigned long v = ctx->libvirt_version;
	vsmmu_err err;
	bool acl_set;

	if (v >= VSMMU_LIBVIRT_IOMMUFD_VERSION)
		return pass(name, vsmmu_xasprintf("libvirt %lu.%lu gives QEMU /dev/iommu and the "
						  "vfio cdevs itself", v / 1000000, v / 1000 % 1000));
	if (vsmmu_read_file(ctx->conf.libvirt_qemu_conf, VSMMU_QEMU_CONF_MAX, &text, NULL, &err) < 0) {
		if (err.kind != VSMMU_ERR_ABSENT)
			return result(name, VSMMU_DOCTOR_WARN, vsmmu_xstrdup(err.msg),
				      vsmmu_xstrdup("run vsmmuctl doctor as root"));
		text = vsmmu_xstrdup("");
	}
	acl_set = vsmmu_qemu_conf_list(text, "cgroup_device_acl", &acl) == 1;
	needed_nodes(ctx, host, &needed);
	for (size_t i = 0; i < needed.n; i++)
		if (!vsmmu_strlist_has(&acl, needed.items[i]))
			vsmmu_strlist_add(&missing, needed.items[i]);
	if (missing.n == 0)
		return pass(name, vsmmu_xasprintf("%s: cgroup_device_acl lists %zu node(s) QEMU "
						  "needs", ctx->conf.libvirt_qemu_conf, needed.n));
	if (namespaces_off(text) && cgroup_devices_off(text))
		return pass(name, vsmmu_xasprintf("%s: namespaces = [] and no devices cgroup "
						  "controller", ctx->conf.libvirt_qemu_conf));
	return qemu_conf_gap(ctx, name, &acl, acl_set, &missing, namespaces_off(text));
}

/* ---- AppArmor / SELinux (lib/confine) ---- */

struct vsmmu_doctor_result vsmmu_doctor_confinement(const struct vsmmu_doctor_ctx *ctx)
{
	static const char name[] = "QEMU confinement (AppArmor, SELinux)";
	struct vsmmu_confine c;
	char *detail = NULL, *remedy = NULL;
	vsmmu_err err;
	int status;

	if (vsmmu_confine_detect(ctx->conf.sysfs, ctx->etc, ctx->conf.libvirt_qemu_conf, &c, &err) < 0)
		return result(name, VSMMU_DOCTOR_WARN, vsmmu_xstrdup(err.msg),
			      vsmmu_xstrdup("run vsmmuctl doctor as root"));
	status = vsmmu_confine_report(&c, ctx->wrapper, ctx->conf.qemu, &detail, &remedy);
	vsmmu_confine_clear(&c);
	return result(name, status == 0 ? VSMMU_DOCTOR_PASS : status == 1 ? VSMMU_DOCTOR_WARN
		      : VSMMU_DOCTOR_FAIL, detail, remedy);
}

/* ---- host policy ---- */

struct vsmmu_doctor_result vsmmu_doctor_policy(const struct vsmmu_doctor_ctx *ctx)
{
	static const char name[] = "host policy (vsmmu.conf manage =)";
	static const char fix[] = "run 'vsmmuctl emulator install', then restart libvirtd";

	if (ctx->conf.manage != VSMMU_MANAGE_HOSTDEVS)
		return pass(name, vsmmu_xstrdup("manage = marked: only domains with vsmmu metadata "
						"(vsmmuctl apply) are managed"));
	if (!vsmmu_same_file(ctx->emulator, ctx->wrapper))
		return result(name, VSMMU_DOCTOR_FAIL,
			      vsmmu_xasprintf("manage = hostdevs, but %s, libvirt's QEMU for a "
					      "domain without <emulator>, is not the wrapper %s: "
					      "such domains start without their vSMMUs",
					      ctx->emulator, ctx->wrapper),
			      vsmmu_xstrdup(fix));
	if (vsmmu_same_file(ctx->conf.qemu, ctx->wrapper))
		return result(name, VSMMU_DOCTOR_FAIL,
			      vsmmu_xasprintf("qemu = %s in vsmmu.conf is the wrapper itself, not "
					      "QEMU", ctx->conf.qemu),
			      vsmmu_xstrdup(fix));
	return pass(name, vsmmu_xasprintf("manage = hostdevs: every aarch64 domain with a PCI "
					  "hostdev behind an SMMUv3; the wrapper is at %s and "
					  "runs %s", ctx->emulator, ctx->conf.qemu));
}

/* ---- all of them ---- */

void vsmmu_doctor_run(const struct vsmmu_doctor_ctx *ctx, struct vsmmu_doctor_report *out)
{
	_cleanup_host_ struct vsmmu_host *host = NULL;
	vsmmu_err err = { .msg = "" };

	if (vsmmu_host_scan(ctx->conf.sysfs, &host, &err) < 0)
		host = NULL;
	report_add(out, vsmmu_doctor_smmus(ctx, host, err.msg));
	report_add(out, vsmmu_doctor_iommufd(ctx));
	report_add(out, vsmmu_doctor_vfio_cdev(ctx, host));
	for (size_t i = 0; host && i < host->n_devs; i++)
		if (dev_is_vfio(&host->devs[i]))
			report_add(out, vsmmu_doctor_vfio_device(ctx, host, &host->devs[i]));
	report_add(out, vsmmu_doctor_hook(ctx));
	report_add(out, vsmmu_doctor_wrapper(ctx));
	report_add(out, vsmmu_doctor_policy(ctx));
	report_add(out, vsmmu_doctor_qemu(ctx));
	report_add(out, vsmmu_doctor_qemu_conf(ctx, host));
	report_add(out, vsmmu_doctor_confinement(ctx));
}
