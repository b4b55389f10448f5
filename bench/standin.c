/* A stand-in QEMU for the wrapper's exec path: answers the two capability
 * probes (-version, -device arm-smmuv3,help; the hook caches the answers
 * in VSMMU_RUNDIR at prepare), otherwise does what the
 * floor does: reads stdin to EOF and exits 0. */
#include <string.h>
#include <unistd.h>

static void say(const char *s) { (void)!write(STDOUT_FILENO, s, strlen(s)); }

int main(int argc, char **argv)
{
	char buf[65536];

	if (argc == 2 && strcmp(argv[1], "-version") == 0) {
		say("QEMU emulator version 11.1.0 (vsmmu bench stand-in)\n");
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "-device") == 0 &&
	    strcmp(argv[2], "arm-smmuv3,help") == 0) {
		say("arm-smmuv3 options:\n  accel=<bool>           -  (default: false)\n"
		    "  primary-bus=<link<PCI>>\n");
		return 0;
	}
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	return 0;
}
