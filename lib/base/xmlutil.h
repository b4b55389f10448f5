/* libxml2 helpers: safe parsing, strict attribute access, and edits that
 * keep the document's indentation so rewritten XML reads like the input. */
#ifndef VSMMU_XMLUTIL_H
#define VSMMU_XMLUTIL_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"


static inline void vsmmu_xml_freedocp(xmlDocPtr *d) { if (*d) xmlFreeDoc(*d); }
static inline void vsmmu_xml_freep(xmlChar **s) { if (*s) xmlFree(*s); }
#define _cleanup_xmldoc_ __attribute__((cleanup(vsmmu_xml_freedocp)))
#define _cleanup_xmlstr_ __attribute__((cleanup(vsmmu_xml_freep)))

/* Parse untrusted XML: no network, no DTD, no entities, bounded size. */
int vsmmu_xml_parse(const char *data, size_t len, const char *what, xmlDocPtr *out,
		    vsmmu_err *err);
/* Serialise; with_decl keeps an XML declaration only if the input had one. */
int vsmmu_xml_format(xmlDocPtr doc, bool with_decl, char **out, size_t *len, vsmmu_err *err);

/* Parse and serialise again: the form vsmmu's own output takes, so two
 * documents compare by content rather than by quoting style. */
int vsmmu_xml_reformat(const char *data, size_t len, char **out, size_t *out_len,
		       vsmmu_err *err);

bool vsmmu_xml_is(const xmlNode *node, const char *name); /* element, no namespace */
bool vsmmu_xml_is_ns(const xmlNode *node, const char *ns_uri, const char *name);
xmlNodePtr vsmmu_xml_child(const xmlNode *parent, const char *name);
xmlNodePtr vsmmu_xml_child_ns(const xmlNode *parent, const char *ns_uri, const char *name);
/* Attribute as a malloc'ed C string, NULL when absent. */
char *vsmmu_xml_attr(const xmlNode *node, const char *name);

/* Read an unsigned attribute (base 0: "0x1f" or "31"). Absent: *out = dflt.
 * Present but malformed or above max: error naming elem. */
int vsmmu_xml_attr_uint(const xmlNode *node, const char *name, unsigned long max,
			long dflt, long *out, const char *elem, vsmmu_err *err);

/* Every edit below marks the document changed (in doc->_private, which
 * libxml2 leaves to applications), so a caller can tell whether a rewrite
 * changed anything without serialising twice. check answers from the model
 * (lib/xml/rewritediff.h); tests/unit/test_check.c holds that answer to
 * this marker. */
void vsmmu_xml_mark_changed(xmlNodePtr node);
bool vsmmu_xml_changed(const xmlDoc *doc);
void vsmmu_xml_clear_changed(xmlDocPtr doc);

/* Set an attribute only when its value differs, so untouched attributes
 * keep their bytes. */
void vsmmu_xml_set_attr(xmlNodePtr node, const char *name, const char *value);
void vsmmu_xml_set_attr_fmt(xmlNodePtr node, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Remove an attribute when present. */
void vsmmu_xml_unset_attr(xmlNodePtr node, const char *name);

/* Append child as the last element of parent, indented like its siblings. */
xmlNodePtr vsmmu_xml_append(xmlNodePtr parent, xmlNodePtr child);
/* Insert node right after sibling, on its own line at the same indent. */
xmlNodePtr vsmmu_xml_insert_after(xmlNodePtr sibling, xmlNodePtr node);
/* Insert node right before sibling, on its own line at the same indent. */
xmlNodePtr vsmmu_xml_insert_before(xmlNodePtr sibling, xmlNodePtr node);
/* New element appended to parent, in parent's namespace when ns is NULL. */
xmlNodePtr vsmmu_xml_add(xmlNodePtr parent, xmlNsPtr ns, const char *name);
/* Unlink and free node together with the indentation before it. */
void vsmmu_xml_remove(xmlNodePtr node);

#endif
