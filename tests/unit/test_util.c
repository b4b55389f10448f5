/* lib/base: strict number parsing, PCI addresses and pci.N ids, bounded and
 * trusted reads with their error kinds, atomic writes, the problem list and
 * the string buffer. Files live in a temp directory; no root needed. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "pciaddr.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

static void test_parse_numbers(void)
{
	unsigned long u = 0;
	int i = 0;

	CHECK(vsmmu_parse_ulong("0x1f", 0, 31, &u) == 0 && u == 31, "parse_ulong: 0x prefix, base 0");
	CHECK(vsmmu_parse_ulong("32", 10, 31, &u) < 0, "parse_ulong: above max refused");
	CHECK(vsmmu_parse_ulong("12 ", 10, 99, &u) < 0, "parse_ulong: trailing text refused");
	CHECK(vsmmu_parse_ulong("", 10, 99, &u) < 0, "parse_ulong: empty refused");
	CHECK(vsmmu_parse_ulong("-1", 10, 99, &u) < 0, "parse_ulong: a sign refused");
	CHECK(vsmmu_parse_int("-3", -5, 5, &i) == 0 && i == -3, "parse_int: negative in range");
	CHECK(vsmmu_parse_int("6", -5, 5, &i) < 0, "parse_int: above max refused");
	CHECK(vsmmu_parse_int("99999999999999999999", 0, 5, &i) < 0, "parse_int: overflow refused");
}

static void test_pci_addr(void)
{
	struct vsmmu_pci_addr a, b;
	char s[VSMMU_BDF_LEN];

	CHECK(vsmmu_pci_addr_parse("000A:0b:1f.7", &a) == 0 && a.domain == 10 && a.bus == 11 &&
	      a.slot == 31 && a.func == 7, "BDF: mixed case parses");
	vsmmu_pci_addr_format(&a, s);
	CHECK_STR(s, "000a:0b:1f.7", "BDF: formatted in lower case");
	CHECK(vsmmu_pci_addr_parse("0000:00:20.0", &b) < 0, "BDF: slot 0x20 refused");
	CHECK(vsmmu_pci_addr_parse("0000:00:00.8", &b) < 0, "BDF: function 8 refused");
	CHECK(vsmmu_pci_addr_parse("0000:00:00.0x", &b) < 0, "BDF: trailing text refused");
	CHECK(vsmmu_pci_addr_parse("00:00.0", &b) < 0, "BDF: no domain refused");
	CHECK(vsmmu_pci_addr_parse("0009:00:00.0", &b) == 0 && vsmmu_pci_addr_cmp(&b, &a) < 0 &&
	      vsmmu_pci_addr_cmp(&a, &b) > 0 && !vsmmu_pci_addr_eq(&a, &b),
	      "BDF: ordered by domain first");
}

static void test_pci_id(void)
{
	char id[VSMMU_PCI_ID_LEN];
	int index = 0;

	vsmmu_pci_id(12, id);
	CHECK_STR(id, "pci.12", "pci id: built from the controller index");
	CHECK(vsmmu_pci_id_parse(id, &index) == 0 && index == 12, "pci id: round-trips");
	CHECK(vsmmu_pci_id_parse("pci.0", &index) < 0, "pci id: pci.0 is no controller id");
	CHECK(vsmmu_pci_id_parse("pci.256", &index) < 0, "pci id: above 255 refused");
	CHECK(vsmmu_pci_id_parse("pci.1x", &index) < 0, "pci id: trailing text refused");
	CHECK(vsmmu_pci_id_parse("pcie.1", &index) < 0, "pci id: another prefix refused");
	CHECK(vsmmu_pci_id_parse("pci.", &index) < 0, "pci id: no number refused");
	CHECK(vsmmu_pci_id_parse("pci.05", &index) < 0, "pci id: a leading zero names another id");
	CHECK(vsmmu_pci_id_parse("pci.+5", &index) < 0 && vsmmu_pci_id_parse("pci. 5", &index) < 0,
	      "pci id: a sign or blank refused");
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		printf("# cannot write %s\n", path);
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

static void test_reads(const char *dir)
{
	_cleanup_free_ char *attr = vsmmu_xasprintf("%s/attr", dir);
	_cleanup_free_ char *missing = vsmmu_xasprintf("%s/missing", dir);
	_cleanup_free_ char *text = NULL, *value = NULL;
	size_t len = 0;
	vsmmu_err err = { .msg = "" };

	write_text(attr, "vfio-pci\n", 0644);
	CHECK(vsmmu_read_attr(attr, &value, &err) == 0 && vsmmu_streq(value, "vfio-pci"),
	      "read_attr strips the newline");
	CHECK(vsmmu_read_file(attr, 100, &text, &len, &err) == 0 && len == 9,
	      "read_file gives the length without the NUL");
	CHECK(vsmmu_read_file(attr, 4, &text, &len, &err) < 0 && err.kind == VSMMU_ERR_TOO_BIG,
	      "read_file: larger than max is TOO_BIG");
	CHECK(vsmmu_read_file(missing, 100, &text, &len, &err) < 0 && err.kind == VSMMU_ERR_ABSENT &&
	      strstr(err.msg, missing), "read_file: a missing file is ABSENT and named");
}

static void test_trusted(const char *dir)
{
	_cleanup_free_ char *file = vsmmu_xasprintf("%s/state.json", dir);
	_cleanup_free_ char *link = vsmmu_xasprintf("%s/link.json", dir);
	_cleanup_free_ char *open = vsmmu_xasprintf("%s/open.json", dir);
	_cleanup_free_ char *text = NULL;
	vsmmu_err err = { .msg = "" };

	CHECK(vsmmu_write_atomic(file, "{}", 2, 0600, &err) == 0, "write_atomic: %s", err.msg);
	CHECK(vsmmu_read_trusted(file, 100, &text, &err) == 0 && vsmmu_streq(text, "{}"),
	      "read_trusted reads what write_atomic wrote");
	if (symlink(file, link) < 0)
		printf("# symlink failed\n");
	CHECK(vsmmu_read_trusted(link, 100, &text, &err) < 0 && err.kind == VSMMU_ERR_INVALID &&
	      strstr(err.msg, "is a symbolic link"), "read_trusted refuses a symlink");
	write_text(open, "{}", 0666);
	CHECK(vsmmu_read_trusted(open, 100, &text, &err) < 0 && err.kind == VSMMU_ERR_INVALID,
	      "read_trusted refuses a file others may write: %s", err.msg);
	CHECK(vsmmu_read_trusted(dir, 100, &text, &err) < 0 && strstr(err.msg, "not a regular file"),
	      "read_trusted refuses a directory");
	CHECK(vsmmu_same_file(link, file) && !vsmmu_same_file(open, file),
	      "same_file follows symlinks and tells files apart");
}

static void test_problems(void)
{
	struct vsmmu_strlist p = { 0 };
	_cleanup_free_ char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	for (int i = 0; i < VSMMU_PROBLEMS_SHOWN + 2; i++)
		vsmmu_strlist_addf(&p, "problem %d", i);
	vsmmu_strlist_add_lines(&p, "a\nb\n");
	CHECK_INT(p.n, VSMMU_PROBLEMS_SHOWN + 4, "add and add_lines (one per line) count");
	vsmmu_problems_print(&p, f, "vsmmu");
	fclose(f);
	CHECK(strstr(out, "vsmmu: problem 0\n") && strstr(out, "problem 9\n") &&
	      !strstr(out, "problem 10"), "print shows the first VSMMU_PROBLEMS_SHOWN");
	CHECK(strstr(out, "vsmmu: ... and 4 more problems not shown (14 in all)\n") != NULL,
	      "and counts the rest");
	vsmmu_strlist_clear(&p);
	CHECK(p.n == 0 && !p.items, "clear empties the list");
}

static void test_buf(void)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 };

	for (int i = 0; i < 1000; i++)
		vsmmu_buf_printf(&b, "%d,", i);
	CHECK(b.len == strlen(b.data) && vsmmu_has_prefix(b.data, "0,1,2,") &&
	      strstr(b.data, ",999,"), "buf grows and stays NUL-terminated");
	CHECK(vsmmu_streq(NULL, NULL) && !vsmmu_streq("a", NULL) && vsmmu_has_prefix("pci.1", "pci."),
	      "streq is NULL-safe; has_prefix");
}

int main(void)
{
	char dir[] = "/tmp/vsmmu-util-XXXXXX";

	if (!mkdtemp(dir))
		return 2;
	test_parse_numbers();
	test_pci_addr();
	test_pci_id();
	test_reads(dir);
	test_trusted(dir);
	test_problems();
	test_buf();
	shell("rm -rf '%s'", dir);
	return tap_done();
}
