/* Growing arrays; writing buffers out whole. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"

void *buf_grow(void *p, size_t *cap, size_t want, size_t elem)
{
	size_t c = *cap ? *cap : 16;

	if (!want)
		want = 1; /* room for nothing is still a block, not ENOMEM */
	if (want <= *cap)
		return p;
	while (c < want && c <= SIZE_MAX / 2)
		c *= 2;
	if (c < want || (elem && c > SIZE_MAX / elem)) {
		errno = ENOMEM;
		return NULL;
	}
	p = realloc(p, c * elem);
	if (p)
		*cap = c;
	return p;
}

static int put_all(int fd, const char *p, size_t n, bool sock)
{
	while (n) {
		ssize_t w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int buf_write_all(int fd, const void *p, size_t n)
{
	return put_all(fd, p, n, false);
}

int buf_send_all(int fd, const void *p, size_t n)
{
	return put_all(fd, p, n, true);
}
