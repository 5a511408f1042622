/* The runs table: which run owns which BPF slot, and when a run has ended. */
#ifndef AGENTPERF_RUNS_H
#define AGENTPERF_RUNS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "actions/actions.h"
#include "names.h"
#include "top.h"
#include "tracker_abi.h"
#include "tokens/tokscan.h"

/* One read of a run's kernel-side state (see include/tracker_abi.h). */
struct run_sample {
	uint64_t cpu_ns;
	uint64_t tasks_started;
	uint64_t tasks_exited;
	uint64_t tasks_lost;
	uint64_t actions_lost; /* action events the kernel could not tell */
	bool root_exited; /* or root_left */
	bool root_left; /* the root was attached to another run: no exit status */
	int exit_status; /* wait(2) status, valid once root_exited and not root_left */
	int64_t last_exit_unix_ns; /* 0 if no member has died yet */
	uint64_t run_delay_ns; /* exited members' time runnable, waiting for a CPU */
	uint64_t peak_proc_rss_bytes; /* largest peak RSS of an exited process */
	/* From the latest sampling pass (tracker_refresh_live): */
	uint64_t inflight_ns; /* members' CPU not yet credited at a switch */
	uint64_t live_delay_ns; /* live members' run delay since they joined */
	uint64_t rss_bytes; /* RSS of the run's live processes */
	bool root_stopped; /* the root is in stopped (T) state */
};

enum run_status { RUN_RUNNING, RUN_PAUSED, RUN_STOPPED, RUN_CRASHED };

/* The run's tokens: what its agents' transcripts say (the sampler's reading),
 * and its project's `agentperf tokens` count, which wins (copied by the
 * lifecycle when the run answers a wait or is recorded). */
struct run_tokens {
	bool have; /* transcript usage seen */
	enum transcript_source source; /* the one with the most tokens */
	struct transcript_usage usage;
	bool reported;
	int64_t reported_n;
};

struct run {
	bool used;
	bool ended; /* root gone and no task alive: the record is final */
	bool detached; /* tracking given up (detach, daemon stop) before the end */
	bool adopted; /* taken over by a restarted daemon */
	char project[NAMES_PROJECT_MAX + 1];
	char run_id[NAMES_RUN_ID_MAX];
	uint32_t slot;
	uint32_t gen;
	pid_t pid;
	/* Who may change the run (detach it, report its tokens): the uid of the
	 * control peer that started it (root's: root), a registry run's agent's
	 * real uid. Fixed at the start, journaled. */
	uid_t owner;
	int64_t started_ns; /* unix time in ns */
	int64_t ended_ns; /* unix time in ns, valid once ended or detached */
	struct run_sample last;
	/* Highest of the sampled total RSS and any exited process's own peak. */
	uint64_t peak_rss_bytes;
	/* CPU rate over the latest tick (runs_rate). */
	bool have_rate_base;
	uint64_t rate_cpu_ns;
	int64_t rate_mono_ns;
	double cores;
	/* Commands by CPU, filled when a record is made (not per tick). */
	struct top top;
	struct run_tokens tokens;
	/* Busy time of its busiest GPU engine or device, summed by the
	 * sampler at each walk; have_ false while nothing was known. */
	bool have_gpu_seconds;
	double gpu_seconds;
	/* Its agent's tool calls, filled when a record is made (not per tick). */
	struct acttab_report tools;
};

struct runs {
	struct run run[TRACKER_MAX_RUNS];
	uint32_t next_gen;
	uint32_t next_slot;
};

/* An empty table; NULL with errno ENOMEM. runs_free(NULL) is a no-op. */
struct runs *runs_new(void);
void runs_free(struct runs *rs);
/* Claims a slot for a new run. Slots are handed out round-robin so a slot just
 * released is the last to be reused. Returns NULL with errno ENOSPC when full. */
struct run *runs_begin(struct runs *rs, const char *project, pid_t pid, int64_t now_ns);
/* Generations are handed out from gen on (when higher than the next): a
 * restarted daemon never reuses one whose tasks may still carry it. */
void runs_reserve_gen(struct runs *rs, uint32_t gen);
/* Puts a journaled run back in its slot (a restarted daemon's takeover).
 * Returns it, or NULL with errno EBUSY when the slot is taken. */
struct run *runs_adopt(struct runs *rs, const struct run *from);
/* The next run in use after prev (NULL: the first), in slot order; NULL
 * after the last. prev may have been released meanwhile. */
struct run *runs_next(const struct runs *rs, const struct run *prev);
/* Each run in use, as r (a struct run *). */
#define runs_for_each(rs, r) for (struct run *r = runs_next(rs, NULL); r; r = runs_next(rs, r))

/* Live run by run id (of project, unless NULL: a root attached to a second
 * run in the second it started gives both the same id) or, newest first, by
 * project; NULL when none. */
struct run *runs_find_id(struct runs *rs, const char *project, const char *run_id);
struct run *runs_find_project(struct runs *rs, const char *project);
/* The project's newest run in the table, open or awaiting its record; NULL
 * when none. */
const struct run *runs_latest(const struct runs *rs, const char *project);
/* Stores a fresh sample; returns true exactly once, when the run has just
 * ended (its root has exited and no task of it is alive). */
bool runs_apply(struct run *r, const struct run_sample *s, int64_t now_ns);
/* Updates r->cores from the run's CPU total (credited plus in-flight) at
 * mono_ns; the first call only sets the baseline. */
void runs_rate(struct run *r, uint64_t cpu_ns, int64_t mono_ns);
/* Ends tracking now without waiting for the tasks (detach, shutdown). */
void runs_detach(struct run *r, int64_t now_ns);
void runs_release(struct run *r);
/* The tokens r's agents' transcripts recorded (input, output and cache
 * tokens alike), 0 when none were seen. */
uint64_t runs_transcript_tokens(const struct run *r);
/* The run record of r (docs/interfaces.md "The run record"); NULL on allocation failure. */
cJSON *runs_record(const struct run *r);

/* Still tracked: neither ended nor detached. */
bool runs_is_open(const struct run *r);
uint64_t runs_tasks_alive(const struct run *r);
enum run_status runs_status(const struct run *r);
const char *runs_status_name(enum run_status st);

#endif
