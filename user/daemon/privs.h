/* Capabilities: after setup, agentperfd keeps only what it still uses. */
#ifndef AGENTPERF_PRIVS_H
#define AGENTPERF_PRIVS_H

#include <stddef.h>

/* Drops every capability but CAP_SYS_PTRACE (other users' /proc/PID/fd and
 * fdinfo) and CAP_DAC_READ_SEARCH (agents' transcripts, registries and lock
 * files under users' homes, often 0700): from the effective, permitted, inheritable and
 * bounding sets; and sets no_new_privs. BPF programs, links and maps stay
 * usable through their open descriptors. Returns 0, or -errno with a one-line
 * reason in err. */
int privs_drop(char *err, size_t errlen);

/* For a worker thread that reads users' paths: keeps only those two
 * capabilities in its own sets (capabilities are each thread's: one started
 * before privs_drop would keep root's whole set) and sets no_new_privs.
 * who names the thread in the warning if they cannot be dropped. */
void privs_thread(const char *who);

#endif
