/* Types shared by the BPF tracker (bpf/tracker.bpf.c) and userspace (user/tracker.c). */
#ifndef AGENTPERF_TRACKER_ABI_H
#define AGENTPERF_TRACKER_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Run slots live in fixed-size arrays; a slot is reused only after its final read. */
#define TRACKER_MAX_RUNS 256

/* Task-storage value: which run a task belongs to and how much of its
 * sum_exec_runtime has already been credited. gen 0 is never a live run, so a
 * freshly created (zeroed) storage is not a member by accident. */
struct tracker_task {
	__u32 slot;
	__u32 gen;
	__u64 last_ns;
};

/* Per-CPU, per-run counters; userspace sums the CPUs. All monotonic. */
struct tracker_counters {
	__u64 cpu_ns;
	__u64 tasks_started;
	__u64 tasks_exited;
	__u64 tasks_lost; /* children that could not be given storage (ENOMEM) */
};

/* Per-run state shared both ways: userspace writes gen and root_tgid before
 * marking the first task; BPF writes the root's exit and the last task death. */
struct tracker_run {
	__u32 gen;
	__u32 root_tgid;
	__s32 exit_code; /* wait(2) status of the root's thread group */
	__u32 root_exited;
	__u64 last_exit_ns; /* CLOCK_BOOTTIME of the latest member's final switch */
};

/* What the sampling iterator writes for each live run's process. */
struct tracker_proc {
	__u32 slot;
	__u32 tgid;
};

_Static_assert(sizeof(struct tracker_task) == 16, "tracker_task layout");
_Static_assert(sizeof(struct tracker_proc) == 8, "tracker_proc layout");
_Static_assert(sizeof(struct tracker_counters) == 32, "tracker_counters layout");
_Static_assert(sizeof(struct tracker_run) == 24, "tracker_run layout");

#endif
