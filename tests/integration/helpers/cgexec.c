/* cgexec [-o FILE] CGROUP_DIR CMD [ARG]...: join a cgroup, then exec CMD. The
 * group may be cgroup v1 or v2: in both, writing "0" to its cgroup.procs
 * moves the writer's whole process. With -o, writes to FILE the nanoseconds
 * of CPU this process had used by the moment it was in the group
 * (CLOCK_PROCESS_CPUTIME_ID, which brings the kernel's runtime up to date):
 * the part of a tracked run's CPU that the group's counter (cpuacct.usage,
 * cpu.stat usage_usec) cannot see. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *out = NULL;
	char path[4096];
	struct timespec ts;
	FILE *f;
	int fd;

	if (argc > 2 && !strcmp(argv[1], "-o")) {
		out = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: cgexec [-o FILE] CGROUP_DIR CMD [ARG]...\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", argv[1]);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		perror(path);
		return 2;
	}
	close(fd);
	if (out) {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		f = fopen(out, "w");
		if (!f || fprintf(f, "%lld\n", (long long)ts.tv_sec * 1000000000 + ts.tv_nsec) < 0 ||
		    fclose(f)) {
			perror(out);
			return 2;
		}
	}
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
