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

#include "buf.h"
#include "log.h"
#include "names.h"
#include "http/http.h"
#include "registry.h"
#include "registry_int.h"

int registry_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

struct seen registry_look(const char *path)
{
	struct stat st;
	struct seen s = { 0 };

	if (stat(path, &st) == 0)
		s = (struct seen){ true, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_uid };
	return s;
}

bool registry_same(const struct seen *a, const struct seen *b)
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

/* A lock directory changed: look now. */
static void on_locks_changed(void *ctx)
{
	struct registry *r = ctx;

	if (registry_drain(r))
		registry_watch(r, r->proc_root, r->attach, r->attach_ctx);
}

int registry_serve(struct registry *r, struct http *h, const char *proc_root,
		   registry_attach_fn fn, void *ctx)
{
	r->proc_root = proc_root;
	r->attach = fn;
	r->attach_ctx = ctx;
	return r->inotify_fd >= 0 ? http_watch_fd(h, r->inotify_fd, on_locks_changed, r) : 0;
}

void registry_tick(struct registry *r, int64_t mono_ns)
{
	registry_refresh(r, mono_ns, false);
	if (r->attach)
		registry_watch(r, r->proc_root, r->attach, r->attach_ctx);
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
	struct registry_project *q = buf_grow(*p, cap, *n + 1, sizeof(*q));

	if (!q) {
		free(e->lock);
		return -ENOMEM;
	}
	*p = q;
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

	/* Read-only, never creating the file; the harness may be writing. On
	 * the loop thread: a locked registry is never waited for (SQLite's
	 * default, no busy timeout), its projects are kept until a later
	 * read. (A 200 ms wait, forced every 250 ms by WebSocket clients
	 * asking for unknown names, stalled the loop 80 % of the time.) */
	rc = sqlite3_open_v2(db->path, &h, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h, "SELECT name, path FROM projects", -1, &st, NULL);
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
	qsort(wds, n_wds, sizeof(*wds), registry_cmp_int);
	for (size_t i = 0; i < r->n; i++)
		if (r->p[i].wd >= 0 && !bsearch(&r->p[i].wd, wds, n_wds, sizeof(*wds), registry_cmp_int))
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
		dbs[k] = registry_look(db->path);
		wals[k] = registry_look(wal);
		if (!db->read_once || !registry_same(&dbs[k], &db->db) || !registry_same(&wals[k], &db->wal) ||
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
