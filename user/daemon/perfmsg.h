/* The perf_metrics message (docs/interfaces.md, v1) and the arithmetic behind its figures. */
#ifndef AGENTPERF_PERFMSG_H
#define AGENTPERF_PERFMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Everything one message says; built by the sampler, rendered here. */
struct perfmsg_view {
	const char *project;
	int64_t now_ms; /* unix time in ms */
	bool has_run;
	const char *status; /* running | paused | stopped | crashed */
	int pid;
	const char *started_at; /* ISO-8601 */
	const char *run_id;
	uint64_t tasks; /* live tasks of the run */
	bool tokens_available;
	int64_t tokens_current;
	int64_t tokens_total;
	/* The current run's tokens by kind: null unless tokens_have_kinds. */
	bool tokens_have_kinds;
	uint64_t tokens_input, tokens_output, tokens_cache_read, tokens_cache_creation;
	double cpu_percent, cpu_cores, host_percent, run_seconds;
	double mem_used_gb, mem_total_gb, mem_percent, run_rss_gb;
	/* agent: the current run's agent's phase ("model", "tool", "idle") and
	 * its tool call's name (NULL: null) */
	const char *agent_phase;
	const char *agent_tool;
	/* gpu: each figure null unless its have_ flag is set */
	bool gpu_available;
	bool gpu_have_percent, gpu_have_vram_used, gpu_have_vram_total;
	double gpu_percent, gpu_vram_used_gb, gpu_vram_total_gb;
};

/* One reading of the counters behind cpu.* */
struct perfmsg_cpu_sample {
	uint64_t run_cpu_ns;
	int64_t mono_ns;
	uint64_t host_busy, host_total; /* jiffies */
};

/* cpu.percent (share of the host), cpu.cores and cpu.host_percent over the
 * interval from prev to cur; zeros when there is no interval yet. */
void perfmsg_cpu(const struct perfmsg_cpu_sample *prev, const struct perfmsg_cpu_sample *cur,
		 int ncpus, double *percent, double *cores, double *host_percent);
/* A project's previous reading, the start of its next message's interval. */
struct perfmsg_baseline {
	bool have;
	struct perfmsg_cpu_sample prev;
};
/* Fills v's cpu.* and run_seconds from cur: over the interval since base, or
 * for a first message the run's average over its run_age_ns (open runs)
 * and the host's since boot. The run's counter is held from going back.
 * cur becomes the baseline of the next message. */
void perfmsg_cpu_next(struct perfmsg_baseline *base, struct perfmsg_cpu_sample cur, bool open,
		      int64_t run_age_ns, int ncpus, struct perfmsg_view *v);
/* x to one decimal; never -0, NaN or infinity (those become 0). */
double perfmsg_round1(double x);
/* The message as JSON, preceded by `headroom` spare bytes (for LWS_PRE);
 * malloc'd, its JSON length in *len. NULL on ENOMEM. */
char *perfmsg_render(const struct perfmsg_view *v, size_t headroom, size_t *len);

#endif
