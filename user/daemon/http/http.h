/* The transport subsystem's facade: agentperfd's one port and event loop
 * (libwebsockets): /healthz, /metrics, the perf_metrics WebSocket per
 * project, and the loop's timers and descriptors, which the modules that own
 * them register (as redis's aeCreateFileEvent). It knows nothing of runs:
 * the modules that own the WebSocket topics and /metrics register them. */
#ifndef AGENTPERF_HTTP_H
#define AGENTPERF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What /ws/projects/{name} serves: a topic per project name. */
struct http_topics {
	/* A WebSocket for the (valid) project name is open: the topic whose
	 * messages it gets, or NULL with a close code and reason. */
	void *(*open)(void *ctx, const char *name, int *close_code, const char **reason);
	void (*close)(void *ctx, void *topic);
	/* The topic's latest message (http_headroom() spare bytes before it)
	 * and its generation; NULL before the first. */
	const char *(*message)(void *ctx, void *topic, size_t *len, uint64_t *gen);
};

/* The /metrics body (after the headroom), malloc'd; NULL on ENOMEM. */
typedef char *(*http_metrics_fn)(void *ctx, int websocket_clients, size_t *len);

struct http_opts {
	const char *host; /* an IP address or localhost */
	int port;
	const char *token; /* NULL: none required */
	bool allow_remote;
	const char *const *allow_origin;
	size_t n_allow_origin;
	int max_clients;
	int verbose;
};

struct http;
struct http_timer;

/* Listens. NULL with a one-line reason in err. http_free(NULL) is a no-op. */
struct http *http_new(const struct http_opts *o, char *err, size_t errlen);
void http_free(struct http *h);
/* The WebSocket topics (t is kept, not copied) and the /metrics renderer,
 * each registered once by its owner before the loop is served; until then
 * a WebSocket is refused (1013) and /metrics is 503. */
void http_serve_topics(struct http *h, const struct http_topics *t, void *ctx);
void http_serve_metrics(struct http *h, http_metrics_fn fn, void *ctx);
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
/* Calls fn(ctx) on the loop whenever fd is readable, until h is freed. fd
 * stays the caller's (the loop holds a dup of it). Returns 0 or -errno
 * (-ENOSPC past HTTP_MAX_WATCHES). */
int http_watch_fd(struct http *h, int fd, void (*fn)(void *ctx), void *ctx);

#endif
