/* The control socket: a Unix stream socket speaking JSON lines (control_proto.h),
 * each peer identified by SO_PEERCRED. */
#ifndef AGENTPERF_CONTROL_H
#define AGENTPERF_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONTROL_MAX_CONNS 64
/* Places only root may take: a user who holds the rest never locks root out. */
#define CONTROL_ROOT_RESERVED 8
/* Connections one non-root user may hold at once. */
#define CONTROL_MAX_PER_UID 16
/* Reply bytes a peer may leave unread; past it the peer is dropped. */
#define CONTROL_OUT_MAX (16u << 20)
/* While a peer leaves more than this unread, its further requests are not
 * read: a peer that never reads costs one reply past it, not a render of
 * every line it pipelined. */
#define CONTROL_OUT_PAUSE (256u << 10)
/* A paused peer that takes none of its replies for this long is dropped:
 * its connection and its replies' memory are not held for ever. */
#define CONTROL_STALL_NS (5 * 1000000000LL)
/* Request lines of one peer answered per turn of the loop: the rest wait
 * for the next turn, after the other peers and the WebSockets. */
#define CONTROL_LINES_PER_TURN 1
/* A connection with nothing asked, nothing to send and no wait is closed
 * after this long. */
#define CONTROL_IDLE_NS (30 * 1000000000LL)

struct control_conn {
	int fd;
	int epoll_fd; /* the server's, for writability */
	int wake_fd; /* the server's: a backlog to answer at the next turn */
	uint64_t id; /* never reused: names the connection after it is gone */
	struct ucred peer;
	char buf[4096 + 1]; /* CONTROL_LINE_MAX and a NUL */
	size_t len;
	char *out; /* replies; out[out_off, out_len) not yet taken by the peer */
	size_t out_len, out_off, out_cap;
	bool close_after; /* close once out is sent */
	bool backlog; /* complete request lines wait in buf for a later turn */
	int64_t active_ns; /* CLOCK_MONOTONIC of the latest request or reply */
	int64_t took_ns; /* when the peer last took reply bytes (or had none) */
};

/* Called for each complete request line (NUL-terminated, without its newline). */
typedef void (*control_line_fn)(void *ctx, struct control_conn *c, char *line, size_t len);

struct control_server {
	int listen_fd;
	int epoll_fd; /* the listener, every connection and wake_fd */
	int wake_fd; /* an eventfd, readable while some peer has a backlog */
	char path[108];
	uint64_t next_id;
	struct control_conn conns[CONTROL_MAX_CONNS];
	control_line_fn on_line; /* given to control_serve */
	void *on_line_ctx;
};

struct http;

/* A server with nothing open (every descriptor -1), as control_close leaves
 * it: control_close on it is a no-op. */
void control_init(struct control_server *s);
/* Whether a daemon answers on the socket at path. */
bool control_in_use(const char *path);
/* Binds PATH (mode 0660, group GROUP when non-NULL), creating its directory.
 * A stale socket is replaced; a live one (another daemon) is -EADDRINUSE.
 * Returns 0 or -errno, with a one-line reason in err. */
int control_listen(struct control_server *s, const char *path, const char *group, char *err,
		   size_t errlen);
/* Closes every connection and the socket, and removes its path. */
void control_close(struct control_server *s);
/* Puts the socket on h's loop: whenever it has work, what is ready is
 * accepted, read and written without blocking, and each request line goes
 * to on_line. Returns 0 or -errno. */
int control_serve(struct control_server *s, struct http *h, control_line_fn on_line, void *ctx);
/* Closes connections idle for CONTROL_IDLE_NS, but those keep() holds
 * (waiting for a run). */
void control_sweep(struct control_server *s, int64_t mono_ns,
		   bool (*keep)(void *ctx, uint64_t id), void *ctx);
/* The open connection with this id, or NULL once it is closed. */
struct control_conn *control_conn_by_id(struct control_server *s, uint64_t id);
/* Queues one reply line (copied) and sends what the peer takes now; the
 * rest goes when it is writable, on the loop. A peer that leaves more than
 * CONTROL_OUT_MAX unread is dropped. Returns 0 or -errno. */
int control_reply(struct control_conn *c, const char *line);

#endif
