/* DRM fdinfo (kernel Documentation/gpu/drm-usage-stats.rst, and the per-driver
 * shapes in shared/reference/drm-fdinfo.md) parsed into one client's figures,
 * without allocation. */
#ifndef AGENTPERF_FDINFO_H
#define AGENTPERF_FDINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDINFO_MAX_ENGINES 16
#define FDINFO_NAME_MAX 32

struct fdinfo_engine {
	char name[FDINFO_NAME_MAX];
	uint64_t ns; /* drm-engine-<e>: cumulative busy time */
	uint64_t cycles; /* drm-cycles-<e> */
	uint64_t total_cycles; /* drm-total-cycles-<e>: GPU timestamp, same rate */
	uint32_t capacity; /* drm-engine-capacity-<e>; 1 when absent */
	bool has_ns, has_cycles, has_total_cycles;
	bool has_percent; /* amdgpu before 5.19: "gfx0: 12.5%", instantaneous */
	double percent;
};

struct fdinfo {
	char driver[FDINFO_NAME_MAX];
	char pdev[FDINFO_NAME_MAX]; /* empty on platform devices */
	bool has_client_id;
	uint64_t client_id; /* drm-client-id (the first, if printed twice); pasid on old amdgpu */
	bool has_vram;
	uint64_t vram_bytes; /* resident device-local memory */
	int n_engines;
	struct fdinfo_engine engines[FDINFO_MAX_ENGINES];
};

/* Parses one fdinfo text (need not be NUL-terminated). Returns 0, or -ENOENT
 * when it is not a DRM client's (no drm-driver and no old amdgpu keys). Lines
 * it does not know, or cannot read, are skipped. */
int fdinfo_parse(const char *buf, size_t len, struct fdinfo *out);

#endif
