/* A run's GPU use from its DRM clients' fdinfo over time. Pure. */
#include <stdio.h>
#include <string.h>

#include "drmmath.h"

#define GPU_MAX_AGG 64 /* (device, engine) pairs summed in one tick */

void drmmath_init(struct drmmath_state *g)
{
	memset(g, 0, sizeof(*g));
}

void drmmath_begin_tick(struct drmmath_state *g)
{
	for (int i = 0; i < DRMMATH_MAX_CLIENTS; i++)
		g->c[i].seen = false;
	g->unknown = false;
}

void drmmath_unknown(struct drmmath_state *g)
{
	g->unknown = true;
}

void drmmath_observe(struct drmmath_state *g, const char *dev, uint64_t fallback_key,
		 const struct fdinfo *fi, int64_t mono_ns)
{
	uint64_t key = fi->has_client_id ? fi->client_id : fallback_key;
	struct drmmath_client *c = NULL;

	/* Clients come in the same order each tick: the search starts where
	 * the last one was found, so that a tick costs a step per fd rather
	 * than a pass over every slot (each a few KiB apart). */
	for (int j = 0; j < DRMMATH_MAX_CLIENTS && !c; j++) {
		struct drmmath_client *x = &g->c[(g->hint + j) % DRMMATH_MAX_CLIENTS];

		if (x->used && x->key == key && !strcmp(x->dev, dev))
			c = x;
	}
	if (c) {
		g->hint = (int)(c - g->c);
		if (c->seen)
			return; /* the same client through another fd or process */
	} else {
		for (int i = 0; i < DRMMATH_MAX_CLIENTS && !c; i++)
			if (!g->c[i].used)
				c = &g->c[i];
		if (!c)
			return;
		g->hint = (int)(c - g->c);
		memset(c, 0, sizeof(*c));
		c->used = true;
		snprintf(c->dev, sizeof(c->dev), "%s", dev);
		c->key = key;
		/* First sighting: the baseline, no delta yet. */
		c->base = *fi;
		c->mono_ns = mono_ns;
	}
	c->seen = true;
	c->now = *fi;
	c->now_ns = mono_ns;
}

static const struct fdinfo_engine *find(const struct fdinfo *fi, const char *name)
{
	for (int i = 0; i < fi->n_engines; i++)
		if (!strcmp(fi->engines[i].name, name))
			return &fi->engines[i];
	return NULL;
}

/* One engine's utilization (0..1 per capacity unit) between base and now, or
 * -1 without a usable delta. A counter that went backwards shows no progress
 * (0) and keeps the old, larger baseline. */
static double engine_util(struct fdinfo_engine *b, const struct fdinfo_engine *n, double dt_ns)
{
	double cap = n->capacity ? n->capacity : 1;

	if (n->has_percent)
		return n->percent / 100; /* old amdgpu: instantaneous already */
	if (n->has_ns && b->has_ns) {
		/* ns preferred where cycles are printed too (panfrost, msm). */
		if (dt_ns <= 0)
			return -1;
		if (n->ns < b->ns)
			return 0;
		return (double)(n->ns - b->ns) / (dt_ns * cap);
	}
	if (n->has_cycles && n->has_total_cycles && b->has_cycles && b->has_total_cycles) {
		if (n->total_cycles <= b->total_cycles)
			return -1;
		if (n->cycles < b->cycles)
			return 0;
		return (double)(n->cycles - b->cycles) /
		       ((double)(n->total_cycles - b->total_cycles) * cap);
	}
	return -1;
}

/* Moves the baseline forward where the counters did not go backwards. */
static void advance(struct fdinfo_engine *b, const struct fdinfo_engine *n)
{
	if (n->has_ns && (!b->has_ns || n->ns >= b->ns)) {
		b->ns = n->ns;
		b->has_ns = true;
	}
	if (n->has_cycles && n->has_total_cycles &&
	    (!b->has_cycles || (n->cycles >= b->cycles && n->total_cycles >= b->total_cycles))) {
		b->cycles = n->cycles;
		b->total_cycles = n->total_cycles;
		b->has_cycles = b->has_total_cycles = true;
	}
}

void drmmath_end_tick(struct drmmath_state *g, struct drmmath_result *out)
{
	struct {
		const char *dev, *engine;
		double util;
	} agg[GPU_MAX_AGG];
	int n_agg = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < DRMMATH_MAX_CLIENTS; i++) {
		struct drmmath_client *c = &g->c[i];
		double dt = (double)(c->now_ns - c->mono_ns);

		if (!c->used)
			continue;
		if (!c->seen) {
			c->used = false; /* closed fd, exited process: drop its state */
			continue;
		}
		out->clients++;
		if (c->now.has_vram) {
			out->have_vram = true;
			out->vram_bytes += c->now.vram_bytes;
		}
		for (int e = 0; e < c->now.n_engines; e++) {
			const struct fdinfo_engine *n = &c->now.engines[e];
			struct fdinfo_engine *b = (struct fdinfo_engine *)find(&c->base, n->name);
			double u;
			int k;

			if (!b) {
				/* amdgpu prints an engine only once it is non-zero: it was 0. */
				if (c->base.n_engines < FDINFO_MAX_ENGINES) {
					b = &c->base.engines[c->base.n_engines++];
					*b = *n;
					b->ns = b->cycles = 0;
					b->total_cycles = n->has_total_cycles ? n->total_cycles : 0;
				}
				if (!b || dt <= 0)
					continue;
			}
			u = engine_util(b, n, dt);
			if (u >= 0 || n->has_percent)
				out->have_percent = true;
			if (u > 0) {
				for (k = 0; k < n_agg; k++)
					if (!strcmp(agg[k].dev, c->dev) && !strcmp(agg[k].engine, n->name))
						break;
				if (k == n_agg && n_agg < GPU_MAX_AGG)
					agg[n_agg++] = (typeof(agg[0])){ c->dev, n->name, 0 };
				if (k < n_agg)
					agg[k].util += u;
			}
			advance(b, n);
		}
		c->mono_ns = c->now_ns;
	}
	for (int k = 0; k < n_agg; k++)
		if (agg[k].util * 100 > out->percent)
			out->percent = agg[k].util * 100;
	if (out->percent > 100)
		out->percent = 100;
	if (g->unknown) {
		out->unknown = true;
		out->have_percent = false;
		out->have_vram = false;
	}
}
