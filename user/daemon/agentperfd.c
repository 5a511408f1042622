/* agentperfd: loads the BPF tracker, owns the control socket and the runs table. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "control_proto.h"
#include "daemon.h"
#include "history.h"
#include "log.h"
#include "number.h"
#include "privs.h"
#include "procfs.h"
#include "record.h"
#include "timefmt.h"
#include "wsrules.h"

#define TICK_MS 1000
#define TICK_WAITING_MS 20 /* while a client waits for a run's end */
#define EVERY_SECOND_NS (900 * 1000000LL) /* "once a second" of a tick that may come often */
#define GPU_REUSE_NS (500 * 1000000LL) /* the tick's GPU figures may be this old */
#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: agentperfd [OPTION]...\n"
		"Tracks agent runs' process trees in the kernel and credits their CPU time.\n"
		"Runs in the foreground; stop it with SIGTERM or Ctrl-C.\n"
		"\n"
		"  --listen HOST:PORT    HTTP/WebSocket address [127.0.0.1:8765]; a non-loopback\n"
		"                        HOST needs --allow-remote\n"
		"  --allow-remote        allow a non-loopback --listen; then --token-file is required\n"
		"  --token-file PATH     bearer token (first line); clients send\n"
		"                        \"Authorization: Bearer T\" or ?token=T\n"
		"  --allow-origin ORIGIN another allowed WebSocket Origin (repeatable)\n"
		"  --interval-running MS perf_metrics period while a run is live [1000]\n"
		"  --interval-idle MS    perf_metrics period otherwise [3000]\n"
		"  --max-clients N       WebSocket clients at most [256]\n"
		"  --control PATH        control socket [/run/agentperf/agentperf.sock]\n"
		"  --control-group GROUP group that may use the control socket (mode 0660)\n"
		"  --state-dir DIR       run history, DIR/runs.jsonl [/var/lib/agentperf]\n"
		"  --autoforge-registry PATH  the agent harness's registry.db (repeatable): runs\n"
		"                        start by themselves when an agent's lock file appears,\n"
		"                        and WebSockets for other names are refused (4004)\n"
		"  --proc-root DIR       where /proc is [/proc] (tests)\n"
		"  --sys-root DIR        where /sys is [/sys] (tests)\n"
		"  -v, --verbose         more log lines; twice for libbpf's debug output\n"
		"      --version         print the version and exit\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"Needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE) and a kernel >= 5.11 with BTF.\n"
		"Environment: AGENTPERF_BPF_VARIANT=tp_btf|raw_tp forces one program variant.\n");
}

/* A whole number in [lo, hi], or -EINVAL after one clear line. */
static int parse_num(const char *opt, const char *s, long lo, long hi, int *out)
{
	long long v;

	if (number_parse(s, lo, hi, &v)) {
		fprintf(stderr, "agentperfd: %s wants a whole number from %ld to %ld, not \"%s\"\n",
			opt, lo, hi, s);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

/* The token is the file's first line; it is never logged. */
static int read_token(const char *path, char **out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "re");

	if (!f) {
		fprintf(stderr, "agentperfd: cannot read --token-file %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n <= 0) {
		free(line);
		fprintf(stderr, "agentperfd: --token-file %s has an empty first line\n", path);
		return -EINVAL;
	}
	*out = line;
	return 0;
}

static int parse_args(int argc, char **argv, struct config *cfg)
{
	enum {
		OPT_CONTROL = 256,
		OPT_GROUP,
		OPT_STATE,
		OPT_PROC,
		OPT_VERSION,
		OPT_LISTEN,
		OPT_REMOTE,
		OPT_TOKEN,
		OPT_ORIGIN,
		OPT_IRUN,
		OPT_IIDLE,
		OPT_MAXC,
		OPT_SYS,
		OPT_REGISTRY,
	};
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "allow-remote", no_argument, NULL, OPT_REMOTE },
		{ "token-file", required_argument, NULL, OPT_TOKEN },
		{ "allow-origin", required_argument, NULL, OPT_ORIGIN },
		{ "interval-running", required_argument, NULL, OPT_IRUN },
		{ "interval-idle", required_argument, NULL, OPT_IIDLE },
		{ "max-clients", required_argument, NULL, OPT_MAXC },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "control-group", required_argument, NULL, OPT_GROUP },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "proc-root", required_argument, NULL, OPT_PROC },
		{ "sys-root", required_argument, NULL, OPT_SYS },
		{ "autoforge-registry", required_argument, NULL, OPT_REGISTRY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *listen = "127.0.0.1:8765", *token_file = NULL;
	int c;

	*cfg = (struct config){
		.control_path = "/run/agentperf/agentperf.sock",
		.state_dir = "/var/lib/agentperf",
		.proc_root = "/proc",
		.sys_root = "/sys",
		.interval_running_ms = 1000,
		.interval_idle_ms = 3000,
		.max_clients = 256,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_REMOTE:
			cfg->allow_remote = true;
			break;
		case OPT_TOKEN:
			token_file = optarg;
			break;
		case OPT_ORIGIN:
			if (cfg->n_allow_origin == DAEMON_MAX_ORIGINS) {
				fprintf(stderr, "agentperfd: at most %d --allow-origin\n",
					DAEMON_MAX_ORIGINS);
				return -EINVAL;
			}
			cfg->allow_origin[cfg->n_allow_origin++] = optarg;
			break;
		case OPT_IRUN:
			if (parse_num("--interval-running", optarg, 100, 3600000,
				      &cfg->interval_running_ms))
				return -EINVAL;
			break;
		case OPT_IIDLE:
			if (parse_num("--interval-idle", optarg, 100, 3600000,
				      &cfg->interval_idle_ms))
				return -EINVAL;
			break;
		case OPT_MAXC:
			if (parse_num("--max-clients", optarg, 1, 100000, &cfg->max_clients))
				return -EINVAL;
			break;
		case OPT_CONTROL:
			cfg->control_path = optarg;
			break;
		case OPT_GROUP:
			cfg->control_group = optarg;
			break;
		case OPT_STATE:
			cfg->state_dir = optarg;
			break;
		case OPT_PROC:
			cfg->proc_root = optarg;
			break;
		case OPT_SYS:
			cfg->sys_root = optarg;
			break;
		case OPT_REGISTRY:
			if (cfg->n_registries == REGISTRY_MAX) {
				fprintf(stderr, "agentperfd: at most %d --autoforge-registry\n",
					REGISTRY_MAX);
				return -EINVAL;
			}
			if (optarg[0] != '/') {
				fprintf(stderr,
					"agentperfd: --autoforge-registry wants an absolute path, not "
					"\"%s\"\n",
					optarg);
				return -EINVAL;
			}
			cfg->registries[cfg->n_registries++] = optarg;
			break;
		case 'v':
			cfg->verbose++;
			break;
		case OPT_VERSION:
			printf("agentperfd %s\n", AGENTPERF_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "agentperfd: option %s needs a value (see --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "agentperfd: unknown option %s (see --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentperfd: unexpected argument \"%s\" (see --help)\n",
			argv[optind]);
		return -EINVAL;
	}
	if (addr_parse_listen(listen, cfg->listen_host, sizeof(cfg->listen_host),
				 &cfg->listen_port)) {
		fprintf(stderr, "agentperfd: --listen wants HOST:PORT or [IPV6]:PORT, not \"%s\"\n",
			listen);
		return -EINVAL;
	}
	if (!addr_is_loopback(cfg->listen_host) && !cfg->allow_remote) {
		fprintf(stderr,
			"agentperfd: --listen %s is not a loopback address: add --allow-remote "
			"(with --token-file)\n",
			listen);
		return -EINVAL;
	}
	if (cfg->allow_remote && !token_file) {
		fprintf(stderr, "agentperfd: --allow-remote needs --token-file: remote clients "
				"must authenticate\n");
		return -EINVAL;
	}
	if (token_file && read_token(token_file, &cfg->token))
		return -EINVAL;
	return 0;
}

/* The reasons agentperfd cannot start that a user can fix, each as one line. */
static int preflight(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (geteuid() != 0) {
		fprintf(stderr, "agentperfd: must run as root to load BPF programs (try: sudo "
				"agentperfd)\n");
		return -EPERM;
	}
	if (access(VMLINUX_BTF, R_OK)) {
		fprintf(stderr,
			"agentperfd: this kernel exposes no BTF (%s is missing); use a kernel "
			"built with CONFIG_DEBUG_INFO_BTF=y\n",
			VMLINUX_BTF);
		return -ENOENT;
	}
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 11))) {
		fprintf(stderr,
			"agentperfd: Linux %s is too old; agentperfd needs 5.11 or newer (BPF "
			"task storage)\n",
			u.release);
		return -ENOTSUP;
	}
	return 0;
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
	line = control_format_error(msg);
	if (line)
		control_reply(c, line);
	free(line);
}

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

void daemon_sample_run(struct daemon *d, struct run *r, int64_t now)
{
	struct run_sample s;
	int err = tracker_read(d->tracker, r->slot, &s);

	if (err) {
		log_warn("reading run %s: %s", r->run_id, strerror(-err));
		return;
	}
	if (runs_apply(r, &s, now))
		log_info("run %s of project %s ended: %s%s, %.3f CPU-seconds, %llu tasks", r->run_id,
			 r->project, runs_status_name(runs_status(r)),
			 s.root_left ? " (its root was attached to another run)" : "",
			 (double)s.cpu_ns / 1e9, (unsigned long long)s.tasks_started);
}

/* One sampling pass over all tasks (in-flight CPU, RSS, live members) for
 * the reads that follow; a failure is logged. */
static void daemon_refresh_live(struct daemon *d)
{
	int err = tracker_refresh_live(d->tracker);

	if (err)
		log_warn("sampling pass: %s", strerror(-err));
}

/* r's top commands: exited tasks', and live ones' from the latest pass. */
static void read_top(struct daemon *d, struct run *r)
{
	int err = tracker_top(d->tracker, r->slot, r->gen, runs_tasks_alive(r) > 0, &r->top);

	if (err)
		log_warn("reading run %s's commands: %s", r->run_id, strerror(-err));
}

static bool waiter_done(const struct control_conn *c, const struct run *r)
{
	return r->ended || r->detached || (!c->wait_all && r->last.root_exited);
}

/* Answers the waits that r now satisfies. A finished run's top was read by
 * finalize() (a detached one's at the detach, live tasks and all); an open
 * run's is read here, once for all its waiters. */
static void answer_waiters(struct daemon *d, struct run *r)
{
	bool have_top = r->ended || r->detached;

	for (int i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct control_conn *c = &d->control.conns[i];

		if (c->fd < 0 || !c->waiting || c->wait_slot != r->slot || c->wait_gen != r->gen ||
		    !waiter_done(c, r))
			continue;
		c->waiting = false;
		if (!have_top) {
			read_top(d, r);
			have_top = true;
		}
		reply_record(c, r);
	}
}

/* Writes the record of an ended or detached run and forgets it; a run whose
 * record cannot be written yet stays for the next tick. */
static void finalize(struct daemon *d, struct run *r)
{
	cJSON *rec;
	int err;

	/* A detached run's top was read when it was detached, live tasks and all. */
	if (r->ended)
		read_top(d, r);
	rec = runs_record(r);
	err = rec ? history_append(d->cfg.state_dir, rec) : -ENOMEM;
	cJSON_Delete(rec);
	if (err) {
		log_err("cannot record run %s in %s (will retry): %s", r->run_id,
			d->cfg.state_dir, strerror(-err));
		return;
	}
	answer_waiters(d, r);
	server_run_finished(d, r);
	tracker_end_run(d->tracker, r->slot);
	tracker_forget_top(d->tracker, r->slot, r->gen);
	/* The project keeps showing its last run until a new one starts. */
	struct project *p = projects_get(&d->projects, r->project);

	if (p && p->has_run && !strcmp(p->run.run_id, r->run_id)) {
		p->run = *r;
		server_project_changed(d, p);
	}
	runs_release(r);
}

static bool anyone_waiting(const struct daemon *d)
{
	for (int i = 0; i < CONTROL_MAX_CONNS; i++)
		if (d->control.conns[i].fd >= 0 && d->control.conns[i].waiting)
			return true;
	return false;
}

static int attach_agent(void *ctx, const char *project, pid_t pid, bool again);

static bool run_open(const struct run *r)
{
	return r->used && !r->ended && !r->detached;
}

static bool any_live_run(const struct daemon *d)
{
	for (int i = 0; i < TRACKER_MAX_RUNS; i++)
		if (run_open(&d->runs.run[i]))
			return true;
	return false;
}

bool daemon_sample_all(struct daemon *d, int64_t now, int64_t mono)
{
	bool rate = mono - d->last_rate_mono >= EVERY_SECOND_NS;

	daemon_refresh_live(d);
	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &d->runs.run[i];

		if (!r->used)
			continue;
		daemon_sample_run(d, r, now);
		if (rate && run_open(r))
			runs_rate(r, r->last.cpu_ns + r->last.inflight_ns, mono);
	}
	if (rate)
		d->last_rate_mono = mono;
	return rate;
}

void daemon_gpu_all(struct daemon *d, int64_t mono)
{
	bool have_vram;
	uint64_t vram;

	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &d->runs.run[i];
		struct project *p = run_open(r) ? projects_get(&d->projects, r->project) : NULL;

		if (!p || !p->has_run || p->run.slot != r->slot || p->run.gen != r->gen)
			continue;
		p->run = *r;
		/* A watched project's snapshot has just read it: no second read. */
		r->have_gpu = server_gpu(d, p, mono, GPU_REUSE_NS, &r->gpu_percent, &have_vram,
					 &vram);
	}
}

void daemon_look_at_locks(struct daemon *d)
{
	registry_watch(d->registry, d->cfg.proc_root, attach_agent, d);
}

void daemon_tick(struct daemon *d)
{
	int64_t now = clock_real_ns(), mono = clock_mono_ns();
	bool pass;

	if (d->registry && mono - d->last_registry_mono >= EVERY_SECOND_NS) {
		d->last_registry_mono = mono;
		registry_refresh(d->registry, mono, false);
		daemon_look_at_locks(d);
	}
	/* Once a second, a sampling pass for the rates of every live run. A
	 * snapshot due before the next tick makes that pass anyway (messages
	 * are never built from an old one): the rates are left to it. */
	pass = any_live_run(d) && mono - d->last_rate_mono >= EVERY_SECOND_NS &&
	       server_next_snapshot_ns(d) - mono > TICK_MS * 1000000LL;
	if (pass && daemon_sample_all(d, now, mono))
		daemon_gpu_all(d, mono);
	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &d->runs.run[i];

		if (!r->used)
			continue;
		if (!pass)
			daemon_sample_run(d, r, now);
		if (r->ended || r->detached)
			finalize(d, r);
		else
			answer_waiters(d, r);
	}
	server_schedule_tick(d, anyone_waiting(d) ? TICK_WAITING_MS : TICK_MS);
}

/* Checks that the peer may track pid; replies and returns false if not. */
static bool may_track(struct daemon *d, struct control_conn *c, const struct control_request *req)
{
	struct procfs_status st;
	int err = procfs_read_status(d->cfg.proc_root, req->pid, &st);

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

/* Starts a run of project at pid: its whole tree, or (whole_tree false, a
 * child marked before exec) its threads. Returns the run, or NULL with a
 * one-line reason in err. */
static struct run *start_run(struct daemon *d, const char *project, pid_t pid, bool whole_tree,
			     char *err, size_t errlen)
{
	int64_t now = clock_real_ns();
	struct project *p;
	struct run *r;
	int marked;

	p = projects_add(&d->projects, project);
	if (!p) {
		snprintf(err, errlen, "too many projects (%d)", PROJECTS_MAX);
		return NULL;
	}
	r = runs_begin(&d->runs, project, pid, now);
	if (!r) {
		snprintf(err, errlen, "too many live runs (%d); wait for some to end",
			 TRACKER_MAX_RUNS);
		return NULL;
	}
	marked = tracker_begin_run(d->tracker, r->slot, r->gen, pid);
	if (!marked)
		marked = tracker_seed(d->tracker, r->slot, r->gen, pid, whole_tree);
	if (marked <= 0) {
		if (marked < 0)
			snprintf(err, errlen, "cannot track process %d: %s", pid, strerror(-marked));
		else
			snprintf(err, errlen, "process %d exited before it could be tracked", pid);
		tracker_end_run(d->tracker, r->slot);
		runs_release(r);
		return NULL;
	}
	log_info("run %s of project %s: %s pid %d, %d task(s)", r->run_id, r->project,
		 whole_tree ? "attached" : "started", pid, marked);
	daemon_sample_run(d, r, now);
	projects_run_started(p, r);
	server_project_changed(d, p);
	return r;
}

static void do_track(struct daemon *d, struct control_conn *c, const struct control_request *req)
{
	char err[160];
	struct run *r;

	if (!may_track(d, c, req))
		return;
	r = start_run(d, req->project, req->pid, req->cmd == CONTROL_ATTACH, err, sizeof(err));
	if (!r) {
		reply_error(c, "%s", err);
		return;
	}
	log_debug("run %s was asked for by uid %u", r->run_id, (unsigned)c->peer.uid);
	reply_record(c, r);
}

/* registry_attach_fn: an agent's lock names a live process. */
static int attach_agent(void *ctx, const char *project, pid_t pid, bool again)
{
	struct daemon *d = ctx;
	struct run *r = runs_find_project(&d->runs, project);
	char err[160];

	if (r && r->pid == pid)
		return 0; /* already tracked (attached by hand, say) */
	r = start_run(d, project, pid, true, err, sizeof(err));
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

static bool may_control(const struct control_conn *c, const struct run *r,
			const struct daemon *d)
{
	struct procfs_status st;

	if (c->peer.uid == 0)
		return true;
	/* A run whose root is gone can be detached by anyone who may see it. */
	if (procfs_read_status(d->cfg.proc_root, r->pid, &st))
		return true;
	return st.ruid == c->peer.uid;
}

static void do_detach(struct daemon *d, struct control_conn *c, const struct control_request *req)
{
	struct run *r = runs_find_project(&d->runs, req->project);
	int64_t now = clock_real_ns();

	if (!r) {
		reply_error(c, "project %s has no live run", req->project);
		return;
	}
	if (!may_control(c, r, d)) {
		reply_error(c, "permission denied: run %s belongs to another user", r->run_id);
		return;
	}
	daemon_refresh_live(d);
	daemon_sample_run(d, r, now);
	read_top(d, r);
	if (!r->ended)
		runs_detach(r, now);
	/* Stop crediting now, even if the record has to wait for the disk. */
	tracker_end_run(d->tracker, r->slot);
	log_info("run %s of project %s detached", r->run_id, r->project);
	reply_record(c, r);
	finalize(d, r);
}

/* A run's record as `status` shows it: with its current rates, and its CPU
 * up to this moment (not for the history). */
static cJSON *live_record(struct daemon *d, const struct run *r)
{
	cJSON *rec = runs_record(r);
	bool open = !r->ended && !r->detached;
	/* The sampling pass was just made: live members' in-flight time counts,
	 * as it does in the run's top commands. */
	uint64_t cpu = r->last.cpu_ns + (open ? r->last.inflight_ns : 0);

	if (rec &&
	    !(cJSON_ReplaceItemInObjectCaseSensitive(rec, "cpu_seconds",
						     cJSON_CreateNumber((double)cpu / 1e9)) &&
	      cJSON_ReplaceItemInObjectCaseSensitive(rec, "cpu_ns", cJSON_CreateNumber((double)cpu)))) {
		cJSON_Delete(rec);
		return NULL;
	}
	if (rec && !(cJSON_AddNumberToObject(rec, "cores", open ? r->cores : 0) &&
		     cJSON_AddNumberToObject(rec, "cpu_percent",
					     open && d->ncpus ? 100 * r->cores / d->ncpus : 0) &&
		     cJSON_AddNumberToObject(rec, "rss_bytes", open ? (double)r->last.rss_bytes : 0) &&
		     (r->have_gpu ? cJSON_AddNumberToObject(rec, "gpu_percent", r->gpu_percent)
				  : cJSON_AddNullToObject(rec, "gpu_percent")))) {
		cJSON_Delete(rec);
		return NULL;
	}
	return rec;
}

static void do_status(struct daemon *d, struct control_conn *c)
{
	cJSON *arr = cJSON_CreateArray();
	int64_t mono = clock_mono_ns();

	if (daemon_sample_all(d, clock_real_ns(), mono))
		daemon_gpu_all(d, mono);
	for (int i = 0; arr && i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &d->runs.run[i];
		cJSON *rec;

		if (!r->used)
			continue;
		read_top(d, r);
		rec = live_record(d, r);
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
	reply_ok(c, "runs", arr);
}

static void do_runs(struct daemon *d, struct control_conn *c, const struct control_request *req)
{
	cJSON *arr = history_read(d->cfg.state_dir, req->project, req->limit);

	if (!arr) {
		reply_error(c, "cannot read the run history in %s: %s", d->cfg.state_dir,
			    strerror(errno));
		return;
	}
	reply_ok(c, "runs", arr);
}

static void do_wait(struct daemon *d, struct control_conn *c, const struct control_request *req)
{
	const char *project = req->project[0] ? req->project : NULL;
	struct run *r = runs_find_id(&d->runs, project, req->run_id);
	cJSON *hist, *it;

	if (r) {
		daemon_sample_run(d, r, clock_real_ns());
		c->waiting = true;
		c->wait_slot = r->slot;
		c->wait_gen = r->gen;
		c->wait_all = req->all;
		if (r->ended || r->detached)
			finalize(d, r);
		else
			answer_waiters(d, r);
		if (c->waiting)
			server_schedule_tick(d, TICK_WAITING_MS);
		return;
	}
	/* Already ended and recorded: the history has it. */
	hist = history_read(d->cfg.state_dir, project, 0);
	cJSON_ArrayForEach(it, hist)
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "run_id"));

		if (id && !strcmp(id, req->run_id)) {
			reply_ok(c, "run", cJSON_Duplicate(it, true));
			cJSON_Delete(hist);
			return;
		}
	}
	cJSON_Delete(hist);
	reply_error(c, "no such run: %s", req->run_id);
}

static void do_tokens(struct daemon *d, struct control_conn *c, const struct control_request *req)
{
	struct project *p = projects_add(&d->projects, req->project);
	cJSON *o;

	if (!p) {
		reply_error(c, "too many projects (%d)", PROJECTS_MAX);
		return;
	}
	if (projects_tokens(p, &req->tokens)) {
		reply_error(c, "token counts must stay within 0 to 10^15");
		return;
	}
	server_project_changed(d, p);
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddStringToObject(o, "project", p->name);
		cJSON_AddNumberToObject(o, "current_run", (double)p->tokens_current);
		cJSON_AddNumberToObject(o, "total_session", (double)p->tokens_total);
	}
	reply_ok(c, "tokens", o);
}

void daemon_on_control_line(void *ctx, struct control_conn *c, char *line, size_t len)
{
	struct daemon *d = ctx;
	struct control_request req;
	char err[160];

	if (c->waiting) {
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
		do_track(d, c, &req);
		break;
	case CONTROL_DETACH:
		do_detach(d, c, &req);
		break;
	case CONTROL_STATUS:
		do_status(d, c);
		break;
	case CONTROL_RUNS:
		do_runs(d, c, &req);
		break;
	case CONTROL_WAIT:
		do_wait(d, c, &req);
		break;
	case CONTROL_TOKENS:
		do_tokens(d, c, &req);
		break;
	}
}

/* 1000 WebSocket clients need more descriptors than the usual 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Records every run still open: they are not tracked past this point. */
static void shutdown_runs(struct daemon *d)
{
	int64_t now = clock_real_ns();

	daemon_sample_all(d, now, clock_mono_ns());
	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &d->runs.run[i];

		if (!r->used)
			continue;
		read_top(d, r);
		runs_detach(r, now);
		finalize(d, r);
		if (r->used)
			log_err("run %s was not recorded", r->run_id);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct daemon d = { 0 };
	char err[256];
	int ret = 1, e;

	d.control.listen_fd = -1;
	d.control.epoll_fd = -1;
	if (parse_args(argc, argv, &d.cfg))
		return 2;
	log_set_verbose(d.cfg.verbose);
	libbpf_set_print(log_libbpf_print);
	if (preflight())
		return 1;
	if ((e = history_prepare(d.cfg.state_dir))) {
		fprintf(stderr, "agentperfd: cannot create state directory %s: %s\n",
			d.cfg.state_dir, strerror(-e));
		return 1;
	}
	runs_init(&d.runs);
	projects_init(&d.projects);
	if (d.cfg.n_registries &&
	    !(d.registry = registry_new(d.cfg.registries, d.cfg.n_registries))) {
		fprintf(stderr, "agentperfd: %s\n", strerror(errno));
		return 1;
	}
	d.ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	gpuscan_host(d.cfg.sys_root, &d.gpu_host);
	raise_fd_limit();
	/* Claim the addresses before loading BPF: a second daemon must be told
	 * so in one line, not after loading its own programs. */
	if (server_check_listen(&d, err, sizeof(err))) {
		fprintf(stderr, "agentperfd: %s\n", err);
		return 1;
	}
	if (control_listen(&d.control, d.cfg.control_path, d.cfg.control_group, err,
			   sizeof(err))) {
		fprintf(stderr, "agentperfd: %s\n", err);
		return 1;
	}
	d.tracker = tracker_open(getenv("AGENTPERF_BPF_VARIANT"));
	if (!d.tracker) {
		if (errno == EPERM || errno == EACCES)
			fprintf(stderr, "agentperfd: not allowed to load BPF programs: needs "
					"CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE (run as root)\n");
		else
			fprintf(stderr, "agentperfd: cannot load the BPF programs: %s (run with "
					"-v for libbpf's reasons)\n",
				strerror(errno));
		goto cleanup;
	}

	if (server_start(&d, err, sizeof(err))) {
		fprintf(stderr, "agentperfd: %s\n", err);
		goto cleanup;
	}
	/* Programs loaded, port and socket bound: the rest needs far less. */
	if (privs_drop(d.registry != NULL, err, sizeof(err))) {
		fprintf(stderr, "agentperfd: %s\n", err);
		goto cleanup;
	}

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("listening on %s:%d (HTTP, WebSocket) and %s; history in %s/runs.jsonl",
		 d.cfg.listen_host, d.cfg.listen_port, d.cfg.control_path, d.cfg.state_dir);
	log_info("GPU: %s", d.gpu_host.available ? "a DRM device reports usage"
						 : "no DRM device reports usage (gpu: null)");
	/* One thread, one loop: lws polls the port, the control socket and the
	 * timers; a signal interrupts its poll and ends the loop. */
	while (!stop_requested && lws_service(d.lws, 0) >= 0)
		;
	log_info("stopping");
	shutdown_runs(&d);
	ret = 0;
cleanup:
	server_stop(&d);
	control_close(&d.control);
	tracker_free(d.tracker);
	registry_free(d.registry);
	projects_free(&d.projects);
	free(d.cfg.token);
	return ret;
}
