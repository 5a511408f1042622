/* The environment of a run's command: its run id for the agent's own
 * OpenTelemetry (man/agentperf.1, "run"). */
#ifndef AGENTPERF_RUNENV_H
#define AGENTPERF_RUNENV_H

#include <stddef.h>

/* Writes into out (size cap) the OTEL_RESOURCE_ATTRIBUTES of a run's child:
 * old's entries (old may be NULL) in their order, less empty ones and any
 * agentperf.run_id (a run started inside another names the run it is in),
 * then agentperf.run_id=RUN_ID, percent-encoded where the format wants it.
 * Returns 0, or -1 when it does not fit. */
int runenv_otel_attributes(const char *old, const char *run_id, char *out, size_t cap);

#endif
