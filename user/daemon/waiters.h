/* Control connections waiting for a run: `wait` replies once the run's root
 * has exited (or, with all, once the run has ended). Pure bookkeeping. */
#ifndef AGENTPERF_WAITERS_H
#define AGENTPERF_WAITERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runs.h"

#define WAITERS_MAX 64 /* one per control connection at most */

struct waiter {
	uint64_t conn_id; /* 0: free */
	uint32_t slot, gen; /* the run */
	bool all; /* until every task has exited */
};

struct waiters {
	struct waiter w[WAITERS_MAX];
};

/* conn_id waits for r. Returns 0, -EBUSY if conn_id already waits, or
 * -ENOSPC when full. */
int waiters_add(struct waiters *ws, uint64_t conn_id, const struct run *r, bool all);
/* Whether conn_id waits for something. */
bool waiters_has(const struct waiters *ws, uint64_t conn_id);
bool waiters_any(const struct waiters *ws);
/* Whether r, as it is now, answers the wait w. */
bool waiters_done(const struct waiter *w, const struct run *r);
/* Removes the waits that r answers now; their connection ids go into out
 * (at most max). Returns how many. */
size_t waiters_take(struct waiters *ws, const struct run *r, uint64_t *out, size_t max);

#endif
