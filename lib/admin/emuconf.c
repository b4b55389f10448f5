#include "emuconf.h"

#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "emulator.h"
#include "util.h"

struct span {
	size_t start, end; /* [start, end): the line without its '\n' */
};

/* The next line of text from *pos, or false at the end. */
static bool next_line(const char *text, size_t *pos, struct span *line)
{
	const char *nl;

	if (text[*pos] == '\0')
		return false;
	line->start = *pos;
	nl = strchr(text + *pos, '\n');
	line->end = nl ? (size_t)(nl - text) : strlen(text);
	*pos = nl ? line->end + 1 : line->end;
	return true;
}

static char *span_dup(const char *text, struct span s)
{
	return vsmmu_xasprintf("%.*s", (int)(s.end - s.start), text + s.start);
}

/* text with [from, to) replaced by insert. */
static char *text_splice(const char *text, size_t from, size_t to, const char *insert)
{
	return vsmmu_xasprintf("%.*s%s%s", (int)from, text, insert, text + to);
}

/* The line's key and value by the parser's rules; 0 and *key NULL for a
 * comment or blank line, -1 for a line the parser would refuse. */
static int line_key(const char *text, struct span s, int lineno, const char *path, char **copy,
		    char **key, char **value, vsmmu_err *err)
{
	static const char bom[] = "\xef\xbb\xbf";
	char where[PATH_MAX + 32];

	*copy = span_dup(text, s);
	if (s.start == 0 && vsmmu_has_prefix(*copy, bom))
		memmove(*copy, *copy + 3, strlen(*copy + 3) + 1);
	snprintf(where, sizeof(where), "%s:%d", path, lineno);
	return vsmmu_conf_split_line(*copy, where, key, value, err);
}

/* The active qemu line: 1 found (*line, *value malloc'ed), 0 none, -1 a
 * line the parser refuses or qemu set twice. */
static int find_qemu_line(const char *text, const char *path, struct span *line, char **value,
			  vsmmu_err *err)
{
	struct span s;
	size_t pos = 0;
	int lineno = 0, found = 0;

	*value = NULL;
	while (next_line(text, &pos, &s)) {
		_cleanup_free_ char *copy = NULL;
		char *key, *val;

		if (line_key(text, s, ++lineno, path, &copy, &key, &val, err) < 0)
			return -1;
		if (!key || strcmp(key, "qemu") != 0)
			continue;
		if (found) {
			free(*value);
			*value = NULL;
			return vsmmu_fail(err, "%s:%d sets qemu a second time; keep one qemu line",
					  path, lineno);
		}
		found = 1;
		*line = s;
		*value = vsmmu_xstrdup(val);
	}
	return found;
}

char *vsmmu_emulator_conf_qemu(const char *text)
{
	struct span s;
	char *value = NULL;

	if (text && find_qemu_line(text, "vsmmu.conf", &s, &value, NULL) < 0)
		return NULL;
	return value;
}

/* "# qemu = ..." (the example in the shipped vsmmu.conf). */
static bool is_qemu_example(const char *text, struct span s)
{
	const char *p = text + s.start;

	while (p < text + s.end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= text + s.end || *p != '#')
		return false;
	while (p < text + s.end && (*p == '#' || *p == ' ' || *p == '\t'))
		p++;
	if (!vsmmu_has_prefix(p, "qemu"))
		return false;
	for (p += 4; p < text + s.end && (*p == ' ' || *p == '\t'); p++)
		;
	return p < text + s.end && *p == '=';
}

/* Where a new line goes: the end of the last "# qemu =" example line,
 * else the end of the last line. */
static size_t insert_point(const char *text)
{
	struct span s = { 0, 0 };
	size_t pos = 0, last_end = 0, example_end = SIZE_MAX;

	while (next_line(text, &pos, &s)) {
		last_end = s.end;
		if (is_qemu_example(text, s))
			example_end = s.end;
	}
	if (example_end != SIZE_MAX)
		return example_end;
	/* "a\n" ends its last line before the '\n': the new line goes between. */
	return last_end;
}

bool vsmmu_emulator_qemu_is_ours(const char *value)
{
	return strcmp(value, VSMMU_EMULATOR_PATH) == 0 || strcmp(value, VSMMU_EMULATOR_REAL) == 0;
}

int vsmmu_emulator_conf_set(const char *text, const char *path, char **out,
			    enum vsmmu_conf_edit_kind *edit, char **old_line, vsmmu_err *err)
{
	_cleanup_free_ char *value = NULL;
	struct span s;
	size_t at;
	int found;

	*old_line = NULL;
	if (!text) {
		*edit = VSMMU_CONF_EDIT_CREATED;
		*out = vsmmu_xstrdup(VSMMU_EMULATOR_CONF_LINE "\n");
		return 0;
	}
	found = find_qemu_line(text, path, &s, &value, err);
	if (found < 0)
		return vsmmu_wrap(err, "%s; fix vsmmu.conf first", err->msg);
	if (found && !vsmmu_emulator_qemu_is_ours(value))
		return vsmmu_fail(err, "%s sets qemu = %s, not the default %s: vsmmu would hide that "
				  "QEMU behind the diverted one; set qemu back to the default, or "
				  "keep using <emulator> (vsmmuctl apply)", path, value,
				  VSMMU_EMULATOR_PATH);
	if (found) {
		*edit = VSMMU_CONF_EDIT_REPLACED;
		*old_line = span_dup(text, s);
		*out = text_splice(text, s.start, s.end, VSMMU_EMULATOR_CONF_LINE);
		return 0;
	}
	*edit = VSMMU_CONF_EDIT_INSERTED;
	if (*text == '\0') {
		*out = vsmmu_xstrdup(VSMMU_EMULATOR_CONF_LINE "\n");
		return 0;
	}
	at = insert_point(text);
	*out = text_splice(text, at, at, "\n" VSMMU_EMULATOR_CONF_LINE);
	return 0;
}

/* text without line s and one newline next to it: the inverse of an
 * insert of "\n" + line, or of a line written into an empty file. */
static char *drop_line(const char *text, struct span s)
{
	if (s.start > 0)
		return text_splice(text, s.start - 1, s.end, "");
	return text_splice(text, 0, s.end + (text[s.end] == '\n'), "");
}

/* install's line, or (the admin re-wrote it) the active qemu line if it
 * still names the diverted QEMU. */
static bool find_installed_line(const char *text, const char *path, struct span *line)
{
	_cleanup_free_ char *value = NULL;
	struct span s;
	size_t pos = 0;

	while (next_line(text, &pos, &s))
		if (s.end - s.start == strlen(VSMMU_EMULATOR_CONF_LINE) &&
		    memcmp(text + s.start, VSMMU_EMULATOR_CONF_LINE, s.end - s.start) == 0) {
			*line = s;
			return true;
		}
	return find_qemu_line(text, path, line, &value, NULL) == 1 && value &&
	       strcmp(value, VSMMU_EMULATOR_REAL) == 0;
}

int vsmmu_emulator_conf_restore(const char *text, const char *path,
				const struct vsmmu_emulator_record *r, char **out, bool *keep,
				char **note)
{
	struct span s;

	*out = *note = NULL;
	*keep = false;
	if (!text || !find_installed_line(text, path, &s)) {
		*keep = true;
		*note = text ? vsmmu_xasprintf("%s: qemu no longer names %s; left as it is", path,
					       VSMMU_EMULATOR_REAL)
			     : vsmmu_xasprintf("%s is gone; nothing to restore there", path);
		return 0;
	}
	if (r->edit == VSMMU_CONF_EDIT_REPLACED) {
		*out = text_splice(text, s.start, s.end, r->old_line ? r->old_line : "");
		return 0;
	}
	*out = drop_line(text, s);
	if (r->edit == VSMMU_CONF_EDIT_CREATED && **out == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}
