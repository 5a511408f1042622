/* GPU arithmetic that needs no device: a run's figures from NVML's
 * per-process readings (utilization samples, memory, accounting of exited
 * processes), two backends' figures of one run together, and gpu_seconds
 * integrated over readings. Pure. */
#ifndef AGENTPERF_GPUMATH_H
#define AGENTPERF_GPUMATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A process on a device, from its running compute and graphics lists. */
struct gpumath_proc {
	uint32_t pid;
	bool have_mem; /* false: NVML could not measure it */
	uint64_t mem_bytes;
};

/* One utilization sample of a process (nvmlDeviceGetProcessUtilization). */
struct gpumath_sample {
	uint32_t pid;
	uint64_t ts_us;
	unsigned sm; /* SM utilization over the driver's sample period, percent */
};

/* One device at one reading. */
struct gpumath_dev {
	bool procs_ok; /* its process lists were read */
	const struct gpumath_proc *procs;
	size_t n_procs;
	bool util_ok; /* its samples were read (none since the last read is a read) */
	bool util_window; /* and a read came before: they cover [since_us, until_us] */
	uint64_t since_us, until_us;
	const struct gpumath_sample *samples; /* sorted by pid, then time */
	size_t n_samples;
	uint64_t period_us; /* the driver's sample period (gpumath_period); 0: unknown */
};

/* Accounting of a process that has exited (nvmlDeviceGetAccountingStats):
 * its lifetime's average utilization, and when it lived. */
struct gpumath_acct {
	int dev;
	uint32_t pid;
	unsigned util; /* percent */
	uint64_t start_us, end_us;
};

/* A run's figures from one backend, or several together. */
struct gpumath_run {
	bool have_percent;
	double percent; /* busiest device's (or engine's), 0-100 */
	bool have_vram;
	uint64_t vram_bytes;
	int procs; /* its processes seen on a device */
};

/* pid's SM utilization (percent) over a window of window_us from its
 * samples in it. NVML gives a sample only for a sample period in which the
 * process was busy, each the percent of that period: with the period known,
 * the busy time is the sum of percent × period over the window's length.
 * Without it (period_us or window_us 0), the mean of its samples. -1 when it
 * has none. */
double gpumath_proc_util(const struct gpumath_sample *s, size_t n, uint32_t pid,
			 uint64_t period_us, uint64_t window_us);
/* The driver's sample period from samples sorted by pid then time: the
 * smallest step (of 1 ms or more) between one process's consecutive samples.
 * prev when no process has two. */
uint64_t gpumath_period(const struct gpumath_sample *s, size_t n, uint64_t prev);
/* What an exited process adds to its device's utilization (percent) over
 * the window [w0_us, w1_us]: its average over the part of the window it
 * lived. 0 when it did not live in the window. */
double gpumath_acct_util(const struct gpumath_acct *a, uint64_t w0_us, uint64_t w1_us);
/* A run's figures over n_devs devices. members: the run's processes, sorted
 * (those alive and those that left since the previous reading); acct:
 * accounting of members that exited, used on a device only for a member
 * with no sample there. Per device, utilization is the sum of its members'
 * (clamped to 100) and VRAM their used memory; the run takes the busiest
 * device and the sum of VRAM. Any device not read, or read once only, makes
 * the percent unknown; any device's lists not read, or a member's memory
 * not measured, the VRAM. The members found on a device are written to
 * found (at most max_found; their count in *n_found). */
void gpumath_run(const struct gpumath_dev *devs, int n_devs, const uint32_t *members,
		 size_t n_members, const struct gpumath_acct *acct, size_t n_acct,
		 struct gpumath_run *out, uint32_t *found, size_t max_found, size_t *n_found);
/* One run's figures from two backends: the busier percent, VRAM summed; a
 * figure either does not know is unknown. */
void gpumath_combine(const struct gpumath_run *a, const struct gpumath_run *b,
		     struct gpumath_run *out);

/* gpu_seconds: the busy time of the run's busiest engine or device, summed
 * reading by reading as percent / 100 × the time since the previous one. */
struct gpumath_busy {
	bool primed; /* a reading came before */
	int64_t last_ns;
	bool have; /* some interval was known */
	double seconds;
};

/* A reading at now_ns; an unknown one (have_percent false) adds nothing. */
void gpumath_busy_add(struct gpumath_busy *b, int64_t now_ns, bool have_percent, double percent);

#endif
