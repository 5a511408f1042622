/* One agent-harness registry (SQLite, read-only): which projects it holds
 * and where their lock files are. */
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
#include "regengine.h"

int regengine_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

struct seen regengine_look(const char *path)
{
	struct stat st;
	struct seen s = { 0 };

	if (stat(path, &st) == 0)
		s = (struct seen){ true, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_uid };
	return s;
}

bool regengine_same(const struct seen *a, const struct seen *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

struct regengine *regengine_new(const char *path)
{
	struct regengine *e;

	if (strlen(path) >= sizeof(e->path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->path, sizeof(e->path), "%s", path);
	/* Without inotify, the once-a-second look still finds every lock. */
	e->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (e->inotify_fd < 0)
		log_warn("inotify: %s; agent locks are looked at once a second", strerror(errno));
	return e;
}

static void free_projects(struct regengine_project *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].lock);
	free(p);
}

void regengine_free(struct regengine *e)
{
	if (!e)
		return;
	if (e->inotify_fd >= 0)
		close(e->inotify_fd);
	free_projects(e->p, e->n);
	free(e);
}

/* The order of a read's rows before duplicates go: by name, then the
 * earlier row. */
static int cmp_project(const void *a, const void *b)
{
	const struct regengine_project *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct regengine_project *)elem)->name);
}

/* In p, sorted by name and without duplicates. */
static struct regengine_project *find(struct regengine_project *p, size_t n, const char *name)
{
	return n ? bsearch(name, p, n, sizeof(*p), cmp_name) : NULL;
}

/* Appends e, whose lock it then owns (freed here on failure). 0 or -ENOMEM. */
static int append(struct regengine_project **p, size_t *n, size_t *cap,
		  const struct regengine_project *e)
{
	struct regengine_project *q = buf_grow(*p, cap, *n + 1, sizeof(*q));

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

/* Sorts a read's rows by name and keeps the first row of each name. */
static size_t sort_unique(struct regengine_project *p, size_t n)
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

/* Reads the registry's projects into *out. Returns 0, or an SQLite error
 * code (SQLITE_BUSY while the harness holds a write lock). */
static int read_db(struct regengine *e, struct regengine_project **out, size_t *n, size_t *cap)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *h = NULL;
	int rc;

	/* Read-only, never creating the file; the harness may be writing. A
	 * locked registry is never waited for (SQLite's default, no busy
	 * timeout): its projects are kept until a later read. */
	rc = sqlite3_open_v2(e->path, &h, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h, "SELECT name, path FROM projects", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *path = (const char *)sqlite3_column_text(st, 1);
		struct regengine_project p = { .wd = -1 };

		rc = SQLITE_OK;
		if (!name || !path || !names_project_valid(name) || path[0] != '/') {
			log_debug("registry %s: project \"%s\" skipped (name or path not usable)",
				  e->path, name ? name : "(null)");
			continue;
		}
		snprintf(p.name, sizeof(p.name), "%s", name);
		if (strlen(path) + strlen(AGENTLOCK_PATH) >= PATH_MAX)
			continue;
		if (asprintf(&p.lock, "%s%s", path, AGENTLOCK_PATH) < 0 || append(out, n, cap, &p)) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		log_debug("registry %s: %s", e->path, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}

/* Removes the watches of e's old projects that none in np uses: np took
 * over those of the projects that stayed, and one directory may hold the
 * locks of two projects, one gone and one staying. */
static void drop_watches(struct regengine *e, const struct regengine_project *np, size_t n)
{
	int *wds = malloc((n ? n : 1) * sizeof(*wds));
	size_t n_wds = 0;

	/* Out of memory: an unneeded watch costs less than a missing one. */
	if (!wds)
		return;
	for (size_t i = 0; i < n; i++)
		if (np[i].wd >= 0)
			wds[n_wds++] = np[i].wd;
	qsort(wds, n_wds, sizeof(*wds), regengine_cmp_int);
	for (size_t i = 0; i < e->n; i++)
		if (e->p[i].wd >= 0 &&
		    !bsearch(&e->p[i].wd, wds, n_wds, sizeof(*wds), regengine_cmp_int))
			inotify_rm_watch(e->inotify_fd, e->p[i].wd);
	free(wds);
}

/* Replaces the project list with np's (n projects, sorted and unique):
 * projects that stay keep what their lock looked like, and its watch. */
static void replace(struct regengine *e, struct regengine_project *np, size_t n, size_t cap)
{
	size_t added = 0;

	for (size_t i = 0; i < n; i++) {
		struct regengine_project *old = find(e->p, e->n, np[i].name);

		np[i].wd = -1;
		if (old && !strcmp(old->lock, np[i].lock)) {
			np[i].seen = old->seen;
			np[i].handled = old->handled;
			np[i].refused = old->refused;
			np[i].last = old->last;
			np[i].wd = old->wd;
			old->wd = -1;
		} else if (!old && added++ < REGENGINE_LOG_NEW) {
			log_info("registry: watching project %s (%s)", np[i].name, np[i].lock);
		} else if (!old) {
			log_debug("registry: watching project %s (%s)", np[i].name, np[i].lock);
		}
	}
	if (added > REGENGINE_LOG_NEW)
		log_info("registry: watching %zu more new projects (-v names them)",
			 added - REGENGINE_LOG_NEW);
	drop_watches(e, np, n);
	free_projects(e->p, e->n);
	e->p = np;
	e->n = n;
	e->cap = cap;
	e->gen++;
}

void regengine_refresh(struct regengine *e, int64_t mono_ns, bool force)
{
	struct regengine_project *np = NULL;
	size_t n = 0, cap = 0;
	char wal[PATH_MAX + 8];
	struct seen s, w;

	snprintf(wal, sizeof(wal), "%s-wal", e->path);
	s = regengine_look(e->path);
	w = regengine_look(wal);
	if (!force && e->read_once && regengine_same(&s, &e->db) && regengine_same(&w, &e->wal) &&
	    mono_ns - e->read_mono < REGENGINE_REREAD_NS)
		return;
	if (!s.exists) {
		if (e->db.exists || !e->read_once)
			log_info("registry %s does not exist (yet)", e->path);
	} else {
		e->owner = s.uid;
		if (read_db(e, &np, &n, &cap) != SQLITE_OK) {
			/* Busy or mid-write: keep what it held, try again next time. */
			free_projects(np, n);
			return;
		}
	}
	e->db = s;
	e->wal = w;
	e->read_once = true;
	e->read_mono = mono_ns;
	replace(e, np, sort_unique(np, n), cap);
}

bool regengine_has(const struct regengine *e, const char *name)
{
	return find(e->p, e->n, name) != NULL;
}
