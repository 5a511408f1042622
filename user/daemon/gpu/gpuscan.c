/* The DRM clients of a run's processes, found under PROC_ROOT and read each tick. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fdinfo.h"
#include "gpuscan.h"
#include "readfile.h"

#define DRM_MAJOR 226

struct gpuscan *gpuscan_new(void)
{
	struct gpuscan *s = calloc(1, sizeof(*s));

	if (s)
		drmmath_init(&s->gpu);
	return s;
}

/* Lets go of the fdinfo files held for the process's DRM fds. */
static void proc_close_infos(struct gpuscan_proc *p)
{
	for (int k = 0; k < p->n_fds; k++) {
		if (p->fds[k].info >= 0)
			close(p->fds[k].info);
		p->fds[k].info = -1;
	}
}

static void proc_forget(struct gpuscan_proc *p)
{
	proc_close_infos(p);
	p->n_fds = 0;
	if (p->fdinfo_dir >= 0)
		close(p->fdinfo_dir);
	p->fdinfo_dir = -1;
}

void gpuscan_free(struct gpuscan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_procs; i++)
		proc_forget(&s->procs[i]);
	free(s->procs);
	free(s);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Whether a /proc fd entry may be a DRM device, cheaply: /proc's entries are
 * links, and a readlink tells /dev/dri/ from the rest without a stat. */
static bool maybe_drm(int dir, const struct dirent *de)
{
	char target[PATH_MAX];
	ssize_t n;

	if (de->d_type == DT_CHR || de->d_type == DT_UNKNOWN)
		return true;
	if (de->d_type != DT_LNK)
		return false;
	n = readlinkat(dir, de->d_name, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	/* Only a device node is ever stat'ed: a path a user chose (a file on
	 * a FUSE or NFS mount that may never answer) is not. */
	return !strncmp(target, "/dev/dri/", 9);
}

/* Finds the process's DRM fds: entries of PROC_ROOT/PID/fd that are (or
 * lead to) character devices of major 226. */
static void scan_fds(const char *proc_root, struct gpuscan_proc *p, int64_t now)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	p->scanned_ns = now;
	snprintf(path, sizeof(path), "%s/%d/fd", proc_root, (int)p->pid);
	d = opendir(path);
	if (!d)
		return;
	if (fstat(dirfd(d), &st) == 0) {
		if (p->walked_ns && st.st_size == p->fd_dir_size && now - p->walked_ns < GPUSCAN_FULL_NS) {
			closedir(d);
			return; /* no fd opened or closed since the last walk */
		}
		p->fd_dir_size = st.st_size;
	}
	p->walked_ns = now;
	/* The table changed: each DRM fd found is opened afresh at its next read. */
	proc_close_infos(p);
	p->n_fds = 0;
	if (p->fdinfo_dir < 0) {
		/* Each tick's fdinfo reads open relative to it: no path walk. */
		snprintf(path, sizeof(path), "%s/%d/fdinfo", proc_root, (int)p->pid);
		p->fdinfo_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	while ((de = readdir(d)) && p->n_fds < GPUSCAN_MAX_FDS) {
		struct statx stx;

		/* The link leads to the open file itself, no lookup; cached
		 * attributes only (AT_STATX_DONT_SYNC): a FUSE or NFS file that
		 * passed for /dev/dri/ in another mount namespace is not asked. */
		if (!all_digits(de->d_name) || !maybe_drm(dirfd(d), de) ||
		    statx(dirfd(d), de->d_name, AT_STATX_DONT_SYNC, STATX_TYPE, &stx) ||
		    !S_ISCHR(stx.stx_mode) || stx.stx_rdev_major != DRM_MAJOR)
			continue;
		p->fds[p->n_fds].fd = atoi(de->d_name);
		p->fds[p->n_fds].minor = stx.stx_rdev_minor;
		p->fds[p->n_fds].info = -1;
		p->n_fds++;
	}
	closedir(d);
}

/* The process's entry, made if new. hint: where it was likely to be (the
 * run's processes come in the same order each tick). */
static struct gpuscan_proc *proc_of(struct gpuscan *s, pid_t pid, size_t hint)
{
	if (hint < s->n_procs && s->procs[hint].pid == pid)
		return &s->procs[hint];
	for (size_t i = 0; i < s->n_procs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	struct gpuscan_proc *n = buf_grow(s->procs, &s->cap_procs, s->n_procs + 1, sizeof(*n));

	if (!n)
		return NULL;
	s->procs = n;
	memset(&s->procs[s->n_procs], 0, sizeof(s->procs[0]));
	s->procs[s->n_procs].pid = pid;
	s->procs[s->n_procs].fdinfo_dir = -1;
	return &s->procs[s->n_procs++];
}

/* Reads and feeds the k-th DRM fd's fdinfo; false when the fd is gone. */
static bool read_client(struct gpuscan *s, struct gpuscan_proc *p, int k, int64_t now)
{
	char name[16], buf[4096], dev[DRMMATH_DEV_MAX];
	int *info = &p->fds[k].info;
	struct fdinfo fi;
	ssize_t n;

	if (p->fdinfo_dir < 0)
		return false;
	if (*info < 0) {
		snprintf(name, sizeof(name), "%d", p->fds[k].fd);
		*info = openat(p->fdinfo_dir, name, O_RDONLY | O_CLOEXEC);
		if (*info < 0) {
			if (errno == ENOENT || errno == ESRCH)
				return false;
			drmmath_unknown(&s->gpu); /* EACCES: unknown, not zero */
			return true;
		}
	}
	n = pread(*info, buf, sizeof(buf), 0);
	/* A live fd's fdinfo is never empty (pos, flags): nothing at all is
	 * an fd that went, as a fake tree empties the file it removes. */
	if (n == 0 || (n < 0 && (errno == ENOENT || errno == ESRCH)))
		return false;
	if (n < 0) {
		drmmath_unknown(&s->gpu);
		return true;
	}
	if (fdinfo_parse(buf, (size_t)n, &fi))
		return true; /* not a DRM client after all */
	if (fi.pdev[0])
		snprintf(dev, sizeof(dev), "%s", fi.pdev);
	else
		snprintf(dev, sizeof(dev), "drm:%u", p->fds[k].minor);
	drmmath_observe(&s->gpu, dev, (uint64_t)p->pid << 32 | (uint32_t)p->fds[k].fd, &fi, now);
	return true;
}

void gpuscan_tick(struct gpuscan *s, const char *proc_root, const pid_t *pids, size_t n,
		  int64_t mono_ns, struct drmmath_result *out)
{
	size_t kept = 0;

	drmmath_begin_tick(&s->gpu);
	for (size_t i = 0; i < s->n_procs; i++)
		s->procs[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		struct gpuscan_proc *p = proc_of(s, pids[i], i);

		if (!p)
			continue;
		p->seen = true;
		if (!p->scanned_ns || mono_ns - p->scanned_ns >= GPUSCAN_RESCAN_NS)
			scan_fds(proc_root, p, mono_ns);
		for (int k = 0; k < p->n_fds;) {
			if (read_client(s, p, k, mono_ns)) {
				k++;
				continue;
			}
			/* closed: forget it */
			if (p->fds[k].info >= 0)
				close(p->fds[k].info);
			p->fds[k] = p->fds[--p->n_fds];
		}
	}
	/* Processes that left the run are forgotten. */
	for (size_t i = 0; i < s->n_procs; i++) {
		if (s->procs[i].seen)
			s->procs[kept++] = s->procs[i];
		else
			proc_forget(&s->procs[i]);
	}
	s->n_procs = kept;
	drmmath_end_tick(&s->gpu, out);
}

static bool read_u64_file(const char *path, uint64_t *v)
{
	char buf[32];
	size_t n;

	if (readfile_head(path, buf, sizeof(buf) - 1, &n) || n == 0)
		return false;
	buf[n] = '\0';
	return sscanf(buf, "%" SCNu64, v) == 1;
}

/* The name of the driver of SYS_ROOT/class/drm/NODE, without opening the
 * device; false when it has none. */
static bool driver_of(const char *sys_root, const char *node, char *drv, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/class/drm/%s/device/driver", sys_root, node);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	snprintf(drv, len, "%.*s", (int)len - 1, strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	return true;
}

/* A render node whose driver reports usage in fdinfo: not NVIDIA's. */
static bool reports_usage(const char *sys_root, const char *node, char *drv, size_t len)
{
	return !strncmp(node, "renderD", 7) && all_digits(node + 7) &&
	       driver_of(sys_root, node, drv, len) && strcmp(drv, "nvidia");
}

void gpuscan_host(const char *sys_root, struct gpuscan_host *out)
{
	char path[PATH_MAX], drv[64];
	struct dirent *de;
	DIR *d;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/class/drm", sys_root);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		uint64_t v;

		if (reports_usage(sys_root, de->d_name, drv, sizeof(drv))) {
			out->available = true;
		} else if (!strncmp(de->d_name, "card", 4) && all_digits(de->d_name + 4)) {
			snprintf(path, sizeof(path), "%s/class/drm/%s/device/mem_info_vram_total",
				 sys_root, de->d_name);
			if (read_u64_file(path, &v)) {
				out->vram_total_bytes += v;
				out->have_vram_total = true;
			}
		}
	}
	closedir(d);
}

static int cmp_index(const void *a, const void *b)
{
	const struct gpu_device *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

void gpuscan_devices(const char *sys_root, struct gpu_devices *out)
{
	char path[PATH_MAX], link[PATH_MAX], drv[64];
	int first = out->n;
	struct gpu_device *x;
	struct dirent *de;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "%s/class/drm", sys_root);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!reports_usage(sys_root, de->d_name, drv, sizeof(drv)) || !(x = gpudevs_add(out)))
			continue;
		snprintf(x->id, sizeof(x->id), "%.*s", (int)sizeof(x->id) - 1, de->d_name);
		snprintf(x->backend, sizeof(x->backend), "drm");
		snprintf(x->method, sizeof(x->method), "fdinfo");
		x->index = atoi(de->d_name + 7);
		/* The device's PCI address is where its link leads. */
		snprintf(path, sizeof(path), "%s/class/drm/%s/device", sys_root, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			snprintf(x->name, sizeof(x->name), "%.*s %.*s", 31, drv, 63,
				 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
		} else {
			snprintf(x->name, sizeof(x->name), "%s", drv);
		}
		gpuscan_device_read(sys_root, x);
	}
	closedir(d);
	qsort(out->d + first, (size_t)(out->n - first), sizeof(out->d[0]), cmp_index);
}

void gpuscan_device_read(const char *sys_root, struct gpu_device *x)
{
	char path[PATH_MAX];
	uint64_t v = 0;

	snprintf(path, sizeof(path), "%s/class/drm/%s/device/mem_info_vram_total", sys_root, x->id);
	x->have_mem_total = read_u64_file(path, &x->mem_total_bytes);
	snprintf(path, sizeof(path), "%s/class/drm/%s/device/mem_info_vram_used", sys_root, x->id);
	x->have_mem_used = read_u64_file(path, &x->mem_used_bytes);
	snprintf(path, sizeof(path), "%s/class/drm/%s/device/gpu_busy_percent", sys_root, x->id);
	x->have_util = read_u64_file(path, &v);
	x->util_percent = v > 100 ? 100 : (double)v;
}
