/* hog MIB: touch MIB mebibytes of anonymous memory, then exit at once: a
 * peak of RSS too short for any periodic sampler to see. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	long mib = argc == 2 ? atol(argv[1]) : 0;
	volatile char *p;
	size_t n = (size_t)mib << 20;

	if (mib < 1) {
		fprintf(stderr, "usage: hog MIB\n");
		return 2;
	}
	p = malloc(n);
	if (!p) {
		perror("hog");
		return 1;
	}
	/* One write per page, through a volatile pointer: no store is elided. */
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
	return 0;
}
