/* The run lifecycle: start, end, detach, record; it tells its listener when
 * a run settles. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "history.h"
#include "journal.h"
#include "lifecycle.h"
#include "log.h"
#include "procfs.h"

struct lifecycle {
	struct lifecycle_parts p;
	lifecycle_settled_fn settled; /* the listener */
	void *settled_ctx;
	bool journal_dirty; /* the runs table changed since the journal was saved */
	bool journal_failing; /* the latest save failed (logged once) */
	uint32_t record_failed_gen[TRACKER_MAX_RUNS]; /* the run whose record failed */
	uint32_t exit_told_gen[TRACKER_MAX_RUNS]; /* the run whose root's exit was told */
};

struct lifecycle *lifecycle_new(const struct lifecycle_parts *parts)
{
	struct lifecycle *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->p = *parts;
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
			    uid_t owner, char *err, size_t errlen)
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
	r->owner = owner;
	p->owned = true;
	p->owner = owner;
	p->live_runs++;
	log_info("run %s of project %s: %s pid %d, %d task(s), owner uid %u", r->run_id,
		 r->project, whole_tree ? "attached" : "started", pid, marked, (unsigned)owner);
	sampler_read_run(l->p.sampler, r);
	/* Its CPU rate counts from now. */
	runs_rate(r, r->last.cpu_ns, clock_mono_ns());
	sampler_run_started(l->p.sampler, r);
	projects_run_started(p);
	l->journal_dirty = true;
	lifecycle_save(l);
	stream_changed(l->p.stream, project);
	return r;
}

int lifecycle_agent_lock(void *ctx, const char *project, pid_t pid, bool again)
{
	struct lifecycle *l = ctx;
	struct run *r = runs_find_project(l->p.runs, project);
	struct procfs_status st;
	char err[160];

	if (r && r->pid == pid)
		return 0; /* already tracked (attached by hand, say) */
	/* The agent's real uid owns its run (the registry checked the lock is
	 * its owner's). */
	if (procfs_read_status(l->p.proc_root, pid, &st))
		return -EAGAIN;
	r = lifecycle_start(l, project, pid, true, st.ruid, err, sizeof(err));
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

/* The project's `agentperf tokens` count is r's, if r is its newest run: it
 * wins over what the transcripts say. */
static void take_reported(struct lifecycle *l, struct run *r)
{
	struct project *p = projects_get(l->p.projects, r->project);

	if (p && p->tokens_available && runs_latest(l->p.runs, r->project) == r) {
		r->tokens.reported = true;
		r->tokens.reported_n = p->tokens_current;
	}
}

void lifecycle_listen(struct lifecycle *l, lifecycle_settled_fn fn, void *ctx)
{
	l->settled = fn;
	l->settled_ctx = ctx;
}

void lifecycle_prepare_record(struct lifecycle *l, struct run *r)
{
	take_reported(l, r);
	/* A finished run's top and tools were read when it finished. */
	if (runs_is_open(r)) {
		lifecycle_read_top(l, r);
		sampler_tools(l->p.sampler, r, &r->tools);
	}
}

static void tell_settled(struct lifecycle *l, struct run *r)
{
	if (l->settled)
		l->settled(l->settled_ctx, r);
}

/* Writes r's timeline beside its record (once: a failure is logged, the
 * record stands) and lets its actions go. */
static void record_timeline(struct lifecycle *l, const struct run *r)
{
	cJSON *tl = sampler_timeline(l->p.sampler, r);
	int err = tl ? history_append_timeline(l->p.state_dir, tl, l->p.history_max_bytes)
		     : errno == ENOENT ? 0 : -errno;

	if (err)
		log_warn("cannot write run %s's timeline in %s: %s", r->run_id, l->p.state_dir,
			 strerror(-err));
	cJSON_Delete(tl);
	sampler_run_recorded(l->p.sampler, r);
}

/* Writes the record of an ended or detached run and forgets it. A run whose
 * final token read is under way (-EINPROGRESS) or whose record cannot be
 * written yet stays for the next tick. Returns 0 or -errno. */
static int finalize(struct lifecycle *l, struct run *r)
{
	struct project *p;
	cJSON *rec;
	int err;

	/* What its agents wrote last, up to their exit: read off the loop, the
	 * record (and the clients waiting for it) waits for it. */
	if (!sampler_run_done(l->p.sampler, r))
		return -EINPROGRESS;
	/* A detached run's top was read when it was detached, live tasks and all. */
	if (r->ended)
		lifecycle_read_top(l, r);
	take_reported(l, r);
	/* It has settled whether or not the disk takes the record now: a
	 * full disk holds up no client. */
	tell_settled(l, r);
	rec = runs_record(r);
	err = rec ? history_append(l->p.state_dir, rec, l->p.history_max_bytes) : -ENOMEM;
	cJSON_Delete(rec);
	if (err) {
		if (l->record_failed_gen[r->slot] != r->gen)
			log_err("cannot record run %s in %s (will retry): %s", r->run_id,
				l->p.state_dir, strerror(-err));
		l->record_failed_gen[r->slot] = r->gen;
		return err;
	}
	if (l->record_failed_gen[r->slot] == r->gen)
		log_info("run %s recorded after all", r->run_id);
	record_timeline(l, r);
	exporter_run_finished(l->p.exporter, r);
	if (r->ended)
		end_tracking(l, r); /* a detached run's slot is closed already */
	tracker_forget_top(l->p.tracker, r->slot, r->gen);
	l->journal_dirty = true;
	/* The project shows its last run until a new one starts. */
	p = projects_get(l->p.projects, r->project);
	if (p)
		projects_run_tokens(p, r);
	if (p && p->live_runs)
		p->live_runs--;
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
	sampler_tools(l->p.sampler, r, &r->tools);
	if (!r->ended)
		runs_detach(r, now);
	/* Stop crediting now, even if the record has to wait for the disk. */
	end_tracking(l, r);
	take_reported(l, r);
	log_info("run %s of project %s detached", r->run_id, r->project);
	l->journal_dirty = true;
	*out = *r;
	return finalize(l, r);
}

/* finalize, waiting for the final token read (it gives up after
 * TOKSCAN_END_WAIT_NS): for the daemon's last moments, when no client is
 * served any more. */
static int finalize_now(struct lifecycle *l, struct run *r)
{
	const struct timespec poll = { .tv_nsec = 2000000 };
	int err;

	while ((err = finalize(l, r)) == -EINPROGRESS)
		nanosleep(&poll, NULL);
	return err;
}

void lifecycle_settle(struct lifecycle *l, struct run *r)
{
	sampler_read_run(l->p.sampler, r);
	if (!runs_is_open(r))
		finalize(l, r);
}

void lifecycle_tick(struct lifecycle *l)
{
	bool open = false;

	runs_for_each(l->p.runs, r)
		open = open || runs_is_open(r);
	/* Once a second, the live runs' rates (status, top, /metrics): a walk
	 * unless the stream made one within the second. */
	if (open)
		sampler_sample(l->p.sampler, SAMPLER_RATE_MIN_NS);
	runs_for_each(l->p.runs, r) {
		sampler_read_run(l->p.sampler, r);
		if (!runs_is_open(r)) {
			l->journal_dirty = true; /* its end, recorded or not */
			finalize(l, r);
		} else if (r->last.root_exited && l->exit_told_gen[r->slot] != r->gen) {
			l->exit_told_gen[r->slot] = r->gen;
			tell_settled(l, r);
		}
	}
	if (l->journal_dirty)
		lifecycle_save(l);
}

int lifecycle_save(struct lifecycle *l)
{
	int err = journal_save(l->p.state_dir, l->p.runs, l->p.projects);

	if (err && !l->journal_failing)
		log_err("cannot write the live-run journal in %s (will retry): %s",
			l->p.state_dir, strerror(-err));
	else if (!err && l->journal_failing)
		log_info("the live-run journal in %s is written again", l->p.state_dir);
	l->journal_failing = err != 0;
	l->journal_dirty = err != 0;
	return err;
}

void lifecycle_tokens_changed(struct lifecycle *l)
{
	l->journal_dirty = true;
}

/* Places one journaled run back in the table: taken over when the maps
 * still hold it, else as detached with the best totals known. */
static void take_over_one(struct lifecycle *l, const struct journal_run *jr,
			  enum tracker_start start, unsigned *adopted, unsigned *closed,
			  unsigned *orphans)
{
	struct run from = jr->run;
	uint32_t gen = 0;
	struct run_sample s;
	struct project *p;
	struct run *r;

	/* A journal saved before the record was written (the disk took the
	 * record, not the journal): the history has it already. */
	cJSON *had = history_find(l->p.state_dir, from.project, from.run_id, NULL);

	if (had) {
		cJSON_Delete(had);
		return;
	}
	if (runs_is_open(&from)) {
		if (start == TRACKER_TAKEN_OVER && !tracker_slot_gen(l->p.tracker, from.slot, &gen) &&
		    gen == from.gen) {
			from.adopted = true;
			(*adopted)++;
		} else {
			/* Another ABI's maps (their totals), or a journal that
			 * does not match the maps (its last figures). A run of
			 * another generation the maps hold in that slot has no
			 * name here: it is closed. */
			if (start == TRACKER_REPLACED &&
			    !tracker_replaced_read(l->p.tracker, from.slot, from.gen, &s))
				from.last = s;
			if (start == TRACKER_TAKEN_OVER && gen) {
				tracker_end_run(l->p.tracker, from.slot);
				(*orphans)++;
			}
			runs_detach(&from, clock_real_ns());
			(*closed)++;
		}
	}
	r = runs_adopt(l->p.runs, &from);
	if (!r) {
		log_err("run %s in the journal names slot %u twice: not taken over", from.run_id,
			from.slot);
		return;
	}
	p = projects_add(l->p.projects, r->project);
	if (!p)
		return;
	p->live_runs++;
	p->owned = true;
	p->owner = r->owner;
	if (jr->tokens_available) {
		struct tokens_update u = { .set_current = true, .current = jr->tokens_current,
					   .set_total = true, .total = jr->tokens_total };

		projects_tokens(p, &u);
	}
}

int lifecycle_take_over(struct lifecycle *l)
{
	enum tracker_start start = tracker_start_state(l->p.tracker);
	struct journal *j = calloc(1, sizeof(*j));
	unsigned adopted = 0, closed = 0, orphans = 0;
	bool journaled[TRACKER_MAX_RUNS] = { false };
	int err;

	if (!j)
		return -ENOMEM;
	err = journal_load(l->p.state_dir, j);
	if (err)
		log_err("the live-run journal in %s is unreadable (%s): its runs are not taken "
			"over",
			l->p.state_dir, strerror(-err));
	/* Tasks of runs gone before (detached, or unnamed) may still carry
	 * their generation in the pinned task storage: never hand one out
	 * again. The clock is the floor when the journal is lost. */
	runs_reserve_gen(l->p.runs, (uint32_t)(clock_real_ns() / 1000000000));
	if (!err)
		runs_reserve_gen(l->p.runs, j->next_gen);
	for (size_t i = 0; !err && i < j->n; i++) {
		take_over_one(l, &j->r[i], start, &adopted, &closed, &orphans);
		journaled[j->r[i].run.slot % TRACKER_MAX_RUNS] = true;
	}
	free(j);
	/* Pinned runs the journal does not name cannot be recorded by name:
	 * their slots are closed, and said so. */
	for (uint32_t slot = 0; start == TRACKER_TAKEN_OVER && slot < TRACKER_MAX_RUNS; slot++) {
		uint32_t gen;

		if (!journaled[slot] && !tracker_slot_gen(l->p.tracker, slot, &gen) && gen) {
			tracker_end_run(l->p.tracker, slot);
			orphans++;
		}
	}
	if (adopted || closed || orphans)
		log_info("took over %u live run(s); %u recorded as detached (state not taken "
			 "over); %u pinned run(s) without a journal entry closed",
			 adopted, closed, orphans);
	l->journal_dirty = true;
	lifecycle_tick(l);
	return err;
}

int lifecycle_shutdown(struct lifecycle *l)
{
	unsigned pending = 0;

	/* The kernel goes on tracking: the journal gets the latest figures and
	 * the next daemon takes every run over. */
	sampler_sample(l->p.sampler, 0);
	/* Every final read asked for first: they run (and give up) together. */
	runs_for_each(l->p.runs, r)
		if (!runs_is_open(r))
			sampler_run_done(l->p.sampler, r);
	runs_for_each(l->p.runs, r)
		if (!runs_is_open(r))
			pending += finalize_now(l, r) != 0;
	if (lifecycle_save(l)) {
		log_err("%u run(s) could not be recorded and the journal could not be written: "
			"live runs stay pinned, but their names are lost",
			pending);
		return -EIO;
	}
	if (pending)
		log_warn("%u finished run(s) could not be recorded yet: kept in the journal for "
			 "the next start",
			 pending);
	return 0;
}

int lifecycle_cleanup(struct lifecycle *l)
{
	int64_t now = clock_real_ns();
	unsigned lost = 0;

	sampler_sample(l->p.sampler, 0);
	runs_for_each(l->p.runs, r) {
		lifecycle_read_top(l, r);
		runs_detach(r, now);
		sampler_run_done(l->p.sampler, r); /* asked for, all together */
	}
	runs_for_each(l->p.runs, r) {
		if (finalize_now(l, r)) {
			log_err("run %s was not recorded", r->run_id);
			lost++;
		}
	}
	return lost ? -EIO : 0;
}
