/* A fake tracker in place of the BPF one, for the tests of the daemon's
 * middle (lifecycle, sampler, stream): each slot's counters are what the test
 * writes in fake[slot]; walks, closed slots and the pinned state a restarted
 * daemon would find are the test's too. Included by one test file each. */
#ifndef AGENTPERF_FAKE_TRACKER_H
#define AGENTPERF_FAKE_TRACKER_H

#include <errno.h>
#include <string.h>

#include "tracker.h"

static struct run_sample fake[TRACKER_MAX_RUNS];
static bool fake_open[TRACKER_MAX_RUNS];
static int fake_walks, fake_ended[TRACKER_MAX_RUNS];
static pid_t fake_pid; /* the one process of every open run; 0: none */
static uint32_t fake_gen[TRACKER_MAX_RUNS]; /* the pinned state's generations */
static enum tracker_start fake_start = TRACKER_FRESH;

int tracker_begin_run(struct tracker *t, uint32_t slot, uint32_t gen, pid_t root_tgid)
{
	memset(&fake[slot], 0, sizeof(fake[slot]));
	fake_open[slot] = true;
	fake_ended[slot] = 0;
	return 0;
}

int tracker_seed(struct tracker *t, uint32_t slot, uint32_t gen, pid_t tgid, bool whole_tree)
{
	fake[slot].tasks_started = 1;
	return 1;
}

int tracker_refresh_live(struct tracker *t)
{
	fake_walks++;
	return 0;
}

int tracker_read(struct tracker *t, uint32_t slot, struct run_sample *out)
{
	*out = fake[slot];
	return 0;
}

size_t tracker_live_procs(const struct tracker *t, uint32_t slot, pid_t *out, size_t max)
{
	if (!fake_pid || !fake_open[slot] || fake[slot].root_exited || !max)
		return 0;
	out[0] = fake_pid;
	return 1;
}

/* Actions: the fake kernel tells none. */
int tracker_events_fd(const struct tracker *t)
{
	return -1;
}

int tracker_drain_events(struct tracker *t, tracker_event_fn fn, void *ctx)
{
	return 0;
}

const struct tracker_proc *tracker_live_records(const struct tracker *t, size_t *n)
{
	*n = 0;
	return NULL;
}

int tracker_set_agent(struct tracker *t, uint32_t slot, pid_t agent)
{
	return 0;
}

int tracker_top(struct tracker *t, uint32_t slot, uint32_t gen, bool with_live, struct top *out)
{
	memset(out, 0, sizeof(*out));
	return 0;
}

void tracker_forget_top(struct tracker *t, uint32_t slot, uint32_t gen)
{
}

int tracker_end_run(struct tracker *t, uint32_t slot)
{
	fake_open[slot] = false;
	fake_ended[slot]++;
	return 0;
}

int tracker_prog_stats(const struct tracker *t,
		       void (*cb)(void *ctx, const char *name, uint64_t run_time_ns, uint64_t run_cnt),
		       void *ctx)
{
	return -EOPNOTSUPP;
}

const char *tracker_variant(const struct tracker *t)
{
	return "fake";
}

enum tracker_start tracker_start_state(const struct tracker *t)
{
	return fake_start;
}

int tracker_slot_gen(struct tracker *t, uint32_t slot, uint32_t *gen)
{
	*gen = fake_gen[slot];
	return 0;
}

int tracker_replaced_read(const struct tracker *t, uint32_t slot, uint32_t gen,
			  struct run_sample *out)
{
	return -ENOENT;
}

#endif
