/* Which run a Claude Code session counts for in a shared project directory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "toksess.h"
#include "tracker_abi.h"

struct toksess {
	const struct tokrun *runs;
	struct {
		char *claims[TOKSESS_CLAIMS_MAX];
		size_t n_claims;
	} run[TRACKER_MAX_RUNS];
	char *gone[TOKSESS_GONE_MAX];
	size_t gone_next;
};

struct toksess *toksess_new(const struct tokrun *runs)
{
	struct toksess *ss = calloc(1, sizeof(*ss));

	if (!ss) {
		errno = ENOMEM;
		return NULL;
	}
	ss->runs = runs;
	return ss;
}

void toksess_free(struct toksess *ss)
{
	if (!ss)
		return;
	for (size_t i = 0; i < TRACKER_MAX_RUNS; i++)
		for (size_t k = 0; k < ss->run[i].n_claims; k++)
			free(ss->run[i].claims[k]);
	for (size_t i = 0; i < TOKSESS_GONE_MAX; i++)
		free(ss->gone[i]);
	free(ss);
}

/* Whether id (len bytes) is the session id s. */
static bool same_id(const char *s, const char *id, size_t len)
{
	return strlen(s) == len && !memcmp(s, id, len);
}

/* A session id of an ended run: kept, the newest TOKSESS_GONE_MAX. Takes id. */
static void gone(struct toksess *ss, char *id)
{
	free(ss->gone[ss->gone_next]);
	ss->gone[ss->gone_next] = id;
	ss->gone_next = (ss->gone_next + 1) % TOKSESS_GONE_MAX;
}

bool toksess_claim(struct toksess *ss, const struct tokrun *r, const char *id, size_t len)
{
	typeof(ss->run[0]) *w = &ss->run[r->slot];
	char *c;

	if (!len || len > TOKSESS_ID_MAX || w->n_claims >= TOKSESS_CLAIMS_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_'))
			return false;
	for (size_t i = 0; i < w->n_claims; i++)
		if (same_id(w->claims[i], id, len))
			return false;
	if (!(c = strndup(id, len)))
		return false;
	w->claims[w->n_claims++] = c;
	return true;
}

void toksess_share(struct toksess_dir *sd, const struct tokrun *r)
{
	for (size_t i = 0; i < sd->n_others; i++)
		if (sd->others[i].slot == r->slot && sd->others[i].gen == r->gen)
			return;
	if (sd->n_others < TOKSESS_SHARED_MAX) {
		sd->others[sd->n_others].slot = r->slot;
		sd->others[sd->n_others++].gen = r->gen;
	}
}

bool toksess_shared(const struct toksess *ss, const struct toksess_dir *sd)
{
	for (size_t i = 0; i < sd->n_others; i++) {
		const struct tokrun *o = &ss->runs[sd->others[i].slot % TRACKER_MAX_RUNS];

		if (o->active && o->gen == sd->others[i].gen)
			return true;
	}
	return false;
}

/* The session id of a transcript's name (S.jsonl): its length. */
static size_t id_len(const char *name)
{
	return strlen(name) - 6;
}

static bool remembered(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* Whether the session name was another run's: followed for one here, or
 * claimed by one that ended. */
static bool taken(const struct toksess *ss, const struct toksess_dir *sd, const char *name)
{
	if (remembered(sd->taken, sd->n_taken, name))
		return true;
	for (size_t i = 0; i < TOKSESS_GONE_MAX; i++)
		if (ss->gone[i] && same_id(ss->gone[i], name, id_len(name)))
			return true;
	return false;
}

/* The live run of uid's that claimed the session name, the earliest
 * started (a run started inside another's tool inherits its id), or NULL. */
static const struct tokrun *claimer(const struct toksess *ss, const char *name, uid_t uid)
{
	const struct tokrun *best = NULL;

	for (uint32_t slot = 0; slot < TRACKER_MAX_RUNS; slot++) {
		const struct tokrun *r = &ss->runs[slot];

		for (size_t i = 0; r->active && r->owner == uid && i < ss->run[slot].n_claims; i++)
			if (same_id(ss->run[slot].claims[i], name, id_len(name)) &&
			    (!best || r->started_ns < best->started_ns))
				best = r;
	}
	return best;
}

/* Adds name to a directory's list, once; false when it cannot. */
static bool remember(char **names, size_t *n, const char *name)
{
	if (remembered(names, *n, name))
		return true;
	if (*n == TOKSESS_NAMES_MAX || !(names[*n] = strdup(name)))
		return false;
	(*n)++;
	return true;
}

const struct tokrun *toksess_run(struct toksess *ss, struct toksess_dir *sd, const char *name,
				 const struct tokrun *own, uid_t uid)
{
	char jsonl[TOKSESS_ID_MAX * 4 + 8];
	size_t n = strlen(name);
	const struct tokrun *c;

	if (n < 6 || strcmp(name + n - 6, ".jsonl")) {
		if (n > TOKSESS_ID_MAX * 4)
			return NULL;
		memcpy(jsonl, name, n);
		memcpy(jsonl + n, ".jsonl", 7);
		name = jsonl;
	}
	c = claimer(ss, name, uid);
	if (c && (c->slot != own->slot || c->gen != own->gen))
		return remember(sd->taken, &sd->n_taken, name) ? c : NULL;
	if (!c && taken(ss, sd, name))
		return NULL;
	if (!c && toksess_shared(ss, sd)) {
		remember(sd->pending, &sd->n_pending, name);
		return NULL;
	}
	return own;
}

/* sd's waiting sessions not followed by now count for no run. */
static void pending_gone(struct toksess *ss, struct toksess_dir *sd, toksess_followed_fn followed,
			 void *ctx)
{
	for (size_t i = 0; i < sd->n_pending; i++) {
		char *name = sd->pending[i];

		if (followed(ctx, name)) {
			free(name);
			continue;
		}
		name[id_len(name)] = '\0';
		gone(ss, name);
	}
	sd->n_pending = 0;
}

bool toksess_unshare(struct toksess *ss, struct toksess_dir *sd, uint32_t slot,
		     toksess_followed_fn followed, void *ctx)
{
	size_t o = 0;

	for (size_t k = 0; k < sd->n_others; k++)
		if (sd->others[k].slot != slot)
			sd->others[o++] = sd->others[k];
	if (o == sd->n_others)
		return false;
	sd->n_others = o;
	pending_gone(ss, sd, followed, ctx);
	return true;
}

void toksess_dir_free(struct toksess *ss, struct toksess_dir *sd, toksess_followed_fn followed,
		      void *ctx)
{
	if (toksess_shared(ss, sd))
		pending_gone(ss, sd, followed, ctx);
	for (size_t i = 0; i < sd->n_pending; i++)
		free(sd->pending[i]);
	for (size_t i = 0; i < sd->n_taken; i++)
		free(sd->taken[i]);
	memset(sd, 0, sizeof(*sd));
}

void toksess_release(struct toksess *ss, uint32_t slot)
{
	if (slot >= TRACKER_MAX_RUNS)
		return;
	for (size_t i = 0; i < ss->run[slot].n_claims; i++)
		gone(ss, ss->run[slot].claims[i]);
	ss->run[slot].n_claims = 0;
}
