/* The tokens subsystem's facade, the one header the rest of the daemon
 * includes: the token usage each run's agents wrote in their transcripts,
 * read off the loop thread. Discovery and reading touch paths a user
 * controls (a home on a hung FUSE or NFS mount blocks them), so they run on
 * worker threads, one per user with live runs, each with its own engine
 * (tokengine.h); the loop only posts work and takes the figures the workers
 * left, and never waits for them. Only usage figures are read; nothing of a
 * line is kept or logged. */
#ifndef AGENTPERF_TOKSCAN_H
#define AGENTPERF_TOKSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tokdefs.h"
#include "transcript.h"

/* Users whose runs' transcripts are read at once (a worker thread each);
 * the runs of a user past them have no token figures (logged once). */
#define TOKSCAN_WORKERS_MAX 32
/* How long a run's end waits for its final read (a worker stuck on a hung
 * path): past it, the run keeps the figures read before. */
#define TOKSCAN_END_WAIT_NS (5 * 1000000000LL)

struct tokscan;

/* proc_root is copied. Directories
 * are watched with inotify when asked and the kernel allows; otherwise they
 * are listed each tick. NULL with errno set. tokscan_free(NULL) is a no-op;
 * tokscan_free waits a second at most for a worker stuck on a hung path. */
struct tokscan *tokscan_new(const char *proc_root, bool inotify);
void tokscan_free(struct tokscan *ts);
/* Before a tick's runs: a new tick for the workers (directory events,
 * budgets); the workers of users with no run left end. */
void tokscan_begin(struct tokscan *ts);
/* A tick of the run in slot (generation gen, started at started_ns, unix
 * time, owned by owner: only processes whose real, effective and filesystem
 * uids are all owner's name transcripts), whose processes are pids: handed
 * to owner's worker, which looks at new processes at once and the others
 * every TOKSCAN_RESCAN_NS, and reads what the transcripts gained. out: the
 * figures of the worker's last tick of that run (nothing before its first),
 * and the tool events read since the last call (out->tools: the caller
 * frees it). A new gen in the slot starts from nothing. Never blocks on the
 * worker. */
void tokscan_run(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		 uid_t owner, const pid_t *pids, size_t n, int64_t mono_ns,
		 struct tokscan_result *out);
/* The run in slot has just started with root: tokscan_run of the root alone
 * (`agentperf run` marks its root before the exec: it is looked at again at
 * each tick while young). */
void tokscan_start(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		   uid_t owner, pid_t root, int64_t mono_ns, struct tokscan_result *out);

enum tokscan_end {
	TOKSCAN_END_NONE, /* nothing was read of that run: out untouched */
	TOKSCAN_END_PENDING, /* the final read is under way: ask again */
	TOKSCAN_END_DONE, /* out: the final figures and tool events; the run is let go */
};
/* The run has ended: asks its worker to read its transcripts one last time
 * (directories made during the run included) and let its files go. DONE
 * once that is done, or TOKSCAN_END_WAIT_NS after the first call (mono_ns,
 * CLOCK_MONOTONIC) with the figures read before. */
enum tokscan_end tokscan_end(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t mono_ns,
			     struct tokscan_result *out);

#endif
