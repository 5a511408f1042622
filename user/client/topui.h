/* `agentperf top`: a live terminal view of every run on the host. */
#ifndef AGENTPERF_TOPUI_H
#define AGENTPERF_TOPUI_H

/* On a terminal: redraws every second, fitted to its size, until q (or
 * SIGINT/SIGTERM). Otherwise: prints one plain snapshot. Returns the exit
 * status (0, or 1 when the daemon cannot be asked, after one line). */
int topui_run(const char *control_path);

#endif
