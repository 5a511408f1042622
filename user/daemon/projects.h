/* Per-project state behind the WebSocket stream: tokens, the latest run, the
 * CPU baseline, and the latest serialized perf_metrics shared by subscribers. */
#ifndef AGENTPERF_PROJECTS_H
#define AGENTPERF_PROJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuscan.h"
#include "perfmsg.h"
#include "names.h"
#include "control_proto.h"
#include "runs.h"

#define PROJECTS_MAX 1024

struct ws_session;

struct project {
	bool used;
	char name[NAMES_PROJECT_MAX + 1];
	bool tokens_available;
	int64_t tokens_current; /* this run's */
	int64_t tokens_total; /* every run of the project since the daemon started */
	bool has_run;
	struct run run; /* the latest run, live or final, as last sampled */
	bool have_prev;
	struct perfmsg_cpu_sample prev; /* baseline of the next cpu.* interval */
	char *msg; /* latest perf_metrics after PROJECTS_HEADROOM spare bytes */
	size_t msg_len;
	uint64_t gen; /* bumped with each new msg */
	int64_t next_due_ns; /* CLOCK_MONOTONIC of the next snapshot */
	unsigned subscribers;
	struct ws_session *sessions;
	struct gpuscan *gpu; /* the run's DRM clients; NULL until needed */
	bool gpu_res_valid;
	int64_t gpu_res_mono; /* CLOCK_MONOTONIC of gpu_res */
	struct gpu_result gpu_res; /* the latest reading of gpu */
};

struct projects {
	struct project p[PROJECTS_MAX];
};

void projects_init(struct projects *ps);
void projects_free(struct projects *ps);
struct project *projects_get(struct projects *ps, const char *name);
/* The project, created if needed. An entry that holds nothing (no subscriber,
 * run or tokens) may be reused. NULL with errno ENOSPC when all hold something. */
struct project *projects_add(struct projects *ps, const char *name);
/* A new run of the project: it becomes the latest, and the current-run token
 * count starts again from zero. */
void projects_run_started(struct project *p, const struct run *r);
/* Applies `agentperf tokens`. Returns 0, or -EINVAL (negative, too large, or
 * nothing asked) leaving p unchanged. */
int projects_tokens(struct project *p, const struct tokens_update *u);
/* Replaces the latest message (takes ownership of msg). */
void projects_set_message(struct project *p, char *msg, size_t len);

#endif
