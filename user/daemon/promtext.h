/* Prometheus text exposition (format 0.0.4) of agentperfd's figures, and the
 * table of recently finished runs that /metrics keeps showing for a while. */
#ifndef AGENTPERF_PROMTEXT_H
#define AGENTPERF_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "runs.h"

/* A finished run stays in /metrics this long, so that a scrape every few
 * seconds sees its final counter; then its series ends. */
#define PROMTEXT_KEEP_NS (300 * 1000000000LL)
#define PROMTEXT_FINISHED_MAX 256
/* agentperf_run_tokens_total's type label: input, output, cache_read, cache_creation. */
#define PROMTEXT_TOKEN_TYPES 4
extern const char *const promtext_token_type[PROMTEXT_TOKEN_TYPES];

struct promtext_run {
	char project[NAMES_PROJECT_MAX + 1];
	char run_id[NAMES_RUN_ID_MAX];
	uint64_t cpu_ns;
	uint64_t tasks; /* live tasks */
	uint64_t rss_bytes;
	bool have_gpu;
	double gpu_ratio; /* 0-1 */
	bool have_gpu_seconds;
	double gpu_seconds; /* busy time of its busiest GPU engine or device */
	bool have_tokens; /* from the agents' transcripts */
	uint64_t tokens[PROMTEXT_TOKEN_TYPES]; /* by promtext_token_type[] */
	size_t n_tools; /* CPU of the agent's tool calls by tool name */
	struct acttab_name tools[ACTTAB_NAMES];
	int64_t ended_mono_ns; /* finished runs: when they ended (CLOCK_MONOTONIC) */
};

/* Finished runs, oldest overwritten first when full: cardinality is bounded. */
struct promtext_finished {
	struct promtext_run r[PROMTEXT_FINISHED_MAX];
	size_t next, n;
};

/* One of the daemon's BPF programs and its cost as the kernel counts it
 * (only while kernel.bpf_stats_enabled is 1). */
struct promtext_prog {
	char name[64];
	uint64_t run_time_ns, run_cnt;
};

struct gpu_devices;

struct promtext_view {
	const char *version;
	const char *bpf_variant;
	const struct promtext_run *live;
	size_t n_live;
	const struct promtext_finished *finished;
	int64_t now_mono_ns; /* finished runs older than PROMTEXT_KEEP_NS are left out */
	bool have_mem;
	uint64_t mem_used_bytes, mem_total_bytes;
	int websocket_clients;
	const struct gpu_devices *gpus; /* NULL or none: no per-device families */
	const struct promtext_prog *progs; /* none: no BPF cost families */
	size_t n_progs;
};

void promtext_finished_add(struct promtext_finished *f, const struct promtext_run *r);
/* Writes s as a label value: backslash, double quote and newline escaped.
 * Returns the length written (out is always NUL-terminated; len > 0). */
size_t promtext_escape(const char *s, char *out, size_t len);
/* The whole exposition after `headroom` spare bytes (for LWS_PRE); malloc'd,
 * its length in *len. NULL on ENOMEM. */
char *promtext_render(const struct promtext_view *v, size_t headroom, size_t *len);

#endif
