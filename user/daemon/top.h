/* A run's "top": CPU by command name, merged from exited and live tasks. */
#ifndef AGENTPERF_TOP_H
#define AGENTPERF_TOP_H

#include <stddef.h>
#include <stdint.h>

#include "tracker_abi.h"

/* Commands kept in a record. */
#define TOP_SHOWN 5
/* Distinct names merged per run; beyond that a name's CPU stays in the run's
 * total only. */
#define TOP_NAMES_MAX 1024

struct top_entry {
	char comm[TRACKER_COMM_LEN + 1];
	uint64_t ns;
};

/* The result: at most TOP_SHOWN commands, most CPU first. */
struct top {
	size_t n;
	struct top_entry e[TOP_SHOWN];
};

/* Accumulates CPU per name; zero-initialize before use. */
struct top_acc {
	size_t n;
	struct top_entry e[TOP_NAMES_MAX];
};

/* Adds ns to comm (not NUL-terminated beyond TRACKER_COMM_LEN bytes; an empty
 * name counts as "?"). Returns 0, or -ENOSPC when the name is new and the
 * accumulator full. */
int top_add(struct top_acc *a, const char *comm, uint64_t ns);
/* The TOP_SHOWN names with the most CPU (ties by name), zero-CPU names left out. */
void top_result(const struct top_acc *a, struct top *out);

#endif
