/* Run history: append, rotation, torn and corrupt lines, newest first across
 * the rotated file, limit and its cap, project filter, history_find. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/agentperf-unit.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const files[] = { "runs.jsonl", "runs.jsonl.1" };
	char path[128];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	return rmdir(dir);
}

static const char *file(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* Writes raw bytes at the end of runs.jsonl, as a crash or another writer would. */
static void raw(const char *s)
{
	FILE *f = fopen(file("runs.jsonl"), "a");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static long size_of(const char *name)
{
	struct stat st;

	return stat(file(name), &st) ? -1 : (long)st.st_size;
}

static void append_max(const char *project, int n, uint64_t max_bytes)
{
	cJSON *o = cJSON_CreateObject();
	char id[32];

	snprintf(id, sizeof(id), "%d-run", n);
	cJSON_AddStringToObject(o, "project", project);
	cJSON_AddStringToObject(o, "run_id", id);
	cJSON_AddNumberToObject(o, "n", n);
	assert_int_equal(history_append(dir, o, max_bytes), 0);
	cJSON_Delete(o);
}

static void append(const char *project, int n)
{
	append_max(project, n, HISTORY_MAX_BYTES_DEFAULT);
}

/* Records from to to-1 as history_append writes them, without a fsync each;
 * even ones are project b's, odd ones a's. */
static void bulk(int from, int to)
{
	FILE *f = fopen(file("runs.jsonl"), "a");

	assert_non_null(f);
	for (int i = from; i < to; i++)
		fprintf(f, "{\"project\":\"%s\",\"run_id\":\"%d-run\",\"n\":%d}\n",
			i % 2 ? "a" : "b", i, i);
	fclose(f);
}

static int n_of(const cJSON *arr, int i)
{
	return cJSON_GetObjectItem(cJSON_GetArrayItem(arr, i), "n")->valueint;
}

/* The records' n, newest first, as "3 2 1". */
static const char *ns(const cJSON *arr)
{
	static char buf[256];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < cJSON_GetArraySize(arr) && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d", i ? " " : "",
					n_of(arr, i));
	return buf;
}

static void expect(const char *project, unsigned limit, const char *want, unsigned want_skipped)
{
	unsigned skipped = 99;
	cJSON *arr = history_read(dir, project, limit, &skipped);

	assert_non_null(arr);
	assert_string_equal(ns(arr), want);
	assert_int_equal(skipped, want_skipped);
	cJSON_Delete(arr);
}

static void test_empty(void **state)
{
	cJSON *arr = history_read(dir, NULL, 0, NULL);

	assert_non_null(arr);
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
	errno = 0;
	assert_null(history_find(dir, NULL, "1-run", NULL));
	assert_int_equal(errno, ENOENT);
}

static void test_order_filter_limit(void **state)
{
	append("a", 1);
	append("b", 2);
	append("a", 3);
	expect(NULL, 0, "3 2 1", 0);
	expect("", 0, "3 2 1", 0);
	expect("a", 0, "3 1", 0);
	expect("b", 0, "2", 0);
	expect("c", 0, "", 0);
	expect(NULL, 2, "3 2", 0);
	expect("a", 1, "3", 0);
}

/* A name that is a prefix of another (or that the other is a prefix of)
 * matches only itself. */
static void test_project_prefix(void **state)
{
	append("ab", 1);
	append("abc", 2);
	append("a", 3);
	append("xab", 4);
	expect("ab", 0, "1", 0);
	expect("abc", 0, "2", 0);
	expect("a", 0, "3", 0);
	expect("b", 0, "", 0);
}

/* A crash in the middle of a write leaves a line without its newline: the
 * next record starts a line of its own, and only the torn one is lost. */
static void test_torn_tail(void **state)
{
	FILE *f;
	char buf[512];
	int lines = 0;

	append("a", 1);
	raw("{\"project\":\"a\",\"run_id\":\"2-run\",\"n\":");
	append("a", 3);
	append("a", 4);
	expect(NULL, 0, "4 3 1", 1);
	expect("a", 0, "4 3 1", 1);
	/* Lines looked at only: the read stops before the torn one. */
	expect(NULL, 2, "4 3", 0);
	f = fopen(file("runs.jsonl"), "r");
	while (fgets(buf, sizeof(buf), f)) {
		lines++;
		assert_non_null(strchr(buf, '\n'));
	}
	fclose(f);
	assert_int_equal(lines, 4);
}

/* Histories written before torn lines were ended have the next record on
 * the torn one's line: it is still found. */
static void test_glued_record(void **state)
{
	append("a", 1);
	raw("{\"project\":\"b\",\"n\":{\"project\":\"a\",\"run_id\":\"2-run\",\"n\":2}\n");
	append("a", 3);
	expect(NULL, 0, "3 2 1", 1);
	expect("a", 0, "3 2 1", 1);
	expect("b", 0, "", 1);
}

static void test_garbage_counted(void **state)
{
	unsigned skipped = 99;
	cJSON *rec;

	append("a", 1);
	raw("not json at all\n"
	    "\n"
	    "[1,2,3]\n"
	    "42\n"
	    "{\"project\":\"a\",\"n\":7} trailing\n"
	    "\"project\":\"a\"\n"
	    "\r\n"
	    "{\"project\":\"a\",\"n\":8}\r\n");
	append("b", 2);
	/* Empty lines are not counted; "\r" alone is not JSON. */
	expect(NULL, 0, "2 8 1", 6);
	/* With a project, only lines that can be its are parsed. */
	expect("a", 0, "8 1", 2);
	expect("b", 0, "2", 0);
	rec = history_find(dir, NULL, "1-run", &skipped);
	assert_non_null(rec);
	assert_int_equal(skipped, 0);
	cJSON_Delete(rec);
}

static void test_rotation(void **state)
{
	/* Each line is ~40 bytes: three fit in 128. */
	const uint64_t max = 128;
	unsigned skipped;
	cJSON *rec;

	for (int i = 1; i <= 3; i++)
		append_max("a", i, max);
	assert_int_equal(size_of("runs.jsonl.1"), -1);
	append_max("b", 4, max);
	assert_true(size_of("runs.jsonl.1") > 0);
	assert_true(size_of("runs.jsonl") <= (long)max);
	expect(NULL, 0, "4 3 2 1", 0);
	expect("a", 0, "3 2 1", 0);
	expect(NULL, 2, "4 3", 0);
	/* A second rotation drops the oldest file. */
	for (int i = 5; i <= 7; i++)
		append_max("a", i, max);
	assert_true(size_of("runs.jsonl") <= (long)max);
	assert_true(size_of("runs.jsonl.1") <= (long)max);
	expect(NULL, 0, "7 6 5 4", 0);
	expect("b", 0, "4", 0);
	rec = history_find(dir, "b", "4-run", &skipped);
	assert_non_null(rec);
	assert_int_equal(cJSON_GetObjectItem(rec, "n")->valueint, 4);
	cJSON_Delete(rec);
	errno = 0;
	assert_null(history_find(dir, NULL, "1-run", NULL));
	assert_int_equal(errno, ENOENT);
	/* 0: no limit. */
	for (int i = 8; i <= 20; i++)
		append_max("a", i, 0);
	assert_true(size_of("runs.jsonl") > (long)max);
	expect("b", 0, "4", 0);
}

/* A torn line that is rotated away stays in the old file, and is counted there. */
static void test_rotation_torn(void **state)
{
	append_max("a", 1, 80);
	raw("{\"project\":\"a\",\"n\"");
	append_max("a", 2, 80);
	append_max("a", 3, 80);
	assert_true(size_of("runs.jsonl.1") > 0);
	expect(NULL, 0, "3 2 1", 1);
}

static void test_cap(void **state)
{
	cJSON *arr;

	bulk(0, HISTORY_READ_MAX + 20);
	arr = history_read(dir, NULL, 0, NULL);
	assert_int_equal(cJSON_GetArraySize(arr), HISTORY_READ_MAX);
	assert_int_equal(n_of(arr, 0), HISTORY_READ_MAX + 19);
	assert_int_equal(n_of(arr, HISTORY_READ_MAX - 1), 20);
	cJSON_Delete(arr);
	arr = history_read(dir, NULL, 1000000, NULL);
	assert_int_equal(cJSON_GetArraySize(arr), HISTORY_READ_MAX);
	cJSON_Delete(arr);
	arr = history_read(dir, "a", 5, NULL);
	assert_int_equal(cJSON_GetArraySize(arr), 5);
	cJSON_Delete(arr);
}

static void test_find(void **state)
{
	unsigned skipped = 99;
	cJSON *rec, *o = cJSON_CreateObject();

	append("a", 1);
	append("b", 10);
	append("a", 11); /* an id that ends in the one looked for */
	/* An id with characters JSON escapes is found as it was written. */
	cJSON_AddStringToObject(o, "project", "b");
	cJSON_AddStringToObject(o, "run_id", "q\"uote\\d");
	cJSON_AddNumberToObject(o, "n", 12);
	assert_int_equal(history_append(dir, o, 0), 0);
	cJSON_Delete(o);
	raw("garbage with \"run_id\":\"1-run\" in it\n");

	rec = history_find(dir, NULL, "1-run", &skipped);
	assert_non_null(rec);
	assert_int_equal(cJSON_GetObjectItem(rec, "n")->valueint, 1);
	assert_int_equal(skipped, 1);
	cJSON_Delete(rec);
	rec = history_find(dir, "a", "1-run", NULL);
	assert_non_null(rec);
	cJSON_Delete(rec);
	errno = 0;
	assert_null(history_find(dir, "b", "1-run", NULL));
	assert_int_equal(errno, ENOENT);
	assert_null(history_find(dir, NULL, "9-run", NULL));
	rec = history_find(dir, "", "q\"uote\\d", NULL);
	assert_non_null(rec);
	assert_int_equal(cJSON_GetObjectItem(rec, "n")->valueint, 12);
	cJSON_Delete(rec);
	/* The newest of two records with one id. */
	append("c", 10);
	rec = history_find(dir, NULL, "10-run", NULL);
	assert_non_null(rec);
	assert_string_equal(cJSON_GetObjectItem(rec, "project")->valuestring, "c");
	cJSON_Delete(rec);
}

/* Records across the block boundaries of the backward read, one longer than a
 * block, and a line too long to be a record. */
static void test_long_lines(void **state)
{
	size_t big = 200 << 10, huge = HISTORY_LINE_MAX + (300 << 10);
	char *s = malloc(huge + 2);
	cJSON *o = cJSON_CreateObject(), *arr;
	unsigned skipped;
	char id[32];
	FILE *f;

	append("a", 1);
	memset(s, 'x', big);
	s[big] = '\0';
	cJSON_AddStringToObject(o, "project", "a");
	cJSON_AddStringToObject(o, "run_id", "2-run");
	cJSON_AddNumberToObject(o, "n", 2);
	cJSON_AddStringToObject(o, "pad", s);
	assert_int_equal(history_append(dir, o, 0), 0);
	cJSON_Delete(o);
	memset(s, '{', huge);
	s[huge] = '\n';
	s[huge + 1] = '\0';
	f = fopen(file("runs.jsonl"), "a");
	fputs(s, f);
	fclose(f);
	bulk(3, 3000);
	arr = history_read(dir, "a", 0, NULL);
	assert_int_equal(cJSON_GetArraySize(arr), HISTORY_READ_MAX);
	cJSON_Delete(arr);
	expect(NULL, 3, "2999 2998 2997", 0);
	expect("b", 1, "2998", 0);
	/* The long record, read across blocks, and the line too long for one. */
	for (int i = 500; i < 3000; i += 500) {
		snprintf(id, sizeof(id), "%d-run", i);
		o = history_find(dir, NULL, id, &skipped);
		assert_non_null(o);
		assert_int_equal(skipped, 0);
		cJSON_Delete(o);
	}
	o = history_find(dir, "a", "2-run", &skipped);
	assert_non_null(o);
	assert_int_equal(strlen(cJSON_GetObjectItem(o, "pad")->valuestring), big);
	assert_int_equal(skipped, 1);
	cJSON_Delete(o);
	o = history_find(dir, NULL, "1-run", &skipped);
	assert_non_null(o);
	assert_int_equal(skipped, 1);
	cJSON_Delete(o);
	free(s);
}

static void test_unwritable(void **state)
{
	cJSON *o = cJSON_CreateObject();

	assert_int_equal(history_append("/nonexistent/dir", o, 0), -ENOENT);
	cJSON_Delete(o);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty),		T(test_order_filter_limit), T(test_project_prefix),
		T(test_torn_tail),	T(test_glued_record),	    T(test_garbage_counted),
		T(test_rotation),	T(test_rotation_torn),	    T(test_cap),
		T(test_find),		T(test_long_lines),	    T(test_unwritable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
