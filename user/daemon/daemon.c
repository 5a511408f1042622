/* The daemon's modules, opened in order and wired together: each module that
 * owns a descriptor, a timer, the WebSocket topics or /metrics registers it
 * on the loop itself; the lifecycle tells the commands when a run settles.
 * No module calls back into the one that called it. */
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
	struct http_timer *tick_timer;
	int64_t trimmed_ns; /* the latest malloc_trim */
};

/* The bookkeeping tick: idle control connections, then the runs. */
static void on_tick(void *ctx)
{
	struct daemon *a = ctx;

	commands_sweep(a->commands, clock_mono_ns());
	lifecycle_tick(a->lifecycle);
	http_timer_arm(a->tick_timer, LIFECYCLE_TICK_MS * 1000000LL);
	/* A burst of connections (thousands of clients that come and go) leaves
	 * freed heap behind: hand it back to the kernel, so that RSS is what
	 * the daemon holds, not its high-water mark. */
	if (clock_mono_ns() - a->trimmed_ns >= DAEMON_TRIM_NS) {
		a->trimmed_ns = clock_mono_ns();
		malloc_trim(0);
	}
}

/* Opens every module, the BPF programs after the addresses are claimed;
 * for --cleanup, no address at all (a running daemon's socket refuses it).
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
	if (c->cleanup && control_in_use(c->control_path)) {
		fprintf(stderr, "agentperfd: an agentperfd is running on %s: stop it before --cleanup\n",
			c->control_path);
		return -EADDRINUSE;
	}
	if (!c->cleanup &&
	    ((e = startup_check_listen(c->listen_host, c->listen_port, err, sizeof(err))) ||
	     (e = control_listen(&a->control, c->control_path, c->control_group, err,
				 sizeof(err))))) {
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
				    .tracker = a->tracker };
	struct stream_opts sto = { .interval_running_ms = c->interval_running_ms,
				   .interval_idle_ms = c->interval_idle_ms,
				   .headroom = http_headroom(),
				   .registry = a->registry };

	if (!(a->runs = runs_new()) || !(a->projects = projects_new()) ||
	    !(a->sampler = sampler_new(a->tracker, a->runs, &so)) ||
	    !(a->exporter = exporter_new(a->sampler, a->runs, &xo)) ||
	    !(a->stream = stream_new(a->sampler, a->projects, a->runs, &sto)))
		goto nomem;

	struct lifecycle_parts lp = { .tracker = a->tracker, .runs = a->runs,
				      .projects = a->projects, .sampler = a->sampler,
				      .stream = a->stream, .exporter = a->exporter,
				      .state_dir = c->state_dir, .proc_root = c->proc_root,
				      .history_max_bytes = (uint64_t)c->history_max_mb << 20 };

	if (!(a->lifecycle = lifecycle_new(&lp)))
		goto nomem;
	struct commands_parts cp = { .control = &a->control, .lifecycle = a->lifecycle,
				     .sampler = a->sampler, .runs = a->runs,
				     .projects = a->projects, .stream = a->stream,
				     .proc_root = c->proc_root, .state_dir = c->state_dir };

	if (!(a->commands = commands_new(&cp)))
		goto nomem;
	/* Runs a previous daemon left pinned go on from here. */
	lifecycle_take_over(a->lifecycle);
	if (c->cleanup)
		return 0;

	struct http_opts ho = { .host = c->listen_host, .port = c->listen_port,
				.token = c->token, .allow_remote = c->allow_remote,
				.allow_origin = c->allow_origin,
				.n_allow_origin = c->n_allow_origin, .max_clients = c->max_clients,
				.verbose = c->verbose };

	if (!(a->http = http_new(&ho, err, sizeof(err)))) {
		fprintf(stderr, "agentperfd: %s\n", err);
		return -EIO;
	}
	/* Each module puts what it owns on the loop. */
	exporter_serve(a->exporter, a->http);
	if ((e = stream_serve(a->stream, a->http)) || (e = commands_serve(a->commands, a->http)) ||
	    (e = sampler_serve(a->sampler, a->http)) ||
	    (a->registry && (e = registry_serve(a->registry, a->http, c->proc_root,
						lifecycle_agent_lock, a->lifecycle)))) {
		fprintf(stderr, "agentperfd: cannot put the daemon's descriptors and timers on "
				"the event loop: %s\n",
			strerror(-e));
		return e;
	}
	if (!(a->tick_timer = http_timer_new(a->http, on_tick, a)))
		goto nomem;
	http_timer_arm(a->tick_timer, LIFECYCLE_TICK_MS * 1000000LL);
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
	control_init(&a->control);
	if (open_all(a)) {
		daemon_free(a);
		return NULL;
	}
	if (!cfg->cleanup)
		log_info("listening on %s:%d (HTTP, WebSocket) and %s; history in %s/runs.jsonl",
			 cfg->listen_host, cfg->listen_port, cfg->control_path, cfg->state_dir);
	gpudevs_describe(gpu_devices(sampler_gpu(a->sampler)), gpus, sizeof(gpus));
	log_info("GPU: %s", gpus);
	return a;
}

int daemon_serve(struct daemon *a)
{
	return http_service(a->http);
}

/* Removes the pinned BPF state (the programs detach as the daemon exits)
 * and writes the now empty journal. Returns 0 or -errno (logged). */
static int unpin(struct daemon *a)
{
	int e = tracker_unpin(a->tracker);

	if (e) {
		log_err("cannot remove the pinned BPF state in %s: %s", a->cfg->bpf_dir,
			strerror(-e));
		return e;
	}
	return lifecycle_save(a->lifecycle);
}

int daemon_shutdown(struct daemon *a)
{
	int err = lifecycle_shutdown(a->lifecycle);

	if (err)
		return err;
	if (runs_next(a->runs, NULL)) {
		log_info("stopped; live runs stay tracked in the kernel for the next start");
		return 0;
	}
	/* Nothing for a next start to take over: no program stays attached to
	 * cost every context switch of the host. */
	err = unpin(a);
	if (!err)
		log_info("stopped with no live run: BPF state unpinned from %s", a->cfg->bpf_dir);
	return err;
}

int daemon_cleanup(struct daemon *a)
{
	int err = lifecycle_cleanup(a->lifecycle);

	if (err)
		return err;
	err = unpin(a);
	if (!err)
		log_info("every run recorded; BPF state unpinned from %s: the programs detach as "
			 "agentperfd exits",
			 a->cfg->bpf_dir);
	return err;
}

