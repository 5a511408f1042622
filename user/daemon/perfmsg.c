/* The perf_metrics message (docs/interfaces.md, v1) and the arithmetic behind its figures. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perfmsg.h"
#include "timefmt.h"

double perfmsg_round1(double x)
{
	double r;

	if (!isfinite(x))
		return 0;
	r = round(x * 10) / 10;
	return r == 0 ? 0 : r; /* folds -0 into 0 */
}

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

void perfmsg_cpu(const struct perfmsg_cpu_sample *prev, const struct perfmsg_cpu_sample *cur,
		 int ncpus, double *percent, double *cores, double *host_percent)
{
	double dt, drun;

	*percent = *cores = *host_percent = 0;
	if (!prev || cur->mono_ns <= prev->mono_ns || ncpus < 1)
		return;
	dt = (double)(cur->mono_ns - prev->mono_ns);
	drun = cur->run_cpu_ns > prev->run_cpu_ns ? (double)(cur->run_cpu_ns - prev->run_cpu_ns) : 0;
	*cores = clamp(drun / dt, 0, ncpus);
	*percent = clamp(100 * *cores / ncpus, 0, 100);
	if (cur->host_total > prev->host_total && cur->host_busy >= prev->host_busy)
		*host_percent = clamp(100.0 * (double)(cur->host_busy - prev->host_busy) /
					      (double)(cur->host_total - prev->host_total),
				      0, 100);
}

void perfmsg_cpu_next(struct perfmsg_baseline *base, struct perfmsg_cpu_sample cur, bool open,
		      int64_t run_age_ns, int ncpus, struct perfmsg_view *v)
{
	struct perfmsg_cpu_sample since_start = { .mono_ns = cur.mono_ns };

	if (base->have) {
		/* Counters are read before the in-flight pass: never show a dip. */
		if (cur.run_cpu_ns < base->prev.run_cpu_ns)
			cur.run_cpu_ns = base->prev.run_cpu_ns;
		perfmsg_cpu(&base->prev, &cur, ncpus, &v->cpu_percent, &v->cpu_cores,
			    &v->host_percent);
	} else {
		/* No baseline yet (a first watcher): the run's average since it
		 * started, and the host's since boot. A run that is over has no
		 * interval: no run CPU. */
		if (open)
			since_start.mono_ns = cur.mono_ns - run_age_ns;
		perfmsg_cpu(&since_start, &cur, ncpus, &v->cpu_percent, &v->cpu_cores,
			    &v->host_percent);
		v->host_percent = cur.host_total ? 100.0 * (double)cur.host_busy /
							   (double)cur.host_total
						 : 0;
	}
	v->run_seconds = (double)cur.run_cpu_ns / 1e9;
	base->prev = cur;
	base->have = true;
}

static cJSON *num1(double x)
{
	return cJSON_CreateNumber(perfmsg_round1(x));
}

/* Adds key: string, or null when s is NULL. */
static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *count_or_null(bool have, uint64_t n)
{
	return have ? cJSON_CreateNumber((double)n) : cJSON_CreateNull();
}

static bool has_n(const cJSON *o, const char *key, int n)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, key)) == n;
}

static bool complete(const cJSON *o)
{
	return cJSON_GetArraySize(o) == 9 && has_n(o, "run", 5) && has_n(o, "tokens", 7) &&
	       has_n(o, "cpu", 4) && has_n(o, "memory", 4) && has_n(o, "gpu", 4) &&
	       has_n(o, "agent", 2);
}

char *perfmsg_render(const struct perfmsg_view *v, size_t headroom, size_t *len)
{
	cJSON *o = cJSON_CreateObject(), *run, *tokens, *cpu, *mem, *gpu, *agent;
	char ts[TIMEFMT_ISO_LEN], *json, *out = NULL;

	timefmt_iso_ms(v->now_ms * 1000000, ts);
	cJSON_AddStringToObject(o, "type", "perf_metrics");
	cJSON_AddStringToObject(o, "timestamp", ts);
	cJSON_AddStringToObject(o, "project", v->project);

	run = cJSON_AddObjectToObject(o, "run");
	cJSON_AddStringToObject(run, "status", v->has_run ? v->status : "stopped");
	cJSON_AddItemToObject(run, "pid", v->has_run ? cJSON_CreateNumber(v->pid) : cJSON_CreateNull());
	cJSON_AddItemToObject(run, "started_at", str_or_null(v->has_run ? v->started_at : NULL));
	cJSON_AddItemToObject(run, "run_id", str_or_null(v->has_run ? v->run_id : NULL));
	cJSON_AddNumberToObject(run, "tasks", v->has_run ? (double)v->tasks : 0);

	tokens = cJSON_AddObjectToObject(o, "tokens");
	if (v->tokens_available) {
		cJSON_AddNumberToObject(tokens, "current_run", (double)v->tokens_current);
		cJSON_AddNumberToObject(tokens, "total_session", (double)v->tokens_total);
	} else {
		cJSON_AddNullToObject(tokens, "current_run");
		cJSON_AddNullToObject(tokens, "total_session");
	}
	cJSON_AddBoolToObject(tokens, "available", v->tokens_available);
	cJSON_AddItemToObject(tokens, "input",
			      count_or_null(v->tokens_have_kinds, v->tokens_input));
	cJSON_AddItemToObject(tokens, "output",
			      count_or_null(v->tokens_have_kinds, v->tokens_output));
	cJSON_AddItemToObject(tokens, "cache_read",
			      count_or_null(v->tokens_have_kinds, v->tokens_cache_read));
	cJSON_AddItemToObject(tokens, "cache_creation",
			      count_or_null(v->tokens_have_kinds, v->tokens_cache_creation));

	cpu = cJSON_AddObjectToObject(o, "cpu");
	cJSON_AddItemToObject(cpu, "percent", num1(v->cpu_percent));
	cJSON_AddItemToObject(cpu, "cores", num1(v->cpu_cores));
	cJSON_AddItemToObject(cpu, "host_percent", num1(v->host_percent));
	cJSON_AddItemToObject(cpu, "run_seconds", num1(v->run_seconds));

	mem = cJSON_AddObjectToObject(o, "memory");
	cJSON_AddItemToObject(mem, "used_gb", num1(v->mem_used_gb));
	cJSON_AddItemToObject(mem, "total_gb", num1(v->mem_total_gb));
	cJSON_AddItemToObject(mem, "percent", num1(v->mem_percent));
	cJSON_AddItemToObject(mem, "run_rss_gb", num1(v->run_rss_gb));

	/* Without a DRM GPU that reports usage, everything is null. */
	gpu = cJSON_AddObjectToObject(o, "gpu");
	cJSON_AddBoolToObject(gpu, "available", v->gpu_available);
	cJSON_AddItemToObject(gpu, "percent",
			      v->gpu_available && v->gpu_have_percent ? num1(v->gpu_percent)
								      : cJSON_CreateNull());
	cJSON_AddItemToObject(gpu, "vram_used_gb",
			      v->gpu_available && v->gpu_have_vram_used ? num1(v->gpu_vram_used_gb)
									: cJSON_CreateNull());
	cJSON_AddItemToObject(gpu, "vram_total_gb",
			      v->gpu_available && v->gpu_have_vram_total ? num1(v->gpu_vram_total_gb)
									 : cJSON_CreateNull());

	agent = cJSON_AddObjectToObject(o, "agent");
	cJSON_AddStringToObject(agent, "phase", v->agent_phase ? v->agent_phase : "idle");
	cJSON_AddItemToObject(agent, "tool", str_or_null(v->agent_tool));

	/* cJSON's adders fail quietly on ENOMEM (and ignore a NULL parent), so
	 * the document is checked once, whole, before it is sent. */
	json = complete(o) ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!json)
		return NULL;
	*len = strlen(json);
	out = malloc(headroom + *len + 1);
	if (out)
		memcpy(out + headroom, json, *len + 1);
	free(json);
	return out;
}
