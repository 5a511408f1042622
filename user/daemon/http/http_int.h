/* The transport's state, shared by its files only (http.c: context, routes,
 * timers, descriptors; wssession.c: the WebSocket sessions, which http.c
 * calls and which call nothing of http.c). */
#ifndef AGENTPERF_HTTP_INT_H
#define AGENTPERF_HTTP_INT_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* Client frames above this close the connection with 1009. */
#define WS_RX_MAX 4096
/* Client messages we look into (a ping is ~16 bytes); longer ones are ignored. */
#define WS_MSG_KEEP 256
#define CLOSE_INVALID_PROJECT 4000
#define HTTP_MAX_TIMERS 8
#define HTTP_MAX_WATCHES 8

struct http_timer {
	lws_sorted_usec_list_t sul;
	struct http *h;
	void (*fn)(void *ctx);
	void *ctx;
};

struct http_watch {
	void (*fn)(void *ctx);
	void *ctx;
};

struct ws_session {
	struct lws *wsi;
	void *topic; /* NULL until established with a valid, accepted name */
	struct ws_session *prev, *next; /* every established session */
	uint64_t sent_gen;
	int refuse_code; /* a refusal to send once writable: its close code */
	const char *refuse_reason;
	bool refuse_sent; /* the error message is out: the Close is next */
	bool pong_due;
	size_t rx_len;
	char rx[WS_MSG_KEEP + 1]; /* and a NUL: cJSON is never trusted to stop at a length */
	/* GET /metrics: the rendered body (after LWS_PRE), sent in chunks. */
	char *body;
	size_t body_len, body_off;
};

struct http {
	struct http_opts opts;
	const struct http_topics *topics;
	void *topics_ctx;
	http_metrics_fn metrics;
	void *metrics_ctx;
	struct lws_context *lws;
	int clients; /* open WebSocket sessions */
	struct ws_session *sessions;
	struct http_timer timers[HTTP_MAX_TIMERS];
	int n_timers;
	struct http_watch watches[HTTP_MAX_WATCHES];
	int n_watches;
};

/* A request header into buf (empty when absent or too long). */
static inline void http_header(struct lws *wsi, enum lws_token_indexes h, char *buf, int len)
{
	if (lws_hdr_total_length(wsi, h) <= 0 || lws_hdr_copy(wsi, buf, len, h) < 0)
		buf[0] = '\0';
}

/* A WebSocket session: established (returns what ESTABLISHED returns),
 * closed, writable, and a client frame received. */
int wssession_established(struct http *h, struct lws *wsi, struct ws_session *s);
void wssession_closed(struct http *h, struct ws_session *s);
int wssession_writeable(struct http *h, struct lws *wsi, struct ws_session *s);
int wssession_receive(struct lws *wsi, struct ws_session *s, const char *in, size_t len);

#endif
