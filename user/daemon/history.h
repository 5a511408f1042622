/* Run history: finished runs' records appended, one JSON line each, to
 * STATE_DIR/runs.jsonl and fsynced before the run is forgotten. */
#ifndef AGENTPERF_HISTORY_H
#define AGENTPERF_HISTORY_H

#include <cjson/cJSON.h>

/* Creates dir (mode 0750) if needed. Returns 0 or -errno. */
int history_prepare(const char *dir);
/* Appends rec as one line and fsyncs it. Returns 0 or -errno; on error the
 * file is left without a partial line where the filesystem allows. */
int history_append(const char *dir, const cJSON *rec);
/* Records newest first, only PROJECT's when it is non-empty, at most limit
 * (0: all). Lines that do not parse are skipped. NULL with errno on failure;
 * an absent file is an empty array. */
cJSON *history_read(const char *dir, const char *project, unsigned limit);

#endif
