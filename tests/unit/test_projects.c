/* Projects: creation and reuse, token arithmetic, a new run's reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projects.h"

static struct projects *ps;

static int setup(void **state)
{
	ps = projects_new();
	assert_non_null(ps);
	return 0;
}

static int teardown(void **state)
{
	projects_free(ps);
	return 0;
}

static void test_tokens(void **state)
{
	struct project *p = projects_add(ps, "demo");

	assert_non_null(p);
	assert_false(p->tokens_available);
	assert_int_equal(projects_tokens(p, &(struct tokens_update){ .add = true, .add_n = 100 }), 0);
	assert_true(p->tokens_available);
	assert_int_equal(p->tokens_current, 100);
	assert_int_equal(p->tokens_total, 100);
	/* A new run: its count starts again, the session keeps its sum. */
	projects_run_started(p);
	assert_int_equal(p->tokens_current, 0);
	assert_int_equal(p->tokens_total, 100);
	assert_int_equal(projects_tokens(p, &(struct tokens_update){ .set_current = true,
								  .current = 120 }),
			 0);
	assert_int_equal(p->tokens_current, 120);
	assert_int_equal(p->tokens_total, 220);
	/* A correction downwards follows into the total. */
	assert_int_equal(projects_tokens(p, &(struct tokens_update){ .set_current = true,
								  .current = 20 }),
			 0);
	assert_int_equal(p->tokens_total, 120);
	/* An explicit total wins, but never below this run's count. */
	assert_int_equal(projects_tokens(p, &(struct tokens_update){ .set_total = true, .total = 5 }),
			 0);
	assert_int_equal(p->tokens_total, 20);
}

static void test_tokens_refused(void **state)
{
	struct project *p = projects_add(ps, "demo");

	assert_int_equal(projects_tokens(p, &(struct tokens_update){ 0 }), -EINVAL);
	assert_int_equal(projects_tokens(p, &(struct tokens_update){ .add = true, .add_n = -1 }),
			 -EINVAL);
	assert_int_equal(projects_tokens(p, &(struct tokens_update){
						    .add = true, .add_n = CONTROL_TOKENS_MAX + 1 }),
			 -EINVAL);
	assert_int_equal(projects_tokens(p, &(struct tokens_update){
						    .add = true, .add_n = CONTROL_TOKENS_MAX }),
			 0);
	/* The sum would pass the bound: refused, nothing changed. */
	assert_int_equal(projects_tokens(p, &(struct tokens_update){ .add = true, .add_n = 1 }),
			 -EINVAL);
	assert_int_equal(p->tokens_current, CONTROL_TOKENS_MAX);
}

static void test_table_reuse(void **state)
{
	char name[16];

	for (int i = 0; i < PROJECTS_MAX; i++) {
		struct project *p;

		snprintf(name, sizeof(name), "p%d", i);
		p = projects_add(ps, name);
		assert_non_null(p);
		p->watchers = i % 2; /* half hold a subscriber */
	}
	/* Full, but entries that hold nothing are reused. */
	assert_non_null(projects_add(ps, "new1"));
	assert_null(projects_get(ps, "p0"));
	assert_non_null(projects_get(ps, "p1"));
	for (int i = 0; i < PROJECTS_MAX; i++)
		ps->p[i].watchers = 1;
	errno = 0;
	assert_null(projects_add(ps, "new2"));
	assert_int_equal(errno, ENOSPC);
	assert_ptr_equal(projects_add(ps, "new1"), projects_get(ps, "new1"));
}

/* A recorded run is shown until the next starts, and keeps its entry. */
static void test_last_run(void **state)
{
	struct project *p = projects_add(ps, "demo");
	struct run r = { .pid = 42 };

	projects_run_recorded(p, &r);
	assert_true(p->has_last);
	assert_int_equal(p->last.pid, 42);
	assert_int_equal(projects_index(ps, p), 0);
	projects_run_started(p);
	assert_false(p->has_last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_run, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
