/* Host-wide figures from /proc/meminfo and /proc/stat, parsed without allocation. */
#ifndef AGENTPERF_HOST_H
#define AGENTPERF_HOST_H

#include <stddef.h>
#include <stdint.h>

struct host_mem {
	uint64_t total_bytes;
	uint64_t available_bytes;
};

struct host_cpu {
	uint64_t busy; /* jiffies not idle nor iowait, all CPUs */
	uint64_t total;
};

/* Parses MemTotal and MemAvailable (kB) from meminfo text (need not be
 * NUL-terminated). Returns 0, or -EINVAL if either is missing or malformed. */
int host_parse_meminfo(const char *buf, size_t len, struct host_mem *out);
/* Parses the aggregate "cpu " line of /proc/stat. Returns 0 or -EINVAL. */
int host_parse_stat(const char *buf, size_t len, struct host_cpu *out);
/* Read PROC_ROOT/meminfo and PROC_ROOT/stat. Return 0 or -errno. */
int host_read_meminfo(const char *proc_root, struct host_mem *out);
int host_read_stat(const char *proc_root, struct host_cpu *out);

#endif
