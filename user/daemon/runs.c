/* The runs table: which run owns which BPF slot, and when a run has ended. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "runs.h"
#include "timefmt.h"

struct runs *runs_new(void)
{
	struct runs *rs = calloc(1, sizeof(*rs));

	if (rs)
		rs->next_gen = 1;
	return rs;
}

void runs_free(struct runs *rs)
{
	free(rs);
}

struct run *runs_begin(struct runs *rs, const char *project, pid_t pid, int64_t now_ns)
{
	char iso[TIMEFMT_ISO_LEN];

	for (uint32_t i = 0; i < TRACKER_MAX_RUNS; i++) {
		uint32_t slot = (rs->next_slot + i) % TRACKER_MAX_RUNS;
		struct run *r = &rs->run[slot];

		if (r->used)
			continue;
		memset(r, 0, sizeof(*r));
		r->used = true;
		r->slot = slot;
		r->gen = rs->next_gen++;
		if (!rs->next_gen) /* gen 0 means "no run" to the BPF side */
			rs->next_gen = 1;
		snprintf(r->project, sizeof(r->project), "%s", project);
		r->pid = pid;
		r->started_ns = now_ns;
		snprintf(r->run_id, sizeof(r->run_id), "%d-%s", (int)pid,
			 timefmt_iso(now_ns / 1000000000, iso));
		rs->next_slot = (slot + 1) % TRACKER_MAX_RUNS;
		return r;
	}
	errno = ENOSPC;
	return NULL;
}

void runs_reserve_gen(struct runs *rs, uint32_t gen)
{
	if (gen > rs->next_gen)
		rs->next_gen = gen;
}

struct run *runs_adopt(struct runs *rs, const struct run *from)
{
	struct run *r = &rs->run[from->slot % TRACKER_MAX_RUNS];

	if (r->used) {
		errno = EBUSY;
		return NULL;
	}
	*r = *from;
	r->used = true;
	r->slot = from->slot % TRACKER_MAX_RUNS;
	/* Generations go on from the highest taken over: never one reused. */
	if (r->gen >= rs->next_gen)
		rs->next_gen = r->gen + 1;
	if (!rs->next_gen)
		rs->next_gen = 1;
	return r;
}

struct run *runs_next(const struct runs *rs, const struct run *prev)
{
	for (int i = prev ? (int)(prev - rs->run) + 1 : 0; i < TRACKER_MAX_RUNS; i++)
		if (rs->run[i].used)
			return (struct run *)&rs->run[i];
	return NULL;
}

struct run *runs_find_id(struct runs *rs, const char *project, const char *run_id)
{
	for (int i = 0; i < TRACKER_MAX_RUNS; i++)
		if (rs->run[i].used && !strcmp(rs->run[i].run_id, run_id) &&
		    (!project || !strcmp(rs->run[i].project, project)))
			return &rs->run[i];
	return NULL;
}

static struct run *newest(struct runs *rs, const char *project, bool open_only)
{
	struct run *best = NULL;

	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &rs->run[i];

		if (r->used && (!open_only || runs_is_open(r)) && !strcmp(r->project, project) &&
		    (!best || r->gen > best->gen))
			best = r;
	}
	return best;
}

struct run *runs_find_project(struct runs *rs, const char *project)
{
	return newest(rs, project, true);
}

const struct run *runs_latest(const struct runs *rs, const char *project)
{
	return newest((struct runs *)rs, project, false);
}

bool runs_is_open(const struct run *r)
{
	return r->used && !r->ended && !r->detached;
}

uint64_t runs_tasks_alive(const struct run *r)
{
	/* Per-CPU sums are read one CPU after another: a task that starts on a
	 * CPU already read and dies on one not yet read can make exited lead. */
	if (r->last.tasks_exited >= r->last.tasks_started)
		return 0;
	return r->last.tasks_started - r->last.tasks_exited;
}

bool runs_apply(struct run *r, const struct run_sample *s, int64_t now_ns)
{
	if (r->ended || r->detached)
		return false;
	r->last = *s;
	if (s->rss_bytes > r->peak_rss_bytes)
		r->peak_rss_bytes = s->rss_bytes;
	if (s->peak_proc_rss_bytes > r->peak_rss_bytes)
		r->peak_rss_bytes = s->peak_proc_rss_bytes;
	if (!s->root_exited || runs_tasks_alive(r) > 0)
		return false;
	r->ended = true;
	r->ended_ns = s->last_exit_unix_ns ? s->last_exit_unix_ns : now_ns;
	return true;
}

void runs_rate(struct run *r, uint64_t cpu_ns, int64_t mono_ns)
{
	/* In-flight time read late can make a total dip: never a negative rate. */
	if (r->have_rate_base && mono_ns > r->rate_mono_ns)
		r->cores = cpu_ns > r->rate_cpu_ns
				   ? (double)(cpu_ns - r->rate_cpu_ns) / (double)(mono_ns - r->rate_mono_ns)
				   : 0;
	if (!r->have_rate_base || cpu_ns > r->rate_cpu_ns)
		r->rate_cpu_ns = cpu_ns;
	r->rate_mono_ns = mono_ns;
	r->have_rate_base = true;
}

void runs_detach(struct run *r, int64_t now_ns)
{
	if (r->ended || r->detached)
		return;
	r->detached = true;
	r->ended_ns = now_ns;
}

void runs_release(struct run *r)
{
	memset(r, 0, sizeof(*r));
}

enum run_status runs_status(const struct run *r)
{
	int st = r->last.exit_status;

	if (!r->last.root_exited)
		return r->last.root_stopped ? RUN_PAUSED : RUN_RUNNING;
	if (r->last.root_left || (WIFEXITED(st) && WEXITSTATUS(st) == 0))
		return RUN_STOPPED;
	return RUN_CRASHED;
}

const char *runs_status_name(enum run_status st)
{
	switch (st) {
	case RUN_RUNNING:
		return "running";
	case RUN_PAUSED:
		return "paused";
	case RUN_STOPPED:
		return "stopped";
	case RUN_CRASHED:
		return "crashed";
	}
	return "unknown";
}

static bool add_iso_or_null(cJSON *o, const char *key, int64_t unix_sec, bool have)
{
	char iso[TIMEFMT_ISO_LEN];

	if (!have)
		return cJSON_AddNullToObject(o, key);
	return cJSON_AddStringToObject(o, key, timefmt_iso(unix_sec, iso));
}

/* [{"comm":..,"cpu_seconds":..}, ...], most CPU first. */
static bool add_top(cJSON *o, const struct top *t)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "top");

	for (size_t i = 0; arr && i < t->n; i++) {
		cJSON *e = cJSON_CreateObject();

		if (!e || !cJSON_AddItemToArray(arr, e) ||
		    !cJSON_AddStringToObject(e, "comm", t->e[i].comm) ||
		    !cJSON_AddNumberToObject(e, "cpu_seconds",
					     (double)((t->e[i].ns + 500) / 1000) / 1e6))
			return false;
	}
	return arr != NULL;
}

/* The agent's costliest tool calls, the CPU of the rest, and the phases. */
static bool add_tools(cJSON *o, const struct acttab_report *t)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "tools");

	for (size_t i = 0; arr && i < t->n; i++) {
		cJSON *e = actions_call_json(&t->tools[i]);

		if (!e || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			return false;
		}
		if (!add_top(e, &t->tools[i].top))
			return false;
	}
	return arr &&
	       cJSON_AddNumberToObject(o, "tools_other_cpu_seconds", (double)t->other_cpu_ns / 1e9) &&
	       actions_phases_json(o, t);
}

uint64_t runs_transcript_tokens(const struct run *r)
{
	return r->tokens.have ? transcript_usage_total(&r->tokens.usage) : 0;
}

static cJSON *count_or_null(bool have, uint64_t n)
{
	return have ? cJSON_CreateNumber((double)n) : cJSON_CreateNull();
}

/* {"input":..,"output":..,"cache_read":..,"cache_creation":..,"total":..,
 * "source":..}: reported counts have no breakdown (nulls); null when the
 * run's tokens are not known at all. */
static bool add_tokens(cJSON *o, const struct run_tokens *t)
{
	const struct transcript_usage *u = &t->usage;
	bool have = !t->reported;
	cJSON *k;

	if (!t->reported && !t->have)
		return cJSON_AddNullToObject(o, "tokens");
	k = cJSON_AddObjectToObject(o, "tokens");
	return k && cJSON_AddItemToObject(k, "input", count_or_null(have, u->input)) &&
	       cJSON_AddItemToObject(k, "output", count_or_null(have, u->output)) &&
	       cJSON_AddItemToObject(k, "cache_read", count_or_null(have, u->cache_read)) &&
	       cJSON_AddItemToObject(k, "cache_creation", count_or_null(have, u->cache_creation)) &&
	       cJSON_AddNumberToObject(k, "total",
				       t->reported ? (double)t->reported_n
						   : (double)transcript_usage_total(u)) &&
	       cJSON_AddStringToObject(k, "source",
				       t->reported ? "reported"
				       : t->source == TRANSCRIPT_CODEX ? "codex"
								       : "claude-code");
}

cJSON *runs_record(const struct run *r)
{
	cJSON *o = cJSON_CreateObject();
	const struct run_sample *s = &r->last;
	bool final = r->ended || r->detached;
	/* A root that left for another run has no exit status here. */
	bool exited = s->root_exited && !s->root_left;
	/* Live members' waits count while they are alive; once they exit, the
	 * kernel-side total has them. */
	uint64_t delay = s->run_delay_ns + (runs_tasks_alive(r) ? s->live_delay_ns : 0);
	bool ok;

	if (!o)
		return NULL;
	ok = cJSON_AddStringToObject(o, "project", r->project) &&
	     cJSON_AddStringToObject(o, "run_id", r->run_id) &&
	     cJSON_AddNumberToObject(o, "pid", r->pid) &&
	     add_iso_or_null(o, "started_at", r->started_ns / 1000000000, true) &&
	     add_iso_or_null(o, "ended_at", r->ended_ns / 1000000000, final) &&
	     cJSON_AddStringToObject(o, "status", runs_status_name(runs_status(r)));
	if (ok && exited && WIFEXITED(s->exit_status))
		ok = cJSON_AddNumberToObject(o, "exit_code", WEXITSTATUS(s->exit_status)) &&
		     cJSON_AddNullToObject(o, "signal");
	else if (ok && exited)
		ok = cJSON_AddNullToObject(o, "exit_code") &&
		     cJSON_AddNumberToObject(o, "signal", WTERMSIG(s->exit_status));
	else if (ok)
		ok = cJSON_AddNullToObject(o, "exit_code") && cJSON_AddNullToObject(o, "signal");
	/* Wall time to the millisecond: the ISO stamps have only seconds. */
	if (ok && final)
		ok = cJSON_AddNumberToObject(
			o, "wall_seconds",
			(double)((r->ended_ns - r->started_ns + 500000) / 1000000) / 1000);
	else if (ok)
		ok = cJSON_AddNullToObject(o, "wall_seconds");
	ok = ok && cJSON_AddNumberToObject(o, "cpu_seconds", (double)s->cpu_ns / 1e9) &&
	     cJSON_AddNumberToObject(o, "cpu_ns", (double)s->cpu_ns) &&
	     cJSON_AddNumberToObject(o, "tasks_started", (double)s->tasks_started) &&
	     cJSON_AddNumberToObject(o, "tasks_alive", (double)runs_tasks_alive(r)) &&
	     cJSON_AddNumberToObject(o, "tasks_lost", (double)s->tasks_lost) &&
	     cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)r->peak_rss_bytes) &&
	     cJSON_AddNumberToObject(o, "run_delay_seconds",
				     (double)((delay + 500000) / 1000000) / 1000) &&
	     /* Unknown: null, never a made-up zero. */
	     (r->have_gpu_seconds ? cJSON_AddNumberToObject(o, "gpu_seconds", r->gpu_seconds)
				  : cJSON_AddNullToObject(o, "gpu_seconds")) &&
	     add_tokens(o, &r->tokens) &&
	     add_top(o, &r->top) && add_tools(o, &r->tools) &&
	     cJSON_AddBoolToObject(o, "detached", r->detached) &&
	     cJSON_AddBoolToObject(o, "adopted", r->adopted);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
