/* The registry engine: one agent-harness registry (SQLite, read-only) and
 * the lock files of its projects, read synchronously by whoever calls it:
 * the registry facade's worker thread for that registry (registry.c), the
 * unit tests and bench-registry.sh. Projects are kept sorted by name: a
 * read, a lookup and the carrying of each project's state across reads
 * stay n log n with 100 000 projects. */
#ifndef AGENTPERF_REGENGINE_H
#define AGENTPERF_REGENGINE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "agentlock.h"
#include "names.h"

/* A registry is read again when its files change, and at least this often. */
#define REGENGINE_REREAD_NS (30 * 1000000000LL)
/* Locks one look reads besides those of changed directories (round-robin). */
#define REGENGINE_LOOK_MAX 2048
#define REGENGINE_DIRTY_MAX 1024
/* A read names this many new projects, then says how many more. */
#define REGENGINE_LOG_NEW 20

/* Called for a lock that names a live process with the lock's start time;
 * returns 0, or -errno when no run could be started (a refused lock is
 * offered again at each look while it stays; again: it was refused at the
 * previous look too). */
typedef int (*regengine_attach_fn)(void *ctx, const char *project, pid_t pid, bool again);

/* What a file looked like: a change means "read it again". */
struct seen {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uid_t uid; /* the owner: not part of "changed" */
};

struct regengine_project {
	char name[NAMES_PROJECT_MAX + 1];
	char *lock; /* malloc'd: a PATH_MAX array each would be 400 MB for 100 000 */
	size_t seq; /* its row's place in the read: the first row of a name wins */
	struct seen seen; /* the lock file at the last look */
	bool handled; /* the lock below was acted on (or ignored) */
	bool refused; /* ... but no run could be started: tried again at each look */
	struct agentlock last;
	int wd; /* inotify watch of the lock's directory, -1 while it does not exist */
};

struct regengine {
	char path[PATH_MAX];
	struct seen db, wal;
	uid_t owner; /* its runs may only be of this user's processes (or any, for root) */
	bool read_once;
	int64_t read_mono;
	uint64_t gen; /* counts the reads that replaced the project list */
	struct regengine_project *p; /* sorted by name, names unique */
	size_t n, cap;
	int inotify_fd; /* lock directories' changes; -1 if inotify is unavailable */
	/* Lock directories inotify reported since the latest look (sorted
	 * there); past REGENGINE_DIRTY_MAX, every project is looked at. */
	int dirty[REGENGINE_DIRTY_MAX];
	size_t n_dirty;
	bool all_dirty;
	size_t cursor; /* where the next look's round-robin window starts */
};

/* An engine for the registry at path (which need not exist yet). NULL with errno. */
struct regengine *regengine_new(const char *path);
void regengine_free(struct regengine *e);
/* Reads the registry if its files changed (or at once, with force),
 * keeping the previous list when it cannot be read now (busy, or being
 * written). */
void regengine_refresh(struct regengine *e, int64_t mono_ns, bool force);
/* Whether the registry holds the project name (as of the latest read). */
bool regengine_has(const struct regengine *e, const char *name);
/* Reads the pending inotify notifications; true if there were any. */
bool regengine_drain(struct regengine *e);
/* Looks at the projects' lock files (those whose directory changed, those
 * refused, and a round-robin window); offers fn each new (or refused) lock
 * whose process is live, started when the lock says, and owned by the
 * registry's owner. */
void regengine_watch(struct regengine *e, const char *proc_root, regengine_attach_fn fn, void *ctx);

/* Shared by the engine's files (regengine.c: the registry; reglocks.c:
 * the lock files). */
/* What the file at path looks like now (exists false when it does not). */
struct seen regengine_look(const char *path);
/* Whether two looks saw the same file, unchanged (the owner aside). */
bool regengine_same(const struct seen *a, const struct seen *b);
/* qsort/bsearch order of ints (inotify watch descriptors). */
int regengine_cmp_int(const void *a, const void *b);

#endif
