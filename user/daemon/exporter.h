/* The Prometheus exporter: /metrics as of now, live runs and recently
 * finished ones, with counters that never go back. */
#ifndef AGENTPERF_EXPORTER_H
#define AGENTPERF_EXPORTER_H

#include <stddef.h>

#include "promtext.h"
#include "runs.h"
#include "sampler.h"

/* At most this many BPF programs have their cost exported. */
#define EXPORTER_MAX_PROGS 32

struct exporter_opts {
	const char *version;
	const char *bpf_variant;
	size_t headroom; /* spare bytes before the body (the transport's) */
	/* Whose BPF programs' cost is exported (while the kernel counts it,
	 * bpf_stats_enabled 1); NULL: none. */
	struct tracker *tracker;
};

struct exporter;

/* NULL with errno ENOMEM. exporter_free(NULL) is a no-op. */
struct exporter *exporter_new(struct sampler *sm, const struct runs *runs,
			      const struct exporter_opts *o);
void exporter_free(struct exporter *x);
/* r's record is written: /metrics shows its final figures for a while. */
void exporter_run_finished(struct exporter *x, const struct run *r);
/* The exposition after the headroom, with websocket_clients as given;
 * malloc'd, its length in *len. NULL on ENOMEM. */
char *exporter_render(struct exporter *x, int websocket_clients, size_t *len);

struct http;
/* Serves exporter_render as h's /metrics. */
void exporter_serve(struct exporter *x, struct http *h);

#endif
