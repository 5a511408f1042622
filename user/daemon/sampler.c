/* The sampler: task walks, run counters, GPU readings and host figures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "nvml.h"
#include "sampler.h"

#define SAMPLER_MAX_PIDS 4096 /* a run's processes read for GPU use */

/* The GPU readings of the run in one slot: they belong to that run (gen). */
struct slot_gpu {
	uint32_t gen;
	struct gpuscan *scan; /* NULL until the run's first DRM reading */
	bool valid;
	struct gpu_result res; /* DRM */
	struct nvml_run nv;
	struct sampler_gpu fig; /* both backends */
	struct gpumath_busy busy; /* gpu_seconds */
};

struct sampler {
	struct tracker *tracker;
	struct runs *runs;
	struct sampler_opts opts;
	struct gpuscan_host drm; /* DRM render nodes that report usage */
	struct nvml *nvml; /* NULL: NVIDIA GPUs not read */
	struct gpuscan_host gpu_host; /* both backends */
	struct gpu_devices devices;
	int ncpus;
	struct tokscan *tokscan;
	struct sample latest;
	uint64_t walks;
	struct slot_gpu gpu[TRACKER_MAX_RUNS];
	pid_t pids[SAMPLER_MAX_PIDS];
};

/* NVIDIA's devices join the host's: they report per-process use, and their
 * memory counts in the host's VRAM. */
static void add_nvml(struct sampler *s)
{
	uint64_t total;
	bool have = nvml_vram_total(s->nvml, &total);

	nvml_list(s->nvml, &s->devices);
	s->gpu_host.available = true;
	s->gpu_host.have_vram_total = have && (!s->drm.available || s->drm.have_vram_total);
	s->gpu_host.vram_total_bytes = !s->gpu_host.have_vram_total ? 0
				       : s->drm.available ? total + s->drm.vram_total_bytes
							  : total;
}

struct sampler *sampler_new(struct tracker *t, struct runs *runs, const struct sampler_opts *o)
{
	struct sampler *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->tracker = t;
	s->runs = runs;
	s->opts = *o;
	s->ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	gpuscan_host(o->sys_root, &s->drm);
	s->gpu_host = s->drm;
	gpuscan_devices(o->sys_root, &s->devices);
	if (!(s->tokscan = tokscan_new(o->proc_root, true))) {
		free(s);
		return NULL;
	}
	if (o->nvml_lib && (s->nvml = nvml_open(o->nvml_lib)))
		add_nvml(s);
	return s;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	for (int i = 0; i < TRACKER_MAX_RUNS; i++)
		gpuscan_free(s->gpu[i].scan);
	nvml_free(s->nvml);
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
		log_info("run %s of project %s ended: %s%s, %.3f CPU-seconds, %llu tasks", r->run_id,
			 r->project, runs_status_name(runs_status(r)),
			 rs.root_left ? " (its root was attached to another run)" : "",
			 (double)rs.cpu_ns / 1e9, (unsigned long long)rs.tasks_started);
}

/* The run's GPU use from its processes (the n in s->pids), read now: their
 * DRM clients and NVML processes together, and what it adds to gpu_seconds. */
static void read_gpu(struct sampler *s, struct run *r, size_t n, int64_t mono)
{
	struct gpumath_run drm = { .have_percent = true, .have_vram = true }, nv = drm, all;
	struct slot_gpu *g = &s->gpu[r->slot];
	int64_t t0 = clock_mono_ns(), t1, prev;

	if (g->gen != r->gen) {
		/* A new run in the slot: its clients start from fresh baselines. */
		gpuscan_free(g->scan);
		memset(g, 0, sizeof(*g));
		g->gen = r->gen;
		/* A run taken over by a restarted daemon goes on from its figure. */
		g->busy.have = r->have_gpu_seconds;
		g->busy.seconds = r->gpu_seconds;
	}
	if (s->drm.available) {
		if (!g->scan && !(g->scan = gpuscan_new())) {
			log_warn("no memory for run %s's GPU scanner", r->run_id);
			return;
		}
		gpuscan_tick(g->scan, s->opts.proc_root, s->pids, n, mono, &g->res);
		/* A run with no DRM client uses no GPU: zeros, known. With clients,
		 * percent waits for a second reading; an unreadable fdinfo is unknown. */
		drm.have_percent = g->res.have_percent || (!g->res.clients && !g->res.unknown);
		drm.percent = g->res.percent;
		drm.have_vram = g->res.have_vram || (!g->res.clients && !g->res.unknown);
		drm.vram_bytes = g->res.vram_bytes;
	}
	if (s->nvml)
		nvml_run(s->nvml, s->pids, n, &g->nv, &nv);
	gpumath_combine(&drm, &nv, &all);
	g->fig = (struct sampler_gpu){ .have_percent = all.have_percent, .percent = all.percent,
				       .have_vram = all.have_vram, .vram_bytes = all.vram_bytes };
	g->valid = true;
	prev = g->busy.primed ? g->busy.last_ns : mono;
	gpumath_busy_add(&g->busy, mono, all.have_percent, all.percent);
	r->have_gpu_seconds = g->busy.have;
	r->gpu_seconds = g->busy.seconds;
	/* The cost of the GPU reads, and (for comparison with the figures
	 * before it was split out) of the walk up to them. */
	t1 = clock_mono_ns();
	log_debug("gpu sampling of run %s: %zu processes, %d clients, %d on NVIDIA, "
		  "%.3f ms since the walk began, %.3f ms",
		  r->run_id, n, g->res.clients, nv.procs, (double)(t1 - mono) / 1e6,
		  (double)(t1 - t0) / 1e6);
	if (all.have_percent)
		log_debug("gpu of run %s: %.6f %% over %.9f s to %.6f, gpu_seconds %.9f",
			  r->run_id, all.percent, (double)(mono - prev) / 1e9,
			  (double)clock_real_ns() / 1e9, g->busy.seconds);
}

/* The host's GPU devices at this walk; NVML's are read once for every run. */
static void read_devices(struct sampler *s)
{
	if (s->nvml)
		nvml_read(s->nvml, (uint64_t)clock_real_ns() / 1000);
	for (int i = 0; i < s->devices.n; i++) {
		struct gpu_device *x = &s->devices.d[i];

		if (!strcmp(x->backend, "nvml"))
			nvml_device(s->nvml, x);
		else
			gpuscan_device_read(s->opts.sys_root, x);
	}
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

	tokscan_run(s->tokscan, r->slot, r->gen, r->started_ns, s->pids, n, mono, &res);
	apply_tokens(r, &res);
}

void sampler_run_started(struct sampler *s, struct run *r)
{
	struct tokscan_result res;

	tokscan_start(s->tokscan, r->slot, r->gen, r->started_ns, r->pid, clock_mono_ns(), &res);
	apply_tokens(r, &res);
}

void sampler_run_done(struct sampler *s, struct run *r)
{
	struct tokscan_result res;

	if (tokscan_end(s->tokscan, r->slot, r->gen, &res))
		apply_tokens(r, &res);
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
	read_devices(s);
	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &s->runs->run[i];
		size_t n;

		if (!r->used)
			continue;
		sampler_read_run(s, r);
		if (!runs_is_open(r))
			continue;
		/* Each run's rate over at least SAMPLER_RATE_MIN_NS since its own
		 * base: a run attached a moment before a walk gets its first
		 * rate at the first walk a second after it started. */
		if (!r->have_rate_base || mono - r->rate_mono_ns >= SAMPLER_RATE_MIN_NS)
			runs_rate(r, r->last.cpu_ns + r->last.inflight_ns, mono);
		n = tracker_live_procs(s->tracker, r->slot, s->pids, SAMPLER_MAX_PIDS);
		if (s->gpu_host.available)
			read_gpu(s, r, n, mono);
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
	*out = g->fig;
	return true;
}

const struct gpuscan_host *sampler_gpu_host(const struct sampler *s)
{
	return &s->gpu_host;
}

const struct gpu_devices *sampler_gpu_devices(const struct sampler *s)
{
	return &s->devices;
}

int sampler_ncpus(const struct sampler *s)
{
	return s->ncpus;
}

uint64_t sampler_walks(const struct sampler *s)
{
	return s->walks;
}
