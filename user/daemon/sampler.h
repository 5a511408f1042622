/* The sampler: the one owner of task walks, GPU readings and the agents'
 * transcripts (tokscan.h), all read for each open run. Everything that
 * shows a live figure (the stream, status, /metrics, the bookkeeping tick)
 * asks it for a sample; it walks the host's tasks at most once per period
 * however many ask. */
#ifndef AGENTPERF_SAMPLER_H
#define AGENTPERF_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "actions/actions.h"
#include "gpu/gpu.h"
#include "host.h"
#include "http/http.h"
#include "runs.h"
#include "tokens/tokscan.h"
#include "tracker/tracker.h"

/* Rates (runs' cores) span at least this long: a walk asked for sooner
 * reuses the latest rates. */
#define SAMPLER_RATE_MIN_NS (900 * 1000000LL)
/* An ended run's last GPU reading makes a walk, at most one this often. */
#define SAMPLER_END_WALK_NS (20 * 1000000LL)

struct sampler_opts {
	const char *proc_root;
	const char *sys_root;
	const char *nvml_lib; /* NVIDIA's management library; NULL: NVIDIA GPUs not read */
};

/* The latest walk and the host figures read with it. */
struct sample {
	int64_t real_ns; /* wall clock of the walk */
	int64_t mono_ns; /* CLOCK_MONOTONIC of the walk; 0 before the first */
	bool have_mem;
	struct host_mem mem;
	bool have_cpu;
	struct host_cpu cpu;
};

struct sampler;

/* Finds the host's GPU devices once (DRM, and NVML from o->nvml_lib). NULL
 * with errno ENOMEM. */
struct sampler *sampler_new(struct tracker *t, struct runs *runs, const struct sampler_opts *o);
void sampler_free(struct sampler *s);

/* Walks the tasks unless the latest walk is younger than max_age_ns, then
 * reads every run's counters into the runs table (noticing ends), each open
 * run's GPU use and transcript tokens (r->tokens), and the host's memory and
 * CPU. Returns the walk's sample. */
const struct sample *sampler_sample(struct sampler *s, int64_t max_age_ns);
/* The latest sample, without walking. */
const struct sample *sampler_latest(const struct sampler *s);
/* Reads r's counters (no walk): its CPU so far and whether it has ended. */
void sampler_read_run(struct sampler *s, struct run *r);
/* r has just started: its root process is looked at for transcripts now, so
 * that what its agent writes from the start is counted. */
void sampler_run_started(struct sampler *s, struct run *r);
/* r has ended or is detached: its GPU use is read up to its end (a walk,
 * at most one per SAMPLER_END_WALK_NS), and its transcripts a last time
 * into r->tokens and let go, off the loop thread; once both are final, its
 * tool calls into r->tools. false while either is
 * under way (ask again: the token read gives up after TOKSCAN_END_WAIT_NS,
 * keeping the figures read before); true once both are final, and after. */
bool sampler_run_done(struct sampler *s, struct run *r);
/* Puts the kernel's action events on the loop: they are taken as they come
 * (a fork storm fills no buffer between walks). Returns 0 or -errno. */
int sampler_serve(struct sampler *s, struct http *h);
/* r's tool calls and their CPU so far (a live run's). false (out zeroed)
 * when none of its actions is known. */
bool sampler_tools(struct sampler *s, const struct run *r, struct acttab_report *out);
/* What r's agent does now (from its transcripts as read at the latest
 * walk): waiting for its model, in a tool call (its name in tool, "" when
 * unknown), or neither. */
enum acttab_phase sampler_agent_phase(struct sampler *s, const struct run *r,
				      char tool[TOOLCALL_NAME_MAX + 1]);
/* r's timeline (actions_timeline) with its project, run_id, started_at,
 * ended_at (null while open) and cpu_seconds first. NULL with errno ENOENT
 * (nothing of it is known) or ENOMEM. */
cJSON *sampler_timeline(struct sampler *s, const struct run *r);
/* r's record is written: its actions and timeline go. */
void sampler_run_recorded(struct sampler *s, const struct run *r);
/* The GPU subsystem, read at each walk (gpu.h: a run's figures, the
 * devices). */
struct gpu *sampler_gpu(const struct sampler *s);
/* The number of online CPUs, read at start. */
int sampler_ncpus(const struct sampler *s);
/* Task walks made so far (for tests and the log). */
uint64_t sampler_walks(const struct sampler *s);

#endif
