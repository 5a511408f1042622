/* DRM fdinfo texts, and the GPU figures computed from them over ticks. Input:
 * chunks separated by NUL, each a control byte and one fdinfo text. The
 * control byte picks the device (bits 0-1) and the fallback key (bits 2-4);
 * bit 5 ends the tick first, bit 6 keeps its time (a zero interval), bit 7 is
 * free (so that a control byte need not be NUL), and 0xff marks an unreadable
 * fdinfo instead. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "fdinfo.h"
#include "fuzz.h"
#include "drmmath.h"

static struct drmmath_state g; /* ~700 KiB: not on the stack */

static void check_fdinfo(const struct fdinfo *fi)
{
	FUZZ_ASSERT(memchr(fi->driver, '\0', sizeof(fi->driver)) && fi->driver[0]);
	FUZZ_ASSERT(memchr(fi->pdev, '\0', sizeof(fi->pdev)));
	FUZZ_ASSERT(fi->n_engines >= 0 && fi->n_engines <= FDINFO_MAX_ENGINES);
	for (int i = 0; i < fi->n_engines; i++) {
		const struct fdinfo_engine *e = &fi->engines[i];

		FUZZ_ASSERT(e->name[0] && memchr(e->name, '\0', sizeof(e->name)));
		FUZZ_ASSERT(e->capacity >= 1);
		FUZZ_ASSERT(!e->has_percent || (isfinite(e->percent) && e->percent >= 0));
	}
}

static void end_tick(void)
{
	struct drmmath_result r;

	drmmath_end_tick(&g, &r);
	FUZZ_ASSERT(r.clients >= 0 && r.clients <= DRMMATH_MAX_CLIENTS);
	FUZZ_ASSERT(isfinite(r.percent) && r.percent >= 0 && r.percent <= 100);
	FUZZ_ASSERT(!r.unknown || (!r.have_percent && !r.have_vram));
	drmmath_begin_tick(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const devs[] = { "0000:03:00.0", "0000:04:00.0", "card0", "" };
	const char *p = (const char *)data, *end = p + size;
	int64_t now = 1000000000;
	struct fdinfo fi;

	drmmath_init(&g);
	drmmath_begin_tick(&g);
	while (p < end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
		unsigned char ctl = n ? (unsigned char)p[0] : 0;

		if (n && ctl == 0xff) {
			drmmath_unknown(&g);
		} else {
			if (ctl & 0x20) {
				end_tick();
				if (!(ctl & 0x40))
					now += 1000000000;
			}
			/* The text without its control byte: exact, not NUL-terminated. */
			if (!fdinfo_parse(n ? p + 1 : p, n ? n - 1 : 0, &fi)) {
				check_fdinfo(&fi);
				drmmath_observe(&g, devs[ctl & 3], (ctl >> 2) & 7, &fi, now);
			}
		}
		p += n + 1;
	}
	end_tick();
	return 0;
}
