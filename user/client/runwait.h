/* `agentperf run`'s wait for its run's record, across restarts of agentperfd. */
#ifndef AGENTPERF_RUNWAIT_H
#define AGENTPERF_RUNWAIT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "control_proto.h"

/* How long a wait goes on trying once agentperfd is out of reach (its unit
 * restarts it after 2 s, and it listens a second or two later). */
#define RUNWAIT_GRACE_MS 15000

/* Sends req (a CONTROL_WAIT) on *fd (-1: connect first) and returns the
 * daemon's reply object. When the connection breaks or cannot be made, it
 * connects to control_path again, every 0.2 s backing off to every 1 s, and
 * sends req again: a restarted daemon answers for the runs it took over, or
 * from its history. Returns NULL with a one-line reason in err when the daemon
 * answers with an error (it does not know the run, say) or has been out of
 * reach for RUNWAIT_GRACE_MS in a row. *fd is closed and -1 on return. */
cJSON *runwait_wait(const char *control_path, int *fd, const struct control_request *req, char *err,
		    size_t errlen);

#endif
