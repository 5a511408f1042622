/* A stand-in for the transport (http.h) in tests of the modules that
 * register on its loop: the stream's wakes and timer arms are counted, the
 * armed timer's fn can be called by hand. Include it in one file per test. */
#ifndef AGENTPERF_FAKE_HTTP_H
#define AGENTPERF_FAKE_HTTP_H

#include <errno.h>
#include <stdint.h>

#include "http.h"

struct http_timer {
	void (*fn)(void *ctx);
	void *ctx;
};

static struct http_timer fake_timers[8];
static int fake_n_timers;
static int fake_wakes;
static int64_t fake_armed_ns;
/* Any non-NULL address: the modules only pass it back. */
static struct http *const fake_http = (struct http *)&fake_timers;

struct http_timer *http_timer_new(struct http *h, void (*fn)(void *ctx), void *ctx)
{
	if (fake_n_timers == 8)
		return NULL;
	fake_timers[fake_n_timers] = (struct http_timer){ .fn = fn, .ctx = ctx };
	return &fake_timers[fake_n_timers++];
}

void http_timer_arm(struct http_timer *t, int64_t delay_ns)
{
	fake_armed_ns = delay_ns;
}

void http_wake(struct http *h, void *topic)
{
	fake_wakes++;
}

void http_serve_topics(struct http *h, const struct http_topics *t, void *ctx)
{
}

void http_serve_metrics(struct http *h, http_metrics_fn fn, void *ctx)
{
}

int http_watch_fd(struct http *h, int fd, void (*fn)(void *ctx), void *ctx)
{
	return -ENOSYS;
}

#endif
