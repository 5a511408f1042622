/* agentperfd's configuration, from its command line (man/agentperfd.8):
 * parsed and checked without side effects but the token file's read. */
#ifndef AGENTPERF_CONFIG_H
#define AGENTPERF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/registry.h"

#define CONFIG_MAX_ORIGINS 16
/* config_parse's answer to --help and --version: printed, exit 0. */
#define CONFIG_EXIT 1

struct config {
	const char *control_path;
	const char *control_group;
	const char *state_dir;
	int history_max_mb; /* runs.jsonl is rotated past this size */
	const char *bpf_dir; /* the pinned BPF state */
	bool cleanup; /* --cleanup: record every run, unpin, exit */
	const char *proc_root;
	const char *sys_root;
	const char *nvml_lib; /* --nvml-lib: NVIDIA's management library */
	char listen_host[256];
	int listen_port;
	bool allow_remote;
	char *token; /* from --token-file; NULL: no token required */
	const char *allow_origin[CONFIG_MAX_ORIGINS];
	size_t n_allow_origin;
	int interval_running_ms;
	int interval_idle_ms;
	int max_clients;
	int verbose;
	const char *registries[REGISTRY_MAX]; /* --autoforge-registry */
	size_t n_registries;
};

/* Fills cfg from argv (strings point into argv). Returns 0; CONFIG_EXIT
 * after printing --help or --version on stdout; or -EINVAL after one line on
 * stderr. */
int config_parse(int argc, char **argv, struct config *cfg);
/* Frees what config_parse allocated (the token). */
void config_free(struct config *cfg);

#endif
