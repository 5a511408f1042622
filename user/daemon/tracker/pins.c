/* The tracker's kernel state pinned in bpffs. */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "pins.h"

/* The maps that hold run state; the per-load .bss (sampling scratch) is not. */
static const char *const state_maps[] = { "task_runs",	  "run_counters",  "run_info",
					  "run_agent",	  "run_comms",	   "pending_tasks",
					  "pending_count", "tracker_ctl" };

int pins_prepare(const char *dir)
{
	char parent[256];
	struct statfs fs;

	snprintf(parent, sizeof(parent), "%s", dir);
	dirname(parent);
	if (statfs(parent, &fs) || fs.f_type != BPF_FS_MAGIC) {
		if (mkdir(parent, 0700) && errno != EEXIST)
			return -errno;
		if (mount("bpf", parent, "bpf", 0, "mode=0700"))
			return -errno;
		log_info("mounted bpffs at %s", parent);
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int open_pin(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

/* fd's value size is size: else the map is of another layout. */
static int value_size_is(int fd, uint32_t size)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return info.value_size == size ? 0 : -EPROTO;
}

int pins_read_ctl(const char *dir, struct tracker_ctl *out)
{
	uint32_t zero = 0;
	int fd = open_pin(dir, "tracker_ctl"), err;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	/* Another ABI's control entry may have another size: never read it
	 * into ours. */
	err = value_size_is(fd, sizeof(*out));
	if (!err && bpf_map_lookup_elem(fd, &zero, out))
		err = -errno;
	close(fd);
	return err;
}

int pins_read_run(const char *dir, uint32_t slot, int ncpus, struct tracker_run *info,
		  struct tracker_counters *sum)
{
	int ifd = open_pin(dir, "run_info"), cfd = open_pin(dir, "run_counters"), err = 0;
	struct tracker_counters *percpu = calloc((size_t)ncpus, sizeof(*percpu));

	memset(sum, 0, sizeof(*sum));
	if (ifd < 0 || cfd < 0 || !percpu)
		err = !percpu ? -ENOMEM : -errno;
	if (!err && !(err = value_size_is(ifd, sizeof(*info))) &&
	    !(err = value_size_is(cfd, sizeof(*sum))) &&
	    (bpf_map_lookup_elem(ifd, &slot, info) || bpf_map_lookup_elem(cfd, &slot, percpu)))
		err = -errno;
	for (int c = 0; !err && c < ncpus; c++) {
		sum->cpu_ns += percpu[c].cpu_ns;
		sum->tasks_started += percpu[c].tasks_started;
		sum->tasks_exited += percpu[c].tasks_exited;
		sum->tasks_lost += percpu[c].tasks_lost;
		sum->run_delay_ns += percpu[c].run_delay_ns;
		if (percpu[c].peak_proc_rss_pages > sum->peak_proc_rss_pages)
			sum->peak_proc_rss_pages = percpu[c].peak_proc_rss_pages;
	}
	free(percpu);
	if (ifd >= 0)
		close(ifd);
	if (cfd >= 0)
		close(cfd);
	return err;
}

int pins_set_map_paths(struct bpf_object *obj, const char *dir)
{
	char path[512];

	for (size_t i = 0; i < sizeof(state_maps) / sizeof(state_maps[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, state_maps[i]);

		snprintf(path, sizeof(path), "%s/%s", dir, state_maps[i]);
		if (!m || bpf_map__set_pin_path(m, path))
			return m ? -errno : -ENOENT;
	}
	return 0;
}

/* Removes the pins under dir whose names start with prefix. */
static void remove_prefixed(const char *dir, const char *prefix)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && !strncmp(e->d_name, prefix, strlen(prefix))) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path))
				log_warn("cannot remove %s: %s", path, strerror(errno));
		}
	closedir(d);
}

int pins_links(const char *dir, struct bpf_link *const *links, const char *const *names,
	       size_t n)
{
	char path[512];

	remove_prefixed(dir, "next_");
	for (size_t i = 0; i < n; i++) {
		if (!links[i])
			continue;
		snprintf(path, sizeof(path), "%s/next_%s", dir, names[i]);
		if (bpf_link__pin(links[i], path)) {
			int e = -errno;

			remove_prefixed(dir, "next_");
			return e;
		}
	}
	return 0;
}

int pins_commit_links(const char *dir)
{
	char from[512], to[512];
	struct dirent *e;
	DIR *d;
	int err = 0;

	remove_prefixed(dir, "link_"); /* the old programs detach */
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "next_", 5)) {
			snprintf(from, sizeof(from), "%s/%s", dir, e->d_name);
			snprintf(to, sizeof(to), "%s/link_%s", dir, e->d_name + 5);
			if (rename(from, to) && !err)
				err = -errno;
		}
	closedir(d);
	return err;
}

int pins_remove_all(const char *dir)
{
	remove_prefixed(dir, "");
	if (rmdir(dir) && errno != ENOENT)
		return -errno;
	return 0;
}
