/* The live-run journal: what the pinned BPF maps cannot hold (each run's
 * names, root, start, slot and generation, its latest figures, its project's
 * token counts), in STATE_DIR/live.json, replaced atomically (write, fsync,
 * rename) on every change. A restarted daemon takes the runs over from it;
 * the maps hold the numbers, the journal the names. */
#ifndef AGENTPERF_JOURNAL_H
#define AGENTPERF_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "projects.h"
#include "runs.h"

#define JOURNAL_FILE "live.json"
/* What a journaled run may hold; anything else is a damaged entry, refused
 * whole. Times are unix ns in [2000-01-01, 2100-01-01): far from any clock a
 * run starts under, and far enough from INT64_MAX that a record's arithmetic
 * on them (wall time, ISO stamps) cannot overflow. A run's end is 0 while it
 * is open, else no earlier than its start. Counters (CPU and delay ns, task
 * counts, bytes) are at most INT64_MAX, so a fresh kernel figure added to one
 * stays in range; tokens as `agentperf tokens` takes them (CONTROL_TOKENS_MAX). */
#define JOURNAL_NS_MIN (INT64_C(946684800) * 1000000000)
#define JOURNAL_NS_MAX (INT64_C(4102444800) * 1000000000)
#define JOURNAL_COUNT_MAX ((uint64_t)INT64_MAX)

/* One journaled run and its project's tokens. */
struct journal_run {
	struct run run; /* as last journaled: names, slot, gen, figures */
	bool tokens_available;
	int64_t tokens_current, tokens_total;
};

struct journal {
	struct journal_run r[TRACKER_MAX_RUNS];
	size_t n;
	uint32_t next_gen; /* the next generation the daemon would have handed out */
	size_t refused; /* entries that are not a sane run */
	char refused_why[160]; /* the first of them: its run id and what is wrong */
};

/* The journal of every run in the table (pure). malloc'd JSON; NULL on ENOMEM. */
char *journal_render(const struct runs *rs, const struct projects *ps);
/* Parses journal text (pure). Entries that do not make sense (a bad name or
 * slot, a field present but malformed, a value outside the ranges above) are
 * skipped, counted in out->refused and the first one described in
 * out->refused_why. Returns 0, or -EINVAL when the text is not a journal. */
int journal_parse(const char *text, size_t len, struct journal *out);
/* Replaces DIR/live.json with the table's journal: written to a temporary
 * file, fsynced, renamed over, the directory fsynced. Returns 0 or -errno. */
int journal_save(const char *dir, const struct runs *rs, const struct projects *ps);
/* Reads DIR/live.json, and logs one line when entries were refused. Returns
 * 0 (an absent journal is empty), or -errno. */
int journal_load(const char *dir, struct journal *out);

#endif
