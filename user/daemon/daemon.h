/* The daemon: every module of agentperfd, opened and wired together. */
#ifndef AGENTPERF_DAEMON_H
#define AGENTPERF_DAEMON_H

#include "config.h"

struct daemon;

/* Opens the state directory, the registries, the port and the control
 * socket (with cfg->cleanup, neither), loads the BPF programs, and wires the
 * modules on one event loop.
 * NULL after one line on stderr saying why. daemon_free(NULL) is a no-op. */
struct daemon *daemon_new(const struct config *cfg);
void daemon_free(struct daemon *d);
/* Serves the event loop once. Returns 0, or -1 when the loop is over. */
int daemon_serve(struct daemon *d);
/* At SIGTERM: live runs stay pinned for the next start; with none, the BPF
 * state is unpinned (nothing stays attached). Returns 0, or -errno when
 * some state could not be kept or removed (logged). */
int daemon_shutdown(struct daemon *d);
/* --cleanup: records every run as detached and unpins the BPF state.
 * Returns 0 or -errno (logged). */
int daemon_cleanup(struct daemon *d);

#endif
