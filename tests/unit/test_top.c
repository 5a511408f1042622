/* top: merging CPU by command name and keeping the biggest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "top.h"

static struct top_acc acc;

static int setup(void **state)
{
	memset(&acc, 0, sizeof(acc));
	return 0;
}

static void test_merge_and_order(void **state)
{
	struct top t;

	assert_int_equal(top_add(&acc, "cc1", 100), 0);
	assert_int_equal(top_add(&acc, "make", 5), 0);
	assert_int_equal(top_add(&acc, "cc1", 200), 0);
	assert_int_equal(top_add(&acc, "as", 50), 0);
	assert_int_equal(top_add(&acc, "idle", 0), 0);
	top_result(&acc, &t);
	assert_int_equal(t.n, 3); /* zero-CPU names are left out */
	assert_string_equal(t.e[0].comm, "cc1");
	assert_int_equal(t.e[0].ns, 300);
	assert_string_equal(t.e[1].comm, "as");
	assert_string_equal(t.e[2].comm, "make");
}

static void test_keeps_biggest_five(void **state)
{
	char name[8];
	struct top t;

	/* Ascending input: every new one displaces the smallest. */
	for (int i = 1; i <= 20; i++) {
		snprintf(name, sizeof(name), "p%02d", i);
		assert_int_equal(top_add(&acc, name, (uint64_t)i * 10), 0);
	}
	top_result(&acc, &t);
	assert_int_equal(t.n, TOP_SHOWN);
	for (int i = 0; i < TOP_SHOWN; i++) {
		snprintf(name, sizeof(name), "p%02d", 20 - i);
		assert_string_equal(t.e[i].comm, name);
	}
}

static void test_ties_by_name(void **state)
{
	struct top t;

	top_add(&acc, "b", 7);
	top_add(&acc, "a", 7);
	top_add(&acc, "c", 9);
	top_result(&acc, &t);
	assert_string_equal(t.e[0].comm, "c");
	assert_string_equal(t.e[1].comm, "a");
	assert_string_equal(t.e[2].comm, "b");
}

static void test_unterminated_and_empty_names(void **state)
{
	char raw[TRACKER_COMM_LEN];
	struct top t;

	memset(raw, 'x', sizeof(raw)); /* 16 bytes, no NUL */
	top_add(&acc, raw, 3);
	top_add(&acc, "", 2);
	top_result(&acc, &t);
	assert_int_equal(t.n, 2);
	assert_int_equal(strlen(t.e[0].comm), TRACKER_COMM_LEN);
	assert_string_equal(t.e[1].comm, "?");
}

static void test_full(void **state)
{
	char name[16];

	for (int i = 0; i < TOP_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(top_add(&acc, name, 1), 0);
	}
	assert_int_equal(top_add(&acc, "new", 1), -ENOSPC);
	assert_int_equal(top_add(&acc, "n7", 1), 0); /* known names still add */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_merge_and_order, setup),
		cmocka_unit_test_setup(test_keeps_biggest_five, setup),
		cmocka_unit_test_setup(test_ties_by_name, setup),
		cmocka_unit_test_setup(test_unterminated_and_empty_names, setup),
		cmocka_unit_test_setup(test_full, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
