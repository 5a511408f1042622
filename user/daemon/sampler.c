/* The sampler: task walks, run counters, GPU readings and host figures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "sampler.h"

#define SAMPLER_MAX_PIDS 4096 /* a run's processes read for GPU use and tokens */

struct sampler {
	struct tracker *tracker;
	struct runs *runs;
	struct sampler_opts opts;
	struct gpu *gpu;
	int ncpus;
	struct tokscan *tokscan;
	struct sample latest;
	uint64_t walks;
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

	if (!(s->tokscan = tokscan_new(o->proc_root, true)) || !(s->gpu = gpu_new(&go))) {
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
	if (runs_apply(r, &rs, clock_real_ns()))
		log_info("run %s of project %s ended: %s%s, %.3f CPU-seconds, %llu tasks",
			 r->run_id, r->project, runs_status_name(runs_status(r)),
			 rs.root_left ? " (its root was attached to another run)" : "",
			 (double)rs.cpu_ns / 1e9, (unsigned long long)rs.tasks_started);
}

static void apply_tokens(struct run *r, const struct tokscan_result *res)
{
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

	tokscan_run(s->tokscan, r->slot, r->gen, r->started_ns, r->owner, s->pids, n, mono, &res);
	apply_tokens(r, &res);
}

void sampler_run_started(struct sampler *s, struct run *r)
{
	struct tokscan_result res;

	tokscan_start(s->tokscan, r->slot, r->gen, r->started_ns, r->owner, r->pid,
		      clock_mono_ns(), &res);
	apply_tokens(r, &res);
}

bool sampler_run_done(struct sampler *s, struct run *r)
{
	struct tokscan_result res;
	bool done = true;

	/* The final token read is asked for first: the runs that stop
	 * together (--cleanup, shutdown) have theirs read together. */
	switch (tokscan_end(s->tokscan, r->slot, r->gen, clock_mono_ns(), &res)) {
	case TOKSCAN_END_PENDING:
		done = false;
		break;
	case TOKSCAN_END_DONE:
		apply_tokens(r, &res);
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
	return done;
}

const struct sample *sampler_sample(struct sampler *s, int64_t max_age_ns)
{
	int64_t mono = clock_mono_ns();
	int err;

	if (s->latest.mono_ns && mono - s->latest.mono_ns < max_age_ns)
		return &s->latest;
	err = tracker_refresh_live(s->tracker);
	if (err)
		log_warn("sampling pass: %s", strerror(-err));
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
	}
	s->latest.mono_ns = mono;
	s->latest.real_ns = clock_real_ns();
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
