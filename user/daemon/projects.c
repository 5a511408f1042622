/* The projects the daemon knows: token counts and latest recorded runs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projects.h"

struct projects *projects_new(void)
{
	return calloc(1, sizeof(struct projects));
}

void projects_free(struct projects *ps)
{
	free(ps);
}

size_t projects_index(const struct projects *ps, const struct project *p)
{
	return (size_t)(p - ps->p);
}

struct project *projects_get(struct projects *ps, const char *name)
{
	for (int i = 0; i < PROJECTS_MAX; i++)
		if (ps->p[i].used && !strcmp(ps->p[i].name, name))
			return &ps->p[i];
	return NULL;
}

static bool holds_nothing(const struct project *p)
{
	return !p->watchers && !p->live_runs && !p->has_last && !p->tokens_available &&
	       !p->transcript_seen;
}

static bool idle(const struct project *p)
{
	return !p->watchers && !p->live_runs;
}

struct project *projects_add(struct projects *ps, const char *name)
{
	struct project *p = projects_get(ps, name), *spare = NULL;
	bool found;

	if (p) {
		p->touched = ++ps->clock;
		return p;
	}
	for (int i = 0; i < PROJECTS_MAX && !spare; i++)
		if (!ps->p[i].used)
			spare = &ps->p[i];
	for (int i = 0; i < PROJECTS_MAX && !spare; i++)
		if (holds_nothing(&ps->p[i]))
			spare = &ps->p[i];
	found = spare != NULL;
	for (int i = 0; i < PROJECTS_MAX && !found; i++)
		if (idle(&ps->p[i]) && (!spare || ps->p[i].touched < spare->touched))
			spare = &ps->p[i];
	if (!spare) {
		errno = ENOSPC;
		return NULL;
	}
	memset(spare, 0, sizeof(*spare));
	spare->used = true;
	spare->touched = ++ps->clock;
	snprintf(spare->name, sizeof(spare->name), "%s", name);
	return spare;
}

unsigned projects_count_owned(const struct projects *ps, uid_t uid)
{
	unsigned n = 0;

	for (int i = 0; i < PROJECTS_MAX; i++)
		n += ps->p[i].used && ps->p[i].owned && ps->p[i].owner == uid;
	return n;
}

bool projects_free_owned(struct projects *ps, uid_t uid)
{
	struct project *lru = NULL;

	for (int i = 0; i < PROJECTS_MAX; i++) {
		struct project *p = &ps->p[i];

		if (p->used && p->owned && p->owner == uid && idle(p) &&
		    (!lru || p->touched < lru->touched))
			lru = p;
	}
	if (lru)
		memset(lru, 0, sizeof(*lru));
	return lru != NULL;
}

void projects_run_started(struct project *p)
{
	p->has_last = false;
	p->tokens_current = 0;
}

void projects_run_recorded(struct project *p, const struct run *r)
{
	p->has_last = true;
	p->last = *r;
}

void projects_run_tokens(struct project *p, const struct run *r)
{
	if (!r->tokens.have)
		return;
	p->transcript_seen = true;
	p->transcript_recorded += runs_transcript_tokens(r);
}

static bool in_range(int64_t v)
{
	return v >= 0 && v <= CONTROL_TOKENS_MAX;
}

int projects_tokens(struct project *p, const struct tokens_update *u)
{
	int64_t cur = p->tokens_current, total = p->tokens_total;

	if (!u->add && !u->set_current && !u->set_total)
		return -EINVAL;
	if ((u->add && !in_range(u->add_n)) || (u->set_current && !in_range(u->current)) ||
	    (u->set_total && !in_range(u->total)))
		return -EINVAL;
	if (u->add) {
		cur += u->add_n;
		total += u->add_n;
	}
	if (u->set_current) {
		/* The session total follows this run's correction. */
		total += u->current - cur;
		cur = u->current;
	}
	if (u->set_total)
		total = u->total;
	if (!in_range(cur) || !in_range(total))
		return -EINVAL;
	p->tokens_current = cur;
	p->tokens_total = total < cur ? cur : total;
	p->tokens_available = true;
	return 0;
}
