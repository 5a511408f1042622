/* What the daemon needs to know of a process from /proc/PID/status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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
		unsigned long v[4];
		int k;

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
				   (k = parse_uints(colon + 1, eol, v, 4)) >= 2 && v[0] <= UINT_MAX &&
				   v[1] <= UINT_MAX && (k < 4 || v[3] <= UINT_MAX)) {
				/* real, effective, saved, filesystem */
				out->ruid = (uid_t)v[0];
				out->euid = (uid_t)v[1];
				out->fsuid = (uid_t)(k == 4 ? v[3] : v[1]);
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

int procfs_parse_starttime(const char *buf, size_t len, unsigned long long *ticks)
{
	const char *end = buf + len, *p = NULL;
	unsigned long v;

	for (const char *q = buf; q < end; q++)
		if (*q == ')')
			p = q;
	if (!p)
		return -EINVAL;
	/* After ") ": state (field 3), then fields 4..22; starttime is the 20th. */
	p++;
	for (int field = 2; field < 21; field++) {
		while (p < end && *p == ' ')
			p++;
		while (p < end && *p != ' ')
			p++;
		if (p >= end)
			return -EINVAL;
	}
	if (parse_uints(p, end, &v, 1) != 1)
		return -EINVAL;
	*ticks = v;
	return 0;
}

int procfs_parse_btime(const char *buf, size_t len, long long *btime)
{
	const char *p = buf, *end = buf + len;
	unsigned long v;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		if (eol - p > 6 && !memcmp(p, "btime ", 6) && parse_uints(p + 6, eol, &v, 1) == 1 &&
		    v <= LLONG_MAX) {
			*btime = (long long)v;
			return 0;
		}
		p = eol + 1;
	}
	return -EINVAL;
}

int procfs_start_time(const char *proc_root, pid_t pid, double *unix_sec)
{
	char path[PATH_MAX], buf[4096];
	unsigned long long ticks;
	long long btime;
	long hz = sysconf(_SC_CLK_TCK);
	char *line = NULL;
	size_t len, cap = 0;
	ssize_t n;
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid);
	err = readfile_head(path, buf, sizeof(buf), &len);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	if (procfs_parse_starttime(buf, len, &ticks))
		return -EINVAL;
	/* btime follows the per-CPU and interrupt lines, which can run to many
	 * kilobytes: read line by line. */
	snprintf(path, sizeof(path), "%s/stat", proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0 && procfs_parse_btime(line, (size_t)n, &btime))
		;
	free(line);
	fclose(f);
	if (n <= 0 || hz <= 0)
		return -EINVAL;
	*unix_sec = (double)btime + (double)ticks / (double)hz;
	return 0;
}
