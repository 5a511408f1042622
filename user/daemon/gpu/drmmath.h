/* A run's GPU use from its DRM clients' fdinfo over time: per-engine
 * utilization with baselines, dedupe, device aggregation, VRAM. Pure. */
#ifndef AGENTPERF_DRMMATH_H
#define AGENTPERF_DRMMATH_H

#include <stdbool.h>
#include <stdint.h>

#include "fdinfo.h"

#define DRMMATH_MAX_CLIENTS 256
#define DRMMATH_DEV_MAX 48

struct drmmath_client {
	bool used;
	bool seen; /* in the current tick */
	char dev[DRMMATH_DEV_MAX]; /* the device: its PCI address, else its DRM node */
	uint64_t key; /* drm-client-id, or the caller's fallback key */
	int64_t mono_ns; /* when base was taken */
	struct fdinfo base; /* baseline counters */
	struct fdinfo now;
	int64_t now_ns;
};

struct drmmath_result {
	int clients; /* distinct DRM clients of the run this tick */
	bool unknown; /* some fdinfo could not be read: the figures are unknown */
	bool have_percent; /* false until a client has been seen twice */
	double percent; /* busiest engine of the busiest device, 0-100 */
	bool have_vram;
	uint64_t vram_bytes;
};

struct drmmath_state {
	struct drmmath_client c[DRMMATH_MAX_CLIENTS];
	bool unknown; /* some fdinfo could not be read this tick */
	int hint; /* where the last client was found */
};

void drmmath_init(struct drmmath_state *g);
void drmmath_begin_tick(struct drmmath_state *g);
/* One DRM fd of the run. dev names the device; key dedupes clients when
 * fdinfo has no client id (an fd's own identity). Clients seen already this
 * tick (a dup'd fd, a child sharing the client) are counted once. */
void drmmath_observe(struct drmmath_state *g, const char *dev, uint64_t fallback_key,
		 const struct fdinfo *fi, int64_t mono_ns);
/* An fdinfo of the run could not be read (EACCES): the tick's figures are unknown. */
void drmmath_unknown(struct drmmath_state *g);
/* Figures for the tick; clients not seen in it are forgotten. */
void drmmath_end_tick(struct drmmath_state *g, struct drmmath_result *out);

#endif
