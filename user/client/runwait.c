/* `agentperf run`'s wait for its run's record, across restarts of agentperfd. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "runwait.h"

#define RUNWAIT_BACKOFF_MIN_MS 200
#define RUNWAIT_BACKOFF_MAX_MS 1000
/* A connection that held this long was a working one: when it breaks, the
 * daemon has just gone, and the grace starts again. One that breaks sooner
 * (a daemon that accepts and then closes) does not restart it. */
#define RUNWAIT_HELD_MS 1000

static int64_t now_ms(void)
{
	return clock_mono_ns() / 1000000;
}

/* After client_call failed on fd: true when the connection is gone (it could
 * not send, or the daemon closed it, perhaps dying), false when it is still
 * open, so the failure is the daemon's answer. */
static bool conn_gone(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* The next pause between attempts: none after a working connection broke,
 * then 0.2 s doubling up to 1 s. */
static int next_backoff(int backoff_ms)
{
	if (!backoff_ms)
		return RUNWAIT_BACKOFF_MIN_MS;
	return backoff_ms * 2 < RUNWAIT_BACKOFF_MAX_MS ? backoff_ms * 2 : RUNWAIT_BACKOFF_MAX_MS;
}

cJSON *runwait_wait(const char *control_path, int *fd, const struct control_request *req, char *err,
		    size_t errlen)
{
	int64_t lost = -1; /* since when the daemon is out of reach; -1: it is not */
	bool broke = false;
	int backoff = 0;

	for (;;) {
		int64_t t = now_ms();
		cJSON *reply;

		if (*fd < 0)
			*fd = client_connect(control_path, err, errlen);
		if (*fd >= 0) {
			reply = client_call(*fd, req, err, errlen);
			if (reply || !conn_gone(*fd)) {
				close(*fd);
				*fd = -1;
				if (!reply && broke) {
					char why[256];

					snprintf(why, sizeof(why), "%s", err);
					snprintf(err, errlen, "%s (after connecting again)", why);
				}
				return reply;
			}
			close(*fd);
			*fd = -1;
			broke = true;
			if (now_ms() - t >= RUNWAIT_HELD_MS) {
				lost = -1;
				backoff = 0;
			}
		}
		t = now_ms();
		if (lost < 0)
			lost = t;
		if (t - lost >= RUNWAIT_GRACE_MS) {
			char why[256];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "agentperfd out of reach for %d s: %s",
				 RUNWAIT_GRACE_MS / 1000, why);
			return NULL;
		}
		if (backoff) {
			int64_t left = lost + RUNWAIT_GRACE_MS - t;

			/* A signal ends the pause early; the next attempt is no harm. */
			poll(NULL, 0, (int)(backoff < left ? backoff : left));
		}
		backoff = next_backoff(backoff);
	}
}
