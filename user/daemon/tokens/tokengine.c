/* The transcript engine: each run's bookkeeping, over the parts that find
 * and read its transcripts. Synchronous: tokscan runs it on a worker thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tokdirs.h"
#include "tokengine.h"
#include "tokfiles.h"
#include "tokprocs.h"
#include "tokrun.h"
#include "tracker_abi.h"
#include "transcript_ids.h"

/* A run's Claude Code messages, from all its files. */
struct claude_tally {
	struct transcript_ids ids;
	bool seen;
};

/* The parts find a run's transcripts (tokprocs from its processes, tokdirs
 * in Claude Code's directories) and read them (tokfiles); the runs and their
 * figures are this file's. */
struct tokengine {
	struct tokfiles *files;
	struct tokdirs *dirs;
	struct tokprocs *procs;
	struct tokrun run[TRACKER_MAX_RUNS];
	struct claude_tally claude[TRACKER_MAX_RUNS];
	tokengine_tool_fn tool;
	void *tool_ctx;
};

static struct tokrun *run_of(struct tokengine *ts, uint32_t slot, uint32_t gen)
{
	struct tokrun *r = slot < TRACKER_MAX_RUNS ? &ts->run[slot] : NULL;

	return r && r->active && r->gen == gen ? r : NULL;
}

/* A Claude Code message of the run's: counted once, whichever file it is in. */
static void on_claude(void *ctx, uint32_t slot, uint32_t gen, const struct transcript_claude *m)
{
	struct tokengine *ts = ctx;

	if (!run_of(ts, slot, gen))
		return;
	transcript_ids_add(&ts->claude[slot].ids, m);
	ts->claude[slot].seen = true;
}

/* A tool event of the run's: handed on. */
static void on_tool(void *ctx, uint32_t slot, uint32_t gen, const struct toolcall_event *e)
{
	struct tokengine *ts = ctx;

	if (ts->tool && run_of(ts, slot, gen))
		ts->tool(ts->tool_ctx, slot, gen, e);
}

struct tokengine *tokengine_new(const char *proc_root, bool inotify, tokengine_tool_fn tool,
				void *tool_ctx)
{
	struct tokengine *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	ts->tool = tool;
	ts->tool_ctx = tool_ctx;
	if (!(ts->files = tokfiles_new(on_claude, on_tool, ts)) ||
	    !(ts->dirs = tokdirs_new(ts->files, ts->run, inotify)) ||
	    !(ts->procs = tokprocs_new(proc_root, ts->dirs, ts->files))) {
		tokdirs_free(ts->dirs);
		tokfiles_free(ts->files);
		free(ts);
		errno = ENOMEM;
		return NULL;
	}
	return ts;
}

void tokengine_begin(struct tokengine *ts)
{
	tokfiles_begin(ts->files);
	tokprocs_begin(ts->procs);
	tokdirs_begin(ts->dirs);
}

static void result(const struct tokengine *ts, const struct tokrun *r, struct tokscan_result *out)
{
	const struct claude_tally *c = &ts->claude[r->slot];
	struct transcript_usage codex;
	bool codex_seen = tokfiles_codex(ts->files, r, &codex);
	uint64_t tc, tx;

	tc = transcript_usage_total(&c->ids.sum);
	tx = transcript_usage_total(&codex);
	out->have = c->seen || codex_seen;
	out->source = (c->seen && tc >= tx) || !codex_seen ? TRANSCRIPT_CLAUDE : TRANSCRIPT_CODEX;
	out->usage = c->ids.sum;
	transcript_usage_add(&out->usage, &codex);
}

/* Forgets everything of the run in slot. */
static void release(struct tokengine *ts, uint32_t slot)
{
	tokfiles_release(ts->files, slot);
	tokdirs_release(ts->dirs, slot);
	tokprocs_release(ts->procs, slot);
	transcript_ids_free(&ts->claude[slot].ids);
	memset(&ts->claude[slot], 0, sizeof(ts->claude[slot]));
	memset(&ts->run[slot], 0, sizeof(ts->run[slot]));
}

void tokengine_run(struct tokengine *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		   uid_t owner, const pid_t *pids, size_t n, int64_t mono_ns,
		   struct tokscan_result *out)
{
	struct tokrun *r;

	memset(out, 0, sizeof(*out));
	if (slot >= TRACKER_MAX_RUNS)
		return;
	r = &ts->run[slot];
	if (!r->active || r->gen != gen) {
		release(ts, slot);
		r->active = true;
		r->slot = slot;
		r->gen = gen;
		r->started_ns = started_ns;
		r->owner = owner;
	}
	r->mono_ns = mono_ns;
	tokprocs_scan(ts->procs, r, pids, n);
	tokdirs_tick(ts->dirs, r);
	tokfiles_read(ts->files, r, false);
	result(ts, r, out);
}

bool tokengine_end(struct tokengine *ts, uint32_t slot, uint32_t gen, struct tokscan_result *out)
{
	struct tokrun *r = run_of(ts, slot, gen);

	if (!r)
		return false;
	tokdirs_final(ts->dirs, r);
	tokfiles_read(ts->files, r, true);
	result(ts, r, out);
	release(ts, slot);
	return true;
}

void tokengine_forget(struct tokengine *ts, uint32_t slot, uint32_t gen)
{
	if (run_of(ts, slot, gen))
		release(ts, slot);
}

void tokengine_free(struct tokengine *ts)
{
	if (!ts)
		return;
	for (uint32_t i = 0; i < TRACKER_MAX_RUNS; i++)
		release(ts, i);
	tokprocs_free(ts->procs);
	tokdirs_free(ts->dirs);
	tokfiles_free(ts->files);
	free(ts);
}

const struct tokscan_stats *tokengine_stats(const struct tokengine *ts)
{
	return tokfiles_stats(ts->files);
}
