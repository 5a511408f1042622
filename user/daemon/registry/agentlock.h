/* The agent harness's lock file, <project>/.autoforge/.agent.lock:
 * "PID:CREATE_TIME", CREATE_TIME the process's start as unix seconds (float). */
#ifndef AGENTPERF_AGENTLOCK_H
#define AGENTPERF_AGENTLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define AGENTLOCK_PATH "/.autoforge/.agent.lock"
#define AGENTLOCK_MAX 256 /* bytes; a longer file is not a lock */
/* Start times agree within this: /proc/stat's btime is whole seconds and
 * moves when the wall clock is stepped. */
#define AGENTLOCK_TOLERANCE_S 1.0

struct agentlock {
	pid_t pid;
	double create_time;
};

/* Parses the lock text (need not be NUL-terminated; surrounding blanks and a
 * trailing newline allowed). Returns 0, or -EINVAL when it is not
 * PID:CREATE_TIME with PID > 0 and a finite, positive CREATE_TIME. */
int agentlock_parse(const char *buf, size_t len, struct agentlock *out);
/* Whether a process that started at start_time (unix seconds) is the lock's. */
bool agentlock_matches(const struct agentlock *l, double start_time);

#endif
