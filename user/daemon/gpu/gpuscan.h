/* The DRM clients of a run's processes, found under PROC_ROOT and read each
 * tick; and whether the host has a GPU that reports usage, from SYS_ROOT. */
#ifndef AGENTPERF_GPUSCAN_H
#define AGENTPERF_GPUSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "drmmath.h"
#include "gpudevs.h"

/* A process's fd table is looked at again only this often; fdinfo every tick.
 * Then it is walked again only if its size (the open-fd count that stat()
 * of /proc/PID/fd reports since Linux 6.2) changed, or at least every
 * GPUSCAN_FULL_NS, for an fd swapped for another at the same count. New
 * processes are always walked at once. Each DRM fd's fdinfo file is held
 * open between walks and read with pread: /proc shows the fd as it is at
 * each read, and fails it (ENOENT) once the fd or its process is gone. */
#define GPUSCAN_RESCAN_NS (5 * 1000000000LL)
#define GPUSCAN_FULL_NS (30 * 1000000000LL)
#define GPUSCAN_MAX_FDS 64 /* DRM fds remembered per process */

struct gpuscan_proc {
	pid_t pid;
	bool seen;
	int64_t scanned_ns; /* last look at the fd table */
	int64_t walked_ns; /* last walk of it */
	off_t fd_dir_size;
	int fdinfo_dir; /* PROC_ROOT/PID/fdinfo, held open: -1 when none */
	int n_fds;
	struct {
		int fd;
		unsigned minor;
		int info; /* its fdinfo file, held open: -1 until the first read */
	} fds[GPUSCAN_MAX_FDS];
};

struct gpuscan {
	struct drmmath_state gpu;
	struct gpuscan_proc *procs;
	size_t n_procs, cap_procs;
};

struct gpuscan_host {
	bool available; /* a DRM render node whose driver reports usage */
	bool have_vram_total;
	uint64_t vram_total_bytes; /* sum of the cards' mem_info_vram_total */
};

/* NULL with errno on ENOMEM. */
struct gpuscan *gpuscan_new(void);
void gpuscan_free(struct gpuscan *s);
/* One tick over the run's processes (pids); the run's figures in out. */
void gpuscan_tick(struct gpuscan *s, const char *proc_root, const pid_t *pids, size_t n,
		  int64_t mono_ns, struct drmmath_result *out);
/* Reads SYS_ROOT/class/drm. NVIDIA's driver exports no fdinfo usage: its
 * nodes do not count. */
void gpuscan_host(const char *sys_root, struct gpuscan_host *out);
/* Appends the render nodes that count (renderD128, ...: driver and PCI
 * address) to out, with their figures now. */
void gpuscan_devices(const char *sys_root, struct gpu_devices *out);
/* What x's driver tells of it now, where it does (amdgpu: mem_info_vram_total,
 * mem_info_vram_used, gpu_busy_percent); the rest stays unknown. */
void gpuscan_device_read(const char *sys_root, struct gpu_device *x);

#endif
