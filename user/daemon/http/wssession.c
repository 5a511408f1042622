/* The perf_metrics WebSocket sessions of the transport: open (with the
 * topic its owner gives), the latest message only, ping/pong, refusals. */
#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>

#include "http_int.h"
#include "names.h"
#include "wsrules.h"

int wssession_established(struct http *h, struct lws *wsi, struct ws_session *s)
{
	char path[512], name[64];

	memset(s, 0, sizeof(*s));
	s->wsi = wsi;
	h->clients++;
	s->next = h->sessions;
	if (h->sessions)
		h->sessions->prev = s;
	h->sessions = s;
	http_header(wsi, WSI_TOKEN_GET_URI, path, sizeof(path));
	if (wsrules_project_from_path(path, name, sizeof(name)) || !names_project_valid(name)) {
		s->refuse_code = CLOSE_INVALID_PROJECT;
		s->refuse_reason = "Invalid project name";
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (!h->topics) {
		s->refuse_code = 1013; /* try again later: not serving yet */
		s->refuse_reason = NULL;
	} else {
		s->topic = h->topics->open(h->topics_ctx, name, &s->refuse_code, &s->refuse_reason);
	}
	if (!s->topic && !s->refuse_reason) {
		lws_close_reason(wsi, (enum lws_close_status)s->refuse_code, NULL, 0);
		return -1;
	}
	/* The refusal, or the topic's latest message (a first watcher's is
	 * fresh: made while opening). */
	lws_callback_on_writable(wsi);
	return 0;
}

void wssession_closed(struct http *h, struct ws_session *s)
{
	h->clients--;
	if (s->prev)
		s->prev->next = s->next;
	else if (h->sessions == s)
		h->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	if (s->topic)
		h->topics->close(h->topics_ctx, s->topic);
	s->topic = NULL;
}

static int ws_send(struct lws *wsi, const char *text)
{
	uint8_t buf[LWS_PRE + 128];
	size_t n = strlen(text);

	memcpy(buf + LWS_PRE, text, n);
	return lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
}

/* The dashboard server's refusal: an error message, then the close code
 * with the same text as its reason. Returns -1 (close). */
static int ws_refuse(struct lws *wsi, struct ws_session *s)
{
	char msg[128];

	/* RFC 6455: nothing may follow the Close frame. The error message goes
	 * in one writable turn, the Close in the next. */
	if (!s->refuse_sent) {
		snprintf(msg, sizeof(msg), "{\"type\":\"error\",\"content\":\"%s\"}",
			 s->refuse_reason);
		s->refuse_sent = true;
		if (ws_send(wsi, msg))
			return -1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	lws_close_reason(wsi, (enum lws_close_status)s->refuse_code,
			 (unsigned char *)s->refuse_reason, strlen(s->refuse_reason));
	return -1;
}

int wssession_writeable(struct http *h, struct lws *wsi, struct ws_session *s)
{
	const char *msg = NULL;
	uint64_t gen = 0;
	size_t len = 0;

	if (s->refuse_code)
		return ws_refuse(wsi, s);
	if (s->topic)
		msg = h->topics->message(h->topics_ctx, s->topic, &len, &gen);
	if (s->pong_due) {
		s->pong_due = false;
		if (ws_send(wsi, "{\"type\":\"pong\"}"))
			return -1;
		if (msg && gen != s->sent_gen)
			lws_callback_on_writable(wsi);
		return 0;
	}
	/* Only ever the latest message: a slow reader skips, never queues. */
	if (msg && gen != s->sent_gen) {
		if (lws_write(wsi, (unsigned char *)msg, len, LWS_WRITE_TEXT) < (int)len)
			return -1;
		s->sent_gen = gen;
	}
	return 0;
}

int wssession_receive(struct lws *wsi, struct ws_session *s, const char *in, size_t len)
{
	cJSON *o;

	if (lws_is_first_fragment(wsi))
		s->rx_len = 0;
	if (s->rx_len + len + lws_remaining_packet_payload(wsi) > WS_RX_MAX) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
		return -1;
	}
	if (s->rx_len + len <= WS_MSG_KEEP)
		memcpy(s->rx + s->rx_len, in, len);
	s->rx_len += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) ||
	    s->rx_len > WS_MSG_KEEP)
		return 0;
	s->rx[s->rx_len] = '\0';
	o = cJSON_ParseWithLength(s->rx, s->rx_len);
	if (cJSON_IsObject(o) &&
	    !strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type")) ?: "",
		    "ping")) {
		s->pong_due = true;
		lws_callback_on_writable(wsi);
	}
	cJSON_Delete(o);
	return 0;
}
