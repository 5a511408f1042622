/* The sampler: task walks, run counters, GPU readings and host figures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "sampler.h"
#include "timefmt.h"

#define SAMPLER_MAX_PIDS 4096 /* a run's processes read for GPU use and tokens */

struct sampler {
	struct tracker *tracker;
	struct runs *runs;
	struct sampler_opts opts;
	struct gpu *gpu;
	int ncpus;
	struct tokscan *tokscan;
	struct actions *actions;
	struct sample latest;
	uint64_t walks;
	struct acttab_report report; /* 6 KiB: kept off the stack */
	pid_t pids[SAMPLER_MAX_PIDS];
};

struct sampler *sampler_new(struct tracker *t, struct runs *runs, const struct sampler_opts *o)
{
	struct sampler *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->tracker = t;
	s->runs = runs;
	s->opts = *o;
	s->ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct gpu_opts go = {
	    .proc_root = o->proc_root, .sys_root = o->sys_root, .nvml_lib = o->nvml_lib};

	if (!(s->tokscan = tokscan_new(o->proc_root, true)) || !(s->gpu = gpu_new(&go)) ||
	    !(s->actions = actions_new())) {
		sampler_free(s);
		return NULL;
	}
	return s;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	gpu_free(s->gpu);
	tokscan_free(s->tokscan);
	actions_free(s->actions);
	free(s);
}

void sampler_read_run(struct sampler *s, struct run *r)
{
	struct run_sample rs;
	int err = tracker_read(s->tracker, r->slot, &rs);

	if (err) {
		log_warn("reading run %s: %s", r->run_id, strerror(-err));
		return;
	}
	if (!runs_apply(r, &rs, clock_real_ns()))
		return;
	log_info("run %s of project %s ended: %s%s, %.3f CPU-seconds, %llu tasks", r->run_id,
		 r->project, runs_status_name(runs_status(r)),
		 rs.root_left ? " (its root was attached to another run)" : "",
		 (double)rs.cpu_ns / 1e9, (unsigned long long)rs.tasks_started);
}

static void on_event(void *ctx, const void *data, size_t len)
{
	actions_event(ctx, data, len);
}

/* The kernel's action events so far. */
static void drain_events(struct sampler *s)
{
	int n = tracker_drain_events(s->tracker, on_event, s->actions);

	if (n < 0)
		log_warn("reading the BPF events: %s", strerror(-n));
}

static void on_events_ready(void *ctx)
{
	drain_events(ctx);
}

int sampler_serve(struct sampler *s, struct http *h)
{
	return http_watch_fd(h, tracker_events_fd(s->tracker), on_events_ready, s);
}

static void apply_tokens(struct sampler *s, struct run *r, struct tokscan_result *res)
{
	actions_tools(s->actions, r->slot, r->gen, res->tools, res->n_tools);
	free(res->tools);
	res->tools = NULL;
	if (res->have && transcript_usage_total(&res->usage) != runs_transcript_tokens(r))
		log_debug("tokens of run %s: %llu (%s)", r->run_id,
			  (unsigned long long)transcript_usage_total(&res->usage),
			  res->source == TRANSCRIPT_CODEX ? "codex" : "claude-code");
	r->tokens.have = res->have;
	r->tokens.source = res->source;
	r->tokens.usage = res->usage;
}

/* The transcripts of the run's processes (the n in s->pids), read now. */
static void read_tokens(struct sampler *s, struct run *r, size_t n, int64_t mono)
{
	struct tokscan_result res;

	pid_t agent;

	tokscan_run(s->tokscan, r->slot, r->gen, r->started_ns, r->owner, s->pids, n, mono, &res);
	apply_tokens(s, r, &res);
	/* Once a tool call's shell names the agent, only its forks start
	 * actions: its helpers' children nest no more. */
	if ((agent = actions_new_agent(s->actions, r->slot, r->gen))) {
		int err = tracker_set_agent(s->tracker, r->slot, agent);

		if (err) {
			log_warn("run %s: telling the kernel its agent (again at the next walk): %s",
				 r->run_id, strerror(-err));
		} else {
			actions_agent_told(s->actions, r->slot, r->gen);
			log_info("run %s: its agent is process %d", r->run_id, (int)agent);
		}
	}
}

void sampler_run_started(struct sampler *s, struct run *r)
{
	struct tokscan_result res;

	tokscan_start(s->tokscan, r->slot, r->gen, r->started_ns, r->owner, r->pid,
		      clock_mono_ns(), &res);
	apply_tokens(s, r, &res);
	/* Its timeline starts at its start. */
	actions_sample(s->actions, r->slot, r->gen, r->started_ns, 0, 0, false, 0, 0);
}

bool sampler_run_done(struct sampler *s, struct run *r)
{
	struct tokscan_result res;
	bool done = true;

	drain_events(s);
	/* The final token read is asked for first: the runs that stop
	 * together (--cleanup, shutdown) have theirs read together. */
	switch (tokscan_end(s->tokscan, r->slot, r->gen, clock_mono_ns(), &res)) {
	case TOKSCAN_END_PENDING:
		done = false;
		break;
	case TOKSCAN_END_DONE:
		apply_tokens(s, r, &res);
		break;
	case TOKSCAN_END_NONE:
		break;
	}
	/* Its GPU use up to its end: the first walk after it, made now unless
	 * one was made in the last SAMPLER_END_WALK_NS (then the next tick's). */
	if (gpu_end_pending(s->gpu, r)) {
		sampler_sample(s, SAMPLER_END_WALK_NS);
		done = done && !gpu_end_pending(s->gpu, r);
	}
	/* Its tool calls, final: every task's end has been told; its
	 * timeline's last point, up to its end. */
	if (done && actions_report(s->actions, r->slot, r->gen, r->ended, r->started_ns,
				   r->ended_ns, &s->report)) {
		r->tools = s->report;
		if (r->last.actions_lost)
			log_warn("run %s: %llu action event(s) were lost (its share of the event "
				 "buffer was full): their CPU counts in its agent's share",
				 r->run_id, (unsigned long long)r->last.actions_lost);
		actions_sample(s->actions, r->slot, r->gen, r->ended_ns, r->last.cpu_ns,
			       r->last.rss_bytes, false, 0, runs_transcript_tokens(r));
	}
	return done;
}

cJSON *sampler_timeline(struct sampler *s, const struct run *r)
{
	bool open = runs_is_open(r);
	cJSON *o = cJSON_CreateObject();
	char buf[TIMEFMT_ISO_LEN];
	int err;

	drain_events(s);
	if (!o || !cJSON_AddStringToObject(o, "project", r->project) ||
	    !cJSON_AddStringToObject(o, "run_id", r->run_id) ||
	    !cJSON_AddStringToObject(o, "started_at", timefmt_iso_ms(r->started_ns, buf)) ||
	    !cJSON_AddItemToObject(o, "ended_at", open ? cJSON_CreateNull()
						       : cJSON_CreateString(timefmt_iso_ms(
								 r->ended_ns, buf))) ||
	    !cJSON_AddNumberToObject(o, "cpu_seconds", (double)r->last.cpu_ns / 1e9)) {
		cJSON_Delete(o);
		errno = ENOMEM;
		return NULL;
	}
	err = actions_timeline(s->actions, r->slot, r->gen, r->started_ns,
			       open ? clock_real_ns() : r->ended_ns, o);
	if (err) {
		cJSON_Delete(o);
		errno = -err;
		return NULL;
	}
	return o;
}

void sampler_run_recorded(struct sampler *s, const struct run *r)
{
	actions_forget(s->actions, r->slot, r->gen);
}

enum acttab_phase sampler_agent_phase(struct sampler *s, const struct run *r,
				      char tool[TOOLCALL_NAME_MAX + 1])
{
	return actions_phase(s->actions, r->slot, r->gen, tool);
}

bool sampler_tools(struct sampler *s, const struct run *r, struct acttab_report *out)
{
	drain_events(s);
	return actions_report(s->actions, r->slot, r->gen, false, r->started_ns, clock_real_ns(),
			      out);
}

/* The pass's live members, to their actions (of the runs still tracked). */
static void live_actions(struct sampler *s)
{
	size_t n;
	const struct tracker_proc *p = tracker_live_records(s->tracker, &n);

	runs_for_each(s->runs, r) {
		if (runs_is_open(r))
			actions_live_begin(s->actions, r->slot, r->gen);
	}
	for (size_t i = 0; i < n; i++)
		actions_live(s->actions, &p[i]);
}

/* The run's figures of this pass, for its timeline. */
static void timeline_pass(struct sampler *s, const struct run *r, int64_t real)
{
	struct gpu_usage g;
	bool have_gpu = gpu_usage(s->gpu, r, &g) && g.have_percent;

	actions_sample(s->actions, r->slot, r->gen, real, r->last.cpu_ns + r->last.inflight_ns,
		       r->last.rss_bytes, have_gpu, have_gpu ? g.percent : 0,
		       runs_transcript_tokens(r));
}

const struct sample *sampler_sample(struct sampler *s, int64_t max_age_ns)
{
	int64_t mono = clock_mono_ns(), real = clock_real_ns();
	int err;

	if (s->latest.mono_ns && mono - s->latest.mono_ns < max_age_ns)
		return &s->latest;
	/* Actions that started before the pass are known to it. */
	drain_events(s);
	err = tracker_refresh_live(s->tracker);
	if (err)
		log_warn("sampling pass: %s", strerror(-err));
	live_actions(s);
	s->walks++;
	tokscan_begin(s->tokscan);
	gpu_read_devices(s->gpu);
	runs_for_each(s->runs, r) {
		size_t n;

		sampler_read_run(s, r);
		if (!runs_is_open(r)) {
			gpu_end_run(s->gpu, r, mono);
			continue;
		}
		/* Each run's rate over at least SAMPLER_RATE_MIN_NS since its own
		 * base: a run attached a moment before a walk gets its first
		 * rate at the first walk a second after it started. */
		if (!r->have_rate_base || mono - r->rate_mono_ns >= SAMPLER_RATE_MIN_NS)
			runs_rate(r, r->last.cpu_ns + r->last.inflight_ns, mono);
		n = tracker_live_procs(s->tracker, r->slot, s->pids, SAMPLER_MAX_PIDS);
		gpu_read_run(s->gpu, r, s->pids, n, mono);
		read_tokens(s, r, n, mono);
		timeline_pass(s, r, real);
	}
	s->latest.mono_ns = mono;
	s->latest.real_ns = real;
	s->latest.have_mem = !host_read_meminfo(s->opts.proc_root, &s->latest.mem);
	s->latest.have_cpu = !host_read_stat(s->opts.proc_root, &s->latest.cpu);
	return &s->latest;
}

const struct sample *sampler_latest(const struct sampler *s)
{
	return &s->latest;
}

struct gpu *sampler_gpu(const struct sampler *s)
{
	return s->gpu;
}

int sampler_ncpus(const struct sampler *s)
{
	return s->ncpus;
}

uint64_t sampler_walks(const struct sampler *s)
{
	return s->walks;
}
