/* The registry's state, shared by its files only (registry.c: the
 * registries themselves; reglocks.c: their projects' lock files). */
#ifndef AGENTPERF_REGISTRY_INT_H
#define AGENTPERF_REGISTRY_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "agentlock.h"
#include "names.h"
#include "registry.h"

/* What a file looked like: a change means "read it again". */
struct seen {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uid_t uid; /* the owner: not part of "changed" */
};

/* A read names this many new projects, then says how many more. */
#define REGISTRY_LOG_NEW 20

struct registry_db {
	char path[PATH_MAX];
	struct seen db, wal;
	uid_t owner; /* its runs may only be of this user's processes (or any, for root) */
	bool read_once;
	int64_t read_mono;
};

struct registry_project {
	char name[NAMES_PROJECT_MAX + 1];
	char *lock; /* malloc'd: a PATH_MAX array each would be 400 MB for 100 000 */
	size_t db; /* which registry holds it */
	size_t seq; /* its row's place in the read: the first row of a name wins */
	struct seen seen; /* the lock file at the last look */
	bool handled; /* the lock below was acted on (or ignored) */
	bool refused; /* ... but no run could be started: tried again at each look */
	struct agentlock last;
	int wd; /* inotify watch of the lock's directory, -1 while it does not exist */
};

struct registry {
	struct registry_db db[REGISTRY_MAX];
	size_t n_db;
	struct registry_project *p; /* sorted by name, names unique */
	size_t n, cap;
	int inotify_fd; /* lock directories' changes; -1 if inotify is unavailable */
	int64_t forced_ns; /* the latest read asked for by registry_knows */
	/* Lock directories inotify reported since the latest look (sorted
	 * there); past REGISTRY_DIRTY_MAX, every project is looked at. */
	int dirty[REGISTRY_DIRTY_MAX];
	size_t n_dirty;
	bool all_dirty;
	size_t cursor; /* where the next look's round-robin window starts */
	/* Given to registry_serve: where to look, and whom to give locks. */
	const char *proc_root;
	registry_attach_fn attach;
	void *attach_ctx;
};

/* What the file at path looks like now (exists false when it does not). */
struct seen registry_look(const char *path);
/* Whether two looks saw the same file, unchanged (the owner aside). */
bool registry_same(const struct seen *a, const struct seen *b);
/* qsort/bsearch order of ints (inotify watch descriptors). */
int registry_cmp_int(const void *a, const void *b);
/* Reads the pending inotify notifications; true if there were any. */
bool registry_drain(struct registry *r);
/* Watches the directory of p's lock, once it exists. */
void registry_watch_dir(struct registry *r, struct registry_project *p);

#endif
