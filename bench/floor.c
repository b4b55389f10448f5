/* The floor: the least a process can cost. Reads stdin to EOF and exits 0. */
#include <unistd.h>

int main(void)
{
	char buf[65536];

	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	return 0;
}
