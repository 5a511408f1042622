/* The control socket: a Unix stream socket speaking JSON lines, peers known by SO_PEERCRED. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "control_proto.h"
#include "log.h"

static int fail(char *err, size_t errlen, int e, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg, strerror(e));
	return -e;
}

static int mkdir_parent(const char *path)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(copy, sizeof(copy), "%s", path);
	if (mkdir(dirname(copy), 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int control_listen(struct control_server *s, const char *path, const char *group, char *err,
		   size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	gid_t gid = (gid_t)-1;
	int fd, e;

	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	s->epoll_fd = -1;
	for (int i = 0; i < CONTROL_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	if (group) {
		struct group *g = getgrnam(group);

		if (!g) {
			snprintf(err, errlen, "no such group: %s", group);
			return -ENOENT;
		}
		gid = g->gr_gid;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(s->path, sizeof(s->path), "%s", path);
	if ((e = -mkdir_parent(path)))
		return fail(err, errlen, e, "cannot create the directory of %s: %s", path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(err, errlen, errno, "socket for %s: %s", path);
	/* A socket file that nobody answers on is left over from a crash. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
		close(fd);
		snprintf(err, errlen,
			 "another agentperfd is already listening on %s (stop it, or use --control)",
			 path);
		return -EADDRINUSE;
	}
	close(fd);
	if (unlink(path) && errno != ENOENT)
		return fail(err, errlen, errno, "cannot remove stale %s: %s", path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(err, errlen, errno, "socket for %s: %s", path);
	/* Never let the socket exist with looser permissions than 0660. */
	mode_t old = umask(0117);

	e = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	umask(old);
	if (!e && gid != (gid_t)-1 && chown(path, (uid_t)-1, gid))
		e = errno;
	if (!e && chmod(path, 0660))
		e = errno;
	if (!e && listen(fd, 64))
		e = errno;
	if (!e && (s->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		e = errno;
	if (!e && epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd,
			    &(struct epoll_event){ .events = EPOLLIN, .data.ptr = NULL }))
		e = errno;
	if (e) {
		close(fd);
		if (s->epoll_fd >= 0)
			close(s->epoll_fd);
		s->epoll_fd = -1;
		unlink(path);
		return fail(err, errlen, e, "cannot listen on %s: %s", path);
	}
	s->listen_fd = fd;
	return 0;
}

static void conn_close(struct control_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void control_close(struct control_server *s)
{
	for (int i = 0; i < CONTROL_MAX_CONNS; i++)
		conn_close(&s->conns[i]);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	s->listen_fd = -1;
	s->epoll_fd = -1;
}

int control_fd(const struct control_server *s)
{
	return s->epoll_fd;
}

static void accept_one(struct control_server *s)
{
	socklen_t len = sizeof(struct ucred);
	struct control_conn *c = NULL;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (int i = 0; i < CONTROL_MAX_CONNS && !c; i++)
		if (s->conns[i].fd < 0)
			c = &s->conns[i];
	if (!c) {
		char *msg = control_format_error("too many control connections; try again");

		if (msg)
			(void)!send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
		free(msg);
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->id = ++s->next_id;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len)) {
		log_warn("SO_PEERCRED: %s", strerror(errno));
		conn_close(c);
		return;
	}
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = c })) {
		log_warn("epoll: %s", strerror(errno));
		conn_close(c);
	}
}

/* Reads what is there; hands complete lines to on_line. */
static void read_conn(struct control_server *s, struct control_conn *c, control_line_fn on_line,
		      void *ctx)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, CONTROL_LINE_MAX - c->len, 0);
		char *nl;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (n < 0)
			return;
		c->len += (size_t)n;
		while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
			size_t line_len = (size_t)(nl - c->buf);

			*nl = '\0';
			on_line(ctx, c, c->buf, line_len);
			if (c->fd < 0)
				return;
			memmove(c->buf, nl + 1, c->len - line_len - 1);
			c->len -= line_len + 1;
		}
		if (c->len == CONTROL_LINE_MAX) {
			control_reply(c, "{\"ok\":false,\"error\":\"request line too long\"}\n");
			conn_close(c);
			return;
		}
	}
}

void control_service(struct control_server *s, control_line_fn on_line, void *ctx)
{
	struct epoll_event ev[CONTROL_MAX_CONNS + 1];
	int n = epoll_wait(s->epoll_fd, ev, CONTROL_MAX_CONNS + 1, 0);

	for (int i = 0; i < n; i++) {
		struct control_conn *c = ev[i].data.ptr;

		if (!c)
			accept_one(s);
		else if (c->fd >= 0) /* an earlier line may have closed it */
			read_conn(s, c, on_line, ctx);
	}
}

struct control_conn *control_conn_by_id(struct control_server *s, uint64_t id)
{
	for (int i = 0; i < CONTROL_MAX_CONNS; i++)
		if (s->conns[i].fd >= 0 && s->conns[i].id == id)
			return &s->conns[i];
	return NULL;
}

int control_reply(struct control_conn *c, const char *line)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t w = send(c->fd, line + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = c->fd, .events = POLLOUT };

			/* Replies are small but history can be long: give a slow
			 * reader a second, never the whole daemon. */
			if (poll(&p, 1, 1000) == 1)
				continue;
			errno = ETIMEDOUT;
		}
		if (w < 0) {
			int e = errno;

			conn_close(c);
			return -e;
		}
		off += (size_t)w;
	}
	return 0;
}
