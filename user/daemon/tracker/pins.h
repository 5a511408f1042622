/* The tracker's kernel state pinned in bpffs: its maps and the links of its
 * programs outlive the daemon, so tracking goes on while no daemon runs and a
 * restarted one takes it over (Cilium and Tetragon keep theirs the same way). */
#ifndef AGENTPERF_PINS_H
#define AGENTPERF_PINS_H

#include <bpf/libbpf.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker_abi.h"

#define PINS_DIR "/sys/fs/bpf/agentperf"

/* Makes dir, mounting bpffs on its parent first if that is not bpffs (one
 * log line says so). Returns 0 or -errno. */
int pins_prepare(const char *dir);
/* The pinned control entry under dir. Returns 0, -ENOENT when nothing is
 * pinned, or -errno. */
int pins_read_ctl(const char *dir, struct tracker_ctl *out);
/* A pinned run's state, read through its pins (any ABI whose run_info and
 * run_counters values still have this layout). Returns 0, -EPROTO when the
 * layout differs, or -errno. */
int pins_read_run(const char *dir, uint32_t slot, int ncpus, struct tracker_run *info,
		  struct tracker_counters *sum);
/* Gives obj's state maps their pin paths under dir: loading then reuses
 * maps pinned there, or pins the new ones. */
int pins_set_map_paths(struct bpf_object *obj, const char *dir);
/* Pins links[i] as dir/next_names[i] (NULL links are skipped), staged
 * beside the old links. Returns 0, or -errno with nothing staged left. */
int pins_links(const char *dir, struct bpf_link *const *links, const char *const *names,
	       size_t n);
/* The staged links become the pinned ones; the old ones' pins go and their
 * programs detach. Returns 0 or -errno. */
int pins_commit_links(const char *dir);
/* Removes every pin under dir and dir itself. Returns 0 or -errno. */
int pins_remove_all(const char *dir);

#endif
