/* xmlutil edits: every element added sits on a line of its own at the
 * input's indentation (two spaces, four, or tabs), nothing is glued after
 * an end tag and no whitespace-only line appears. */
#include <string.h>

#include "tap.h"
#include "util.h"
#include "xmlutil.h"

static xmlDocPtr parse(const char *xml)
{
	xmlDocPtr doc = NULL;
	vsmmu_err err;

	if (vsmmu_xml_parse(xml, strlen(xml), "test", &doc, &err) < 0)
		printf("# %s\n", err.msg);
	return doc;
}

static char *format(xmlDocPtr doc)
{
	char *out = NULL;
	size_t len;
	vsmmu_err err;

	if (vsmmu_xml_format(doc, false, &out, &len, &err) < 0)
		printf("# %s\n", err.msg);
	return out;
}

static xmlNodePtr first(xmlDocPtr doc, const char *name)
{
	for (xmlNodePtr n = xmlDocGetRootElement(doc); n;) {
		if (vsmmu_xml_is(n, name))
			return n;
		n = n->children ? n->children : n->next ? n->next : n->parent ? n->parent->next : NULL;
	}
	return NULL;
}

static bool has_blank_line(const char *s)
{
	for (const char *line = s; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		bool blank = true;

		for (size_t i = 0; i < n; i++)
			blank &= line[i] == ' ' || line[i] == '\t';
		if (blank && end && n > 0)
			return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

static void expect(xmlDocPtr doc, const char *want, const char *what)
{
	_cleanup_free_ char *got = format(doc);

	CHECK_STR(got, want, "%s", what);
	CHECK(got && !has_blank_line(got), "%s: no whitespace-only line", what);
	xmlFreeDoc(doc);
}

static void test_append(void)
{
	xmlDocPtr doc = parse("<domain>\n  <devices>\n    <disk/>\n  </devices>\n</domain>");
	xmlNodePtr devices = first(doc, "devices");
	xmlNodePtr c = vsmmu_xml_add(devices, NULL, "controller");

	vsmmu_xml_add(c, NULL, "model");
	vsmmu_xml_add(c, NULL, "target");
	vsmmu_xml_add(devices, NULL, "iommu");
	expect(doc, "<domain>\n  <devices>\n    <disk/>\n    <controller>\n      <model/>\n"
	       "      <target/>\n    </controller>\n    <iommu/>\n  </devices>\n</domain>\n",
	       "append: after the last child, into a new element, and again");
}

static void test_indent_styles(void)
{
	xmlDocPtr four = parse("<domain>\n    <os>\n        <type/>\n    </os>\n</domain>");
	xmlDocPtr tabs = parse("<domain>\n\t<features>\n\t\t<acpi/>\n\t</features>\n\t<os/>\n</domain>");

	vsmmu_xml_add(first(four, "os"), NULL, "loader");
	vsmmu_xml_add(first(four, "type"), NULL, "x");
	expect(four, "<domain>\n    <os>\n        <type>\n            <x/>\n        </type>\n"
	       "        <loader/>\n    </os>\n</domain>\n", "four-space indentation is kept");
	vsmmu_xml_add(first(tabs, "os"), NULL, "loader");
	vsmmu_xml_insert_after(first(tabs, "acpi"), xmlNewNode(NULL, BAD_CAST "gic"));
	expect(tabs, "<domain>\n\t<features>\n\t\t<acpi/>\n\t\t<gic/>\n\t</features>\n\t<os>\n"
	       "\t\t<loader/>\n\t</os>\n</domain>\n", "tab indentation is kept");
}

static void test_inline(void)
{
	xmlDocPtr doc = parse("<domain>\n  <features><acpi/></features>\n  <devices>"
			      "<hostdev><source/></hostdev></devices>\n</domain>");

	vsmmu_xml_add(first(doc, "features"), NULL, "gic");
	vsmmu_xml_insert_before(first(doc, "source"), xmlNewNode(NULL, BAD_CAST "driver"));
	vsmmu_xml_insert_after(first(doc, "source"), xmlNewNode(NULL, BAD_CAST "address"));
	expect(doc, "<domain>\n  <features><acpi/>\n    <gic/>\n  </features>\n  <devices>"
	       "<hostdev>\n      <driver/>\n      <source/>\n      <address/>\n    </hostdev>"
	       "</devices>\n</domain>\n",
	       "inline parents: added elements get their own lines, no end tag is glued");
}

static void test_insert_between(void)
{
	xmlDocPtr doc = parse("<domain>\n  <name>x</name>\n  <os/>\n</domain>");

	vsmmu_xml_insert_after(first(doc, "name"), xmlNewNode(NULL, BAD_CAST "metadata"));
	vsmmu_xml_insert_before(first(doc, "os"), xmlNewNode(NULL, BAD_CAST "memory"));
	vsmmu_xml_insert_after(first(doc, "os"), xmlNewNode(NULL, BAD_CAST "features"));
	expect(doc, "<domain>\n  <name>x</name>\n  <metadata/>\n  <memory/>\n  <os/>\n"
	       "  <features/>\n</domain>\n", "insert before and after siblings, first and last");
}

static void test_remove(void)
{
	xmlDocPtr doc = parse("<domain>\n  <a/>\n  <b/>\n  <c/>\n</domain>");

	vsmmu_xml_remove(first(doc, "b"));
	vsmmu_xml_remove(first(doc, "c"));
	expect(doc, "<domain>\n  <a/>\n</domain>\n", "removal takes the indentation with it");
	doc = parse("<domain>\n  <a/>\n</domain>");
	vsmmu_xml_remove(first(doc, "a"));
	vsmmu_xml_add(xmlDocGetRootElement(doc), NULL, "z");
	expect(doc, "<domain>\n  <z/>\n</domain>\n", "an emptied element takes children again");
}

int main(void)
{
	test_append();
	test_indent_styles();
	test_inline();
	test_insert_between();
	test_remove();
	return tap_done();
}
