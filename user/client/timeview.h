/* `agentperf timeline`'s chart (pure): a run's cores over time, 80 columns
 * wide, with its tool calls and model requests marked under it, and a key
 * of the calls. */
#ifndef AGENTPERF_TIMEVIEW_H
#define AGENTPERF_TIMEVIEW_H

#include <cjson/cJSON.h>

/* Columns the chart fills; the key's lines are cut to it. */
#define TIMEVIEW_WIDTH 80
/* Rows of the cores chart. */
#define TIMEVIEW_ROWS 6
/* Calls named in the key; more are counted. */
#define TIMEVIEW_KEY_MAX 20

/* The chart of a timeline (as agentperfd's "timeline" reply holds it),
 * lines ending in newlines; malloc'd, NULL on ENOMEM. Text that came from
 * the run (names) passes through names_sanitize. */
char *timeview_render(const cJSON *timeline);

#endif
