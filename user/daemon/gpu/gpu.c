/* The GPU facade: devices, each run's DRM and NVML readings, combined. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gpu.h"
#include "log.h"

/* The GPU readings of the run in one slot: they belong to that run (gen). */
struct slot_gpu {
	uint32_t gen;
	struct gpuscan *scan; /* NULL until the run's first DRM reading */
	bool valid;
	struct drmmath_result res; /* DRM */
	struct nvml_run nv;
	struct gpu_usage fig; /* both backends */
	struct gpufig_busy busy; /* gpu_seconds */
	bool ended; /* its last interval is read: nothing more is added */
};

struct gpu {
	struct gpu_opts opts;
	struct gpuscan_host drm; /* DRM render nodes that report usage */
	struct nvml *nvml; /* NULL: NVIDIA GPUs not read */
	struct gpuscan_host host; /* both backends */
	struct gpu_devices devices;
	struct slot_gpu slot[TRACKER_MAX_RUNS];
};

/* NVIDIA's devices join the host's: they report per-process use, and their
 * memory counts in the host's VRAM. */
static void add_nvml(struct gpu *g)
{
	uint64_t total;
	bool have = nvml_vram_total(g->nvml, &total);

	nvml_list(g->nvml, &g->devices);
	g->host.available = true;
	g->host.have_vram_total = have && (!g->drm.available || g->drm.have_vram_total);
	g->host.vram_total_bytes = !g->host.have_vram_total ? 0
				   : g->drm.available	    ? total + g->drm.vram_total_bytes
							    : total;
}

struct gpu *gpu_new(const struct gpu_opts *o)
{
	struct gpu *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->opts = *o;
	gpuscan_host(o->sys_root, &g->drm);
	g->host = g->drm;
	gpuscan_devices(o->sys_root, &g->devices);
	if (o->nvml_lib && (g->nvml = nvml_open(o->nvml_lib)))
		add_nvml(g);
	return g;
}

void gpu_free(struct gpu *g)
{
	if (!g)
		return;
	for (int i = 0; i < TRACKER_MAX_RUNS; i++)
		gpuscan_free(g->slot[i].scan);
	nvml_free(g->nvml);
	free(g);
}

const struct gpuscan_host *gpu_host(const struct gpu *g)
{
	return &g->host;
}

const struct gpu_devices *gpu_devices(const struct gpu *g)
{
	return &g->devices;
}

void gpu_read_devices(struct gpu *g)
{
	if (g->nvml)
		nvml_read(g->nvml, (uint64_t)clock_real_ns() / 1000);
	for (int i = 0; i < g->devices.n; i++) {
		struct gpu_device *x = &g->devices.d[i];

		if (!strcmp(x->backend, "nvml"))
			nvml_device(g->nvml, x);
		else
			gpuscan_device_read(g->opts.sys_root, x);
	}
}

void gpu_read_run(struct gpu *g, struct run *r, const pid_t *pids, size_t n, int64_t mono)
{
	struct gpufig drm = {.have_percent = true, .have_vram = true}, nv = drm, all;
	struct slot_gpu *sg = &g->slot[r->slot];
	int64_t t0 = clock_mono_ns(), t1, prev;

	if (!g->host.available || (sg->gen == r->gen && sg->ended))
		return;
	if (sg->gen != r->gen) {
		/* A new run in the slot: its clients start from fresh baselines. */
		gpuscan_free(sg->scan);
		memset(sg, 0, sizeof(*sg));
		sg->gen = r->gen;
		/* A run taken over by a restarted daemon goes on from its figure. */
		sg->busy.have = r->have_gpu_seconds;
		sg->busy.seconds = r->gpu_seconds;
	}
	if (g->drm.available) {
		if (!sg->scan && !(sg->scan = gpuscan_new())) {
			log_warn("no memory for run %s's GPU scanner", r->run_id);
			return;
		}
		gpuscan_tick(sg->scan, g->opts.proc_root, pids, n, mono, &sg->res);
		/* A run with no DRM client uses no GPU: zeros, known. With clients,
		 * percent waits for a second reading; an unreadable fdinfo is unknown. */
		drm.have_percent = sg->res.have_percent || (!sg->res.clients && !sg->res.unknown);
		drm.percent = sg->res.percent;
		drm.have_vram = sg->res.have_vram || (!sg->res.clients && !sg->res.unknown);
		drm.vram_bytes = sg->res.vram_bytes;
	}
	if (g->nvml)
		nvml_run(g->nvml, pids, n, &sg->nv, &nv);
	gpufig_combine(&drm, &nv, &all);
	sg->fig = (struct gpu_usage){.have_percent = all.have_percent,
				     .percent = all.percent,
				     .have_vram = all.have_vram,
				     .vram_bytes = all.vram_bytes};
	sg->valid = true;
	prev = sg->busy.primed ? sg->busy.last_ns : mono;
	gpufig_busy_add(&sg->busy, mono, all.have_percent, all.percent);
	r->have_gpu_seconds = sg->busy.have;
	r->gpu_seconds = sg->busy.seconds;
	/* The cost of the GPU reads, and (for comparison with the figures
	 * before it was split out) of the walk up to them. */
	t1 = clock_mono_ns();
	log_debug("gpu sampling of run %s: %zu processes, %d clients, %d on NVIDIA, "
		  "%.3f ms since the walk began, %.3f ms",
		  r->run_id, n, sg->res.clients, nv.procs, (double)(t1 - mono) / 1e6,
		  (double)(t1 - t0) / 1e6);
	if (all.have_percent)
		log_debug("gpu of run %s: %.6f %% over %.9f s to %.6f, gpu_seconds %.9f", r->run_id,
			  all.percent, (double)(mono - prev) / 1e9, (double)clock_real_ns() / 1e9,
			  sg->busy.seconds);
}

bool gpu_end_pending(const struct gpu *g, const struct run *r)
{
	const struct slot_gpu *sg = &g->slot[r->slot];

	return g->host.available && sg->gen == r->gen && sg->valid && !sg->ended;
}

void gpu_end_run(struct gpu *g, struct run *r, int64_t mono_ns)
{
	if (!gpu_end_pending(g, r))
		return;
	/* No process left: NVML's samples of those seen at the previous
	 * reading, up to their exit (and their accounting); DRM's clients are
	 * gone with them. */
	gpu_read_run(g, r, NULL, 0, mono_ns);
	g->slot[r->slot].ended = true;
	log_debug("gpu of run %s: last interval read, gpu_seconds %.9f", r->run_id,
		  r->gpu_seconds);
}

bool gpu_usage(const struct gpu *g, const struct run *r, struct gpu_usage *out)
{
	const struct slot_gpu *sg;

	memset(out, 0, sizeof(*out));
	if (!g->host.available)
		return false;
	if (!r || !runs_is_open(r)) {
		/* No run, or nothing of it alive: no GPU use. */
		out->have_percent = out->have_vram = true;
		return true;
	}
	sg = &g->slot[r->slot];
	if (sg->gen != r->gen || !sg->valid)
		return true;
	*out = sg->fig;
	return true;
}
