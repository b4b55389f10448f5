/* qemuargs: see qemuargs.h. One list of arguments; what is inside a
 * -device/-object/-machine value is qemuprops.c's. */
#include "qemuargs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "qemuargs-internal.h"
#include "util.h"

/* QEMU options that take no value (qemu-options.hx DEF(name, 0, ...)),
 * current and historical. Every other option takes the next element. */
static const char *const flag_options[] = {
	"S", "alt-grab", "async-teardown", "audio-help", "ctrl-grab", "curses",
	"daemonize", "enable-fips", "enable-kvm", "enable-nesting", "enable-sync-profile",
	"full-screen", "h", "help", "jitdump", "kernel-kqemu", "localtime", "mem-prealloc",
	"no-acpi", "no-fd-bootchk", "no-frame", "no-hpet", "no-kqemu", "no-kvm",
	"no-kvm-irqchip", "no-kvm-pit", "no-kvm-pit-reinjection", "no-quit", "no-reboot",
	"no-shutdown", "no-user-config", "nodefaults", "nodefconfig", "nographic",
	"old-param", "one-insn-per-tb", "only-migratable", "perfmap", "portrait",
	"preconfig", "rtc-td-hack", "s", "sdl", "semihosting", "show-cursor", "singlestep",
	"snapshot", "std-vga", "tdf", "usb", "version", "virtfs_synth", "win2k-hack",
	"xen-attach", "xen-create", "xen-domid-restrict",
};

/* "-device" and "--device" -> "device". s starts with '-'. */
static const char *option_name(const char *s)
{
	s++;
	return *s == '-' ? s + 1 : s;
}

static bool is_flag_option(const char *name)
{
	for (size_t i = 0; i < VSMMU_ARRAY_LEN(flag_options); i++)
		if (strcmp(flag_options[i], name) == 0)
			return true;
	return false;
}

static enum vsmmu_qargs_option classify_option(const char *name)
{
	if (strcmp(name, "device") == 0)
		return VSMMU_QARGS_OPT_DEVICE;
	if (strcmp(name, "object") == 0)
		return VSMMU_QARGS_OPT_OBJECT;
	if (strcmp(name, "machine") == 0 || strcmp(name, "M") == 0)
		return VSMMU_QARGS_OPT_MACHINE;
	return VSMMU_QARGS_OPT_OTHER;
}

/* ---- Errors ---- */

char *qargs_describe(const struct vsmmu_qargs_arg *arg)
{
	if (arg->position == VSMMU_QARGS_NONE)
		return vsmmu_xasprintf("new %.40s argument", arg->name);
	return vsmmu_xasprintf("argv[%zu] (%.40s)", arg->position, arg->name);
}

void qargs_report_at(const struct vsmmu_qargs_arg *arg, vsmmu_err *err, const char *fmt, ...)
{
	_cleanup_buf_ struct vsmmu_buf msg = { 0 };
	_cleanup_free_ char *where = qargs_describe(arg);
	va_list ap;

	va_start(ap, fmt);
	vsmmu_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	vsmmu_fail(err, "%s: %s", where, msg.data);
}

/* ---- Arguments ---- */

struct vsmmu_qargs_arg *qargs_arg_new(enum vsmmu_qargs_kind kind, const char *name,
				      const char *value, size_t position)
{
	struct vsmmu_qargs_arg *arg = vsmmu_xcalloc(1, sizeof(*arg));

	arg->kind = kind;
	arg->position = position;
	arg->name = vsmmu_xstrdup(name);
	arg->value = vsmmu_xstrdup(value);
	if (kind == VSMMU_QARGS_ARG_OPTION)
		arg->option = classify_option(option_name(name));
	if (arg->option != VSMMU_QARGS_OPT_OTHER)
		arg->syntax = value && value[0] == '{' ? VSMMU_QARGS_SYNTAX_JSON
						       : VSMMU_QARGS_SYNTAX_KEYVAL;
	return arg;
}

void vsmmu_qargs_arg_free(struct vsmmu_qargs_arg *arg)
{
	if (!arg)
		return;
	qargs_props_clear(arg);
	free(arg->name);
	free(arg->value);
	free(arg->rendered);
	free(arg);
}

/* ---- Argument accessors ---- */

enum vsmmu_qargs_kind vsmmu_qargs_arg_kind(const struct vsmmu_qargs_arg *arg)
{
	return arg->kind;
}

enum vsmmu_qargs_option vsmmu_qargs_arg_option(const struct vsmmu_qargs_arg *arg)
{
	return arg->option;
}

enum vsmmu_qargs_syntax vsmmu_qargs_arg_syntax(const struct vsmmu_qargs_arg *arg)
{
	return arg->syntax;
}

const char *vsmmu_qargs_arg_name(const struct vsmmu_qargs_arg *arg)
{
	return arg->name;
}

bool vsmmu_qargs_arg_is(const struct vsmmu_qargs_arg *arg, const char *name)
{
	if (arg->kind != VSMMU_QARGS_ARG_OPTION && arg->kind != VSMMU_QARGS_ARG_FLAG)
		return false;
	return strcmp(option_name(arg->name), name) == 0;
}

size_t vsmmu_qargs_arg_position(const struct vsmmu_qargs_arg *arg)
{
	return arg->position;
}

int vsmmu_qargs_arg_value(struct vsmmu_qargs_arg *arg, const char **value, vsmmu_err *err)
{
	char *v = NULL;

	if (qargs_current_value(arg, &v, err) < 0)
		return -1;
	*value = v;
	return 0;
}

/* Refuse an argv element over the size cap; add it to *total. */
static int check_size(const char *s, size_t position, size_t *total, vsmmu_err *err)
{
	size_t len = strnlen(s, VSMMU_QARGS_MAX_VALUE + 1);

	if (len > VSMMU_QARGS_MAX_VALUE)
		return vsmmu_fail(err, "argv[%zu] is longer than %u bytes; refusing it", position,
				  VSMMU_QARGS_MAX_VALUE);
	*total += len + 1;
	if (*total > VSMMU_QARGS_MAX_TOTAL)
		return vsmmu_fail(err,
				  "the QEMU command line is longer than %u bytes (at argv[%zu]); refusing it",
				  VSMMU_QARGS_MAX_TOTAL, position);
	return 0;
}

int vsmmu_qargs_new_option(const char *name, const char *value, struct vsmmu_qargs_arg **out,
			   vsmmu_err *err)
{
	_cleanup_free_ char *spelled = NULL;
	const char *bare;
	size_t total = 0;
	bool flag;

	if (!name || !*name)
		return vsmmu_fail(err, "a new option needs a name");
	spelled = name[0] == '-' ? vsmmu_xstrdup(name) : vsmmu_xasprintf("-%s", name);
	bare = option_name(spelled);
	if (!*bare)
		return vsmmu_fail(err, "'%.40s' is not an option name", name);
	if (check_size(spelled, VSMMU_QARGS_NONE, &total, err) < 0 ||
	    (value && check_size(value, VSMMU_QARGS_NONE, &total, err) < 0))
		return -1;
	flag = is_flag_option(bare);
	if (flag && value)
		return vsmmu_fail(err, "%.40s takes no value", spelled);
	if (!flag && !value)
		return vsmmu_fail(err, "%.40s needs a value", spelled);
	*out = qargs_arg_new(flag ? VSMMU_QARGS_ARG_FLAG : VSMMU_QARGS_ARG_OPTION, spelled, value,
		       VSMMU_QARGS_NONE);
	return 0;
}

/* ---- The list ---- */

static void items_insert(struct vsmmu_qargs *args, size_t at, struct vsmmu_qargs_arg *arg)
{
	vsmmu_grow(&args->items, &args->cap, args->count, sizeof(*args->items));
	for (size_t i = args->count; i > at; i--)
		args->items[i] = args->items[i - 1];
	args->items[at] = arg;
	args->count++;
}

/* Turn argv[*i] (and its value) into one argument; advance *i past them. */
static int parse_next(struct vsmmu_qargs *args, size_t argc, const char *const *argv, size_t *i,
		      size_t *total, vsmmu_err *err)
{
	size_t at = *i;
	const char *s = argv[at];
	enum vsmmu_qargs_kind kind;

	if (!s)
		return vsmmu_fail(err, "argv[%zu] is NULL before the end of the command line", at);
	if (check_size(s, at, total, err) < 0)
		return -1;
	if (at == 0)
		kind = VSMMU_QARGS_ARG_PROGRAM;
	else if (s[0] != '-')
		kind = VSMMU_QARGS_ARG_POSITIONAL;
	else if (!*option_name(s))
		return vsmmu_fail(err, "argv[%zu] '%s' is not an option", at, s);
	else if (is_flag_option(option_name(s)))
		kind = VSMMU_QARGS_ARG_FLAG;
	else
		kind = VSMMU_QARGS_ARG_OPTION;
	*i = at + 1;
	if (kind != VSMMU_QARGS_ARG_OPTION) {
		items_insert(args, args->count, qargs_arg_new(kind, s, NULL, at));
		return 0;
	}
	if (at + 1 >= argc || !argv[at + 1])
		return vsmmu_fail(err, "argv[%zu] (%.40s) needs a value but is the last argument", at,
				  s);
	if (check_size(argv[at + 1], at + 1, total, err) < 0)
		return -1;
	items_insert(args, args->count, qargs_arg_new(kind, s, argv[at + 1], at));
	*i = at + 2;
	return 0;
}

int vsmmu_qargs_parse(int argc, const char *const *argv, struct vsmmu_qargs **out,
		      vsmmu_err *err)
{
	_cleanup_qargs_ struct vsmmu_qargs *args = NULL;
	size_t n = argc > 0 ? (size_t)argc : 0;
	size_t total = 0;

	if (n == 0 || !argv)
		return vsmmu_fail(err, "empty QEMU command line: there is not even a program name");
	args = vsmmu_xcalloc(1, sizeof(*args));
	for (size_t i = 0; i < n;)
		if (parse_next(args, n, argv, &i, &total, err) < 0)
			return -1;
	*out = VSMMU_STEAL(args);
	return 0;
}

void vsmmu_qargs_free(struct vsmmu_qargs *args)
{
	if (!args)
		return;
	for (size_t i = 0; i < args->count; i++)
		vsmmu_qargs_arg_free(args->items[i]);
	free(args->items);
	free(args->argv);
	free(args);
}

size_t vsmmu_qargs_count(const struct vsmmu_qargs *args)
{
	return args->count;
}

struct vsmmu_qargs_arg *vsmmu_qargs_at(const struct vsmmu_qargs *args, size_t index)
{
	return index < args->count ? args->items[index] : NULL;
}

size_t vsmmu_qargs_index_of(const struct vsmmu_qargs *args, const struct vsmmu_qargs_arg *arg)
{
	for (size_t i = 0; i < args->count; i++)
		if (args->items[i] == arg)
			return i;
	return VSMMU_QARGS_NONE;
}

int vsmmu_qargs_insert_after(struct vsmmu_qargs *args, size_t index, struct vsmmu_qargs_arg *arg,
			     vsmmu_err *err)
{
	if (!arg)
		return vsmmu_fail(err, "no argument to insert");
	if (index >= args->count) {
		vsmmu_qargs_arg_free(arg);
		return vsmmu_fail(err, "cannot insert after argument %zu: there are only %zu", index,
				  args->count);
	}
	items_insert(args, index + 1, arg);
	return 0;
}

void vsmmu_qargs_append(struct vsmmu_qargs *args, struct vsmmu_qargs_arg *arg)
{
	if (arg)
		items_insert(args, args->count, arg);
}

struct vsmmu_qargs_arg *vsmmu_qargs_take(struct vsmmu_qargs *args, size_t index)
{
	struct vsmmu_qargs_arg *arg;

	if (index == 0 || index >= args->count)
		return NULL;
	arg = args->items[index];
	for (size_t i = index; i + 1 < args->count; i++)
		args->items[i] = args->items[i + 1];
	args->count--;
	return arg;
}

int vsmmu_qargs_remove(struct vsmmu_qargs *args, size_t index, vsmmu_err *err)
{
	struct vsmmu_qargs_arg *arg = vsmmu_qargs_take(args, index);

	if (!arg)
		return vsmmu_fail(err, "cannot remove argument %zu of %zu%s", index, args->count,
				  index == 0 ? " (the program)" : "");
	vsmmu_qargs_arg_free(arg);
	return 0;
}

/* ---- Printing ---- */

int vsmmu_qargs_argv(struct vsmmu_qargs *args, char ***argv, vsmmu_err *err)
{
	size_t n = 0;
	size_t total = 0;

	vsmmu_grow(&args->argv, &args->argv_cap, 2 * args->count, sizeof(*args->argv));
	for (size_t i = 0; i < args->count; i++) {
		struct vsmmu_qargs_arg *arg = args->items[i];
		char *value = NULL;

		args->argv[n++] = arg->name;
		total += strlen(arg->name) + 1;
		if (arg->kind != VSMMU_QARGS_ARG_OPTION)
			continue;
		if (qargs_current_value(arg, &value, err) < 0)
			return -1;
		args->argv[n++] = value;
		total += strlen(value) + 1;
	}
	if (total > VSMMU_QARGS_MAX_TOTAL)
		return vsmmu_fail(err, "the edited QEMU command line is longer than %u bytes",
				  VSMMU_QARGS_MAX_TOTAL);
	args->argv[n] = NULL;
	*argv = args->argv;
	return 0;
}

int vsmmu_qargs_print(struct vsmmu_qargs *args, FILE *out, vsmmu_err *err)
{
	char **argv = NULL;

	if (vsmmu_qargs_argv(args, &argv, err) < 0)
		return -1;
	for (char **a = argv; a && *a; a++) {
		fputs(*a, out);
		fputc('\n', out);
	}
	if (fflush(out) != 0 || ferror(out))
		return vsmmu_fail_errno(err, errno ? errno : EIO, "cannot write the QEMU command line");
	return 0;
}
