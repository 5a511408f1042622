/* The transcript engine: the agents' transcripts of each run, found from its
 * processes under PROC_ROOT (working directory, environment, open files) and
 * followed from where they stood when found. Synchronous and single-threaded:
 * every call may block on a path a user controls, so the daemon calls it only
 * from tokscan's workers, one engine per user. */
#ifndef AGENTPERF_TOKENGINE_H
#define AGENTPERF_TOKENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tokdefs.h"
#include "transcript_tools.h"

struct tokengine;

/* A tool event of run (slot, gen), handed on as it is read. */
typedef void (*tokengine_tool_fn)(void *ctx, uint32_t slot, uint32_t gen,
				  const struct toolcall_event *e);

/* proc_root is kept (not copied): it must outlive the engine. Directories
 * are watched with inotify when asked and the kernel allows; otherwise they
 * are listed each tick. tool (may be NULL) gets the runs' tool events. NULL
 * with errno ENOMEM. tokengine_free(NULL) is a no-op. */
struct tokengine *tokengine_new(const char *proc_root, bool inotify, tokengine_tool_fn tool,
				void *tool_ctx);
void tokengine_free(struct tokengine *e);
/* Before a tick's runs: takes the directory events since the last tick and
 * starts the tick's budgets. */
void tokengine_begin(struct tokengine *e);
/* One tick of the run in slot (generation gen, started at started_ns, unix
 * time, owned by owner: only processes whose real, effective and filesystem
 * uids are all owner's name transcripts): looks at its processes pids (new
 * ones now, the others every TOKSCAN_RESCAN_NS), reads what its transcripts
 * gained, and gives its figures so far in out. A new gen in the slot starts
 * from nothing. */
void tokengine_run(struct tokengine *e, uint32_t slot, uint32_t gen, int64_t started_ns,
		   uid_t owner, const pid_t *pids, size_t n, int64_t mono_ns,
		   struct tokscan_result *out);
/* The run has ended: reads its transcripts one last time (directories made
 * during the run included), gives its final figures in out and lets its
 * files go. Returns false (out untouched) when the engine holds nothing of
 * that run. */
bool tokengine_end(struct tokengine *e, uint32_t slot, uint32_t gen, struct tokscan_result *out);
/* Lets the run go without a last read (it was given up on): its files are
 * closed, its directories no longer watched. */
void tokengine_forget(struct tokengine *e, uint32_t slot, uint32_t gen);
const struct tokscan_stats *tokengine_stats(const struct tokengine *e);

#endif
