/* Agent-harness registries: which names they hold, the first registry's
 * project winning a name, projects added and removed, a busy registry kept,
 * a lock's state kept across reads, and a read of many projects in time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "registry.h"

/* registry_serve's loop is the integration tests' (test_autoforge.sh);
 * these tests look at the locks by registry_watch. */
int http_watch_fd(struct http *h, int fd, void (*fn)(void *ctx), void *ctx)
{
	return -ENOSYS;
}

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/agentperf-unit.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static const char *at(const char *name)
{
	static char path[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

/* Runs sql on registry db, creating it with the harness's table. */
static void sql(const char *db, const char *fmt, ...)
{
	char *q, *err = NULL;
	sqlite3 *h;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&q, fmt, ap) >= 0);
	va_end(ap);
	assert_int_equal(sqlite3_open(at(db), &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
				      "CREATE TABLE IF NOT EXISTS projects (name TEXT PRIMARY KEY, "
				      "path TEXT NOT NULL, created_at TEXT)",
				      NULL, NULL, &err),
			 SQLITE_OK);
	if (sqlite3_exec(h, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
	sqlite3_close(h);
	free(q);
}

static struct registry *open_dbs(const char *a, const char *b)
{
	const char *paths[] = { at(a), b ? at(b) : NULL };
	struct registry *r = registry_new(paths, b ? 2 : 1);

	assert_non_null(r);
	return r;
}

struct attached {
	char project[64];
	int calls;
};

static int attach(void *ctx, const char *project, pid_t pid, bool again)
{
	struct attached *a = ctx;

	snprintf(a->project, sizeof(a->project), "%s", project);
	a->calls++;
	return 0;
}

/* Writes this process's lock in project directory sub. */
static void lock(const char *sub)
{
	char path[256];
	double start;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/.autoforge", dir, sub);
	assert_int_equal(mkdir(at(sub), 0755) && errno != EEXIST, 0);
	assert_int_equal(mkdir(path, 0755) && errno != EEXIST, 0);
	strcat(path, "/.agent.lock");
	assert_int_equal(procfs_start_time("/proc", getpid(), &start), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d:%.2f", (int)getpid(), start);
	fclose(f);
}

static void test_has(void **state)
{
	struct registry *r;

	sql("a.db", "INSERT INTO projects VALUES ('alpha', '%s', NULL), ('beta', '%s', NULL), "
		    "('bad name', '/x', NULL), ('relative', 'x', NULL)",
	    at("alpha"), at("beta"));
	r = open_dbs("a.db", "missing.db");
	assert_false(registry_has(r, "alpha"));
	registry_refresh(r, 0, false);
	assert_true(registry_has(r, "alpha"));
	assert_true(registry_has(r, "beta"));
	assert_false(registry_has(r, "bad name"));
	assert_false(registry_has(r, "relative"));
	assert_false(registry_has(r, "alph"));
	assert_false(registry_has(r, "alphaa"));
	assert_false(registry_has(r, ""));

	/* Added, removed: seen at the next read. */
	sql("a.db", "INSERT INTO projects VALUES ('gamma', '%s', NULL); "
		    "DELETE FROM projects WHERE name = 'beta'",
	    at("gamma"));
	registry_refresh(r, 1, true);
	assert_true(registry_has(r, "gamma"));
	assert_false(registry_has(r, "beta"));
	assert_true(registry_has(r, "alpha"));
	/* A registry that appears later is read too. */
	sql("missing.db", "INSERT INTO projects VALUES ('delta', '%s', NULL)", at("delta"));
	registry_refresh(r, 2, false);
	assert_true(registry_has(r, "delta"));
	registry_free(r);
	registry_free(NULL);
}

/* A name in two registries is the first registry's project: its lock
 * starts runs, the other's does not. */
static void test_first_registry_wins(void **state)
{
	struct attached a = { 0 };
	struct registry *r;

	sql("a.db", "INSERT INTO projects VALUES ('dup', '%s', NULL)", at("one"));
	sql("b.db", "INSERT INTO projects VALUES ('dup', '%s', NULL), ('other', '%s', NULL)",
	    at("two"), at("other"));
	r = open_dbs("a.db", "b.db");
	registry_refresh(r, 0, true);
	assert_true(registry_has(r, "dup"));
	assert_true(registry_has(r, "other"));
	lock("two");
	registry_watch(r, "/proc", attach, &a);
	assert_int_equal(a.calls, 0);
	lock("one");
	registry_watch(r, "/proc", attach, &a);
	assert_int_equal(a.calls, 1);
	assert_string_equal(a.project, "dup");
	registry_free(r);
}

/* A lock acted on stays acted on across reads: no second run. */
static void test_state_kept(void **state)
{
	struct attached a = { 0 };
	struct registry *r;

	sql("a.db", "INSERT INTO projects VALUES ('alpha', '%s', NULL)", at("alpha"));
	r = open_dbs("a.db", NULL);
	registry_refresh(r, 0, true);
	lock("alpha");
	registry_watch(r, "/proc", attach, &a);
	assert_int_equal(a.calls, 1);
	sql("a.db", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200) "
		    "INSERT INTO projects SELECT printf('p%%03d', x), '%s', NULL FROM c",
	    at("x"));
	registry_refresh(r, 1, true);
	registry_watch(r, "/proc", attach, &a);
	assert_int_equal(a.calls, 1);
	/* Its path changed: a project of its own, whose lock is new. */
	sql("a.db", "UPDATE projects SET path = '%s' WHERE name = 'alpha'", at("alpha2"));
	lock("alpha2");
	registry_refresh(r, 2, true);
	registry_watch(r, "/proc", attach, &a);
	assert_int_equal(a.calls, 2);
	registry_free(r);
}

/* While the harness holds the write lock, the last list stays, and its
 * projects keep their names against a later registry's. */
static void test_busy_kept(void **state)
{
	struct attached a = { 0 };
	struct registry *r;
	sqlite3 *h;

	sql("a.db", "INSERT INTO projects VALUES ('alpha', '%s', NULL)", at("alpha"));
	sql("b.db", "INSERT INTO projects VALUES ('beta', '%s', NULL)", at("beta"));
	r = open_dbs("a.db", "b.db");
	registry_refresh(r, 0, true);
	sql("a.db", "INSERT INTO projects VALUES ('gamma', '%s', NULL)", at("gamma"));
	sql("b.db", "INSERT INTO projects VALUES ('alpha', '%s', NULL)", at("alpha-b"));
	assert_int_equal(sqlite3_open(at("a.db"), &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN EXCLUSIVE; DELETE FROM projects", NULL, NULL, NULL),
			 SQLITE_OK);
	registry_refresh(r, 1, true);
	assert_false(registry_has(r, "gamma")); /* a.db was not read */
	assert_true(registry_has(r, "alpha"));
	assert_true(registry_has(r, "beta"));
	lock("alpha-b");
	registry_watch(r, "/proc", attach, &a);
	assert_int_equal(a.calls, 0);
	assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	registry_refresh(r, 2, true);
	/* Now b's alpha. */
	assert_false(registry_has(r, "gamma"));
	assert_true(registry_has(r, "alpha"));
	registry_watch(r, "/proc", attach, &a);
	assert_int_equal(a.calls, 1);
	registry_free(r);
}

static double since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* 50 000 projects: two reads and a lookup of each must not be quadratic
 * (30 s when they were; a fraction of a second now, ASan included). */
static void test_many(void **state)
{
	const int n = 50000;
	struct timespec t;
	struct registry *r;
	char name[16];
	int found = 0;

	sql("a.db", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) "
		    "INSERT INTO projects SELECT printf('p%%06d', x), printf('%s/p%%06d', x), NULL "
		    "FROM c",
	    n, dir);
	r = open_dbs("a.db", NULL);
	clock_gettime(CLOCK_MONOTONIC, &t);
	registry_refresh(r, 0, true);
	registry_refresh(r, 1, true);
	for (int i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "p%06d", i);
		found += registry_has(r, name);
	}
	assert_int_equal(found, n);
	assert_false(registry_has(r, "p000000"));
	assert_true(since(&t) < 5.0);
	registry_free(r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_has), T(test_first_registry_wins), T(test_state_kept), T(test_busy_kept),
		T(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
