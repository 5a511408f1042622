/* The agent harness's lock file: whatever parses is a positive pid and a
 * finite, positive start time that matches itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agentlock.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentlock l;

	if (agentlock_parse((const char *)data, size, &l))
		return 0;
	FUZZ_ASSERT(size <= AGENTLOCK_MAX && !memchr(data, '\0', size));
	FUZZ_ASSERT(l.pid > 0);
	FUZZ_ASSERT(isfinite(l.create_time) && l.create_time > 0);
	FUZZ_ASSERT(agentlock_matches(&l, l.create_time));
	return 0;
}
