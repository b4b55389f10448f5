#include "conf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define CONF_MAX (64u << 10)

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static const char *const manage_names[] = { "marked", "hostdevs" };

const char *vsmmu_manage_policy_name(enum vsmmu_manage_policy policy)
{
	return manage_names[policy];
}

/* The index of value in names[n], or -1. */
static int name_index(const char *const *names, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(value, names[i]) == 0)
			return (int)i;
	return -1;
}

static int set_manage(struct vsmmu_conf *conf, const char *value, const char *where,
		      vsmmu_err *err)
{
	int i = name_index(manage_names, VSMMU_ARRAY_LEN(manage_names), value);

	if (i < 0)
		return vsmmu_fail(err, "%s: manage '%s' is not marked or hostdevs", where, value);
	conf->manage = (enum vsmmu_manage_policy)i;
	return 0;
}

static char **conf_field(struct vsmmu_conf *conf, const char *key)
{
	static const struct { const char *key; size_t offset; } fields[] = {
		{ "sysfs", offsetof(struct vsmmu_conf, sysfs) },
		{ "dev", offsetof(struct vsmmu_conf, dev) },
		{ "rundir", offsetof(struct vsmmu_conf, rundir) },
		{ "qemu", offsetof(struct vsmmu_conf, qemu) },
		{ "qemu_user", offsetof(struct vsmmu_conf, qemu_user) },
		{ "qemu_group", offsetof(struct vsmmu_conf, qemu_group) },
		{ "libvirt_qemu_conf", offsetof(struct vsmmu_conf, libvirt_qemu_conf) },
	};

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(fields); i++)
		if (strcmp(fields[i].key, key) == 0)
			return (char **)((char *)conf + fields[i].offset);
	return NULL;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int set_level(struct vsmmu_conf *conf, const char *value, const char *where,
		     vsmmu_err *err)
{
	int i = name_index(level_names, VSMMU_ARRAY_LEN(level_names), value);

	if (i < 0)
		return vsmmu_fail(err, "%s: log_level '%s' is not error, warn, info or debug",
				  where, value);
	conf->log_level = (enum vsmmu_log_level)i;
	return 0;
}

/* The value after '=': a '#' at its start or after a blank starts a
 * comment; a value in double quotes is taken as is, '#' included, and only
 * a comment may follow it. NULL after text behind the closing quote. */
static char *value_of(char *s)
{
	char *end;

	s = trim(s);
	if (*s == '"' && (end = strchr(s + 1, '"'))) {
		*end = '\0';
		end = trim(end + 1);
		return *end == '\0' || *end == '#' ? s + 1 : NULL;
	}
	for (end = s; *end; end++)
		if (*end == '#' && (end == s || end[-1] == ' ' || end[-1] == '\t')) {
			*end = '\0';
			break;
		}
	return trim(s);
}

int vsmmu_conf_split_line(char *line, const char *where, char **key, char **value,
			  vsmmu_err *err)
{
	char *eq = strchr(line, '=');

	*key = *value = NULL;
	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if (!eq)
		return vsmmu_fail(err, "%s: expected 'key = value', got '%s'", where, line);
	*eq = '\0';
	*key = trim(line);
	*value = value_of(eq + 1);
	if (!*value)
		return vsmmu_fail(err, "%s: '%s' has text after its closing quote; only a # comment "
				  "may follow it", where, *key);
	return 0;
}

static int parse_line(struct vsmmu_conf *conf, char *line, const char *where, vsmmu_err *err)
{
	char *key, *value, **field;

	if (vsmmu_conf_split_line(line, where, &key, &value, err) < 0)
		return -1;
	if (!key)
		return 0;
	if (strcmp(key, "log_level") == 0)
		return set_level(conf, value, where, err);
	if (strcmp(key, "manage") == 0)
		return set_manage(conf, value, where, err);
	field = conf_field(conf, key);
	if (!field)
		return vsmmu_fail(err, "%s: unknown key '%s'", where, key);
	if (*value == '\0')
		return vsmmu_fail(err, "%s: '%s' has an empty value", where, key);
	free(*field);
	*field = vsmmu_xstrdup(value);
	return 0;
}

/* Loading stops at the first problem, or (keep_going: release) notes the
 * first one in err, skips what is wrong and goes on. */
struct loader {
	bool keep_going;
	bool bad;
	vsmmu_err *err;
	vsmmu_err later; /* problems after the first */
};

static vsmmu_err *slot(struct loader *l)
{
	return l->bad ? &l->later : l->err;
}

/* After a failure reported into slot(l): -1 to stop, 0 to go on. */
static int loader_failed(struct loader *l)
{
	l->bad = true;
	return l->keep_going ? 0 : -1;
}

static int parse_text(struct vsmmu_conf *conf, const char *text, const char *path,
		      struct loader *l)
{
	static const char bom[] = "\xef\xbb\xbf"; /* some editors start UTF-8 text with it */
	_cleanup_free_ char *copy =
		vsmmu_xstrdup(vsmmu_has_prefix(text, bom) ? text + strlen(bom) : text);
	char *save = NULL;
	int lineno = 0;

	for (char *line = copy; line; line = save) {
		char where[512];

		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		snprintf(where, sizeof(where), "%s:%d", path, ++lineno);
		if (parse_line(conf, line, where, slot(l)) < 0 && loader_failed(l) < 0)
			return -1;
	}
	return 0;
}

int vsmmu_conf_parse(struct vsmmu_conf *conf, const char *text, const char *path,
		     vsmmu_err *err)
{
	struct loader l = { .err = err };

	return parse_text(conf, text, path, &l);
}

static void default_to(char **field, const char *env, const char *dflt)
{
	const char *v = env ? getenv(env) : NULL;

	if (v && *v) {
		free(*field);
		*field = vsmmu_xstrdup(v);
	} else if (!*field) {
		*field = vsmmu_xstrdup(dflt);
	}
}

/* The first directory at or above path (which need not exist) that anyone
 * may write, or NULL. */
static char *world_writable_at_or_above(const char *path)
{
	_cleanup_free_ char *p = vsmmu_xstrdup(path);

	for (;;) {
		struct stat st;
		char *slash;

		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & S_IWOTH))
			return VSMMU_STEAL(p);
		slash = strrchr(p, '/');
		if (!slash || strcmp(p, "/") == 0)
			return NULL;
		slash[slash == p] = '\0'; /* "/x" goes on to "/" */
	}
}

/* rundir and dev name what root hands out or trusts: an absolute path
 * (release runs with another working directory than start), and, when
 * vsmmu.conf sets it, nowhere a user could create or swap it. */
static int check_dir_key(const struct vsmmu_conf *conf, const char *key, const char *value,
			 const char *dflt, bool from_file, vsmmu_err *err)
{
	_cleanup_free_ char *open_dir = NULL;

	if (value[0] != '/')
		return vsmmu_fail(err, "%s: '%s = %s' is a relative path; give an absolute one "
				  "(the default is %s)", from_file ? conf->path : "environment",
				  key, value, dflt);
	open_dir = from_file ? world_writable_at_or_above(value) : NULL;
	if (open_dir)
		return vsmmu_fail(err, "%s: '%s = %s' lies in %s, which anyone may write; choose "
				  "a directory only root can write (the default is %s)", conf->path,
				  key, value, open_dir, dflt);
	return 0;
}

/* A directory key that breaks check_dir_key is dropped when loading goes
 * on, so that its default (or the environment) applies. */
static int check_dir_field(struct vsmmu_conf *conf, char **field, const char *key,
			   const char *dflt, bool from_file, struct loader *l)
{
	if (!*field || check_dir_key(conf, key, *field, dflt, from_file, slot(l)) == 0)
		return 0;
	free(*field);
	*field = NULL;
	return loader_failed(l);
}

static int read_conf(struct vsmmu_conf *conf, struct loader *l)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	vsmmu_err *err = slot(l);

	if (vsmmu_read_file(conf->path, CONF_MAX, &text, &len, err) < 0)
		return err->kind == VSMMU_ERR_ABSENT ? 0 : loader_failed(l);
	if (strlen(text) != len) { /* parsing would silently stop at the NUL */
		vsmmu_fail(err, "%s holds a NUL byte; vsmmu.conf is a text file", conf->path);
		return loader_failed(l);
	}
	return parse_text(conf, text, conf->path, l);
}

static int load(struct vsmmu_conf *conf, struct loader *l)
{
	const char *path = getenv("VSMMU_CONF");

	memset(conf, 0, sizeof(*conf));
	conf->log_level = VSMMU_LOG_INFO;
	conf->path = vsmmu_xstrdup(path && *path ? path : VSMMU_CONF_DEFAULT);
	if (read_conf(conf, l) < 0 ||
	    check_dir_field(conf, &conf->dev, "dev", "/dev", true, l) < 0 ||
	    check_dir_field(conf, &conf->rundir, "rundir", VSMMU_RUNDIR_DEFAULT, true, l) < 0)
		return -1;
	default_to(&conf->sysfs, "VSMMU_SYSFS", "/sys");
	default_to(&conf->dev, "VSMMU_DEV", "/dev");
	default_to(&conf->rundir, "VSMMU_RUNDIR", VSMMU_RUNDIR_DEFAULT);
	/* The environment is the caller's (libvirt gives hooks and QEMU none
	 * of ours): only the relative-path rule applies to it. */
	if (check_dir_field(conf, &conf->dev, "VSMMU_DEV", "/dev", false, l) < 0 ||
	    check_dir_field(conf, &conf->rundir, "VSMMU_RUNDIR", VSMMU_RUNDIR_DEFAULT, false, l) < 0)
		return -1;
	if (!conf->dev)
		conf->dev = vsmmu_xstrdup("/dev");
	if (!conf->rundir)
		conf->rundir = vsmmu_xstrdup(VSMMU_RUNDIR_DEFAULT);
	default_to(&conf->qemu, "VSMMU_QEMU", VSMMU_EMULATOR_PATH);
	default_to(&conf->libvirt_qemu_conf, NULL, "/etc/libvirt/qemu.conf");
	return l->bad ? -1 : 0;
}

int vsmmu_conf_load(struct vsmmu_conf *conf, vsmmu_err *err)
{
	struct loader l = { .err = err };

	return load(conf, &l);
}

int vsmmu_conf_load_lenient(struct vsmmu_conf *conf, vsmmu_err *err)
{
	struct loader l = { .keep_going = true, .err = err };

	return load(conf, &l);
}

void vsmmu_conf_clear(struct vsmmu_conf *conf)
{
	free(conf->path);
	free(conf->sysfs);
	free(conf->dev);
	free(conf->rundir);
	free(conf->qemu);
	free(conf->qemu_user);
	free(conf->qemu_group);
	free(conf->libvirt_qemu_conf);
	memset(conf, 0, sizeof(*conf));
}

const char *vsmmu_wrapper_path(void)
{
	const char *w = getenv("VSMMU_WRAPPER");

	return w && *w ? w : VSMMU_LIBEXECDIR "/" VSMMU_WRAPPER_NAME;
}

char *vsmmu_conf_env_path(const char *name, const char *dflt)
{
	char *path = NULL;

	default_to(&path, name, dflt);
	return path;
}
