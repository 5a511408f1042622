/* The actions subsystem's facade, the one header the rest of the daemon
 * includes: CPU per agent action. The kernel tells each run's actions (a
 * process its agent forked, with everything that process forks) and their
 * tasks' ends through the tracker's event buffer; the agents' transcripts
 * tell their tool calls; this joins them, one table per run (pure: no I/O,
 * the caller hands it the events, the live tasks and the tool events). */
#ifndef AGENTPERF_ACTIONS_H
#define AGENTPERF_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "acttab.h"
#include "timeline.h"
#include "tracker_abi.h"

struct actions;

/* NULL with errno ENOMEM. actions_free(NULL) is a no-op. */
struct actions *actions_new(void);
void actions_free(struct actions *a);
/* One record of the tracker's event buffer (len bytes). A run's first
 * event makes its table (a new generation in a slot replaces the old). */
void actions_event(struct actions *a, const void *data, size_t len);
/* A sampling pass: live_begin for each run the kernel still tracks (a
 * detached run keeps its last live figures), then each live member the
 * pass saw. */
void actions_live_begin(struct actions *a, uint32_t slot, uint32_t gen);
void actions_live(struct actions *a, const struct tracker_proc *p);
/* Tool events the run's transcripts gained. */
void actions_tools(struct actions *a, uint32_t slot, uint32_t gen,
		   const struct toolcall_event *ev, size_t n);
/* The run's agent process once the table knows it, until actions_agent_told
 * (0 before and after): the kernel is told, so that only its forks start
 * actions from then on. */
pid_t actions_new_agent(struct actions *a, uint32_t slot, uint32_t gen);
void actions_agent_told(struct actions *a, uint32_t slot, uint32_t gen);
/* The run's tool calls so far, and its phases from started_ns to until_ns
 * (its end, or now); with ended (no task of the run is alive) its live
 * figures are dropped first. false (out zeroed) when nothing of the run is
 * known. */
bool actions_report(struct actions *a, uint32_t slot, uint32_t gen, bool ended,
		    int64_t started_ns, int64_t until_ns, struct acttab_report *out);
/* The run's agent's phase now (ACTTAB_IDLE when nothing is known), with
 * ACTTAB_TOOL the open call's name in tool. */
enum acttab_phase actions_phase(struct actions *a, uint32_t slot, uint32_t gen,
				char tool[TOOLCALL_NAME_MAX + 1]);
/* A sampling pass's figures of the run, for its timeline: at unix time
 * at_ns, its CPU so far, RSS, GPU percent (have_gpu), tokens so far. */
void actions_sample(struct actions *a, uint32_t slot, uint32_t gen, int64_t at_ns,
		    uint64_t cpu_ns, uint64_t rss_bytes, bool have_gpu, double gpu_percent,
		    uint64_t tokens);
/* The run's timeline into o (an object): "samples" (each point's start,
 * seconds, cores, RSS, GPU percent or null, tokens), "tools" (every call in
 * the order they began, with its CPU), "model" (the requests), "phases" as
 * in the record, from started_ns to until_ns. Returns 0, -ENOENT (nothing of
 * the run is known) or -ENOMEM. */
int actions_timeline(struct actions *a, uint32_t slot, uint32_t gen, int64_t started_ns,
		     int64_t until_ns, cJSON *o);
/* A time of the actions' JSON (the record's tools, the timeline): ISO with
 * milliseconds, or null for 0 ("not yet"). NULL on ENOMEM. */
cJSON *actions_time_json(int64_t ns);
/* A tool call as the record and the timeline give it: id, name (null when
 * unknown), started_at, ended_at, cpu_seconds, tasks. NULL on ENOMEM. */
cJSON *actions_call_json(const struct acttab_tool *x);
/* Adds "phases" to o: the report's model, tool and idle seconds (to the
 * millisecond), or null when its transcripts told none. */
bool actions_phases_json(cJSON *o, const struct acttab_report *rep);
/* The run has been recorded: its table goes. */
void actions_forget(struct actions *a, uint32_t slot, uint32_t gen);

#endif
