#include "hookop.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

enum vsmmu_hook_op vsmmu_hook_op(const char *op, const char *subop)
{
	bool begin = strcmp(subop, "begin") == 0;

	if (strcmp(op, "prepare") == 0 && begin)
		return VSMMU_OP_PREPARE;
	if (strcmp(op, "start") == 0 && begin)
		return VSMMU_OP_START;
	if (strcmp(op, "release") == 0 && strcmp(subop, "end") == 0)
		return VSMMU_OP_RELEASE;
	if ((strcmp(op, "migrate") == 0 || strcmp(op, "restore") == 0) && begin)
		return VSMMU_OP_FILTER;
	return VSMMU_OP_OTHER;
}

bool vsmmu_xml_maybe_managed(const char *xml, size_t len)
{
	static const char *const markers[] = { VSMMU_NS_URI, "nestedSmmuv3", "smmuv3Dev",
						VSMMU_WRAPPER_NAME };

	for (size_t i = 0; i < VSMMU_ARRAY_LEN(markers); i++)
		if (memmem(xml, len, markers[i], strlen(markers[i])))
			return true;
	return false;
}

/* Read what libvirt still writes, so it never writes into a closed pipe. */
static void drain(FILE *f)
{
	char chunk[65536];

	while (fread(chunk, 1, sizeof(chunk), f) > 0)
		;
}

int vsmmu_hook_read(enum vsmmu_hook_op op, FILE *in, size_t max, char **xml, size_t *len,
		    vsmmu_err *err)
{
	*xml = NULL;
	*len = 0;
	if (vsmmu_read_stream(in, "the domain XML on stdin", max, xml, len, err) == 0)
		return op == VSMMU_OP_OTHER ? 0 : 1;
	if (op == VSMMU_OP_OTHER)
		return 0;
	if (op != VSMMU_OP_RELEASE)
		return -1;
	drain(in); /* release needs no XML: give back anyway */
	return 1;
}
