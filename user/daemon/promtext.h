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

struct promtext_run {
	char project[NAMES_PROJECT_MAX + 1];
	char run_id[NAMES_RUN_ID_MAX];
	uint64_t cpu_ns;
	uint64_t tasks; /* live tasks */
	uint64_t rss_bytes;
	bool have_gpu;
	double gpu_ratio; /* 0-1 */
	int64_t ended_mono_ns; /* finished runs: when they ended (CLOCK_MONOTONIC) */
};

/* Finished runs, oldest overwritten first when full: cardinality is bounded. */
struct promtext_finished {
	struct promtext_run r[PROMTEXT_FINISHED_MAX];
	size_t next, n;
};

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
};

void promtext_finished_add(struct promtext_finished *f, const struct promtext_run *r);
/* Writes s as a label value: backslash, double quote and newline escaped.
 * Returns the length written (out is always NUL-terminated; len > 0). */
size_t promtext_escape(const char *s, char *out, size_t len);
/* The whole exposition after `headroom` spare bytes (for LWS_PRE); malloc'd,
 * its length in *len. NULL on ENOMEM. */
char *promtext_render(const struct promtext_view *v, size_t headroom, size_t *len);

#endif
