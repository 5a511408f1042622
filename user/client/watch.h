/* `agentperf watch`: a WebSocket client printing each perf_metrics as one line. */
#ifndef AGENTPERF_WATCH_H
#define AGENTPERF_WATCH_H

/* Connects to ws://HOST:PORT/ws/projects/PROJECT (token: bearer, may be NULL)
 * and prints every message on stdout until the server closes or a signal.
 * Returns the exit status for the CLI; failures are one line on stderr. */
int watch_run(const char *server, const char *project, const char *token);

#endif
