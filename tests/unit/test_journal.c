/* The live-run journal: what a restarted daemon needs, exactly, and nothing
 * a damaged file can slip in. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
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
			   /* a malformed counter and start: refused too (issue 16, case 16) */
			   "{\"project\":\"a\",\"run_id\":\"x\",\"pid\":\"7\",\"slot\":\"4\","
			   "\"gen\":\"9\",\"cpu_ns\":\"-5\","
			   "\"started_ns\":\"99999999999999999999999\"},"
			   "{\"project\":\"a\",\"run_id\":\"x\",\"pid\":\"7\",\"slot\":\"3\","
			   "\"gen\":\"9\",\"started_ns\":\"1796138387412345678\"}]}";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(journal_parse(bad[i], strlen(bad[i]), j), -EINVAL);
	assert_int_equal(journal_parse(skip, strlen(skip), j), 0);
	assert_int_equal(j->n, 1);
	assert_int_equal(j->r[0].run.slot, 3);
	assert_int_equal(j->r[0].run.last.cpu_ns, 0);
	assert_int_equal(j->r[0].run.started_ns, INT64_C(1796138387412345678));
	assert_int_equal(j->refused, 5);
	assert_string_equal(j->refused_why, "run \"x\": no valid project name");
	free(j);
}

/* A journaled run as the daemon writes it, with one field replaced. */
static size_t parse_with(struct journal *j, const char *key, const char *value)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 /* Duplicate keys: cJSON takes the first, the one replaced. */
		 "{\"version\":1,\"next_gen\":\"2\",\"runs\":[{\"%s\":%s,\"project\":\"demo\","
		 "\"run_id\":\"4242-x\",\"pid\":\"4242\",\"slot\":\"0\",\"gen\":\"1\","
		 "\"ended\":true,\"started_ns\":\"1796138387412345678\","
		 "\"ended_ns\":\"1796138390000000000\",\"cpu_ns\":\"5\",\"tasks_started\":\"1\","
		 "\"tasks_exited\":\"1\",\"exit_status\":0,\"tokens_current\":\"1\"}]}",
		 key, value);
	assert_int_equal(journal_parse(text, strlen(text), j), 0);
	assert_int_equal(j->n + j->refused, 1);
	return j->n;
}

/* Issue 16, case 16: an ended run from 1970 to INT64_MAX overflowed the
 * record's wall time (-9223372036.854 s, or UBSan stopping the daemon). Times
 * and counters out of range refuse the entry, as a damaged one. */
static void test_out_of_range(void **state)
{
	static const char text[] =
		"{\"version\":1,\"next_gen\":\"2\",\"runs\":[{\"project\":\"demo\","
		"\"run_id\":\"4242-2026-12-01T10:00:00Z\",\"pid\":\"4242\",\"slot\":\"0\","
		"\"gen\":\"1\",\"ended\":true,\"detached\":false,\"started_ns\":\"0\","
		"\"ended_ns\":\"9223372036854775807\",\"root_exited\":true,\"exit_status\":0}]}";
	static const struct {
		const char *key, *value;
	} bad[] = {
		{ "started_ns", "\"946684799999999999\"" }, /* before 2000 */
		{ "started_ns", "\"4102444800000000001\"" }, /* after 2100 */
		{ "started_ns", "\"9223372036854775807\"" },
		{ "started_ns", "1796138387412345678" }, /* a JSON number: not as written */
		{ "ended_ns", "\"1796138387412345677\"" }, /* before its start */
		{ "ended_ns", "\"9223372036854775807\"" },
		{ "ended_ns", "\"0\"" }, /* ended, with no end */
		{ "cpu_ns", "\"9223372036854775808\"" }, /* past INT64_MAX */
		{ "cpu_ns", "\"18446744073709551616\"" }, /* past UINT64_MAX */
		{ "cpu_ns", "\"-1\"" },
		{ "cpu_ns", "\"1e3\"" },
		{ "tasks_lost", "3" },
		{ "run_delay_ns", "\"\"" },
		{ "peak_rss_bytes", "null" },
		{ "exit_status", "65536" },
		{ "exit_status", "-1" },
		{ "gpu_seconds", "-0.5" },
		{ "gpu_seconds", "\"1\"" },
		{ "tokens_total", "\"1000000000000001\"" }, /* past CONTROL_TOKENS_MAX */
	};
	struct journal *j = calloc(1, sizeof(*j));
	struct runs *rs = runs_new();
	struct run *r;
	cJSON *rec;

	assert_int_equal(journal_parse(text, strlen(text), j), 0);
	assert_int_equal(j->n, 0);
	assert_int_equal(j->refused, 1);
	assert_string_equal(j->refused_why, "run \"4242-2026-12-01T10:00:00Z\": "
					    "started_ns missing or out of range");

	/* The limits themselves, and what the daemon writes, pass. */
	assert_int_equal(parse_with(j, "started_ns", "\"946684800000000000\""), 1);
	assert_int_equal(parse_with(j, "ended_ns", "\"4102444800000000000\""), 1);
	assert_int_equal(parse_with(j, "ended_ns", "\"1796138387412345678\""), 1);
	assert_int_equal(parse_with(j, "cpu_ns", "\"9223372036854775807\""), 1);
	assert_int_equal(parse_with(j, "tokens_total", "\"1000000000000000\""), 1);
	assert_int_equal(parse_with(j, "gpu_seconds", "2.5"), 1);
	assert_int_equal(parse_with(j, "adopted", "true"), 1);
	/* An open run has no end yet; one it had would be damage. */
	assert_int_equal(parse_with(j, "ended", "false"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_with(j, bad[i].key, bad[i].value))
			fail_msg("%s %s taken", bad[i].key, bad[i].value);

	/* The widest run the journal takes renders a sane record. */
	parse_with(j, "ended_ns", "\"4102444800000000000\"");
	j->r[0].run.started_ns = JOURNAL_NS_MIN;
	r = runs_adopt(rs, &j->r[0].run);
	assert_non_null(r);
	rec = runs_record(r);
	assert_non_null(rec);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(rec, "wall_seconds")) ==
		    3155760000.0);
	cJSON_Delete(rec);
	runs_free(rs);
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_out_of_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
