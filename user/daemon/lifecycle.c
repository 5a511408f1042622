/* The run lifecycle: start, end, detach, record, and the clients waiting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "history.h"
#include "lifecycle.h"
#include "log.h"
#include "waiters.h"

struct lifecycle {
	struct lifecycle_parts p;
	struct lifecycle_hooks hooks;
	struct waiters waiters;
};

struct lifecycle *lifecycle_new(const struct lifecycle_parts *parts,
				const struct lifecycle_hooks *h)
{
	struct lifecycle *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->p = *parts;
	l->hooks = *h;
	return l;
}

void lifecycle_free(struct lifecycle *l)
{
	free(l);
}

/* Closes r's slot: its tasks are credited to nothing from now on. */
static void end_tracking(struct lifecycle *l, const struct run *r)
{
	int err = tracker_end_run(l->p.tracker, r->slot);

	if (err)
		log_warn("closing run %s's slot: %s", r->run_id, strerror(-err));
}

void lifecycle_read_top(struct lifecycle *l, struct run *r)
{
	int err = tracker_top(l->p.tracker, r->slot, r->gen, runs_tasks_alive(r) > 0, &r->top);

	if (err)
		log_warn("reading run %s's commands: %s", r->run_id, strerror(-err));
}

struct run *lifecycle_start(struct lifecycle *l, const char *project, pid_t pid, bool whole_tree,
			    char *err, size_t errlen)
{
	struct project *p = projects_add(l->p.projects, project);
	struct run *r;
	int e, marked;

	if (!p) {
		snprintf(err, errlen, "too many projects (%d)", PROJECTS_MAX);
		return NULL;
	}
	r = runs_begin(l->p.runs, project, pid, clock_real_ns());
	if (!r) {
		snprintf(err, errlen, "too many live runs (%d); wait for some to end",
			 TRACKER_MAX_RUNS);
		return NULL;
	}
	e = tracker_begin_run(l->p.tracker, r->slot, r->gen, pid);
	marked = e ? e : tracker_seed(l->p.tracker, r->slot, r->gen, pid, whole_tree);
	if (marked <= 0) {
		if (marked < 0)
			snprintf(err, errlen, "cannot track process %d: %s", pid, strerror(-marked));
		else
			snprintf(err, errlen, "process %d exited before it could be tracked", pid);
		if (!e)
			end_tracking(l, r);
		runs_release(r);
		return NULL;
	}
	log_info("run %s of project %s: %s pid %d, %d task(s)", r->run_id, r->project,
		 whole_tree ? "attached" : "started", pid, marked);
	sampler_read_run(l->p.sampler, r);
	projects_run_started(p);
	stream_changed(l->p.stream, project);
	return r;
}

int lifecycle_agent_lock(void *ctx, const char *project, pid_t pid, bool again)
{
	struct lifecycle *l = ctx;
	struct run *r = runs_find_project(l->p.runs, project);
	char err[160];

	if (r && r->pid == pid)
		return 0; /* already tracked (attached by hand, say) */
	r = lifecycle_start(l, project, pid, true, err, sizeof(err));
	if (!r) {
		if (again)
			log_debug("project %s: still cannot track pid %d: %s", project, (int)pid,
				  err);
		else
			log_warn("project %s: agent lock names pid %d, but %s (trying again "
				 "each second)",
				 project, (int)pid, err);
		return -EAGAIN;
	}
	log_info("run %s of project %s started from its agent lock", r->run_id, project);
	return 0;
}

/* Answers the waits that r now answers. A finished run's top was read when
 * it finished; an open run's is read here, once for all its waiters. */
static void answer_waiters(struct lifecycle *l, struct run *r)
{
	uint64_t ids[WAITERS_MAX];
	size_t n = waiters_take(&l->waiters, r, ids, WAITERS_MAX);

	if (n && runs_is_open(r))
		lifecycle_read_top(l, r);
	for (size_t i = 0; i < n; i++)
		l->hooks.answer(l->hooks.ctx, ids[i], r);
}

/* Writes the record of an ended or detached run and forgets it. A run whose
 * record cannot be written yet stays for the next tick. Returns 0 or -errno. */
static int finalize(struct lifecycle *l, struct run *r)
{
	struct project *p;
	cJSON *rec;
	int err;

	/* A detached run's top was read when it was detached, live tasks and all. */
	if (r->ended)
		lifecycle_read_top(l, r);
	rec = runs_record(r);
	err = rec ? history_append(l->p.state_dir, rec, l->p.history_max_bytes) : -ENOMEM;
	cJSON_Delete(rec);
	if (err) {
		log_err("cannot record run %s in %s (will retry): %s", r->run_id, l->p.state_dir,
			strerror(-err));
		return err;
	}
	answer_waiters(l, r);
	exporter_run_finished(l->p.exporter, r);
	if (r->ended)
		end_tracking(l, r); /* a detached run's slot is closed already */
	tracker_forget_top(l->p.tracker, r->slot, r->gen);
	/* The project shows its last run until a new one starts. */
	p = projects_get(l->p.projects, r->project);
	if (p && runs_latest(l->p.runs, r->project) == r) {
		projects_run_recorded(p, r);
		runs_release(r);
		stream_changed(l->p.stream, p->name);
	} else {
		runs_release(r);
	}
	return 0;
}

int lifecycle_detach(struct lifecycle *l, struct run *r, struct run *out)
{
	int64_t now = clock_real_ns();

	/* Live members' figures up to this moment, for the record. */
	sampler_sample(l->p.sampler, 0);
	lifecycle_read_top(l, r);
	if (!r->ended)
		runs_detach(r, now);
	/* Stop crediting now, even if the record has to wait for the disk. */
	end_tracking(l, r);
	log_info("run %s of project %s detached", r->run_id, r->project);
	*out = *r;
	return finalize(l, r);
}

int lifecycle_wait(struct lifecycle *l, uint64_t conn_id, struct run *r, bool all)
{
	int err = waiters_add(&l->waiters, conn_id, r, all);

	if (err)
		return err;
	sampler_read_run(l->p.sampler, r);
	if (!runs_is_open(r))
		finalize(l, r);
	else
		answer_waiters(l, r);
	if (waiters_has(&l->waiters, conn_id))
		l->hooks.tick_in(l->hooks.ctx, LIFECYCLE_TICK_WAITING_MS);
	return 0;
}

bool lifecycle_waiting(const struct lifecycle *l, uint64_t conn_id)
{
	return waiters_has(&l->waiters, conn_id);
}

/* Waits of connections that closed are forgotten. */
static void drop_gone_waiters(struct lifecycle *l)
{
	for (int i = 0; i < WAITERS_MAX; i++) {
		struct waiter *w = &l->waiters.w[i];

		if (w->conn_id && !l->hooks.conn_open(l->hooks.ctx, w->conn_id))
			w->conn_id = 0;
	}
}

int lifecycle_tick(struct lifecycle *l)
{
	bool open = false;

	for (int i = 0; i < TRACKER_MAX_RUNS && !open; i++)
		open = runs_is_open(&l->p.runs->run[i]);
	/* Once a second, the live runs' rates (status, top, /metrics): a walk
	 * unless the stream made one within the second. */
	if (open)
		sampler_sample(l->p.sampler, SAMPLER_RATE_MIN_NS);
	drop_gone_waiters(l);
	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &l->p.runs->run[i];

		if (!r->used)
			continue;
		sampler_read_run(l->p.sampler, r);
		if (!runs_is_open(r))
			finalize(l, r);
		else
			answer_waiters(l, r);
	}
	return waiters_any(&l->waiters) ? LIFECYCLE_TICK_WAITING_MS : LIFECYCLE_TICK_MS;
}

void lifecycle_shutdown(struct lifecycle *l)
{
	int64_t now = clock_real_ns();

	sampler_sample(l->p.sampler, 0);
	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &l->p.runs->run[i];

		if (!r->used)
			continue;
		lifecycle_read_top(l, r);
		runs_detach(r, now);
		if (finalize(l, r))
			log_err("run %s was not recorded", r->run_id);
	}
}
