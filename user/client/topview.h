/* The screen of `agentperf top`: every run of the host, busiest first, fitted
 * to a terminal's size. Pure: status records in, text out. */
#ifndef AGENTPERF_TOPVIEW_H
#define AGENTPERF_TOPVIEW_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Renders `agentperf status --json` records (with their live figures) as
 * lines of at most cols characters, at most rows lines (0: no limit), into
 * buf (NUL-terminated, lines end in '\n'). clock is shown in the title.
 * Returns the number of lines. */
int topview_render(const cJSON *runs, int cols, int rows, const char *clock, char *buf,
		   size_t len);

#endif
