/* One run's actions and its agent's tool calls (pure). An action is a
 * process the run's agent forked and everything it forked in turn, counted
 * in the kernel (tracker_abi.h); a tool call is what the agent's transcript
 * says it did. The table joins the two: Codex's shells carry their call's id
 * in CODEX_TOOL_CALL_ID; Claude Code's are told by the tool_use/tool_result
 * window that holds their fork, and by their command when windows overlap.
 * Times are unix ns. Born with its run, freed with it. */
#ifndef AGENTPERF_ACTTAB_H
#define AGENTPERF_ACTTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "actexec.h"
#include "top.h"

/* Actions kept per run; later ones count in the action that forked them
 * (or the agent's share). */
#define ACTTAB_ACTIONS_MAX 4096
/* Tool calls kept per run; later ones are not entries. */
#define ACTTAB_CALLS_MAX 4096
/* Model requests kept per run for the timeline; later ones are summed only. */
#define ACTTAB_SPANS_MAX 2000
/* Command names kept per action; the rest count in its CPU only. */
#define ACTTAB_COMMS 8
/* Tool calls in a report (the costliest); the rest are summed. */
#define ACTTAB_TOOLS_SHOWN 20
/* Tool names whose CPU a report sums (in order of first call); the rest
 * are summed as "other". */
#define ACTTAB_NAMES 16

struct acttab;

struct acttab_tool {
	char id[TOOLCALL_ID_MAX + 1];
	char name[TOOLCALL_NAME_MAX + 1]; /* "" unknown */
	int64_t started_ns, ended_ns; /* ended 0: not yet */
	uint64_t cpu_ns;
	uint64_t tasks;
	struct top top;
};

/* Every call of a tool name, summed. */
struct acttab_name {
	char name[TOOLCALL_NAME_MAX + 1]; /* "unknown": calls the transcript did not name */
	uint64_t cpu_ns;
};

/* What the agent is doing now: waiting for its model, running a tool
 * call, or neither. */
enum acttab_phase { ACTTAB_IDLE, ACTTAB_MODEL, ACTTAB_TOOL };

struct acttab_report {
	size_t n;
	struct acttab_tool tools[ACTTAB_TOOLS_SHOWN]; /* most CPU first */
	uint64_t other_cpu_ns; /* the tool calls past the shown ones */
	uint64_t tools_cpu_ns; /* every tool call's */
	size_t calls; /* tool calls seen */
	pid_t agent; /* 0: not known */
	size_t n_names;
	struct acttab_name names[ACTTAB_NAMES];
	/* The run's wall time, split: waiting for the model (from a request,
	 * the last of a prompt or tool results, to the model's answer), in
	 * tool calls (any open), and the rest. */
	bool have_phases; /* the transcripts told some turn or call */
	uint64_t model_ns, tool_ns, idle_ns;
	enum acttab_phase phase;
	char phase_tool[TOOLCALL_NAME_MAX + 1]; /* ACTTAB_TOOL: the latest open call's name */
};

/* NULL with errno ENOMEM. acttab_free(NULL) is a no-op. */
struct acttab *acttab_new(void);
void acttab_free(struct acttab *t);

/* An action started: forked by spawner at fork_ns, inside action parent (0:
 * the agent level). */
void acttab_start(struct acttab *t, uint64_t id, uint64_t parent, pid_t spawner, pid_t tgid,
		  int64_t fork_ns);
/* Its leader's first exec. */
void acttab_exec(struct acttab *t, uint64_t id, const struct actexec *x);
/* A task of action id ended, with cpu_ns in the run; comm: its command
 * name, NUL-terminated or TRACKER_COMM_LEN bytes. */
void acttab_task_end(struct acttab *t, uint64_t id, const char *comm, uint64_t cpu_ns,
		     int64_t end_ns);
/* A sampling pass: live_begin (the ends told since the last pass count
 * from now, the last pass's live figures go), then each live task of the
 * run (its action, command and CPU so far). Between passes a task is
 * either live or ended, never both. */
void acttab_live_begin(struct acttab *t);
void acttab_live(struct acttab *t, uint64_t id, const char *comm, uint64_t cpu_ns);
/* Events from the agent's transcripts, in the order written. */
void acttab_tool_event(struct acttab *t, const struct toolcall_event *e);
/* Every tool call so far with its CPU, in the order they began (malloc'd
 * into *out, NULL when none). Returns how many, or -ENOMEM. */
int acttab_calls(const struct acttab *t, struct acttab_tool **out);
/* The model requests so far: [start, end) pairs (end 0: still waiting),
 * at most ACTTAB_SPANS_MAX. */
size_t acttab_model_spans(const struct acttab *t, const int64_t (**spans)[2]);
/* When the request the model has not answered yet went out (0: none). */
int64_t acttab_asked(const struct acttab *t);
/* The agent's phase now, and with ACTTAB_TOOL the latest open call's name
 * in tool ("" unknown). */
enum acttab_phase acttab_phase(const struct acttab *t, char tool[TOOLCALL_NAME_MAX + 1]);
/* The agent process, once an action's marks name it; 0 before. */
pid_t acttab_agent(const struct acttab *t);
/* The tool calls and their CPU so far, and the phases of the run's wall
 * time from started_ns to until_ns (its end, or now). */
void acttab_report(const struct acttab *t, int64_t started_ns, int64_t until_ns,
		   struct acttab_report *out);

#endif
