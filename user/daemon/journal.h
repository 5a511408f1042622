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
};

/* The journal of every run in the table (pure). malloc'd JSON; NULL on ENOMEM. */
char *journal_render(const struct runs *rs, const struct projects *ps);
/* Parses journal text (pure). Entries that do not make sense are skipped.
 * Returns 0, or -EINVAL when the text is not a journal. */
int journal_parse(const char *text, size_t len, struct journal *out);
/* Replaces DIR/live.json with the table's journal: written to a temporary
 * file, fsynced, renamed over, the directory fsynced. Returns 0 or -errno. */
int journal_save(const char *dir, const struct runs *rs, const struct projects *ps);
/* Reads DIR/live.json. Returns 0 (an absent journal is empty), or -errno. */
int journal_load(const char *dir, struct journal *out);

#endif
