/* Runtime state: name validation, JSON round trip, atomic write/read/remove
 * (no temporary files left), a domain named like the lock file. The node
 * records are test_ledger.c's, the lock test_rundir.c's. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"
#include "state.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

/* Entries in dir whose name contains ".tmp". */
static int count_temps(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (strstr(e->d_name, ".tmp"))
			n++;
	return n;
}

static void test_names(void)
{
	/* libvirt accepts these; the run dir holds .lock, .nodes, .qemu-caps */
	static const char *const names[] = { "vm1", "grace-2gpu", "a..b", "x.y", ".", "..",
		".hidden", ".lock", ".nodes", ".qemu-caps", "qemu-caps", "state.json", "a/b",
		"../x", "tab\tname", "new\nline", "%2E", "a b", "\xc3\xa9t\xc3\xa9" };
	char *dirs[VSMMU_ARRAY_LEN(names)];
	char long_a[260], long_b[260];
	vsmmu_err err;

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(names); i++) {
		CHECK(vsmmu_state_name_check(names[i], &err) == 0, "name %zu accepted", i);
		dirs[i] = vsmmu_state_dir_name(names[i]);
		CHECK(dirs[i][0] != '.' && !strchr(dirs[i], '/') && strlen(dirs[i]) < 256,
		      "'%s' is one path component that cannot be an internal file's", dirs[i]);
	}
	for (size_t i = 0; i < VSMMU_ARRAY_LEN(names); i++)
		for (size_t j = i + 1; j < VSMMU_ARRAY_LEN(names); j++)
			if (strcmp(dirs[i], dirs[j]) == 0)
				CHECK(0, "names %zu and %zu share the directory %s", i, j, dirs[i]);
	CHECK_STR(dirs[0], "vm1", "a plain name is its own directory");
	for (size_t i = 0; i < VSMMU_ARRAY_LEN(names); i++)
		free(dirs[i]);
	CHECK(vsmmu_state_name_check("", &err) < 0 && vsmmu_state_name_check(NULL, &err) < 0,
	      "an empty or no name is refused");
	CHECK(vsmmu_state_name_check("\xff\xfe", &err) < 0, "a name that is not UTF-8 is refused");
	memset(long_a, '%', sizeof(long_a) - 2);
	memcpy(long_b, long_a, sizeof(long_a));
	long_a[sizeof(long_a) - 2] = 'a';
	long_b[sizeof(long_b) - 2] = 'b';
	long_a[sizeof(long_a) - 1] = long_b[sizeof(long_b) - 1] = '\0';
	{
		_cleanup_free_ char *da = vsmmu_state_dir_name(long_a);
		_cleanup_free_ char *db = vsmmu_state_dir_name(long_b);

		CHECK(strlen(da) < 256 && strcmp(da, db) != 0,
		      "long names that differ only at the end get distinct, short directories");
	}
}

/* One expander for one hostdev, as the hook plans for topology='runtime'. */
#define SAMPLE_PLAN                                                                         \
	"{\"version\":1,\"mode\":\"accel\",\"topology\":\"runtime\",\"iommufd\":\"iommufd0\","     \
	"\"expanders\":[{\"index\":8,\"bus_nr\":248,\"slot\":8,\"smmu\":\"smmu3.0x16\","           \
	"\"vsmmu\":{\"id\":\"vsmmu.8\",\"accel\":true}}],"                                          \
	"\"root_ports\":[{\"index\":9,\"slot\":0,\"bus\":\"pci.8\"}],"                               \
	"\"hostdevs\":[{\"host\":\"0009:01:00.0\",\"smmu\":\"smmu3.0x16\",\"bus\":\"pci.9\","       \
	"\"expander\":\"pci.8\"}]}"

static struct vsmmu_state *sample(const char *name)
{
	struct vsmmu_state *st = vsmmu_xcalloc(1, sizeof(*st));
	vsmmu_err err;

	st->name = vsmmu_xstrdup(name);
	st->mode = vsmmu_xstrdup("accel");
	st->iommufd = vsmmu_xstrdup("/dev/iommu");
	st->n_hostdevs = 2;
	st->hostdevs = vsmmu_xcalloc(2, sizeof(*st->hostdevs));
	st->hostdevs[0] = (struct vsmmu_state_hostdev){ vsmmu_xstrdup("0009:01:00.0"),
		vsmmu_xstrdup("vfio0"), vsmmu_xstrdup("/dev/vfio/devices/vfio0"),
		vsmmu_xstrdup("smmu3.0x0000000016000000"), 1 };
	st->hostdevs[1] = (struct vsmmu_state_hostdev){ vsmmu_xstrdup("0000:01:00.0"), NULL, NULL,
		NULL, -1 };
	st->n_expanders = 1;
	st->expanders = vsmmu_xcalloc(1, sizeof(*st->expanders));
	st->expanders[0] = (struct vsmmu_state_expander){ 1, vsmmu_xstrdup("smmu3.0x0000000016000000") };
	st->n_nodes = 1;
	st->nodes = vsmmu_xcalloc(1, sizeof(*st->nodes));
	st->nodes[0] = (struct vsmmu_state_node){ vsmmu_xstrdup("/dev/iommu"), 0, 0, 0666 };
	if (vsmmu_plan_from_json(SAMPLE_PLAN, &st->plan, &err) < 0)
		printf("# sample plan: %s\n", err.msg);
	return st;
}

static void test_json_roundtrip(void)
{
	_cleanup_state_ struct vsmmu_state *st = sample("vm1");
	_cleanup_state_ struct vsmmu_state *back = NULL;
	_cleanup_free_ char *json = vsmmu_state_to_json(st);
	vsmmu_err err;

	CHECK(json != NULL, "state serialises");
	CHECK(vsmmu_state_from_json(json, &back, &err) == 0, "state parses back");
	if (!back)
		return;
	CHECK_STR(back->name, "vm1", "domain name kept");
	CHECK_STR(back->iommufd, "/dev/iommu", "iommufd kept");
	CHECK_INT(back->n_hostdevs, 2, "two hostdevs");
	CHECK_STR(back->hostdevs[0].cdev_path, "/dev/vfio/devices/vfio0", "cdev path kept");
	CHECK(back->hostdevs[1].cdev == NULL && back->hostdevs[1].expander == -1,
	      "absent cdev and expander stay absent");
	CHECK_STR(back->expanders[0].smmu, "smmu3.0x0000000016000000", "expander SMMU kept");
	CHECK_INT(back->nodes[0].mode, 0666, "node mode kept");
	CHECK(back->plan && back->plan->topology == VSMMU_TOPO_RUNTIME &&
	      back->plan->n_expanders == 1 && back->plan->expanders[0].index == 8 &&
	      back->plan->n_hostdevs == 1 && back->plan->hostdevs[0].port == 9,
	      "the plan comes back as a plan");
	CHECK(back->plan && back->plan->expanders[0].n_buses == 2,
	      "an expander's bus range is its root bus and one per port when not written");
	CHECK(strstr(json, "\"plan\": {") && !strstr(json, "\"plan\": \""),
	      "the plan is embedded as an object, not as a string");
	{
		_cleanup_state_ struct vsmmu_state *wide = NULL;
		_cleanup_free_ char *wide_json = NULL;

		st->plan->expanders[0].n_buses = 4; /* other bridges behind it */
		wide_json = vsmmu_state_to_json(st);
		CHECK(vsmmu_state_from_json(wide_json, &wide, &err) == 0 && wide->plan &&
		      wide->plan->expanders[0].n_buses == 4, "a wider bus range round-trips");
	}
	CHECK(vsmmu_state_from_json("{\"version\":2,\"domain\":\"x\"}", &back, &err) < 0,
	      "a newer state version is refused");
	CHECK(vsmmu_state_from_json("{", &back, &err) < 0, "broken JSON is refused");
}

/* The hook's "not ours" verdict under manage = hostdevs. */
static void test_unmanaged_verdict(void)
{
	struct vsmmu_state verdict = { .name = "nova-1", .unmanaged = true };
	_cleanup_state_ struct vsmmu_state *back = NULL, *managed = NULL, *old = NULL;
	_cleanup_state_ struct vsmmu_state *bad = NULL;
	_cleanup_free_ char *json = vsmmu_state_to_json(&verdict);
	_cleanup_free_ char *managed_json = NULL;
	_cleanup_state_ struct vsmmu_state *st = sample("vm1");
	vsmmu_err err;

	CHECK(json && strstr(json, "\"managed\": false"), "the verdict says managed: false");
	CHECK(vsmmu_state_from_json(json, &back, &err) == 0 && back->unmanaged && !back->plan &&
	      back->n_nodes == 0, "the verdict parses back: no plan, nothing held");
	managed_json = vsmmu_state_to_json(st);
	CHECK(vsmmu_state_from_json(managed_json, &managed, &err) == 0 && !managed->unmanaged,
	      "a managed start's state is not a verdict");
	CHECK(vsmmu_state_from_json("{\"version\":1,\"domain\":\"x\"}", &old, &err) == 0 &&
	      !old->unmanaged, "a state without \"managed\" (an earlier hook's) is a managed one");
	CHECK(vsmmu_state_from_json("{\"version\":1,\"domain\":\"x\",\"managed\":\"no\"}", &bad,
				    &err) < 0 && strstr(err.msg, "\"managed\""),
	      "a \"managed\" that is not a boolean is refused, by name");
}

static void test_files(const char *top)
{
	_cleanup_free_ char *rundir = vsmmu_xasprintf("%s/run", top);
	_cleanup_free_ char *dir = vsmmu_xasprintf("%s/vm1", rundir);
	_cleanup_state_ struct vsmmu_state *st = sample("vm1");
	_cleanup_state_ struct vsmmu_state *back = NULL;
	struct stat sb;
	vsmmu_err err;

	CHECK(vsmmu_state_read(rundir, "vm1", &back, &err) == 0 && !back,
	      "no state reads as absent, not as an error");
	CHECK(vsmmu_state_write(rundir, st, &err) == 0, "state written");
	CHECK(vsmmu_state_write(rundir, st, &err) == 0, "state rewritten over itself");
	CHECK_INT(count_temps(dir), 0, "no temporary files left");
	CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0755, "domain dir is 0755");
	CHECK(vsmmu_state_read(rundir, "vm1", &back, &err) == 0 && back, "state read back");
	CHECK(back && strcmp(back->hostdevs[0].bdf, "0009:01:00.0") == 0, "content survives");
	free(st->name);
	st->name = vsmmu_xstrdup("../escape");
	{
		_cleanup_state_ struct vsmmu_state *other = NULL;
		_cleanup_free_ char *outside = vsmmu_xasprintf("%s/escape", top);
		_cleanup_free_ char *inside = vsmmu_xasprintf("%s/%%2E.%%2Fescape", rundir);

		CHECK(vsmmu_state_write(rundir, st, &err) == 0 && stat(outside, &sb) < 0 &&
		      stat(inside, &sb) == 0, "a name with '/' and '..' stays inside the run dir");
		CHECK(vsmmu_state_read(rundir, "..", &other, &err) == 0 && !other,
		      "'..' is a name like any other: no state for it");
		CHECK(vsmmu_state_remove(rundir, "../escape", &err) == 0 && stat(inside, &sb) < 0,
		      "and its state is removed from there");
	}
	CHECK(vsmmu_state_remove(rundir, "vm1", &err) == 0, "state removed");
	CHECK(stat(dir, &sb) < 0, "domain dir gone");
	CHECK(vsmmu_state_remove(rundir, "vm1", &err) == 0, "removing twice is fine");
	{
		_cleanup_state_ struct vsmmu_state *lock = sample(".lock");
		_cleanup_free_ char *lockfile = vsmmu_xasprintf("%s/.lock", rundir);
		int fd = -1;

		CHECK(vsmmu_rundir_lock(rundir, 100, &fd, &err) == 0, "the run dir lock is taken");
		CHECK(vsmmu_state_write(rundir, lock, &err) == 0 &&
		      vsmmu_state_remove(rundir, ".lock", &err) == 0,
		      "a domain named .lock has its state, beside the lock file");
		CHECK(stat(lockfile, &sb) == 0 && S_ISREG(sb.st_mode), "the lock file is still there");
		if (fd >= 0)
			close(fd);
	}
}

int main(void)
{
	_cleanup_free_ char *top = test_tmpdir("state");

	test_names();
	test_json_roundtrip();
	test_unmanaged_verdict();
	test_files(top);
	test_rm_rf(top);
	return tap_done();
}
