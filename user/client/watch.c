/* `agentperf watch`: a WebSocket client printing each perf_metrics as one line. */
#include <libwebsockets.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "watch.h"
#include "names.h"

#define WATCH_MSG_MAX (64 * 1024)

struct watch {
	const char *token;
	char *buf; /* a message being reassembled from fragments */
	size_t len;
	int status; /* exit status once done */
	bool done;
	char why[256];
};

static volatile sig_atomic_t watch_stop;

static void on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static int callback_watch(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			  size_t len)
{
	struct watch *w = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (w->token) {
			unsigned char **p = in, *end = *p + len;
			char v[512];

			snprintf(v, sizeof(v), "Bearer %s", w->token);
			if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
							 (unsigned char *)v, (int)strlen(v), p, end))
				return -1;
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(w->why, sizeof(w->why), "cannot watch: %s",
			 in ? (const char *)in : "connection failed");
		w->status = 1;
		w->done = true;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (w->len + len > WATCH_MSG_MAX) {
			snprintf(w->why, sizeof(w->why), "message over %d bytes", WATCH_MSG_MAX);
			w->status = 1;
			w->done = true;
			return -1;
		}
		memcpy(w->buf + w->len, in, len);
		w->len += len;
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			fwrite(w->buf, 1, w->len, stdout);
			fputc('\n', stdout);
			fflush(stdout);
			w->len = 0;
		}
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2) {
			const unsigned char *b = in;

			snprintf(w->why, sizeof(w->why), "the server closed the stream (%d%s%.*s)",
				 b[0] << 8 | b[1], len > 2 ? ": " : "", (int)len - 2,
				 (const char *)in + 2);
			w->status = 1;
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!w->why[0])
			snprintf(w->why, sizeof(w->why), "the server closed the stream");
		w->status = w->status ? w->status : 1;
		w->done = true;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols watch_protocols[] = {
	{ "agentperf-watch", callback_watch, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int watch_run(const char *server, const char *project, const char *token)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	struct watch w = { .token = token };
	struct lws_context *ctx;
	char host[256], path[128];
	int port;

	if (addr_parse_listen(server, host, sizeof(host), &port)) {
		fprintf(stderr, "agentperf: --server wants HOST:PORT or [IPV6]:PORT, not \"%s\"\n",
			server);
		return 2;
	}
	w.buf = malloc(WATCH_MSG_MAX);
	if (!w.buf)
		return 1;
	lws_set_log_level(0, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = watch_protocols;
	info.user = &w;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	ctx = lws_create_context(&info);
	if (!ctx) {
		free(w.buf);
		fprintf(stderr, "agentperf: cannot start the WebSocket client\n");
		return 1;
	}
	snprintf(path, sizeof(path), NAMES_WS_PREFIX "%s", project);
	memset(&ci, 0, sizeof(ci));
	ci.context = ctx;
	ci.address = host;
	ci.port = port;
	ci.path = path;
	ci.host = host;
	ci.protocol = NULL; /* the server's default protocol */
	ci.local_protocol_name = "agentperf-watch";
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!lws_client_connect_via_info(&ci)) {
		snprintf(w.why, sizeof(w.why), "cannot connect to %s", server);
		w.status = 1;
		w.done = true;
	}
	while (!w.done && !watch_stop && lws_service(ctx, 0) >= 0)
		;
	lws_context_destroy(ctx);
	free(w.buf);
	if (watch_stop)
		return 0;
	fprintf(stderr, "agentperf: %s\n", w.why);
	return w.status;
}
