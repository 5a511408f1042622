/* The lock files of a registry's projects: watched with inotify, read when
 * they change, each new lock of a live agent offered to start a run. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentlock.h"
#include "log.h"
#include "procfs.h"
#include "regengine.h"

bool regengine_drain(struct regengine *e)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int gone[sizeof(buf) / sizeof(struct inotify_event)];
	bool any = false;
	ssize_t n;

	while (e->inotify_fd >= 0 && (n = read(e->inotify_fd, buf, sizeof(buf))) > 0) {
		size_t n_gone = 0;

		any = true;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_IGNORED)
				gone[n_gone++] = ev->wd;
			else if (e->n_dirty < REGENGINE_DIRTY_MAX)
				e->dirty[e->n_dirty++] = ev->wd;
			else
				e->all_dirty = true;
			p += sizeof(*ev) + ev->len;
		}
		/* Directories that went away: watch them again once they are back.
		 * One pass per read, not per event: a removed tree of projects
		 * sends one event each. */
		if (!n_gone)
			continue;
		qsort(gone, n_gone, sizeof(gone[0]), regengine_cmp_int);
		for (size_t i = 0; i < e->n; i++)
			if (e->p[i].wd >= 0 &&
			    bsearch(&e->p[i].wd, gone, n_gone, sizeof(gone[0]), regengine_cmp_int))
				e->p[i].wd = -1;
	}
	return any;
}

/* Watches the directory of p's lock, once it exists: a lock written there
 * is seen at once instead of at the next look. */
static void watch_dir(struct regengine *e, struct regengine_project *p)
{
	char dir[PATH_MAX];
	char *slash;

	if (e->inotify_fd < 0 || p->wd >= 0)
		return;
	snprintf(dir, sizeof(dir), "%s", p->lock);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	p->wd = inotify_add_watch(e->inotify_fd, dir,
				  IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_DELETE |
					  IN_ONLYDIR);
}

/* Reads the lock at p->lock if it changed; true with *out for a new one. */
static bool new_lock(struct regengine_project *p, struct stat *st, struct agentlock *out)
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
	if (regengine_same(&s, &p->seen)) {
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
 * at most REGENGINE_LOOK_MAX locks besides those: a registry of 100 000
 * projects never keeps its worker long, and a lock whose directory inotify
 * reports is still read at once. */
static bool look_due(const struct regengine *e, size_t i)
{
	const struct regengine_project *p = &e->p[i];

	if (e->n <= REGENGINE_LOOK_MAX || p->refused || e->all_dirty)
		return true;
	if ((i + e->n - e->cursor) % e->n < REGENGINE_LOOK_MAX)
		return true;
	return p->wd >= 0 && bsearch(&p->wd, e->dirty, e->n_dirty, sizeof(int), regengine_cmp_int);
}

void regengine_watch(struct regengine *e, const char *proc_root, regengine_attach_fn fn, void *ctx)
{
	qsort(e->dirty, e->n_dirty, sizeof(int), regengine_cmp_int);
	for (size_t i = 0; i < e->n; i++) {
		struct regengine_project *p = &e->p[i];
		uid_t owner = e->owner;
		struct agentlock prev = p->last;
		bool refused = p->refused;
		struct procfs_status ps;
		struct agentlock l;
		struct stat st;
		double start;
		int err;

		if (!look_due(e, i))
			continue;
		watch_dir(e, p);
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
	e->cursor = e->n ? (e->cursor + REGENGINE_LOOK_MAX) % e->n : 0;
	e->n_dirty = 0;
	e->all_dirty = false;
}
