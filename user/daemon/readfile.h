/* Reading the head of a small file (/proc, /sys) into a caller's buffer. */
#ifndef AGENTPERF_READFILE_H
#define AGENTPERF_READFILE_H

#include <stddef.h>

/* Reads up to cap bytes of path into buf (not NUL-terminated); their count
 * in *len. Returns 0 or -errno. */
int readfile_head(const char *path, char *buf, size_t cap, size_t *len);

#endif
