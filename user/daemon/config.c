/* agentperfd's command line: options, their checks and the token file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "number.h"
#include "gpu/gpu.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: agentperfd [OPTION]...\n"
		"Tracks agent runs' process trees in the kernel and credits their CPU time.\n"
		"Runs in the foreground; stop it with SIGTERM or Ctrl-C.\n"
		"\n"
		"  --listen HOST:PORT    HTTP/WebSocket address [127.0.0.1:8765]; a non-loopback\n"
		"                        HOST needs --allow-remote\n"
		"  --allow-remote        allow a non-loopback --listen; then --token-file is required\n"
		"  --token-file PATH     bearer token (first line); clients send\n"
		"                        \"Authorization: Bearer T\" or ?token=T\n"
		"  --allow-origin ORIGIN another allowed WebSocket Origin (repeatable)\n"
		"  --interval-running MS perf_metrics period while a run is live [1000]\n"
		"  --interval-idle MS    perf_metrics period otherwise [3000]\n"
		"  --max-clients N       WebSocket clients at most [256]\n"
		"  --control PATH        control socket [/run/agentperf/agentperf.sock]\n"
		"  --control-group GROUP group that may use the control socket (mode 0660)\n"
		"  --state-dir DIR       run history, DIR/runs.jsonl [/var/lib/agentperf]\n"
		"  --history-max-mb N    runs.jsonl becomes runs.jsonl.1 past N MiB [64]\n"
		"  --autoforge-registry PATH  the agent harness's registry.db (repeatable): runs\n"
		"                        start by themselves when an agent's lock file appears,\n"
		"                        and WebSockets for other names are refused (4004)\n"
		"  --bpf-dir DIR         where the BPF state is pinned, in bpffs\n"
		"                        [/sys/fs/bpf/agentperf]\n"
		"      --cleanup         record every run, unpin the BPF state and exit\n"
		"                        (before an uninstall)\n"
		"  --nvml-lib PATH       NVIDIA's management library, for NVIDIA GPUs' figures\n"
		"                        [" NVML_LIB_DEFAULT ", when present]\n"
		"  --proc-root DIR       where /proc is [/proc] (tests)\n"
		"  --sys-root DIR        where /sys is [/sys] (tests)\n"
		"  -v, --verbose         more log lines; twice for libbpf's debug output\n"
		"      --version         print the version and exit\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"Needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE) and a kernel >= 5.11 with BTF.\n"
		"Environment: AGENTPERF_BPF_VARIANT=tp_btf|raw_tp forces one program variant.\n");
}

/* A whole number in [lo, hi], or -EINVAL after one clear line. */
static int parse_num(const char *opt, const char *s, long lo, long hi, int *out)
{
	long long v;

	if (number_parse(s, lo, hi, &v)) {
		fprintf(stderr, "agentperfd: %s wants a whole number from %ld to %ld, not \"%s\"\n",
			opt, lo, hi, s);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

/* The token is the file's first line; it is never logged. */
static int read_token(const char *path, char **out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "re");

	if (!f) {
		fprintf(stderr, "agentperfd: cannot read --token-file %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n <= 0) {
		free(line);
		fprintf(stderr, "agentperfd: --token-file %s has an empty first line\n", path);
		return -EINVAL;
	}
	*out = line;
	return 0;
}

int config_parse(int argc, char **argv, struct config *cfg)
{
	enum {
		OPT_CONTROL = 256,
		OPT_GROUP,
		OPT_STATE,
		OPT_PROC,
		OPT_VERSION,
		OPT_LISTEN,
		OPT_REMOTE,
		OPT_TOKEN,
		OPT_ORIGIN,
		OPT_IRUN,
		OPT_IIDLE,
		OPT_MAXC,
		OPT_SYS,
		OPT_REGISTRY,
		OPT_HISTORY_MAX,
		OPT_NVML_LIB,
		OPT_BPF_DIR,
		OPT_CLEANUP,
	};
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "allow-remote", no_argument, NULL, OPT_REMOTE },
		{ "token-file", required_argument, NULL, OPT_TOKEN },
		{ "allow-origin", required_argument, NULL, OPT_ORIGIN },
		{ "interval-running", required_argument, NULL, OPT_IRUN },
		{ "interval-idle", required_argument, NULL, OPT_IIDLE },
		{ "max-clients", required_argument, NULL, OPT_MAXC },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "control-group", required_argument, NULL, OPT_GROUP },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "history-max-mb", required_argument, NULL, OPT_HISTORY_MAX },
		{ "bpf-dir", required_argument, NULL, OPT_BPF_DIR },
		{ "cleanup", no_argument, NULL, OPT_CLEANUP },
		{ "nvml-lib", required_argument, NULL, OPT_NVML_LIB },
		{ "proc-root", required_argument, NULL, OPT_PROC },
		{ "sys-root", required_argument, NULL, OPT_SYS },
		{ "autoforge-registry", required_argument, NULL, OPT_REGISTRY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *listen = "127.0.0.1:8765", *token_file = NULL;
	int c;

	*cfg = (struct config){
		.control_path = "/run/agentperf/agentperf.sock",
		.state_dir = "/var/lib/agentperf",
		.proc_root = "/proc",
		.sys_root = "/sys",
		.nvml_lib = NVML_LIB_DEFAULT,
		.interval_running_ms = 1000,
		.interval_idle_ms = 3000,
		.max_clients = 256,
		.history_max_mb = 64,
		.bpf_dir = "/sys/fs/bpf/agentperf",
	};
	opterr = 0;
	optind = 0; /* getopt starts afresh (tests parse several times) */
	while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_REMOTE:
			cfg->allow_remote = true;
			break;
		case OPT_TOKEN:
			token_file = optarg;
			break;
		case OPT_ORIGIN:
			if (cfg->n_allow_origin == CONFIG_MAX_ORIGINS) {
				fprintf(stderr, "agentperfd: at most %d --allow-origin\n",
					CONFIG_MAX_ORIGINS);
				return -EINVAL;
			}
			cfg->allow_origin[cfg->n_allow_origin++] = optarg;
			break;
		case OPT_IRUN:
			if (parse_num("--interval-running", optarg, 100, 3600000,
				      &cfg->interval_running_ms))
				return -EINVAL;
			break;
		case OPT_IIDLE:
			if (parse_num("--interval-idle", optarg, 100, 3600000,
				      &cfg->interval_idle_ms))
				return -EINVAL;
			break;
		case OPT_MAXC:
			if (parse_num("--max-clients", optarg, 1, 100000, &cfg->max_clients))
				return -EINVAL;
			break;
		case OPT_CONTROL:
			cfg->control_path = optarg;
			break;
		case OPT_GROUP:
			cfg->control_group = optarg;
			break;
		case OPT_BPF_DIR:
			if (strncmp(optarg, "/sys/fs/bpf/", 12) || strstr(optarg, "/..") ||
			    strlen(optarg) > 200) {
				fprintf(stderr,
					"agentperfd: --bpf-dir wants a directory under "
					"/sys/fs/bpf/, not \"%s\"\n",
					optarg);
				return -EINVAL;
			}
			cfg->bpf_dir = optarg;
			break;
		case OPT_CLEANUP:
			cfg->cleanup = true;
			break;
		case OPT_HISTORY_MAX:
			if (parse_num("--history-max-mb", optarg, 1, 1048576, &cfg->history_max_mb))
				return -EINVAL;
			break;
		case OPT_STATE:
			cfg->state_dir = optarg;
			break;
		case OPT_PROC:
			cfg->proc_root = optarg;
			break;
		case OPT_SYS:
			cfg->sys_root = optarg;
			break;
		case OPT_NVML_LIB:
			if (!optarg[0]) {
				fprintf(stderr, "agentperfd: --nvml-lib wants a library's path\n");
				return -EINVAL;
			}
			cfg->nvml_lib = optarg;
			break;
		case OPT_REGISTRY:
			if (cfg->n_registries == REGISTRY_MAX) {
				fprintf(stderr, "agentperfd: at most %d --autoforge-registry\n",
					REGISTRY_MAX);
				return -EINVAL;
			}
			if (optarg[0] != '/') {
				fprintf(stderr,
					"agentperfd: --autoforge-registry wants an absolute path, not "
					"\"%s\"\n",
					optarg);
				return -EINVAL;
			}
			cfg->registries[cfg->n_registries++] = optarg;
			break;
		case 'v':
			cfg->verbose++;
			break;
		case OPT_VERSION:
			printf("agentperfd %s\n", AGENTPERF_VERSION);
			return CONFIG_EXIT;
		case 'h':
			usage(stdout);
			return CONFIG_EXIT;
		case ':':
			fprintf(stderr, "agentperfd: option %s needs a value (see --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "agentperfd: unknown option %s (see --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentperfd: unexpected argument \"%s\" (see --help)\n",
			argv[optind]);
		return -EINVAL;
	}
	if (addr_parse_listen(listen, cfg->listen_host, sizeof(cfg->listen_host),
				 &cfg->listen_port)) {
		fprintf(stderr, "agentperfd: --listen wants HOST:PORT or [IPV6]:PORT, not \"%s\"\n",
			listen);
		return -EINVAL;
	}
	if (!addr_is_loopback(cfg->listen_host) && !cfg->allow_remote) {
		fprintf(stderr,
			"agentperfd: --listen %s is not a loopback address: add --allow-remote "
			"(with --token-file)\n",
			listen);
		return -EINVAL;
	}
	if (cfg->allow_remote && !token_file) {
		fprintf(stderr, "agentperfd: --allow-remote needs --token-file: remote clients "
				"must authenticate\n");
		return -EINVAL;
	}
	if (token_file && read_token(token_file, &cfg->token))
		return -EINVAL;
	return 0;
}

void config_free(struct config *cfg)
{
	free(cfg->token);
	cfg->token = NULL;
}
