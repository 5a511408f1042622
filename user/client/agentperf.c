/* agentperf: the client. Starts and attaches runs, lists them, asks agentperfd over its socket. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "names.h"
#include "number.h"
#include "record.h"
#include "runenv.h"
#include "topui.h"
#include "watch.h"

/* Exit statuses of `run` when agentperf itself fails, as env(1) uses them. */
#define EXIT_RUN_FAILED 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

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
		"  status [--json]\n"
		"        live runs, one line each\n"
		"  runs [--json] [--project NAME]\n"
		"        run history, newest first\n"
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

static int die_usage(const char *fmt, const char *arg)
{
	fputs("agentperf: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see agentperf --help)\n", stderr);
	return 2;
}

static int fail(const char *msg)
{
	fprintf(stderr, "agentperf: %s\n", msg);
	return 1;
}

/* Options shared by the subcommands; each accepts the ones it names. */
struct sub_opts {
	const char *project;
	const char *summary;
	const char *pid;
	const char *add, *set_current, *set_total;
	bool wait_all;
	bool json;
};

/* Parses a subcommand's options; allowed lists the long options it takes. */
static int parse_sub(int argc, char **argv, const char *allowed, struct sub_opts *o)
{
	enum { O_PROJECT = 256, O_SUMMARY, O_PID, O_WAIT_ALL, O_JSON, O_ADD, O_SETCUR, O_SETTOT };
	static const struct option opts[] = {
		{ "add", required_argument, NULL, O_ADD },
		{ "set-current", required_argument, NULL, O_SETCUR },
		{ "set-total", required_argument, NULL, O_SETTOT },
		{ "project", required_argument, NULL, O_PROJECT },
		{ "summary", required_argument, NULL, O_SUMMARY },
		{ "pid", required_argument, NULL, O_PID },
		{ "wait-all", no_argument, NULL, O_WAIT_ALL },
		{ "json", no_argument, NULL, O_JSON },
		{ 0 },
	};
	int c, idx;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:", opts, &idx)) != -1) {
		char want[32];

		if (c == ':')
			return die_usage("option %s needs a value", argv[optind - 1]);
		if (c == '?')
			return die_usage("unknown option %s", argv[optind - 1]);
		snprintf(want, sizeof(want), " %s ", opts[idx].name);
		if (!strstr(allowed, want))
			return die_usage("option --%s does not apply here", opts[idx].name);
		switch (c) {
		case O_PROJECT:
			o->project = optarg;
			break;
		case O_SUMMARY:
			o->summary = optarg;
			break;
		case O_PID:
			o->pid = optarg;
			break;
		case O_WAIT_ALL:
			o->wait_all = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_ADD:
			o->add = optarg;
			break;
		case O_SETCUR:
			o->set_current = optarg;
			break;
		case O_SETTOT:
			o->set_total = optarg;
			break;
		}
	}
	if (o->project && !names_project_valid(o->project))
		return die_usage("invalid project name \"%s\": use 1-50 characters of A-Z a-z "
				 "0-9 _ -",
				 o->project);
	return 0;
}

static int need_project(const struct sub_opts *o, const char *cmd)
{
	if (!o->project)
		return die_usage("%s needs --project NAME", cmd);
	return 0;
}

static int connect_daemon(void)
{
	char err[256];
	int fd = client_connect(control_path, err, sizeof(err));

	if (fd < 0)
		fail(err);
	return fd;
}

static int write_summary(const char *path, const cJSON *rec)
{
	char *json = cJSON_Print(rec);
	FILE *f = fopen(path, "w");
	int ok = json && f && fprintf(f, "%s\n", json) > 0;

	if (f && fclose(f))
		ok = 0;
	free(json);
	if (!ok)
		fprintf(stderr, "agentperf: cannot write %s: %s\n", path, strerror(errno));
	return ok ? 0 : -1;
}

static int status_to_exit(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_RUN_FAILED;
}

/* The child: wait for the go-ahead (the daemon has marked us), which carries
 * the run's id ("g" RUN_ID "\n"), export the id to CMD, then exec. */
static void __attribute__((noreturn)) child_exec(int go_fd, char **cmd)
{
	char go[NAMES_RUN_ID_MAX + 3], *nl = NULL;
	size_t got = 0;
	ssize_t n;

	while (!nl && got < sizeof(go) - 1) {
		n = read(go_fd, go + got, sizeof(go) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
		go[got] = '\0';
		nl = strchr(go, '\n');
	}
	if (!nl || go[0] != 'g')
		_exit(EXIT_RUN_FAILED); /* the parent has said why */
	close(go_fd);
	*nl = '\0';
	if (go[1]) {
		const char *old = getenv("OTEL_RESOURCE_ATTRIBUTES");
		size_t cap = (old ? strlen(old) : 0) + 3 * strlen(go + 1) + 32;
		char *attrs = malloc(cap);

		if (!attrs || runenv_otel_attributes(old, go + 1, attrs, cap) ||
		    setenv("AGENTPERF_RUN_ID", go + 1, 1) ||
		    setenv("OTEL_RESOURCE_ATTRIBUTES", attrs, 1)) {
			fprintf(stderr, "agentperf: cannot set the run's environment\n");
			_exit(EXIT_RUN_FAILED);
		}
		free(attrs);
	}
	execvp(cmd[0], cmd);
	fprintf(stderr, "agentperf: cannot run %s: %s\n", cmd[0], strerror(errno));
	_exit(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

static int cmd_run(int argc, char **argv)
{
	struct control_request req = { .cmd = CONTROL_RUN };
	char err[256], summary[1024], gomsg[NAMES_RUN_ID_MAX + 3];
	cJSON *reply, *rec;
	struct sub_opts o;
	int go[2], fd, st, ret, n;
	const char *run_id;
	pid_t child;

	if ((ret = parse_sub(argc, argv, " project summary wait-all ", &o)) ||
	    (ret = need_project(&o, "run")))
		return ret;
	if (optind >= argc)
		return die_usage("%s needs a command after --", "run");
	fd = connect_daemon();
	if (fd < 0)
		return EXIT_RUN_FAILED;
	if (pipe2(go, O_CLOEXEC))
		return fail(strerror(errno)), EXIT_RUN_FAILED;
	fflush(NULL);
	child = fork();
	if (child < 0)
		return fail(strerror(errno)), EXIT_RUN_FAILED;
	if (child == 0) {
		close(go[1]);
		close(fd);
		child_exec(go[0], argv + optind);
	}
	close(go[0]);
	/* The command gets the terminal's signals; we stay to report. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);

	snprintf(req.project, sizeof(req.project), "%s", o.project);
	req.pid = child;
	reply = client_call(fd, &req, err, sizeof(err));
	if (!reply) {
		close(go[1]); /* the child exits without running anything */
		waitpid(child, NULL, 0);
		fail(err);
		return EXIT_RUN_FAILED;
	}
	/* The wait below names the run by the id the daemon gave it. */
	req = (struct control_request){ .cmd = CONTROL_WAIT, .all = o.wait_all };
	snprintf(req.project, sizeof(req.project), "%s", o.project);
	run_id = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reply, "run"),
						 "run_id"));
	snprintf(req.run_id, sizeof(req.run_id), "%s", run_id ? run_id : "");
	cJSON_Delete(reply);
	/* The go-ahead carries the run id, which CMD finds in its environment. */
	n = snprintf(gomsg, sizeof(gomsg), "g%s\n", req.run_id);
	if (n < 0 || (size_t)n >= sizeof(gomsg) || write(go[1], gomsg, n) != n) {
		fail("cannot start the command");
		return EXIT_RUN_FAILED;
	}
	close(go[1]);
	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			return fail(strerror(errno)), EXIT_RUN_FAILED;
	ret = status_to_exit(st);
	reply = client_call(fd, &req, err, sizeof(err));
	close(fd);
	if (!reply) {
		fprintf(stderr, "agentperf: no summary: %s\n", err);
		return ret;
	}
	rec = cJSON_GetObjectItemCaseSensitive(reply, "run");
	record_summary(rec, summary, sizeof(summary));
	fprintf(stderr, "%s\n", summary);
	if (o.summary && write_summary(o.summary, rec) && ret == 0)
		ret = 1;
	cJSON_Delete(reply);
	return ret;
}

/* One request; prints the daemon's error and returns NULL on failure. */
static cJSON *call(const struct control_request *req)
{
	char err[256];
	int fd = connect_daemon();
	cJSON *reply;

	if (fd < 0)
		return NULL;
	reply = client_call(fd, req, err, sizeof(err));
	close(fd);
	if (!reply)
		fail(err);
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
	struct sub_opts o;
	cJSON *reply, *rec;
	long long pid;
	int ret;

	if ((ret = parse_sub(argc, argv, " project pid ", &o)) ||
	    (ret = need_project(&o, "attach")))
		return ret;
	if (!o.pid)
		return die_usage("%s needs --pid PID", "attach");
	if (number_parse(o.pid, 1, INT_MAX, &pid))
		return die_usage("invalid pid \"%s\": give a process id, a positive number", o.pid);
	req.pid = (pid_t)pid;
	if (optind < argc)
		return die_usage("unexpected argument \"%s\"", argv[optind]);
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
	struct sub_opts o;
	char summary[1024];
	cJSON *reply;
	int ret;

	if ((ret = parse_sub(argc, argv, " project ", &o)) || (ret = need_project(&o, "detach")))
		return ret;
	if (optind < argc)
		return die_usage("unexpected argument \"%s\"", argv[optind]);
	snprintf(req.project, sizeof(req.project), "%s", o.project);
	reply = call(&req);
	if (!reply)
		return 1;
	record_summary(cJSON_GetObjectItemCaseSensitive(reply, "run"), summary, sizeof(summary));
	printf("%s\n", summary);
	cJSON_Delete(reply);
	return 0;
}

/* status and runs: the same listing of records. */
static int cmd_list(int argc, char **argv, enum control_cmd cmd)
{
	struct control_request req = { .cmd = cmd };
	const cJSON *runs, *rec;
	struct sub_opts o;
	char line[512];
	cJSON *reply;
	int ret;

	if ((ret = parse_sub(argc, argv, cmd == CONTROL_RUNS ? " json project " : " json ", &o)))
		return ret;
	if (optind < argc)
		return die_usage("unexpected argument \"%s\"", argv[optind]);
	if (o.project)
		snprintf(req.project, sizeof(req.project), "%s", o.project);
	reply = call(&req);
	if (!reply)
		return 1;
	runs = cJSON_GetObjectItemCaseSensitive(reply, "runs");
	if (o.json) {
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

/* A token count: a whole number from 0 to 10^15. */
static int parse_count(const char *opt, const char *s, int64_t *v)
{
	long long x;

	if (number_parse(s, 0, CONTROL_TOKENS_MAX, &x))
		return die_usage("%s wants a whole number from 0 to 10^15", opt);
	*v = x;
	return 0;
}

static int cmd_tokens(int argc, char **argv)
{
	struct control_request req = { .cmd = CONTROL_TOKENS };
	struct tokens_update *t = &req.tokens;
	struct sub_opts o;
	cJSON *reply, *tok;
	int ret;

	if ((ret = parse_sub(argc, argv, " project add set-current set-total ", &o)) ||
	    (ret = need_project(&o, "tokens")))
		return ret;
	if (optind < argc)
		return die_usage("unexpected argument \"%s\"", argv[optind]);
	if (!o.add == !(o.set_current || o.set_total))
		return die_usage("%s needs --add N, or --set-current N and/or --set-total N",
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
	struct sub_opts o;
	int ret;

	if ((ret = parse_sub(argc, argv, " ", &o)))
		return ret;
	if (optind + 1 != argc)
		return die_usage("%s needs exactly one project NAME", "watch");
	if (!names_project_valid(argv[optind]))
		return die_usage("invalid project name \"%s\": use 1-50 characters of A-Z a-z "
				 "0-9 _ -",
				 argv[optind]);
	return watch_run(server_addr, argv[optind], getenv("AGENTPERF_TOKEN"));
}

static int cmd_top(int argc, char **argv)
{
	struct sub_opts o;
	int ret;

	if ((ret = parse_sub(argc, argv, " ", &o)))
		return ret;
	if (optind < argc)
		return die_usage("unexpected argument \"%s\"", argv[optind]);
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
			return die_usage("option %s needs a value", argv[optind - 1]);
		default:
			return die_usage("unknown option %s", argv[optind - 1]);
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
		return cmd_run(argc, argv);
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
	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc, argv);
	if (!strcmp(cmd, "top"))
		return cmd_top(argc, argv);
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	return die_usage("unknown command \"%s\"", cmd);
}
