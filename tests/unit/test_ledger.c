/* The device-node ledger: a record's holders counted once, written, read,
 * listed, and removed with its last holder. */
#include <string.h>

#include "ledger.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

static void test_refs(const char *top)
{
	_cleanup_free_ char *rundir = vsmmu_xasprintf("%s/refs", top);
	struct vsmmu_node_ref ref = { 0 }, back;
	char **paths = NULL;
	size_t n = 0;
	bool found;
	vsmmu_err err;

	CHECK(vsmmu_node_ref_read(rundir, "/dev/iommu", &back, &found, &err) == 0 && !found,
	      "no record: not found");
	ref.node = (struct vsmmu_state_node){ vsmmu_xstrdup("/dev/iommu"), 0, 5, 0666 };
	vsmmu_node_ref_add(&ref, "a");
	vsmmu_node_ref_add(&ref, "b");
	vsmmu_node_ref_add(&ref, "a");
	CHECK_INT(ref.holders.n, 2, "a holder is counted once");
	CHECK(vsmmu_node_ref_write(rundir, &ref, &err) == 0, "record written");
	CHECK(vsmmu_node_ref_read(rundir, "/dev/iommu", &back, &found, &err) == 0 && found,
	      "record read");
	CHECK(back.holders.n == 2 && back.node.gid == 5 && back.node.mode == 0666,
	      "holders and original owner kept");
	vsmmu_node_ref_clear(&back);
	CHECK(vsmmu_node_ref_list(rundir, &paths, &n, &err) == 0 && n == 1 &&
	      strcmp(paths[0], "/dev/iommu") == 0, "list gives the node path back");
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	vsmmu_node_ref_drop(&ref, "a");
	vsmmu_node_ref_drop(&ref, "a");
	CHECK(ref.holders.n == 1 && vsmmu_node_ref_held_by(&ref, "b"), "drop is idempotent");
	vsmmu_node_ref_drop(&ref, "b");
	CHECK(vsmmu_node_ref_write(rundir, &ref, &err) == 0, "empty record written");
	CHECK(vsmmu_node_ref_read(rundir, "/dev/iommu", &back, &found, &err) == 0 && !found,
	      "a record without holders is removed");
	vsmmu_node_ref_clear(&ref);
}

int main(void)
{
	_cleanup_free_ char *top = test_tmpdir("ledger");

	test_refs(top);
	test_rm_rf(top);
	return tap_done();
}
