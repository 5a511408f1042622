/* The BPF tracker seen from userspace: load/attach, per-run slots, seeding, reads. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "pins.h"
#include "timefmt.h"
#include "tracker_int.h"


/* The programs whose links are pinned, in both variants. */
#define TRACKER_N_LINKS 10
static const char *const link_names[TRACKER_N_LINKS] = {
	"handle_sched_switch",	       "handle_sched_process_fork",
	"handle_task_newtask",	       "handle_sched_process_exit",
	"handle_sched_process_exec",   "handle_sched_switch_raw",
	"handle_sched_process_fork_raw", "handle_task_newtask_raw",
	"handle_sched_process_exit_raw", "handle_sched_process_exec_raw",
};

static void skel_links(struct tracker_bpf *skel, struct bpf_link *out[TRACKER_N_LINKS])
{
	out[0] = skel->links.handle_sched_switch;
	out[1] = skel->links.handle_sched_process_fork;
	out[2] = skel->links.handle_task_newtask;
	out[3] = skel->links.handle_sched_process_exit;
	out[4] = skel->links.handle_sched_process_exec;
	out[5] = skel->links.handle_sched_switch_raw;
	out[6] = skel->links.handle_sched_process_fork_raw;
	out[7] = skel->links.handle_task_newtask_raw;
	out[8] = skel->links.handle_sched_process_exit_raw;
	out[9] = skel->links.handle_sched_process_exec_raw;
}

/* Programs of each variant; handle_seed belongs to both. */
static void select_variant(struct tracker_bpf *skel, bool raw)
{
	bpf_program__set_autoload(skel->progs.handle_sched_switch, !raw);
	bpf_program__set_autoload(skel->progs.handle_sched_process_fork, !raw);
	bpf_program__set_autoload(skel->progs.handle_task_newtask, !raw);
	bpf_program__set_autoload(skel->progs.handle_sched_process_exit, !raw);
	bpf_program__set_autoload(skel->progs.handle_sched_process_exec, !raw);
	bpf_program__set_autoload(skel->progs.handle_sched_switch_raw, raw);
	bpf_program__set_autoload(skel->progs.handle_sched_process_fork_raw, raw);
	bpf_program__set_autoload(skel->progs.handle_task_newtask_raw, raw);
	bpf_program__set_autoload(skel->progs.handle_sched_process_exit_raw, raw);
	bpf_program__set_autoload(skel->progs.handle_sched_process_exec_raw, raw);
}

/* A random id for this load of the programs (never 0: "nobody acts"). */
static uint64_t new_prog_id(void)
{
	uint64_t id = 0;

	while (!id && getrandom(&id, sizeof(id), 0) != sizeof(id))
		;
	return id;
}

/* The new programs act from now on, and the old ones' links go: the new
 * links are pinned beside the old first, then one map write hands every
 * event over, then the old pins go and their programs detach. A failure
 * before the write leaves the old programs acting. */
static int take_over(struct tracker *t, uint32_t abi, bool raw)
{
	struct tracker_ctl c = { .active_id = t->skel->rodata->prog_id, .abi = abi, .raw = raw };
	struct bpf_link *links[TRACKER_N_LINKS];
	uint32_t zero = 0;
	int err;

	skel_links(t->skel, links);
	err = pins_links(t->pin_dir, links, link_names, TRACKER_N_LINKS);
	if (err)
		return err;
	if (bpf_map__update_elem(t->skel->maps.tracker_ctl, &zero, sizeof(zero), &c, sizeof(c),
				 BPF_ANY))
		return -errno;
	return pins_commit_links(t->pin_dir);
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct tracker *t = ctx;

	if (t->event_fn)
		t->event_fn(t->event_ctx, data, len);
	return 0;
}

static int load_variant(struct tracker *t, bool raw, uint32_t abi)
{
	int err;

	t->skel = tracker_bpf__open();
	if (!t->skel)
		return -errno;
	select_variant(t->skel, raw);
	t->skel->rodata->prog_id = new_prog_id();
	err = pins_set_map_paths(t->skel->obj, t->pin_dir);
	if (!err)
		err = tracker_bpf__load(t->skel);
	if (!err) {
		/* Iterators run on demand through their own links, not attached. */
		bpf_program__set_autoattach(t->skel->progs.handle_seed, false);
		bpf_program__set_autoattach(t->skel->progs.handle_sample, false);
		err = tracker_bpf__attach(t->skel);
	}
	if (!err)
		err = take_over(t, abi, raw);
	if (!err) {
		t->events = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_event, t, NULL);
		if (!t->events)
			err = -errno;
	}
	if (!err) {
		t->seed_link = bpf_program__attach_iter(t->skel->progs.handle_seed, NULL);
		t->sample_link = bpf_program__attach_iter(t->skel->progs.handle_sample, NULL);
		if (!t->seed_link || !t->sample_link)
			err = -errno;
	}
	if (err) {
		ring_buffer__free(t->events);
		t->events = NULL;
		bpf_link__destroy(t->seed_link);
		bpf_link__destroy(t->sample_link);
		t->seed_link = t->sample_link = NULL;
		tracker_bpf__destroy(t->skel);
		t->skel = NULL;
		return err;
	}
	t->variant = raw ? "raw_tp" : "tp_btf";
	return 0;
}

/* State of another ABI was found: its runs are read, then it goes. */
static int replace_foreign(struct tracker *t, uint32_t found_abi)
{
	unsigned n = 0;

	t->replaced = calloc(TRACKER_MAX_RUNS, sizeof(*t->replaced));
	if (!t->replaced)
		return -ENOMEM;
	for (uint32_t slot = 0; slot < TRACKER_MAX_RUNS; slot++) {
		struct replaced_run *rr = &t->replaced[slot];

		rr->valid = !pins_read_run(t->pin_dir, slot, t->ncpus, &rr->info, &rr->sum) &&
			    rr->info.gen;
		n += rr->valid;
	}
	log_warn("pinned BPF state in %s is of ABI %u, not %u: %u run(s) read from it, then "
		 "replaced by fresh state",
		 t->pin_dir, found_abi, TRACKER_ABI_VERSION, n);
	return pins_remove_all(t->pin_dir) ?: pins_prepare(t->pin_dir);
}

/* Whether this kernel loads tp_btf programs on the sched_switch tracepoint:
 * a two-instruction program, as libbpf-tools' probe_tp_btf does. Probing
 * first means a verifier error in the real tp_btf programs is reported, not
 * hidden behind the raw_tp fallback. */
static bool probe_tp_btf(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP);
	int id = libbpf_find_vmlinux_btf_id("sched_switch", BPF_TRACE_RAW_TP), fd;

	if (id <= 0)
		return false;
	opts.attach_btf_id = (__u32)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

struct tracker *tracker_open(const struct tracker_opts *o)
{
	struct tracker *t = calloc(1, sizeof(*t));
	const char *variant = o->variant;
	struct tracker_ctl ctl;
	int err;

	if (!t)
		return NULL;
	t->pin_dir = o->pin_dir;
	t->page_size = sysconf(_SC_PAGESIZE);
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = t->ncpus ? t->ncpus : -EINVAL;
		goto fail;
	}
	t->percpu = calloc((size_t)t->ncpus, sizeof(*t->percpu));
	if (!t->percpu) {
		err = -ENOMEM;
		goto fail;
	}
	if (variant && strcmp(variant, "tp_btf") && strcmp(variant, "raw_tp")) {
		log_err("unknown BPF variant \"%s\" (tp_btf or raw_tp)", variant);
		err = -EINVAL;
		goto fail;
	}
	err = pins_prepare(t->pin_dir);
	if (err) {
		log_err("cannot prepare %s for the pinned BPF state: %s", t->pin_dir,
			strerror(-err));
		goto fail;
	}
	err = pins_read_ctl(t->pin_dir, &ctl);
	if (!err && ctl.abi == o->abi) {
		t->start = TRACKER_TAKEN_OVER;
		/* Children the raw_tp programs parked are found only by raw_tp
		 * programs: keep the variant unless one is forced. */
		if (ctl.raw && !variant) {
			log_info("the pinned state is the raw_tp variant's: keeping raw_tp");
			variant = "raw_tp";
		}
	} else if (!err || err == -EPROTO) {
		/* Another ABI (a control entry of another size is one too). */
		t->start = TRACKER_REPLACED;
		err = replace_foreign(t, err ? 0 : ctl.abi);
	} else if (err == -ENOENT) {
		/* Nothing pinned, or a partial set: start clean. */
		err = pins_remove_all(t->pin_dir) ?: pins_prepare(t->pin_dir);
	}
	if (err) {
		log_err("cannot read the pinned BPF state in %s: %s", t->pin_dir, strerror(-err));
		goto fail;
	}
	if (!variant && !probe_tp_btf()) {
		log_info("this kernel does not load tp_btf programs: using raw_tp");
		variant = "raw_tp";
	}
	err = load_variant(t, variant && !strcmp(variant, "raw_tp"), o->abi);
	if (err == -EPERM || err == -EACCES) {
		log_err("not allowed to load BPF programs: needs CAP_BPF, CAP_PERFMON and "
			"CAP_SYS_PTRACE (run as root)");
		goto fail;
	}
	if (err) {
		log_err("cannot load the %s BPF programs: %s (run with -v for libbpf's reasons)",
			variant ? variant : "tp_btf", strerror(-err));
		goto fail;
	}
	log_info("BPF programs attached (%s)%s", t->variant,
		 t->start == TRACKER_TAKEN_OVER ? ", pinned state taken over" : "");
	return t;
fail:
	tracker_free(t);
	errno = -err;
	return NULL;
}

void tracker_free(struct tracker *t)
{
	if (!t)
		return;
	ring_buffer__free(t->events);
	bpf_link__destroy(t->seed_link);
	bpf_link__destroy(t->sample_link);
	tracker_bpf__destroy(t->skel);
	free(t->percpu);
	free(t->procs);
	free(t->comm_keys);
	free(t->comm_vals);
	free(t->acc);
	free(t->replaced);
	free(t);
}

enum tracker_start tracker_start_state(const struct tracker *t)
{
	return t->start;
}

int tracker_replaced_read(const struct tracker *t, uint32_t slot, uint32_t gen,
			  struct run_sample *out)
{
	const struct replaced_run *rr = t->replaced ? &t->replaced[slot % TRACKER_MAX_RUNS] : NULL;

	if (!rr || !rr->valid || rr->info.gen != gen)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->cpu_ns = rr->sum.cpu_ns;
	out->tasks_started = rr->sum.tasks_started;
	out->tasks_exited = rr->sum.tasks_exited;
	out->tasks_lost = rr->sum.tasks_lost;
	out->run_delay_ns = rr->sum.run_delay_ns;
	out->peak_proc_rss_bytes = rr->sum.peak_proc_rss_pages * (uint64_t)t->page_size;
	out->root_exited = rr->info.root_exited != 0;
	out->root_left = rr->info.root_exited == TRACKER_ROOT_LEFT;
	out->exit_status = rr->info.exit_code;
	return 0;
}

int tracker_slot_gen(struct tracker *t, uint32_t slot, uint32_t *gen)
{
	struct tracker_run info;

	if (bpf_map__lookup_elem(t->skel->maps.run_info, &slot, sizeof(slot), &info, sizeof(info),
				 0))
		return -errno;
	*gen = info.gen;
	return 0;
}

int tracker_unpin(struct tracker *t)
{
	return pins_remove_all(t->pin_dir);
}

const char *tracker_variant(const struct tracker *t)
{
	return t->variant;
}

int tracker_begin_run(struct tracker *t, uint32_t slot, uint32_t gen, pid_t root_tgid)
{
	struct tracker_run info = { .gen = gen, .root_tgid = (uint32_t)root_tgid };
	struct tracker_agent agent = { .agent_tgid = (uint32_t)root_tgid,
				       .nest_max = TRACKER_NEST_MAX };

	memset(t->percpu, 0, (size_t)t->ncpus * sizeof(*t->percpu));
	if (bpf_map__update_elem(t->skel->maps.run_agent, &slot, sizeof(slot), &agent,
				 sizeof(agent), BPF_ANY))
		return -errno;
	if (bpf_map__update_elem(t->skel->maps.run_counters, &slot, sizeof(slot), t->percpu,
				 (size_t)t->ncpus * sizeof(*t->percpu), BPF_ANY))
		return -errno;
	if (bpf_map__update_elem(t->skel->maps.run_info, &slot, sizeof(slot), &info, sizeof(info),
				 BPF_ANY))
		return -errno;
	/* The slot's figures from the last sampling pass were its old run's. */
	if (slot < TRACKER_MAX_RUNS) {
		t->skel->bss->sample_inflight_ns[slot] = 0;
		t->skel->bss->sample_delay_ns[slot] = 0;
		t->skel->bss->sample_rss_pages[slot] = 0;
		t->skel->bss->sample_root_stopped[slot] = 0;
	}
	return 0;
}

/* Keeps the process records of a sampling pass's output. */
static int keep_procs(struct tracker *t, const char *buf, size_t n)
{
	size_t k = n / sizeof(struct tracker_proc);

	struct tracker_proc *p = buf_grow(t->procs, &t->cap_procs, t->n_procs + k, sizeof(*p));

	if (!p)
		return -ENOMEM;
	t->procs = p;
	memcpy(t->procs + t->n_procs, buf, k * sizeof(struct tracker_proc));
	t->n_procs += k;
	return 0;
}

/* One full pass of a task iterator; with t, its output is kept. */
static int iter_pass(struct bpf_link *link, struct tracker *t)
{
	/* Whole records per read: the kernel never splits one across reads. */
	char buf[4096];
	int fd, err = 0;
	ssize_t n;

	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (t && (err = keep_procs(t, buf, (size_t)n)))
			break;
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

int tracker_seed(struct tracker *t, uint32_t slot, uint32_t gen, pid_t tgid, bool whole_tree)
{
	struct tracker_bpf__bss *bss = t->skel->bss;
	int err;

	bss->seed_slot = slot;
	bss->seed_gen = gen;
	bss->seed_tgid = (uint32_t)tgid;
	bss->seed_from_birth = !whole_tree;
	bss->seed_marked = 0;
	bss->seed_failed = 0;
	err = iter_pass(t->seed_link, NULL);
	if (!err && whole_tree)
		err = iter_pass(t->seed_link, NULL);
	bss->seed_gen = 0;
	if (err)
		return err;
	if (bss->seed_failed)
		log_warn("%llu task(s) of pid %d could not be marked (kernel memory)",
			 (unsigned long long)bss->seed_failed, (int)tgid);
	return (int)bss->seed_marked;
}

int tracker_refresh_live(struct tracker *t)
{
	struct tracker_bpf__bss *bss = t->skel->bss;

	memset(bss->sample_inflight_ns, 0, sizeof(bss->sample_inflight_ns));
	memset(bss->sample_delay_ns, 0, sizeof(bss->sample_delay_ns));
	memset(bss->sample_rss_pages, 0, sizeof(bss->sample_rss_pages));
	memset(bss->sample_root_stopped, 0, sizeof(bss->sample_root_stopped));
	/* Each run's share of the event buffer starts afresh (its events up
	 * to here are drained: the sampler drains before each pass). */
	memset(bss->run_event_bytes, 0, sizeof(bss->run_event_bytes));
	t->n_procs = 0;
	return iter_pass(t->sample_link, t);
}

size_t tracker_live_procs(const struct tracker *t, uint32_t slot, pid_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_procs && n < max; i++)
		if (t->procs[i].slot == slot && (t->procs[i].flags & TRACKER_PROC_LEADER))
			out[n++] = (pid_t)t->procs[i].tgid;
	return n;
}

const struct tracker_proc *tracker_live_records(const struct tracker *t, size_t *n)
{
	*n = t->n_procs;
	return t->procs;
}

int tracker_events_fd(const struct tracker *t)
{
	return ring_buffer__epoll_fd(t->events);
}

int tracker_drain_events(struct tracker *t, tracker_event_fn fn, void *ctx)
{
	int n;

	t->event_fn = fn;
	t->event_ctx = ctx;
	n = ring_buffer__consume(t->events);
	t->event_fn = NULL;
	return n;
}

int tracker_read(struct tracker *t, uint32_t slot, struct run_sample *out)
{
	struct tracker_run info;

	memset(out, 0, sizeof(*out));
	if (bpf_map__lookup_elem(t->skel->maps.run_counters, &slot, sizeof(slot), t->percpu,
				 (size_t)t->ncpus * sizeof(*t->percpu), 0))
		return -errno;
	if (bpf_map__lookup_elem(t->skel->maps.run_info, &slot, sizeof(slot), &info, sizeof(info),
				 0))
		return -errno;
	for (int i = 0; i < t->ncpus; i++) {
		out->cpu_ns += t->percpu[i].cpu_ns;
		out->tasks_started += t->percpu[i].tasks_started;
		out->tasks_exited += t->percpu[i].tasks_exited;
		out->tasks_lost += t->percpu[i].tasks_lost;
		out->actions_lost += t->percpu[i].actions_lost;
		out->run_delay_ns += t->percpu[i].run_delay_ns;
		if (t->percpu[i].peak_proc_rss_pages * (uint64_t)t->page_size >
		    out->peak_proc_rss_bytes)
			out->peak_proc_rss_bytes =
				t->percpu[i].peak_proc_rss_pages * (uint64_t)t->page_size;
	}
	out->root_exited = info.root_exited != 0;
	out->root_left = info.root_exited == TRACKER_ROOT_LEFT;
	out->exit_status = info.exit_code;
	out->last_exit_unix_ns = info.last_exit_ns ? clock_boot_to_real_ns(info.last_exit_ns) : 0;
	if (slot < TRACKER_MAX_RUNS) {
		struct tracker_bpf__bss *bss = t->skel->bss;

		out->inflight_ns = bss->sample_inflight_ns[slot];
		out->live_delay_ns = bss->sample_delay_ns[slot];
		out->rss_bytes = bss->sample_rss_pages[slot] * (uint64_t)t->page_size;
		out->root_stopped = bss->sample_root_stopped[slot] != 0;
	}
	return 0;
}

int tracker_set_agent(struct tracker *t, uint32_t slot, pid_t agent)
{
	struct tracker_agent a = { .agent_tgid = (uint32_t)agent, .nest_max = 0 };

	if (bpf_map__update_elem(t->skel->maps.run_agent, &slot, sizeof(slot), &a, sizeof(a),
				 BPF_ANY))
		return -errno;
	return 0;
}

int tracker_end_run(struct tracker *t, uint32_t slot)
{
	struct tracker_run info = { 0 };

	if (bpf_map__update_elem(t->skel->maps.run_info, &slot, sizeof(slot), &info, sizeof(info),
				 BPF_ANY))
		return -errno;
	return 0;
}
