/* vsmmu.conf text: parse, then clear. Refusals are fine; crashes, leaks
 * and a half-filled config surviving an error are not. */
#include "conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_cstr(data, size);
	struct vsmmu_conf conf = { 0 };
	vsmmu_err err;

	(void)vsmmu_conf_parse(&conf, text, "/etc/vsmmu/vsmmu.conf", &err);
	vsmmu_conf_clear(&conf);
	return 0;
}
