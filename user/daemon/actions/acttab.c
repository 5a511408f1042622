/* One run's actions and tool calls, joined. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acttab.h"

#define INDEX_SIZE (2 * ACTTAB_ACTIONS_MAX) /* a power of two */
#define CHAIN_MAX 256 /* parents followed at most (nesting is < 256 deep) */

struct comm {
	char name[TRACKER_COMM_LEN + 1];
	uint64_t done_ns, live_ns;
};

struct act {
	uint64_t id, parent;
	pid_t spawner, tgid;
	int64_t fork_ns, end_ns;
	uint64_t done_ns, live_ns; /* CPU of its ended tasks, and of its live ones at the last pass */
	uint64_t tasks_done, tasks_live;
	bool execd;
	struct actexec x;
	struct comm comms[ACTTAB_COMMS];
	size_t ncomms;
};

struct call {
	struct toolcall_event start; /* kind TOOLCALL_START once seen */
	bool have_start;
	bool open; /* started and not ended, in the phases' count */
	int64_t end_ns;
};

struct acttab {
	struct act *acts;
	size_t n;
	int32_t index[INDEX_SIZE]; /* open addressing: acts + 1, 0 empty */
	struct call *calls;
	size_t ncalls;
	pid_t agent;
	/* Phases: a request waiting for its answer since ask_ns (0: none);
	 * tool calls open since tools_since. */
	bool turns; /* some turn or call was told */
	int64_t ask_ns;
	uint64_t model_ns;
	int64_t (*spans)[2]; /* model requests, for the timeline */
	size_t nspans;
	size_t open_calls;
	int64_t tools_since;
	uint64_t tool_ns;
};

struct acttab *acttab_new(void)
{
	struct acttab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->acts = calloc(ACTTAB_ACTIONS_MAX, sizeof(*t->acts));
	t->calls = calloc(ACTTAB_CALLS_MAX, sizeof(*t->calls));
	t->spans = calloc(ACTTAB_SPANS_MAX, sizeof(*t->spans));
	if (!t->acts || !t->calls || !t->spans) {
		acttab_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void acttab_free(struct acttab *t)
{
	if (!t)
		return;
	free(t->acts);
	free(t->calls);
	free(t->spans);
	free(t);
}

/* Ids are the kernel's ((cpu << 32) | count), not a user's text. */
static size_t slot_of(uint64_t id)
{
	return (size_t)((id * UINT64_C(0x9e3779b97f4a7c15)) >> 40) & (INDEX_SIZE - 1);
}

static struct act *find(const struct acttab *t, uint64_t id)
{
	if (!id)
		return NULL;
	for (size_t i = slot_of(id), k = 0; k < INDEX_SIZE; i = (i + 1) & (INDEX_SIZE - 1), k++) {
		int32_t v = t->index[i];

		if (!v)
			return NULL;
		if (t->acts[v - 1].id == id)
			return &t->acts[v - 1];
	}
	return NULL;
}

void acttab_start(struct acttab *t, uint64_t id, uint64_t parent, pid_t spawner, pid_t tgid,
		  int64_t fork_ns)
{
	struct act *a;
	size_t i;

	if (!id || t->n >= ACTTAB_ACTIONS_MAX || find(t, id))
		return;
	a = &t->acts[t->n];
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->parent = parent;
	a->spawner = spawner;
	a->tgid = tgid;
	a->fork_ns = fork_ns;
	for (i = slot_of(id); t->index[i]; i = (i + 1) & (INDEX_SIZE - 1))
		;
	t->index[i] = (int32_t)++t->n;
}

/* Whether a's marks name its spawner as the run's agent: a Codex call's
 * outermost shell, or a shell whose CLAUDE_PID is its spawner. */
static bool names_agent(const struct acttab *t, const struct act *a)
{
	const struct act *p;

	if (a->x.call_id[0]) {
		p = find(t, a->parent);
		return !p || !p->x.call_id[0];
	}
	return a->x.claude_pid && a->x.claude_pid == a->spawner;
}

void acttab_exec(struct acttab *t, uint64_t id, const struct actexec *x)
{
	struct act *a = find(t, id);

	if (!a)
		return;
	/* Each of the leader's first execs may add a mark (Codex's tool
	 * process first execs its setup, with an empty environment). */
	a->execd = true;
	if (!a->x.call_id[0])
		memcpy(a->x.call_id, x->call_id, sizeof(x->call_id));
	if (!a->x.claude_pid)
		a->x.claude_pid = x->claude_pid;
	if (!a->x.cmd_hash)
		a->x.cmd_hash = x->cmd_hash;
	if (!t->agent && names_agent(t, a))
		t->agent = a->spawner;
}

static struct comm *comm_of(struct act *a, const char *name)
{
	char n[TRACKER_COMM_LEN + 1];

	memcpy(n, name, TRACKER_COMM_LEN);
	n[TRACKER_COMM_LEN] = '\0';
	for (size_t i = 0; i < a->ncomms; i++)
		if (!strcmp(a->comms[i].name, n))
			return &a->comms[i];
	if (a->ncomms == ACTTAB_COMMS)
		return NULL;
	memcpy(a->comms[a->ncomms].name, n, sizeof(n));
	return &a->comms[a->ncomms++];
}

void acttab_task_end(struct acttab *t, uint64_t id, const char *comm, uint64_t cpu_ns,
		     int64_t end_ns)
{
	struct act *a = find(t, id);
	struct comm *c;

	if (!a)
		return;
	a->done_ns += cpu_ns;
	a->tasks_done++;
	if (end_ns > a->end_ns)
		a->end_ns = end_ns;
	if ((c = comm_of(a, comm)))
		c->done_ns += cpu_ns;
}

void acttab_live_begin(struct acttab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		t->acts[i].live_ns = 0;
		t->acts[i].tasks_live = 0;
		for (size_t k = 0; k < t->acts[i].ncomms; k++)
			t->acts[i].comms[k].live_ns = 0;
	}
}

void acttab_live(struct acttab *t, uint64_t id, const char *comm, uint64_t cpu_ns)
{
	struct act *a = find(t, id);
	struct comm *c;

	if (!a)
		return;
	a->live_ns += cpu_ns;
	a->tasks_live++;
	if ((c = comm_of(a, comm)))
		c->live_ns += cpu_ns;
}

static struct call *call_of(struct acttab *t, const char *id, bool add)
{
	for (size_t i = 0; i < t->ncalls; i++)
		if (!strcmp(t->calls[i].start.id, id))
			return &t->calls[i];
	if (!add || t->ncalls == ACTTAB_CALLS_MAX)
		return NULL;
	memset(&t->calls[t->ncalls], 0, sizeof(t->calls[0]));
	strcpy(t->calls[t->ncalls].start.id, id);
	return &t->calls[t->ncalls++];
}

static int64_t since(int64_t from, int64_t to)
{
	return to > from ? to - from : 0;
}

void acttab_tool_event(struct acttab *t, const struct toolcall_event *e)
{
	struct call *c;

	t->turns = true;
	if (e->kind == TOOLCALL_ASK) {
		t->ask_ns = e->at_ns; /* the last of a turn's results sends it */
		return;
	}
	if (e->kind == TOOLCALL_ANSWER) {
		if (t->ask_ns) {
			t->model_ns += (uint64_t)since(t->ask_ns, e->at_ns);
			if (t->nspans < ACTTAB_SPANS_MAX) {
				t->spans[t->nspans][0] = t->ask_ns;
				t->spans[t->nspans++][1] = e->at_ns;
			}
		}
		t->ask_ns = 0;
		return;
	}
	if (!(c = call_of(t, e->id, true)))
		return;
	if (e->kind == TOOLCALL_START) {
		/* The first line of a call counts (Claude Code writes a block
		 * again when a message is resent). */
		if (!c->have_start) {
			c->start = *e;
			c->have_start = true;
			if (!c->end_ns) {
				c->open = true;
				if (!t->open_calls++)
					t->tools_since = e->at_ns;
			}
		}
		return;
	}
	if (!c->end_ns || e->at_ns < c->end_ns)
		c->end_ns = e->at_ns;
	if (c->open) {
		c->open = false;
		if (!--t->open_calls)
			t->tool_ns += (uint64_t)since(t->tools_since, e->at_ns);
	}
}

pid_t acttab_agent(const struct acttab *t)
{
	return t->agent;
}

/* The report's working state: which call (index into calls, or into the
 * extra calls Codex's ids name) each action belongs to. */
struct join {
	const struct acttab *t;
	int32_t *owner; /* per action: the call it counts for, -1 none */
	size_t nextra; /* calls named by a shell's CODEX_TOOL_CALL_ID only */
};

static bool tool_level(const struct acttab *t, const struct act *a)
{
	return t->agent && a->spawner == t->agent;
}

/* The agent's own action around a (the outermost that the agent forked),
 * or NULL when a is not inside one. */
static const struct act *tool_root(const struct acttab *t, const struct act *a)
{
	for (int k = 0; a && k < CHAIN_MAX; k++, a = find(t, a->parent))
		if (tool_level(t, a))
			return a;
	return NULL;
}

static bool in_window(const struct call *c, const struct act *a)
{
	return c->have_start && a->fork_ns >= c->start.at_ns && (!c->end_ns || a->fork_ns <= c->end_ns);
}

/* Gives each of the agent's actions the call that claims it. */
static void claim(struct join *j, int32_t *claimed, size_t ncalls_all)
{
	const struct acttab *t = j->t;

	for (size_t i = 0; i < t->n; i++)
		claimed[i] = -1;
	/* Codex: by id. A call the rollout does not hold (yet) is one all the same. */
	for (size_t i = 0; i < t->n; i++) {
		const struct act *a = &t->acts[i];

		if (!tool_level(t, a) || !a->x.call_id[0])
			continue;
		for (size_t c = 0; c < t->ncalls; c++)
			if (!strcmp(t->calls[c].start.id, a->x.call_id))
				claimed[i] = (int32_t)c;
		if (claimed[i] < 0 && t->ncalls + j->nextra < ncalls_all)
			claimed[i] = (int32_t)(t->ncalls + j->nextra++);
	}
	/* Claude Code: the window that holds the fork, with the same command
	 * (parallel calls' windows overlap; the agent's own helpers, a shell
	 * snapshot among them, run no call's command). */
	for (size_t c = 0; c < t->ncalls; c++) {
		const struct call *call = &t->calls[c];

		if (call->start.source != TRANSCRIPT_CLAUDE || !call->start.cmd_hash)
			continue;
		for (size_t i = 0; i < t->n; i++) {
			const struct act *a = &t->acts[i];

			if (claimed[i] < 0 && tool_level(t, a) && !a->x.call_id[0] &&
			    in_window(call, a) && a->x.cmd_hash == call->start.cmd_hash) {
				claimed[i] = (int32_t)c;
				break;
			}
		}
	}
}

/* The agent's actions that name their call by id. */
static size_t by_id(const struct acttab *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += tool_level(t, &t->acts[i]) && t->acts[i].x.call_id[0];
	return n;
}

static int by_cpu(const void *pa, const void *pb)
{
	const struct acttab_tool *a = pa, *b = pb;
	int64_t wa = (a->ended_ns ? a->ended_ns : a->started_ns) - a->started_ns;
	int64_t wb = (b->ended_ns ? b->ended_ns : b->started_ns) - b->started_ns;

	if (a->cpu_ns != b->cpu_ns)
		return a->cpu_ns > b->cpu_ns ? -1 : 1;
	if (wa != wb)
		return wa > wb ? -1 : 1;
	return strcmp(a->id, b->id);
}

static void add_name(struct acttab_report *out, const char *name, uint64_t cpu_ns)
{
	size_t i;

	for (i = 0; i < out->n_names; i++)
		if (!strcmp(out->names[i].name, name))
			break;
	if (i == out->n_names) {
		if (i == ACTTAB_NAMES) {
			i--; /* the last one sums the rest */
			strcpy(out->names[i].name, "other");
		} else {
			strcpy(out->names[i].name, name);
			out->n_names++;
		}
	}
	out->names[i].cpu_ns += cpu_ns;
}

enum acttab_phase acttab_phase(const struct acttab *t, char tool[TOOLCALL_NAME_MAX + 1]);

/* The phases of the wall time up to until_ns. */
static void phases(const struct acttab *t, int64_t started_ns, int64_t until_ns,
		   struct acttab_report *out)
{
	uint64_t wall = (uint64_t)since(started_ns, until_ns);

	out->have_phases = t->turns;
	out->model_ns = t->model_ns + (t->ask_ns ? (uint64_t)since(t->ask_ns, until_ns) : 0);
	out->tool_ns = t->tool_ns + (t->open_calls ? (uint64_t)since(t->tools_since, until_ns) : 0);
	out->idle_ns = wall > out->model_ns + out->tool_ns ? wall - out->model_ns - out->tool_ns : 0;
	out->phase = acttab_phase(t, out->phase_tool);
}

enum acttab_phase acttab_phase(const struct acttab *t, char tool[TOOLCALL_NAME_MAX + 1])
{
	int64_t latest = 0;

	tool[0] = '\0';
	if (!t->open_calls)
		return t->ask_ns ? ACTTAB_MODEL : ACTTAB_IDLE;
	for (size_t c = 0; c < t->ncalls; c++)
		if (t->calls[c].open && t->calls[c].start.at_ns >= latest) {
			latest = t->calls[c].start.at_ns;
			strcpy(tool, t->calls[c].start.name);
		}
	return ACTTAB_TOOL;
}

/* Every call with its CPU, unsorted, into a malloc'd *out. Returns how
 * many, or -ENOMEM. */
static int join_calls(const struct acttab *t, struct acttab_tool **out)
{
	size_t nall = t->ncalls + by_id(t) + 1, used, kept;
	struct acttab_tool *all = calloc(nall, sizeof(*all));
	struct top_acc *acc = calloc(1, sizeof(*acc));
	int32_t *claimed = calloc(t->n + 1, sizeof(*claimed));
	struct join j = { .t = t };

	*out = NULL;
	if (!all || !acc || !claimed) {
		free(all);
		free(acc);
		free(claimed);
		return -ENOMEM;
	}
	claim(&j, claimed, nall);
	used = t->ncalls + j.nextra;
	for (size_t c = 0; c < t->ncalls; c++) {
		const struct call *call = &t->calls[c];

		strcpy(all[c].id, call->start.id);
		strcpy(all[c].name, call->start.name);
		all[c].started_ns = call->have_start ? call->start.at_ns : 0;
		all[c].ended_ns = call->end_ns;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct act *a = &t->acts[i];

		if (claimed[i] >= (int32_t)t->ncalls) {
			struct acttab_tool *x = &all[claimed[i]];

			strcpy(x->id, a->x.call_id);
			x->started_ns = a->fork_ns;
			x->ended_ns = a->end_ns;
		}
	}
	/* Every action counts for the call that claims its outermost agent's action. */
	for (size_t c = 0; c < used; c++) {
		struct acttab_tool *x = &all[c];

		memset(acc, 0, sizeof(*acc));
		for (size_t i = 0; i < t->n; i++) {
			const struct act *a = &t->acts[i], *r = tool_root(t, a);

			if (!r || claimed[r - t->acts] != (int32_t)c)
				continue;
			x->cpu_ns += a->done_ns + a->live_ns;
			x->tasks += a->tasks_done + a->tasks_live;
			for (size_t k = 0; k < a->ncomms; k++)
				top_add(acc, a->comms[k].name, a->comms[k].done_ns + a->comms[k].live_ns);
		}
		top_result(acc, &x->top);
	}
	/* Calls no one has seen begin (an end line alone) are not entries. */
	kept = 0;
	for (size_t c = 0; c < used; c++)
		if (all[c].started_ns)
			all[kept++] = all[c];
	free(acc);
	free(claimed);
	*out = all;
	return (int)kept;
}

static int by_start(const void *pa, const void *pb)
{
	const struct acttab_tool *a = pa, *b = pb;

	if (a->started_ns != b->started_ns)
		return a->started_ns < b->started_ns ? -1 : 1;
	return strcmp(a->id, b->id);
}

int acttab_calls(const struct acttab *t, struct acttab_tool **out)
{
	int n = join_calls(t, out);

	if (n > 0)
		qsort(*out, (size_t)n, sizeof(**out), by_start);
	return n;
}

int64_t acttab_asked(const struct acttab *t)
{
	return t->ask_ns;
}

size_t acttab_model_spans(const struct acttab *t, const int64_t (**spans)[2])
{
	*spans = t->spans;
	return t->nspans;
}

void acttab_report(const struct acttab *t, int64_t started_ns, int64_t until_ns,
		   struct acttab_report *out)
{
	struct acttab_tool *all;
	int n;

	memset(out, 0, sizeof(*out));
	out->agent = t->agent;
	phases(t, started_ns, until_ns, out);
	n = join_calls(t, &all);
	if (n < 0)
		return;
	for (int c = 0; c < n; c++)
		add_name(out, all[c].name[0] ? all[c].name : "unknown", all[c].cpu_ns);
	qsort(all, (size_t)n, sizeof(*all), by_cpu);
	out->calls = (size_t)n;
	for (int c = 0; c < n; c++) {
		out->tools_cpu_ns += all[c].cpu_ns;
		if (c < ACTTAB_TOOLS_SHOWN)
			out->tools[out->n++] = all[c];
		else
			out->other_cpu_ns += all[c].cpu_ns;
	}
	free(all);
}
