/* The registry subsystem's facade: the agent harness's project registries (SQLite, read-only) and the lock
 * files of their projects: runs start when an agent does, with no wiring. */
#ifndef AGENTPERF_REGISTRY_H
#define AGENTPERF_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define REGISTRY_MAX 8 /* --autoforge-registry at most this many times */
/* A registry is read again when its files change, and at least this often. */
#define REGISTRY_REREAD_NS (30 * 1000000000LL)
#define REGISTRY_FORCE_NS (250 * 1000000LL)
/* Locks one look reads besides those of changed directories (round-robin). */
#define REGISTRY_LOOK_MAX 2048
#define REGISTRY_DIRTY_MAX 1024

struct registry;

/* Called for a lock that names a live process with the lock's start time;
 * returns 0, or -errno when no run could be started (logged by the callee;
 * quietly when again: the same lock was refused at the previous look). A
 * refused lock is offered again at each look while it stays. */
typedef int (*registry_attach_fn)(void *ctx, const char *project, pid_t pid, bool again);

/* Watches the registries at paths (which need not exist yet). NULL with errno. */
struct registry *registry_new(const char *const *paths, size_t n);
void registry_free(struct registry *r);
/* Reads the registries whose files changed (or all, with force), keeping the
 * previous list of one that cannot be read now (busy, or being written). */
void registry_refresh(struct registry *r, int64_t mono_ns, bool force);
/* Whether a registry holds the project name (as of the latest refresh). */
bool registry_has(const struct registry *r, const char *name);
/* Whether a registry holds name; a name it seems to lack (perhaps added a
 * moment ago) reads the registries again first, at most once per
 * REGISTRY_FORCE_NS however many ask. */
bool registry_knows(struct registry *r, const char *name, int64_t mono_ns);
/* Looks at every project's lock file; attaches each new (or refused) lock
 * whose process is live, started when the lock says, and owned by the
 * registry's owner. */
void registry_watch(struct registry *r, const char *proc_root, registry_attach_fn fn, void *ctx);

struct http;

/* Puts the registries on h's loop: a change in a lock directory (where
 * inotify is available) makes a look at once, and registry_tick makes one;
 * each look gives fn (ctx) the locks to attach, as registry_watch does.
 * proc_root is kept, not copied. Returns 0 or -errno. */
int registry_serve(struct registry *r, struct http *h, const char *proc_root,
		   registry_attach_fn fn, void *ctx);
/* The bookkeeping tick: reads the registries whose files changed, then
 * looks at the locks. */
void registry_tick(struct registry *r, int64_t mono_ns);

#endif
