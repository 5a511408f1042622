/* agentperf: the client. Starts and attaches runs, lists them, asks agentperfd over its socket. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "names.h"
#include "number.h"
#include "record.h"
#include "runcmd.h"
#include "timeview.h"
#include "topui.h"
#include "watch.h"

static const char *control_path;
static const char *server_addr;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: agentperf [--control PATH] COMMAND [ARG]...\n"
		"Client of agentperfd: tracks agent runs and reports their CPU use.\n"
		"\n"
		"Commands:\n"
		"  run --project NAME [--summary FILE] [--wait-all] -- CMD [ARG]...\n"
		"        run CMD as a tracked run; exit with its status (128+signal if killed),\n"
		"        print a summary on stderr; --summary writes the run record as JSON;\n"
		"        --wait-all returns only when every task of the run has exited;\n"
		"        CMD gets AGENTPERF_RUN_ID and agentperf.run_id=ID appended to\n"
		"        OTEL_RESOURCE_ATTRIBUTES\n"
		"  attach --project NAME --pid PID\n"
		"        track a running process with its threads and descendants\n"
		"  detach --project NAME\n"
		"        stop tracking the project's live run and record it\n"
		"  status [--json] [--gpus]\n"
		"        live runs, one line each; --gpus: the host's GPU devices instead\n"
		"  runs [--json] [--project NAME]\n"
		"        run history, newest first\n"
		"  timeline RUN_ID | --project NAME [--json]\n"
		"        a run's cores over time with its tool calls and model requests\n"
		"        marked, and its calls' CPU (the project's newest run with --project);\n"
		"        --json: every sample and span\n"
		"  tokens --project NAME --add N | --set-current N [--set-total N]\n"
		"        report the agent's token counts for the project's dashboards\n"
		"  top\n"
		"        live view of every run on the host (CPU, cores, RSS, GPU, tasks, top\n"
		"        command), refreshed each second; q quits; one plain snapshot when\n"
		"        stdout is not a terminal\n"
		"  watch NAME\n"
		"        print each perf_metrics message of project NAME as one JSON line\n"
		"\n"
		"Options:\n"
		"  --control PATH   agentperfd's control socket [$AGENTPERF_CONTROL or\n"
		"                   /run/agentperf/agentperf.sock]\n"
		"  --server HOST:PORT  agentperfd's HTTP/WebSocket address, for watch\n"
		"                   [$AGENTPERF_SERVER or 127.0.0.1:8765]; a token, if the\n"
		"                   daemon wants one, comes from $AGENTPERF_TOKEN\n"
		"  -h, --help       print this help and exit\n"
		"      --version    print the version and exit\n"
		"\n"
		"Project names are 1-50 characters of A-Z a-z 0-9 _ and -.\n");
}

/* One request; prints the daemon's error and returns NULL on failure. */
static cJSON *call(const struct control_request *req)
{
	char err[256];
	int fd = cli_connect(control_path);
	cJSON *reply;

	if (fd < 0)
		return NULL;
	reply = client_call(fd, req, err, sizeof(err));
	close(fd);
	if (!reply)
		cli_fail(err);
	return reply;
}

static double rec_num(const cJSON *rec, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(rec, key);

	return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

static int cmd_attach(int argc, char **argv)
{
	struct control_request req = { .cmd = CONTROL_ATTACH };
	struct cli_opts o;
	cJSON *reply, *rec;
	long long pid;
	int ret;

	if ((ret = cli_parse(argc, argv, " project pid ", &o)) ||
	    (ret = cli_need_project(&o, "attach")))
		return ret;
	if (!o.pid)
		return cli_usage_error("%s needs --pid PID", "attach");
	if (number_parse(o.pid, 1, INT_MAX, &pid))
		return cli_usage_error("invalid pid \"%s\": give a process id, a positive number",
				       o.pid);
	req.pid = (pid_t)pid;
	if (optind < argc)
		return cli_usage_error("unexpected argument \"%s\"", argv[optind]);
	snprintf(req.project, sizeof(req.project), "%s", o.project);
	reply = call(&req);
	if (!reply)
		return 1;
	rec = cJSON_GetObjectItemCaseSensitive(reply, "run");
	printf("attached pid %d to project %s as run %s (%.0f tasks)\n", req.pid, o.project,
	       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "run_id")),
	       rec_num(rec, "tasks_started"));
	cJSON_Delete(reply);
	return 0;
}

static int cmd_detach(int argc, char **argv)
{
	struct control_request req = { .cmd = CONTROL_DETACH };
	struct cli_opts o;
	char summary[1024];
	cJSON *reply;
	int ret;

	if ((ret = cli_parse(argc, argv, " project ", &o)) ||
	    (ret = cli_need_project(&o, "detach")))
		return ret;
	if (optind < argc)
		return cli_usage_error("unexpected argument \"%s\"", argv[optind]);
	snprintf(req.project, sizeof(req.project), "%s", o.project);
	reply = call(&req);
	if (!reply)
		return 1;
	record_summary(cJSON_GetObjectItemCaseSensitive(reply, "run"), summary, sizeof(summary));
	printf("%s\n", summary);
	cJSON_Delete(reply);
	return 0;
}

/* A figure of a device (a number, or null while unknown) into buf. */
static const char *dev_figure(const cJSON *dev, const char *key, double scale, const char *fmt,
			      char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(dev, key);

	if (!cJSON_IsNumber(v))
		return "-";
	snprintf(buf, len, fmt, v->valuedouble / scale);
	return buf;
}

/* status --gpus: the host's GPU devices, as the daemon reads them. */
static void print_gpus(const cJSON *gpus, bool json)
{
	const double gib = 1024.0 * 1024 * 1024;
	const cJSON *dev;

	if (json) {
		char *s = cJSON_PrintUnformatted(gpus);

		printf("%s\n", s ? s : "[]");
		free(s);
		return;
	}
	if (cJSON_GetArraySize(gpus) == 0) {
		printf("no GPU reports usage\n");
		return;
	}
	printf("%-12s %-7s %-18s %6s %10s %10s  %s\n", "DEVICE", "BACKEND", "METHOD", "UTIL",
	       "MEM USED", "MEM TOTAL", "NAME");
	cJSON_ArrayForEach(dev, gpus)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(dev, "device");
		const cJSON *be = cJSON_GetObjectItemCaseSensitive(dev, "backend");
		const cJSON *me = cJSON_GetObjectItemCaseSensitive(dev, "method");
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(dev, "name");
		char name[128], idb[32], beb[16], meb[24], u[16], used[16], total[16];

		/* What the driver calls its device is shown, never its escapes. */
		snprintf(idb, sizeof(idb), "%s", cJSON_IsString(id) ? id->valuestring : "?");
		snprintf(beb, sizeof(beb), "%s", cJSON_IsString(be) ? be->valuestring : "?");
		snprintf(meb, sizeof(meb), "%s", cJSON_IsString(me) ? me->valuestring : "?");
		snprintf(name, sizeof(name), "%s", cJSON_IsString(nm) ? nm->valuestring : "?");
		names_sanitize(idb);
		names_sanitize(beb);
		names_sanitize(meb);
		names_sanitize(name);
		printf("%-12s %-7s %-18s %6s %10s %10s  %s\n", idb, beb, meb,
		       dev_figure(dev, "utilization_percent", 1, "%.0f%%", u, sizeof(u)),
		       dev_figure(dev, "memory_used_bytes", gib, "%.1fGiB", used, sizeof(used)),
		       dev_figure(dev, "memory_total_bytes", gib, "%.1fGiB", total, sizeof(total)),
		       name);
	}
}

/* status and runs: the same listing of records. */
static int cmd_list(int argc, char **argv, enum control_cmd cmd)
{
	struct control_request req = { .cmd = cmd };
	const cJSON *runs, *rec;
	struct cli_opts o;
	char line[512];
	cJSON *reply;
	int ret;

	if ((ret = cli_parse(argc, argv, cmd == CONTROL_RUNS ? " json project " : " json gpus ",
			     &o)))
		return ret;
	if (optind < argc)
		return cli_usage_error("unexpected argument \"%s\"", argv[optind]);
	if (o.project)
		snprintf(req.project, sizeof(req.project), "%s", o.project);
	reply = call(&req);
	if (!reply)
		return 1;
	runs = cJSON_GetObjectItemCaseSensitive(reply, "runs");
	if (o.gpus) {
		print_gpus(cJSON_GetObjectItemCaseSensitive(reply, "gpus"), o.json);
	} else if (o.json) {
		char *s = cJSON_PrintUnformatted(runs);

		printf("%s\n", s ? s : "[]");
		free(s);
	} else if (cJSON_GetArraySize(runs) == 0) {
		printf(cmd == CONTROL_STATUS ? "no live runs\n" : "no runs recorded yet\n");
	} else {
		record_table_header(line, sizeof(line));
		printf("%s\n", line);
		cJSON_ArrayForEach(rec, runs)
		{
			record_table_row(rec, line, sizeof(line));
			printf("%s\n", line);
		}
	}
	cJSON_Delete(reply);
	return 0;
}

static int cmd_timeline(int argc, char **argv)
{
	struct control_request req = { .cmd = CONTROL_TIMELINE };
	const cJSON *tl;
	struct cli_opts o;
	cJSON *reply;
	char *text;
	int ret;

	if ((ret = cli_parse(argc, argv, " json project ", &o)))
		return ret;
	if (optind < argc) {
		if (strlen(argv[optind]) >= sizeof(req.run_id))
			return cli_usage_error("\"%s\" is no run id", argv[optind]);
		snprintf(req.run_id, sizeof(req.run_id), "%s", argv[optind++]);
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument \"%s\"", argv[optind]);
	if (!req.run_id[0] && !o.project)
		return cli_usage_error("%s needs a RUN_ID or --project NAME", "timeline");
	if (o.project)
		snprintf(req.project, sizeof(req.project), "%s", o.project);
	reply = call(&req);
	if (!reply)
		return 1;
	tl = cJSON_GetObjectItemCaseSensitive(reply, "timeline");
	text = o.json ? cJSON_PrintUnformatted(tl) : timeview_render(tl);
	if (!text) {
		cJSON_Delete(reply);
		return cli_fail("out of memory");
	}
	printf(o.json ? "%s\n" : "%s", text);
	free(text);
	cJSON_Delete(reply);
	return 0;
}

/* A token count: a whole number from 0 to 10^15. */
static int parse_count(const char *opt, const char *s, int64_t *v)
{
	long long x;

	if (number_parse(s, 0, CONTROL_TOKENS_MAX, &x))
		return cli_usage_error("%s wants a whole number from 0 to 10^15", opt);
	*v = x;
	return 0;
}

static int cmd_tokens(int argc, char **argv)
{
	struct control_request req = { .cmd = CONTROL_TOKENS };
	struct tokens_update *t = &req.tokens;
	struct cli_opts o;
	cJSON *reply, *tok;
	int ret;

	if ((ret = cli_parse(argc, argv, " project add set-current set-total ", &o)) ||
	    (ret = cli_need_project(&o, "tokens")))
		return ret;
	if (optind < argc)
		return cli_usage_error("unexpected argument \"%s\"", argv[optind]);
	if (!o.add == !(o.set_current || o.set_total))
		return cli_usage_error("%s needs --add N, or --set-current N and/or --set-total N",
				       "tokens");
	if ((t->add = o.add) && (ret = parse_count("--add", o.add, &t->add_n)))
		return ret;
	if ((t->set_current = o.set_current) &&
	    (ret = parse_count("--set-current", o.set_current, &t->current)))
		return ret;
	if ((t->set_total = o.set_total) &&
	    (ret = parse_count("--set-total", o.set_total, &t->total)))
		return ret;
	snprintf(req.project, sizeof(req.project), "%s", o.project);
	reply = call(&req);
	if (!reply)
		return 1;
	tok = cJSON_GetObjectItemCaseSensitive(reply, "tokens");
	printf("project %s: %.0f tokens this run, %.0f this session\n", o.project,
	       rec_num(tok, "current_run"), rec_num(tok, "total_session"));
	cJSON_Delete(reply);
	return 0;
}

static int cmd_watch(int argc, char **argv)
{
	struct cli_opts o;
	int ret;

	if ((ret = cli_parse(argc, argv, " ", &o)))
		return ret;
	if (optind + 1 != argc)
		return cli_usage_error("%s needs exactly one project NAME", "watch");
	if (!names_project_valid(argv[optind]))
		return cli_usage_error("invalid project name \"%s\": use 1-50 characters of A-Z "
				       "a-z 0-9 _ -",
				       argv[optind]);
	return watch_run(server_addr, argv[optind], getenv("AGENTPERF_TOKEN"));
}

static int cmd_top(int argc, char **argv)
{
	struct cli_opts o;
	int ret;

	if ((ret = cli_parse(argc, argv, " ", &o)))
		return ret;
	if (optind < argc)
		return cli_usage_error("unexpected argument \"%s\"", argv[optind]);
	return topui_run(control_path);
}

int main(int argc, char **argv)
{
	enum { O_CONTROL = 256, O_VERSION, O_SERVER };
	static const struct option opts[] = {
		{ "control", required_argument, NULL, O_CONTROL },
		{ "server", required_argument, NULL, O_SERVER },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ 0 },
	};
	const char *cmd;
	int c;

	control_path = getenv("AGENTPERF_CONTROL");
	if (!control_path || !*control_path)
		control_path = "/run/agentperf/agentperf.sock";
	server_addr = getenv("AGENTPERF_SERVER");
	if (!server_addr || !*server_addr)
		server_addr = "127.0.0.1:8765";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case O_CONTROL:
			control_path = optarg;
			break;
		case O_SERVER:
			server_addr = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case O_VERSION:
			printf("agentperf %s\n", AGENTPERF_VERSION);
			return 0;
		case ':':
			return cli_usage_error("option %s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "run"))
		return runcmd_run(argc, argv, control_path);
	if (!strcmp(cmd, "attach"))
		return cmd_attach(argc, argv);
	if (!strcmp(cmd, "detach"))
		return cmd_detach(argc, argv);
	if (!strcmp(cmd, "status"))
		return cmd_list(argc, argv, CONTROL_STATUS);
	if (!strcmp(cmd, "runs"))
		return cmd_list(argc, argv, CONTROL_RUNS);
	if (!strcmp(cmd, "tokens"))
		return cmd_tokens(argc, argv);
	if (!strcmp(cmd, "timeline"))
		return cmd_timeline(argc, argv);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc, argv);
	if (!strcmp(cmd, "top"))
		return cmd_top(argc, argv);
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	return cli_usage_error("unknown command \"%s\"", cmd);
}
