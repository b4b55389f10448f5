/* The hook's records as the wrapper and release read them back (state.c, ledger.c):
 * the input is a state.json when its first byte is 'S' (the rest after
 * it), else a .nodes record. Nothing may crash or leak; what parses must
 * hold only what the readers rely on (a node record: an absolute path,
 * permission bits only, each holder once), and must come back the same
 * through the writer and the parser again. */
#include <stdio.h>

#include "fuzz.h"
#include "state.h"

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "state: %s: %s\n", what, detail ? detail : "");
	abort();
}

static void node_record(const char *text)
{
	struct vsmmu_node_ref ref, again;
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	vsmmu_err err;

	if (vsmmu_node_ref_from_json(text, &ref, &err) < 0)
		return;
	if (ref.node.path[0] != '/')
		fail("a node record with a relative path parses", ref.node.path);
	if (ref.node.mode & ~0777u)
		fail("a node record with more than permission bits parses", ref.node.path);
	for (size_t i = 0; i < ref.holders.n; i++)
		for (size_t j = i + 1; j < ref.holders.n; j++)
			if (strcmp(ref.holders.items[i], ref.holders.items[j]) == 0)
				fail("a holder counted twice", ref.holders.items[i]);
	out = vsmmu_node_ref_to_json(&ref);
	if (!out)
		fail("a parsed node record does not serialise", ref.node.path);
	if (vsmmu_node_ref_from_json(out, &again, &err) < 0)
		fail("a written node record does not parse", err.msg);
	out2 = vsmmu_node_ref_to_json(&again);
	if (!out2 || strcmp(out, out2) != 0)
		fail("a node record changes through write and read", out);
	vsmmu_node_ref_clear(&again);
	vsmmu_node_ref_clear(&ref);
}

static void state(const char *text)
{
	_cleanup_state_ struct vsmmu_state *st = NULL, *again = NULL;
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	vsmmu_err err;

	if (vsmmu_state_from_json(text, &st, &err) < 0)
		return;
	out = vsmmu_state_to_json(st);
	if (!out)
		fail("a parsed state does not serialise", st->name);
	if (vsmmu_state_from_json(out, &again, &err) < 0)
		fail("a written state does not parse", err.msg);
	out2 = vsmmu_state_to_json(again);
	if (!out2 || strcmp(out, out2) != 0)
		fail("a state changes through write and read", out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_cstr(data, size);

	if (text[0] == 'S')
		state(text + 1);
	else
		node_record(text);
	return 0;
}
