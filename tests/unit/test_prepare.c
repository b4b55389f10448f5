/* The hook's cheap look before parsing (lib/hook/hookop.h) and the
 * migrate/restore filter on the hook's parsed domain against a fake sysfs.
 * Readiness is test_ready.c's, device node ownership test_nodes.c's; the
 * hook's runs are tests/bats/hook.bats's. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hookop.h"
#include "prepare.h"
#include "rewrite.h"
#include "shell.h"
#include "tap.h"
#include "util.h"

static void test_cheap_tests(void)
{
	static const char managed[] = "<domain><metadata><vsmmu:config xmlns:vsmmu="
				      "'urn:vsmmu:domain:1'/></metadata></domain>";
	static const char plain[] = "<domain><name>x</name></domain>";
	static const char legacy[] = "<domain><devices><iommu model='nestedSmmuv3'/></devices></domain>";

	CHECK(vsmmu_xml_maybe_managed(managed, strlen(managed)), "vsmmu namespace: maybe managed");
	CHECK(vsmmu_xml_maybe_managed(legacy, strlen(legacy)), "nestedSmmuv3: maybe managed");
	CHECK(!vsmmu_xml_maybe_managed(plain, strlen(plain)), "plain domain: not managed");
}

/* What the filter writes for xml: NULL when nothing changes. */
static char *filtered(const struct vsmmu_conf *conf, const char *xml, size_t *n)
{
	_cleanup_domain_ struct vsmmu_domain *dom = NULL;
	char *out = NULL;
	vsmmu_err err;

	*n = 0;
	if (vsmmu_domain_parse(xml, strlen(xml), &dom, &err) < 0 ||
	    vsmmu_filter(conf, dom, xml, strlen(xml), &out, n, &err) < 0)
		printf("# filter: %s\n", err.msg);
	return out;
}

/* The filter rewrites the domain the hook parsed, byte for byte as a
 * fresh parse and rewrite would, and leaves a fitting one alone. */
static void test_filter(void)
{
	const char *src = getenv("VSMMU_SRCDIR") ? getenv("VSMMU_SRCDIR") : ".";
	char tmpl[] = "/tmp/vsmmu-test-filter.XXXXXX";
	const char *top = mkdtemp(tmpl);
	_cleanup_free_ char *sys = vsmmu_xasprintf("%s/sys", top);
	_cleanup_free_ char *path = vsmmu_xasprintf("%s/examples/domains/grace-2gpu.xml", src);
	_cleanup_free_ char *xml = NULL, *want = NULL, *once = NULL, *twice = NULL;
	_cleanup_free_ char *plain = NULL;
	struct vsmmu_conf conf = { .sysfs = sys };
	size_t len = 0, want_len = 0, once_len = 0, twice_len = 0, plain_len = 0;
	vsmmu_err err;

	if (shell("sh '%s/tests/fixtures/mkhost' grace '%s' >/dev/null", src, sys) != 0 ||
	    vsmmu_read_file(path, VSMMU_XML_MAX, &xml, &len, &err) < 0) {
		CHECK(0, "fixture: a grace sysfs and %s", path);
		return;
	}
	{
		_cleanup_host_ struct vsmmu_host *host = NULL;

		CHECK(vsmmu_host_scan(sys, &host, &err) == 0 &&
		      vsmmu_rewrite_xml(xml, len, host, NULL, &want, &want_len, NULL, &err) == 0,
		      "the document rewritten from a fresh parse");
	}
	once = filtered(&conf, xml, &once_len);
	CHECK(once && want && once_len == want_len && memcmp(once, want, want_len) == 0,
	      "the filter's output is the fresh rewrite, byte for byte");
	twice = once ? filtered(&conf, once, &twice_len) : NULL;
	CHECK(once && !twice && twice_len == 0, "a domain that fits this host: no output");
	plain = filtered(&conf, "<domain type='kvm'><name>p</name></domain>", &plain_len);
	CHECK(!plain, "an unmanaged domain: no output");
	shell("rm -rf '%s'", top);
}

int main(void)
{
	test_cheap_tests();
	test_filter();
	return tap_done();
}
