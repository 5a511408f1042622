/* Types shared by the BPF tracker (bpf/tracker.bpf.c) and userspace (user/tracker.c). */
#ifndef AGENTPERF_TRACKER_ABI_H
#define AGENTPERF_TRACKER_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Run slots live in fixed-size arrays; a slot is reused only after its final read. */
#define TRACKER_MAX_RUNS 256

/* The layout of the maps below, which outlive the daemon pinned in bpffs: a
 * daemon reuses pinned maps only of its own ABI. Bump it with any change to
 * a pinned map's type, key, value or size. */
#define TRACKER_ABI_VERSION 1

/* The one entry of the pinned control map. Each load of the programs gets a
 * random id; only the programs whose id is active_id act, so that a
 * restarted daemon attaches its programs beside the old ones and hands over
 * in one map write: no event is handled twice or by neither. */
struct tracker_ctl {
	__u64 active_id;
	__u32 abi; /* TRACKER_ABI_VERSION of whoever created the maps */
	__u32 raw; /* the active load is the raw_tp variant (it parks children) */
};

/* Task-storage value: which run a task belongs to and how much of its
 * sum_exec_runtime has already been credited. gen 0 is never a live run, so a
 * freshly created (zeroed) storage is not a member by accident. The base_
 * fields are the task's counters when it joined the run: what it used before
 * (an attached tree's history) is not the run's. */
struct tracker_task {
	__u32 slot;
	__u32 gen;
	__u64 last_ns;
	__u64 base_ns; /* sum_exec_runtime at joining */
	__u64 base_delay_ns; /* sched_info.run_delay at joining */
	__u32 flags;
	__u32 pad;
};
/* The task's final switch has been counted: a second handler (another load's,
 * while a restarted daemon hands over) counts nothing again. */
#define TRACKER_TASK_DONE 1

/* Per-CPU, per-run counters; userspace sums the CPUs. All monotonic. */
struct tracker_counters {
	__u64 cpu_ns;
	__u64 tasks_started;
	__u64 tasks_exited;
	__u64 tasks_lost; /* children that could not be given storage (ENOMEM) */
	__u64 run_delay_ns; /* exited members' time runnable but waiting for a CPU */
	__u64 peak_proc_rss_pages; /* largest peak RSS (maxrss) of an exited process;
				    * per CPU, so a plain max needs no atomics */
};

/* Per-run state shared both ways: userspace writes gen and root_tgid before
 * marking the first task; BPF writes the root's exit and the last task death. */
struct tracker_run {
	__u32 gen;
	__u32 root_tgid;
	__s32 exit_code; /* wait(2) status of the root's thread group */
	__u32 root_exited; /* 0, or one of: */
#define TRACKER_ROOT_EXITED 1 /* exit_code holds its status */
#define TRACKER_ROOT_LEFT 2 /* attached to another run: this one has no status */
	__u64 last_exit_ns; /* CLOCK_BOOTTIME of the latest member's final switch */
};

/* Key of the per-command CPU of exited members (the run's "top"). */
#define TRACKER_COMM_LEN 16
#define TRACKER_MAX_COMMS 16384
struct tracker_comm_key {
	__u32 slot;
	__u32 gen;
	char comm[TRACKER_COMM_LEN];
};

/* What the sampling iterator writes for each live member task. */
#define TRACKER_PROC_LEADER 1 /* a thread-group leader with an mm: a process */
struct tracker_proc {
	__u32 slot;
	__u32 tgid;
	__u32 pid;
	__u32 flags;
	__u64 cpu_ns; /* the task's CPU since it joined the run */
	char comm[TRACKER_COMM_LEN];
};

_Static_assert(sizeof(struct tracker_task) == 40, "tracker_task layout");
_Static_assert(sizeof(struct tracker_proc) == 40, "tracker_proc layout");
_Static_assert(sizeof(struct tracker_counters) == 48, "tracker_counters layout");
_Static_assert(sizeof(struct tracker_run) == 24, "tracker_run layout");
_Static_assert(sizeof(struct tracker_comm_key) == 24, "tracker_comm_key layout");
_Static_assert(sizeof(struct tracker_ctl) == 16, "tracker_ctl layout");

#endif
