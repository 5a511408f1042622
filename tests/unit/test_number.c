/* Strict whole-number parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>

#include "number.h"

static void test_number(void **state)
{
	long long v = 7;

	assert_int_equal(number_parse("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(number_parse("-3", -5, 5, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(number_parse("0", 0, 0, &v), 0);
	v = 7;
	assert_int_equal(number_parse("101", 1, 100, &v), -EINVAL);
	assert_int_equal(number_parse("0", 1, 100, &v), -EINVAL);
	assert_int_equal(number_parse("", 0, 100, &v), -EINVAL);
	assert_int_equal(number_parse(NULL, 0, 100, &v), -EINVAL);
	assert_int_equal(number_parse(" 5", 0, 100, &v), -EINVAL);
	assert_int_equal(number_parse("+5", 0, 100, &v), -EINVAL);
	assert_int_equal(number_parse("5 ", 0, 100, &v), -EINVAL);
	assert_int_equal(number_parse("1.5", 0, 100, &v), -EINVAL);
	assert_int_equal(number_parse("12ab", 0, 100, &v), -EINVAL);
	assert_int_equal(number_parse("-", -5, 5, &v), -EINVAL);
	assert_int_equal(number_parse("99999999999999999999", 0, LLONG_MAX, &v), -EINVAL);
	assert_int_equal(v, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
