/* A run's processes, looked at for where their agents write transcripts. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "procfs.h"
#include "readfile.h"
#include "tokprocs.h"
#include "tracker_abi.h"

struct tproc {
	pid_t pid;
	bool seen;
	bool source; /* wholly the run owner's, at the latest look */
	uid_t uid;
	char *claude[2]; /* Claude Code config directories */
	char *codex; /* Codex home */
	uint64_t env_hash; /* of its environment: another after an exec */
	bool env_changed;
	int64_t first_ns, scanned_ns, walked_ns;
	off_t fd_dir_size;
	long fd_pos; /* where a walk cut short resumes (telldir); 0: from the start */
};

/* A run's processes. */
struct ptable {
	struct tproc *procs;
	size_t n, cap;
	size_t next; /* where the next tick's looks begin (round robin) */
};

/* fd-table entries a uid's runs may still examine this tick. */
struct uid_budget {
	uid_t uid;
	size_t left;
};

#define TOKPROCS_UIDS 64

struct tokprocs {
	const char *proc_root;
	struct tokdirs *ds;
	struct tokfiles *fs;
	struct ptable run[TRACKER_MAX_RUNS]; /* by slot */
	struct uid_budget budgets[TOKPROCS_UIDS]; /* this tick's */
	size_t n_budgets;
	size_t spare_budget;
	char buf[64 * 1024];
};

struct tokprocs *tokprocs_new(const char *proc_root, struct tokdirs *ds, struct tokfiles *fs)
{
	struct tokprocs *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->proc_root = proc_root;
	ps->ds = ds;
	ps->fs = fs;
	return ps;
}

static char *join(const char *a, size_t alen, const char *b)
{
	char *s = malloc(alen + strlen(b) + 1);

	if (s) {
		memcpy(s, a, alen);
		strcpy(s + alen, b);
	}
	return s;
}

static void paths_forget(struct tproc *p)
{
	free(p->claude[0]);
	free(p->claude[1]);
	free(p->codex);
	p->claude[0] = p->claude[1] = p->codex = NULL;
}

static void proc_forget(struct tproc *p)
{
	paths_forget(p);
	p->fd_pos = 0;
}

/* Whether the process is wholly r's owner's, and where its agents keep
 * their transcripts, from its environment: $CLAUDE_CONFIG_DIR, else ~/.claude and ~/.config/claude;
 * $CODEX_HOME, else ~/.codex. Read at each look: an exec changes them. */
static void proc_learn(struct tokprocs *ps, const struct tokrun *r, struct tproc *p)
{
	const char *home, *v;
	char path[PATH_MAX];
	size_t hlen, vlen, n;
	struct procfs_status st;
	uint64_t h;

	paths_forget(p);
	p->source = false;
	/* Only a process wholly the run owner's names transcripts: a setuid
	 * helper (effective uid root) or one that switched its filesystem uid
	 * would make root read files its caller may not. */
	if (procfs_read_status(ps->proc_root, p->pid, &st) || st.ruid != r->owner ||
	    st.euid != r->owner || st.fsuid != r->owner)
		return;
	p->uid = r->owner;
	p->source = true;
	snprintf(path, sizeof(path), "%s/%d/environ", ps->proc_root, (int)p->pid);
	if (readfile_head(path, ps->buf, sizeof(ps->buf), &n))
		return;
	h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)ps->buf[i];
		h *= UINT64_C(1099511628211);
	}
	p->env_changed = h != p->env_hash;
	p->env_hash = h;
	if (p->env_changed)
		p->fd_pos = 0; /* an exec: its fds are looked at afresh, from the start */
	home = transcript_env_get(ps->buf, n, "HOME", &hlen);
	if (home && (!hlen || home[0] != '/'))
		home = NULL;
	if ((v = transcript_env_get(ps->buf, n, "CLAUDE_CONFIG_DIR", &vlen)) && vlen && v[0] == '/')
		p->claude[0] = join(v, vlen, "");
	else if (home) {
		p->claude[0] = join(home, hlen, "/.claude");
		p->claude[1] = join(home, hlen, "/.config/claude");
	}
	/* A Claude Code tool's shell: its session is this run's. */
	if ((v = transcript_env_get(ps->buf, n, "CLAUDE_CODE_SESSION_ID", &vlen)))
		tokdirs_claim(ps->ds, r, v, vlen);
	if ((v = transcript_env_get(ps->buf, n, "CODEX_HOME", &vlen)) && vlen && v[0] == '/')
		p->codex = join(v, vlen, "");
	else if (home)
		p->codex = join(home, hlen, "/.codex");
}

/* Follows a Codex rollout that the process holds open as fd name: the file
 * itself (not whatever its path leads to), if regular and the process's
 * owner's. O_PATH first, so that no device is ever opened. */
static void follow_fd(struct tokprocs *ps, const struct tokrun *r, struct tproc *p, int fddir,
		      const char *name)
{
	char self[64];
	struct stat st;
	bool btime;
	int o, fd;

	o = openat(fddir, name, O_PATH | O_CLOEXEC);
	if (o < 0)
		return;
	if (fstat(o, &st) || !S_ISREG(st.st_mode) || st.st_uid != p->uid ||
	    tokfiles_has(ps->fs, st.st_dev, st.st_ino)) {
		close(o);
		return;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", o);
	fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	close(o);
	if (fd < 0)
		return;
	tokfiles_follow(ps->fs, r, TRANSCRIPT_CODEX, NULL, NULL, fd, &st,
			tokrun_born_fd(r, fd, &btime) ? 0 : st.st_size);
}

/* The budget of r's owner for this tick. Past TOKPROCS_UIDS owners in one
 * tick, the rest share one more budget of the same size: the tick's cost
 * stays bounded, at the price of those owners' fairness among themselves. */
static size_t *budget_of(struct tokprocs *ps, const struct tokrun *r)
{
	for (size_t i = 0; i < ps->n_budgets; i++)
		if (ps->budgets[i].uid == r->owner)
			return &ps->budgets[i].left;
	if (ps->n_budgets == TOKPROCS_UIDS)
		return &ps->spare_budget;
	ps->budgets[ps->n_budgets] = (struct uid_budget){ r->owner, TOKSCAN_FDS_PER_TICK };
	return &ps->budgets[ps->n_budgets++].left;
}

/* The process's open files: Codex rollouts it holds, and Claude Code
 * transcripts (their project directory is then watched). At most
 * TOKSCAN_FDS_PER_TICK entries a tick for all the runs of one user: a long
 * table is walked over several ticks, resuming where it stopped. */
static void walk_fds(struct tokprocs *ps, const struct tokrun *r, struct ptable *t,
		     struct tproc *p)
{
	size_t *budget = budget_of(ps, r);
	char path[PATH_MAX], target[PATH_MAX], dir[PATH_MAX];
	struct dirent *de = NULL;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/fd", ps->proc_root, (int)p->pid);
	if (!*budget || !(d = opendir(path)))
		return;
	if (!p->fd_pos) {
		/* The size of /proc/PID/fd is its open-fd count (Linux 6.2+):
		 * an unchanged table is not walked again before TOKSCAN_FULL_NS. */
		if (!fstat(dirfd(d), &st)) {
			if (p->walked_ns && st.st_size == p->fd_dir_size && !p->env_changed &&
			    r->mono_ns - p->first_ns >= TOKSCAN_YOUNG_NS &&
			    r->mono_ns - p->walked_ns < TOKSCAN_FULL_NS) {
				closedir(d);
				return;
			}
			p->fd_dir_size = st.st_size;
		}
	} else {
		seekdir(d, p->fd_pos);
	}
	while (*budget && (de = readdir(d))) {
		ssize_t n;
		int kind = -1;

		--*budget;
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n <= 6)
			continue;
		target[n] = '\0';
		for (int i = 0; i < 2 && kind < 0; i++)
			kind = transcript_classify(target, p->claude[i], i ? NULL : p->codex, dir,
						   sizeof(dir));
		if (kind == TRANSCRIPT_CODEX)
			follow_fd(ps, r, p, dirfd(d), de->d_name);
		else if (kind == TRANSCRIPT_CLAUDE)
			tokdirs_project(ps->ds, r, dir, p->uid);
	}
	if (!*budget) {
		long pos = telldir(d);

		if (pos > 0 && readdir(d)) {
			p->fd_pos = pos; /* the rest at the next tick */
			closedir(d);
			return;
		}
	}
	p->fd_pos = 0; /* walked to the end */
	p->walked_ns = r->mono_ns;
	closedir(d);
}

/* Looks at a process: its working directory's Claude Code project
 * directories, and its open files. */
static void proc_scan(struct tokprocs *ps, const struct tokrun *r, struct ptable *t,
		      struct tproc *p)
{
	char path[PATH_MAX], cwd[PATH_MAX], dir[PATH_MAX];
	bool any = false;
	ssize_t n;

	proc_learn(ps, r, p);
	p->scanned_ns = r->mono_ns;
	if (!p->source)
		return;
	snprintf(path, sizeof(path), "%s/%d/cwd", ps->proc_root, (int)p->pid);
	n = readlink(path, cwd, sizeof(cwd) - 1);
	if (n > 0) {
		cwd[n] = '\0';
		for (int i = 0; i < 2; i++)
			if (p->claude[i] &&
			    !transcript_claude_dir(p->claude[i], cwd, dir, sizeof(dir)))
				tokdirs_project(ps->ds, r, dir, p->uid);
	}
	/* Only a process that may run an agent has its fds walked: one whose
	 * Codex sessions or Claude Code projects directory exists. */
	for (int i = 0; i < 3 && !any; i++) {
		const char *base = i < 2 ? p->claude[i] : p->codex;

		if (!base || snprintf(path, sizeof(path), "%s/%s", base,
				      i < 2 ? "projects" : "sessions") >= (int)sizeof(path))
			continue;
		if (tokdirs_present(ps->ds, r, path))
			any = true;
	}
	if (any)
		walk_fds(ps, r, t, p);
}

static struct tproc *proc_of(struct ptable *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->procs[i].pid == pid)
			return &t->procs[i];
	struct tproc *n = buf_grow(t->procs, &t->cap, t->n + 1, sizeof(*n));

	if (!n)
		return NULL;
	t->procs = n;
	memset(&t->procs[t->n], 0, sizeof(t->procs[0]));
	t->procs[t->n].pid = pid;
	return &t->procs[t->n++];
}

void tokprocs_begin(struct tokprocs *ps)
{
	ps->n_budgets = 0;
	ps->spare_budget = TOKSCAN_FDS_PER_TICK;
}

void tokprocs_scan(struct tokprocs *ps, const struct tokrun *r, const pid_t *pids, size_t n)
{
	struct ptable *t = &ps->run[r->slot];
	size_t kept = 0, looks = 0, start = n ? t->next % n : 0;

	for (size_t i = 0; i < t->n; i++)
		t->procs[i].seen = false;
	/* Round robin from where the last tick's looks stopped: a run with
	 * more processes than a tick looks at gets to all of them in turn. */
	for (size_t k = 0; k < n; k++) {
		size_t i = (start + k) % n;
		struct tproc *p = proc_of(t, pids[i]);

		if (!p)
			continue;
		p->seen = true;
		if (!p->first_ns)
			p->first_ns = r->mono_ns;
		if (looks == TOKSCAN_PROCS_PER_TICK)
			continue;
		if (!p->scanned_ns || r->mono_ns - p->scanned_ns >= TOKSCAN_RESCAN_NS ||
		    r->mono_ns - p->first_ns < TOKSCAN_YOUNG_NS || p->fd_pos) {
			proc_scan(ps, r, t, p);
			looks++;
			t->next = i + 1;
		}
	}
	/* Processes that left the run are forgotten; their transcripts stay. */
	for (size_t i = 0; i < t->n; i++) {
		if (t->procs[i].seen)
			t->procs[kept++] = t->procs[i];
		else
			proc_forget(&t->procs[i]);
	}
	t->n = kept;
}

void tokprocs_release(struct tokprocs *ps, uint32_t slot)
{
	if (slot >= TRACKER_MAX_RUNS)
		return;
	for (size_t i = 0; i < ps->run[slot].n; i++)
		proc_forget(&ps->run[slot].procs[i]);
	free(ps->run[slot].procs);
	memset(&ps->run[slot], 0, sizeof(ps->run[slot]));
}

void tokprocs_free(struct tokprocs *ps)
{
	if (!ps)
		return;
	for (uint32_t i = 0; i < TRACKER_MAX_RUNS; i++)
		tokprocs_release(ps, i);
	free(ps);
}
