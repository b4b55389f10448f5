/* qemucaps: version and -device arm-smmuv3,help parsing, what a plan needs,
 * the version check and its message, the cache file. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "qemucaps.h"
#include "tap.h"
#include "util.h"

static const char help_102[] =
	"arm-smmuv3 options:\n"
	"  bus_num=<uint8>        -  (default: 0)\n"
	"  primary-bus=<link<PCI>>\n";
static const char help_110[] =
	"arm-smmuv3 options:\n"
	"  accel=<bool>           -  (default: false)\n"
	"  ats=<bool>             -  (default: false)\n"
	"  primary-bus=<link<PCI>>\n";

static void test_version(void)
{
	struct vsmmu_qemu_version v = { 0, 0, 0 };
	vsmmu_err err;

	CHECK_INT(vsmmu_qemucaps_parse_version("QEMU emulator version 7.2.22 (Debian "
		  "1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard\n", &v, &err),
		  0, "Debian 7.2 -version parses");
	CHECK(v.major == 7 && v.minor == 2 && v.micro == 22, "7.2.22");
	CHECK_INT(vsmmu_qemucaps_parse_version("QEMU emulator version 10.2.50 (v10.2.0-123-gabc)\n",
					       &v, &err), 0, "development snapshot parses");
	CHECK(v.major == 10 && v.minor == 2 && v.micro == 50, "10.2.50");
	CHECK_INT(vsmmu_qemucaps_parse_version("qemu-system-aarch64: unknown option\n", &v, &err),
		  -1, "no version line: refused");
	CHECK(strstr(err.msg, "QEMU emulator version") != NULL, "message says what it looked for");
	CHECK_INT(vsmmu_qemucaps_parse_version("QEMU emulator version 9\n", &v, &err), -1,
		  "truncated version refused");
}

static void test_help(void)
{
	struct vsmmu_qemucaps c = { 0 };

	vsmmu_qemucaps_parse_smmu_help(help_102, &c);
	CHECK(c.smmu_primary_bus && !c.smmu_accel, "primary-bus without accel");
	vsmmu_qemucaps_parse_smmu_help(help_110, &c);
	CHECK(c.smmu_primary_bus && c.smmu_accel, "primary-bus and accel");
	vsmmu_qemucaps_parse_smmu_help("qemu-system-aarch64: -device arm-smmuv3,help: "
				       "'arm-smmuv3' is not a valid device model name\n", &c);
	CHECK(!c.smmu_primary_bus && !c.smmu_accel, "no arm-smmuv3 at all");
	vsmmu_qemucaps_parse_smmu_help("arm-smmuv3 options:\n  xaccel=<bool>\n  primary-busy=<x>\n",
				       &c);
	CHECK(!c.smmu_primary_bus && !c.smmu_accel, "only whole property names count");
}

static struct vsmmu_plan *plan_of(const char *mode, bool vsmmu, const char *props)
{
	_cleanup_free_ char *json = vsmmu_xasprintf(
		"{\"version\":1,\"mode\":\"%s\",\"topology\":\"persistent\",\"expanders\":"
		"[{\"index\":1,\"bus_nr\":250,\"slot\":1,\"smmu\":\"s\"%s%s%s}],"
		"\"root_ports\":[],\"hostdevs\":[]}", mode, vsmmu ? ",\"vsmmu\":{\"id\":\"vsmmu.1\"" : "",
		vsmmu ? props : "", vsmmu ? "}" : "");
	struct vsmmu_plan *plan = NULL;
	vsmmu_err err;

	if (vsmmu_plan_from_json(json, &plan, &err) < 0)
		printf("# plan: %s\n", err.msg);
	return plan;
}

static void expect_need(const char *mode, bool vsmmu, const char *props, int major, int minor,
			const char *what)
{
	_cleanup_plan_ struct vsmmu_plan *plan = plan_of(mode, vsmmu, props);
	struct vsmmu_qemu_need need = { 0 };

	if (plan)
		vsmmu_qemucaps_need(plan, &need);
	CHECK(plan && need.version.major == major && need.version.minor == minor,
	      "%s needs %d.%d (got %d.%d, %s)", what, major, minor, need.version.major,
	      need.version.minor, need.why ? need.why : "");
}

static void test_need(void)
{
	expect_need("emulated", false, "", 0, 0, "no vSMMU, emulated");
	expect_need("accel", false, "", 9, 0, "iommufd only");
	expect_need("emulated", true, "", 10, 2, "plain per-bus vSMMU");
	expect_need("accel", true, "", 11, 0, "accel vSMMU");
	expect_need("accel", true, ",\"ats\":\"auto\"", 11, 1, "an auto value");
	expect_need("accel", true, ",\"cmdqv\":\"on\"", 11, 1, "cmdqv");
	expect_need("accel", true, ",\"ats\":\"on\",\"ssidsize\":\"20\"", 11, 0, "on and numbers");
}

static void test_check(void)
{
	_cleanup_plan_ struct vsmmu_plan *accel = plan_of("accel", true, "");
	_cleanup_plan_ struct vsmmu_plan *cmdqv = plan_of("accel", true, ",\"cmdqv\":\"on\"");
	struct vsmmu_qemucaps q72 = { { 7, 2, 22 }, true, false };
	struct vsmmu_qemucaps q110 = { { 11, 0, 0 }, true, true };
	struct vsmmu_qemucaps dev = { { 10, 2, 50 }, true, true };
	struct vsmmu_qemucaps dev_noaccel = { { 10, 2, 50 }, true, false };
	struct vsmmu_qemu_need need;
	vsmmu_err err;

	vsmmu_qemucaps_need(accel, &need);
	CHECK_INT(vsmmu_qemucaps_check("/usr/bin/qemu-system-aarch64", &q72, &need, &err), -1,
		  "7.2 refused for accel");
	CHECK_STR(err.msg, "/usr/bin/qemu-system-aarch64: QEMU 7.2.22 cannot run this plan, it "
		  "needs QEMU 11.0 or newer (arm-smmuv3 accel=on) and its arm-smmuv3 has no accel; "
		  "install a newer QEMU or set 'qemu =' in vsmmu.conf", "one line: binary, version, "
		  "version needed");
	CHECK_INT(vsmmu_qemucaps_check("q", &q110, &need, &err), 0, "11.0 runs accel");
	CHECK_INT(vsmmu_qemucaps_check("q", &dev, &need, &err), 0,
		  "10.2.50 snapshot with accel counts as 11.0");
	CHECK_INT(vsmmu_qemucaps_check("q", &dev_noaccel, &need, &err), -1,
		  "10.2.50 snapshot without accel refused");
	vsmmu_qemucaps_need(cmdqv, &need);
	CHECK_INT(vsmmu_qemucaps_check("q", &q110, &need, &err), -1, "11.0 refused for cmdqv");
	CHECK(strstr(err.msg, "QEMU 11.0.0 cannot run this plan, it needs QEMU 11.1") != NULL,
	      "cmdqv message names 11.1 (%s)", err.msg);
}

static void test_cache(void)
{
	static const char fake_qemu[] =
		"#!/bin/sh\n"
		"case $1 in -version) echo 'QEMU emulator version 11.1.3';;\n"
		"*) printf 'arm-smmuv3 options:\\n  accel=<bool>\\n  primary-bus=<link>\\n';;\n"
		"esac\n";
	struct stat st;
	char dir[] = "/tmp/test_qemucaps.XXXXXX";
	struct vsmmu_qemucaps in = { { 11, 0, 3 }, true, true }, out = { 0 };
	_cleanup_free_ char *bin = NULL, *file = NULL;
	vsmmu_err err;

	if (!CHECK(mkdtemp(dir) != NULL, "temp dir"))
		return;
	bin = vsmmu_xasprintf("%s/qemu", dir);
	file = vsmmu_xasprintf("%s/" VSMMU_QEMUCAPS_FILE, dir);
	CHECK_INT(vsmmu_write_atomic(bin, "x", 1, 0755, &err), 0, "fake binary");
	CHECK_INT(vsmmu_qemucaps_load(dir, bin, &out, &err), 0, "no cache yet: miss");
	CHECK_INT(vsmmu_qemucaps_save(dir, bin, &in, &err), 0, "saved");
	CHECK_INT(vsmmu_qemucaps_load(dir, bin, &out, &err), 1, "hit");
	CHECK(out.version.micro == 3 && out.smmu_accel && out.smmu_primary_bus, "same caps back");
	CHECK_INT(vsmmu_write_atomic(bin, "xy", 2, 0755, &err), 0, "binary replaced");
	CHECK_INT(vsmmu_qemucaps_load(dir, bin, &out, &err), 0, "other size: miss");
	CHECK(strstr(err.msg, "for another QEMU binary or an older one") != NULL,
	      "and says why (%s)", err.msg);
	CHECK_INT(vsmmu_qemucaps_get(dir, bin, &out, &err), -1, "probing a non-QEMU fails");
	CHECK(strstr(err.msg, bin) != NULL, "and names the binary (%s)", err.msg);
	CHECK_INT(vsmmu_qemucaps_refresh(dir, bin, NULL, &err), -1,
		  "refresh probes a stale entry, and fails on a non-QEMU");
	CHECK_INT(vsmmu_qemucaps_save("/nonexistent/dir", bin, &in, &err), -1,
		  "unwritable run dir reported, callers ignore it");
	CHECK_INT(vsmmu_qemucaps_save(dir, bin, &in, &err), 0, "saved again");
	CHECK_INT(vsmmu_qemucaps_refresh(dir, bin, NULL, &err), 0, "fresh: refresh probes nothing");
	CHECK_INT(chmod(file, 0666), 0, "cache made writable by others");
	CHECK_INT(vsmmu_qemucaps_load(dir, bin, &out, &err), 0, "a cache others can write: miss");
	CHECK(strstr(err.msg, "can be written by group or others") != NULL, "untrusted (%s)",
	      err.msg);
	CHECK_INT(chmod(file, 0644), 0, "back to 0644");
	CHECK_INT(chmod(dir, 0777), 0, "run dir made writable by others");
	CHECK_INT(vsmmu_qemucaps_load(dir, bin, &out, &err), 0, "in a run dir others write: miss");
	CHECK_INT(chmod(dir, 0700), 0, "run dir back");
	unlink(file);
	CHECK_INT(vsmmu_write_atomic(bin, fake_qemu, strlen(fake_qemu), 0755, &err), 0,
		  "a QEMU stand-in");
	CHECK_INT(vsmmu_qemucaps_refresh(dir, bin, NULL, &err), 0, "refresh probes and saves");
	CHECK_INT(vsmmu_qemucaps_load(dir, bin, &out, &err), 1, "what it saved is fresh");
	CHECK(out.version.major == 11 && out.version.minor == 1 && out.version.micro == 3 &&
	      out.smmu_primary_bus && out.smmu_accel, "with the stand-in's caps");
	CHECK_INT(stat(file, &st), 0, "cache written");
	CHECK_INT((int)(st.st_mode & 07777), 0644, "mode 0644 whatever the umask");
	unlink(file);
	unlink(bin);
	rmdir(dir);
}

int main(void)
{
	umask(077);
	test_version();
	test_help();
	test_need();
	test_check();
	test_cache();
	return tap_done();
}
