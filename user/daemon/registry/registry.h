/* The registry subsystem's facade: the agent harness's project registries
 * (SQLite, read-only) and the lock files of their projects: runs start when
 * an agent does, with no wiring. Each registry is read by a worker thread
 * of its own: a project directory on a hung mount stalls only the looks at
 * its own registry's locks, never the event loop or another registry. */
#ifndef AGENTPERF_REGISTRY_H
#define AGENTPERF_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define REGISTRY_MAX 8 /* --autoforge-registry at most this many times */
/* A name no registry holds asks for fresh reads at most this often. */
#define REGISTRY_FORCE_NS (250 * 1000000LL)
/* Each registry's worker looks at its locks at least this often. */
#define REGISTRY_LOOK_NS (1000 * 1000000LL)
/* At start, a later registry's locks wait this long at most for the earlier
 * registries' first reads (a name two hold is the earlier one's). */
#define REGISTRY_FIRST_READ_NS (5000 * 1000000LL)
#define REGISTRY_HELD_NS (50 * 1000000LL) /* how often such a look is tried again */

struct registry;
struct http;

/* Called on the loop thread for a lock that names a live process with the
 * lock's start time; returns 0, or -errno when no run could be started
 * (logged by the callee; quietly when again: the same lock was refused at
 * the previous look). A refused lock is offered again at each look while
 * it stays. */
typedef int (*registry_attach_fn)(void *ctx, const char *project, pid_t pid, bool again);

/* The registries at paths (which need not exist yet), not read until
 * registry_serve. NULL with errno. */
struct registry *registry_new(const char *const *paths, size_t n);
/* Stops the workers (a second in all: one stuck on a hung path is left to
 * the process's exit) and frees what they let go. */
void registry_free(struct registry *r);
/* Starts each registry's worker: it reads its registry when its files
 * change (and at least every 30 s), and looks at its projects' locks when
 * their directories change (inotify) and every REGISTRY_LOOK_NS; fn (ctx)
 * is called on h's loop for the locks to attach. A name two registries
 * hold is the earlier registry's (as listed). proc_root is kept, not
 * copied. Returns 0 or -errno. */
int registry_serve(struct registry *r, struct http *h, const char *proc_root,
		   registry_attach_fn fn, void *ctx);
/* Whether a registry held name at its latest read. A name none holds
 * (perhaps added a moment ago) has every registry read again at once, at
 * most once per REGISTRY_FORCE_NS however many ask; the answer does not
 * wait for those reads. */
bool registry_knows(struct registry *r, const char *name, int64_t mono_ns);

#endif
