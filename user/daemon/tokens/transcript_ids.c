/* A run's Claude Code messages, each counted once with its latest usage. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transcript_ids.h"

/* Per-message figures are at most TRANSCRIPT_MSG_MAX: 32 bits hold them. */
struct transcript_id_slot {
	uint64_t hash; /* 0: empty */
	uint32_t input, output, cache_read, cache_creation;
};

static void slot_usage(const struct transcript_id_slot *e, struct transcript_usage *u)
{
	u->input = e->input;
	u->output = e->output;
	u->cache_read = e->cache_read;
	u->cache_creation = e->cache_creation;
}

static void slot_set(struct transcript_id_slot *e, uint64_t hash, const struct transcript_usage *u)
{
	e->hash = hash;
	e->input = (uint32_t)u->input;
	e->output = (uint32_t)u->output;
	e->cache_read = (uint32_t)u->cache_read;
	e->cache_creation = (uint32_t)u->cache_creation;
}

/* h's slot in tab, or the empty one where it goes; NULL when neither is
 * within TRANSCRIPT_IDS_PROBE_MAX slots of its home. Nothing is ever removed,
 * so an id stored within the bound is found within it. */
static struct transcript_id_slot *lookup(struct transcript_ids *t, struct transcript_id_slot *tab,
					 size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	for (uint32_t walked = 1; walked <= TRANSCRIPT_IDS_PROBE_MAX; walked++) {
		if (walked > t->probe_max)
			t->probe_max = walked;
		if (!tab[i].hash || tab[i].hash == h)
			return &tab[i];
		i = (i + 1) & (cap - 1);
	}
	return NULL;
}

/* Doubles the table (load stays at most one half). An id that lands past
 * the probe bound in it (at a load of one quarter, never by chance) is
 * forgotten: counted as unremembered. */
static int grow(struct transcript_ids *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct transcript_id_slot *tab = calloc(cap, sizeof(*tab)), *e;

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slot[i].hash)
			continue;
		if ((e = lookup(t, tab, cap, t->slot[i].hash))) {
			*e = t->slot[i];
		} else {
			t->n--;
			t->unremembered++;
		}
	}
	free(t->slot);
	t->slot = tab;
	t->cap = cap;
	return 0;
}

int transcript_ids_add(struct transcript_ids *t, const struct transcript_claude *m)
{
	struct transcript_id_slot *e;
	struct transcript_usage old, u = m->usage;
	int err = 0;

	/* Out of the parser every figure is at most TRANSCRIPT_MSG_MAX; a caller's
	 * larger one is held there, so the 32-bit slot always holds it. */
	if (u.input > TRANSCRIPT_MSG_MAX || u.output > TRANSCRIPT_MSG_MAX ||
	    u.cache_read > TRANSCRIPT_MSG_MAX || u.cache_creation > TRANSCRIPT_MSG_MAX)
		return -EINVAL;
	if (m->id_hash) {
		if (t->cap) {
			e = lookup(t, t->slot, t->cap, m->id_hash);
			if (e && e->hash) {
				slot_usage(e, &old);
				t->sum.input -= old.input;
				t->sum.output -= old.output;
				t->sum.cache_read -= old.cache_read;
				t->sum.cache_creation -= old.cache_creation;
				slot_set(e, m->id_hash, &u);
				transcript_usage_add(&t->sum, &u);
				return 0;
			}
		}
		if (t->n >= TRANSCRIPT_IDS_MAX) {
			t->unremembered++;
		} else if ((t->n + 1) * 2 > t->cap && (err = grow(t))) {
			t->unremembered++;
		} else if (!(e = lookup(t, t->slot, t->cap, m->id_hash))) {
			t->unremembered++; /* its cluster is past the bound: as full */
		} else {
			slot_set(e, m->id_hash, &u);
			t->n++;
		}
	}
	transcript_usage_add(&t->sum, &u);
	return err;
}

void transcript_ids_free(struct transcript_ids *t)
{
	free(t->slot);
	memset(t, 0, sizeof(*t));
}
