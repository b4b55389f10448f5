/* qemuargs: see qemuargs.h. One list of arguments; the property lists of
 * -device/-object/-machine values are parsed on first access into one
 * ordered list of properties shared by both syntaxes, and serialised again
 * only if edited. */
#include "qemuargs.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* json_decrefp comes with jansson (json_auto_t). */
#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))
#define JSON_DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)
#define KEY_MAX 128

/* One property. text is what the accessors return; json (JSON syntax only)
 * is the value itself, serialised when the argument is edited. */
struct prop {
	char *key;
	char *text;
	json_t *json;
	bool implied; /* key=value: the type, written without "key=" */
	bool bare;    /* key=value: a flag, written without "=value" */
};

struct vsmmu_qargs_arg {
	enum vsmmu_qargs_kind kind;
	enum vsmmu_qargs_option option;
	enum vsmmu_qargs_syntax syntax;
	size_t position;
	char *name;
	char *value;    /* as given; NULL for built arguments and non-options */
	char *rendered; /* value after an edit; NULL until asked for or when stale */
	struct prop *props;
	size_t nprops;
	size_t props_cap;
	bool props_ready;
	bool edited;
};

struct vsmmu_qargs {
	struct vsmmu_qargs_arg **items;
	size_t count;
	size_t cap;
	char **argv; /* the last vsmmu_qargs_argv() result */
	size_t argv_cap;
};

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

static void out_of_memory(void)
{
	fputs("vsmmu: out of memory\n", stderr);
	abort();
}

/* ---- Names and classes ---- */

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

static const char *type_key(enum vsmmu_qargs_option option)
{
	switch (option) {
	case VSMMU_QARGS_OPT_DEVICE:
		return "driver";
	case VSMMU_QARGS_OPT_OBJECT:
		return "qom-type";
	case VSMMU_QARGS_OPT_MACHINE:
		return "type";
	default:
		return NULL;
	}
}

static const char *option_spelling(enum vsmmu_qargs_option option)
{
	switch (option) {
	case VSMMU_QARGS_OPT_DEVICE:
		return "-device";
	case VSMMU_QARGS_OPT_OBJECT:
		return "-object";
	case VSMMU_QARGS_OPT_MACHINE:
		return "-machine";
	default:
		return NULL;
	}
}

static bool valid_key(const char *key)
{
	size_t len = 0;

	if (!key || !*key)
		return false;
	for (const char *c = key; *c; c++, len++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-';
		if (!ok || len >= KEY_MAX)
			return false;
	}
	return true;
}

/* ---- Errors ---- */

/* "argv[N] (-device)" or "new -device argument"; free the result. */
static char *describe(const struct vsmmu_qargs_arg *arg)
{
	if (arg->position == VSMMU_QARGS_NONE)
		return vsmmu_xasprintf("new %.40s argument", arg->name);
	return vsmmu_xasprintf("argv[%zu] (%.40s)", arg->position, arg->name);
}

static void report_at(const struct vsmmu_qargs_arg *arg, vsmmu_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report_at(const struct vsmmu_qargs_arg *arg, vsmmu_err *err, const char *fmt, ...)
{
	_cleanup_buf_ struct vsmmu_buf msg = { 0 };
	_cleanup_free_ char *where = describe(arg);
	va_list ap;

	va_start(ap, fmt);
	vsmmu_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	vsmmu_fail(err, "%s: %s", where, msg.data);
}

/* Fill err with "where: what" and evaluate to -1 (a macro so that the
 * static analyzer sees the -1). */
#define fail_at(arg, err, ...) (report_at((arg), (err), __VA_ARGS__), -1)

/* ---- Arguments ---- */

static struct vsmmu_qargs_arg *arg_new(enum vsmmu_qargs_kind kind, const char *name,
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

static void prop_clear(struct prop *p)
{
	free(p->key);
	free(p->text);
	json_decref(p->json);
	*p = (struct prop){ 0 };
}

static void props_clear(struct vsmmu_qargs_arg *arg)
{
	for (size_t i = 0; i < arg->nprops; i++)
		prop_clear(&arg->props[i]);
	free(arg->props);
	arg->props = NULL;
	arg->nprops = arg->props_cap = 0;
	arg->props_ready = false;
}

void vsmmu_qargs_arg_free(struct vsmmu_qargs_arg *arg)
{
	if (!arg)
		return;
	props_clear(arg);
	free(arg->name);
	free(arg->value);
	free(arg->rendered);
	free(arg);
}

static void mark_edited(struct vsmmu_qargs_arg *arg)
{
	arg->edited = true;
	free(arg->rendered);
	arg->rendered = NULL;
}

/* ---- Properties: the list both syntaxes share ---- */

static struct prop *prop_find(const struct vsmmu_qargs_arg *arg, const char *key)
{
	for (size_t i = 0; i < arg->nprops; i++)
		if (strcmp(arg->props[i].key, key) == 0)
			return &arg->props[i];
	return NULL;
}

static struct prop *prop_append(struct vsmmu_qargs_arg *arg, const char *key)
{
	struct prop *p;

	vsmmu_grow(&arg->props, &arg->props_cap, arg->nprops, sizeof(*arg->props));
	p = &arg->props[arg->nprops++];
	*p = (struct prop){ .key = vsmmu_xstrdup(key) };
	return p;
}

/* Add a property read from the input; takes the contents of np. */
static int add_parsed(struct vsmmu_qargs_arg *arg, struct prop *np, vsmmu_err *err)
{
	int r = 0;

	if (arg->nprops >= VSMMU_QARGS_MAX_PROPS)
		r = fail_at(arg, err, "more than %u properties", VSMMU_QARGS_MAX_PROPS);
	else if (!np->key[0])
		r = fail_at(arg, err, "a property has an empty name");
	else if (prop_find(arg, np->key))
		r = fail_at(arg, err, "property '%.64s' is given twice", np->key);
	if (r < 0) {
		prop_clear(np);
		return r;
	}
	vsmmu_grow(&arg->props, &arg->props_cap, arg->nprops, sizeof(*arg->props));
	arg->props[arg->nprops++] = *np;
	return 0;
}

/* The text of a JSON value, as the header describes. */
static char *json_text(const json_t *v)
{
	char *s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return vsmmu_xstrdup(json_string_value(v));
	case JSON_INTEGER:
		return vsmmu_xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_TRUE:
		return vsmmu_xstrdup("true");
	case JSON_FALSE:
		return vsmmu_xstrdup("false");
	default:
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_DUMP_FLAGS);
		if (!s)
			out_of_memory();
		return s;
	}
}

static int parse_json_props(struct vsmmu_qargs_arg *arg, vsmmu_err *err)
{
	json_error_t jerr;
	_cleanup_json_ json_t *root = json_loads(arg->value, JSON_REJECT_DUPLICATES, &jerr);
	const char *key;
	json_t *v;

	if (!root)
		return fail_at(arg, err, "invalid JSON at byte %d: %s", jerr.position, jerr.text);
	if (!json_is_object(root))
		return fail_at(arg, err, "the JSON value is not an object");
	if (json_object_size(root) > VSMMU_QARGS_MAX_PROPS)
		return fail_at(arg, err, "more than %u properties", VSMMU_QARGS_MAX_PROPS);
	json_object_foreach(root, key, v) {
		struct prop np = { .key = vsmmu_xstrdup(key), .text = json_text(v),
				   .json = json_incref(v) };

		if (add_parsed(arg, &np, err) < 0)
			return -1;
	}
	return 0;
}

/* The end of the key=value element starting at s: the first ',' that is
 * not part of ",," (an escaped comma), or the terminating NUL. */
static const char *keyval_element_end(const char *s)
{
	for (;;) {
		const char *comma = strchr(s, ',');

		if (!comma)
			return s + strlen(s);
		if (comma[1] != ',')
			return comma;
		s = comma + 2;
	}
}

/* Copy s[0..len) turning ",," into ",". Inside an element every comma is
 * doubled, so each comma found is followed by its twin. */
static char *keyval_unescape(const char *s, size_t len)
{
	char *out = vsmmu_xcalloc(len + 1, 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		out[n++] = s[i];
		if (s[i] == ',')
			i++;
	}
	out[n] = '\0';
	return out;
}

static void keyval_append_escaped(struct vsmmu_buf *b, const char *s)
{
	for (;;) {
		size_t run = strcspn(s, ",");

		vsmmu_buf_printf(b, "%.*s", (int)run, s);
		if (!s[run])
			return;
		vsmmu_buf_printf(b, ",,");
		s += run + 1;
	}
}

/* One element s[0..len) of a key=value value; first tells whether it is
 * the first one, which may be the bare type. */
static int keyval_add_element(struct vsmmu_qargs_arg *arg, const char *s, size_t len, bool first,
			      vsmmu_err *err)
{
	const char *eq = memchr(s, '=', len);
	const char *comma = memchr(s, ',', len);
	struct prop np = { 0 };

	if (len == 0)
		return fail_at(arg, err, "empty element (a stray comma)");
	if (!eq && first && type_key(arg->option)) {
		np = (struct prop){ .key = vsmmu_xstrdup(type_key(arg->option)),
				    .text = keyval_unescape(s, len), .implied = true };
	} else if (!eq) {
		if (comma)
			return fail_at(arg, err, "flag '%.*s' contains a comma", (int)len, s);
		np = (struct prop){ .key = strndup(s, len), .text = vsmmu_xstrdup("on"),
				    .bare = true };
	} else {
		if (comma && comma < eq)
			return fail_at(arg, err, "the name in '%.*s' contains a comma",
				       (int)(len > 64 ? 64 : len), s);
		if (eq == s)
			return fail_at(arg, err, "element '%.*s' has an empty name",
				       (int)(len > 64 ? 64 : len), s);
		np = (struct prop){ .key = strndup(s, (size_t)(eq - s)),
				    .text = keyval_unescape(eq + 1, len - (size_t)(eq - s) - 1) };
	}
	if (!np.key)
		out_of_memory();
	return add_parsed(arg, &np, err);
}

static int parse_keyval_props(struct vsmmu_qargs_arg *arg, vsmmu_err *err)
{
	const char *s = arg->value;

	if (!*s)
		return fail_at(arg, err, "the value is empty");
	for (bool first = true;; first = false) {
		const char *end = keyval_element_end(s);

		if (keyval_add_element(arg, s, (size_t)(end - s), first, err) < 0)
			return -1;
		if (!*end)
			return 0;
		s = end + 1;
	}
}

/* The type property must be a non-empty string; -device and -object need one. */
static int check_type_prop(const struct vsmmu_qargs_arg *arg, vsmmu_err *err)
{
	const char *key = type_key(arg->option);
	const struct prop *p = prop_find(arg, key);

	if (!p) {
		if (arg->option == VSMMU_QARGS_OPT_MACHINE)
			return 0;
		return fail_at(arg, err, "there is no \"%s\", which QEMU needs", key);
	}
	if (p->json && !json_is_string(p->json))
		return fail_at(arg, err, "\"%s\" is not a string", key);
	if (!p->text[0])
		return fail_at(arg, err, "\"%s\" is empty", key);
	return 0;
}

/* Parse the value into properties unless done already. */
static int ensure_props(struct vsmmu_qargs_arg *arg, vsmmu_err *err)
{
	int r;

	if (arg->props_ready)
		return 0;
	if (arg->syntax == VSMMU_QARGS_SYNTAX_NONE)
		return fail_at(arg, err, "only -device, -object and -machine values have properties");
	if (arg->syntax == VSMMU_QARGS_SYNTAX_JSON)
		r = parse_json_props(arg, err);
	else
		r = parse_keyval_props(arg, err);
	if (r == 0)
		r = check_type_prop(arg, err);
	if (r < 0) {
		props_clear(arg);
		return -1;
	}
	arg->props_ready = true;
	return 0;
}

static int lookup(struct vsmmu_qargs_arg *arg, const char *key, struct prop **out,
		  vsmmu_err *err)
{
	if (ensure_props(arg, err) < 0)
		return -1;
	*out = key ? prop_find(arg, key) : NULL;
	return *out ? 1 : 0;
}

int vsmmu_qargs_get(struct vsmmu_qargs_arg *arg, const char *key, const char **value,
		    vsmmu_err *err)
{
	struct prop *p = NULL;
	int r = lookup(arg, key, &p, err);

	if (r > 0)
		*value = p->text;
	return r;
}

int vsmmu_qargs_has(struct vsmmu_qargs_arg *arg, const char *key, vsmmu_err *err)
{
	struct prop *p = NULL;

	return lookup(arg, key, &p, err);
}

/* The spellings QEMU's boolean parser accepts. */
static int text_to_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "y" };
	static const char *const no[] = { "off", "no", "false", "n" };

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int vsmmu_qargs_get_bool(struct vsmmu_qargs_arg *arg, const char *key, bool *out,
			 vsmmu_err *err)
{
	const char *text = NULL;
	int r = vsmmu_qargs_get(arg, key, &text, err);

	if (r > 0 && text_to_bool(text, out) < 0)
		return fail_at(arg, err, "%.64s=%.64s is not a boolean (on or off)", key, text);
	return r;
}

int vsmmu_qargs_get_ulong(struct vsmmu_qargs_arg *arg, const char *key, unsigned long max,
			  unsigned long *out, vsmmu_err *err)
{
	const char *text = NULL;
	int r = vsmmu_qargs_get(arg, key, &text, err);

	if (r > 0 && vsmmu_parse_ulong(text, 0, max, out) < 0)
		return fail_at(arg, err, "%.64s=%.64s is not a number from 0 to %lu", key, text,
			       max);
	return r;
}

int vsmmu_qargs_type(struct vsmmu_qargs_arg *arg, const char **type, vsmmu_err *err)
{
	const char *key = type_key(arg->option);

	if (!key)
		return fail_at(arg, err, "only -device, -object and -machine values have a type");
	return vsmmu_qargs_get(arg, key, type, err);
}

/* Set key to text (and json, in JSON syntax); takes both. */
static int set_value(struct vsmmu_qargs_arg *arg, const char *key, char *text, json_t *json,
		     vsmmu_err *err)
{
	_cleanup_free_ char *owned_text = text;
	_cleanup_json_ json_t *owned_json = json;
	const char *tkey = type_key(arg->option);
	struct prop *p;

	if (ensure_props(arg, err) < 0)
		return -1;
	if (!key)
		return fail_at(arg, err, "a property without a name");
	if (!valid_key(key))
		return fail_at(arg, err, "'%.64s' is not a valid property name", key);
	if (strlen(text) > VSMMU_QARGS_MAX_VALUE)
		return fail_at(arg, err, "the value of %s is longer than %u bytes", key,
			       VSMMU_QARGS_MAX_VALUE);
	if (arg->syntax == VSMMU_QARGS_SYNTAX_JSON && !json)
		return fail_at(arg, err, "the value of %s is not valid UTF-8", key);
	if (tkey && strcmp(key, tkey) == 0 && (!*text || (json && !json_is_string(json))))
		return fail_at(arg, err, "\"%s\" must be a non-empty string", key);
	p = prop_find(arg, key);
	if (!p) {
		if (arg->nprops >= VSMMU_QARGS_MAX_PROPS)
			return fail_at(arg, err, "more than %u properties", VSMMU_QARGS_MAX_PROPS);
		p = prop_append(arg, key);
	}
	free(p->text);
	json_decref(p->json);
	p->text = VSMMU_STEAL(owned_text);
	p->json = VSMMU_STEAL(owned_json);
	p->bare = false;
	mark_edited(arg);
	return 0;
}

static bool is_json(const struct vsmmu_qargs_arg *arg)
{
	return arg->syntax == VSMMU_QARGS_SYNTAX_JSON;
}

int vsmmu_qargs_set_str(struct vsmmu_qargs_arg *arg, const char *key, const char *value,
			vsmmu_err *err)
{
	if (!value)
		return fail_at(arg, err, "no value given for %.64s", key ? key : "(null)");
	return set_value(arg, key, vsmmu_xstrdup(value), is_json(arg) ? json_string(value) : NULL,
			 err);
}

int vsmmu_qargs_set_int(struct vsmmu_qargs_arg *arg, const char *key, long long value,
			vsmmu_err *err)
{
	return set_value(arg, key, vsmmu_xasprintf("%lld", value),
			 is_json(arg) ? json_integer(value) : NULL, err);
}

int vsmmu_qargs_set_bool(struct vsmmu_qargs_arg *arg, const char *key, bool value,
			 vsmmu_err *err)
{
	const char *text = is_json(arg) ? (value ? "true" : "false") : (value ? "on" : "off");

	return set_value(arg, key, vsmmu_xstrdup(text), is_json(arg) ? json_boolean(value) : NULL,
			 err);
}

int vsmmu_qargs_unset(struct vsmmu_qargs_arg *arg, const char *key, vsmmu_err *err)
{
	struct prop *p = NULL;
	size_t at;
	int r = lookup(arg, key, &p, err);

	if (r <= 0)
		return r;
	if (arg->option != VSMMU_QARGS_OPT_MACHINE && strcmp(key, type_key(arg->option)) == 0)
		return fail_at(arg, err, "\"%s\" cannot be removed", key);
	at = (size_t)(p - arg->props);
	prop_clear(p);
	for (size_t i = at; i + 1 < arg->nprops; i++)
		arg->props[i] = arg->props[i + 1];
	arg->nprops--;
	mark_edited(arg);
	return 1;
}

/* ---- Serialising edited properties ---- */

static char *render_keyval(const struct vsmmu_qargs_arg *arg)
{
	_cleanup_buf_ struct vsmmu_buf b = { 0 };

	for (size_t i = 0; i < arg->nprops; i++) {
		const struct prop *p = &arg->props[i];

		if (i)
			vsmmu_buf_printf(&b, ",");
		if (p->bare) {
			vsmmu_buf_printf(&b, "%s", p->key);
			continue;
		}
		/* A bare type containing '=' would read as key=value. */
		if (!p->implied || strchr(p->text, '='))
			vsmmu_buf_printf(&b, "%s=", p->key);
		keyval_append_escaped(&b, p->text);
	}
	if (!b.data)
		return vsmmu_xstrdup("");
	return VSMMU_STEAL(b.data);
}

static char *render_json(const struct vsmmu_qargs_arg *arg)
{
	_cleanup_json_ json_t *obj = json_object();

	if (!obj)
		return NULL;
	for (size_t i = 0; i < arg->nprops; i++)
		if (json_object_set(obj, arg->props[i].key, arg->props[i].json) < 0)
			return NULL;
	return json_dumps(obj, JSON_DUMP_FLAGS);
}

/* The value QEMU gets: the original, or the properties serialised again. */
static int current_value(struct vsmmu_qargs_arg *arg, char **value, vsmmu_err *err)
{
	char *s;

	if (arg->kind != VSMMU_QARGS_ARG_OPTION)
		return fail_at(arg, err, "has no value");
	if (!arg->edited) {
		if (!arg->value)
			return fail_at(arg, err, "has lost its value");
		*value = arg->value;
		return 0;
	}
	if (!arg->rendered) {
		s = is_json(arg) ? render_json(arg) : render_keyval(arg);
		if (!s)
			return fail_at(arg, err, "cannot serialise the edited JSON value");
		if (strlen(s) > VSMMU_QARGS_MAX_VALUE) {
			free(s);
			return fail_at(arg, err, "the edited value is longer than %u bytes",
				       VSMMU_QARGS_MAX_VALUE);
		}
		arg->rendered = s;
	}
	*value = arg->rendered;
	return 0;
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

	if (current_value(arg, &v, err) < 0)
		return -1;
	*value = v;
	return 0;
}

/* ---- Building arguments ---- */

static int set_pair(struct vsmmu_qargs_arg *arg, const struct vsmmu_qargs_pair *pair,
		    vsmmu_err *err)
{
	switch (pair->type) {
	case VSMMU_QARGS_VAL_STR:
		return vsmmu_qargs_set_str(arg, pair->key, pair->str, err);
	case VSMMU_QARGS_VAL_INT:
		return vsmmu_qargs_set_int(arg, pair->key, pair->num, err);
	case VSMMU_QARGS_VAL_BOOL:
		return vsmmu_qargs_set_bool(arg, pair->key, pair->flag, err);
	default:
		return fail_at(arg, err, "unknown value type %d for %.64s", (int)pair->type,
			       pair->key ? pair->key : "(null)");
	}
}

int vsmmu_qargs_new_props(enum vsmmu_qargs_option option, enum vsmmu_qargs_syntax syntax,
			  const struct vsmmu_qargs_pair *pairs, size_t npairs,
			  struct vsmmu_qargs_arg **out, vsmmu_err *err)
{
	_cleanup_qargs_arg_ struct vsmmu_qargs_arg *arg = NULL;
	const char *name = option_spelling(option);

	if (!name)
		return vsmmu_fail(err, "only -device, -object and -machine can be built from properties");
	if (syntax != VSMMU_QARGS_SYNTAX_KEYVAL && syntax != VSMMU_QARGS_SYNTAX_JSON)
		return vsmmu_fail(err, "a new %s needs JSON or key=value syntax", name);
	arg = arg_new(VSMMU_QARGS_ARG_OPTION, name, NULL, VSMMU_QARGS_NONE);
	arg->syntax = syntax;
	arg->props_ready = true;
	arg->edited = true;
	for (size_t i = 0; i < npairs; i++) {
		if (pairs[i].key && prop_find(arg, pairs[i].key))
			return fail_at(arg, err, "property '%.64s' is given twice", pairs[i].key);
		if (set_pair(arg, &pairs[i], err) < 0)
			return -1;
	}
	if (syntax == VSMMU_QARGS_SYNTAX_KEYVAL && arg->nprops &&
	    strcmp(arg->props[0].key, type_key(option)) == 0)
		arg->props[0].implied = true;
	if (check_type_prop(arg, err) < 0)
		return -1;
	*out = VSMMU_STEAL(arg);
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
	*out = arg_new(flag ? VSMMU_QARGS_ARG_FLAG : VSMMU_QARGS_ARG_OPTION, spelled, value,
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
		items_insert(args, args->count, arg_new(kind, s, NULL, at));
		return 0;
	}
	if (at + 1 >= argc || !argv[at + 1])
		return vsmmu_fail(err, "argv[%zu] (%.40s) needs a value but is the last argument", at,
				  s);
	if (check_size(argv[at + 1], at + 1, total, err) < 0)
		return -1;
	items_insert(args, args->count, arg_new(kind, s, argv[at + 1], at));
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

/* ---- Lookups ---- */

int vsmmu_qargs_next(const struct vsmmu_qargs *args, enum vsmmu_qargs_option option,
		     const char *type, size_t *index, vsmmu_err *err)
{
	for (size_t i = *index; i < args->count; i++) {
		struct vsmmu_qargs_arg *arg = args->items[i];
		const char *t = NULL;

		if (arg->kind != VSMMU_QARGS_ARG_OPTION || arg->option != option)
			continue;
		if (type) {
			int r = vsmmu_qargs_type(arg, &t, err);

			if (r < 0)
				return -1;
			if (r == 0 || strcmp(t, type) != 0)
				continue;
		}
		*index = i;
		return 1;
	}
	return 0;
}

struct lookup_entry {
	char *key;
	size_t at;
};

struct vsmmu_qargs_lookup {
	struct lookup_entry *entries;
	size_t n;
};

static int lookup_entry_cmp(const void *a, const void *b)
{
	const struct lookup_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

int vsmmu_qargs_lookup_new(const struct vsmmu_qargs *args, const char *type, const char *prop,
			   vsmmu_qargs_keyfn keyfn, struct vsmmu_qargs_lookup **lookup,
			   vsmmu_err *err)
{
	_cleanup_lookup_ struct vsmmu_qargs_lookup *lk = vsmmu_xcalloc(1, sizeof(*lk));
	size_t i = 0, cap = 0;
	int r;

	for (; (r = vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, type, &i, err)) > 0; i++) {
		const char *value = NULL;
		char key[64];
		int got = vsmmu_qargs_get(args->items[i], prop, &value, err);

		if (got < 0)
			return -1;
		if (got == 0 || (keyfn && !keyfn(value, key, sizeof(key))))
			continue;
		vsmmu_grow(&lk->entries, &cap, lk->n, sizeof(*lk->entries));
		lk->entries[lk->n].key = vsmmu_xstrdup(keyfn ? key : value);
		lk->entries[lk->n++].at = i;
	}
	if (r < 0)
		return -1;
	if (lk->n > 1)
		qsort(lk->entries, lk->n, sizeof(*lk->entries), lookup_entry_cmp);
	*lookup = VSMMU_STEAL(lk);
	return 0;
}

size_t vsmmu_qargs_lookup_find(const struct vsmmu_qargs_lookup *lookup, const char *key,
			       size_t *at, size_t max)
{
	size_t lo = 0, hi = lookup->n, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(lookup->entries[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < lookup->n && strcmp(lookup->entries[lo].key, key) == 0; lo++, n++)
		if (n < max)
			at[n] = lookup->entries[lo].at;
	return n;
}

void vsmmu_qargs_lookup_free(struct vsmmu_qargs_lookup *lookup)
{
	if (!lookup)
		return;
	for (size_t i = 0; i < lookup->n; i++)
		free(lookup->entries[i].key);
	free(lookup->entries);
	free(lookup);
}

void vsmmu_qargs_lookup_freep(struct vsmmu_qargs_lookup **lookup)
{
	vsmmu_qargs_lookup_free(*lookup);
}

static int duplicate_id(const struct vsmmu_qargs *args, size_t first, size_t second,
			const char *id, vsmmu_err *err)
{
	_cleanup_free_ char *where = describe(args->items[first]);

	return fail_at(args->items[second], err, "id '%.64s' is already used by %s", id, where);
}

int vsmmu_qargs_device_by_id(const struct vsmmu_qargs *args,
			     const struct vsmmu_qargs_lookup *ids, const char *id, size_t *index,
			     vsmmu_err *err)
{
	size_t at[2];
	size_t n = vsmmu_qargs_lookup_find(ids, id, at, 2);

	if (n > 1)
		return duplicate_id(args, at[0], at[1], id, err);
	if (n == 1)
		*index = at[0];
	return (int)n;
}

/* One scan: cheaper than a lookup table for a single id. */
int vsmmu_qargs_find_device(const struct vsmmu_qargs *args, const char *id, size_t *index,
			    vsmmu_err *err)
{
	size_t found = VSMMU_QARGS_NONE;
	size_t i = 0;
	int r;

	for (; (r = vsmmu_qargs_next(args, VSMMU_QARGS_OPT_DEVICE, NULL, &i, err)) > 0; i++) {
		const char *v = NULL;
		int got = vsmmu_qargs_get(args->items[i], "id", &v, err);

		if (got < 0)
			return -1;
		if (got == 0 || strcmp(v, id) != 0)
			continue;
		if (found != VSMMU_QARGS_NONE)
			return duplicate_id(args, found, i, id, err);
		found = i;
	}
	if (r < 0 || found == VSMMU_QARGS_NONE)
		return r;
	*index = found;
	return 1;
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
		if (current_value(arg, &value, err) < 0)
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
