/* The perf_metrics stream: a snapshot per watched project, built from the
 * sampler's latest walk on the cadence of schedule.h, and shared by all of
 * the project's watchers. The transport holds the watchers: the stream
 * serves it the projects as WebSocket topics and wakes them on the loop. */
#ifndef AGENTPERF_STREAM_H
#define AGENTPERF_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "projects.h"
#include "runs.h"
#include "sampler.h"

struct stream_opts {
	int interval_running_ms;
	int interval_idle_ms;
	size_t headroom; /* spare bytes before each message (the transport's) */
	/* With registries, a WebSocket for a name none holds is refused (4004). */
	struct registry *registry;
};

struct stream;
struct http;

/* NULL with errno ENOMEM. stream_free(NULL) is a no-op. */
struct stream *stream_new(struct sampler *sm, struct projects *ps, const struct runs *runs,
			  const struct stream_opts *o);
void stream_free(struct stream *st);
/* Serves the projects as h's WebSocket topics (stream_watch, _unwatch,
 * _message), wakes their watchers on h and keeps its cadence with a timer
 * of h's. Returns 0 or -ENOMEM. */
int stream_serve(struct stream *st, struct http *h);
/* A watcher of name arrives: the project (created if needed), with a
 * snapshot at once for its first watcher. NULL with errno ENOSPC when the
 * project table is full. */
struct project *stream_watch(struct stream *st, const char *name);
void stream_unwatch(struct stream *st, struct project *p);
/* p's latest message (after the headroom) and its generation; NULL before
 * the first. */
const char *stream_message(const struct stream *st, const struct project *p, size_t *len,
			   uint64_t *gen);
/* The armed time has come: snapshots every project that is due. */
void stream_due(struct stream *st);
/* Something shown in project's messages changed (a run started or ended,
 * tokens): a snapshot at once if it is watched. */
void stream_changed(struct stream *st, const char *project);

#endif
