/* Opening a user's transcript as root: a regular file of theirs with one name,
 * and nothing else ever opened (issue 16, case 12). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "useropen.h"

static char dir[] = "/tmp/test_useropen.XXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int in_dir(const char *name, char *path, size_t len)
{
	return snprintf(path, len, "%s/%s", dir, name);
}

static int setup(void **state)
{
	char path[256], target[256];

	if (!mkdtemp(dir))
		return -1;
	put("ok.jsonl", "{\"a\":1}\n");
	put("target.jsonl", "{\"b\":2}\n");
	put("linked.jsonl", "{\"c\":3}\n");
	in_dir("fifo.jsonl", path, sizeof(path));
	if (mkfifo(path, 0600))
		return -1;
	in_dir("target.jsonl", target, sizeof(target));
	in_dir("symlink.jsonl", path, sizeof(path));
	if (symlink(target, path))
		return -1;
	in_dir("linked.jsonl", target, sizeof(target));
	in_dir("second-name.jsonl", path, sizeof(path));
	return link(target, path) ? -1 : 0;
}

static int teardown(void **state)
{
	static const char *const names[] = { "ok.jsonl",   "target.jsonl",  "linked.jsonl",
					     "fifo.jsonl", "symlink.jsonl", "second-name.jsonl" };
	char path[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		in_dir(names[i], path, sizeof(path));
		unlink(path);
	}
	return rmdir(dir);
}

static void test_regular(void **state)
{
	int dfd = useropen_dir(dir, getuid()), fd;
	struct stat st, want;
	char path[256], buf[16];

	assert_true(dfd >= 0);
	fd = useropen_file(dfd, "ok.jsonl", getuid(), &st);
	assert_true(fd >= 0);
	in_dir("ok.jsonl", path, sizeof(path));
	assert_int_equal(stat(path, &want), 0);
	assert_true(st.st_ino == want.st_ino && st.st_dev == want.st_dev);
	assert_int_equal(st.st_size, 8);
	/* Open for reading, and for reading only. */
	assert_int_equal(read(fd, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "{\"a\":1}\n", 8);
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	close(dfd);
}

static void test_refused(void **state)
{
	int dfd = useropen_dir(dir, getuid()), devfd = open("/dev", O_PATH | O_DIRECTORY), fd;
	struct stat st, null;

	assert_true(dfd >= 0 && devfd >= 0);
	/* A FIFO: refused at once, never waited on nor opened. */
	errno = 0;
	assert_int_equal(useropen_file(dfd, "fifo.jsonl", getuid(), &st), -1);
	assert_int_equal(errno, EINVAL);
	/* A symlink, even to a good file of the same user. */
	errno = 0;
	assert_int_equal(useropen_file(dfd, "symlink.jsonl", getuid(), &st), -1);
	assert_int_equal(errno, EINVAL);
	fd = useropen_file(dfd, "target.jsonl", getuid(), &st);
	assert_true(fd >= 0);
	close(fd);
	/* A file with a second name, by either name. */
	errno = 0;
	assert_int_equal(useropen_file(dfd, "linked.jsonl", getuid(), &st), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(useropen_file(dfd, "second-name.jsonl", getuid(), &st), -1);
	/* Another user's. */
	errno = 0;
	assert_int_equal(useropen_file(dfd, "ok.jsonl", getuid() + 1, &st), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(useropen_dir(dir, getuid() + 1), -1);
	/* A device, asked for as its owner: refused for what it is. */
	assert_int_equal(fstatat(devfd, "null", &null, 0), 0);
	errno = 0;
	assert_int_equal(useropen_file(devfd, "null", null.st_uid, &st), -1);
	assert_int_equal(errno, EINVAL);
	/* Nothing there. */
	errno = 0;
	assert_int_equal(useropen_file(dfd, "absent.jsonl", getuid(), &st), -1);
	assert_int_equal(errno, ENOENT);
	close(devfd);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
