/* /proc/PID/status parsing, including odd and truncated inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_missing_and_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_read_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
