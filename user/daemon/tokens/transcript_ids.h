/* A run's Claude Code messages, each counted once with the usage of its
 * latest line (pure: a hash table of message ids, no I/O). */
#ifndef AGENTPERF_TRANSCRIPT_IDS_H
#define AGENTPERF_TRANSCRIPT_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "transcript.h"

/* Message ids remembered per run; past this, new ids are counted as they
 * come, without deduplication. */
#define TRANSCRIPT_IDS_MAX 65536
/* Slots one id's lookup walks at most. Ids hashed under a key their writer
 * does not know (transcript_parse_claude's) spread at random: at the table's
 * load of at most one half, 65536 of them walk 60 at most (2000 tables
 * simulated). Past it an id is not remembered, as past TRANSCRIPT_IDS_MAX: a
 * writer who could aim ids at one cluster still costs each line this much
 * and no more. */
#define TRANSCRIPT_IDS_PROBE_MAX 128

/* The Claude Code messages of one run: each id counted once, with the usage
 * of its latest line (a message is written again as it streams, and a
 * subagent's also lands in its own file). Zeroed: empty. */
struct transcript_ids {
	struct transcript_id_slot *slot; /* open addressing, cap a power of two */
	size_t cap, n;
	uint64_t unremembered; /* ids counted past TRANSCRIPT_IDS_MAX or the probe bound */
	uint32_t probe_max; /* the most slots one lookup has walked (a test's measure) */
	struct transcript_usage sum;
};

/* Counts m: replaces the usage of a message seen before, else adds it. The
 * table grows by doubling (no allocation per line); m->id_hash places the id,
 * so it must be a keyed hash, and a lookup walks at most
 * TRANSCRIPT_IDS_PROBE_MAX slots whatever it is. Returns 0, -EINVAL (m not
 * counted) when a figure of m is over TRANSCRIPT_MSG_MAX, or -ENOMEM when the
 * table could not grow (m is then counted without being remembered). */
int transcript_ids_add(struct transcript_ids *t, const struct transcript_claude *m);
/* Frees the table; t becomes empty. */
void transcript_ids_free(struct transcript_ids *t);

#endif
