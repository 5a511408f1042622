/* A run as the transcript scanner's parts see it: which one it is, since
 * when, and whether a file was made by it. tokscan owns the runs; its parts
 * only read them. */
#ifndef AGENTPERF_TOKRUN_H
#define AGENTPERF_TOKRUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A file whose birth is at most this long before the run's start counts as
 * created by the run (file times come from a coarse clock). */
#define TOKRUN_BIRTH_SLACK_NS (20 * 1000000LL)

struct tokrun {
	bool active;
	uint32_t slot, gen;
	int64_t started_ns; /* unix time */
	uid_t owner; /* only its processes, and its files, are read */
	int64_t mono_ns; /* of its current tick */
};

/* Whether a file whose birth time is in stx (STATX_BTIME in its mask) counts
 * as created by r: born at most TOKRUN_BIRTH_SLACK_NS before r started. */
bool tokrun_born(const struct tokrun *r, const struct statx *stx);
/* Whether the open file fd was created by r. *known: whether its filesystem
 * keeps birth times (when it does not, the answer is false). */
bool tokrun_born_fd(const struct tokrun *r, int fd, bool *known);

#endif
