/* CPU per agent action: one table per run, fed by the tracker's events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "clock.h"

struct actions {
	struct run_actions {
		uint32_t gen;
		struct acttab *tab;
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
	for (size_t i = 0; i < TRACKER_MAX_RUNS; i++)
		acttab_free(a->run[i].tab);
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
	memset(r, 0, sizeof(*r));
	if ((r->tab = acttab_new()))
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

void actions_live_begin(struct actions *a)
{
	for (size_t i = 0; i < TRACKER_MAX_RUNS; i++)
		if (a->run[i].tab)
			acttab_live_begin(a->run[i].tab);
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

	if (!agent || a->run[slot].agent_told)
		return 0;
	a->run[slot].agent_told = true;
	return agent;
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

void actions_forget(struct actions *a, uint32_t slot, uint32_t gen)
{
	if (tab_of(a, slot, gen, false)) {
		acttab_free(a->run[slot].tab);
		memset(&a->run[slot], 0, sizeof(a->run[slot]));
	}
}
