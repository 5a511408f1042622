/* The daemon's and the client's clocks: wall-clock for records, monotonic
 * for intervals and deadlines. */
#include <time.h>

#include "clock.h"

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t clock_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t clock_boot_to_real_ns(uint64_t boot_ns)
{
	return clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME) + (int64_t)boot_ns;
}

struct timespec clock_real_after(int64_t wait_ns)
{
	int64_t at = clock_real_ns() + wait_ns;

	return (struct timespec){ .tv_sec = at / 1000000000, .tv_nsec = at % 1000000000 };
}
