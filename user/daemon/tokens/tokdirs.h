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

/* fs and runs (indexed by slot, TRACKER_MAX_RUNS of them) are kept (not
 * copied): they must outlive the directories. Watches with inotify when
 * asked and the kernel allows. NULL with errno ENOMEM. tokdirs_free(NULL)
 * is a no-op. */
struct tokdirs *tokdirs_new(struct tokfiles *fs, const struct tokrun *runs, bool inotify);
void tokdirs_free(struct tokdirs *ds);
/* Takes the directory events since the last tick, each for its directory's
 * run. */
void tokdirs_begin(struct tokdirs *ds);
/* Watches and lists path, a Claude Code project directory of uid's
 * (CONFIG/projects/P), for r: its transcripts, and its sessions'
 * subagents'. Nothing when it is not there (or was found missing lately),
 * or past TOKSCAN_DIRS_MAX for r. When another run has it, r shares it: a
 * session goes to the run that claims it (tokdirs_claim); one no run claims
 * waits while the directory is shared, and goes to its first run once not. */
void tokdirs_project(struct tokdirs *ds, const struct tokrun *r, const char *path, uid_t uid);
/* One of r's processes has CLAUDE_CODE_SESSION_ID=id (len bytes): that
 * session's transcript is r's (toksess.h). */
void tokdirs_claim(struct tokdirs *ds, const struct tokrun *r, const char *id, size_t len);
/* Whether path is there: false without looking when it was found missing
 * within TOKSCAN_RESCAN_NS (r's clock), as directories are. */
bool tokdirs_present(struct tokdirs *ds, const struct tokrun *r, const char *path);
/* A tick of r: its directories whose events were lost or that have no watch
 * are listed, and the files of the latter are to be read. */
void tokdirs_tick(struct tokdirs *ds, const struct tokrun *r);
/* The run has ended: the directory events since its last tick are taken,
 * its directories listed for files made since, and the project directories
 * its processes named that were missing (some of TOKDIRS_WANTED_MAX) are
 * looked for once more, whatever was found missing lately: an agent that
 * made its own in a short run. */
void tokdirs_final(struct tokdirs *ds, const struct tokrun *r);
/* Lets go of every directory of the run in slot, and of the paths it found
 * missing. */
void tokdirs_release(struct tokdirs *ds, uint32_t slot);

#endif
