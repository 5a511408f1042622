/* burn THREADS MS [CMD [ARG]...]: spin THREADS threads for MS milliseconds of
 * CPU each (their own thread CPU clock, counted from the start: the clock
 * survives exec), then exec CMD if given. With BURN_DELAY_FILE set, each
 * thread appends to it, when done, the nanoseconds it spent runnable but
 * waiting for a CPU, as the kernel reports it (schedstat's second field). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long ms;

static long long thread_cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void *spin(void *arg)
{
	long long end = thread_cpu_us() + ms * 1000;
	volatile unsigned long x = 0;

	(void)arg;
	const char *out = getenv("BURN_DELAY_FILE");
	unsigned long long run, delay;

	do {
		for (int i = 0; i < 10000; i++)
			x += (unsigned long)i;
	} while (thread_cpu_us() < end);
	if (out) {
		FILE *f = fopen("/proc/thread-self/schedstat", "r"), *o;

		if (f && fscanf(f, "%llu %llu", &run, &delay) == 2 && (o = fopen(out, "a"))) {
			fprintf(o, "%llu\n", delay);
			fclose(o);
		}
		if (f)
			fclose(f);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n;
	pthread_t th[256];

	if (argc < 3 || (n = atoi(argv[1])) < 1 || n > 256 || (ms = atol(argv[2])) < 0) {
		fprintf(stderr, "usage: burn THREADS(1-256) MS [CMD [ARG]...]\n");
		return 2;
	}
	for (int i = 1; i < n; i++)
		pthread_create(&th[i], NULL, spin, NULL);
	spin(NULL);
	for (int i = 1; i < n; i++)
		pthread_join(th[i], NULL);
	if (argc > 3) {
		execvp(argv[3], argv + 3);
		perror(argv[3]);
		return 127;
	}
	return 0;
}
