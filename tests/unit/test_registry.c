/* The registry engine: which names a registry holds, projects added and
 * removed, a busy registry kept, a lock's state kept across reads, and a
 * read of many projects in time. (The facade's workers, and the earlier
 * registry winning a name, are test_autoforge.sh's.) */
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
#include "regengine.h"

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

static struct regengine *open_db(const char *name)
{
	struct regengine *e = regengine_new(at(name));

	assert_non_null(e);
	return e;
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
	struct regengine *e, *later;

	sql("a.db", "INSERT INTO projects VALUES ('alpha', '%s', NULL), ('beta', '%s', NULL), "
		    "('bad name', '/x', NULL), ('relative', 'x', NULL)",
	    at("alpha"), at("beta"));
	e = open_db("a.db");
	assert_false(regengine_has(e, "alpha"));
	regengine_refresh(e, 0, false);
	assert_true(regengine_has(e, "alpha"));
	assert_true(regengine_has(e, "beta"));
	assert_false(regengine_has(e, "bad name"));
	assert_false(regengine_has(e, "relative"));
	assert_false(regengine_has(e, "alph"));
	assert_false(regengine_has(e, "alphaa"));
	assert_false(regengine_has(e, ""));
	assert_int_equal(e->gen, 1);

	/* Unchanged: not read again (the list stays the same list). */
	regengine_refresh(e, 1, false);
	assert_int_equal(e->gen, 1);
	/* Added, removed: seen at the next read. */
	sql("a.db", "INSERT INTO projects VALUES ('gamma', '%s', NULL); "
		    "DELETE FROM projects WHERE name = 'beta'",
	    at("gamma"));
	regengine_refresh(e, 2, false);
	assert_int_equal(e->gen, 2);
	assert_true(regengine_has(e, "gamma"));
	assert_false(regengine_has(e, "beta"));
	assert_true(regengine_has(e, "alpha"));
	regengine_free(e);
	regengine_free(NULL);

	/* A registry that appears later is read then. */
	later = open_db("missing.db");
	regengine_refresh(later, 0, false);
	assert_false(regengine_has(later, "delta"));
	sql("missing.db", "INSERT INTO projects VALUES ('delta', '%s', NULL)", at("delta"));
	regengine_refresh(later, 1, false);
	assert_true(regengine_has(later, "delta"));
	regengine_free(later);
}

/* A lock acted on stays acted on across reads: no second run. */
static void test_state_kept(void **state)
{
	struct attached a = { 0 };
	struct regengine *e;

	sql("a.db", "INSERT INTO projects VALUES ('alpha', '%s', NULL)", at("alpha"));
	e = open_db("a.db");
	regengine_refresh(e, 0, true);
	lock("alpha");
	regengine_watch(e, "/proc", attach, &a);
	assert_int_equal(a.calls, 1);
	sql("a.db", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200) "
		    "INSERT INTO projects SELECT printf('p%%03d', x), '%s', NULL FROM c",
	    at("x"));
	regengine_refresh(e, 1, true);
	regengine_watch(e, "/proc", attach, &a);
	assert_int_equal(a.calls, 1);
	/* Its path changed: a project of its own, whose lock is new. */
	sql("a.db", "UPDATE projects SET path = '%s' WHERE name = 'alpha'", at("alpha2"));
	lock("alpha2");
	regengine_refresh(e, 2, true);
	regengine_watch(e, "/proc", attach, &a);
	assert_int_equal(a.calls, 2);
	regengine_free(e);
}

/* While the harness holds the write lock, the last list stays, with its
 * locks' state. */
static void test_busy_kept(void **state)
{
	struct attached a = { 0 };
	struct regengine *e;
	sqlite3 *h;

	sql("a.db", "INSERT INTO projects VALUES ('alpha', '%s', NULL)", at("alpha"));
	e = open_db("a.db");
	regengine_refresh(e, 0, true);
	sql("a.db", "INSERT INTO projects VALUES ('gamma', '%s', NULL)", at("gamma"));
	assert_int_equal(sqlite3_open(at("a.db"), &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN EXCLUSIVE; DELETE FROM projects", NULL, NULL, NULL),
			 SQLITE_OK);
	regengine_refresh(e, 1, true);
	assert_int_equal(e->gen, 1); /* not read */
	assert_false(regengine_has(e, "gamma"));
	assert_true(regengine_has(e, "alpha"));
	lock("alpha");
	regengine_watch(e, "/proc", attach, &a);
	assert_int_equal(a.calls, 1);
	assert_string_equal(a.project, "alpha");
	assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	regengine_refresh(e, 2, false);
	assert_false(regengine_has(e, "gamma"));
	assert_false(regengine_has(e, "alpha"));
	regengine_free(e);
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
	struct regengine *e;
	char name[16];
	int found = 0;

	sql("a.db", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) "
		    "INSERT INTO projects SELECT printf('p%%06d', x), printf('%s/p%%06d', x), NULL "
		    "FROM c",
	    n, dir);
	e = open_db("a.db");
	clock_gettime(CLOCK_MONOTONIC, &t);
	regengine_refresh(e, 0, true);
	regengine_refresh(e, 1, true);
	for (int i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "p%06d", i);
		found += regengine_has(e, name);
	}
	assert_int_equal(found, n);
	assert_false(regengine_has(e, "p000000"));
	assert_true(since(&t) < 5.0);
	regengine_free(e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_has), T(test_state_kept), T(test_busy_kept),
		T(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
