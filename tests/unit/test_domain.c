/* The domain parser: the input it refuses. */
#include <string.h>

#include "plandoms.h"
#include "tap.h"

static void expect_parse_error(const struct dom_opts *o, const char *needle, const char *what)
{
	_cleanup_free_ char *xml = domain_xml(o);
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	vsmmu_err err = { .msg = "" };

	if (!CHECK(vsmmu_domain_parse(xml, strlen(xml), &dom, &err) < 0 && strstr(err.msg, needle),
		   "%s", what))
		printf("#   message: %s\n", err.msg);
}

static void test_bad_input(void)
{
	struct dom_opts dup = { .config = "", .hostdevs = { "0009:01:00.0", "0009:01:00.0" } };
	struct dom_opts mode = { .config = "mode='fast'", .hostdevs = { "0009:01:00.0" } };

	expect_parse_error(&dup, "appears twice", "duplicate hostdev refused");
	expect_parse_error(&mode, "mode must be 'accel' or 'emulated'", "bad mode refused");
}

int main(void)
{
	test_bad_input();
	return tap_done();
}
