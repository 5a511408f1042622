/* GPU arithmetic: NVML utilization from samples by NVIDIA's rules, exited processes'
 * accounting, a run's figures over devices, two backends together and
 * gpu_seconds integrated over readings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "nvmlmath.h"

#define EPS 1e-9

/* NVIDIA's rules: a sample at or before lastSeenTimeStamp, or over 100 %,
 * does not count. */
static void test_keep(void **state)
{
	struct nvmlmath_sample s[] = {
		{ 1, 900, 50 }, { 1, 1000, 50 }, { 1, 1100, 101 }, { 2, 1200, 100 }, { 3, 1300, 0 },
	};

	assert_int_equal(nvmlmath_keep(s, 5, 1000), 2);
	assert_int_equal(s[0].pid, 2);
	assert_int_equal(s[1].pid, 3);
	assert_int_equal(nvmlmath_keep(s, 0, 0), 0);
}

/* Each sample covers the time since the one before it (the first: since
 * lastSeenTimeStamp); with the period known, one period at most. */
static void test_proc_busy(void **state)
{
	/* One sample per process (NVIDIA's answer): the mean since lastSeen. */
	const struct nvmlmath_sample one[] = { { 7, 2000000, 60 }, { 9, 1500000, 20 } };
	/* Every period's sample: 7 busy at 60 % for two periods, idle for
	 * three (no samples), then 20 % for one. */
	const struct nvmlmath_sample all[] = {
		{ 7, 1100000, 60 }, { 7, 1200000, 60 }, { 7, 1600000, 20 },
	};

	assert_true(fabs(nvmlmath_proc_busy_us(one, 2, 7, 1000000, 0) - 600000) < EPS);
	assert_true(fabs(nvmlmath_proc_busy_us(one, 2, 9, 1000000, 0) - 100000) < EPS);
	assert_true(nvmlmath_proc_busy_us(one, 2, 8, 1000000, 0) < 0);
	/* 60 + 60 + 20 % of 100 ms: the idle periods are not the last sample's. */
	assert_true(fabs(nvmlmath_proc_busy_us(all, 3, 7, 1000000, 100000) - 140000) < EPS);
	/* Unknown period: each covers the time since the previous one. */
	assert_true(fabs(nvmlmath_proc_busy_us(all, 3, 7, 1000000, 0) - 200000) < EPS);
	/* Nothing before lastSeen: a sample not after it covers nothing. */
	assert_true(fabs(nvmlmath_proc_busy_us(all, 1, 7, 1100000, 0)) < EPS);
}

static void test_period(void **state)
{
	const struct nvmlmath_sample s[] = {
		/* pid 1: steps of 200 ms and 100 ms; a duplicate 0.5 ms apart */
		{ 1, 1000000, 5 }, { 1, 1200000, 5 }, { 1, 1300000, 5 }, { 1, 1300500, 5 },
		/* pid 2 starts 20 ms after pid 1's last: not a step of either */
		{ 2, 1320000, 5 },
	};

	assert_int_equal(nvmlmath_period(s, 5, 0), 100000);
	assert_int_equal(nvmlmath_period(s, 1, 166666), 166666);
	assert_int_equal(nvmlmath_period(&s[3], 2, 7), 7);
}

static void test_acct(void **state)
{
	struct nvmlmath_acct a = { .util = 40, .start_us = 500, .end_us = 1500 };

	/* Lived over half of the window [1000, 2000]: 20 %. */
	assert_true(fabs(nvmlmath_acct_util(&a, 1000, 2000) - 20) < EPS);
	assert_true(fabs(nvmlmath_acct_util(&a, 0, 4000) - 10) < EPS);
	assert_true(nvmlmath_acct_util(&a, 1500, 2500) == 0);
	assert_true(nvmlmath_acct_util(&a, 2000, 2000) == 0);
	a.util = 300;
	assert_true(fabs(nvmlmath_acct_util(&a, 1000, 1500) - 100) < EPS);
}

/* Two devices: the run's processes 10 and 11 on the first, 12 on the
 * second; 99 is another run's and never counted. */
static const struct nvmlmath_proc procs0[] = {
	{ 10, true, 1000 }, { 11, true, 2000 }, { 99, true, 1 << 30 } };
static const struct nvmlmath_proc procs1[] = { { 12, true, 4000 } };
static const struct nvmlmath_sample samples0[] = {
	{ 10, 500000, 30 }, { 10, 1000000, 50 }, { 11, 1000000, 25 }, { 99, 1000000, 100 } };
static const struct nvmlmath_sample samples1[] = { { 12, 1000000, 70 } };

static void devs_init(struct nvmlmath_dev d[2])
{
	d[0] = (struct nvmlmath_dev){ .procs_ok = true, .procs = procs0, .n_procs = 3,
				     .util_ok = true, .util_window = true, .since_us = 0,
				     .until_us = 1000000, .samples = samples0, .n_samples = 4 };
	d[1] = (struct nvmlmath_dev){ .procs_ok = true, .procs = procs1, .n_procs = 1,
				     .util_ok = true, .util_window = true, .since_us = 0,
				     .until_us = 1000000, .samples = samples1, .n_samples = 1 };
}

static void test_run(void **state)
{
	const uint32_t members[] = { 10, 11, 12, 13 };
	struct nvmlmath_dev d[2];
	struct gpufig r;
	uint32_t found[8];
	size_t n_found;

	devs_init(d);
	nvmlmath_run(d, 2, members, 4, NULL, 0, &r, found, 8, &n_found);
	/* Device 0: 40 (30 % of its first half second, 50 % of the second) +
	 * 25; device 1: 70: the busiest. */
	assert_true(r.have_percent && fabs(r.percent - 70) < EPS);
	assert_true(r.have_vram);
	assert_int_equal(r.vram_bytes, 7000);
	assert_int_equal(n_found, 3);
	assert_int_equal(r.procs, 3);
	/* Only the run's: without 12, device 0's 65 is the busiest. */
	nvmlmath_run(d, 2, members, 2, NULL, 0, &r, found, 8, &n_found);
	assert_true(fabs(r.percent - 65) < EPS);
	assert_int_equal(r.vram_bytes, 3000);
	/* found is bounded. */
	nvmlmath_run(d, 2, members, 4, NULL, 0, &r, found, 2, &n_found);
	assert_int_equal(n_found, 2);
	/* Summed past 100: clamped. */
	const struct nvmlmath_sample hot[] = { { 10, 1000000, 80 }, { 11, 1000000, 90 } };

	d[0].samples = hot;
	d[0].n_samples = 2;
	nvmlmath_run(d, 1, members, 4, NULL, 0, &r, found, 8, &n_found);
	assert_true(fabs(r.percent - 100) < EPS);
}

/* Errors are unknown, never zero; a run with nothing on a device is zero. */
static void test_run_unknown(void **state)
{
	const uint32_t members[] = { 10, 11, 12 }, none[] = { 5 };
	struct nvmlmath_dev d[2];
	struct gpufig r;
	uint32_t found[8];
	size_t n_found;

	devs_init(d);
	d[1].util_ok = false; /* GPU lost, no permission... */
	nvmlmath_run(d, 2, members, 3, NULL, 0, &r, found, 8, &n_found);
	assert_false(r.have_percent);
	assert_true(r.percent == 0);
	assert_true(r.have_vram);
	devs_init(d);
	d[0].util_window = false; /* read once: no window yet */
	nvmlmath_run(d, 2, members, 3, NULL, 0, &r, found, 8, &n_found);
	assert_false(r.have_percent);
	devs_init(d);
	d[1].procs_ok = false;
	nvmlmath_run(d, 2, members, 3, NULL, 0, &r, found, 8, &n_found);
	assert_false(r.have_vram);
	assert_int_equal(r.vram_bytes, 0);
	assert_true(r.have_percent);
	/* Memory NVML could not measure (WDDM): unknown, not zero. */
	const struct nvmlmath_proc na[] = { { 11, false, 0 } };

	devs_init(d);
	d[0].procs = na;
	d[0].n_procs = 1;
	nvmlmath_run(d, 2, members, 3, NULL, 0, &r, found, 8, &n_found);
	assert_false(r.have_vram);
	/* Nothing of the run on any device: zeros, known. */
	devs_init(d);
	nvmlmath_run(d, 2, none, 1, NULL, 0, &r, found, 8, &n_found);
	assert_true(r.have_percent && r.have_vram);
	assert_true(r.percent == 0);
	assert_int_equal(r.vram_bytes, 0);
	assert_int_equal(n_found, 0);
}

/* A member that exited between readings: its accounting counts on the
 * device only when it left no sample there. */
static void test_run_accounting(void **state)
{
	const uint32_t members[] = { 10, 11, 12, 20 };
	const struct nvmlmath_acct acct[] = {
		{ .dev = 0, .pid = 20, .util = 80, .start_us = 0, .end_us = 500000 },
		{ .dev = 1, .pid = 12, .util = 100, .start_us = 0, .end_us = 1000000 },
	};
	struct nvmlmath_dev d[2];
	struct gpufig r;
	uint32_t found[8];
	size_t n_found;

	devs_init(d);
	nvmlmath_run(d, 2, members, 4, acct, 2, &r, found, 8, &n_found);
	/* Device 0: 65 + 80 × half the window = 105: 100. Device 1: 12 has a
	 * sample, its accounting is not added: 70. */
	assert_true(fabs(r.percent - 100) < EPS);
	d[0].samples = samples0 + 3; /* only 99's */
	d[0].n_samples = 1;
	nvmlmath_run(d, 1, members, 4, acct, 2, &r, found, 8, &n_found);
	assert_true(fabs(r.percent - 40) < EPS);
}

static void test_combine(void **state)
{
	struct gpufig drm = { true, 30, true, 100, 1 }, nv = { true, 55, true, 900, 2 }, out;

	gpufig_combine(&drm, &nv, &out);
	assert_true(out.have_percent && fabs(out.percent - 55) < EPS);
	assert_true(out.have_vram);
	assert_int_equal(out.vram_bytes, 1000);
	assert_int_equal(out.procs, 3);
	nv.have_percent = false;
	gpufig_combine(&drm, &nv, &out);
	assert_false(out.have_percent);
	assert_true(out.percent == 0);
	drm.have_vram = false;
	gpufig_combine(&drm, &nv, &out);
	assert_false(out.have_vram);
	assert_int_equal(out.vram_bytes, 0);
}

/* gpu_seconds: percent / 100 × the time since the previous reading; the
 * first reading and unknown ones add nothing, and it stays unknown until
 * an interval is known. */
static void test_busy(void **state)
{
	struct gpufig_busy b = { 0 };

	gpufig_busy_add(&b, 1000000000, true, 50); /* first: primes only */
	assert_false(b.have);
	gpufig_busy_add(&b, 2000000000, false, 0); /* unknown: skipped */
	assert_false(b.have);
	gpufig_busy_add(&b, 3000000000, true, 50); /* 1 s at 50 % */
	assert_true(b.have);
	assert_true(fabs(b.seconds - 0.5) < EPS);
	gpufig_busy_add(&b, 3500000000, true, 100); /* 0.5 s at 100 % */
	assert_true(fabs(b.seconds - 1.0) < EPS);
	gpufig_busy_add(&b, 4500000000, true, 250); /* clamped */
	assert_true(fabs(b.seconds - 2.0) < EPS);
	gpufig_busy_add(&b, 4500000000, true, 100); /* no time passed */
	assert_true(fabs(b.seconds - 2.0) < EPS);
	gpufig_busy_add(&b, 5500000000, true, 0);
	assert_true(fabs(b.seconds - 2.0) < EPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep),	      cmocka_unit_test(test_proc_busy),
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_acct),	      cmocka_unit_test(test_run),
		cmocka_unit_test(test_run_unknown),   cmocka_unit_test(test_run_accounting),
		cmocka_unit_test(test_combine),	      cmocka_unit_test(test_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
