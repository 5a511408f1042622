/* The client's command line: a subcommand's options, its one-line errors and
 * its connection to the daemon, shared by the subcommands. */
#ifndef AGENTPERF_CLI_H
#define AGENTPERF_CLI_H

#include <stdbool.h>

/* Options shared by the subcommands; each accepts the ones it names. */
struct cli_opts {
	const char *project;
	const char *summary;
	const char *pid;
	const char *add, *set_current, *set_total;
	bool wait_all;
	bool json;
	bool gpus;
};

/* Parses a subcommand's options (argv[0] is the subcommand); allowed lists
 * the long options it takes, each with a blank either side (" project ").
 * Returns 0 with optind at the first operand, or 2 after a one-line error
 * (unknown option, one that does not apply, a missing value, an invalid
 * project name). */
int cli_parse(int argc, char **argv, const char *allowed, struct cli_opts *o);
/* Returns 0 when o names a project, else 2 after saying that cmd needs one. */
int cli_need_project(const struct cli_opts *o, const char *cmd);
/* Prints "agentperf: " fmt (with arg) and a pointer to --help on stderr.
 * Returns 2, the exit status of a usage error. */
int cli_usage_error(const char *fmt, const char *arg);
/* Prints "agentperf: MSG" on stderr. Returns 1. */
int cli_fail(const char *msg);
/* Connects to the daemon's control socket. Returns an fd, or -1 after
 * printing why. */
int cli_connect(const char *control_path);

#endif
