/* A run's GPU use from its DRM clients' fdinfo over time: per-engine
 * utilization with baselines, dedupe, device aggregation, VRAM. Pure. */
#ifndef AGENTPERF_GPU_H
#define AGENTPERF_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include "fdinfo.h"

#define GPU_MAX_CLIENTS 256
#define GPU_DEV_MAX 48

struct gpu_client {
	bool used;
	bool seen; /* in the current tick */
	char dev[GPU_DEV_MAX]; /* the device: its PCI address, else its DRM node */
	uint64_t key; /* drm-client-id, or the caller's fallback key */
	int64_t mono_ns; /* when base was taken */
	struct fdinfo base; /* baseline counters */
	struct fdinfo now;
	int64_t now_ns;
};

struct gpu_result {
	int clients; /* distinct DRM clients of the run this tick */
	bool unknown; /* some fdinfo could not be read: the figures are unknown */
	bool have_percent; /* false until a client has been seen twice */
	double percent; /* busiest engine of the busiest device, 0-100 */
	bool have_vram;
	uint64_t vram_bytes;
};

struct gpu_state {
	struct gpu_client c[GPU_MAX_CLIENTS];
	bool unknown; /* some fdinfo could not be read this tick */
	int hint; /* where the last client was found */
};

void gpu_init(struct gpu_state *g);
void gpu_begin_tick(struct gpu_state *g);
/* One DRM fd of the run. dev names the device; key dedupes clients when
 * fdinfo has no client id (an fd's own identity). Clients seen already this
 * tick (a dup'd fd, a child sharing the client) are counted once. */
void gpu_observe(struct gpu_state *g, const char *dev, uint64_t fallback_key,
		 const struct fdinfo *fi, int64_t mono_ns);
/* An fdinfo of the run could not be read (EACCES): the tick's figures are unknown. */
void gpu_unknown(struct gpu_state *g);
/* Figures for the tick; clients not seen in it are forgotten. */
void gpu_end_tick(struct gpu_state *g, struct gpu_result *out);

#endif
