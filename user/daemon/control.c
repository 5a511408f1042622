/* The control socket: a Unix stream socket speaking JSON lines, peers known by SO_PEERCRED. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "control.h"
#include "control_proto.h"
#include "http/http.h"
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

void control_init(struct control_server *s)
{
	memset(s, 0, sizeof(*s));
	s->listen_fd = s->epoll_fd = s->wake_fd = -1;
	for (int i = 0; i < CONTROL_MAX_CONNS; i++)
		s->conns[i].fd = -1;
}

bool control_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool live;

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN;
	close(fd);
	return live;
}

int control_listen(struct control_server *s, const char *path, const char *group, char *err,
		   size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	gid_t gid = (gid_t)-1;
	int fd, e;

	control_init(s);
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

	/* A socket file that nobody answers on is left over from a crash. */
	if (control_in_use(path)) {
		snprintf(err, errlen,
			 "another agentperfd is already listening on %s (stop it, or use --control)",
			 path);
		return -EADDRINUSE;
	}
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
	if (!e && (s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		e = errno;
	if (!e && epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->wake_fd,
			    &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &s->wake_fd }))
		e = errno;
	if (e) {
		close(fd);
		if (s->epoll_fd >= 0)
			close(s->epoll_fd);
		if (s->wake_fd >= 0)
			close(s->wake_fd);
		s->epoll_fd = s->wake_fd = -1;
		unlink(path);
		return fail(err, errlen, e, "cannot listen on %s: %s", path);
	}
	s->listen_fd = fd;
	return 0;
}

static void conn_close(struct control_conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	free(c->out);
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
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->listen_fd = -1;
	s->epoll_fd = -1;
	s->wake_fd = -1;
}


/* One line to a peer being turned away; it is never waited for. */
static void refuse(int fd, const char *why)
{
	char *msg = control_format_error(why);

	if (msg)
		(void)!send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
	free(msg);
	close(fd);
}

/* A place for a peer of uid: root may take any, others leave
 * CONTROL_ROOT_RESERVED free and hold CONTROL_MAX_PER_UID at most. NULL
 * with the reason when there is none. */
static struct control_conn *place_for(struct control_server *s, uid_t uid, const char **why)
{
	struct control_conn *spare = NULL;
	int used = 0, mine = 0;

	for (int i = 0; i < CONTROL_MAX_CONNS; i++) {
		if (s->conns[i].fd < 0) {
			if (!spare)
				spare = &s->conns[i];
			continue;
		}
		used++;
		mine += s->conns[i].peer.uid == uid;
	}
	*why = "too many control connections; try again";
	if (!spare || (uid != 0 && used >= CONTROL_MAX_CONNS - CONTROL_ROOT_RESERVED))
		return NULL;
	if (uid != 0 && mine >= CONTROL_MAX_PER_UID) {
		*why = "too many control connections of this user; close some";
		return NULL;
	}
	return spare;
}

/* Takes one pending connection; returns false when there was none. */
static bool accept_one(struct control_server *s)
{
	socklen_t len = sizeof(struct ucred);
	struct control_conn *c;
	struct ucred peer;
	const char *why;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len)) {
		log_warn("SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return true;
	}
	c = place_for(s, peer.uid, &why);
	if (!c) {
		refuse(fd, why);
		return true;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->epoll_fd = s->epoll_fd;
	c->wake_fd = s->wake_fd;
	c->id = ++s->next_id;
	c->peer = peer;
	c->active_ns = clock_mono_ns();
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = c })) {
		log_warn("epoll: %s", strerror(errno));
		conn_close(c);
	}
	return true;
}

/* Whether the peer's further requests wait: it leaves too much unread. */
static bool paused(const struct control_conn *c)
{
	return c->out_len - c->out_off > CONTROL_OUT_PAUSE;
}

/* Sends what the peer takes now; waits for writability for the rest. A
 * peer that is gone, or done with its last reply, is closed. Its socket is
 * read again once it is neither paused nor holding a backlog. */
static void flush(struct control_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)w;
		c->took_ns = clock_mono_ns();
	}
	if (c->out_off == c->out_len) {
		c->out_len = c->out_off = 0;
		if (c->close_after) {
			conn_close(c);
			return;
		}
	}
	/* Unpaused with lines waiting: the next turn answers them. */
	if (c->backlog && !paused(c))
		(void)!write(c->wake_fd, &(uint64_t){ 1 }, sizeof(uint64_t));
	epoll_ctl(c->epoll_fd, EPOLL_CTL_MOD, c->fd,
		  /* A connection closing after its reply reads no more: a peer
		   * that keeps writing must not keep the loop busy. */
		  &(struct epoll_event){
			  .events = (c->close_after || paused(c) || c->backlog ? 0 : EPOLLIN) |
				    (c->out_len ? EPOLLOUT : 0),
			  .data.ptr = c });
}

/* Answers up to CONTROL_LINES_PER_TURN complete lines from buf, none while
 * the peer is paused; notes whether lines are left for a later turn. */
static void answer_lines(struct control_conn *c, control_line_fn on_line, void *ctx)
{
	char *nl;

	for (int k = 0; c->fd >= 0 && !c->close_after && !paused(c) &&
			(nl = memchr(c->buf, '\n', c->len));
	     k++) {
		size_t line_len = (size_t)(nl - c->buf);

		if (k == CONTROL_LINES_PER_TURN) {
			c->backlog = true;
			return;
		}
		*nl = '\0';
		on_line(ctx, c, c->buf, line_len);
		if (c->fd < 0)
			return;
		memmove(c->buf, nl + 1, c->len - line_len - 1);
		c->len -= line_len + 1;
	}
	c->backlog = c->fd >= 0 && memchr(c->buf, '\n', c->len) != NULL;
}

/* One read of what is there; complete lines go to on_line. One read per
 * turn: a peer that floods requests waits for its turn like everyone else
 * (its socket stays readable: epoll is level-triggered). */
static void read_conn(struct control_conn *c, control_line_fn on_line, void *ctx)
{
	ssize_t n;

	/* A full buffer (its lines answered while the peer was paused) has no
	 * room to read into: it holds a line too long. */
	if (c->len < CONTROL_LINE_MAX) {
		n = recv(c->fd, c->buf + c->len, CONTROL_LINE_MAX - c->len, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (n < 0)
			return;
		c->len += (size_t)n;
		c->active_ns = clock_mono_ns();
	}
	answer_lines(c, on_line, ctx);
	if (c->fd < 0)
		return;
	if (c->backlog || paused(c)) {
		flush(c); /* stop reading until the backlog or the replies are gone */
		return;
	}
	if (c->len == CONTROL_LINE_MAX) {
		control_reply(c, "{\"ok\":false,\"error\":\"request line too long\"}\n");
		if (c->fd >= 0) {
			c->close_after = true;
			flush(c);
		}
	}
}

/* Accepts, reads, dispatches and writes whatever is ready, without blocking. */
static void service(void *ctx_server)
{
	struct control_server *s = ctx_server;
	struct epoll_event ev[CONTROL_MAX_CONNS + 1];
	int n = epoll_wait(s->epoll_fd, ev, CONTROL_MAX_CONNS + 1, 0);

	uint64_t drained;
	bool more = false;

	for (int i = 0; i < n; i++) {
		struct control_conn *c = ev[i].data.ptr;

		if (ev[i].data.ptr == &s->wake_fd) {
			(void)!read(s->wake_fd, &drained, sizeof(drained));
			continue;
		}
		if (!c) {
			/* A burst of connects: take a few at a time, not one per turn. */
			for (int k = 0; k < 16 && accept_one(s); k++)
				;
			continue;
		}
		if (c->fd >= 0 && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->close_after)
			read_conn(c, s->on_line, s->on_line_ctx);
		/* An earlier line may have closed it. */
		if (c->fd >= 0 && (ev[i].events & EPOLLOUT))
			flush(c);
	}
	/* Each backlog's next lines, one turn each: the loop comes back for the
	 * rest (wake_fd) after serving everyone else. */
	for (int i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct control_conn *c = &s->conns[i];
		bool was_paused;

		if (c->fd < 0 || !c->backlog || c->close_after)
			continue;
		was_paused = paused(c);
		if (!was_paused)
			answer_lines(c, s->on_line, s->on_line_ctx);
		if (c->fd < 0)
			continue;
		if (!c->backlog || paused(c) != was_paused)
			flush(c); /* read again, or stop while paused */
		more |= c->backlog && !paused(c);
	}
	if (more)
		(void)!write(s->wake_fd, &(uint64_t){ 1 }, sizeof(uint64_t));
}

void control_sweep(struct control_server *s, int64_t now, bool (*keep)(void *ctx, uint64_t id),
		   void *ctx)
{
	for (int i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct control_conn *c = &s->conns[i];

		if (c->fd >= 0 && paused(c) && now - c->took_ns >= CONTROL_STALL_NS) {
			log_info("control peer of uid %u took none of its %zu reply bytes in %lld s: "
				 "dropped",
				 (unsigned)c->peer.uid, c->out_len - c->out_off,
				 (long long)(CONTROL_STALL_NS / 1000000000));
			conn_close(c);
			continue;
		}
		if (c->fd < 0 || now - c->active_ns < CONTROL_IDLE_NS || keep(ctx, c->id))
			continue;
		log_debug("control connection of uid %u idle for %lld s: closed",
			  (unsigned)c->peer.uid, (long long)(CONTROL_IDLE_NS / 1000000000));
		conn_close(c);
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
	size_t len = strlen(line), pending = c->out_len - c->out_off;
	char *out;

	if (c->fd < 0)
		return -ENOTCONN;
	if (pending + len > CONTROL_OUT_MAX) {
		log_info("control peer of uid %u left %zu bytes unread: dropped",
			 (unsigned)c->peer.uid, pending);
		conn_close(c);
		return -ENOBUFS;
	}
	/* What was sent goes once it is most of the buffer; the buffer
	 * doubles as it must: a peer that reads slowly costs linear time. */
	if (c->out_off && c->out_off >= pending) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_len = pending;
		c->out_off = 0;
	}
	if (c->out_off == c->out_len)
		c->took_ns = clock_mono_ns(); /* nothing was waiting for the peer */
	out = buf_grow(c->out, &c->out_cap, c->out_len + len, 1);
	if (!out)
		return -ENOMEM;
	c->out = out;
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	c->active_ns = clock_mono_ns();
	flush(c);
	return 0;
}

int control_serve(struct control_server *s, struct http *h, control_line_fn on_line, void *ctx)
{
	s->on_line = on_line;
	s->on_line_ctx = ctx;
	/* The epoll set is readable whenever the listener or a peer is. */
	return http_watch_fd(h, s->epoll_fd, service, s);
}
