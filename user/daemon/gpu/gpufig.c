/* Figures of one run: two backends together, and gpu_seconds. */
#include "gpufig.h"

void gpufig_combine(const struct gpufig *a, const struct gpufig *b, struct gpufig *out)
{
	out->have_percent = a->have_percent && b->have_percent;
	out->percent = !out->have_percent ? 0 : a->percent > b->percent ? a->percent : b->percent;
	out->have_vram = a->have_vram && b->have_vram;
	out->vram_bytes = out->have_vram ? a->vram_bytes + b->vram_bytes : 0;
	out->procs = a->procs + b->procs;
}

void gpufig_busy_add(struct gpufig_busy *b, int64_t now_ns, bool have_percent, double percent)
{
	if (b->primed && have_percent && now_ns > b->last_ns) {
		double p = percent < 0 ? 0 : percent > 100 ? 100 : percent;

		b->seconds += p / 100 * (double)(now_ns - b->last_ns) / 1e9;
		b->have = true;
	}
	b->primed = true;
	b->last_ns = now_ns;
}
