/* /proc/PID/status parsing, including odd and truncated inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"

static const char good[] = "Name:\tcc1\n"
			   "Umask:\t0022\n"
			   "State:\tS (sleeping)\n"
			   "Tgid:\t4242\n"
			   "Ngid:\t0\n"
			   "Pid:\t4243\n"
			   "PPid:\t17\n"
			   "TracerPid:\t0\n"
			   "Uid:\t1000\t1001\t1000\t1000\n"
			   "Gid:\t1000\t1000\t1000\t1000\n";

static void test_good(void **state)
{
	struct procfs_status st;

	assert_int_equal(procfs_parse_status(good, strlen(good), &st), 0);
	assert_int_equal(st.tgid, 4242);
	assert_int_equal(st.ppid, 17);
	assert_int_equal(st.ruid, 1000);
	assert_int_equal(st.euid, 1001);
	assert_int_equal(st.state, 'S');
}

static void test_missing_and_truncated(void **state)
{
	struct procfs_status st;
	const char *uid = strstr(good, "Uid:");

	/* Cut before Uid: incomplete. */
	assert_int_equal(procfs_parse_status(good, (size_t)(uid - good), &st), -EINVAL);
	/* Cut inside the Uid line after one number: incomplete. */
	assert_int_equal(procfs_parse_status(good, (size_t)(uid - good) + 9, &st), -EINVAL);
	assert_int_equal(procfs_parse_status("", 0, &st), -EINVAL);
	assert_int_equal(procfs_parse_status("\n\n\n", 3, &st), -EINVAL);
}

static void test_malformed(void **state)
{
	struct procfs_status st;
	const char *huge = "State:\tR\nTgid:\t99999999999999999999999\nPPid:\t1\nUid:\t0\t0\n";
	const char *neg = "State:\tR\nTgid:\t-1\nPPid:\t1\nUid:\t0\t0\n";
	const char *nocolon = "State R\nTgid 1\nPPid 1\nUid 0 0\n";
	const char *noterm = "State:\tR\nTgid:\t7\nPPid:\t1\nUid:\t5\t6";

	assert_int_equal(procfs_parse_status(huge, strlen(huge), &st), -EINVAL);
	assert_int_equal(procfs_parse_status(neg, strlen(neg), &st), -EINVAL);
	assert_int_equal(procfs_parse_status(nocolon, strlen(nocolon), &st), -EINVAL);
	/* No final newline is fine. */
	assert_int_equal(procfs_parse_status(noterm, strlen(noterm), &st), 0);
	assert_int_equal(st.euid, 6);
}

static void test_read_self(void **state)
{
	struct procfs_status st;

	assert_int_equal(procfs_read_status("/proc", getpid(), &st), 0);
	assert_int_equal(st.tgid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.ruid, getuid());
	assert_int_equal(procfs_read_status("/proc", 0, &st), -ESRCH);
	assert_int_equal(procfs_read_status("/nonexistent", 1, &st), -ESRCH);
}

static void test_starttime(void **state)
{
	/* A command name with spaces and parentheses: fields count from the last ')'. */
	static const char stat[] =
		"4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 "
		"123456 10000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
	unsigned long long ticks;
	long long btime;

	assert_int_equal(procfs_parse_starttime(stat, strlen(stat), &ticks), 0);
	assert_int_equal(ticks, 123456);
	assert_int_equal(procfs_parse_starttime("4242 (x) S 1 2", 14, &ticks), -EINVAL);
	assert_int_equal(procfs_parse_starttime("no paren", 8, &ticks), -EINVAL);
	assert_int_equal(procfs_parse_btime("btime 1795527829\n", 17, &btime), 0);
	assert_int_equal(btime, 1795527829);
	assert_int_equal(procfs_parse_btime("cpu 1 2 3\n", 10, &btime), -EINVAL);
}

static void test_start_time_self(void **state)
{
	double start, now = (double)time(NULL);

	assert_int_equal(procfs_start_time("/proc", getpid(), &start), 0);
	assert_true(start <= now + 1 && start > now - 3600);
	assert_int_equal(procfs_start_time("/proc", 0x7ffffff0, &start), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_missing_and_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_starttime),
		cmocka_unit_test(test_start_time_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
