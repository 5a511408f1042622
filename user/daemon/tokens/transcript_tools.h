/* The agents' tool calls in their transcripts (pure): when each call began
 * and ended, its id and tool name, and for a shell command a fingerprint of
 * the command's text (to tell apart parallel calls by the shell's argv).
 * Nothing else of a line is read, and no text is kept but ids and names. */
#ifndef AGENTPERF_TRANSCRIPT_TOOLS_H
#define AGENTPERF_TRANSCRIPT_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "transcript.h"

#define TOOLCALL_ID_MAX 64
#define TOOLCALL_NAME_MAX 64
/* Tool events one line may hold; more are left out. */
#define TOOLCALL_PER_LINE 8

enum toolcall_kind {
	TOOLCALL_START, /* Claude Code's tool_use, Codex's function_call */
	TOOLCALL_END, /* tool_result, function_call_output */
	/* The agent asks the model (a prompt or tool results went out: a
	 * Claude Code user line, a Codex user message or call output) and
	 * the model answers (an assistant line, a Codex assistant message,
	 * reasoning or call). No id. */
	TOOLCALL_ASK,
	TOOLCALL_ANSWER,
};

struct toolcall_event {
	enum toolcall_kind kind;
	enum transcript_source source;
	char id[TOOLCALL_ID_MAX + 1]; /* [A-Za-z0-9_.-], 1 to TOOLCALL_ID_MAX; "" for ASK/ANSWER */
	uint64_t id_hash; /* transcript_id_hash of id (keyed); 0 for ASK/ANSWER */
	char name[TOOLCALL_NAME_MAX + 1]; /* START: [A-Za-z0-9_.:-]; "" when the line has none */
	int64_t at_ns; /* the line's timestamp, unix ns */
	uint64_t cmd_hash; /* START of a shell call: fnv64 of the command text; 0 none */
};

/* Parses one transcript line of source src (no newline; need not be
 * NUL-terminated): writes its events (at most max; an ASK or ANSWER first,
 * then the tool events in order) to out and returns how many, 0 for a line
 * with none, -EINVAL for a line that is not one JSON object. An event with a
 * malformed id or timestamp is left out. */
int transcript_parse_tools(enum transcript_source src, const char *line, size_t len,
			   struct toolcall_event *out, size_t max);

/* fnv64 of a JSON string's decoded text, from its raw contents (escapes
 * as written). Returns 0 for a malformed escape. */
uint64_t transcript_json_text_hash(const char *raw, size_t n);

#endif
