/* What agentperfd checks and sets before it opens anything. */
#ifndef AGENTPERF_STARTUP_H
#define AGENTPERF_STARTUP_H

#include <stddef.h>

/* The reasons agentperfd cannot start that a user can fix (not root, no
 * BTF, kernel older than 5.11). Returns 0, or -errno after one line on
 * stderr. */
int startup_preflight(void);
/* Whether host:port (an IP address or localhost) can be bound, checked
 * before anything is loaded: a second daemon is told so in one line.
 * Returns 0, or -errno with a one-line reason in err. */
int startup_check_listen(const char *host, int port, char *err, size_t errlen);
/* Raises the open-file limit to its maximum: many WebSocket clients. */
void startup_raise_fd_limit(void);

#endif
