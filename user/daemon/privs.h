/* Capabilities: after setup, agentperfd keeps only what it still uses. */
#ifndef AGENTPERF_PRIVS_H
#define AGENTPERF_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

/* Drops every capability but CAP_SYS_PTRACE (other users' /proc/PID/fd and
 * fdinfo) and, with read_homes, CAP_DAC_READ_SEARCH (registries and lock
 * files under users' homes): from the effective, permitted, inheritable and
 * bounding sets; and sets no_new_privs. BPF programs, links and maps stay
 * usable through their open descriptors. Returns 0, or -errno with a one-line
 * reason in err. */
int privs_drop(bool read_homes, char *err, size_t errlen);

#endif
