/* Time formats of the contract: ISO-8601 UTC seconds, and human durations. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

char *timefmt_iso(int64_t unix_sec, char buf[TIMEFMT_ISO_LEN])
{
	time_t t = (time_t)unix_sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, TIMEFMT_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		buf[0] = '\0';
	return buf;
}

char *timefmt_duration(double seconds, char *buf, size_t len)
{
	long long s;

	if (isnan(seconds)) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (seconds < 0)
		seconds = 0;
	/* A corrupted record may say 1e300: cap it before any integer cast. */
	if (seconds > TIMEFMT_DURATION_MAX)
		seconds = TIMEFMT_DURATION_MAX;
	s = (long long)seconds;
	if (seconds < 1)
		snprintf(buf, len, "%.0fms", seconds * 1000);
	else if (seconds < 60)
		snprintf(buf, len, "%.1fs", seconds);
	else if (seconds < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	return buf;
}
