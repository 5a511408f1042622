/* /proc/meminfo and /proc/stat parsing, including odd inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "host.h"

#define PARSE_MEM(s, out) host_parse_meminfo(s, strlen(s), out)

static void test_meminfo(void **state)
{
	struct host_mem m;
	const char *good = "MemTotal:       16303412 kB\nMemFree:         1034556 kB\n"
			   "MemAvailable:    9992392 kB\nBuffers:          383424 kB\n";

	assert_int_equal(PARSE_MEM(good, &m), 0);
	assert_int_equal(m.total_bytes, UINT64_C(16303412) * 1024);
	assert_int_equal(m.available_bytes, UINT64_C(9992392) * 1024);
}

static void test_meminfo_odd(void **state)
{
	struct host_mem m;

	/* Missing keys. */
	assert_int_equal(PARSE_MEM("MemTotal: 100 kB\nMemFree: 5 kB\n", &m), -EINVAL);
	assert_int_equal(PARSE_MEM("MemAvailable: 5 kB\n", &m), -EINVAL);
	assert_int_equal(PARSE_MEM("", &m), -EINVAL);
	/* Truncated in the middle of the number that matters. */
	assert_int_equal(PARSE_MEM("MemTotal: 100 kB\nMemAvailable: ", &m), -EINVAL);
	/* Huge values: kB * 1024 must not overflow. */
	assert_int_equal(PARSE_MEM("MemTotal: 18446744073709551615 kB\nMemAvailable: 1 kB\n", &m),
			 -EINVAL);
	assert_int_equal(PARSE_MEM("MemTotal: 99999999999999999999999 kB\nMemAvailable: 1 kB\n", &m),
			 -EINVAL);
	assert_int_equal(PARSE_MEM("MemTotal: 18014398509481983 kB\nMemAvailable: 1 kB\n", &m), 0);
	/* Available over total (racy reads) is capped. */
	assert_int_equal(PARSE_MEM("MemTotal: 10 kB\nMemAvailable: 20 kB", &m), 0);
	assert_int_equal(m.available_bytes, m.total_bytes);
	/* Key prefixes do not match other keys. */
	assert_int_equal(PARSE_MEM("MemTotalX: 10 kB\nMemAvailable: 2 kB\n", &m), -EINVAL);
}

static void test_stat(void **state)
{
	struct host_cpu c;
	const char *s = "cpu  100 5 50 800 20 3 2 1 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\n";

	assert_int_equal(host_parse_stat(s, strlen(s), &c), 0);
	assert_int_equal(c.total, 981);
	assert_int_equal(c.busy, 981 - 800 - 20);
	/* Old kernels: four fields. */
	assert_int_equal(host_parse_stat("cpu 1 2 3 4\n", 12, &c), 0);
	assert_int_equal(c.total, 10);
	assert_int_equal(host_parse_stat("cpu0 1 2 3 4\n", 13, &c), -EINVAL);
	assert_int_equal(host_parse_stat("cpu 1 2\n", 8, &c), -EINVAL);
	assert_int_equal(host_parse_stat("", 0, &c), -EINVAL);
}

static void test_read_real(void **state)
{
	struct host_mem m;
	struct host_cpu c;

	assert_int_equal(host_read_meminfo("/proc", &m), 0);
	assert_true(m.total_bytes > 0 && m.available_bytes <= m.total_bytes);
	assert_int_equal(host_read_stat("/proc", &c), 0);
	assert_true(c.total > c.busy);
	assert_int_equal(host_read_meminfo("/nonexistent", &m), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_meminfo_odd),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_read_real),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
