/* GPU arithmetic that needs no device: a run's figures from NVML's
 * per-process readings (utilization samples, memory, accounting of exited
 * processes). Pure. */
#ifndef AGENTPERF_NVMLMATH_H
#define AGENTPERF_NVMLMATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpufig.h"

/* A process on a device, from its running compute and graphics lists. */
struct nvmlmath_proc {
	uint32_t pid;
	bool have_mem; /* false: NVML could not measure it */
	uint64_t mem_bytes;
};

/* One utilization sample of a process (nvmlDeviceGetProcessUtilization). */
struct nvmlmath_sample {
	uint32_t pid;
	uint64_t ts_us;
	unsigned sm; /* SM utilization over the driver's sample period, percent */
};

/* One device at one reading. */
struct nvmlmath_dev {
	bool procs_ok; /* its process lists were read */
	const struct nvmlmath_proc *procs;
	size_t n_procs;
	bool util_ok; /* its samples were read (none since the last read is a read) */
	bool util_window; /* and a read came before: they cover [since_us, until_us] */
	uint64_t since_us, until_us;
	uint64_t seen_us; /* the lastSeenTimeStamp the read passed: the previous newest sample */
	const struct nvmlmath_sample *samples; /* kept (nvmlmath_keep), sorted by pid, then time */
	size_t n_samples;
	uint64_t period_us; /* the driver's sample period (nvmlmath_period); 0: unknown */
};

/* Accounting of a process that has exited (nvmlDeviceGetAccountingStats):
 * its lifetime's average utilization, and when it lived. */
struct nvmlmath_acct {
	int dev;
	uint32_t pid;
	unsigned util; /* percent */
	uint64_t start_us, end_us;
};

/* Keeps, in place and in order, the samples NVIDIA's rules count: newer
 * than seen_us (the lastSeenTimeStamp passed) and at most 100 % (a larger
 * value is the driver's garbage, as nvtop finds: dropped, not clamped).
 * Returns how many. */
size_t nvmlmath_keep(struct nvmlmath_sample *s, size_t n, uint64_t seen_us);
/* pid's busy time (microseconds) in one read's samples (sorted by pid then
 * time). Each sample is the process's utilization since the one before it,
 * the first since seen_us: nvml.h's "utilization since the previous query",
 * whether the driver gives one sample per process (its latest, the mean
 * since lastSeenTimeStamp) or every sample period's. Where the period is
 * known (period_us > 0: several samples of one process in one read), no
 * sample covers more than one period: a process idle between two busy
 * periods has no samples there. Nothing before seen_us, nothing after its
 * last sample. -1 when it has no sample. */
double nvmlmath_proc_busy_us(const struct nvmlmath_sample *s, size_t n, uint32_t pid,
			     uint64_t seen_us, uint64_t period_us);
/* The driver's sample period from samples sorted by pid then time: the
 * smallest step (of 1 ms or more) between one process's consecutive samples.
 * prev when no process has two. */
uint64_t nvmlmath_period(const struct nvmlmath_sample *s, size_t n, uint64_t prev);
/* What an exited process adds to its device's utilization (percent) over
 * the window [w0_us, w1_us]: its average over the part of the window it
 * lived. 0 when it did not live in the window. */
double nvmlmath_acct_util(const struct nvmlmath_acct *a, uint64_t w0_us, uint64_t w1_us);
/* A run's figures over n_devs devices. members: the run's processes, sorted
 * (those alive and those that left since the previous reading); acct:
 * accounting of members that exited, used on a device only for a member
 * with no sample there. Per device, utilization is its members' busy time
 * over the time between the two reads (clamped to 100: a sum over the run's
 * gpu_seconds is then their busy time), and VRAM their used memory; the run takes the busiest
 * device and the sum of VRAM. Any device not read, or read once only, makes
 * the percent unknown; any device's lists not read, or a member's memory
 * not measured, the VRAM. The members found on a device are written to
 * found (at most max_found; their count in *n_found). */
void nvmlmath_run(const struct nvmlmath_dev *devs, int n_devs, const uint32_t *members,
		 size_t n_members, const struct nvmlmath_acct *acct, size_t n_acct,
		 struct gpufig *out, uint32_t *found, size_t max_found, size_t *n_found);
#endif
