/* CPU per agent action: the kernel's actions joined to the transcripts' tool
 * calls (acttab), the shells' marks (actexec), the tool lines
 * (transcript_tools) and the facade's event checks (actions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "fnv.h"
#include "transcript_tools.h"

#define S INT64_C(1000000000)
#define T0 (INT64_C(1795514400) * S)

static uint64_t text_hash(const char *s)
{
	uint64_t h = FNV64_INIT;

	while (*s)
		h = fnv64_byte(h, (unsigned char)*s++);
	return h;
}

/* NUL-separated bytes from a '|'-separated literal. */
static size_t nul_sep(const char *lit, char *out)
{
	size_t n = strlen(lit);

	memcpy(out, lit, n);
	for (size_t i = 0; i < n; i++)
		if (out[i] == '|')
			out[i] = '\0';
	out[n] = '\0';
	return n + 1;
}

static void exec_with(struct acttab *t, uint64_t id, const char *args, const char *env)
{
	char a[1024], e[1024];
	size_t an = args ? nul_sep(args, a) : 0, en = env ? nul_sep(env, e) : 0;
	struct actexec x;

	actexec_parse(a, an, e, en, &x);
	acttab_exec(t, id, &x);
}

static struct toolcall_event call(enum transcript_source src, enum toolcall_kind kind,
				  const char *id, const char *name, int64_t at, uint64_t cmd)
{
	struct toolcall_event e = { .kind = kind, .source = src, .at_ns = at, .cmd_hash = cmd };

	/* As the parser gives it: the id's keyed hash, which claims look up. */
	strcpy(e.id, id);
	e.id_hash = id[0] ? transcript_id_hash(id, strlen(id)) : 0;
	strcpy(e.name, name ? name : "");
	return e;
}

static const struct acttab_tool *tool(const struct acttab_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->tools[i].id, id))
			return &r->tools[i];
	return NULL;
}

/* Codex: node (100) forks codex (101, nested while the agent is unknown),
 * which forks two shells at once; each names its call. */
static void test_codex(void **state)
{
	struct acttab *t = acttab_new();
	struct acttab_report *r = calloc(1, sizeof(*r));
	struct toolcall_event e;
	const struct acttab_tool *a, *b;

	assert_non_null(t);
	acttab_start(t, 1, 0, 100, 101, T0);
	acttab_start(t, 2, 1, 101, 200, T0 + 2 * S);
	acttab_start(t, 3, 1, 101, 300, T0 + 2 * S + 1000);
	acttab_start(t, 4, 2, 200, 201, T0 + 2 * S + 5000); /* the burner, under shell 2 */
	acttab_start(t, 5, 1, 101, 400, T0 + 3 * S); /* a helper (git): no call */
	assert_int_equal(acttab_agent(t), 0);
	/* Codex's tool process first execs its own setup, its environment empty. */
	exec_with(t, 2, "/proc/self/exe|--codex-run-as-process-setup|48", "");
	assert_int_equal(acttab_agent(t), 0);
	exec_with(t, 2, "/bin/bash|-c|burn 1", "PATH=/bin|CODEX_TOOL_CALL_ID=call_a|");
	assert_int_equal(acttab_agent(t), 101);
	exec_with(t, 3, "/bin/bash|-lc|burn 2", "CODEX_TOOL_CALL_ID=call_b|HOME=/root|");
	/* The burner inherits the id: it is inside call_a, not a call of its own. */
	exec_with(t, 4, "burn", "CODEX_TOOL_CALL_ID=call_a|");
	exec_with(t, 5, "git|status", "HOME=/root|");
	e = call(TRANSCRIPT_CODEX, TOOLCALL_START, "call_a", "exec_command", T0 + 2 * S - 1000, 0);
	acttab_tool_event(t, &e);
	e = call(TRANSCRIPT_CODEX, TOOLCALL_START, "call_b", "exec_command", T0 + 2 * S - 900, 0);
	acttab_tool_event(t, &e);
	e = call(TRANSCRIPT_CODEX, TOOLCALL_END, "call_a", NULL, T0 + 5 * S, 0);
	acttab_tool_event(t, &e);
	acttab_task_end(t, 4, "burn", 1500000000, T0 + 4 * S);
	acttab_task_end(t, 2, "bash", 3000000, T0 + 4 * S);
	acttab_task_end(t, 5, "git", 7000000, T0 + 3 * S);
	acttab_task_end(t, 1, "codex", 900000000, T0 + 9 * S);
	/* call_b's shell still runs. */
	acttab_live_begin(t);
	acttab_live(t, 3, "bash", 250000000);
	/* The burner of call_b, live at the pass, ends before the next: its
	 * end waits for that pass, so it counts once. */
	acttab_live(t, 3, "burn", 100000000);
	acttab_task_end(t, 3, "burn", 120000000, T0 + 4 * S);
	acttab_report(t, T0, T0 + 10 * S, r);
	assert_int_equal(tool(r, "call_b")->cpu_ns, 350000000);
	acttab_live_begin(t);
	acttab_live(t, 3, "bash", 250000000);
	acttab_report(t, T0, T0 + 10 * S, r);
	assert_int_equal(r->agent, 101);
	assert_int_equal(r->n, 2);
	a = tool(r, "call_a");
	b = tool(r, "call_b");
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(a, &r->tools[0]); /* the costliest first */
	assert_string_equal(a->name, "exec_command");
	assert_int_equal(a->cpu_ns, 1503000000);
	assert_int_equal(a->tasks, 2);
	assert_int_equal(a->started_ns, T0 + 2 * S - 1000);
	assert_int_equal(a->ended_ns, T0 + 5 * S);
	assert_string_equal(a->top.e[0].comm, "burn");
	assert_int_equal(b->cpu_ns, 370000000);
	assert_int_equal(b->ended_ns, 0);
	assert_int_equal(r->tools_cpu_ns, 1873000000);
	assert_int_equal(r->other_cpu_ns, 0);
	/* Ended: live figures go. */
	acttab_live_begin(t);
	acttab_report(t, T0, T0 + 10 * S, r);
	assert_int_equal(tool(r, "call_b")->cpu_ns, 120000000);
	acttab_free(t);
	free(r);
}

/* A Codex shell whose call the rollout does not hold (yet) is a call all
 * the same, named by its id, timed by its action. */
static void test_codex_unnamed(void **state)
{
	struct acttab *t = acttab_new();
	struct acttab_report *r = calloc(1, sizeof(*r));

	acttab_start(t, 7, 0, 50, 60, T0);
	exec_with(t, 7, "sh|-c|x", "CODEX_TOOL_CALL_ID=call_z|");
	acttab_task_end(t, 7, "sh", 42, T0 + S);
	/* Told, its end counts from the next pass. */
	acttab_report(t, T0, T0 + 10 * S, r);
	assert_int_equal(r->tools[0].cpu_ns, 0);
	acttab_live_begin(t);
	acttab_report(t, T0, T0 + 10 * S, r);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->tools[0].id, "call_z");
	assert_string_equal(r->tools[0].name, "");
	assert_int_equal(r->tools[0].started_ns, T0);
	assert_int_equal(r->tools[0].ended_ns, T0 + S);
	assert_int_equal(r->tools[0].cpu_ns, 42);
	acttab_free(t);
	free(r);
}

/* Claude Code: both tool_use lines of one message come before the first
 * shell, so each window holds both shells; the commands tell them apart.
 * A Read call has no process; a helper of the agent's is no call. */
static void test_claude(void **state)
{
	const char *cmd1 = "python3 -c 'burn(1)'", *cmd2 = "sleep 1; echo \"done\"";
	char args1[512], args2[512];
	struct acttab *t = acttab_new();
	struct acttab_report *r = calloc(1, sizeof(*r));
	struct toolcall_event e;
	const struct acttab_tool *a, *b, *c;

	/* As Claude Code quotes a command: ' becomes '\'' inside '...'. */
	snprintf(args1, sizeof(args1),
		 "/bin/bash|-c|source /root/.claude/shell-snapshots/snapshot-bash-1.sh && "
		 "eval 'python3 -c '\"'\"'burn(1)'\"'\"'' < /dev/null && pwd -P >| /tmp/claude-1-cwd");
	snprintf(args2, sizeof(args2),
		 "/bin/bash|-c|source /root/.claude/shell-snapshots/snapshot-bash-1.sh && "
		 "eval 'sleep 1; echo \"done\"' < /dev/null && pwd -P >| /tmp/claude-2-cwd");
	/* The prompt goes out 2 s before the model's answer (its tool calls). */
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_ASK, "", NULL, T0 - 2 * S, 0);
	acttab_tool_event(t, &e);
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_ANSWER, "", NULL, T0, 0);
	acttab_tool_event(t, &e);
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_START, "toolu_1", "Bash", T0, text_hash(cmd1));
	acttab_tool_event(t, &e);
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_START, "toolu_2", "Bash", T0 + 1000, text_hash(cmd2));
	acttab_tool_event(t, &e);
	/* The second call's shell starts first. */
	acttab_start(t, 11, 0, 77, 500, T0 + 200000000);
	acttab_start(t, 12, 0, 77, 501, T0 + 210000000);
	acttab_start(t, 13, 11, 501, 502, T0 + 220000000); /* the burner, nested */
	acttab_start(t, 14, 0, 77, 503, T0 + 100000000); /* git, before any call */
	acttab_start(t, 15, 0, 77, 504, T0 + 150000000); /* the shell snapshot, in both windows */
	exec_with(t, 15, "/bin/bash|-c|-l|SNAPSHOT_FILE=/root/.claude/shell-snapshots/s.sh; x",
		  "CLAUDE_PID=77|");
	exec_with(t, 11, args2, "CLAUDE_PID=77|CLAUDE_CODE_SESSION_ID=s|");
	exec_with(t, 12, args1, "CLAUDE_PID=77|");
	exec_with(t, 14, "git|rev-parse", "CLAUDE_PID=77|");
	exec_with(t, 13, "python3|-c|burn(1)", "CLAUDE_PID=77|");
	assert_int_equal(acttab_agent(t), 77);
	acttab_task_end(t, 11, "bash", 5000000, T0 + S);
	acttab_task_end(t, 13, "python3", 990000000, T0 + 2 * S);
	acttab_task_end(t, 12, "bash", 4000000, T0 + 2 * S);
	acttab_task_end(t, 14, "git", 8000000, T0 + S);
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_END, "toolu_2", NULL, T0 + S + 20000000, 0);
	acttab_tool_event(t, &e);
	/* While toolu_1 runs, the phase is the tool's. */
	acttab_report(t, T0 - 3 * S, T0 + S + 500000000, r);
	assert_int_equal(r->phase, ACTTAB_TOOL);
	assert_string_equal(r->phase_tool, "Bash");
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_ASK, "", NULL, T0 + S + 20000000, 0);
	acttab_tool_event(t, &e);
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_END, "toolu_1", NULL, T0 + 2 * S + 20000000, 0);
	acttab_tool_event(t, &e);
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_ASK, "", NULL, T0 + 2 * S + 20000000, 0);
	acttab_tool_event(t, &e);
	/* Both results are in: the model is asked. */
	acttab_report(t, T0 - 3 * S, T0 + 2 * S + 30000000, r);
	assert_int_equal(r->phase, ACTTAB_MODEL);
	assert_int_equal(r->model_ns, 2 * S + 10000000);
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_ANSWER, "", NULL, T0 + 2 * S + 500000000, 0);
	acttab_tool_event(t, &e);
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_START, "toolu_3", "Read", T0 + 3 * S, 0);
	acttab_tool_event(t, &e);
	e = call(TRANSCRIPT_CLAUDE, TOOLCALL_END, "toolu_3", NULL, T0 + 3 * S + 5000000, 0);
	acttab_tool_event(t, &e);
	acttab_live_begin(t);
	acttab_report(t, T0 - 3 * S, T0 + 4 * S, r);
	/* The wall time, split: 2 s + 0.48 s waiting for the model, the calls'
	 * union (2.02 s, then 5 ms) in tools, the rest idle. */
	assert_int_equal(r->phase, ACTTAB_IDLE);
	assert_int_equal(r->model_ns, 2480000000);
	assert_int_equal(r->tool_ns, 2025000000);
	assert_int_equal(r->idle_ns, 7 * S - 2480000000 - 2025000000);
	assert_int_equal(r->n, 3);
	a = tool(r, "toolu_1");
	b = tool(r, "toolu_2");
	c = tool(r, "toolu_3");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	/* Shell 12 ran cmd1, and the burner is shell 11's child... */
	assert_int_equal(a->cpu_ns, 4000000);
	assert_int_equal(b->cpu_ns, 995000000);
	assert_int_equal(b->tasks, 2);
	assert_string_equal(b->top.e[0].comm, "python3");
	/* ...the Read call has its wall time only, git is no call. */
	assert_int_equal(c->cpu_ns, 0);
	assert_int_equal(c->ended_ns - c->started_ns, 5000000);
	assert_int_equal(r->tools_cpu_ns, 999000000);
	assert_ptr_equal(b, &r->tools[0]);
	assert_ptr_equal(c, &r->tools[2]);
	acttab_free(t);
	free(r);
}

/* A thousand calls of one command in turn: each claims its own shell (the
 * join sorts, so a user's thousands of calls cost the loop n log n). */
static void test_same_command(void **state)
{
	struct acttab *t = acttab_new();
	struct acttab_report *r = calloc(1, sizeof(*r));
	struct toolcall_event e;
	char id[32];

	for (int i = 1; i <= 1000; i++) {
		snprintf(id, sizeof(id), "toolu_%d", i);
		e = call(TRANSCRIPT_CLAUDE, TOOLCALL_START, id, "Bash", T0 + i * S, text_hash("make"));
		acttab_tool_event(t, &e);
		acttab_start(t, (uint64_t)i, 0, 77, 1000 + i, T0 + i * S + S / 10);
		exec_with(t, (uint64_t)i, "/bin/bash|-c|eval 'make' < /dev/null", "CLAUDE_PID=77|");
		acttab_task_end(t, (uint64_t)i, "make", (uint64_t)i * 1000, T0 + i * S + S / 2);
		e = call(TRANSCRIPT_CLAUDE, TOOLCALL_END, id, NULL, T0 + i * S + S / 2, 0);
		acttab_tool_event(t, &e);
	}
	acttab_live_begin(t);
	acttab_report(t, T0, T0 + 1001 * S, r);
	assert_int_equal(r->calls, 1000);
	for (int k = 0; k < ACTTAB_TOOLS_SHOWN; k++) {
		snprintf(id, sizeof(id), "toolu_%d", 1000 - k);
		assert_string_equal(r->tools[k].id, id);
		assert_int_equal(r->tools[k].cpu_ns, (uint64_t)(1000 - k) * 1000);
	}
	assert_int_equal(r->tools_cpu_ns, (uint64_t)1000 * 1001 / 2 * 1000);
	acttab_free(t);
	free(r);
}

/* More calls than are shown: the rest are summed. */
static void test_many(void **state)
{
	struct acttab *t = acttab_new();
	struct acttab_report *r = calloc(1, sizeof(*r));
	char env[64];

	for (int i = 1; i <= 25; i++) {
		snprintf(env, sizeof(env), "CODEX_TOOL_CALL_ID=call_%d|", i);
		acttab_start(t, (uint64_t)i, 0, 9, 1000 + i, T0 + i);
		exec_with(t, (uint64_t)i, "sh", env);
		acttab_task_end(t, (uint64_t)i, "sh", (uint64_t)i * 1000, T0 + S);
	}
	acttab_live_begin(t);
	acttab_report(t, T0, T0 + 10 * S, r);
	assert_int_equal(r->n, ACTTAB_TOOLS_SHOWN);
	assert_int_equal(r->calls, 25);
	assert_string_equal(r->tools[0].id, "call_25");
	assert_int_equal(r->other_cpu_ns, (1 + 2 + 3 + 4 + 5) * 1000);
	acttab_free(t);
	free(r);
}

/* The shell's command as the transcript's JSON holds it. */
static void test_command_hash(void **state)
{
	char a[256];
	struct actexec x;
	size_t n = nul_sep("/bin/bash|-c|eval 'a '\\''b'\\'' \"c\"'\"'\"'d\\n' && pwd", a);
	const char *json = "a 'b' \\\"c\\\"'d\\\\n";

	actexec_parse(a, n, NULL, 0, &x);
	assert_int_equal(x.cmd_hash, transcript_json_text_hash(json, strlen(json)));
	assert_int_equal(x.cmd_hash, text_hash("a 'b' \"c\"'d\\n"));
	/* \u escapes and a surrogate pair decode to UTF-8. */
	assert_int_equal(transcript_json_text_hash("\\u00e9\\ud83d\\ude00", 18),
			 text_hash("\xc3\xa9\xf0\x9f\x98\x80"));
	assert_int_equal(transcript_json_text_hash("\\x", 2), 0);
	assert_int_equal(transcript_json_text_hash("\\u12", 4), 0);
	/* No eval, no -c, a quote never closed, ids that are not ids. */
	n = nul_sep("sh|-c|ls -l", a);
	actexec_parse(a, n, NULL, 0, &x);
	assert_int_equal(x.cmd_hash, 0);
	n = nul_sep("bash|-c|eval 'never closed", a);
	actexec_parse(a, n, NULL, 0, &x);
	assert_int_equal(x.cmd_hash, 0);
	n = nul_sep("CODEX_TOOL_CALL_ID=a b|CLAUDE_PID=12x|", a);
	actexec_parse(NULL, 0, a, n, &x);
	assert_string_equal(x.call_id, "");
	assert_int_equal(x.claude_pid, 0);
	/* An entry cut off without its NUL does not count. */
	actexec_parse(NULL, 0, "CODEX_TOOL_CALL_ID=call_1", 25, &x);
	assert_string_equal(x.call_id, "");
}

static void test_tool_lines(void **state)
{
	struct toolcall_event ev[TOOLCALL_PER_LINE];
	const char *claude_use =
		"{\"type\":\"assistant\",\"timestamp\":\"2025-10-20T10:00:02.500Z\",\"message\":"
		"{\"id\":\"msg_1\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_01X\",\"name\":"
		"\"Bash\",\"input\":{\"command\":\"make check 2>&1 | tail -n 20\",\"description\":"
		"\"Run\"}}],\"usage\":{\"input_tokens\":4,\"output_tokens\":187}}}";
	const char *claude_result =
		"{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"tool_use_id\":"
		"\"toolu_01X\",\"type\":\"tool_result\",\"content\":\"{\\\"type\\\":\\\"tool_use\\\"}\"}]},"
		"\"timestamp\":\"2025-10-20T10:00:09.000Z\"}";
	const char *codex_call =
		"{\"timestamp\":\"2025-10-20T10:00:05.120Z\",\"type\":\"response_item\",\"payload\":"
		"{\"type\":\"function_call\",\"name\":\"exec_command\",\"arguments\":\"{\\\"cmd\\\":"
		"\\\"ls\\\"}\",\"call_id\":\"call_1\"}}";
	const char *codex_out =
		"{\"timestamp\":\"2025-10-20T10:00:06.000Z\",\"type\":\"response_item\",\"payload\":"
		"{\"type\":\"function_call_output\",\"call_id\":\"call_1\",\"output\":\"x\"}}";
	const char *codex_user =
		"{\"timestamp\":\"2025-10-20T10:00:01Z\",\"type\":\"response_item\",\"payload\":"
		"{\"type\":\"message\",\"role\":\"user\",\"content\":[]}}";
	const char *codex_said =
		"{\"type\":\"response_item\",\"payload\":{\"role\":\"assistant\",\"type\":"
		"\"message\",\"content\":[]},\"timestamp\":\"2025-10-20T10:00:01Z\"}";
	const char *bad_id = "{\"timestamp\":\"2025-10-20T10:00:05Z\",\"payload\":{\"type\":"
			     "\"function_call\",\"call_id\":\"a b\"}}";
	const char *bad_id2 = "{\"timestamp\":\"2025-10-20T10:00:05Z\",\"type\":\"response_item\","
			      "\"payload\":{\"type\":\"function_call\",\"call_id\":\"a b\"}}";
	int64_t t0 = INT64_C(1760954400) * S;

	/* Each line: the turn first (the model answered, or was asked), then
	 * its tool events. */
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CLAUDE, claude_use, strlen(claude_use),
						ev, TOOLCALL_PER_LINE), 2);
	assert_int_equal(ev[0].kind, TOOLCALL_ANSWER);
	assert_string_equal(ev[0].id, "");
	assert_int_equal(ev[0].at_ns, t0 + 2500000000);
	assert_int_equal(ev[1].kind, TOOLCALL_START);
	assert_string_equal(ev[1].id, "toolu_01X");
	assert_string_equal(ev[1].name, "Bash");
	assert_int_equal(ev[1].at_ns, t0 + 2500000000);
	assert_int_equal(ev[1].cmd_hash, text_hash("make check 2>&1 | tail -n 20"));
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CLAUDE, claude_result,
						strlen(claude_result), ev, TOOLCALL_PER_LINE), 2);
	assert_int_equal(ev[0].kind, TOOLCALL_ASK);
	assert_int_equal(ev[1].kind, TOOLCALL_END);
	assert_string_equal(ev[1].id, "toolu_01X");
	assert_int_equal(ev[1].at_ns, t0 + 9 * S);
	/* Room for one: the turn. */
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CLAUDE, claude_result,
						strlen(claude_result), ev, 1), 1);
	assert_int_equal(ev[0].kind, TOOLCALL_ASK);
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CODEX, codex_call, strlen(codex_call), ev,
						TOOLCALL_PER_LINE), 2);
	assert_int_equal(ev[0].kind, TOOLCALL_ANSWER);
	assert_int_equal(ev[1].kind, TOOLCALL_START);
	assert_string_equal(ev[1].id, "call_1");
	assert_string_equal(ev[1].name, "exec_command");
	assert_int_equal(ev[1].at_ns, t0 + 5120000000);
	assert_int_equal(ev[1].cmd_hash, 0);
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CODEX, codex_out, strlen(codex_out), ev,
						TOOLCALL_PER_LINE), 2);
	assert_int_equal(ev[0].kind, TOOLCALL_ASK);
	assert_int_equal(ev[1].kind, TOOLCALL_END);
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CODEX, codex_user, strlen(codex_user), ev,
						TOOLCALL_PER_LINE), 1);
	assert_int_equal(ev[0].kind, TOOLCALL_ASK);
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CODEX, codex_said, strlen(codex_said), ev,
						TOOLCALL_PER_LINE), 1);
	assert_int_equal(ev[0].kind, TOOLCALL_ANSWER);
	/* Not tool lines, or not JSON; an id with a space is no id. */
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CODEX, codex_call, 20, ev, 8), -EINVAL);
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CLAUDE, "{\"a\":1}", 7, ev, 8), 0);
	/* Not a response item: nothing (a Codex event_msg); a bad id: the turn only. */
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CODEX, bad_id, strlen(bad_id), ev, 8), 0);
	assert_int_equal(transcript_parse_tools(TRANSCRIPT_CODEX, bad_id2, strlen(bad_id2), ev, 8), 1);
	assert_int_equal(ev[0].kind, TOOLCALL_ANSWER);
}

/* The facade takes only events whose sizes hold together. */
static void test_events(void **state)
{
	struct actions *a = actions_new();
	struct acttab_report *r = calloc(1, sizeof(*r));
	struct tracker_ev_action s = { .hdr = { .type = TRACKER_EV_ACTION, .slot = 3, .gen = 9,
						.action = 5 },
				       .spawner_tgid = 40, .tgid = 41, .depth = 1, .fork_ns = 1 };
	struct tracker_ev_exec *x = calloc(1, sizeof(*x));
	struct tracker_ev_task_end e = { .hdr = { .type = TRACKER_EV_TASK_END, .slot = 3, .gen = 9,
						  .action = 5 },
					 .cpu_ns = 77, .comm = "sh" };
	const char env[] = "CODEX_TOOL_CALL_ID=call_q";

	assert_non_null(a);
	actions_event(a, &s, sizeof(s));
	x->hdr = (struct tracker_ev_hdr){ .type = TRACKER_EV_EXEC, .slot = 3, .gen = 9, .action = 5 };
	memcpy(x->data, env, sizeof(env));
	x->env_len = sizeof(env);
	/* A length past what came is refused. */
	actions_event(a, x, offsetof(struct tracker_ev_exec, data) + sizeof(env) - 1);
	assert_int_equal(actions_new_agent(a, 3, 9), 0);
	x->args_len = TRACKER_EXEC_ARGS_MAX + 1;
	actions_event(a, x, sizeof(*x));
	assert_int_equal(actions_new_agent(a, 3, 9), 0);
	x->args_len = 0;
	actions_event(a, x, offsetof(struct tracker_ev_exec, data) + sizeof(env));
	assert_int_equal(actions_new_agent(a, 3, 9), 40);
	/* Asked again until the kernel has been told (a failed update retries). */
	assert_int_equal(actions_new_agent(a, 3, 9), 40);
	actions_agent_told(a, 3, 9);
	assert_int_equal(actions_new_agent(a, 3, 9), 0);
	actions_event(a, &e, sizeof(e) - 1); /* short */
	actions_event(a, &e, sizeof(e));
	e.hdr.gen = 8; /* another run's */
	actions_event(a, &e, sizeof(e));
	assert_true(actions_report(a, 3, 9, true, T0, T0, r));
	assert_int_equal(r->n, 1);
	assert_int_equal(r->tools[0].cpu_ns, 77);
	actions_forget(a, 3, 9);
	assert_false(actions_report(a, 3, 9, true, T0, T0, r));
	actions_free(a);
	free(x);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codex),	     cmocka_unit_test(test_codex_unnamed),
		cmocka_unit_test(test_claude),	     cmocka_unit_test(test_many),
		cmocka_unit_test(test_same_command),
		cmocka_unit_test(test_command_hash), cmocka_unit_test(test_tool_lines),
		cmocka_unit_test(test_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
