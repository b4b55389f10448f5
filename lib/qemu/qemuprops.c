/* qemuprops: see qemuprops.h. The value of a -device/-object/-machine is
 * parsed on first access into one ordered list of properties shared by both
 * syntaxes, and serialised again only if edited. */
#include "qemuprops.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "qemuargs-internal.h"
#include "util.h"

/* json_decrefp comes with jansson (json_auto_t). */
#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))
#define JSON_DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)
#define KEY_MAX 128

/* One property. text is what the accessors return; json (JSON syntax only)
 * is the value itself, serialised when the argument is edited. */
struct qargs_prop {
	char *key;
	char *text;
	json_t *json;
	bool implied; /* key=value: the type, written without "key=" */
	bool bare;    /* key=value: a flag, written without "=value" */
};

static void out_of_memory(void)
{
	fputs("vsmmu: out of memory\n", stderr);
	abort();
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

static void prop_clear(struct qargs_prop *p)
{
	free(p->key);
	free(p->text);
	json_decref(p->json);
	*p = (struct qargs_prop){ 0 };
}

void qargs_props_clear(struct vsmmu_qargs_arg *arg)
{
	for (size_t i = 0; i < arg->nprops; i++)
		prop_clear(&arg->props[i]);
	free(arg->props);
	arg->props = NULL;
	arg->nprops = arg->props_cap = 0;
	arg->props_ready = false;
}

static void mark_edited(struct vsmmu_qargs_arg *arg)
{
	arg->edited = true;
	free(arg->rendered);
	arg->rendered = NULL;
}

/* ---- Properties: the list both syntaxes share ---- */

static struct qargs_prop *prop_find(const struct vsmmu_qargs_arg *arg, const char *key)
{
	for (size_t i = 0; i < arg->nprops; i++)
		if (strcmp(arg->props[i].key, key) == 0)
			return &arg->props[i];
	return NULL;
}

static struct qargs_prop *prop_append(struct vsmmu_qargs_arg *arg, const char *key)
{
	struct qargs_prop *p;

	vsmmu_grow(&arg->props, &arg->props_cap, arg->nprops, sizeof(*arg->props));
	p = &arg->props[arg->nprops++];
	*p = (struct qargs_prop){ .key = vsmmu_xstrdup(key) };
	return p;
}

/* Add a property read from the input; takes the contents of np. */
static int add_parsed(struct vsmmu_qargs_arg *arg, struct qargs_prop *np, vsmmu_err *err)
{
	int r = 0;

	if (arg->nprops >= VSMMU_QARGS_MAX_PROPS)
		r = qargs_fail_at(arg, err, "more than %u properties", VSMMU_QARGS_MAX_PROPS);
	else if (!np->key[0])
		r = qargs_fail_at(arg, err, "a property has an empty name");
	else if (prop_find(arg, np->key))
		r = qargs_fail_at(arg, err, "property '%.64s' is given twice", np->key);
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
		return qargs_fail_at(arg, err, "invalid JSON at byte %d: %s", jerr.position, jerr.text);
	if (!json_is_object(root))
		return qargs_fail_at(arg, err, "the JSON value is not an object");
	if (json_object_size(root) > VSMMU_QARGS_MAX_PROPS)
		return qargs_fail_at(arg, err, "more than %u properties", VSMMU_QARGS_MAX_PROPS);
	json_object_foreach(root, key, v) {
		struct qargs_prop np = { .key = vsmmu_xstrdup(key), .text = json_text(v),
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
	struct qargs_prop np = { 0 };

	if (len == 0)
		return qargs_fail_at(arg, err, "empty element (a stray comma)");
	if (!eq && first && type_key(arg->option)) {
		np = (struct qargs_prop){ .key = vsmmu_xstrdup(type_key(arg->option)),
				    .text = keyval_unescape(s, len), .implied = true };
	} else if (!eq) {
		if (comma)
			return qargs_fail_at(arg, err, "flag '%.*s' contains a comma", (int)len, s);
		np = (struct qargs_prop){ .key = strndup(s, len), .text = vsmmu_xstrdup("on"),
				    .bare = true };
	} else {
		if (comma && comma < eq)
			return qargs_fail_at(arg, err, "the name in '%.*s' contains a comma",
				       (int)(len > 64 ? 64 : len), s);
		if (eq == s)
			return qargs_fail_at(arg, err, "element '%.*s' has an empty name",
				       (int)(len > 64 ? 64 : len), s);
		np = (struct qargs_prop){ .key = strndup(s, (size_t)(eq - s)),
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
		return qargs_fail_at(arg, err, "the value is empty");
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
	const struct qargs_prop *p = prop_find(arg, key);

	if (!p) {
		if (arg->option == VSMMU_QARGS_OPT_MACHINE)
			return 0;
		return qargs_fail_at(arg, err, "there is no \"%s\", which QEMU needs", key);
	}
	if (p->json && !json_is_string(p->json))
		return qargs_fail_at(arg, err, "\"%s\" is not a string", key);
	if (!p->text[0])
		return qargs_fail_at(arg, err, "\"%s\" is empty", key);
	return 0;
}

/* Parse the value into properties unless done already. */
static int ensure_props(struct vsmmu_qargs_arg *arg, vsmmu_err *err)
{
	int r;

	if (arg->props_ready)
		return 0;
	if (arg->syntax == VSMMU_QARGS_SYNTAX_NONE)
		return qargs_fail_at(arg, err, "only -device, -object and -machine values have properties");
	if (arg->syntax == VSMMU_QARGS_SYNTAX_JSON)
		r = parse_json_props(arg, err);
	else
		r = parse_keyval_props(arg, err);
	if (r == 0)
		r = check_type_prop(arg, err);
	if (r < 0) {
		qargs_props_clear(arg);
		return -1;
	}
	arg->props_ready = true;
	return 0;
}

static int lookup(struct vsmmu_qargs_arg *arg, const char *key, struct qargs_prop **out,
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
	struct qargs_prop *p = NULL;
	int r = lookup(arg, key, &p, err);

	if (r > 0)
		*value = p->text;
	return r;
}

int vsmmu_qargs_has(struct vsmmu_qargs_arg *arg, const char *key, vsmmu_err *err)
{
	struct qargs_prop *p = NULL;

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
		return qargs_fail_at(arg, err, "%.64s=%.64s is not a boolean (on or off)", key, text);
	return r;
}

int vsmmu_qargs_get_ulong(struct vsmmu_qargs_arg *arg, const char *key, unsigned long max,
			  unsigned long *out, vsmmu_err *err)
{
	const char *text = NULL;
	int r = vsmmu_qargs_get(arg, key, &text, err);

	if (r > 0 && vsmmu_parse_ulong(text, 0, max, out) < 0)
		return qargs_fail_at(arg, err, "%.64s=%.64s is not a number from 0 to %lu", key, text,
			       max);
	return r;
}

int vsmmu_qargs_type(struct vsmmu_qargs_arg *arg, const char **type, vsmmu_err *err)
{
	const char *key = type_key(arg->option);

	if (!key)
		return qargs_fail_at(arg, err, "only -device, -object and -machine values have a type");
	return vsmmu_qargs_get(arg, key, type, err);
}

/* Set key to text (and json, in JSON syntax); takes both. */
static int set_value(struct vsmmu_qargs_arg *arg, const char *key, char *text, json_t *json,
		     vsmmu_err *err)
{
	_cleanup_free_ char *owned_text = text;
	_cleanup_json_ json_t *owned_json = json;
	const char *tkey = type_key(arg->option);
	struct qargs_prop *p;

	if (ensure_props(arg, err) < 0)
		return -1;
	if (!key)
		return qargs_fail_at(arg, err, "a property without a name");
	if (!valid_key(key))
		return qargs_fail_at(arg, err, "'%.64s' is not a valid property name", key);
	if (strlen(text) > VSMMU_QARGS_MAX_VALUE)
		return qargs_fail_at(arg, err, "the value of %s is longer than %u bytes", key,
			       VSMMU_QARGS_MAX_VALUE);
	if (arg->syntax == VSMMU_QARGS_SYNTAX_JSON && !json)
		return qargs_fail_at(arg, err, "the value of %s is not valid UTF-8", key);
	if (tkey && strcmp(key, tkey) == 0 && (!*text || (json && !json_is_string(json))))
		return qargs_fail_at(arg, err, "\"%s\" must be a non-empty string", key);
	p = prop_find(arg, key);
	if (!p) {
		if (arg->nprops >= VSMMU_QARGS_MAX_PROPS)
			return qargs_fail_at(arg, err, "more than %u properties", VSMMU_QARGS_MAX_PROPS);
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
		return qargs_fail_at(arg, err, "no value given for %.64s", key ? key : "(null)");
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
	struct qargs_prop *p = NULL;
	size_t at;
	int r = lookup(arg, key, &p, err);

	if (r <= 0)
		return r;
	if (arg->option != VSMMU_QARGS_OPT_MACHINE && strcmp(key, type_key(arg->option)) == 0)
		return qargs_fail_at(arg, err, "\"%s\" cannot be removed", key);
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
		const struct qargs_prop *p = &arg->props[i];

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
int qargs_current_value(struct vsmmu_qargs_arg *arg, char **value, vsmmu_err *err)
{
	char *s;

	if (arg->kind != VSMMU_QARGS_ARG_OPTION)
		return qargs_fail_at(arg, err, "has no value");
	if (!arg->edited) {
		if (!arg->value)
			return qargs_fail_at(arg, err, "has lost its value");
		*value = arg->value;
		return 0;
	}
	if (!arg->rendered) {
		s = is_json(arg) ? render_json(arg) : render_keyval(arg);
		if (!s)
			return qargs_fail_at(arg, err, "cannot serialise the edited JSON value");
		if (strlen(s) > VSMMU_QARGS_MAX_VALUE) {
			free(s);
			return qargs_fail_at(arg, err, "the edited value is longer than %u bytes",
				       VSMMU_QARGS_MAX_VALUE);
		}
		arg->rendered = s;
	}
	*value = arg->rendered;
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
		return qargs_fail_at(arg, err, "unknown value type %d for %.64s", (int)pair->type,
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
	arg = qargs_arg_new(VSMMU_QARGS_ARG_OPTION, name, NULL, VSMMU_QARGS_NONE);
	arg->syntax = syntax;
	arg->props_ready = true;
	arg->edited = true;
	for (size_t i = 0; i < npairs; i++) {
		if (pairs[i].key && prop_find(arg, pairs[i].key))
			return qargs_fail_at(arg, err, "property '%.64s' is given twice", pairs[i].key);
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
