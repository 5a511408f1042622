/* The daemon: every module of agentperfd, opened and wired together. */
#ifndef AGENTPERF_DAEMON_H
#define AGENTPERF_DAEMON_H

#include <stdbool.h>

#include "config.h"

struct daemon;

/* Opens the state directory, the registries, the port and the control
 * socket, loads the BPF programs, and wires the modules on one event loop.
 * NULL after one line on stderr saying why. daemon_free(NULL) is a no-op. */
struct daemon *daemon_new(const struct config *cfg);
void daemon_free(struct daemon *d);
/* Whether it reads users' home directories (agent lock files). */
bool daemon_reads_homes(const struct daemon *d);
/* Serves the event loop once. Returns 0, or -1 when the loop is over. */
int daemon_serve(struct daemon *d);
/* At SIGTERM: records every run still tracked. */
void daemon_shutdown(struct daemon *d);

#endif
