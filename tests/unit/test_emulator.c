/* vsmmuctl emulator: the vsmmu.conf edit and its exact undo, the record,
 * and which facts let install and remove go on. */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "emulator.h"
#include "tap.h"
#include "util.h"

#define LINE VSMMU_EMULATOR_CONF_LINE

/* set, then restore with the record set wrote: what restore gives. */
static char *round_trip(const char *text, bool *deleted)
{
	struct vsmmu_emulator_record r = { .wrapper = "/w" };
	_cleanup_free_ char *set = NULL, *note = NULL;
	char *out = NULL;
	bool keep = true;
	vsmmu_err err;

	if (vsmmu_emulator_conf_set(text, "c", &set, &r.edit, &r.old_line, &err) < 0)
		return vsmmu_xstrdup("(set refused)");
	vsmmu_emulator_conf_restore(set, "c", &r, &out, &keep, &note);
	free(r.old_line);
	*deleted = !keep && !out;
	return keep ? vsmmu_xstrdup("(kept)") : out;
}

static char *set_text(const char *text, enum vsmmu_conf_edit_kind *edit, vsmmu_err *err)
{
	_cleanup_free_ char *old = NULL;
	char *out = NULL;

	if (vsmmu_emulator_conf_set(text, "vsmmu.conf", &out, edit, &old, err) < 0)
		return NULL;
	return out;
}

static void test_set_example(void)
{
	_cleanup_free_ char *example = NULL, *out = NULL, *back = NULL;
	struct vsmmu_conf conf = { 0 };
	enum vsmmu_conf_edit_kind edit;
	bool deleted;
	vsmmu_err err;
	const char *at;

	if (!CHECK(vsmmu_read_file("examples/vsmmu.conf", 1 << 16, &example, NULL, &err) == 0,
		   "the shipped vsmmu.conf reads (run from the top directory)"))
		return;
	out = set_text(example, &edit, &err);
	CHECK(out && edit == VSMMU_CONF_EDIT_INSERTED, "shipped conf: the line is inserted");
	at = out ? strstr(out, "# qemu = /usr/bin/qemu-system-aarch64\n" LINE "\n") : NULL;
	CHECK(at != NULL, "shipped conf: the line goes right after the commented example");
	CHECK(out && strlen(out) == strlen(example) + strlen(LINE) + 1,
	      "shipped conf: nothing but the line is added");
	CHECK(out && vsmmu_conf_parse(&conf, out, "c", &err) == 0 &&
	      vsmmu_streq(conf.qemu, VSMMU_EMULATOR_REAL),
	      "the config parser reads the edit as qemu = %s", VSMMU_EMULATOR_REAL);
	vsmmu_conf_clear(&conf);
	back = round_trip(example, &deleted);
	CHECK_STR(back, example, "shipped conf: restore gives it back byte for byte");
}

static void test_set_cases(void)
{
	static const struct {
		const char *text, *want, *why;
	} cases[] = {
		{ "qemu = /usr/bin/qemu-system-aarch64  # mine\nlog_level = debug\n",
		  LINE "\nlog_level = debug\n", "the default qemu line is replaced" },
		{ "  qemu=\"" VSMMU_EMULATOR_REAL "\"\n", LINE "\n", "a line naming .real is replaced" },
		{ "log_level = info", "log_level = info\n" LINE, "no final newline: appended after it" },
		{ "log_level = info\n\n", "log_level = info\n\n" LINE "\n",
		  "no example: appended at the end" },
		{ "", LINE "\n", "an empty file gets the line" },
		{ "\xef\xbb\xbfqemu = /usr/bin/qemu-system-aarch64\n", LINE "\n",
		  "a first line after a byte order mark is read as the parser reads it" },
	};

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(cases); i++) {
		_cleanup_free_ char *out = NULL, *back = NULL;
		enum vsmmu_conf_edit_kind edit;
		bool deleted = false;
		vsmmu_err err = { .msg = "" };

		out = set_text(cases[i].text, &edit, &err);
		CHECK_STR(out, cases[i].want, "set: %s", cases[i].why);
		back = round_trip(cases[i].text, &deleted);
		CHECK_STR(back, cases[i].text, "restore: %s, undone exactly", cases[i].why);
	}
}

static void test_set_refused(void)
{
	static const struct {
		const char *text, *needle, *why;
	} cases[] = {
		{ "qemu = /opt/qemu/bin/qemu-system-aarch64\n", "/opt/qemu/bin/qemu-system-aarch64",
		  "qemu naming another QEMU" },
		{ "qemu = /usr/bin/qemu-system-aarch64\nqemu = /usr/bin/qemu-system-aarch64\n",
		  "vsmmu.conf:2", "qemu set twice" },
		{ "log_level info\n", "vsmmu.conf:1", "a line the parser refuses" },
	};

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(cases); i++) {
		_cleanup_free_ char *out = NULL;
		enum vsmmu_conf_edit_kind edit;
		vsmmu_err err = { .msg = "" };

		out = set_text(cases[i].text, &edit, &err);
		CHECK(!out && strstr(err.msg, cases[i].needle), "refused: %s (%s)", cases[i].why,
		      err.msg);
	}
}

static void test_created_and_changed(void)
{
	struct vsmmu_emulator_record r = { .edit = VSMMU_CONF_EDIT_INSERTED, .wrapper = "/w" };
	_cleanup_free_ char *out = NULL, *note = NULL, *back = NULL;
	enum vsmmu_conf_edit_kind edit;
	bool keep, deleted = false;
	vsmmu_err err;

	out = set_text(NULL, &edit, &err);
	CHECK(out && edit == VSMMU_CONF_EDIT_CREATED && strcmp(out, LINE "\n") == 0,
	      "no vsmmu.conf: it is created with the line alone");
	back = round_trip(NULL, &deleted);
	CHECK(deleted && !back, "created by install: remove deletes it again");
	free(out);
	vsmmu_emulator_conf_restore("qemu = /opt/q\n", "c", &r, &out, &keep, &note);
	CHECK(keep && !out && note && strstr(note, "left as it is"),
	      "qemu changed by the admin since: left as it is, with a note");
	free(out);
	free(note);
	vsmmu_emulator_conf_restore("a = b\nqemu=" VSMMU_EMULATOR_REAL "\n", "c", &r, &out, &keep,
				    &note);
	CHECK_STR(out, "a = b\n", "the line re-written in another form is still removed");
	free(out);
	r.edit = VSMMU_CONF_EDIT_CREATED;
	vsmmu_emulator_conf_restore("a = b\n" LINE "\n", "c", &r, &out, &keep, &note);
	CHECK_STR(out, "a = b\n", "a created file the admin added to is kept, less the line");
}

static void test_record(void)
{
	struct vsmmu_emulator_record r = { .edit = VSMMU_CONF_EDIT_REPLACED,
					   .old_line = "qemu = /usr/bin/qemu-system-aarch64 # \"x\"",
					   .wrapper = "/usr/libexec/vsmmu/vsmmu-qemu" };
	struct vsmmu_emulator_record back;
	_cleanup_free_ char *json = vsmmu_emulator_record_to_json(&r);
	vsmmu_err err;

	CHECK(json && vsmmu_emulator_record_parse(json, "rec", &back, &err) == 0 &&
	      back.edit == r.edit && vsmmu_streq(back.old_line, r.old_line) &&
	      vsmmu_streq(back.wrapper, r.wrapper), "the record reads back as written");
	vsmmu_emulator_record_clear(&back);
	CHECK(vsmmu_emulator_record_parse("{\"edit\":\"replaced\",\"wrapper\":\"/w\"}", "rec", &back,
					  &err) < 0 && strstr(err.msg, "rec"),
	      "a replaced edit without the old line is refused, naming the file");
	CHECK(vsmmu_emulator_record_parse("{\"edit\":\"moved\",\"wrapper\":\"/w\"}", "rec", &back,
					  &err) < 0, "an unknown edit is refused");
	CHECK(vsmmu_emulator_record_parse("not json", "rec", &back, &err) < 0,
	      "text that is not JSON is refused");
}

/* Facts of a Debian host with QEMU installed and nothing of ours yet. */
static struct vsmmu_emulator_facts fresh(void)
{
	return (struct vsmmu_emulator_facts){
		.root = "", .wrapper = "/usr/libexec/vsmmu/vsmmu-qemu", .wrapper_present = true,
		.have_divert = true, .at_path = VSMMU_EMU_REGULAR, .conf_present = true,
	};
}

static struct vsmmu_emulator_facts installed(void)
{
	struct vsmmu_emulator_facts f = fresh();

	f.diverted_by = "LOCAL";
	f.divert_to = VSMMU_EMULATOR_REAL;
	f.at_path = VSMMU_EMU_WRAPPER;
	f.real_present = true;
	f.recorded = true;
	f.conf_qemu = VSMMU_EMULATOR_REAL;
	return f;
}

static void expect(int rc, int want, const vsmmu_err *err, const char *needle, const char *why)
{
	if (want < 0)
		CHECK(rc < 0 && strstr(err->msg, needle), "%s: refused (%s)", why, err->msg);
	else
		CHECK_INT(rc, want, "%s", why);
}

static void test_may_install(void)
{
	struct vsmmu_emulator_facts f;
	vsmmu_err err = { .msg = "" };

	f = fresh();
	expect(vsmmu_emulator_may_install(&f, &err), 0, &err, "", "fresh Debian host: go on");
	f.conf_qemu = VSMMU_EMULATOR_PATH;
	expect(vsmmu_emulator_may_install(&f, &err), 0, &err, "", "qemu = the default: go on");
	f = installed();
	expect(vsmmu_emulator_may_install(&f, &err), 1, &err, "", "installed: nothing to do");
	f = fresh();
	f.have_divert = false;
	expect(vsmmu_emulator_may_install(&f, &err), -1, &err, "dpkg-divert", "no dpkg-divert");
	f = fresh();
	f.at_path = VSMMU_EMU_ABSENT;
	expect(vsmmu_emulator_may_install(&f, &err), -1, &err, "no QEMU", "no QEMU at the path");
	f = fresh();
	f.at_path = VSMMU_EMU_OTHER;
	f.path_target = "/etc/alternatives/qemu";
	expect(vsmmu_emulator_may_install(&f, &err), -1, &err, "/etc/alternatives/qemu",
	       "a symlink elsewhere");
	f = fresh();
	f.diverted_by = "qemu-hack";
	f.divert_to = "/usr/bin/qemu-system-aarch64.distrib";
	expect(vsmmu_emulator_may_install(&f, &err), -1, &err, "qemu-hack",
	       "diverted by another package");
	f = fresh();
	f.conf_qemu = "/opt/qemu";
	expect(vsmmu_emulator_may_install(&f, &err), -1, &err, "/opt/qemu",
	       "qemu = names another QEMU");
	f = fresh();
	f.real_present = true;
	expect(vsmmu_emulator_may_install(&f, &err), -1, &err, ".real exists",
	       "a .real already there");
	f = fresh();
	f.wrapper_present = false;
	expect(vsmmu_emulator_may_install(&f, &err), -1, &err, "not installed", "no wrapper");
	f = installed();
	f.conf_qemu = NULL;
	expect(vsmmu_emulator_may_install(&f, &err), -1, &err, "emulator status",
	       "recorded but partly undone");
}

static void test_may_remove(void)
{
	struct vsmmu_emulator_facts f;
	vsmmu_err err = { .msg = "" };

	f = installed();
	expect(vsmmu_emulator_may_remove(&f, &err), 0, &err, "", "installed: go on");
	f = fresh();
	expect(vsmmu_emulator_may_remove(&f, &err), 1, &err, "", "not installed: nothing to do");
	f = installed();
	f.recorded = false;
	expect(vsmmu_emulator_may_remove(&f, &err), -1, &err, "by hand", "no record");
	f = installed();
	f.diverted_by = "qemu-hack";
	expect(vsmmu_emulator_may_remove(&f, &err), -1, &err, "qemu-hack",
	       "diverted by a package since");
	f = installed();
	f.at_path = VSMMU_EMU_REGULAR;
	expect(vsmmu_emulator_may_remove(&f, &err), -1, &err, "cannot tell",
	       "a file over the symlink and .real too");
	f = installed();
	f.real_present = false;
	expect(vsmmu_emulator_may_remove(&f, &err), 0, &err, "", "QEMU removed meanwhile: go on");
}

static void test_consistent(void)
{
	struct vsmmu_emulator_facts f = installed();
	_cleanup_free_ char *why = NULL;
	bool inst;

	CHECK(vsmmu_emulator_consistent(&f, &inst, &why) && inst && !why, "installed: consistent");
	f = fresh();
	CHECK(vsmmu_emulator_consistent(&f, &inst, &why) && !inst && !why,
	      "nothing of ours: consistent, not installed");
	f = installed();
	f.conf_qemu = NULL;
	f.real_present = false;
	CHECK(!vsmmu_emulator_consistent(&f, &inst, &why) && !inst && why &&
	      strstr(why, "qemu is not set") && strstr(why, ".real is absent") &&
	      !strstr(why, "diverted"), "partly installed: each piece that disagrees, only those");
}

int main(void)
{
	test_set_example();
	test_set_cases();
	test_set_refused();
	test_created_and_changed();
	test_record();
	test_may_install();
	test_may_remove();
	test_consistent();
	return tap_done();
}
