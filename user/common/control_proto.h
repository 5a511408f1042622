/* The control socket's protocol: one JSON object per line each way.
 * Request:  {"cmd":"run"|"attach"|"detach"|"status"|"runs"|"wait"|"tokens"|"timeline", ...}
 * Reply:    {"ok":true, ...} or {"ok":false,"error":"one line"} */
#ifndef AGENTPERF_CONTROL_PROTO_H
#define AGENTPERF_CONTROL_PROTO_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"

/* Longest request line a peer may send. */
#define CONTROL_LINE_MAX 4096
/* Token counts are bounded so that every sum stays exact in a JSON double. */
#define CONTROL_TOKENS_MAX INT64_C(1000000000000000)

enum control_cmd {
	CONTROL_RUN, /* mark the peer's own, not yet exec'd child as a new run */
	CONTROL_ATTACH, /* track an existing process, its threads and descendants */
	CONTROL_DETACH, /* stop tracking the project's live run */
	CONTROL_STATUS, /* live runs */
	CONTROL_RUNS, /* run history, newest first */
	CONTROL_WAIT, /* reply when the run's root has exited, or with all: when it ended */
	CONTROL_TOKENS, /* token counts of the project: add, set_current, set_total */
	CONTROL_TIMELINE, /* a run's timeline: by run_id, or the project's newest run */
};

/* agentperf tokens: what to change (docs/interfaces.md). */
struct tokens_update {
	bool add, set_current, set_total;
	int64_t add_n, current, total;
};

struct control_request {
	enum control_cmd cmd;
	char project[NAMES_PROJECT_MAX + 1]; /* empty when not given */
	pid_t pid;
	char run_id[NAMES_RUN_ID_MAX];
	bool all;
	unsigned limit; /* runs: at most this many (0: all) */
	struct tokens_update tokens;
};

/* Parses one request line (need not be NUL-terminated): one JSON object, then
 * only blanks; no NUL or other control byte, no "\u0000" escape. Returns 0, or
 * -EINVAL with a one-line reason in err. */
int control_parse_request(const char *line, size_t len, struct control_request *req, char *err,
			  size_t errlen);
/* The request as one JSON line with its newline; malloc'd, NULL on ENOMEM. */
char *control_format_request(const struct control_request *req);
/* {"ok":false,"error":msg} and its newline; malloc'd, NULL on ENOMEM. */
char *control_format_error(const char *msg);
/* {"ok":true,KEY:item} and its newline (item may be NULL: just ok). Takes
 * ownership of item; malloc'd, NULL on ENOMEM. */
char *control_format_ok(const char *key, cJSON *item);
/* {"ok":true,...} with fields' members, in their order, beside ok, and its
 * newline. Takes ownership of fields (an object); malloc'd, NULL on ENOMEM. */
char *control_format_ok_fields(cJSON *fields);

#endif
