/* Which run a Claude Code session counts for in a shared project directory:
 * the claimer (the outer one when runs nest), the directory's own run when
 * it is not shared, nobody while it is shared and unclaimed, and nobody for
 * good once a sharing run ended; bad ids are no claims. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "toksess.h"
#include "tracker_abi.h"

static struct tokrun runs[TRACKER_MAX_RUNS];

static const struct tokrun *run(uint32_t slot, uint32_t gen, int64_t started, uid_t owner)
{
	runs[slot] = (struct tokrun){ .active = true, .slot = slot, .gen = gen,
				      .started_ns = started, .owner = owner };
	return &runs[slot];
}

static bool never(void *ctx, const char *name)
{
	return false;
}

static void test_claims(void **state)
{
	struct toksess *ss = toksess_new(runs);
	struct toksess_dir sd = { 0 };
	const struct tokrun *a = run(1, 1, 100, 1000), *b = run(2, 2, 200, 1000);

	assert_non_null(ss);
	assert_true(toksess_claim(ss, b, "sess-b", 6));
	assert_false(toksess_claim(ss, b, "sess-b", 6)); /* not new */
	assert_false(toksess_claim(ss, b, "../etc", 6));
	assert_false(toksess_claim(ss, b, "", 0));
	/* Not shared: the claimer, else the directory's own run. */
	assert_ptr_equal(toksess_run(ss, &sd, "sess-b.jsonl", a, 1000), b);
	assert_ptr_equal(toksess_run(ss, &sd, "sess-b", a, 1000), b); /* its directory */
	assert_ptr_equal(toksess_run(ss, &sd, "sess-x.jsonl", a, 1000), a);
	/* Another user's run claims nothing of uid 1000's. */
	assert_ptr_equal(toksess_run(ss, &sd, "sess-y.jsonl", a, 1001), a);
	/* Nested: a run started inside b's tool inherits its id; b keeps it. */
	const struct tokrun *c = run(3, 3, 300, 1000);

	assert_true(toksess_claim(ss, c, "sess-b", 6));
	assert_ptr_equal(toksess_run(ss, &sd, "sess-b.jsonl", a, 1000), b);
	/* b ends: its session is never a's, even here. */
	runs[2].active = false;
	toksess_release(ss, 2);
	runs[3].active = false;
	toksess_release(ss, 3);
	assert_null(toksess_run(ss, &sd, "sess-b.jsonl", a, 1000));
	toksess_dir_free(ss, &sd, never, NULL);
	toksess_free(ss);
	memset(runs, 0, sizeof(runs));
}

static void test_shared(void **state)
{
	struct toksess *ss = toksess_new(runs);
	struct toksess_dir sd = { 0 };
	const struct tokrun *a = run(1, 1, 100, 1000), *b = run(2, 2, 200, 1000);

	toksess_share(&sd, b);
	toksess_share(&sd, b); /* once */
	assert_int_equal(sd.n_others, 1);
	assert_true(toksess_shared(ss, &sd));
	/* Unclaimed while shared: nobody's yet. */
	assert_null(toksess_run(ss, &sd, "s1.jsonl", a, 1000));
	/* Claimed later: the claimer's. */
	toksess_claim(ss, b, "s2", 2);
	assert_ptr_equal(toksess_run(ss, &sd, "s2.jsonl", a, 1000), b);
	/* b ends: s1 could have been either's, and is nobody's; a session
	 * after that is a's. */
	runs[2].active = false;
	assert_true(toksess_unshare(ss, &sd, 2, never, NULL));
	assert_false(toksess_unshare(ss, &sd, 2, never, NULL));
	toksess_release(ss, 2);
	assert_false(toksess_shared(ss, &sd));
	assert_null(toksess_run(ss, &sd, "s1.jsonl", a, 1000));
	assert_null(toksess_run(ss, &sd, "s2.jsonl", a, 1000));
	assert_ptr_equal(toksess_run(ss, &sd, "s3.jsonl", a, 1000), a);
	toksess_dir_free(ss, &sd, never, NULL);
	toksess_free(ss);
	memset(runs, 0, sizeof(runs));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
