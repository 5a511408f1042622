/* One run's actions and tool calls, joined. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acttab.h"

#define INDEX_SIZE (2 * ACTTAB_ACTIONS_MAX) /* a power of two */
#define CALL_INDEX_SIZE (2 * ACTTAB_CALLS_MAX) /* a power of two */
#define CHAIN_MAX 256 /* parents followed at most (nesting is < 256 deep) */

struct comm {
	char name[TRACKER_COMM_LEN + 1];
	uint64_t done_ns, live_ns, pend_ns;
};

struct act {
	uint64_t id, parent;
	pid_t spawner, tgid;
	int64_t fork_ns, end_ns;
	/* CPU of its ended tasks, and of its live ones at the last pass. A
	 * task's end is pending until the next pass: that pass's live
	 * figures drop it as they take its end. */
	uint64_t done_ns, live_ns, pend_ns;
	uint64_t tasks_done, tasks_live, tasks_pend;
	struct actexec x;
	struct comm comms[ACTTAB_COMMS];
	size_t ncomms;
};

struct call {
	struct toolcall_event start; /* its id always; the rest once its START is seen */
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
	/* Calls by their id's keyed hash (ids are the user's text): calls + 1, 0 empty. */
	int32_t call_index[CALL_INDEX_SIZE];
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
	if (!a->x.call_id[0]) {
		memcpy(a->x.call_id, x->call_id, sizeof(x->call_id));
		a->x.call_hash = x->call_hash;
	}
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
	size_t len = strnlen(name, TRACKER_COMM_LEN);

	memcpy(n, name, len);
	n[len] = '\0';
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
	a->pend_ns += cpu_ns;
	a->tasks_pend++;
	if (end_ns > a->end_ns)
		a->end_ns = end_ns;
	if ((c = comm_of(a, comm)))
		c->pend_ns += cpu_ns;
}

void acttab_live_begin(struct acttab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct act *a = &t->acts[i];

		a->done_ns += a->pend_ns;
		a->tasks_done += a->tasks_pend;
		a->live_ns = a->pend_ns = a->tasks_live = a->tasks_pend = 0;
		for (size_t k = 0; k < a->ncomms; k++) {
			a->comms[k].done_ns += a->comms[k].pend_ns;
			a->comms[k].live_ns = a->comms[k].pend_ns = 0;
		}
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

/* The call of id (keyed hash h), or -1. */
static int32_t call_find(const struct acttab *t, uint64_t h, const char *id)
{
	for (size_t i = h & (CALL_INDEX_SIZE - 1), k = 0; k < CALL_INDEX_SIZE;
	     i = (i + 1) & (CALL_INDEX_SIZE - 1), k++) {
		int32_t v = t->call_index[i];

		if (!v)
			return -1;
		if (t->calls[v - 1].start.id_hash == h && !strcmp(t->calls[v - 1].start.id, id))
			return v - 1;
	}
	return -1;
}

/* e's call, made if new (NULL when the table is full). */
static struct call *call_of(struct acttab *t, const struct toolcall_event *e)
{
	int32_t c = call_find(t, e->id_hash, e->id);
	size_t i;

	if (c >= 0)
		return &t->calls[c];
	if (t->ncalls == ACTTAB_CALLS_MAX)
		return NULL;
	memset(&t->calls[t->ncalls], 0, sizeof(t->calls[0]));
	strcpy(t->calls[t->ncalls].start.id, e->id);
	t->calls[t->ncalls].start.id_hash = e->id_hash;
	for (i = e->id_hash & (CALL_INDEX_SIZE - 1); t->call_index[i]; i = (i + 1) & (CALL_INDEX_SIZE - 1))
		;
	t->call_index[i] = (int32_t)++t->ncalls;
	return &t->calls[t->ncalls - 1];
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
	if (!e->id[0] || !(c = call_of(t, e)))
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

int64_t acttab_asked(const struct acttab *t)
{
	return t->ask_ns;
}

size_t acttab_model_spans(const struct acttab *t, const int64_t (**spans)[2])
{
	*spans = t->spans;
	return t->nspans;
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

/* --- joining actions and calls --------------------------------------------
 * In time linear in the table (or n log n), whatever a user's agent does:
 * reports run on the loop thread, at each /metrics scrape among others. */

static bool tool_level(const struct acttab *t, const struct act *a)
{
	return t->agent && a->spawner == t->agent;
}

/* One joined call: its entry, and the call (or Codex-only id) it is. */
struct jcall {
	struct acttab_tool tool;
	int32_t key;
};

/* The working state of one join. */
struct join {
	const struct acttab *t;
	int32_t *root; /* per action: its outermost agent's action, -1 none */
	int32_t *claimed; /* per action: the jcall it counts for, -1 none */
	struct jcall *calls; /* t->ncalls, then the Codex-only ones */
	size_t n;
};

/* Claude Code's shells and calls, by command and then by time. */
static int by_cmd_fork(const void *pa, const void *pb, void *ctx)
{
	const struct act *acts = ctx, *a = &acts[*(const int32_t *)pa], *b = &acts[*(const int32_t *)pb];

	if (a->x.cmd_hash != b->x.cmd_hash)
		return a->x.cmd_hash < b->x.cmd_hash ? -1 : 1;
	return a->fork_ns < b->fork_ns ? -1 : a->fork_ns > b->fork_ns;
}

static int by_cmd_start(const void *pa, const void *pb, void *ctx)
{
	const struct call *calls = ctx, *a = &calls[*(const int32_t *)pa],
			  *b = &calls[*(const int32_t *)pb];

	if (a->start.cmd_hash != b->start.cmd_hash)
		return a->start.cmd_hash < b->start.cmd_hash ? -1 : 1;
	return a->start.at_ns < b->start.at_ns ? -1 : a->start.at_ns > b->start.at_ns;
}

/* Claude Code: a call claims the earliest unclaimed shell the agent forked
 * inside its tool_use…tool_result window that ran its command (parallel
 * calls' windows overlap; the agent's own helpers, a shell snapshot among
 * them, run no call's command). Returns 0 or -ENOMEM. */
static int claim_by_command(struct join *j)
{
	const struct acttab *t = j->t;
	int32_t *sh = malloc((t->n + 1) * sizeof(*sh)), *cl = malloc((t->ncalls + 1) * sizeof(*cl));
	size_t ns = 0, nc = 0, k = 0;

	if (!sh || !cl) {
		free(sh);
		free(cl);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++)
		if (j->claimed[i] < 0 && tool_level(t, &t->acts[i]) && !t->acts[i].x.call_id[0] &&
		    t->acts[i].x.cmd_hash)
			sh[ns++] = (int32_t)i;
	for (size_t c = 0; c < t->ncalls; c++)
		if (t->calls[c].have_start && t->calls[c].start.source == TRANSCRIPT_CLAUDE &&
		    t->calls[c].start.cmd_hash)
			cl[nc++] = (int32_t)c;
	qsort_r(sh, ns, sizeof(*sh), by_cmd_fork, t->acts);
	qsort_r(cl, nc, sizeof(*cl), by_cmd_start, t->calls);
	for (size_t c = 0; c < nc; c++) {
		const struct call *call = &t->calls[cl[c]];
		uint64_t h = call->start.cmd_hash;

		/* Shells of smaller commands, or forked before this call (and so
		 * before every later one of its command), are no one's. */
		while (k < ns && (t->acts[sh[k]].x.cmd_hash < h ||
				  (t->acts[sh[k]].x.cmd_hash == h &&
				   t->acts[sh[k]].fork_ns < call->start.at_ns)))
			k++;
		if (k < ns && t->acts[sh[k]].x.cmd_hash == h &&
		    (!call->end_ns || t->acts[sh[k]].fork_ns <= call->end_ns))
			j->claimed[sh[k++]] = cl[c];
	}
	free(sh);
	free(cl);
	return 0;
}

static void join_free(struct join *j)
{
	free(j->root);
	free(j->claimed);
	free(j->calls);
}

/* Every call with its CPU and tasks (no top), in j->calls[0, j->n). */
static int join(const struct acttab *t, struct join *j)
{
	size_t extra = 0, n;

	memset(j, 0, sizeof(*j));
	j->t = t;
	for (size_t i = 0; i < t->n; i++)
		extra += tool_level(t, &t->acts[i]) && t->acts[i].x.call_id[0];
	j->root = malloc((t->n + 1) * sizeof(*j->root));
	j->claimed = malloc((t->n + 1) * sizeof(*j->claimed));
	j->calls = calloc(t->ncalls + extra + 1, sizeof(*j->calls));
	if (!j->root || !j->claimed || !j->calls) {
		join_free(j);
		return -ENOMEM;
	}
	n = t->ncalls;
	for (size_t c = 0; c < t->ncalls; c++) {
		struct acttab_tool *x = &j->calls[c].tool;
		const struct call *call = &t->calls[c];

		j->calls[c].key = (int32_t)c;
		strcpy(x->id, call->start.id);
		strcpy(x->name, call->start.name);
		x->started_ns = call->have_start ? call->start.at_ns : 0;
		x->ended_ns = call->end_ns;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct act *a = &t->acts[i];
		int32_t c;

		j->claimed[i] = -1;
		j->root[i] = -1;
		for (int k = 0; a && k < CHAIN_MAX; k++, a = find(t, a->parent))
			if (tool_level(t, a)) {
				j->root[i] = (int32_t)(a - t->acts);
				break;
			}
		a = &t->acts[i];
		if (!tool_level(t, a) || !a->x.call_id[0])
			continue;
		/* Codex: by id; a call the rollout does not hold (yet) is one all the same. */
		c = call_find(t, a->x.call_hash, a->x.call_id);
		if (c < 0) {
			c = (int32_t)n++;
			strcpy(j->calls[c].tool.id, a->x.call_id);
			j->calls[c].tool.started_ns = a->fork_ns;
			j->calls[c].tool.ended_ns = a->end_ns;
			j->calls[c].key = c;
		}
		j->claimed[i] = c;
	}
	if (claim_by_command(j)) {
		join_free(j);
		return -ENOMEM;
	}
	/* Every action counts for the call that claims its outermost agent's action. */
	for (size_t i = 0; i < t->n; i++) {
		const struct act *a = &t->acts[i];
		int32_t r = j->root[i], c = r >= 0 ? j->claimed[r] : -1;

		if (c < 0)
			continue;
		j->calls[c].tool.cpu_ns += a->done_ns + a->live_ns;
		j->calls[c].tool.tasks += a->tasks_done + a->tasks_live;
	}
	/* Calls no one has seen begin (an end line alone) are not entries. */
	j->n = 0;
	for (size_t c = 0; c < n; c++)
		if (j->calls[c].tool.started_ns)
			j->calls[j->n++] = j->calls[c];
	return 0;
}

/* The top commands of joined call key. */
static void call_top(const struct join *j, int32_t key, struct top_acc *acc, struct top *out)
{
	const struct acttab *t = j->t;

	memset(acc, 0, sizeof(*acc));
	for (size_t i = 0; i < t->n; i++) {
		int32_t r = j->root[i];

		if (r < 0 || j->claimed[r] != key)
			continue;
		for (size_t k = 0; k < t->acts[i].ncomms; k++)
			top_add(acc, t->acts[i].comms[k].name,
				t->acts[i].comms[k].done_ns + t->acts[i].comms[k].live_ns);
	}
	top_result(acc, out);
}

static int by_cpu(const void *pa, const void *pb)
{
	const struct acttab_tool *a = &((const struct jcall *)pa)->tool,
				 *b = &((const struct jcall *)pb)->tool;
	int64_t wa = (a->ended_ns ? a->ended_ns : a->started_ns) - a->started_ns;
	int64_t wb = (b->ended_ns ? b->ended_ns : b->started_ns) - b->started_ns;

	if (a->cpu_ns != b->cpu_ns)
		return a->cpu_ns > b->cpu_ns ? -1 : 1;
	if (wa != wb)
		return wa > wb ? -1 : 1;
	return strcmp(a->id, b->id);
}

static int by_start(const void *pa, const void *pb)
{
	const struct acttab_tool *a = &((const struct jcall *)pa)->tool,
				 *b = &((const struct jcall *)pb)->tool;

	if (a->started_ns != b->started_ns)
		return a->started_ns < b->started_ns ? -1 : 1;
	return strcmp(a->id, b->id);
}

int acttab_calls(const struct acttab *t, struct acttab_tool **out)
{
	struct join j;

	*out = NULL;
	if (join(t, &j))
		return -ENOMEM;
	qsort(j.calls, j.n, sizeof(*j.calls), by_start);
	*out = malloc((j.n + 1) * sizeof(**out));
	for (size_t c = 0; *out && c < j.n; c++)
		(*out)[c] = j.calls[c].tool;
	join_free(&j);
	return *out ? (int)j.n : -ENOMEM;
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

void acttab_report(const struct acttab *t, int64_t started_ns, int64_t until_ns,
		   struct acttab_report *out)
{
	struct top_acc *acc = malloc(sizeof(*acc));
	struct join j;

	memset(out, 0, sizeof(*out));
	out->agent = t->agent;
	phases(t, started_ns, until_ns, out);
	if (!acc || join(t, &j)) {
		free(acc);
		return;
	}
	for (size_t c = 0; c < j.n; c++)
		add_name(out, j.calls[c].tool.name[0] ? j.calls[c].tool.name : "unknown",
			 j.calls[c].tool.cpu_ns);
	qsort(j.calls, j.n, sizeof(*j.calls), by_cpu);
	out->calls = j.n;
	for (size_t c = 0; c < j.n; c++) {
		out->tools_cpu_ns += j.calls[c].tool.cpu_ns;
		if (c >= ACTTAB_TOOLS_SHOWN) {
			out->other_cpu_ns += j.calls[c].tool.cpu_ns;
			continue;
		}
		out->tools[out->n] = j.calls[c].tool;
		call_top(&j, j.calls[c].key, acc, &out->tools[out->n++].top);
	}
	join_free(&j);
	free(acc);
}
