/* Unit tests for lib/qemuargs: parse, inspect, edit and print QEMU argv.
 * Fixtures in tests/fixtures/argv/ hold one argument per line; run from
 * the top of the tree (tests/run-tests does). */
#include <stdlib.h>
#include <string.h>

#include "qemuargs.h"
#include "qemulookup.h"
#include "qemuprops.h"
#include "tap.h"
#include "util.h"

#include "argvfix.h"

static struct vsmmu_qargs *parse_fixture(const char *name, struct fixture *f)
{
	struct vsmmu_qargs *args = NULL;
	vsmmu_err err = { .msg = "" };

	if (fixture_load(name, f) < 0)
		return NULL;
	if (vsmmu_qargs_parse(f->n, (const char *const *)f->lines, &args, &err) < 0) {
		printf("# parse %s: %s\n", name, err.msg);
		return NULL;
	}
	return args;
}

static struct vsmmu_qargs *parse_strings(const char *const *argv)
{
	struct vsmmu_qargs *args = NULL;
	vsmmu_err err = { .msg = "" };
	int argc = 0;

	while (argv[argc])
		argc++;
	if (vsmmu_qargs_parse(argc, argv, &args, &err) < 0) {
		printf("# parse: %s\n", err.msg);
		return NULL;
	}
	return args;
}

/* The value printed right after the argument at index, or NULL. */
static const char *value_at(struct vsmmu_qargs *args, size_t index)
{
	const char *v = NULL;
	vsmmu_err err = { .msg = "" };

	if (vsmmu_qargs_arg_value(vsmmu_qargs_at(args, index), &v, &err) < 0) {
		printf("# value_at %zu: %s\n", index, err.msg);
		return NULL;
	}
	return v;
}

static size_t device_index(struct vsmmu_qargs *args, const char *id)
{
	size_t index = VSMMU_QARGS_NONE;
	vsmmu_err err = { .msg = "" };

	if (vsmmu_qargs_find_device(args, id, &index, &err) < 0)
		printf("# find %s: %s\n", id, err.msg);
	return index;
}

static struct vsmmu_qargs_arg *device(struct vsmmu_qargs *args, const char *id)
{
	return vsmmu_qargs_at(args, device_index(args, id));
}

static const char *prop(struct vsmmu_qargs_arg *arg, const char *key)
{
	const char *v = NULL;
	vsmmu_err err = { .msg = "" };

	if (!arg || vsmmu_qargs_get(arg, key, &v, &err) < 0)
		return "(error)";
	return v;
}

/* The whole argv printed and compared with the fixture, element by element. */
static void test_round_trip(const char *name)
{
	_cleanup_fixture_ struct fixture f;
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_fixture(name, &f);
	vsmmu_err err = { .msg = "" };
	char **argv = NULL;
	int i = 0;

	if (!CHECK(args, "%s parses", name))
		return;
	CHECK(vsmmu_qargs_argv(args, &argv, &err) == 0, "%s prints", name);
	for (; argv && argv[i] && i < f.n; i++)
		if (strcmp(argv[i], f.lines[i]) != 0)
			break;
	CHECK(argv && i == f.n && !argv[i], "%s: all %d elements come back byte for byte", name,
	      f.n);
	if (argv && i < f.n)
		printf("#   element %d: got '%s'\n#   want '%s'\n", i, argv[i] ? argv[i] : "(null)",
		       f.lines[i]);
}

/* print() writes the fixture file back exactly. */
static void test_print_identical(const char *name)
{
	_cleanup_fixture_ struct fixture f;
	_cleanup_free_ char *path = vsmmu_xasprintf(FIXTURES "%s", name);
	_cleanup_free_ char *orig = NULL;
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_free_ char *out = NULL;
	size_t outlen = 0;
	vsmmu_err err = { .msg = "" };
	FILE *mem;

	args = parse_fixture(name, &f);
	if (!args || vsmmu_read_file(path, 4u << 20, &orig, NULL, &err) < 0) {
		CHECK(0, "%s: print gives the file back", name);
		return;
	}
	mem = open_memstream(&out, &outlen);
	CHECK(mem && vsmmu_qargs_print(args, mem, &err) == 0, "%s: print succeeds", name);
	if (mem)
		fclose(mem);
	CHECK_STR(out, orig, "%s: print gives the file back", name);
}

static void test_kinds(void)
{
	_cleanup_fixture_ struct fixture f;
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_fixture("libvirt9-accel.argv", &f);
	struct vsmmu_qargs_arg *a;

	if (!CHECK(args, "libvirt 9.0 argv parses"))
		return;
	CHECK_INT(vsmmu_qargs_count(args), 39, "73 elements are 39 arguments");
	a = vsmmu_qargs_at(args, 0);
	CHECK_INT(vsmmu_qargs_arg_kind(a), VSMMU_QARGS_ARG_PROGRAM, "argv[0] is the program");
	CHECK_STR(vsmmu_qargs_arg_name(a), "/usr/libexec/vsmmu/vsmmu-qemu", "program name kept");
	a = vsmmu_qargs_at(args, 1);
	CHECK(vsmmu_qargs_arg_is(a, "name") && vsmmu_qargs_arg_kind(a) == VSMMU_QARGS_ARG_OPTION,
	      "-name takes a value");
	CHECK_INT(vsmmu_qargs_arg_position(a), 1, "-name is at argv[1]");
	a = vsmmu_qargs_at(args, 2);
	CHECK(vsmmu_qargs_arg_is(a, "S") && vsmmu_qargs_arg_kind(a) == VSMMU_QARGS_ARG_FLAG,
	      "-S is a flag");
	a = vsmmu_qargs_at(args, 3);
	CHECK(vsmmu_qargs_arg_option(a) == VSMMU_QARGS_OPT_OBJECT &&
		      vsmmu_qargs_arg_syntax(a) == VSMMU_QARGS_SYNTAX_JSON,
	      "-S does not swallow the -object after it");
	CHECK_INT(vsmmu_qargs_arg_position(a), 4, "-object is at argv[4]");
	a = vsmmu_qargs_at(args, 4);
	CHECK(vsmmu_qargs_arg_is(a, "blockdev") && vsmmu_qargs_arg_option(a) == VSMMU_QARGS_OPT_OTHER &&
		      vsmmu_qargs_arg_syntax(a) == VSMMU_QARGS_SYNTAX_NONE,
	      "-blockdev is an option we do not look into");
	a = vsmmu_qargs_at(args, 8);
	CHECK(vsmmu_qargs_arg_option(a) == VSMMU_QARGS_OPT_MACHINE &&
		      vsmmu_qargs_arg_syntax(a) == VSMMU_QARGS_SYNTAX_KEYVAL,
	      "-machine is key=value");
	a = vsmmu_qargs_at(args, 22);
	CHECK(vsmmu_qargs_arg_is(a, "no-shutdown") && vsmmu_qargs_arg_kind(a) == VSMMU_QARGS_ARG_FLAG,
	      "-no-shutdown is a flag");
	a = vsmmu_qargs_at(args, 23);
	CHECK(vsmmu_qargs_arg_is(a, "boot") && strcmp(value_at(args, 23), "strict=on") == 0,
	      "-no-shutdown does not swallow -boot");
}

static void test_flags_and_positionals(void)
{
	static const char *const argv[] = {
		"qemu", "--nodefaults", "-daemonize", "--device", "virtio-rng-pci,id=rng0",
		"-enable-kvm", "-device", "-S", "disk.img", "-async-teardown", "-preconfig",
		"-no-acpi", "-nographic", NULL,
	};
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_strings(argv);
	struct vsmmu_qargs_arg *a;

	if (!CHECK(args, "flags and positionals parse"))
		return;
	CHECK_INT(vsmmu_qargs_count(args), 11, "13 elements are 11 arguments");
	a = vsmmu_qargs_at(args, 1);
	CHECK(vsmmu_qargs_arg_kind(a) == VSMMU_QARGS_ARG_FLAG && vsmmu_qargs_arg_is(a, "nodefaults"),
	      "--nodefaults is the flag -nodefaults");
	a = vsmmu_qargs_at(args, 3);
	CHECK(vsmmu_qargs_arg_option(a) == VSMMU_QARGS_OPT_DEVICE, "--device is -device");
	CHECK_STR(prop(a, "driver"), "virtio-rng-pci", "--device driver read");
	a = vsmmu_qargs_at(args, 5);
	CHECK(vsmmu_qargs_arg_option(a) == VSMMU_QARGS_OPT_DEVICE && strcmp(value_at(args, 5), "-S") == 0,
	      "an option takes the next element as its value, as QEMU does");
	a = vsmmu_qargs_at(args, 6);
	CHECK(vsmmu_qargs_arg_kind(a) == VSMMU_QARGS_ARG_POSITIONAL, "disk.img is positional");
	for (size_t i = 7; i < 11; i++)
		CHECK_INT(vsmmu_qargs_arg_kind(vsmmu_qargs_at(args, i)), VSMMU_QARGS_ARG_FLAG,
			  "%s is a flag", vsmmu_qargs_arg_name(vsmmu_qargs_at(args, i)));
}

static void test_probe(void)
{
	_cleanup_fixture_ struct fixture f;
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_fixture("libvirt-probe.argv", &f);
	vsmmu_err err = { .msg = "" };
	const char *type = NULL;
	size_t i = 0;

	if (!CHECK(args, "libvirt's capability probe parses"))
		return;
	CHECK_INT(vsmmu_qargs_arg_kind(vsmmu_qargs_at(args, vsmmu_qargs_count(args) - 1)),
		  VSMMU_QARGS_ARG_FLAG, "a trailing -daemonize is a flag");
	CHECK(vsmmu_qargs_next(args, VSMMU_QARGS_OPT_MACHINE, NULL, &i, &err) == 1 && i == 5,
	      "the -machine is found");
	CHECK(vsmmu_qargs_type(vsmmu_qargs_at(args, i), &type, &err) == 1 &&
		      strcmp(type, "none") == 0,
	      "machine type none");
	CHECK_STR(prop(vsmmu_qargs_at(args, i), "accel"), "kvm:tcg", "accel=kvm:tcg");
	i++;
	CHECK_INT(vsmmu_qargs_next(args, VSMMU_QARGS_OPT_MACHINE, NULL, &i, &err), 0,
		  "only one -machine");
	CHECK_INT(vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, NULL, &i, &err), 0,
		  "no -device in the probe");
}

static void test_json_get(void)
{
	_cleanup_fixture_ struct fixture f;
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_fixture("libvirt9-accel.argv", &f);
	vsmmu_err err = { .msg = "" };
	struct vsmmu_qargs_arg *a;
	const char *type = NULL;
	unsigned long n = 0;
	bool b = false;
	size_t i;
	int found;

	if (!CHECK(args, "libvirt 9.0 argv parses"))
		return;
	a = device(args, "pci.1");
	CHECK(vsmmu_qargs_type(a, &type, &err) == 1 && strcmp(type, "pxb-pcie") == 0,
	      "pci.1 is a pxb-pcie");
	CHECK_STR(prop(a, "bus_nr"), "250", "JSON integer bus_nr reads as 250");
	CHECK(vsmmu_qargs_get_ulong(a, "bus_nr", 255, &n, &err) == 1 && n == 250,
	      "bus_nr as a number");
	CHECK(vsmmu_qargs_get_ulong(a, "addr", 31, &n, &err) == 1 && n == 1, "addr 0x1 as a number");
	CHECK(vsmmu_qargs_get_ulong(a, "bus_nr", 200, &n, &err) == -1 && strstr(err.msg, "bus_nr=250"),
	      "bus_nr over the maximum is refused: %s", err.msg);
	CHECK_INT(vsmmu_qargs_has(a, "numa_node", &err), 0, "no numa_node");
	CHECK_INT(vsmmu_qargs_has(a, "bus", &err), 1, "has bus");
	a = device(args, "hostdev0");
	CHECK_STR(prop(a, "driver"), "vfio-pci", "hostdev0 driver");
	CHECK_STR(prop(a, "host"), "0009:01:00.0", "hostdev0 host");
	CHECK_STR(prop(a, "bus"), "pci.2", "hostdev0 bus");
	a = device(args, "pci.3");
	CHECK_STR(prop(a, "multifunction"), "true", "JSON true reads as \"true\"");
	CHECK(vsmmu_qargs_get_bool(a, "multifunction", &b, &err) == 1 && b, "and as a boolean");
	CHECK(vsmmu_qargs_get_bool(a, "port", &b, &err) == -1, "a number is not a boolean");
	a = device(args, "virtio-disk0");
	CHECK_STR(prop(a, "bootindex"), "1", "bootindex 1");
	found = 0;
	for (i = 0; vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, "pcie-root-port", &i, &err) > 0; i++)
		found++;
	CHECK_INT(found, 3, "three pcie-root-port devices");
	i = 0;
	CHECK(vsmmu_qargs_next(args, VSMMU_QARGS_OPT_OBJECT, "memory-backend-ram", &i, &err) == 1,
	      "the memory backend object is found");
	a = vsmmu_qargs_at(args, i);
	CHECK_STR(prop(a, "size"), "2147483648", "a 64-bit size reads back");
	CHECK_STR(prop(a, "host-nodes"), "[0]", "an array reads as compact JSON");
	CHECK_STR(prop(a, "qom-type"), "memory-backend-ram", "qom-type");
	a = vsmmu_qargs_at(args, 8);
	CHECK_STR(prop(a, "type"), "virt-7.2", "machine type from key=value");
	CHECK_STR(prop(a, "gic-version"), "3", "gic-version");
	CHECK(vsmmu_qargs_get_bool(a, "usb", &b, &err) == 1 && !b, "usb=off is false");
	CHECK_STR(prop(a, "memory-backend"), "mach-virt.ram", "memory-backend");
	CHECK_INT(device_index(args, "nosuch"), VSMMU_QARGS_NONE, "an unknown id is not found");
	a = vsmmu_qargs_at(args, 4);
	CHECK(vsmmu_qargs_get(a, "driver", &type, &err) == -1 && strstr(err.msg, "argv[6] (-blockdev)"),
	      "-blockdev has no properties for us: %s", err.msg);
}

static void test_keyval_get(void)
{
	_cleanup_fixture_ struct fixture f;
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_fixture("keyval.argv", &f);
	vsmmu_err err = { .msg = "" };
	struct vsmmu_qargs_arg *a;
	unsigned long n = 0;
	size_t i = 0;
	bool b = false;

	if (!CHECK(args, "key=value argv parses"))
		return;
	CHECK(vsmmu_qargs_next(args, VSMMU_QARGS_OPT_MACHINE, "virt-6.2", &i, &err) == 1 && i == 2,
	      "-M is a -machine, found by its type");
	a = device(args, "pci.1");
	CHECK_STR(prop(a, "driver"), "pxb-pcie", "the bare first element is the driver");
	CHECK(vsmmu_qargs_get_ulong(a, "bus_nr", 255, &n, &err) == 1 && n == 200, "bus_nr=200");
	a = device(args, "pci.2");
	CHECK(vsmmu_qargs_get_ulong(a, "port", 255, &n, &err) == 1 && n == 8, "port=0x8 is 8");
	a = device(args, "hostdev0");
	CHECK(a && vsmmu_qargs_arg_syntax(a) == VSMMU_QARGS_SYNTAX_KEYVAL, "--device key=value");
	CHECK_STR(prop(a, "romfile"), "/var/lib/roms/a,b.rom", ",, reads as a comma");
	CHECK_STR(prop(a, "x-no-mmap"), "on", "a later bare element is a flag that reads on");
	CHECK(vsmmu_qargs_get_bool(a, "x-no-mmap", &b, &err) == 1 && b, "and is true");
	a = vsmmu_qargs_at(args, 4);
	CHECK_STR(prop(a, "qom-type"), "memory-backend-file", "-object type");
	CHECK_STR(prop(a, "mem-path"), "/dev/hugepages/libvirt/qemu,shared", ",, inside a path");
	CHECK_STR(prop(a, "size"), "1073741824", "size after an escaped comma");
	a = vsmmu_qargs_at(args, vsmmu_qargs_count(args) - 1);
	CHECK_INT(vsmmu_qargs_arg_kind(a), VSMMU_QARGS_ARG_POSITIONAL, "a trailing image is positional");
}

static void test_json_set(void)
{
	_cleanup_fixture_ struct fixture f;
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_fixture("libvirt9-accel.argv", &f);
	vsmmu_err err = { .msg = "" };
	struct vsmmu_qargs_arg *a;
	char **argv = NULL;
	size_t i, idx;
	int same = 0;

	if (!CHECK(args, "libvirt 9.0 argv parses"))
		return;
	idx = device_index(args, "hostdev0");
	a = vsmmu_qargs_at(args, idx);
	CHECK(vsmmu_qargs_set_str(a, "iommufd", "iommufd0", &err) == 0, "set iommufd on JSON");
	CHECK(vsmmu_qargs_set_str(a, "bus", "pci.9", &err) == 0, "replace bus on JSON");
	CHECK_STR(value_at(args, idx),
		  "{\"driver\":\"vfio-pci\",\"host\":\"0009:01:00.0\",\"id\":\"hostdev0\","
		  "\"bus\":\"pci.9\",\"addr\":\"0x0\",\"iommufd\":\"iommufd0\"}",
		  "JSON keeps key order, replaces in place, appends new keys");
	a = device(args, "pci.1");
	CHECK(vsmmu_qargs_set_int(a, "bus_nr", 200, &err) == 0 &&
		      vsmmu_qargs_set_int(a, "numa_node", 1, &err) == 0,
	      "set integers on JSON");
	CHECK_STR(value_at(args, device_index(args, "pci.1")),
		  "{\"driver\":\"pxb-pcie\",\"bus_nr\":200,\"id\":\"pci.1\",\"bus\":\"pcie.0\","
		  "\"addr\":\"0x1\",\"numa_node\":1}",
		  "integers are JSON numbers");
	CHECK_STR(prop(a, "bus_nr"), "200", "the new value reads back");
	a = device(args, "pci.2");
	CHECK(vsmmu_qargs_set_bool(a, "hotplug", false, &err) == 0, "set a boolean on JSON");
	CHECK_INT(vsmmu_qargs_unset(a, "addr", &err), 1, "unset addr");
	CHECK_INT(vsmmu_qargs_unset(a, "addr", &err), 0, "unset again finds nothing");
	CHECK_STR(value_at(args, device_index(args, "pci.2")),
		  "{\"driver\":\"pcie-root-port\",\"port\":8,\"chassis\":2,\"id\":\"pci.2\","
		  "\"bus\":\"pci.1\",\"hotplug\":false}",
		  "booleans are JSON booleans, unset keys are gone");
	CHECK(vsmmu_qargs_unset(a, "driver", &err) == -1 && strstr(err.msg, "argv[45] (-device)"),
	      "the driver cannot be removed: %s", err.msg);
	CHECK(vsmmu_qargs_set_int(a, "driver", 3, &err) == -1, "the driver cannot become a number");
	CHECK(vsmmu_qargs_set_str(a, "bad key", "x", &err) == -1 && strstr(err.msg, "bad key"),
	      "an invalid key is refused: %s", err.msg);
	CHECK(vsmmu_qargs_set_str(a, "x", "\xff\xfe", &err) == -1 && strstr(err.msg, "UTF-8"),
	      "invalid UTF-8 is refused in JSON: %s", err.msg);
	i = 0;
	CHECK(vsmmu_qargs_next(args, VSMMU_QARGS_OPT_OBJECT, "memory-backend-ram", &i, &err) == 1,
	      "the memory backend is found");
	a = vsmmu_qargs_at(args, i);
	CHECK(vsmmu_qargs_set_str(a, "policy", "preferred", &err) == 0, "edit the memory backend");
	CHECK_STR(value_at(args, i),
		  "{\"qom-type\":\"memory-backend-ram\",\"id\":\"mach-virt.ram\",\"size\":2147483648,"
		  "\"host-nodes\":[0],\"policy\":\"preferred\"}",
		  "arrays and big numbers survive an edit");
	/* Everything not edited is printed as it came. */
	if (vsmmu_qargs_argv(args, &argv, &err) < 0)
		printf("# %s\n", err.msg);
	for (i = 0; argv && argv[i] && (int)i < f.n; i++)
		same += strcmp(argv[i], f.lines[i]) == 0;
	CHECK_INT(same, f.n - 4, "only the 4 edited values differ from the input");
}

static void test_keyval_set_and_escapes(void)
{
	_cleanup_fixture_ struct fixture f;
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_fixture("keyval.argv", &f);
	_cleanup_qargs_ struct vsmmu_qargs *again = NULL;
	vsmmu_err err = { .msg = "" };
	struct vsmmu_qargs_arg *a;
	char **argv = NULL;
	int argc = 0;
	size_t idx;

	if (!CHECK(args, "key=value argv parses"))
		return;
	idx = device_index(args, "hostdev0");
	a = vsmmu_qargs_at(args, idx);
	CHECK(vsmmu_qargs_set_str(a, "iommufd", "iommufd0", &err) == 0, "set iommufd on key=value");
	CHECK(vsmmu_qargs_set_str(a, "addr", "0x1", &err) == 0, "replace addr on key=value");
	CHECK(vsmmu_qargs_set_bool(a, "x-no-mmap", false, &err) == 0, "a bare flag gets a value");
	CHECK(vsmmu_qargs_set_str(a, "failover_pair_id", "a,b,,c", &err) == 0,
	      "a value with commas is accepted");
	CHECK_STR(value_at(args, idx),
		  "vfio-pci,host=0000:01:00.0,id=hostdev0,bus=pci.2,addr=0x1,"
		  "romfile=/var/lib/roms/a,,b.rom,x-no-mmap=off,iommufd=iommufd0,"
		  "failover_pair_id=a,,b,,,,c",
		  "key=value replaces in place, appends, escapes commas");
	CHECK_STR(prop(a, "failover_pair_id"), "a,b,,c", "the value reads back unescaped");
	CHECK_STR(value_at(args, device_index(args, "pci.1")),
		  "pxb-pcie,bus_nr=200,id=pci.1,bus=pcie.0,addr=0x1", "untouched value unchanged");
	a = vsmmu_qargs_at(args, 2);
	CHECK(vsmmu_qargs_set_int(a, "kvm-shadow-mem", 4096, &err) == 0, "set an integer on -M");
	CHECK(vsmmu_qargs_set_str(a, "type", "virt-7.2", &err) == 0, "change the machine type");
	CHECK_STR(value_at(args, 2),
		  "virt-7.2,accel=kvm,usb=off,dump-guest-core=off,gic-version=3,kvm-shadow-mem=4096",
		  "the machine type stays bare and first");
	/* Print, parse the output again, read the comma value back. */
	CHECK(vsmmu_qargs_argv(args, &argv, &err) == 0, "print the edited argv");
	while (argv && argv[argc])
		argc++;
	CHECK(vsmmu_qargs_parse(argc, (const char *const *)argv, &again, &err) == 0,
	      "the printed argv parses again");
	if (!again)
		return;
	a = device(again, "hostdev0");
	CHECK_STR(prop(a, "failover_pair_id"), "a,b,,c", "a comma value survives set+print+parse");
	CHECK_STR(prop(a, "romfile"), "/var/lib/roms/a,b.rom", "so does the parsed one");
	CHECK_STR(prop(a, "x-no-mmap"), "off", "and the flag's new value");
}

static void test_json_comma_value(void)
{
	static const char *const argv[] = {
		"qemu", "-device", "{\"driver\":\"vfio-pci\",\"id\":\"a,b\",\"host\":\"0000:01:00.0\"}",
		NULL,
	};
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_strings(argv);
	vsmmu_err err = { .msg = "" };
	struct vsmmu_qargs_arg *a;

	if (!CHECK(args, "JSON with a comma in a value parses"))
		return;
	a = device(args, "a,b");
	CHECK(a != NULL, "found by an id with a comma");
	CHECK(vsmmu_qargs_set_str(a, "sysfsdev", "x,y", &err) == 0, "set a comma value on JSON");
	CHECK_STR(value_at(args, 1),
		  "{\"driver\":\"vfio-pci\",\"id\":\"a,b\",\"host\":\"0000:01:00.0\","
		  "\"sysfsdev\":\"x,y\"}",
		  "JSON needs no comma escapes");
}

static void test_insert(void)
{
	_cleanup_fixture_ struct fixture fj;
	_cleanup_fixture_ struct fixture fk;
	_cleanup_qargs_ struct vsmmu_qargs *json = parse_fixture("libvirt9-accel.argv", &fj);
	_cleanup_qargs_ struct vsmmu_qargs *kv = parse_fixture("keyval.argv", &fk);
	struct vsmmu_qargs *lists[2] = { json, kv };
	vsmmu_err err = { .msg = "" };
	static const char *const want[2] = {
		"{\"driver\":\"arm-smmuv3\",\"primary-bus\":\"pci.1\",\"id\":\"smmuv3.0\",\"accel\":true}",
		"arm-smmuv3,primary-bus=pci.1,id=smmuv3.0,accel=on",
	};

	if (!CHECK(json && kv, "both fixtures parse"))
		return;
	for (int k = 0; k < 2; k++) {
		struct vsmmu_qargs *args = lists[k];
		size_t pxb = device_index(args, "pci.1");
		size_t before = vsmmu_qargs_count(args);
		struct vsmmu_qargs_arg *smmu = NULL;
		struct vsmmu_qargs_pair pairs[] = {
			VSMMU_QARGS_PAIR_STR("driver", "arm-smmuv3"),
			VSMMU_QARGS_PAIR_STR("primary-bus", "pci.1"),
			VSMMU_QARGS_PAIR_STR("id", "smmuv3.0"),
			VSMMU_QARGS_PAIR_BOOL("accel", true),
		};
		enum vsmmu_qargs_syntax syntax = vsmmu_qargs_arg_syntax(vsmmu_qargs_at(args, pxb));
		char **argv = NULL;
		size_t at;

		CHECK(vsmmu_qargs_new_props(VSMMU_QARGS_OPT_DEVICE, syntax, pairs,
					    VSMMU_ARRAY_LEN(pairs), &smmu, &err) == 0,
		      "build an arm-smmuv3 in the expander's syntax (%s)", k ? "key=value" : "JSON");
		CHECK(vsmmu_qargs_insert_after(args, pxb, smmu, &err) == 0, "insert it after pci.1");
		CHECK_INT(vsmmu_qargs_count(args), before + 1, "one argument more");
		CHECK_INT(vsmmu_qargs_index_of(args, smmu), pxb + 1, "right after the expander");
		CHECK_INT(device_index(args, "smmuv3.0"), pxb + 1, "found by its id");
		CHECK(vsmmu_qargs_argv(args, &argv, &err) == 0, "print");
		at = 0;
		for (size_t i = 0; i <= pxb && argv; i++)
			at += vsmmu_qargs_arg_kind(vsmmu_qargs_at(args, i)) == VSMMU_QARGS_ARG_OPTION ? 2 : 1;
		CHECK(argv && strcmp(argv[at], "-device") == 0, "printed as -device");
		CHECK_STR(argv ? argv[at + 1] : NULL, want[k], "printed in the right syntax");
		CHECK_INT(vsmmu_qargs_arg_position(smmu), VSMMU_QARGS_NONE, "a new argument has no position");
	}
	CHECK(vsmmu_qargs_insert_after(kv, vsmmu_qargs_count(kv), NULL, &err) == -1,
	      "inserting nothing fails");
}

static void test_build(void)
{
	vsmmu_err err = { .msg = "" };
	struct vsmmu_qargs_arg *a = NULL;
	const char *v = NULL;
	const struct vsmmu_qargs_pair pxb[] = {
		VSMMU_QARGS_PAIR_STR("driver", "pxb-pcie"), VSMMU_QARGS_PAIR_INT("bus_nr", 128),
		VSMMU_QARGS_PAIR_INT("numa_node", 0),       VSMMU_QARGS_PAIR_STR("id", "pci.10"),
		VSMMU_QARGS_PAIR_STR("bus", "pcie.0"),      VSMMU_QARGS_PAIR_STR("addr", "0x5"),
	};
	const struct vsmmu_qargs_pair iommufd[] = {
		VSMMU_QARGS_PAIR_STR("qom-type", "iommufd"),
		VSMMU_QARGS_PAIR_STR("id", "iommufd0"),
	};
	const struct vsmmu_qargs_pair no_driver[] = { VSMMU_QARGS_PAIR_STR("id", "x") };
	const struct vsmmu_qargs_pair twice[] = {
		VSMMU_QARGS_PAIR_STR("driver", "pxb-pcie"),
		VSMMU_QARGS_PAIR_STR("id", "a"),
		VSMMU_QARGS_PAIR_STR("id", "b"),
	};
	const struct vsmmu_qargs_pair odd_driver[] = {
		VSMMU_QARGS_PAIR_STR("id", "d0"),
		VSMMU_QARGS_PAIR_STR("driver", "e1000"),
	};

	CHECK(vsmmu_qargs_new_props(VSMMU_QARGS_OPT_DEVICE, VSMMU_QARGS_SYNTAX_JSON, pxb,
				    VSMMU_ARRAY_LEN(pxb), &a, &err) == 0 &&
		      vsmmu_qargs_arg_value(a, &v, &err) == 0,
	      "build a JSON pxb-pcie");
	CHECK_STR(v,
		  "{\"driver\":\"pxb-pcie\",\"bus_nr\":128,\"numa_node\":0,\"id\":\"pci.10\","
		  "\"bus\":\"pcie.0\",\"addr\":\"0x5\"}",
		  "JSON device in pair order with typed values");
	CHECK_STR(vsmmu_qargs_arg_name(a), "-device", "named -device");
	vsmmu_qargs_arg_free(a);
	a = NULL;
	CHECK(vsmmu_qargs_new_props(VSMMU_QARGS_OPT_DEVICE, VSMMU_QARGS_SYNTAX_KEYVAL, pxb,
				    VSMMU_ARRAY_LEN(pxb), &a, &err) == 0 &&
		      vsmmu_qargs_arg_value(a, &v, &err) == 0,
	      "build a key=value pxb-pcie");
	CHECK_STR(v, "pxb-pcie,bus_nr=128,numa_node=0,id=pci.10,bus=pcie.0,addr=0x5",
		  "key=value device with a bare driver");
	vsmmu_qargs_arg_free(a);
	a = NULL;
	CHECK(vsmmu_qargs_new_props(VSMMU_QARGS_OPT_OBJECT, VSMMU_QARGS_SYNTAX_KEYVAL, iommufd,
				    VSMMU_ARRAY_LEN(iommufd), &a, &err) == 0 &&
		      vsmmu_qargs_arg_value(a, &v, &err) == 0,
	      "build an iommufd object");
	CHECK_STR(v, "iommufd,id=iommufd0", "-object iommufd,id=iommufd0");
	CHECK_STR(vsmmu_qargs_arg_name(a), "-object", "named -object");
	vsmmu_qargs_arg_free(a);
	a = NULL;
	CHECK(vsmmu_qargs_new_props(VSMMU_QARGS_OPT_OBJECT, VSMMU_QARGS_SYNTAX_JSON, iommufd,
				    VSMMU_ARRAY_LEN(iommufd), &a, &err) == 0 &&
		      vsmmu_qargs_arg_value(a, &v, &err) == 0,
	      "build a JSON iommufd object");
	CHECK_STR(v, "{\"qom-type\":\"iommufd\",\"id\":\"iommufd0\"}", "JSON iommufd object");
	vsmmu_qargs_arg_free(a);
	a = NULL;
	CHECK(vsmmu_qargs_new_props(VSMMU_QARGS_OPT_DEVICE, VSMMU_QARGS_SYNTAX_KEYVAL, odd_driver,
				    VSMMU_ARRAY_LEN(odd_driver), &a, &err) == 0 &&
		      vsmmu_qargs_arg_value(a, &v, &err) == 0,
	      "a driver that is not first");
	CHECK_STR(v, "id=d0,driver=e1000", "is written as driver=");
	vsmmu_qargs_arg_free(a);
	a = NULL;
	CHECK(vsmmu_qargs_new_props(VSMMU_QARGS_OPT_DEVICE, VSMMU_QARGS_SYNTAX_JSON, no_driver,
				    VSMMU_ARRAY_LEN(no_driver), &a, &err) == -1 &&
		      strstr(err.msg, "driver") && !a,
	      "a device without driver is refused: %s", err.msg);
	CHECK(vsmmu_qargs_new_props(VSMMU_QARGS_OPT_DEVICE, VSMMU_QARGS_SYNTAX_KEYVAL, twice,
				    VSMMU_ARRAY_LEN(twice), &a, &err) == -1 &&
		      strstr(err.msg, "twice"),
	      "a key given twice is refused: %s", err.msg);
	CHECK(vsmmu_qargs_new_props(VSMMU_QARGS_OPT_OTHER, VSMMU_QARGS_SYNTAX_KEYVAL, iommufd,
				    VSMMU_ARRAY_LEN(iommufd), &a, &err) == -1,
	      "only -device/-object/-machine are built from pairs");
	CHECK(vsmmu_qargs_new_option("object", "iommufd,id=iommufd0", &a, &err) == 0 &&
		      vsmmu_qargs_arg_option(a) == VSMMU_QARGS_OPT_OBJECT,
	      "new_option classifies -object");
	CHECK_STR(prop(a, "qom-type"), "iommufd", "and reads its type");
	vsmmu_qargs_arg_free(a);
	a = NULL;
	CHECK(vsmmu_qargs_new_option("-S", NULL, &a, &err) == 0 &&
		      vsmmu_qargs_arg_kind(a) == VSMMU_QARGS_ARG_FLAG,
	      "new_option makes a flag");
	vsmmu_qargs_arg_free(a);
	a = NULL;
	CHECK(vsmmu_qargs_new_option("-device", NULL, &a, &err) == -1, "-device needs a value");
	CHECK(vsmmu_qargs_new_option("-S", "x", &a, &err) == -1, "-S takes none");
}

static void test_move_and_remove(void)
{
	_cleanup_fixture_ struct fixture f;
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_fixture("libvirt9-accel.argv", &f);
	vsmmu_err err = { .msg = "" };
	struct vsmmu_qargs_arg *a;
	size_t n, from, to;

	if (!CHECK(args, "libvirt 9.0 argv parses"))
		return;
	n = vsmmu_qargs_count(args);
	from = device_index(args, "hostdev0");
	a = vsmmu_qargs_take(args, from);
	CHECK(a && vsmmu_qargs_count(args) == n - 1, "take detaches hostdev0");
	to = device_index(args, "pci.2");
	CHECK(vsmmu_qargs_insert_after(args, to, a, &err) == 0, "and inserts it after pci.2");
	CHECK_INT(device_index(args, "hostdev0"), to + 1, "moved");
	CHECK(vsmmu_qargs_take(args, 0) == NULL, "argv[0] cannot be taken");
	CHECK(vsmmu_qargs_remove(args, n + 5, &err) == -1, "removing past the end fails");
	CHECK(vsmmu_qargs_remove(args, device_index(args, "net0"), &err) == 0, "remove net0");
	CHECK_INT(device_index(args, "net0"), VSMMU_QARGS_NONE, "net0 is gone");
	CHECK_INT(vsmmu_qargs_count(args), n - 1, "one argument fewer");
	a = NULL;
	CHECK(vsmmu_qargs_new_option("-device", "{\"driver\":\"virtio-rng-pci\",\"id\":\"rng0\"}",
				     &a, &err) == 0,
	      "a new -device from a JSON string");
	vsmmu_qargs_append(args, a);
	CHECK_INT(device_index(args, "rng0"), n - 1, "appended at the end");
	CHECK_STR(value_at(args, n - 1), "{\"driver\":\"virtio-rng-pci\",\"id\":\"rng0\"}",
		  "printed as given");
}

/* Parse argv (NULL-terminated) and read the property "id" of argument 1;
 * return the error message in err. */
static int access_fails(const char *const *argv, vsmmu_err *err)
{
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_strings(argv);
	const char *v = NULL;

	if (!args)
		return 0;
	return vsmmu_qargs_get(vsmmu_qargs_at(args, 1), "id", &v, err) == -1;
}

static void test_value_errors(void)
{
	static const struct {
		const char *value;
		const char *want; /* in the message */
		const char *what;
	} cases[] = {
		{ "{\"driver\":\"vfio-pci\",", "invalid JSON", "malformed JSON" },
		{ "{\"driver\":\"vfio-pci\"} {\"id\":\"x\"}", "invalid JSON", "two JSON objects" },
		{ "{\"driver\":\"vfio-pci\",\"id\":\"\\u0000\"}", "invalid JSON", "a NUL in JSON" },
		{ "{\"id\":\"hostdev0\",\"host\":\"0000:01:00.0\"}", "no \"driver\"", "JSON without driver" },
		{ "{\"driver\":7,\"id\":\"x\"}", "not a string", "a numeric driver" },
		{ "{\"driver\":\"\",\"id\":\"x\"}", "empty", "an empty driver" },
		{ "{\"driver\":\"a\",\"id\":\"x\",\"id\":\"y\"}", "duplicate", "duplicate JSON keys" },
		{ "{\"driver\":\"a\",\"\":1}", "empty name", "an empty JSON key" },
		{ "id=hostdev0,host=0000:01:00.0", "no \"driver\"", "key=value without driver" },
		{ "vfio-pci,=x", "empty name", "an empty key" },
		{ "vfio-pci,id=a,id=b", "twice", "a key=value key given twice" },
		{ "vfio-pci,id=a,", "stray comma", "a trailing comma" },
		{ ",vfio-pci,id=a", "stray comma", "a leading comma" },
		{ "vfio-pci,a,,b=c", "comma", "a comma in a key" },
		{ "", "empty", "an empty value" },
	};

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(cases); i++) {
		const char *argv[] = { "qemu", "-device", cases[i].value, NULL };
		vsmmu_err err = { .msg = "" };
		int failed = access_fails(argv, &err);

		CHECK(failed && strstr(err.msg, cases[i].want) && strstr(err.msg, "argv[1] (-device)"),
		      "%s is refused on access: %s", cases[i].what, err.msg);
	}
}

static void test_lazy(void)
{
	static const char *const argv[] = {
		"qemu", "-device", "{\"driver\":", "-object", "{broken", "-machine", "virt,=x",
		"-device", "{\"driver\":\"vfio-pci\",\"id\":\"hostdev0\"}", NULL,
	};
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_strings(argv);
	struct vsmmu_qargs_lookup *lookup;
	vsmmu_err err = { .msg = "" };
	char **out = NULL;
	size_t i = 0;

	if (!CHECK(args, "malformed values do not fail the parse (they are read lazily)"))
		return;
	CHECK(vsmmu_qargs_argv(args, &out, &err) == 0 && strcmp(out[2], "{\"driver\":") == 0 &&
		      strcmp(out[4], "{broken") == 0,
	      "and print as they came");
	CHECK(vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, NULL, &i, &err) == 1 && i == 1,
	      "iterating without a type parses nothing");
	CHECK(vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, "vfio-pci", &i, &err) == -1 &&
		      strstr(err.msg, "argv[1] (-device): invalid JSON"),
	      "looking at the broken one fails: %s", err.msg);
	i = 4;
	CHECK(vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, "vfio-pci", &i, &err) == 1 && i == 4,
	      "the good one after it is found");
	CHECK(vsmmu_qargs_find_device(args, "hostdev0", &i, &err) == -1,
	      "find_device reads every -device and reports the broken one: %s", err.msg);
	lookup = NULL;
	CHECK(vsmmu_qargs_lookup_new(args, NULL, "id", NULL, &lookup, &err) == -1 && !lookup &&
		      strstr(err.msg, "argv[1] (-device): invalid JSON"),
	      "so does a lookup, and returns none: %s", err.msg);
}

static void test_parse_errors(void)
{
	static const char *const trailing[] = { "qemu", "-S", "-device", NULL };
	static const char *const dash[] = { "qemu", "-", NULL };
	static const char *const dup_id[] = {
		"qemu", "-device", "{\"driver\":\"vfio-pci\",\"id\":\"hostdev0\"}",
		"-device", "vfio-pci,id=hostdev0", NULL,
	};
	const char *argv[8] = { "qemu", NULL };
	_cleanup_free_ char *big = vsmmu_xcalloc(VSMMU_QARGS_MAX_VALUE + 2, 1);
	_cleanup_free_ char *large = vsmmu_xcalloc(VSMMU_QARGS_MAX_VALUE, 1);
	struct vsmmu_qargs *args = NULL;
	_cleanup_qargs_ struct vsmmu_qargs *dups = NULL;
	vsmmu_err err = { .msg = "" };
	size_t i = 0;

	CHECK(vsmmu_qargs_parse(3, trailing, &args, &err) == -1 &&
		      strstr(err.msg, "argv[2] (-device) needs a value"),
	      "a trailing -device is refused: %s", err.msg);
	CHECK(vsmmu_qargs_parse(2, dash, &args, &err) == -1 && strstr(err.msg, "argv[1]"),
	      "a lone '-' is refused: %s", err.msg);
	CHECK(vsmmu_qargs_parse(0, trailing, &args, &err) == -1, "an empty argv is refused");
	memset(big, 'a', VSMMU_QARGS_MAX_VALUE + 1);
	big[0] = '{';
	argv[1] = "-device";
	argv[2] = big;
	CHECK(vsmmu_qargs_parse(3, argv, &args, &err) == -1 && strstr(err.msg, "argv[2] is longer"),
	      "an oversize value is refused: %s", err.msg);
	memset(large, 'b', VSMMU_QARGS_MAX_VALUE - 1);
	for (int k = 1; k <= 5; k++)
		argv[k] = large;
	CHECK(vsmmu_qargs_parse(6, argv, &args, &err) == -1 &&
		      strstr(err.msg, "command line is longer"),
	      "an oversize argv is refused: %s", err.msg);
	CHECK(args == NULL, "nothing is returned on failure");
	dups = parse_strings(dup_id);
	CHECK(dups && vsmmu_qargs_find_device(dups, "hostdev0", &i, &err) == -1 &&
		      strstr(err.msg, "argv[3] (-device)") && strstr(err.msg, "argv[1] (-device)"),
	      "two devices with one id are refused: %s", err.msg);
}

/* Keys only the values that start with "0000:", shortened to the rest. */
static bool domain0_key(const char *value, char *key, size_t size)
{
	if (strncmp(value, "0000:", 5) != 0)
		return false;
	snprintf(key, size, "%s", value + 5);
	return true;
}

static void test_lookup(void)
{
	static const char *const argv[] = {
		"qemu", "-device", "{\"driver\":\"vfio-pci\",\"id\":\"b\",\"host\":\"0000:01:00.0\"}",
		"-S", "-device", "vfio-pci,id=a,host=0009:01:00.0",
		"-netdev", "user,id=a", "-device", "virtio-net-pci,id=c",
		"-device", "vfio-pci,id=d,host=0000:01:00.0", "-device", "vfio-pci,id=a", NULL,
	};
	_cleanup_qargs_ struct vsmmu_qargs *args = parse_strings(argv);
	_cleanup_lookup_ struct vsmmu_qargs_lookup *ids = NULL, *hosts = NULL;
	vsmmu_err err = { .msg = "" };
	size_t at[2] = { 0, 0 }, i = 0, n;
	int r;

	CHECK(args && vsmmu_qargs_lookup_new(args, NULL, "id", NULL, &ids, &err) == 0,
	      "a lookup of every -device id: %s", err.msg);
	if (!ids)
		return;
	/* Items: 0 qemu, 1 b, 2 -S, 3 a, 4 -netdev, 5 c, 6 d, 7 a. */
	n = vsmmu_qargs_lookup_find(ids, "c", at, 2);
	CHECK(n == 1 && at[0] == 5, "one hit, at its position: %zu at %zu", n, at[0]);
	n = vsmmu_qargs_lookup_find(ids, "a", at, 2);
	CHECK(n == 2 && at[0] == 3 && at[1] == 7,
	      "-netdev ids are not -device ids; duplicates in argv order: %zu at %zu %zu", n,
	      at[0], at[1]);
	CHECK(vsmmu_qargs_lookup_find(ids, "zz", at, 2) == 0, "a missing id: none");
	r = vsmmu_qargs_device_by_id(args, ids, "d", &i, &err);
	CHECK(r == 1 && i == 6, "device_by_id finds d: %d at %zu", r, i);
	r = vsmmu_qargs_device_by_id(args, ids, "a", &i, &err);
	CHECK(r == -1 && strstr(err.msg, "argv[12] (-device): id 'a' is already used by argv[4]"),
	      "device_by_id refuses a shared id as find_device does: %s", err.msg);
	err.msg[0] = '\0';
	CHECK(vsmmu_qargs_lookup_new(args, "vfio-pci", "host", domain0_key, &hosts, &err) == 0,
	      "a lookup of vfio-pci hosts through a key function: %s", err.msg);
	at[1] = 99;
	n = hosts ? vsmmu_qargs_lookup_find(hosts, "01:00.0", at, 1) : 0;
	CHECK(n == 2 && at[0] == 1 && at[1] == 99,
	      "keyed by the function; only max positions written: %zu at %zu", n, at[0]);
	CHECK(hosts && vsmmu_qargs_lookup_find(hosts, "0009:01:00.0", at, 1) == 0 &&
		      vsmmu_qargs_lookup_find(hosts, "01:00.0 ", at, 1) == 0,
	      "what the function leaves out is not found");
}

int main(void)
{
	static const char *const fixtures[] = {
		"libvirt9-accel.argv",
		"libvirt-probe.argv",
		"keyval.argv",
	};

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(fixtures); i++) {
		test_round_trip(fixtures[i]);
		test_print_identical(fixtures[i]);
	}
	test_kinds();
	test_flags_and_positionals();
	test_probe();
	test_json_get();
	test_keyval_get();
	test_json_set();
	test_keyval_set_and_escapes();
	test_json_comma_value();
	test_insert();
	test_build();
	test_move_and_remove();
	test_value_errors();
	test_lazy();
	test_parse_errors();
	test_lookup();
	return tap_done();
}
