/* The runs table: slots, generations, run ids, end detection, status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "runs.h"

static struct runs *rs;

static int setup(void **state)
{
	runs_free(rs);
	rs = runs_new();
	assert_non_null(rs);
	return 0;
}

static void test_begin_ids(void **state)
{
	struct run *r = runs_begin(rs, "demo", 4242, INT64_C(1795514400) * 1000000000);

	assert_non_null(r);
	assert_string_equal(r->run_id, "4242-2026-11-24T10:00:00Z");
	assert_string_equal(r->project, "demo");
	assert_int_not_equal(r->gen, 0);
	assert_ptr_equal(runs_find_id(rs, NULL, "4242-2026-11-24T10:00:00Z"), r);
	assert_ptr_equal(runs_find_id(rs, "demo", "4242-2026-11-24T10:00:00Z"), r);
	assert_null(runs_find_id(rs, "other", "4242-2026-11-24T10:00:00Z"));
	assert_ptr_equal(runs_find_project(rs, "demo"), r);
	assert_null(runs_find_project(rs, "other"));
	assert_null(runs_find_id(rs, NULL, "nope"));
}

static void test_round_robin_and_full(void **state)
{
	struct run *a = runs_begin(rs, "a", 1, 0);
	uint32_t slot = a->slot, gen = a->gen;
	struct run *b;

	runs_release(a);
	/* A slot just released is the last one handed out again. */
	b = runs_begin(rs, "b", 2, 0);
	assert_int_not_equal(b->slot, slot);
	assert_true(b->gen > gen);
	for (int i = 2; i < TRACKER_MAX_RUNS; i++)
		assert_non_null(runs_begin(rs, "c", 3, 0));
	/* Every slot but one is taken; the last goes, then none. */
	assert_non_null(runs_begin(rs, "d", 4, 0));
	errno = 0;
	assert_null(runs_begin(rs, "e", 5, 0));
	assert_int_equal(errno, ENOSPC);
}

static void test_newest_per_project(void **state)
{
	struct run *old = runs_begin(rs, "p", 1, 0);
	struct run *new = runs_begin(rs, "p", 2, 1);

	assert_ptr_equal(runs_find_project(rs, "p"), new);
	runs_detach(new, 5);
	assert_ptr_equal(runs_find_project(rs, "p"), old);
}

static void test_end_needs_root_exit_and_no_task(void **state)
{
	struct run *r = runs_begin(rs, "p", 1, INT64_C(100000000000));
	struct run_sample s = { .cpu_ns = 5, .tasks_started = 3, .tasks_exited = 2 };

	assert_false(runs_apply(r, &s, 101));
	assert_int_equal(runs_tasks_alive(r), 1);
	assert_int_equal(runs_status(r), RUN_RUNNING);
	/* Root gone, a daemon still alive: not ended. */
	s.root_exited = true;
	s.exit_status = 0;
	assert_false(runs_apply(r, &s, 102));
	assert_int_equal(runs_status(r), RUN_STOPPED);
	/* Last task gone: ended exactly once, at the last death. */
	s.tasks_exited = 3;
	s.last_exit_unix_ns = INT64_C(103500000000);
	assert_true(runs_apply(r, &s, INT64_C(110000000000)));
	assert_int_equal(r->ended_ns, INT64_C(103500000000));
	assert_false(runs_apply(r, &s, 111));
}

static void test_root_left(void **state)
{
	struct run *r = runs_begin(rs, "p", 1, 0);
	/* The root (and its child) attached to another run; a daemon stays. */
	struct run_sample s = { .root_exited = true, .root_left = true, .exit_status = 9,
				.tasks_started = 3, .tasks_exited = 2 };

	assert_false(runs_apply(r, &s, 1));
	assert_int_equal(runs_status(r), RUN_STOPPED); /* gone, not crashed */
	s.tasks_exited = 3;
	assert_true(runs_apply(r, &s, 2));
}

static void test_status_from_wait_status(void **state)
{
	struct run *r = runs_begin(rs, "p", 1, 0);
	struct run_sample s = { .root_exited = true, .tasks_started = 1, .tasks_exited = 1 };

	s.exit_status = 3 << 8; /* exit(3) */
	runs_apply(r, &s, 1);
	assert_int_equal(runs_status(r), RUN_CRASHED);
	r->ended = false;
	s.exit_status = SIGKILL; /* killed */
	runs_apply(r, &s, 1);
	assert_int_equal(runs_status(r), RUN_CRASHED);
	assert_string_equal(runs_status_name(RUN_CRASHED), "crashed");
	assert_string_equal(runs_status_name(RUN_STOPPED), "stopped");
	assert_string_equal(runs_status_name(RUN_RUNNING), "running");
}

static void test_alive_never_negative(void **state)
{
	struct run *r = runs_begin(rs, "p", 1, 0);
	struct run_sample s = { .tasks_started = 4, .tasks_exited = 5 };

	runs_apply(r, &s, 1);
	assert_int_equal(runs_tasks_alive(r), 0);
}

static void test_detach(void **state)
{
	struct run *r = runs_begin(rs, "p", 1, 0);
	struct run_sample s = { .tasks_started = 1 };

	runs_detach(r, 42);
	assert_true(r->detached);
	assert_int_equal(r->ended_ns, 42);
	/* A detached run takes no more samples. */
	assert_false(runs_apply(r, &s, 50));
	assert_int_equal(r->last.tasks_started, 0);
}

static void test_rate(void **state)
{
	struct run *r = runs_begin(rs, "demo", 1, 0);

	runs_rate(r, 1000, 0); /* baseline only */
	assert_true(r->cores == 0);
	runs_rate(r, 1000 + 1500000000, 1000000000);
	assert_true(r->cores > 1.4999 && r->cores < 1.5001);
	/* A dip (in-flight time read late) is no negative rate, and the next
	 * interval starts from the higher total. */
	runs_rate(r, 1000 + 1400000000, 2000000000);
	assert_true(r->cores == 0);
	runs_rate(r, 1000 + 2500000000, 3000000000);
	assert_true(r->cores > 0.9999 && r->cores < 1.0001);
}

/* gpu_seconds: null until the sampler knew some interval, then its figure. */
static void test_record_gpu_seconds(void **state)
{
	struct run *r = runs_begin(rs, "demo", 4242, INT64_C(1795514400) * 1000000000);
	cJSON *rec = runs_record(r);

	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(rec, "gpu_seconds")));
	cJSON_Delete(rec);
	r->have_gpu_seconds = true;
	r->gpu_seconds = 12.5;
	rec = runs_record(r);
	assert_true(cJSON_GetObjectItemCaseSensitive(rec, "gpu_seconds")->valuedouble == 12.5);
	cJSON_Delete(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_begin_ids, setup),
		cmocka_unit_test_setup(test_round_robin_and_full, setup),
		cmocka_unit_test_setup(test_newest_per_project, setup),
		cmocka_unit_test_setup(test_end_needs_root_exit_and_no_task, setup),
		cmocka_unit_test_setup(test_status_from_wait_status, setup),
		cmocka_unit_test_setup(test_root_left, setup),
		cmocka_unit_test_setup(test_alive_never_negative, setup),
		cmocka_unit_test_setup(test_detach, setup),
		cmocka_unit_test_setup(test_rate, setup),
		cmocka_unit_test_setup(test_record_gpu_seconds, setup),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	runs_free(rs);
	return rc;
}
