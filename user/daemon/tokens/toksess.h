/* Which run a Claude Code session counts for when runs of one user share a
 * project directory (two agents in one working directory). Claude Code
 * names a session's transcript P/<session id>.jsonl and gives its tools the
 * id (CLAUDE_CODE_SESSION_ID): a process of a run with it claims the session
 * for the run. A session no run claims waits while the directory is shared;
 * once a run that shared it ends, it could have been either's and counts for
 * none. Sessions of ended runs never become another run's. Pure: tokdirs
 * owns the directories and asks. */
#ifndef AGENTPERF_TOKSESS_H
#define AGENTPERF_TOKSESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tokrun.h"

#define TOKSESS_CLAIMS_MAX 8 /* sessions a run claims */
#define TOKSESS_ID_MAX 64 /* bytes of a session id */
#define TOKSESS_SHARED_MAX 8 /* other runs sharing one directory */
#define TOKSESS_NAMES_MAX 64 /* sessions a directory remembers, taken or waiting */
#define TOKSESS_GONE_MAX 64 /* sessions of ended runs remembered, the newest */

/* A project directory's sharing, kept in tokdirs' directory. */
struct toksess_dir {
	struct {
		uint32_t slot, gen;
	} others[TOKSESS_SHARED_MAX]; /* runs that named it besides its own */
	size_t n_others;
	char *taken[TOKSESS_NAMES_MAX]; /* S.jsonl followed for other runs */
	size_t n_taken;
	char *pending[TOKSESS_NAMES_MAX]; /* S.jsonl waiting for a claim */
	size_t n_pending;
};

/* Whether the session name (S.jsonl) of a directory is followed already. */
typedef bool (*toksess_followed_fn)(void *ctx, const char *name);

struct toksess;

/* runs (by slot, TRACKER_MAX_RUNS of them) is kept, not copied. NULL with
 * errno ENOMEM. toksess_free(NULL) is a no-op. */
struct toksess *toksess_new(const struct tokrun *runs);
void toksess_free(struct toksess *ss);
/* One of r's processes has CLAUDE_CODE_SESSION_ID=id (len bytes). Ids that
 * are not 1 to TOKSESS_ID_MAX letters, digits, '-' or '_' are ignored.
 * Returns true for a claim r did not have. */
bool toksess_claim(struct toksess *ss, const struct tokrun *r, const char *id, size_t len);
/* r names the directory sd, another run's. */
void toksess_share(struct toksess_dir *sd, const struct tokrun *r);
/* Whether a live run besides its own names sd. */
bool toksess_shared(const struct toksess *ss, const struct toksess_dir *sd);
/* The run that the session name (S.jsonl, or its directory S) of a
 * directory of uid's, whose own run is own, counts for: the live run that
 * claims it (the earliest started: an id passes to nested runs), else own
 * unless the directory is shared or the session was another run's. NULL:
 * none now (a waiting session is remembered). */
const struct tokrun *toksess_run(struct toksess *ss, struct toksess_dir *sd, const char *name,
				 const struct tokrun *own, uid_t uid);
/* The run in slot no longer names sd: returns whether it did. Its waiting
 * sessions that followed (ctx) does not know then count for no run. */
bool toksess_unshare(struct toksess *ss, struct toksess_dir *sd, uint32_t slot,
		     toksess_followed_fn followed, void *ctx);
/* sd's own run has ended (sd goes): the same for its waiting sessions, if
 * it was shared. */
void toksess_dir_free(struct toksess *ss, struct toksess_dir *sd, toksess_followed_fn followed,
		      void *ctx);
/* The run in slot has ended: its sessions are never another's. */
void toksess_release(struct toksess *ss, uint32_t slot);

#endif
