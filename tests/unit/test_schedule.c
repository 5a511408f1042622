/* The snapshot schedule: one grid for every watched project. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "schedule.h"

#define MS 1000000LL

static struct schedule s;

static int setup(void **state)
{
	schedule_init(&s, 1000 * MS, 3000 * MS);
	schedule_anchor(&s, 10000 * MS);
	return 0;
}

/* On the grid: running every step, idle every third. */
static void test_running_and_idle(void **state)
{
	assert_int_equal(schedule_next(&s, 10000 * MS, true), 11000 * MS);
	assert_int_equal(schedule_next(&s, 10000 * MS, false), 13000 * MS);
	/* A timer a little late or a little early keeps the grid. */
	assert_int_equal(schedule_next(&s, 11003 * MS, true), 12000 * MS);
	assert_int_equal(schedule_next(&s, 10998 * MS, true), 12000 * MS);
	assert_true(schedule_is_due(&s, 11000 * MS, 10998 * MS));
	assert_false(schedule_is_due(&s, 11000 * MS, 10800 * MS));
	assert_true(schedule_is_due(&s, 11000 * MS, 11500 * MS));
}

/* A watcher that arrives between grid instants gets its snapshot at once,
 * then joins the grid: two projects watched from different phases are due
 * at the same instants, and one walk serves both. */
static void test_phases_share_the_grid(void **state)
{
	int64_t a = schedule_next(&s, 10000 * MS, true); /* first watcher, on the anchor */
	int64_t b = schedule_next(&s, 10400 * MS, true); /* second, 0.4 s later */
	int64_t c = schedule_next(&s, 10700 * MS, true); /* third, 0.7 s later */

	assert_int_equal(a, 11000 * MS);
	assert_int_equal(b, 11000 * MS);
	/* Nearest grid instant to 11.7 s is 12 s: never a gap far below one period. */
	assert_int_equal(c, 12000 * MS);
	for (int i = 0; i < 5; i++) {
		a = schedule_next(&s, a, true);
		b = schedule_next(&s, b, true);
		c = schedule_next(&s, c, true);
	}
	assert_int_equal(a, 16000 * MS);
	assert_int_equal(b, a);
	assert_int_equal(c, 17000 * MS);
	assert_int_equal((c - a) % (1000 * MS), 0);
}

/* A status change: a project idle (due in 3 s) whose run starts gets a
 * snapshot at once, then runs at the running period; when its run ends it
 * goes back to the idle period. */
static void test_status_switch(void **state)
{
	int64_t due = schedule_next(&s, 10000 * MS, false);

	assert_int_equal(due, 13000 * MS);
	due = schedule_next(&s, 11300 * MS, true); /* the run started at 11.3 s */
	assert_int_equal(due, 12000 * MS);
	due = schedule_next(&s, due, true);
	assert_int_equal(due, 13000 * MS);
	due = schedule_next(&s, due, false); /* it ended */
	assert_int_equal(due, 16000 * MS);
}

/* Never due again at once, whatever the periods. */
static void test_always_ahead(void **state)
{
	struct schedule t;

	schedule_init(&t, 200 * MS, 100 * MS);
	schedule_anchor(&t, 0);
	for (int64_t now = 0; now < 2000 * MS; now += 37 * MS) {
		assert_true(schedule_next(&t, now, false) > now + 20 * MS);
		assert_true(schedule_next(&t, now, true) > now + 20 * MS);
		assert_int_equal(schedule_next(&t, now, true) % (200 * MS), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_running_and_idle, setup),
		cmocka_unit_test_setup(test_phases_share_the_grid, setup),
		cmocka_unit_test_setup(test_status_switch, setup),
		cmocka_unit_test_setup(test_always_ahead, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
