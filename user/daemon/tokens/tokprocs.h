/* A run's processes, looked at under PROC_ROOT for where their agents write
 * transcripts: the environment (the agents' config directories), the working
 * directory (its Claude Code project directory, handed to tokdirs) and the
 * open files (Codex rollouts, handed to tokfiles; Claude Code transcripts,
 * whose project directory goes to tokdirs). */
#ifndef AGENTPERF_TOKPROCS_H
#define AGENTPERF_TOKPROCS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tokdirs.h"
#include "tokfiles.h"
#include "tokrun.h"

struct tokprocs;

/* proc_root, ds and fs are kept (not copied): they must outlive ps. NULL
 * with errno ENOMEM. tokprocs_free(NULL) is a no-op. */
struct tokprocs *tokprocs_new(const char *proc_root, struct tokdirs *ds, struct tokfiles *fs);
void tokprocs_free(struct tokprocs *ps);
/* One tick of r, whose processes are now pids: each is looked at when new,
 * then every TOKSCAN_RESCAN_NS (each tick while younger than
 * TOKSCAN_YOUNG_NS). Processes no longer in pids are forgotten; what they
 * led to is not. */
void tokprocs_scan(struct tokprocs *ps, const struct tokrun *r, const pid_t *pids, size_t n);
/* Before a tick's runs: each user's fd-table budget starts afresh. */
void tokprocs_begin(struct tokprocs *ps);
/* Forgets the processes of the run in slot. */
void tokprocs_release(struct tokprocs *ps, uint32_t slot);

#endif
