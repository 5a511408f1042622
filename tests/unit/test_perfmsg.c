/* perf_metrics against golden JSON; rounding; the CPU interval arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perfmsg.h"
#include "headroom.h"

static char *render(const struct perfmsg_view *v)
{
	size_t len;
	char *buf = perfmsg_render(v, 16, &len);

	return after_headroom(buf, 16, len);
}

static void test_idle_project(void **state)
{
	struct perfmsg_view v = { .project = "my-project", .now_ms = INT64_C(1770581730123),
				  .mem_used_gb = 6.24, .mem_total_gb = 16, .mem_percent = 38.83 };
	char *json = render(&v);

	assert_string_equal(json,
		"{\"type\":\"perf_metrics\",\"timestamp\":\"2026-02-08T20:15:30.123Z\","
		"\"project\":\"my-project\",\"run\":{\"status\":\"stopped\",\"pid\":null,"
		"\"started_at\":null,\"run_id\":null,\"tasks\":0},\"tokens\":{\"current_run\":null,"
		"\"total_session\":null,\"available\":false,\"input\":null,\"output\":null,"
		"\"cache_read\":null,\"cache_creation\":null},\"cpu\":{\"percent\":0,\"cores\":0,"
		"\"host_percent\":0,\"run_seconds\":0},\"memory\":{\"used_gb\":6.2,\"total_gb\":16,"
		"\"percent\":38.8,\"run_rss_gb\":0},\"gpu\":{\"available\":false,\"percent\":null,"
		"\"vram_used_gb\":null,\"vram_total_gb\":null},"
		"\"agent\":{\"phase\":\"idle\",\"tool\":null}}");
	free(json);
}

static void test_running_with_tokens(void **state)
{
	struct perfmsg_view v = {
		.project = "my-project", .now_ms = INT64_C(1770581730005), .has_run = true,
		.status = "running", .pid = 12345, .started_at = "2026-02-08T20:10:00Z",
		.run_id = "12345-2026-02-08T20:10:00Z", .tasks = 37, .tokens_available = true,
		.tokens_current = 1420, .tokens_total = 9180, .cpu_percent = 37.24,
		.cpu_cores = 0.7449, .host_percent = 55.0, .run_seconds = 412.66,
		.mem_used_gb = 6.2, .mem_total_gb = 16.0, .mem_percent = 38.8, .run_rss_gb = 1.25,
		.agent_phase = "tool", .agent_tool = "Bash",
	};
	char *json = render(&v);

	assert_string_equal(json,
		"{\"type\":\"perf_metrics\",\"timestamp\":\"2026-02-08T20:15:30.005Z\","
		"\"project\":\"my-project\",\"run\":{\"status\":\"running\",\"pid\":12345,"
		"\"started_at\":\"2026-02-08T20:10:00Z\",\"run_id\":\"12345-2026-02-08T20:10:00Z\","
		"\"tasks\":37},\"tokens\":{\"current_run\":1420,\"total_session\":9180,"
		"\"available\":true,\"input\":null,\"output\":null,\"cache_read\":null,"
		"\"cache_creation\":null},\"cpu\":{\"percent\":37.2,\"cores\":0.7,\"host_percent\":55,"
		"\"run_seconds\":412.7},\"memory\":{\"used_gb\":6.2,\"total_gb\":16,\"percent\":38.8,"
		"\"run_rss_gb\":1.3},\"gpu\":{\"available\":false,\"percent\":null,"
		"\"vram_used_gb\":null,\"vram_total_gb\":null},"
		"\"agent\":{\"phase\":\"tool\",\"tool\":\"Bash\"}}");
	free(json);
}

/* Transcript tokens: the current run's by kind (input + output + cache
 * tokens make current_run). */
static void test_tokens_by_kind(void **state)
{
	struct perfmsg_view v = { .project = "p", .tokens_available = true, .tokens_current = 38176,
				  .tokens_total = 40000, .tokens_have_kinds = true,
				  .tokens_input = 72, .tokens_output = 394,
				  .tokens_cache_read = 35680, .tokens_cache_creation = 2030 };
	char *json = render(&v);

	assert_non_null(strstr(json, "\"tokens\":{\"current_run\":38176,\"total_session\":40000,"
				     "\"available\":true,\"input\":72,\"output\":394,"
				     "\"cache_read\":35680,\"cache_creation\":2030},"));
	free(json);
}

static void test_paused_and_crashed(void **state)
{
	struct perfmsg_view v = { .project = "p", .has_run = true, .status = "paused", .pid = 7,
				  .started_at = "2026-02-08T20:10:00Z", .run_id = "7-x" };
	char *json = render(&v);

	assert_non_null(strstr(json, "\"run\":{\"status\":\"paused\",\"pid\":7,"));
	free(json);
	v.status = "crashed";
	json = render(&v);
	assert_non_null(strstr(json, "\"status\":\"crashed\""));
	free(json);
}

static void test_round1(void **state)
{
	assert_true(perfmsg_round1(0.04) == 0);
	assert_false(signbit(perfmsg_round1(-0.04))); /* never -0 */
	assert_false(signbit(perfmsg_round1(-0.0)));
	assert_true(perfmsg_round1(NAN) == 0);
	assert_true(perfmsg_round1(INFINITY) == 0);
	assert_true(perfmsg_round1(-INFINITY) == 0);
	assert_true(perfmsg_round1(0.05) == 0.1);
	assert_true(perfmsg_round1(99.96) == 100);
	assert_true(perfmsg_round1(1e18) == 1e18);
}

static void test_negative_never_rendered(void **state)
{
	struct perfmsg_view v = { .project = "p", .cpu_percent = -0.01, .cpu_cores = NAN,
				  .host_percent = -INFINITY };
	char *json = render(&v);

	assert_null(strstr(json, ":-")); /* no negative value, -0 included */
	assert_null(strstr(json, "nan"));
	assert_null(strstr(json, "inf"));
	free(json);
}

static void test_cpu_interval(void **state)
{
	struct perfmsg_cpu_sample a = { .run_cpu_ns = 0, .mono_ns = 0, .host_busy = 100,
					.host_total = 1000 };
	struct perfmsg_cpu_sample b = { .run_cpu_ns = 1500000000, .mono_ns = 1000000000,
					.host_busy = 250, .host_total = 1200 };
	double pct, cores, host;

	/* 1.5 CPU-seconds in 1 s on 2 CPUs: 1.5 cores, 75 % of the host. */
	perfmsg_cpu(&a, &b, 2, &pct, &cores, &host);
	assert_true(fabs(cores - 1.5) < 1e-9);
	assert_true(fabs(pct - 75) < 1e-9);
	assert_true(fabs(host - 75) < 1e-9);
	/* No interval, or time going backwards: zeros. */
	perfmsg_cpu(NULL, &b, 2, &pct, &cores, &host);
	assert_true(pct == 0 && cores == 0 && host == 0);
	perfmsg_cpu(&b, &a, 2, &pct, &cores, &host);
	assert_true(pct == 0 && cores == 0 && host == 0);
	/* More than the host can do (clock skew between reads) is clamped. */
	b.run_cpu_ns = 9000000000;
	perfmsg_cpu(&a, &b, 2, &pct, &cores, &host);
	assert_true(cores == 2 && pct == 100);
	/* A counter that went down counts as no CPU. */
	a.run_cpu_ns = 10000000000;
	perfmsg_cpu(&a, &b, 2, &pct, &cores, &host);
	assert_true(cores == 0 && pct == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_project),
		cmocka_unit_test(test_running_with_tokens),
		cmocka_unit_test(test_tokens_by_kind),
		cmocka_unit_test(test_paused_and_crashed),
		cmocka_unit_test(test_round1),
		cmocka_unit_test(test_negative_never_rendered),
		cmocka_unit_test(test_cpu_interval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
