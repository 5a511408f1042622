/* The host's GPU devices for operators, whichever backend reads them (DRM
 * sysfs, NVML): their list in the status reply, their families in /metrics
 * and the line that names them at start. Pure. */
#ifndef AGENTPERF_GPUDEVS_H
#define AGENTPERF_GPUDEVS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GPUDEVS_MAX 16

struct gpu_device {
	char id[24]; /* the `device` label: nvidia0, renderD128 */
	char name[96]; /* "NVIDIA H200", "amdgpu 0000:03:00.0" */
	char backend[8]; /* "nvml" or "drm" */
	/* How its per-process utilization is read: "samples" (NVML's process
	 * samples), "samples+accounting" (and accounting of processes that
	 * exited with no sample: accounting mode on), "accounting", "none"
	 * (NVML with neither), "fdinfo" (DRM clients' engine time). */
	char method[24];
	int index; /* the backend's own: NVML's index, the DRM card's number */
	bool have_mem_total, have_mem_used, have_util;
	uint64_t mem_total_bytes, mem_used_bytes;
	double util_percent; /* the whole device's, 0-100 */
};

struct gpu_devices {
	int n;
	struct gpu_device d[GPUDEVS_MAX];
};

/* A free entry at the end of d, zeroed; NULL when d is full. */
struct gpu_device *gpudevs_add(struct gpu_devices *d);
/* The list as the status reply gives it: [{"device","name","backend","method",
 * "memory_total_bytes","memory_used_bytes","utilization_percent"}], each
 * figure null while unknown. NULL on ENOMEM. */
cJSON *gpudevs_json(const struct gpu_devices *d);
/* The per-device families of /metrics (agentperf_gpu_info{device,name,backend},
 * agentperf_gpu_memory_used_bytes, agentperf_gpu_memory_total_bytes and
 * agentperf_gpu_utilization_ratio, by device): nothing without devices; a
 * figure unknown has no sample. */
/* The devices in one line for the log: which backends report usage, how
 * many devices, each one's label, name and memory ("NVML reports usage; 1
 * device: nvidia0 (NVIDIA H200, 139.8 GiB)"). Always NUL-terminated. */
void gpudevs_describe(const struct gpu_devices *d, char *buf, size_t len);

#endif
