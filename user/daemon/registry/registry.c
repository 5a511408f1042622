/* The registries, each read by a worker thread of its own, never by the
 * loop: the registry's SQLite file and its projects' lock files are under
 * users' directories, where a hung mount blocks whoever touches them.
 *
 * How the loop and the workers share state: one mutex guards, per worker,
 * the names of its registry's latest read (what registry_knows answers
 * from), its "read now" and "stop" requests, and the attach request it
 * waits on. It is never held across an engine call or a system call on a
 * user's path. Each worker owns its engine, touched by its thread alone.
 * A lock to attach goes the other way: the worker posts it, wakes the loop
 * (an eventfd on the loop) and waits for the answer, which the loop gives
 * after calling the attach function: the engine's "refused, offer again"
 * bookkeeping stays as it is, and the loop never waits for a worker. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "clock.h"
#include "http/http.h"
#include "log.h"
#include "privs.h"
#include "regengine.h"
#include "registry.h"

typedef char registry_name[NAMES_PROJECT_MAX + 1];

struct worker {
	struct registry *r;
	size_t k; /* its place on the command line: an earlier one wins a name */
	char path[PATH_MAX];
	pthread_t thread;
	bool started;
	int wake_fd; /* eventfd: read now, or stop */
	struct regengine *engine; /* its thread's alone, once started */
	/* Under r->mu: */
	registry_name *names; /* the latest read's, sorted */
	size_t n_names;
	bool published; /* its registry was read once (names may be none) */
	bool force; /* read the registry at once (registry_knows) */
	bool stop;
	bool asking; /* an attach request below waits for the loop */
	bool answered;
	registry_name project;
	pid_t pid;
	bool again;
	int answer;
};

struct registry {
	struct worker w[REGISTRY_MAX];
	size_t n;
	pthread_mutex_t mu;
	pthread_cond_t answered;
	int ask_fd; /* eventfd on the loop: a worker asks for an attach */
	int64_t forced_ns; /* the latest read asked for by registry_knows */
	int64_t served_ns; /* when the workers started */
	/* Given to registry_serve. */
	const char *proc_root;
	registry_attach_fn attach;
	void *attach_ctx;
};

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
	r->ask_fd = -1;
	for (size_t k = 0; k < REGISTRY_MAX; k++)
		r->w[k].wake_fd = -1;
	if (pthread_mutex_init(&r->mu, NULL)) {
		free(r);
		return NULL;
	}
	if (pthread_cond_init(&r->answered, NULL)) {
		pthread_mutex_destroy(&r->mu);
		free(r);
		return NULL;
	}
	r->n = n;
	r->forced_ns = INT64_MIN / 2;
	for (size_t k = 0; k < n; k++) {
		struct worker *w = &r->w[k];

		w->r = r;
		w->k = k;
		snprintf(w->path, sizeof(w->path), "%s", paths[k]);
		if ((w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
		    !(w->engine = regengine_new(paths[k]))) {
			registry_free(r);
			return NULL;
		}
	}
	if ((r->ask_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		registry_free(r);
		return NULL;
	}
	return r;
}

static void poke(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("registry: eventfd: %s", strerror(errno));
}

static void drain_fd(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Whether one of the first k workers has not read its registry yet, while
 * REGISTRY_FIRST_READ_NS have not passed since they started (r->mu held):
 * until then, a later registry's lock may be for a name an earlier one
 * holds. Past it, one that cannot be read (a hung path) stops no other. */
static bool earlier_unread(const struct registry *r, size_t k, int64_t mono_ns)
{
	if (mono_ns - r->served_ns >= REGISTRY_FIRST_READ_NS)
		return false;
	for (size_t j = 0; j < k; j++)
		if (!r->w[j].published)
			return true;
	return false;
}

/* Whether one of the first k workers' latest reads holds name (r->mu held). */
static bool held_before(const struct registry *r, size_t k, const char *name)
{
	for (size_t j = 0; j < k; j++)
		if (r->w[j].n_names && bsearch(name, r->w[j].names, r->w[j].n_names,
					       sizeof(registry_name), cmp_name))
			return true;
	return false;
}

/* The engine's attach function, on the worker's thread: hands the lock to
 * the loop and waits for its answer (-ECANCELED once stopping). */
static int ask_loop(void *ctx, const char *project, pid_t pid, bool again)
{
	struct worker *w = ctx;
	struct registry *r = w->r;
	int answer = -ECANCELED;

	pthread_mutex_lock(&r->mu);
	if (!w->stop) {
		snprintf(w->project, sizeof(w->project), "%s", project);
		w->pid = pid;
		w->again = again;
		w->answered = false;
		w->asking = true;
		poke(r->ask_fd);
		while (!w->answered && !w->stop)
			pthread_cond_wait(&r->answered, &r->mu);
		if (w->answered)
			answer = w->answer;
		w->asking = false;
	}
	pthread_mutex_unlock(&r->mu);
	return answer;
}

/* On the loop: answers every waiting worker. A name an earlier registry
 * holds is that registry's: the lock is refused, quietly. */
static void on_ask(void *ctx)
{
	struct registry *r = ctx;

	drain_fd(r->ask_fd);
	for (size_t k = 0; k < r->n; k++) {
		struct worker *w = &r->w[k];
		registry_name project;
		bool again, earlier;
		pid_t pid;
		int answer;

		pthread_mutex_lock(&r->mu);
		if (!w->asking || w->answered) {
			pthread_mutex_unlock(&r->mu);
			continue;
		}
		memcpy(project, w->project, sizeof(project));
		pid = w->pid;
		again = w->again;
		earlier = held_before(r, k, project);
		pthread_mutex_unlock(&r->mu);

		if (earlier) {
			if (!again)
				log_info("project %s: lock of registry %s ignored: an earlier registry "
					 "holds the name",
					 project, w->path);
			answer = -EEXIST;
		} else {
			answer = r->attach(r->attach_ctx, project, pid, again);
		}
		pthread_mutex_lock(&r->mu);
		w->answer = answer;
		w->answered = true;
		pthread_cond_broadcast(&r->answered);
		pthread_mutex_unlock(&r->mu);
	}
}

/* The latest read's names, for registry_knows (on the worker's thread). */
static void publish(struct worker *w)
{
	const struct regengine *e = w->engine;
	registry_name *names = e->n ? malloc(e->n * sizeof(*names)) : NULL;
	registry_name *old;

	if (e->n && !names) {
		log_warn("registry %s: out of memory: its names are those of an earlier read",
			 w->path);
		return;
	}
	for (size_t i = 0; i < e->n; i++)
		memcpy(names[i], e->p[i].name, sizeof(names[i]));
	pthread_mutex_lock(&w->r->mu);
	old = w->names;
	w->names = names;
	w->n_names = e->n;
	w->published = true;
	pthread_mutex_unlock(&w->r->mu);
	free(old);
}

/* Watches the registry's directory, once it exists: a write to the
 * registry (or its WAL) has it read at once, not at the next look. */
static void watch_registry_dir(struct worker *w, int ino_fd, bool *watching)
{
	char dir[PATH_MAX];
	char *slash;

	if (ino_fd < 0 || *watching)
		return;
	snprintf(dir, sizeof(dir), "%s", w->path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	*watching = inotify_add_watch(ino_fd, dir,
				      IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
					      IN_DELETE | IN_ONLYDIR) >= 0;
}

/* Whether the registry's directory watch reported anything; false (and
 * watching again later) when the directory went away. */
static bool drain_registry_dir(int ino_fd, bool *watching)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t n;

	while (ino_fd >= 0 && (n = read(ino_fd, buf, sizeof(buf))) > 0) {
		any = true;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_IGNORED)
				*watching = false;
			p += sizeof(*ev) + ev->len;
		}
	}
	return any;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct registry *r = w->r;
	int ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	int64_t next_look = 0, wait_ns;
	bool watching = false, due = false, held;
	uint64_t gen = 0;

	privs_thread("registry");
	for (;;) {
		int64_t now = clock_mono_ns();
		struct pollfd fds[3] = {
			{ .fd = w->wake_fd, .events = POLLIN },
			{ .fd = ino_fd, .events = POLLIN },
			{ .fd = w->engine->inotify_fd, .events = POLLIN },
		};
		bool force, db_changed, locks_changed, look, listed = false;

		/* A look held back for the earlier registries' first reads is
		 * tried again soon. */
		wait_ns = due && next_look - now > REGISTRY_HELD_NS ? REGISTRY_HELD_NS
								      : next_look - now;
		if (wait_ns > 0)
			poll(fds, 3, (int)((wait_ns + 999999) / 1000000));
		/* Emptied before the flags are read: a request made after this
		 * is seen now or wakes the next poll, never lost between. */
		drain_fd(w->wake_fd);
		pthread_mutex_lock(&r->mu);
		force = w->force;
		w->force = false;
		if (w->stop) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		pthread_mutex_unlock(&r->mu);
		db_changed = drain_registry_dir(ino_fd, &watching);
		locks_changed = regengine_drain(w->engine);
		now = clock_mono_ns();
		look = now >= next_look;
		if (look || force || db_changed) {
			watch_registry_dir(w, ino_fd, &watching);
			regengine_refresh(w->engine, now, force);
			if ((listed = w->engine->gen != gen)) {
				gen = w->engine->gen;
				publish(w);
			}
		}
		/* The locks, once the earlier registries have been read (at
		 * start): a name they hold is theirs, whichever reads first. */
		due = due || look || locks_changed || listed;
		pthread_mutex_lock(&r->mu);
		held = earlier_unread(r, w->k, clock_mono_ns());
		pthread_mutex_unlock(&r->mu);
		if (due && !held) {
			regengine_watch(w->engine, r->proc_root, ask_loop, w);
			due = false;
		}
		if (look)
			next_look = clock_mono_ns() + REGISTRY_LOOK_NS;
	}
	if (ino_fd >= 0)
		close(ino_fd);
	/* Its watches go here, not on the loop that joins it. */
	regengine_free(w->engine);
	w->engine = NULL;
	return NULL;
}

int registry_serve(struct registry *r, struct http *h, const char *proc_root,
		   registry_attach_fn fn, void *ctx)
{
	sigset_t all, old;
	int err;

	r->proc_root = proc_root;
	r->attach = fn;
	r->attach_ctx = ctx;
	r->served_ns = clock_mono_ns();
	if ((err = http_watch_fd(h, r->ask_fd, on_ask, r)))
		return err;
	/* Every signal blocked: the loop takes them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t k = 0; k < r->n && !err; k++) {
		err = -pthread_create(&r->w[k].thread, NULL, worker_main, &r->w[k]);
		r->w[k].started = !err;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

bool registry_knows(struct registry *r, const char *name, int64_t mono_ns)
{
	bool known;

	pthread_mutex_lock(&r->mu);
	known = held_before(r, r->n, name);
	if (!known && mono_ns - r->forced_ns >= REGISTRY_FORCE_NS) {
		r->forced_ns = mono_ns;
		for (size_t k = 0; k < r->n; k++) {
			r->w[k].force = true;
			poke(r->w[k].wake_fd);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return known;
}

void registry_free(struct registry *r)
{
	struct timespec until = clock_real_after(1000000000LL);
	bool stuck = false;

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	for (size_t k = 0; k < r->n; k++) {
		r->w[k].stop = true;
		if (r->w[k].wake_fd >= 0)
			poke(r->w[k].wake_fd);
	}
	pthread_cond_broadcast(&r->answered);
	pthread_mutex_unlock(&r->mu);
	/* A second in all. One stuck on a hung path is left to the process's
	 * exit, and what it uses with it (r). */
	for (size_t k = 0; k < r->n; k++) {
		struct worker *w = &r->w[k];

		if (w->started && pthread_timedjoin_np(w->thread, NULL, &until)) {
			log_warn("registry %s: its worker is stuck on a hung path: left behind",
				 w->path);
			stuck = true;
		}
	}
	if (stuck)
		return;
	for (size_t k = 0; k < r->n; k++) {
		regengine_free(r->w[k].engine); /* one never started */
		free(r->w[k].names);
		if (r->w[k].wake_fd >= 0)
			close(r->w[k].wake_fd);
	}
	if (r->ask_fd >= 0)
		close(r->ask_fd);
	pthread_cond_destroy(&r->answered);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
