/* A run's figures over time, downsampled as it grows. */
#include <string.h>

#include "timeline.h"

/* b's figures into a (b follows a). */
static void merge(struct timeline_point *a, const struct timeline_point *b)
{
	a->span_ns += b->span_ns;
	a->cpu_ns += b->cpu_ns;
	if (b->rss_bytes > a->rss_bytes)
		a->rss_bytes = b->rss_bytes;
	a->have_gpu = a->have_gpu || b->have_gpu;
	a->gpu_busy_ns += b->gpu_busy_ns;
	a->gpu_ns += b->gpu_ns;
	a->tokens = b->tokens;
}

void timeline_add(struct timeline *t, int64_t at_ns, uint64_t cpu_ns, uint64_t rss_bytes,
		  bool have_gpu, double gpu_percent, uint64_t tokens)
{
	struct timeline_point q;

	if (!t->have_last || at_ns <= t->last_ns || cpu_ns < t->last_cpu_ns) {
		/* A baseline (a clock or counter that went back starts anew). */
		t->have_last = true;
		t->last_ns = at_ns;
		t->last_cpu_ns = cpu_ns;
		return;
	}
	q = (struct timeline_point){ .at_ns = t->last_ns, .span_ns = at_ns - t->last_ns,
				     .cpu_ns = cpu_ns - t->last_cpu_ns, .rss_bytes = rss_bytes,
				     .have_gpu = have_gpu, .tokens = tokens };
	if (have_gpu && gpu_percent >= 0 && gpu_percent <= 100) {
		q.gpu_ns = q.span_ns;
		q.gpu_busy_ns = gpu_percent / 100 * (double)q.span_ns;
	}
	t->last_ns = at_ns;
	t->last_cpu_ns = cpu_ns;
	if (!t->stride)
		t->stride = 1;
	if (t->n && t->pending < t->stride) {
		merge(&t->p[t->n - 1], &q);
		t->pending++;
		return;
	}
	if (t->n == TIMELINE_POINTS) {
		for (size_t i = 0; i < TIMELINE_POINTS / 2; i++) {
			t->p[i] = t->p[2 * i];
			merge(&t->p[i], &t->p[2 * i + 1]);
		}
		t->n = TIMELINE_POINTS / 2;
		t->stride *= 2;
	}
	t->p[t->n++] = q;
	t->pending = 1;
}
