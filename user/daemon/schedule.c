/* When each watched project's next perf_metrics is due: one grid for all. */
#include "schedule.h"

/* A timer may fire this much early and still serve what is due. */
static int64_t slack(const struct schedule *s)
{
	int64_t sl = s->period_ns / 10;

	return sl < 50000000 ? sl : 50000000;
}

/* floor(a / b) for b > 0, for instants before the anchor too. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

void schedule_init(struct schedule *s, int64_t running_ns, int64_t idle_ns)
{
	*s = (struct schedule){ .period_ns = running_ns, .idle_ns = idle_ns };
}

void schedule_anchor(struct schedule *s, int64_t now_ns)
{
	s->anchor_ns = now_ns;
	s->anchored = true;
}

int64_t schedule_snap(const struct schedule *s, int64_t t, int64_t now_ns)
{
	int64_t p = s->period_ns;
	/* The first grid instant after now (an instant just ahead of now, within
	 * the slack, is now's own). */
	int64_t first = s->anchor_ns + (floor_div(now_ns + slack(s) - s->anchor_ns, p) + 1) * p;
	int64_t nearest = s->anchor_ns + floor_div(t - s->anchor_ns + p / 2, p) * p;

	return nearest > first ? nearest : first;
}

int64_t schedule_next(const struct schedule *s, int64_t now_ns, bool running)
{
	return schedule_snap(s, now_ns + (running ? s->period_ns : s->idle_ns), now_ns);
}

bool schedule_is_due(const struct schedule *s, int64_t due_ns, int64_t now_ns)
{
	return due_ns - now_ns <= slack(s);
}
