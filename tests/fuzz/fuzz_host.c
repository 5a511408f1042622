/* /proc/meminfo and the aggregate line of /proc/stat, on the same text. */
#include <stdlib.h>

#include "fuzz.h"
#include "host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct host_mem mem;
	struct host_cpu cpu;

	if (!host_parse_meminfo(buf, size, &mem))
		FUZZ_ASSERT(mem.available_bytes <= mem.total_bytes);
	if (!host_parse_stat(buf, size, &cpu))
		FUZZ_ASSERT(cpu.busy <= cpu.total);
	return 0;
}
