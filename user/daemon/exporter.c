/* The Prometheus exporter: live and recently finished runs, as of now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exporter.h"
#include "http/http.h"
#include "promtext.h"

struct exporter {
	struct sampler *sampler;
	const struct runs *runs;
	struct exporter_opts opts;
	struct promtext_finished finished;
	/* The highest CPU total shown of the run in each slot (gen): a
	 * counter never goes back, though in-flight time is read late. */
	struct {
		uint32_t gen;
		uint64_t cpu_ns;
		uint64_t tokens[PROMTEXT_TOKEN_TYPES];
		size_t n_tools;
		struct acttab_name tools[ACTTAB_NAMES];
	} shown[TRACKER_MAX_RUNS];
	struct acttab_report report; /* scratch: 6 KiB */
	struct promtext_run live[TRACKER_MAX_RUNS];
	struct promtext_prog progs[EXPORTER_MAX_PROGS];
	size_t n_progs;
};

struct exporter *exporter_new(struct sampler *sm, const struct runs *runs,
			      const struct exporter_opts *o)
{
	struct exporter *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->sampler = sm;
	x->runs = runs;
	x->opts = *o;
	return x;
}

void exporter_free(struct exporter *x)
{
	free(x);
}

static void shown_of(struct exporter *x, const struct run *r)
{
	if (x->shown[r->slot].gen != r->gen) {
		memset(&x->shown[r->slot], 0, sizeof(x->shown[r->slot]));
		x->shown[r->slot].gen = r->gen;
	}
}

/* The run's CPU as /metrics shows it: never below what it showed before. */
static uint64_t shown_cpu(struct exporter *x, const struct run *r, uint64_t cpu)
{
	shown_of(x, r);
	if (cpu > x->shown[r->slot].cpu_ns)
		x->shown[r->slot].cpu_ns = cpu;
	return x->shown[r->slot].cpu_ns;
}

/* The run's transcript tokens as counters: a message's later line may carry
 * a lower figure than its earlier one, but a counter never goes back. */
static void shown_tokens(struct exporter *x, const struct run *r, struct promtext_run *p)
{
	const struct transcript_usage *u = &r->tokens.usage;
	uint64_t now[PROMTEXT_TOKEN_TYPES] = { u->input, u->output, u->cache_read,
					       u->cache_creation };

	shown_of(x, r);
	p->have_tokens = r->tokens.have;
	for (int i = 0; i < PROMTEXT_TOKEN_TYPES; i++) {
		if (now[i] > x->shown[r->slot].tokens[i])
			x->shown[r->slot].tokens[i] = now[i];
		p->tokens[i] = x->shown[r->slot].tokens[i];
	}
}

/* The CPU of the run's tool calls by name, as counters (a live figure
 * includes tasks that ended since the walk until the next one). */
static void shown_tools(struct exporter *x, const struct run *r, const struct acttab_report *t,
			struct promtext_run *p)
{
	typeof(x->shown[0]) *sh = &x->shown[r->slot];

	shown_of(x, r);
	for (size_t i = 0; i < t->n_names; i++) {
		size_t k;

		for (k = 0; k < sh->n_tools; k++)
			if (!strcmp(sh->tools[k].name, t->names[i].name))
				break;
		if (k == sh->n_tools) {
			if (k == ACTTAB_NAMES)
				continue;
			sh->tools[sh->n_tools++] = (struct acttab_name){ .cpu_ns = 0 };
			strcpy(sh->tools[k].name, t->names[i].name);
		}
		if (t->names[i].cpu_ns > sh->tools[k].cpu_ns)
			sh->tools[k].cpu_ns = t->names[i].cpu_ns;
	}
	p->n_tools = sh->n_tools;
	memcpy(p->tools, sh->tools, sh->n_tools * sizeof(sh->tools[0]));
}

void exporter_run_finished(struct exporter *x, const struct run *r)
{
	struct promtext_run f = { .cpu_ns = shown_cpu(x, r, r->last.cpu_ns),
				  .ended_mono_ns = clock_mono_ns() };

	snprintf(f.project, sizeof(f.project), "%s", r->project);
	snprintf(f.run_id, sizeof(f.run_id), "%s", r->run_id);
	f.have_gpu_seconds = r->have_gpu_seconds;
	f.gpu_seconds = r->gpu_seconds;
	shown_tokens(x, r, &f);
	shown_tools(x, r, &r->tools, &f);
	promtext_finished_add(&x->finished, &f);
}

static void add_prog(void *ctx, const char *name, uint64_t run_time_ns, uint64_t run_cnt)
{
	struct exporter *x = ctx;
	struct promtext_prog *p = &x->progs[x->n_progs];

	if (x->n_progs == EXPORTER_MAX_PROGS)
		return;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->run_time_ns = run_time_ns;
	p->run_cnt = run_cnt;
	x->n_progs++;
}

/* The programs' cost now, into x->progs; 0 while the kernel does not count. */
static size_t prog_stats(struct exporter *x)
{
	x->n_progs = 0;
	if (!x->opts.tracker || tracker_prog_stats(x->opts.tracker, add_prog, x))
		return 0;
	return x->n_progs;
}

char *exporter_render(struct exporter *x, int websocket_clients, size_t *len)
{
	/* Rates and in-flight time of at most a second ago. */
	const struct sample *sm = sampler_sample(x->sampler, SAMPLER_RATE_MIN_NS);
	struct promtext_view v = { .version = x->opts.version,
				   .bpf_variant = x->opts.bpf_variant,
				   .live = x->live,
				   .finished = &x->finished,
				   .now_mono_ns = clock_mono_ns(),
				   .websocket_clients = websocket_clients };

	runs_for_each(x->runs, r) {
		struct promtext_run *p = &x->live[v.n_live];
		struct gpu_usage g;

		if (!runs_is_open(r))
			continue;
		snprintf(p->project, sizeof(p->project), "%s", r->project);
		snprintf(p->run_id, sizeof(p->run_id), "%s", r->run_id);
		p->cpu_ns = shown_cpu(x, r, r->last.cpu_ns + r->last.inflight_ns);
		p->tasks = runs_tasks_alive(r);
		p->rss_bytes = r->last.rss_bytes;
		p->have_gpu = gpu_usage(sampler_gpu(x->sampler), r, &g) && g.have_percent;
		p->gpu_ratio = g.percent / 100;
		p->have_gpu_seconds = r->have_gpu_seconds;
		p->gpu_seconds = r->gpu_seconds;
		shown_tokens(x, r, p);
		sampler_tools(x->sampler, r, &x->report);
		shown_tools(x, r, &x->report, p);
		v.n_live++;
	}
	if (sm->have_mem && sm->mem.total_bytes) {
		v.have_mem = true;
		v.mem_total_bytes = sm->mem.total_bytes;
		v.mem_used_bytes = sm->mem.total_bytes - sm->mem.available_bytes;
	}
	v.gpus = gpu_devices(sampler_gpu(x->sampler));
	v.progs = x->progs;
	v.n_progs = prog_stats(x);
	return promtext_render(&v, x->opts.headroom, len);
}

static char *render(void *ctx, int websocket_clients, size_t *len)
{
	return exporter_render(ctx, websocket_clients, len);
}

void exporter_serve(struct exporter *x, struct http *h)
{
	http_serve_metrics(h, render, x);
}
