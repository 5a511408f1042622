/* Time formats of the contract: ISO-8601 UTC seconds, and human durations. */
#ifndef AGENTPERF_TIMEFMT_H
#define AGENTPERF_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_ISO_LEN 32
/* Durations are shown at most this long (a million hours); longer is garbage. */
#define TIMEFMT_DURATION_MAX 3.6e9

/* "2026-11-24T10:00:00Z"; returns buf (empty string if the time cannot be represented). */
char *timefmt_iso(int64_t unix_sec, char buf[TIMEFMT_ISO_LEN]);
/* "850ms", "12.4s", "3m12s", "2h05m"; negative is "0ms", NaN "?", anything longer than
 * TIMEFMT_DURATION_MAX is that. Returns buf. */
char *timefmt_duration(double seconds, char *buf, size_t len);

#endif
