/* agentperfd's one port (lws): /healthz, /metrics, the perf_metrics WebSocket
 * per project, and the loop that also carries timers and the descriptors
 * other modules register. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_int.h"
#include "log.h"
#include "names.h"
#include "wsrules.h"

size_t http_headroom(void)
{
	return LWS_PRE;
}

static void on_timer(lws_sorted_usec_list_t *sul)
{
	struct http_timer *t = lws_container_of(sul, struct http_timer, sul);

	t->fn(t->ctx);
}

struct http_timer *http_timer_new(struct http *h, void (*fn)(void *ctx), void *ctx)
{
	struct http_timer *t;

	if (h->n_timers == HTTP_MAX_TIMERS) {
		errno = ENOMEM;
		return NULL;
	}
	t = &h->timers[h->n_timers++];
	t->h = h;
	t->fn = fn;
	t->ctx = ctx;
	return t;
}

void http_timer_arm(struct http_timer *t, int64_t delay_ns)
{
	lws_usec_t us = delay_ns > 1000000 ? (lws_usec_t)(delay_ns / 1000) : 1000;

	lws_sul_schedule(t->h->lws, 0, &t->sul, on_timer, us);
}

void http_wake(struct http *h, void *topic)
{
	for (struct ws_session *s = h->sessions; s; s = s->next)
		if (s->topic == topic)
			lws_callback_on_writable(s->wsi);
}

/* --- HTTP and WebSocket --------------------------------------------------- */

static int http_reply(struct lws *wsi, unsigned int status, const char *body)
{
	uint8_t buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
	size_t n = strlen(body);

	if (lws_add_http_common_headers(wsi, status, "text/plain", n, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	memcpy(start, body, n);
	if (lws_write(wsi, start, n, LWS_WRITE_HTTP_FINAL) != (int)n)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* With a token configured: whether the request carries it (header or ?token=). */
static bool token_ok(struct http *h, struct lws *wsi)
{
	char auth[512], qtoken[512];
	/* Points into qtoken, past "token=". */
	const char *q;

	if (!h->opts.token)
		return true;
	q = lws_get_urlarg_by_name(wsi, "token=", qtoken, sizeof(qtoken));
	http_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, sizeof(auth));
	return wsrules_token_ok(h->opts.token, auth[0] ? auth : NULL, q);
}

/* Without --allow-remote, HTTP requests must name a loopback Host. */
static bool host_ok(struct http *h, struct lws *wsi)
{
	char host[256];

	if (h->opts.allow_remote || lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0)
		return true;
	http_header(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	return wsrules_host_is_loopback(host);
}

/* --- /metrics ------------------------------------------------------------- */

#define METRICS_CHUNK 16384

static int serve_metrics(struct http *h, struct lws *wsi, struct ws_session *s)
{
	uint8_t buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);

	if (!token_ok(h, wsi)) {
		log_info("refused /metrics without a valid token"); /* never the token */
		return http_reply(wsi, HTTP_STATUS_UNAUTHORIZED, "unauthorized\n");
	}
	free(s->body);
	if (!h->metrics)
		return http_reply(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "starting\n");
	s->body = h->metrics(h->metrics_ctx, h->clients, &s->body_len);
	s->body_off = 0;
	if (!s->body)
		return http_reply(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
	if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK,
					"text/plain; version=0.0.4; charset=utf-8", s->body_len, &p,
					end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

/* The next chunk of /metrics; the transaction ends with the last. */
static int metrics_writeable(struct lws *wsi, struct ws_session *s)
{
	uint8_t buf[LWS_PRE + METRICS_CHUNK];
	size_t n = s->body_len - s->body_off;
	bool last = n <= METRICS_CHUNK;

	if (!s->body)
		return 0;
	if (!last)
		n = METRICS_CHUNK;
	memcpy(buf + LWS_PRE, s->body + LWS_PRE + s->body_off, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
	    (int)n)
		return -1;
	s->body_off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	free(s->body);
	s->body = NULL;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Refuses an upgrade with a plain HTTP/1.1 response. lws_return_http_status
 * would answer "HTTP/1.0" here, before lws has noted the request's version,
 * and strict clients reject that. Returns what CONFIRM_UPGRADE returns. */
static int refuse_upgrade(struct lws *wsi, int status, const char *text)
{
	uint8_t buf[LWS_PRE + 256], *start = buf + LWS_PRE;
	int n = snprintf((char *)start, sizeof(buf) - LWS_PRE,
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s\n",
			 status, text, strlen(text) + 1, text);

	if (lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP) != n)
		return -1;
	return 1;
}

/* Before the upgrade: 404 for other paths, 403 for a foreign Origin, 401
 * without the token, 503 when full. Returns what CONFIRM_UPGRADE returns. */
static int confirm_upgrade(struct http *h, struct lws *wsi)
{
	char path[512], name[64], origin[512], host[256];
	bool has_origin = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;

	http_header(wsi, WSI_TOKEN_GET_URI, path, sizeof(path));
	http_header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	http_header(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	if (wsrules_project_from_path(path, name, sizeof(name)))
		return refuse_upgrade(wsi, 404, "Not Found");
	if (!wsrules_origin_allowed(has_origin ? origin : NULL, host, h->opts.allow_remote,
				    h->opts.allow_origin, h->opts.n_allow_origin)) {
		names_sanitize(origin); /* a log line is no place for a peer's escapes */
		log_info("refused a WebSocket from Origin %s", origin);
		return refuse_upgrade(wsi, 403, "Forbidden");
	}
	if (!token_ok(h, wsi)) {
		log_info("refused a WebSocket without a valid token"); /* never the token */
		return refuse_upgrade(wsi, 401, "Unauthorized");
	}
	if (h->clients >= h->opts.max_clients)
		return refuse_upgrade(wsi, 503, "Service Unavailable");
	return 0;
}

static int callback_agentperf(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			      void *in, size_t len)
{
	struct http *h = lws_context_user(lws_get_context(wsi));
	struct ws_session *s = user;

	/* lws binds per-session data only once a request line has been read:
	 * a connection that closes before (nothing sent, junk, a timeout)
	 * reaches CLOSED_HTTP with user NULL. Every session callback needs it. */
	if (!s && (reason == LWS_CALLBACK_CLOSED_HTTP || reason == LWS_CALLBACK_CLOSED))
		return 0;
	if (!s && (reason == LWS_CALLBACK_HTTP || reason == LWS_CALLBACK_HTTP_WRITEABLE ||
		   reason == LWS_CALLBACK_ESTABLISHED || reason == LWS_CALLBACK_SERVER_WRITEABLE ||
		   reason == LWS_CALLBACK_RECEIVE))
		return -1;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (!host_ok(h, wsi)) {
			/* DNS rebinding: a page whose name now resolves to this
			 * loopback port still sends its own name as Host. */
			log_info("refused an HTTP request for a non-loopback Host");
			return http_reply(wsi, HTTP_STATUS_FORBIDDEN, "forbidden\n");
		}
		/* The loop runs only with the BPF programs loaded. */
		if (!strcmp((const char *)in, "/healthz"))
			return http_reply(wsi, HTTP_STATUS_OK, "ok\n");
		if (!strcmp((const char *)in, "/metrics"))
			return serve_metrics(h, wsi, s);
		return http_reply(wsi, HTTP_STATUS_NOT_FOUND, "not found\n");
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return metrics_writeable(wsi, s);
	case LWS_CALLBACK_CLOSED_HTTP:
		free(s->body);
		s->body = NULL;
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(h, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return wssession_established(h, wsi, s);
	case LWS_CALLBACK_CLOSED:
		wssession_closed(h, s);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return wssession_writeable(h, wsi, s);
	case LWS_CALLBACK_RECEIVE:
		return wssession_receive(wsi, s, in, len);
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* A watched descriptor is readable: its owner's fn. */
static int callback_fd(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	struct http_watch *w = lws_get_opaque_user_data(wsi);

	if (reason == LWS_CALLBACK_RAW_RX_FILE && w)
		w->fn(w->ctx);
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "agentperf", callback_agentperf, sizeof(struct ws_session), WS_RX_MAX, 0, NULL, 0 },
	{ "agentperf-fd", callback_fd, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Dead peers: pinged after 10 s of silence (when dashboards call data stale),
 * dropped after 20 s without an answer. */
static const lws_retry_bo_t retry = {
	.secs_since_valid_ping = 10,
	.secs_since_valid_hangup = 20,
};

static void lws_log_bridge(int level, const char *line)
{
	size_t n = strlen(line);

	log_msg(level == LLL_ERR ? LOG_ERR : level == LLL_WARN ? LOG_WARNING : LOG_DEBUG,
		"lws: %.*s", (int)(n && line[n - 1] == '\n' ? n - 1 : n), line);
}

int http_watch_fd(struct http *h, int fd, void (*fn)(void *ctx), void *ctx)
{
	/* A dup, which lws owns and closes. */
	lws_sock_file_fd_type f = { .filefd = -1 };
	struct http_watch *w;
	struct lws *wsi;

	if (h->n_watches == HTTP_MAX_WATCHES)
		return -ENOSPC;
	if ((f.filefd = dup(fd)) < 0)
		return -errno;
	w = &h->watches[h->n_watches];
	*w = (struct http_watch){ .fn = fn, .ctx = ctx };
	wsi = lws_adopt_descriptor_vhost(lws_get_vhost_by_name(h->lws, "default"),
					 LWS_ADOPT_RAW_FILE_DESC, f, "agentperf-fd", NULL);
	if (!wsi) {
		close(f.filefd);
		return -EIO;
	}
	lws_set_opaque_user_data(wsi, w);
	h->n_watches++;
	return 0;
}

void http_serve_topics(struct http *h, const struct http_topics *t, void *ctx)
{
	h->topics = t;
	h->topics_ctx = ctx;
}

void http_serve_metrics(struct http *h, http_metrics_fn fn, void *ctx)
{
	h->metrics = fn;
	h->metrics_ctx = ctx;
}

struct http *http_new(const struct http_opts *o, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct in6_addr a6;
	const char *host = strcmp(o->host, "localhost") ? o->host : "127.0.0.1";
	struct http *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->opts = *o;
	lws_set_log_level(LLL_ERR | LLL_WARN | (o->verbose >= 2 ? LLL_NOTICE : 0), lws_log_bridge);
	memset(&info, 0, sizeof(info));
	info.port = o->port;
	info.iface = host;
	info.protocols = protocols;
	info.user = h;
	info.timeout_secs = 10;
	info.retry_and_idle_policy = &retry;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	/* lws given an IPv4 address still binds every interface over IPv6
	 * unless IPv6 is off for the vhost; an IPv6 one must stay v6-only. */
	if (inet_pton(AF_INET6, host, &a6) == 1)
		info.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY |
				LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
	else
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	h->lws = lws_create_context(&info);
	if (!h->lws) {
		snprintf(err, errlen, "cannot start the HTTP/WebSocket server on %s:%d", host,
			 o->port);
		free(h);
		return NULL;
	}
	return h;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	if (h->lws)
		lws_context_destroy(h->lws);
	free(h);
}

int http_service(struct http *h)
{
	return lws_service(h->lws, 0) < 0 ? -1 : 0;
}
