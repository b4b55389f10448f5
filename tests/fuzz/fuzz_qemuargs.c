/* QEMU argv parse, inspect, edit and print: the input is split into
 * NUL-separated arguments after a fixed argv[0]. Printing an unedited list
 * must give back the very same argv. */
#include <stdio.h>

#include "fuzz.h"
#include "qemuargs.h"
#include "qemulookup.h"
#include "qemuprops.h"

#define MAX_ARGS 4096

static size_t split(const uint8_t *data, size_t size, char *buf, const char **argv)
{
	size_t n = 1;

	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "qemu-system-aarch64";
	for (size_t i = 0; i <= size && n < MAX_ARGS; n++) {
		argv[n] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[n] = NULL;
	return n;
}

static void check_identity(struct vsmmu_qargs *args, const char *const *argv, size_t argc)
{
	char **out = NULL;
	vsmmu_err err;

	if (vsmmu_qargs_argv(args, &out, &err) < 0)
		return; /* a cap on the printed form: refusing is fine */
	for (size_t i = 0; i < argc; i++)
		if (!out[i] || strcmp(out[i], argv[i]) != 0) {
			fprintf(stderr, "argv[%zu] does not print back\n", i);
			abort();
		}
	if (out[argc]) {
		fprintf(stderr, "printed argv is longer than the input\n");
		abort();
	}
}

static void inspect(struct vsmmu_qargs_arg *a)
{
	static const char *const keys[] = { "id", "bus", "driver", "addr", "host", "iommufd" };
	const char *v;
	bool b;
	unsigned long n;
	vsmmu_err err;

	(void)vsmmu_qargs_arg_value(a, &v, &err);
	(void)vsmmu_qargs_type(a, &v, &err);
	for (size_t k = 0; k < VSMMU_ARRAY_LEN(keys); k++) {
		(void)vsmmu_qargs_get(a, keys[k], &v, &err);
		(void)vsmmu_qargs_get_bool(a, keys[k], &b, &err);
		(void)vsmmu_qargs_get_ulong(a, keys[k], 255, &n, &err);
	}
}

static void edit(struct vsmmu_qargs *args, struct vsmmu_qargs_arg *a, size_t i)
{
	const char *v;
	vsmmu_err err;

	if (vsmmu_qargs_arg_option(a) == VSMMU_QARGS_OPT_OTHER)
		return;
	switch (i % 4) {
	case 0:
		(void)vsmmu_qargs_set_str(a, "iommufd", "iommufd0,x=y", &err);
		break;
	case 1:
		(void)vsmmu_qargs_set_int(a, "bus_nr", -5, &err);
		break;
	case 2:
		(void)vsmmu_qargs_set_bool(a, "accel", true, &err);
		break;
	default:
		(void)vsmmu_qargs_unset(a, "id", &err);
	}
	(void)vsmmu_qargs_arg_value(a, &v, &err);
	(void)args;
}

static void add_and_remove(struct vsmmu_qargs *args)
{
	struct vsmmu_qargs_arg *smmu = NULL;
	const struct vsmmu_qargs_pair pairs[] = {
		VSMMU_QARGS_PAIR_STR("driver", "arm-smmuv3"),
		VSMMU_QARGS_PAIR_STR("primary-bus", "pci.1"),
		VSMMU_QARGS_PAIR_BOOL("accel", true),
	};
	size_t idx = 0;
	vsmmu_err err;

	if (vsmmu_qargs_find_device(args, "pci.1", &idx, &err) == 1 &&
	    vsmmu_qargs_new_props(VSMMU_QARGS_OPT_DEVICE,
				  vsmmu_qargs_arg_syntax(vsmmu_qargs_at(args, idx)), pairs,
				  VSMMU_ARRAY_LEN(pairs), &smmu, &err) == 0)
		(void)vsmmu_qargs_insert_after(args, idx, smmu, &err);
	idx = 0;
	if (vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, "vfio-pci", &idx, &err) == 1) {
		struct vsmmu_qargs_arg *moved = vsmmu_qargs_take(args, idx);

		if (moved)
			vsmmu_qargs_append(args, moved);
	}
	if (vsmmu_qargs_count(args) > 2)
		(void)vsmmu_qargs_remove(args, 1, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ const char **argv = NULL;
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	_cleanup_fclose_ FILE *null = NULL;
	size_t argc;
	vsmmu_err err;

	if (size > VSMMU_QARGS_MAX_TOTAL + 4096)
		return 0;
	buf = vsmmu_xcalloc(size + 1, 1);
	argv = vsmmu_xcalloc(MAX_ARGS + 1, sizeof(*argv));
	argc = split(data, size, buf, argv);
	if (vsmmu_qargs_parse((int)argc, argv, &args, &err) < 0)
		return 0;
	check_identity(args, argv, argc);
	for (size_t i = 0; i < vsmmu_qargs_count(args); i++)
		inspect(vsmmu_qargs_at(args, i));
	for (size_t i = 0; i < vsmmu_qargs_count(args); i++)
		edit(args, vsmmu_qargs_at(args, i), i);
	add_and_remove(args);
	null = fopen("/dev/null", "w");
	if (null)
		(void)vsmmu_qargs_print(args, null, &err);
	return 0;
}
