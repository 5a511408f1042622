/* What the tracker reads besides a run's counters: its commands by CPU (the
 * run's "top"), and the programs' own cost. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "readfile.h"
#include "tracker_int.h"

/* Reads every run_comms entry into t->comm_keys/comm_vals; returns how many,
 * or -errno. */
static int read_comms(struct tracker *t)
{
	int fd = bpf_map__fd(t->skel->maps.run_comms);
	__u32 token, max = TRACKER_MAX_COMMS, total = 0, count;
	void *in = NULL;
	int err;

	if (!t->comm_keys) {
		t->comm_keys = calloc(max, sizeof(*t->comm_keys));
		t->comm_vals = calloc(max, sizeof(*t->comm_vals));
		t->acc = malloc(sizeof(*t->acc));
		if (!t->comm_keys || !t->comm_vals || !t->acc)
			return -ENOMEM;
	}
	do {
		count = max - total;
		err = bpf_map_lookup_batch(fd, in, &token, t->comm_keys + total,
					   t->comm_vals + total, &count, NULL);
		total += count;
		in = &token;
	} while (!err && total < max);
	if (err && errno != ENOENT)
		return -errno;
	return (int)total;
}

int tracker_top(struct tracker *t, uint32_t slot, uint32_t gen, bool with_live, struct top *out)
{
	int n = read_comms(t);

	if (n < 0)
		return n;
	memset(t->acc, 0, sizeof(*t->acc));
	for (int i = 0; i < n; i++)
		if (t->comm_keys[i].slot == slot && t->comm_keys[i].gen == gen)
			top_add(t->acc, t->comm_keys[i].comm, t->comm_vals[i]);
	for (size_t i = 0; with_live && i < t->n_procs; i++)
		if (t->procs[i].slot == slot)
			top_add(t->acc, t->procs[i].comm, t->procs[i].cpu_ns);
	top_result(t->acc, out);
	return 0;
}

void tracker_forget_top(struct tracker *t, uint32_t slot, uint32_t gen)
{
	int fd = bpf_map__fd(t->skel->maps.run_comms);
	int n = read_comms(t);

	for (int i = 0; i < n; i++)
		if (t->comm_keys[i].slot == slot && t->comm_keys[i].gen == gen)
			bpf_map_delete_elem(fd, &t->comm_keys[i]);
}

int tracker_prog_stats(const struct tracker *t,
		       void (*cb)(void *ctx, const char *name, uint64_t run_time_ns,
				  uint64_t run_cnt),
		       void *ctx)
{
	struct bpf_program *prog;
	char on[2];
	size_t n;

	/* Past counts stay in bpf_prog_info once stats are turned off: stale. */
	if (readfile_head("/proc/sys/kernel/bpf_stats_enabled", on, sizeof(on), &n) || !n ||
	    on[0] != '1')
		return -ENODATA;
	bpf_object__for_each_program(prog, t->skel->obj)
	{
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue; /* the other variant's: not loaded */
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		cb(ctx, bpf_program__name(prog), info.run_time_ns, info.run_cnt);
	}
	return 0;
}
