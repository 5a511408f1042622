/* agentperf timeline's chart (timeview) and the daemon's timeline series
 * (actions/timeline): 80 columns, calls where they happened, a key; a
 * series that stays within its points however long the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"
#include "timeview.h"

/* Display columns of a UTF-8 line (each code point one). */
static size_t columns(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

static const char *line_of(const char *text, int k, size_t *n)
{
	const char *p = text;

	while (k-- > 0 && (p = strchr(p, '\n')))
		p++;
	if (!p || !*p)
		return NULL;
	*n = strcspn(p, "\n");
	return p;
}

static void test_render(void **state)
{
	cJSON *tl = cJSON_Parse(
		"{\"project\":\"demo\",\"run_id\":\"7-2026-11-24T10:00:00Z\","
		"\"started_at\":\"2026-11-24T10:00:00.000Z\",\"ended_at\":\"2026-11-24T10:01:14.000Z\","
		"\"cpu_seconds\":40,\"samples\":["
		"{\"at\":\"2026-11-24T10:00:00.000Z\",\"seconds\":37,\"cores\":0,\"rss_bytes\":1,"
		"\"gpu_percent\":null,\"tokens\":0},"
		"{\"at\":\"2026-11-24T10:00:37.000Z\",\"seconds\":37,\"cores\":2,\"rss_bytes\":1,"
		"\"gpu_percent\":null,\"tokens\":9}],"
		"\"tools\":[{\"id\":\"toolu_1\",\"name\":\"Bash\",\"started_at\":\"2026-11-24T10:00:37.000Z\","
		"\"ended_at\":\"2026-11-24T10:01:14.000Z\",\"cpu_seconds\":39.5,\"tasks\":3},"
		"{\"id\":\"toolu_2\",\"name\":\"Read\",\"started_at\":\"2026-11-24T10:00:38.000Z\","
		"\"ended_at\":\"2026-11-24T10:00:39.000Z\",\"cpu_seconds\":0,\"tasks\":0},"
		"{\"id\":\"x\\u001b[31m\",\"name\":null,\"started_at\":\"2026-11-24T10:00:40.000Z\","
		"\"ended_at\":null,\"cpu_seconds\":0.25,\"tasks\":1}],"
		"\"model\":[{\"started_at\":\"2026-11-24T10:00:00.000Z\","
		"\"ended_at\":\"2026-11-24T10:00:37.000Z\"}],"
		"\"phases\":{\"model_seconds\":37,\"tool_seconds\":37,\"idle_seconds\":0}}");
	char *text = timeview_render(tl);
	const char *l;
	size_t n;

	assert_non_null(text);
	for (int k = 0; (l = line_of(text, k, &n)); k++)
		assert_true(columns(l, n) <= TIMEVIEW_WIDTH);
	assert_non_null(strstr(text, "run 7-2026-11-24T10:00:00Z of project demo: 1m14s, "
				     "40.000 CPU-seconds\n"));
	assert_non_null(strstr(text, "model 37.0s, tools 37.0s, idle 0ms\n"));
	/* The second half of the chart is two cores high, the first empty. */
	l = line_of(text, 3, &n);
	assert_non_null(strstr(l, " 2.0 ┤                                     ██"));
	/* Call 1 at the middle column; 2 overlaps it, on the second row; the
	 * model row covers the first half. */
	l = line_of(text, 10, &n);
	assert_memory_equal(l, "tools                                      1=====", 49);
	l = line_of(text, 11, &n);
	assert_memory_equal(l, "                                            2", 45);
	l = line_of(text, 12, &n);
	assert_memory_equal(l, "model ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~  ", 46);
	assert_non_null(strstr(text, "  1 Bash toolu_1 "));
	assert_non_null(strstr(text, "  39.500 CPU-s\n"));
	assert_non_null(strstr(text, "  2 Read toolu_2"));
	/* A control byte from the run never reaches the terminal; an open call. */
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "  3 ? x?[31m"));
	free(text);
	cJSON_Delete(tl);

	/* Nothing known: still a chart, no calls. */
	tl = cJSON_Parse("{}");
	text = timeview_render(tl);
	assert_non_null(strstr(text, "no tool calls"));
	free(text);
	cJSON_Delete(tl);
}

static void test_series(void **state)
{
	struct timeline *t = calloc(1, sizeof(*t));
	const int64_t s = 1000000000;
	uint64_t cpu = 0, sum = 0;
	int64_t span = 0;

	timeline_add(t, 100 * s, 0, 0, false, 0, 0); /* the baseline */
	assert_int_equal(t->n, 0);
	/* Ten thousand passes a second apart at 1.5 cores. */
	for (int i = 1; i <= 10000; i++) {
		cpu += 1500000000;
		timeline_add(t, (100 + i) * s, cpu, (uint64_t)i, i > 5000, 40, (uint64_t)i);
	}
	assert_true(t->n <= TIMELINE_POINTS && t->n > TIMELINE_POINTS / 4);
	for (size_t i = 0; i < t->n; i++) {
		sum += t->p[i].cpu_ns;
		span += t->p[i].span_ns;
		if (i)
			assert_int_equal(t->p[i].at_ns, t->p[i - 1].at_ns + t->p[i - 1].span_ns);
	}
	/* Nothing lost in the merges. */
	assert_int_equal(sum, cpu);
	assert_int_equal(span, 10000 * s);
	assert_int_equal(t->p[t->n - 1].tokens, 10000);
	assert_int_equal(t->p[t->n - 1].rss_bytes, 10000);
	assert_false(t->p[0].have_gpu);
	assert_true(t->p[t->n - 1].have_gpu);
	assert_true(t->p[t->n - 1].gpu_busy_ns == 0.4 * (double)t->p[t->n - 1].gpu_ns);
	/* A clock that goes back starts a new baseline, adds nothing. */
	timeline_add(t, 5 * s, cpu + 1, 0, false, 0, 0);
	assert_int_equal(t->p[t->n - 1].tokens, 10000);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_series),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
