/* The one struct that owns agentperfd's state, shared by its modules. */
#ifndef AGENTPERF_DAEMON_H
#define AGENTPERF_DAEMON_H

#include <libwebsockets.h>
#include <stdbool.h>

#include "control.h"
#include "projects.h"
#include "promtext.h"
#include "registry.h"
#include "runs.h"
#include "tracker.h"

#define DAEMON_MAX_ORIGINS 16

struct config {
	const char *control_path;
	const char *control_group;
	const char *state_dir;
	const char *proc_root;
	const char *sys_root;
	char listen_host[256];
	int listen_port;
	bool allow_remote;
	char *token; /* from --token-file; NULL: no token required */
	const char *allow_origin[DAEMON_MAX_ORIGINS];
	size_t n_allow_origin;
	int interval_running_ms;
	int interval_idle_ms;
	int max_clients;
	int verbose;
	const char *registries[REGISTRY_MAX]; /* --autoforge-registry */
	size_t n_registries;
};

struct daemon {
	struct config cfg;
	struct tracker *tracker;
	struct control_server control;
	struct runs runs;
	struct projects projects;
	struct lws_context *lws;
	lws_sorted_usec_list_t tick_sul; /* run bookkeeping: ends, waits */
	lws_sorted_usec_list_t send_sul; /* perf_metrics cadence */
	int ncpus;
	int clients; /* open WebSocket sessions */
	struct gpuscan_host gpu_host; /* read at start */
	int64_t last_rate_mono; /* CLOCK_MONOTONIC of the live runs' latest rates */
	struct promtext_finished finished; /* recently finished runs, for /metrics */
	struct registry *registry; /* NULL without --autoforge-registry */
	int64_t last_registry_mono; /* the tick's latest look at registries and locks */
	int64_t last_registry_force; /* the latest read asked for by a WebSocket */
};

/* agentperfd.c: reads a live run's kernel state into r (and notices its end). */
void daemon_sample_run(struct daemon *d, struct run *r, int64_t now_ns);
/* agentperfd.c: a sampling pass, then every run's kernel state; and, when
 * the latest were taken most of a second ago, each live run's CPU rate:
 * returns whether it took them (then daemon_gpu_all() should follow). */
bool daemon_sample_all(struct daemon *d, int64_t now_ns, int64_t mono_ns);
/* agentperfd.c: each live run's GPU reading for status and /metrics; one a
 * snapshot has just taken is reused. */
void daemon_gpu_all(struct daemon *d, int64_t mono_ns);
/* agentperfd.c: a control request line (the control socket's handler). */
void daemon_on_control_line(void *ctx, struct control_conn *c, char *line, size_t len);
/* agentperfd.c: looks at the registries' agent locks now (a lock directory
 * changed). */
void daemon_look_at_locks(struct daemon *d);
/* agentperfd.c: the run bookkeeping tick. */
void daemon_tick(struct daemon *d);

/* server.c: whether the HTTP/WebSocket address can be bound, checked before
 * anything is loaded. Returns 0, or -errno with a one-line reason in err. */
int server_check_listen(const struct daemon *d, char *err, size_t errlen);
/* server.c: creates the lws context listening on cfg.listen_host:listen_port,
 * with the control socket and the timers on its loop. Returns 0, or -errno
 * with a one-line reason in err. */
int server_start(struct daemon *d, char *err, size_t errlen);
void server_stop(struct daemon *d);
/* server.c: CLOCK_MONOTONIC when the next perf_metrics snapshot is due;
 * INT64_MAX when nobody watches. */
int64_t server_next_snapshot_ns(const struct daemon *d);
/* server.c: the project's state changed (new run, tokens): snapshot it now
 * if anyone is watching. */
void server_project_changed(struct daemon *d, struct project *p);
/* server.c: GPU figures of p's latest run, read now unless the latest
 * reading (a snapshot's, say) is younger than max_age_ns. Returns whether
 * *percent is known (false without a GPU). */
bool server_gpu(struct daemon *d, struct project *p, int64_t now_mono, int64_t max_age_ns,
		double *percent, bool *have_vram, uint64_t *vram_bytes);
/* server.c: r's record is written: /metrics shows its final figures for a while. */
void server_run_finished(struct daemon *d, const struct run *r);
/* server.c: (re)arms the run bookkeeping tick, ms from now. */
void server_schedule_tick(struct daemon *d, int ms);

#endif
