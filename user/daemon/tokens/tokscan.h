/* The tokens subsystem's facade, the one header the rest of the daemon
 * includes: the agents' transcripts of each run, found from its processes
 * under PROC_ROOT (working directory, environment, open files) and followed
 * from where they stood when found: the token usage the run's agents wrote.
 * Only usage figures are read; nothing of a line is kept or logged. */
#ifndef AGENTPERF_TOKSCAN_H
#define AGENTPERF_TOKSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tokdefs.h"
#include "transcript.h"

/* A run's tokens so far. */
struct tokscan_result {
	bool have; /* some usage line was seen */
	enum transcript_source source; /* the one with the most tokens */
	struct transcript_usage usage;
};

struct tokscan;

/* proc_root is kept (not copied): it must outlive the scanner. Directories
 * are watched with inotify when asked and the kernel allows; otherwise they
 * are listed each tick. NULL with errno ENOMEM. tokscan_free(NULL) is a no-op. */
struct tokscan *tokscan_new(const char *proc_root, bool inotify);
void tokscan_free(struct tokscan *ts);
/* Before a tick's runs: takes the directory events since the last tick. */
void tokscan_begin(struct tokscan *ts);
/* One tick of the run in slot (generation gen, started at started_ns, unix
 * time, owned by owner: only processes whose real, effective and filesystem
 * uids are all owner's name transcripts): looks at its processes pids (new ones now, the others every
 * TOKSCAN_RESCAN_NS), reads what its transcripts gained, and gives its
 * figures so far in out. A new gen in the slot starts from nothing. */
void tokscan_run(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		 uid_t owner, const pid_t *pids, size_t n, int64_t mono_ns,
		 struct tokscan_result *out);
/* The run in slot has just started with root: tokscan_run of the root alone
 * (`agentperf run` marks its root before the exec: it is looked at again at
 * each tick while young). */
void tokscan_start(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		   uid_t owner, pid_t root, int64_t mono_ns, struct tokscan_result *out);
/* The run has ended: reads its transcripts one last time, gives its final
 * figures in out and lets its files go. Returns false (out untouched) when
 * the scanner holds nothing of that run. */
bool tokscan_end(struct tokscan *ts, uint32_t slot, uint32_t gen, struct tokscan_result *out);
const struct tokscan_stats *tokscan_stats(const struct tokscan *ts);

#endif
