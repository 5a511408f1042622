/* `agentperf run`: a command run as a tracked run, its record reported. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "names.h"
#include "record.h"
#include "runcmd.h"
#include "runenv.h"
#include "runwait.h"

/* Exit statuses of `run` when agentperf itself fails, as env(1) uses them. */
#define EXIT_RUN_FAILED 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

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

int runcmd_run(int argc, char **argv, const char *control_path)
{
	struct control_request req = { .cmd = CONTROL_RUN };
	char err[256], summary[1024], gomsg[NAMES_RUN_ID_MAX + 3];
	cJSON *reply, *rec;
	struct cli_opts o;
	int go[2], fd, st, ret, n;
	const char *run_id;
	pid_t child;

	if ((ret = cli_parse(argc, argv, " project summary wait-all ", &o)) ||
	    (ret = cli_need_project(&o, "run")))
		return ret;
	if (optind >= argc)
		return cli_usage_error("%s needs a command after --", "run");
	fd = cli_connect(control_path);
	if (fd < 0)
		return EXIT_RUN_FAILED;
	if (pipe2(go, O_CLOEXEC))
		return cli_fail(strerror(errno)), EXIT_RUN_FAILED;
	fflush(NULL);
	child = fork();
	if (child < 0)
		return cli_fail(strerror(errno)), EXIT_RUN_FAILED;
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
		cli_fail(err);
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
		cli_fail("cannot start the command");
		return EXIT_RUN_FAILED;
	}
	close(go[1]);
	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			return cli_fail(strerror(errno)), EXIT_RUN_FAILED;
	ret = status_to_exit(st);
	/* The daemon may have gone meanwhile (a restart, a crash), or closed
	 * the idle connection: the wait connects again. Whatever it says, the
	 * exit status is the command's. */
	reply = runwait_wait(control_path, &fd, &req, err, sizeof(err));
	if (!reply) {
		fprintf(stderr, "agentperf: summary missing: %s\n", err);
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
