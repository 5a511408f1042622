/* The agents' transcripts of each run, found from the run's own processes
 * under PROC_ROOT (working directory, environment, open files) and followed
 * from where they stood when found: the token usage the run's agents wrote.
 * Only usage figures are read; nothing of a line is kept or logged. */
#ifndef AGENTPERF_TOKSCAN_H
#define AGENTPERF_TOKSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "transcript.h"

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
/* Bytes read from one file, and from all, per tick: an agent that writes
 * faster is caught up with over the next ticks. */
#define TOKSCAN_READ_MAX (16 << 20)
#define TOKSCAN_TICK_READ_MAX (64 << 20)
/* Memory for partial lines (kept until their newline) across all files;
 * past it, a file's partial line is dropped. */
#define TOKSCAN_CARRY_MAX (64 << 20)
/* Per run: transcript files followed, and directories watched. */
#define TOKSCAN_FILES_MAX 512
#define TOKSCAN_DIRS_MAX 256
/* Files' sizes remembered per directory when it is first listed. */
#define TOKSCAN_KNOWN_MAX 16384
/* A Codex rollout found already written: its totals before the run are the
 * last token_count within this many bytes before where reading starts. */
#define TOKSCAN_TAIL_MAX (256 * 1024)

/* A run's tokens so far. */
struct tokscan_result {
	bool have; /* some usage line was seen */
	enum transcript_source source; /* the one with the most tokens */
	struct transcript_usage usage;
};

/* What was read, for -v and the tests. */
struct tokscan_stats {
	uint64_t bytes_read;
	uint64_t usage_lines;
	uint64_t bad_lines; /* malformed, or usage figures out of range */
	uint64_t dropped_lines; /* over TRANSCRIPT_LINE_MAX */
	uint64_t files_followed;
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
 * time): looks at its processes pids (new ones now, the others every
 * TOKSCAN_RESCAN_NS), reads what its transcripts gained, and gives its
 * figures so far in out. A new gen in the slot starts from nothing. */
void tokscan_run(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		 const pid_t *pids, size_t n, int64_t mono_ns, struct tokscan_result *out);
/* The run in slot has just started with root: tokscan_run of the root alone
 * (`agentperf run` marks its root before the exec: it is looked at again at
 * each tick while young). */
void tokscan_start(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		   pid_t root, int64_t mono_ns, struct tokscan_result *out);
/* The run has ended: reads its transcripts one last time, gives its final
 * figures in out and lets its files go. Returns false (out untouched) when
 * the scanner holds nothing of that run. */
bool tokscan_end(struct tokscan *ts, uint32_t slot, uint32_t gen, struct tokscan_result *out);
const struct tokscan_stats *tokscan_stats(const struct tokscan *ts);

#endif
