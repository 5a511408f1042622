/* The run lifecycle: a run starts (run, attach, an agent's lock), ends or is
 * detached, is recorded in the history; whoever waits for it is told when it
 * settles. With the sampler, the only writer of the runs table. */
#ifndef AGENTPERF_LIFECYCLE_H
#define AGENTPERF_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exporter.h"
#include "projects.h"
#include "runs.h"
#include "sampler.h"
#include "stream.h"
#include "tracker/tracker.h"

/* How often the bookkeeping tick runs. */
#define LIFECYCLE_TICK_MS 1000

struct lifecycle_parts {
	struct tracker *tracker;
	struct runs *runs;
	struct projects *projects;
	struct sampler *sampler;
	struct stream *stream;
	struct exporter *exporter;
	const char *state_dir;
	const char *proc_root;
	uint64_t history_max_bytes; /* runs.jsonl is rotated past this size */
};

struct lifecycle;

/* A run has settled as far as a waiting client cares: its root has exited
 * (told once), or it has ended or been detached (told once, just before it
 * is recorded and released: r is valid during the call only). */
typedef void (*lifecycle_settled_fn)(void *ctx, struct run *r);

/* NULL with errno ENOMEM. lifecycle_free(NULL) is a no-op. */
struct lifecycle *lifecycle_new(const struct lifecycle_parts *parts);
/* fn is told of each run that settles (one listener: the commands, which
 * own the waits). */
void lifecycle_listen(struct lifecycle *l, lifecycle_settled_fn fn, void *ctx);
void lifecycle_free(struct lifecycle *l);
/* Starts a run of project at pid, owned by owner: its whole tree, or
 * (whole_tree false: a child marked before it execs) its threads. Returns
 * the run, or NULL with a one-line reason in err. */
struct run *lifecycle_start(struct lifecycle *l, const char *project, pid_t pid, bool whole_tree,
			    uid_t owner, char *err, size_t errlen);
/* registry_attach_fn (ctx: the lifecycle): an agent's lock names pid, a
 * live process of project. Returns 0, or -EAGAIN to be offered it again. */
int lifecycle_agent_lock(void *ctx, const char *project, pid_t pid, bool again);
/* Stops tracking r now and records it; r's final figures are in *out (r
 * itself is released once recorded). Returns 0 or -errno. */
int lifecycle_detach(struct lifecycle *l, struct run *r, struct run *out);
/* Reads r's counters now; an r that has ended is recorded (and its
 * settling told) now rather than at the next tick. */
void lifecycle_settle(struct lifecycle *l, struct run *r);
/* r's record as a client is given it now: the project's reported tokens
 * (if r is its newest run) and, for an open run, its top commands now. */
void lifecycle_prepare_record(struct lifecycle *l, struct run *r);
/* Reads r's top commands (exited tasks', and live ones' at the latest walk). */
void lifecycle_read_top(struct lifecycle *l, struct run *r);
/* The bookkeeping tick: notices roots' exits and runs' ends (told to the
 * listener), records the ends, writes the journal when it changed. */
void lifecycle_tick(struct lifecycle *l);
/* At start: takes over the runs of the journal whose state the pinned maps
 * still hold; records the others as detached; closes pinned runs the
 * journal does not name. One log line says what happened. Returns 0 or
 * -errno (an unreadable journal: nothing taken over). */
int lifecycle_take_over(struct lifecycle *l);
/* Writes the live-run journal now. Returns 0 or -errno (logged once; the
 * tick retries). */
int lifecycle_save(struct lifecycle *l);
/* A project's token counts changed: the journal is written at the tick. */
void lifecycle_tokens_changed(struct lifecycle *l);
/* At SIGTERM: live runs stay pinned for the next start; finished ones are
 * recorded if the disk allows; the journal is written. Returns 0, or -EIO
 * when the journal could not be written. */
int lifecycle_shutdown(struct lifecycle *l);
/* --cleanup: records every run, as detached. Returns 0 or -EIO when a
 * record could not be written. */
int lifecycle_cleanup(struct lifecycle *l);

#endif
