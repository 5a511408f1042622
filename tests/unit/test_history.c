/* Run history: append, newest first, project filter, limit, corrupt lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history.h"

static char dir[] = "/tmp/agentperf-unit.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/runs.jsonl", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void append(const char *project, int n)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "project", project);
	cJSON_AddNumberToObject(o, "n", n);
	assert_int_equal(history_append(dir, o), 0);
	cJSON_Delete(o);
}

static int n_of(const cJSON *arr, int i)
{
	return cJSON_GetObjectItem(cJSON_GetArrayItem(arr, i), "n")->valueint;
}

static void test_empty(void **state)
{
	cJSON *arr = history_read(dir, NULL, 0);

	assert_non_null(arr);
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
}

static void test_order_filter_limit(void **state)
{
	char path[256];
	FILE *f;
	cJSON *arr;

	append("a", 1);
	append("b", 2);
	/* A torn or foreign line is skipped, not fatal. */
	snprintf(path, sizeof(path), "%s/runs.jsonl", dir);
	f = fopen(path, "a");
	fputs("{\"project\":\"a\",\"n\":\n", f);
	fclose(f);
	append("a", 3);

	arr = history_read(dir, NULL, 0);
	assert_int_equal(cJSON_GetArraySize(arr), 3);
	assert_int_equal(n_of(arr, 0), 3);
	assert_int_equal(n_of(arr, 2), 1);
	cJSON_Delete(arr);

	arr = history_read(dir, "a", 0);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_int_equal(n_of(arr, 0), 3);
	cJSON_Delete(arr);

	arr = history_read(dir, NULL, 2);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_int_equal(n_of(arr, 0), 3);
	assert_int_equal(n_of(arr, 1), 2);
	cJSON_Delete(arr);
}

static void test_unwritable(void **state)
{
	cJSON *o = cJSON_CreateObject();

	assert_int_equal(history_append("/nonexistent/dir", o), -ENOENT);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_order_filter_limit),
		cmocka_unit_test(test_unwritable),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
