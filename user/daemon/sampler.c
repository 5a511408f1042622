/* The sampler: task walks, run counters, GPU readings and host figures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "sampler.h"

#define SAMPLER_MAX_PIDS 4096 /* a run's processes read for GPU use */

/* The GPU scanner of the run in one slot: it belongs to that run (gen). */
struct slot_gpu {
	uint32_t gen;
	struct gpuscan *scan; /* NULL until the run's first reading */
	bool valid;
	struct gpu_result res;
};

struct sampler {
	struct tracker *tracker;
	struct runs *runs;
	struct sampler_opts opts;
	struct gpuscan_host gpu_host;
	int ncpus;
	struct sample latest;
	int64_t rate_mono_ns; /* when runs' rates were last taken */
	uint64_t walks;
	struct slot_gpu gpu[TRACKER_MAX_RUNS];
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
	gpuscan_host(o->sys_root, &s->gpu_host);
	return s;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	for (int i = 0; i < TRACKER_MAX_RUNS; i++)
		gpuscan_free(s->gpu[i].scan);
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
		log_info("run %s of project %s ended: %s%s, %.3f CPU-seconds, %llu tasks", r->run_id,
			 r->project, runs_status_name(runs_status(r)),
			 rs.root_left ? " (its root was attached to another run)" : "",
			 (double)rs.cpu_ns / 1e9, (unsigned long long)rs.tasks_started);
}

/* The run's processes' DRM clients, read now. */
static void read_gpu(struct sampler *s, const struct run *r, int64_t mono)
{
	struct slot_gpu *g = &s->gpu[r->slot];
	size_t n;

	if (g->gen != r->gen) {
		/* A new run in the slot: its clients start from fresh baselines. */
		gpuscan_free(g->scan);
		memset(g, 0, sizeof(*g));
		g->gen = r->gen;
	}
	if (!g->scan && !(g->scan = gpuscan_new())) {
		log_warn("no memory for run %s's GPU scanner", r->run_id);
		return;
	}
	n = tracker_live_procs(s->tracker, r->slot, s->pids, SAMPLER_MAX_PIDS);
	gpuscan_tick(g->scan, s->opts.proc_root, s->pids, n, mono, &g->res);
	g->valid = true;
	log_debug("gpu sampling of run %s: %zu processes, %d clients, %.3f ms", r->run_id, n,
		  g->res.clients, (double)(clock_mono_ns() - mono) / 1e6);
}

const struct sample *sampler_sample(struct sampler *s, int64_t max_age_ns)
{
	int64_t mono = clock_mono_ns();
	bool rate;
	int err;

	if (s->latest.mono_ns && mono - s->latest.mono_ns < max_age_ns)
		return &s->latest;
	err = tracker_refresh_live(s->tracker);
	if (err)
		log_warn("sampling pass: %s", strerror(-err));
	s->walks++;
	rate = mono - s->rate_mono_ns >= SAMPLER_RATE_MIN_NS;
	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &s->runs->run[i];

		if (!r->used)
			continue;
		sampler_read_run(s, r);
		if (!runs_is_open(r))
			continue;
		if (rate)
			runs_rate(r, r->last.cpu_ns + r->last.inflight_ns, mono);
		if (s->gpu_host.available)
			read_gpu(s, r, mono);
	}
	if (rate)
		s->rate_mono_ns = mono;
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

bool sampler_gpu(const struct sampler *s, const struct run *r, struct sampler_gpu *out)
{
	const struct slot_gpu *g = &s->gpu[r->slot];

	memset(out, 0, sizeof(*out));
	if (!s->gpu_host.available)
		return false;
	if (!runs_is_open(r)) {
		/* Nothing of the run is alive: no GPU use. */
		out->have_percent = out->have_vram = true;
		return true;
	}
	if (g->gen != r->gen || !g->valid)
		return true;
	/* A run with no DRM client uses no GPU: zeros, known. With clients,
	 * percent waits for a second reading; an unreadable fdinfo is unknown. */
	out->have_percent = g->res.have_percent || (!g->res.clients && !g->res.unknown);
	out->percent = g->res.percent;
	out->have_vram = g->res.have_vram || (!g->res.clients && !g->res.unknown);
	out->vram_bytes = g->res.vram_bytes;
	return true;
}

const struct gpuscan_host *sampler_gpu_host(const struct sampler *s)
{
	return &s->gpu_host;
}

int sampler_ncpus(const struct sampler *s)
{
	return s->ncpus;
}

uint64_t sampler_walks(const struct sampler *s)
{
	return s->walks;
}
