/* The agents' transcripts of each run: its bookkeeping, over the parts that find and read them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tokdirs.h"
#include "tokfiles.h"
#include "tokprocs.h"
#include "tokrun.h"
#include "tokscan.h"
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
struct tokscan {
	struct tokfiles *files;
	struct tokdirs *dirs;
	struct tokprocs *procs;
	struct tokrun run[TRACKER_MAX_RUNS];
	struct claude_tally claude[TRACKER_MAX_RUNS];
};

static struct tokrun *run_of(struct tokscan *ts, uint32_t slot, uint32_t gen)
{
	struct tokrun *r = slot < TRACKER_MAX_RUNS ? &ts->run[slot] : NULL;

	return r && r->active && r->gen == gen ? r : NULL;
}

/* A Claude Code message of the run's: counted once, whichever file it is in. */
static void on_claude(void *ctx, uint32_t slot, uint32_t gen, const struct transcript_claude *m)
{
	struct tokscan *ts = ctx;

	if (!run_of(ts, slot, gen))
		return;
	transcript_ids_add(&ts->claude[slot].ids, m);
	ts->claude[slot].seen = true;
}

struct tokscan *tokscan_new(const char *proc_root, bool inotify)
{
	struct tokscan *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	if (!(ts->files = tokfiles_new(on_claude, ts)) ||
	    !(ts->dirs = tokdirs_new(ts->files, inotify)) ||
	    !(ts->procs = tokprocs_new(proc_root, ts->dirs, ts->files))) {
		tokdirs_free(ts->dirs);
		tokfiles_free(ts->files);
		free(ts);
		errno = ENOMEM;
		return NULL;
	}
	return ts;
}

void tokscan_begin(struct tokscan *ts)
{
	tokfiles_begin(ts->files);
	tokprocs_begin(ts->procs);
	tokdirs_begin(ts->dirs, ts->run);
}

static void result(const struct tokscan *ts, const struct tokrun *r, struct tokscan_result *out)
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
static void release(struct tokscan *ts, uint32_t slot)
{
	tokfiles_release(ts->files, slot);
	tokdirs_release(ts->dirs, slot);
	tokprocs_release(ts->procs, slot);
	transcript_ids_free(&ts->claude[slot].ids);
	memset(&ts->claude[slot], 0, sizeof(ts->claude[slot]));
	memset(&ts->run[slot], 0, sizeof(ts->run[slot]));
}

void tokscan_run(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
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

void tokscan_start(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		   uid_t owner, pid_t root, int64_t mono_ns, struct tokscan_result *out)
{
	/* `agentperf run`'s root is marked before it execs, with the
	 * environment and directory it will exec with: what it finds now is
	 * its agent's. Young, it is looked at again at each tick. */
	tokscan_run(ts, slot, gen, started_ns, owner, &root, 1, mono_ns, out);
}

bool tokscan_end(struct tokscan *ts, uint32_t slot, uint32_t gen, struct tokscan_result *out)
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

void tokscan_free(struct tokscan *ts)
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

const struct tokscan_stats *tokscan_stats(const struct tokscan *ts)
{
	return tokfiles_stats(ts->files);
}
