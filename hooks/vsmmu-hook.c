/* vsmmu-hook: the libvirt qemu hook, installed as
 * /etc/libvirt/hooks/qemu.d/vsmmu (or as /etc/libvirt/hooks/qemu itself).
 * libvirt runs it as `<name> <op> <subop> <extra>` with the domain XML on
 * stdin, as root, with only LC_ALL and PATH set, synchronously, for every
 * operation of every domain. Exit 0 allows the operation; at prepare and
 * start a non-zero exit fails the start and stderr is what the user sees.
 * prepare checks the topology; start, which libvirt runs after binding
 * managed='yes' hostdevs to vfio-pci, checks the devices and takes their
 * nodes. Unmanaged domains cost one read of stdin and a substring test (at
 * release also a look at the run dir: release does not trust the live XML).
 * libxml2 and jansson are linked statically (Makefile), so an exec maps
 * only libc and libm. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "confine.h"
#include "domain.h"
#include "hookop.h"
#include "manage.h"
#include "prepare.h"
#include "state.h"
#include "util.h"
#include "xmlutil.h"

static int fail(const char *name, const char *msg)
{
	fprintf(stderr, "vsmmu: %s: %s\n", name, msg);
	return 1;
}

/* The wrapper without our metadata has no plan: say how to opt in rather
 * than start a domain without the topology its owner expects. */
static int refuse_unmanaged(const char *name)
{
	fprintf(stderr, "vsmmu: %s: <emulator> is the vsmmu wrapper but the domain has no "
		"vsmmu metadata; opt in with <vsmmu:config xmlns:vsmmu='%s' topology='runtime'/> "
		"in <metadata> (topology built at every start) or run 'vsmmuctl apply %s' "
		"(topology written into the definition)\n", name, VSMMU_NS_URI, name);
	return 1;
}

static inline void conf_clearp(struct vsmmu_conf *c) { vsmmu_conf_clear(c); }
static inline void confine_clearp(struct vsmmu_confine *c) { vsmmu_confine_clear(c); }

/* A wrapper that AppArmor or SELinux would stop (lib/host/confine.h): refuse
 * before QEMU starts rather than fail later or start it without vSMMUs. */
static int check_confinement(const struct vsmmu_conf *conf, const char *name,
			     const struct vsmmu_domain *dom)
{
	__attribute__((cleanup(confine_clearp))) struct vsmmu_confine c = { 0 };
	_cleanup_free_ char *why = NULL;
	const char *etc = getenv("VSMMU_ETC");
	vsmmu_err err;

	if (!vsmmu_domain_uses_wrapper(dom))
		return 0;
	if (vsmmu_confine_detect(conf->sysfs, etc && *etc ? etc : VSMMU_SYSCONFDIR,
				 conf->libvirt_qemu_conf, &c, &err) < 0)
		return fail(name, err.msg);
	why = vsmmu_confine_refusal(&c, dom->emulator, name);
	return why ? fail(name, why) : 0;
}

static inline void problems_clearp(struct vsmmu_strlist *p) { vsmmu_strlist_clear(p); }

static int do_prepare(const struct vsmmu_conf *conf, const char *name,
		      struct vsmmu_domain *dom, enum vsmmu_phase phase)
{
	__attribute__((cleanup(problems_clearp))) struct vsmmu_strlist problems = { 0 };
	vsmmu_err err;

	if (vsmmu_prepare(conf, name, dom, phase, &problems, &err) < 0)
		return fail(name, err.msg);
	vsmmu_problems_print(&problems, stderr, "vsmmu");
	return problems.n > 0;
}

static int do_filter(const struct vsmmu_conf *conf, const char *name,
		     struct vsmmu_domain *dom, const char *xml, size_t len)
{
	_cleanup_free_ char *out = NULL;
	size_t out_len;
	vsmmu_err err;

	if (vsmmu_filter(conf, dom, xml, len, &out, &out_len, &err) < 0)
		return fail(name, err.msg);
	if (out && (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0))
		return fail(name, "cannot write the rewritten XML to stdout");
	return 0;
}

/* release end gives back what the domain's records say whatever the live
 * XML holds now (its metadata may have been removed while it ran) or
 * vsmmu.conf (a broken line is reported, the rest used). Unmanaged-looking
 * XML costs one look at the run dir. */
static int do_release(const char *name, const char *xml, size_t len)
{
	__attribute__((cleanup(conf_clearp))) struct vsmmu_conf conf = { 0 };
	vsmmu_err problem, err;
	bool broken = vsmmu_conf_load_lenient(&conf, &problem) < 0;

	if (xml && !vsmmu_xml_maybe_managed(xml, len) && !vsmmu_state_exists(conf.rundir, name))
		return 0;
	if (broken)
		fprintf(stderr, "vsmmu: %s: %s; releasing with the rest of it\n", name, problem.msg);
	if (vsmmu_release(&conf, name, &err) < 0)
		return fail(name, err.msg);
	return broken;
}

/* A domain vsmmu leaves alone. Under manage = hostdevs one with PCI
 * hostdevs gets the "not ours" verdict at start, so that the wrapper at
 * the default QEMU path passes it through rather than taking it for a
 * start whose hook never ran. conf is loaded when dom has hostdevs. */
static int not_ours(const struct vsmmu_conf *conf, const char *name,
		    const struct vsmmu_domain *dom, enum vsmmu_hook_op op)
{
	vsmmu_err err;

	if (op == VSMMU_OP_PREPARE && vsmmu_domain_uses_wrapper(dom))
		return refuse_unmanaged(name);
	if (op != VSMMU_OP_START || dom->n_hostdevs == 0 || conf->manage != VSMMU_MANAGE_HOSTDEVS ||
	    !vsmmu_streq(dom->arch, "aarch64"))
		return 0;
	return vsmmu_record_unmanaged(conf, name, &err) < 0 ? fail(name, err.msg) : 0;
}

static int run(const char *name, enum vsmmu_hook_op op, const char *xml, size_t len)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	__attribute__((cleanup(conf_clearp))) struct vsmmu_conf conf = { 0 };
	vsmmu_err err;
	enum vsmmu_managed_by by;

	if (op == VSMMU_OP_RELEASE)
		return do_release(name, xml, len);
	if (!vsmmu_manage_maybe(xml, len))
		return 0;
	if (vsmmu_domain_parse(xml, len, &dom, &err) < 0)
		return fail(name, err.msg);
	/* A domain with neither metadata nor hostdev needs no vsmmu.conf. */
	if (!vsmmu_domain_is_managed(dom) && dom->n_hostdevs == 0)
		by = VSMMU_MANAGED_NO;
	else if (vsmmu_conf_load(&conf, &err) < 0)
		/* Unreadable policy: a domain without metadata is left alone, as
		 * under the default (marked); a marked one cannot start. */
		return vsmmu_domain_is_managed(dom) ? fail(name, err.msg) : 0;
	else if (vsmmu_manage_domain(dom, &conf, &by, &err) < 0)
		return fail(name, err.msg);
	if (by != VSMMU_MANAGED_METADATA && by != VSMMU_MANAGED_POLICY)
		return not_ours(&conf, name, dom, op);
	/* The policy never changes a definition, not even in flight. */
	if (by == VSMMU_MANAGED_POLICY && op == VSMMU_OP_FILTER)
		return 0;
	switch (op) {
	case VSMMU_OP_PREPARE:
		return check_confinement(&conf, name, dom) ||
		       do_prepare(&conf, name, dom, VSMMU_PHASE_PREPARE);
	case VSMMU_OP_START:
		return do_prepare(&conf, name, dom, VSMMU_PHASE_START);
	case VSMMU_OP_FILTER:
		return do_filter(&conf, name, dom, xml, len);
	case VSMMU_OP_RELEASE:
	case VSMMU_OP_OTHER:
		break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *xml = NULL;
	enum vsmmu_hook_op op;
	size_t len = 0;
	vsmmu_err err;
	int r;

	if (argc < 4) {
		fputs("usage: vsmmu-hook NAME OP SUBOP [EXTRA] < domain.xml\n"
		      "(the libvirt qemu hook; see /etc/libvirt/hooks/qemu.d/)\n", stderr);
		return 2;
	}
	op = vsmmu_hook_op(argv[2], argv[3]);
	r = vsmmu_hook_read(op, stdin, VSMMU_XML_MAX, &xml, &len, &err);
	if (r < 0)
		return fail(argv[1], err.msg);
	return r == 0 ? 0 : run(argv[1], op, xml, len);
}
