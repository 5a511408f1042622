/* topview: the `agentperf top` screen from status records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "topview.h"

static const char runs_json[] =
	"[{\"project\":\"quiet\",\"status\":\"paused\",\"cpu_seconds\":0,\"tasks_alive\":1,"
	"\"cores\":0,\"cpu_percent\":0,\"rss_bytes\":1048576,\"gpu_percent\":null,\"top\":[]},"
	"{\"project\":\"busy\",\"status\":\"running\",\"cpu_seconds\":20,\"tasks_alive\":37,"
	"\"cores\":1.5,\"cpu_percent\":75,\"rss_bytes\":1288490189,\"gpu_percent\":40,"
	"\"top\":[{\"comm\":\"cc1\",\"cpu_seconds\":15}]},"
	"{\"project\":\"mid\",\"status\":\"running\",\"cpu_seconds\":1,\"tasks_alive\":2,"
	"\"cores\":0.5,\"cpu_percent\":25,\"rss_bytes\":0,\"gpu_percent\":null,"
	"\"top\":[{\"comm\":\"bad\\u0001name\",\"cpu_seconds\":1}]}]";

static void test_full(void **state)
{
	cJSON *runs = cJSON_Parse(runs_json);
	char buf[4096];

	assert_int_equal(topview_render(runs, 0, 0, "12:00:00", buf, sizeof(buf)), 5);
	assert_string_equal(
		buf,
		"agentperf top - 12:00:00 - 3 runs - q quits\n"
		"PROJECT              STATUS     CPU%  CORES      RSS  GPU%  TASKS  TOP COMMAND\n"
		"busy                 running    75.0   1.50   1.2GiB    40     37  cc1 75%\n"
		"mid                  running    25.0   0.50       0B     -      2  bad?name 100%\n"
		"quiet                paused      0.0   0.00   1.0MiB     -      1  -\n");
	cJSON_Delete(runs);
}

static void test_fitted(void **state)
{
	cJSON *runs = cJSON_Parse(runs_json);
	char buf[4096], *l;

	/* 4 rows: title, header, one run, and how many did not fit. */
	assert_int_equal(topview_render(runs, 30, 4, "12:00:00", buf, sizeof(buf)), 4);
	for (l = buf; *l; l = strchr(l, '\n') + 1)
		assert_true(strchr(l, '\n') - l <= 30);
	assert_non_null(strstr(buf, "\nbusy                 running\n"));
	assert_non_null(strstr(buf, "\n... and 2 more (a taller termi\n"));
	cJSON_Delete(runs);
}

static void test_empty_and_tiny(void **state)
{
	cJSON *none = cJSON_Parse("[]");
	char buf[256];

	topview_render(none, 80, 24, "t", buf, sizeof(buf));
	assert_non_null(strstr(buf, "no live runs\n"));
	/* A buffer too small is never overrun. */
	topview_render(none, 80, 24, "t", buf, 10);
	assert_true(strlen(buf) < 10);
	cJSON_Delete(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_fitted),
		cmocka_unit_test(test_empty_and_tiny),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
