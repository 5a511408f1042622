/* Claude Code's directories of each run's transcripts (a project, its
 * sessions' subagents): watched with inotify, or listed at each tick when
 * they cannot be, their new and growing *.jsonl handed to tokfiles to
 * follow. Paths found missing are taken as such for TOKSCAN_RESCAN_NS. */
#ifndef AGENTPERF_TOKDIRS_H
#define AGENTPERF_TOKDIRS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tokfiles.h"
#include "tokrun.h"

#define TOKDIRS_WANTED_MAX 8

struct tokdirs;

/* fs is kept (not copied): it must outlive the directories. Watches with
 * inotify when asked and the kernel allows. NULL with errno ENOMEM.
 * tokdirs_free(NULL) is a no-op. */
struct tokdirs *tokdirs_new(struct tokfiles *fs, bool inotify);
void tokdirs_free(struct tokdirs *ds);
/* Takes the directory events since the last tick, each for its directory's
 * run in run[] (indexed by slot, TRACKER_MAX_RUNS of them). */
void tokdirs_begin(struct tokdirs *ds, const struct tokrun *run);
/* Watches and lists path, a Claude Code project directory of uid's
 * (CONFIG/projects/P), for r: its transcripts, and its sessions'
 * subagents'. Nothing when some run has it already, when it is not there
 * (or was found missing lately), or past TOKSCAN_DIRS_MAX for r. */
void tokdirs_project(struct tokdirs *ds, const struct tokrun *r, const char *path, uid_t uid);
/* Whether path is there: false without looking when it was found missing
 * within TOKSCAN_RESCAN_NS (r's clock), as directories are. */
bool tokdirs_present(struct tokdirs *ds, const struct tokrun *r, const char *path);
/* A tick of r: its directories whose events were lost or that have no watch
 * are listed, and the files of the latter are to be read. */
void tokdirs_tick(struct tokdirs *ds, const struct tokrun *r);
/* The run has ended: the project directories its processes named that were
 * missing (some of TOKDIRS_WANTED_MAX) are looked for once more, whatever
 * was found missing lately: an agent that made its own in a short run. */
void tokdirs_final(struct tokdirs *ds, const struct tokrun *r);
/* Lets go of every directory of the run in slot, and of the paths it found
 * missing. */
void tokdirs_release(struct tokdirs *ds, uint32_t slot);

#endif
