/* The agent harness's project registries (SQLite, read-only) and the lock
 * files of their projects: runs start when an agent does, with no wiring.
 * Projects are kept sorted by name: a read, a lookup and the carrying of
 * each project's state across reads stay n log n with 100 000 projects. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentlock.h"
#include "log.h"
#include "names.h"
#include "procfs.h"
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
};

static struct seen look(const char *path)
{
	struct stat st;
	struct seen s = { 0 };

	if (stat(path, &st) == 0)
		s = (struct seen){ true, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_uid };
	return s;
}

static bool same(const struct seen *a, const struct seen *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

struct registry *registry_new(const char *const *paths, size_t n)
{
	struct registry *r;

	if (n > REGISTRY_MAX) {
		errno = E2BIG;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(r->db[i].path, sizeof(r->db[i].path), "%s", paths[i]);
	r->n_db = n;
	/* Without inotify, the once-a-second look still finds every lock. */
	r->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->inotify_fd < 0)
		log_warn("inotify: %s; agent locks are looked at once a second", strerror(errno));
	return r;
}

static void free_projects(struct registry_project *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].lock);
	free(p);
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	if (r->inotify_fd >= 0)
		close(r->inotify_fd);
	free_projects(r->p, r->n);
	free(r);
}

int registry_fd(const struct registry *r)
{
	return r->inotify_fd;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

bool registry_drain(struct registry *r)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int gone[sizeof(buf) / sizeof(struct inotify_event)];
	bool any = false;
	ssize_t n;

	while (r->inotify_fd >= 0 && (n = read(r->inotify_fd, buf, sizeof(buf))) > 0) {
		size_t n_gone = 0;

		any = true;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_IGNORED)
				gone[n_gone++] = ev->wd;
			else if (r->n_dirty < REGISTRY_DIRTY_MAX)
				r->dirty[r->n_dirty++] = ev->wd;
			else
				r->all_dirty = true;
			p += sizeof(*ev) + ev->len;
		}
		/* Directories that went away: watch them again once they are back.
		 * One pass per read, not per event: a removed tree of projects
		 * sends one event each. */
		if (!n_gone)
			continue;
		qsort(gone, n_gone, sizeof(gone[0]), cmp_int);
		for (size_t i = 0; i < r->n; i++)
			if (r->p[i].wd >= 0 &&
			    bsearch(&r->p[i].wd, gone, n_gone, sizeof(gone[0]), cmp_int))
				r->p[i].wd = -1;
	}
	return any;
}

/* Watches the directory of p's lock, once it exists: a lock written there
 * is seen at once instead of at the next look. */
static void watch_dir(struct registry *r, struct registry_project *p)
{
	char dir[PATH_MAX];
	char *slash;

	if (r->inotify_fd < 0 || p->wd >= 0)
		return;
	snprintf(dir, sizeof(dir), "%s", p->lock);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	p->wd = inotify_add_watch(r->inotify_fd, dir,
				  IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_DELETE |
					  IN_ONLYDIR);
}

/* The order of a read's rows before duplicates go: by name, then the
 * earlier registry, then the earlier row. */
static int cmp_project(const void *a, const void *b)
{
	const struct registry_project *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->db != y->db)
		return x->db < y->db ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct registry_project *)elem)->name);
}

/* In p, sorted by name and without duplicates. */
static struct registry_project *find(struct registry_project *p, size_t n, const char *name)
{
	return n ? bsearch(name, p, n, sizeof(*p), cmp_name) : NULL;
}

/* Appends e, whose lock it then owns (freed here on failure). 0 or -ENOMEM. */
static int append(struct registry_project **p, size_t *n, size_t *cap,
		  const struct registry_project *e)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct registry_project *q = realloc(*p, c * sizeof(*q));

		if (!q) {
			free(e->lock);
			return -ENOMEM;
		}
		*p = q;
		*cap = c;
	}
	(*p)[*n] = *e;
	(*p)[*n].seq = *n;
	(*n)++;
	return 0;
}

/* Sorts a read's rows by name and keeps the first of each name: that of the
 * earliest registry, as listed on the command line. */
static size_t sort_unique(struct registry_project *p, size_t n)
{
	size_t out = 0;

	if (n)
		qsort(p, n, sizeof(*p), cmp_project);
	for (size_t i = 0; i < n; i++) {
		if (out && !strcmp(p[out - 1].name, p[i].name)) {
			free(p[i].lock);
			continue;
		}
		p[out++] = p[i];
	}
	return out;
}

/* Reads registry k's projects into *out (appending). Returns 0, or an SQLite
 * error code (SQLITE_BUSY while the harness holds a write lock). */
static int read_db(struct registry *r, size_t k, struct registry_project **out, size_t *n,
		   size_t *cap)
{
	struct registry_db *db = &r->db[k];
	sqlite3_stmt *st = NULL;
	sqlite3 *h = NULL;
	int rc;

	/* Read-only, never creating the file; the harness may be writing. */
	rc = sqlite3_open_v2(db->path, &h, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(h, 200);
		rc = sqlite3_prepare_v2(h, "SELECT name, path FROM projects", -1, &st, NULL);
	}
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *path = (const char *)sqlite3_column_text(st, 1);
		struct registry_project e = { .db = k, .wd = -1 };

		rc = SQLITE_OK;
		if (!name || !path || !names_project_valid(name) || path[0] != '/') {
			log_debug("registry %s: project \"%s\" skipped (name or path not usable)",
				  db->path, name ? name : "(null)");
			continue;
		}
		/* Names an earlier registry (or row) holds go in sort_unique. */
		snprintf(e.name, sizeof(e.name), "%s", name);
		if (strlen(path) + strlen(AGENTLOCK_PATH) >= PATH_MAX)
			continue;
		if (asprintf(&e.lock, "%s%s", path, AGENTLOCK_PATH) < 0 ||
		    append(out, n, cap, &e)) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		log_debug("registry %s: %s", db->path, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}

/* Removes the watches of r's old projects that none in np uses: np took
 * over those of the projects that stayed, and one directory may hold the
 * locks of two projects, one gone and one staying. */
static void drop_watches(struct registry *r, const struct registry_project *np, size_t n)
{
	int *wds = malloc((n ? n : 1) * sizeof(*wds));
	size_t n_wds = 0;

	/* Out of memory: an unneeded watch costs less than a missing one. */
	if (!wds)
		return;
	for (size_t i = 0; i < n; i++)
		if (np[i].wd >= 0)
			wds[n_wds++] = np[i].wd;
	qsort(wds, n_wds, sizeof(*wds), cmp_int);
	for (size_t i = 0; i < r->n; i++)
		if (r->p[i].wd >= 0 && !bsearch(&r->p[i].wd, wds, n_wds, sizeof(*wds), cmp_int))
			inotify_rm_watch(r->inotify_fd, r->p[i].wd);
	free(wds);
}

void registry_refresh(struct registry *r, int64_t mono_ns, bool force)
{
	struct seen dbs[REGISTRY_MAX], wals[REGISTRY_MAX];
	struct registry_project *np = NULL;
	size_t n = 0, cap = 0, added = 0;
	bool changed = force;
	char wal[PATH_MAX + 8];

	for (size_t k = 0; k < r->n_db; k++) {
		struct registry_db *db = &r->db[k];

		snprintf(wal, sizeof(wal), "%s-wal", db->path);
		dbs[k] = look(db->path);
		wals[k] = look(wal);
		if (!db->read_once || !same(&dbs[k], &db->db) || !same(&wals[k], &db->wal) ||
		    mono_ns - db->read_mono >= REGISTRY_REREAD_NS)
			changed = true;
	}
	if (!changed)
		return;
	for (size_t k = 0; k < r->n_db; k++) {
		struct registry_db *db = &r->db[k];
		struct seen s = dbs[k], w = wals[k];
		size_t before = n;

		if (!s.exists) {
			if (db->db.exists || !db->read_once)
				log_info("registry %s does not exist (yet)", db->path);
			db->db = s;
			db->read_once = true;
			db->read_mono = mono_ns;
			continue;
		}
		db->owner = s.uid;
		if (read_db(r, k, &np, &n, &cap) != SQLITE_OK) {
			/* Busy or mid-write: keep what this registry held, try again next tick. */
			while (n > before)
				free(np[--n].lock);
			for (size_t i = 0; i < r->n; i++) {
				struct registry_project e = r->p[i];

				if (e.db == k && (e.lock = strdup(e.lock)))
					append(&np, &n, &cap, &e);
			}
			continue;
		}
		db->db = s;
		db->wal = w;
		db->read_once = true;
		db->read_mono = mono_ns;
	}
	n = sort_unique(np, n);
	/* Projects that stay keep what their lock looked like, and its watch. */
	for (size_t i = 0; i < n; i++) {
		struct registry_project *old = find(r->p, r->n, np[i].name);

		np[i].wd = -1;
		if (old && !strcmp(old->lock, np[i].lock)) {
			np[i].seen = old->seen;
			np[i].handled = old->handled;
			np[i].refused = old->refused;
			np[i].last = old->last;
			np[i].wd = old->wd;
			old->wd = -1;
		} else if (!old && added++ < REGISTRY_LOG_NEW) {
			log_info("registry: watching project %s (%s)", np[i].name, np[i].lock);
		} else if (!old) {
			log_debug("registry: watching project %s (%s)", np[i].name, np[i].lock);
		}
	}
	if (added > REGISTRY_LOG_NEW)
		log_info("registry: watching %zu more new projects (-v names them)",
			 added - REGISTRY_LOG_NEW);
	drop_watches(r, np, n);
	free_projects(r->p, r->n);
	r->p = np;
	r->n = n;
	r->cap = cap;
}

bool registry_has(const struct registry *r, const char *name)
{
	return find(r->p, r->n, name) != NULL;
}

bool registry_knows(struct registry *r, const char *name, int64_t mono_ns)
{
	if (registry_has(r, name))
		return true;
	if (mono_ns - r->forced_ns < REGISTRY_FORCE_NS)
		return false;
	r->forced_ns = mono_ns;
	registry_refresh(r, mono_ns, true);
	return registry_has(r, name);
}

/* Reads the lock at p->lock if it changed; true with *out for a new one. */
static bool new_lock(struct registry_project *p, struct stat *st, struct agentlock *out)
{
	char buf[AGENTLOCK_MAX + 1];
	struct seen s;
	ssize_t len;
	/* O_NOFOLLOW: a lock is the harness's own file, not a link to elsewhere;
	 * O_NONBLOCK: a FIFO put in its place must not hang the daemon. */
	int fd = open(p->lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		if (p->seen.exists)
			log_debug("project %s: lock %s is gone", p->name, p->lock);
		p->seen = (struct seen){ 0 };
		p->handled = false;
		p->refused = false;
		return false;
	}
	if (fstat(fd, st)) {
		close(fd);
		return false;
	}
	s = (struct seen){ true, st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_uid };
	if (same(&s, &p->seen)) {
		close(fd);
		return false;
	}
	p->seen = s;
	len = S_ISREG(st->st_mode) ? read(fd, buf, sizeof(buf)) : -1;
	close(fd);
	if (len < 0 || agentlock_parse(buf, (size_t)len, out)) {
		log_debug("project %s: %s is not PID:CREATE_TIME; ignored", p->name, p->lock);
		return false;
	}
	if (p->handled && p->last.pid == out->pid && p->last.create_time == out->create_time)
		return false; /* rewritten with the same content */
	p->handled = true;
	p->last = *out;
	return true;
}

/* Whether the look at project i is due: its directory changed, its lock
 * was refused, or it is in this look's round-robin window. Each look reads
 * at most REGISTRY_LOOK_MAX locks besides those: a registry of 100 000
 * projects never stalls the loop, and a lock whose directory inotify
 * reports is still read at once. */
static bool look_due(const struct registry *r, size_t i)
{
	const struct registry_project *p = &r->p[i];

	if (r->n <= REGISTRY_LOOK_MAX || p->refused || r->all_dirty)
		return true;
	if ((i + r->n - r->cursor) % r->n < REGISTRY_LOOK_MAX)
		return true;
	return p->wd >= 0 && bsearch(&p->wd, r->dirty, r->n_dirty, sizeof(int), cmp_int);
}

void registry_watch(struct registry *r, const char *proc_root, registry_attach_fn fn, void *ctx)
{
	qsort(r->dirty, r->n_dirty, sizeof(int), cmp_int);
	for (size_t i = 0; i < r->n; i++) {
		struct registry_project *p = &r->p[i];
		uid_t owner = r->db[p->db].owner;
		struct agentlock prev = p->last;
		bool refused = p->refused;
		struct procfs_status ps;
		struct agentlock l;
		struct stat st;
		double start;
		int err;

		if (!look_due(r, i))
			continue;
		watch_dir(r, p);
		if (!new_lock(p, &st, &l))
			continue;
		p->refused = false;
		err = procfs_start_time(proc_root, l.pid, &start);
		if (err == -ESRCH || (!err && procfs_read_status(proc_root, l.pid, &ps))) {
			log_debug("project %s: stale lock: process %d is not running; ignored",
				  p->name, (int)l.pid);
			continue;
		}
		if (err) {
			log_warn("project %s: cannot read process %d: %s", p->name, (int)l.pid,
				 strerror(-err));
			continue;
		}
		if (!agentlock_matches(&l, start)) {
			log_debug("project %s: stale lock: process %d started at %.2f, the lock says "
				  "%.2f (a reused PID); ignored",
				  p->name, (int)l.pid, start, l.create_time);
			continue;
		}
		if (ps.tgid != l.pid || ps.state == 'Z' || ps.state == 'X') {
			log_debug("project %s: lock names %d, not a live process; ignored", p->name,
				  (int)l.pid);
			continue;
		}
		/* As on the control socket: a registry or lock of one user never
		 * starts a run of another user's processes. */
		if ((owner != 0 && ps.ruid != owner) || (st.st_uid != 0 && st.st_uid != ps.ruid)) {
			log_warn("project %s: lock names process %d of uid %u, but the registry "
				 "belongs to uid %u and the lock to uid %u; ignored",
				 p->name, (int)l.pid, (unsigned)ps.ruid, (unsigned)owner,
				 (unsigned)st.st_uid);
			continue;
		}
		refused = refused && prev.pid == l.pid && prev.create_time == l.create_time;
		if (fn(ctx, p->name, l.pid, refused)) {
			/* No run could be started (all slots taken, say): the same
			 * lock is read and tried again at the next look. */
			p->seen = (struct seen){ 0 };
			p->handled = false;
			p->refused = true;
		}
	}
	r->cursor = r->n ? (r->cursor + REGISTRY_LOOK_MAX) % r->n : 0;
	r->n_dirty = 0;
	r->all_dirty = false;
}
