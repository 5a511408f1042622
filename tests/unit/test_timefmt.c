/* ISO-8601 UTC times and human durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "clock.h"
#include "timefmt.h"

static void test_iso(void **state)
{
	char buf[TIMEFMT_ISO_LEN];

	assert_string_equal(timefmt_iso(0, buf), "1970-01-01T00:00:00Z");
	assert_string_equal(timefmt_iso(1795514400, buf), "2026-11-24T10:00:00Z");
	assert_string_equal(timefmt_iso(1795514399, buf), "2026-11-24T09:59:59Z");
}

static void test_duration(void **state)
{
	char buf[32];

	assert_string_equal(timefmt_duration(0.25, buf, sizeof(buf)), "250ms");
	assert_string_equal(timefmt_duration(-3, buf, sizeof(buf)), "0ms");
	assert_string_equal(timefmt_duration(12.44, buf, sizeof(buf)), "12.4s");
	assert_string_equal(timefmt_duration(192, buf, sizeof(buf)), "3m12s");
	assert_string_equal(timefmt_duration(7500, buf, sizeof(buf)), "2h05m");
	/* Past any int: capped, never cast as it is. */
	assert_string_equal(timefmt_duration(1e10, buf, sizeof(buf)), "1000000h00m");
	assert_string_equal(timefmt_duration(INFINITY, buf, sizeof(buf)), "1000000h00m");
	assert_string_equal(timefmt_duration(3e9, buf, sizeof(buf)), "833333h20m");
	assert_string_equal(timefmt_duration(-INFINITY, buf, sizeof(buf)), "0ms");
	assert_string_equal(timefmt_duration(NAN, buf, sizeof(buf)), "?");
}

static void test_boot_to_unix(void **state)
{
	/* Boot time 0 is the moment of boot: before now, after 2020. */
	int64_t boot = clock_boot_to_real_ns(0);

	assert_true(boot <= clock_real_ns());
	assert_true(boot > INT64_C(1577836800) * 1000000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_boot_to_unix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
