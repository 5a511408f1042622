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
#define TRACKER_ABI_VERSION 2

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
	__u64 action; /* the run's action the task belongs to; 0: the agent's own level */
};
/* The task's final switch has been counted: a second handler (another load's,
 * while a restarted daemon hands over) counts nothing again. */
#define TRACKER_TASK_DONE 1
/* The task's process is the first of its action (its leader). */
#define TRACKER_TASK_LEADS 2
/* Bits 2-3 of flags: how many of the leader's execs have been told; the
 * first TRACKER_EXEC_TELLS are (Codex's tool process first execs its own
 * setup with an empty environment, then the shell). */
#define TRACKER_TASK_EXECS_SHIFT 2
#define TRACKER_TASK_EXECS_MASK 3
#define TRACKER_EXEC_TELLS 3
/* Bits 8-15 of flags: how deep the task's action is nested (0: none). */
#define TRACKER_TASK_DEPTH_SHIFT 8
#define TRACKER_TASK_DEPTH_MAX 255

/* Per-CPU, per-run counters; userspace sums the CPUs. All monotonic. */
struct tracker_counters {
	__u64 cpu_ns;
	__u64 tasks_started;
	__u64 tasks_exited;
	__u64 tasks_lost; /* children that could not be given storage (ENOMEM) */
	__u64 run_delay_ns; /* exited members' time runnable but waiting for a CPU */
	__u64 peak_proc_rss_pages; /* largest peak RSS (maxrss) of an exited process;
				    * per CPU, so a plain max needs no atomics */
	__u64 actions_started; /* this CPU's action ids: (cpu << 32) | count */
	__u64 actions_lost; /* action events not told (event buffer full) */
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
	__u32 nested; /* actions started by nesting (the agent not yet known) */
	__u32 pad;
};

/* Per-run, written by userspace only: how the run's actions start (CPU per
 * agent action). A process forked by agent_tgid starts an action; so does
 * one forked by the agent level or by an action's leader while the
 * leader's depth is under nest_max and the run has nested fewer than
 * TRACKER_NEST_ACTIONS_MAX actions (the agent not yet known: userspace
 * folds nested actions into their outermost tool call). */
struct tracker_agent {
	__u32 agent_tgid; /* at the start the run's root; then the agent found */
	__u32 nest_max; /* TRACKER_NEST_MAX until the agent is found, then 0 */
};
#define TRACKER_NEST_MAX 3
#define TRACKER_NEST_ACTIONS_MAX 256

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
	__u64 action;
	__u64 cpu_ns; /* the task's CPU since it joined the run */
	char comm[TRACKER_COMM_LEN];
};

/* Events from the kernel (the events ring buffer), one header each. */
enum tracker_event_type {
	TRACKER_EV_ACTION = 1, /* an action started: struct tracker_ev_action */
	TRACKER_EV_EXEC = 2, /* its leader's exec (the first few): struct tracker_ev_exec */
	TRACKER_EV_TASK_END = 3, /* a task of an action ended: struct tracker_ev_task_end */
};
struct tracker_ev_hdr {
	__u32 type;
	__u32 slot;
	__u32 gen;
	__u32 pad;
	__u64 action;
};
struct tracker_ev_action {
	struct tracker_ev_hdr hdr;
	__u64 parent; /* the action that forked it (0: the agent level) */
	__u32 spawner_tgid; /* the process that forked it */
	__u32 tgid; /* its first process */
	__u32 depth;
	__u32 pad;
	__u64 fork_ns; /* CLOCK_BOOTTIME of the fork */
};
/* A task's whole CPU in the run, at its final switch (or at leaving it). */
struct tracker_ev_task_end {
	struct tracker_ev_hdr hdr;
	__u32 tgid;
	__u32 pid;
	__u64 cpu_ns;
	__u64 end_ns; /* CLOCK_BOOTTIME */
	char comm[TRACKER_COMM_LEN];
};
/* One of the leader's first execs: its argument and environment bytes as
 * the new program sees them (NUL-separated), cut at these sizes. */
#define TRACKER_EXEC_ARGS_MAX 4096
#define TRACKER_EXEC_ENV_MAX 16384
/* Bytes of events one run may put in the shared buffer between two
 * sampling passes (userspace starts each pass's count afresh): past it its
 * events are lost (counted), never another run's. */
#define TRACKER_RUN_EVENT_BYTES (1 << 20)
struct tracker_ev_exec {
	struct tracker_ev_hdr hdr;
	__u32 tgid;
	__u32 args_len; /* data[0, args_len) */
	__u32 env_len; /* data[args_len, args_len + env_len) */
	__u32 pad;
	__u64 exec_ns; /* CLOCK_BOOTTIME */
	char data[TRACKER_EXEC_ARGS_MAX + TRACKER_EXEC_ENV_MAX];
};

_Static_assert(sizeof(struct tracker_task) == 48, "tracker_task layout");
_Static_assert(sizeof(struct tracker_proc) == 48, "tracker_proc layout");
_Static_assert(sizeof(struct tracker_ev_action) == 56, "tracker_ev_action layout");
_Static_assert(sizeof(struct tracker_ev_task_end) == 64, "tracker_ev_task_end layout");
_Static_assert(sizeof(struct tracker_counters) == 64, "tracker_counters layout");
_Static_assert(sizeof(struct tracker_run) == 32, "tracker_run layout");
_Static_assert(sizeof(struct tracker_agent) == 8, "tracker_agent layout");
_Static_assert(sizeof(struct tracker_comm_key) == 24, "tracker_comm_key layout");
_Static_assert(sizeof(struct tracker_ctl) == 16, "tracker_ctl layout");

#endif
