/* Each run's transcripts read by its owner's worker thread, never by the
 * loop.
 *
 * How the loop and the workers share state: one mutex guards the slots'
 * mailboxes and the workers' bookkeeping, and is never held across an
 * engine call or a system call on a user's path. A mailbox holds its run's
 * latest request (a tick's pids, coalesced: a worker that falls behind does
 * the newest only; the final read) and the figures of the worker's last
 * job for that run. Each worker owns its engine, touched by its thread
 * alone, so a user's hung path stalls that user's figures only. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "privs.h"
#include "tokengine.h"
#include "tokscan.h"
#include "tracker_abi.h"

struct tokscan;

struct worker {
	struct tokscan *ts;
	pthread_t thread;
	pthread_cond_t wake;
	uid_t uid;
	struct tokengine *engine; /* its thread's alone, once started */
	size_t runs; /* mailboxes naming this worker */
	bool busy; /* in its engine, the mutex not held */
	bool stop;
	uint64_t tick; /* the last tick begun in its engine (its thread's) */
	uint32_t next; /* the slot it looks at first: runs take turns */
	pid_t *pids; /* the job in hand's (its thread's) */
	size_t pids_cap;
	/* The job in hand's tool events (its thread's), for its mailbox. */
	struct wtool {
		uint32_t slot, gen;
		struct toolcall_event ev;
	} *tools;
	size_t n_tools, cap_tools;
	/* Runs given up on (their end came too late): forgotten by its engine
	 * once it is free again. */
	struct {
		uint32_t slot, gen;
	} drops[TRACKER_MAX_RUNS];
	size_t n_drops;
};

/* A run's request to its worker. */
struct job {
	bool tick, end; /* posted, not yet taken */
	uint64_t tick_no;
	int64_t started_ns, mono_ns;
	uid_t owner;
	pid_t *pids;
	size_t n, cap;
};

struct mailbox {
	struct worker *w; /* the worker of the run's owner; NULL: no run here */
	uint32_t gen;
	struct job job;
	bool have; /* res holds the figures of the worker's last job */
	struct tokscan_result res;
	bool ended; /* res is the final read's */
	int64_t end_asked_ns; /* CLOCK_MONOTONIC of the first tokscan_end; 0 */
	/* Tool events read and not yet handed to the loop. */
	struct toolcall_event *tools;
	size_t n_tools, cap_tools;
	uint64_t tools_dropped;
};

struct tokscan {
	char *proc_root; /* a copy: a worker stuck at exit may outlive the config */
	bool inotify;
	pthread_mutex_t mu;
	uint64_t tick;
	struct mailbox box[TRACKER_MAX_RUNS];
	struct worker *workers[TOKSCAN_WORKERS_MAX];
	bool full_logged;
};

/* The next posted job of w's (the mutex held): copied into *job, with its
 * pids in w->pids; false when none is waiting. */
static bool take(struct tokscan *ts, struct worker *w, uint32_t *slot, uint32_t *gen,
		 struct job *job)
{
	for (uint32_t k = 0; k < TRACKER_MAX_RUNS; k++) {
		uint32_t i = (w->next + k) % TRACKER_MAX_RUNS;
		struct mailbox *b = &ts->box[i];
		pid_t *p;

		if (b->w != w || !(b->job.tick || b->job.end))
			continue;
		*slot = i;
		*gen = b->gen;
		*job = b->job;
		job->n = 0;
		if (b->job.tick && b->job.n) {
			p = buf_grow(w->pids, &w->pids_cap, b->job.n, sizeof(*p));
			if (p) {
				w->pids = p;
				memcpy(p, b->job.pids, b->job.n * sizeof(*p));
				job->n = b->job.n;
			}
		}
		b->job.tick = b->job.end = false;
		w->next = i + 1;
		return true;
	}
	return false;
}

/* The figures of a job done, for its run if the slot still holds it (the
 * mutex held). */
static void deliver(struct tokscan *ts, struct worker *w, uint32_t slot, uint32_t gen,
		    const struct job *job, bool have, const struct tokscan_result *res)
{
	struct mailbox *b = &ts->box[slot];
	size_t want = b->n_tools + w->n_tools;
	struct toolcall_event *t = NULL;

	if (b->w != w || b->gen != gen) {
		w->n_tools = 0;
		return;
	}
	/* The job's tool events, up to TOKSCAN_TOOLS_MAX waiting. */
	if (w->n_tools)
		t = buf_grow(b->tools, &b->cap_tools, want < TOKSCAN_TOOLS_MAX ? want : TOKSCAN_TOOLS_MAX,
			     sizeof(*t));
	if (t)
		b->tools = t;
	for (size_t i = 0; i < w->n_tools; i++) {
		if (w->tools[i].slot != slot || w->tools[i].gen != gen)
			continue;
		if (t && b->n_tools < TOKSCAN_TOOLS_MAX)
			b->tools[b->n_tools++] = w->tools[i].ev;
		else
			b->tools_dropped++;
	}
	w->n_tools = 0;
	if (have) {
		b->res = *res;
		b->have = true;
	}
	if (job->end)
		b->ended = true;
}

/* A tool event the engine read (the worker's thread): kept for the mailbox. */
static void on_tool(void *ctx, uint32_t slot, uint32_t gen, const struct toolcall_event *e)
{
	struct worker *w = ctx;
	struct wtool *t;

	if (w->n_tools >= TOKSCAN_TOOLS_MAX)
		return;
	t = buf_grow(w->tools, &w->cap_tools, w->n_tools + 1, sizeof(*t));
	if (!t)
		return;
	w->tools = t;
	t[w->n_tools++] = (struct wtool){ .slot = slot, .gen = gen, .ev = *e };
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct tokscan *ts = w->ts;
	struct tokscan_result res;
	struct job job;
	uint32_t slot, gen;
	bool have;

	privs_thread("tokens");
	pthread_mutex_lock(&ts->mu);
	for (;;) {
		if (w->n_drops) {
			slot = w->drops[--w->n_drops].slot;
			gen = w->drops[w->n_drops].gen;
			w->busy = true;
			pthread_mutex_unlock(&ts->mu);
			tokengine_forget(w->engine, slot, gen);
			pthread_mutex_lock(&ts->mu);
			w->busy = false;
			continue;
		}
		if (!take(ts, w, &slot, &gen, &job)) {
			if (w->stop)
				break;
			pthread_cond_wait(&w->wake, &ts->mu);
			continue;
		}
		w->busy = true;
		pthread_mutex_unlock(&ts->mu);

		have = false;
		if (w->tick != job.tick_no) {
			tokengine_begin(w->engine);
			w->tick = job.tick_no;
		}
		if (job.tick) {
			tokengine_run(w->engine, slot, gen, job.started_ns, job.owner, w->pids, job.n,
				      job.mono_ns, &res);
			have = true;
		}
		if (job.end)
			have = tokengine_end(w->engine, slot, gen, &res) || have;

		pthread_mutex_lock(&ts->mu);
		w->busy = false;
		deliver(ts, w, slot, gen, &job, have, &res);
	}
	pthread_mutex_unlock(&ts->mu);
	/* Its files are closed here, not by the loop that joins it: closing
	 * a file on a hung FUSE mount waits for it. */
	tokengine_free(w->engine);
	w->engine = NULL;
	return NULL;
}

/* A new worker for uid, its thread started with every signal blocked (the
 * loop takes them). NULL when the thread cannot be made. */
static struct worker *worker_new(struct tokscan *ts, uid_t uid)
{
	struct worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int err;

	if (!w)
		return NULL;
	w->ts = ts;
	w->uid = uid;
	w->tick = ts->tick - 1; /* its first job begins a tick */
	if (!(w->engine = tokengine_new(ts->proc_root, ts->inotify, on_tool, w)) ||
	    pthread_cond_init(&w->wake, NULL)) {
		tokengine_free(w->engine);
		free(w);
		return NULL;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_warn("tokens: cannot start a worker thread for uid %u: %s", (unsigned)uid,
			 strerror(err));
		pthread_cond_destroy(&w->wake);
		tokengine_free(w->engine);
		free(w);
		return NULL;
	}
	return w;
}

/* Tells a worker to end (the mutex not held): an idle one returns at once,
 * freeing its engine on its own thread. */
static void worker_stop(struct tokscan *ts, struct worker *w)
{
	pthread_mutex_lock(&ts->mu);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&ts->mu);
}

/* Waits for a stopped worker until *until; false, leaving it, when it is
 * stuck in its engine on a hung path. */
static bool worker_join(struct worker *w, const struct timespec *until)
{
	if (pthread_timedjoin_np(w->thread, NULL, until))
		return false;
	pthread_cond_destroy(&w->wake);
	free(w->pids);
	free(w->tools);
	free(w);
	return true;
}

/* owner's worker, started if it has none (the mutex held: the new thread
 * waits for it before it looks at its mailboxes). */
static struct worker *worker_of(struct tokscan *ts, uid_t owner)
{
	int free_at = -1;

	for (int i = 0; i < TOKSCAN_WORKERS_MAX; i++) {
		if (ts->workers[i] && ts->workers[i]->uid == owner)
			return ts->workers[i];
		if (!ts->workers[i] && free_at < 0)
			free_at = i;
	}
	if (free_at < 0) {
		if (!ts->full_logged)
			log_warn("tokens: the runs of %d users are read already: uid %u's have no "
				 "token figures until one of them has no run left",
				 TOKSCAN_WORKERS_MAX, (unsigned)owner);
		ts->full_logged = true;
		return NULL;
	}
	return ts->workers[free_at] = worker_new(ts, owner);
}

/* The mailbox no longer names a run (the mutex held). */
static void let_go(struct mailbox *b)
{
	pid_t *pids = b->job.pids;
	size_t cap = b->job.cap;

	if (b->tools_dropped)
		log_warn("tokens: %llu tool event(s) of a run were dropped (more than %d waiting)",
			 (unsigned long long)b->tools_dropped, TOKSCAN_TOOLS_MAX);
	free(b->tools);
	if (b->w)
		b->w->runs--;
	memset(b, 0, sizeof(*b));
	b->job.pids = pids;
	b->job.cap = cap;
}

/* slot's mailbox for the run (gen, owner), given to owner's worker if it
 * held another run (the mutex held); NULL when no worker can take it. */
static struct mailbox *box_of(struct tokscan *ts, uint32_t slot, uint32_t gen, uid_t owner)
{
	struct mailbox *b = &ts->box[slot];

	if (b->w && b->gen == gen)
		return b;
	let_go(b);
	if (!(b->w = worker_of(ts, owner)))
		return NULL;
	b->w->runs++;
	b->gen = gen;
	return b;
}

struct tokscan *tokscan_new(const char *proc_root, bool inotify)
{
	struct tokscan *ts = calloc(1, sizeof(*ts));
	int err;

	if (!ts)
		return NULL;
	if ((err = pthread_mutex_init(&ts->mu, NULL))) {
		free(ts);
		errno = err;
		return NULL;
	}
	if (!(ts->proc_root = strdup(proc_root))) {
		pthread_mutex_destroy(&ts->mu);
		free(ts);
		errno = ENOMEM;
		return NULL;
	}
	ts->inotify = inotify;
	ts->tick = 1;
	return ts;
}

void tokscan_begin(struct tokscan *ts)
{
	struct worker *idle[TOKSCAN_WORKERS_MAX];
	size_t n = 0;

	pthread_mutex_lock(&ts->mu);
	ts->tick++;
	for (int i = 0; i < TOKSCAN_WORKERS_MAX; i++) {
		struct worker *w = ts->workers[i];

		if (w && !w->runs && !w->busy && !w->n_drops) {
			idle[n++] = w;
			ts->workers[i] = NULL;
		}
	}
	if (n)
		ts->full_logged = false;
	pthread_mutex_unlock(&ts->mu);
	/* Idle: each thread is waiting for its wake-up, and returns at once
	 * (its engine holds no run's files). */
	for (size_t i = 0; i < n; i++) {
		struct timespec until = clock_real_after(1000000000LL);

		worker_stop(ts, idle[i]);
		if (!worker_join(idle[i], &until)) {
			log_warn("tokens: uid %u's idle worker did not end: left behind",
				 (unsigned)idle[i]->uid);
			pthread_detach(idle[i]->thread);
		}
	}
}

/* The mailbox's tool events go to out (the mutex held). */
static void take_tools(struct mailbox *b, struct tokscan_result *out)
{
	out->tools = b->tools;
	out->n_tools = b->n_tools;
	b->tools = NULL;
	b->n_tools = b->cap_tools = 0;
}

void tokscan_run(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		 uid_t owner, const pid_t *pids, size_t n, int64_t mono_ns,
		 struct tokscan_result *out)
{
	struct mailbox *b;

	memset(out, 0, sizeof(*out));
	if (slot >= TRACKER_MAX_RUNS)
		return;
	pthread_mutex_lock(&ts->mu);
	b = box_of(ts, slot, gen, owner);
	if (b && !b->end_asked_ns) {
		pid_t *p = n ? buf_grow(b->job.pids, &b->job.cap, n, sizeof(*p)) : b->job.pids;

		if (p) {
			b->job.pids = p;
			memcpy(p, pids, n * sizeof(*p));
			b->job.n = n;
		} else {
			b->job.n = 0;
		}
		b->job.tick = true;
		b->job.tick_no = ts->tick;
		b->job.started_ns = started_ns;
		b->job.mono_ns = mono_ns;
		b->job.owner = owner;
		pthread_cond_signal(&b->w->wake);
	}
	if (b && b->have)
		*out = b->res;
	if (b)
		take_tools(b, out);
	pthread_mutex_unlock(&ts->mu);
}

void tokscan_start(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t started_ns,
		   uid_t owner, pid_t root, int64_t mono_ns, struct tokscan_result *out)
{
	/* `agentperf run`'s root is marked before it execs, with the
	 * environment and directory it will exec with. Young, it is looked
	 * at again at each tick. */
	tokscan_run(ts, slot, gen, started_ns, owner, &root, 1, mono_ns, out);
}

enum tokscan_end tokscan_end(struct tokscan *ts, uint32_t slot, uint32_t gen, int64_t mono_ns,
			     struct tokscan_result *out)
{
	enum tokscan_end ret = TOKSCAN_END_PENDING;
	struct mailbox *b;
	bool late;
	uid_t uid;

	if (slot >= TRACKER_MAX_RUNS)
		return TOKSCAN_END_NONE;
	pthread_mutex_lock(&ts->mu);
	b = &ts->box[slot];
	if (!b->w || b->gen != gen) {
		pthread_mutex_unlock(&ts->mu);
		return TOKSCAN_END_NONE;
	}
	if (!b->end_asked_ns) {
		b->end_asked_ns = mono_ns ? mono_ns : 1;
		b->job.end = true;
		pthread_cond_signal(&b->w->wake);
	}
	late = !b->ended && mono_ns - b->end_asked_ns >= TOKSCAN_END_WAIT_NS;
	uid = b->w->uid;
	if (b->ended || late) {
		ret = b->have ? TOKSCAN_END_DONE : TOKSCAN_END_NONE;
		if (b->have) {
			*out = b->res;
			take_tools(b, out);
		}
		/* Given up on: its engine forgets it once free, files and all. */
		if (late && b->w->n_drops < TRACKER_MAX_RUNS) {
			b->w->drops[b->w->n_drops].slot = slot;
			b->w->drops[b->w->n_drops++].gen = gen;
		}
		let_go(b);
	}
	pthread_mutex_unlock(&ts->mu);
	if (late)
		log_warn("tokens: the final read of uid %u's run in slot %u did not end in %lld s "
			 "(a hung path?): its figures are those read before",
			 (unsigned)uid, slot, TOKSCAN_END_WAIT_NS / 1000000000LL);
	return ret;
}

void tokscan_free(struct tokscan *ts)
{
	if (!ts)
		return;
	for (uint32_t i = 0; i < TRACKER_MAX_RUNS; i++) {
		pthread_mutex_lock(&ts->mu);
		let_go(&ts->box[i]);
		pthread_mutex_unlock(&ts->mu);
	}
	for (int i = 0; i < TOKSCAN_WORKERS_MAX; i++)
		if (ts->workers[i])
			worker_stop(ts, ts->workers[i]);
	/* A second in all. One stuck on a hung path is left to the process's
	 * exit, and what it uses with it (ts, its proc_root copy). */
	struct timespec until = clock_real_after(1000000000LL);
	bool stuck = false;

	for (int i = 0; i < TOKSCAN_WORKERS_MAX; i++) {
		struct worker *w = ts->workers[i];

		if (w && !worker_join(w, &until)) {
			log_warn("tokens: uid %u's worker is stuck on a hung path: left behind",
				 (unsigned)w->uid);
			stuck = true;
		}
	}
	if (stuck)
		return;
	for (uint32_t i = 0; i < TRACKER_MAX_RUNS; i++)
		free(ts->box[i].job.pids);
	pthread_mutex_destroy(&ts->mu);
	free(ts->proc_root);
	free(ts);
}
