/* The CLI's side of the control socket. */
#ifndef AGENTPERF_CLIENT_H
#define AGENTPERF_CLIENT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "control_proto.h"

/* Connects to the daemon. Returns an fd, or -1 with a one-line reason in err. */
int client_connect(const char *path, char *err, size_t errlen);
/* Sends req and reads the reply. Returns the reply object when "ok" is true;
 * otherwise NULL with the daemon's error (or the transport's) in err. */
cJSON *client_call(int fd, const struct control_request *req, char *err, size_t errlen);

#endif
