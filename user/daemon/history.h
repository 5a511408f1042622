/* Run history: finished runs' records appended, one JSON line each, to
 * STATE_DIR/runs.jsonl and fsynced before the run is forgotten; past a size the
 * file becomes runs.jsonl.1 (one old file is kept). Reads go backwards from
 * the end, so their cost is that of the records asked for, not of the history. */
#ifndef AGENTPERF_HISTORY_H
#define AGENTPERF_HISTORY_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* --history-max-mb's default: at most about twice this is kept on disk. */
#define HISTORY_MAX_BYTES_DEFAULT (64ULL << 20)
/* The most records one history_read returns, whatever its limit (0 included). */
#define HISTORY_READ_MAX 1000
/* A longer line is not a record of ours: it is skipped (and counted) unparsed. */
#define HISTORY_LINE_MAX (1U << 20)

/* Creates dir (mode 0750) if needed. Returns 0 or -errno. */
int history_prepare(const char *dir);
/* Appends rec as one line and fsyncs it. When runs.jsonl holds a line and
 * this one would take it past max_bytes (0: no limit), it is first renamed to
 * runs.jsonl.1, replacing the previous one. A torn last line (a crash in the
 * middle of a write) is ended first, so that it never joins this record.
 * Returns 0 or -errno; on error the file is left without a partial line where
 * the filesystem allows. */
int history_append(const char *dir, const cJSON *rec, uint64_t max_bytes);
/* Appends a run's timeline to STATE_DIR/timelines.jsonl, as history_append
 * does its record (rotated to timelines.jsonl.1 past max_bytes). */
int history_append_timeline(const char *dir, const cJSON *timeline, uint64_t max_bytes);
/* Records newest first (runs.jsonl, then runs.jsonl.1), only PROJECT's when it
 * is non-NULL and non-empty, at most limit, and never more than
 * HISTORY_READ_MAX (limit 0: that many). Lines that are not a JSON object are
 * skipped and, when skipped is non-NULL, counted into *skipped (set to 0
 * first); only lines looked at are counted: the read stops at the limit, and
 * with a project, lines that cannot be its are not parsed. NULL with errno on
 * failure; an absent file is an empty array. */
cJSON *history_read(const char *dir, const char *project, unsigned limit, unsigned *skipped);
/* The newest record with this run_id (and of PROJECT, when non-NULL and
 * non-empty), looked for newest first as history_read does, which counts
 * skipped lines the same way. NULL with errno ENOENT when there is none, or
 * another errno when the history cannot be read. */
cJSON *history_find(const char *dir, const char *project, const char *run_id, unsigned *skipped);
/* The newest timeline with this run_id (and of PROJECT, when non-NULL and
 * non-empty; run_id NULL: the project's newest), as history_find looks. */
cJSON *history_find_timeline(const char *dir, const char *project, const char *run_id,
			     unsigned *skipped);

#endif
