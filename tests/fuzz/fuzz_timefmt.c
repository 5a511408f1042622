/* Durations and ISO times: any double (NaN, inf, 1e300, negative zero) and
 * any int64. Input: the double's 8 bytes, then the int64's; or text, read
 * with strtod as a JSON number would be, and as an ISO time a transcript
 * stamps its lines with (timefmt_parse_iso_ns: a time it takes is one
 * timefmt_iso_ms writes back, to the millisecond). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "timefmt.h"

/* Exactly len bytes on the heap; with 32 the text always fits whole. */
static void duration(double d, size_t len)
{
	char *buf = malloc(len);

	FUZZ_ASSERT(buf);
	FUZZ_ASSERT(timefmt_duration(d, buf, len) == buf);
	FUZZ_ASSERT(strnlen(buf, len) < len);
	if (len >= 32)
		FUZZ_ASSERT(buf[0] && strlen(buf) < 24);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char iso[TIMEFMT_ISO_LEN], *s;
	int64_t t;
	double d;

	if (size >= sizeof(d)) {
		memcpy(&d, data, sizeof(d));
		duration(d, 1);
		duration(d, 6);
		duration(d, 32);
	}
	if (size >= sizeof(d) + sizeof(t)) {
		memcpy(&t, data + sizeof(d), sizeof(t));
		timefmt_iso(t, iso);
		FUZZ_ASSERT(strnlen(iso, sizeof(iso)) < sizeof(iso));
		timefmt_iso_ms(t, iso);
		FUZZ_ASSERT(strnlen(iso, sizeof(iso)) < sizeof(iso));
	}
	if (!timefmt_parse_iso_ns((const char *)data, size, &t)) {
		int64_t back;

		FUZZ_ASSERT(t >= 0);
		timefmt_iso_ms(t, iso);
		FUZZ_ASSERT(!timefmt_parse_iso_ns(iso, strlen(iso), &back));
		FUZZ_ASSERT(back == t - t % 1000000);
	}
	s = fuzz_cstr(data, size);
	d = strtod(s, NULL);
	duration(d, 32);
	free(s);
	return 0;
}
