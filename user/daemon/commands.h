/* The control commands (docs/interfaces.md): each request line is parsed,
 * authorized by its peer's credentials and answered; the commands own the
 * control connections and their waits for runs. */
#ifndef AGENTPERF_COMMANDS_H
#define AGENTPERF_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "lifecycle.h"
#include "projects.h"
#include "runs.h"
#include "sampler.h"
#include "stream.h"

struct commands_parts {
	struct control_server *control;
	struct lifecycle *lifecycle;
	struct sampler *sampler;
	struct runs *runs;
	struct projects *projects;
	struct stream *stream;
	const char *proc_root;
	const char *state_dir;
};

/* While a client waits for a run, the run is looked at this often, so that
 * `agentperf run` returns soon after its command. */
#define COMMANDS_WAIT_TICK_MS 20
/* Quotas of a non-root user: live runs, and projects made by its runs and
 * tokens reports. Runs of non-root users together leave COMMANDS_RUNS_KEPT
 * live-run slots to root and the harness's registries. */
#define COMMANDS_RUNS_PER_UID 32
#define COMMANDS_RUNS_KEPT 32
#define COMMANDS_PROJECTS_PER_UID 64

struct commands;
struct http;

/* Listens to the lifecycle for runs that settle (the waits' answers). NULL
 * with errno ENOMEM. commands_free(NULL) is a no-op. */
struct commands *commands_new(const struct commands_parts *parts);
void commands_free(struct commands *cm);
/* Puts the control socket on h's loop, and the waits' timer. Returns 0 or
 * -errno. */
int commands_serve(struct commands *cm, struct http *h);
/* Closes control connections idle for CONTROL_IDLE_NS, but those waiting
 * for a run. */
void commands_sweep(struct commands *cm, int64_t mono_ns);

#endif
