/* Prometheus text exposition (format 0.0.4) of agentperfd's figures, and the
 * table of recently finished runs that /metrics keeps showing for a while. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "promtext.h"

void promtext_finished_add(struct promtext_finished *f, const struct promtext_run *r)
{
	f->r[f->next] = *r;
	f->next = (f->next + 1) % PROMTEXT_FINISHED_MAX;
	if (f->n < PROMTEXT_FINISHED_MAX)
		f->n++;
}

size_t promtext_escape(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s; s++) {
		const char *rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		size_t k = rep ? 2 : 1;

		if (n + k >= len)
			break;
		if (rep)
			memcpy(out + n, rep, 2);
		else
			out[n] = *s;
		n += k;
	}
	out[n] = '\0';
	return n;
}

const char *const promtext_token_type[PROMTEXT_TOKEN_TYPES] = { "input", "output", "cache_read",
								 "cache_creation" };

enum metric { M_CPU, M_TASKS, M_RSS, M_GPU, M_GPU_SECONDS, M_TOKENS, M_TOOLS };
static const char *const metric_name[] = { "agentperf_run_cpu_seconds_total",
					   "agentperf_run_tasks", "agentperf_run_rss_bytes",
					   "agentperf_run_gpu_utilization_ratio",
					   "agentperf_run_gpu_seconds_total",
					   "agentperf_run_tokens_total",
					   "agentperf_run_tool_cpu_seconds_total" };

static void seconds(FILE *f, uint64_t ns)
{
	/* Whole nanoseconds, exactly: seconds with nine decimals. */
	fprintf(f, "%llu.%09llu\n", (unsigned long long)(ns / 1000000000),
		(unsigned long long)(ns % 1000000000));
}

static void run_line(FILE *f, enum metric m, const struct promtext_run *r)
{
	char project[2 * sizeof(r->project)], run_id[2 * sizeof(r->run_id)];

	if ((m == M_GPU && !r->have_gpu) || (m == M_GPU_SECONDS && !r->have_gpu_seconds) ||
	    (m == M_TOKENS && !r->have_tokens))
		return; /* unknown: no sample, rather than a made-up value */
	promtext_escape(r->project, project, sizeof(project));
	promtext_escape(r->run_id, run_id, sizeof(run_id));
	if (m == M_TOOLS) {
		char tool[2 * TOOLCALL_NAME_MAX + 2];

		for (size_t i = 0; i < r->n_tools; i++) {
			promtext_escape(r->tools[i].name, tool, sizeof(tool));
			fprintf(f, "%s{project=\"%s\",run_id=\"%s\",tool=\"%s\"} ", metric_name[m],
				project, run_id, tool);
			seconds(f, r->tools[i].cpu_ns);
		}
		return;
	}
	if (m == M_TOKENS) {
		for (int i = 0; i < PROMTEXT_TOKEN_TYPES; i++)
			fprintf(f, "%s{project=\"%s\",run_id=\"%s\",type=\"%s\"} %llu\n",
				metric_name[m], project, run_id, promtext_token_type[i],
				(unsigned long long)r->tokens[i]);
		return;
	}
	fprintf(f, "%s{project=\"%s\",run_id=\"%s\"} ", metric_name[m], project, run_id);
	switch (m) {
	case M_CPU:
		seconds(f, r->cpu_ns);
		break;
	case M_TASKS:
		fprintf(f, "%llu\n", (unsigned long long)r->tasks);
		break;
	case M_RSS:
		fprintf(f, "%llu\n", (unsigned long long)r->rss_bytes);
		break;
	case M_GPU:
		fprintf(f, "%.4f\n", r->gpu_ratio);
		break;
	case M_GPU_SECONDS:
		fprintf(f, "%.6f\n", r->gpu_seconds);
		break;
	case M_TOKENS:
	case M_TOOLS:
		break;
	}
}

static void family(FILE *f, const struct promtext_view *v, enum metric m, const char *help,
		   const char *type)
{

	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric_name[m], help, metric_name[m], type);
	for (size_t i = 0; i < v->n_live; i++)
		run_line(f, m, &v->live[i]);
	for (size_t i = 0; v->finished && i < v->finished->n; i++) {
		const struct promtext_run *r = &v->finished->r[i];

		if (v->now_mono_ns - r->ended_mono_ns < PROMTEXT_KEEP_NS)
			run_line(f, m, r);
	}
}

/* The daemon's own BPF cost, per program, when the kernel counts it. */
static void bpf_families(FILE *f, const struct promtext_view *v)
{
	char name[2 * sizeof(v->progs[0].name)];

	if (!v->n_progs)
		return;
	fprintf(f, "# HELP agentperf_bpf_program_run_seconds_total Time the kernel spent running "
		   "agentperfd's BPF program (kernel.bpf_stats_enabled=1).\n"
		   "# TYPE agentperf_bpf_program_run_seconds_total counter\n");
	for (size_t i = 0; i < v->n_progs; i++) {
		promtext_escape(v->progs[i].name, name, sizeof(name));
		fprintf(f, "agentperf_bpf_program_run_seconds_total{program=\"%s\"} %llu.%09llu\n",
			name, (unsigned long long)(v->progs[i].run_time_ns / 1000000000),
			(unsigned long long)(v->progs[i].run_time_ns % 1000000000));
	}
	fprintf(f, "# HELP agentperf_bpf_program_runs_total Runs of agentperfd's BPF program "
		   "(kernel.bpf_stats_enabled=1).\n"
		   "# TYPE agentperf_bpf_program_runs_total counter\n");
	for (size_t i = 0; i < v->n_progs; i++) {
		promtext_escape(v->progs[i].name, name, sizeof(name));
		fprintf(f, "agentperf_bpf_program_runs_total{program=\"%s\"} %llu\n", name,
			(unsigned long long)v->progs[i].run_cnt);
	}
}

enum dev_metric { D_MEM_USED, D_MEM_TOTAL, D_UTIL };
static const struct {
	const char *name, *help;
} dev_metric[] = {
	[D_MEM_USED] = { "agentperf_gpu_memory_used_bytes", "Memory in use on the GPU device." },
	[D_MEM_TOTAL] = { "agentperf_gpu_memory_total_bytes", "Memory of the GPU device." },
	[D_UTIL] = { "agentperf_gpu_utilization_ratio",
		     "Share of the last sample period the GPU device was busy, 0 to 1." },
};

/* The host's GPU devices: agentperf_gpu_info and the per-device gauges. */
static void render_gpus(FILE *f, const struct gpu_devices *d)
{
	char id[2 * sizeof(d->d[0].id)], name[2 * sizeof(d->d[0].name)];

	if (!d || !d->n)
		return;
	fprintf(f, "# HELP agentperf_gpu_info The host's GPU devices and the backend that reads "
		   "them (1).\n# TYPE agentperf_gpu_info gauge\n");
	for (int i = 0; i < d->n; i++) {
		promtext_escape(d->d[i].id, id, sizeof(id));
		promtext_escape(d->d[i].name, name, sizeof(name));
		fprintf(f, "agentperf_gpu_info{device=\"%s\",name=\"%s\",backend=\"%s\"} 1\n", id,
			name, d->d[i].backend);
	}
	for (int m = D_MEM_USED; m <= D_UTIL; m++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", dev_metric[m].name,
			dev_metric[m].help, dev_metric[m].name);
		for (int i = 0; i < d->n; i++) {
			const struct gpu_device *x = &d->d[i];

			promtext_escape(x->id, id, sizeof(id));
			if (m == D_MEM_USED && x->have_mem_used)
				fprintf(f, "%s{device=\"%s\"} %llu\n", dev_metric[m].name, id,
					(unsigned long long)x->mem_used_bytes);
			else if (m == D_MEM_TOTAL && x->have_mem_total)
				fprintf(f, "%s{device=\"%s\"} %llu\n", dev_metric[m].name, id,
					(unsigned long long)x->mem_total_bytes);
			else if (m == D_UTIL && x->have_util)
				fprintf(f, "%s{device=\"%s\"} %.4f\n", dev_metric[m].name, id,
					x->util_percent / 100);
		}
	}
}

char *promtext_render(const struct promtext_view *v, size_t headroom, size_t *len)
{
	char *buf = NULL, esc[128];
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; i < headroom; i++)
		fputc(' ', f);
	family(f, v, M_CPU,
	       "On-CPU time of every task that belonged to the run (the kernel's own accounting).",
	       "counter");
	family(f, v, M_TASKS, "Live tasks (threads and processes) of the run.", "gauge");
	family(f, v, M_RSS, "Resident memory of the run's live processes.", "gauge");
	family(f, v, M_GPU,
	       "Busiest GPU engine's utilization by the run's processes (DRM fdinfo, NVML), 0 to 1.",
	       "gauge");
	family(f, v, M_GPU_SECONDS,
	       "Busy time of the run's busiest GPU engine or device, summed over samples.",
	       "counter");
	family(f, v, M_TOKENS,
	       "Tokens the run's agents recorded in their own transcripts "
	       "(Claude Code, Codex CLI), by type.",
	       "counter");
	family(f, v, M_TOOLS,
	       "On-CPU time of the processes the run's agent started for its tool calls, "
	       "by tool name (every call of it).",
	       "counter");
	if (v->have_mem) {
		fprintf(f,
			"# HELP agentperf_host_memory_used_bytes Host memory in use (MemTotal - "
			"MemAvailable).\n# TYPE agentperf_host_memory_used_bytes gauge\n"
			"agentperf_host_memory_used_bytes %llu\n",
			(unsigned long long)v->mem_used_bytes);
		fprintf(f,
			"# HELP agentperf_host_memory_total_bytes Host memory (MemTotal).\n"
			"# TYPE agentperf_host_memory_total_bytes gauge\n"
			"agentperf_host_memory_total_bytes %llu\n",
			(unsigned long long)v->mem_total_bytes);
	}
	fprintf(f,
		"# HELP agentperf_websocket_clients Open perf_metrics WebSocket connections.\n"
		"# TYPE agentperf_websocket_clients gauge\nagentperf_websocket_clients %d\n",
		v->websocket_clients);
	render_gpus(f, v->gpus);
	bpf_families(f, v);
	fprintf(f, "# HELP agentperf_build_info agentperfd's version and BPF program variant.\n"
		   "# TYPE agentperf_build_info gauge\n");
	promtext_escape(v->version, esc, sizeof(esc));
	fprintf(f, "agentperf_build_info{version=\"%s\",", esc);
	promtext_escape(v->bpf_variant, esc, sizeof(esc));
	fprintf(f, "bpf_variant=\"%s\"} 1\n", esc);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = size - headroom;
	return buf;
}
