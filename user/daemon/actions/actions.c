/* CPU per agent action: one table per run, fed by the tracker's events. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "clock.h"
#include "timefmt.h"

struct actions {
	struct run_actions {
		uint32_t gen;
		struct acttab *tab;
		struct timeline *timeline;
		bool agent_told;
	} run[TRACKER_MAX_RUNS];
};

struct actions *actions_new(void)
{
	struct actions *a = calloc(1, sizeof(*a));

	if (!a)
		errno = ENOMEM;
	return a;
}

void actions_free(struct actions *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < TRACKER_MAX_RUNS; i++) {
		acttab_free(a->run[i].tab);
		free(a->run[i].timeline);
	}
	free(a);
}

/* The table of (slot, gen); with make, a new one replaces another gen's. */
static struct acttab *tab_of(struct actions *a, uint32_t slot, uint32_t gen, bool make)
{
	struct run_actions *r;

	if (slot >= TRACKER_MAX_RUNS || !gen)
		return NULL;
	r = &a->run[slot];
	if (r->tab && r->gen == gen)
		return r->tab;
	if (!make)
		return NULL;
	acttab_free(r->tab);
	free(r->timeline);
	memset(r, 0, sizeof(*r));
	r->tab = acttab_new();
	r->timeline = calloc(1, sizeof(*r->timeline));
	if (!r->tab || !r->timeline) {
		acttab_free(r->tab);
		free(r->timeline);
		memset(r, 0, sizeof(*r));
		return NULL;
	}
	r->gen = gen;
	return r->tab;
}

/* A kernel time (CLOCK_BOOTTIME) as unix time; one past a century of
 * uptime is no kernel's, and becomes 0 ("not known"). */
static int64_t unix_of(uint64_t boot_ns)
{
	return boot_ns < UINT64_C(100) * 365 * 86400 * 1000000000 ? clock_boot_to_real_ns(boot_ns)
								  : 0;
}

void actions_event(struct actions *a, const void *data, size_t len)
{
	const struct tracker_ev_hdr *h = data;
	const struct tracker_ev_action *s = data;
	const struct tracker_ev_task_end *e = data;
	const struct tracker_ev_exec *x = data;
	struct acttab *t;
	struct actexec info;

	if (len < sizeof(*h) || !(t = tab_of(a, h->slot, h->gen, h->type == TRACKER_EV_ACTION)))
		return;
	switch (h->type) {
	case TRACKER_EV_ACTION:
		if (len >= sizeof(*s))
			acttab_start(t, h->action, s->parent, (pid_t)s->spawner_tgid,
				     (pid_t)s->tgid, unix_of(s->fork_ns));
		break;
	case TRACKER_EV_TASK_END:
		if (len >= sizeof(*e))
			acttab_task_end(t, h->action, e->comm, e->cpu_ns,
					unix_of(e->end_ns));
		break;
	case TRACKER_EV_EXEC:
		/* The sizes the kernel wrote must lie inside what came. */
		if (len < offsetof(struct tracker_ev_exec, data) ||
		    x->args_len > TRACKER_EXEC_ARGS_MAX || x->env_len > TRACKER_EXEC_ENV_MAX ||
		    offsetof(struct tracker_ev_exec, data) + x->args_len + x->env_len > len)
			break;
		actexec_parse(x->data, x->args_len, x->data + x->args_len, x->env_len, &info);
		acttab_exec(t, h->action, &info);
		break;
	}
}

void actions_live_begin(struct actions *a, uint32_t slot, uint32_t gen)
{
	struct acttab *t = tab_of(a, slot, gen, false);

	if (t)
		acttab_live_begin(t);
}

void actions_live(struct actions *a, const struct tracker_proc *p)
{
	struct acttab *t;

	if (!p->action || p->slot >= TRACKER_MAX_RUNS || !(t = a->run[p->slot].tab))
		return;
	acttab_live(t, p->action, p->comm, p->cpu_ns);
}

void actions_tools(struct actions *a, uint32_t slot, uint32_t gen,
		   const struct toolcall_event *ev, size_t n)
{
	struct acttab *t = n ? tab_of(a, slot, gen, true) : NULL;

	for (size_t i = 0; t && i < n; i++)
		acttab_tool_event(t, &ev[i]);
}

pid_t actions_new_agent(struct actions *a, uint32_t slot, uint32_t gen)
{
	struct acttab *t = tab_of(a, slot, gen, false);
	pid_t agent = t ? acttab_agent(t) : 0;

	return agent && !a->run[slot].agent_told ? agent : 0;
}

void actions_agent_told(struct actions *a, uint32_t slot, uint32_t gen)
{
	if (tab_of(a, slot, gen, false))
		a->run[slot].agent_told = true;
}

bool actions_report(struct actions *a, uint32_t slot, uint32_t gen, bool ended,
		    int64_t started_ns, int64_t until_ns, struct acttab_report *out)
{
	struct acttab *t = tab_of(a, slot, gen, false);

	if (!t) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	if (ended)
		acttab_live_begin(t);
	acttab_report(t, started_ns, until_ns, out);
	return true;
}

enum acttab_phase actions_phase(struct actions *a, uint32_t slot, uint32_t gen,
				char tool[TOOLCALL_NAME_MAX + 1])
{
	struct acttab *t = tab_of(a, slot, gen, false);

	tool[0] = '\0';
	return t ? acttab_phase(t, tool) : ACTTAB_IDLE;
}

void actions_sample(struct actions *a, uint32_t slot, uint32_t gen, int64_t at_ns,
		    uint64_t cpu_ns, uint64_t rss_bytes, bool have_gpu, double gpu_percent,
		    uint64_t tokens)
{
	if (tab_of(a, slot, gen, true))
		timeline_add(a->run[slot].timeline, at_ns, cpu_ns, rss_bytes, have_gpu, gpu_percent,
			     tokens);
}

cJSON *actions_time_json(int64_t ns)
{
	char buf[TIMEFMT_ISO_LEN];

	return ns ? cJSON_CreateString(timefmt_iso_ms(ns, buf)) : cJSON_CreateNull();
}

/* ns as seconds to the millisecond (transcripts stamp lines in ms). */
static double secs(int64_t ns)
{
	return (double)((ns + 500000) / 1000000) / 1e3;
}

cJSON *actions_call_json(const struct acttab_tool *x)
{
	cJSON *e = cJSON_CreateObject();

	if (!e || !cJSON_AddStringToObject(e, "id", x->id) ||
	    !cJSON_AddItemToObject(e, "name",
				   x->name[0] ? cJSON_CreateString(x->name) : cJSON_CreateNull()) ||
	    !cJSON_AddItemToObject(e, "started_at", actions_time_json(x->started_ns)) ||
	    !cJSON_AddItemToObject(e, "ended_at", actions_time_json(x->ended_ns)) ||
	    !cJSON_AddNumberToObject(e, "cpu_seconds", (double)x->cpu_ns / 1e9) ||
	    !cJSON_AddNumberToObject(e, "tasks", (double)x->tasks)) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

bool actions_phases_json(cJSON *o, const struct acttab_report *rep)
{
	cJSON *ph;

	if (!rep->have_phases)
		return cJSON_AddNullToObject(o, "phases") != NULL;
	return (ph = cJSON_AddObjectToObject(o, "phases")) &&
	       cJSON_AddNumberToObject(ph, "model_seconds", secs((int64_t)rep->model_ns)) &&
	       cJSON_AddNumberToObject(ph, "tool_seconds", secs((int64_t)rep->tool_ns)) &&
	       cJSON_AddNumberToObject(ph, "idle_seconds", secs((int64_t)rep->idle_ns));
}

static bool add_samples(cJSON *o, const struct timeline *tl)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "samples");

	for (size_t i = 0; arr && i < tl->n; i++) {
		const struct timeline_point *p = &tl->p[i];
		cJSON *e = cJSON_CreateObject();

		if (!e || !cJSON_AddItemToArray(arr, e) ||
		    !cJSON_AddItemToObject(e, "at", actions_time_json(p->at_ns)) ||
		    !cJSON_AddNumberToObject(e, "seconds", secs(p->span_ns)) ||
		    !cJSON_AddNumberToObject(e, "cores",
					     round((double)p->cpu_ns / (double)p->span_ns * 1000) /
						     1000) ||
		    !cJSON_AddNumberToObject(e, "rss_bytes", (double)p->rss_bytes) ||
		    !cJSON_AddItemToObject(e, "gpu_percent",
					   p->gpu_ns ? cJSON_CreateNumber(round(
							       p->gpu_busy_ns / (double)p->gpu_ns * 1000) /
									  10)
						     : cJSON_CreateNull()) ||
		    !cJSON_AddNumberToObject(e, "tokens", (double)p->tokens))
			return false;
	}
	return arr != NULL;
}

static int by_cpu_desc(const void *pa, const void *pb)
{
	const struct acttab_tool *a = pa, *b = pb;

	return a->cpu_ns != b->cpu_ns ? (a->cpu_ns > b->cpu_ns ? -1 : 1) : 0;
}

static int by_start(const void *pa, const void *pb)
{
	const struct acttab_tool *a = pa, *b = pb;

	return a->started_ns != b->started_ns ? (a->started_ns < b->started_ns ? -1 : 1) : 0;
}

/* The calls, at most TIMELINE_CALLS_MAX (the costliest), in the order they
 * began; "tools_left_out": how many more there were. */
static bool add_calls(cJSON *o, struct acttab_tool *calls, int n)
{
	cJSON *arr;

	if (n > TIMELINE_CALLS_MAX) {
		qsort(calls, (size_t)n, sizeof(*calls), by_cpu_desc);
		qsort(calls, TIMELINE_CALLS_MAX, sizeof(*calls), by_start);
	}
	if (!cJSON_AddNumberToObject(o, "tools_left_out",
				     n > TIMELINE_CALLS_MAX ? n - TIMELINE_CALLS_MAX : 0))
		return false;
	if (n > TIMELINE_CALLS_MAX)
		n = TIMELINE_CALLS_MAX;
	arr = cJSON_AddArrayToObject(o, "tools");

	for (int i = 0; arr && i < n; i++) {
		cJSON *e = actions_call_json(&calls[i]);

		if (!e || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			return false;
		}
	}
	return arr != NULL;
}

static bool add_model(cJSON *o, const int64_t (*spans)[2], size_t n, int64_t ask_ns)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "model");

	for (size_t i = 0; arr && i <= n; i++) {
		int64_t from = i < n ? spans[i][0] : ask_ns, to = i < n ? spans[i][1] : 0;
		cJSON *e;

		if (i == n && !ask_ns)
			break;
		e = cJSON_CreateObject();
		if (!e || !cJSON_AddItemToArray(arr, e) ||
		    !cJSON_AddItemToObject(e, "started_at", actions_time_json(from)) ||
		    !cJSON_AddItemToObject(e, "ended_at", actions_time_json(to)))
			return false;
	}
	return arr != NULL;
}

int actions_timeline(struct actions *a, uint32_t slot, uint32_t gen, int64_t started_ns,
		     int64_t until_ns, cJSON *o)
{
	struct acttab *t = tab_of(a, slot, gen, false);
	struct acttab_report *rep;
	struct acttab_tool *calls;
	const int64_t(*spans)[2];
	size_t nspans;
	int n;
	bool ok;

	if (!t)
		return -ENOENT;
	rep = malloc(sizeof(*rep));
	n = acttab_calls(t, &calls);
	if (!rep || n < 0) {
		free(rep);
		return -ENOMEM;
	}
	acttab_report(t, started_ns, until_ns, rep);
	nspans = acttab_model_spans(t, &spans);
	ok = add_samples(o, a->run[slot].timeline) && add_calls(o, calls, n) &&
	     add_model(o, spans, nspans, acttab_asked(t)) && actions_phases_json(o, rep);
	free(calls);
	free(rep);
	return ok ? 0 : -ENOMEM;
}

void actions_forget(struct actions *a, uint32_t slot, uint32_t gen)
{
	if (tab_of(a, slot, gen, false)) {
		acttab_free(a->run[slot].tab);
		free(a->run[slot].timeline);
		memset(&a->run[slot], 0, sizeof(a->run[slot]));
	}
}
