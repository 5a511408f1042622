/* Reading the head of a small file (/proc, /sys) into a caller's buffer. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "readfile.h"

int readfile_head(const char *path, char *buf, size_t cap, size_t *len)
{
	size_t got = 0;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	/* /proc hands out a page per read: loop to the cap or the end. */
	while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)n;
	if (n < 0)
		err = -errno;
	close(fd);
	*len = got;
	return err;
}
