/* The projects the daemon knows: their token counts and their latest recorded
 * run. Written by the run lifecycle and the tokens command; the stream counts
 * its watchers here so that a watched entry is never reused. */
#ifndef AGENTPERF_PROJECTS_H
#define AGENTPERF_PROJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"
#include "control_proto.h"
#include "runs.h"

#define PROJECTS_MAX 1024

struct project {
	bool used;
	char name[NAMES_PROJECT_MAX + 1];
	/* `agentperf tokens` reports (they win over transcripts): */
	bool tokens_available;
	int64_t tokens_current; /* this run's */
	int64_t tokens_total; /* every run of the project since the daemon started */
	/* Transcript tokens of the project's recorded runs since the daemon
	 * started (live runs carry their own). */
	bool transcript_seen;
	uint64_t transcript_recorded;
	/* The project's latest run once it is recorded (live runs are in the
	 * runs table): written at the record, shown until a new run starts. */
	bool has_last;
	struct run last;
	unsigned watchers; /* WebSocket clients (the stream's count) */
	unsigned live_runs; /* runs in the runs table (the lifecycle's count) */
	/* Who made it, by a run or a tokens report (a watcher makes no owner):
	 * only they (and root) report its tokens while it has no live run. */
	bool owned;
	uid_t owner;
	uint64_t touched; /* when last asked for, in the table's own order */
};

struct projects {
	struct project p[PROJECTS_MAX];
	uint64_t clock; /* for touched */
};

/* An empty table; NULL with errno ENOMEM. projects_free(NULL) is a no-op. */
struct projects *projects_new(void);
void projects_free(struct projects *ps);
/* The index of p in its table, 0 to PROJECTS_MAX - 1. */
size_t projects_index(const struct projects *ps, const struct project *p);
struct project *projects_get(struct projects *ps, const char *name);
/* The project, created if needed. When the table is full, an entry with no
 * live run and no watcher is reused, the least recently asked for first
 * (its tokens and last run are in the history): one user's names cannot
 * lock others out. NULL with errno ENOSPC when every entry has a live run
 * or a watcher. */
struct project *projects_add(struct projects *ps, const char *name);
/* Projects owned by uid. */
unsigned projects_count_owned(const struct projects *ps, uid_t uid);
/* Frees uid's least recently asked-for project with no live run and no
 * watcher. Returns whether there was one. */
bool projects_free_owned(struct projects *ps, uid_t uid);
/* A new run of the project: the previous one is no longer shown, and the
 * current-run token count starts again from zero. */
void projects_run_started(struct project *p);
/* r, just recorded, is the project's latest run until a new one starts. */
void projects_run_recorded(struct project *p, const struct run *r);
/* r is recorded: its transcript tokens join the project's session total. */
void projects_run_tokens(struct project *p, const struct run *r);
/* Applies `agentperf tokens`. Returns 0, or -EINVAL (negative, too large, or
 * nothing asked) leaving p unchanged. */
int projects_tokens(struct project *p, const struct tokens_update *u);

#endif
