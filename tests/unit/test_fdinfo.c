/* DRM fdinfo parsing on a fixture per driver shape (tests/unit/fixtures/fdinfo,
 * written from shared/reference/drm-fdinfo.md), and the utilization
 * arithmetic against figures computed by hand. Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fdinfo.h"
#include "drmmath.h"

#define KIB 1024ull
#define SEC 1000000000ll

static int load(const char *name, struct fdinfo *fi)
{
	char path[256], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "tests/unit/fixtures/fdinfo/%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return fdinfo_parse(buf, n, fi);
}

static const struct fdinfo_engine *eng(const struct fdinfo *fi, const char *name)
{
	for (int i = 0; i < fi->n_engines; i++)
		if (!strcmp(fi->engines[i].name, name))
			return &fi->engines[i];
	fail_msg("no engine %s", name);
	return NULL;
}

static void test_amdgpu(void **state)
{
	struct fdinfo fi;

	assert_int_equal(load("amdgpu.txt", &fi), 0);
	assert_string_equal(fi.driver, "amdgpu");
	assert_string_equal(fi.pdev, "0000:04:00.0");
	assert_true(fi.has_client_id);
	assert_int_equal(fi.client_id, 4);
	/* drm-resident-vram only: the drm-memory-vram alias is not added. */
	assert_true(fi.has_vram);
	assert_int_equal(fi.vram_bytes, 44564 * KIB);
	assert_int_equal(fi.n_engines, 2);
	assert_int_equal(eng(&fi, "gfx")->ns, 107322799);
	assert_int_equal(eng(&fi, "compute")->ns, 46464671);
}

static void test_amdgpu_alias_and_duplicate_header(void **state)
{
	struct fdinfo fi;

	assert_int_equal(load("amdgpu-6x-alias-dup-header.txt", &fi), 0);
	assert_int_equal(fi.client_id, 9); /* the first of two */
	assert_int_equal(fi.vram_bytes, 1024 * KIB); /* only the alias is printed */
	assert_int_equal(eng(&fi, "gfx")->ns, 5000);
}

static void test_amdgpu_legacy(void **state)
{
	struct fdinfo fi;

	assert_int_equal(load("amdgpu-legacy.txt", &fi), 0);
	assert_string_equal(fi.driver, "amdgpu");
	assert_string_equal(fi.pdev, "0000:04:00.0");
	assert_int_equal(fi.client_id, 32771); /* pasid */
	assert_int_equal(fi.vram_bytes, 2068 * KIB);
	assert_true(eng(&fi, "gfx0")->has_percent);
	assert_true(fabs(eng(&fi, "gfx0")->percent - 12.5) < 1e-9);
	assert_true(fabs(eng(&fi, "comp_1.0.0")->percent - 3) < 1e-9);
}

static void test_i915(void **state)
{
	struct fdinfo fi;

	assert_int_equal(load("i915.txt", &fi), 0);
	assert_int_equal(fi.client_id, 39);
	assert_false(fi.has_vram); /* system0 is RAM */
	assert_int_equal(eng(&fi, "render")->ns, 346249);
	assert_int_equal(eng(&fi, "video")->capacity, 2);
	assert_int_equal(eng(&fi, "video-enhance")->capacity, 1);
	assert_int_equal(fi.n_engines, 4);
	assert_int_equal(load("i915-discrete.txt", &fi), 0);
	assert_int_equal(fi.vram_bytes, 8 * 1024 * KIB); /* local0 */
}

static void test_xe(void **state)
{
	struct fdinfo fi;

	assert_int_equal(load("xe.txt", &fi), 0);
	assert_int_equal(fi.vram_bytes, 23992 * KIB);
	assert_false(eng(&fi, "rcs")->has_ns);
	assert_int_equal(eng(&fi, "rcs")->cycles, 28257900);
	assert_int_equal(eng(&fi, "rcs")->total_cycles, 7655183225ull);
	assert_int_equal(eng(&fi, "ccs")->capacity, 4);
	assert_int_equal(fi.n_engines, 2); /* drm-total-cycles- is not a memory region */
}

static void test_panfrost_msm_v3d_etnaviv(void **state)
{
	struct fdinfo fi;

	assert_int_equal(load("panfrost.txt", &fi), 0);
	assert_string_equal(fi.pdev, ""); /* platform device */
	assert_true(eng(&fi, "fragment")->has_ns && eng(&fi, "fragment")->has_cycles);
	assert_false(fi.has_vram); /* region "memory" is system RAM */
	assert_int_equal(fi.n_engines, 2);
	assert_int_equal(load("msm.txt", &fi), 0);
	assert_int_equal(eng(&fi, "gpu")->ns, 123456789);
	assert_int_equal(load("v3d.txt", &fi), 0);
	assert_int_equal(fi.n_engines, 5);
	assert_int_equal(eng(&fi, "cache_clean")->ns, 0);
	assert_int_equal(load("etnaviv.txt", &fi), 0);
	assert_int_equal(fi.n_engines, 0);
	assert_false(fi.has_vram);
	assert_int_equal(load("unknown-driver.txt", &fi), 0);
	assert_string_equal(fi.driver, "newgpu");
	assert_int_equal(eng(&fi, "shader")->ns, 5000);
	assert_int_equal(fi.vram_bytes, 123); /* no unit: bytes */
	assert_int_equal(load("not-drm.txt", &fi), -ENOENT);
}

static void test_odd_lines(void **state)
{
	struct fdinfo fi;
	const char *s = "drm-driver:\tx\ndrm-engine-a:\t18446744073709551615 ns\n"
			"drm-engine-b:\t99999999999999999999 ns\ndrm-resident-vram:\t17179869184 GiB\n"
			"drm-engine-c:\t12 parsecs\ndrm-engine-:\t5 ns\n:\t7\nnocolon\n"
			"drm-resident-vram0:\t1 MiB";

	assert_int_equal(fdinfo_parse(s, strlen(s), &fi), 0);
	assert_int_equal(eng(&fi, "a")->ns, UINT64_MAX);
	assert_false(eng(&fi, "b")->has_ns); /* overflow: unreadable, skipped */
	assert_false(eng(&fi, "c")->has_ns);
	assert_int_equal(fi.vram_bytes, 1024 * KIB); /* the overflowing GiB line skipped */
	assert_int_equal(fdinfo_parse("", 0, &fi), -ENOENT);
}

/* sscanf reads "nan" and "inf": an old amdgpu ring's share is neither. */
static void test_percent_not_finite(void **state)
{
	struct fdinfo fi;
	const char *s = "pdev:\t0000:04:00.0\ngfx0:\tnan%\ncomp0:\tinf%\ndma0:\t-1%\nsdma0:\t2.5%";

	assert_int_equal(fdinfo_parse(s, strlen(s), &fi), 0);
	assert_int_equal(fi.n_engines, 1);
	assert_true(eng(&fi, "sdma0")->has_percent);
}

/* Replaces engine figures in a parsed client. */
static void set_ns(struct fdinfo *fi, const char *name, uint64_t ns)
{
	((struct fdinfo_engine *)eng(fi, name))->ns = ns;
}

static void test_util_ns(void **state)
{
	static struct drmmath_state g;
	struct drmmath_result r;
	struct fdinfo fi;

	drmmath_init(&g);
	load("i915.txt", &fi);
	/* First sighting: a baseline, no percent yet. */
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "0000:00:02.0", 0, &fi, 0);
	drmmath_end_tick(&g, &r);
	assert_false(r.have_percent);
	/* render +250 ms in 1 s: 25 %; video +1 s over capacity 2: 50 %. Max: 50. */
	set_ns(&fi, "render", 346249 + 250000000);
	set_ns(&fi, "video", 1000000000);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "0000:00:02.0", 0, &fi, SEC);
	/* The same client through a dup'd fd and a child: counted once. */
	drmmath_observe(&g, "0000:00:02.0", 1, &fi, SEC);
	drmmath_observe(&g, "0000:00:02.0", 2, &fi, SEC);
	drmmath_end_tick(&g, &r);
	assert_int_equal(r.clients, 1);
	assert_true(r.have_percent);
	assert_true(fabs(r.percent - 50) < 1e-6);
	/* A counter going backwards keeps the old baseline: 0 now, ... */
	set_ns(&fi, "render", 100);
	set_ns(&fi, "video", 1000000000);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "0000:00:02.0", 0, &fi, 2 * SEC);
	drmmath_end_tick(&g, &r);
	assert_true(r.have_percent && r.percent == 0);
	/* ... and the next delta is against it: +100 ms over the baseline in 1 s. */
	set_ns(&fi, "render", 346249 + 350000000);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "0000:00:02.0", 0, &fi, 3 * SEC);
	drmmath_end_tick(&g, &r);
	assert_true(fabs(r.percent - 10) < 1e-6);
	/* The fd closed: the client is forgotten; next time it is new again. */
	drmmath_begin_tick(&g);
	drmmath_end_tick(&g, &r);
	assert_false(r.have_percent);
	assert_false(r.have_vram);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "0000:00:02.0", 0, &fi, 5 * SEC);
	drmmath_end_tick(&g, &r);
	assert_false(r.have_percent);
}

static void test_util_xe_cycles_and_devices(void **state)
{
	static struct drmmath_state g;
	struct drmmath_result r;
	struct fdinfo a, b;

	drmmath_init(&g);
	load("xe.txt", &a);
	load("amdgpu.txt", &b);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "0000:03:00.0", 0, &a, 0);
	drmmath_observe(&g, "0000:04:00.0", 0, &b, 0);
	drmmath_end_tick(&g, &r);
	/* VRAM: both devices' resident local memory. */
	assert_true(r.have_vram);
	assert_int_equal(r.vram_bytes, (23992 + 44564) * KIB);
	/* xe: rcs +300 of +1000 total cycles: 30 %; ccs +2000 of 1000 x4: 50 %.
	 * amdgpu: gfx +0.7 s in 1 s: 70 %. The busiest engine anywhere: 70. */
	((struct fdinfo_engine *)eng(&a, "rcs"))->cycles += 300;
	((struct fdinfo_engine *)eng(&a, "rcs"))->total_cycles += 1000;
	((struct fdinfo_engine *)eng(&a, "ccs"))->cycles += 2000;
	((struct fdinfo_engine *)eng(&a, "ccs"))->total_cycles += 1000;
	set_ns(&b, "gfx", 107322799 + 700000000);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "0000:03:00.0", 0, &a, SEC);
	drmmath_observe(&g, "0000:04:00.0", 0, &b, SEC);
	drmmath_end_tick(&g, &r);
	assert_true(fabs(r.percent - 70) < 1e-6);
	/* Two clients of one device add up on an engine, clamped at 100. */
	{
		struct fdinfo c = b;

		c.client_id = 5;
		drmmath_begin_tick(&g);
		drmmath_observe(&g, "0000:04:00.0", 0, &b, 2 * SEC);
		drmmath_observe(&g, "0000:04:00.0", 0, &c, 2 * SEC);
		drmmath_end_tick(&g, &r);
		set_ns(&b, "gfx", 107322799 + 1500000000);
		set_ns(&c, "gfx", 107322799 + 1400000000);
		drmmath_begin_tick(&g);
		drmmath_observe(&g, "0000:04:00.0", 0, &b, 3 * SEC);
		drmmath_observe(&g, "0000:04:00.0", 0, &c, 3 * SEC);
		drmmath_end_tick(&g, &r);
		/* 0.8 + 0.7 engine-seconds in 1 s: 150 % -> 100. */
		assert_true(r.percent == 100);
	}
}

static void test_util_new_engine_and_unknown(void **state)
{
	static struct drmmath_state g;
	struct drmmath_result r;
	struct fdinfo fi;
	const char *first = "drm-driver:\tamdgpu\ndrm-client-id:\t1\ndrm-engine-gfx:\t0 ns\n";
	const char *later = "drm-driver:\tamdgpu\ndrm-client-id:\t1\ndrm-engine-gfx:\t0 ns\n"
			    "drm-engine-compute:\t400000000 ns\n";

	drmmath_init(&g);
	fdinfo_parse(first, strlen(first), &fi);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "d", 0, &fi, 0);
	drmmath_end_tick(&g, &r);
	/* amdgpu prints an engine once it is non-zero: it was 0 before. */
	fdinfo_parse(later, strlen(later), &fi);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "d", 0, &fi, SEC);
	drmmath_end_tick(&g, &r);
	assert_true(fabs(r.percent - 40) < 1e-6);
	/* An unreadable fdinfo makes the tick unknown, not zero. */
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "d", 0, &fi, 2 * SEC);
	drmmath_unknown(&g);
	drmmath_end_tick(&g, &r);
	assert_true(r.unknown);
	assert_int_equal(r.clients, 1);
	assert_false(r.have_percent);
	assert_false(r.have_vram);
}

/* Two ticks of one client, 1 s apart, with engine name's ns/cycles advanced. */
static double two_ticks(const char *fixture, const char *name, uint64_t dns, uint64_t dcycles)
{
	static struct drmmath_state g;
	struct fdinfo fi;
	struct drmmath_result r;
	struct fdinfo_engine *e;

	drmmath_init(&g);
	assert_int_equal(load(fixture, &fi), 0);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "dev", 0, &fi, 0);
	drmmath_end_tick(&g, &r);
	e = (struct fdinfo_engine *)eng(&fi, name);
	e->ns += dns;
	e->cycles += dcycles;
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "dev", 0, &fi, SEC);
	drmmath_end_tick(&g, &r);
	assert_true(r.have_percent);
	return r.percent;
}

static void test_util_every_shape(void **state)
{
	static struct drmmath_state g;
	struct drmmath_result r;
	struct fdinfo fi;

	/* panfrost: ns wins over cycles+maxfreq: +0.3 s in 1 s is 30 % whatever
	 * the cycles did. msm likewise; v3d's render engine. */
	assert_true(fabs(two_ticks("panfrost.txt", "fragment", 300000000, 999999999) - 30) < 1e-6);
	assert_true(fabs(two_ticks("msm.txt", "gpu", 600000000, 5) - 60) < 1e-6);
	assert_true(fabs(two_ticks("v3d.txt", "render", 250000000, 0) - 25) < 1e-6);
	assert_true(fabs(two_ticks("unknown-driver.txt", "shader", 100000000, 0) - 10) < 1e-6);
	/* Old amdgpu: the rings' instantaneous shares, busiest 12.5 %, at once. */
	drmmath_init(&g);
	load("amdgpu-legacy.txt", &fi);
	drmmath_begin_tick(&g);
	drmmath_observe(&g, "0000:04:00.0", 0, &fi, 0);
	drmmath_end_tick(&g, &r);
	assert_true(r.have_percent && fabs(r.percent - 12.5) < 1e-6);
	assert_int_equal(r.vram_bytes, 2068 * KIB);
	/* etnaviv: memory only: no percent ever, no device VRAM. */
	drmmath_init(&g);
	load("etnaviv.txt", &fi);
	for (int t = 0; t < 2; t++) {
		drmmath_begin_tick(&g);
		drmmath_observe(&g, "drm:128", 0, &fi, t * SEC);
		drmmath_end_tick(&g, &r);
	}
	assert_false(r.have_percent);
	assert_false(r.have_vram);
	assert_int_equal(r.clients, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amdgpu),
		cmocka_unit_test(test_amdgpu_alias_and_duplicate_header),
		cmocka_unit_test(test_amdgpu_legacy),
		cmocka_unit_test(test_i915),
		cmocka_unit_test(test_xe),
		cmocka_unit_test(test_panfrost_msm_v3d_etnaviv),
		cmocka_unit_test(test_odd_lines),
		cmocka_unit_test(test_percent_not_finite),
		cmocka_unit_test(test_util_ns),
		cmocka_unit_test(test_util_xe_cycles_and_devices),
		cmocka_unit_test(test_util_new_engine_and_unknown),
		cmocka_unit_test(test_util_every_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
