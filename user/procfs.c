/* What the daemon needs to know of a process from /proc/PID/status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "readfile.h"

/* Parses up to n unsigned decimal numbers separated by blanks; returns how many. */
static int parse_uints(const char *p, const char *end, unsigned long *v, int n)
{
	int got = 0;

	while (got < n) {
		unsigned long x = 0;
		bool digits = false;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (p < end && *p >= '0' && *p <= '9') {
			if (x > (ULONG_MAX - 9) / 10)
				return got;
			x = x * 10 + (unsigned long)(*p++ - '0');
			digits = true;
		}
		if (!digits)
			break;
		v[got++] = x;
	}
	return got;
}

int procfs_parse_status(const char *buf, size_t len, struct procfs_status *out)
{
	enum { HAVE_TGID = 1, HAVE_PPID = 2, HAVE_UID = 4, HAVE_STATE = 8 };
	const char *p = buf, *end = buf + len;
	int have = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon;
		unsigned long v[2];

		if (!eol)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			size_t klen = (size_t)(colon - p);

			if (klen == 4 && !memcmp(p, "Tgid", 4) && parse_uints(colon + 1, eol, v, 1) == 1 &&
			    v[0] <= INT_MAX) {
				out->tgid = (pid_t)v[0];
				have |= HAVE_TGID;
			} else if (klen == 4 && !memcmp(p, "PPid", 4) &&
				   parse_uints(colon + 1, eol, v, 1) == 1 && v[0] <= INT_MAX) {
				out->ppid = (pid_t)v[0];
				have |= HAVE_PPID;
			} else if (klen == 3 && !memcmp(p, "Uid", 3) &&
				   parse_uints(colon + 1, eol, v, 2) == 2 && v[0] <= UINT_MAX &&
				   v[1] <= UINT_MAX) {
				out->ruid = (uid_t)v[0];
				out->euid = (uid_t)v[1];
				have |= HAVE_UID;
			} else if (klen == 5 && !memcmp(p, "State", 5)) {
				const char *s = colon + 1;

				while (s < eol && (*s == ' ' || *s == '\t'))
					s++;
				if (s < eol && *s >= 'A' && *s <= 'Z') {
					out->state = *s;
					have |= HAVE_STATE;
				}
			}
		}
		p = eol + 1;
	}
	return have == (HAVE_TGID | HAVE_PPID | HAVE_UID | HAVE_STATE) ? 0 : -EINVAL;
}

int procfs_read_status(const char *proc_root, pid_t pid, struct procfs_status *out)
{
	char path[PATH_MAX], buf[4096];
	size_t n;
	int err;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "%s/%d/status", proc_root, (int)pid);
	err = readfile_head(path, buf, sizeof(buf), &n);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	return procfs_parse_status(buf, n, out);
}
