/* Claude Code's directories of each run's transcripts: watched, listed, their files followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "tokdirs.h"
#include "tokneg.h"
#include "toksess.h"
#include "tracker_abi.h"
#include "useropen.h"

/* Claude Code's layout: CONFIG/projects/P/S.jsonl, and a session's subagents
 * in CONFIG/projects/P/S/subagents/ (any *.jsonl there). */
enum dir_kind { DIR_PROJECT, DIR_SESSION, DIR_SUBAGENTS };

struct known {
	ino_t ino;
	off_t size;
};

struct tokdir {
	uint32_t slot, gen; /* the run it counts for */
	enum dir_kind kind;
	uid_t uid; /* its owner, and its transcripts' */
	int wd; /* inotify watch; -1 when none (then listed each tick) */
	bool dirty; /* to be listed again: events were lost */
	char *path;
	/* Its *.jsonl files when first listed (sorted by inode): a file
	 * followed later starts at the size it had then. */
	struct known *known;
	size_t n_known;
	bool known_full; /* more files than TOKSCAN_KNOWN_MAX */
	/* A project directory other runs named too: whose its sessions are. */
	struct toksess_dir share;
};

struct tokdirs {
	struct tokfiles *fs;
	const struct tokrun *runs; /* the scanner's, by slot */
	struct toksess *ss; /* which run a shared directory's session is */
	int ifd; /* inotify; -1 when refused */
	struct tokdir **dirs;
	size_t n_dirs, cap_dirs;
	/* Per run, by slot: its directories, and paths known not to be there. */
	struct {
		size_t n_dirs;
		struct tokneg neg;
		/* Project directories its processes named that were missing:
		 * looked for once more at its end (an agent may make its own). */
		char *wanted[TOKDIRS_WANTED_MAX];
		uid_t wanted_uid[TOKDIRS_WANTED_MAX];
		size_t n_wanted;
	} run[TRACKER_MAX_RUNS];
};

static const uint32_t dir_mask[] = {
	[DIR_PROJECT] = IN_MODIFY | IN_CREATE | IN_MOVED_TO,
	[DIR_SESSION] = IN_CREATE | IN_MOVED_TO,
	[DIR_SUBAGENTS] = IN_MODIFY | IN_CREATE | IN_MOVED_TO,
};

struct tokdirs *tokdirs_new(struct tokfiles *fs, const struct tokrun *runs, bool inotify)
{
	struct tokdirs *ds = calloc(1, sizeof(*ds));

	if (!ds)
		return NULL;
	ds->fs = fs;
	ds->runs = runs;
	if (!(ds->ss = toksess_new(runs))) {
		free(ds);
		return NULL;
	}
	/* Events are taken once per tick, never woken for: an agent's thousand
	 * appends a second cost one read of the queue. */
	ds->ifd = inotify ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
	return ds;
}

static bool push(struct tokdirs *ds, struct tokdir *d)
{
	struct tokdir **b = buf_grow(ds->dirs, &ds->cap_dirs, ds->n_dirs + 1, sizeof(*b));

	if (!b)
		return false;
	ds->dirs = b;
	ds->dirs[ds->n_dirs++] = d;
	return true;
}

static int cmp_known(const void *a, const void *b)
{
	ino_t x = ((const struct known *)a)->ino, y = ((const struct known *)b)->ino;

	return x < y ? -1 : x > y;
}

static const struct known *known_of(const struct tokdir *d, ino_t ino)
{
	struct known key = { .ino = ino };

	if (!d->n_known)
		return NULL;
	return bsearch(&key, d->known, d->n_known, sizeof(key), cmp_known);
}

static struct tokdir *dir_by_path(const struct tokdirs *ds, const char *path)
{
	for (size_t i = 0; i < ds->n_dirs; i++)
		if (!strcmp(ds->dirs[i]->path, path))
			return ds->dirs[i];
	return NULL;
}

static struct tokdir *dir_by_wd(const struct tokdirs *ds, int wd)
{
	for (size_t i = 0; i < ds->n_dirs; i++)
		if (ds->dirs[i]->wd == wd)
			return ds->dirs[i];
	return NULL;
}

static bool is_jsonl(const char *name)
{
	size_t n = strlen(name);

	return n > 6 && !strcmp(name + n - 6, ".jsonl");
}

/* Remembers a missing project directory of r's for its final look. */
static void want(struct tokdirs *ds, const struct tokrun *r, const char *path, uid_t uid)
{
	typeof(ds->run[0]) *w = &ds->run[r->slot];

	for (size_t i = 0; i < w->n_wanted; i++)
		if (!strcmp(w->wanted[i], path))
			return;
	if (w->n_wanted < TOKDIRS_WANTED_MAX && (w->wanted[w->n_wanted] = strdup(path)))
		w->wanted_uid[w->n_wanted++] = uid;
}

static struct tokdir *dir_ensure(struct tokdirs *ds, const struct tokrun *r, const char *path,
				 uid_t uid, enum dir_kind kind, bool created);

struct followed_ctx {
	const struct tokfiles *fs;
	const struct tokdir *d;
};

/* toksess_followed_fn: whether a session of d is followed (for any run). */
static bool followed(void *ctx, const char *name)
{
	const struct followed_ctx *f = ctx;

	return tokfiles_find(f->fs, f->d, name) != NULL;
}

/* The run a session (S.jsonl, or its directory S) of project directory d,
 * d's own run r, counts for; NULL: none now. */
static const struct tokrun *session_run(struct tokdirs *ds, struct tokdir *d, const char *name,
					const struct tokrun *r)
{
	return toksess_run(ds->ss, &d->share, name, r, d->uid);
}

/* Where a transcript of d is followed from: its start if the run created it,
 * else where it stood when d was first listed, or its start if it was not
 * there then, or else its end. */
static off_t start(const struct tokrun *r, const struct tokdir *d, int fd, const struct stat *st)
{
	const struct known *k;
	bool btime;

	if (tokrun_born_fd(r, fd, &btime))
		return 0;
	if ((k = known_of(d, st->st_ino)))
		return k->size < st->st_size ? k->size : st->st_size;
	if (!btime && !d->known_full)
		return 0; /* not there when its directory was listed: new */
	return st->st_size;
}

/* Follows name of d, whose events or listing say it is a transcript. */
static void follow_in(struct tokdirs *ds, const struct tokrun *r, struct tokdir *d,
		      const char *name)
{
	char sub[PATH_MAX];
	struct stat st;
	int dfd, fd;

	if (d->kind == DIR_SESSION || !is_jsonl(name) || tokfiles_find(ds->fs, d, name))
		return;
	/* A project directory's session is the run's that claims it; while
	 * the directory is shared, one no run claims yet waits (its next
	 * event, or a listing, asks again). */
	if (d->kind == DIR_PROJECT && !(r = session_run(ds, d, name, r)))
		return;
	if ((dfd = useropen_dir(d->path, d->uid)) < 0)
		return;
	fd = useropen_file(dfd, name, d->uid, &st);
	close(dfd);
	if (fd < 0)
		return;
	if (tokfiles_has(ds->fs, st.st_dev, st.st_ino)) {
		close(fd); /* another run's, or this one's under another name */
		return;
	}
	if (!tokfiles_follow(ds->fs, r, TRANSCRIPT_CLAUDE, d, name, fd, &st,
			     start(r, d, fd, &st)) ||
	    d->kind != DIR_PROJECT)
		return;
	/* An active session may start subagents: S/ and S/subagents/. */
	if (snprintf(sub, sizeof(sub), "%s/%.*s", d->path, (int)(strlen(name) - 6), name) <
	    (int)sizeof(sub) - 11) {
		dir_ensure(ds, r, sub, d->uid, DIR_SESSION, false);
		strcat(sub, "/subagents");
		dir_ensure(ds, r, sub, d->uid, DIR_SUBAGENTS, false);
	}
}

/* Lists d: its files' sizes the first time, and (first time, or without
 * events) the files that grew. A project's existing sessions' subagent
 * directories are taken in the first listing. */
static void dir_list(struct tokdirs *ds, const struct tokrun *r, struct tokdir *d, int dfd,
		     bool first)
{
	size_t cap_known = 0;
	struct dirent *de;
	struct statx st;
	DIR *dir;

	d->dirty = false;
	if (d->kind == DIR_SESSION) {
		char sub[PATH_MAX];

		if (snprintf(sub, sizeof(sub), "%s/subagents", d->path) < (int)sizeof(sub))
			dir_ensure(ds, r, sub, d->uid, DIR_SUBAGENTS, first);
		return;
	}
	dfd = dfd >= 0 ? dup(dfd) : useropen_dir(d->path, d->uid);
	if (dfd < 0 || !(dir = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(dir))) {
		struct tokfile *f;

		if (de->d_name[0] == '.')
			continue;
		if (d->kind == DIR_PROJECT &&
		    (de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN && !is_jsonl(de->d_name)))) {
			char sub[PATH_MAX];

			/* Subagents of sessions before the run: followed from
			 * their sizes now, in case the session goes on (and,
			 * without events, those of sessions since). */
			const struct tokrun *sr;

			if (snprintf(sub, sizeof(sub), "%s/%s/subagents", d->path, de->d_name) <
				    (int)sizeof(sub) &&
			    !dir_by_path(ds, sub) && !access(sub, F_OK) &&
			    (sr = session_run(ds, d, de->d_name, r)))
				dir_ensure(ds, sr, sub, d->uid, DIR_SUBAGENTS, true);
			continue;
		}
		if (!is_jsonl(de->d_name) ||
		    statx(dirfd(dir), de->d_name, AT_SYMLINK_NOFOLLOW,
			  STATX_TYPE | STATX_UID | STATX_INO | STATX_SIZE | STATX_BTIME, &st) ||
		    !S_ISREG(st.stx_mode) || st.stx_uid != d->uid)
			continue;
		/* Made since the run started (a directory found late): whole. */
		if (first && (st.stx_mask & STATX_BTIME) && tokrun_born(r, &st)) {
			follow_in(ds, r, d, de->d_name);
			continue;
		}
		if (first) {
			if (d->n_known >= TOKSCAN_KNOWN_MAX) {
				d->known_full = true;
				continue;
			}
			struct known *k = buf_grow(d->known, &cap_known, d->n_known + 1, sizeof(*k));

			if (!k) {
				d->known_full = true;
				continue;
			}
			d->known = k;
			d->known[d->n_known++] = (struct known){ st.stx_ino, (off_t)st.stx_size };
			continue;
		}
		/* Without events: anything whose size is not what we know. */
		if ((f = tokfiles_find(ds->fs, d, de->d_name))) {
			if ((off_t)st.stx_size != tokfiles_offset(f))
				tokfiles_touch(f);
		} else {
			const struct known *k = known_of(d, st.stx_ino);

			if (!k || k->size != (off_t)st.stx_size)
				follow_in(ds, r, d, de->d_name);
		}
	}
	closedir(dir);
	if (first && d->n_known)
		qsort(d->known, d->n_known, sizeof(*d->known), cmp_known);
}

/* Watches and lists path, a directory of uid's, for run r, unless it is
 * already (for any run), or is known not to be there (unless an event just
 * said it was created). */
static struct tokdir *dir_ensure(struct tokdirs *ds, const struct tokrun *r, const char *path,
				 uid_t uid, enum dir_kind kind, bool created)
{
	struct tokneg *neg = &ds->run[r->slot].neg;
	char self[64];
	struct tokdir *d;
	int dfd;

	if ((d = dir_by_path(ds, path))) {
		if (d->slot == r->slot && d->gen == r->gen)
			return d;
		/* Another run's project directory: r shares it. */
		if (kind == DIR_PROJECT)
			toksess_share(&d->share, r);
		return NULL;
	}
	if (ds->run[r->slot].n_dirs >= TOKSCAN_DIRS_MAX ||
	    (!created && tokneg_has(neg, path, r->mono_ns)))
		return NULL;
	if ((dfd = useropen_dir(path, uid)) < 0) {
		tokneg_add(neg, path, r->mono_ns);
		if (kind == DIR_PROJECT)
			want(ds, r, path, uid);
		return NULL;
	}
	if (!(d = calloc(1, sizeof(*d))) || !(d->path = strdup(path)) || !push(ds, d)) {
		if (d)
			free(d->path);
		free(d);
		close(dfd);
		return NULL;
	}
	d->slot = r->slot;
	d->gen = r->gen;
	d->kind = kind;
	d->uid = uid;
	d->wd = -1;
	ds->run[r->slot].n_dirs++;
	/* The watch is of the directory just checked (its fd), not of
	 * whatever the path leads to by now. IN_MASK_CREATE: a directory
	 * reached by a second path is watched once. */
	if (ds->ifd >= 0) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", dfd);
		d->wd = inotify_add_watch(ds->ifd, self, dir_mask[kind] | IN_ONLYDIR |
								 IN_EXCL_UNLINK | IN_MASK_CREATE);
		if (d->wd < 0 && errno == EEXIST)
			d->wd = -2; /* someone else's: never listed, never read */
	}
	if (d->wd != -2)
		dir_list(ds, r, d, dfd, true);
	close(dfd);
	return d;
}

static void dir_free(struct tokdirs *ds, struct tokdir *d)
{
	if (d->wd >= 0)
		inotify_rm_watch(ds->ifd, d->wd);
	struct followed_ctx f = { ds->fs, d };

	toksess_dir_free(ds->ss, &d->share, followed, &f);
	/* Sessions of runs that shared it are read at each of their ticks. */
	tokfiles_forget_dir(ds->fs, d);
	free(d->known);
	free(d->path);
	free(d);
}

/* An event of d: a file grew or came, or a session or subagents directory. */
static void on_event(struct tokdirs *ds, const struct tokrun *run, struct tokdir *d,
		     const struct inotify_event *ev)
{
	const struct tokrun *r = &run[d->slot];
	char path[PATH_MAX];
	struct tokfile *f;

	if (!r->active || r->gen != d->gen || !ev->len || ev->name[0] == '.')
		return;
	if (ev->mask & IN_ISDIR) {
		/* Room for "/subagents" after it. */
		if (snprintf(path, sizeof(path), "%s/%s", d->path, ev->name) >=
		    (int)sizeof(path) - 11)
			return;
		if (d->kind == DIR_PROJECT) {
			/* A session's subagents count where the session does. */
			const struct tokrun *sr = session_run(ds, d, ev->name, r);

			if (!sr)
				return;
			dir_ensure(ds, sr, path, d->uid, DIR_SESSION, true);
			strcat(path, "/subagents");
			dir_ensure(ds, sr, path, d->uid, DIR_SUBAGENTS, true);
		} else if (d->kind == DIR_SESSION && !strcmp(ev->name, "subagents")) {
			dir_ensure(ds, r, path, d->uid, DIR_SUBAGENTS, true);
		}
		return;
	}
	if ((f = tokfiles_find(ds->fs, d, ev->name)))
		tokfiles_touch(f);
	else
		follow_in(ds, r, d, ev->name);
}

void tokdirs_begin(struct tokdirs *ds)
{
	const struct tokrun *run = ds->runs;
	char buf[16 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct tokdir *last = NULL;
	ssize_t n;

	if (ds->ifd < 0)
		return;
	while ((n = read(ds->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Lost events: every directory is listed again. */
				for (size_t i = 0; i < ds->n_dirs; i++)
					ds->dirs[i]->dirty = true;
				continue;
			}
			if (!last || last->wd != ev->wd)
				last = dir_by_wd(ds, ev->wd);
			if (!last)
				continue;
			if (ev->mask & IN_IGNORED) {
				last->wd = -1; /* the directory is gone */
				last = NULL;
				continue;
			}
			on_event(ds, run, last, ev);
		}
	}
}

void tokdirs_project(struct tokdirs *ds, const struct tokrun *r, const char *path, uid_t uid)
{
	dir_ensure(ds, r, path, uid, DIR_PROJECT, false);
}

void tokdirs_claim(struct tokdirs *ds, const struct tokrun *r, const char *id, size_t len)
{
	if (!toksess_claim(ds->ss, r, id, len))
		return;
	/* A session that waited for its claim is looked at again. */
	for (size_t i = 0; i < ds->n_dirs; i++)
		if (ds->dirs[i]->kind == DIR_PROJECT && ds->dirs[i]->share.n_others)
			ds->dirs[i]->dirty = true;
}

bool tokdirs_present(struct tokdirs *ds, const struct tokrun *r, const char *path)
{
	if (tokneg_has(&ds->run[r->slot].neg, path, r->mono_ns))
		return false;
	if (access(path, F_OK)) {
		tokneg_add(&ds->run[r->slot].neg, path, r->mono_ns);
		return false;
	}
	return true;
}

void tokdirs_tick(struct tokdirs *ds, const struct tokrun *r)
{
	for (size_t i = 0; i < ds->n_dirs; i++) {
		struct tokdir *d = ds->dirs[i];

		if (d->slot != r->slot || d->gen != r->gen)
			continue;
		/* Directories without events (none, or lost) are listed
		 * instead, and the files of one without a watch are read. */
		if (d->dirty || d->wd == -1)
			dir_list(ds, r, d, -1, false);
		if (d->wd == -1)
			tokfiles_touch_dir(ds->fs, d);
	}
}

void tokdirs_final(struct tokdirs *ds, const struct tokrun *r)
{
	/* What came since the run's last tick: the events, and a listing of
	 * its directories (events may have been lost, or never be). */
	tokdirs_begin(ds);
	for (size_t i = 0; i < ds->n_dirs; i++)
		if (ds->dirs[i]->slot == r->slot && ds->dirs[i]->gen == r->gen &&
		    ds->dirs[i]->wd != -2)
			dir_list(ds, r, ds->dirs[i], -1, false);
	for (size_t i = 0; i < ds->run[r->slot].n_wanted; i++)
		dir_ensure(ds, r, ds->run[r->slot].wanted[i], ds->run[r->slot].wanted_uid[i],
			   DIR_PROJECT, true);
}

void tokdirs_release(struct tokdirs *ds, uint32_t slot)
{
	size_t kept = 0;

	for (size_t i = 0; i < ds->n_dirs; i++) {
		struct tokdir *d = ds->dirs[i];
		struct followed_ctx f = { ds->fs, d };

		if (d->slot == slot) {
			dir_free(ds, d);
			continue;
		}
		ds->dirs[kept++] = d;
		/* No longer shared by this run: its waiting sessions are looked
		 * at again. */
		if (toksess_unshare(ds->ss, &d->share, slot, followed, &f))
			d->dirty = true;
	}
	ds->n_dirs = kept;
	toksess_release(ds->ss, slot);
	if (slot < TRACKER_MAX_RUNS) {
		for (size_t i = 0; i < ds->run[slot].n_wanted; i++)
			free(ds->run[slot].wanted[i]);
		memset(&ds->run[slot], 0, sizeof(ds->run[slot]));
	}
}

void tokdirs_free(struct tokdirs *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->n_dirs; i++)
		dir_free(ds, ds->dirs[i]);
	for (size_t i = 0; i < TRACKER_MAX_RUNS; i++)
		for (size_t k = 0; k < ds->run[i].n_wanted; k++)
			free(ds->run[i].wanted[k]);
	toksess_free(ds->ss);
	free(ds->dirs);
	if (ds->ifd >= 0)
		close(ds->ifd);
	free(ds);
}
