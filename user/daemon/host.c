/* Host-wide figures from /proc/meminfo and /proc/stat, parsed without allocation. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "readfile.h"

/* Parses one unsigned decimal after blanks; false on none or overflow. */
static bool parse_u64(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;
	bool digits = false;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p < end && *p >= '0' && *p <= '9') {
		uint64_t d = (uint64_t)(*p++ - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
		digits = true;
	}
	*pp = p;
	*v = x;
	return digits;
}

int host_parse_meminfo(const char *buf, size_t len, struct host_mem *out)
{
	const char *p = buf, *end = buf + len;
	bool have_total = false, have_avail = false;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		uint64_t kb;

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > 9 && !memcmp(p, "MemTotal:", 9)) {
			const char *q = p + 9;

			if (!parse_u64(&q, eol, &kb) || kb > UINT64_MAX / 1024)
				return -EINVAL;
			out->total_bytes = kb * 1024;
			have_total = true;
		} else if ((size_t)(eol - p) > 13 && !memcmp(p, "MemAvailable:", 13)) {
			const char *q = p + 13;

			if (!parse_u64(&q, eol, &kb) || kb > UINT64_MAX / 1024)
				return -EINVAL;
			out->available_bytes = kb * 1024;
			have_avail = true;
		}
		p = eol + 1;
	}
	if (!have_total || !have_avail)
		return -EINVAL;
	if (out->available_bytes > out->total_bytes)
		out->available_bytes = out->total_bytes;
	return 0;
}

int host_parse_stat(const char *buf, size_t len, struct host_cpu *out)
{
	const char *p = buf, *end = buf + len;
	const char *eol = memchr(buf, '\n', len);
	uint64_t v[8], total = 0;

	if (eol)
		end = eol;
	if (len < 4 || memcmp(p, "cpu ", 4))
		return -EINVAL;
	p += 4;
	/* user nice system idle iowait irq softirq steal; guest time is
	 * already inside user and nice. Kernels before 2.6.33 have fewer. */
	for (int i = 0; i < 8; i++) {
		if (!parse_u64(&p, end, &v[i])) {
			if (i < 4)
				return -EINVAL;
			v[i] = 0;
		}
		if (total > UINT64_MAX - v[i])
			return -EINVAL;
		total += v[i];
	}
	out->total = total;
	out->busy = total - v[3] - v[4];
	return 0;
}

static int read_head(const char *proc_root, const char *name, char *buf, size_t cap, size_t *len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", proc_root, name);
	return readfile_head(path, buf, cap, len);
}

int host_read_meminfo(const char *proc_root, struct host_mem *out)
{
	char buf[4096];
	size_t len;
	int err = read_head(proc_root, "meminfo", buf, sizeof(buf), &len);

	return err ? err : host_parse_meminfo(buf, len, out);
}

int host_read_stat(const char *proc_root, struct host_cpu *out)
{
	char buf[1024]; /* the aggregate line comes first */
	size_t len;
	int err = read_head(proc_root, "stat", buf, sizeof(buf), &len);

	return err ? err : host_parse_stat(buf, len, out);
}
