/* agentperfd's one port (lws): /healthz, the perf_metrics WebSocket per
 * project, and the loop that also carries the control socket and timers. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "host.h"
#include "log.h"
#include "perfmsg.h"
#include "promtext.h"
#include "timefmt.h"
#include "wsrules.h"

/* Client frames above this close the connection with 1009. */
#define WS_RX_MAX 4096
/* Client messages we look into (a ping is ~16 bytes); longer ones are ignored. */
#define WS_MSG_KEEP 256
#define CLOSE_INVALID_PROJECT 4000
#define CLOSE_PROJECT_NOT_FOUND 4004

struct ws_session {
	struct lws *wsi;
	struct project *project; /* NULL until established with a valid name */
	struct ws_session *prev, *next; /* the project's subscribers */
	uint64_t sent_gen;
	bool invalid_name;
	bool not_found; /* a registry is configured and does not hold the name */
	bool pong_due;
	size_t rx_len;
	char rx[WS_MSG_KEEP + 1]; /* and a NUL: cJSON is never trusted to stop at a length */
	/* GET /metrics: the rendered body (after LWS_PRE), sent in chunks. */
	char *body;
	size_t body_len, body_off;
};

/* --- snapshots ------------------------------------------------------------ */

static bool live_status(const struct project *p)
{
	enum run_status st = runs_status(&p->run);

	return p->has_run && !p->run.ended && !p->run.detached &&
	       (st == RUN_RUNNING || st == RUN_PAUSED);
}

/* The GPU figures of p's latest run: its processes' DRM clients, read now
 * unless the latest reading is younger than max_age_ns. Returns whether GPU
 * percent is known, in *percent. */
bool server_gpu(struct daemon *d, struct project *p, int64_t now_mono, int64_t max_age_ns,
		double *percent, bool *have_vram, uint64_t *vram_bytes)
{
	const struct run *r = &p->run;
	bool open = p->has_run && !r->ended && !r->detached;
	struct gpu_result *g = &p->gpu_res;
	pid_t pids[4096];
	size_t n;

	*percent = 0;
	*have_vram = false;
	*vram_bytes = 0;
	if (!d->gpu_host.available)
		return false;
	if (!open) {
		/* Nothing of the run is alive: no GPU use. */
		*have_vram = true;
		return true;
	}
	if (!p->gpu_res_valid || now_mono - p->gpu_res_mono >= max_age_ns) {
		if (!p->gpu && !(p->gpu = gpuscan_new()))
			return false;
		n = tracker_live_procs(d->tracker, r->slot, pids, sizeof(pids) / sizeof(pids[0]));
		gpuscan_tick(p->gpu, d->cfg.proc_root, pids, n, now_mono, g);
		log_debug("gpu sampling of %s: %zu processes, %d clients, %.3f ms", p->name, n,
			  g->clients, (double)(clock_mono_ns() - now_mono) / 1e6);
		p->gpu_res_valid = true;
		p->gpu_res_mono = now_mono;
	}
	/* A run with no DRM client uses no GPU: zeros, known. With clients,
	 * percent waits for a second sample; an unreadable fdinfo is unknown. */
	*percent = g->percent;
	*have_vram = g->have_vram || (!g->clients && !g->unknown);
	*vram_bytes = g->vram_bytes;
	return g->have_percent || (!g->clients && !g->unknown);
}

static void gpu_view(struct daemon *d, struct project *p, int64_t now_mono,
		     struct perfmsg_view *v)
{
	uint64_t vram;

	v->gpu_available = d->gpu_host.available;
	v->gpu_have_vram_total = d->gpu_host.have_vram_total;
	v->gpu_vram_total_gb = (double)d->gpu_host.vram_total_bytes / (1024.0 * 1024 * 1024);
	v->gpu_have_percent =
		/* A message's figures are of its own moment: always read afresh. */
		server_gpu(d, p, now_mono, 0, &v->gpu_percent, &v->gpu_have_vram_used, &vram);
	v->gpu_vram_used_gb = (double)vram / (1024.0 * 1024 * 1024);
}

/* Builds the project's next message from what was just sampled. */
static void build_message(struct daemon *d, struct project *p, const struct host_mem *mem,
			  const struct host_cpu *hcpu, int64_t now_mono, int64_t now_real)
{
	const struct run *r = &p->run;
	bool open = p->has_run && !r->ended && !r->detached;
	struct perfmsg_cpu_sample cur = {
		.run_cpu_ns = r->last.cpu_ns + (open ? r->last.inflight_ns : 0),
		.mono_ns = now_mono,
		.host_busy = hcpu ? hcpu->busy : 0,
		.host_total = hcpu ? hcpu->total : 0,
	};
	struct perfmsg_cpu_sample since_start = { 0 };
	const struct perfmsg_cpu_sample *prev = NULL;
	struct perfmsg_view v = { .project = p->name, .now_ms = now_real / 1000000 };
	char started[TIMEFMT_ISO_LEN];
	double gib = 1024.0 * 1024 * 1024;
	size_t len;
	char *msg;

	if (p->have_prev) {
		prev = &p->prev;
		/* Counters are read before the in-flight pass: never show a dip. */
		if (cur.run_cpu_ns < prev->run_cpu_ns)
			cur.run_cpu_ns = prev->run_cpu_ns;
	} else if (open) {
		/* No baseline yet (first watcher): the run's average since it
		 * started, and the host's since boot. */
		since_start.mono_ns = now_mono - (now_real - r->started_ns);
		prev = &since_start;
	} else {
		prev = &since_start;
		since_start.mono_ns = now_mono; /* no interval: no run CPU */
	}
	perfmsg_cpu(prev, &cur, d->ncpus, &v.cpu_percent, &v.cpu_cores, &v.host_percent);
	if (!p->have_prev && hcpu && hcpu->total)
		v.host_percent = 100.0 * (double)hcpu->busy / (double)hcpu->total;
	p->prev = cur;
	p->have_prev = true;

	v.has_run = p->has_run;
	v.status = runs_status_name(runs_status(r));
	v.pid = r->pid;
	v.started_at = timefmt_iso(r->started_ns / 1000000000, started);
	v.run_id = r->run_id;
	v.tasks = open ? runs_tasks_alive(r) : 0;
	v.run_seconds = (double)cur.run_cpu_ns / 1e9;
	v.run_rss_gb = open ? (double)r->last.rss_bytes / gib : 0;
	v.tokens_available = p->tokens_available;
	v.tokens_current = p->tokens_current;
	v.tokens_total = p->tokens_total;
	if (mem && mem->total_bytes) {
		v.mem_total_gb = (double)mem->total_bytes / gib;
		v.mem_used_gb = (double)(mem->total_bytes - mem->available_bytes) / gib;
		v.mem_percent = 100.0 * (double)(mem->total_bytes - mem->available_bytes) /
				(double)mem->total_bytes;
	}
	gpu_view(d, p, now_mono, &v);
	msg = perfmsg_render(&v, LWS_PRE, &len);
	if (!msg) {
		log_warn("no memory for %s's perf_metrics", p->name);
		return;
	}
	projects_set_message(p, msg, len);
	for (struct ws_session *s = p->sessions; s; s = s->next)
		lws_callback_on_writable(s->wsi);
}

static void on_send_sul(lws_sorted_usec_list_t *sul);

/* Snapshots every watched project that is due, and `only` whether due or not. */
static void snapshot_due(struct daemon *d, struct project *only)
{
	int64_t now = clock_mono_ns(), now_real = clock_real_ns(), next = INT64_MAX;
	bool sampled = false, rated = false, have_mem = false, have_cpu = false;
	struct host_mem mem;
	struct host_cpu hcpu;

	for (int i = 0; i < PROJECTS_MAX; i++) {
		struct project *p = &d->projects.p[i];
		struct run *r;

		if (!p->used || !p->subscribers)
			continue;
		if (p != only && p->next_due_ns > now) {
			if (p->next_due_ns < next)
				next = p->next_due_ns;
			continue;
		}
		if (!sampled) {
			/* One pass over the tasks and one read of /proc for all; the
			 * tick's rates come from it too. */
			rated = daemon_sample_all(d, now_real, now);
			have_mem = !host_read_meminfo(d->cfg.proc_root, &mem);
			have_cpu = !host_read_stat(d->cfg.proc_root, &hcpu);
			sampled = true;
		}
		r = runs_find_project(&d->runs, p->name);
		if (r) {
			p->run = *r;
			p->has_run = true;
		}
		build_message(d, p, have_mem ? &mem : NULL, have_cpu ? &hcpu : NULL, now, now_real);
		p->next_due_ns = now + (int64_t)(live_status(p) ? d->cfg.interval_running_ms
								 : d->cfg.interval_idle_ms) *
						 1000000;
		if (p->next_due_ns < next)
			next = p->next_due_ns;
	}
	if (rated)
		daemon_gpu_all(d, now); /* the snapshots' GPU readings, reused */
	if (next != INT64_MAX) {
		int64_t wait_us = (next - clock_mono_ns()) / 1000;

		lws_sul_schedule(d->lws, 0, &d->send_sul, on_send_sul,
				 wait_us > 1000 ? wait_us : 1000);
	}
}

int64_t server_next_snapshot_ns(const struct daemon *d)
{
	int64_t next = INT64_MAX;

	for (int i = 0; i < PROJECTS_MAX; i++)
		if (d->projects.p[i].used && d->projects.p[i].subscribers &&
		    d->projects.p[i].next_due_ns < next)
			next = d->projects.p[i].next_due_ns;
	return next;
}

static void on_send_sul(lws_sorted_usec_list_t *sul)
{
	struct daemon *d = lws_container_of(sul, struct daemon, send_sul);

	snapshot_due(d, NULL);
}

void server_project_changed(struct daemon *d, struct project *p)
{
	if (p->subscribers)
		snapshot_due(d, p);
}

static void on_tick_sul(lws_sorted_usec_list_t *sul)
{
	struct daemon *d = lws_container_of(sul, struct daemon, tick_sul);

	daemon_tick(d);
}

void server_schedule_tick(struct daemon *d, int ms)
{
	lws_sul_schedule(d->lws, 0, &d->tick_sul, on_tick_sul, (lws_usec_t)ms * 1000);
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

static void header(struct lws *wsi, enum lws_token_indexes h, char *buf, int len)
{
	if (lws_hdr_total_length(wsi, h) <= 0 || lws_hdr_copy(wsi, buf, len, h) < 0)
		buf[0] = '\0';
}

/* With a token configured: whether the request carries it (header or ?token=). */
static bool token_ok(struct daemon *d, struct lws *wsi)
{
	char auth[512], qtoken[512];
	/* Points into qtoken, past "token=". */
	const char *q;

	if (!d->cfg.token)
		return true;
	q = lws_get_urlarg_by_name(wsi, "token=", qtoken, sizeof(qtoken));
	header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, sizeof(auth));
	return wsrules_token_ok(d->cfg.token, auth[0] ? auth : NULL, q);
}

/* --- /metrics ------------------------------------------------------------- */

#define METRICS_CHUNK 16384

void server_run_finished(struct daemon *d, const struct run *r)
{
	struct promtext_run f = { .cpu_ns = r->exported_cpu_ns > r->last.cpu_ns
						    ? r->exported_cpu_ns
						    : r->last.cpu_ns,
				  .ended_mono_ns = clock_mono_ns() };

	snprintf(f.project, sizeof(f.project), "%s", r->project);
	snprintf(f.run_id, sizeof(f.run_id), "%s", r->run_id);
	promtext_finished_add(&d->finished, &f);
}

/* The exposition of every live and recently finished run, rendered now. */
static char *render_metrics(struct daemon *d, size_t *len)
{
	struct promtext_run *live = calloc(TRACKER_MAX_RUNS, sizeof(*live));
	struct promtext_view v = { .version = AGENTPERF_VERSION,
				   .bpf_variant = d->tracker ? tracker_variant(d->tracker) : "none",
				   .live = live, .finished = &d->finished,
				   .now_mono_ns = clock_mono_ns(), .websocket_clients = d->clients };
	struct host_mem mem;
	char *out;

	if (!live)
		return NULL;
	for (int i = 0; i < TRACKER_MAX_RUNS; i++) {
		struct run *r = &d->runs.run[i];
		struct promtext_run *p = &live[v.n_live];
		uint64_t cpu;

		if (!r->used || r->ended || r->detached)
			continue;
		/* A counter never goes back: in-flight time read late is held. */
		cpu = r->last.cpu_ns + r->last.inflight_ns;
		if (cpu > r->exported_cpu_ns)
			r->exported_cpu_ns = cpu;
		snprintf(p->project, sizeof(p->project), "%s", r->project);
		snprintf(p->run_id, sizeof(p->run_id), "%s", r->run_id);
		p->cpu_ns = r->exported_cpu_ns;
		p->tasks = runs_tasks_alive(r);
		p->rss_bytes = r->last.rss_bytes;
		p->have_gpu = r->have_gpu;
		p->gpu_ratio = r->gpu_percent / 100;
		v.n_live++;
	}
	if (!host_read_meminfo(d->cfg.proc_root, &mem) && mem.total_bytes) {
		v.have_mem = true;
		v.mem_total_bytes = mem.total_bytes;
		v.mem_used_bytes = mem.total_bytes - mem.available_bytes;
	}
	out = promtext_render(&v, LWS_PRE, len);
	free(live);
	return out;
}

static int serve_metrics(struct daemon *d, struct lws *wsi, struct ws_session *s)
{
	uint8_t buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);

	if (!token_ok(d, wsi)) {
		log_info("refused /metrics without a valid token"); /* never the token */
		return http_reply(wsi, HTTP_STATUS_UNAUTHORIZED, "unauthorized\n");
	}
	free(s->body);
	s->body = render_metrics(d, &s->body_len);
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
static int confirm_upgrade(struct daemon *d, struct lws *wsi)
{
	char path[512], name[64], origin[512], host[256];
	bool has_origin = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;

	header(wsi, WSI_TOKEN_GET_URI, path, sizeof(path));
	header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	header(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	if (wsrules_project_from_path(path, name, sizeof(name)))
		return refuse_upgrade(wsi, 404, "Not Found");
	if (!wsrules_origin_allowed(has_origin ? origin : NULL, host, d->cfg.allow_remote,
				    d->cfg.allow_origin, d->cfg.n_allow_origin)) {
		log_info("refused a WebSocket from Origin %s", origin);
		return refuse_upgrade(wsi, 403, "Forbidden");
	}
	if (!token_ok(d, wsi)) {
		log_info("refused a WebSocket without a valid token"); /* never the token */
		return refuse_upgrade(wsi, 401, "Unauthorized");
	}
	if (d->clients >= d->cfg.max_clients)
		return refuse_upgrade(wsi, 503, "Service Unavailable");
	return 0;
}

static int ws_established(struct daemon *d, struct lws *wsi, struct ws_session *s)
{
	char path[512], name[64];
	struct project *p;
	bool first;

	memset(s, 0, sizeof(*s));
	s->wsi = wsi;
	d->clients++;
	header(wsi, WSI_TOKEN_GET_URI, path, sizeof(path));
	if (wsrules_project_from_path(path, name, sizeof(name)) || !names_project_valid(name)) {
		s->invalid_name = true;
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (d->registry && !registry_has(d->registry, name)) {
		/* Perhaps added a moment ago: read the registries before refusing,
		 * at most four times a second however many clients ask. */
		int64_t now = clock_mono_ns();

		if (now - d->last_registry_force >= 250 * 1000000LL) {
			d->last_registry_force = now;
			registry_refresh(d->registry, now, true);
		}
		if (!registry_has(d->registry, name)) {
			s->not_found = true;
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	p = projects_add(&d->projects, name);
	if (!p) {
		lws_close_reason(wsi, (enum lws_close_status)1013 /* try again later */, NULL, 0);
		return -1;
	}
	first = p->subscribers == 0;
	s->project = p;
	s->next = p->sessions;
	if (p->sessions)
		p->sessions->prev = s;
	p->sessions = s;
	p->subscribers++;
	/* A snapshot at once: fresh for a first watcher, else the latest. */
	if (first || !p->msg)
		snapshot_due(d, p);
	else
		lws_callback_on_writable(wsi);
	return 0;
}

static void ws_closed(struct daemon *d, struct ws_session *s)
{
	struct project *p = s->project;

	d->clients--;
	if (!p)
		return;
	if (s->prev)
		s->prev->next = s->next;
	else
		p->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	p->subscribers--;
	s->project = NULL;
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
static int ws_refuse(struct lws *wsi, int code, const char *content)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "{\"type\":\"error\",\"content\":\"%s\"}", content);
	ws_send(wsi, msg);
	lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)content,
			 strlen(content));
	return -1;
}

static int ws_writeable(struct lws *wsi, struct ws_session *s)
{
	struct project *p = s->project;

	if (s->invalid_name)
		return ws_refuse(wsi, CLOSE_INVALID_PROJECT, "Invalid project name");
	if (s->not_found)
		return ws_refuse(wsi, CLOSE_PROJECT_NOT_FOUND, "Project not found in registry");
	if (s->pong_due) {
		s->pong_due = false;
		if (ws_send(wsi, "{\"type\":\"pong\"}"))
			return -1;
		if (p && p->gen != s->sent_gen)
			lws_callback_on_writable(wsi);
		return 0;
	}
	/* Only ever the latest message: a slow reader skips, never queues. */
	if (p && p->msg && p->gen != s->sent_gen) {
		if (lws_write(wsi, (unsigned char *)p->msg + LWS_PRE, p->msg_len, LWS_WRITE_TEXT) <
		    (int)p->msg_len)
			return -1;
		s->sent_gen = p->gen;
	}
	return 0;
}

static int ws_receive(struct lws *wsi, struct ws_session *s, const char *in, size_t len)
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

static int callback_agentperf(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			      void *in, size_t len)
{
	struct daemon *d = lws_context_user(lws_get_context(wsi));
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
		if (!strcmp((const char *)in, "/healthz"))
			return http_reply(wsi, HTTP_STATUS_OK, d->tracker ? "ok\n" : "no tracker\n");
		if (!strcmp((const char *)in, "/metrics"))
			return serve_metrics(d, wsi, s);
		return http_reply(wsi, HTTP_STATUS_NOT_FOUND, "not found\n");
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return metrics_writeable(wsi, s);
	case LWS_CALLBACK_CLOSED_HTTP:
		free(s->body);
		s->body = NULL;
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(d, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return ws_established(d, wsi, s);
	case LWS_CALLBACK_CLOSED:
		ws_closed(d, s);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ws_writeable(wsi, s);
	case LWS_CALLBACK_RECEIVE:
		return ws_receive(wsi, s, in, len);
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static int callback_control(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			    void *in, size_t len)
{
	struct daemon *d = lws_context_user(lws_get_context(wsi));

	if (reason == LWS_CALLBACK_RAW_RX_FILE)
		control_service(&d->control, daemon_on_control_line, d);
	return 0;
}

/* A lock directory changed: look at the locks now, not at the next tick. */
static int callback_registry(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			     void *in, size_t len)
{
	struct daemon *d = lws_context_user(lws_get_context(wsi));

	if (reason == LWS_CALLBACK_RAW_RX_FILE && d->registry && registry_drain(d->registry))
		daemon_look_at_locks(d);
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "agentperf", callback_agentperf, sizeof(struct ws_session), WS_RX_MAX, 0, NULL, 0 },
	{ "agentperf-control", callback_control, 0, 0, 0, NULL, 0 },
	{ "agentperf-registry", callback_registry, 0, 0, 0, NULL, 0 },
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

/* Binds once ourselves so that a taken port gets a clear line, not lws's. */
static int probe_bind(const char *host, int port, char *err, size_t errlen)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	bool v6 = inet_pton(AF_INET6, host, &a6.sin6_addr) == 1;
	int one = 1, fd, e = 0;

	if (!v6 && inet_pton(AF_INET, host, &a4.sin_addr) != 1) {
		snprintf(err, errlen, "--listen: %s is not an IP address", host);
		return -EINVAL;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
		: bind(fd, (struct sockaddr *)&a4, sizeof(a4))))
		e = errno;
	if (fd >= 0)
		close(fd);
	if (e) {
		snprintf(err, errlen, "cannot listen on %s%s%s:%d: %s%s", v6 ? "[" : "", host,
			 v6 ? "]" : "", port, strerror(e),
			 e == EADDRINUSE ? " (another agentperfd? choose one with --listen)" : "");
		return -e;
	}
	return 0;
}

int server_check_listen(const struct daemon *d, char *err, size_t errlen)
{
	const char *host = d->cfg.listen_host;

	return probe_bind(strcmp(host, "localhost") ? host : "127.0.0.1", d->cfg.listen_port, err,
			  errlen);
}

int server_start(struct daemon *d, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct in6_addr a6;
	const char *host = d->cfg.listen_host;
	lws_sock_file_fd_type fd;
	struct lws *cw;

	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	lws_set_log_level(LLL_ERR | LLL_WARN | (d->cfg.verbose >= 2 ? LLL_NOTICE : 0),
			  lws_log_bridge);
	memset(&info, 0, sizeof(info));
	info.port = d->cfg.listen_port;
	info.iface = host;
	info.protocols = protocols;
	info.user = d;
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
	d->lws = lws_create_context(&info);
	if (!d->lws) {
		snprintf(err, errlen, "cannot start the HTTP/WebSocket server on %s:%d", host,
			 d->cfg.listen_port);
		return -EIO;
	}
	/* The control socket rides on the same loop; lws owns (and closes) the dup. */
	fd.filefd = dup(control_fd(&d->control));
	cw = fd.filefd >= 0 ? lws_adopt_descriptor_vhost(lws_get_vhost_by_name(d->lws, "default"),
							 LWS_ADOPT_RAW_FILE_DESC, fd,
							 "agentperf-control", NULL)
			    : NULL;
	if (!cw) {
		snprintf(err, errlen, "cannot put the control socket on the event loop");
		server_stop(d);
		return -EIO;
	}
	if (d->registry && registry_fd(d->registry) >= 0) {
		fd.filefd = dup(registry_fd(d->registry));
		if (fd.filefd < 0 ||
		    !lws_adopt_descriptor_vhost(lws_get_vhost_by_name(d->lws, "default"),
						LWS_ADOPT_RAW_FILE_DESC, fd, "agentperf-registry", NULL)) {
			snprintf(err, errlen, "cannot put the registry watch on the event loop");
			server_stop(d);
			return -EIO;
		}
	}
	server_schedule_tick(d, 1000);
	return 0;
}

void server_stop(struct daemon *d)
{
	if (d->lws)
		lws_context_destroy(d->lws);
	d->lws = NULL;
}
