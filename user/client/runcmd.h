/* `agentperf run`: a command run as a tracked run, its record reported. */
#ifndef AGENTPERF_RUNCMD_H
#define AGENTPERF_RUNCMD_H

/* Runs `run --project NAME [--summary FILE] [--wait-all] -- CMD [ARG]...`
 * (argv[0] is "run"): CMD as a run of agentperfd's at control_path, marked
 * before it execs and given the run's id in its environment; then waits for
 * the run's record (across restarts of agentperfd), prints its summary on
 * stderr and writes it as JSON to FILE. Returns CMD's exit status
 * (128+signal when killed), 1 when it exited 0 but FILE could not be
 * written, 2 on a usage error, or 125 (126, 127 as env(1): CMD cannot be
 * run, or is not found) when agentperf fails, after one line. */
int runcmd_run(int argc, char **argv, const char *control_path);

#endif
