/* The control commands (SPEC.md "agentperf subcommands"): each request line
 * is parsed, authorized by its peer's credentials and answered. */
#ifndef AGENTPERF_COMMANDS_H
#define AGENTPERF_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "lifecycle.h"
#include "projects.h"
#include "runs.h"
#include "sampler.h"
#include "stream.h"

struct commands_parts {
	struct control_server *control;
	struct lifecycle *lifecycle;
	struct sampler *sampler;
	struct runs *runs;
	struct projects *projects;
	struct stream *stream;
	const char *proc_root;
	const char *state_dir;
};

struct commands;

/* NULL with errno ENOMEM. commands_free(NULL) is a no-op. */
struct commands *commands_new(const struct commands_parts *parts);
void commands_free(struct commands *cm);
/* control_line_fn (ctx: the commands): one request line. */
void commands_on_line(void *ctx, struct control_conn *c, char *line, size_t len);
/* A wait answered with r's record (a closed connection gets nothing), and
 * whether a connection is still open. */
void commands_answer(struct commands *cm, uint64_t conn_id, const struct run *r);
bool commands_conn_open(struct commands *cm, uint64_t conn_id);

#endif
