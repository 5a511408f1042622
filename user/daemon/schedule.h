/* When each watched project's next perf_metrics is due. Pure arithmetic on
 * CLOCK_MONOTONIC nanoseconds, so that it is unit-tested without a loop.
 *
 * Every snapshot falls on one grid of the running period, anchored when the
 * first watcher arrives: however many projects are watched, and whenever
 * their watchers came, the due ones are served together by one task walk. A
 * running project is due every grid step, an idle one every idle period
 * rounded to the grid; a new watcher or a change of the project (a run
 * starts, tokens) gets a snapshot at once and then rejoins the grid. */
#ifndef AGENTPERF_SCHEDULE_H
#define AGENTPERF_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

struct schedule {
	int64_t period_ns; /* the grid step: the running period */
	int64_t idle_ns; /* the idle period */
	int64_t anchor_ns; /* a grid instant */
	bool anchored;
};

void schedule_init(struct schedule *s, int64_t running_ns, int64_t idle_ns);
/* Nobody watched before: the grid starts at now. */
void schedule_anchor(struct schedule *s, int64_t now_ns);
/* The grid instant nearest to t, never before the one at or after now. */
int64_t schedule_snap(const struct schedule *s, int64_t t, int64_t now_ns);
/* When a project snapshot at now_ns is next due: one running or idle period
 * later, on the grid. */
int64_t schedule_next(const struct schedule *s, int64_t now_ns, bool running);
/* Whether something due at due_ns is to be served at now_ns (a timer that
 * fires a little early still serves it). */
bool schedule_is_due(const struct schedule *s, int64_t due_ns, int64_t now_ns);

#endif
