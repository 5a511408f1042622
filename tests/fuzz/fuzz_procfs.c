/* /proc/PID/status, /proc/PID/stat's starttime and /proc/stat's btime, all on
 * the same text (need not be NUL-terminated: the fuzzer's buffer is exact). */
#include <stdlib.h>

#include "fuzz.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct procfs_status st;
	unsigned long long ticks;
	long long btime;

	if (!procfs_parse_status(buf, size, &st)) {
		FUZZ_ASSERT(st.state >= 'A' && st.state <= 'Z');
		FUZZ_ASSERT(st.tgid >= 0 && st.ppid >= 0);
	}
	procfs_parse_starttime(buf, size, &ticks);
	if (!procfs_parse_btime(buf, size, &btime))
		FUZZ_ASSERT(btime >= 0);
	return 0;
}
