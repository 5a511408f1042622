/* The coding agents' own transcripts, read for their token usage only: line
 * parsers for Claude Code and Codex CLI, and where the files live (pure: no
 * I/O). A run's tally of Claude Code messages is in transcript_ids, the line
 * splitter in transcript_lines. */
#ifndef AGENTPERF_TRANSCRIPT_H
#define AGENTPERF_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One message's figure (Claude Code) above this is not a token count. */
#define TRANSCRIPT_MSG_MAX UINT64_C(1000000000)
/* A cumulative figure (Codex's session totals), as `agentperf tokens` bounds it. */
#define TRANSCRIPT_TOTAL_MAX UINT64_C(1000000000000000)
/* JSON nesting deeper than this is refused. */
#define TRANSCRIPT_DEPTH_MAX 64

enum transcript_source { TRANSCRIPT_CLAUDE, TRANSCRIPT_CODEX };

/* Tokens by kind. input excludes cached input, so that the four add up to
 * every token the model read or wrote. */
struct transcript_usage {
	uint64_t input;
	uint64_t output;
	uint64_t cache_read;
	uint64_t cache_creation;
};

uint64_t transcript_usage_total(const struct transcript_usage *u);
/* a += b */
void transcript_usage_add(struct transcript_usage *a, const struct transcript_usage *b);

/* SipHash-1-3 of an id (n bytes) under a key drawn once per process: for
 * tables indexed by ids a user writes. Never 0 ("no id"). */
uint64_t transcript_id_hash(const char *v, size_t n);

/* One Claude Code line that carries usage. */
struct transcript_claude {
	uint64_t id_hash; /* of message.id; 0 when the line has none */
	struct transcript_usage usage;
};

/* Parses one Claude Code JSON line (no newline; need not be NUL-terminated).
 * Returns 1 for an assistant message with message.usage (input_tokens and
 * output_tokens required, the cache fields 0 when absent or null), 0 for a
 * line without usage or of message.model "<synthetic>", -EINVAL for a line
 * that is not one JSON object or whose usage figures are not whole numbers
 * from 0 to TRANSCRIPT_MSG_MAX. */
int transcript_parse_claude(const char *line, size_t len, struct transcript_claude *out);

/* One Codex CLI token_count event: the session's cumulative totals, and the
 * last turn's usage when the line has it. */
struct transcript_codex {
	struct transcript_usage total;
	bool have_last;
	struct transcript_usage last;
};

/* Parses one Codex CLI rollout line. Returns 1 for an event_msg whose
 * payload is a token_count with info.total_token_usage, 0 for any other line
 * (a token_count with null info included), -EINVAL for a line that is not
 * one JSON object or whose totals are missing or not whole numbers from 0 to
 * TRANSCRIPT_TOTAL_MAX. */
int transcript_parse_codex(const char *line, size_t len, struct transcript_codex *out);

/* What a file's totals gained since base: field by field, never negative. */
void transcript_codex_since(const struct transcript_usage *base,
			    const struct transcript_usage *total, struct transcript_usage *out);

/* The value of name in environ text (NUL-separated NAME=VALUE entries, as
 * /proc/PID/environ holds them); a last entry cut off without its NUL does
 * not count. Returns a pointer into env and its length in *vlen, or NULL. */
const char *transcript_env_get(const char *env, size_t len, const char *name, size_t *vlen);

/* Claude Code's directory of a working directory's transcripts:
 * CONFIG/projects/ESCAPED, ESCAPED being cwd with every character other than
 * [A-Za-z0-9] replaced by '-' (one per UTF-16 unit, as Claude Code counts
 * them). Returns 0, or -EINVAL (config or cwd not absolute) or -ENAMETOOLONG. */
int transcript_claude_dir(const char *config, const char *cwd, char *out, size_t len);

/* What an open file's path (a /proc/PID/fd link) is to the process whose
 * Claude Code config directory is claude_config and Codex home codex_home
 * (either may be NULL): a Codex rollout (CODEX_HOME/sessions/.../rollout-*.jsonl)
 * returns TRANSCRIPT_CODEX; a Claude Code transcript (CONFIG/projects/P/...jsonl)
 * returns TRANSCRIPT_CLAUDE with CONFIG/projects/P in dir; anything else -1. */
int transcript_classify(const char *path, const char *claude_config, const char *codex_home,
			char *dir, size_t dirlen);

#endif
