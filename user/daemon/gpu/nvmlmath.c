/* GPU arithmetic that needs no device: NVML readings of a run, backends
 * together, gpu_seconds. Pure. */
#include <stdlib.h>
#include <string.h>

#include "nvmlmath.h"

size_t nvmlmath_keep(struct nvmlmath_sample *s, size_t n, uint64_t seen_us)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i].ts_us > seen_us && s[i].sm <= 100)
			s[k++] = s[i];
	return k;
}

double nvmlmath_proc_busy_us(const struct nvmlmath_sample *s, size_t n, uint32_t pid,
			     uint64_t seen_us, uint64_t period_us)
{
	uint64_t from = seen_us;
	double busy = 0;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		uint64_t cover;

		if (s[i].pid != pid)
			continue;
		cover = s[i].ts_us > from ? s[i].ts_us - from : 0;
		if (period_us && cover > period_us)
			cover = period_us;
		busy += (s[i].sm > 100 ? 100 : s[i].sm) / 100.0 * (double)cover;
		if (s[i].ts_us > from)
			from = s[i].ts_us;
		any = true;
	}
	return any ? busy : -1;
}

uint64_t nvmlmath_period(const struct nvmlmath_sample *s, size_t n, uint64_t prev)
{
	uint64_t best = 0;

	for (size_t i = 1; i < n; i++) {
		uint64_t step = s[i].ts_us - s[i - 1].ts_us;

		/* Steps under 1 ms are one period seen twice, not a period. */
		if (s[i].pid != s[i - 1].pid || s[i].ts_us < s[i - 1].ts_us || step < 1000)
			continue;
		if (!best || step < best)
			best = step;
	}
	return best ? best : prev;
}

double nvmlmath_acct_util(const struct nvmlmath_acct *a, uint64_t w0_us, uint64_t w1_us)
{
	uint64_t from = a->start_us > w0_us ? a->start_us : w0_us;
	uint64_t to = a->end_us < w1_us ? a->end_us : w1_us;

	if (w1_us <= w0_us || to <= from)
		return 0;
	return (a->util > 100 ? 100 : a->util) * (double)(to - from) / (double)(w1_us - w0_us);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static bool is_member(const uint32_t *members, size_t n, uint32_t pid)
{
	return bsearch(&pid, members, n, sizeof(*members), cmp_u32) != NULL;
}

/* Remembers a member seen on a device, once. */
static void note_found(uint32_t pid, uint32_t *found, size_t max_found, size_t *n_found)
{
	for (size_t i = 0; i < *n_found; i++)
		if (found[i] == pid)
			return;
	if (*n_found < max_found)
		found[(*n_found)++] = pid;
}

/* Whether pid has a sample in s. */
static bool has_sample(const struct nvmlmath_sample *s, size_t n, uint32_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].pid == pid)
			return true;
	return false;
}

/* One device's utilization by the run (percent of the time between the
 * reads, clamped), from its members' samples (sorted by pid) and the
 * accounting of those that exited with none. */
static double dev_util(const struct nvmlmath_dev *d, int dev, const uint32_t *members,
		       size_t n_members, const struct nvmlmath_acct *acct, size_t n_acct,
		       uint32_t *found, size_t max_found, size_t *n_found)
{
	uint64_t window = d->until_us > d->since_us ? d->until_us - d->since_us : 0;
	double util = 0;
	size_t i = 0, j;

	for (; i < d->n_samples; i = j) {
		uint32_t pid = d->samples[i].pid;

		for (j = i; j < d->n_samples && d->samples[j].pid == pid;)
			j++;
		if (!is_member(members, n_members, pid))
			continue;
		if (window)
			util += nvmlmath_proc_busy_us(&d->samples[i], j - i, pid, d->seen_us,
						      d->period_us) /
				(double)window * 100;
		note_found(pid, found, max_found, n_found);
	}
	for (i = 0; i < n_acct; i++) {
		if (acct[i].dev != dev || has_sample(d->samples, d->n_samples, acct[i].pid))
			continue;
		util += nvmlmath_acct_util(&acct[i], d->since_us, d->until_us);
	}
	return util > 100 ? 100 : util;
}

void nvmlmath_run(const struct nvmlmath_dev *devs, int n_devs, const uint32_t *members,
		 size_t n_members, const struct nvmlmath_acct *acct, size_t n_acct,
		 struct gpufig *out, uint32_t *found, size_t max_found, size_t *n_found)
{
	memset(out, 0, sizeof(*out));
	out->have_percent = out->have_vram = true;
	*n_found = 0;
	for (int k = 0; k < n_devs; k++) {
		const struct nvmlmath_dev *d = &devs[k];
		double u;

		if (!d->procs_ok)
			out->have_vram = false;
		for (size_t i = 0; d->procs_ok && i < d->n_procs; i++) {
			const struct nvmlmath_proc *p = &d->procs[i];

			if (!is_member(members, n_members, p->pid))
				continue;
			note_found(p->pid, found, max_found, n_found);
			if (!p->have_mem)
				out->have_vram = false;
			out->vram_bytes += p->mem_bytes;
		}
		if (!d->util_ok || !d->util_window) {
			out->have_percent = false;
			continue;
		}
		u = dev_util(d, k, members, n_members, acct, n_acct, found, max_found, n_found);
		if (u > out->percent)
			out->percent = u;
	}
	if (!out->have_percent)
		out->percent = 0;
	if (!out->have_vram)
		out->vram_bytes = 0;
	out->procs = (int)*n_found;
}
