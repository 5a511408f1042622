/* The BPF tracker seen from userspace: load/attach, per-run slots, seeding, reads. */
#ifndef AGENTPERF_TRACKER_USER_H
#define AGENTPERF_TRACKER_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runs.h"

struct tracker;

struct tracker_opts {
	const char *variant; /* "tp_btf", "raw_tp" or NULL: tp_btf where it loads */
	const char *pin_dir; /* the pinned state (PINS_DIR) */
	uint32_t abi; /* TRACKER_ABI_VERSION (tests simulate another) */
};

/* What tracker_open found pinned. */
enum tracker_start {
	TRACKER_FRESH, /* nothing: new maps */
	TRACKER_TAKEN_OVER, /* state of this ABI: its maps reused, its runs go on */
	TRACKER_REPLACED, /* state of another ABI: read, then replaced */
};

/* Loads and attaches the programs over the state pinned in o->pin_dir
 * (reused when of the same ABI), then hands every event over to them and
 * pins their links: tracking goes on after the daemon exits. Returns NULL
 * with errno set; the reason has been logged in one line. */
struct tracker *tracker_open(const struct tracker_opts *o);
enum tracker_start tracker_start_state(const struct tracker *t);
/* TRACKER_REPLACED: the totals of the slot's run of generation gen in the
 * state that was replaced. Returns 0 or -ENOENT. */
int tracker_replaced_read(const struct tracker *t, uint32_t slot, uint32_t gen,
			  struct run_sample *out);
/* The generation the maps hold for slot (0: no live run). Returns 0 or -errno. */
int tracker_slot_gen(struct tracker *t, uint32_t slot, uint32_t *gen);
/* Removes every pin: once the daemon exits, programs and maps are gone.
 * Returns 0 or -errno. */
int tracker_unpin(struct tracker *t);
void tracker_free(struct tracker *t);
const char *tracker_variant(const struct tracker *t);

/* Zeroes the slot's counters and opens it for generation gen with root
 * root_tgid. Returns 0 or -errno. */
int tracker_begin_run(struct tracker *t, uint32_t slot, uint32_t gen, pid_t root_tgid);
/* Marks tgid's threads and, with whole_tree, all its descendants (two passes,
 * for forks that race the first). Without whole_tree (`agentperf run`'s
 * child, marked before it execs), tgid counts from its fork, unless another
 * run held it until now. Returns how many tasks were marked, or -errno. */
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
/* The run's agent process is agent: from now on only the processes it
 * forks start actions (none nest). Returns 0 or -errno. */
int tracker_set_agent(struct tracker *t, uint32_t slot, pid_t agent);
/* The programs' events (actions starting, their leaders' first execs and
 * their tasks' ends: tracker_abi.h), one record each. */
typedef void (*tracker_event_fn)(void *ctx, const void *data, size_t len);
/* A descriptor that polls readable when events wait. */
int tracker_events_fd(const struct tracker *t);
/* Hands every waiting event to fn. Returns how many, or -errno. */
int tracker_drain_events(struct tracker *t, tracker_event_fn fn, void *ctx);
/* The latest tracker_refresh_live's member records (tracker_abi.h). */
const struct tracker_proc *tracker_live_records(const struct tracker *t, size_t *n);
/* Closes the slot: tasks still carrying it are ignored from now on. */
int tracker_end_run(struct tracker *t, uint32_t slot);
/* The kernel's own cost of each loaded program: cb(ctx, name, run_time_ns,
 * run_cnt) once per program, from bpf_prog_info. Returns 0; -ENODATA when
 * kernel.bpf_stats_enabled is not 1 (the kernel counts nothing then);
 * or the -errno of a program that could not be read, after those before it. */
int tracker_prog_stats(const struct tracker *t,
		       void (*cb)(void *ctx, const char *name, uint64_t run_time_ns,
				  uint64_t run_cnt),
		       void *ctx);

#endif
