/* A run's figures over time, for `agentperf timeline` (pure): one point per
 * sampling pass, at most TIMELINE_POINTS; when full, neighbours merge in
 * pairs and each later point covers twice as many passes, so a run of any
 * length keeps its whole span at an even resolution. */
#ifndef AGENTPERF_TIMELINE_H
#define AGENTPERF_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMELINE_POINTS 1000
/* Tool calls a timeline holds (the costliest): with its points and model
 * requests its JSON line stays under the history's 1 MiB line. */
#define TIMELINE_CALLS_MAX 2000

struct timeline_point {
	int64_t at_ns; /* unix time of its first pass */
	int64_t span_ns; /* the time it covers */
	uint64_t cpu_ns; /* the run's CPU over it */
	uint64_t rss_bytes; /* the highest RSS of its passes */
	bool have_gpu;
	double gpu_busy_ns; /* GPU percent / 100 × the time it was known */
	int64_t gpu_ns;
	uint64_t tokens; /* the run's tokens at its last pass */
};

struct timeline {
	struct timeline_point p[TIMELINE_POINTS];
	size_t n;
	unsigned stride, pending; /* passes per point, and in the last point so far */
	bool have_last;
	int64_t last_ns;
	uint64_t last_cpu_ns;
};

/* A pass at unix time at_ns: the run's CPU so far, its RSS, its GPU percent
 * (have_gpu), its tokens so far. The first pass only sets the baseline. */
void timeline_add(struct timeline *t, int64_t at_ns, uint64_t cpu_ns, uint64_t rss_bytes,
		  bool have_gpu, double gpu_percent, uint64_t tokens);

#endif
