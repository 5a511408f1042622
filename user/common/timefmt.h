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
/* "2026-11-24T10:00:00.123Z" (milliseconds, rounded down); returns buf. */
char *timefmt_iso_ms(int64_t unix_ns, char buf[TIMEFMT_ISO_LEN]);
/* Parses "2026-11-24T10:00:00Z" or with a fraction of a second
 * ("…:00.123Z", up to 9 digits) into unix time in ns. Returns 0, or -1 for
 * anything else (other zones, years before 1970 or after 2261 included). */
int timefmt_parse_iso_ns(const char *s, size_t n, int64_t *out);
/* "850ms", "12.4s", "3m12s", "2h05m"; negative is "0ms", NaN "?", anything longer than
 * TIMEFMT_DURATION_MAX is that. Returns buf. */
char *timefmt_duration(double seconds, char *buf, size_t len);

#endif
