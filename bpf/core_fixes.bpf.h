/* Kernel renames the tracker must survive, one flavour struct per change (libbpf-tools style). */
#ifndef AGENTPERF_CORE_FIXES_BPF_H
#define AGENTPERF_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* Linux 5.14 (commit 2f064a59a11f "sched: Change task_struct::state")
 * renamed task_struct::state to __state. */
struct task_struct___o {
	volatile long int state;
} __attribute__((preserve_access_index));

/* t must be a trusted BTF pointer: these are plain loads, not probe reads. */
static __always_inline __u32 get_task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___o *)t)->state;
}

/* Linux 6.2 (commit f1a7941243c1 "mm: convert mm's rss stats into
 * percpu_counter") turned mm_struct::rss_stat from atomic_long_t count[] into
 * percpu_counter[]; the field's size tells which. Both read like the kernel's
 * get_mm_counter(): the shared count, without per-CPU deltas. */
struct mm_rss_stat___o {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___o {
	struct mm_rss_stat___o rss_stat;
} __attribute__((preserve_access_index));

static __always_inline long mm_counter(struct mm_struct *mm, int member)
{
	if (bpf_core_field_size(mm->rss_stat) == sizeof(struct mm_rss_stat___o))
		return BPF_CORE_READ((struct mm_struct___o *)mm, rss_stat.count[member].counter);
	return BPF_CORE_READ(mm, rss_stat[member].count);
}

/* Values from include/linux/sched.h; macros are not in BTF. PF_USER_WORKER
 * exists since 6.4 (vhost and io_uring workers); before that only
 * PF_IO_WORKER did, with the same value. */
#define TASK_DEAD 0x00000080
#define TASK_STOPPED_OR_TRACED 0x0000000c /* __TASK_STOPPED | __TASK_TRACED */
#define PF_IO_WORKER 0x00000010
#define PF_EXITING 0x00000004
#define PF_USER_WORKER 0x00004000

#endif
