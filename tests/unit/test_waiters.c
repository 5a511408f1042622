/* Waits for runs: who is answered, when, and only once. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "waiters.h"

static struct waiters ws;

static int setup(void **state)
{
	ws = (struct waiters){ 0 };
	return 0;
}

/* A plain wait is answered when the root exits; a wait for all only at the
 * end; each exactly once. */
static void test_root_exit_then_end(void **state)
{
	struct run r = { .used = true, .slot = 3, .gen = 7 };
	uint64_t ids[WAITERS_MAX];

	assert_int_equal(waiters_add(&ws, 1, &r, false), 0);
	assert_int_equal(waiters_add(&ws, 2, &r, true), 0);
	assert_int_equal(waiters_add(&ws, 1, &r, true), -EBUSY);
	assert_true(waiters_has(&ws, 1));
	assert_int_equal(waiters_take(&ws, &r, ids, WAITERS_MAX), 0);
	r.last.root_exited = true;
	assert_int_equal(waiters_take(&ws, &r, ids, WAITERS_MAX), 1);
	assert_int_equal(ids[0], 1);
	assert_false(waiters_has(&ws, 1));
	assert_int_equal(waiters_take(&ws, &r, ids, WAITERS_MAX), 0);
	r.ended = true;
	assert_int_equal(waiters_take(&ws, &r, ids, WAITERS_MAX), 1);
	assert_int_equal(ids[0], 2);
	assert_false(waiters_any(&ws));
}

/* A detached run answers every wait; another run in the same slot (a later
 * generation) answers none of the old run's. */
static void test_detach_and_generation(void **state)
{
	struct run r = { .used = true, .slot = 0, .gen = 1 };
	struct run next = { .used = true, .slot = 0, .gen = 2, .ended = true };
	uint64_t ids[WAITERS_MAX];

	assert_int_equal(waiters_add(&ws, 5, &r, true), 0);
	assert_int_equal(waiters_take(&ws, &next, ids, WAITERS_MAX), 0);
	r.detached = true;
	assert_int_equal(waiters_take(&ws, &r, ids, WAITERS_MAX), 1);
	assert_int_equal(ids[0], 5);
}

/* The table is bounded; a freed place is reused. */
static void test_full(void **state)
{
	struct run r = { .used = true, .slot = 1, .gen = 1 };
	uint64_t ids[WAITERS_MAX];

	for (uint64_t i = 1; i <= WAITERS_MAX; i++)
		assert_int_equal(waiters_add(&ws, i, &r, false), 0);
	assert_int_equal(waiters_add(&ws, 999, &r, false), -ENOSPC);
	r.last.root_exited = true;
	assert_int_equal(waiters_take(&ws, &r, ids, 2), 2);
	assert_int_equal(waiters_add(&ws, 999, &r, false), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_root_exit_then_end, setup),
		cmocka_unit_test_setup(test_detach_and_generation, setup),
		cmocka_unit_test_setup(test_full, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
