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
	uid_t fsuid; /* the euid where the kernel shows no fsuid */
	char state; /* 'R', 'S', 'T', 'Z', ... */
};

/* Parses the text of /proc/PID/status (need not be NUL-terminated).
 * Returns 0, or -EINVAL when Tgid, PPid, Uid or State is missing or malformed. */
int procfs_parse_status(const char *buf, size_t len, struct procfs_status *out);
/* Reads and parses PROC_ROOT/PID/status. Returns 0, -ESRCH when there is no
 * such process, or another -errno. */
int procfs_read_status(const char *proc_root, pid_t pid, struct procfs_status *out);

/* Field 22 (starttime, clock ticks after boot) of /proc/PID/stat text. The
 * command name may hold spaces and parentheses: fields count from the last
 * ')'. Returns 0 or -EINVAL. */
int procfs_parse_starttime(const char *buf, size_t len, unsigned long long *ticks);
/* "btime N" (boot time, unix seconds) of /proc/stat text. Returns 0 or -EINVAL. */
int procfs_parse_btime(const char *buf, size_t len, long long *btime);
/* A process's start as unix seconds, computed as psutil's create_time() is
 * (btime + starttime / CLK_TCK). Returns 0, -ESRCH, or another -errno. */
int procfs_start_time(const char *proc_root, pid_t pid, double *unix_sec);

#endif
