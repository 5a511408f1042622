/* agentperfd's one port and event loop (libwebsockets): /healthz, /metrics,
 * the perf_metrics WebSocket per project, the control socket and registry
 * descriptors, and timers. It knows nothing of runs: what it serves comes
 * through the hooks it is handed at creation. */
#ifndef AGENTPERF_HTTP_H
#define AGENTPERF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_hooks {
	void *ctx;
	/* A WebSocket for the (valid) project name is open: the topic whose
	 * messages it gets, or NULL with a close code and reason. */
	void *(*ws_open)(void *ctx, const char *name, int *close_code, const char **reason);
	void (*ws_close)(void *ctx, void *topic);
	/* The topic's latest message (http_headroom() spare bytes before it)
	 * and its generation; NULL before the first. */
	const char *(*ws_message)(void *ctx, void *topic, size_t *len, uint64_t *gen);
	/* The /metrics body (after the headroom), malloc'd; NULL on ENOMEM. */
	char *(*metrics)(void *ctx, int websocket_clients, size_t *len);
	/* Whether the daemon is healthy (/healthz). */
	bool (*healthy)(void *ctx);
	/* A descriptor handed in http_opts is readable. */
	void (*control_readable)(void *ctx);
	void (*registry_readable)(void *ctx);
};

struct http_opts {
	const char *host; /* an IP address or localhost */
	int port;
	const char *token; /* NULL: none required */
	bool allow_remote;
	const char *const *allow_origin;
	size_t n_allow_origin;
	int max_clients;
	int verbose;
	int control_fd; /* put on the loop; -1: none */
	int registry_fd;
};

struct http;
struct http_timer;

/* Listens and puts the descriptors on the loop. NULL with a one-line
 * reason in err. http_free(NULL) is a no-op. */
struct http *http_new(const struct http_opts *o, const struct http_hooks *h, char *err,
		      size_t errlen);
void http_free(struct http *h);
/* Serves the loop once (blocks until something happens or a signal).
 * Returns 0, or -1 when the loop is over. */
int http_service(struct http *h);
/* The topic has a new message: its WebSockets are sent it when writable. */
void http_wake(struct http *h, void *topic);
/* Spare bytes a message needs before it (LWS_PRE). */
size_t http_headroom(void);
/* A timer on the loop that calls fn(ctx); freed with h. NULL on ENOMEM. */
struct http_timer *http_timer_new(struct http *h, void (*fn)(void *ctx), void *ctx);
/* Calls the timer's fn in delay_ns (replaces an earlier arming). */
void http_timer_arm(struct http_timer *t, int64_t delay_ns);

#endif
