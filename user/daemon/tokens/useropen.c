/* Opening what a given user owns: no link followed, no FIFO waited on, no device opened. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "useropen.h"

int useropen_dir(const char *path, uid_t uid)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || st.st_uid != uid) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int useropen_file(int dfd, const char *name, uid_t uid, struct stat *st)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_uid != uid) {
		close(fd);
		return -1;
	}
	return fd;
}
