/* The BPF tracker seen from userspace: load/attach, per-run slots, seeding, reads. */
#ifndef AGENTPERF_TRACKER_USER_H
#define AGENTPERF_TRACKER_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runs.h"

struct tracker;

/* Loads and attaches the programs. variant is "tp_btf", "raw_tp" or NULL
 * (tp_btf where this kernel loads tp_btf programs at all, else raw_tp).
 * Returns NULL with errno set; the reason has been logged in one line. */
struct tracker *tracker_open(const char *variant);
void tracker_free(struct tracker *t);
const char *tracker_variant(const struct tracker *t);

/* Zeroes the slot's counters and opens it for generation gen with root
 * root_tgid. Returns 0 or -errno. */
int tracker_begin_run(struct tracker *t, uint32_t slot, uint32_t gen, pid_t root_tgid);
/* Marks tgid's threads and, with whole_tree, all its descendants (two passes,
 * for forks that race the first). Returns how many tasks were marked, or -errno. */
int tracker_seed(struct tracker *t, uint32_t slot, uint32_t gen, pid_t tgid, bool whole_tree);
/* One sampling pass over all tasks: in-flight CPU, RSS and root state of every
 * live run, for the tracker_read calls that follow. Returns 0 or -errno. */
int tracker_refresh_live(struct tracker *t);
/* Reads the slot's counters and root exit, with the figures of the latest
 * tracker_refresh_live. Returns 0 or -errno. */
int tracker_read(struct tracker *t, uint32_t slot, struct run_sample *out);
/* The processes (thread-group ids) of the slot's run seen by the latest
 * tracker_refresh_live; returns how many were written to out (at most max). */
size_t tracker_live_procs(const struct tracker *t, uint32_t slot, pid_t *out, size_t max);
/* The run's top commands by CPU: its exited tasks', plus with with_live its
 * live members' as of the latest tracker_refresh_live. Returns 0 or -errno. */
int tracker_top(struct tracker *t, uint32_t slot, uint32_t gen, bool with_live, struct top *out);
/* Drops the run's per-command figures once its record is written. */
void tracker_forget_top(struct tracker *t, uint32_t slot, uint32_t gen);
/* Closes the slot: tasks still carrying it are ignored from now on. */
int tracker_end_run(struct tracker *t, uint32_t slot);

#endif
