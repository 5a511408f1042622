/* Listen addresses (agentperfd --listen, agentperf --server): pure functions. */
#ifndef AGENTPERF_ADDR_H
#define AGENTPERF_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* "HOST:PORT" or "[V6]:PORT" into host (without brackets) and port 1-65535.
 * Returns 0 or -EINVAL. */
int addr_parse_listen(const char *s, char *host, size_t hostlen, int *port);
/* 127.0.0.0/8, ::1 or localhost. */
bool addr_is_loopback(const char *host);

#endif
