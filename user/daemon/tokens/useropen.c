/* Opening what a given user owns: no link followed, no FIFO waited on, no device opened. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
	char self[64];
	struct stat again;
	int o, fd;

	/* O_PATH opens nothing: no driver's open for a device, no wait for a
	 * FIFO's writer; with O_NOFOLLOW a symlink is looked at as itself. */
	o = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (o < 0)
		return -1;
	if (fstat(o, st) || !S_ISREG(st->st_mode)) {
		close(o);
		errno = EINVAL;
		return -1;
	}
	/* A second name is no transcript's: the file may be someone else's
	 * reached through uid's directory (protected_hardlinks off). */
	if (st->st_uid != uid || st->st_nlink != 1) {
		close(o);
		errno = EPERM;
		return -1;
	}
	/* The inode just checked, reopened for reading: /proc/self/fd/N leads
	 * to the O_PATH fd's own file, no path walked again. (O_NOFOLLOW would
	 * refuse that very link, ELOOP.) */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", o);
	fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	close(o);
	if (fd < 0)
		return -1;
	if (fstat(fd, &again) || again.st_dev != st->st_dev || again.st_ino != st->st_ino ||
	    !S_ISREG(again.st_mode)) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	*st = again;
	return fd;
}
