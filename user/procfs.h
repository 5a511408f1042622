/* What the daemon needs to know of a process from /proc/PID/status. */
#ifndef AGENTPERF_PROCFS_H
#define AGENTPERF_PROCFS_H

#include <stddef.h>
#include <sys/types.h>

struct procfs_status {
	pid_t tgid;
	pid_t ppid;
	uid_t ruid;
	uid_t euid;
	char state; /* 'R', 'S', 'T', 'Z', ... */
};

/* Parses the text of /proc/PID/status (need not be NUL-terminated).
 * Returns 0, or -EINVAL when Tgid, PPid, Uid or State is missing or malformed. */
int procfs_parse_status(const char *buf, size_t len, struct procfs_status *out);
/* Reads and parses PROC_ROOT/PID/status. Returns 0, -ESRCH when there is no
 * such process, or another -errno. */
int procfs_read_status(const char *proc_root, pid_t pid, struct procfs_status *out);

#endif
