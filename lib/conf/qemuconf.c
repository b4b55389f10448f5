#include "qemuconf.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The text with comments blanked ('#' outside quotes to the line's end). */
static char *strip_comments(const char *text)
{
	char *copy = vsmmu_xstrdup(text);
	bool quoted = false;

	for (char *p = copy; *p; p++) {
		if (*p == '\n') {
			quoted = false;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (*p == '#' && !quoted) {
			while (p[1] && p[1] != '\n')
				*p++ = ' ';
			*p = ' ';
		}
	}
	return copy;
}

/* At a line start: past "key =" and blanks, or NULL. */
static const char *after_key(const char *line, const char *key)
{
	size_t klen = strlen(key);

	line += strspn(line, " \t");
	if (strncmp(line, key, klen) != 0)
		return NULL;
	line += klen;
	line += strspn(line, " \t");
	if (*line++ != '=')
		return NULL;
	return line + strspn(line, " \t");
}

/* One quoted string at p: its end quote, or NULL. */
static const char *parse_string(const char *p, struct vsmmu_strlist *out)
{
	const char *end = strchr(p + 1, '"');

	if (end)
		vsmmu_strlist_addf(out, "%.*s", (int)(end - p - 1), p + 1);
	return end;
}

/* The strings of a list from past its '[' up to ']'. 0, or -1 when unterminated. */
static int parse_list(const char *p, struct vsmmu_strlist *out)
{
	for (; *p && *p != ']'; p++)
		if (*p == '"' && !(p = parse_string(p, out)))
			return -1;
	return *p == ']' ? 0 : -1;
}

static int parse_value(const char *v, struct vsmmu_strlist *out)
{
	if (*v == '[')
		return parse_list(v + 1, out);
	return *v == '"' && parse_string(v, out) ? 0 : -1;
}

/* key's last setting: 1 and *out (*is_list: written as a list), or 0. */
static int last_setting(const char *text, const char *key, struct vsmmu_strlist *out,
			bool *is_list)
{
	_cleanup_free_ char *clean = strip_comments(text);
	int found = 0;

	for (const char *line = clean; line; line = strchr(line, '\n')) {
		const char *value;

		line += *line == '\n';
		value = after_key(line, key);
		if (!value)
			continue;
		vsmmu_strlist_clear(out);
		*is_list = *value == '[';
		found = parse_value(value, out) == 0;
		if (!found)
			vsmmu_strlist_clear(out);
	}
	return found;
}

int vsmmu_qemu_conf_list(const char *text, const char *key, struct vsmmu_strlist *out)
{
	bool is_list;

	return last_setting(text, key, out, &is_list);
}

char *vsmmu_qemu_conf_value(const char *text, const char *key)
{
	_cleanup_strlist_ struct vsmmu_strlist l = { 0 };
	bool is_list = false;

	if (last_setting(text, key, &l, &is_list) != 1 || is_list || l.n != 1 || !*l.items[0])
		return NULL;
	return vsmmu_xstrdup(l.items[0]);
}
