/* The perf_metrics stream: per-project snapshots on one grid, shared by watchers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http/http.h"
#include "log.h"
#include "perfmsg.h"
#include "registry/registry.h"
#include "schedule.h"
#include "stream.h"
#include "timefmt.h"

#define GIB (1024.0 * 1024 * 1024)

/* The stream's own state of one project (same index as the project table). */
struct stream_proj {
	struct perfmsg_baseline base; /* of the run below */
	uint32_t base_gen; /* the run the baseline is of (0: none) */
	char *msg; /* after the headroom */
	size_t len;
	uint64_t gen; /* bumped with each message */
	int64_t next_due_ns;
};

struct stream {
	struct sampler *sampler;
	struct projects *projects;
	const struct runs *runs;
	struct stream_opts opts;
	struct http *http; /* NULL until stream_serve */
	struct http_timer *timer;
	struct schedule sched;
	unsigned watched; /* projects with a watcher */
	int64_t armed_ns; /* when stream_due() is asked for; INT64_MAX: not armed */
	struct stream_proj sp[PROJECTS_MAX];
};

/* p has a new message: its watchers are sent it when writable. */
static void wake(struct stream *st, struct project *p)
{
	if (st->http)
		http_wake(st->http, p);
}

struct stream *stream_new(struct sampler *sm, struct projects *ps, const struct runs *runs,
			  const struct stream_opts *o)
{
	struct stream *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->sampler = sm;
	st->projects = ps;
	st->runs = runs;
	st->opts = *o;
	st->armed_ns = INT64_MAX;
	schedule_init(&st->sched, o->interval_running_ms * 1000000LL,
		      o->interval_idle_ms * 1000000LL);
	return st;
}

void stream_free(struct stream *st)
{
	if (!st)
		return;
	for (int i = 0; i < PROJECTS_MAX; i++)
		free(st->sp[i].msg);
	free(st);
}

static struct stream_proj *sp_of(struct stream *st, const struct project *p)
{
	return &st->sp[projects_index(st->projects, p)];
}

/* The run p's messages show: its newest in the table, else its recorded one. */
static const struct run *shown_run(const struct stream *st, const struct project *p)
{
	const struct run *r = runs_latest(st->runs, p->name);

	return r ? r : p->has_last ? &p->last : NULL;
}

static bool live_status(const struct run *r)
{
	enum run_status s = r ? runs_status(r) : RUN_STOPPED;

	return r && runs_is_open(r) && (s == RUN_RUNNING || s == RUN_PAUSED);
}

static void gpu_view(struct stream *st, const struct run *r, struct perfmsg_view *v)
{
	const struct gpu *gpu = sampler_gpu(st->sampler);
	const struct gpuscan_host *host = gpu_host(gpu);
	struct gpu_usage g;

	v->gpu_available = host->available;
	v->gpu_have_vram_total = host->have_vram_total;
	v->gpu_vram_total_gb = (double)host->vram_total_bytes / GIB;
	if (!host->available)
		return;
	gpu_usage(gpu, r, &g);
	v->gpu_have_percent = g.have_percent;
	v->gpu_percent = g.percent;
	v->gpu_have_vram_used = g.have_vram;
	v->gpu_vram_used_gb = (double)g.vram_bytes / GIB;
}

/* tokens: the project's `agentperf tokens` reports win; else its agents'
 * transcripts: the shown run's, and every run's since the daemon started
 * (those recorded, plus those still in the runs table). */
static void tokens_view(const struct stream *st, const struct project *p, const struct run *shown,
			struct perfmsg_view *v)
{
	uint64_t total = p->transcript_recorded;
	bool seen = p->transcript_seen;

	if (p->tokens_available) {
		v->tokens_available = true;
		v->tokens_current = p->tokens_current;
		v->tokens_total = p->tokens_total;
		return;
	}
	runs_for_each(st->runs, r) {
		if (r->tokens.have && !strcmp(r->project, p->name)) {
			total += runs_transcript_tokens(r);
			seen = true;
		}
	}
	if (!seen)
		return;
	v->tokens_available = true;
	v->tokens_current = shown ? (int64_t)runs_transcript_tokens(shown) : 0;
	v->tokens_total = (int64_t)total;
	if (shown && shown->tokens.have) {
		v->tokens_have_kinds = true;
		v->tokens_input = shown->tokens.usage.input;
		v->tokens_output = shown->tokens.usage.output;
		v->tokens_cache_read = shown->tokens.usage.cache_read;
		v->tokens_cache_creation = shown->tokens.usage.cache_creation;
	}
}

/* Builds p's next message from the sample and wakes its watchers. */
static void snapshot(struct stream *st, struct project *p, const struct sample *sm)
{
	struct stream_proj *sp = sp_of(st, p);
	const struct run *r = shown_run(st, p);
	bool open = r && runs_is_open(r);
	struct perfmsg_view v = { .project = p->name, .now_ms = sm->real_ns / 1000000 };
	struct perfmsg_cpu_sample cur = {
		.run_cpu_ns = r ? r->last.cpu_ns + (open ? r->last.inflight_ns : 0) : 0,
		.mono_ns = sm->mono_ns,
		.host_busy = sm->have_cpu ? sm->cpu.busy : 0,
		.host_total = sm->have_cpu ? sm->cpu.total : 0,
	};
	char started[TIMEFMT_ISO_LEN], tool[TOOLCALL_NAME_MAX + 1];
	size_t len;
	char *msg;

	/* A new run's figures start from a fresh baseline. */
	if (sp->base_gen != (r ? r->gen : 0)) {
		sp->base.have = false;
		sp->base_gen = r ? r->gen : 0;
	}
	perfmsg_cpu_next(&sp->base, cur, open, r ? sm->real_ns - r->started_ns : 0,
			 sampler_ncpus(st->sampler), &v);
	v.has_run = r != NULL;
	v.status = runs_status_name(r ? runs_status(r) : RUN_STOPPED);
	if (r) {
		v.pid = r->pid;
		v.started_at = timefmt_iso(r->started_ns / 1000000000, started);
		v.run_id = r->run_id;
		v.tasks = open ? runs_tasks_alive(r) : 0;
		v.run_rss_gb = open ? (double)r->last.rss_bytes / GIB : 0;
	}
	tokens_view(st, p, r, &v);
	if (open) {
		static const char *const phase[] = { [ACTTAB_IDLE] = "idle", [ACTTAB_MODEL] = "model",
						     [ACTTAB_TOOL] = "tool" };
		enum acttab_phase ph = sampler_agent_phase(st->sampler, r, tool);

		v.agent_phase = phase[ph];
		v.agent_tool = ph == ACTTAB_TOOL && tool[0] ? tool : NULL;
	}
	if (sm->have_mem && sm->mem.total_bytes) {
		uint64_t used = sm->mem.total_bytes - sm->mem.available_bytes;

		v.mem_total_gb = (double)sm->mem.total_bytes / GIB;
		v.mem_used_gb = (double)used / GIB;
		v.mem_percent = 100.0 * (double)used / (double)sm->mem.total_bytes;
	}
	gpu_view(st, r, &v);
	msg = perfmsg_render(&v, st->opts.headroom, &len);
	if (!msg) {
		log_warn("no memory for %s's perf_metrics", p->name);
		return;
	}
	free(sp->msg);
	sp->msg = msg;
	sp->len = len;
	sp->gen++;
	sp->next_due_ns = schedule_next(&st->sched, clock_mono_ns(), live_status(r));
	wake(st, p);
}

/* Asks for stream_due() at the earliest due time of a watched project. */
static void rearm(struct stream *st)
{
	int64_t next = INT64_MAX, now;

	for (int i = 0; i < PROJECTS_MAX; i++)
		if (st->projects->p[i].used && st->projects->p[i].watchers &&
		    st->sp[i].next_due_ns < next)
			next = st->sp[i].next_due_ns;
	st->armed_ns = next;
	if (next == INT64_MAX)
		return;
	now = clock_mono_ns();
	if (st->timer)
		http_timer_arm(st->timer, next > now ? next - now : 0);
}

/* A snapshot of p now, from a walk at most one period old. */
static void snapshot_now(struct stream *st, struct project *p)
{
	snapshot(st, p, sampler_sample(st->sampler, st->sched.period_ns));
	if (sp_of(st, p)->next_due_ns < st->armed_ns)
		rearm(st);
}

void stream_due(struct stream *st)
{
	int64_t now = clock_mono_ns();
	const struct sample *sm = NULL;

	for (int i = 0; i < PROJECTS_MAX; i++) {
		struct project *p = &st->projects->p[i];

		if (!p->used || !p->watchers || !schedule_is_due(&st->sched, st->sp[i].next_due_ns, now))
			continue;
		/* One walk for every project due now, however many. */
		if (!sm)
			sm = sampler_sample(st->sampler, st->sched.period_ns / 2);
		snapshot(st, p, sm);
	}
	rearm(st);
}

struct project *stream_watch(struct stream *st, const char *name)
{
	struct project *p = projects_add(st->projects, name);

	if (!p)
		return NULL;
	if (!st->watched)
		schedule_anchor(&st->sched, clock_mono_ns());
	if (!p->watchers++)
		st->watched++;
	/* A snapshot at once: fresh for a first watcher, else the latest. */
	if (p->watchers == 1 || !sp_of(st, p)->msg)
		snapshot_now(st, p);
	else
		wake(st, p);
	return p;
}

void stream_unwatch(struct stream *st, struct project *p)
{
	struct stream_proj *sp = sp_of(st, p);

	if (!p->watchers || --p->watchers)
		return;
	/* Unwatched, the entry may be reused for another name: nothing of
	 * this one may be shown there. */
	st->watched--;
	free(sp->msg);
	sp->msg = NULL;
	sp->len = 0;
	sp->base.have = false;
	sp->base_gen = 0;
	sp->next_due_ns = 0;
}

const char *stream_message(const struct stream *st, const struct project *p, size_t *len,
			   uint64_t *gen)
{
	const struct stream_proj *sp = &st->sp[projects_index(st->projects, p)];

	*len = sp->len;
	*gen = sp->gen;
	return sp->msg ? sp->msg + st->opts.headroom : NULL;
}

void stream_changed(struct stream *st, const char *project)
{
	struct project *p = projects_get(st->projects, project);

	if (p && p->watchers)
		snapshot_now(st, p);
}

/* --- the WebSocket topics: one per project -------------------------------- */

static void *topic_open(void *ctx, const char *name, int *code, const char **reason)
{
	struct stream *st = ctx;
	struct project *p;

	if (st->opts.registry && !registry_knows(st->opts.registry, name, clock_mono_ns())) {
		*code = 4004;
		*reason = "Project not found in registry";
		return NULL;
	}
	p = stream_watch(st, name);
	if (!p) {
		*code = 1013; /* try again later: the project table is full */
		*reason = NULL;
	}
	return p;
}

static void topic_close(void *ctx, void *topic)
{
	stream_unwatch(ctx, topic);
}

static const char *topic_message(void *ctx, void *topic, size_t *len, uint64_t *gen)
{
	return stream_message(ctx, topic, len, gen);
}

static void on_due(void *ctx)
{
	stream_due(ctx);
}

static const struct http_topics topics = {
	.open = topic_open, .close = topic_close, .message = topic_message
};

int stream_serve(struct stream *st, struct http *h)
{
	if (!(st->timer = http_timer_new(h, on_due, st)))
		return -ENOMEM;
	st->http = h;
	http_serve_topics(h, &topics, st);
	return 0;
}
