/* The daemon's modules, opened in order and wired together: each hook hands
 * an event to the module that owns it, so that no module calls back into
 * the one that called it. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "commands.h"
#include "control.h"
#include "daemon.h"
#include "exporter.h"
#include "history.h"
#include "http/http.h"
#include "lifecycle.h"
#include "log.h"
#include "projects.h"
#include "registry/registry.h"
#include "runs.h"
#include "sampler.h"
#include "startup.h"
#include "stream.h"
#include "tracker/tracker.h"


#define DAEMON_TRIM_NS (5 * 1000000000LL)

struct daemon {
	const struct config *cfg;
	struct control_server control;
	struct tracker *tracker;
	struct runs *runs;
	struct projects *projects;
	struct registry *registry;
	struct sampler *sampler;
	struct exporter *exporter;
	struct stream *stream;
	struct lifecycle *lifecycle;
	struct commands *commands;
	struct http *http;
	struct http_timer *tick_timer, *stream_timer;
	int64_t trimmed_ns; /* the latest malloc_trim */
};

/* --- the wiring: each hook hands an event to the module that owns it ----- */

static void *on_ws_open(void *ctx, const char *name, int *code, const char **reason)
{
	struct daemon *a = ctx;
	struct project *p;

	if (a->registry && !registry_knows(a->registry, name, clock_mono_ns())) {
		*code = 4004;
		*reason = "Project not found in registry";
		return NULL;
	}
	p = stream_watch(a->stream, name);
	if (!p) {
		*code = 1013; /* try again later: the project table is full */
		*reason = NULL;
	}
	return p;
}

static void on_ws_close(void *ctx, void *topic)
{
	stream_unwatch(((struct daemon *)ctx)->stream, topic);
}

static const char *on_ws_message(void *ctx, void *topic, size_t *len, uint64_t *gen)
{
	return stream_message(((struct daemon *)ctx)->stream, topic, len, gen);
}

static char *on_metrics(void *ctx, int clients, size_t *len)
{
	return exporter_render(((struct daemon *)ctx)->exporter, clients, len);
}

struct prog_stats {
	struct promtext_prog *out;
	size_t n, max;
};

static void add_prog_stat(void *ctx, const char *name, uint64_t run_time_ns, uint64_t run_cnt)
{
	struct prog_stats *ps = ctx;

	if (ps->n == ps->max)
		return;
	snprintf(ps->out[ps->n].name, sizeof(ps->out[0].name), "%s", name);
	ps->out[ps->n].run_time_ns = run_time_ns;
	ps->out[ps->n++].run_cnt = run_cnt;
}

static size_t on_prog_stats(void *ctx, struct promtext_prog *out, size_t max)
{
	struct prog_stats ps = { .out = out, .max = max };

	/* Nothing while the kernel does not count (bpf_stats_enabled 0). */
	if (tracker_prog_stats(((struct daemon *)ctx)->tracker, add_prog_stat, &ps))
		return 0;
	return ps.n;
}

static bool on_healthy(void *ctx)
{
	return ((struct daemon *)ctx)->tracker != NULL;
}

static void on_control_readable(void *ctx)
{
	struct daemon *a = ctx;

	control_service(&a->control, commands_on_line, a->commands);
}

static void on_registry_readable(void *ctx)
{
	struct daemon *a = ctx;

	if (registry_drain(a->registry))
		registry_watch(a->registry, a->cfg->proc_root, lifecycle_agent_lock, a->lifecycle);
}

static void on_stream_wake(void *ctx, struct project *p)
{
	http_wake(((struct daemon *)ctx)->http, p);
}

static void on_stream_arm(void *ctx, int64_t delay_ns)
{
	http_timer_arm(((struct daemon *)ctx)->stream_timer, delay_ns);
}

static void on_stream_timer(void *ctx)
{
	stream_due(((struct daemon *)ctx)->stream);
}

static void on_answer(void *ctx, uint64_t conn_id, const struct run *r)
{
	commands_answer(((struct daemon *)ctx)->commands, conn_id, r);
}

static bool on_conn_open(void *ctx, uint64_t conn_id)
{
	return commands_conn_open(((struct daemon *)ctx)->commands, conn_id);
}

static void on_tick_in(void *ctx, int ms)
{
	http_timer_arm(((struct daemon *)ctx)->tick_timer, ms * 1000000LL);
}

static bool on_keep_conn(void *ctx, uint64_t conn_id)
{
	return lifecycle_waiting(((struct daemon *)ctx)->lifecycle, conn_id);
}

/* The bookkeeping tick: idle control connections, the registries' locks,
 * then the runs. */
static void on_tick(void *ctx)
{
	struct daemon *a = ctx;

	control_sweep(&a->control, clock_mono_ns(), on_keep_conn, a);
	if (a->registry) {
		registry_refresh(a->registry, clock_mono_ns(), false);
		registry_watch(a->registry, a->cfg->proc_root, lifecycle_agent_lock, a->lifecycle);
	}
	on_tick_in(a, lifecycle_tick(a->lifecycle));
	/* A burst of connections (thousands of clients that come and go) leaves
	 * freed heap behind: hand it back to the kernel, so that RSS is what
	 * the daemon holds, not its high-water mark. */
	if (clock_mono_ns() - a->trimmed_ns >= DAEMON_TRIM_NS) {
		a->trimmed_ns = clock_mono_ns();
		malloc_trim(0);
	}
}

/* Opens every module, the BPF programs after the addresses are claimed.
 * Returns 0, or -errno after one line on stderr. */
static int open_all(struct daemon *a)
{
	const struct config *c = a->cfg;
	char err[256];
	int e;

	if ((e = history_prepare(c->state_dir))) {
		fprintf(stderr, "agentperfd: cannot create state directory %s: %s\n", c->state_dir,
			strerror(-e));
		return e;
	}
	if (c->n_registries && !(a->registry = registry_new(c->registries, c->n_registries))) {
		fprintf(stderr, "agentperfd: %s\n", strerror(errno));
		return -errno;
	}
	/* Claim the addresses before loading BPF: a second daemon must be told
	 * so in one line, not after loading its own programs. */
	if ((e = startup_check_listen(c->listen_host, c->listen_port, err, sizeof(err))) ||
	    (e = control_listen(&a->control, c->control_path, c->control_group, err,
				sizeof(err)))) {
		fprintf(stderr, "agentperfd: %s\n", err);
		return e;
	}
	/* tracker_open has said why in one line. AGENTPERF_TEST_ABI lets a
	 * test leave state of another ABI behind. */
	struct tracker_opts to = { .variant = getenv("AGENTPERF_BPF_VARIANT"),
				   .pin_dir = c->bpf_dir,
				   .abi = getenv("AGENTPERF_TEST_ABI")
						  ? (uint32_t)atoi(getenv("AGENTPERF_TEST_ABI"))
						  : TRACKER_ABI_VERSION };

	if (!(a->tracker = tracker_open(&to)))
		return -errno;

	struct sampler_opts so = { .proc_root = c->proc_root, .sys_root = c->sys_root,
				   .nvml_lib = c->nvml_lib };
	struct exporter_opts xo = { .version = AGENTPERF_VERSION,
				    .bpf_variant = tracker_variant(a->tracker),
				    .headroom = http_headroom(),
				    .prog_stats = on_prog_stats,
				    .prog_stats_ctx = a };
	struct stream_opts sto = { .interval_running_ms = c->interval_running_ms,
				   .interval_idle_ms = c->interval_idle_ms,
				   .headroom = http_headroom() };
	struct stream_hooks sth = { .ctx = a, .wake = on_stream_wake, .arm = on_stream_arm };

	if (!(a->runs = runs_new()) || !(a->projects = projects_new()) ||
	    !(a->sampler = sampler_new(a->tracker, a->runs, &so)) ||
	    !(a->exporter = exporter_new(a->sampler, a->runs, &xo)) ||
	    !(a->stream = stream_new(a->sampler, a->projects, a->runs, &sto, &sth)))
		goto nomem;

	struct lifecycle_parts lp = { .tracker = a->tracker, .runs = a->runs,
				      .projects = a->projects, .sampler = a->sampler,
				      .stream = a->stream, .exporter = a->exporter,
				      .state_dir = c->state_dir,
				      .history_max_bytes = (uint64_t)c->history_max_mb << 20 };
	struct lifecycle_hooks lh = { .ctx = a, .answer = on_answer, .conn_open = on_conn_open,
				      .tick_in = on_tick_in };

	if (!(a->lifecycle = lifecycle_new(&lp, &lh)))
		goto nomem;
	struct commands_parts cp = { .control = &a->control, .lifecycle = a->lifecycle,
				     .sampler = a->sampler, .runs = a->runs,
				     .projects = a->projects, .stream = a->stream,
				     .proc_root = c->proc_root, .state_dir = c->state_dir };

	if (!(a->commands = commands_new(&cp)))
		goto nomem;
	/* Runs a previous daemon left pinned go on from here. */
	lifecycle_take_over(a->lifecycle);

	struct http_opts ho = { .host = c->listen_host, .port = c->listen_port,
				.token = c->token, .allow_remote = c->allow_remote,
				.allow_origin = c->allow_origin,
				.n_allow_origin = c->n_allow_origin, .max_clients = c->max_clients,
				.verbose = c->verbose, .control_fd = control_fd(&a->control),
				.registry_fd = a->registry ? registry_fd(a->registry) : -1 };
	struct http_hooks hh = { .ctx = a, .ws_open = on_ws_open, .ws_close = on_ws_close,
				 .ws_message = on_ws_message, .metrics = on_metrics,
				 .healthy = on_healthy, .control_readable = on_control_readable,
				 .registry_readable = on_registry_readable };

	if (!(a->http = http_new(&ho, &hh, err, sizeof(err)))) {
		fprintf(stderr, "agentperfd: %s\n", err);
		return -EIO;
	}
	if (!(a->tick_timer = http_timer_new(a->http, on_tick, a)) ||
	    !(a->stream_timer = http_timer_new(a->http, on_stream_timer, a)))
		goto nomem;
	on_tick_in(a, LIFECYCLE_TICK_MS);
	return 0;
nomem:
	fprintf(stderr, "agentperfd: out of memory\n");
	return -ENOMEM;
}

void daemon_free(struct daemon *a)
{
	if (!a)
		return;
	http_free(a->http); /* first: it holds dups of the descriptors below */
	commands_free(a->commands);
	lifecycle_free(a->lifecycle);
	stream_free(a->stream);
	exporter_free(a->exporter);
	sampler_free(a->sampler);
	control_close(&a->control);
	tracker_free(a->tracker);
	registry_free(a->registry);
	projects_free(a->projects);
	runs_free(a->runs);
	free(a);
}

struct daemon *daemon_new(const struct config *cfg)
{
	struct daemon *a = calloc(1, sizeof(*a));
	char gpus[512];

	if (!a) {
		fprintf(stderr, "agentperfd: out of memory\n");
		return NULL;
	}
	a->cfg = cfg;
	a->control.listen_fd = a->control.epoll_fd = -1;
	if (open_all(a)) {
		daemon_free(a);
		return NULL;
	}
	log_info("listening on %s:%d (HTTP, WebSocket) and %s; history in %s/runs.jsonl",
		 cfg->listen_host, cfg->listen_port, cfg->control_path, cfg->state_dir);
	gpudevs_describe(gpu_devices(sampler_gpu(a->sampler)), gpus, sizeof(gpus));
	log_info("GPU: %s", gpus);
	return a;
}

bool daemon_reads_homes(const struct daemon *a)
{
	/* Always: the agents' transcripts are in their users' homes (often
	 * 0700), and registries and agent locks too. */
	return true;
}

int daemon_serve(struct daemon *a)
{
	return http_service(a->http);
}

int daemon_shutdown(struct daemon *a)
{
	return lifecycle_shutdown(a->lifecycle);
}

int daemon_cleanup(struct daemon *a)
{
	int err = lifecycle_cleanup(a->lifecycle), e;

	if (err)
		return err;
	e = tracker_unpin(a->tracker);
	if (e) {
		log_err("cannot remove the pinned BPF state in %s: %s", a->cfg->bpf_dir,
			strerror(-e));
		return e;
	}
	e = lifecycle_save(a->lifecycle);
	log_info("every run recorded; BPF state unpinned from %s: the programs detach as "
		 "agentperfd exits",
		 a->cfg->bpf_dir);
	return e;
}

