/* Paths found missing lately, per run: not looked for again until
 * TOKSCAN_RESCAN_NS has passed (pure: a small ring of path hashes). */
#ifndef AGENTPERF_TOKNEG_H
#define AGENTPERF_TOKNEG_H

#include <stdbool.h>
#include <stdint.h>

/* Paths remembered; past this, the oldest is forgotten. */
#define TOKNEG_MAX 64

/* Zeroed: empty. */
struct tokneg {
	struct {
		uint64_t hash;
		int64_t until_ns;
	} e[TOKNEG_MAX];
	unsigned next;
};

/* Whether path was found missing less than TOKSCAN_RESCAN_NS before now_ns
 * (a monotonic time). */
bool tokneg_has(const struct tokneg *n, const char *path, int64_t now_ns);
/* path has just (now_ns) been found missing. */
void tokneg_add(struct tokneg *n, const char *path, int64_t now_ns);

#endif
