/* vsmmu.conf: the line grammar, each key, what is refused and how, the
 * environment's overrides, the directory rules and the lenient load that
 * release uses. Files live in a temp directory; no root needed. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

static const char *const env_keys[] = { "VSMMU_CONF", "VSMMU_SYSFS", "VSMMU_DEV",
					 "VSMMU_RUNDIR", "VSMMU_QEMU", "VSMMU_WRAPPER" };

static void clear_env(void)
{
	for (size_t i = 0; i < VSMMU_ARRAY_LEN(env_keys); i++)
		unsetenv(env_keys[i]);
}

static void conf_clearp(struct vsmmu_conf *c) { vsmmu_conf_clear(c); }
#define _cleanup_conf_ __attribute__((cleanup(conf_clearp)))

/* Parse text; 0 or -1, the message in err. */
static int parse(struct vsmmu_conf *conf, const char *text, vsmmu_err *err)
{
	memset(conf, 0, sizeof(*conf));
	return vsmmu_conf_parse(conf, text, "t.conf", err);
}

static void test_grammar(void)
{
	_cleanup_conf_ struct vsmmu_conf c = { 0 };
	vsmmu_err err = { .msg = "" };

	CHECK(parse(&c, "\xef\xbb\xbf# a comment\n\n  sysfs = /fake/sys   # trailing\r\n"
		      "qemu = \"/opt/q#1\"  # quoted keeps its #\nrundir=/run/x\n", &err) == 0,
	      "BOM, comments, blanks, CRLF, quotes and no spaces parse: %s", err.msg);
	CHECK_STR(c.sysfs, "/fake/sys", "a value ends at a blank-led #");
	CHECK_STR(c.qemu, "/opt/q#1", "a quoted value keeps its #");
	CHECK_STR(c.rundir, "/run/x", "key=value without blanks");
	vsmmu_conf_clear(&c);
	CHECK(parse(&c, "qemu = /opt/a#b\n", &err) == 0 && vsmmu_streq(c.qemu, "/opt/a#b"),
	      "a # inside a word is part of the value");
}

static void expect_refused(const char *text, const char *want, const char *what)
{
	_cleanup_conf_ struct vsmmu_conf c = { 0 };
	vsmmu_err err = { .msg = "" };
	int rc = parse(&c, text, &err);

	if (!CHECK(rc < 0 && strstr(err.msg, want) && err.kind == VSMMU_ERR_INVALID, "%s", what))
		printf("#   got rc %d: %s\n#   want: %s\n", rc, err.msg, want);
}

static void test_refusals(void)
{
	expect_refused("sysfs = /s\nqemu_usr = qemu\n", "t.conf:2: unknown key 'qemu_usr'",
		       "an unknown key is refused with its line");
	expect_refused("sysfs\n", "t.conf:1: expected 'key = value', got 'sysfs'",
		       "a line without = is refused");
	expect_refused("qemu =  \n", "t.conf:1: 'qemu' has an empty value",
		       "an empty value is refused");
	expect_refused("qemu = \"/a\" b\n", "'qemu' has text after its closing quote",
		       "text after a closing quote is refused");
	expect_refused("log_level = verbose\n", "log_level 'verbose' is not error, warn, info or debug",
		       "an unknown log level is refused");
	expect_refused("manage = all\n", "manage 'all' is not marked or hostdevs",
		       "an unknown manage policy is refused");
}

static void test_keys(void)
{
	_cleanup_conf_ struct vsmmu_conf c = { 0 };
	vsmmu_err err = { .msg = "" };

	CHECK(parse(&c, "log_level = debug\nmanage = hostdevs\nqemu_user = q\nqemu_group = kvm\n"
		      "libvirt_qemu_conf = /x/qemu.conf\ndev = /d\nqemu = /a\nqemu = /b\n", &err) == 0,
	      "every key parses: %s", err.msg);
	CHECK_INT(c.log_level, VSMMU_LOG_DEBUG, "log_level");
	CHECK_INT(c.manage, VSMMU_MANAGE_HOSTDEVS, "manage");
	CHECK_STR(vsmmu_manage_policy_name(c.manage), "hostdevs", "the policy's name");
	CHECK_STR(c.qemu_user, "q", "qemu_user");
	CHECK_STR(c.qemu_group, "kvm", "qemu_group");
	CHECK_STR(c.libvirt_qemu_conf, "/x/qemu.conf", "libvirt_qemu_conf");
	CHECK_STR(c.dev, "/d", "dev");
	CHECK_STR(c.qemu, "/b", "the last setting of a key wins");
}

static void test_split_line(void)
{
	char line[] = "  key =  \"v # w\"  # c";
	char blank[] = "   # only a comment";
	char *key, *value;
	vsmmu_err err = { .msg = "" };

	CHECK(vsmmu_conf_split_line(line, "w:1", &key, &value, &err) == 0 &&
	      vsmmu_streq(key, "key") && vsmmu_streq(value, "v # w"),
	      "split_line gives the key and the unquoted value");
	CHECK(vsmmu_conf_split_line(blank, "w:2", &key, &value, &err) == 0 && !key && !value,
	      "a comment line has neither key nor value");
}

static char *write_conf(const char *dir, const char *text)
{
	char *path = vsmmu_xasprintf("%s/vsmmu.conf", dir);
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static void test_load_and_env(const char *dir)
{
	_cleanup_free_ char *path = write_conf(dir, "sysfs = /file/sys\nqemu = /file/qemu\n");
	_cleanup_conf_ struct vsmmu_conf c = { 0 };
	vsmmu_err err = { .msg = "" };

	clear_env();
	setenv("VSMMU_CONF", path, 1);
	setenv("VSMMU_QEMU", "/env/qemu", 1);
	setenv("VSMMU_SYSFS", "", 1);
	CHECK(vsmmu_conf_load(&c, &err) == 0, "a file and the environment load: %s", err.msg);
	CHECK_STR(c.path, path, "VSMMU_CONF names the file read");
	CHECK_STR(c.qemu, "/env/qemu", "the environment overrides the file");
	CHECK_STR(c.sysfs, "/file/sys", "an empty variable does not override");
	CHECK_STR(c.dev, "/dev", "dev defaults to /dev");
	CHECK_STR(c.rundir, VSMMU_RUNDIR_DEFAULT, "rundir defaults");
	CHECK_STR(c.libvirt_qemu_conf, "/etc/libvirt/qemu.conf", "libvirt's qemu.conf defaults");
	CHECK_INT(c.log_level, VSMMU_LOG_INFO, "log_level defaults to info");
	CHECK_INT(c.manage, VSMMU_MANAGE_MARKED, "manage defaults to marked");
	vsmmu_conf_clear(&c);

	setenv("VSMMU_CONF", "/nonexistent/vsmmu.conf", 1);
	unsetenv("VSMMU_QEMU");
	CHECK(vsmmu_conf_load(&c, &err) == 0 && vsmmu_streq(c.qemu, "/usr/bin/qemu-system-aarch64"),
	      "a missing file means defaults");
	vsmmu_conf_clear(&c);

	setenv("VSMMU_RUNDIR", "run/rel", 1);
	CHECK(vsmmu_conf_load(&c, &err) < 0 &&
	      strstr(err.msg, "environment: 'VSMMU_RUNDIR = run/rel' is a relative path"),
	      "a relative VSMMU_RUNDIR is refused: %s", err.msg);
	clear_env();
}

static void test_directory_rules(const char *dir)
{
	_cleanup_free_ char *open_dir = vsmmu_xasprintf("%s/open", dir);
	_cleanup_free_ char *text = vsmmu_xasprintf("rundir = %s/sub/run\ndev = dev\nqemu = /q\n",
						    open_dir);
	_cleanup_free_ char *path = NULL;
	_cleanup_conf_ struct vsmmu_conf c = { 0 };
	vsmmu_err err = { .msg = "" };

	mkdir(open_dir, 0777);
	chmod(open_dir, 01777);
	path = write_conf(dir, text);
	clear_env();
	setenv("VSMMU_CONF", path, 1);
	CHECK(vsmmu_conf_load(&c, &err) < 0 && strstr(err.msg, "'dev = dev' is a relative path"),
	      "the strict load stops at the first bad directory: %s", err.msg);
	vsmmu_conf_clear(&c);
	CHECK(vsmmu_conf_load_lenient(&c, &err) < 0, "the lenient load still reports a problem");
	CHECK(strstr(err.msg, "'dev = dev' is a relative path") != NULL,
	      "it names the first problem: %s", err.msg);
	CHECK_STR(c.dev, "/dev", "a bad dev falls back to /dev");
	CHECK_STR(c.rundir, VSMMU_RUNDIR_DEFAULT, "a rundir below a world-writable directory "
		  "falls back to the default");
	CHECK_STR(c.qemu, "/q", "the good settings are kept");
	vsmmu_conf_clear(&c);

	free(text);
	text = vsmmu_xasprintf("rundir = %s/sub/run\n", open_dir);
	free(write_conf(dir, text)); /* the same path: VSMMU_CONF still names it */
	CHECK(vsmmu_conf_load(&c, &err) < 0 && strstr(err.msg, "which anyone may write"),
	      "a rundir below a world-writable directory is refused: %s", err.msg);
	clear_env();
}

static void test_env_path(void)
{
	_cleanup_free_ char *dflt = NULL, *set = NULL;

	unsetenv("VSMMU_PROC");
	dflt = vsmmu_conf_env_path("VSMMU_PROC", "/proc");
	setenv("VSMMU_PROC", "/fake/proc", 1);
	set = vsmmu_conf_env_path("VSMMU_PROC", "/proc");
	unsetenv("VSMMU_PROC");
	CHECK_STR(dflt, "/proc", "env_path: the default when unset");
	CHECK_STR(set, "/fake/proc", "env_path: the variable when set");
	setenv("VSMMU_WRAPPER", "/opt/w", 1);
	CHECK_STR(vsmmu_wrapper_path(), "/opt/w", "VSMMU_WRAPPER names the wrapper");
	unsetenv("VSMMU_WRAPPER");
	CHECK(vsmmu_has_prefix(vsmmu_wrapper_path(), VSMMU_LIBEXECDIR "/"),
	      "else the wrapper is in LIBEXECDIR");
}

int main(void)
{
	char dir[] = "/tmp/vsmmu-conf-XXXXXX";

	if (!mkdtemp(dir))
		return 2;
	test_grammar();
	test_refusals();
	test_keys();
	test_split_line();
	test_load_and_env(dir);
	test_directory_rules(dir);
	test_env_path();
	shell("rm -rf '%s'", dir);
	return tap_done();
}
