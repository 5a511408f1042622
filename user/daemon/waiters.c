/* Control connections waiting for a run's end. */
#include <errno.h>

#include "waiters.h"

int waiters_add(struct waiters *ws, uint64_t conn_id, const struct run *r, bool all)
{
	struct waiter *spare = NULL;

	if (waiters_has(ws, conn_id))
		return -EBUSY;
	for (int i = 0; i < WAITERS_MAX && !spare; i++)
		if (!ws->w[i].conn_id)
			spare = &ws->w[i];
	if (!spare)
		return -ENOSPC;
	*spare = (struct waiter){ .conn_id = conn_id, .slot = r->slot, .gen = r->gen, .all = all };
	return 0;
}

bool waiters_has(const struct waiters *ws, uint64_t conn_id)
{
	for (int i = 0; i < WAITERS_MAX; i++)
		if (conn_id && ws->w[i].conn_id == conn_id)
			return true;
	return false;
}

bool waiters_any(const struct waiters *ws)
{
	for (int i = 0; i < WAITERS_MAX; i++)
		if (ws->w[i].conn_id)
			return true;
	return false;
}

bool waiters_done(const struct waiter *w, const struct run *r)
{
	if (w->slot != r->slot || w->gen != r->gen)
		return false;
	return r->ended || r->detached || (!w->all && r->last.root_exited);
}

size_t waiters_take(struct waiters *ws, const struct run *r, uint64_t *out, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < WAITERS_MAX && n < max; i++) {
		if (!ws->w[i].conn_id || !waiters_done(&ws->w[i], r))
			continue;
		out[n++] = ws->w[i].conn_id;
		ws->w[i].conn_id = 0;
	}
	return n;
}
