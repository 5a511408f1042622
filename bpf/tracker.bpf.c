// SPDX-License-Identifier: GPL-2.0
/* Follows each run's process tree in task storage and credits the kernel's own
 * on-CPU time (se.sum_exec_runtime) of its members to per-run counters. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "tracker_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* This load's id (tracker_ctl): set by userspace before loading. */
const volatile __u64 prog_id = 0;

/* Depth of the real_parent walk when seeding an existing tree. */
#define SEED_MAX_DEPTH 64

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tracker_task);
} task_runs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACKER_MAX_RUNS);
	__type(key, __u32);
	__type(value, struct tracker_counters);
} run_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TRACKER_MAX_RUNS);
	__type(key, __u32);
	__type(value, struct tracker_run);
} run_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TRACKER_MAX_RUNS);
	__type(key, __u32);
	__type(value, struct tracker_agent);
} run_agent SEC(".maps");

/* CPU of exited members by command name: updated once per task, at its final
 * switch, never per switch. Userspace reads and deletes a run's keys when its
 * record is written. When full, the rest stays in cpu_ns, not in "top". */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACKER_MAX_COMMS);
	__type(key, struct tracker_comm_key);
	__type(value, __u64);
} run_comms SEC(".maps");

/* raw_tp variant only: children of members between fork and their first
 * switch-out, by tid. Raw tracepoint arguments are untrusted pointers, so the
 * child's storage is made when it is current, i.e. at that switch. */
#define PENDING_MAX 65536
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PENDING_MAX);
	__type(key, __u32);
	__type(value, struct tracker_task);
} pending_tasks SEC(".maps");

/* Action events for userspace (tracker_abi.h): not pinned, each load has
 * its own; only the acting load writes. Full: the action is not started
 * (its tasks stay in the enclosing one) or a task's end is not told; both
 * are counted. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Each run's event bytes since the last sampling pass (userspace zeroes
 * them at each pass): one run's fork storm fills at most its share of the
 * buffer. */
__u64 run_event_bytes[TRACKER_MAX_RUNS];

/* Whether slot's run may add len bytes of events now; counts them. */
static __always_inline bool budget(__u32 slot, __u64 len)
{
	if (slot >= TRACKER_MAX_RUNS || run_event_bytes[slot] + len > TRACKER_RUN_EVENT_BYTES)
		return false;
	__sync_fetch_and_add(&run_event_bytes[slot], len);
	return true;
}

/* Userspace drains the events at each sampling pass, and when this much
 * waits: a wakeup per event would cost each fork a wakeup (an IPI, a VM
 * exit on a guest) and the daemon a loop turn. */
#define EVENTS_WAKE_BYTES (512 << 10)

static __always_inline __u64 wake_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= EVENTS_WAKE_BYTES
		       ? BPF_RB_FORCE_WAKEUP
		       : BPF_RB_NO_WAKEUP;
}

/* Scratch for one exec event, too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tracker_ev_exec);
} exec_scratch SEC(".maps");

/* Which load acts, and the ABI (tracker_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tracker_ctl);
} tracker_ctl SEC(".maps");

/* raw_tp: how many children are parked in pending_tasks. Its own map: a
 * restarted daemon rewrites tracker_ctl whole, and must not undo a count. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pending_count SEC(".maps");

/* Seeding request, written by userspace before each run of handle_seed. */
__u32 seed_slot;
__u32 seed_gen;
__u32 seed_tgid;
/* The seeded task is `agentperf run`'s child, marked before it execs: its
 * whole life since the fork is the command's. */
__u32 seed_from_birth;
__u64 seed_marked;
__u64 seed_failed;

static __always_inline struct tracker_ctl *ctl(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tracker_ctl, &zero);
}

static __always_inline __u64 *pending(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pending_count, &zero);
}

/* Whether this load's programs act: another load's may be attached beside
 * them while a restarted daemon takes over. Asked only for members: a
 * non-member's switch costs what it did. */
static __always_inline bool acting(void)
{
	struct tracker_ctl *c = ctl();

	return c && c->active_id == prog_id;
}

static __always_inline struct tracker_run *live_run(const struct tracker_task *t)
{
	__u32 slot = t->slot;
	struct tracker_run *r = bpf_map_lookup_elem(&run_info, &slot);

	/* A detached or finished run bumps/clears gen: its stragglers are ignored. */
	if (!r || !t->gen || r->gen != t->gen)
		return NULL;
	return r;
}

static __always_inline struct tracker_counters *counters_of(__u32 slot)
{
	return bpf_map_lookup_elem(&run_counters, &slot);
}

/* Hot paths take trusted task pointers (tp_btf arguments, current, the
 * iterator's task) and read them with plain loads: BPF_CORE_READ would make
 * each read a bpf_probe_read_kernel call, costly behind retpolines. Only the
 * raw_tp variant's untyped arguments go through BPF_CORE_READ. */

/* Most tasks carry no BPF local storage at all: one load settles that without
 * the storage helper's call, trylock and migrate_disable. */
static __always_inline struct tracker_task *member_of(struct task_struct *t)
{
	if (bpf_core_field_exists(t->bpf_storage) && !t->bpf_storage)
		return NULL;
	return bpf_task_storage_get(&task_runs, t, 0, 0);
}

/* Time runnable but waiting for a CPU (schedstat's second field); 0 where
 * the kernel keeps no sched_info. */
static __always_inline __u64 run_delay_of(struct task_struct *p)
{
	if (bpf_core_field_exists(p->sched_info.run_delay))
		return p->sched_info.run_delay;
	return 0;
}

/* A task joins a run: from now on its counters are the run's. */
static __always_inline void join(struct tracker_task *t, struct task_struct *p, __u32 slot,
				 __u32 gen)
{
	t->slot = slot;
	t->gen = gen;
	t->flags = 0;
	t->action = 0;
	t->last_ns = t->base_ns = p->se.sum_exec_runtime;
	t->base_delay_ns = run_delay_of(p);
}

static __always_inline void ev_hdr(struct tracker_ev_hdr *h, __u32 type,
				   const struct tracker_task *t)
{
	h->type = type;
	h->slot = t->slot;
	h->gen = t->gen;
	h->pad = 0;
	h->action = t->action;
}

static __always_inline __u32 depth_of(const struct tracker_task *t)
{
	return (t->flags >> TRACKER_TASK_DEPTH_SHIFT) & TRACKER_TASK_DEPTH_MAX;
}

/* Which action a new task of the run belongs to. A thread stays in its
 * process's action (and leads it if its process does). A new process starts
 * an action when its parent is the run's agent, or, while the agent is not
 * known, when its parent is the agent level or an action's leader and the
 * nesting is under nest_max; otherwise it joins its parent's action. The
 * action is told to userspace before the child runs; with no room for the
 * event, the child joins its parent's action (counted). */
static __always_inline void place(struct tracker_task *ct, const struct tracker_task *pt,
				  struct tracker_counters *c, struct tracker_run *r, __u32 parent_tgid,
				  __u32 tgid)
{
	__u32 depth = depth_of(pt), slot = ct->slot;
	struct tracker_ev_action *ev;
	struct tracker_agent *a;
	bool start, nest;

	ct->action = pt->action;
	ct->flags = (ct->flags & TRACKER_TASK_DONE) | (depth << TRACKER_TASK_DEPTH_SHIFT);
	if (tgid == parent_tgid) {
		ct->flags |= pt->flags & TRACKER_TASK_LEADS;
		return;
	}
	a = bpf_map_lookup_elem(&run_agent, &slot);
	if (!a)
		return;
	start = parent_tgid == a->agent_tgid;
	nest = !start && depth < a->nest_max && (!pt->action || (pt->flags & TRACKER_TASK_LEADS)) &&
	       r->nested < TRACKER_NEST_ACTIONS_MAX;
	if (!(start || nest) || depth >= TRACKER_TASK_DEPTH_MAX)
		return;
	ev = budget(slot, sizeof(*ev)) ? bpf_ringbuf_reserve(&events, sizeof(*ev), 0) : NULL;
	if (!ev) {
		c->actions_lost++;
		return;
	}
	if (nest)
		__sync_fetch_and_add(&r->nested, 1);
	/* Unique without atomics: this CPU's count, tagged with the CPU (the
	 * counters are per CPU and tracepoints run with preemption off). */
	ct->action = ((__u64)bpf_get_smp_processor_id() << 32) | ++c->actions_started;
	ct->flags = (ct->flags & TRACKER_TASK_DONE) | TRACKER_TASK_LEADS |
		    ((depth + 1) << TRACKER_TASK_DEPTH_SHIFT);
	ev_hdr(&ev->hdr, TRACKER_EV_ACTION, ct);
	ev->parent = pt->action;
	ev->spawner_tgid = parent_tgid;
	ev->tgid = tgid;
	ev->depth = depth + 1;
	ev->pad = 0;
	ev->fork_ns = bpf_ktime_get_boot_ns();
	bpf_ringbuf_submit(ev, wake_flags());
}

/* A task of an action leaves it (its final switch, or moving to another
 * run): its whole CPU in the run, for the action's figures. p is trusted
 * (prev, or the iterator's task). */
static __always_inline void tell_end(struct task_struct *p, const struct tracker_task *t,
				     __u64 cpu_ns, struct tracker_counters *c)
{
	struct tracker_ev_task_end *ev;

	if (!t->action)
		return;
	ev = budget(t->slot, sizeof(*ev)) ? bpf_ringbuf_reserve(&events, sizeof(*ev), 0) : NULL;
	if (!ev) {
		__sync_fetch_and_add(&c->actions_lost, 1);
		return;
	}
	ev_hdr(&ev->hdr, TRACKER_EV_TASK_END, t);
	ev->tgid = p->tgid;
	ev->pid = p->pid;
	ev->cpu_ns = cpu_ns;
	ev->end_ns = bpf_ktime_get_boot_ns();
	bpf_probe_read_kernel(ev->comm, sizeof(ev->comm), p->comm);
	bpf_ringbuf_submit(ev, wake_flags());
}

/* A member's whole CPU in the run, credited to its command name once. */
static __always_inline void credit_comm(struct task_struct *p, const struct tracker_task *t)
{
	struct tracker_comm_key key = { .slot = t->slot, .gen = t->gen };
	__u64 zero = 0, *v;

	bpf_probe_read_kernel(key.comm, sizeof(key.comm), p->comm);
	v = bpf_map_lookup_elem(&run_comms, &key);
	if (!v) {
		bpf_map_update_elem(&run_comms, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&run_comms, &key);
	}
	if (v)
		__sync_fetch_and_add(v, t->last_ns - t->base_ns);
}

/* Credit what the kernel accounted to p since the last credit. */
static __always_inline void credit(struct task_struct *p, struct tracker_task *t,
				   struct tracker_counters *c)
{
	__u64 sum = p->se.sum_exec_runtime;

	c->cpu_ns += sum - t->last_ns;
	t->last_ns = sum;
}

static __always_inline void account(struct task_struct *prev, struct tracker_task *t)
{
	struct tracker_counters *c;
	struct tracker_run *r;

	r = live_run(t);
	c = r ? counters_of(t->slot) : NULL;
	if (!c)
		return;
	credit(prev, t, c);
	/* The final switch of a dying task: most of a short-lived process's CPU
	 * only becomes visible here, after sched_process_exit. Counted once. */
	if ((get_task_state(prev) & TASK_DEAD) && !(t->flags & TRACKER_TASK_DONE)) {
		t->flags |= TRACKER_TASK_DONE;
		/* Told before it is counted: userspace that sees the count
		 * and then drains the events has this one. */
		tell_end(prev, t, t->last_ns - t->base_ns, c);
		c->tasks_exited++;
		c->run_delay_ns += run_delay_of(prev) - t->base_delay_ns;
		credit_comm(prev, t);
		r->last_exit_ns = bpf_ktime_get_boot_ns();
	}
}

static __always_inline int on_switch(struct task_struct *prev)
{
	struct tracker_task *t = member_of(prev);

	if (t && acting())
		account(prev, t);
	return 0;
}

static __always_inline int inherit(struct task_struct *parent, struct task_struct *child)
{
	struct tracker_task *pt = member_of(parent);
	struct tracker_counters *c;
	struct tracker_task *ct;
	struct tracker_run *r;

	if (!pt || !(r = live_run(pt)) || !acting())
		return 0;
	c = counters_of(pt->slot);
	if (!c)
		return 0;
	ct = bpf_task_storage_get(&task_runs, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ct) {
		c->tasks_lost++;
		return 0;
	}
	/* Joined already (another load's handler, during a handover). */
	if (ct->gen == pt->gen && ct->slot == pt->slot)
		return 0;
	join(ct, child, pt->slot, pt->gen);
	place(ct, pt, c, r, parent->tgid, child->tgid);
	c->tasks_started++;
	return 0;
}

static __always_inline int on_exit(struct task_struct *p)
{
	struct tracker_task *t = member_of(p);
	struct tracker_counters *c;
	struct tracker_run *r;
	__u64 maxrss;

	if (!t || !acting())
		return 0;
	r = live_run(t);
	/* signal->live drops before this tracepoint: 0 means the whole thread
	 * group is gone, exit_code holds the group's status and signal->maxrss
	 * the process's peak RSS in pages (what getrusage reports). */
	if (!r || p->signal->live.counter != 0)
		return 0;
	maxrss = p->signal->maxrss;
	c = counters_of(t->slot);
	if (c && maxrss > c->peak_proc_rss_pages)
		c->peak_proc_rss_pages = maxrss;
	if (p->tgid != r->root_tgid)
		return 0;
	r->exit_code = p->exit_code;
	r->root_exited = TRACKER_ROOT_EXITED;
	return 0;
}

/* Copies current's user bytes [start, end), at most max, to dst. Returns
 * how many (0 when they could not be read). */
static __always_inline __u64 read_user(char *dst, __u64 max, __u64 start, __u64 end)
{
	__u64 len = end > start ? end - start : 0;

	if (len > max)
		len = max;
	barrier_var(len);
	if (len > max || bpf_probe_read_user(dst, len, (void *)start))
		return 0;
	return len;
}

/* An action's leader execs (its first TRACKER_EXEC_TELLS times): its
 * arguments and environment go to userspace, which tells tool calls by them (Codex's
 * CODEX_TOOL_CALL_ID, Claude Code's shell command). Only the new program's
 * own stack pages are read, which exec has just written. */
static __always_inline int on_exec(struct task_struct *p, struct tracker_task *t)
{
	struct tracker_counters *c;
	struct tracker_ev_exec *ev;
	__u64 len, alen;
	struct mm_struct *mm;
	__u32 zero = 0, execs;

	if (!t || !t->action || !(t->flags & TRACKER_TASK_LEADS) || p->pid != p->tgid ||
	    !acting())
		return 0;
	execs = (t->flags >> TRACKER_TASK_EXECS_SHIFT) & TRACKER_TASK_EXECS_MASK;
	if (execs >= TRACKER_EXEC_TELLS)
		return 0;
	c = live_run(t) ? counters_of(t->slot) : NULL;
	mm = p->mm;
	ev = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!c || !mm || !ev)
		return 0;
	t->flags = (t->flags & ~(TRACKER_TASK_EXECS_MASK << TRACKER_TASK_EXECS_SHIFT)) |
		   ((execs + 1) << TRACKER_TASK_EXECS_SHIFT);
	ev_hdr(&ev->hdr, TRACKER_EV_EXEC, t);
	ev->tgid = p->tgid;
	ev->exec_ns = bpf_ktime_get_boot_ns();
	alen = read_user(ev->data, TRACKER_EXEC_ARGS_MAX, BPF_CORE_READ(mm, arg_start),
			 BPF_CORE_READ(mm, arg_end));
	barrier_var(alen);
	if (alen > TRACKER_EXEC_ARGS_MAX)
		return 0;
	len = read_user(ev->data + alen, TRACKER_EXEC_ENV_MAX, BPF_CORE_READ(mm, env_start),
			BPF_CORE_READ(mm, env_end));
	ev->args_len = alen;
	ev->env_len = len;
	len = offsetof(struct tracker_ev_exec, data) + alen + len;
	barrier_var(len);
	if (len > sizeof(*ev))
		return 0;
	if (!budget(t->slot, len) || bpf_ringbuf_output(&events, ev, len, wake_flags()))
		c->actions_lost++;
	return 0;
}

/* Variant "tp_btf" (default). */

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(prev);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	/* The tracepoint's parent, not child->real_parent: for CLONE_THREAD and
	 * CLONE_PARENT the latter is the caller's parent. */
	return inherit(parent, child);
}

SEC("tp_btf/task_newtask")
int BPF_PROG(handle_task_newtask, struct task_struct *task, __u64 clone_flags)
{
	/* io_uring and vhost workers are made by create_io_thread/vhost_task,
	 * which never reach sched_process_fork; current is their creator. */
	if (!(task->flags & (PF_IO_WORKER | PF_USER_WORKER)))
		return 0;
	return inherit(bpf_get_current_task_btf(), task);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_sched_process_exit, struct task_struct *p)
{
	return on_exit(p);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	return on_exec(p, member_of(p));
}

/* Variant "raw_tp": raw tracepoint arguments are untyped, so the subject task
 * is taken from current: prev at sched_switch, the dying task at
 * sched_process_exit, the creator at sched_process_fork and task_newtask. */

/* t has no storage: if it is a parked child, give it storage now. Called only
 * where t is a trusted pointer: current, or the seed iterator's task. */
static __always_inline struct tracker_task *adopt(struct task_struct *t, __u64 *count)
{
	__u32 tid = t->pid;
	struct tracker_task *pv = bpf_map_lookup_elem(&pending_tasks, &tid);
	struct tracker_counters *c;
	struct tracker_task v, *st;

	if (!pv)
		return NULL;
	v = *pv;
	bpf_map_delete_elem(&pending_tasks, &tid);
	__sync_fetch_and_sub(count, 1);
	st = bpf_task_storage_get(&task_runs, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (st) {
		*st = v;
		return st;
	}
	/* No memory for storage: close the task out here, as if it had exited. */
	if (live_run(&v) && (c = counters_of(v.slot))) {
		__sync_fetch_and_add(&c->cpu_ns, t->se.sum_exec_runtime);
		__sync_fetch_and_add(&c->tasks_exited, 1);
		__sync_fetch_and_add(&c->tasks_lost, 1);
	}
	return NULL;
}

static __always_inline struct tracker_task *storage_of(struct task_struct *t)
{
	struct tracker_task *st = member_of(t);
	__u64 *count;

	if (!st && (count = pending()) && *count)
		st = adopt(t, count);
	return st;
}

static __always_inline int park_child(struct task_struct *child)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct tracker_counters *c;
	struct tracker_task *pt, v;
	struct tracker_run *r;
	__u64 *count;
	__u32 tid;

	if (!acting())
		return 0;
	pt = storage_of(cur);
	if (!pt || !(r = live_run(pt)))
		return 0;
	c = counters_of(pt->slot);
	count = pending();
	if (!c || !count)
		return 0;
	/* A new task's counters start at 0: last_ns and bases 0 lose nothing. */
	v = (struct tracker_task){ .slot = pt->slot, .gen = pt->gen };
	tid = BPF_CORE_READ(child, pid);
	/* Parked already (another load's handler, during a handover): once. */
	if (bpf_map_lookup_elem(&pending_tasks, &tid))
		return 0;
	place(&v, pt, c, r, cur->tgid, BPF_CORE_READ(child, tgid));
	if (bpf_map_update_elem(&pending_tasks, &tid, &v, BPF_NOEXIST)) {
		c->tasks_lost++;
		return 0;
	}
	__sync_fetch_and_add(count, 1);
	c->tasks_started++;
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(handle_sched_switch_raw)
{
	struct task_struct *prev = bpf_get_current_task_btf();
	struct tracker_task *t;

	/* The raw_tp variant pays the control lookup on every switch: it must
	 * look for parked children anyway. */
	if (!acting())
		return 0;
	t = storage_of(prev);
	if (t)
		account(prev, t);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(handle_sched_process_fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return park_child(child);
}

SEC("raw_tp/task_newtask")
int BPF_PROG(handle_task_newtask_raw, struct task_struct *task, __u64 clone_flags)
{
	if (!(BPF_CORE_READ(task, flags) & (PF_IO_WORKER | PF_USER_WORKER)))
		return 0;
	return park_child(task);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(handle_sched_process_exit_raw)
{
	return on_exit(bpf_get_current_task_btf());
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(handle_sched_process_exec_raw)
{
	struct task_struct *p = bpf_get_current_task_btf();

	/* A parked child may exec before its first switch-out. */
	return on_exec(p, storage_of(p));
}

/* Seeding: mark a task, and with seed_tgid's descendants, an existing tree. */

static __always_inline bool in_tree(struct task_struct *task, __u32 tgid)
{
	struct task_struct *p = task;

	for (int i = 0; i < SEED_MAX_DEPTH && p; i++) {
		__u32 pid = BPF_CORE_READ(p, pid);

		if (BPF_CORE_READ(p, tgid) == tgid)
			return true;
		if (pid <= 1)
			return false;
		p = BPF_CORE_READ(p, real_parent);
	}
	return false;
}

SEC("iter/task")
int handle_seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct tracker_counters *c, *oc;
	struct tracker_task *t;
	struct tracker_run *old;
	__u64 sum;

	if (!task || !seed_gen)
		return 0;
	/* An exiting task may already have made its final switch: marking it
	 * would leave the run waiting forever for its exit. */
	if (task->flags & PF_EXITING)
		return 0;
	if (!in_tree(task, seed_tgid))
		return 0;
	c = counters_of(seed_slot);
	if (!c)
		return 0;
	/* A child parked by the raw_tp variant is already counted in its run. */
	t = storage_of(task);
	if (!t)
		t = bpf_task_storage_get(&task_runs, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		__sync_fetch_and_add(&seed_failed, 1);
		return 0;
	}
	if (t->slot == seed_slot && t->gen == seed_gen)
		return 0; /* second pass: already ours */
	sum = task->se.sum_exec_runtime;
	/* Iterators run preemptibly: a sched_switch on this CPU may update the
	 * same per-CPU counters, so the adds here are atomic. */
	old = live_run(t);
	if (old) {
		/* Moving between runs: close the task out in its old run. */
		oc = counters_of(t->slot);
		if (oc) {
			__sync_fetch_and_add(&oc->cpu_ns, sum - t->last_ns);
			__sync_fetch_and_add(&oc->tasks_exited, 1);
		}
		if (oc)
			tell_end(task, t, sum - t->base_ns, oc);
		/* Its root leaving, the old run will see no root exit: it ends
		 * when its last task is gone, with no exit status. */
		if (task->tgid == old->root_tgid && !old->root_exited)
			old->root_exited = TRACKER_ROOT_LEFT;
	}
	join(t, task, seed_slot, seed_gen);
	/* From the fork, unless another run had it until now (a run started
	 * inside a tracked run): that part is the other run's. */
	if (seed_from_birth && !old && task->tgid == seed_tgid)
		t->last_ns = t->base_ns = t->base_delay_ns = 0;
	__sync_fetch_and_add(&c->tasks_started, 1);
	__sync_fetch_and_add(&seed_marked, 1);
	return 0;
}

/* Sampling: one pass over all tasks per tick gathers, per live run, the CPU
 * its running members have used since their last switch (so that 1 s samples
 * stay smooth), its live members' run delay, the RSS of its processes,
 * whether its root is stopped, and (written to the iterator's output) one
 * record per live member: ids, command and CPU in the run.
 * Userspace zeroes these before each pass and reads them after. */
__u64 sample_inflight_ns[TRACKER_MAX_RUNS];
__u64 sample_delay_ns[TRACKER_MAX_RUNS];
__u64 sample_rss_pages[TRACKER_MAX_RUNS];
__u8 sample_root_stopped[TRACKER_MAX_RUNS];

SEC("iter/task")
int handle_sample(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct tracker_proc rec = {};
	struct tracker_task *t;
	struct tracker_run *r;
	struct mm_struct *mm;
	__u64 sum;
	__u32 slot;

	if (!task)
		return 0;
	t = member_of(task);
	if (!t || !(r = live_run(t)))
		return 0;
	slot = t->slot;
	/* A zombie whose final switch is counted: its CPU and run delay are in
	 * the run's counters (and its action's end), not live. */
	if (slot >= TRACKER_MAX_RUNS || (t->flags & TRACKER_TASK_DONE))
		return 0;
	sum = task->se.sum_exec_runtime;
	__sync_fetch_and_add(&sample_inflight_ns[slot], sum - t->last_ns);
	__sync_fetch_and_add(&sample_delay_ns[slot], run_delay_of(task) - t->base_delay_ns);
	rec.slot = slot;
	rec.tgid = task->tgid;
	rec.pid = task->pid;
	rec.action = t->action;
	rec.cpu_ns = sum - t->base_ns;
	bpf_probe_read_kernel(rec.comm, sizeof(rec.comm), task->comm);
	/* RSS is per process: count each thread group once, through its leader. */
	mm = task->mm;
	if (task->pid == task->tgid && mm) {
		rec.flags = TRACKER_PROC_LEADER;
		__sync_fetch_and_add(&sample_rss_pages[slot],
				     mm_counter(mm, MM_FILEPAGES) + mm_counter(mm, MM_ANONPAGES) +
					     mm_counter(mm, MM_SHMEMPAGES));
	}
	/* Live members, for the live "top" and per-process reads (GPU). */
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	if (task->pid != task->tgid)
		return 0;
	if (task->tgid == r->root_tgid)
		sample_root_stopped[slot] = (get_task_state(task) & TASK_STOPPED_OR_TRACED) != 0;
	return 0;
}
