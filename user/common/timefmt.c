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

char *timefmt_iso_ms(int64_t unix_ns, char buf[TIMEFMT_ISO_LEN])
{
	/* Floor division without negating (INT64_MIN has no negation). */
	int64_t sec = unix_ns / 1000000000LL, rem = unix_ns % 1000000000LL;
	char s[TIMEFMT_ISO_LEN];

	if (rem < 0) {
		sec--;
		rem += 1000000000LL;
	}
	if (!timefmt_iso(sec, s)[0] || strlen(s) != 20) {
		buf[0] = '\0';
		return buf;
	}
	snprintf(buf, TIMEFMT_ISO_LEN, "%.19s.%03dZ", s, (int)(rem / 1000000));
	return buf;
}

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int timefmt_parse_iso_ns(const char *s, size_t n, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, frac = 0;
	size_t i = 19;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	/* Past 2261 unix ns no longer fit in 64 bits. */
	if (y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	if (s[i] == '.') {
		int nd = 0;

		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
			if (nd == 9)
				return -1;
			frac = frac * 10 + (s[i] - '0');
		}
		if (!nd)
			return -1;
		for (; nd < 9; nd++)
			frac *= 10;
	}
	if (i != n - 1 || s[i] != 'Z')
		return -1;
	*out = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000000000LL) +
	       frac;
	return 0;
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
