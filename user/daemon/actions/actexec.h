/* What an action's first exec tells of it (pure): the argument and
 * environment bytes the kernel handed over (tracker_ev_exec) are searched
 * for the marks the coding agents leave on their tool calls' shells. Only
 * these marks are kept; the bytes are not. */
#ifndef AGENTPERF_ACTEXEC_H
#define AGENTPERF_ACTEXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tokens/tokscan.h"

struct actexec {
	/* Codex: CODEX_TOOL_CALL_ID, the call's id in the rollout. */
	char call_id[TOOLCALL_ID_MAX + 1];
	uint64_t call_hash; /* transcript_id_hash of call_id; 0: none */
	/* Claude Code: CLAUDE_PID, the agent that started the shell (0: none). */
	pid_t claude_pid;
	/* The shell's command (Claude Code's `bash -c '… eval '\''CMD'\'' …'`):
	 * fnv64 of CMD as the transcript's input.command holds it; 0: none. */
	uint64_t cmd_hash;
};

/* Parses args (NUL-separated argv, args_len bytes) and env (NUL-separated
 * NAME=VALUE, env_len bytes); either may be cut short. */
void actexec_parse(const char *args, size_t args_len, const char *env, size_t env_len,
		   struct actexec *out);

#endif
