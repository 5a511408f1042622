/* The live-run journal: what a restarted daemon needs, exactly, and nothing
 * a damaged file can slip in. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

static void test_round_trip(void **state)
{
	struct runs *rs = runs_new();
	struct projects *ps = projects_new();
	struct journal *j = calloc(1, sizeof(*j));
	struct run *r = runs_begin(rs, "demo", 4242, INT64_C(1796138387412345678));
	struct project *p = projects_add(ps, "demo");
	char *text;

	r->last.cpu_ns = UINT64_C(9007199254740993); /* past 2^53: exact as a string */
	r->last.root_exited = true;
	r->last.exit_status = 3 << 8;
	r->have_gpu_seconds = true;
	r->gpu_seconds = 12.25;
	p->tokens_available = true;
	p->tokens_current = 120;
	p->tokens_total = 220;
	text = journal_render(rs, ps);
	assert_non_null(text);
	assert_int_equal(journal_parse(text, strlen(text), j), 0);
	assert_int_equal(j->n, 1);
	assert_string_equal(j->r[0].run.run_id, r->run_id);
	assert_int_equal(j->r[0].run.started_ns, INT64_C(1796138387412345678));
	assert_int_equal(j->r[0].run.last.cpu_ns, UINT64_C(9007199254740993));
	assert_int_equal(j->r[0].run.slot, r->slot);
	assert_int_equal(j->r[0].run.gen, r->gen);
	assert_true(j->r[0].run.last.root_exited);
	assert_int_equal(j->r[0].run.last.exit_status, 3 << 8);
	assert_true(j->r[0].run.have_gpu_seconds);
	assert_true(j->r[0].run.gpu_seconds == 12.25);
	assert_true(j->r[0].tokens_available);
	assert_int_equal(j->r[0].tokens_total, 220);
	free(text);
	free(j);
	projects_free(ps);
	runs_free(rs);
}

static void test_damaged(void **state)
{
	struct journal *j = calloc(1, sizeof(*j));
	static const char *bad[] = {
		"", "[]", "{\"version\":2,\"runs\":[]}", "{\"version\":1}", "not json",
	};
	const char *skip = "{\"version\":1,\"runs\":["
			   /* a bad name, a slot out of range, gen 0, pid 0: all skipped */
			   "{\"project\":\"a/b\",\"run_id\":\"x\",\"pid\":\"1\",\"slot\":\"0\",\"gen\":\"1\"},"
			   "{\"project\":\"a\",\"run_id\":\"x\",\"pid\":\"1\",\"slot\":\"256\",\"gen\":\"1\"},"
			   "{\"project\":\"a\",\"run_id\":\"x\",\"pid\":\"1\",\"slot\":\"0\",\"gen\":\"0\"},"
			   "{\"project\":\"a\",\"run_id\":\"x\",\"pid\":\"0\",\"slot\":\"0\",\"gen\":\"1\"},"
			   "{\"project\":\"a\",\"run_id\":\"x\",\"pid\":\"7\",\"slot\":\"3\",\"gen\":\"9\","
			   "\"cpu_ns\":\"-5\",\"started_ns\":\"99999999999999999999999\"}]}";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(journal_parse(bad[i], strlen(bad[i]), j), -EINVAL);
	assert_int_equal(journal_parse(skip, strlen(skip), j), 0);
	assert_int_equal(j->n, 1);
	assert_int_equal(j->r[0].run.slot, 3);
	assert_int_equal(j->r[0].run.last.cpu_ns, 0);
	assert_int_equal(j->r[0].run.started_ns, 0);
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
