/* The tokens subsystem's limits and counters, shared by its parts (the
 * facade, tokscan.h, includes this; no part includes the facade). */
#ifndef AGENTPERF_TOKDEFS_H
#define AGENTPERF_TOKDEFS_H

#include <stdbool.h>
#include <stdint.h>

#include "transcript.h"
#include "transcript_tools.h"

/* A process's environment, working directory and fd table are looked at
 * again this often (new processes at once); the fd table is walked again
 * only if its size (the open-fd count) changed, or at least every
 * TOKSCAN_FULL_NS. */
#define TOKSCAN_RESCAN_NS (2 * 1000000000LL)
#define TOKSCAN_FULL_NS (30 * 1000000000LL)
/* A process this young is looked at each tick, its fd table walked whole:
 * it may exec (with the same fd count) at any moment. A process whose
 * environment changed (an exec) has its fd table walked whole too. */
#define TOKSCAN_YOUNG_NS (5 * 1000000000LL)
/* Per tick: processes looked at, per run, and fd-table entries examined,
 * for all the runs of one user (a walk that is cut resumes where it stopped
 * at the next tick): a process that holds 20 000 fds costs its own user's
 * token reads a few ticks, not every tick of the daemon. */
#define TOKSCAN_PROCS_PER_TICK 256
#define TOKSCAN_FDS_PER_TICK 4096
/* Bytes read from one file, and from all of one run's, per tick: an agent
 * that writes faster is caught up with over the next ticks. Each run has
 * its own budget: another run's files never spend it. */
#define TOKSCAN_READ_MAX (16 << 20)
#define TOKSCAN_TICK_READ_MAX (64 << 20)
/* Memory for partial lines (kept until their newline) across one run's
 * files; past it, a file's partial line is dropped. */
#define TOKSCAN_CARRY_MAX (16 << 20)
/* Per run: transcript files followed, and directories watched. */
#define TOKSCAN_FILES_MAX 512
#define TOKSCAN_DIRS_MAX 256
/* Files' sizes remembered per directory when it is first listed. */
#define TOKSCAN_KNOWN_MAX 16384
/* A Codex rollout found already written: its totals before the run are the
 * last token_count within this many bytes before where reading starts. */
#define TOKSCAN_TAIL_MAX (256 * 1024)

/* Tool events waiting for the loop, per run; past it the newest are
 * dropped (counted in the log). */
#define TOKSCAN_TOOLS_MAX 4096

/* A run's tokens so far. */
struct tokscan_result {
	bool have; /* some usage line was seen */
	enum transcript_source source; /* the one with the most tokens */
	struct transcript_usage usage;
	/* The tool events read since the last result (tokscan only; the
	 * caller frees tools). */
	struct toolcall_event *tools;
	size_t n_tools;
};

/* What was read, for -v and the tests. */
struct tokscan_stats {
	uint64_t bytes_read;
	uint64_t usage_lines;
	uint64_t bad_lines; /* malformed, or usage figures out of range */
	uint64_t dropped_lines; /* over TRANSCRIPT_LINE_MAX */
	uint64_t files_followed;
};

#endif
