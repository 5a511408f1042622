/* Durations and ISO times: any double (NaN, inf, 1e300, negative zero) and
 * any int64. Input: the double's 8 bytes, then the int64's; or text, read
 * with strtod as a JSON number would be. */
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
	}
	s = fuzz_cstr(data, size);
	d = strtod(s, NULL);
	duration(d, 32);
	free(s);
	return 0;
}
