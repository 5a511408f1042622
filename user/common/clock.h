/* Clocks: wall-clock for records, CLOCK_MONOTONIC for intervals. */
#ifndef AGENTPERF_CLOCK_H
#define AGENTPERF_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Wall-clock now in nanoseconds since the epoch. */
int64_t clock_real_ns(void);
/* CLOCK_MONOTONIC now in nanoseconds: intervals and deadlines. */
int64_t clock_mono_ns(void);
/* A CLOCK_BOOTTIME instant (BPF's bpf_ktime_get_boot_ns) as wall-clock ns. */
int64_t clock_boot_to_real_ns(uint64_t boot_ns);

/* CLOCK_REALTIME wait_ns from now, as pthread_timedjoin_np and
 * pthread_cond_timedwait (by default) want their deadlines. */
struct timespec clock_real_after(int64_t wait_ns);

#endif
