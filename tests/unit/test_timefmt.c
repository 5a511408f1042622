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

static void test_iso_ms(void **state)
{
	char buf[TIMEFMT_ISO_LEN];

	assert_string_equal(timefmt_iso_ms(INT64_C(1795514400) * 1000000000 + 123999999, buf),
			    "2026-11-24T10:00:00.123Z");
	assert_string_equal(timefmt_iso_ms(0, buf), "1970-01-01T00:00:00.000Z");
	assert_string_equal(timefmt_iso_ms(-1, buf), "1969-12-31T23:59:59.999Z");
	timefmt_iso_ms(INT64_MIN, buf); /* out of the calendar: empty or a date, never UB */
}

static void parses(const char *s, int64_t want)
{
	int64_t got = -1;

	assert_int_equal(timefmt_parse_iso_ns(s, strlen(s), &got), 0);
	assert_int_equal(got, want);
}

static void refuses(const char *s)
{
	int64_t got;

	assert_int_equal(timefmt_parse_iso_ns(s, strlen(s), &got), -1);
}

static void test_parse_iso(void **state)
{
	parses("2026-11-24T10:00:00Z", INT64_C(1795514400) * 1000000000);
	parses("2026-11-24T10:00:00.5Z", INT64_C(1795514400) * 1000000000 + 500000000);
	parses("2025-10-20T10:00:09.000Z", INT64_C(1760954409) * 1000000000);
	parses("2024-02-29T23:59:59.999999999Z", INT64_C(1709251199) * 1000000000 + 999999999);
	parses("1970-01-01T00:00:00Z", 0);
	refuses("2026-11-24T10:00:00");
	refuses("2026-11-24T10:00:00+01:00");
	refuses("2026-11-24T10:00:00.Z");
	refuses("2026-11-24T10:00:00.1234567890Z");
	refuses("2026-13-24T10:00:00Z");
	refuses("2026-11-24 10:00:00Z");
	refuses("1969-12-31T23:59:59Z");
	refuses("4050-10-20T10:00:06Z");
	refuses("2026-11-24T10:00:00ZZ");
	refuses("");
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
		cmocka_unit_test(test_iso_ms),
		cmocka_unit_test(test_parse_iso),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_boot_to_unix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
