/* The client's command line: subcommand options, one-line errors, the connection. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "names.h"

int cli_usage_error(const char *fmt, const char *arg)
{
	fputs("agentperf: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see agentperf --help)\n", stderr);
	return 2;
}

int cli_fail(const char *msg)
{
	fprintf(stderr, "agentperf: %s\n", msg);
	return 1;
}

int cli_parse(int argc, char **argv, const char *allowed, struct cli_opts *o)
{
	enum {
		O_PROJECT = 256,
		O_SUMMARY,
		O_PID,
		O_WAIT_ALL,
		O_JSON,
		O_ADD,
		O_SETCUR,
		O_SETTOT,
		O_GPUS
	};
	static const struct option opts[] = {
		{ "add", required_argument, NULL, O_ADD },
		{ "set-current", required_argument, NULL, O_SETCUR },
		{ "set-total", required_argument, NULL, O_SETTOT },
		{ "project", required_argument, NULL, O_PROJECT },
		{ "summary", required_argument, NULL, O_SUMMARY },
		{ "pid", required_argument, NULL, O_PID },
		{ "wait-all", no_argument, NULL, O_WAIT_ALL },
		{ "json", no_argument, NULL, O_JSON },
		{ "gpus", no_argument, NULL, O_GPUS },
		{ 0 },
	};
	int c, idx;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:", opts, &idx)) != -1) {
		char want[32];

		if (c == ':')
			return cli_usage_error("option %s needs a value", argv[optind - 1]);
		if (c == '?')
			return cli_usage_error("unknown option %s", argv[optind - 1]);
		snprintf(want, sizeof(want), " %s ", opts[idx].name);
		if (!strstr(allowed, want))
			return cli_usage_error("option --%s does not apply here", opts[idx].name);
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
		case O_GPUS:
			o->gpus = true;
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
		return cli_usage_error("invalid project name \"%s\": use 1-50 characters of A-Z "
				       "a-z 0-9 _ -",
				       o->project);
	return 0;
}

int cli_need_project(const struct cli_opts *o, const char *cmd)
{
	if (!o->project)
		return cli_usage_error("%s needs --project NAME", cmd);
	return 0;
}

int cli_connect(const char *control_path)
{
	char err[256];
	int fd = client_connect(control_path, err, sizeof(err));

	if (fd < 0)
		cli_fail(err);
	return fd;
}
