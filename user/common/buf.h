/* Growing arrays and buffers, and writing a buffer out whole: the small
 * helpers every module would otherwise write again. */
#ifndef AGENTPERF_BUF_H
#define AGENTPERF_BUF_H

#include <stddef.h>

/* Room for want elements of elem bytes in p, which holds *cap: p itself when
 * it has room, else p reallocated to at least twice *cap (at least 16) with
 * *cap updated. NULL with errno ENOMEM (p and *cap untouched). */
void *buf_grow(void *p, size_t *cap, size_t want, size_t elem);
/* Writes all n bytes of p to fd, again after EINTR and short writes;
 * sockets with MSG_NOSIGNAL (a gone peer is -EPIPE, never SIGPIPE).
 * Returns 0 or -errno. */
int buf_write_all(int fd, const void *p, size_t n);
int buf_send_all(int fd, const void *p, size_t n);

#endif
