#include "xmlutil.h"

#include <libxml/parser.h>
#include <libxml/xmlsave.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static bool is_blank(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", data[i]) || data[i] == '\0')
			return false;
	return true;
}

int vsmmu_xml_parse(const char *data, size_t len, const char *what, xmlDocPtr *out,
		    vsmmu_err *err)
{
	_cleanup_xmldoc_ xmlDocPtr doc = NULL;
	xmlParserCtxtPtr ctxt;

	if (len > VSMMU_XML_MAX)
		return vsmmu_fail(err, "%s: XML is larger than %u bytes; refusing it", what,
				  VSMMU_XML_MAX);
	if (is_blank(data, len)) /* libxml2 sets no error for it: "line 0: unknown error" */
		return vsmmu_fail(err, "%s is empty: expected a libvirt <domain> document, such "
				  "as 'virsh dumpxml DOMAIN' prints", what);
	xmlResetLastError();
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return vsmmu_fail(err, "%s: out of memory parsing XML", what);
	doc = xmlCtxtReadMemory(ctxt, data, (int)len, what, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	/* An undeclared prefix (<qemu:env> without xmlns:qemu) leaves an element
	 * in no namespace that reads back in one once a rewrite declares it. */
	if (!doc || !ctxt->nsWellFormed) {
		const xmlError *xe = xmlCtxtGetLastError(ctxt);
		const char *msg = xe && xe->message ? xe->message : "unknown error";

		vsmmu_fail(err, "%s: %s at line %d: %.*s%s", what,
			   doc ? "XML namespace error" : "malformed XML", xe ? xe->line : 0,
			   (int)strcspn(msg, "\n"), msg,
			   doc ? "; declare each prefix on the root: <domain xmlns:PREFIX='URI'>" : "");
		xmlFreeParserCtxt(ctxt);
		return -1;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset || doc->extSubset)
		return vsmmu_fail(err, "%s: XML with a DOCTYPE is refused (domain XML has none); "
				  "remove the <!DOCTYPE> declaration", what);
	if (!xmlDocGetRootElement(doc))
		return vsmmu_fail(err, "%s: XML has no root element", what);
	*out = VSMMU_STEAL(doc);
	return 0;
}

int vsmmu_xml_format(xmlDocPtr doc, bool with_decl, char **out, size_t *len, vsmmu_err *err)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlSaveCtxtPtr ctxt;
	int opts = with_decl ? 0 : XML_SAVE_NO_DECL;

	if (!buf)
		return vsmmu_fail(err, "out of memory formatting XML");
	ctxt = xmlSaveToBuffer(buf, "UTF-8", opts);
	if (!ctxt || xmlSaveDoc(ctxt, doc) < 0) {
		if (ctxt)
			xmlSaveClose(ctxt);
		xmlBufferFree(buf);
		return vsmmu_fail(err, "cannot format XML");
	}
	xmlSaveClose(ctxt);
	*len = (size_t)xmlBufferLength(buf);
	*out = vsmmu_xstrdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return 0;
}

int vsmmu_xml_reformat(const char *data, size_t len, char **out, size_t *out_len,
		       vsmmu_err *err)
{
	_cleanup_xmldoc_ xmlDocPtr doc = NULL;

	if (vsmmu_xml_parse(data, len, "domain XML", &doc, err) < 0)
		return -1;
	return vsmmu_xml_format(doc, len >= 5 && strncmp(data, "<?xml", 5) == 0, out, out_len, err);
}

bool vsmmu_xml_is(const xmlNode *node, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && !node->ns &&
	       strcmp((const char *)node->name, name) == 0;
}

bool vsmmu_xml_is_ns(const xmlNode *node, const char *ns_uri, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
	       strcmp((const char *)node->ns->href, ns_uri) == 0 &&
	       strcmp((const char *)node->name, name) == 0;
}

xmlNodePtr vsmmu_xml_child(const xmlNode *parent, const char *name)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (vsmmu_xml_is(c, name))
			return c;
	return NULL;
}

xmlNodePtr vsmmu_xml_child_ns(const xmlNode *parent, const char *ns_uri, const char *name)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (vsmmu_xml_is_ns(c, ns_uri, name))
			return c;
	return NULL;
}

char *vsmmu_xml_attr(const xmlNode *node, const char *name)
{
	_cleanup_xmlstr_ xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);

	return v ? vsmmu_xstrdup((const char *)v) : NULL;
}

int vsmmu_xml_attr_uint(const xmlNode *node, const char *name, unsigned long max,
			long dflt, long *out, const char *elem, vsmmu_err *err)
{
	_cleanup_free_ char *v = vsmmu_xml_attr(node, name);
	unsigned long n;

	if (!v) {
		*out = dflt;
		return 0;
	}
	if (vsmmu_parse_ulong(v, 0, max, &n) < 0)
		return vsmmu_fail(err, "%s: attribute %s='%s' is not a number from 0 to %lu",
				  elem, name, v, max);
	*out = (long)n;
	return 0;
}

static char changed_marker; /* doc->_private points here once edited */

void vsmmu_xml_mark_changed(xmlNodePtr node)
{
	if (node && node->doc)
		node->doc->_private = &changed_marker;
}

bool vsmmu_xml_changed(const xmlDoc *doc)
{
	return doc->_private == &changed_marker;
}

void vsmmu_xml_clear_changed(xmlDocPtr doc)
{
	doc->_private = NULL;
}

void vsmmu_xml_set_attr(xmlNodePtr node, const char *name, const char *value)
{
	_cleanup_free_ char *old = vsmmu_xml_attr(node, name);

	if (vsmmu_streq(old, value))
		return;
	xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)value);
	vsmmu_xml_mark_changed(node);
}

void vsmmu_xml_unset_attr(xmlNodePtr node, const char *name)
{
	xmlAttrPtr a = xmlHasNsProp(node, (const xmlChar *)name, NULL);

	if (!a)
		return;
	xmlRemoveProp(a);
	vsmmu_xml_mark_changed(node);
}

void vsmmu_xml_set_attr_fmt(xmlNodePtr node, const char *name, const char *fmt, ...)
{
	_cleanup_free_ char *value = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&value, fmt, ap) < 0)
		value = NULL;
	va_end(ap);
	if (value)
		vsmmu_xml_set_attr(node, name, value);
}

static bool is_blank_text(const xmlNode *n)
{
	const xmlChar *p;

	if (!n || n->type != XML_TEXT_NODE)
		return false;
	for (p = n->content; p && *p; p++)
		if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
			return false;
	return true;
}

/* Whitespace that ends a line: blank text holding a newline. */
static bool is_line_break(const xmlNode *n)
{
	return is_blank_text(n) && n->content && strchr((const char *)n->content, '\n');
}

#define INDENT_MAX 128

/* The indentation of the line node starts, when it starts one: the blank
 * text after the last newline before it. */
static bool own_indent(const xmlNode *node, char out[INDENT_MAX])
{
	const char *nl;

	if (!is_line_break(node->prev))
		return false;
	nl = strrchr((const char *)node->prev->content, '\n') + 1;
	snprintf(out, INDENT_MAX, "%s", nl);
	return true;
}

/* One level of the document's indentation: what the root's first element
 * child is indented by, or two spaces. */
static void indent_unit(const xmlNode *node, char out[INDENT_MAX])
{
	const xmlNode *root = node->doc ? xmlDocGetRootElement(node->doc) : NULL;
	const xmlNode *first = root ? xmlFirstElementChild((xmlNodePtr)root) : NULL;

	if (!first || !own_indent(first, out) || !out[0])
		snprintf(out, INDENT_MAX, "  ");
}

/* One more level: unit after out, unless that would not fit. */
static void append_indent(char out[INDENT_MAX], const char *unit)
{
	size_t len = strlen(out);

	if (len + strlen(unit) < INDENT_MAX)
		snprintf(out + len, INDENT_MAX - len, "%s", unit);
}

/* The indentation node has, or would have on a line of its own. */
static void indent_of(const xmlNode *node, char out[INDENT_MAX])
{
	char unit[INDENT_MAX];
	const xmlNode *parent = node->parent;

	if (!parent || parent->type != XML_ELEMENT_NODE) {
		out[0] = '\0';
		return;
	}
	if (own_indent(node, out))
		return;
	indent_of(parent, out);
	indent_unit(node, unit);
	append_indent(out, unit);
}

/* The indentation of parent's children: that of its last element child on
 * a line of its own, else one level below parent. */
static void child_indent(const xmlNode *parent, char out[INDENT_MAX])
{
	char unit[INDENT_MAX];

	for (const xmlNode *c = parent->last; c; c = c->prev)
		if (c->type == XML_ELEMENT_NODE && own_indent(c, out))
			return;
	indent_of(parent, out);
	indent_unit(parent, unit);
	append_indent(out, unit);
}

static xmlNodePtr line_text(const char *indent)
{
	char buf[INDENT_MAX + 2];

	snprintf(buf, sizeof(buf), "\n%s", indent);
	return xmlNewText((const xmlChar *)buf);
}

xmlNodePtr vsmmu_xml_append(xmlNodePtr parent, xmlNodePtr child)
{
	char indent[INDENT_MAX], closing[INDENT_MAX];
	xmlNodePtr last = parent->last;

	vsmmu_xml_mark_changed(parent);
	child_indent(parent, indent);
	if (is_line_break(last)) {
		/* [..., E, "\n  "] -> [..., E, "\n    ", child, "\n  "] */
		xmlAddPrevSibling(last, child);
		xmlAddPrevSibling(child, line_text(indent));
		return child;
	}
	indent_of(parent, closing);
	xmlAddChild(parent, child);
	xmlAddPrevSibling(child, line_text(indent));
	xmlAddNextSibling(child, line_text(closing));
	return child;
}

xmlNodePtr vsmmu_xml_insert_after(xmlNodePtr sibling, xmlNodePtr node)
{
	char indent[INDENT_MAX];

	indent_of(sibling, indent);
	vsmmu_xml_mark_changed(sibling);
	/* [S, "\n  ", N] -> [S, "\n  ", node, "\n  ", N]; inline [S, N] gets
	 * a line break after node too, so N is not glued to its end tag. */
	xmlAddNextSibling(sibling, node);
	xmlAddPrevSibling(node, line_text(indent));
	if (!node->next) {
		indent_of(node->parent, indent);
		xmlAddNextSibling(node, line_text(indent));
	} else if (!is_line_break(node->next)) {
		xmlAddNextSibling(node, line_text(indent));
	}
	return node;
}

xmlNodePtr vsmmu_xml_insert_before(xmlNodePtr sibling, xmlNodePtr node)
{
	char indent[INDENT_MAX];

	indent_of(sibling, indent);
	vsmmu_xml_mark_changed(sibling);
	/* ["\n  ", S] -> ["\n  ", node, "\n  ", S]; S first in an inline
	 * parent: [node, S] gets a line break before node as well. */
	xmlAddPrevSibling(sibling, node);
	xmlAddNextSibling(node, line_text(indent));
	if (!is_line_break(node->prev))
		xmlAddPrevSibling(node, line_text(indent));
	return node;
}

xmlNodePtr vsmmu_xml_add(xmlNodePtr parent, xmlNsPtr ns, const char *name)
{
	xmlNodePtr node = xmlNewNode(ns ? ns : parent->ns, (const xmlChar *)name);

	return vsmmu_xml_append(parent, node);
}

void vsmmu_xml_remove(xmlNodePtr node)
{
	xmlNodePtr prev = node->prev;

	vsmmu_xml_mark_changed(node);
	if (is_blank_text(prev)) {
		xmlUnlinkNode(prev);
		xmlFreeNode(prev);
	}
	xmlUnlinkNode(node);
	xmlFreeNode(node);
}
