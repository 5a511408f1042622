/* The tracker's state, shared by the files of the tracker module only
 * (tracker.c: load, slots, counters; trackerinfo.c: commands, self-cost). */
#ifndef AGENTPERF_TRACKER_INT_H
#define AGENTPERF_TRACKER_INT_H

#include "top.h"
#include "tracker.h"
#include "tracker.skel.h"

struct tracker {
	struct tracker_bpf *skel;
	const char *variant;
	int ncpus;
	long page_size;
	struct tracker_counters *percpu; /* scratch for one per-CPU lookup */
	struct tracker_proc *procs; /* the latest sampling pass's live members */
	size_t n_procs, cap_procs;
	/* Iterator links, made once while privileged; passes only open them. */
	struct bpf_link *seed_link, *sample_link;
	/* One batch read of run_comms (allocated at first use). */
	struct tracker_comm_key *comm_keys;
	uint64_t *comm_vals;
	struct top_acc *acc; /* 25 KiB: too big for the stack */
	/* The acting programs' events (tracker_abi.h), and whoever drains them now. */
	struct ring_buffer *events;
	tracker_event_fn event_fn;
	void *event_ctx;
	const char *pin_dir;
	enum tracker_start start;
	/* TRACKER_REPLACED: each slot's run in the state found, read before it
	 * was replaced. */
	struct replaced_run {
		bool valid;
		struct tracker_run info;
		struct tracker_counters sum;
	} *replaced;
};

#endif
