/* The GPU subsystem's facade: the host's GPU devices (DRM render nodes,
 * NVIDIA's through NVML) and each run's GPU use from its own processes,
 * both backends together, with its gpu_seconds. The rest of the daemon
 * includes this header only. */
#ifndef AGENTPERF_GPU_H
#define AGENTPERF_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpudevs.h"
#include "gpuscan.h"
#include "nvml.h"
#include "runs.h"

struct gpu_opts {
	const char *proc_root;
	const char *sys_root;
	const char *nvml_lib; /* NVIDIA's management library; NULL: NVIDIA GPUs not read */
};

/* A run's GPU figures at the latest reading. */
struct gpu_usage {
	bool have_percent;
	double percent;
	bool have_vram;
	uint64_t vram_bytes;
};

struct gpu;

/* Finds the host's GPU devices once (DRM, and NVML from o->nvml_lib; both
 * paths are kept, not copied). NULL with errno ENOMEM. gpu_free(NULL) is a
 * no-op. */
struct gpu *gpu_new(const struct gpu_opts *o);
void gpu_free(struct gpu *g);
/* Whether the host has a GPU that reports per-process use (DRM or NVML),
 * and its VRAM, read at start. */
const struct gpuscan_host *gpu_host(const struct gpu *g);
/* Each GPU device of the host with its figures at the latest reading. */
const struct gpu_devices *gpu_devices(const struct gpu *g);
/* A walk begins: reads every device (NVML's once for every run). */
void gpu_read_devices(struct gpu *g);
/* Reads open run r's use from its live processes (pids) at mono_ns, and
 * adds to r's gpu_seconds. Nothing without a GPU that reports usage. */
void gpu_read_run(struct gpu *g, struct run *r, const pid_t *pids, size_t n, int64_t mono_ns);
/* Whether ended run r still waits for its last interval: a reading after
 * its end, which gpu_end_run takes in the first walk after it. */
bool gpu_end_pending(const struct gpu *g, const struct run *r);
/* Reads ended run r once more, with none of its processes left: what its
 * processes did from the last reading to their end (NVML's samples of
 * those seen then, which the driver keeps after they exit; DRM clients
 * leave with their processes, so DRM adds nothing) is added to its
 * gpu_seconds, and nothing after. Called once per walk for each ended run;
 * reads only the first time. */
void gpu_end_run(struct gpu *g, struct run *r, int64_t mono_ns);
/* r's figures at the latest reading, DRM and NVML together: the busiest
 * device or engine, VRAM summed; unknown where either backend does not know.
 * No run (r NULL), or a run with nothing alive, uses none (zeros, known); a
 * run not read since it
 * started is unknown. Returns false when the host has no GPU that reports
 * usage. */
bool gpu_usage(const struct gpu *g, const struct run *r, struct gpu_usage *out);

#endif
