/* Prometheus text exposition: golden output, escaping, finished runs ageing out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"
#include "headroom.h"

static char *render(const struct promtext_view *v)
{
	size_t len;
	char *buf = promtext_render(v, 8, &len);

	return after_headroom(buf, 8, len);
}

static void test_escape(void **state)
{
	char out[64];

	assert_int_equal(promtext_escape("a\"b\\c\nd", out, sizeof(out)), 10);
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	/* Never a half escape at the end. */
	promtext_escape("ab\"", out, 4);
	assert_string_equal(out, "ab");
}

static void test_golden(void **state)
{
	struct promtext_run live = { .project = "demo", .run_id = "42-2026-11-24T10:00:00Z",
				     .cpu_ns = 412731000001ULL, .tasks = 37, .rss_bytes = 1 << 20,
				     .have_gpu = true, .gpu_ratio = 0.5, .have_gpu_seconds = true,
				     .gpu_seconds = 12.25 };
	struct promtext_finished fin = { 0 };
	struct promtext_run old = { .project = "old", .run_id = "1-x", .cpu_ns = 5,
				    .ended_mono_ns = 0 };
	struct promtext_run recent = { .project = "recent", .run_id = "2-y", .cpu_ns = 2500000000ULL,
				       .ended_mono_ns = PROMTEXT_KEEP_NS, .have_tokens = true,
				       .tokens = { 52, 334, 32680, 1930 }, .n_tools = 2,
				       .tools = { { "Bash", 1500000001ULL }, { "a\"b", 7 } } };
	struct promtext_view v = { .version = "v1\"x", .bpf_variant = "tp_btf", .live = &live,
				   .n_live = 1, .finished = &fin, .now_mono_ns = PROMTEXT_KEEP_NS + 1,
				   .have_mem = true, .mem_used_bytes = 100, .mem_total_bytes = 200,
				   .websocket_clients = 3 };
	char *text;

	promtext_finished_add(&fin, &old);
	promtext_finished_add(&fin, &recent);
	text = render(&v);
	assert_string_equal(
		text,
		"# HELP agentperf_run_cpu_seconds_total On-CPU time of every task that belonged to "
		"the run (the kernel's own accounting).\n"
		"# TYPE agentperf_run_cpu_seconds_total counter\n"
		"agentperf_run_cpu_seconds_total{project=\"demo\",run_id=\"42-2026-11-24T10:00:00Z\"} "
		"412.731000001\n"
		"agentperf_run_cpu_seconds_total{project=\"recent\",run_id=\"2-y\"} 2.500000000\n"
		"# HELP agentperf_run_tasks Live tasks (threads and processes) of the run.\n"
		"# TYPE agentperf_run_tasks gauge\n"
		"agentperf_run_tasks{project=\"demo\",run_id=\"42-2026-11-24T10:00:00Z\"} 37\n"
		"agentperf_run_tasks{project=\"recent\",run_id=\"2-y\"} 0\n"
		"# HELP agentperf_run_rss_bytes Resident memory of the run's live processes.\n"
		"# TYPE agentperf_run_rss_bytes gauge\n"
		"agentperf_run_rss_bytes{project=\"demo\",run_id=\"42-2026-11-24T10:00:00Z\"} 1048576\n"
		"agentperf_run_rss_bytes{project=\"recent\",run_id=\"2-y\"} 0\n"
		"# HELP agentperf_run_gpu_utilization_ratio Busiest GPU engine's utilization by the "
		"run's processes (DRM fdinfo, NVML), 0 to 1.\n"
		"# TYPE agentperf_run_gpu_utilization_ratio gauge\n"
		"agentperf_run_gpu_utilization_ratio{project=\"demo\",run_id=\"42-2026-11-24T10:00:00Z\"} "
		"0.5000\n"
		"# HELP agentperf_run_gpu_seconds_total Busy time of the run's busiest GPU engine or "
		"device, summed over samples.\n"
		"# TYPE agentperf_run_gpu_seconds_total counter\n"
		"agentperf_run_gpu_seconds_total{project=\"demo\",run_id=\"42-2026-11-24T10:00:00Z\"} "
		"12.250000\n"
		"# HELP agentperf_run_tokens_total Tokens the run's agents recorded in their own "
		"transcripts (Claude Code, Codex CLI), by type.\n"
		"# TYPE agentperf_run_tokens_total counter\n"
		"agentperf_run_tokens_total{project=\"recent\",run_id=\"2-y\",type=\"input\"} 52\n"
		"agentperf_run_tokens_total{project=\"recent\",run_id=\"2-y\",type=\"output\"} 334\n"
		"agentperf_run_tokens_total{project=\"recent\",run_id=\"2-y\",type=\"cache_read\"} "
		"32680\n"
		"agentperf_run_tokens_total{project=\"recent\",run_id=\"2-y\",type=\"cache_creation\"} "
		"1930\n"
		"# HELP agentperf_run_tool_cpu_seconds_total On-CPU time of the processes the run's "
		"agent started for its tool calls, by tool name (every call of it).\n"
		"# TYPE agentperf_run_tool_cpu_seconds_total counter\n"
		"agentperf_run_tool_cpu_seconds_total{project=\"recent\",run_id=\"2-y\",tool=\"Bash\"} "
		"1.500000001\n"
		"agentperf_run_tool_cpu_seconds_total{project=\"recent\",run_id=\"2-y\",tool=\"a\\\"b\"} "
		"0.000000007\n"
		"# HELP agentperf_host_memory_used_bytes Host memory in use (MemTotal - MemAvailable).\n"
		"# TYPE agentperf_host_memory_used_bytes gauge\n"
		"agentperf_host_memory_used_bytes 100\n"
		"# HELP agentperf_host_memory_total_bytes Host memory (MemTotal).\n"
		"# TYPE agentperf_host_memory_total_bytes gauge\n"
		"agentperf_host_memory_total_bytes 200\n"
		"# HELP agentperf_websocket_clients Open perf_metrics WebSocket connections.\n"
		"# TYPE agentperf_websocket_clients gauge\n"
		"agentperf_websocket_clients 3\n"
		"# HELP agentperf_build_info agentperfd's version and BPF program variant.\n"
		"# TYPE agentperf_build_info gauge\n"
		"agentperf_build_info{version=\"v1\\\"x\",bpf_variant=\"tp_btf\"} 1\n");
	free(text);
}

static void test_finished_is_bounded(void **state)
{
	static struct promtext_finished fin;
	struct promtext_run r = { .project = "p" };

	for (int i = 0; i < PROMTEXT_FINISHED_MAX + 10; i++) {
		snprintf(r.run_id, sizeof(r.run_id), "%d", i);
		promtext_finished_add(&fin, &r);
	}
	assert_int_equal(fin.n, PROMTEXT_FINISHED_MAX);
	/* The oldest went first: run 10 is the oldest left, 9 is gone. */
	for (int i = 0; i < PROMTEXT_FINISHED_MAX; i++)
		assert_string_not_equal(fin.r[i].run_id, "9");
}

/* The daemon's BPF cost per program, when the kernel counts it; with no
 * program given (bpf_stats_enabled 0), no family at all. */
static void test_bpf_programs(void **state)
{
	const struct promtext_prog progs[] = { { "handle_sched_switch", 1234567890123ULL, 42 },
					       { "handle_\"odd\"", 5, 1 } };
	struct promtext_view v = { .version = "v", .bpf_variant = "raw_tp", .progs = progs,
				   .n_progs = 2 };
	char *text = render(&v);

	assert_non_null(strstr(
		text, "# TYPE agentperf_bpf_program_run_seconds_total counter\n"
		      "agentperf_bpf_program_run_seconds_total{program=\"handle_sched_switch\"} "
		      "1234.567890123\n"
		      "agentperf_bpf_program_run_seconds_total{program=\"handle_\\\"odd\\\"\"} "
		      "0.000000005\n"));
	assert_non_null(strstr(text, "# TYPE agentperf_bpf_program_runs_total counter\n"
				     "agentperf_bpf_program_runs_total{program=\"handle_sched_switch\"} "
				     "42\n"));
	free(text);
	v.n_progs = 0;
	text = render(&v);
	assert_null(strstr(text, "agentperf_bpf_program"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_finished_is_bounded),
		cmocka_unit_test(test_bpf_programs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
