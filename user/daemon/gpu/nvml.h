/* NVIDIA GPUs through NVML (libnvidia-ml.so.1, loaded at run time): each
 * device's memory, running processes and SM utilization samples, read once
 * per walk, and a run's figures from its own processes. The arithmetic is
 * nvmlmath's. */
#ifndef AGENTPERF_NVML_H
#define AGENTPERF_NVML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpudevs.h"
#include "nvmlmath.h"

/* The default library: what the NVIDIA driver installs. */
#define NVML_LIB_DEFAULT "libnvidia-ml.so.1"
/* A run's processes remembered from one reading to the next. */
#define NVML_RUN_PIDS 64

/* What one run's reading leaves for the next, kept by the caller per run:
 * its processes seen on a device. One that has gone by the next reading
 * still has its last samples counted (and, with accounting mode on, its
 * accounting). Zeroed for a new run. */
struct nvml_run {
	size_t n;
	uint32_t pids[NVML_RUN_PIDS];
};

struct nvml;

/* Loads lib (a name the dynamic linker looks up, or a path) and opens every
 * device. NULL when there is no library, an entry point is missing, its
 * init fails or it has no device: the reason is logged in one info line,
 * and NVIDIA GPUs are not read. */
struct nvml *nvml_open(const char *lib);
/* Shuts NVML down and unloads it. nvml_free(NULL) is a no-op. */
void nvml_free(struct nvml *n);
/* Appends the devices (nvidia0, ...: names, memory) to d. */
void nvml_list(const struct nvml *n, struct gpu_devices *d);
/* The devices' memory, summed, as read at open; false when one's is unknown. */
bool nvml_vram_total(const struct nvml *n, uint64_t *bytes);
/* Reads every device (real_us: the wall clock now, microseconds): memory,
 * utilization, running processes, and the utilization samples since the
 * previous read. A call that fails leaves its figure unknown, never zero. */
void nvml_read(struct nvml *n, uint64_t real_us);
/* The figures of device d->index (as nvml_list numbered it) at the latest
 * read, into d. */
void nvml_device(const struct nvml *n, struct gpu_device *d);
/* A run's figures at the latest read: pids are its live processes (host
 * pids), st what its previous reading left (updated). */
void nvml_run(struct nvml *n, const pid_t *pids, size_t n_pids, struct nvml_run *st,
	      struct gpufig *out);

#endif
