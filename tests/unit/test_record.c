/* The run record against golden JSON, and its human renderings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "runs.h"

static struct runs *rs;

static char *render(const struct run *r)
{
	cJSON *o = runs_record(r);
	char *s;

	assert_non_null(o);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void test_running(void **state)
{
	struct run *r;
	struct run_sample s = { .cpu_ns = 412731000000ULL, .tasks_started = 1893, .tasks_exited = 1856,
				.run_delay_ns = 2000000000, .live_delay_ns = 1250400000,
				.rss_bytes = 1 << 30, .peak_proc_rss_bytes = 3 << 20 };
	struct top_acc acc = { 0 };
	char *json;

	runs_free(rs);
	rs = runs_new();
	assert_non_null(rs);
	r = runs_begin(rs, "demo", 4242, INT64_C(1795514400) * 1000000000);
	runs_apply(r, &s, INT64_C(1795514592) * 1000000000);
	s.rss_bytes = 1 << 20; /* the peak stays */
	runs_apply(r, &s, INT64_C(1795514593) * 1000000000);
	top_add(&acc, "cc1", 280100000000ULL);
	top_add(&acc, "node", 90249600000ULL);
	top_result(&acc, &r->top);
	/* One tool call still running, and the CPU of calls past the shown. */
	r->tools.n = 1;
	strcpy(r->tools.tools[0].id, "call_1");
	strcpy(r->tools.tools[0].name, "exec_command");
	r->tools.tools[0].started_ns = INT64_C(1795514401) * 1000000000 + 250999999;
	r->tools.tools[0].cpu_ns = 1500000000;
	r->tools.tools[0].tasks = 3;
	r->tools.tools[0].top.n = 1;
	strcpy(r->tools.tools[0].top.e[0].comm, "python3");
	r->tools.tools[0].top.e[0].ns = 1500000000;
	r->tools.other_cpu_ns = 250000000;
	r->tools.have_phases = true;
	r->tools.model_ns = 2500400000;
	r->tools.tool_ns = 1000000;
	r->tools.idle_ns = 189000000000;
	json = render(r);
	/* Live members' run delay counts while they are alive. */
	assert_string_equal(json,
		"{\"project\":\"demo\",\"run_id\":\"4242-2026-11-24T10:00:00Z\",\"pid\":4242,"
		"\"started_at\":\"2026-11-24T10:00:00Z\",\"ended_at\":null,\"status\":\"running\","
		"\"exit_code\":null,\"signal\":null,\"wall_seconds\":null,\"cpu_seconds\":412.731,\"cpu_ns\":412731000000,"
		"\"tasks_started\":1893,\"tasks_alive\":37,\"tasks_lost\":0,\"peak_rss_bytes\":1073741824,"
		"\"run_delay_seconds\":3.25,\"gpu_seconds\":null,\"tokens\":null,"
		"\"top\":[{\"comm\":\"cc1\",\"cpu_seconds\":280.1},{\"comm\":\"node\",\"cpu_seconds\":90.2496}],"
		"\"tools\":[{\"id\":\"call_1\",\"name\":\"exec_command\","
		"\"started_at\":\"2026-11-24T10:00:01.250Z\",\"ended_at\":null,\"cpu_seconds\":1.5,"
		"\"tasks\":3,\"top\":[{\"comm\":\"python3\",\"cpu_seconds\":1.5}]}],"
		"\"tools_other_cpu_seconds\":0.25,\"phases\":{\"model_seconds\":2.5,"
		"\"tool_seconds\":0.001,\"idle_seconds\":189},"
		"\"detached\":false,\"adopted\":false}");
	free(json);
}

/* The tokens object: from transcripts with their kinds and source, or a
 * reported count (no kinds) which wins. */
static void test_tokens(void **state)
{
	struct run *r;
	char *json;

	runs_free(rs);
	rs = runs_new();
	assert_non_null(rs);
	r = runs_begin(rs, "demo", 9, INT64_C(1795514400) * 1000000000);
	r->tokens.have = true;
	r->tokens.source = TRANSCRIPT_CLAUDE;
	r->tokens.usage = (struct transcript_usage){ 72, 394, 35680, 2030 };
	assert_int_equal(runs_transcript_tokens(r), 38176);
	json = render(r);
	assert_non_null(strstr(json, "\"tokens\":{\"input\":72,\"output\":394,\"cache_read\":35680,"
				     "\"cache_creation\":2030,\"total\":38176,"
				     "\"source\":\"claude-code\"},"));
	free(json);
	r->tokens.source = TRANSCRIPT_CODEX;
	json = render(r);
	assert_non_null(strstr(json, "\"source\":\"codex\"}"));
	free(json);
	r->tokens.reported = true;
	r->tokens.reported_n = 120;
	json = render(r);
	assert_non_null(strstr(json, "\"tokens\":{\"input\":null,\"output\":null,"
				     "\"cache_read\":null,\"cache_creation\":null,\"total\":120,"
				     "\"source\":\"reported\"},"));
	free(json);
}

static void test_final_diagnostics(void **state)
{
	/* Ended: no live member, so only the kernel-side delay; a process's own
	 * peak beats a smaller sampled total. */
	struct run_sample s = { .cpu_ns = 1000000000, .tasks_started = 3, .tasks_exited = 3,
				.root_exited = true, .run_delay_ns = 500000000,
				.live_delay_ns = 999000000, .rss_bytes = 1 << 20,
				.peak_proc_rss_bytes = 5 << 20 };
	struct run *r;
	char *json;

	runs_free(rs);
	rs = runs_new();
	assert_non_null(rs);
	r = runs_begin(rs, "demo", 9, INT64_C(1795514400) * 1000000000);
	runs_apply(r, &s, INT64_C(1795514401) * 1000000000);
	json = render(r);
	assert_non_null(strstr(json, "\"peak_rss_bytes\":5242880,\"run_delay_seconds\":0.5,"));
	assert_non_null(strstr(json, "\"top\":[]"));
	free(json);
}

static void test_stopped_and_crashed(void **state)
{
	struct run_sample s = { .cpu_ns = 1500000000, .tasks_started = 2, .tasks_exited = 2,
				.root_exited = true, .last_exit_unix_ns = INT64_C(1795514592000000000) };
	struct run *r;
	char *json;

	runs_free(rs);
	rs = runs_new();
	assert_non_null(rs);
	r = runs_begin(rs, "demo", 7, INT64_C(1795514399876543210));
	runs_apply(r, &s, INT64_C(1795514600) * 1000000000);
	json = render(r);
	/* Wall time from the nanosecond stamps, to the millisecond. */
	assert_non_null(strstr(json, "\"started_at\":\"2026-11-24T09:59:59Z\",\"ended_at\":"
				     "\"2026-11-24T10:03:12Z\",\"status\":\"stopped\",\"exit_code\":0,"
				     "\"signal\":null,\"wall_seconds\":192.123,\"cpu_seconds\":1.5,"));
	free(json);

	r = runs_begin(rs, "demo", 8, INT64_C(1795514400) * 1000000000);
	s.exit_status = SIGSEGV | 0x80; /* killed, core dumped */
	runs_apply(r, &s, INT64_C(1795514600) * 1000000000);
	json = render(r);
	assert_non_null(strstr(json, "\"status\":\"crashed\",\"exit_code\":null,\"signal\":11,"));
	free(json);

	/* A root attached to another run: no exit status of its own here. */
	r = runs_begin(rs, "demo", 9, INT64_C(1795514400) * 1000000000);
	s.root_left = true;
	runs_apply(r, &s, INT64_C(1795514600) * 1000000000);
	json = render(r);
	assert_non_null(strstr(json, "\"status\":\"stopped\",\"exit_code\":null,\"signal\":null,"));
	free(json);
}

static void test_summary(void **state)
{
	cJSON *rec = cJSON_Parse(
		"{\"project\":\"demo\",\"run_id\":\"7-2026-11-24T10:00:00Z\",\"started_at\":"
		"\"2026-11-24T10:00:00Z\",\"ended_at\":\"2026-11-24T10:03:12Z\",\"status\":\"crashed\","
		"\"exit_code\":2,\"signal\":null,\"wall_seconds\":192,\"cpu_seconds\":384.5,\"tasks_started\":1893,"
		"\"tasks_alive\":0,\"tasks_lost\":0}");
	char buf[512];

	record_summary(rec, buf, sizeof(buf));
	assert_string_equal(buf, "agentperf: run 7-2026-11-24T10:00:00Z of project demo crashed (exit 2): "
				 "384.500 CPU-seconds (2.00 cores on average over 3m12s) in 1893 tasks.");
	cJSON_Delete(rec);

	rec = cJSON_Parse("{\"project\":\"p\",\"run_id\":\"1-x\",\"status\":\"running\",\"ended_at\":null,"
			  "\"signal\":null,\"exit_code\":null,\"cpu_seconds\":0.25,\"tasks_started\":1,"
			  "\"tasks_alive\":1,\"tasks_lost\":2}");
	record_summary(rec, buf, sizeof(buf));
	assert_non_null(strstr(buf, "running: 0.250 CPU-seconds in 1 task. 1 task is still alive"));
	assert_non_null(strstr(buf, "2 tasks could not be tracked"));
	/* Truncation never overruns. */
	record_summary(rec, buf, 16);
	assert_int_equal(strlen(buf), 15);
	cJSON_Delete(rec);
}

static void test_table(void **state)
{
	cJSON *rec = cJSON_Parse("{\"project\":\"demo\",\"run_id\":\"7-2026-11-24T10:00:00Z\","
				 "\"started_at\":\"2026-11-24T10:00:00Z\",\"ended_at\":null,"
				 "\"status\":\"crashed\",\"exit_code\":null,\"signal\":9,\"wall_seconds\":0.25,"
				 "\"cpu_seconds\":1.5,\"tasks_started\":3,\"tasks_alive\":1}");
	char head[512], row[512];

	record_table_header(head, sizeof(head));
	record_table_row(rec, row, sizeof(row));
	/* Columns line up: TOP starts at the same place in both; no tool call. */
	assert_int_equal(strstr(head, " TOP") - head + 1, strlen(row) - 1);
	assert_non_null(strstr(row, " -                        -"));
	assert_non_null(strstr(row, "sig9"));
	assert_non_null(strstr(row, "1.500"));
	assert_non_null(strstr(row, "250ms"));
	cJSON_Delete(rec);

	rec = cJSON_Parse("{\"project\":\"demo\",\"run_id\":\"7-x\",\"status\":\"stopped\","
			  "\"exit_code\":0,\"signal\":null,\"wall_seconds\":10,\"cpu_seconds\":20,"
			  "\"tasks_started\":30,\"tasks_alive\":0,\"peak_rss_bytes\":1288490189,"
			  "\"run_delay_seconds\":1.5,\"top\":[{\"comm\":\"cc1\",\"cpu_seconds\":15},"
			  "{\"comm\":\"make\",\"cpu_seconds\":1}],\"tools\":[{\"id\":\"toolu_1\","
			  "\"name\":\"Bash\",\"cpu_seconds\":12.5},{\"id\":\"toolu_2\",\"name\":null,"
			  "\"cpu_seconds\":1}]}");
	record_table_row(rec, row, sizeof(row));
	assert_non_null(strstr(row, "   1.2GiB      1.5s Bash 12.5s               cc1 75%, make 5%"));
	assert_int_equal(strstr(head, " TOP") - head, strstr(row, " cc1") - row);
	assert_int_equal(strstr(head, " COSTLIEST_TOOL") - head, strstr(row, " Bash") - row);
	record_summary(rec, row, sizeof(row));
	assert_non_null(strstr(row, "in 30 tasks. Top commands: cc1 75%, make 5%. Costliest tool "
				    "call: Bash (toolu_1), 12.500 CPU-seconds. Peak RSS 1.2GiB. "
				    "Waited 1.5s for a CPU."));
	cJSON_Delete(rec);
}

/* A corrupted history line: numbers no int holds, never cast as they are. */
static void test_out_of_range(void **state)
{
	static const char *const lines[] = {
		"{\"status\":\"crashed\",\"signal\":1e10,\"wall_seconds\":1e10}",
		"{\"status\":\"stopped\",\"exit_code\":1e10,\"run_delay_seconds\":1e999}",
		"{\"status\":\"stopped\",\"exit_code\":3e9,\"signal\":-1e999}",
		"{\"status\":\"stopped\",\"exit_code\":2.5,\"signal\":128}",
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		cJSON *rec = cJSON_Parse(lines[i]);

		assert_non_null(rec);
		record_summary(rec, buf, sizeof(buf));
		assert_null(strstr(buf, "(exit"));
		assert_null(strstr(buf, "signal"));
		record_table_row(rec, buf, sizeof(buf));
		assert_null(strstr(buf, "sig"));
		cJSON_Delete(rec);
	}
	/* A duration past any run's is shown capped, whole. */
	{
		cJSON *rec = cJSON_Parse(lines[0]);

		record_table_row(rec, buf, sizeof(buf));
		assert_non_null(strstr(buf, " 1000000h00m "));
		cJSON_Delete(rec);
	}
	/* In range, the same fields still show. */
	{
		cJSON *rec = cJSON_Parse("{\"status\":\"stopped\",\"exit_code\":255}");

		record_table_row(rec, buf, sizeof(buf));
		assert_non_null(strstr(buf, " 255 "));
		cJSON_Delete(rec);
	}
}

/* A process may rename itself to a terminal escape: it prints as '?'. */
static void test_escapes(void **state)
{
	cJSON *rec = cJSON_Parse("{\"project\":\"p\",\"run_id\":\"1-\\u001b[2J\",\"status\":"
				 "\"stopped\",\"cpu_seconds\":2,\"top\":[{\"comm\":"
				 "\"\\u001b]0;x\\u0007\",\"cpu_seconds\":1},{\"comm\":"
				 "\"\\u009b31m\\u007f\",\"cpu_seconds\":1}]}");
	char buf[512];

	assert_non_null(rec);
	record_summary(rec, buf, sizeof(buf));
	assert_non_null(strstr(buf, "run 1-?[2J of project p"));
	assert_non_null(strstr(buf, "Top commands: ?]0;x? 50%, ??31m? 50%."));
	record_table_row(rec, buf, sizeof(buf));
	for (const char *p = buf; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	assert_non_null(strstr(buf, "?]0;x? 50%, ??31m? 50%"));
	cJSON_Delete(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_running),
		cmocka_unit_test(test_stopped_and_crashed),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_final_diagnostics),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_escapes),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	runs_free(rs);
	return rc;
}
