/* The permission model: mode bits against a uid and its groups, the first
 * directory a user cannot search, and the QEMU user's ids from vsmmu.conf.
 * Synthetic stat results and a temp tree: no root needed. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perm.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

static struct stat st_of(mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st = { .st_mode = mode, .st_uid = uid, .st_gid = gid };

	return st;
}

static void test_may_exec(void)
{
	struct vsmmu_perm_ids user = { .uid = 1000, .groups = { 100, 27 }, .n_groups = 2 };
	struct vsmmu_perm_ids root = { .uid = 0, .groups = { 0 }, .n_groups = 1 };
	struct stat owned = st_of(S_IFREG | 0700, 1000, 5), group = st_of(S_IFREG | 0750, 5, 27);
	struct stat other = st_of(S_IFREG | 0751, 5, 5), closed = st_of(S_IFREG | 0770, 5, 5);
	struct stat dir = st_of(S_IFDIR | 0700, 5, 5), plain = st_of(S_IFREG | 0644, 0, 0);

	CHECK(vsmmu_perm_in_groups(&user, 27) && !vsmmu_perm_in_groups(&user, 5),
	      "a supplementary group counts, another does not");
	CHECK(vsmmu_perm_may_exec(&user, &owned), "the owner's x bit");
	CHECK(vsmmu_perm_may_exec(&user, &group), "the group's x bit, by a supplementary group");
	CHECK(vsmmu_perm_may_exec(&user, &other), "the others' x bit");
	CHECK(!vsmmu_perm_may_exec(&user, &closed), "no x bit for others: refused");
	{
		struct stat owner_no_x = st_of(S_IFREG | 0077, 1000, 100);

		CHECK(!vsmmu_perm_may_exec(&user, &owner_no_x),
		      "the owner's bits decide for the owner, whatever group and others have");
	}
	CHECK(vsmmu_perm_may_exec(&root, &dir), "root searches any directory");
	CHECK(vsmmu_perm_may_exec(&root, &closed), "root executes a file with any x bit");
	CHECK(!vsmmu_perm_may_exec(&root, &plain), "not one without");
}

static void test_unsearchable(void)
{
	char tmpl[] = "/tmp/vsmmu-test-perm.XXXXXX";
	const char *top = mkdtemp(tmpl);
	_cleanup_free_ char *file = vsmmu_xasprintf("%s/a/b/wrapper", top);
	_cleanup_free_ char *b = vsmmu_xasprintf("%s/a/b", top);
	_cleanup_free_ char *first = NULL, *second = NULL;
	uid_t other = getuid() == 65534 ? 65533 : 65534;
	struct vsmmu_perm_ids ids = { .uid = other, .groups = { other }, .n_groups = 1 };

	shell("mkdir -p '%s/a/b' && touch '%s' && chmod 0755 '%s' '%s/a' && chmod 0700 '%s'",
	      top, file, top, top, b);
	first = vsmmu_perm_unsearchable_parent(&ids, file);
	CHECK_STR(first, b, "the 0700 directory is the first another user cannot search");
	shell("chmod 0711 '%s'", b);
	second = vsmmu_perm_unsearchable_parent(&ids, file);
	CHECK(second == NULL, "search (x) without read is enough");
	shell("rm -rf '%s'", top);
}

static void test_qemu_ids(void)
{
	struct vsmmu_conf conf = { .qemu_user = "+1234", .qemu_group = "+5678",
				   .libvirt_qemu_conf = "/nonexistent/qemu.conf" };
	struct vsmmu_perm_ids ids;
	vsmmu_err err;

	CHECK(vsmmu_perm_qemu_ids(&conf, &ids, &err) == 0 && ids.uid == 1234 &&
	      ids.groups[0] == 5678 && ids.n_groups >= 1, "numeric ids, the primary group first");
	conf.qemu_user = "no-such-user-vsmmu";
	CHECK(vsmmu_perm_qemu_ids(&conf, &ids, &err) < 0 && strstr(err.msg, "no-such-user-vsmmu"),
	      "an unknown user is an error naming it");
	conf.qemu_user = "+0";
	conf.qemu_group = "+0";
	CHECK(vsmmu_perm_qemu_ids(&conf, &ids, &err) == 0 && ids.uid == 0 && ids.groups[0] == 0,
	      "a uid with a passwd entry gets its groups, the primary one first");
}

int main(void)
{
	test_may_exec();
	test_unsearchable();
	test_qemu_ids();
	return tap_done();
}
