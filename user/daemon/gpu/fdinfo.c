/* DRM fdinfo parsed into one client's figures, without allocation. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fdinfo.h"

struct line {
	const char *key, *val; /* val: after the colon and any blanks */
	size_t klen, vlen;
};

static bool key_is(const struct line *l, const char *k)
{
	return l->klen == strlen(k) && !memcmp(l->key, k, l->klen);
}

/* If the key starts with prefix, the rest (the engine or region name). */
static bool key_suffix(const struct line *l, const char *prefix, const char **rest, size_t *rlen)
{
	size_t n = strlen(prefix);

	if (l->klen <= n || memcmp(l->key, prefix, n))
		return false;
	*rest = l->key + n;
	*rlen = l->klen - n;
	return true;
}

/* "N", "N ns", "N KiB", ...: the number scaled by its unit into *v.
 * No unit means bytes (or plain count); kB is the kernel's 1024. */
static bool value_u64(const struct line *l, uint64_t *v)
{
	const char *p = l->val, *end = l->val + l->vlen;
	uint64_t x = 0, mult = 1;
	size_t ulen;

	if (p == end || *p < '0' || *p > '9')
		return false;
	while (p < end && *p >= '0' && *p <= '9') {
		uint64_t d = (uint64_t)(*p++ - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	ulen = (size_t)(end - p);
	if (ulen == 0 || (ulen == 2 && !memcmp(p, "ns", 2)) || (ulen == 1 && *p == 'B') ||
	    (ulen == 2 && !memcmp(p, "Hz", 2)))
		mult = 1;
	else if ((ulen == 3 && !memcmp(p, "KiB", 3)) || (ulen == 2 && !memcmp(p, "kB", 2)))
		mult = 1024;
	else if (ulen == 3 && !memcmp(p, "MiB", 3))
		mult = 1024 * 1024;
	else if (ulen == 3 && !memcmp(p, "GiB", 3))
		mult = 1024ull * 1024 * 1024;
	else
		return false;
	if (x > UINT64_MAX / mult)
		return false;
	*v = x * mult;
	return true;
}

/* "12.5%": the percentage. */
static bool value_percent(const struct line *l, double *pct)
{
	char tmp[32];
	double d;
	int n;

	if (l->vlen == 0 || l->vlen >= sizeof(tmp) || l->val[l->vlen - 1] != '%')
		return false;
	memcpy(tmp, l->val, l->vlen - 1);
	tmp[l->vlen - 1] = '\0';
	/* sscanf takes "nan" and "inf" too: neither is a share. */
	if (sscanf(tmp, "%lf%n", &d, &n) != 1 || (size_t)n != l->vlen - 1 || !isfinite(d) || d < 0)
		return false;
	*pct = d;
	return true;
}

static void copy_str(char *dst, const char *s, size_t n)
{
	if (n >= FDINFO_NAME_MAX)
		n = FDINFO_NAME_MAX - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static struct fdinfo_engine *engine(struct fdinfo *fi, const char *name, size_t n)
{
	struct fdinfo_engine *e;

	if (n == 0 || n >= FDINFO_NAME_MAX)
		return NULL;
	for (int i = 0; i < fi->n_engines; i++)
		if (strlen(fi->engines[i].name) == n && !memcmp(fi->engines[i].name, name, n))
			return &fi->engines[i];
	if (fi->n_engines == FDINFO_MAX_ENGINES)
		return NULL;
	e = &fi->engines[fi->n_engines++];
	memset(e, 0, sizeof(*e));
	copy_str(e->name, name, n);
	e->capacity = 1;
	return e;
}

/* Device-local regions: vram, vram0, vram1, local0, ... */
static bool local_region(const char *r, size_t n)
{
	size_t k = n >= 4 && !memcmp(r, "vram", 4) ? 4 : n >= 5 && !memcmp(r, "local", 5) ? 5 : 0;

	if (!k)
		return false;
	for (; k < n; k++)
		if (r[k] < '0' || r[k] > '9')
			return false;
	return true;
}

static bool split(const char *p, const char *eol, struct line *l)
{
	const char *colon = memchr(p, ':', (size_t)(eol - p));

	if (!colon || colon == p)
		return false;
	l->key = p;
	l->klen = (size_t)(colon - p);
	l->val = colon + 1;
	/* amdgpu prints a stray space before the tab on some lines. */
	while (l->val < eol && (*l->val == ' ' || *l->val == '\t'))
		l->val++;
	l->vlen = (size_t)(eol - l->val);
	while (l->vlen && (l->val[l->vlen - 1] == ' ' || l->val[l->vlen - 1] == '\t' ||
			   l->val[l->vlen - 1] == '\r'))
		l->vlen--;
	return true;
}

int fdinfo_parse(const char *buf, size_t len, struct fdinfo *fi)
{
	const char *p = buf, *end = buf + len;
	uint64_t resident = 0, alias = 0, legacy_vram = 0, v;
	bool has_resident = false, has_alias = false, has_legacy = false, legacy_keys = false;

	memset(fi, 0, sizeof(*fi));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *rest;
		struct fdinfo_engine *e;
		struct line l;
		size_t rlen;
		double pct;

		if (!eol)
			eol = end;
		if (!split(p, eol, &l)) {
			p = eol + 1;
			continue;
		}
		p = eol + 1;
		if (key_is(&l, "drm-driver")) {
			if (!fi->driver[0])
				copy_str(fi->driver, l.val, l.vlen);
		} else if (key_is(&l, "drm-client-id")) {
			/* Some amdgpu kernels print the header twice: the first wins. */
			if (!fi->has_client_id && value_u64(&l, &v)) {
				fi->client_id = v;
				fi->has_client_id = true;
			}
		} else if (key_is(&l, "drm-pdev") || key_is(&l, "pdev")) {
			if (!fi->pdev[0])
				copy_str(fi->pdev, l.val, l.vlen);
			legacy_keys |= key_is(&l, "pdev");
		} else if (key_suffix(&l, "drm-engine-capacity-", &rest, &rlen)) {
			/* Before drm-engine-: it shares the prefix. */
			if ((e = engine(fi, rest, rlen)) && value_u64(&l, &v) && v > 0 && v < 1u << 20)
				e->capacity = (uint32_t)v;
		} else if (key_suffix(&l, "drm-engine-", &rest, &rlen)) {
			if ((e = engine(fi, rest, rlen)) && !e->has_ns && value_u64(&l, &v)) {
				e->ns = v;
				e->has_ns = true;
			}
		} else if (key_suffix(&l, "drm-total-cycles-", &rest, &rlen)) {
			/* Before drm-total-: that prefix is memory regions. */
			if ((e = engine(fi, rest, rlen)) && !e->has_total_cycles && value_u64(&l, &v)) {
				e->total_cycles = v;
				e->has_total_cycles = true;
			}
		} else if (key_suffix(&l, "drm-cycles-", &rest, &rlen)) {
			if ((e = engine(fi, rest, rlen)) && !e->has_cycles && value_u64(&l, &v)) {
				e->cycles = v;
				e->has_cycles = true;
			}
		} else if (key_suffix(&l, "drm-resident-", &rest, &rlen)) {
			if (local_region(rest, rlen) && value_u64(&l, &v)) {
				resident += v;
				has_resident = true;
			}
		} else if (key_suffix(&l, "drm-memory-", &rest, &rlen)) {
			/* Deprecated alias of drm-resident-<r> (amdgpu): used only
			 * when the kernel prints no drm-resident- at all. */
			if (local_region(rest, rlen) && value_u64(&l, &v)) {
				alias += v;
				has_alias = true;
			}
		} else if (l.klen >= 4 && !memcmp(l.key, "drm-", 4)) {
			continue; /* drm-total-, drm-shared-, drm-maxfreq-, ... */
		} else if (key_is(&l, "pasid")) {
			/* amdgpu before 5.19 has no client id; its pasid is per client. */
			if (!fi->has_client_id && value_u64(&l, &v)) {
				fi->client_id = v;
				fi->has_client_id = true;
			}
		} else if (key_is(&l, "vram mem")) {
			if (value_u64(&l, &v)) {
				legacy_vram = v;
				has_legacy = legacy_keys = true;
			}
		} else if (value_percent(&l, &pct)) {
			/* amdgpu before 5.19: a ring's instantaneous busy share. */
			if ((e = engine(fi, l.key, l.klen)) && !e->has_percent) {
				e->percent = pct;
				e->has_percent = true;
				legacy_keys = true;
			}
		}
	}
	if (!fi->driver[0]) {
		if (!legacy_keys)
			return -ENOENT;
		snprintf(fi->driver, sizeof(fi->driver), "amdgpu");
	}
	if (has_resident || has_alias || has_legacy) {
		fi->has_vram = true;
		fi->vram_bytes = has_resident ? resident : has_alias ? alias : legacy_vram;
	}
	return 0;
}
