/* The control commands: parse, authorize, answer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "control_proto.h"
#include "gpu/gpu.h"
#include "history.h"
#include "http/http.h"
#include "log.h"
#include "names.h"
#include "procfs.h"
#include "waiters.h"

struct commands {
	struct commands_parts p;
	struct waiters waiters;
	struct http_timer *wait_timer;
};

static void on_settled(void *ctx, struct run *r);

struct commands *commands_new(const struct commands_parts *parts)
{
	struct commands *cm = calloc(1, sizeof(*cm));

	if (!cm)
		return NULL;
	cm->p = *parts;
	lifecycle_listen(cm->p.lifecycle, on_settled, cm);
	return cm;
}

void commands_free(struct commands *cm)
{
	free(cm);
}

static void reply_error(struct control_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reply_error(struct control_conn *c, const char *fmt, ...)
{
	char msg[256], *line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Errors quote what a peer sent: never echo its escapes or bad UTF-8. */
	names_sanitize(msg);
	line = control_format_error(msg);
	if (line)
		control_reply(c, line);
	free(line);
}

/* {"ok":true,key:item}; takes item. */
static void reply_ok(struct control_conn *c, const char *key, cJSON *item)
{
	char *line = control_format_ok(key, item);

	if (line)
		control_reply(c, line);
	else
		reply_error(c, "out of memory");
	free(line);
}

static void reply_record(struct control_conn *c, const struct run *r)
{
	cJSON *rec = runs_record(r);

	if (!rec) {
		reply_error(c, "out of memory");
		return;
	}
	reply_ok(c, "run", rec);
}

/* Answers the waits that r, as it is now, answers; its record is made
 * ready once for all of them. A closed connection's wait just goes. */
static void answer_waits(struct commands *cm, struct run *r)
{
	uint64_t ids[WAITERS_MAX];
	size_t n = waiters_take(&cm->waiters, r, ids, WAITERS_MAX);

	if (n)
		lifecycle_prepare_record(cm->p.lifecycle, r);
	for (size_t i = 0; i < n; i++) {
		struct control_conn *c = control_conn_by_id(cm->p.control, ids[i]);

		if (c)
			reply_record(c, r);
	}
}

/* lifecycle_settled_fn: a root exited, or a run ended or was detached. */
static void on_settled(void *ctx, struct run *r)
{
	answer_waits(ctx, r);
}

/* Waits of connections that closed are forgotten. */
static void drop_gone_waits(struct commands *cm)
{
	for (int i = 0; i < WAITERS_MAX; i++) {
		struct waiter *w = &cm->waiters.w[i];

		if (w->conn_id && !control_conn_by_id(cm->p.control, w->conn_id))
			w->conn_id = 0;
	}
}

/* While some client waits, the lifecycle looks at the runs every
 * COMMANDS_WAIT_TICK_MS rather than every second. */
static void on_wait_timer(void *ctx)
{
	struct commands *cm = ctx;

	drop_gone_waits(cm);
	if (!waiters_any(&cm->waiters))
		return;
	lifecycle_tick(cm->p.lifecycle);
	if (waiters_any(&cm->waiters))
		http_timer_arm(cm->wait_timer, COMMANDS_WAIT_TICK_MS * 1000000LL);
}

static bool keep_waiting(void *ctx, uint64_t conn_id)
{
	return waiters_has(&((struct commands *)ctx)->waiters, conn_id);
}

void commands_sweep(struct commands *cm, int64_t mono_ns)
{
	control_sweep(cm->p.control, mono_ns, keep_waiting, cm);
}

/* Checks that the peer may track pid; replies and returns false if not. */
static bool may_track(struct commands *cm, struct control_conn *c,
		      const struct control_request *req)
{
	struct procfs_status st;
	int err = procfs_read_status(cm->p.proc_root, req->pid, &st);

	if (err == -ESRCH) {
		reply_error(c, "no such process: %d", req->pid);
		return false;
	}
	if (err) {
		reply_error(c, "cannot read process %d: %s", req->pid, strerror(-err));
		return false;
	}
	if (st.tgid != req->pid) {
		reply_error(c, "%d is a thread of process %d; give the process id", req->pid,
			    st.tgid);
		return false;
	}
	if (c->peer.uid != 0 && (st.ruid != c->peer.uid || st.euid != c->peer.uid)) {
		reply_error(c, "permission denied: process %d belongs to another user", req->pid);
		return false;
	}
	if (req->cmd == CONTROL_RUN && st.ppid != c->peer.pid) {
		reply_error(c, "process %d is not a child of the caller", req->pid);
		return false;
	}
	if (st.state == 'Z' || st.state == 'X') {
		reply_error(c, "process %d has already exited", req->pid);
		return false;
	}
	return true;
}

/* Whether a non-root peer may make project, if it is new: a user holds at
 * most COMMANDS_PROJECTS_PER_UID, its least recently used one with no live
 * run and no watcher giving way to a new one. Replies and returns false if
 * all of them are in use. */
static bool project_quota_ok(struct commands *cm, struct control_conn *c, const char *project)
{
	unsigned n;

	if (c->peer.uid == 0 || projects_get(cm->p.projects, project))
		return true;
	n = projects_count_owned(cm->p.projects, c->peer.uid);
	if (n < COMMANDS_PROJECTS_PER_UID || projects_free_owned(cm->p.projects, c->peer.uid))
		return true;
	reply_error(c, "quota: uid %u has %u projects with a live run or a watcher, the most a "
		       "user may have",
		    (unsigned)c->peer.uid, n);
	return false;
}

/* Whether the peer may change r (detach it, report its tokens): root, or
 * the owner fixed at its start, whatever became of its root since. */
static bool may_control(const struct control_conn *c, const struct run *r)
{
	return c->peer.uid == 0 || c->peer.uid == r->owner;
}

/* Whether a non-root peer may have one more live run (and, for a project
 * not yet known, one more project); replies and returns false if not. */
static bool within_quota(struct commands *cm, struct control_conn *c, const char *project)
{
	uid_t uid = c->peer.uid;
	unsigned mine = 0, others = 0;

	if (uid == 0)
		return true;
	runs_for_each(cm->p.runs, r) {
		if (!runs_is_open(r) || r->owner == 0)
			continue;
		mine += r->owner == uid;
		others++;
	}
	if (mine >= COMMANDS_RUNS_PER_UID) {
		reply_error(c, "quota: uid %u has %u live runs, the most a user may have",
			    (unsigned)uid, mine);
		return false;
	}
	if (others >= TRACKER_MAX_RUNS - COMMANDS_RUNS_KEPT) {
		reply_error(c, "quota: users' runs hold %u live runs, the most users may have "
			       "(%d are kept for root and the registries)",
			    others, COMMANDS_RUNS_KEPT);
		return false;
	}
	return project ? project_quota_ok(cm, c, project) : true;
}

static void do_track(struct commands *cm, struct control_conn *c,
		     const struct control_request *req)
{
	char err[160];
	struct run *r;

	if (!may_track(cm, c, req))
		return;
	if (!within_quota(cm, c, req->project))
		return;
	r = lifecycle_start(cm->p.lifecycle, req->project, req->pid, req->cmd == CONTROL_ATTACH,
			    c->peer.uid, err, sizeof(err));
	if (!r) {
		reply_error(c, "%s", err);
		return;
	}
	log_debug("run %s was asked for by uid %u", r->run_id, (unsigned)c->peer.uid);
	reply_record(c, r);
}

static void do_detach(struct commands *cm, struct control_conn *c,
		      const struct control_request *req)
{
	struct run *r = runs_find_project(cm->p.runs, req->project);
	struct run final;

	/* A user's own run of the project, if another user's is newer: a
	 * name another user used later does not lock its owner out. */
	if (r && c->peer.uid != 0 && r->owner != c->peer.uid) {
		struct run *own = NULL;

		runs_for_each(cm->p.runs, o)
			if (runs_is_open(o) && o->owner == c->peer.uid &&
			    !strcmp(o->project, req->project) && (!own || o->gen > own->gen))
				own = o;
		if (own)
			r = own;
	}
	if (!r) {
		reply_error(c, "project %s has no live run", req->project);
		return;
	}
	if (!may_control(c, r)) {
		reply_error(c, "permission denied: run %s belongs to another user", r->run_id);
		return;
	}
	/* The record is the reply, written to the history or not (it is
	 * retried), once its final token read is done: a wait answers it. */
	if (waiters_add(&cm->waiters, c->id, r, true)) {
		lifecycle_detach(cm->p.lifecycle, r, &final);
		reply_record(c, &final);
		return;
	}
	lifecycle_detach(cm->p.lifecycle, r, &final);
	if (waiters_has(&cm->waiters, c->id))
		http_timer_arm(cm->wait_timer, COMMANDS_WAIT_TICK_MS * 1000000LL);
}

/* A run's record as `status` shows it: with its current rates, and its CPU
 * up to this moment (not for the history). */
static cJSON *live_record(struct commands *cm, const struct run *r)
{
	cJSON *rec = runs_record(r);
	bool open = runs_is_open(r);
	int ncpus = sampler_ncpus(cm->p.sampler);
	/* The walk was just made: live members' in-flight time counts, as it
	 * does in the run's top commands. */
	uint64_t cpu = r->last.cpu_ns + (open ? r->last.inflight_ns : 0);
	struct gpu_usage g;
	bool have_gpu = gpu_usage(sampler_gpu(cm->p.sampler), r, &g) && g.have_percent;

	if (rec &&
	    !(cJSON_ReplaceItemInObjectCaseSensitive(rec, "cpu_seconds",
						     cJSON_CreateNumber((double)cpu / 1e9)) &&
	      cJSON_ReplaceItemInObjectCaseSensitive(rec, "cpu_ns", cJSON_CreateNumber((double)cpu)))) {
		cJSON_Delete(rec);
		return NULL;
	}
	if (rec && !(cJSON_AddNumberToObject(rec, "cores", open ? r->cores : 0) &&
		     cJSON_AddNumberToObject(rec, "cpu_percent",
					     open && ncpus ? 100 * r->cores / ncpus : 0) &&
		     cJSON_AddNumberToObject(rec, "rss_bytes", open ? (double)r->last.rss_bytes : 0) &&
		     (have_gpu ? cJSON_AddNumberToObject(rec, "gpu_percent", g.percent)
			       : cJSON_AddNullToObject(rec, "gpu_percent")))) {
		cJSON_Delete(rec);
		return NULL;
	}
	return rec;
}

/* The status reply: the live runs, and the host's GPU devices beside them. */
static void reply_status(struct commands *cm, struct control_conn *c, cJSON *runs)
{
	cJSON *fields = cJSON_CreateObject();
	cJSON *gpus = gpudevs_json(gpu_devices(sampler_gpu(cm->p.sampler)));
	char *line = NULL;

	if (fields && gpus && cJSON_AddItemToObject(fields, "runs", runs)) {
		runs = NULL;
		if (cJSON_AddItemToObject(fields, "gpus", gpus)) {
			gpus = NULL;
			line = control_format_ok_fields(fields);
			fields = NULL;
		}
	}
	cJSON_Delete(runs);
	cJSON_Delete(gpus);
	cJSON_Delete(fields);
	if (line)
		control_reply(c, line);
	else
		reply_error(c, "out of memory");
	free(line);
}

static void do_status(struct commands *cm, struct control_conn *c)
{
	cJSON *arr = cJSON_CreateArray();

	/* Rates of at most a second ago. */
	sampler_sample(cm->p.sampler, SAMPLER_RATE_MIN_NS);
	runs_for_each(cm->p.runs, r) {
		cJSON *rec;

		if (!arr)
			break;
		lifecycle_read_top(cm->p.lifecycle, r);
		if (runs_is_open(r))
			sampler_tools(cm->p.sampler, r, &r->tools);
		rec = live_record(cm, r);
		if (!rec || !cJSON_AddItemToArray(arr, rec)) {
			cJSON_Delete(rec);
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	if (!arr) {
		reply_error(c, "out of memory");
		return;
	}
	reply_status(cm, c, arr);
}

static void do_runs(struct commands *cm, struct control_conn *c,
		    const struct control_request *req)
{
	unsigned skipped;
	cJSON *arr = history_read(cm->p.state_dir, req->project, req->limit, &skipped);

	if (skipped)
		log_warn("history in %s: %u unreadable line(s) skipped", cm->p.state_dir, skipped);

	if (!arr) {
		reply_error(c, "cannot read the run history in %s: %s", cm->p.state_dir,
			    strerror(errno));
		return;
	}
	reply_ok(c, "runs", arr);
}

/* A run's timeline: a live (or not yet recorded) run's from the sampler,
 * a recorded one's from beside the history. */
static void do_timeline(struct commands *cm, struct control_conn *c,
			const struct control_request *req)
{
	const char *project = req->project[0] ? req->project : NULL;
	const struct run *r = req->run_id[0] ? runs_find_id(cm->p.runs, project, req->run_id)
					     : runs_latest(cm->p.runs, project);
	unsigned skipped = 0;
	cJSON *tl;

	if (r) {
		sampler_sample(cm->p.sampler, SAMPLER_RATE_MIN_NS);
		tl = sampler_timeline(cm->p.sampler, r);
	} else {
		tl = history_find_timeline(cm->p.state_dir, project,
					   req->run_id[0] ? req->run_id : NULL, &skipped);
	}
	if (skipped)
		log_warn("timelines in %s: %u unreadable line(s) skipped", cm->p.state_dir,
			 skipped);
	if (!tl && errno == ENOENT)
		reply_error(c, "no timeline of %s %s", req->run_id[0] ? "run" : "project",
			    req->run_id[0] ? req->run_id : req->project);
	else if (!tl)
		reply_error(c, "cannot read the timelines in %s: %s", cm->p.state_dir,
			    strerror(errno));
	else
		reply_ok(c, "timeline", tl);
}

static void do_wait(struct commands *cm, struct control_conn *c,
		    const struct control_request *req)
{
	const char *project = req->project[0] ? req->project : NULL;
	struct run *r = runs_find_id(cm->p.runs, project, req->run_id);
	cJSON *hist;
	int err;

	if (r) {
		err = waiters_add(&cm->waiters, c->id, r, req->all);
		if (err) {
			reply_error(c, "cannot wait for run %s: %s", req->run_id, strerror(-err));
			return;
		}
		/* An ended run is recorded now, which answers the wait, or once
		 * its final token read is done (a later tick). */
		lifecycle_settle(cm->p.lifecycle, r);
		if (!waiters_has(&cm->waiters, c->id))
			return;
		if (runs_is_open(r))
			answer_waits(cm, r); /* its root has exited already */
		if (waiters_has(&cm->waiters, c->id))
			http_timer_arm(cm->wait_timer, COMMANDS_WAIT_TICK_MS * 1000000LL);
		return;
	}
	/* Already ended and recorded: the history has it. */
	hist = history_find(cm->p.state_dir, project, req->run_id, NULL);
	if (hist) {
		reply_ok(c, "run", hist);
		return;
	}
	if (errno != ENOENT) {
		reply_error(c, "cannot read the run history in %s: %s", cm->p.state_dir,
			    strerror(errno));
		return;
	}
	reply_error(c, "no such run: %s", req->run_id);
}

static void do_tokens(struct commands *cm, struct control_conn *c,
		      const struct control_request *req)
{
	const struct run *r = runs_find_project(cm->p.runs, req->project);
	struct project *p = projects_get(cm->p.projects, req->project);
	cJSON *o;

	/* The project's live run's owner, else whoever made the project. */
	if (c->peer.uid != 0 && ((r && r->owner != c->peer.uid) ||
				 (!r && p && p->owned && p->owner != c->peer.uid))) {
		reply_error(c, "permission denied: project %s belongs to another user",
			    req->project);
		return;
	}
	if (!p && !project_quota_ok(cm, c, req->project))
		return;
	p = projects_add(cm->p.projects, req->project);
	if (!p) {
		reply_error(c, "too many projects (%d) with a live run or a watcher", PROJECTS_MAX);
		return;
	}
	if (!p->owned) {
		p->owned = true;
		p->owner = c->peer.uid;
	}
	if (projects_tokens(p, &req->tokens)) {
		reply_error(c, "token counts must stay within 0 to 10^15");
		return;
	}
	stream_changed(cm->p.stream, p->name);
	lifecycle_tokens_changed(cm->p.lifecycle);
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddStringToObject(o, "project", p->name);
		cJSON_AddNumberToObject(o, "current_run", (double)p->tokens_current);
		cJSON_AddNumberToObject(o, "total_session", (double)p->tokens_total);
	}
	reply_ok(c, "tokens", o);
}

/* control_line_fn: one request line. */
static void on_line(void *ctx, struct control_conn *c, char *line, size_t len)
{
	struct commands *cm = ctx;
	struct control_request req;
	char err[160];

	if (waiters_has(&cm->waiters, c->id)) {
		reply_error(c, "a wait is in progress on this connection");
		return;
	}
	if (control_parse_request(line, len, &req, err, sizeof(err))) {
		reply_error(c, "%s", err);
		return;
	}
	switch (req.cmd) {
	case CONTROL_RUN:
	case CONTROL_ATTACH:
		do_track(cm, c, &req);
		break;
	case CONTROL_DETACH:
		do_detach(cm, c, &req);
		break;
	case CONTROL_STATUS:
		do_status(cm, c);
		break;
	case CONTROL_RUNS:
		do_runs(cm, c, &req);
		break;
	case CONTROL_WAIT:
		do_wait(cm, c, &req);
		break;
	case CONTROL_TOKENS:
		do_tokens(cm, c, &req);
		break;
	case CONTROL_TIMELINE:
		do_timeline(cm, c, &req);
		break;
	}
}

int commands_serve(struct commands *cm, struct http *h)
{
	if (!(cm->wait_timer = http_timer_new(h, on_wait_timer, cm)))
		return -ENOMEM;
	return control_serve(cm->p.control, h, on_line, cm);
}
